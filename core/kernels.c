/* Where the kernels, modules and the guest agent are found by default. */
#include "core/kernels.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

char *vtb_kernel_in_dir(const char *opt, const char *path,
			const char *const *names, char **dir, GError **err)
{
	g_autoptr(GString) tried = g_string_new(NULL);

	*dir = NULL;
	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return g_strdup(path);
	for (int i = 0; names[i]; i++) {
		g_autofree char *f = g_build_filename(path, names[i], NULL);

		if (g_file_test(f, G_FILE_TEST_IS_REGULAR)) {
			*dir = g_strdup(path);
			return g_steal_pointer(&f);
		}
		g_string_append_printf(tried, "%s%s", i ? " or " : "",
				       names[i]);
	}
	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
		    "%s %s: a directory without a kernel (looked for %s in it)",
		    opt, path, tried->str);
	return NULL;
}

/* A git command's stdout (newly allocated), or NULL when git is missing,
 * fails or does not answer in time.  Output goes to a memfd, read after
 * the exit, so a long `status` cannot block on a pipe. */
static char *git_out(const char *dir, const char *const *args)
{
	const char *argv[12] = {"git", "--no-optional-locks", "-C", dir};
	struct vtb_child c = {0};
	g_autofree char *out = NULL;
	struct stat st;
	int fd, n = 4;

	for (int i = 0; args[i] && n < (int)G_N_ELEMENTS(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fd = memfd_create("vtbgit", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (!vtb_child_spawn(&c, argv, fd, NULL, 0, NULL, NULL)) {
		close(fd);
		return NULL;
	}
	if (!vtb_child_wait(&c, 5000)) {
		vtb_child_kill(&c);
		close(fd);
		return NULL;
	}
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) || fstat(fd, &st)) {
		close(fd);
		return NULL;
	}
	out = g_malloc0(st.st_size + 1);
	if (pread(fd, out, st.st_size, 0) != st.st_size) {
		close(fd);
		return NULL;
	}
	close(fd);
	return g_steal_pointer(&out);
}

void vtb_kernel_source(const char *dir, struct vtb_kernel_info *ki)
{
	const char *const head_args[] = {"rev-parse", "--verify", "HEAD", NULL};
	const char *const status_args[] = {"status", "--porcelain", NULL};
	g_autofree char *head = NULL, *status = NULL;

	g_autofree char *link = NULL;
	const char *tree;

	g_free(ki->build_dir);
	ki->build_dir = g_canonicalize_filename(dir, NULL);
	/* `make O=` (vtbench kernel build) links the tree it built from. */
	link = g_build_filename(ki->build_dir, "source", NULL);
	g_free(ki->source_dir);
	ki->source_dir = NULL;
	if (g_file_test(link, G_FILE_TEST_IS_SYMLINK) &&
	    g_file_test(link, G_FILE_TEST_IS_DIR))
		ki->source_dir = realpath(link, NULL);
	tree = ki->source_dir ? ki->source_dir : ki->build_dir;
	head = git_out(tree, head_args);
	if (!head)
		return;
	g_strstrip(head);
	if (strlen(head) < 40 ||
	    strspn(head, "0123456789abcdef") != strlen(head))
		return;
	status = git_out(tree, status_args);
	if (!status)
		return;
	g_free(ki->git_head);
	ki->git_head = g_steal_pointer(&head);
	ki->git_dirty = status[0] != '\0';
	ki->has_git = TRUE;
}
