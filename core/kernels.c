/* Where the kernels, modules and the guest agent are found by default. */
#include "core/kernels.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/vtbench.h"

gboolean vtb_helper_trusted(const char *path, uid_t me, GError **err)
{
	g_autofree char *dir = g_path_get_dirname(path);
	const char *why = NULL;
	struct stat st, dst;

	if (stat(path, &st) < 0 || stat(dir, &dst) < 0)
		why = g_strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != 0 && st.st_uid != me)
		why = "owned by another user (neither root nor you)";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "writable by others";
	else if (dst.st_uid != 0 && dst.st_uid != me)
		why = "in a directory owned by another user";
	else if (dst.st_mode & (S_IWGRP | S_IWOTH))
		why = "in a directory writable by others";
	if (!why)
		return TRUE;
	g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE, "refusing %s: %s",
		    path, why);
	return FALSE;
}

char *vtb_find_helper(const char *env_var, const char *subdir, const char *name,
		      const char *what, GError **err)
{
	const char *env = g_getenv(env_var);
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *built =
		g_build_filename(VTB_BUILDDIR, subdir, name, NULL);
	g_autofree char *installed =
		g_build_filename(VTB_PKGLIBEXECDIR, name, NULL);
	g_autofree char *path = NULL;
	g_autoptr(GError) e = NULL;
	/* A program of the build tree (the tests' too) uses the build's
	 * helper; an installed one the installed helper: nowhere else. */
	bool in_tree = self && g_str_has_prefix(self, VTB_BUILDDIR "/");
	const char *cand = env && *env ? env : in_tree ? built : installed;

	if (access(cand, R_OK) < 0) {
		if (env && *env)
			g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
				    "%s not found: %s=%s: %s", what, env_var,
				    cand, g_strerror(errno));
		else
			g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
				    "%s not found (looked for %s): %s", what,
				    cand,
				    in_tree ? "run make"
					    : "reinstall vtbench, or set "
					      "its path in the environment");
		return NULL;
	}
	path = realpath(cand, NULL);
	if (!path || !vtb_helper_trusted(path, geteuid(), &e)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE, "%s: %s", what,
			    e ? e->message : g_strerror(errno));
		return NULL;
	}
	return g_steal_pointer(&path);
}

char *vtb_find_agent(GError **err)
{
	return vtb_find_helper("VTBENCH_AGENT", "agent", "vtbench-agent",
			       "guest agent", err);
}

const char *vtb_default_uml_kernel(void)
{
	return "/usr/bin/linux.uml";
}

char *vtb_default_uml_modules(const char *release)
{
	char *d = g_build_filename("/usr/lib/uml/modules", release, NULL);

	if (g_file_test(d, G_FILE_TEST_IS_DIR))
		return d;
	g_free(d);
	return NULL;
}

char *vtb_kvm_modules_for(const char *kernel, const char *release)
{
	g_autofree char *bootdir = g_path_get_dirname(kernel);
	g_autofree char *root = g_path_get_dirname(bootdir);
	g_autofree char *base = g_path_get_basename(bootdir);
	char *d;

	if (g_str_equal(base, "boot")) {
		d = g_build_filename(root, "lib", "modules", release, NULL);
		if (g_file_test(d, G_FILE_TEST_IS_DIR))
			return d;
		g_free(d);
	}
	d = g_build_filename("/lib/modules", release, NULL);
	if (g_file_test(d, G_FILE_TEST_IS_DIR))
		return d;
	g_free(d);
	return NULL;
}

/* Newest vmlinuz-* in @bootdir whose modules exist under @libroot. */
static void consider(const char *bootdir, const char *libroot, char **best,
		     char **best_rel, char **best_mod)
{
	g_autoptr(GDir) d = g_dir_open(bootdir, 0, NULL);
	const char *n;

	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *mods = NULL;
		const char *rel;

		if (!g_str_has_prefix(n, "vmlinuz-"))
			continue;
		rel = n + strlen("vmlinuz-");
		mods = g_build_filename(libroot, "lib", "modules", rel, NULL);
		if (!g_file_test(mods, G_FILE_TEST_IS_DIR))
			continue;
		if (*best_rel && strverscmp(rel, *best_rel) <= 0)
			continue;
		g_free(*best);
		g_free(*best_rel);
		g_free(*best_mod);
		*best = g_build_filename(bootdir, n, NULL);
		*best_rel = g_strdup(rel);
		*best_mod = g_steal_pointer(&mods);
	}
}

char *vtb_default_kvm_kernel(const char *cache_dir, char **modules)
{
	char *best = NULL, *mod = NULL;
	g_autofree char *rel = NULL;

	consider("/boot", "/", &best, &rel, &mod);
	if (!best && cache_dir) {
		g_autofree char *kdir =
			g_build_filename(cache_dir, "kernels", NULL);
		g_autoptr(GDir) d = g_dir_open(kdir, 0, NULL);
		const char *n;

		while (d && (n = g_dir_read_name(d))) {
			g_autofree char *root = g_build_filename(kdir, n, NULL);
			g_autofree char *boot =
				g_build_filename(root, "boot", NULL);

			consider(boot, root, &best, &rel, &mod);
		}
	}
	*modules = mod;
	return best;
}
