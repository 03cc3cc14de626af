/* The option engine of every command (run, list, probe, compare, report). */
#ifndef VTB_RUN_OPTIONS_H
#define VTB_RUN_OPTIONS_H

#include <stdio.h>

#include "core/options.h"
#include "core/vtbench.h"

/*
 * Parse @argc arguments at @argv (after the command's name) into the
 * sets' structs, defaults applied first.  Arguments not starting with '-'
 * go to @positional (borrowed), or are an error when it is NULL.  Sets
 * *help for --help/-h.  Errors are VTB_ERR_USAGE with one line naming
 * the problem ("unknown option --foo", "--runs: must be at least 1, got
 * 0").
 */
gboolean vtb_options_parse(const struct vtb_optset *sets, int argc, char **argv,
			   GPtrArray *positional, bool *help, GError **err);
/* Only the defaults. */
gboolean vtb_options_defaults(const struct vtb_optset *sets, GError **err);
/* Free the strings and lists the table put in @base. */
void vtb_options_clear(const struct vtb_option *tab, void *base);
/* The option lines of --help, a heading per titled set. */
void vtb_options_print_help(const struct vtb_optset *sets, FILE *f);

/* Checks for VTB_OPT_NUM: 0..1000 %; 0 < p < 1. */
gboolean vtb_check_percent(const char *opt, double v, GError **err);
gboolean vtb_check_probability(const char *opt, double v, GError **err);

#endif
