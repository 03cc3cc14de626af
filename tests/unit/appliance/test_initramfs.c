/* Unit tests: the appliance initramfs (read back with libarchive), cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "appliance/appliance.h"
#include "tests/unit/testutil.h"

enum mods {
	M_NONE,	      /* the agent alone */
	M_UML,	      /* a closure from the UML module tree */
	M_KVM,	      /* a closure from the guest kernel's tree */
	M_COMPRESSED, /* the UML (or guest) closure as .ko.xz/.zst/.gz */
};

static struct {
	char *tmp, *agent_a, *agent_b, *notelf;
	struct vtbt_kernel uml, kvm;
	GPtrArray *mods[4];  /* by enum mods; NULL when absent here */
	GPtrArray *plain[4]; /* char *: the uncompressed .ko of each module */
	char *why[4];
} fx;

static const char *const uml_names[] = {"virtio_console", "virtiofs",
					"virtio_blk", NULL};
static const char *const kvm_names[] = {"virtio_pci", "virtio_console",
					"virtio_blk", "virtiofs", NULL};

static GPtrArray *resolve(struct vtbt_kernel *k, const char *const *names,
			  char **why)
{
	GError *err = NULL;
	GPtrArray *m;

	if (!k->modules) {
		*why = g_strdup(k->why ? k->why : "no module tree");
		return NULL;
	}
	m = vtb_modules_resolve(k->modules, k->release, names, &err);
	if (!m) {
		*why = g_strdup(err->message);
		g_error_free(err);
	}
	return m;
}

static GPtrArray *paths_of(GPtrArray *mods)
{
	GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
	guint i;

	for (i = 0; i < mods->len; i++)
		g_ptr_array_add(
			p,
			g_strdup(((struct vtb_module *)mods->pdata[i])->path));
	return p;
}

static void module_free(gpointer p)
{
	struct vtb_module *m = p;

	g_free(m->name);
	g_free(m->path);
	g_free(m);
}

/* The same modules, compressed with the xz, zstd and gzip commands. */
static GPtrArray *compressed_copy(GPtrArray *src, char **why)
{
	static const char *const tools[] = {"xz", "zstd", "gzip"};
	static const char *const exts[] = {"xz", "zst", "gz"};
	GPtrArray *out = g_ptr_array_new_with_free_func(module_free);
	guint i;

	for (i = 0; i < src->len; i++) {
		const struct vtb_module *s = src->pdata[i];
		const char *argv[] = {tools[i % 3], "-c", s->path, NULL};
		g_autoptr(GBytes) z = vtbt_exec(argv);
		struct vtb_module *m;

		if (!z) {
			*why = g_strdup_printf("cannot run %s", tools[i % 3]);
			g_ptr_array_unref(out);
			return NULL;
		}
		m = g_new0(struct vtb_module, 1);
		m->name = g_strdup(s->name);
		m->path = g_strdup_printf("%s/z/%s.ko.%s", fx.tmp, s->name,
					  exts[i % 3]);
		vtbt_write(m->path, g_bytes_get_data(z, NULL),
			   g_bytes_get_size(z));
		g_ptr_array_add(out, m);
	}
	return out;
}

static int setup(void **state)
{
	static const char agent_a[] = "\177ELF pretend agent A\n";
	static const char agent_b[] = "\177ELF pretend agent B\n";
	GPtrArray *src;

	fx.agent_a = g_build_filename(fx.tmp, "agent-a", NULL);
	fx.agent_b = g_build_filename(fx.tmp, "agent-b", NULL);
	fx.notelf = g_build_filename(fx.tmp, "notelf.ko", NULL);
	vtbt_write(fx.agent_a, agent_a, sizeof(agent_a) - 1);
	vtbt_write(fx.agent_b, agent_b, sizeof(agent_b) - 1);
	vtbt_write(fx.notelf, "not ELF\n", 8);

	fx.mods[M_NONE] = g_ptr_array_new();
	fx.plain[M_NONE] = g_ptr_array_new();
	if (!vtbt_find_uml(&fx.uml))
		fx.why[M_UML] = g_strdup(fx.uml.why);
	else
		fx.mods[M_UML] = resolve(&fx.uml, uml_names, &fx.why[M_UML]);
	if (!vtbt_find_kvm(&fx.kvm))
		fx.why[M_KVM] = g_strdup(fx.kvm.why);
	else
		fx.mods[M_KVM] = resolve(&fx.kvm, kvm_names, &fx.why[M_KVM]);
	if (fx.mods[M_UML])
		fx.plain[M_UML] = paths_of(fx.mods[M_UML]);
	if (fx.mods[M_KVM])
		fx.plain[M_KVM] = paths_of(fx.mods[M_KVM]);

	src = fx.mods[M_UML] ? fx.mods[M_UML] : fx.mods[M_KVM];
	if (src) {
		fx.mods[M_COMPRESSED] =
			compressed_copy(src, &fx.why[M_COMPRESSED]);
		fx.plain[M_COMPRESSED] = paths_of(src);
	} else {
		fx.why[M_COMPRESSED] = g_strdup("no real module tree");
	}
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	guint i;

	for (i = 0; i < G_N_ELEMENTS(fx.mods); i++) {
		if (fx.mods[i])
			g_ptr_array_unref(fx.mods[i]);
		if (fx.plain[i])
			g_ptr_array_unref(fx.plain[i]);
		g_free(fx.why[i]);
	}
	vtbt_kernel_clear(&fx.uml);
	vtbt_kernel_clear(&fx.kvm);
	g_free(fx.agent_a);
	g_free(fx.agent_b);
	g_free(fx.notelf);
	return 0;
}

struct entry {
	const char *name;
	mode_t type, perm;
};

static const struct entry fixed[] = {
	{"dev", AE_IFDIR, 0755},	 {"proc", AE_IFDIR, 0755},
	{"sys", AE_IFDIR, 0755},	 {"vtb", AE_IFDIR, 0755},
	{"vtb/modules", AE_IFDIR, 0755}, {"dev/console", AE_IFCHR, 0600},
	{"init", AE_IFREG, 0755},
};

static GBytes *read_data(struct archive *ar, la_int64_t size)
{
	guint8 *buf = g_malloc(size ? size : 1);
	la_ssize_t n = archive_read_data(ar, buf, size);

	assert_int_equal(n, size);
	return g_bytes_new_take(buf, size);
}

/* Read @initrd back and check every entry against the inputs. */
static void check_archive(const char *initrd, const char *agent,
			  GPtrArray *mods, GPtrArray *plain)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *ae;
	guint i = 0, nfixed = G_N_ELEMENTS(fixed);

	archive_read_support_format_cpio(ar);
	assert_int_equal(archive_read_open_filename(ar, initrd, 1 << 16),
			 ARCHIVE_OK);
	while (archive_read_next_header(ar, &ae) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);
		g_autoptr(GBytes) data = NULL;

		if (i == 0)
			assert_int_equal(archive_format(ar),
					 ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);
		assert_int_equal(archive_entry_uid(ae), 0);
		assert_int_equal(archive_entry_gid(ae), 0);
		if (i < nfixed) {
			assert_string_equal(name, fixed[i].name);
			assert_int_equal(archive_entry_filetype(ae),
					 fixed[i].type);
			assert_int_equal(archive_entry_perm(ae), fixed[i].perm);
		}
		if (strcmp(name, "dev/console") == 0) {
			assert_int_equal(archive_entry_rdevmajor(ae), 5);
			assert_int_equal(archive_entry_rdevminor(ae), 1);
		}
		if (archive_entry_filetype(ae) == AE_IFREG)
			data = read_data(ar, archive_entry_size(ae));
		if (strcmp(name, "init") == 0) {
			g_autoptr(GBytes) want = vtbt_read(agent);

			assert_true(g_bytes_equal(data, want));
		}
		if (i >= nfixed) {
			guint k = i - nfixed;
			const struct vtb_module *m;
			g_autofree char *want_name = NULL;
			g_autoptr(GBytes) want = NULL;

			assert_true(k < mods->len);
			m = mods->pdata[k];
			want_name = g_strdup_printf("vtb/modules/%02u-%s.ko", k,
						    m->name);
			assert_string_equal(name, want_name);
			assert_int_equal(archive_entry_filetype(ae), AE_IFREG);
			assert_int_equal(archive_entry_perm(ae), 0644);
			want = vtbt_read(plain->pdata[k]);
			assert_memory_equal(g_bytes_get_data(data, NULL),
					    "\177ELF", 4);
			assert_true(g_bytes_equal(data, want));
		}
		i++;
	}
	assert_int_equal(i, nfixed + mods->len);
	archive_read_free(ar);
}

struct build_case {
	const char *label;
	enum mods mods;
};

static const struct build_case build_cases[] = {
	{"agent-only", M_NONE},
	{"uml-closure", M_UML},
	{"kvm-closure", M_KVM},
	{"compressed-modules", M_COMPRESSED},
};

/* Cold build, read back, then a hit; then another agent, another key. */
static void test_build(void **state)
{
	const struct build_case *c = *state;
	g_autofree char *cache =
		g_strdup_printf("%s/cache-%s", fx.tmp, c->label);
	g_autofree char *prefix = g_strdup_printf("%s/appliance/", cache);
	GPtrArray *mods = fx.mods[c->mods];
	struct vtb_appliance a, b, d;
	GError *err = NULL;
	guint i;

	if (!mods)
		VTBT_SKIP("%s", fx.why[c->mods]);
	if (!vtb_appliance_get(cache, fx.agent_a, mods, &a, &err))
		fail_msg("cold build: %s", err->message);
	print_message("  cold build: %.3f s, %u modules, %s\n", a.build_s,
		      mods->len, a.initrd);
	assert_false(a.cache_hit);
	assert_int_equal(strlen(a.key), 32);
	assert_int_equal(strspn(a.key, "0123456789abcdef"), 32);
	assert_true(g_str_has_prefix(a.initrd, prefix));
	assert_true(g_str_has_suffix(a.initrd, ".cpio"));
	assert_non_null(strstr(a.initrd, a.key));
	assert_int_equal(a.modules->len, mods->len);
	for (i = 0; i < mods->len; i++)
		assert_string_equal(
			a.modules->pdata[i],
			((struct vtb_module *)mods->pdata[i])->name);
	check_archive(a.initrd, fx.agent_a, mods, fx.plain[c->mods]);

	if (!vtb_appliance_get(cache, fx.agent_a, mods, &b, &err))
		fail_msg("cache hit: %s", err->message);
	print_message("  cache hit: %.4f s\n", b.build_s);
	assert_true(b.cache_hit);
	assert_string_equal(b.initrd, a.initrd);
	assert_string_equal(b.key, a.key);
	/* Timing is reported by vtbench run, never asserted here. */
	assert_true(b.build_s >= 0);

	if (!vtb_appliance_get(cache, fx.agent_b, mods, &d, &err))
		fail_msg("other agent: %s", err->message);
	assert_false(d.cache_hit);
	assert_string_not_equal(d.key, a.key);
	assert_string_not_equal(d.initrd, a.initrd);
	assert_true(g_file_test(a.initrd, G_FILE_TEST_IS_REGULAR));
	check_archive(d.initrd, fx.agent_b, mods, fx.plain[c->mods]);

	vtb_appliance_clear(&a);
	vtb_appliance_clear(&b);
	vtb_appliance_clear(&d);
	assert_null(a.initrd);
	assert_null(a.modules);
}

/* Different module sets, and the same set in another order, differ. */
static void test_key_covers_modules(void **state)
{
	GPtrArray *mods = fx.mods[M_UML] ? fx.mods[M_UML] : fx.mods[M_KVM];
	g_autofree char *cache = g_build_filename(fx.tmp, "cache-key", NULL);
	g_autoptr(GPtrArray) fewer = NULL, swapped = NULL;
	struct vtb_appliance all, f, s;
	GError *err = NULL;

	if (!mods || mods->len < 2)
		VTBT_SKIP("no real module closure of two or more modules");
	fewer = g_ptr_array_new();
	g_ptr_array_add(fewer, mods->pdata[0]);
	swapped = g_ptr_array_new();
	g_ptr_array_add(swapped, mods->pdata[1]);
	g_ptr_array_add(swapped, mods->pdata[0]);
	if (!vtb_appliance_get(cache, fx.agent_a, mods, &all, &err) ||
	    !vtb_appliance_get(cache, fx.agent_a, fewer, &f, &err) ||
	    !vtb_appliance_get(cache, fx.agent_a, swapped, &s, &err))
		fail_msg("build: %s", err->message);
	assert_string_not_equal(all.key, f.key);
	assert_string_not_equal(f.key, s.key);
	assert_false(f.cache_hit);
	assert_false(s.cache_hit);
	vtb_appliance_clear(&all);
	vtb_appliance_clear(&f);
	vtb_appliance_clear(&s);
}

enum bad {
	B_NO_AGENT,
	B_NO_MODULE,
	B_NOT_ELF,
	B_CACHE_IS_FILE,
};

struct err_case {
	const char *label;
	enum bad bad;
	int code;
	const char *msg;
};

static const struct err_case err_cases[] = {
	{"missing-agent", B_NO_AGENT, VTB_APPLIANCE_ERR_IO,
	 "/no-agent: No such file or directory"},
	{"missing-module", B_NO_MODULE, VTB_APPLIANCE_ERR_IO,
	 "/gone.ko: No such file or directory"},
	{"module-not-elf", B_NOT_ELF, VTB_APPLIANCE_ERR_MODULE,
	 "notelf.ko: not a kernel module (not ELF)"},
	{"cache-dir-is-a-file", B_CACHE_IS_FILE, VTB_APPLIANCE_ERR_IO,
	 "agent-a/appliance: Not a directory"},
};

static void test_error(void **state)
{
	const struct err_case *c = *state;
	g_autofree char *cache =
		g_strdup_printf("%s/cache-%s", fx.tmp, c->label);
	g_autofree char *agent = g_strdup(fx.agent_a);
	g_autoptr(GPtrArray) mods = g_ptr_array_new();
	struct vtb_module m = {"bad", NULL};
	g_autofree char *gone = g_build_filename(fx.tmp, "gone.ko", NULL);
	struct vtb_appliance a;
	GError *err = NULL;

	switch (c->bad) {
	case B_NO_AGENT:
		g_free(agent);
		agent = g_build_filename(fx.tmp, "no-agent", NULL);
		break;
	case B_NO_MODULE:
		m.path = gone;
		g_ptr_array_add(mods, &m);
		break;
	case B_NOT_ELF:
		m.path = fx.notelf;
		g_ptr_array_add(mods, &m);
		break;
	case B_CACHE_IS_FILE:
		g_free(cache);
		cache = g_strdup(fx.agent_a);
		break;
	}
	assert_false(vtb_appliance_get(cache, agent, mods, &a, &err));
	print_message("  error: %s\n", err->message);
	assert_true(g_error_matches(err, VTB_APPLIANCE_ERROR, c->code));
	assert_non_null(strstr(err->message, c->msg));
	assert_null(a.initrd);
	assert_null(a.key);
	assert_null(a.modules);
	g_error_free(err);
	if (c->bad == B_NOT_ELF) {
		g_autofree char *dir =
			g_build_filename(cache, "appliance", NULL);
		GDir *d = g_dir_open(dir, 0, NULL);

		/* No temp file left behind. */
		assert_non_null(d);
		assert_null(g_dir_read_name(d));
		g_dir_close(d);
	}
}

struct dir_case {
	const char *label;
	const char *vtbench, *xdg; /* NULL: unset */
	const char *want;	   /* under fx.tmp */
};

static const struct dir_case dir_cases[] = {
	{"VTBENCH_CACHE_DIR", "v/cache", "x", "v/cache"},
	{"XDG_CACHE_HOME", NULL, "x", "x/vtbench"},
	{"empty-VTBENCH_CACHE_DIR", "", "x2", "x2/vtbench"},
	{"relative-XDG_CACHE_HOME", NULL, "relative", "home/.cache/vtbench"},
	{"home", NULL, NULL, "home/.cache/vtbench"},
};

/* $HOME points into fx.tmp (see main): nothing lands in the real home. */
static void test_cache_dir(void **state)
{
	const struct dir_case *c = *state;
	g_autofree char *want = g_build_filename(fx.tmp, c->want, NULL);
	g_autofree char *v =
		c->vtbench && *c->vtbench
			? g_build_filename(fx.tmp, c->vtbench, NULL)
			: g_strdup(c->vtbench);
	g_autofree char *x = c->xdg && strcmp(c->xdg, "relative") != 0
				     ? g_build_filename(fx.tmp, c->xdg, NULL)
				     : g_strdup(c->xdg);
	g_autofree char *got = NULL;
	GError *err = NULL;
	struct stat st;

	if (v)
		g_setenv("VTBENCH_CACHE_DIR", v, TRUE);
	else
		g_unsetenv("VTBENCH_CACHE_DIR");
	if (x)
		g_setenv("XDG_CACHE_HOME", x, TRUE);
	else
		g_unsetenv("XDG_CACHE_HOME");
	got = vtb_cache_dir(&err);
	if (!got)
		fail_msg("cache dir: %s", err->message);
	assert_string_equal(got, want);
	assert_int_equal(stat(got, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	g_unsetenv("VTBENCH_CACHE_DIR");
	g_unsetenv("XDG_CACHE_HOME");
}

int main(void)
{
	g_autofree char *home = NULL;
	GArray *t = vtbt_tests();
	guint i;
	int rc;

	/* Before GLib caches the home directory: tests must not touch it. */
	fx.tmp = vtbt_tmpdir();
	if (g_getenv("HOME"))
		g_setenv("VTBT_REAL_HOME", g_getenv("HOME"), FALSE);
	home = g_build_filename(fx.tmp, "home", NULL);
	g_setenv("HOME", home, TRUE);

	for (i = 0; i < G_N_ELEMENTS(build_cases); i++) {
		g_autofree char *n =
			g_strdup_printf("build/%s", build_cases[i].label);

		vtbt_add(t, n, test_build, &build_cases[i]);
	}
	vtbt_add(t, "key-covers-modules", test_key_covers_modules, NULL);
	for (i = 0; i < G_N_ELEMENTS(err_cases); i++) {
		g_autofree char *n =
			g_strdup_printf("error/%s", err_cases[i].label);

		vtbt_add(t, n, test_error, &err_cases[i]);
	}
	for (i = 0; i < G_N_ELEMENTS(dir_cases); i++) {
		g_autofree char *n =
			g_strdup_printf("cache-dir/%s", dir_cases[i].label);

		vtbt_add(t, n, test_cache_dir, &dir_cases[i]);
	}
	rc = vtbt_run(t, "initramfs", setup, teardown);
	vtbt_rm_rf(fx.tmp);
	g_free(fx.tmp);
	return rc;
}
