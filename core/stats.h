/* Statistics of measured samples: summaries, the A/B test and its verdict. */
#ifndef VTB_STATS_H
#define VTB_STATS_H

#include <glib.h>
#include <stdbool.h>

/* A cell whose coefficient of variation exceeds this is flagged noisy. */
#define VTB_NOISE_CV 0.05
/* The confidence interval of the median: level and bootstrap resamples. */
#define VTB_CI_LEVEL 0.95
#define VTB_BOOTSTRAP_RESAMPLES 2000
/*
 * One fixed seed for every resampling, so that a results file always
 * yields the same interval and the same p-value, on any machine.
 */
#define VTB_STATS_SEED 0x767462656e636831ULL
/* Up to this many splits the permutation test enumerates them all. */
#define VTB_PERM_EXACT_MAX 200000
/* Beyond that, this many random permutations. */
#define VTB_PERM_RESAMPLES 20000

/* Defaults of `compare`: the Firecracker A/B rule. */
#define VTB_DEFAULT_ALPHA 0.01
#define VTB_DEFAULT_THRESHOLD 0.05

/* The samples of one metric of one cell. */
struct vtb_series {
	char *name; /* "seconds", "throughput_MBps", "p99_us", ... */
	char *unit; /* "s", "MB/s", "us", ... */
	bool higher_better;
	GArray *v; /* double: ok measured samples, in run order */
};

struct vtb_series *vtb_series_new(const char *name, const char *unit,
				  bool higher_better);
void vtb_series_free(struct vtb_series *s);
/* The series called @name in @list (of struct vtb_series *), or NULL. */
struct vtb_series *vtb_series_find(GPtrArray *list, const char *name);

struct vtb_stats {
	int n;
	double median, min, max, mean;
	double stddev; /* sample standard deviation (n - 1); 0 when n < 2 */
	double cv;     /* stddev / |mean|; 0 when n < 2 or mean is 0 */
	double ci_lo, ci_hi; /* VTB_CI_LEVEL bootstrap interval of the median */
	bool noisy;	     /* n >= 2 and cv > VTB_NOISE_CV */
};

/* Summarise @n values (not modified).  All zero when @n is 0. */
void vtb_stats_compute(const double *v, int n, struct vtb_stats *out);

/* The median of @n > 0 values (not modified). */
double vtb_median(const double *v, int n);

/*
 * The @q quantile (0..1) of @n > 0 sorted values, interpolated linearly
 * between order statistics (R's type 7, numpy's default).
 */
double vtb_quantile_sorted(const double *sorted, int n, double q);

/*
 * Percentile bootstrap interval of the median at @level, from @resamples
 * resamples drawn with splitmix64 seeded with @seed.  @n == 1 gives a
 * zero-width interval.
 */
void vtb_bootstrap_median_ci(const double *v, int n, double level,
			     int resamples, guint64 seed, double *lo,
			     double *hi);

/*
 * Two-sided permutation test of "a and b come from one distribution",
 * with the difference of the means as statistic (as Firecracker's A/B
 * tests).  Exact when there are at most VTB_PERM_EXACT_MAX ways to split
 * the pooled samples (then p = splits at least as extreme / all splits,
 * the observed one included); otherwise VTB_PERM_RESAMPLES random
 * permutations from @seed, p = (1 + as extreme) / (1 + resamples).
 * Returns NAN when either side has fewer than 2 samples.  *exact (may be
 * NULL) says which way it was computed.
 */
double vtb_permutation_p(const double *a, int na, const double *b, int nb,
			 guint64 seed, bool *exact);

/*
 * The smallest p-value the exact test can give with @na and @nb samples
 * (2 / C(na + nb, na): only the two complete separations).  When it is
 * not below alpha, no change can be significant: more runs are needed.
 */
double vtb_permutation_min_p(int na, int nb);

/* Equal runs per side needed for vtb_permutation_min_p() < @alpha. */
int vtb_runs_needed(double alpha);

/* (new - base) / base; NAN when base is 0 (unless both are). */
double vtb_change(double base, double new_);

enum vtb_verdict {
	VTB_VERDICT_NONE, /* not testable: too few samples */
	VTB_VERDICT_SAME, /* not significant, or below the threshold */
	VTB_VERDICT_IMPROVEMENT,
	VTB_VERDICT_REGRESSION,
};

/*
 * The rule: significant when p < @alpha and |change| >= @threshold (a
 * fraction); a significant change is a regression when it goes the worse
 * way for the metric (slower when lower is better, less throughput when
 * higher is better).
 */
enum vtb_verdict vtb_decide(double change, double p, bool higher_better,
			    double alpha, double threshold);
const char *vtb_verdict_name(enum vtb_verdict v);

#endif
