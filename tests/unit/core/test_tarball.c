/* Unit tests: the untar tree's tarball (shape, determinism, bad input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <xxhash.h>

#include "core/tarball.h"
#include "core/vtbench.h"
#include "tests/unit/testutil.h"

static struct {
	char *tmp;
} fx;

static int setup(void **state)
{
	fx.tmp = vtbt_tmpdir();
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vtbt_rm_rf(fx.tmp);
	g_free(fx.tmp);
	return 0;
}

static guint64 file_hash(const char *path)
{
	g_autoptr(GBytes) b = vtbt_read(path);

	return XXH3_64bits(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
}

static int cmp_u64(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return x < y ? -1 : x > y;
}

/* Every file's size, read back with libarchive, sorted. */
static GArray *sizes_of(const char *path)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *ae;
	GArray *sizes = g_array_new(FALSE, FALSE, sizeof(guint64));

	archive_read_support_format_tar(ar);
	assert_int_equal(archive_read_open_filename(ar, path, 1 << 16),
			 ARCHIVE_OK);
	while (archive_read_next_header(ar, &ae) == ARCHIVE_OK) {
		guint64 s = archive_entry_size(ae);

		assert_int_equal(archive_entry_uid(ae), 0);
		assert_string_equal(archive_entry_uname(ae), "root");
		assert_true(
			g_str_has_prefix(archive_entry_pathname(ae), "tree/"));
		if (archive_entry_filetype(ae) == AE_IFREG)
			g_array_append_val(sizes, s);
	}
	archive_read_free(ar);
	g_array_sort(sizes, cmp_u64);
	return sizes;
}

static struct vtb_tree_counts walked;

static int walk_one(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_D)
		walked.dirs++;
	else if (S_ISREG(st->st_mode)) {
		walked.files++;
		walked.bytes += st->st_size;
	} else
		walked.others++;
	return 0;
}

/* GNU tar, the guest's tool, extracts it all: walk what it made. */
static void check_gnu_extract(const char *tarball, const char *dir,
			      const struct vtb_tree_counts *want)
{
	const char *argv[] = {"tar", "-xf", tarball, "-C", dir, NULL};
	g_autofree char *top = g_build_filename(dir, "tree", NULL);
	g_autoptr(GBytes) out = NULL;

	g_mkdir_with_parents(dir, 0700);
	out = vtbt_exec(argv);
	assert_non_null(out);
	memset(&walked, 0, sizeof(walked));
	assert_int_equal(nftw(top, walk_one, 16, FTW_PHYS), 0);
	assert_int_equal(walked.dirs, want->dirs);
	assert_int_equal(walked.files, want->files);
	assert_int_equal(walked.bytes, want->bytes);
	assert_int_equal(walked.others, 0);
	vtbt_rm_rf(dir);
}

struct shape_case {
	const char *shape;
	guint dirs, files;
	guint64 bytes;
};

static const struct shape_case shape_cases[] = {
	/* The article's: 213 directories, 4,294 files, 43 MB. */
	{"git", 213, 4294, 40000000},
	{"quick", 22, 430, 4000000},
};

/*
 * The counts as specified, read back; a skewed spread of sizes; the same
 * seed gives the same bytes in another cache, another seed other bytes;
 * a second call is a cache hit.
 */
static void test_shape(void **state)
{
	const struct shape_case *c = *state;
	const struct vtb_tree_shape *s = vtb_tree_shape_find(c->shape);
	g_autofree char *cache_a = g_strdup_printf("%s/a-%s", fx.tmp, c->shape);
	g_autofree char *cache_b = g_strdup_printf("%s/b-%s", fx.tmp, c->shape);
	g_autofree char *pa = NULL, *pb = NULL, *pc = NULL, *pd = NULL;
	g_autoptr(GArray) sizes = NULL;
	struct vtb_tree_counts ca, cb, cc, rd;
	guint64 median, max;
	GError *err = NULL;
	struct stat st1, st2;

	assert_non_null(s);
	assert_int_equal(s->dirs, c->dirs);
	assert_int_equal(s->files, c->files);
	assert_int_equal(s->bytes, c->bytes);
	if (!vtb_tarball_get(cache_a, s, 1, &pa, &ca, &err))
		fail_msg("make: %s", err->message);
	print_message("  %s: %s, %" G_GUINT64_FORMAT " bytes\n", c->shape, pa,
		      ca.tar_size);
	assert_true(g_str_has_prefix(pa, cache_a));
	assert_int_equal(ca.dirs, c->dirs);
	assert_int_equal(ca.files, c->files);
	assert_int_equal(ca.bytes, c->bytes);

	/* What a reader of the file finds. */
	if (!vtb_tarball_count(pa, &rd, &err))
		fail_msg("read back: %s", err->message);
	assert_int_equal(rd.dirs, c->dirs);
	assert_int_equal(rd.files, c->files);
	assert_int_equal(rd.bytes, c->bytes);
	assert_int_equal(rd.others, 0);
	assert_int_equal(rd.tar_size, ca.tar_size);

	{
		g_autofree char *x =
			g_strdup_printf("%s/x-%s", fx.tmp, c->shape);

		check_gnu_extract(pa, x, &ca);
	}

	/* Many small files, a few large: a source tree, not a flat one. */
	sizes = sizes_of(pa);
	assert_int_equal(sizes->len, c->files);
	median = g_array_index(sizes, guint64, sizes->len / 2);
	max = g_array_index(sizes, guint64, sizes->len - 1);
	print_message("  sizes: min %" G_GUINT64_FORMAT
		      ", median %" G_GUINT64_FORMAT ", mean %" G_GUINT64_FORMAT
		      ", max %" G_GUINT64_FORMAT "\n",
		      g_array_index(sizes, guint64, 0), median,
		      c->bytes / c->files, max);
	assert_true(median * 2 < c->bytes / c->files);
	assert_true(max > 50 * median);

	/* Same seed elsewhere: byte-identical. */
	if (!vtb_tarball_get(cache_b, s, 1, &pb, &cb, &err))
		fail_msg("again: %s", err->message);
	assert_string_not_equal(pa, pb);
	assert_true(file_hash(pa) == file_hash(pb));
	/* Another seed: other bytes, same counts. */
	if (!vtb_tarball_get(cache_b, s, 2, &pc, &cc, &err))
		fail_msg("seed 2: %s", err->message);
	assert_string_not_equal(pb, pc);
	assert_false(file_hash(pb) == file_hash(pc));
	assert_int_equal(cc.files, c->files);
	/* A hit leaves the file alone. */
	assert_int_equal(stat(pa, &st1), 0);
	if (!vtb_tarball_get(cache_a, s, 1, &pd, &cc, &err))
		fail_msg("hit: %s", err->message);
	assert_string_equal(pa, pd);
	assert_int_equal(stat(pd, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
}

struct count_case {
	const char *label;
	const char *member; /* what tar -C src is given */
};

static const struct count_case count_cases[] = {
	{"top", "top"},
	/* "./" first: the directory extracted into, no entry of its own. */
	{"dot", "."},
	{"dot-slash", "./"},
	{"dot-top", "./top"},
};

/*
 * A tree made by the host's GNU tar, a symlink in it, counted as what
 * extracting it adds: 2 directories, 2 files (16 bytes), 1 symlink.
 */
static void test_count_gnu_tar(void **state)
{
	const struct count_case *cc = *state;
	g_autofree char *src = g_strdup_printf("%s/src-%s", fx.tmp, cc->label);
	g_autofree char *tar =
		g_strdup_printf("%s/gnu-%s.tar", fx.tmp, cc->label);
	g_autofree char *a = g_build_filename(src, "top/a.txt", NULL);
	g_autofree char *b = g_build_filename(src, "top/sub/b.bin", NULL);
	g_autofree char *l = g_build_filename(src, "top/link", NULL);
	const char *argv[] = {"tar", "-cf", tar, "-C", src, cc->member, NULL};
	g_autoptr(GBytes) out = NULL;
	struct vtb_tree_counts c;
	GError *err = NULL;

	vtbt_write(a, "hello\n", 6);
	vtbt_write(b, "0123456789", 10);
	assert_int_equal(symlink("a.txt", l), 0);
	out = vtbt_exec(argv);
	assert_non_null(out);
	if (!vtb_tarball_count(tar, &c, &err))
		fail_msg("%s", err->message);
	assert_int_equal(c.dirs, 2);
	assert_int_equal(c.files, 2);
	assert_int_equal(c.bytes, 16);
	assert_int_equal(c.others, 1);
}

/* A tarball of nothing but "./": no entry to extract. */
static void test_count_only_dot(void **state)
{
	g_autofree char *src = g_build_filename(fx.tmp, "empty", NULL);
	g_autofree char *tar = g_build_filename(fx.tmp, "dot.tar", NULL);
	const char *argv[] = {"tar", "-cf", tar, "-C", src, ".", NULL};
	g_autoptr(GBytes) out = NULL;
	struct vtb_tree_counts c;
	GError *err = NULL;

	(void)state;
	g_mkdir_with_parents(src, 0700);
	out = vtbt_exec(argv);
	assert_non_null(out);
	assert_false(vtb_tarball_count(tar, &c, &err));
	assert_non_null(strstr(err->message, "an empty tar archive"));
	g_error_free(err);
}

enum bad {
	B_GARBAGE,
	B_TEXT,
	B_EMPTY,
	B_GZIP,
	B_TRUNCATED,
	B_DIRECTORY,
	B_MISSING,
};

struct bad_case {
	const char *label;
	enum bad bad;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{"garbage", B_GARBAGE, "not a tar archive"},
	{"text", B_TEXT, "not a tar archive"},
	{"empty", B_EMPTY, "an empty file, not a tar archive"},
	{"gzip", B_GZIP, "compressed with gzip"},
	{"truncated", B_TRUNCATED, "truncated"},
	{"directory", B_DIRECTORY, "not a regular file"},
	{"missing", B_MISSING, "No such file or directory"},
};

/* Each refused with one line naming the file, as bad input (exit 2). */
static void test_bad(void **state)
{
	const struct bad_case *c = *state;
	g_autofree char *path = g_strdup_printf("%s/bad-%s", fx.tmp, c->label);
	g_autofree char *cache = g_build_filename(fx.tmp, "bad-cache", NULL);
	g_autofree char *good = NULL;
	struct vtb_tree_counts counts;
	GError *err = NULL;

	switch (c->bad) {
	case B_GARBAGE: {
		g_autofree guint8 *d = g_malloc(8192);

		vtb_payload_fill(d, 8192, 0, 7);
		vtbt_write(path, d, 8192);
		break;
	}
	case B_TEXT:
		vtbt_write(path, "just some text, no tar\n", 23);
		break;
	case B_EMPTY:
		vtbt_write(path, "", 0);
		break;
	case B_GZIP:
	case B_TRUNCATED:
		if (!vtb_tarball_get(cache, vtb_tree_shape_find("quick"), 1,
				     &good, &counts, &err))
			fail_msg("%s", err->message);
		if (c->bad == B_TRUNCATED) {
			vtbt_copy(good, path, counts.tar_size / 2);
		} else {
			const char *argv[] = {"gzip", "-c", good, NULL};
			g_autoptr(GBytes) z = vtbt_exec(argv);

			assert_non_null(z);
			vtbt_write(path, g_bytes_get_data(z, NULL),
				   g_bytes_get_size(z));
		}
		break;
	case B_DIRECTORY:
		g_mkdir_with_parents(path, 0700);
		break;
	case B_MISSING:
		break;
	}
	assert_false(vtb_tarball_count(path, &counts, &err));
	print_message("  error: %s\n", err->message);
	assert_true(g_error_matches(err, VTB_ERROR, VTB_ERR_USAGE));
	assert_non_null(strstr(err->message, path));
	assert_non_null(strstr(err->message, c->msg));
	assert_null(strchr(err->message, '\n'));
	g_error_free(err);
}

int main(void)
{
	GArray *tests = vtbt_tests();
	guint i;

	for (i = 0; i < G_N_ELEMENTS(shape_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("shape/%s", shape_cases[i].shape);

		vtbt_add(tests, name, test_shape, &shape_cases[i]);
	}
	for (i = 0; i < G_N_ELEMENTS(count_cases); i++) {
		g_autofree char *name = g_strdup_printf("count/gnu-tar-%s",
							count_cases[i].label);

		vtbt_add(tests, name, test_count_gnu_tar, &count_cases[i]);
	}
	vtbt_add(tests, "count/only-dot", test_count_only_dot, NULL);
	for (i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("bad/%s", bad_cases[i].label);

		vtbt_add(tests, name, test_bad, &bad_cases[i]);
	}
	return vtbt_run(tests, "tarball", setup, teardown);
}
