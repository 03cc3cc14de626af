/*
 * Helpers shared by the appliance unit tests: temp trees and real kernels.
 * Include after <cmocka.h>.
 */
#ifndef VTB_TESTUTIL_H
#define VTB_TESTUTIL_H

#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>

#include "appliance/appliance.h"

/* cmocka's skip(), with the reason on the test's output. */
#define VTBT_SKIP(...)                                                         \
	do {                                                                   \
		print_message("[  SKIP    ] ");                                \
		print_message(__VA_ARGS__);                                    \
		print_message("\n");                                           \
		skip();                                                        \
	} while (0)

/* Tests are built from case tables: one cmocka test per row. */
static inline void vtbt_add(GArray *tests, const char *name,
			    CMUnitTestFunction fn, const void *state)
{
	struct CMUnitTest t = {g_strdup(name), fn, NULL, NULL, (void *)state};

	g_array_append_val(tests, t);
}

static inline int vtbt_run(GArray *tests, const char *group,
			   CMFixtureFunction setup, CMFixtureFunction teardown)
{
	int rc = _cmocka_run_group_tests(group,
					 (const struct CMUnitTest *)tests->data,
					 tests->len, setup, teardown);
	guint i;

	for (i = 0; i < tests->len; i++)
		g_free((char *)g_array_index(tests, struct CMUnitTest, i).name);
	g_array_free(tests, TRUE);
	return rc;
}

static inline GArray *vtbt_tests(void)
{
	return g_array_new(FALSE, TRUE, sizeof(struct CMUnitTest));
}

static inline char *vtbt_tmpdir(void)
{
	GError *err = NULL;
	char *d = g_dir_make_tmp("vtbtest-XXXXXX", &err);

	if (!d)
		g_error("mkdtemp: %s", err->message);
	return d;
}

static inline int vtbt_rm_one(const char *path, const struct stat *st, int flag,
			      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void vtbt_rm_rf(const char *path)
{
	if (path)
		nftw(path, vtbt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void vtbt_write(const char *path, const void *data, gsize len)
{
	g_autofree char *dir = g_path_get_dirname(path);
	GError *err = NULL;

	g_mkdir_with_parents(dir, 0755);
	if (!g_file_set_contents(path, data, len, &err))
		g_error("write %s: %s", path, err->message);
}

static inline GBytes *vtbt_read(const char *path)
{
	GError *err = NULL;
	char *d;
	gsize len;

	if (!g_file_get_contents(path, &d, &len, &err))
		g_error("read %s: %s", path, err->message);
	return g_bytes_new_take(d, len);
}

/* Copy the first @len bytes of @src (all of it when @len is -1). */
static inline void vtbt_copy(const char *src, const char *dst, gssize len)
{
	g_autoptr(GBytes) b = vtbt_read(src);
	gsize n = g_bytes_get_size(b);

	vtbt_write(dst, g_bytes_get_data(b, NULL),
		   len < 0 ? n : MIN(n, (gsize)len));
}

/* Run @argv (no shell); its stdout when it exits 0, else NULL. */
static inline GBytes *vtbt_exec(const char *const *argv)
{
	GError *err = NULL;
	gboolean ok;
	GSubprocess *p =
		g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err);
	GBytes *b = NULL;

	if (!p) {
		g_clear_error(&err);
		return NULL;
	}
	if (!g_subprocess_communicate(p, NULL, NULL, &b, NULL, &err)) {
		g_clear_error(&err);
		g_object_unref(p);
		return NULL;
	}
	ok = g_subprocess_get_successful(p);
	g_object_unref(p);
	if (!ok) {
		g_bytes_unref(b);
		return NULL;
	}
	return b;
}

/* The UML kernel and its module tree ($VTB_UML_KERNEL/$VTB_UML_MODULES). */
struct vtbt_kernel {
	char *kernel;
	char *modules; /* NULL when not found */
	char *release; /* from vtb_kernel_identify() */
	char *why;     /* why not found */
};

static inline void vtbt_kernel_clear(struct vtbt_kernel *k)
{
	g_free(k->kernel);
	g_free(k->modules);
	g_free(k->release);
	g_free(k->why);
	memset(k, 0, sizeof(*k));
}

static inline gboolean vtbt_release_of(struct vtbt_kernel *k)
{
	struct vtb_kernel_info ki;
	GError *err = NULL;

	if (!vtb_kernel_identify(k->kernel, &ki, &err)) {
		k->why = g_strdup(err->message);
		g_error_free(err);
		return FALSE;
	}
	k->release = g_strdup(ki.release);
	vtb_kernel_info_clear(&ki);
	return TRUE;
}

static inline gboolean vtbt_find_uml(struct vtbt_kernel *k)
{
	const char *ek = g_getenv("VTB_UML_KERNEL");
	const char *em = g_getenv("VTB_UML_MODULES");

	memset(k, 0, sizeof(*k));
	k->kernel = g_strdup(ek ? ek : "/usr/bin/linux.uml");
	if (!g_file_test(k->kernel, G_FILE_TEST_IS_REGULAR)) {
		k->why = g_strdup_printf("no UML kernel at %s (set "
					 "VTB_UML_KERNEL)",
					 k->kernel);
		return FALSE;
	}
	if (!vtbt_release_of(k))
		return FALSE;
	k->modules =
		em ? g_strdup(em)
		   : g_strdup_printf("/usr/lib/uml/modules/%s", k->release);
	if (!g_file_test(k->modules, G_FILE_TEST_IS_DIR)) {
		k->why = g_strdup_printf("no UML modules at %s (set "
					 "VTB_UML_MODULES)",
					 k->modules);
		g_clear_pointer(&k->modules, g_free);
	}
	return TRUE;
}

/* <tree>/lib/modules/<release> for <tree>/boot/vmlinuz-*, else /lib/modules. */
static inline char *vtbt_modules_near(const char *kernel, const char *release)
{
	g_autofree char *bootdir = g_path_get_dirname(kernel);
	g_autofree char *tree = g_path_get_dirname(bootdir);
	char *cands[] = {
		g_build_filename(tree, "lib", "modules", release, NULL),
		g_build_filename("/lib/modules", release, NULL),
	};
	char *found = NULL;
	guint i;

	for (i = 0; i < G_N_ELEMENTS(cands); i++) {
		if (!found && g_file_test(cands[i], G_FILE_TEST_IS_DIR))
			found = g_strdup(cands[i]);
		g_free(cands[i]);
	}
	return found;
}

/* The user's home, even in a test that pointed $HOME at a temp dir. */
static inline const char *vtbt_home(void)
{
	const char *h = g_getenv("VTBT_REAL_HOME");

	return h ? h : g_get_home_dir();
}

/*
 * The KVM guest kernel (a bzImage) and its modules: $VTB_KVM_KERNEL and
 * $VTB_KVM_MODULES, else /boot/vmlinuz-*, else the trees the bootstrap
 * script unpacks under ~/.cache/vtbench/kernels/.
 */
static inline gboolean vtbt_find_kvm(struct vtbt_kernel *k)
{
	const char *ek = g_getenv("VTB_KVM_KERNEL");
	const char *em = g_getenv("VTB_KVM_MODULES");
	g_autofree char *pat = g_build_filename(
		vtbt_home(), ".cache/vtbench/kernels/*/boot/vmlinuz-*", NULL);
	const char *pats[] = {"/boot/vmlinuz-*", pat};
	guint i;

	memset(k, 0, sizeof(*k));
	if (ek && *ek) {
		k->kernel = g_strdup(ek);
	} else {
		for (i = 0; i < G_N_ELEMENTS(pats) && !k->kernel; i++) {
			glob_t g;

			if (glob(pats[i], 0, NULL, &g) == 0 && g.gl_pathc > 0)
				k->kernel =
					g_strdup(g.gl_pathv[g.gl_pathc - 1]);
			globfree(&g);
		}
	}
	if (!k->kernel || !g_file_test(k->kernel, G_FILE_TEST_IS_REGULAR)) {
		k->why = g_strdup_printf(
			"no KVM guest kernel (%s; set VTB_KVM_KERNEL and "
			"VTB_KVM_MODULES)",
			k->kernel ? k->kernel
				  : "no /boot/vmlinuz-*, none in "
				    "~/.cache/vtbench/kernels");
		return FALSE;
	}
	if (!vtbt_release_of(k))
		return FALSE;
	k->modules = em && *em ? g_strdup(em)
			       : vtbt_modules_near(k->kernel, k->release);
	if (!k->modules || !g_file_test(k->modules, G_FILE_TEST_IS_DIR)) {
		k->why = g_strdup_printf("no modules for %s (set "
					 "VTB_KVM_MODULES)",
					 k->kernel);
		g_clear_pointer(&k->modules, g_free);
	}
	return TRUE;
}

/* Path of module @name (file name without extension) under @dir, or NULL. */
static inline char *vtbt_find_ko(const char *dir, const char *name)
{
	g_autofree char *pat = g_strdup_printf("%s.ko", name);
	char *found = NULL;
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *e;

	while (d && !found && (e = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, e, NULL);

		if (strcmp(e, pat) == 0)
			found = g_steal_pointer(&p);
		else if (g_file_test(p, G_FILE_TEST_IS_DIR) &&
			 !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			found = vtbt_find_ko(p, name);
	}
	if (d)
		g_dir_close(d);
	return found;
}

#endif
