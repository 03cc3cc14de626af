/* Unit tests: the guest tools image (library closure, ext2 image, cache). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "appliance/appliance.h"
#include "tests/unit/testutil.h"

static struct {
	char *tmp;
	char *notelf, *true_q, *true_interp, *doctored, *wrongarch, *changed;
} fx;

static const char *const default_dirs[] = {
	"/lib/x86_64-linux-gnu",
	"/usr/lib/x86_64-linux-gnu",
	"/lib64",
	NULL,
};

/* Replace every @from (with its NUL) by @to of the same length. */
static void doctor(const char *src, const char *dst, const char *from,
		   const char *to)
{
	g_autoptr(GBytes) b = vtbt_read(src);
	gsize n = g_bytes_get_size(b), fl = strlen(from) + 1;
	g_autofree guint8 *d = g_memdup2(g_bytes_get_data(b, NULL), n);
	guint8 *p = d;
	guint hits = 0;

	assert_int_equal(strlen(from), strlen(to));
	while ((p = memmem(p, n - (p - d), from, fl))) {
		memcpy(p, to, fl);
		p += fl;
		hits++;
	}
	assert_true(hits > 0);
	vtbt_write(dst, d, n);
	chmod(dst, 0755);
}

static int setup(void **state)
{
	g_autofree char *libc = NULL, *acl = NULL;
	g_autoptr(GBytes) b = NULL;
	g_autofree guint8 *d = NULL;
	gsize n;

	fx.tmp = vtbt_tmpdir();
	fx.notelf = g_build_filename(fx.tmp, "notelf", NULL);
	vtbt_write(fx.notelf, "#!/bin/sh\nexit 0\n", 17);
	/* /bin/true that needs a libc nobody has. */
	fx.true_q = g_build_filename(fx.tmp, "true-q", NULL);
	doctor("/bin/true", fx.true_q, "libc.so.6", "libq.so.6");
	fx.true_interp = g_build_filename(fx.tmp, "true-interp", NULL);
	doctor("/bin/true", fx.true_interp, "/lib64/ld-linux-x86-64.so.2",
	       "/lib64/ld-linux-x86-64.so.9");
	/* A libacl.so.1 first in the path that needs the missing libq. */
	fx.doctored = g_build_filename(fx.tmp, "doctored", NULL);
	acl = g_build_filename(fx.doctored, "libacl.so.1", NULL);
	doctor("/lib/x86_64-linux-gnu/libacl.so.1", acl, "libc.so.6",
	       "libq.so.6");
	/* A libc.so.6 for another machine (EM_386), which must be skipped. */
	fx.wrongarch = g_build_filename(fx.tmp, "wrongarch", NULL);
	libc = g_build_filename(fx.wrongarch, "libc.so.6", NULL);
	b = vtbt_read("/lib/x86_64-linux-gnu/libc.so.6");
	n = g_bytes_get_size(b);
	d = g_memdup2(g_bytes_get_data(b, NULL), n);
	assert_int_equal(d[18], 62); /* EM_X86_64, little-endian */
	d[18] = 3;
	vtbt_write(libc, d, n);
	/* A libacl.so.1 one byte longer: same closure, other bytes. */
	fx.changed = g_build_filename(fx.tmp, "changed", NULL);
	g_free(acl);
	acl = g_build_filename(fx.changed, "libacl.so.1", NULL);
	g_bytes_unref(b);
	b = vtbt_read("/lib/x86_64-linux-gnu/libacl.so.1");
	g_free(d);
	n = g_bytes_get_size(b);
	d = g_malloc0(n + 1);
	memcpy(d, g_bytes_get_data(b, NULL), n);
	vtbt_write(acl, d, n + 1);
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vtbt_rm_rf(fx.tmp);
	g_free(fx.tmp);
	g_free(fx.notelf);
	g_free(fx.true_q);
	g_free(fx.true_interp);
	g_free(fx.doctored);
	g_free(fx.wrongarch);
	g_free(fx.changed);
	return 0;
}

/* Run @argv (no shell), its stderr dropped; its stdout when it exits 0. */
static GBytes *run_quiet(const char *const *argv)
{
	g_autoptr(GSubprocess) p =
		g_subprocess_newv(argv,
				  G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					  G_SUBPROCESS_FLAGS_STDERR_SILENCE,
				  NULL);
	GBytes *b = NULL;

	if (!p || !g_subprocess_communicate(p, NULL, NULL, &b, NULL, NULL))
		return NULL;
	if (!g_subprocess_get_successful(p)) {
		g_bytes_unref(b);
		return NULL;
	}
	return b;
}

/*
 * What the real loader loads for @bin, from ldd: soname -> real path in
 * @libs, and the interpreter's path in *interp.
 */
static gboolean ldd_of(const char *bin, GHashTable *libs, char **interp)
{
	/* The kernel gives the loader the real path ($ORIGIN's base); ldd
	 * runs the loader on the name it is given. */
	g_autofree char *real = realpath(bin, NULL);
	const char *argv[] = {"ldd", real, NULL};
	g_autoptr(GBytes) out = run_quiet(argv);
	g_auto(GStrv) lines = NULL;
	g_autofree char *text = NULL;
	int i;

	if (!out)
		return FALSE;
	text = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit_set(g_strstrip(lines[i]), " ", -1);

		if (!w[0] || !*w[0] || g_str_has_prefix(w[0], "linux-vdso"))
			continue;
		if (w[1] && strcmp(w[1], "=>") == 0 && w[2] &&
		    strcmp(w[2], "not") == 0)
			fail_msg("ldd %s: %s not found", real, w[0]);
		if (w[1] && strcmp(w[1], "=>") == 0 && w[2])
			g_hash_table_insert(libs, g_strdup(w[0]),
					    realpath(w[2], NULL));
		else if (w[0][0] == '/') {
			/* The same loader for every binary of a case. */
			g_free(*interp);
			*interp = g_strdup(w[0]);
		}
	}
	return TRUE;
}

struct closure_case {
	const char *label;
	const char *bins[3];
	const char *const *libdirs; /* NULL: the defaults */
	const char *must[4];	    /* image paths that must be there */
};

static const char *const wrongarch_first[] = {
	"WRONGARCH", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib64", NULL};

static const struct closure_case closure_cases[] = {
	/* The article's tool; ldd: libacl, libselinux, libc, libpcre2. */
	{"tar",
	 {"/bin/tar"},
	 NULL,
	 {"bin/tar", "lib64/ld-linux-x86-64.so.2", "lib/libacl.so.1",
	  "lib/libselinux.so.1"}},
	{"true", {"/bin/true"}, NULL, {"bin/true", "lib/libc.so.6"}},
	/* Two binaries share one libc. */
	{"tar-and-true",
	 {"/bin/tar", "/bin/true"},
	 NULL,
	 {"bin/tar", "bin/true", "lib/libc.so.6"}},
	/* DT_RUNPATH: libsystemd-shared lives only in its own directory. */
	{"runpath", {"/usr/bin/busctl"}, NULL, {"bin/busctl"}},
	/* DT_RPATH with $ORIGIN ($ORIGIN/../lib/libjli.so). */
	{"rpath-origin",
	 {"/usr/bin/java"},
	 NULL,
	 {"bin/java", "lib/libjli.so"}},
	/* Static: no interpreter, nothing else. */
	{"static", {"/sbin/ldconfig"}, NULL, {"bin/ldconfig"}},
	/* A libc for another machine first in the path is passed over. */
	{"other-machine-skipped",
	 {"/bin/true"},
	 wrongarch_first,
	 {"bin/true", "lib/libc.so.6"}},
};

static const char *const *case_dirs(const char *const *dirs, const char **buf)
{
	int i;

	if (!dirs)
		return NULL;
	for (i = 0; dirs[i]; i++)
		buf[i] = strcmp(dirs[i], "WRONGARCH") == 0 ? fx.wrongarch
							   : dirs[i];
	buf[i] = NULL;
	return buf;
}

/* The closure is exactly what the real loader maps (ldd), same files. */
static void test_closure(void **state)
{
	const struct closure_case *c = *state;
	const char *dirbuf[8];
	g_autoptr(GPtrArray) files = NULL;
	g_autoptr(GHashTable) want = NULL, got = NULL;
	g_autofree char *interp = NULL;
	const char *got_interp = NULL;
	GError *err = NULL;
	GHashTableIter it;
	gpointer k, v;
	guint i;

	for (i = 0; c->bins[i]; i++)
		if (!g_file_test(c->bins[i], G_FILE_TEST_IS_REGULAR))
			VTBT_SKIP("no %s here", c->bins[i]);
	files = vtb_tools_closure(c->bins, case_dirs(c->libdirs, dirbuf), &err);
	if (!files)
		fail_msg("closure: %s", err->message);
	want = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free);
	got = g_hash_table_new(g_str_hash, g_str_equal);
	for (i = 0; c->bins[i]; i++)
		assert_true(ldd_of(c->bins[i], want, &interp));
	for (i = 0; i < files->len; i++) {
		const struct vtb_tool_file *f = files->pdata[i];

		print_message("  %-40s %s\n", f->dest, f->src);
		assert_false(g_hash_table_contains(got, f->dest));
		g_hash_table_insert(got, f->dest, f->src);
		assert_true(g_path_is_absolute(f->src));
		if (f->kind == VTB_TOOL_INTERP)
			got_interp = f->src;
		else if (f->kind == VTB_TOOL_LIB)
			assert_true(g_str_has_prefix(f->dest, "lib/"));
		else
			assert_true(g_str_has_prefix(f->dest, "bin/"));
	}
	for (i = 0; i < G_N_ELEMENTS(c->must) && c->must[i]; i++)
		assert_true(g_hash_table_contains(got, c->must[i]));
	/* Every library ldd names, from the same file, and no other. */
	g_hash_table_iter_init(&it, want);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		g_autofree char *dest = g_strdup_printf("lib/%s", (char *)k);
		const char *src = g_hash_table_lookup(got, dest);

		if (!src)
			fail_msg("%s: ldd loads %s, the closure lacks it",
				 c->label, (char *)k);
		assert_string_equal(src, v);
	}
	assert_int_equal(g_hash_table_size(got),
			 g_hash_table_size(want) + (interp ? 1 : 0) +
				 g_strv_length((char **)c->bins));
	if (interp) {
		g_autofree char *real = realpath(interp, NULL);

		assert_non_null(got_interp);
		assert_string_equal(got_interp, real);
		assert_true(g_hash_table_contains(got, interp + 1));
	} else {
		assert_null(got_interp);
	}
}

enum bad {
	B_NOT_ELF,
	B_MISSING_FILE,
	B_MISSING_LIB,
	B_MISSING_DEEP,
	B_MISSING_INTERP,
	B_DIRECTORY,
};

struct err_case {
	const char *label;
	enum bad bad;
	const char *msg[3]; /* each must be in the message */
};

static const struct err_case err_cases[] = {
	{"not-elf", B_NOT_ELF, {"notelf: not an ELF executable"}},
	{"missing-file",
	 B_MISSING_FILE,
	 {"no-such-tool: No such file or directory"}},
	{"missing-library",
	 B_MISSING_LIB,
	 {"true-q: library libq.so.6 not found in ",
	  "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64"}},
	{"missing-library-of-a-library",
	 B_MISSING_DEEP,
	 {"/bin/tar: library libq.so.6 (needed by ",
	  "doctored/libacl.so.1) not found in "}},
	{"missing-interpreter",
	 B_MISSING_INTERP,
	 {"true-interp: interpreter /lib64/ld-linux-x86-64.so.9 not found"}},
	{"directory", B_DIRECTORY, {"doctored: a directory, not a regular"}},
};

static void test_error(void **state)
{
	const struct err_case *c = *state;
	g_autofree char *gone = g_build_filename(fx.tmp, "no-such-tool", NULL);
	const char *deep_dirs[] = {fx.doctored, default_dirs[0],
				   default_dirs[1], default_dirs[2], NULL};
	const char *bins[] = {NULL, NULL};
	const char *const *dirs = NULL;
	g_autofree char *cache =
		g_strdup_printf("%s/cache-%s", fx.tmp, c->label);
	struct vtb_tools t;
	GError *err = NULL;
	guint i;

	switch (c->bad) {
	case B_NOT_ELF:
		bins[0] = fx.notelf;
		break;
	case B_MISSING_FILE:
		bins[0] = gone;
		break;
	case B_MISSING_LIB:
		bins[0] = fx.true_q;
		break;
	case B_MISSING_DEEP:
		bins[0] = "/bin/tar";
		dirs = deep_dirs;
		break;
	case B_MISSING_INTERP:
		bins[0] = fx.true_interp;
		break;
	case B_DIRECTORY:
		bins[0] = fx.doctored;
		break;
	}
	assert_null(vtb_tools_closure(bins, dirs, &err));
	print_message("  error: %s\n", err->message);
	assert_true(g_error_matches(err, VTB_APPLIANCE_ERROR,
				    c->bad == B_MISSING_FILE
					    ? VTB_APPLIANCE_ERR_IO
					    : VTB_APPLIANCE_ERR_TOOL));
	assert_null(strchr(err->message, '\n'));
	for (i = 0; i < G_N_ELEMENTS(c->msg) && c->msg[i]; i++)
		if (!strstr(err->message, c->msg[i]))
			fail_msg("\"%s\" lacks \"%s\"", err->message,
				 c->msg[i]);
	g_clear_error(&err);

	/* The image fails the same way and leaves nothing in the cache. */
	assert_false(vtb_tools_get(cache, bins, dirs, &t, &err));
	assert_null(t.image);
	assert_non_null(err);
	g_clear_error(&err);
	assert_false(g_file_test(cache, G_FILE_TEST_EXISTS));
}

/* debugfs's view of one directory of @img: name -> size. */
static GHashTable *image_ls(const char *img, const char *dir)
{
	g_autofree char *cmd = g_strdup_printf("ls -p %s", dir);
	const char *argv[] = {"debugfs", "-R", cmd, img, NULL};
	g_autoptr(GBytes) out = run_quiet(argv);
	GHashTable *h =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) lines = NULL;
	g_autofree char *text = NULL;
	int i;

	assert_non_null(out);
	text = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
	/* "/ino/mode/uid/gid/name/size/" per entry. */
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "/", -1);

		if (g_strv_length(f) < 7 || strcmp(f[5], ".") == 0 ||
		    strcmp(f[5], "..") == 0)
			continue;
		assert_string_equal(f[3], "0"); /* root owns everything */
		g_hash_table_insert(h, g_strdup(f[5]),
				    GSIZE_TO_POINTER(atol(f[6])));
	}
	return h;
}

/* The bytes of @path in @img, dumped by debugfs. */
static GBytes *image_cat(const char *img, const char *path)
{
	g_autofree char *dst = g_build_filename(fx.tmp, "dumped", NULL);
	g_autofree char *cmd = g_strdup_printf("dump %s %s", path, dst);
	const char *argv[] = {"debugfs", "-R", cmd, img, NULL};
	g_autoptr(GBytes) out = NULL;
	GBytes *b;

	unlink(dst);
	out = run_quiet(argv);
	assert_non_null(out);
	b = vtbt_read(dst);
	unlink(dst);
	return b;
}

/*
 * Cold build; every file in the image with its host bytes; the layout runs
 * on this host as the agent runs it in the guest (INTERP --library-path
 * lib bin/tar); a hit; a changed library and another tool rebuild.
 */
static void test_image(void **state)
{
	const char *bins[] = {"/bin/tar", NULL};
	const char *other[] = {"/bin/true", NULL};
	const char *changed_dirs[] = {fx.changed, default_dirs[0],
				      default_dirs[1], default_dirs[2], NULL};
	g_autofree char *cache = g_build_filename(fx.tmp, "cache", NULL);
	g_autofree char *prefix = g_strdup_printf("%s/tools/", cache);
	g_autofree char *root = g_build_filename(fx.tmp, "root", NULL);
	g_autofree char *rdump = g_strdup_printf("rdump / %s", root);
	g_autoptr(GPtrArray) files = NULL;
	struct vtb_tools a, b, d, e;
	GError *err = NULL;
	struct stat st;
	guint i;

	(void)state;
	if (!vtb_tools_get(cache, bins, NULL, &a, &err))
		fail_msg("cold build: %s", err->message);
	print_message("  cold build: %.3f s, %u files, %s\n", a.build_s,
		      a.files->len, a.image);
	assert_false(a.cache_hit);
	assert_int_equal(strlen(a.key), 32);
	assert_true(g_str_has_prefix(a.image, prefix));
	assert_true(g_str_has_suffix(a.image, ".ext2"));
	assert_string_equal(a.interp, "/lib64/ld-linux-x86-64.so.2");
	assert_int_equal(stat(a.image, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);

	files = vtb_tools_closure(bins, NULL, &err);
	assert_non_null(files);
	assert_int_equal(files->len, a.files->len);
	for (i = 0; i < files->len; i++) {
		const struct vtb_tool_file *f = files->pdata[i];
		g_autofree char *dir = g_path_get_dirname(f->dest);
		g_autofree char *base = g_path_get_basename(f->dest);
		g_autofree char *abs = g_strconcat("/", dir, NULL);
		g_autofree char *path = g_strconcat("/", f->dest, NULL);
		g_autoptr(GHashTable) ls = image_ls(a.image, abs);
		g_autoptr(GBytes) host = vtbt_read(f->src);
		g_autoptr(GBytes) img = image_cat(a.image, path);

		assert_string_equal(a.files->pdata[i], f->dest);
		assert_true(g_hash_table_contains(ls, base));
		assert_int_equal(
			GPOINTER_TO_SIZE(g_hash_table_lookup(ls, base)),
			g_bytes_get_size(host));
		assert_true(g_bytes_equal(host, img));
	}
	/* Nothing but the closure in /bin. */
	{
		g_autoptr(GHashTable) ls = image_ls(a.image, "/bin");

		assert_int_equal(g_hash_table_size(ls), 1);
	}
	/* The staging tree is gone: the image alone is left. */
	{
		g_autofree char *dir = g_path_get_dirname(a.image);
		GDir *gd = g_dir_open(dir, 0, NULL);
		guint n = 0;

		while (g_dir_read_name(gd))
			n++;
		g_dir_close(gd);
		assert_int_equal(n, 1);
	}
	/* Run it the agent's way, from a copy of the image's tree. */
	{
		const char *dump[] = {"debugfs", "-R", rdump, a.image, NULL};
		g_autofree char *ld = g_strconcat(root, a.interp, NULL);
		g_autofree char *lib = g_build_filename(root, "lib", NULL);
		g_autofree char *tar = g_build_filename(root, "bin/tar", NULL);
		const char *run[] = {ld,  "--library-path", lib,
				     tar, "--version",	    NULL};
		g_autoptr(GBytes) out = NULL;

		g_mkdir_with_parents(root, 0700);
		g_bytes_unref(run_quiet(dump));
		out = run_quiet(run);
		assert_non_null(out);
		assert_true(g_strstr_len(g_bytes_get_data(out, NULL),
					 g_bytes_get_size(out),
					 "GNU tar") != NULL);
	}

	if (!vtb_tools_get(cache, bins, NULL, &b, &err))
		fail_msg("cache hit: %s", err->message);
	print_message("  cache hit: %.4f s\n", b.build_s);
	assert_true(b.cache_hit);
	assert_string_equal(b.image, a.image);

	if (!vtb_tools_get(cache, bins, changed_dirs, &d, &err))
		fail_msg("changed libacl: %s", err->message);
	assert_false(d.cache_hit);
	assert_string_not_equal(d.key, a.key);
	if (!vtb_tools_get(cache, other, NULL, &e, &err))
		fail_msg("other tool: %s", err->message);
	assert_false(e.cache_hit);
	assert_string_not_equal(e.key, a.key);
	assert_true(g_file_test(a.image, G_FILE_TEST_IS_REGULAR));

	vtb_tools_clear(&a);
	vtb_tools_clear(&b);
	vtb_tools_clear(&d);
	vtb_tools_clear(&e);
	assert_null(a.image);
}

int main(void)
{
	GArray *tests = vtbt_tests();
	guint i;

	for (i = 0; i < G_N_ELEMENTS(closure_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("closure/%s", closure_cases[i].label);

		vtbt_add(tests, name, test_closure, &closure_cases[i]);
	}
	for (i = 0; i < G_N_ELEMENTS(err_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("error/%s", err_cases[i].label);

		vtbt_add(tests, name, test_error, &err_cases[i]);
	}
	vtbt_add(tests, "image/tar", test_image, NULL);
	return vtbt_run(tests, "tools", setup, teardown);
}
