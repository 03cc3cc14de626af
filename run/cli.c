/* Command-line options as tables: parsing, validation and --help. */
#include "run/cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/registry.h"
#include "run/options.h"
#include "run/profiles.h"

#define OFF(f) offsetof(struct vtb_opts, f)
#define GIVEN(f) ((ssize_t)offsetof(struct vtb_opts, f))

static gboolean usage_error(GError **err, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static gboolean usage_error(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err)
		*err = g_error_new_valist(VTB_ERROR, VTB_ERR_USAGE, fmt, ap);
	va_end(ap);
	return FALSE;
}

static gboolean check_backend(const char *opt, const char *v, GError **err)
{
	GString *known;

	if (vtb_backend_find(v))
		return TRUE;
	known = g_string_new(NULL);
	for (int i = 0; vtb_backends[i]; i++)
		g_string_append_printf(known, "%s%s", i ? ", " : "",
				       vtb_backends[i]->name);
	usage_error(err, "--%s: unknown backend '%s' (known: %s)", opt, v,
		    known->str);
	g_string_free(known, TRUE);
	return FALSE;
}

/* A driver of some backend of this build (each backend's table). */
static gboolean check_driver(const char *opt, const char *v, GError **err)
{
	g_autoptr(GPtrArray) known = g_ptr_array_new();
	g_autofree char *all = NULL;

	for (int i = 0; vtb_backends[i]; i++)
		for (const struct vtb_driver_ops *const *d =
			     vtb_backends[i]->drivers;
		     *d; d++) {
			if (strcmp((*d)->name, v) == 0)
				return TRUE;
			if (!g_ptr_array_find_with_equal_func(
				    known, (*d)->name, g_str_equal, NULL))
				g_ptr_array_add(known, (char *)(*d)->name);
		}
	g_ptr_array_add(known, NULL);
	all = g_strjoinv(", ", (char **)known->pdata);
	return usage_error(err, "--%s: unknown value '%s' (known: %s)", opt, v,
			   all);
}

/* A plug-in this build has (@found), a reserved name it lacks, or
 * neither. */
static gboolean check_named(bool found, const struct vtb_name *reserved,
			    char *(*known)(void), const char *what,
			    const char *opt, const char *v, GError **err)
{
	const struct vtb_name *n = vtb_name_find(reserved, v);
	g_autofree char *all = NULL;

	if (found)
		return TRUE;
	if (n)
		return usage_error(err, "--%s: %s '%s' is %s", opt, what, v,
				   n->missing);
	all = known();
	return usage_error(err, "--%s: unknown %s '%s' (known: %s)", opt, what,
			   v, all);
}

static gboolean check_workload(const char *opt, const char *v, GError **err)
{
	return check_named(vtb_workload_find(v) != NULL, vtb_workloads_reserved,
			   vtb_known_workloads, "workload", opt, v, err);
}

static gboolean check_transport(const char *opt, const char *v, GError **err)
{
	return check_named(vtb_transport_find(v) != NULL,
			   vtb_transports_reserved, vtb_known_transports,
			   "transport", opt, v, err);
}

/*
 * Guest memory the host has: more than that boots to an OOM or a QEMU
 * refusal, after the KVM test, and says nothing of the channel.
 */
static gboolean check_mem(const char *opt, const char *v, GError **err)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	gint64 host_mib = pages > 0 && psz > 0 ? (gint64)pages * psz >> 20 : 0;

	if (!host_mib || g_ascii_strtoll(v, NULL, 10) <= host_mib)
		return TRUE;
	return usage_error(err,
			   "--%s: at most %" G_GINT64_FORMAT
			   " MiB (this host's memory), got %s",
			   opt, host_mib, v);
}

/*
 * The guest's mount options travel on its kernel command line
 * (vtb.mntopts=...): a space or a quote there would start another kernel
 * parameter ("sync init=/bin/sh").  Commas separate mount options.
 */
static gboolean check_mount_opts(const char *opt, const char *v, GError **err)
{
	for (const char *p = v; *p; p++)
		if (g_ascii_isspace(*p) || g_ascii_iscntrl(*p) || *p == '"' ||
		    (guchar)*p >= 0x80)
			return usage_error(err,
					   "--%s: '%s' has a space, quote or "
					   "control character (mount options "
					   "are separated by commas)",
					   opt, v);
	return TRUE;
}

/*
 * A file vtbench writes (atomically: a temp file in its directory, then
 * rename) after the first run: its directory must take it now, not after
 * the matrix ran.
 */
static gboolean check_out_file(const char *opt, const char *v, GError **err)
{
	g_autofree char *dir = g_path_get_dirname(v);
	struct stat st;

	if (stat(v, &st) == 0 && S_ISDIR(st.st_mode))
		return usage_error(err, "--%s: %s is a directory", opt, v);
	/* The rename would replace it: /dev/null, a FIFO, a socket. */
	if (stat(v, &st) == 0 && !S_ISREG(st.st_mode))
		return usage_error(err, "--%s: %s is not a regular file", opt,
				   v);
	if (stat(dir, &st) != 0)
		return usage_error(err, "--%s: cannot write %s: %s: %s", opt, v,
				   dir, g_strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return usage_error(err, "--%s: cannot write %s: %s: %s", opt, v,
				   dir, g_strerror(ENOTDIR));
	if (access(dir, W_OK | X_OK) != 0)
		return usage_error(err, "--%s: cannot write %s: %s: %s", opt, v,
				   dir, g_strerror(errno));
	return TRUE;
}

static gboolean check_profile(const char *opt, const char *v, GError **err)
{
	g_autofree char *known = NULL;

	if (vtb_profile_find(v))
		return TRUE;
	known = vtb_profile_names();
	return usage_error(err, "--%s: unknown profile '%s' (known: %s)", opt,
			   v, known);
}

static const char *const payloads[] = {"zero", "random", NULL};
static const char *const targets[] = {"virtio-blk", "ubd",    "9p",
				      "virtiofs",   "hostfs", "tmpfs",
				      "sshfs",	    NULL};
static const char *const onoff[] = {"on", "off", NULL};
static const char *const boots[] = {"per-cell", "per-run", NULL};

/* clang-format off */
const struct vtb_option vtb_run_options[] = {
	{ "profile", VTB_OPT_STR, OFF(profile), NULL, "NAME",
	  "a named matrix that reproduces an article's tables (`vtbench "
	  "list`): its options first, then the command line's, which "
	  "replace the profile's of the same name (lists too)",
	  check_profile, 0, -1 },
	{ "backend", VTB_OPT_LIST, OFF(backends), "uml,kvm", "LIST",
	  "backends to run: uml, kvm", check_backend, 0, GIVEN(backends_given) },
	{ "driver", VTB_OPT_LIST, OFF(drivers), NULL, "LIST",
	  "how kvm starts QEMU: direct (spawned by vtbench), libvirt "
	  "(a transient domain) [default: each backend's first driver, "
	  "direct]", check_driver, 0, -1 },
	{ "transport", VTB_OPT_LIST, OFF(transports), NULL, "LIST",
	  "transports under test", check_transport, 0, -1 },
	{ "workload", VTB_OPT_LIST, OFF(workloads),
	  "startup,upload-no-write,download-no-read,write-no-upload,upload,"
	  "roundtrip,untar", "LIST",
	  "workloads", check_workload, 0, GIVEN(workloads_given) },
	{ "cache", VTB_OPT_LIST, OFF(caches), "writeback", "LIST",
	  "host cache of disks: none, writeback, unsafe, directsync, "
	  "writethrough (QEMU); writeback, sync (ubd)", NULL, 0, -1, vtb_caches },
	{ "aio", VTB_OPT_LIST, OFF(aios), NULL, "LIST",
	  "QEMU aio of disks: threads, native, io_uring (default: QEMU's)",
	  NULL, 0, -1, vtb_aios },
	{ "target", VTB_OPT_LIST, OFF(targets), NULL, "LIST",
	  "what writing workloads write to: a disk, virtio-blk (kvm; uml "
	  "through qemu-storage-daemon) or ubd (uml), or a filesystem: 9p, "
	  "virtiofs, sshfs (both), hostfs (uml), tmpfs (both: the guest's "
	  "memory); default: the backend's disk", NULL, 0, -1, targets },
	{ "image", VTB_OPT_LIST, OFF(images), "raw-sparse", "LIST",
	  "target image: raw-sparse, raw-prealloc, qcow2, qcow2-prealloc",
	  NULL, 0, -1, vtb_images },
	{ "fs", VTB_OPT_LIST, OFF(fss), "ext2", "LIST",
	  "target filesystem, made on the host: ext2, ext3, ext4", NULL,
	  0, -1, vtb_fss },
	{ "mount-opts", VTB_OPT_STR, OFF(mount_opts), NULL, "OPTS",
	  "guest mount options of the target (e.g. sync)", check_mount_opts,
	  0, -1 },
	{ "disk-size", VTB_OPT_SIZE, OFF(disk_size), "1G", "BYTES",
	  "size of the target image", NULL, 0, -1 },
	{ "size", VTB_OPT_SIZE, OFF(size), "500M", "BYTES",
	  "bytes per transfer (default: what the warm-up's rate moves in "
	  "--duration, at most 500M)", NULL, 0, GIVEN(size_given) },
	{ "duration", VTB_OPT_SECONDS, OFF(duration), "1", "SEC",
	  "without --size: the seconds a transfer aims at (its size a step "
	  "of 2^n or 1.5*2^n bytes)", NULL, 0, -1 },
	{ "payload", VTB_OPT_LIST, OFF(payloads), "zero", "zero|random",
	  "payload bytes", NULL, 0, -1, payloads },
	{ "verify", VTB_OPT_STR, OFF(verify), "on", "on|off",
	  "check what moved: XXH3 of every byte against the payload's, "
	  "a written file read back (past the guest's page cache) after "
	  "the timed part; results say what per cell (params.verified)",
	  NULL, 0, -1, onoff },
	{ "boot", VTB_OPT_STR, OFF(boot), "per-cell", "per-cell|per-run",
	  "one boot serves every run of a cell that leaves nothing behind "
	  "(upload-no-write, roundtrip), or a fresh boot per run", NULL, 0,
	  -1, boots },
	{ "drop-caches", VTB_OPT_FLAG, OFF(drop_caches), NULL, NULL,
	  "drop the host page cache of images before each timed run", NULL,
	  0, -1 },
	/* A day of 1 s boots: anything more is a typo. */
	{ "runs", VTB_OPT_INT, OFF(runs), "5", "N",
	  "measured runs per cell", NULL, 1, -1, .max = 100000 },
	{ "warmup", VTB_OPT_INT, OFF(warmup), "1", "N",
	  "warm-up runs per cell (recorded, not summarised)", NULL, 0, -1,
	  .max = 1000 },
	{ "timeout", VTB_OPT_SECONDS, OFF(timeout), NULL, "SEC",
	  "deadline of one boot or transfer (default: 30 uml, 20 kvm, 60 tcg)",
	  NULL, 0, -1 },
	{ "mem", VTB_OPT_INT, OFF(mem_mb), "256", "MIB",
	  "guest memory (at most the host's)", check_mem, 64, -1 },
	{ "json", VTB_OPT_STR, OFF(json), NULL, "FILE",
	  "write results JSON (atomically, after every run)", check_out_file,
	  0, -1 },
	{ "resume", VTB_OPT_STR, OFF(resume), NULL, "FILE",
	  "reuse FILE's complete cells (same parameters, kernel and host), "
	  "run the rest; results go to FILE unless --json says otherwise",
	  NULL, 0, -1 },
	{ "csv", VTB_OPT_STR, OFF(csv), NULL, "FILE",
	  "write one CSV row per sample", check_out_file, 0, -1 },
	{ "quiet", VTB_OPT_FLAG, OFF(quiet), NULL, NULL,
	  "no progress lines on stderr", NULL, 0, -1 },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1 },
};
/* clang-format on */

/* Room for the run table, each backend's and each workload's, the end. */
#define RUN_SETS                                                               \
	(1 + VTB_MAX_BACKENDS + VTB_MAX_TRANSPORTS + VTB_MAX_WORKLOADS + 1)

/* The run table, then each backend's and each workload's own options. */
static void run_sets(struct vtb_opts *o, struct vtb_optset *sets)
{
	int n = 0;

	sets[n++] = (struct vtb_optset){NULL, vtb_run_options, o};
	for (int i = 0; vtb_backends[i] && i < VTB_MAX_BACKENDS; i++) {
		const struct vtb_backend_ops *be = vtb_backends[i];
		g_autofree char *title =
			g_strdup_printf("Options of backend %s", be->name);

		if (!be->options)
			continue;
		if (!o->backend_opts[i])
			o->backend_opts[i] = g_malloc0(be->options_size);
		sets[n++] =
			(struct vtb_optset){g_intern_string(title), be->options,
					    o->backend_opts[i]};
	}
	for (int i = 0; vtb_transports[i] && i < VTB_MAX_TRANSPORTS; i++) {
		const struct vtb_transport_ops *t = vtb_transports[i];
		g_autofree char *title =
			g_strdup_printf("Options of transport %s", t->name);

		if (!t->options)
			continue;
		if (!o->transport_opts[i])
			o->transport_opts[i] = g_malloc0(t->options_size);
		sets[n++] =
			(struct vtb_optset){g_intern_string(title), t->options,
					    o->transport_opts[i]};
	}
	for (int i = 0; vtb_workloads[i] && i < VTB_MAX_WORKLOADS; i++) {
		const struct vtb_workload_ops *w = vtb_workloads[i];
		g_autofree char *title =
			g_strdup_printf("Options of workload %s", w->name);

		if (!w->options)
			continue;
		if (!o->workload_opts[i])
			o->workload_opts[i] = g_malloc0(w->options_size);
		sets[n++] =
			(struct vtb_optset){g_intern_string(title), w->options,
					    o->workload_opts[i]};
	}
	sets[n] = (struct vtb_optset){0};
}

gboolean vtb_cli_parse_run(int argc, char **argv, struct vtb_opts *o,
			   bool *help, GError **err)
{
	struct vtb_optset sets[RUN_SETS];
	int n;
	g_autofree char **words = vtb_profile_expand(argc, argv, &n);

	memset(o, 0, sizeof(*o));
	run_sets(o, sets);
	if (!vtb_options_parse(sets, n, words, NULL, help, err))
		return FALSE;
	/* What only the workloads asked for can say of the options. */
	for (char **w = o->workloads; !*help && w && *w; w++) {
		const struct vtb_workload_ops *wl = vtb_workload_find(*w);

		if (wl && wl->check &&
		    !wl->check(o, vtb_workload_opts(o, wl), err))
			return FALSE;
	}
	/* And what the transports asked for by name need (their programs). */
	for (int l = 0; !*help && l < 2; l++)
		for (char **t = l ? o->targets : o->transports; t && *t; t++) {
			const struct vtb_transport_ops *tr =
				vtb_transport_find(*t);

			if (tr && tr->check &&
			    !tr->check(vtb_transport_opts(o, tr), err))
				return FALSE;
		}
	return TRUE;
}

void vtb_opts_clear(struct vtb_opts *o)
{
	vtb_options_clear(vtb_run_options, o);
	for (int i = 0; vtb_backends[i] && i < VTB_MAX_BACKENDS; i++)
		if (o->backend_opts[i]) {
			vtb_options_clear(vtb_backends[i]->options,
					  o->backend_opts[i]);
			g_clear_pointer(&o->backend_opts[i], g_free);
		}
	for (int i = 0; vtb_transports[i] && i < VTB_MAX_TRANSPORTS; i++)
		if (o->transport_opts[i]) {
			vtb_options_clear(vtb_transports[i]->options,
					  o->transport_opts[i]);
			g_clear_pointer(&o->transport_opts[i], g_free);
		}
	for (int i = 0; vtb_workloads[i] && i < VTB_MAX_WORKLOADS; i++)
		if (o->workload_opts[i]) {
			vtb_options_clear(vtb_workloads[i]->options,
					  o->workload_opts[i]);
			g_clear_pointer(&o->workload_opts[i], g_free);
		}
}

void vtb_cli_print_run_help(FILE *f)
{
	struct vtb_opts o = {0};
	struct vtb_optset sets[RUN_SETS];

	run_sets(&o, sets);
	fprintf(f, "Usage: vtbench run [OPTION...]\n\n"
		   "Boot the appliance under each backend and measure each "
		   "workload.\n\nOptions:\n");
	vtb_options_print_help(sets, f);
	fprintf(f, "\nExit codes: 0 success, 2 bad input or usage, 3 some "
		   "cells failed.\n");
	vtb_opts_clear(&o);
}
