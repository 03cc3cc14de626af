/* Results: the JSON document (schema 1), the CSV rows and the table. */
#ifndef VTB_RESULTS_H
#define VTB_RESULTS_H

#include <stdio.h>

#include "core/runner.h"

#define VTB_SCHEMA 1

/* Write the whole document to @path atomically (temp file + rename). */
gboolean vtb_results_write_json(const struct vtb_matrix *r, const char *path,
				GError **err);
/* One row per sample, every parameter a column; written atomically. */
gboolean vtb_results_write_csv(const struct vtb_matrix *r, const char *path,
			       GError **err);
/* The human table: cell, median, min, max, runs. */
void vtb_results_print_table(const struct vtb_matrix *r, FILE *f);

#endif
