/* Host side of the flush audit: the counter file, the VMM's environment
 * that loads libvtbflush.so into it, and reading the counts. */
#ifndef VTB_FLUSH_H
#define VTB_FLUSH_H

#include <glib.h>

/* Calls the VMM made on the images (see flush/vtbflush.h for each). */
struct vtb_flush_counts {
	guint64 fsync, fdatasync, sync_file_range, syncfs;
	guint64 sync_opens;   /* opens with O_SYNC or O_DSYNC */
	guint64 direct_opens; /* opens with O_DIRECT, F_SETFL turning it on */
	guint64 dsync_writes; /* pwritev2 with RWF_DSYNC or RWF_SYNC */
};

struct vtb_flush;

/*
 * Create a zeroed counter file in @dir (removed by vtb_flush_free) and find
 * libvtbflush.so: $VTBENCH_FLUSHLIB, next to the running program (build
 * tree, or ../../ from tests/unit), else the installed libexec dir.
 * NULL + err when either fails.
 */
struct vtb_flush *vtb_flush_new(const char *dir, GError **err);

/* The counter file's path; owned by @f. */
const char *vtb_flush_file(struct vtb_flush *f);

/*
 * "NAME=value" strings to add to the VMM's environment so it counts the
 * calls it makes on @image_paths (NULL-terminated; relative paths are taken
 * from our cwd): LD_PRELOAD (the library, before any LD_PRELOAD we run
 * with), VTB_FLUSH_FILE and VTB_FLUSH_PATHS.  Free with g_strfreev().
 * The images must exist when the VMM starts: they are matched by inode.
 */
char **vtb_flush_env(struct vtb_flush *f, const char *const *image_paths);

/* The counts right now: the VMM may be running, exited or killed. */
void vtb_flush_read(struct vtb_flush *f, struct vtb_flush_counts *out);

/* @out = @a - @b, field by field (@out may be @a or @b). */
void vtb_flush_counts_sub(const struct vtb_flush_counts *a,
			  const struct vtb_flush_counts *b,
			  struct vtb_flush_counts *out);

/*
 * How far the counts can be trusted: @attached, the processes that loaded
 * the library with this file (0: zero counts prove nothing); @missing, the
 * image paths they could not stat.  Either may be NULL.
 */
void vtb_flush_status(struct vtb_flush *f, guint64 *attached, guint64 *missing);

/* Unmap and remove the counter file.  NULL is fine. */
void vtb_flush_free(struct vtb_flush *f);
typedef struct vtb_flush vtb_flush;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vtb_flush, vtb_flush_free)

#endif
