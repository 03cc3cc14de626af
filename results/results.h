/* Results: the JSON document (schema 1), the CSV rows and the table. */
#ifndef VTB_RESULTS_H
#define VTB_RESULTS_H

#include <stdio.h>

#include "core/matrix.h"
#include "core/stats.h"

#define VTB_SCHEMA 1

/* The metrics every cell may have besides the workload's own. */
#define VTB_METRIC_SECONDS "seconds" /* host clock, lower is better */
#define VTB_METRIC_THROUGHPUT "throughput_MBps" /* 10^6 B/s, higher better */

/* The whole document as text (newly allocated). */
char *vtb_results_json(const struct vtb_matrix *r);
/* Write the whole document to @path atomically (temp file + rename). */
gboolean vtb_results_write_json(const struct vtb_matrix *r, const char *path,
				GError **err);
/* One row per sample, every parameter a column; written atomically. */
gboolean vtb_results_write_csv(const struct vtb_matrix *r, const char *path,
			       GError **err);
/* The human table: cell, median, min, max, CV, runs, noise, phases. */
void vtb_results_print_table(const struct vtb_matrix *r, FILE *f);

/* Bytes / seconds of one sample in MB/s (10^6 B/s); 0 when no bytes. */
double vtb_sample_throughput(const struct vtb_sample *s);

/*
 * The metrics of a cell over its ok measured samples (warm-ups and
 * failures excluded), as struct vtb_series *: "seconds" always first, then
 * "throughput_MBps" when any sample moved bytes, then each metric the
 * workload recorded (struct vtb_metric), in the order first seen.  The
 * caller unrefs the array.
 */
GPtrArray *vtb_cell_series(const struct vtb_cell *c);

/* "noisy: CV 12 %" for a noisy summary, else NULL. */
char *vtb_noise_note(const struct vtb_stats *st);

/* "1.221s", "312.4 MB/s", "850 us": a value with its unit, for tables. */
char *vtb_format_value(double v, const char *unit);

/* Append @v (NULL = empty) to @s as one CSV field, quoted per RFC 4180. */
void vtb_csv_field(GString *s, const char *v);

/* Summary of a cell's measured (non-warm-up, ok) samples. */
struct vtb_summary {
	int n;	    /* ok measured samples */
	int failed; /* failed measured samples */
	double median, min, max, mean, stddev;
};
void vtb_cell_summary(const struct vtb_cell *c, struct vtb_summary *s);
/* The ok measured sample whose seconds are the median (the lower of the
 * middle two), whose CPU attribution stands for the cell; NULL when none
 * is ok. */
const struct vtb_sample *vtb_cell_median_sample(const struct vtb_cell *c);
/* Median of phase @name over ok measured samples; FALSE when none. */
gboolean vtb_cell_phase_median(const struct vtb_cell *c, const char *name,
			       double *out);

#endif
