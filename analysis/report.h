/* `vtbench report`: one self-contained HTML page with SVG charts. */
#ifndef VTB_REPORT_H
#define VTB_REPORT_H

#include <glib.h>

#include "results/resfile.h"

/*
 * The page for @n documents (in the order given): files and hosts, one
 * bar chart per metric (median, min-max whiskers, UML beside KVM), the
 * start-up phases as stacked timelines, the cells' statistics, and with
 * exactly two documents the compare table (first = base).  Every string
 * from the files is HTML-escaped; nothing is fetched from anywhere.
 */
char *vtb_report_html(struct vtb_rdoc **docs, int n, double alpha,
		      double threshold);

/* Append @s (NULL = "") to @h with & < > " ' escaped. */
void vtb_html_escape(GString *h, const char *s);

#endif
