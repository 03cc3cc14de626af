/* Unit tests: summaries, bootstrap, permutation test and the verdict rule. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/stats.h"

/* Relative closeness: Python computes with exact fractions, C in doubles. */
static void assert_close(double got, double want, const char *what,
			 const char *name)
{
	double tol = 1e-12 * MAX(1.0, fabs(want));

	if (fabs(got - want) > tol)
		fail_msg("%s: %s = %.17g, want %.17g", name, what, got, want);
}

#define N_MAX 16

/*
 * Expected values from Python's statistics module:
 *
 *   import statistics as st
 *   sd = st.stdev(v) if len(v) > 1 else 0.0
 *   m = st.mean(v)
 *   print(st.median(v), m, sd, min(v), max(v), sd / abs(m))
 *
 * and the bootstrap interval recomputed independently in Python (splitmix64
 * as in core/stats.c, statistics.median of each resample, and
 * statistics.quantiles(meds, n=40, method='inclusive')[0] and [-1]):
 *
 *   M = (1 << 64) - 1
 *   def splitmix64(s):
 *       s = (s + 0x9e3779b97f4a7c15) & M
 *       z = ((s ^ (s >> 30)) * 0xbf58476d1ce4e5b9) & M
 *       z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
 *       return s, z ^ (z >> 31)
 *   def boot_ci(v, resamples=2000, seed=0x767462656e636831):
 *       s, meds, n = seed, [], len(v)
 *       for _ in range(resamples):
 *           buf = []
 *           for _ in range(n):
 *               s, r = splitmix64(s)
 *               buf.append(v[int(((r >> 11) * 2.0**-53) * n)])
 *           meds.append(st.median(buf))
 *       q = st.quantiles(meds, n=40, method='inclusive')
 *       return q[0], q[-1]
 */
struct summary_case {
	const char *name;
	int n;
	double v[N_MAX];
	double median, mean, stddev, min, max, cv;
	bool noisy;
	double ci_lo, ci_hi;
};

/* clang-format off */
static const struct summary_case summary_cases[] = {
	/* name, n, values,
	 * median, mean, stddev, min, max, cv, noisy, ci_lo, ci_hi */
	{ "one", 1, { 1.0 },
	  1.0, 1.0, 0.0, 1.0, 1.0, 0.0, false, 1.0, 1.0 },
	{ "two", 2, { 1.2, 1.4 },
	  1.2999999999999998, 1.2999999999999998, 0.14142135623730948,
	  1.2, 1.4, 0.10878565864408422, true, 1.2, 1.4 },
	{ "uml5", 5, { 1.221, 1.210, 1.307, 1.219, 1.227 },
	  1.221, 1.2368000000000001, 0.039713977388320054,
	  1.21, 1.307, 0.03211026632302721, false, 1.21, 1.307 },
	{ "pi8", 8, { 3, 1, 4, 1, 5, 9, 2, 6 },
	  3.5, 3.875, 2.748376143938713, 1, 9, 0.7092583597261195, true,
	  1.5, 6.0 },
	{ "flat4", 4, { 100, 100, 100, 100 },
	  100, 100, 0, 100, 100, 0, false, 100, 100 },
	{ "noisy6", 6, { 0.5, 2.5, 0.7, 0.6, 0.55, 0.58 },
	  0.59, 0.905, 0.7841874775842828, 0.5, 2.5, 0.8665055000931301, true,
	  0.525, 1.6 },
	{ "u10", 10,
	  { 1.31, 1.22, 1.25, 1.40, 1.19, 1.23, 1.28, 1.21, 1.35, 1.24 },
	  1.245, 1.268, 0.06696599468718765, 1.19, 1.40, 0.05281229864920162,
	  true, 1.22, 1.31 },
};
/* clang-format on */

static void test_summary(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(summary_cases); i++) {
		const struct summary_case *c = &summary_cases[i];
		struct vtb_stats s, again;

		vtb_stats_compute(c->v, c->n, &s);
		assert_int_equal(s.n, c->n);
		assert_close(s.median, c->median, "median", c->name);
		assert_close(s.mean, c->mean, "mean", c->name);
		assert_close(s.stddev, c->stddev, "stddev", c->name);
		assert_close(s.min, c->min, "min", c->name);
		assert_close(s.max, c->max, "max", c->name);
		assert_close(s.cv, c->cv, "cv", c->name);
		if (s.noisy != c->noisy)
			fail_msg("%s: noisy=%d, want %d", c->name, s.noisy,
				 c->noisy);
		assert_close(s.ci_lo, c->ci_lo, "ci_lo", c->name);
		assert_close(s.ci_hi, c->ci_hi, "ci_hi", c->name);
		/* a file always yields the same interval */
		vtb_stats_compute(c->v, c->n, &again);
		assert_true(again.ci_lo == s.ci_lo && again.ci_hi == s.ci_hi);
	}
}

static void test_summary_empty(void **state)
{
	struct vtb_stats s;

	vtb_stats_compute(NULL, 0, &s);
	assert_int_equal(s.n, 0);
	assert_false(s.noisy);
}

/*
 * statistics.quantiles(sorted([3, 1, 4, 1, 5, 9, 2, 6]), n=4,
 * method='inclusive') == [1.75, 3.5, 5.25]; n=40 gives 1.0 first and
 * 8.475 last.
 */
static void test_quantile(void **state)
{
	static const double v[] = {1, 1, 2, 3, 4, 5, 6, 9};
	static const struct {
		double q, want;
	} cases[] = {
		{0, 1},	      {0.025, 1.0},   {0.25, 1.75}, {0.5, 3.5},
		{0.75, 5.25}, {0.975, 8.475}, {1, 9},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_close(vtb_quantile_sorted(v, 8, cases[i].q),
			     cases[i].want, "quantile", "pi8");
}

/*
 * Exact p-values from Python, with fractions so that ties are exact:
 *
 *   from fractions import Fraction as F
 *   from itertools import combinations
 *   def perm_p(a, b):
 *       pool = [F(str(x)) for x in a + b]
 *       na, nb = len(a), len(b)
 *       tot = sum(pool)
 *       obs = abs((tot - sum(pool[:na])) / nb - sum(pool[:na]) / na)
 *       n = c = 0
 *       for idx in combinations(range(na + nb), na):
 *           s = sum(pool[i] for i in idx)
 *           n += 1
 *           c += abs((tot - s) / nb - s / na) >= obs
 *       return c / n
 */
struct perm_case {
	const char *name;
	int na, nb;
	double a[N_MAX], b[N_MAX];
	double p;
	bool higher_better;
	enum vtb_verdict verdict; /* alpha 0.01, threshold 5 % */
};

/* clang-format off */
static const struct perm_case perm_cases[] = {
	/* every sample 30 % slower: only the two complete splits */
	{ "clear regression", 5, 5, { 1.00, 1.01, 0.99, 1.02, 0.98 },
	  { 1.3, 1.313, 1.287, 1.326, 1.274 }, 0.007936507936507936, false,
	  VTB_VERDICT_REGRESSION },
	{ "clear improvement", 5, 5, { 1.00, 1.01, 0.99, 1.02, 0.98 },
	  { 0.7, 0.707, 0.693, 0.714, 0.686 }, 0.007936507936507936, false,
	  VTB_VERDICT_IMPROVEMENT },
	/* the same figures as throughput: 30 % less is worse */
	{ "throughput drop", 5, 5, { 1.00, 1.01, 0.99, 1.02, 0.98 },
	  { 0.7, 0.707, 0.693, 0.714, 0.686 }, 0.007936507936507936, true,
	  VTB_VERDICT_REGRESSION },
	{ "clear noise", 5, 5, { 1.00, 1.05, 0.97, 1.02, 0.99 },
	  { 1.01, 0.98, 1.04, 1.00, 0.96 }, 0.753968253968254, false,
	  VTB_VERDICT_SAME },
	/* +10 % on samples that spread by 60 %: not significant */
	{ "shift hidden in noise", 6, 6, { 1.0, 1.4, 0.8, 1.2, 0.9, 1.1 },
	  { 1.1, 1.5, 0.9, 1.3, 1.0, 1.2 }, 0.512987012987013, false,
	  VTB_VERDICT_SAME },
	/* one overlapping sample: p = 6/252, not below 0.01 */
	{ "one overlap", 5, 5, { 1.00, 1.02, 1.04, 1.06, 1.30 },
	  { 1.25, 1.28, 1.31, 1.33, 1.36 }, 0.023809523809523808, false,
	  VTB_VERDICT_SAME },
	{ "uneven sizes", 4, 6, { 2.0, 2.1, 2.2, 1.9 },
	  { 2.5, 2.4, 2.6, 2.45, 2.2, 2.55 }, 0.009523809523809525, false,
	  VTB_VERDICT_REGRESSION },
	{ "identical", 3, 3, { 1, 1, 1 }, { 1, 1, 1 }, 1.0, false,
	  VTB_VERDICT_SAME },
};
/* clang-format on */

static void test_permutation(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(perm_cases); i++) {
		const struct perm_case *c = &perm_cases[i];
		double mb = vtb_median(c->a, c->na),
		       mn = vtb_median(c->b, c->nb);
		bool exact = false;
		double p = vtb_permutation_p(c->a, c->na, c->b, c->nb,
					     VTB_STATS_SEED, &exact);
		enum vtb_verdict v;

		assert_true(exact);
		assert_close(p, c->p, "p", c->name);
		v = vtb_decide(vtb_change(mb, mn), p, c->higher_better,
			       VTB_DEFAULT_ALPHA, VTB_DEFAULT_THRESHOLD);
		if (v != c->verdict)
			fail_msg("%s: verdict %s, want %s", c->name,
				 vtb_verdict_name(v),
				 vtb_verdict_name(c->verdict));
	}
}

/*
 * 11 + 11 samples: C(22, 11) = 705432 splits, beyond the exact limit, so
 * random permutations.  The exact p from Python, with integers (ms):
 *
 *   a = [1210, 1225, 1190, 1260, 1230, 1205, 1215, 1300, 1240, 1220, 1235]
 *   b = [1250, 1270, 1235, 1290, 1245, 1260, 1230, 1320, 1275, 1255, 1265]
 *   pool, tot = a + b, sum(a + b)
 *   d = lambda s: abs((tot - s) * 11 - s * 11)
 *   obs = d(sum(a))
 *   c = sum(d(sum(pool[i] for i in idx)) >= obs
 *           for idx in combinations(range(22), 11))
 *   c / 705432 == 0.01253699860511006
 */
static void test_permutation_random(void **state)
{
	static const double a[] = {1.210, 1.225, 1.190, 1.260, 1.230, 1.205,
				   1.215, 1.300, 1.240, 1.220, 1.235};
	static const double b[] = {1.250, 1.270, 1.235, 1.290, 1.245, 1.260,
				   1.230, 1.320, 1.275, 1.255, 1.265};
	bool exact = true;
	double p = vtb_permutation_p(a, 11, b, 11, VTB_STATS_SEED, &exact);
	double again = vtb_permutation_p(a, 11, b, 11, VTB_STATS_SEED, NULL);

	assert_false(exact);
	/* 20000 permutations: standard error ~0.0008 */
	if (fabs(p - 0.01253699860511006) > 0.004)
		fail_msg("random permutations: p = %g, exact 0.012537", p);
	assert_true(p == again); /* seeded */
}

static void test_permutation_too_few(void **state)
{
	static const double a[] = {1, 2}, b[] = {3};

	assert_true(isnan(vtb_permutation_p(a, 2, b, 1, 1, NULL)));
	assert_true(isnan(vtb_permutation_p(a, 1, b, 1, 1, NULL)));
}

/* min p = 2 / C(na + nb, na): Python's 2 / math.comb(na + nb, na). */
static void test_min_p(void **state)
{
	static const struct {
		int na, nb;
		double p;
	} cases[] = {
		{1, 5, 1},
		{3, 3, 0.1},
		{4, 4, 0.02857142857142857},
		{5, 5, 0.007936507936507936},
		{4, 6, 0.009523809523809525},
		{10, 10, 1.082508822446903e-05},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_close(vtb_permutation_min_p(cases[i].na, cases[i].nb),
			     cases[i].p, "min p", "table");
	assert_int_equal(vtb_runs_needed(0.01), 5);
	assert_int_equal(vtb_runs_needed(0.05), 4);
	assert_int_equal(vtb_runs_needed(0.001), 7);
}

struct decide_case {
	double change, p;
	bool higher_better;
	enum vtb_verdict want;
};

static void test_decide(void **state)
{
	static const struct decide_case cases[] = {
		{0.30, 0.0079, false, VTB_VERDICT_REGRESSION},
		{-0.30, 0.0079, false, VTB_VERDICT_IMPROVEMENT},
		{-0.30, 0.0079, true, VTB_VERDICT_REGRESSION},
		{0.30, 0.0079, true, VTB_VERDICT_IMPROVEMENT},
		{0.03, 0.0001, false, VTB_VERDICT_SAME}, /* too small */
		{0.30, 0.02, false, VTB_VERDICT_SAME},	 /* not significant */
		{0.30, 0.01, false, VTB_VERDICT_SAME},	 /* p < alpha, strict */
		{0.05, 0.001, false, VTB_VERDICT_REGRESSION}, /* |c| >= t */
		{-0.05, 0.001, true, VTB_VERDICT_REGRESSION},
		{NAN, 0.001, false, VTB_VERDICT_NONE},
		{0.30, NAN, false, VTB_VERDICT_NONE},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		enum vtb_verdict v =
			vtb_decide(cases[i].change, cases[i].p,
				   cases[i].higher_better, 0.01, 0.05);

		if (v != cases[i].want)
			fail_msg("case %zu: %s, want %s", i,
				 vtb_verdict_name(v),
				 vtb_verdict_name(cases[i].want));
	}
	assert_true(isnan(vtb_change(0, 1)));
	assert_true(vtb_change(0, 0) == 0);
	assert_close(vtb_change(2, 2.6), 0.3, "change", "2 -> 2.6");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_empty),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_permutation),
		cmocka_unit_test(test_permutation_random),
		cmocka_unit_test(test_permutation_too_few),
		cmocka_unit_test(test_min_p),
		cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
