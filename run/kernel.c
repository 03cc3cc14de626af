/* `vtbench kernel config`: the config fragment a kernel needs for vtbench,
 * and which of it a kernel .config lacks; `vtbench kernel build`: a kernel
 * built from a tree with it. */
#include "run/kernel.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "appliance/appliance.h"
#include "core/kconfig.h"
#include "core/proc.h"
#include "core/vtbench.h"
#include "run/kbuild.h"
#include "run/options.h"

struct kconfig_opts {
	char *arch;
	char *check;
};

#define KOFF(f) offsetof(struct kconfig_opts, f)
/* clang-format off */
static const struct vtb_option kconfig_options[] = {
	{ .name = "arch", .type = VTB_OPT_STR, .offset = KOFF(arch),
	  .metavar = "ARCH", .help = "the kernel's ARCH=: um or x86_64",
	  .given = -1 },
	{ .name = "check", .type = VTB_OPT_STR, .offset = KOFF(check),
	  .metavar = "FILE",
	  .help = "list what of the fragment the kernel .config FILE "
		  "(or FILE.gz) lacks",
	  .given = -1 },
	{ .name = NULL },
};
/* clang-format on */

static void kernel_help(FILE *f)
{
	fprintf(f, "Usage: vtbench kernel config --arch ARCH [--check FILE]\n"
		   "       vtbench kernel build SRC [--arch ARCH] (its own "
		   "--help)\n\n"
		   "Print the kernel config fragment vtbench needs (one "
		   "option a line, with why),\nmade from the tables that "
		   "decide which modules the appliance loads; with\n--check, "
		   "the lines of it a kernel .config lacks instead.\n\n"
		   "Options:\n");
	vtb_options_print_help(
		(const struct vtb_optset[]){{NULL, kconfig_options, NULL}, {0}},
		f);
	fprintf(f, "\nExit codes: 0 printed (--check: nothing lacking), 1 "
		   "--check: something\nlacking, 2 bad input or usage.\n");
}

/* @path's bytes, gunzipped when they are gzip's (Debian ships UML's
 * config as config.gz). */
static GBytes *read_config(const char *path, GError **err)
{
	g_autoptr(GFile) f = g_file_new_for_path(path);
	g_autoptr(GBytes) raw = g_file_load_bytes(f, NULL, NULL, err);
	g_autoptr(GInputStream) mem = NULL;
	g_autoptr(GZlibDecompressor) z = NULL;
	g_autoptr(GInputStream) in = NULL;
	g_autoptr(GOutputStream) out = NULL;
	gsize len;
	const guint8 *p;

	if (!raw) {
		g_prefix_error(err, "read %s: ", path);
		return NULL;
	}
	p = g_bytes_get_data(raw, &len);
	if (len < 2 || p[0] != 0x1f || p[1] != 0x8b)
		return g_steal_pointer(&raw);
	mem = g_memory_input_stream_new_from_bytes(raw);
	z = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
	in = g_converter_input_stream_new(mem, G_CONVERTER(z));
	out = g_memory_output_stream_new_resizable();
	if (g_output_stream_splice(out, in,
				   G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE |
					   G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
				   NULL, err) < 0) {
		g_prefix_error(err, "gunzip %s: ", path);
		return NULL;
	}
	return g_memory_output_stream_steal_as_bytes(
		G_MEMORY_OUTPUT_STREAM(out));
}

static int kernel_config(int argc, char **argv)
{
	struct kconfig_opts o = {0};
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GError) e = NULL;
	g_autoptr(GArray) frag = NULL;
	g_autoptr(GBytes) text = NULL;
	g_autoptr(GPtrArray) missing = NULL;
	bool help;
	int rc = 2;

	if (!vtb_options_parse(
		    (const struct vtb_optset[]){{NULL, kconfig_options, &o},
						{0}},
		    argc - 1, argv + 1, args, &help, &e))
		goto bad;
	if (help) {
		kernel_help(stdout);
		rc = 0;
		goto out;
	}
	if (args->len) {
		g_set_error(&e, VTB_ERROR, VTB_ERR_USAGE,
			    "config: unexpected argument '%s'",
			    (char *)args->pdata[0]);
		goto bad;
	}
	if (!o.arch) {
		g_autofree char *arches = vtb_kconfig_arches();

		g_set_error(&e, VTB_ERROR, VTB_ERR_USAGE,
			    "config: needs --arch (%s)", arches);
		goto bad;
	}
	frag = vtb_kconfig_fragment(o.arch, &e);
	if (!frag)
		goto bad;
	if (!o.check) {
		g_autofree char *s = vtb_kconfig_render(o.arch, frag);

		fputs(s, stdout);
		rc = 0;
		goto out;
	}
	text = read_config(o.check, &e);
	if (text) {
		gsize len;
		const char *p = g_bytes_get_data(text, &len);

		missing = vtb_kconfig_missing(frag, p ? p : "", len, &e);
		if (!missing)
			g_prefix_error(&e, "%s: ", o.check);
	}
	if (!missing)
		goto bad;
	for (guint i = 0; i < missing->len; i++)
		printf("%s\n", (char *)missing->pdata[i]);
	rc = missing->len ? 1 : 0;
	goto out;
bad:
	g_printerr("vtbench: kernel: %s\n", e->message);
out:
	vtb_options_clear(kconfig_options, &o);
	return rc;
}

struct kbuild_opts {
	char *arch;
	int jobs;
	double timeout;
	bool quiet;
};

#define BOFF(f) offsetof(struct kbuild_opts, f)
/* clang-format off */
static const struct vtb_option kbuild_options[] = {
	{ .name = "arch", .type = VTB_OPT_STR, .offset = BOFF(arch),
	  .def = "um", .metavar = "ARCH",
	  .help = "the kernel's ARCH=: um (for --uml-kernel) or x86_64 "
		  "(for --kvm-kernel)",
	  .given = -1 },
	{ .name = "jobs", .type = VTB_OPT_INT, .offset = BOFF(jobs),
	  .def = "0", .metavar = "N",
	  .help = "make -jN; 0: the host's cores", .given = -1, .max = 1024 },
	{ .name = "timeout", .type = VTB_OPT_SECONDS, .offset = BOFF(timeout),
	  .def = "10800", .metavar = "SEC",
	  .help = "the whole build's deadline (make is killed then)",
	  .given = -1 },
	{ .name = "quiet", .type = VTB_OPT_FLAG, .offset = BOFF(quiet),
	  .help = "no progress on stderr", .given = -1 },
	{ .name = NULL },
};
/* clang-format on */

static void build_help(FILE *f)
{
	fprintf(f,
		"Usage: vtbench kernel build SRC [--arch ARCH] [OPTION...]\n\n"
		"Configure the kernel source tree SRC out of place (make O= in "
		"vtbench's cache;\nnothing is written into SRC) from a small "
		"base config (um: defconfig;\nx86_64: tinyconfig + "
		"kvm_guest.config) plus `vtbench kernel config`'s\nfragment, "
		"check that none of the fragment was dropped, build it with "
		"the\nhost's cores and install its modules beside it.  A "
		"second call for the same\ntree content (git HEAD and "
		"uncommitted changes, or every file's bytes),\nfragment and "
		"compiler finds the build done.  Prints the `run` options "
		"that\nboot it (--uml-kernel/--uml-modules or "
		"--kvm-kernel/--kvm-modules), a line\neach.\n\nOptions:\n");
	vtb_options_print_help(
		(const struct vtb_optset[]){{NULL, kbuild_options, NULL}, {0}},
		f);
	fprintf(f, "\nExit codes: 0 built (or found built), 2 bad input or "
		   "a tree that does not\nconfigure or build (one line: its "
		   "first error and the log), 128+N interrupted\nby signal "
		   "N (make's processes killed).\n");
}

static int kernel_build(int argc, char **argv)
{
	struct kbuild_opts o = {0};
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GPtrArray) run = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) e = NULL;
	g_autofree char *cache = NULL;
	struct vtb_kbuild b = {0};
	struct vtb_kbuild_req req = {0};
	bool help;
	int rc = 2;

	if (!vtb_options_parse(
		    (const struct vtb_optset[]){{NULL, kbuild_options, &o},
						{0}},
		    argc - 1, argv + 1, args, &help, &e))
		goto bad;
	if (help) {
		build_help(stdout);
		rc = 0;
		goto out;
	}
	if (args->len != 1) {
		g_set_error(&e, VTB_ERROR, VTB_ERR_USAGE,
			    args->len ? "build: one SRC only ('%s' is extra)"
				      : "build: needs the kernel source tree "
					"SRC%s",
			    args->len ? (char *)args->pdata[1] : "");
		goto bad;
	}
	cache = vtb_cache_dir(&e);
	if (!cache)
		goto bad;
	req = (struct vtb_kbuild_req){.src = args->pdata[0],
				      .arch = o.arch,
				      .cache_dir = cache,
				      .jobs = o.jobs,
				      .timeout_s = o.timeout,
				      .quiet = o.quiet};
	if (!vtb_kbuild_run(&req, &b, &e)) {
		if (g_error_matches(e, VTB_ERROR, VTB_ERR_INTERRUPTED))
			rc = 128 + vtb_interrupt_signal();
		goto bad;
	}
	if (!o.quiet) {
		if (b.cached)
			g_printerr("vtbench: kernel build %s: %s, built before "
				   "(%s)\n",
				   o.arch, b.release, b.dir);
		else
			g_printerr("vtbench: kernel build %s: %s built in "
				   "%.0f s (log: %s)\n",
				   o.arch, b.release, b.seconds, b.log);
	}
	vtb_kbuild_run_opts(o.arch, &b, run, NULL);
	for (guint i = 0; i < run->len; i++)
		printf("%s\n", (char *)run->pdata[i]);
	rc = 0;
	goto out;
bad:
	g_printerr("vtbench: kernel: %s\n", e->message);
out:
	vtb_kbuild_clear(&b);
	vtb_options_clear(kbuild_options, &o);
	return rc;
}

int vtb_cmd_kernel(int argc, char **argv)
{
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		kernel_help(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "config"))
		return kernel_config(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "build"))
		return kernel_build(argc - 1, argv + 1);
	if (argc < 2)
		g_printerr("vtbench: kernel: needs a subcommand (config, "
			   "build)\n");
	else
		g_printerr("vtbench: kernel: unknown subcommand '%s' "
			   "(config, build)\n",
			   argv[1]);
	return 2;
}
