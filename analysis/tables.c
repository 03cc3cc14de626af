/* The tables `run` prints after its cells: the upload split, the flush
 * audit, the figures per operation. */
#include "analysis/tables.h"

#include <string.h>

#include "core/registry.h"
#include "results/cell.h"
#include "results/results.h"

static bool same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* "-" (not part of @c) or the same as in @u. */
static bool same_or_unset(const char *c, const char *u)
{
	return same(c, "-") || same(c, u);
}

/*
 * The cell of workload @w that takes apart @u: the same backend, driver,
 * payload and bytes, and every parameter it has the same as @u's (a
 * no-write cell has no target; a no-upload cell no transport).
 */
static const struct vtb_cell *find_part(const struct vtb_matrix *r,
					const struct vtb_cell *u,
					const struct vtb_workload_ops *w)
{
	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];

		if (c->workload == w && c->backend == u->backend &&
		    same(c->driver, u->driver) &&
		    same(c->payload, u->payload) && c->size == u->size &&
		    same_or_unset(c->transport, u->transport) &&
		    same_or_unset(c->cache, u->cache) &&
		    same_or_unset(c->aio, u->aio) &&
		    same_or_unset(c->variant, u->variant) &&
		    same_or_unset(c->target, u->target) &&
		    same_or_unset(c->image, u->image) &&
		    same_or_unset(c->fs, u->fs))
			return c;
	}
	return NULL;
}

/* The workloads whose split_of is @name, in table order. */
static GPtrArray *parts_of(const char *name)
{
	GPtrArray *p = g_ptr_array_new();

	for (int i = 0; vtb_workloads[i]; i++)
		if (vtb_workloads[i]->split_of &&
		    same(vtb_workloads[i]->split_of, name))
			g_ptr_array_add(p, (gpointer)vtb_workloads[i]);
	return p;
}

void vtb_print_split(const struct vtb_matrix *r, FILE *f)
{
	const struct vtb_workload_ops *header = NULL;

	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *u = r->cells->pdata[i];
		g_autoptr(GPtrArray) parts = parts_of(u->workload->name);
		g_autofree struct vtb_summary *sp = NULL;
		g_autofree char *label = NULL;
		struct vtb_summary su;
		double mb = u->size / 1e6, slowest = 0;
		bool all = parts->len > 0;

		vtb_cell_summary(u, &su);
		sp = g_new0(struct vtb_summary, parts->len);
		for (guint k = 0; all && k < parts->len; k++) {
			const struct vtb_cell *c =
				find_part(r, u, parts->pdata[k]);

			if (!c)
				all = false;
			else
				vtb_cell_summary(c, &sp[k]);
			all = all && sp[k].n;
			slowest = MAX(slowest, sp[k].median);
		}
		if (!all || !su.n)
			continue;
		if (header != u->workload) {
			fprintf(f, "\n%-44s %16s", "upload split (medians)",
				u->workload->name);
			for (guint k = 0; k < parts->len; k++)
				fprintf(f, " %16s",
					((const struct vtb_workload_ops *)
						 parts->pdata[k])
						->split_col);
			fprintf(f, " %6s\n", "ratio");
			header = u->workload;
		}
		label = vtb_cell_label(u);
		fprintf(f, "%-44s %6.2fs %5.0fMB/s", label, su.median,
			mb / su.median);
		for (guint k = 0; k < parts->len; k++)
			fprintf(f, " %6.2fs %5.0fMB/s", sp[k].median,
				mb / sp[k].median);
		fprintf(f, " %5.2fx\n", su.median / slowest);
	}
	if (header)
		fprintf(f,
			"(ratio: %s / the slower of its parts; 1.00x "
			"means the channel hides behind the disk)\n",
			header->name);
}

/* Median of a workload metric over the cell's ok measured samples. */
static bool metric_median(const struct vtb_cell *c, const char *name,
			  double *out)
{
	g_autoptr(GPtrArray) series = vtb_cell_series(c);
	struct vtb_series *s = vtb_series_find(series, name);

	if (!s || !s->v->len)
		return false;
	*out = vtb_median((double *)s->v->data, s->v->len);
	return true;
}

/*
 * The flush audit: the guest fsyncs its file once at the end of each run;
 * what did the VMM do to the image file meanwhile?
 */
void vtb_print_flush_audit(const struct vtb_matrix *r, FILE *f)
{
	static const char *const names[] = {
		"host_fsync",	    "host_fdatasync",	 "host_sync_file_range",
		"host_sync_opens",  "host_direct_opens", "host_syncfs",
		"host_dsync_writes"};
	bool header = false;

	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];
		g_autofree char *label = NULL;
		double v[G_N_ELEMENTS(names)];
		bool any = false;

		if (!(c->workload->flags & VTB_WL_WRITES))
			continue;
		for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
			v[k] = -1;
			if (metric_median(c, names[k], &v[k]))
				any = true;
		}
		if (!any)
			continue;
		if (!header) {
			fprintf(f, "\n%-60s %6s %9s %5s %7s %8s %6s %9s\n",
				"flush audit: guest fsync -> host (median/run)",
				"fsync", "fdatasync", "sfr", "O_SYNC",
				"O_DIRECT", "syncfs", "RWF_DSYNC");
			header = true;
		}
		label = vtb_cell_label(c);
		fprintf(f, "%-60s %6.0f %9.0f %5.0f %7.0f %8.0f %6.0f %9.0f\n",
			label, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
	}
}

static bool per_op(const struct vtb_series *s)
{
	return g_str_equal(s->unit, VTB_UNIT_PER_OP) && s->v->len;
}

void vtb_print_per_op(const struct vtb_matrix *r, FILE *f)
{
	g_autoptr(GPtrArray) cells = g_ptr_array_new();
	g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_ptr_array_unref);
	/* Borrowed from the series, freed after it. */
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	int w = 12;

	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];
		GPtrArray *s = vtb_cell_series(c);
		bool any = false;

		for (guint k = 0; k < s->len; k++) {
			const struct vtb_series *x = s->pdata[k];

			if (!per_op(x))
				continue;
			any = true;
			if (!g_ptr_array_find_with_equal_func(
				    names, x->name, g_str_equal, NULL))
				g_ptr_array_add(names, x->name);
		}
		if (!any) {
			g_ptr_array_unref(s);
			continue;
		}
		g_ptr_array_add(cells, (gpointer)c);
		g_ptr_array_add(series, s);
	}
	if (!cells->len)
		return;
	for (guint i = 0; i < cells->len; i++) {
		g_autofree char *label = vtb_cell_label(cells->pdata[i]);

		w = MAX(w, (int)strlen(label));
	}
	fprintf(f, "\n%-28s", "ns per operation (medians)");
	for (guint i = 0; i < cells->len; i++) {
		g_autofree char *label = vtb_cell_label(cells->pdata[i]);

		fprintf(f, " %*s", w, label);
	}
	fprintf(f, "%s\n", cells->len == 2 ? "   ratio" : "");
	for (guint n = 0; n < names->len; n++) {
		const char *name = names->pdata[n];
		double v[2] = {0, 0};

		fprintf(f, "%-28s", name);
		for (guint i = 0; i < cells->len; i++) {
			struct vtb_series *x =
				vtb_series_find(series->pdata[i], name);
			double m;

			if (!x || !x->v->len) {
				fprintf(f, " %*s", w, "-");
				continue;
			}
			m = vtb_median((double *)x->v->data, x->v->len);
			if (i < 2)
				v[i] = m;
			fprintf(f, " %*.0f", w, m);
		}
		if (cells->len == 2 && v[0] > 0 && v[1] > 0)
			fprintf(f, " %6.1fx", v[0] / v[1]);
		fprintf(f, "\n");
	}
	if (cells->len == 2)
		fprintf(f, "(ratio: the first column over the second)\n");
}
