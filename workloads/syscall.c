/*
 * Workload `syscall`: micro-benchmarks of the guest kernel run by the
 * agent (getpid, open/close, stat, a pipe ping-pong, fork, fork+exec, page
 * faults), each a fixed count timed by the guest, the whole by the host:
 * what a guest system call costs on each backend.
 */
#include "workloads/syscall.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry.h"
#include "engine/lines.h"

extern const struct vtb_workload_ops vtb_workload_syscall;

/*
 * Counts for ~0.15 s each on UML, the slower for every op: here (no AMX,
 * a busy 2-core host) UML took 65 us per getpid, 20-40 ms per fork_exec
 * and 160-300 us per page fault; QEMU/TCG 0.8 us, 6.4 ms and 10 us.  A
 * run is ~1.5 s on UML, 0.2 s on TCG.
 */
const struct vtb_syscall_op vtb_syscall_ops[] = {
	{"getpid", 2500},     {"open_close", 1000},
	{"stat", 2000},	      {"pipe_pingpong", 500},
	{"fork_wait", 25},    {"fork_exec", 10},
	{"page_fault", 1024}, {NULL, 0},
};

const struct vtb_syscall_op *vtb_syscall_op_find(const char *name)
{
	for (const struct vtb_syscall_op *o = vtb_syscall_ops; o->name; o++)
		if (g_str_equal(o->name, name))
			return o;
	return NULL;
}

gboolean vtb_syscall_parse(const char *text, gsize len,
			   const char *const *names, const guint64 *counts,
			   guint n, guint64 *ns, GError **err)
{
	struct vtb_lines l;

	if (!vtb_lines_begin(&l, "syscall", text, len, err))
		return FALSE;
	for (guint i = 0; i < n; i++) {
		guint64 count;

		if (!vtb_lines_next(&l, names[i], "OP COUNT NS", &count, &ns[i],
				    err))
			return FALSE;
		if (count != counts[i])
			return vtb_lines_fail(&l, err,
					      "%s: %" G_GUINT64_FORMAT
					      " runs where %" G_GUINT64_FORMAT
					      " were asked",
					      names[i], count, counts[i]);
		if (!ns[i] || ns[i] / count > 1000000000u)
			return vtb_lines_fail(
				&l, err,
				"%s: %" G_GUINT64_FORMAT
				" ns for %" G_GUINT64_FORMAT
				" runs is not a time (0, or over 1 s each)",
				names[i], ns[i], count);
	}
	return vtb_lines_end(&l, "the last op", err);
}

/* ---- the workload ---- */

struct syscall_opts {
	char **ops;
	double scale;
};

/* What one sample asked for and what came back, kept with the guest. */
struct sys_run {
	guint n;
	const char *names[G_N_ELEMENTS(vtb_syscall_ops)];
	guint64 counts[G_N_ELEMENTS(vtb_syscall_ops)];
	guint lines; /* DATA messages that held a line */
	GString *out;
};

static void sys_run_free(gpointer p)
{
	struct sys_run *r = p;

	g_string_free(r->out, TRUE);
	g_free(r);
}

static gboolean syscall_prepare(struct vtb_xfer *x, GError **err)
{
	struct sys_run *r = g_new0(struct sys_run, 1);

	(void)err;
	r->out = g_string_new(NULL);
	x->priv = r;
	x->priv_free = sys_run_free;
	return TRUE;
}

static void syscall_fill_run(struct vtb_xfer *x, struct vtb_run *run)
{
	const struct syscall_opts *o =
		vtb_workload_opts(x->cell->env->opts, &vtb_workload_syscall);
	struct sys_run *r = x->priv;
	double scale = o && o->scale > 0 ? o->scale : 1;
	const char *hook = g_getenv("VTBENCH_TEST_SYSCALL_ARGS");
	g_autoptr(GString) args = g_string_new(NULL);

	r->n = 0;
	for (const struct vtb_syscall_op *op = vtb_syscall_ops; op->name;
	     op++) {
		if (o && o->ops &&
		    !g_strv_contains((const char *const *)o->ops, op->name))
			continue;
		r->names[r->n] = op->name;
		r->counts[r->n] = MAX((guint64)(op->count * scale), 1);
		g_string_append_printf(args, "%s%s=%" G_GUINT64_FORMAT,
				       r->n ? " " : "", op->name,
				       r->counts[r->n]);
		r->n++;
	}
	/* Test hook: the guest asked for something else than expected. */
	g_strlcpy(run->args, hook ? hook : args->str, sizeof(run->args));
}

/*
 * The guest sends each op's line when the op ended; the timed part ends
 * at the last.  The host's clock between two lines is no op's time: under
 * TCG READY and getpid's line (4 ms apart in the guest) arrived 3 us
 * apart, the guest's output held back and sent together.
 */
static gboolean syscall_feed(struct vtb_xfer *x, GError **err)
{
	const struct syscall_opts *o =
		vtb_workload_opts(x->cell->env->opts, &vtb_workload_syscall);
	struct sys_run *r = x->priv;
	double scale = o && o->scale > 1 ? o->scale : 1;

	/* UML's fork_exec took up to 53 ms each: 10 of them < 1 s. */
	return vtb_lines_receive(x, "syscall", r->n, (gint64)(60e6 * scale),
				 r->out, &r->lines, err);
}

static gboolean syscall_check(struct vtb_xfer *x, const struct vtb_result *res,
			      GError **err)
{
	struct sys_run *r = x->priv;
	guint64 ns[G_N_ELEMENTS(vtb_syscall_ops)];
	double guest_s = 0, host_s = (x->t_end_us - x->t0_us) / 1e6;

	if (!vtb_lines_result("syscall", res, r->out, err))
		return FALSE;
	if (!vtb_syscall_parse(r->out->str, r->out->len, r->names, r->counts,
			       r->n, ns, err))
		return FALSE;
	/* The parse found n whole lines: one per DATA, as proto.h says. */
	if (r->lines != r->n) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "syscall: %u lines came in %u messages, not one "
			    "each",
			    r->n, r->lines);
		return FALSE;
	}
	for (guint i = 0; i < r->n; i++) {
		g_autofree char *name = g_strdup_printf("%s_ns", r->names[i]);

		/* Interned: a metric's name outlives the sample (static). */
		vtb_sample_add_metric(x->s, g_intern_string(name),
				      VTB_UNIT_PER_OP, false,
				      (double)ns[i] / r->counts[i]);
		guest_s += ns[i] / 1e9;
	}
	/*
	 * The ops ran within the host's timed part: a guest clock that says
	 * they took longer ran fast, and its figures with it (1 ms: the two
	 * ends of a message).
	 */
	if (guest_s > host_s * 1.01 + 0.001)
		vtb_sample_add_note(x->s,
				    "the guest's clock gave its ops %.6f s, "
				    "the host's %.6f s to all of them: the "
				    "ns/op figures are the guest's",
				    guest_s, host_s);
	/* Nothing crossed a transport. */
	x->s->bytes = 0;
	return TRUE;
}

static const char *const op_names[] = {VTB_SYSCALL_OPS, NULL};

static gboolean check_scale(const char *opt, double v, GError **err)
{
	if (v > 0 && v <= 1000)
		return TRUE;
	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
		    "--%s %g: a factor above 0, at most 1000", opt, v);
	return FALSE;
}

#define OFF(f) offsetof(struct syscall_opts, f)
/* clang-format off */
static const struct vtb_option syscall_options[] = {
	{ "syscall-ops", VTB_OPT_LIST, OFF(ops),
	  "getpid,open_close,stat,pipe_pingpong,fork_wait,fork_exec,page_fault",
	  "LIST", "syscall's micro-benchmarks, always run in this order: getpid, "
	  "open_close (a tmpfs file), stat, pipe_pingpong (64 bytes to "
	  "another process and back), fork_wait, fork_exec (a static "
	  "binary), page_fault (fresh anonymous memory)", NULL, 0, -1,
	  op_names },
	{ "syscall-scale", VTB_OPT_NUM, OFF(scale), "1", "FACTOR",
	  "multiply syscall's counts (getpid 2500 ... fork_exec 10)",
	  NULL, 0, -1, NULL, 0, check_scale },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1, NULL, 0, NULL },
};
/* clang-format on */

const struct vtb_workload_ops vtb_workload_syscall = {
	.name = "syscall",
	.help = "the guest kernel's micro-benchmarks (getpid, open+close, "
		"stat, pipe ping-pong, fork, fork+exec, page faults): ns per "
		"operation",
	.needs = 0,
	.flags = VTB_WL_STATELESS | VTB_WL_OWN_DATA,
	.work = VTB_WORK_SYSCALL,
	.prepare = syscall_prepare,
	.fill_run = syscall_fill_run,
	.feed = syscall_feed,
	.check_result = syscall_check,
	.options = syscall_options,
	.options_size = sizeof(struct syscall_opts),
};
