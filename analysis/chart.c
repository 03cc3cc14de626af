/* The report's pure helpers: axes, ratios, CPU bars, headline metrics. */
#include "analysis/chart.h"

#include <math.h>
#include <string.h>

#include "results/results.h"

void vtb_axis_init(struct vtb_axis *a, double min_pos, double max)
{
	if (!(max > 0)) {
		*a = (struct vtb_axis){false, 0, 1};
		return;
	}
	if (min_pos > 0 && max / min_pos > VTB_LOG_SPAN) {
		a->log = true;
		a->lo = pow(10, floor(log10(min_pos)));
		a->hi = pow(10, ceil(log10(max)));
		return;
	}
	a->log = false;
	a->lo = 0;
	a->hi = max * 1.05;
}

double vtb_axis_frac(const struct vtb_axis *a, double v)
{
	double f;

	if (!isfinite(v))
		return 0;
	if (a->log) {
		if (!(v > 0))
			return 0;
		f = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
	} else {
		f = (v - a->lo) / (a->hi - a->lo);
	}
	return CLAMP(f, 0, 1);
}

/* A round step for about five gridlines up to @max. */
static double nice_step(double max)
{
	double raw = max / 5, mag, f;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return mag * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10);
}

int vtb_axis_ticks(const struct vtb_axis *a, double *ticks, int max)
{
	double step;
	int n = 0;

	if (a->log) {
		int d0 = (int)lround(log10(a->lo));
		int d1 = (int)lround(log10(a->hi));
		bool fine = d1 - d0 <= 3;

		for (int d = d0; d <= d1 && n < max; d++) {
			double p = pow(10, d);

			ticks[n++] = p;
			if (fine && d < d1 && n + 2 <= max) {
				ticks[n++] = 2 * p;
				ticks[n++] = 5 * p;
			}
		}
		return n;
	}
	step = nice_step(a->hi);
	/* by index, so that the ticks are round (0.3, not 0.30000000004) */
	for (int i = 0; i * step <= a->hi * 1.0001 && n < max; i++)
		ticks[n++] = i * step;
	return n;
}

/* "4.2×", "12×", "1.03×" */
static char *times(double r, int decimals)
{
	return g_strdup_printf("%.*f\xc3\x97", r < 10 ? decimals : 0, r);
}

char *vtb_ratio_text(const char *a, double va, const char *b, double vb,
		     bool higher_better)
{
	bool a_wins;
	double r;
	g_autofree char *x = NULL;

	if (!(va > 0) || !(vb > 0) || !isfinite(va) || !isfinite(vb))
		return NULL;
	a_wins = higher_better ? va >= vb : va <= vb;
	r = a_wins ? (higher_better ? va / vb : vb / va)
		   : (higher_better ? vb / va : va / vb);
	if (r < 1.05) {
		x = times(r, 2);
		return g_strdup_printf("about equal (%s)", x);
	}
	x = times(r, 1);
	return g_strdup_printf("%s %s faster than %s", a_wins ? a : b, x,
			       a_wins ? b : a);
}

char *vtb_value_text(double v, const char *unit)
{
	const char *u = unit ? unit : "";
	char num[32];

	if (!isfinite(v))
		return g_strdup("-");
	/* three significant digits, trailing zeros kept (1.00 s, not 1 s),
	 * and never 1.23e+03 */
	if (fabs(v) >= 100 || v == 0)
		g_snprintf(num, sizeof(num), "%.0f", v);
	else if (fabs(v) >= 10)
		g_snprintf(num, sizeof(num), "%.1f", v);
	else
		g_snprintf(num, sizeof(num), "%#.3g", v);
	if (strcmp(u, "us") == 0)
		u = "\xc2\xb5s";
	return g_strdup_printf("%s%s%s", num, *u ? " " : "", u);
}

const struct vtb_series *vtb_headline(GPtrArray *series)
{
	const struct vtb_series *tput = NULL;

	if (!series || !series->len)
		return NULL;
	for (guint i = 0; i < series->len; i++) {
		const struct vtb_series *s = series->pdata[i];

		if (strcmp(s->name, VTB_METRIC_THROUGHPUT) == 0)
			tput = s;
		else if (strcmp(s->name, VTB_METRIC_SECONDS) != 0 &&
			 (strcmp(s->unit, "1/s") == 0 ||
			  strcmp(s->unit, "us") == 0))
			return s;
	}
	return tput ? tput : series->pdata[0];
}

static void add_seg(GArray *segs, const char *name, const char *process,
		    const char *group, int count, double secs, double whole)
{
	struct vtb_cpu_seg s = {name,  process, group,
				count, secs,	100 * secs / whole};

	if (secs > 0)
		g_array_append_val(segs, s);
}

static int busiest_first(gconstpointer a, gconstpointer b)
{
	const struct vtb_rthread *x = *(const struct vtb_rthread *const *)a;
	const struct vtb_rthread *y = *(const struct vtb_rthread *const *)b;

	return (x->cpu_s < y->cpu_s) - (x->cpu_s > y->cpu_s);
}

GArray *vtb_cpu_segments(const struct vtb_rcpu *cpu, double min_pct)
{
	GArray *segs = g_array_new(FALSE, TRUE, sizeof(struct vtb_cpu_seg));
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	double whole = cpu->wall_s * cpu->cores, few = 0;
	int nfew = 0;

	if (!(whole > 0))
		return segs;
	for (guint i = 0; i < cpu->threads->len; i++)
		g_ptr_array_add(order, &g_array_index(cpu->threads,
						      struct vtb_rthread, i));
	g_ptr_array_sort(order, busiest_first);
	for (guint i = 0; i < order->len; i++) {
		const struct vtb_rthread *t = order->pdata[i];

		if (100 * t->cpu_s / whole >= min_pct) {
			add_seg(segs, t->thread, t->process, t->group, 1,
				t->cpu_s, whole);
		} else if (t->cpu_s > 0) {
			few += t->cpu_s;
			nfew++;
		}
	}
	if (nfew) {
		/* the name lives as long as the program: interned */
		g_autofree char *name =
			g_strdup_printf("others < %g %%", min_pct);

		add_seg(segs, g_intern_string(name), NULL, "few", nfew, few,
			whole);
	}
	add_seg(segs, "other processes", NULL, "other", 0, cpu->other_s, whole);
	add_seg(segs, "host system", NULL, "system", 0, cpu->system_s, whole);
	add_seg(segs, "idle", NULL, "idle", 0, cpu->idle_s, whole);
	return segs;
}
