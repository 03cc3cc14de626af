/* `vtbench compare`: match two results files' cells, judge every metric. */
#ifndef VTB_COMPARE_H
#define VTB_COMPARE_H

#include <stdio.h>

#include "results/resfile.h"
#include "core/stats.h"

/* One metric of one cell present in both files. */
struct vtb_cmp_row {
	const struct vtb_rcell *base, *new_;
	const char *metric, *unit; /* from the base file */
	bool higher_better;
	struct vtb_stats bst, nst; /* summaries of both sides */
	double change; /* of the medians, a fraction; NAN when unknown */
	double p;      /* permutation test; NAN when not testable */
	bool exact;    /* p from every split, not random ones */
	enum vtb_verdict verdict;
	/* NEW has no ok sample where BASE had some: a regression. */
	bool failed;
	char *note; /* "too few runs ...", "noisy: CV 12 % (new)", or NULL */
	guint seq;  /* the order it was made in */
};

struct vtb_comparison {
	const struct vtb_rdoc *base, *new_;
	double alpha, threshold; /* threshold as a fraction */
	GArray *rows;		 /* struct vtb_cmp_row: regressions first */
	GPtrArray *only_base, *only_new; /* const struct vtb_rcell * */
	/* char *: what differs besides kernels; a busy host */
	GPtrArray *env_warnings;
	GPtrArray *kernels; /* char *: the kernels of each side */
	GPtrArray *notes;   /* char *: anything else worth a line */
	int regressions;    /* rows with verdict REGRESSION */
	int untestable;	    /* rows with too few samples for alpha */
	int judged;	    /* rows with a verdict (not VTB_VERDICT_NONE) */
};

/* What a comparison concluded; `compare` exits with it (README). */
enum vtb_compare_outcome {
	VTB_COMPARE_SAME = 0,	    /* judged: no significant regression */
	VTB_COMPARE_REGRESSION = 1, /* at least one */
	/* No row had a verdict (too few runs, no ok samples): not a pass. */
	VTB_COMPARE_UNJUDGED = 4,
};
enum vtb_compare_outcome vtb_comparison_outcome(const struct vtb_comparison *c);

/*
 * Match the cells of @base and @new_ (vtb_rcell_match()) and
 * judge each metric both have with vtb_decide(): @alpha for the
 * permutation test, @threshold the smallest |change| (a fraction) that
 * counts.  Pure: reads only the two documents.
 */
struct vtb_comparison *vtb_compare(const struct vtb_rdoc *base,
				   const struct vtb_rdoc *new_, double alpha,
				   double threshold);
void vtb_comparison_free(struct vtb_comparison *c);

/* The human table: regressions first, marked "!!"; then the notes. */
void vtb_comparison_print(const struct vtb_comparison *c, FILE *f);

/* "+12.3 %", "-0.4 %", "-" */
char *vtb_format_change(double change);
/* "0.0079", "<0.0001", "-" */
char *vtb_format_p(double p);

#endif
