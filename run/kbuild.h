/* `vtbench kernel build`: a kernel built from a source tree out of place,
 * in vtbench's cache, keyed by everything that went into it. */
#ifndef VTB_KBUILD_H
#define VTB_KBUILD_H

#include <glib.h>
#include <stdbool.h>

/* What to build. */
struct vtb_kbuild_req {
	const char *src;       /* the kernel source tree; never written */
	const char *arch;      /* "um", "x86_64" (a backend's kernel_arch) */
	const char *cache_dir; /* builds go to CACHE/kbuild/KEY */
	int jobs;	       /* make -j; 0: the host's cores */
	double timeout_s;      /* the whole build's deadline */
	bool quiet;	       /* no progress on stderr */
};

/* A build (complete when vtb_kbuild_run() returned TRUE). */
struct vtb_kbuild {
	char *key;     /* 16 hex digits (vtb_kbuild_key) */
	char *dir;     /* CACHE/kbuild/KEY */
	char *obj;     /* DIR/obj: make's O=, the build directory */
	char *kernel;  /* the kernel in it (obj/linux, obj/vmlinux) */
	char *modules; /* DIR/mods/lib/modules/RELEASE */
	char *release;
	char *log; /* DIR/build.log */
	bool cached;
	double seconds; /* this call's */
};

/*
 * Build @req's tree (or find the completed build of the same key) and
 * fill @out.  FALSE with @err: VTB_ERR_USAGE for bad input (SRC not a
 * kernel tree, configured in place, an unknown arch), VTB_ERR_RUN when
 * the tree did not configure or build (one line: the first error line of
 * the log and the log's path), VTB_ERR_INTERRUPTED on a signal (make's
 * process group killed and reaped).
 */
gboolean vtb_kbuild_run(const struct vtb_kbuild_req *req,
			struct vtb_kbuild *out, GError **err);
void vtb_kbuild_clear(struct vtb_kbuild *b);

/*
 * The `run` options that boot build @b of @arch, "--uml-kernel=OBJ" and
 * "--uml-modules=DIR" (names of the backend whose kernel_arch is @arch),
 * appended to @out (newly allocated strings).  @names, when not NULL,
 * gets the two option names; with @b NULL only those.
 */
void vtb_kbuild_run_opts(const char *arch, const struct vtb_kbuild *b,
			 GPtrArray *out, GPtrArray *names);

/*
 * The build's key: 16 hex digits of a SHA-256 over @tree_id (what the
 * source is), @arch, @recipe (the base config), @fragment and @cc (the
 * compiler's version line), each length-prefixed so no two splits of
 * the same bytes collide.
 */
char *vtb_kbuild_key(const char *tree_id, const char *arch, const char *recipe,
		     const char *fragment, const char *cc);

/*
 * The line of a failed build's log (@len bytes) that names its error:
 * the first with "error:" (the compiler's, the linker's), else the first
 * with "Error" (make's "*** [...] Error 1"), else the first of make's
 * own "*** " lines ("No rule to make target"), trimmed and cut to 300
 * bytes; NULL when none has any.
 */
char *vtb_kbuild_first_error(const char *log, gsize len);

#endif
