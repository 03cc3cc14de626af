/* `vtbench report`: one self-contained HTML page with SVG charts. */
#include "analysis/report.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "analysis/chart.h"
#include "analysis/compare.h"
#include "core/gitrev.h"
#include "results/results.h"
#include "core/vtbench.h"

/* Chart geometry (SVG user units = CSS pixels). */
#define CHART_W 1000
#define LABEL_MIN 200 /* the labels' column grows to fit, up to LABEL_MAX */
#define LABEL_MAX 520
#define CHAR_W 6.8 /* of a 12px sans-serif character, generously */
#define VALUE_W 210
#define ROW_H 22
#define GROUP_H 24
#define AXIS_H 26

void vtb_html_escape(GString *h, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			g_string_append(h, "&amp;");
			break;
		case '<':
			g_string_append(h, "&lt;");
			break;
		case '>':
			g_string_append(h, "&gt;");
			break;
		case '"':
			g_string_append(h, "&quot;");
			break;
		case '\'':
			g_string_append(h, "&#39;");
			break;
		default:
			g_string_append_c(h, *s);
		}
	}
}

/* printf, then escape the result: for text made from the files' strings. */
static void esc_printf(GString *h, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void esc_printf(GString *h, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *s = NULL;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	vtb_html_escape(h, s);
}

/*
 * Fill colours per backend, in the order the files first name them (a
 * default run: uml blue, kvm orange); the first of two files lighter.
 */
static const char *const backend_colours[][2] = {
	{"#4e79a7", "#a0cbe8"}, {"#f28e2b", "#ffbe7d"}, {"#59a14f", "#8cd17d"},
	{"#b07aa1", "#d4a6c8"}, {"#888888", "#cccccc"},
};

/* The backends the documents name, in first-seen order (borrowed). */
static GPtrArray *doc_backends(struct vtb_rdoc **docs, int n)
{
	GPtrArray *names = g_ptr_array_new();

	for (int f = 0; f < n; f++)
		for (guint i = 0; i < docs[f]->cells->len; i++) {
			const struct vtb_rcell *c = docs[f]->cells->pdata[i];

			if (!g_ptr_array_find_with_equal_func(
				    names, c->backend, g_str_equal, NULL))
				g_ptr_array_add(names, (gpointer)c->backend);
		}
	return names;
}

static const char *bar_colour(const GPtrArray *backends, const char *backend,
			      int file, int nfiles)
{
	guint i = G_N_ELEMENTS(backend_colours) - 1;

	g_ptr_array_find_with_equal_func((GPtrArray *)backends, backend,
					 g_str_equal, &i);
	i = MIN(i, G_N_ELEMENTS(backend_colours) - 1);
	return backend_colours[i][nfiles > 1 && file == 0];
}

static const char *const phase_colours[] = {"#4e79a7", "#f28e2b", "#59a14f",
					    "#e15759", "#76b7b2", "#edc948",
					    "#b07aa1", "#ff9da7", "#9c755f"};

/* A unit as shown: "µs" for the files' "us". */
static const char *unit_text(const char *unit)
{
	return g_strcmp0(unit, "us") == 0 ? "\xc2\xb5s" : unit;
}

/* Gridlines and their values under a chart; "log scale" said by the unit. */
static void axis(GString *h, double x0, double width, const struct vtb_axis *a,
		 double y, double top, const char *unit)
{
	double ticks[64];
	int n = vtb_axis_ticks(a, ticks, G_N_ELEMENTS(ticks));

	for (int i = 0; i < n; i++) {
		double x = x0 + vtb_axis_frac(a, ticks[i]) * width;

		g_string_append_printf(h,
				       "<line x1='%.1f' y1='%.1f' x2='%.1f' "
				       "y2='%.1f' class='grid'/>",
				       x, top, x, y);
		g_string_append_printf(h,
				       "<text x='%.1f' y='%.1f' "
				       "class='tick'>%g</text>",
				       x, y + 14, ticks[i]);
	}
	/* clear of the last tick's value, centred on the axis' end */
	g_string_append_printf(h, "<text x='%.1f' y='%.1f' class='unit'>",
			       x0 + width + 20, y + 14);
	vtb_html_escape(h, unit_text(unit));
	if (a->log)
		g_string_append(h, ", log scale");
	g_string_append(h, "</text>");
}

/*
 * @v on a bar of @width on @a; a negative value (a workload's own metric
 * may be one) is drawn as nothing rather than an invalid SVG.
 */
static double scale(double v, const struct vtb_axis *a, double width)
{
	return vtb_axis_frac(a, v) * width;
}

/* "what the cell measured", without the backend: rows of one group. */
static char *group_of(const struct vtb_rcell *c)
{
	GString *s = g_string_new(c->workload);

	if (strcmp(c->transport, "-") != 0)
		g_string_append_printf(s, " over %s", c->transport);
	if (strcmp(c->cache, "-") != 0)
		g_string_append_printf(s, ", cache=%s", c->cache);
	return g_string_free(s, FALSE);
}

struct bar_row {
	const struct vtb_rcell *cell;
	int file;
	const struct vtb_series *s; /* NULL: the cell has no such metric */
};

/*
 * The rows of a chart: cells grouped by what they measured, the same cell
 * of every file together, so UML sits beside KVM and base beside new.
 * With @metric NULL, every cell.
 */
/* "uml startup", and which file when there are several (its base name). */
static char *row_label(const struct bar_row *r, struct vtb_rdoc **docs, int n)
{
	g_autofree char *base = NULL;

	if (n < 2)
		return g_strdup(r->cell->label);
	base = g_path_get_basename(docs[r->file]->path);
	return g_strdup_printf("%s \xc2\xb7 %s", r->cell->label, base);
}

/* Where the bars start, so that the longest label fits. */
static int label_width(GArray *rows, struct vtb_rdoc **docs, int n)
{
	double w = 0;

	for (guint i = 0; i < rows->len; i++) {
		g_autofree char *l = row_label(
			&g_array_index(rows, struct bar_row, i), docs, n);

		w = MAX(w, g_utf8_strlen(l, -1) * CHAR_W + 16);
	}
	return (int)CLAMP(w, LABEL_MIN, LABEL_MAX);
}

/* Whether a cell measuring @what (of any backend, any file) has @metric. */
static bool what_has(struct vtb_rdoc **docs, int n, const char *what,
		     const char *metric)
{
	for (int f = 0; f < n; f++)
		for (guint i = 0; i < docs[f]->cells->len; i++) {
			const struct vtb_rcell *c = docs[f]->cells->pdata[i];

			if (!strcmp(c->what, what) &&
			    vtb_series_find(c->series, metric))
				return true;
		}
	return false;
}

/* A cell in the chart of @metric: its own, or, failed, where it would be. */
static bool row_wanted(struct vtb_rdoc **docs, int n, const struct bar_row *r,
		       const char *metric)
{
	return !metric || r->s ||
	       (r->cell->n == 0 && what_has(docs, n, r->cell->what, metric));
}

static void chart_rows(struct vtb_rdoc **docs, int n, const char *metric,
		       GPtrArray *groups, GArray *rows)
{
	/* Groups in first-seen order; in each, cells by label, then file. */
	for (int f = 0; f < n; f++)
		for (guint i = 0; i < docs[f]->cells->len; i++) {
			g_autofree char *g = group_of(docs[f]->cells->pdata[i]);

			if (!g_ptr_array_find_with_equal_func(
				    groups, g, g_str_equal, NULL))
				g_ptr_array_add(groups, g_steal_pointer(&g));
		}
	for (guint gi = 0; gi < groups->len; gi++) {
		g_autoptr(GPtrArray) labels = g_ptr_array_new();

		for (int f = 0; f < n; f++)
			for (guint i = 0; i < docs[f]->cells->len; i++) {
				const struct vtb_rcell *c =
					docs[f]->cells->pdata[i];
				g_autofree char *g = group_of(c);

				if (strcmp(g, groups->pdata[gi]) == 0 &&
				    !g_ptr_array_find_with_equal_func(
					    labels, c->label, g_str_equal,
					    NULL))
					g_ptr_array_add(labels, c->label);
			}
		for (guint li = 0; li < labels->len; li++)
			for (int f = 0; f < n; f++)
				for (guint i = 0; i < docs[f]->cells->len;
				     i++) {
					const struct vtb_rcell *c =
						docs[f]->cells->pdata[i];
					struct bar_row r = {c, f, NULL};

					if (strcmp(c->label,
						   labels->pdata[li]) != 0)
						continue;
					r.s = metric ? vtb_series_find(
							       c->series,
							       metric)
						     : NULL;
					if (row_wanted(docs, n, &r, metric))
						g_array_append_val(rows, r);
				}
	}
}

static void bar_chart(GString *h, struct vtb_rdoc **docs, int n,
		      const GPtrArray *backends, const char *metric)
{
	g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) rows =
		g_array_new(FALSE, FALSE, sizeof(struct bar_row));
	const char *unit = "";
	g_autofree char *prev_group = NULL;
	bool higher_better = false;
	double max = 0, min_pos = NAN, y = 8, height;
	struct vtb_axis ax;
	int ngroups = 0, lw, bw;

	chart_rows(docs, n, metric, groups, rows);
	for (guint i = 0; i < rows->len; i++) {
		const struct bar_row *r =
			&g_array_index(rows, struct bar_row, i);
		struct vtb_stats st;

		if (!r->s || !r->s->v->len)
			continue;
		vtb_stats_compute((double *)r->s->v->data, r->s->v->len, &st);
		max = MAX(max, st.max);
		/* the whiskers too: they are drawn on the same axis */
		for (guint k = 0; k < r->s->v->len; k++) {
			double v = g_array_index(r->s->v, double, k);

			if (v > 0 && !(v >= min_pos))
				min_pos = v;
		}
		unit = r->s->unit;
		higher_better = r->s->higher_better;
	}
	if (!rows->len || !(max > 0))
		return;
	vtb_axis_init(&ax, min_pos, max);
	lw = label_width(rows, docs, n);
	bw = CHART_W - lw - VALUE_W;
	for (guint i = 0; i < rows->len; i++) {
		g_autofree char *g =
			group_of(g_array_index(rows, struct bar_row, i).cell);

		if (!prev_group || strcmp(g, prev_group) != 0)
			ngroups++;
		g_free(prev_group);
		prev_group = g_steal_pointer(&g);
	}
	g_clear_pointer(&prev_group, g_free);
	height = 8 + ngroups * GROUP_H + rows->len * ROW_H + AXIS_H;
	g_string_append(h, "<h3>");
	vtb_html_escape(h, metric);
	esc_printf(h, " (%s, %s is better%s)", unit_text(unit),
		   higher_better ? "higher" : "lower",
		   ax.log ? ", log scale" : "");
	g_string_append(h, "</h3>\n");
	g_string_append_printf(h,
			       "<svg class='chart %s' width='%d' height='%.0f' "
			       "viewBox='0 0 %d %.0f' role='img'>",
			       ax.log ? "log" : "linear", CHART_W, height,
			       CHART_W, height);
	axis(h, lw, bw, &ax, height - AXIS_H, 4, unit);
	for (guint i = 0; i < rows->len; i++) {
		const struct bar_row *r =
			&g_array_index(rows, struct bar_row, i);
		g_autofree char *g = group_of(r->cell);
		g_autofree char *med = NULL, *lo = NULL, *hi = NULL;
		g_autofree char *note = NULL, *label = row_label(r, docs, n);
		struct vtb_stats st;
		double cy, x1, x2;

		if (!prev_group || strcmp(g, prev_group) != 0) {
			y += GROUP_H;
			g_string_append_printf(
				h, "<text x='4' y='%.1f' class='group'>",
				y - 7);
			vtb_html_escape(h, g);
			g_string_append(h, "</text>");
			g_free(prev_group);
			prev_group = g_strdup(g);
		}
		cy = y + ROW_H / 2.0;
		g_string_append_printf(h,
				       "<text x='%d' y='%.1f' "
				       "class='label'>",
				       lw - 8, cy + 4);
		vtb_html_escape(h, label);
		g_string_append(h, "</text>");
		if (!r->s || !r->s->v->len) {
			g_string_append_printf(
				h, "<text x='%d' y='%.1f' class='failed'>",
				lw + 4, cy + 4);
			esc_printf(h, "failed: %.90s",
				   r->cell->error ? r->cell->error
						  : "no ok samples");
			g_string_append(h, "</text>");
			y += ROW_H;
			continue;
		}
		vtb_stats_compute((double *)r->s->v->data, r->s->v->len, &st);
		med = vtb_value_text(st.median, unit);
		lo = vtb_value_text(st.min, unit);
		hi = vtb_value_text(st.max, unit);
		note = vtb_noise_note(&st);
		g_string_append_printf(
			h,
			"<rect x='%d' y='%.1f' width='%.1f' height='14' "
			"fill='%s'><title>",
			lw, cy - 7, scale(st.median, &ax, bw),
			bar_colour(backends, r->cell->backend, r->file, n));
		esc_printf(h,
			   "%s (%s): median %s, min %s, max %s, 95 %% CI "
			   "of the median %g..%g, CV %.1f %%, n=%d",
			   r->cell->label, docs[r->file]->path, med, lo, hi,
			   st.ci_lo, st.ci_hi, st.cv * 100, st.n);
		g_string_append(h, "</title></rect>");
		x1 = lw + scale(st.min, &ax, bw);
		x2 = lw + scale(st.max, &ax, bw);
		g_string_append_printf(
			h,
			"<path d='M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f "
			"%.1fV%.1f' class='whisker'/>",
			x1, cy, x2, x1, cy - 5, cy + 5, x2, cy - 5, cy + 5);
		g_string_append_printf(h,
				       "<text x='%d' y='%.1f' class='value'>",
				       lw + bw + 8, cy + 4);
		vtb_html_escape(h, med);
		g_string_append(h, "</text>");
		if (note) {
			g_string_append_printf(
				h, "<text x='%d' y='%.1f' class='noisy'>",
				lw + bw + 90, cy + 4);
			vtb_html_escape(h, note);
			g_string_append(h, "</text>");
		}
		y += ROW_H;
	}
	g_string_append(h, "</svg>\n");
}

/* Every metric any cell has, seconds first, in first-seen order. */
static GPtrArray *metric_names(struct vtb_rdoc **docs, int n)
{
	GPtrArray *names = g_ptr_array_new();

	for (int f = 0; f < n; f++)
		for (guint i = 0; i < docs[f]->cells->len; i++) {
			const struct vtb_rcell *c = docs[f]->cells->pdata[i];

			for (guint m = 0; m < c->series->len; m++) {
				struct vtb_series *s = c->series->pdata[m];

				if (!g_ptr_array_find_with_equal_func(
					    names, s->name, g_str_equal, NULL))
					g_ptr_array_add(names, s->name);
			}
		}
	return names;
}

/*
 * Start-up phases as one stacked bar per cell, all files on one scale,
 * like libguestfs's boot-analysis timeline.
 */
static void phase_timelines(GString *h, struct vtb_rdoc **docs, int n)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) order =
		g_array_new(FALSE, FALSE, sizeof(struct bar_row));
	double max = 0, height, y = 8;
	struct vtb_axis ax;
	guint rows = 0;
	int lw, bw;

	chart_rows(docs, n, NULL, groups, order);
	for (guint i = 0; i < order->len; i++) {
		const struct vtb_rcell *c =
			g_array_index(order, struct bar_row, i).cell;
		double total = 0;

		for (guint p = 0; p < c->phases->len; p++) {
			const struct vtb_rphase *ph = c->phases->pdata[p];

			total += MAX(ph->median, 0);
			if (!g_ptr_array_find_with_equal_func(
				    names, ph->name, g_str_equal, NULL))
				g_ptr_array_add(names, ph->name);
		}
		if (c->phases->len)
			rows++;
		max = MAX(max, total);
	}
	if (!rows || !(max > 0))
		return;
	/* stacked: linear, whatever the span */
	vtb_axis_init(&ax, max, max);
	lw = label_width(order, docs, n);
	bw = CHART_W - lw - VALUE_W;
	g_string_append(
		h, "<h2>Start-up phases</h2>\n<p class='note'>Medians of each "
		   "phase over the measured runs, stacked in order.  The VMM "
		   "to kernel phase is on the host clock; the others come "
		   "from the guest's clock, which explains but does not "
		   "measure.</p>\n");
	height = 8 + rows * (ROW_H + 6) + AXIS_H + 26;
	g_string_append_printf(h,
			       "<svg class='chart' width='%d' height='%.0f' "
			       "viewBox='0 0 %d %.0f' role='img'>",
			       CHART_W, height, CHART_W, height);
	axis(h, lw, bw, &ax, height - AXIS_H - 26, 4, "s");
	for (guint i = 0; i < order->len; i++) {
		const struct bar_row *r =
			&g_array_index(order, struct bar_row, i);
		const struct vtb_rcell *c = r->cell;
		g_autofree char *label = row_label(r, docs, n);
		double x = lw, total = 0;

		if (!c->phases->len)
			continue;
		g_string_append_printf(h,
				       "<text x='%d' y='%.1f' "
				       "class='label'>",
				       lw - 8, y + 15);
		vtb_html_escape(h, label);
		g_string_append(h, "</text>");
		for (guint p = 0; p < c->phases->len; p++) {
			const struct vtb_rphase *ph = c->phases->pdata[p];
			double w = scale(ph->median, &ax, bw);
			guint k = 0;

			g_ptr_array_find_with_equal_func(names, ph->name,
							 g_str_equal, &k);
			g_string_append_printf(
				h,
				"<rect x='%.1f' y='%.1f' width='%.1f' "
				"height='%d' fill='%s'><title>",
				x, y + 3, w, ROW_H - 2,
				phase_colours[k % G_N_ELEMENTS(phase_colours)]);
			esc_printf(h, "%s: %.3f s", ph->name, ph->median);
			g_string_append(h, "</title></rect>");
			if (w > 46) {
				g_string_append_printf(
					h,
					"<text x='%.1f' y='%.1f' "
					"class='inbar'>%.3f</text>",
					x + w / 2, y + 17, ph->median);
			}
			x += w;
			total += MAX(ph->median, 0);
		}
		g_string_append_printf(h,
				       "<text x='%.1f' y='%.1f' "
				       "class='value'>%.3f s</text>",
				       x + 6, y + 17, total);
		y += ROW_H + 6;
	}
	/* The legend, under the axis. */
	y = height - 14;
	for (guint k = 0, x = lw; k < names->len; k++) {
		g_string_append_printf(
			h,
			"<rect x='%u' y='%.1f' width='12' height='12' "
			"fill='%s'/><text x='%u' y='%.1f' class='legend'>",
			x, y - 10,
			phase_colours[k % G_N_ELEMENTS(phase_colours)], x + 16,
			y);
		vtb_html_escape(h, names->pdata[k]);
		g_string_append(h, "</text>");
		x += 30 + 7 * strlen(names->pdata[k]);
	}
	g_string_append(h, "</svg>\n");
}

/* CPU bar colours by thread group (chart.h vtb_cpu_seg). */
static const struct {
	const char *group, *colour, *legend;
} cpu_groups[] = {
	{"vmm", "#4e79a7", "VMM threads (QEMU, linux.uml)"},
	{"guest-user", "#59a14f", "guest user processes (UML)"},
	{"helper", "#b07aa1", "helper daemons"},
	{"vtbench", "#f28e2b", "vtbench"},
	{"few", "#bab0ac", "threads under 5 %, together"},
	{"other", "#9c755f", "other host processes"},
	{"system", "#e15759", "host irq, softirq, steal"},
	{"idle", "#eeeeee", "idle"},
};

#define CPU_BAR_W 300
#define CPU_BAR_H 20
#define CPU_MIN_PCT 5 /* a thread below it is merged (the legend says 5) */

/* @group's row of cpu_groups; NULL for a group this report does not know
 * (its name comes from the file: never put into markup unescaped). */
static int cpu_group(const char *group)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cpu_groups); i++)
		if (strcmp(cpu_groups[i].group, group) == 0)
			return (int)i;
	return -1;
}

/*
 * Where the host's CPU went in a cell's median run: one stacked bar of
 * wall time x cores, a piece per busy thread, then the verdict.
 */
static void cpu_bar(GString *h, const struct vtb_rcpu *cpu)
{
	g_autoptr(GArray) segs = vtb_cpu_segments(cpu, CPU_MIN_PCT);
	double x = 0, sum = 0;

	g_string_append_printf(h,
			       "<svg class='cpu' width='%d' height='%d' "
			       "viewBox='0 0 %d %d' role='img'><title>",
			       CPU_BAR_W, CPU_BAR_H, CPU_BAR_W, CPU_BAR_H);
	esc_printf(h, "host CPU in the median run: %d cores \xc3\x97 %.3g s",
		   cpu->cores, cpu->wall_s);
	if (!isnan(cpu->accounted_pct))
		esc_printf(h, ", %.1f %% accounted for", cpu->accounted_pct);
	if (!isnan(cpu->guest_busy_pct))
		esc_printf(h, "; the guest %.0f %% busy", cpu->guest_busy_pct);
	g_string_append(h, "</title>");
	for (guint i = 0; i < segs->len; i++) {
		const struct vtb_cpu_seg *sg =
			&g_array_index(segs, struct vtb_cpu_seg, i);
		double w = MIN(sg->pct, MAX(100 - sum, 0)) / 100 * CPU_BAR_W;
		g_autofree char *text = NULL;
		int k = cpu_group(sg->group);

		g_string_append_printf(
			h,
			"<rect class='seg g-%s' x='%.1f' y='0' width='%.1f' "
			"height='%d' fill='%s'><title>",
			k < 0 ? "unknown" : cpu_groups[k].group, x, w,
			CPU_BAR_H, k < 0 ? "#888888" : cpu_groups[k].colour);
		if (sg->process)
			esc_printf(h, "%s (%s, %s): ", sg->name, sg->process,
				   sg->group);
		else if (sg->count > 1)
			esc_printf(h, "%s (%d threads): ", sg->name, sg->count);
		else
			esc_printf(h, "%s: ", sg->name);
		esc_printf(h, "%.3g s = %.1f %% of %d cores \xc3\x97 %.3g s",
			   sg->seconds, sg->pct, cpu->cores, cpu->wall_s);
		g_string_append(h, "</title></rect>");
		/* the name where it fits (about 6.2 px a character), else
		 * the share alone, else nothing: the title has it */
		text = g_strdup_printf("%s %.0f%%", sg->name, sg->pct);
		if (w < 6.2 * g_utf8_strlen(text, -1) + 6) {
			g_free(text);
			text = g_strdup_printf("%.0f%%", sg->pct);
		}
		if (w >= 6.2 * g_utf8_strlen(text, -1) + 6) {
			g_string_append_printf(
				h, "<text x='%.1f' y='14' class='seg%s'>",
				x + 3,
				!strcmp(sg->group, "idle") ||
						!strcmp(sg->group, "few")
					? " dark"
					: "");
			vtb_html_escape(h, text);
			g_string_append(h, "</text>");
		}
		x += w;
		sum += sg->pct;
	}
	g_string_append(h, "</svg>");
}

static void cpu_legend(GString *h)
{
	g_string_append(h, "<p class='cpukey note'>Host CPU in each cell's "
			   "median run, as a share of its cores \xc3\x97 "
			   "wall time:");
	for (size_t i = 0; i < G_N_ELEMENTS(cpu_groups); i++) {
		g_string_append_printf(h,
				       "<span class='kitem'><i style='"
				       "background:%s'></i>",
				       cpu_groups[i].colour);
		vtb_html_escape(h, cpu_groups[i].legend);
		g_string_append(h, "</span>");
	}
	g_string_append(h, "</p>\n");
}

/* The median of @c's @metric, NAN when it has none. */
static double cell_median(const struct vtb_rcell *c, const char *metric,
			  struct vtb_stats *st)
{
	const struct vtb_series *s = vtb_series_find(c->series, metric);

	memset(st, 0, sizeof(*st));
	if (!s || !s->v->len)
		return NAN;
	vtb_stats_compute((double *)s->v->data, s->v->len, st);
	return st->median;
}

/* One cell of the comparison: median, notes, CPU bar, verdict. */
static void cmp_cell(GString *h, const struct vtb_rcell *c,
		     const struct vtb_series *head)
{
	struct vtb_stats st;
	double med;
	g_autofree char *v = NULL, *note = NULL;

	if (!c) {
		g_string_append(h, "<td class='none'>not measured</td>");
		return;
	}
	if (!c->n) {
		g_string_append(h, "<td class='failed'>");
		esc_printf(h, "failed: %s",
			   c->error ? c->error : "no ok samples");
		g_string_append(h, "</td>");
		return;
	}
	med = head ? cell_median(c, head->name, &st) : NAN;
	v = vtb_value_text(med, head ? head->unit : "");
	note = vtb_noise_note(&st);
	g_string_append(h, "<td class='cell'><span class='med'>");
	vtb_html_escape(h, v);
	g_string_append(h, "</span> <span class='note'>");
	esc_printf(h, "n=%d", c->n);
	if (c->failed)
		esc_printf(h, ", %d failed", c->failed);
	if (note)
		esc_printf(h, ", %s", note);
	g_string_append(h, "</span>");
	if (c->cpu) {
		g_string_append(h, "<br>");
		cpu_bar(h, c->cpu);
		if (c->cpu->verdict) {
			g_string_append(h, "<div class='cpuverdict'>");
			vtb_html_escape(h, c->cpu->verdict);
			g_string_append(h, "</div>");
		}
	}
	g_string_append(h, "</td>");
}

static const struct vtb_rcell *find_cell(const struct vtb_rdoc *d,
					 const char *what, const char *where)
{
	for (guint i = 0; i < d->cells->len; i++) {
		const struct vtb_rcell *c = d->cells->pdata[i];

		if (!strcmp(c->what, what) && !strcmp(c->where, where))
			return c;
	}
	return NULL;
}

/*
 * The question the suite exists for, first: one row per thing measured,
 * one column per backend (and driver, accelerator), the medians of the
 * metric that answers it, their ratio, and where the CPU went.
 */
static void comparison(GString *h, const struct vtb_rdoc *d, bool name_it)
{
	g_autoptr(GPtrArray) whats = g_ptr_array_new();
	g_autoptr(GPtrArray) wheres = g_ptr_array_new();
	bool any_cpu = false;

	for (guint i = 0; i < d->cells->len; i++) {
		const struct vtb_rcell *c = d->cells->pdata[i];

		if (!g_ptr_array_find_with_equal_func(whats, c->what,
						      g_str_equal, NULL))
			g_ptr_array_add(whats, c->what);
		if (!g_ptr_array_find_with_equal_func(wheres, c->where,
						      g_str_equal, NULL))
			g_ptr_array_add(wheres, c->where);
		any_cpu |= c->cpu != NULL;
	}
	if (!whats->len)
		return;
	if (name_it) {
		g_string_append(h, "<h3 class='name'>");
		vtb_html_escape(h, d->path);
		g_string_append(h, "</h3>\n");
	}
	if (any_cpu)
		cpu_legend(h);
	g_string_append(h, "<table class='cmp'><tr><th>measured</th>");
	for (guint w = 0; w < wheres->len; w++) {
		g_string_append(h, "<th class='col'>");
		vtb_html_escape(h, wheres->pdata[w]);
		g_string_append(h, "</th>");
	}
	if (wheres->len > 1)
		g_string_append(h, "<th>ratio</th>");
	g_string_append(h, "</tr>\n");
	for (guint r = 0; r < whats->len; r++) {
		const struct vtb_series *head = NULL;
		g_autoptr(GPtrArray) ratios =
			g_ptr_array_new_with_free_func(g_free);
		int best = -1;
		double bestv = NAN;

		/* the metric: from the first cell with ok runs */
		for (guint w = 0; !head && w < wheres->len; w++) {
			const struct vtb_rcell *c =
				find_cell(d, whats->pdata[r], wheres->pdata[w]);

			if (c && c->n)
				head = vtb_headline(c->series);
		}
		g_string_append(h, "<tr><th class='what'>");
		vtb_html_escape(h, whats->pdata[r]);
		if (head) {
			g_string_append(h, "<br><span class='note'>");
			esc_printf(h, "%s, %s is better", head->name,
				   head->higher_better ? "higher" : "lower");
			g_string_append(h, "</span>");
		}
		g_string_append(h, "</th>");
		for (guint w = 0; w < wheres->len; w++) {
			const struct vtb_rcell *c =
				find_cell(d, whats->pdata[r], wheres->pdata[w]);
			struct vtb_stats st;
			double v;

			cmp_cell(h, c, head);
			if (!c || !c->n || !head)
				continue;
			v = cell_median(c, head->name, &st);
			if (v > 0 &&
			    (best < 0 ||
			     (head->higher_better ? v > bestv : v < bestv))) {
				best = (int)w;
				bestv = v;
			}
		}
		/* the best against each other one */
		for (guint w = 0; best >= 0 && w < wheres->len; w++) {
			const struct vtb_rcell *c =
				find_cell(d, whats->pdata[r], wheres->pdata[w]);
			struct vtb_stats st;
			char *t;

			if ((int)w == best || !c || !c->n)
				continue;
			t = vtb_ratio_text(wheres->pdata[best], bestv,
					   wheres->pdata[w],
					   cell_median(c, head->name, &st),
					   head->higher_better);
			if (t)
				g_ptr_array_add(ratios, t);
		}
		if (wheres->len > 1) {
			g_string_append(h, "<td class='ratio'>");
			for (guint k = 0; k < ratios->len; k++) {
				if (k)
					g_string_append(h, "<br>");
				vtb_html_escape(h, ratios->pdata[k]);
			}
			if (!ratios->len)
				g_string_append(h, "-");
			g_string_append(h, "</td>");
		}
		g_string_append(h, "</tr>\n");
	}
	g_string_append(h, "</table>\n");
}

static void td(GString *h, const char *cls, const char *text)
{
	if (cls)
		g_string_append_printf(h, "<td class='%s'>", cls);
	else
		g_string_append(h, "<td>");
	vtb_html_escape(h, text ? text : "-");
	g_string_append(h, "</td>");
}

/* The command line a file was made with, as one string. */
static char *command_line(JsonObject *root)
{
	JsonNode *n = json_object_get_member(root, "command_line");
	GString *s = g_string_new("vtbench");
	JsonArray *a;

	if (!n || !JSON_NODE_HOLDS_ARRAY(n))
		return g_string_free(s, FALSE);
	a = json_node_get_array(n);
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonNode *e = json_array_get_element(a, i);

		if (JSON_NODE_HOLDS_VALUE(e) &&
		    json_node_get_value_type(e) == G_TYPE_STRING)
			g_string_append_printf(s, " %s",
					       json_node_get_string(e));
	}
	return g_string_free(s, FALSE);
}

/* One column per file, one row per fact about where it was measured. */
static void files_table(GString *h, struct vtb_rdoc **docs, int n)
{
	static const struct {
		const char *head, *path, *path2;
	} rows[] = {
		{"started", "started", NULL},
		{"host CPU", "host.cpu", "host.cores"},
		{"memory bytes", "host.memory_bytes", NULL},
		{"host kernel", "host.kernel", NULL},
		{"nesting", "host.nesting", NULL},
		{"KVM usable", "host.kvm.usable", "host.kvm.reason"},
		{"UML kernel", "versions.uml_kernel.release",
		 "versions.uml_kernel.build_id"},
		{"guest kernel", "versions.guest_kernel.release",
		 "versions.guest_kernel.build_id"},
		{"QEMU version", "versions.qemu", NULL},
		{"libvirt version", "versions.libvirt", NULL},
		{"vtbench", "versions.vtbench", "versions.git"},
	};

	g_string_append(h,
			"<h2>Files</h2>\n<table class='files'><tr><th></th>");
	for (int f = 0; f < n; f++) {
		g_string_append(h, "<th class='name'>");
		vtb_html_escape(h, docs[f]->path);
		g_string_append(h, "</th>");
	}
	g_string_append(h, "</tr>\n");
	for (size_t k = 0; k < G_N_ELEMENTS(rows); k++) {
		g_string_append_printf(h, "<tr><th>%s</th>", rows[k].head);
		for (int f = 0; f < n; f++) {
			g_autofree char *v =
				vtb_json_text(docs[f]->root, rows[k].path);
			g_autofree char *v2 =
				rows[k].path2 ? vtb_json_text(docs[f]->root,
							      rows[k].path2)
					      : NULL;

			g_string_append(h, "<td>");
			vtb_html_escape(h, v ? v : "-");
			if (v2) {
				g_string_append(h, " <span class='note'>");
				vtb_html_escape(h, v2);
				g_string_append(h, "</span>");
			}
			g_string_append(h, "</td>");
		}
		g_string_append(h, "</tr>\n");
	}
	g_string_append(h, "<tr><th>command</th>");
	for (int f = 0; f < n; f++) {
		g_autofree char *cmd = command_line(docs[f]->root);

		td(h, "name", cmd);
	}
	g_string_append(h, "</tr>\n</table>\n");
	for (int f = 0; f < n; f++)
		if (docs[f]->interrupted) {
			g_string_append(h, "<p class='warn'>");
			esc_printf(h, "%s is from an interrupted run.",
				   docs[f]->path);
			g_string_append(h, "</p>\n");
		}
}

static void cells_table(GString *h, struct vtb_rdoc **docs, int n)
{
	g_string_append(
		h, "<h2>Cells</h2>\n<table><tr><th>file</th><th>cell</th>"
		   "<th>metric</th><th>n</th><th>failed</th><th>median</th>"
		   "<th>95 % CI of the median</th><th>min</th><th>max</th>"
		   "<th>CV</th><th>notes</th></tr>\n");
	for (int f = 0; f < n; f++)
		for (guint i = 0; i < docs[f]->cells->len; i++) {
			const struct vtb_rcell *c = docs[f]->cells->pdata[i];

			for (guint m = 0; m < c->series->len; m++) {
				const struct vtb_series *s =
					c->series->pdata[m];
				struct vtb_stats st;
				g_autofree char *med = NULL, *lo = NULL;
				g_autofree char *hi = NULL, *ci = NULL;
				g_autofree char *cv = NULL, *nn = NULL;
				g_autofree char *fl = NULL, *note = NULL;

				vtb_stats_compute((double *)s->v->data,
						  s->v->len, &st);
				med = vtb_value_text(st.n ? st.median : NAN,
						     s->unit);
				lo = vtb_value_text(st.n ? st.min : NAN,
						    s->unit);
				hi = vtb_value_text(st.n ? st.max : NAN,
						    s->unit);
				ci = st.n ? g_strdup_printf("%.4g .. %.4g",
							    st.ci_lo, st.ci_hi)
					  : g_strdup("-");
				cv = g_strdup_printf("%.1f %%", st.cv * 100);
				nn = g_strdup_printf("%d", st.n);
				fl = g_strdup_printf("%d", c->failed);
				note = vtb_noise_note(&st);
				if (!note && !st.n)
					note = g_strdup_printf(
						"failed: %s",
						c->error ? c->error : "?");
				g_string_append(h, "<tr>");
				td(h, "name", docs[f]->path);
				td(h, NULL, c->label);
				td(h, NULL, s->name);
				td(h, "num", nn);
				td(h, "num", fl);
				td(h, "num", med);
				td(h, "num", ci);
				td(h, "num", lo);
				td(h, "num", hi);
				td(h, "num", cv);
				td(h, note ? "warn" : NULL, note ? note : "");
				g_string_append(h, "</tr>\n");
			}
		}
	g_string_append(h, "</table>\n");
}

static void compare_table(GString *h, const struct vtb_comparison *c)
{
	g_string_append(h, "<h2>Changes</h2>\n<p class='note'>");
	esc_printf(h,
		   "Base %s, new %s.  A change is significant when the "
		   "permutation test gives p < %g and the median moved by at "
		   "least %g %%; it is a regression when that is the worse "
		   "way for the metric.",
		   c->base->path, c->new_->path, c->alpha, c->threshold * 100);
	g_string_append(h, "</p>\n");
	for (guint i = 0; i < c->kernels->len; i++) {
		g_string_append(h, "<p class='note'>");
		vtb_html_escape(h, c->kernels->pdata[i]);
		g_string_append(h, "</p>\n");
	}
	for (guint i = 0; i < c->env_warnings->len; i++) {
		g_string_append(h, "<p class='warn'>Warning: ");
		vtb_html_escape(h, c->env_warnings->pdata[i]);
		g_string_append(h, "</p>\n");
	}
	g_string_append_printf(
		h, "<p class='verdict %s'>%d significant regression%s</p>\n",
		c->regressions ? "bad" : "good", c->regressions,
		c->regressions == 1 ? "" : "s");
	g_string_append(h, "<table><tr><th>cell</th><th>metric</th>"
			   "<th>base median</th><th>new median</th>"
			   "<th>change</th><th>p</th><th>verdict</th>"
			   "<th>notes</th></tr>\n");
	for (guint i = 0; i < c->rows->len; i++) {
		const struct vtb_cmp_row *r =
			&g_array_index(c->rows, struct vtb_cmp_row, i);
		g_autofree char *b =
			vtb_value_text(r->bst.n ? r->bst.median : NAN, r->unit);
		g_autofree char *nv =
			vtb_value_text(r->nst.n ? r->nst.median : NAN, r->unit);
		g_autofree char *ch = vtb_format_change(r->change);
		g_autofree char *p = vtb_format_p(r->p);
		const char *cls = r->verdict == VTB_VERDICT_REGRESSION ? "reg"
				  : r->verdict == VTB_VERDICT_IMPROVEMENT
					  ? "imp"
				  : r->verdict == VTB_VERDICT_SAME ? "same"
								   : "none";
		/* the sign alone, coloured by whether it is worse */
		const char *dir = isnan(r->change) || r->change == 0 ? "flat"
				  : (r->change > 0) == r->higher_better
					  ? "better"
					  : "worse";

		g_string_append_printf(h, "<tr class='%s'>", cls);
		td(h, NULL, r->base->label);
		td(h, NULL, r->metric);
		td(h, "num", b);
		td(h, "num", nv);
		g_string_append_printf(h, "<td class='num %s'>", dir);
		vtb_html_escape(h, ch);
		g_string_append(h, "</td>");
		td(h, "num", p);
		td(h, "verdict",
		   r->failed ? "FAILED" : vtb_verdict_name(r->verdict));
		td(h, NULL, r->note ? r->note : "");
		g_string_append(h, "</tr>\n");
	}
	g_string_append(h, "</table>\n");
	for (guint i = 0; i < c->only_base->len; i++) {
		const struct vtb_rcell *x = c->only_base->pdata[i];

		g_string_append(h, "<p>Only in base: ");
		vtb_html_escape(h, x->label);
		g_string_append(h, "</p>\n");
	}
	for (guint i = 0; i < c->only_new->len; i++) {
		const struct vtb_rcell *x = c->only_new->pdata[i];

		g_string_append(h, "<p>Only in new: ");
		vtb_html_escape(h, x->label);
		g_string_append(h, "</p>\n");
	}
	for (guint i = 0; i < c->notes->len; i++) {
		g_string_append(h, "<p class='note'>");
		vtb_html_escape(h, c->notes->pdata[i]);
		g_string_append(h, "</p>\n");
	}
}

static const char style[] =
	"body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
	"h1{font-size:22px}h2{font-size:18px;margin-top:28px;"
	"border-bottom:1px solid #ccc}h3{font-size:15px;margin:18px 0 4px}"
	"table{border-collapse:collapse;font-size:13px;margin:6px 0}"
	"th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;"
	"vertical-align:top}th{background:#f3f3f3}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums;"
	"white-space:nowrap}td.name{font-family:monospace}"
	"tr.reg td{background:#fde0dd}tr.reg td.verdict{color:#b00;"
	"font-weight:bold}tr.imp td{background:#e5f5e0}"
	"tr.same td,tr.none td{color:#555}tr.reg td.worse{color:#b00;"
	"font-weight:bold}tr.imp td.better{color:#080;font-weight:bold}"
	".warn{color:#a05a00}.note{color:#555;font-size:13px}"
	".verdict.bad{color:#b00;font-weight:bold}"
	".verdict.good{color:#080;font-weight:bold}"
	"svg.chart{display:block;font-size:12px}"
	"svg .grid{stroke:#e4e4e4}svg .tick{fill:#666;text-anchor:middle}"
	"svg .unit{fill:#666;text-anchor:start}"
	"svg .label{text-anchor:end}svg .group{font-weight:bold}"
	"svg .whisker{stroke:#222;stroke-width:1.2;fill:none}"
	"svg .value{fill:#222}svg .noisy{fill:#a05a00}"
	"svg .failed{fill:#b00}svg .inbar{fill:#fff;text-anchor:middle;"
	"font-size:11px}svg .legend{fill:#222}"
	"table.files th{text-align:right}table.files th.name{text-align:left;"
	"font-family:monospace}"
	".key span{display:inline-block;width:12px;height:12px;"
	"margin:0 4px 0 12px;vertical-align:-1px}"
	".cpukey i{display:inline-block;width:11px;height:11px;"
	"margin:0 4px 0 12px;vertical-align:-1px;border:1px solid #bbb}"
	".cpukey .kitem{white-space:nowrap}"
	"table.cmp{font-size:13px}table.cmp th.what{font-weight:normal;"
	"background:#fafafa;min-width:180px}table.cmp th.col{font-size:14px}"
	"table.cmp td{padding:5px 8px}"
	"table.cmp .med{font-size:16px;font-weight:bold;"
	"font-variant-numeric:tabular-nums}"
	"table.cmp td.failed{color:#b00;max-width:300px}"
	"table.cmp td.none{color:#888}"
	"table.cmp td.ratio{font-weight:bold;max-width:200px}"
	"svg.cpu{display:block;margin:5px 0 2px;border:1px solid #ccc}"
	"svg rect.seg{stroke:#fff;stroke-width:1}"
	"svg text.seg{fill:#fff;font-size:11px}svg text.seg.dark{fill:#333}"
	".cpuverdict{font-size:12px;color:#333;max-width:302px}"
	"details>summary{cursor:pointer;font-size:15px;margin:16px 0 4px}";

static void colour_key(GString *h, const GPtrArray *backends, int n)
{
	g_string_append(h, "<p class='key note'>");
	for (int f = 0; f < MIN(n, 2); f++)
		for (guint b = 0; b < backends->len; b++) {
			g_string_append_printf(
				h, "<span style='background:%s'></span>",
				bar_colour(backends, backends->pdata[b], f, n));
			vtb_html_escape(h, backends->pdata[b]);
			g_string_append(h, n > 1 && !f ? " (first file)" : "");
		}
	g_string_append(h, "; bars are medians of the measured runs, whiskers "
			   "span min to max.</p>\n");
}

char *vtb_report_html(struct vtb_rdoc **docs, int n, double alpha,
		      double threshold)
{
	GString *h = g_string_new(NULL);
	g_autoptr(GPtrArray) metrics = metric_names(docs, n);
	g_autoptr(GPtrArray) backends = doc_backends(docs, n);
	g_autoptr(GHashTable) heads = g_hash_table_new(g_str_hash, g_str_equal);

	for (int f = 0; f < n; f++)
		for (guint i = 0; i < docs[f]->cells->len; i++) {
			const struct vtb_rcell *c = docs[f]->cells->pdata[i];
			const struct vtb_series *s =
				c->n ? vtb_headline(c->series) : NULL;

			if (s)
				g_hash_table_add(heads, s->name);
		}

	g_string_append(h, "<!DOCTYPE html>\n<html lang='en'><head>"
			   "<meta charset='utf-8'>"
			   /* no favicon request: the page fetches nothing */
			   "<link rel='icon' href='data:,'>"
			   "<title>vtbench report</title><style>");
	g_string_append(h, style);
	g_string_append(h, "</style></head>\n<body>\n<h1>vtbench report</h1>\n"
			   "<p class='note'>");
	esc_printf(h, "Made by vtbench %s (%s) from %d file%s.",
		   PACKAGE_VERSION, VTB_GIT_REV, n, n == 1 ? "" : "s");
	g_string_append(h, "</p>\n");
	g_string_append(h, "<h2>Backends side by side</h2>\n<p class='note'>"
			   "One row per thing measured, one column per "
			   "backend: the median of the measured runs of the "
			   "metric that answers it (the workload's own rate "
			   "or latency, else the throughput, else the "
			   "seconds), and their ratio.</p>\n");
	for (int f = 0; f < n; f++)
		comparison(h, docs[f], n > 1);
	if (n == 2) {
		struct vtb_comparison *c =
			vtb_compare(docs[0], docs[1], alpha, threshold);

		compare_table(h, c);
		vtb_comparison_free(c);
	}
	g_string_append(h, "<h2>Metrics</h2>\n");
	colour_key(h, backends, n);
	/* the metrics that answer a cell first, the others folded */
	for (guint m = 0; m < metrics->len; m++)
		if (g_hash_table_contains(heads, metrics->pdata[m]))
			bar_chart(h, docs, n, backends, metrics->pdata[m]);
	if (metrics->len > g_hash_table_size(heads)) {
		guint others = metrics->len - g_hash_table_size(heads);

		if (others == 1)
			g_string_append(h, "<details><summary>The other "
					   "metric</summary>\n");
		else
			g_string_append_printf(h,
					       "<details><summary>The other %u "
					       "metrics</summary>\n",
					       others);
		for (guint m = 0; m < metrics->len; m++)
			if (!g_hash_table_contains(heads, metrics->pdata[m]))
				bar_chart(h, docs, n, backends,
					  metrics->pdata[m]);
		g_string_append(h, "</details>\n");
	}
	phase_timelines(h, docs, n);
	cells_table(h, docs, n);
	files_table(h, docs, n);
	g_string_append(h, "</body></html>\n");
	return g_string_free(h, FALSE);
}
