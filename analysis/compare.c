/* `vtbench compare`: match two results files' cells, judge every metric. */
#include "analysis/compare.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "results/results.h"
#include "core/vtbench.h"

static void row_clear(gpointer p)
{
	struct vtb_cmp_row *r = p;

	g_free(r->note);
}

void vtb_comparison_free(struct vtb_comparison *c)
{
	if (!c)
		return;
	g_array_unref(c->rows);
	g_ptr_array_unref(c->only_base);
	g_ptr_array_unref(c->only_new);
	g_ptr_array_unref(c->env_warnings);
	g_ptr_array_unref(c->kernels);
	g_ptr_array_unref(c->notes);
	g_free(c);
}

static const struct vtb_rcell *find_cell(const struct vtb_rdoc *d,
					 const struct vtb_rcell *like)
{
	for (guint i = 0; i < d->cells->len; i++) {
		const struct vtb_rcell *c = d->cells->pdata[i];

		if (vtb_rcell_match(c, like))
			return c;
	}
	return NULL;
}

static void compare_metric(struct vtb_comparison *cmp,
			   const struct vtb_rcell *b, const struct vtb_rcell *n,
			   const struct vtb_series *bs,
			   const struct vtb_series *ns)
{
	struct vtb_cmp_row r = {0};
	const double *bv = (const double *)bs->v->data;
	const double *nv = (const double *)ns->v->data;
	g_autoptr(GString) note = g_string_new(NULL);
	g_autofree char *bn = NULL, *nn = NULL;

	r.base = b;
	r.new_ = n;
	r.seq = cmp->rows->len;
	r.metric = bs->name;
	r.unit = bs->unit;
	r.higher_better = bs->higher_better;
	vtb_stats_compute(bv, bs->v->len, &r.bst);
	vtb_stats_compute(nv, ns->v->len, &r.nst);
	r.change = NAN;
	r.p = NAN;
	if (r.bst.n && r.nst.n)
		r.change = vtb_change(r.bst.median, r.nst.median);
	if (!r.bst.n && !r.nst.n) {
		g_string_append(note, "no ok samples in either file");
	} else if (!r.nst.n) {
		/* A kernel that stops booting is the worst regression. */
		r.failed = true;
		r.verdict = VTB_VERDICT_REGRESSION;
		g_string_append_printf(note, "FAILED in new: %s",
				       n->error ? n->error : "no ok samples");
	} else if (!r.bst.n) {
		g_string_append_printf(note, "no ok samples in base: %s",
				       b->error ? b->error : "failed");
	} else if (vtb_permutation_min_p(r.bst.n, r.nst.n) >= cmp->alpha) {
		cmp->untestable++;
		g_string_append_printf(
			note, "too few runs: %d+%d cannot reach p < %g",
			r.bst.n, r.nst.n, cmp->alpha);
	} else {
		r.p = vtb_permutation_p(bv, r.bst.n, nv, r.nst.n,
					VTB_STATS_SEED, &r.exact);
		r.verdict = vtb_decide(r.change, r.p, r.higher_better,
				       cmp->alpha, cmp->threshold);
	}
	/* some runs failing is not a verdict, but worth a word */
	if (strcmp(r.metric, VTB_METRIC_SECONDS) == 0 &&
	    (b->failed || n->failed) && r.bst.n && r.nst.n)
		g_string_append_printf(
			note, "%sfailed runs: %d (base), %d (new)",
			note->len ? "; " : "", b->failed, n->failed);
	bn = vtb_noise_note(&r.bst);
	nn = vtb_noise_note(&r.nst);
	if (bn)
		g_string_append_printf(note, "%s%s (base)",
				       note->len ? "; " : "", bn);
	if (nn)
		g_string_append_printf(note, "%s%s (new)",
				       note->len ? "; " : "", nn);
	r.note = note->len ? g_strdup(note->str) : NULL;
	if (r.verdict == VTB_VERDICT_REGRESSION)
		cmp->regressions++;
	if (r.verdict != VTB_VERDICT_NONE)
		cmp->judged++;
	g_array_append_val(cmp->rows, r);
}

static int verdict_rank(const struct vtb_cmp_row *r)
{
	switch (r->verdict) {
	case VTB_VERDICT_REGRESSION:
		return 0;
	case VTB_VERDICT_IMPROVEMENT:
		return 1;
	case VTB_VERDICT_SAME:
		return 2;
	case VTB_VERDICT_NONE:
		break;
	}
	return 3;
}

/*
 * Regressions first, then in the order rows were made (cells as in BASE,
 * metrics as in the cell); g_array_sort is not stable, hence seq.
 */
static int cmp_rows(gconstpointer a, gconstpointer b)
{
	const struct vtb_cmp_row *x = a, *y = b;
	int d = verdict_rank(x) - verdict_rank(y);

	if (d)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "host CPU: "A" (base) vs "B" (new)" when both are known and differ. */
static void diff_field(GPtrArray *out, const char *what, JsonObject *b,
		       JsonObject *n, const char *dotted, const char *prefix)
{
	g_autofree char *x = vtb_json_text(b, dotted);
	g_autofree char *y = vtb_json_text(n, dotted);

	if (!x || !y || strcmp(x, y) == 0)
		return;
	g_ptr_array_add(out, g_strdup_printf("environments differ: %s%s: %s "
					     "(base) vs %s (new)",
					     prefix ? prefix : "", what, x, y));
}

/* The 1-minute load in host.@member ([1, 5, 15 min]), or 0. */
static double load_of(JsonObject *root, const char *member)
{
	JsonNode *h = json_object_get_member(root, "host");
	JsonNode *a;

	if (!h || !JSON_NODE_HOLDS_OBJECT(h))
		return 0;
	a = json_object_get_member(json_node_get_object(h), member);
	if (!a || !JSON_NODE_HOLDS_ARRAY(a) ||
	    !json_array_get_length(json_node_get_array(a)))
		return 0;
	return json_array_get_double_element(json_node_get_array(a), 0);
}

/*
 * Other work on the host slows every cell of a run alike, and no other
 * field of the file shows it: more runnable tasks than CPUs, at the start
 * or at the end of a run, is worth a warning.
 */
static void busy_host(struct vtb_comparison *cmp, const struct vtb_rdoc *d)
{
	g_autofree char *cores_s = vtb_json_text(d->root, "host.cores");
	double cores = cores_s ? g_ascii_strtod(cores_s, NULL) : 0;
	double load = MAX(load_of(d->root, "loadavg"),
			  load_of(d->root, "loadavg_end"));

	if (cores > 0 && load > cores)
		g_ptr_array_add(cmp->env_warnings,
				g_strdup_printf("the host was busy during %s "
						"(1-minute load %.1f on %g "
						"cores): its times may be "
						"inflated",
						d->path, load, cores));
}

static void diff_env(struct vtb_comparison *cmp)
{
	/* Host and tools.  boot_id is left out: a reboot changes nothing. */
	static const struct {
		const char *what, *path;
	} fields[] = {
		{"host CPU", "host.cpu"},
		{"host cores", "host.cores"},
		{"host memory bytes", "host.memory_bytes"},
		{"host kernel", "host.kernel"},
		{"host machine", "host.machine"},
		{"nesting", "host.nesting"},
		{"KVM usable", "host.kvm.usable"},
		{"QEMU version", "versions.qemu"},
		{"libvirt version", "versions.libvirt"},
		{"vtbench", "versions.vtbench"},
		{"vtbench git", "versions.git"},
	};
	static const struct {
		const char *what, *path;
	} cell_fields[] = {
		{"accel", "accel"},
		{"boot image", "params.boot_image"},
		{"-cpu", "env.cpu"},
		/* It adds a GETREGSET to every UML context switch. */
		{"UML xstate fix", "env.xstate_fix"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		diff_field(cmp->env_warnings, fields[i].what, cmp->base->root,
			   cmp->new_->root, fields[i].path, NULL);
	busy_host(cmp, cmp->base);
	busy_host(cmp, cmp->new_);
	for (guint i = 0; i < cmp->base->cells->len; i++) {
		const struct vtb_rcell *b = cmp->base->cells->pdata[i];
		const struct vtb_rcell *n = find_cell(cmp->new_, b);
		g_autofree char *prefix = NULL;

		if (!n)
			continue;
		prefix = g_strdup_printf("%s: ", b->label);
		for (size_t k = 0; k < G_N_ELEMENTS(cell_fields); k++)
			diff_field(cmp->env_warnings, cell_fields[k].what,
				   b->obj, n->obj, cell_fields[k].path, prefix);
	}
}

static char *kernel_text(JsonObject *root, const char *which)
{
	g_autofree char *rel = NULL, *id = NULL, *rp = NULL, *ip = NULL;

	rp = g_strdup_printf("versions.%s.release", which);
	ip = g_strdup_printf("versions.%s.build_id", which);
	rel = vtb_json_text(root, rp);
	id = vtb_json_text(root, ip);
	if (!rel)
		return NULL;
	return g_strdup_printf("%s (build %.12s)", rel, id ? id : "none");
}

/* The kernels are what a kernel developer changes: say what they were. */
static void describe_kernels(struct vtb_comparison *cmp)
{
	static const struct {
		const char *what, *key, *idpath;
	} kernels[] = {
		{"UML kernel", "uml_kernel", "versions.uml_kernel.build_id"},
		{"guest kernel", "guest_kernel",
		 "versions.guest_kernel.build_id"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(kernels); i++) {
		g_autofree char *b =
			kernel_text(cmp->base->root, kernels[i].key);
		g_autofree char *n =
			kernel_text(cmp->new_->root, kernels[i].key);
		g_autofree char *bid =
			vtb_json_text(cmp->base->root, kernels[i].idpath);
		g_autofree char *nid =
			vtb_json_text(cmp->new_->root, kernels[i].idpath);

		if (!b || !n)
			continue;
		g_ptr_array_add(cmp->kernels,
				g_strdup_printf("%s: %s -> %s%s",
						kernels[i].what, b, n,
						bid && nid && !strcmp(bid, nid)
							? " (the same build)"
							: ""));
	}
}

struct vtb_comparison *vtb_compare(const struct vtb_rdoc *base,
				   const struct vtb_rdoc *new_, double alpha,
				   double threshold)
{
	struct vtb_comparison *cmp = g_new0(struct vtb_comparison, 1);

	cmp->base = base;
	cmp->new_ = new_;
	cmp->alpha = alpha;
	cmp->threshold = threshold;
	cmp->rows = g_array_new(FALSE, TRUE, sizeof(struct vtb_cmp_row));
	g_array_set_clear_func(cmp->rows, row_clear);
	cmp->only_base = g_ptr_array_new();
	cmp->only_new = g_ptr_array_new();
	cmp->env_warnings = g_ptr_array_new_with_free_func(g_free);
	cmp->kernels = g_ptr_array_new_with_free_func(g_free);
	cmp->notes = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < base->cells->len; i++) {
		const struct vtb_rcell *b = base->cells->pdata[i];
		const struct vtb_rcell *n = find_cell(new_, b);

		if (find_cell(base, b) != b) {
			g_ptr_array_add(cmp->notes,
					g_strdup_printf("%s: %s appears twice; "
							"the first is compared",
							base->path, b->label));
			continue;
		}
		if (!n) {
			g_ptr_array_add(cmp->only_base, (gpointer)b);
			continue;
		}
		bool resized = vtb_rcell_auto_sized(b) &&
			       vtb_rcell_auto_sized(n) &&
			       vtb_rcell_size(b) != vtb_rcell_size(n);

		if (resized)
			g_ptr_array_add(
				cmp->notes,
				g_strdup_printf(
					"%s: auto-sized %" G_GINT64_FORMAT
					" vs %" G_GINT64_FORMAT
					" bytes: judged by throughput, not "
					"seconds",
					b->label, vtb_rcell_size(b),
					vtb_rcell_size(n)));
		for (guint m = 0; m < b->series->len; m++) {
			const struct vtb_series *bs = b->series->pdata[m];
			const struct vtb_series *ns =
				vtb_series_find(n->series, bs->name);

			if (resized &&
			    strcmp(bs->name, VTB_METRIC_SECONDS) == 0)
				continue;
			if (ns)
				compare_metric(cmp, b, n, bs, ns);
			else if (bs->v->len)
				g_ptr_array_add(
					cmp->notes,
					g_strdup_printf("%s: metric %s only in "
							"base",
							b->label, bs->name));
		}
		for (guint m = 0; m < n->series->len; m++) {
			const struct vtb_series *ns = n->series->pdata[m];

			if (!vtb_series_find(b->series, ns->name))
				g_ptr_array_add(
					cmp->notes,
					g_strdup_printf("%s: metric %s only in "
							"new",
							b->label, ns->name));
		}
	}
	for (guint i = 0; i < new_->cells->len; i++) {
		const struct vtb_rcell *n = new_->cells->pdata[i];

		if (!find_cell(base, n))
			g_ptr_array_add(cmp->only_new, (gpointer)n);
	}
	g_array_sort(cmp->rows, cmp_rows);
	diff_env(cmp);
	describe_kernels(cmp);
	if (base->interrupted)
		g_ptr_array_add(cmp->notes,
				g_strdup_printf("%s is from an interrupted run",
						base->path));
	if (new_->interrupted)
		g_ptr_array_add(cmp->notes,
				g_strdup_printf("%s is from an interrupted run",
						new_->path));
	if (cmp->untestable)
		g_ptr_array_add(
			cmp->notes,
			g_strdup_printf("with alpha %g the permutation test "
					"needs at least %d runs per side "
					"(run --runs %d)",
					alpha, vtb_runs_needed(alpha),
					vtb_runs_needed(alpha)));
	return cmp;
}

enum vtb_compare_outcome vtb_comparison_outcome(const struct vtb_comparison *c)
{
	if (c->regressions)
		return VTB_COMPARE_REGRESSION;
	return c->judged ? VTB_COMPARE_SAME : VTB_COMPARE_UNJUDGED;
}

char *vtb_format_change(double change)
{
	if (isnan(change))
		return g_strdup("-");
	return g_strdup_printf("%+.1f %%", change * 100);
}

char *vtb_format_p(double p)
{
	if (isnan(p))
		return g_strdup("-");
	if (p < 0.0001)
		return g_strdup("<0.0001");
	return g_strdup_printf("%.4f", p);
}

static const char *file_stamp(const struct vtb_rdoc *d, char **owned)
{
	g_autofree char *when = vtb_json_text(d->root, "started");
	g_autofree char *git = vtb_json_text(d->root, "versions.git");

	*owned = g_strdup_printf("%s (started %s, vtbench %s)", d->path,
				 when ? when : "?", git ? git : "?");
	return *owned;
}

void vtb_comparison_print(const struct vtb_comparison *c, FILE *f)
{
	int wl = 4, wm = 6;
	g_autofree char *bs = NULL, *ns = NULL;
	bool any_exact = false, any_random = false;

	fprintf(f, "base: %s\n", file_stamp(c->base, &bs));
	fprintf(f, "new:  %s\n", file_stamp(c->new_, &ns));
	for (guint i = 0; i < c->kernels->len; i++)
		fprintf(f, "%s\n", (char *)c->kernels->pdata[i]);
	for (guint i = 0; i < c->env_warnings->len; i++)
		fprintf(f, "warning: %s\n", (char *)c->env_warnings->pdata[i]);
	for (guint i = 0; i < c->rows->len; i++) {
		const struct vtb_cmp_row *r =
			&g_array_index(c->rows, struct vtb_cmp_row, i);

		wl = MAX(wl, (int)strlen(r->base->label));
		wm = MAX(wm, (int)strlen(r->metric));
	}
	fprintf(f, "\n   %-*s %-*s %12s %12s %9s %8s  %s\n", wl, "cell", wm,
		"metric", "base", "new", "change", "p", "verdict");
	for (guint i = 0; i < c->rows->len; i++) {
		const struct vtb_cmp_row *r =
			&g_array_index(c->rows, struct vtb_cmp_row, i);
		g_autofree char *b = vtb_format_value(
			r->bst.n ? r->bst.median : NAN, r->unit);
		g_autofree char *n = vtb_format_value(
			r->nst.n ? r->nst.median : NAN, r->unit);
		g_autofree char *ch = vtb_format_change(r->change);
		g_autofree char *p = vtb_format_p(r->p);

		if (!isnan(r->p)) {
			any_exact |= r->exact;
			any_random |= !r->exact;
		}
		fprintf(f, "%s %-*s %-*s %12s %12s %9s %8s  %s%s%s\n",
			r->verdict == VTB_VERDICT_REGRESSION ? "!!" : "  ", wl,
			r->base->label, wm, r->metric, b, n, ch, p,
			r->failed ? "FAILED" : vtb_verdict_name(r->verdict),
			r->note ? "  " : "", r->note ? r->note : "");
	}
	for (guint i = 0; i < c->only_base->len; i++) {
		const struct vtb_rcell *x = c->only_base->pdata[i];

		fprintf(f, "only in base: %s\n", x->label);
	}
	for (guint i = 0; i < c->only_new->len; i++) {
		const struct vtb_rcell *x = c->only_new->pdata[i];

		fprintf(f, "only in new: %s\n", x->label);
	}
	for (guint i = 0; i < c->notes->len; i++)
		fprintf(f, "note: %s\n", (char *)c->notes->pdata[i]);
	if (vtb_comparison_outcome(c) == VTB_COMPARE_UNJUDGED) {
		fprintf(f,
			"\nnothing judged: none of %u metric%s could be "
			"tested (too few ok runs per side; alpha %g needs %d)"
			"\n",
			c->rows->len, c->rows->len == 1 ? "" : "s", c->alpha,
			vtb_runs_needed(c->alpha));
		return;
	}
	fprintf(f,
		"\n%d significant regression%s (a change of the median of at "
		"least %g %% the worse way, permutation test p < %g%s)\n",
		c->regressions, c->regressions == 1 ? "" : "s",
		c->threshold * 100, c->alpha,
		any_exact && any_random ? ", exact or from random permutations"
		: any_random		? ", from random permutations"
		: any_exact		? ", exact"
					: "");
}
