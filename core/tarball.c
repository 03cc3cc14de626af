/* The untar workload's tree: a seeded tarball shaped like a source tree. */
#include "core/tarball.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/vtbench.h"
#include "proto/proto.h"

/*
 * Bump whenever the same shape and seed would give other bytes (layout,
 * sizes, names, contents, tar format): old cache entries then miss.
 */
#define TREE_GENERATOR 1

/* git v2.39.0's release day: every entry gets it. */
#define TREE_MTIME 1670803200

const struct vtb_tree_shape vtb_tree_shapes[] = {
	/* The files add up to 40 MB; with ustar headers and padding the
	 * tarball is the article's 43 MB. */
	{"git", "the Lima article's git v2.39.0 tree: 213 dirs, 4294 files",
	 213, 4294, 40000000},
	{"quick", "a tenth of it: 22 dirs, 430 files, 4 MB", 22, 430, 4000000},
	{NULL, NULL, 0, 0, 0},
};

const struct vtb_tree_shape *vtb_tree_shape_find(const char *name)
{
	const struct vtb_tree_shape *s;

	for (s = vtb_tree_shapes; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static guint64 splitmix64(guint64 *state)
{
	guint64 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number below @n, more often small: (u^2) * n for u uniform in [0,1). */
static guint skewed_below(guint64 *rng, guint n)
{
	guint64 u = splitmix64(rng) >> 32;

	return (guint)(((u * u) >> 32) * n >> 32);
}

/*
 * Size classes of a source tree, per mille: a file of class g has
 * (256..511) << g bytes before scaling.  Most are a few KiB, one in a
 * thousand is megabytes (git's po/ files, its big C files).  Integers only:
 * the sizes must not depend on a libm.
 */
static const guint size_class[] = {60, 90, 140, 180, 180, 150, 100,
				   55, 25, 12,	5,   2,	  1};

static guint64 raw_size(guint64 *rng)
{
	guint r = splitmix64(rng) % 1000, g = 0, acc = size_class[0];

	while (r >= acc && g + 1 < G_N_ELEMENTS(size_class))
		acc += size_class[++g];
	return (256 + splitmix64(rng) % 256) << g;
}

static const char *const exts[] = {".c", ".h", ".txt", ".sh", ".po", ".pl"};

struct tree_entry {
	char *path; /* "tree/d012/f0042.c", a directory's ending in '/' */
	guint64 size;
	guint64 seed; /* of its contents */
	mode_t mode;
};

static int entry_cmp(gconstpointer a, gconstpointer b)
{
	const struct tree_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* The tree for @shape and @seed, sorted by path (parents first). */
static GArray *tree_layout(const struct vtb_tree_shape *shape, guint64 seed)
{
	GArray *ents = g_array_sized_new(FALSE, TRUE, sizeof(struct tree_entry),
					 shape->dirs + shape->files);
	g_autofree char **dirs = g_new0(char *, shape->dirs);
	g_autofree guint64 *sizes = g_new0(guint64, shape->files);
	guint64 rng = seed, total = 0, sum = 0;
	guint i, largest = 0;

	dirs[0] = g_strdup("tree/");
	for (i = 1; i < shape->dirs; i++)
		/* An earlier directory, more often a shallow one. */
		dirs[i] = g_strdup_printf("%sd%03u/",
					  dirs[skewed_below(&rng, i)], i);
	for (i = 0; i < shape->files; i++) {
		sizes[i] = raw_size(&rng);
		total += sizes[i];
	}
	/* Scaled to add up to exactly shape->bytes. */
	for (i = 0; i < shape->files; i++) {
		sizes[i] = total ? sizes[i] * shape->bytes / total : 0;
		sum += sizes[i];
		if (sizes[i] > sizes[largest])
			largest = i;
	}
	if (shape->files)
		sizes[largest] += shape->bytes - sum;
	for (i = 0; i < shape->dirs; i++) {
		struct tree_entry e = {dirs[i], 0, 0, 0755};

		g_array_append_val(ents, e);
	}
	for (i = 0; i < shape->files; i++) {
		/* The first directories get the most files, as git's t/. */
		guint d = skewed_below(&rng, shape->dirs);
		guint x = splitmix64(&rng) % G_N_ELEMENTS(exts);
		struct tree_entry e = {
			g_strdup_printf("%sf%04u%s", dirs[d], i, exts[x]),
			sizes[i], splitmix64(&rng),
			strcmp(exts[x], ".sh") == 0 ? 0755 : 0644};

		g_array_append_val(ents, e);
	}
	g_array_sort(ents, entry_cmp);
	return ents;
}

static void tree_free(GArray *ents)
{
	guint i;

	for (i = 0; i < ents->len; i++)
		g_free(g_array_index(ents, struct tree_entry, i).path);
	g_array_free(ents, TRUE);
}

static gboolean ar_error(struct archive *ar, const char *step, const char *what,
			 GError **err)
{
	const char *m = archive_error_string(ar);

	g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "%s %s: %s", step, what,
		    m ? m : "libarchive error");
	return FALSE;
}

static gboolean write_entry(struct archive *ar, struct archive_entry *ae,
			    const struct tree_entry *e, guint8 *buf,
			    gsize bufsz, const char *tmp, GError **err)
{
	gboolean dir = g_str_has_suffix(e->path, "/");
	guint64 off = 0;

	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(ae, e->mode);
	archive_entry_set_size(ae, e->size);
	archive_entry_set_mtime(ae, TREE_MTIME, 0);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_uname(ae, "root");
	archive_entry_set_gname(ae, "root");
	if (archive_write_header(ar, ae) != ARCHIVE_OK) {
		g_autofree char *what =
			g_strdup_printf("%s in %s", e->path, tmp);

		return ar_error(ar, "write header of", what, err);
	}
	while (off < e->size) {
		gsize n = MIN(bufsz, e->size - off);

		vtb_payload_fill(buf, n, off, e->seed);
		if (archive_write_data(ar, buf, n) != (la_ssize_t)n) {
			g_autofree char *what =
				g_strdup_printf("%s in %s", e->path, tmp);

			return ar_error(ar, "write", what, err);
		}
		off += n;
	}
	return TRUE;
}

static gboolean write_tarball(const char *dest, GArray *ents, GError **err)
{
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", dest);
	const gsize bufsz = 1 << 16;
	g_autofree guint8 *buf = g_malloc(bufsz);
	struct archive_entry *ae = archive_entry_new();
	struct archive *ar = archive_write_new();
	gboolean ok = FALSE;
	guint i;
	int fd;

	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;

		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "create a temporary file next to %s: %s", dest,
			    g_strerror(e));
		goto out_free;
	}
	/* ustar as long as the names fit, as git archive writes. */
	if (archive_write_set_format_pax_restricted(ar) != ARCHIVE_OK ||
	    archive_write_add_filter_none(ar) != ARCHIVE_OK ||
	    archive_write_open_fd(ar, fd) != ARCHIVE_OK) {
		ar_error(ar, "open", tmp, err);
		goto out_unlink;
	}
	for (i = 0; i < ents->len; i++)
		if (!write_entry(ar, ae,
				 &g_array_index(ents, struct tree_entry, i),
				 buf, bufsz, tmp, err))
			goto out_unlink;
	if (archive_write_close(ar) != ARCHIVE_OK) {
		ar_error(ar, "finish", tmp, err);
		goto out_unlink;
	}
	if (fsync(fd) < 0 || rename(tmp, dest) < 0) {
		int e = errno;

		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "write %s: %s", dest,
			    g_strerror(e));
		goto out_unlink;
	}
	ok = TRUE;
	goto out_close;
out_unlink:
	unlink(tmp);
out_close:
	if (fd >= 0)
		close(fd);
out_free:
	archive_write_free(ar);
	archive_entry_free(ae);
	return ok;
}

gboolean vtb_tarball_get(const char *cache_dir,
			 const struct vtb_tree_shape *shape, guint64 seed,
			 char **path, struct vtb_tree_counts *counts,
			 GError **err)
{
	g_autofree char *dir = g_build_filename(cache_dir, "untar", NULL);
	g_autofree char *name = NULL;
	struct stat st;

	*path = NULL;
	memset(counts, 0, sizeof(*counts));
	name = g_strdup_printf("%s-%ud-%uf-%" G_GUINT64_FORMAT
			       "b-%016" G_GINT64_MODIFIER "x-g%d.tar",
			       shape->name, shape->dirs, shape->files,
			       shape->bytes, seed, TREE_GENERATOR);
	*path = g_build_filename(dir, name, NULL);
	if (stat(*path, &st) != 0 || !S_ISREG(st.st_mode)) {
		GArray *ents;
		gboolean ok;

		if (g_mkdir_with_parents(dir, 0700) < 0) {
			int e = errno;

			g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "mkdir %s: %s",
				    dir, g_strerror(e));
			goto fail;
		}
		ents = tree_layout(shape, seed);
		ok = write_tarball(*path, ents, err);
		tree_free(ents);
		if (!ok || stat(*path, &st) != 0)
			goto fail;
	}
	counts->dirs = shape->dirs;
	counts->files = shape->files;
	counts->bytes = shape->bytes;
	counts->tar_size = st.st_size;
	return TRUE;
fail:
	g_prefix_error(err, "make the %s tarball: ", shape->name);
	g_clear_pointer(path, g_free);
	return FALSE;
}

static gboolean bad_tarball(GError **err, const char *path, const char *why,
			    struct archive *ar)
{
	const char *m = ar ? archive_error_string(ar) : NULL;

	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE, "tarball %s: %s%s%s%s", path,
		    why, m ? " (" : "", m ? m : "", m ? ")" : "");
	return FALSE;
}

/*
 * The directory the tarball is extracted into, named by a member: ".",
 * "./" or "./." (what `tar -cf x.tar -C dir .` puts first).  Extracting it
 * makes no entry of its own, so it is not counted.
 */
static gboolean names_top(const char *name)
{
	const char *p = name;

	if (!p)
		return FALSE;
	for (;;) {
		while (*p == '/')
			p++;
		if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
			p++;
		else
			break;
	}
	return *p == '\0';
}

gboolean vtb_tarball_count(const char *path, struct vtb_tree_counts *counts,
			   GError **err)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *ae;
	gboolean ok = FALSE;
	struct stat st;
	int r;

	memset(counts, 0, sizeof(*counts));
	if (stat(path, &st) < 0) {
		int e = errno;

		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE, "tarball %s: %s",
			    path, g_strerror(e));
		goto out_free;
	}
	if (!S_ISREG(st.st_mode)) {
		bad_tarball(err, path, "not a regular file", NULL);
		goto out_free;
	}
	if (st.st_size == 0) {
		bad_tarball(err, path, "an empty file, not a tar archive",
			    NULL);
		goto out_free;
	}
	counts->tar_size = st.st_size;
	/* Filters only to say so: the guest's tar reads it as it is. */
	archive_read_support_format_tar(ar);
	archive_read_support_filter_all(ar);
	if (archive_read_open_filename(ar, path, 1 << 16) != ARCHIVE_OK) {
		bad_tarball(err, path, "not a tar archive", ar);
		goto out_free;
	}
	while ((r = archive_read_next_header(ar, &ae)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		if (archive_filter_count(ar) > 1) {
			g_autofree char *why = g_strdup_printf(
				"compressed with %s; the guest's tar "
				"needs it uncompressed",
				archive_filter_name(ar, 0));

			bad_tarball(err, path, why, NULL);
			goto out_free;
		}
		if (names_top(archive_entry_pathname(ae)))
			; /* the top: already there */
		else if (archive_entry_hardlink(ae))
			counts->others++;
		else if (archive_entry_filetype(ae) == AE_IFDIR)
			counts->dirs++;
		else if (archive_entry_filetype(ae) == AE_IFREG) {
			counts->files++;
			counts->bytes += archive_entry_size(ae);
		} else
			counts->others++;
		/* Reading through finds a truncated member. */
		if (archive_read_data_skip(ar) != ARCHIVE_OK) {
			bad_tarball(err, path, "truncated", ar);
			goto out_free;
		}
	}
	if (r != ARCHIVE_EOF) {
		bad_tarball(err, path,
			    counts->dirs + counts->files + counts->others
				    ? "corrupt"
				    : "not a tar archive",
			    ar);
		goto out_free;
	}
	if (counts->dirs + counts->files + counts->others == 0) {
		bad_tarball(err, path, "an empty tar archive", NULL);
		goto out_free;
	}
	ok = TRUE;
out_free:
	archive_read_free(ar);
	return ok;
}
