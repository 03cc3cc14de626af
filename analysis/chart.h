/* The report's pure helpers: axes, ratios, CPU bars, headline metrics. */
#ifndef VTB_CHART_H
#define VTB_CHART_H

#include <glib.h>
#include <stdbool.h>

#include "results/resfile.h"

/* Values spanning more than this many times are drawn on a log axis. */
#define VTB_LOG_SPAN 100.0

/* A chart's horizontal axis, from its values. */
struct vtb_axis {
	bool log;
	double lo, hi; /* its ends; log: powers of ten around the values */
};

/*
 * The axis for values from @min_pos (the smallest value > 0, or NAN when
 * none) to @max (> 0): linear from 0 unless @max / @min_pos exceeds
 * VTB_LOG_SPAN, then log from the decade below @min_pos to the one above
 * @max.
 */
void vtb_axis_init(struct vtb_axis *a, double min_pos, double max);
/* Where @v falls on @a, from 0 to 1 (clamped; log: 0 for v <= 0). */
double vtb_axis_frac(const struct vtb_axis *a, double v);
/*
 * Up to @max gridline values for @a into @ticks, in order, and how many:
 * linear, round steps from 0 (about five); log, every power of ten, and
 * 2 and 5 of each decade when there are at most three.
 */
int vtb_axis_ticks(const struct vtb_axis *a, double *ticks, int max);

/*
 * "uml 4.2× faster than kvm/direct/tcg": which of @a (median @va) and @b
 * (@vb) wins and by how much, higher or lower being better; "about equal
 * (1.03×)" within 5 %.  NULL when either is not a positive number.
 */
char *vtb_ratio_text(const char *a, double va, const char *b, double vb,
		     bool higher_better);

/* "312 µs", "0.0312 MB/s", "1.23 s": a value with 3 significant digits. */
char *vtb_value_text(double v, const char *unit);

/*
 * The series that answers the suite's question for a cell (borrowed from
 * @series, struct vtb_series *, "seconds" first): the workload's own
 * rate or latency when it has one (the first in 1/s or us, which is what
 * it summarises itself by), else the throughput when bytes moved, else
 * seconds.  NULL when @series is empty.
 */
const struct vtb_series *vtb_headline(GPtrArray *series);

/* One piece of a stacked CPU bar. */
struct vtb_cpu_seg {
	const char *name;    /* thread, or what the piece is */
	const char *process; /* NULL: not one thread */
	const char *group;   /* vmm, guest-user, helper, vtbench, few, other,
			      * system, idle */
	int count;	     /* threads in it */
	double seconds, pct; /* CPU seconds; % of wall_s × cores */
};

/*
 * The pieces of @cpu's bar, in order: each thread of at least @min_pct,
 * busiest first; the smaller threads as one piece ("others < N %",
 * group "few"); other host processes; host system time; idle.  Empty
 * pieces are left out.  Free with g_array_unref().
 */
GArray *vtb_cpu_segments(const struct vtb_rcpu *cpu, double min_pct);

#endif
