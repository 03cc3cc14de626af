/* Workload `idle`: the guest sleeps for --duration: what a guest that does
 * nothing costs the host (its timer ticks, the VMM's own loop), read from
 * the run's CPU attribution. */
#include "engine/engine.h"

static guint64 sleep_us(const struct vtb_xfer *x)
{
	return (guint64)(x->cell->env->opts->duration * 1e6);
}

static void idle_fill_run(struct vtb_xfer *x, struct vtb_run *run)
{
	run->size = sleep_us(x);
	run->block = 0;
	run->path[0] = run->path2[0] = '\0';
}

/* The guest slept as long as asked, and moved nothing. */
static gboolean idle_check(struct vtb_xfer *x, const struct vtb_result *r,
			   GError **err)
{
	double asked = sleep_us(x) / 1e6;
	double slept = (r->t_end_ns - r->t_start_ns) / 1e9;

	if (r->err) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "the guest: %s (%s)",
			    g_strerror(r->err), r->detail);
		return FALSE;
	}
	if (r->bytes || r->t_end_ns < r->t_start_ns || slept < asked * 0.999 ||
	    slept > asked + 60) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "the guest slept %.3f s of %.3f s and moved "
			    "%" G_GUINT64_FORMAT " bytes",
			    slept, asked, (guint64)r->bytes);
		return FALSE;
	}
	return TRUE;
}

const struct vtb_workload_ops vtb_workload_idle = {
	.name = "idle",
	.help = "the guest sleeps for --duration: what an idle guest costs "
		"the host, from the CPU attribution",
	.needs = 0,
	.flags = VTB_WL_STATELESS | VTB_WL_OWN_DATA,
	.work = VTB_WORK_SLEEP,
	.fill_run = idle_fill_run,
	.check_result = idle_check,
};
