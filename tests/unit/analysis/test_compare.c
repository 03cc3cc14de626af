/* Unit tests: reading results files back (bad ones too) and compare. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/compare.h"
#include "core/vtbench.h"
#include "tests/unit/testutil.h"

/* A result row as JSON text; @extra goes inside the row's object. */
struct tcell {
	const char *backend; /* "uml" or "kvm" */
	const char *accel;
	int n;
	double secs[12];
	guint64 bytes;	    /* per sample */
	int failed;	    /* more samples, failed */
	const char *metric; /* a workload metric, or NULL */
	bool higher_better;
	double mvals[12];
	const char *params; /* extra params members, or NULL */
};

static void cell_json(GString *s, const struct tcell *c)
{
	g_string_append_printf(
		s,
		"{\"backend\":\"%s\",\"driver\":\"direct\",\"accel\":\"%s\","
		"\"transport\":\"-\",\"workload\":\"startup\",\"cache\":\"-\","
		"\"params\":{\"runs\":%d,\"warmup\":1,\"mem_mib\":256%s%s},"
		"\"phases\":{\"vmm_to_kernel\":0.02,\"kernel_to_init\":1.2},",
		c->backend, c->accel, c->n, c->params ? "," : "",
		c->params ? c->params : "");
	if (c->metric)
		g_string_append_printf(s,
				       "\"metrics\":{\"%s\":{\"unit\":\"u\","
				       "\"higher_better\":%s}},",
				       c->metric,
				       c->higher_better ? "true" : "false");
	g_string_append(s, "\"samples\":[{\"warmup\":true,\"ok\":true,"
			   "\"seconds\":99,\"bytes\":0}");
	for (int i = 0; i < c->n; i++) {
		g_string_append_printf(
			s,
			",{\"warmup\":false,\"ok\":true,"
			"\"seconds\":%.17g,\"bytes\":%" G_GUINT64_FORMAT,
			c->secs[i], c->bytes);
		if (c->metric)
			g_string_append_printf(s, ",\"metrics\":{\"%s\":%.17g}",
					       c->metric, c->mvals[i]);
		g_string_append(s, "}");
	}
	for (int i = 0; i < c->failed; i++)
		g_string_append(s, ",{\"warmup\":false,\"ok\":false,"
				   "\"seconds\":0,\"bytes\":0,\"error\":"
				   "\"boot: no HELLO in time\"}");
	g_string_append(s, "]}");
}

static char *doc_json(const char *cpu, const char *boot_id,
		      const struct tcell *cells, int ncells)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(
		s,
		"{\"schema\":1,\"tool\":\"vtbench\",\"started\":\"2025-01-01\","
		"\"interrupted\":false,\"host\":{\"cpu\":\"%s\",\"cores\":2,"
		"\"kernel\":\"Linux 6.1\",\"boot_id\":\"%s\"},"
		"\"versions\":{\"git\":\"abc\",\"uml_kernel\":{\"release\":"
		"\"6.1.0\",\"build_id\":\"00ff\"}},\"results\":[",
		cpu, boot_id);
	for (int i = 0; i < ncells; i++) {
		if (i)
			g_string_append_c(s, ',');
		cell_json(s, &cells[i]);
	}
	g_string_append(s, "]}");
	return g_string_free(s, FALSE);
}

static struct vtb_rdoc *parse_ok(const char *name, const char *json)
{
	g_autoptr(GError) e = NULL;
	struct vtb_rdoc *d = vtb_rdoc_parse(name, json, -1, &e);

	if (!d)
		fail_msg("%s: %s", name, e->message);
	return d;
}

/* Every sample of @c times @f. */
static struct tcell scaled(struct tcell c, double f)
{
	for (int i = 0; i < c.n; i++) {
		c.secs[i] *= f;
		c.mvals[i] *= f;
	}
	return c;
}

#define UML5                                                                   \
	{                                                                      \
		"uml", "-", 5,                                                 \
		{                                                              \
			1.221, 1.210, 1.307, 1.219, 1.227                      \
		}                                                              \
	}
#define KVM5                                                                   \
	{                                                                      \
		"kvm", "tcg", 5,                                               \
		{                                                              \
			1.51, 1.35, 1.67, 1.49, 1.52                           \
		}                                                              \
	}

struct cmp_case {
	const char *name;
	struct tcell base[2], new_[2];
	int nbase, nnew;
	const char *base_cpu, *new_cpu;
	const char *new_boot_id;
	int regressions, rows, only_base, only_new, untestable;
	const char *first_metric; /* of the first (worst) row */
	enum vtb_verdict first_verdict;
	const char *env_warning; /* substring of one warning, or NULL */
	const char *note; /* substring of the first row's note, or NULL */
	enum vtb_compare_outcome outcome; /* compare's exit code */
};

/*
 * name; base and new cells and their counts; host CPUs; new boot id;
 * regressions, rows, cells only in base / new, untestable rows; the
 * first (worst) row's metric and verdict; a warning; its note; the
 * outcome (compare's exit code).
 */
/* clang-format off */
static struct cmp_case cmp_cases[] = {
	{ "identical", { UML5 }, { UML5 }, 1, 1, "EPYC", "EPYC", "b1",
	  0, 1, 0, 0, 0, "seconds", VTB_VERDICT_SAME, NULL, NULL },
	{ "30 % slower", { UML5 }, { UML5 }, 1, 1, "EPYC", "EPYC", "b2",
	  1, 1, 0, 0, 0, "seconds", VTB_VERDICT_REGRESSION, NULL, NULL,
	  VTB_COMPARE_REGRESSION },
	{ "30 % faster", { UML5 }, { UML5 }, 1, 1, "EPYC", "EPYC", "b1",
	  0, 1, 0, 0, 0, "seconds", VTB_VERDICT_IMPROVEMENT, NULL, NULL },
	{ "only in base", { UML5, KVM5 }, { UML5 }, 2, 1, "EPYC", "EPYC", "b1",
	  0, 1, 1, 0, 0, "seconds", VTB_VERDICT_SAME, NULL, NULL },
	{ "host differs", { UML5 }, { UML5 }, 1, 1, "EPYC", "Xeon", "b1",
	  0, 1, 0, 0, 0, "seconds", VTB_VERDICT_SAME,
	  "environments differ: host CPU: EPYC (base) vs Xeon", NULL },
	{ "accel differs", { KVM5 }, { KVM5 }, 1, 1, "EPYC", "EPYC", "b1",
	  0, 1, 0, 0, 0, "seconds", VTB_VERDICT_SAME,
	  "accel: tcg (base) vs kvm", NULL },
	{ "every new run failed", { UML5 }, { UML5 }, 1, 1, "EPYC", "EPYC",
	  "b1", 1, 1, 0, 0, 0, "seconds", VTB_VERDICT_REGRESSION, NULL,
	  "FAILED in new: boot: no HELLO in time", VTB_COMPARE_REGRESSION },
	{ "too few runs", { { "uml", "-", 3, { 1.2, 1.21, 1.22 } } },
	  { { "uml", "-", 3, { 1.6, 1.61, 1.62 } } }, 1, 1, "EPYC", "EPYC",
	  "b1", 0, 1, 0, 0, 1, "seconds", VTB_VERDICT_NONE, NULL,
	  "too few runs: 3+3 cannot reach p < 0.01", VTB_COMPARE_UNJUDGED },
	{ "another size: another cell", { UML5 }, { UML5 }, 1, 1, "EPYC",
	  "EPYC", "b1", 0, 0, 1, 1, 0, NULL, 0, NULL, NULL,
	  VTB_COMPARE_UNJUDGED },
	{ "parameter in one file only: same cell", { UML5 }, { UML5 }, 1, 1,
	  "EPYC", "EPYC", "b1", 0, 1, 0, 0, 0, "seconds", VTB_VERDICT_SAME,
	  NULL, NULL },
	{ "transfer 30 % slower: seconds and throughput", { UML5 }, { UML5 },
	  1, 1, "EPYC", "EPYC", "b1", 2, 2, 0, 0, 0, NULL,
	  VTB_VERDICT_REGRESSION, NULL, NULL, VTB_COMPARE_REGRESSION },
	{ "msgs_per_s 30 % lower, time the same", { UML5 }, { UML5 }, 1, 1,
	  "EPYC", "EPYC", "b1", 1, 2, 0, 0, 0, "msgs_per_s",
	  VTB_VERDICT_REGRESSION, NULL, NULL, VTB_COMPARE_REGRESSION },
	{ "p99_us 30 % lower: better", { UML5 }, { UML5 }, 1, 1, "EPYC",
	  "EPYC", "b1", 0, 2, 0, 0, 0, "p99_us", VTB_VERDICT_IMPROVEMENT,
	  NULL, NULL },
	{ "some new runs failed: said, not judged", { UML5 }, { UML5 }, 1, 1,
	  "EPYC", "EPYC", "b1", 0, 1, 0, 0, 0, "seconds", VTB_VERDICT_SAME,
	  NULL, "failed runs: 0 (base), 2 (new)" },
	{ "auto-sized 1 MiB vs 1.5 MiB: the same cell, by throughput",
	  { UML5 }, { UML5 }, 1, 1, "EPYC", "EPYC", "b1", 0, 1, 0, 0, 0,
	  "throughput_MBps", VTB_VERDICT_SAME, NULL, NULL },
	{ "auto-sized, rate 30 % lower: a regression", { UML5 }, { UML5 }, 1,
	  1, "EPYC", "EPYC", "b1", 1, 1, 0, 0, 0, "throughput_MBps",
	  VTB_VERDICT_REGRESSION, NULL, NULL, VTB_COMPARE_REGRESSION },
	{ "one cell too few runs, the other judged: judged",
	  { UML5, { "kvm", "tcg", 3, { 1.5, 1.4, 1.6 } } },
	  { UML5, { "kvm", "tcg", 3, { 1.5, 1.4, 1.6 } } }, 2, 2, "EPYC",
	  "EPYC", "b1", 0, 2, 0, 0, 1, "seconds", VTB_VERDICT_SAME, NULL, NULL,
	  VTB_COMPARE_SAME },
	{ "every base run failed: nothing judged", { UML5 }, { UML5 }, 1, 1,
	  "EPYC", "EPYC", "b1", 0, 1, 0, 0, 0, "seconds", VTB_VERDICT_NONE,
	  NULL, "no ok samples in base", VTB_COMPARE_UNJUDGED },
	{ "no ok samples on either side: nothing judged", { UML5 }, { UML5 },
	  1, 1, "EPYC", "EPYC", "b1", 0, 1, 0, 0, 0, "seconds",
	  VTB_VERDICT_NONE, NULL, "no ok samples in either file",
	  VTB_COMPARE_UNJUDGED },
};
/* clang-format on */

/* The cases the initialisers above cannot say. */
static void adjust_cases(void)
{
	static const double m[5] = {1000, 1010, 990, 1005, 995};

	cmp_cases[1].new_[0] = scaled(cmp_cases[1].new_[0], 1.3);
	cmp_cases[2].new_[0] = scaled(cmp_cases[2].new_[0], 0.7);
	cmp_cases[5].new_[0].accel = "kvm";
	cmp_cases[6].new_[0].n = 0;
	cmp_cases[6].new_[0].failed = 5;
	cmp_cases[8].base[0].params = "\"size\":1";
	cmp_cases[8].new_[0].params = "\"size\":2";
	cmp_cases[9].base[0].params = "\"size\":524288000";
	cmp_cases[10].base[0].bytes = 100000000;
	cmp_cases[10].new_[0] = scaled(cmp_cases[10].base[0], 1.3);
	cmp_cases[13].new_[0].failed = 2;
	for (int k = 14; k <= 15; k++) {
		struct tcell *b = &cmp_cases[k].base[0];
		struct tcell *n = &cmp_cases[k].new_[0];

		b->params = "\"size\":1048576,\"size_auto\":true";
		n->params = "\"size\":1572864,\"size_auto\":true";
		b->bytes = 1048576;
		*n = scaled(*b, k == 14 ? 1.5 : 1.5 * 1.3);
		n->params = "\"size\":1572864,\"size_auto\":true";
		n->bytes = 1572864;
	}
	cmp_cases[17].base[0].n = 0;
	cmp_cases[17].base[0].failed = 5;
	cmp_cases[18].base[0].n = cmp_cases[18].new_[0].n = 0;
	cmp_cases[18].base[0].failed = cmp_cases[18].new_[0].failed = 5;
	for (int k = 11; k <= 12; k++) {
		struct tcell *b = &cmp_cases[k].base[0];
		struct tcell *n = &cmp_cases[k].new_[0];

		b->metric = n->metric = k == 11 ? "msgs_per_s" : "p99_us";
		b->higher_better = n->higher_better = k == 11;
		memcpy(b->mvals, m, sizeof(m));
		for (int i = 0; i < 5; i++)
			n->mvals[i] = m[i] * 0.7;
	}
}

static void run_cmp_case(void **state)
{
	const struct cmp_case *c = *state;
	g_autofree char *bj = doc_json(c->base_cpu, "b1", c->base, c->nbase);
	g_autofree char *nj =
		doc_json(c->new_cpu, c->new_boot_id, c->new_, c->nnew);
	struct vtb_rdoc *b = parse_ok("base.json", bj);
	struct vtb_rdoc *n = parse_ok("new.json", nj);
	struct vtb_comparison *cmp = vtb_compare(b, n, 0.01, 0.05);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vtb_comparison_print(cmp, f);
	fclose(f);
	if (cmp->regressions != c->regressions ||
	    (int)cmp->rows->len != c->rows ||
	    (int)cmp->only_base->len != c->only_base ||
	    (int)cmp->only_new->len != c->only_new ||
	    cmp->untestable != c->untestable)
		fail_msg("%s: regressions %d rows %u only %u/%u untestable %d; "
			 "table:\n%s",
			 c->name, cmp->regressions, cmp->rows->len,
			 cmp->only_base->len, cmp->only_new->len,
			 cmp->untestable, buf);
	if (vtb_comparison_outcome(cmp) != c->outcome)
		fail_msg("%s: outcome %d, want %d:\n%s", c->name,
			 vtb_comparison_outcome(cmp), c->outcome, buf);
	/* its own last line: not "0 significant regressions" */
	if ((c->outcome == VTB_COMPARE_UNJUDGED) !=
	    (strstr(buf, "\nnothing judged: ") != NULL))
		fail_msg("%s: the last line:\n%s", c->name, buf);
	if (c->rows) {
		const struct vtb_cmp_row *r =
			&g_array_index(cmp->rows, struct vtb_cmp_row, 0);

		if (c->first_metric && strcmp(r->metric, c->first_metric))
			fail_msg("%s: first row %s", c->name, r->metric);
		if (r->verdict != c->first_verdict)
			fail_msg("%s: verdict %s:\n%s", c->name,
				 vtb_verdict_name(r->verdict), buf);
		if (c->note && (!r->note || !strstr(r->note, c->note)))
			fail_msg("%s: note '%s', want '%s'", c->name,
				 r->note ? r->note : "", c->note);
	}
	/* regressions first and marked */
	if (c->regressions && strncmp(strstr(buf, "\n!!") + 1, "!! uml", 6))
		fail_msg("%s: regression not marked first:\n%s", c->name, buf);
	if (c->env_warning) {
		bool found = false;

		for (guint i = 0; i < cmp->env_warnings->len; i++)
			found |= strstr(cmp->env_warnings->pdata[i],
					c->env_warning) != NULL;
		if (!found)
			fail_msg("%s: no warning '%s':\n%s", c->name,
				 c->env_warning, buf);
	} else if (cmp->env_warnings->len) {
		/* boot ids differ in some cases: never a warning */
		fail_msg("%s: unexpected warning %s", c->name,
			 (char *)cmp->env_warnings->pdata[0]);
	}
	free(buf);
	vtb_comparison_free(cmp);
	vtb_rdoc_free(n);
	vtb_rdoc_free(b);
}

struct bad_case {
	const char *json;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{"", "t.json: not JSON"},
	{"{", "t.json: not JSON"},
	{"vtbench", "t.json: not JSON"},
	{"[1, 2]", "not a vtbench results file"},
	{"{\"schema\":1,\"results\":[]}", "not a vtbench results file"},
	{"{\"tool\":\"fio\",\"schema\":1}", "not a vtbench results file"},
	{"{\"tool\":\"vtbench\",\"results\":[]}", "no \"schema\" version"},
	{"{\"tool\":\"vtbench\",\"schema\":\"1\"}", "no \"schema\" version"},
	{"{\"tool\":\"vtbench\",\"schema\":2,\"results\":[]}",
	 "schema 2 is not supported (this vtbench reads schema 1)"},
	{"{\"tool\":\"vtbench\",\"schema\":1}", "missing \"results\""},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":{}}",
	 "missing \"results\""},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[1]}",
	 "results[0]: not an object"},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[{}]}",
	 "results[0]: missing \"backend\""},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[{\"backend\":"
	 "\"uml\",\"driver\":\"direct\",\"accel\":\"-\",\"transport\":\"-\","
	 "\"workload\":\"startup\"}]}",
	 "results[0]: missing \"cache\""},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[{\"backend\":"
	 "\"uml\",\"driver\":\"direct\",\"accel\":\"-\",\"transport\":\"-\","
	 "\"workload\":\"startup\",\"cache\":\"-\"}]}",
	 "results[0]: missing \"samples\""},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[{\"backend\":"
	 "\"uml\",\"driver\":\"direct\",\"accel\":\"-\",\"transport\":\"-\","
	 "\"workload\":\"startup\",\"cache\":\"-\",\"params\":{},\"samples\":[{"
	 "\"ok\":"
	 "true,\"warmup\":false}]}]}",
	 "results[0].samples[0]: missing \"seconds\" (number)"},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[{\"backend\":"
	 "\"uml\",\"driver\":\"direct\",\"accel\":\"-\",\"transport\":\"-\","
	 "\"workload\":\"startup\",\"cache\":\"-\",\"params\":{},\"samples\":[{"
	 "\"ok\":"
	 "true,\"warmup\":false,\"seconds\":\"fast\"}]}]}",
	 "results[0].samples[0]: missing \"seconds\" (number)"},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[{\"backend\":"
	 "\"uml\",\"driver\":\"direct\",\"accel\":\"-\",\"transport\":\"-\","
	 "\"workload\":\"startup\",\"cache\":\"-\",\"params\":{},\"samples\":[{"
	 "\"ok\":"
	 "\"yes\",\"warmup\":false,\"seconds\":1}]}]}",
	 "results[0].samples[0]: missing \"ok\""},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[{\"backend\":"
	 "\"uml\",\"driver\":\"direct\",\"accel\":\"-\",\"transport\":\"-\","
	 "\"workload\":\"startup\",\"cache\":\"-\",\"params\":{},\"samples\":[{"
	 "\"ok\":"
	 "true,\"warmup\":false,\"seconds\":-1,\"bytes\":0}]}]}",
	 "results[0].samples[0]: negative"},
	{"{\"tool\":\"vtbench\",\"schema\":1,\"results\":[{\"backend\":"
	 "\"uml\",\"driver\":\"direct\",\"accel\":\"-\",\"transport\":\"-\","
	 "\"workload\":\"startup\",\"cache\":\"-\",\"params\":{},\"samples\":[{"
	 "\"ok\":"
	 "true,\"warmup\":false,\"seconds\":1,\"bytes\":0,\"metrics\":{\"p99_"
	 "us\":3}}]}"
	 "]}",
	 "results[0].samples[0].metrics.p99_us: no unit and direction"},
};

static void check_bad(const char *what, const GError *e, const char *msg)
{
	if (!e)
		fail_msg("%s: accepted", what);
	assert_int_equal(e->domain, VTB_ERROR);
	assert_int_equal(e->code, VTB_ERR_USAGE);
	if (!strstr(e->message, msg))
		fail_msg("%s: message '%s' lacks '%s'", what, e->message, msg);
	if (strchr(e->message, '\n'))
		fail_msg("%s: more than one line: %s", what, e->message);
}

static void test_bad_files(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		g_autoptr(GError) e = NULL;
		struct vtb_rdoc *d =
			vtb_rdoc_parse("t.json", bad_cases[i].json, -1, &e);

		assert_null(d);
		check_bad(bad_cases[i].json, e, bad_cases[i].msg);
		/* the file is named first */
		assert_true(g_str_has_prefix(e->message, "t.json: "));
	}
}

static void test_unreadable(void **state)
{
	g_autofree char *dir = vtbt_tmpdir();
	g_autofree char *latin1 = g_build_filename(dir, "l.json", NULL);
	g_autofree char *empty = g_build_filename(dir, "e.json", NULL);
	static const struct {
		int which;
		const char *msg;
	} cases[] = {
		{0, "cannot read /nonexistent/a.json: No such file"},
		{1, ": Is a directory"},
		{2, "l.json: not JSON: not UTF-8"},
		{3, "e.json: not JSON"},
	};

	assert_true(g_file_set_contents(latin1, "{\"tool\":\"vtb\xe9\"}", -1,
					NULL));
	assert_true(g_file_set_contents(empty, "", 0, NULL));
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *paths[] = {"/nonexistent/a.json", dir, latin1,
				       empty};
		g_autoptr(GError) e = NULL;

		assert_null(vtb_rdoc_load(paths[cases[i].which], &e));
		check_bad(paths[cases[i].which], e, cases[i].msg);
	}
	vtbt_rm_rf(dir);
}

/* What compare reads from a good file: labels, series, phases. */
static void test_read(void **state)
{
	struct tcell cells[2] = {UML5, KVM5};
	g_autofree char *j = NULL;
	struct vtb_rdoc *d;
	const struct vtb_rcell *u, *k;
	const struct vtb_series *s;

	cells[1].failed = 2;
	cells[1].bytes = 1000000;
	j = doc_json("EPYC", "b", cells, 2);
	d = parse_ok("x.json", j);
	assert_int_equal(d->cells->len, 2);
	u = d->cells->pdata[0];
	k = d->cells->pdata[1];
	assert_string_equal(u->label, "uml startup");
	assert_string_equal(k->label, "kvm/direct/tcg startup");
	assert_int_equal(u->n, 5);
	assert_int_equal(k->n, 5);
	assert_int_equal(k->failed, 2);
	assert_string_equal(k->error, "boot: no HELLO in time");
	/* warm-up (99 s) excluded */
	s = vtb_series_find(u->series, "seconds");
	assert_int_equal(s->v->len, 5);
	assert_true(g_array_index(s->v, double, 2) == 1.307);
	assert_null(vtb_series_find(u->series, "throughput_MBps"));
	/* throughput derived per sample: 10^6 bytes / 1.35 s */
	s = vtb_series_find(k->series, "throughput_MBps");
	assert_non_null(s);
	assert_true(s->higher_better);
	assert_true(fabs(g_array_index(s->v, double, 1) - 1 / 1.35) < 1e-12);
	assert_int_equal(u->phases->len, 2);
	assert_string_equal(((struct vtb_rphase *)u->phases->pdata[0])->name,
			    "vmm_to_kernel");
	vtb_rdoc_free(d);
}

static void test_format(void **state)
{
	static const struct {
		double v;
		const char *fmt;
	} changes[] = {{0.3, "+30.0 %"}, {-0.0412, "-4.1 %"}, {NAN, "-"}};

	for (size_t i = 0; i < G_N_ELEMENTS(changes); i++) {
		g_autofree char *s = vtb_format_change(changes[i].v);

		assert_string_equal(s, changes[i].fmt);
	}
	{
		g_autofree char *a = vtb_format_p(0.00793);
		g_autofree char *b = vtb_format_p(0.00001);
		g_autofree char *c = vtb_format_p(NAN);

		assert_string_equal(a, "0.0079");
		assert_string_equal(b, "<0.0001");
		assert_string_equal(c, "-");
	}
}

int main(void)
{
	GArray *tests = vtbt_tests();

	adjust_cases();
	for (size_t i = 0; i < G_N_ELEMENTS(cmp_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("compare: %s", cmp_cases[i].name);

		vtbt_add(tests, name, run_cmp_case, &cmp_cases[i]);
	}
	vtbt_add(tests, "bad files", test_bad_files, NULL);
	vtbt_add(tests, "unreadable files", test_unreadable, NULL);
	vtbt_add(tests, "read a good file", test_read, NULL);
	vtbt_add(tests, "formats", test_format, NULL);
	return vtbt_run(tests, "compare", NULL, NULL);
}
