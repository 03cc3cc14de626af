/* Tell a UML kernel, a bzImage and a vmlinux apart without running them. */
#include "appliance/appliance.h"
#include "appliance/elfnote.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gelf.h>

G_DEFINE_QUARK(vtb - appliance - error - quark, vtb_appliance_error)

#define BANNER_PREFIX "Linux version "
/* Longest banner line we accept; real ones are about 200 bytes. */
#define BANNER_MAX 1024

/* x86 boot protocol: Documentation/x86/boot.rst. */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_SYSSIZE 0x1f4
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_KERNEL_VERSION 0x20e
#define BZ_MIN_SIZE 0x210

/* "a FIFO": what a file that is not a regular one is. */
static const char *file_type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "a special file";
}

GMappedFile *vtb_map_file(const char *path, int bad_type_code, GError **err)
{
	struct stat st;
	GError *merr = NULL;
	GMappedFile *mf;
	int fd;

	/*
	 * The type before the open: opening a FIFO blocks until a writer
	 * comes (a FIFO given as --uml-kernel hung vtbench).  O_NONBLOCK
	 * covers one swapped in between; fstat below says what it was.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		g_set_error(err, VTB_APPLIANCE_ERROR, bad_type_code,
			    "%s: %s, not a regular file", path,
			    file_type_name(st.st_mode));
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "open %s: %s", path, g_strerror(e));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;

		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "stat %s: %s", path, g_strerror(e));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(err, VTB_APPLIANCE_ERROR, bad_type_code,
			    "%s: %s, not a regular file", path,
			    file_type_name(st.st_mode));
		close(fd);
		return NULL;
	}
	/* Writable means a private copy-on-write mapping: libelf may write. */
	mf = g_mapped_file_new_from_fd(fd, TRUE, &merr);
	close(fd);
	if (!mf) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "mmap %s: %s", path, merr->message);
		g_error_free(merr);
	}
	return mf;
}

Elf_Scn *vtb_elf_section(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

static gboolean note_in_data(Elf_Data *data, const char *owner, GElf_Word type,
			     const void **desc, size_t *descsz)
{
	size_t owner_sz = strlen(owner) + 1;
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data || !data->d_buf)
		return FALSE;
	/* gelf_getnote() returns 0 on a malformed note: stop there. */
	while (off < data->d_size &&
	       (next = gelf_getnote(data, off, &nh, &name_off, &desc_off))) {
		const char *name = (const char *)data->d_buf + name_off;

		if (nh.n_type == type && nh.n_namesz == owner_sz &&
		    memcmp(name, owner, owner_sz) == 0) {
			*desc = (const char *)data->d_buf + desc_off;
			*descsz = nh.n_descsz;
			return TRUE;
		}
		off = next;
	}
	return FALSE;
}

gboolean vtb_elf_find_note(Elf *elf, const char *owner, GElf_Word type,
			   const void **desc, size_t *descsz)
{
	Elf_Scn *scn = NULL;
	size_t i, phnum;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE &&
		    note_in_data(elf_getdata(scn, NULL), owner, type, desc,
				 descsz))
			return TRUE;
	}
	/* Stripped images may keep only the program headers. */
	if (elf_getphdrnum(elf, &phnum) < 0)
		return FALSE;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		Elf_Data *d;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz,
					 ph.p_align == 8 ? ELF_T_NHDR8
							 : ELF_T_NHDR);
		if (note_in_data(d, owner, type, desc, descsz))
			return TRUE;
	}
	return FALSE;
}

gboolean vtb_elf_has_pvh(Elf *elf)
{
	const void *desc;
	size_t sz;

	return vtb_elf_find_note(elf, "Xen", VTB_XEN_ELFNOTE_PHYS32_ENTRY,
				 &desc, &sz);
}

char *vtb_elf_build_id(Elf *elf)
{
	const void *desc;
	size_t sz, i;
	GString *s;

	if (!vtb_elf_find_note(elf, "GNU", NT_GNU_BUILD_ID, &desc, &sz) ||
	    sz == 0)
		return NULL;
	s = g_string_sized_new(sz * 2);
	for (i = 0; i < sz; i++)
		g_string_append_printf(s, "%02x", ((const guint8 *)desc)[i]);
	return g_string_free(s, FALSE);
}

/*
 * The binary may hold several "Linux version" strings (UML has a truncated
 * copy next to the printf format): keep the longest, whose release starts
 * with a digit.
 */
static gboolean find_banner(const char *d, gsize n, char **banner,
			    char **release)
{
	const char *p = d, *end = d + n, *best = NULL;
	gsize best_len = 0, best_rel = 0;

	while (p < end &&
	       (p = memmem(p, end - p, BANNER_PREFIX, strlen(BANNER_PREFIX)))) {
		const char *r = p + strlen(BANNER_PREFIX), *q = r;
		gsize rel_len, len;

		while (q < end && q - p < BANNER_MAX && g_ascii_isgraph(*q))
			q++;
		rel_len = q - r;
		while (q < end && q - p < BANNER_MAX && *q != '\n' &&
		       g_ascii_isprint(*q))
			q++;
		len = q - p;
		if (rel_len > 0 && g_ascii_isdigit(*r) && len > best_len) {
			best = p;
			best_len = len;
			best_rel = rel_len;
		}
		p = r;
	}
	if (!best)
		return FALSE;
	*banner = g_strndup(best, best_len);
	*release = g_strndup(best + strlen(BANNER_PREFIX), best_rel);
	return TRUE;
}

static const char *elf_type_name(Elf *elf)
{
	GElf_Ehdr eh;

	if (!gelf_getehdr(elf, &eh))
		return "an ELF file";
	switch (eh.e_type) {
	case ET_EXEC:
	case ET_DYN:
		return "an ELF executable";
	case ET_REL:
		return "an ELF object";
	case ET_CORE:
		return "an ELF core dump";
	default:
		return "an ELF file";
	}
}

static gboolean identify_elf(char *d, gsize n, struct vtb_kernel_info *out,
			     GError **err)
{
	Elf *elf;
	gboolean uml, ok = FALSE;
	GElf_Ehdr eh;

	elf_version(EV_CURRENT);
	elf = elf_memory(d, n);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: corrupt or truncated ELF (%s)", out->path,
			    elf_errmsg(-1));
		goto out_end;
	}
	uml = vtb_elf_section(elf, ".uml.setup.init") ||
	      vtb_elf_section(elf, ".uml.help.init");
	if (!find_banner(d, n, &out->banner, &out->release)) {
		if (uml)
			g_set_error(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_KERNEL,
				    "%s: a UML kernel without a \"Linux "
				    "version\" banner",
				    out->path);
		else
			g_set_error(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_KERNEL,
				    "%s: %s but not a Linux kernel (no "
				    ".uml.setup.init section, no Linux banner)",
				    out->path, elf_type_name(elf));
		goto out_end;
	}
	out->kind = uml ? VTB_KERNEL_UML : VTB_KERNEL_VMLINUX;
	out->build_id = vtb_elf_build_id(elf);
	out->has_pvh = !uml && vtb_elf_has_pvh(elf);
	ok = TRUE;
out_end:
	elf_end(elf);
	return ok;
}

static gboolean identify_bzimage(const guint8 *d, gsize n,
				 struct vtb_kernel_info *out, GError **err)
{
	guint16 proto = vtb_le16(d + BZ_VERSION);
	guint16 kv = vtb_le16(d + BZ_KERNEL_VERSION);
	guint32 syssize = vtb_le32(d + BZ_SYSSIZE);
	guint setup_sects = d[BZ_SETUP_SECTS] ? d[BZ_SETUP_SECTS] : 4;
	guint64 need = (guint64)(setup_sects + 1) * 512 + (guint64)syssize * 16;
	const char *v, *sp;
	gsize off = (gsize)kv + 0x200, maxlen;

	if (need > n) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: truncated bzImage (its setup header says "
			    "%" G_GUINT64_FORMAT
			    " bytes, the file has %" G_GSIZE_FORMAT ")",
			    out->path, need, n);
		return FALSE;
	}
	if (proto < 0x200 || kv == 0 || off >= n) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: bzImage without a kernel version string "
			    "(boot protocol %u.%02u)",
			    out->path, proto >> 8, proto & 0xff);
		return FALSE;
	}
	v = (const char *)d + off;
	maxlen = MIN(n - off, 256);
	sp = v;
	while ((gsize)(sp - v) < maxlen && g_ascii_isgraph(*sp))
		sp++;
	if (sp == v || !g_ascii_isdigit(*v)) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: bzImage with an unreadable kernel version "
			    "string at offset 0x%zx",
			    out->path, off);
		return FALSE;
	}
	out->release = g_strndup(v, sp - v);
	out->kind = VTB_KERNEL_BZIMAGE;
	return TRUE;
}

gboolean vtb_kernel_identify(const char *path, struct vtb_kernel_info *out,
			     GError **err)
{
	g_autoptr(GMappedFile) mf = NULL;
	char *d;
	gsize n;
	gboolean ok;

	memset(out, 0, sizeof(*out));
	out->path = g_canonicalize_filename(path, NULL);
	mf = vtb_map_file(out->path, VTB_APPLIANCE_ERR_KERNEL, err);
	if (!mf)
		goto out_clear;
	d = g_mapped_file_get_contents(mf);
	n = g_mapped_file_get_length(mf);
	if (n == 0) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: an empty file, not a kernel", out->path);
		goto out_clear;
	}
	if (n >= SELFMAG && memcmp(d, ELFMAG, SELFMAG) == 0)
		ok = identify_elf(d, n, out, err);
	else if (n >= BZ_MIN_SIZE && memcmp(d + BZ_HEADER, "HdrS", 4) == 0)
		ok = identify_bzimage((const guint8 *)d, n, out, err);
	else {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_KERNEL,
			    "%s: not a Linux kernel (neither ELF nor a bzImage "
			    "with a HdrS setup header)",
			    out->path);
		ok = FALSE;
	}
	if (ok)
		return TRUE;
out_clear:
	vtb_kernel_info_clear(out);
	return FALSE;
}

void vtb_kernel_info_clear(struct vtb_kernel_info *ki)
{
	g_free(ki->path);
	g_free(ki->release);
	g_free(ki->banner);
	g_free(ki->build_id);
	g_free(ki->build_dir);
	g_free(ki->source_dir);
	g_free(ki->git_head);
	memset(ki, 0, sizeof(*ki));
}

const char *vtb_kernel_kind_name(enum vtb_kernel_kind kind)
{
	switch (kind) {
	case VTB_KERNEL_UML:
		return "uml";
	case VTB_KERNEL_BZIMAGE:
		return "bzimage";
	case VTB_KERNEL_VMLINUX:
		return "vmlinux";
	case VTB_KERNEL_UNKNOWN:
		break;
	}
	return "unknown";
}
