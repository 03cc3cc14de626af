/* Statistics of measured samples: summaries, the A/B test and its verdict. */
#include "core/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct vtb_series *vtb_series_new(const char *name, const char *unit,
				  bool higher_better)
{
	struct vtb_series *s = g_new0(struct vtb_series, 1);

	s->name = g_strdup(name);
	s->unit = g_strdup(unit);
	s->higher_better = higher_better;
	s->v = g_array_new(FALSE, FALSE, sizeof(double));
	return s;
}

void vtb_series_free(struct vtb_series *s)
{
	if (!s)
		return;
	g_free(s->name);
	g_free(s->unit);
	g_array_unref(s->v);
	g_free(s);
}

struct vtb_series *vtb_series_find(GPtrArray *list, const char *name)
{
	for (guint i = 0; list && i < list->len; i++) {
		struct vtb_series *s = list->pdata[i];

		if (strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

/*
 * splitmix64 (Steele, Lea, Flood 2014): tiny, and written down exactly, so
 * that the unit tests can recompute the bootstrap independently.
 */
static guint64 splitmix64(guint64 *state)
{
	guint64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform index below @n: the top 53 bits as a double in [0, 1). */
static int rand_below(guint64 *state, int n)
{
	int i = (int)((double)(splitmix64(state) >> 11) * 0x1.0p-53 * n);

	return i < n ? i : n - 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_sorted(const double *v, int n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double vtb_median(const double *v, int n)
{
	g_autofree double *c = g_memdup2(v, sizeof(*v) * n);

	qsort(c, n, sizeof(*c), cmp_double);
	return median_sorted(c, n);
}

double vtb_quantile_sorted(const double *sorted, int n, double q)
{
	double h = (n - 1) * q;
	int lo = (int)floor(h);

	if (lo >= n - 1)
		return sorted[n - 1];
	if (lo < 0)
		return sorted[0];
	return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

void vtb_bootstrap_median_ci(const double *v, int n, double level,
			     int resamples, guint64 seed, double *lo,
			     double *hi)
{
	g_autofree double *buf = NULL, *meds = NULL;
	guint64 state = seed;

	if (n <= 1 || resamples < 1) {
		*lo = *hi = n ? v[0] : 0;
		return;
	}
	buf = g_new(double, n);
	meds = g_new(double, resamples);
	for (int r = 0; r < resamples; r++) {
		for (int i = 0; i < n; i++)
			buf[i] = v[rand_below(&state, n)];
		qsort(buf, n, sizeof(*buf), cmp_double);
		meds[r] = median_sorted(buf, n);
	}
	qsort(meds, resamples, sizeof(*meds), cmp_double);
	*lo = vtb_quantile_sorted(meds, resamples, (1 - level) / 2);
	*hi = vtb_quantile_sorted(meds, resamples, 1 - (1 - level) / 2);
}

void vtb_stats_compute(const double *v, int n, struct vtb_stats *out)
{
	g_autofree double *s = NULL;
	double sum = 0, sq = 0;

	memset(out, 0, sizeof(*out));
	if (n <= 0)
		return;
	out->n = n;
	s = g_memdup2(v, sizeof(*v) * n);
	qsort(s, n, sizeof(*s), cmp_double);
	for (int i = 0; i < n; i++)
		sum += s[i];
	out->mean = sum / n;
	for (int i = 0; i < n; i++)
		sq += (s[i] - out->mean) * (s[i] - out->mean);
	out->stddev = n > 1 ? sqrt(sq / (n - 1)) : 0;
	out->cv = n > 1 && out->mean != 0 ? out->stddev / fabs(out->mean) : 0;
	out->noisy = n > 1 && out->cv > VTB_NOISE_CV;
	out->median = median_sorted(s, n);
	out->min = s[0];
	out->max = s[n - 1];
	/* From the values in run order, so a file always gives one interval. */
	vtb_bootstrap_median_ci(v, n, VTB_CI_LEVEL, VTB_BOOTSTRAP_RESAMPLES,
				VTB_STATS_SEED, &out->ci_lo, &out->ci_hi);
}

static double choose(int n, int k)
{
	double c = 1;

	if (k < 0 || k > n)
		return 0;
	for (int i = 1; i <= k; i++)
		c = c * (n - k + i) / i;
	return floor(c + 0.5);
}

/* Mean of the rest minus mean of the first group, from the group's sum. */
static double mean_diff(double sum_a, int na, double total, int nb)
{
	return (total - sum_a) / nb - sum_a / na;
}

/* As extreme as the observation, forgiving the rounding of the sums. */
static bool as_extreme(double d, double obs)
{
	return fabs(d) >= fabs(obs) * (1 - 1e-9);
}

static double perm_exact(const double *pool, int na, int nb, double total,
			 double obs, double splits)
{
	g_autofree int *idx = g_new(int, na);
	int n = na + nb;
	double count = 0;

	for (int i = 0; i < na; i++)
		idx[i] = i;
	for (;;) {
		double s = 0;
		int i;

		for (i = 0; i < na; i++)
			s += pool[idx[i]];
		if (as_extreme(mean_diff(s, na, total, nb), obs))
			count++;
		/* The next combination in lexicographic order. */
		for (i = na - 1; i >= 0 && idx[i] == n - na + i; i--)
			;
		if (i < 0)
			break;
		idx[i]++;
		for (int j = i + 1; j < na; j++)
			idx[j] = idx[j - 1] + 1;
	}
	return count / splits;
}

static double perm_random(const double *pool, int na, int nb, double total,
			  double obs, guint64 seed)
{
	int n = na + nb;
	g_autofree double *p = g_memdup2(pool, sizeof(*pool) * n);
	guint64 state = seed;
	long count = 0;

	for (int r = 0; r < VTB_PERM_RESAMPLES; r++) {
		double s = 0;

		/* A partial Fisher-Yates shuffle draws the first group. */
		for (int i = 0; i < na; i++) {
			int j = i + rand_below(&state, n - i);
			double t = p[i];

			p[i] = p[j];
			p[j] = t;
			s += p[i];
		}
		if (as_extreme(mean_diff(s, na, total, nb), obs))
			count++;
	}
	return (1.0 + count) / (1.0 + VTB_PERM_RESAMPLES);
}

double vtb_permutation_p(const double *a, int na, const double *b, int nb,
			 guint64 seed, bool *exact)
{
	g_autofree double *pool = NULL;
	double total = 0, sum_a = 0, obs, splits;

	if (exact)
		*exact = false;
	if (na < 2 || nb < 2)
		return NAN;
	pool = g_new(double, na + nb);
	memcpy(pool, a, sizeof(*a) * na);
	memcpy(pool + na, b, sizeof(*b) * nb);
	for (int i = 0; i < na + nb; i++)
		total += pool[i];
	for (int i = 0; i < na; i++)
		sum_a += pool[i];
	obs = mean_diff(sum_a, na, total, nb);
	splits = choose(na + nb, na);
	if (splits <= VTB_PERM_EXACT_MAX) {
		if (exact)
			*exact = true;
		return perm_exact(pool, na, nb, total, obs, splits);
	}
	return perm_random(pool, na, nb, total, obs, seed);
}

double vtb_permutation_min_p(int na, int nb)
{
	double splits;

	if (na < 2 || nb < 2)
		return 1;
	splits = choose(na + nb, na);
	if (splits > VTB_PERM_EXACT_MAX)
		return 1.0 / (1.0 + VTB_PERM_RESAMPLES);
	return 2 / splits;
}

int vtb_runs_needed(double alpha)
{
	int n = 2;

	while (n < 1000 && vtb_permutation_min_p(n, n) >= alpha)
		n++;
	return n;
}

double vtb_change(double base, double new_)
{
	if (base == 0)
		return new_ == 0 ? 0 : NAN;
	return (new_ - base) / fabs(base);
}

enum vtb_verdict vtb_decide(double change, double p, bool higher_better,
			    double alpha, double threshold)
{
	bool worse;

	if (isnan(change) || isnan(p))
		return VTB_VERDICT_NONE;
	if (!(p < alpha) || fabs(change) < threshold)
		return VTB_VERDICT_SAME;
	worse = higher_better ? change < 0 : change > 0;
	return worse ? VTB_VERDICT_REGRESSION : VTB_VERDICT_IMPROVEMENT;
}

const char *vtb_verdict_name(enum vtb_verdict v)
{
	switch (v) {
	case VTB_VERDICT_NONE:
		return "untested";
	case VTB_VERDICT_SAME:
		return "same";
	case VTB_VERDICT_IMPROVEMENT:
		return "improvement";
	case VTB_VERDICT_REGRESSION:
		return "REGRESSION";
	}
	return "?";
}
