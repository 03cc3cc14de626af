/* Payload files and disk images: made with the real tools, verified. */
#ifndef VTB_DISK_H
#define VTB_DISK_H

#include <glib.h>

struct stat;

/*
 * The payload cache's hash file for @st's file: "HASH INODE SIZE
 * MTIME\n" (newly allocated), and its reading: TRUE with *hash when
 * @text was made for the file @st is of now (same inode, size, mtime).
 */
char *vtb_payload_hash_text(guint64 hash, const struct stat *st);
gboolean vtb_payload_hash_parse(const char *text, const struct stat *st,
				guint64 *hash);

/*
 * The payload of @size bytes, as a file the host sends from or attaches
 * as a read-only disk: "zero" is a sparse file, "random" the seeded
 * generator's stream (proto.h) written once.  Cached in @cache_dir with
 * its XXH3-64 hash, which *hash receives: the cached hash is used only
 * while the file is the one it was made with, else the file is made again.
 */
gboolean vtb_payload_get(const char *cache_dir, const char *payload,
			 guint64 size, guint64 seed, char **path, guint64 *hash,
			 GError **err);

/* The seed of the transfers' "random" payload. */
#define VTB_PAYLOAD_SEED 0x5eed5eedULL

/* Bytes vtb_payload_get() would write to @cache_dir's filesystem for this
 * payload: 0 for a sparse "zero" one or one already cached at @size. */
guint64 vtb_payload_bytes_to_make(const char *cache_dir, const char *payload,
				  guint64 size, guint64 seed);

/*
 * Make a disk image of @disk_size at @path of kind @image (raw-sparse,
 * raw-prealloc, qcow2, qcow2-prealloc) holding an empty @fs (ext2/3/4)
 * made by mke2fs on the host, so the guest needs no mkfs.  *format is
 * "raw" or "qcow2".  Errors quote the failing tool's message.
 */
gboolean vtb_disk_make(const char *path, const char *image, const char *fs,
		       guint64 disk_size, const char **format, GError **err);

/*
 * Give the blocks of the raw image @path back to the host filesystem (a
 * hole over all of it; the size stays): for an image the guest is done
 * with but the VMM still holds open.
 */
gboolean vtb_disk_discard(const char *path, GError **err);

/* Drop the host page cache of @path (posix_fadvise DONTNEED). */
void vtb_drop_cache(const char *path);

/* Run @argv to completion; FALSE with its stderr in @err. */
gboolean vtb_run_tool(const char *const *argv, GError **err);

#endif
