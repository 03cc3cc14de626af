/*
 * `vtbench kernel build`: configure a kernel tree out of place (make O=
 * in vtbench's cache; kbuild writes nothing into the source then) from a
 * small base config plus `vtbench kernel config`'s fragment, check that
 * nothing of the fragment was dropped, build it with the host's cores and
 * install its modules beside it.  A completed build is stamped and found
 * again by its key: the tree's content, the arch, the base config, the
 * fragment and the compiler.
 */
#include "run/kbuild.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <glib/gstdio.h>

#include "core/kconfig.h"
#include "core/proc.h"
#include "core/registry.h"
#include "core/vtbench.h"

/* How each arch is configured.  x86_64: tinyconfig plus the kernel's own
 * kvm_guest.config (PVH, virtio-pci, the 8250) is the smallest base that
 * boots under QEMU; defconfig builds ~5 times as many objects. */
struct karch {
	const char *arch;	  /* as --arch takes it, and make's ARCH= */
	const char *base;	  /* make target of the base config */
	const char *extra;	  /* a fragment of the tree, or NULL */
	const char *tree_kconfig; /* what makes SRC a tree of this arch */
	const char *kernel;	  /* the kernel, relative to O= */
};

static const struct karch karches[] = {
	{"um", "defconfig", NULL, "arch/um/Kconfig", "linux"},
	{"x86_64", "tinyconfig", "kernel/configs/kvm_guest.config",
	 "arch/x86/Kconfig", "vmlinux"},
};

static const struct karch *karch_of(const char *arch)
{
	for (size_t i = 0; i < G_N_ELEMENTS(karches); i++)
		if (strcmp(karches[i].arch, arch) == 0)
			return &karches[i];
	return NULL;
}

static void add_field(GChecksum *ck, const char *s)
{
	guint64 n = strlen(s);

	g_checksum_update(ck, (const guchar *)&n, sizeof(n));
	g_checksum_update(ck, (const guchar *)s, n);
}

char *vtb_kbuild_key(const char *tree_id, const char *arch, const char *recipe,
		     const char *fragment, const char *cc)
{
	g_autoptr(GChecksum) ck = g_checksum_new(G_CHECKSUM_SHA256);

	add_field(ck, "vtbench kbuild 1");
	add_field(ck, tree_id);
	add_field(ck, arch);
	add_field(ck, recipe);
	add_field(ck, fragment);
	add_field(ck, cc);
	return g_strndup(g_checksum_get_string(ck), 16);
}

/* The first line of [@p, @end) containing @needle, or NULL. */
static const char *line_with(const char *p, const char *end, const char *needle,
			     const char **eol)
{
	size_t nl = strlen(needle);

	while (p < end) {
		const char *e = memchr(p, '\n', end - p);

		if (!e)
			e = end;
		for (const char *q = p; q + nl <= e; q++)
			if (memcmp(q, needle, nl) == 0) {
				*eol = e;
				return p;
			}
		p = e + 1;
	}
	return NULL;
}

char *vtb_kbuild_first_error(const char *log, gsize len)
{
	const char *end = log + len, *eol = NULL;
	const char *l = line_with(log, end, "error:", &eol);
	g_autofree char *s = NULL;

	if (!l)
		l = line_with(log, end, "Error", &eol);
	if (!l) /* make's own: "make: *** No rule to make target ..." */
		l = line_with(log, end, "*** ", &eol);
	if (!l)
		return NULL;
	s = g_strndup(l, MIN((gsize)(eol - l), 300));
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < ' ' && *c != '\t')
			*c = ' ';
	g_strstrip(s);
	return g_steal_pointer(&s);
}

/* Plain CONFIG_X=v lines of @frag, as kconfig reads them. */
static char *fragment_text(const GArray *frag)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < frag->len; i++) {
		const struct vtb_kconfig_line *l =
			&g_array_index(frag, struct vtb_kconfig_line, i);

		g_string_append_printf(s, "CONFIG_%s=%c\n", l->symbol,
				       l->value);
	}
	return g_string_free(s, FALSE);
}

/* --- children --- */

/*
 * Run @argv (@cwd is never needed: every path is absolute) with its
 * output to a memfd and return that output (stdout and stderr), or NULL
 * when it could not run, failed or did not finish in @timeout_ms.
 */
static char *capture(const char *const *argv, int timeout_ms, gsize *len)
{
	struct vtb_child c = {0};
	const char *const env[] = {"LC_ALL=C", NULL};
	g_autofree char *out = NULL;
	struct stat st;
	int fd = memfd_create("vtbkb", MFD_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!vtb_child_spawn(&c, argv, fd, NULL, 0, env, NULL)) {
		close(fd);
		return NULL;
	}
	if (!vtb_child_wait(&c, timeout_ms)) {
		vtb_child_kill(&c);
		close(fd);
		return NULL;
	}
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) || fstat(fd, &st)) {
		close(fd);
		return NULL;
	}
	out = g_malloc0(st.st_size + 1);
	if (st.st_size && pread(fd, out, st.st_size, 0) != st.st_size) {
		close(fd);
		return NULL;
	}
	close(fd);
	if (len)
		*len = st.st_size;
	return g_steal_pointer(&out);
}

/* Hash the file @path's bytes into @st; FALSE with errno. */
static gboolean hash_file(XXH3_state_t *st, int dirfd, const char *path)
{
	char buf[1 << 16];
	ssize_t n;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return FALSE;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		XXH3_128bits_update(st, buf, n);
	close(fd);
	return n == 0;
}

static gint cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry under @fd (relative path @rel), sorted, into @st: name,
 * kind, and a file's bytes or a link's target. */
static gboolean hash_dir(XXH3_state_t *st, int fd, const char *rel,
			 GError **err)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		close(fd);
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE, "open %s: %s", rel,
			    g_strerror(errno));
		return FALSE;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			g_ptr_array_add(names, g_strdup(de->d_name));
	g_ptr_array_sort(names, cmp_names);
	for (guint i = 0; i < names->len; i++) {
		const char *n = names->pdata[i];
		g_autofree char *path = g_build_filename(rel, n, NULL);
		struct stat sb;

		if (vtb_interrupted()) {
			closedir(d);
			g_set_error(err, VTB_ERROR, VTB_ERR_INTERRUPTED,
				    "interrupted");
			return FALSE;
		}
		if (fstatat(dirfd(d), n, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		XXH3_128bits_update(st, path, strlen(path) + 1);
		if (S_ISDIR(sb.st_mode)) {
			int sub = openat(dirfd(d), n,
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			XXH3_128bits_update(st, "d", 1);
			if (sub < 0 || !hash_dir(st, sub, path, err)) {
				closedir(d);
				if (sub < 0)
					g_set_error(err, VTB_ERROR,
						    VTB_ERR_USAGE,
						    "open %s: %s", path,
						    g_strerror(errno));
				return FALSE;
			}
		} else if (S_ISLNK(sb.st_mode)) {
			char t[4096];
			ssize_t k = readlinkat(dirfd(d), n, t, sizeof(t));

			XXH3_128bits_update(st, "l", 1);
			if (k > 0)
				XXH3_128bits_update(st, t, k);
		} else if (S_ISREG(sb.st_mode)) {
			XXH3_128bits_update(st, (sb.st_mode & 0111) ? "x" : "f",
					    1);
			if (!hash_file(st, dirfd(d), n)) {
				int e = errno;

				closedir(d);
				g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
					    "read %s: %s", path, g_strerror(e));
				return FALSE;
			}
		}
	}
	closedir(d);
	return TRUE;
}

static char *hex128(XXH3_state_t *st)
{
	XXH128_hash_t h = XXH3_128bits_digest(st);

	return g_strdup_printf("%016llx%016llx", (unsigned long long)h.high64,
			       (unsigned long long)h.low64);
}

/*
 * What the tree is: "git:HEAD" for a clean git work tree,
 * "git:HEAD+HASH" with the hash of `git diff HEAD` and the untracked
 * files (names and bytes) when it is not clean, else "tree:HASH" of
 * every file under @src.  Set *@git when it is a git tree.
 */
static char *tree_id(const char *src, bool *git, GError **err)
{
	const char *const head_argv[] = {"git",	     "-C", src,	   "rev-parse",
					 "--verify", "-q", "HEAD", NULL};
	const char *const diff_argv[] = {"git",	     "--no-optional-locks",
					 "-C",	     src,
					 "diff",     "HEAD",
					 "--binary", NULL};
	const char *const untracked_argv[] = {
		"git",	    "--no-optional-locks", "-C", src, "ls-files", "-z",
		"--others", "--exclude-standard",  NULL};
	g_autofree char *head = capture(head_argv, 10000, NULL);
	XXH3_state_t *st = XXH3_createState();
	g_autofree char *hash = NULL;
	char *id = NULL;

	XXH3_128bits_reset(st);
	*git = false;
	if (head && strlen(g_strstrip(head)) >= 40) {
		gsize dlen = 0, ulen = 0;
		/* A deadline a large tree's status meets: a kernel tree's
		 * `git diff HEAD` takes ~2 s here when warm. */
		g_autofree char *diff = capture(diff_argv, 300000, &dlen);
		g_autofree char *untracked =
			capture(untracked_argv, 300000, &ulen);
		int sfd;

		if (!diff || !untracked) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "%s: git diff HEAD or git ls-files failed "
				    "(or took over 5 min)",
				    src);
			goto out;
		}
		*git = true;
		if (!dlen && !ulen) {
			id = g_strdup_printf("git:%s", head);
			goto out;
		}
		XXH3_128bits_update(st, diff, dlen);
		sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		for (const char *p = untracked;
		     sfd >= 0 && p < untracked + ulen; p += strlen(p) + 1) {
			XXH3_128bits_update(st, p, strlen(p) + 1);
			hash_file(st, sfd, p); /* unreadable: its name only */
		}
		if (sfd >= 0)
			close(sfd);
		hash = hex128(st);
		id = g_strdup_printf("git:%s+%s", head, hash);
		goto out;
	} else {
		int fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "open %s: %s", src, g_strerror(errno));
			goto out;
		}
		if (!hash_dir(st, fd, ".", err))
			goto out;
		hash = hex128(st);
		id = g_strdup_printf("tree:%s", hash);
	}
out:
	XXH3_freeState(st);
	return id;
}

/* --- progress --- */

struct kprog {
	const char *arch;
	const char *phase;
	gint64 t0_us;
	bool tty, quiet, drawn;
};

static void fmt_elapsed(char *buf, size_t n, double s)
{
	int t = (int)s;

	if (t >= 60)
		snprintf(buf, n, "%dm%02ds", t / 60, t % 60);
	else
		snprintf(buf, n, "%.1fs", s);
}

static double since(const struct kprog *p)
{
	return (g_get_monotonic_time() - p->t0_us) / 1e6;
}

static void prog_draw(struct kprog *p)
{
	char el[32];

	if (p->quiet || !p->tty)
		return;
	fmt_elapsed(el, sizeof(el), since(p));
	fprintf(stderr, "\r\033[Kvtbench: kernel build %s: %s, %s", p->arch,
		p->phase, el);
	fflush(stderr);
	p->drawn = true;
}

static void prog_phase(struct kprog *p, const char *phase)
{
	char el[32];

	p->phase = phase;
	if (p->quiet)
		return;
	if (p->tty) {
		prog_draw(p);
		return;
	}
	fmt_elapsed(el, sizeof(el), since(p));
	fprintf(stderr, "vtbench: kernel build %s: %s (at %s)\n", p->arch,
		phase, el);
}

static void prog_end(struct kprog *p)
{
	if (p->drawn)
		fprintf(stderr, "\r\033[K");
	p->drawn = false;
}

/* --- the build --- */

struct kctx {
	const struct vtb_kbuild_req *req;
	const struct karch *ka;
	struct vtb_kbuild *b;
	struct kprog prog;
	int log_fd;
	gint64 deadline_us;
};

static void log_line(struct kctx *k, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void log_line(struct kctx *k, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *s = NULL;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (write(k->log_fd, s, strlen(s)) < 0) {
		/* the log is for the reader; the build goes on */
	}
}

/* The failed step's one line: the first error line of the log. */
static void build_failed(struct kctx *k, const char *step,
			 const struct vtb_child *c, GError **err)
{
	g_autofree char *status = vtb_child_describe_status(c);
	g_autofree char *text = NULL;
	g_autofree char *first = NULL;
	gsize len = 0;

	if (g_file_get_contents(k->b->log, &text, &len, NULL))
		first = vtb_kbuild_first_error(text, len);
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
		    "%s failed (ARCH=%s): %s (log: %s)", step, k->ka->arch,
		    first ? first : status, k->b->log);
}

/* make -C SRC O=OBJ ARCH=... @targets..., output to the log, waited for
 * with progress and the build's deadline. */
static gboolean make(struct kctx *k, const char *step, const char *const *extra,
		     GError **err)
{
	/* The outer make's jobserver (make check) is not ours: its fds are
	 * closed in the child, and make would fall back to -j1. */
	g_autofree char *tmp = g_strdup_printf("TMPDIR=%s/tmp", k->b->dir);
	const char *const env[] = {
		"MAKEFLAGS=", "MFLAGS=", "MAKELEVEL=", "LC_ALL=C",
		/* Kbuild unexports LC_ALL: these keep the compiler's quotes
		 * ASCII and its messages English (the first error line). */
		"LANG=C", "LC_CTYPE=C", "LC_MESSAGES=C", tmp, NULL};
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *cmd = NULL;
	struct vtb_child c = {0};
	bool timed_out = false;

	g_ptr_array_add(argv, g_strdup("make"));
	g_ptr_array_add(argv, g_strdup("-C"));
	g_ptr_array_add(argv, g_strdup(k->req->src));
	g_ptr_array_add(argv, g_strdup_printf("O=%s", k->b->obj));
	g_ptr_array_add(argv, g_strdup_printf("ARCH=%s", k->ka->arch));
	for (int i = 0; extra[i]; i++)
		g_ptr_array_add(argv, g_strdup(extra[i]));
	g_ptr_array_add(argv, NULL);
	cmd = g_strjoinv(" ", (char **)argv->pdata);
	log_line(k, "### vtbench: %s: %s\n", step, cmd);
	if (!vtb_child_spawn(&c, (const char *const *)argv->pdata, k->log_fd,
			     NULL, 0, env, err)) {
		g_prefix_error(err, "%s: ", step);
		return FALSE;
	}
	for (;;) {
		gint64 left = k->deadline_us - g_get_monotonic_time();

		if (vtb_child_wait(&c, (int)CLAMP(left / 1000, 0, 1000)))
			break;
		prog_draw(&k->prog);
		if (vtb_interrupted() || left <= 0) {
			timed_out = !vtb_interrupted();
			vtb_child_kill(&c);
			break;
		}
	}
	if (vtb_interrupted()) {
		g_set_error(err, VTB_ERROR, VTB_ERR_INTERRUPTED,
			    "%s: interrupted (make's processes killed)", step);
		return FALSE;
	}
	if (timed_out) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "%s (ARCH=%s): no end within the deadline of %.0f "
			    "s, killed (log: %s)",
			    step, k->ka->arch, k->req->timeout_s, k->b->log);
		return FALSE;
	}
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status)) {
		build_failed(k, step, &c, err);
		return FALSE;
	}
	return TRUE;
}

/* Is @src a kernel tree of @ka, and one kbuild can build out of place? */
static gboolean check_tree(const char *src, const struct karch *ka,
			   GError **err)
{
	const char *const need[] = {"Makefile", "Kconfig",
				    "scripts/kconfig/Makefile",
				    ka->tree_kconfig, NULL};
	const char *const in_place[] = {".config", "include/config", NULL};

	if (!g_file_test(src, G_FILE_TEST_IS_DIR)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "%s: not a directory", src);
		return FALSE;
	}
	for (int i = 0; need[i]; i++) {
		g_autofree char *p = g_build_filename(src, need[i], NULL);

		if (!g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "%s: not a kernel source tree (no %s in "
				    "it)",
				    src, need[i]);
			return FALSE;
		}
	}
	for (int i = 0; in_place[i]; i++) {
		g_autofree char *p = g_build_filename(src, in_place[i], NULL);

		if (g_file_test(p, G_FILE_TEST_EXISTS)) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "%s has been configured in place (%s): "
				    "kbuild builds out of place (O=) only from "
				    "a clean tree; `make mrproper` in it "
				    "removes that",
				    src, in_place[i]);
			return FALSE;
		}
	}
	return TRUE;
}

static char *read_trimmed(const char *path)
{
	char *s = NULL;

	if (!g_file_get_contents(path, &s, NULL, NULL))
		return NULL;
	return g_strstrip(s);
}

/* A completed build's stamp (written last, renamed into place). */
static gboolean stamp_read(struct vtb_kbuild *b, const char *stamp)
{
	g_autofree char *release = read_trimmed(stamp);
	g_autofree char *mods = NULL;

	if (!release || !*release)
		return FALSE;
	mods = g_build_filename(b->dir, "mods", "lib", "modules", release,
				NULL);
	if (!g_file_test(b->kernel, G_FILE_TEST_IS_REGULAR) ||
	    !g_file_test(mods, G_FILE_TEST_IS_DIR))
		return FALSE;
	b->release = g_steal_pointer(&release);
	b->modules = g_steal_pointer(&mods);
	return TRUE;
}

static gboolean configure(struct kctx *k, const char *frag_text,
			  const GArray *frag, GError **err)
{
	g_autofree char *config = g_build_filename(k->b->obj, ".config", NULL);
	g_autofree char *base = NULL, *extra = NULL, *text = NULL;
	g_autoptr(GString) merged = NULL;
	g_autoptr(GPtrArray) missing = NULL;
	gsize len;

	if (!make(k, "configure", (const char *const[]){k->ka->base, NULL},
		  err))
		return FALSE;
	/* kconfig takes the last value of a symbol given twice: the base,
	 * then the tree's extra fragment, then ours (merge_config.sh -m does
	 * the same, but writes temporaries into its cwd). */
	if (!g_file_get_contents(config, &base, NULL, err))
		return FALSE;
	merged = g_string_new(base);
	if (k->ka->extra) {
		g_autofree char *p =
			g_build_filename(k->req->src, k->ka->extra, NULL);

		if (!g_file_get_contents(p, &extra, NULL, err)) {
			g_prefix_error(err, "configure: ");
			return FALSE;
		}
		g_string_append_printf(merged, "# %s\n%s", k->ka->extra, extra);
	}
	g_string_append_printf(merged, "# vtbench kernel config --arch %s\n%s",
			       k->ka->arch, frag_text);
	if (!g_file_set_contents(config, merged->str, merged->len, err))
		return FALSE;
	if (!make(k, "configure", (const char *const[]){"olddefconfig", NULL},
		  err))
		return FALSE;
	if (!g_file_get_contents(config, &text, &len, err))
		return FALSE;
	missing = vtb_kconfig_missing(frag, text, len, err);
	if (!missing)
		return FALSE;
	if (missing->len) {
		g_autoptr(GString) s = g_string_new(NULL);

		for (guint i = 0; i < missing->len; i++) {
			const char *m = missing->pdata[i];

			g_string_append_printf(s, "%s%.*s", i ? ", " : "",
					       (int)strcspn(m, " "), m);
		}
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "configure (ARCH=%s): the tree's Kconfig dropped "
			    "%s of vtbench's fragment (not in this kernel, or "
			    "a dependency is off; see %s)",
			    k->ka->arch, s->str, config);
		return FALSE;
	}
	return TRUE;
}

static gboolean build(struct kctx *k, const char *frag_text, const GArray *frag,
		      GError **err)
{
	g_autofree char *jobs = g_strdup_printf(
		"-j%d",
		k->req->jobs > 0 ? k->req->jobs : (int)g_get_num_processors());
	g_autofree char *mods = g_build_filename(k->b->dir, "mods", NULL);
	g_autofree char *instmod = g_strdup_printf("INSTALL_MOD_PATH=%s", mods);
	g_autofree char *relfile = g_build_filename(
		k->b->obj, "include", "config", "kernel.release", NULL);
	g_autofree char *stamp = g_build_filename(k->b->dir, "done", NULL);
	g_autofree char *tmp = g_strconcat(stamp, ".tmp", NULL);

	prog_phase(&k->prog, "configure");
	if (!configure(k, frag_text, frag, err))
		return FALSE;
	prog_phase(&k->prog, "build");
	if (!make(k, "build", (const char *const[]){jobs, NULL}, err))
		return FALSE;
	prog_phase(&k->prog, "modules");
	if (g_file_test(mods, G_FILE_TEST_EXISTS) && !vtb_dir_empty(mods, err))
		return FALSE;
	if (!make(k, "modules_install",
		  (const char *const[]){instmod, "modules_install", NULL}, err))
		return FALSE;
	k->b->release = read_trimmed(relfile);
	if (!k->b->release || !*k->b->release) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "build (ARCH=%s): no kernel release in %s",
			    k->ka->arch, relfile);
		return FALSE;
	}
	k->b->modules =
		g_build_filename(mods, "lib", "modules", k->b->release, NULL);
	if (!g_file_test(k->b->kernel, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "build (ARCH=%s): make succeeded but left no %s",
			    k->ka->arch, k->b->kernel);
		return FALSE;
	}
	/* A build interrupted before this line is not taken as done. */
	if (!g_file_set_contents(tmp, k->b->release, -1, err))
		return FALSE;
	if (rename(tmp, stamp) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "rename %s: %s", tmp,
			    g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

gboolean vtb_kbuild_run(const struct vtb_kbuild_req *req,
			struct vtb_kbuild *out, GError **err)
{
	const struct karch *ka = karch_of(req->arch);
	const char *const cc_argv[] = {"gcc", "--version", NULL};
	g_autoptr(GArray) frag = NULL;
	g_autofree char *frag_text = NULL, *id = NULL, *cc = NULL;
	g_autofree char *recipe = NULL, *stamp = NULL, *lock = NULL;
	g_autofree char *src = NULL, *tmpdir = NULL;
	struct kctx k = {.req = req, .ka = ka, .b = out, .log_fd = -1};
	struct vtb_kbuild_req r = *req;
	gint64 t0 = g_get_monotonic_time();
	bool git;
	int lock_fd = -1;
	gboolean ok = FALSE;

	memset(out, 0, sizeof(*out));
	frag = vtb_kconfig_fragment(req->arch, err);
	if (!frag)
		return FALSE;
	if (!ka) { /* a backend's arch this table lacks */
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "kernel build: no recipe for --arch %s", req->arch);
		return FALSE;
	}
	src = g_canonicalize_filename(req->src, NULL);
	r.src = src;
	k.req = &r;
	if (!check_tree(src, ka, err))
		return FALSE;
	cc = capture(cc_argv, 10000, NULL);
	if (!cc) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "gcc --version failed: no compiler to build a "
			    "kernel with");
		return FALSE;
	}
	cc[strcspn(cc, "\n")] = '\0';
	id = tree_id(src, &git, err);
	if (!id)
		return FALSE;
	frag_text = fragment_text(frag);
	recipe = g_strdup_printf("%s+%s", ka->base, ka->extra ? ka->extra : "");
	out->key = vtb_kbuild_key(id, ka->arch, recipe, frag_text, cc);
	out->dir = g_build_filename(req->cache_dir, "kbuild", out->key, NULL);
	out->obj = g_build_filename(out->dir, "obj", NULL);
	out->kernel = g_build_filename(out->obj, ka->kernel, NULL);
	out->log = g_build_filename(out->dir, "build.log", NULL);
	stamp = g_build_filename(out->dir, "done", NULL);
	if (stamp_read(out, stamp)) {
		out->cached = true;
		out->seconds = (g_get_monotonic_time() - t0) / 1e6;
		return TRUE;
	}
	if (g_mkdir_with_parents(out->obj, 0700) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE, "mkdir %s: %s",
			    out->obj, g_strerror(errno));
		return FALSE;
	}
	/* Two vtbench building the same key would share one O=. */
	lock = g_build_filename(out->dir, "lock", NULL);
	lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "%s: another vtbench is building this tree (%s)",
			    out->dir, g_strerror(errno));
		goto out;
	}
	/* The compiler's temporaries: in the build's own dir (emptied here),
	 * not $TMPDIR, where a killed gcc would leave them. */
	tmpdir = g_build_filename(out->dir, "tmp", NULL);
	if (g_mkdir_with_parents(tmpdir, 0700) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE, "mkdir %s: %s",
			    tmpdir, g_strerror(errno));
		goto out;
	}
	if (!vtb_dir_empty(tmpdir, err))
		goto out;
	k.log_fd =
		open(out->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (k.log_fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE, "open %s: %s",
			    out->log, g_strerror(errno));
		goto out;
	}
	log_line(&k,
		 "### vtbench kernel build: %s, ARCH=%s, key %s\n"
		 "### tree %s\n### base %s\n### compiler %s\n",
		 src, ka->arch, out->key, id, recipe, cc);
	k.prog = (struct kprog){.arch = ka->arch,
				.t0_us = t0,
				.tty = isatty(2),
				.quiet = req->quiet};
	k.deadline_us = t0 + (gint64)(req->timeout_s * 1e6);
	ok = build(&k, frag_text, frag, err);
	prog_end(&k.prog);
	out->seconds = (g_get_monotonic_time() - t0) / 1e6;
out:
	if (k.log_fd >= 0)
		close(k.log_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	return ok;
}

void vtb_kbuild_clear(struct vtb_kbuild *b)
{
	g_free(b->key);
	g_free(b->dir);
	g_free(b->obj);
	g_free(b->kernel);
	g_free(b->modules);
	g_free(b->release);
	g_free(b->log);
	memset(b, 0, sizeof(*b));
}

void vtb_kbuild_run_opts(const char *arch, const struct vtb_kbuild *b,
			 GPtrArray *out, GPtrArray *names)
{
	for (int i = 0; vtb_backends[i]; i++) {
		const struct vtb_backend_ops *be = vtb_backends[i];

		if (!be->kernel_arch || strcmp(be->kernel_arch, arch) != 0)
			continue;
		/* Every backend names its kernel options after itself
		 * (--uml-kernel, --kvm-modules). */
		if (out && b) {
			g_ptr_array_add(out, g_strdup_printf("--%s-kernel=%s",
							     be->name, b->obj));
			g_ptr_array_add(out,
					g_strdup_printf("--%s-modules=%s",
							be->name, b->modules));
		}
		if (names) {
			g_ptr_array_add(names,
					g_strdup_printf("%s-kernel", be->name));
			g_ptr_array_add(
				names, g_strdup_printf("%s-modules", be->name));
		}
		return;
	}
}
