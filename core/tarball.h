/* The untar workload's tree: a seeded tarball shaped like a source tree. */
#ifndef VTB_TARBALL_H
#define VTB_TARBALL_H

#include <glib.h>

/*
 * What the generated tree holds.  "git" is the Lima article's untar (git
 * v2.39.0: 213 directories, 4,294 files, a 43 MB tarball); "quick" about a
 * tenth of it, for the default job.
 */
struct vtb_tree_shape {
	const char *name, *help;
	guint dirs;    /* directories, the top one included */
	guint files;   /* regular files */
	guint64 bytes; /* the files' sizes added up */
};

/* The shapes, ending with a zeroed entry. */
extern const struct vtb_tree_shape vtb_tree_shapes[];
const struct vtb_tree_shape *vtb_tree_shape_find(const char *name);

/* What a tarball holds, as read back (or as generated). */
struct vtb_tree_counts {
	guint64 dirs, files, bytes;
	guint64 others;	  /* symlinks, hard links, devices, fifos */
	guint64 tar_size; /* of the tarball file */
};

/*
 * The tarball of @shape for @seed: directories and files laid out, sized
 * (many small files and a few large, adding up to exactly shape->bytes)
 * and filled by one seeded generator, so every run and both backends get
 * the same bytes.  Written with libarchive (ustar, root-owned, one fixed
 * mtime) into @cache_dir/untar/, named by the shape's numbers, the seed
 * and the generator's version, atomically.  *@path (newly allocated) and
 * *@counts on success.
 */
gboolean vtb_tarball_get(const char *cache_dir,
			 const struct vtb_tree_shape *shape, guint64 seed,
			 char **path, struct vtb_tree_counts *counts,
			 GError **err);

/*
 * Read the tarball at @path through (a user's --tarball) and count what it
 * holds: what extracting it adds below the directory it is extracted
 * into, so a member naming that directory itself ("./") is not counted.
 * VTB_ERR_USAGE, one line naming @path, when it is no tar archive,
 * compressed (the guest's tar gets it as is and has no decompressor),
 * truncated, or empty.
 */
gboolean vtb_tarball_count(const char *path, struct vtb_tree_counts *counts,
			   GError **err);

#endif
