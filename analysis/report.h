/* `vtbench report`: one self-contained HTML page with SVG charts. */
#ifndef VTB_REPORT_H
#define VTB_REPORT_H

#include <glib.h>

#include "results/resfile.h"

/*
 * The page for @n documents (in the order given): first, per document,
 * the backends side by side (a row per thing measured, a column per
 * backend, the headline medians, their ratio, each cell's CPU bar and
 * verdict when the file has them); with exactly two documents the
 * compare table (first = base); one bar chart per metric (median, min-max
 * whiskers, UML beside KVM, log axis beyond 100x); the start-up phases as
 * stacked timelines; the cells' statistics; files and hosts.  Every
 * string from the files is HTML-escaped; nothing is fetched from
 * anywhere.
 */
char *vtb_report_html(struct vtb_rdoc **docs, int n, double alpha,
		      double threshold);

/* Append @s (NULL = "") to @h with & < > " ' escaped. */
void vtb_html_escape(GString *h, const char *s);

#endif
