/* Internal to appliance/: mapped files, ELF sections/notes, decompression. */
#ifndef VTB_ELFNOTE_H
#define VTB_ELFNOTE_H

#include <gelf.h>
#include <glib.h>
#include <string.h>

/* XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry point QEMU boots a vmlinux by. */
#define VTB_XEN_ELFNOTE_PHYS32_ENTRY 18

/* Setup headers and kernel trailers are little-endian and unaligned. */
static inline guint16 vtb_le16(const void *p)
{
	guint16 v;

	memcpy(&v, p, sizeof(v));
	return GUINT16_FROM_LE(v);
}

static inline guint32 vtb_le32(const void *p)
{
	guint32 v;

	memcpy(&v, p, sizeof(v));
	return GUINT32_FROM_LE(v);
}

/*
 * Map the regular file @path privately (copy-on-write, so libelf may write).
 * Errors: ERR_IO "open PATH: ..."; @bad_type_code for a directory or
 * another non-regular file.  Free with g_mapped_file_unref().
 */
GMappedFile *vtb_map_file(const char *path, int bad_type_code, GError **err);

/* Section called @name, or NULL. */
Elf_Scn *vtb_elf_section(Elf *elf, const char *name);

/*
 * Find the first note from @owner with @type in SHT_NOTE sections or
 * PT_NOTE segments.  *desc points into @elf's data (valid while @elf is).
 */
gboolean vtb_elf_find_note(Elf *elf, const char *owner, GElf_Word type,
			   const void **desc, size_t *descsz);
gboolean vtb_elf_has_pvh(Elf *elf);
/* Hex of the NT_GNU_BUILD_ID note, or NULL. */
char *vtb_elf_build_id(Elf *elf);

enum vtb_comp {
	VTB_COMP_NONE,
	VTB_COMP_GZIP,
	VTB_COMP_XZ,
	VTB_COMP_ZSTD,
	VTB_COMP_LZ4, /* the kernel's LZ4 legacy frame */
};

/* By magic number; VTB_COMP_NONE when none matches. */
enum vtb_comp vtb_comp_detect(const void *buf, gsize len);
const char *vtb_comp_name(enum vtb_comp comp);

/*
 * Decompress @len bytes at @in.  Stops at the end of the last concatenated
 * stream (trailing bytes such as the kernel's appended size are ignored).
 * @size_hint (0: unknown) only sizes the first allocation.  Errors have
 * code @code and name @what: "decompress /x/y.ko.xz (xz): data truncated".
 */
GBytes *vtb_decompress(enum vtb_comp comp, const void *in, gsize len,
		       gsize size_hint, const char *what, int code,
		       GError **err);

#endif
