/* Command-line options as tables: parsing, validation and --help. */
#include "run/cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry.h"

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
	if (vtb_backend_find(v))
		return TRUE;
	return usage_error(err, "--%s: unknown backend '%s' (known: uml, kvm)",
			   opt, v);
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

static gboolean check_choice(const char *const *tab, const char *opt,
			     const char *v, GError **err)
{
	g_autofree char *known = NULL;

	if (vtb_str_in(tab, v))
		return TRUE;
	known = g_strjoinv(", ", (char **)tab);
	return usage_error(err, "--%s: unknown value '%s' (known: %s)", opt, v,
			   known);
}

static const char *const payloads[] = {"zero", "random", NULL};
static const char *const targets[] = {"virtio-blk", "ubd", NULL};
static const char *const onoff[] = {"on", "off", NULL};
static const char *const boots[] = {"per-cell", "per-run", NULL};
static const char *const autoonoff[] = {"auto", "on", "off", NULL};

static gboolean check_msg_size(const char *opt, const char *v, GError **err)
{
	guint64 n;

	if (!vtb_parse_size(v, &n) || n == 0 || n > (1u << 20))
		return usage_error(err,
				   "--%s: not a message size from 1 to 1M: "
				   "'%s'",
				   opt, v);
	return TRUE;
}

/* clang-format off */
const struct vtb_option vtb_run_options[] = {
	{ "backend", VTB_OPT_LIST, OFF(backends), "uml,kvm", "LIST",
	  "backends to run: uml, kvm", check_backend, 0, GIVEN(backends_given) },
	{ "driver", VTB_OPT_LIST, OFF(drivers), "direct", "LIST",
	  "how kvm starts QEMU: direct (spawned by vtbench), libvirt "
	  "(a transient domain)", NULL, 0, -1, vtb_drivers },
	{ "connect", VTB_OPT_STR, OFF(connect), "qemu:///system", "URI",
	  "libvirt URI (driver libvirt)", NULL, 0, -1 },
	{ "accel", VTB_OPT_STR, OFF(accel), "auto", "auto|kvm|tcg",
	  "kvm accelerator; auto tests KVM by booting the guest kernel",
	  NULL, 0, -1, vtb_accels },
	{ "transport", VTB_OPT_LIST, OFF(transports), NULL, "LIST",
	  "transports under test", check_transport, 0, -1 },
	{ "workload", VTB_OPT_LIST, OFF(workloads),
	  "startup,upload-no-write,write-no-upload,upload,roundtrip", "LIST",
	  "workloads", check_workload, 0, GIVEN(workloads_given) },
	{ "cache", VTB_OPT_LIST, OFF(caches), "writeback", "LIST",
	  "host cache of disks: none, writeback, unsafe, directsync, "
	  "writethrough (QEMU); writeback, sync (ubd)", NULL, 0, -1, vtb_caches },
	{ "aio", VTB_OPT_LIST, OFF(aios), NULL, "LIST",
	  "QEMU aio of disks: threads, native, io_uring (default: QEMU's)",
	  NULL, 0, -1, vtb_aios },
	{ "target", VTB_OPT_LIST, OFF(targets), NULL, "LIST",
	  "disk written by upload/write-no-upload: virtio-blk (kvm), ubd "
	  "(uml)", NULL, 0, -1, targets },
	{ "image", VTB_OPT_LIST, OFF(images), "raw-sparse", "LIST",
	  "target image: raw-sparse, raw-prealloc, qcow2, qcow2-prealloc",
	  NULL, 0, -1, vtb_images },
	{ "fs", VTB_OPT_LIST, OFF(fss), "ext2", "LIST",
	  "target filesystem, made on the host: ext2, ext3, ext4", NULL,
	  0, -1, vtb_fss },
	{ "mount-opts", VTB_OPT_STR, OFF(mount_opts), NULL, "OPTS",
	  "guest mount options of the target (e.g. sync)", NULL, 0, -1 },
	{ "disk-size", VTB_OPT_SIZE, OFF(disk_size), "1G", "BYTES",
	  "size of the target image", NULL, 0, -1 },
	{ "size", VTB_OPT_SIZE, OFF(size), "500M", "BYTES",
	  "bytes per transfer (default: 500M, serial lines ~10 s)", NULL, 0,
	  GIVEN(size_given) },
	{ "msg-size", VTB_OPT_LIST, OFF(msg_sizes), "64,512,4K", "LIST",
	  "roundtrip message sizes", check_msg_size, 0,
	  GIVEN(msg_sizes_given) },
	{ "payload", VTB_OPT_LIST, OFF(payloads), "zero", "zero|random",
	  "payload bytes", NULL, 0, -1, payloads },
	{ "verify", VTB_OPT_STR, OFF(verify), "on", "on|off",
	  "hash every byte on both sides", NULL, 0, -1, onoff },
	{ "boot", VTB_OPT_STR, OFF(boot), "per-cell", "per-cell|per-run",
	  "one boot serves every run of a cell that leaves nothing behind "
	  "(upload-no-write, roundtrip), or a fresh boot per run", NULL, 0,
	  -1, boots },
	{ "drop-caches", VTB_OPT_FLAG, OFF(drop_caches), NULL, NULL,
	  "drop the host page cache of images before each timed run", NULL,
	  0, -1 },
	{ "runs", VTB_OPT_INT, OFF(runs), "5", "N",
	  "measured runs per cell", NULL, 1, -1 },
	{ "warmup", VTB_OPT_INT, OFF(warmup), "1", "N",
	  "warm-up runs per cell (recorded, not summarised)", NULL, 0, -1 },
	{ "timeout", VTB_OPT_SECONDS, OFF(timeout), NULL, "SEC",
	  "deadline of one boot or transfer (default: 30 uml, 20 kvm, 60 tcg)",
	  NULL, 0, -1 },
	{ "uml-kernel", VTB_OPT_STR, OFF(uml_kernel), NULL, "PATH",
	  "UML kernel (default /usr/bin/linux.uml)", NULL, 0, -1 },
	{ "uml-modules", VTB_OPT_STR, OFF(uml_modules), NULL, "DIR",
	  "UML modules (default /usr/lib/uml/modules/RELEASE)", NULL, 0, -1 },
	{ "uml-xstate", VTB_OPT_STR, OFF(uml_xstate), "auto", "auto|on|off",
	  "UML's ptrace FPU-state fix (libvtbxstate.so, for hosts whose "
	  "xstate outgrew UML's buffer, e.g. with AMX): auto applies it "
	  "when a test boot shows UML needs it", NULL, 0, -1, autoonoff },
	{ "kvm-kernel", VTB_OPT_STR, OFF(kvm_kernel), NULL, "PATH",
	  "guest kernel bzImage or vmlinux (default: newest found)", NULL, 0,
	  -1 },
	{ "kvm-modules", VTB_OPT_STR, OFF(kvm_modules), NULL, "DIR",
	  "guest kernel modules (default: the kernel's own)", NULL, 0, -1 },
	{ "qemu", VTB_OPT_STR, OFF(qemu), "qemu-system-x86_64", "PATH",
	  "QEMU binary", NULL, 0, -1 },
	{ "mem", VTB_OPT_INT, OFF(mem_mb), "256", "MIB",
	  "guest memory", NULL, 64, -1 },
	{ "cpus", VTB_OPT_INT, OFF(cpus), "1", "N",
	  "kvm guest vCPUs (UML is uniprocessor)", NULL, 1, -1 },
	{ "json", VTB_OPT_STR, OFF(json), NULL, "FILE",
	  "write results JSON (atomically, after every run)", NULL, 0, -1 },
	{ "resume", VTB_OPT_STR, OFF(resume), NULL, "FILE",
	  "reuse FILE's complete cells (same parameters, kernel and host), "
	  "run the rest; results go to FILE unless --json says otherwise",
	  NULL, 0, -1 },
	{ "csv", VTB_OPT_STR, OFF(csv), NULL, "FILE",
	  "write one CSV row per sample", NULL, 0, -1 },
	{ "quiet", VTB_OPT_FLAG, OFF(quiet), NULL, NULL,
	  "no progress lines on stderr", NULL, 0, -1 },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1 },
};
/* clang-format on */

gboolean vtb_parse_size(const char *s, guint64 *out)
{
	char *end = NULL;
	guint64 v, mul = 1;

	if (!s || !g_ascii_isdigit(*s))
		return FALSE;
	errno = 0;
	v = g_ascii_strtoull(s, &end, 10);
	if (errno)
		return FALSE;
	switch (g_ascii_toupper(*end)) {
	case 0:
		break;
	case 'K':
		mul = 1ULL << 10;
		break;
	case 'M':
		mul = 1ULL << 20;
		break;
	case 'G':
		mul = 1ULL << 30;
		break;
	case 'T':
		mul = 1ULL << 40;
		break;
	default:
		return FALSE;
	}
	if (*end) {
		end++;
		if (g_ascii_toupper(*end) == 'I' && end[1] == 'B')
			end += 2;
		else if (g_ascii_toupper(*end) == 'B')
			end++;
		if (*end)
			return FALSE;
	}
	if (v > G_MAXUINT64 / mul)
		return FALSE;
	*out = v * mul;
	return TRUE;
}

static gboolean check_value(const struct vtb_option *op, const char *v,
			    GError **err)
{
	if (op->choices && !check_choice(op->choices, op->name, v, err))
		return FALSE;
	return !op->check || op->check(op->name, v, err);
}

/* @append: the user gave this list option before: add to it instead of
 * replacing the default. */
static gboolean set_value(const struct vtb_option *op, struct vtb_opts *o,
			  const char *v, bool append, GError **err)
{
	void *field = (char *)o + op->offset;

	switch (op->type) {
	case VTB_OPT_STR:
		if (!*v)
			return usage_error(err, "--%s: empty value", op->name);
		if (!check_value(op, v, err))
			return FALSE;
		g_free(*(char **)field);
		*(char **)field = g_strdup(v);
		return TRUE;
	case VTB_OPT_LIST: {
		g_auto(GStrv) items = g_strsplit(v, ",", -1);
		GStrvBuilder *b = g_strv_builder_new();
		char **old = *(char ***)field;

		if (old && append)
			g_strv_builder_addv(b, (const char **)old);
		for (char **it = items; *it; it++) {
			g_strstrip(*it);
			if (!**it) {
				g_strv_builder_unref(b);
				return usage_error(err,
						   "--%s: empty item in '%s'",
						   op->name, v);
			}
			if (!check_value(op, *it, err)) {
				g_strv_builder_unref(b);
				return FALSE;
			}
			if (!append ||
			    !g_strv_contains((const char **)old, *it))
				g_strv_builder_add(b, *it);
		}
		g_strfreev(old);
		*(char ***)field = g_strv_builder_end(b);
		g_strv_builder_unref(b);
		return TRUE;
	}
	case VTB_OPT_INT: {
		char *end = NULL;
		gint64 n;

		errno = 0;
		n = g_ascii_strtoll(v, &end, 10);
		if (!*v || *end || errno || n > G_MAXINT)
			return usage_error(err, "--%s: not a number: '%s'",
					   op->name, v);
		if (n < op->min)
			return usage_error(err,
					   "--%s: must be at least %ld, got %s",
					   op->name, op->min, v);
		*(int *)field = (int)n;
		return TRUE;
	}
	case VTB_OPT_SIZE: {
		guint64 n;

		if (!vtb_parse_size(v, &n))
			return usage_error(err,
					   "--%s: not a size: '%s' (e.g. 4096, "
					   "64K, 500M, 2G)",
					   op->name, v);
		if (n == 0)
			return usage_error(err, "--%s: must be more than 0",
					   op->name);
		*(guint64 *)field = n;
		return TRUE;
	}
	case VTB_OPT_SECONDS: {
		char *end = NULL;
		double d = g_ascii_strtod(v, &end);

		if (!*v || *end || !(d > 0) || d > 86400)
			return usage_error(err,
					   "--%s: not a number of seconds "
					   "(0 < SEC <= 86400): '%s'",
					   op->name, v);
		*(double *)field = d;
		return TRUE;
	}
	case VTB_OPT_FLAG:
		*(bool *)field = true;
		return TRUE;
	}
	return FALSE;
}

gboolean vtb_cli_parse_run(int argc, char **argv, struct vtb_opts *o,
			   bool *help, GError **err)
{
	g_autofree bool *seen = NULL;
	size_t nopts = 0;

	*help = false;
	memset(o, 0, sizeof(*o));
	while (vtb_run_options[nopts].name)
		nopts++;
	seen = g_new0(bool, nopts);
	for (const struct vtb_option *op = vtb_run_options; op->name; op++)
		if (op->def && !set_value(op, o, op->def, false, err))
			return FALSE;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct vtb_option *op;
		g_autofree char *name = NULL;
		const char *val = NULL, *eq;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = true;
			return TRUE;
		}
		if (strncmp(a, "--", 2) != 0)
			return usage_error(err, "unexpected argument '%s'", a);
		eq = strchr(a, '=');
		name = eq ? g_strndup(a + 2, eq - a - 2) : g_strdup(a + 2);
		for (op = vtb_run_options; op->name; op++)
			if (strcmp(op->name, name) == 0)
				break;
		if (!op->name)
			return usage_error(err, "unknown option --%s", name);
		if (op->type == VTB_OPT_FLAG) {
			if (eq)
				return usage_error(err, "--%s takes no value",
						   name);
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return usage_error(err, "--%s needs a value (%s)", name,
					   op->metavar);
		}
		if (!set_value(op, o, val, seen[op - vtb_run_options], err))
			return FALSE;
		seen[op - vtb_run_options] = true;
		if (op->given >= 0)
			*(bool *)((char *)o + op->given) = true;
	}
	return TRUE;
}

void vtb_opts_clear(struct vtb_opts *o)
{
	for (const struct vtb_option *op = vtb_run_options; op->name; op++) {
		void *field = (char *)o + op->offset;

		if (op->type == VTB_OPT_STR)
			g_clear_pointer((char **)field, g_free);
		else if (op->type == VTB_OPT_LIST)
			g_clear_pointer((char ***)field, g_strfreev);
	}
}

void vtb_cli_print_run_help(FILE *f)
{
	fprintf(f, "Usage: vtbench run [OPTION...]\n\n"
		   "Boot the appliance under each backend and measure each "
		   "workload.\n\nOptions:\n");
	for (const struct vtb_option *op = vtb_run_options; op->name; op++) {
		g_autofree char *lhs = g_strdup_printf(
			"--%s%s%s", op->name, op->metavar ? " " : "",
			op->metavar ? op->metavar : "");

		fprintf(f, "  %-28s %s", lhs, op->help);
		if (op->def)
			fprintf(f, " [%s]", op->def);
		fputc('\n', f);
	}
	fprintf(f, "  %-28s %s\n", "--help", "this text");
	fprintf(f, "\nExit codes: 0 success, 2 bad input or usage, 3 some "
		   "cells failed.\n");
}
