/* Where the kernels, modules and the guest agent are found by default. */
#include "core/kernels.h"

#include <string.h>
#include <unistd.h>

#include "core/vtbench.h"

char *vtb_find_helper(const char *env_var, const char *subdir, const char *name,
		      const char *what, GError **err)
{
	const char *env = g_getenv(env_var);
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
	g_autofree char *installed =
		g_build_filename(VTB_PKGLIBEXECDIR, name, NULL);
	const char *cands[4] = {0};
	g_autofree char *c1 = NULL, *c2 = NULL;
	int n = 0;

	if (env && *env)
		cands[n++] = env;
	if (dir) {
		c1 = g_build_filename(dir, subdir, name, NULL);
		/* Unit tests run from tests/unit/<folder>/. */
		c2 = g_build_filename(dir, "..", "..", "..", subdir, name,
				      NULL);
		cands[n++] = c1;
		cands[n++] = c2;
	}
	cands[n++] = installed;
	for (int i = 0; i < n; i++)
		if (access(cands[i], R_OK) == 0)
			return g_canonicalize_filename(cands[i], NULL);
	g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
		    "%s not found (looked for %s): run make, or set %s", what,
		    cands[env && *env ? 1 : 0], env_var);
	return NULL;
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
