/* Command-line options as tables: parsing, validation and --help. */
#ifndef VTB_CLI_H
#define VTB_CLI_H

#include <stdio.h>
#include <sys/types.h>

#include "core/options.h"
#include "core/vtbench.h"

extern const struct vtb_option vtb_run_options[];

/*
 * Parse the arguments after "run" into @o (defaults applied first).
 * Sets *help when --help was given.  Errors are VTB_ERR_USAGE with one
 * line naming the problem ("unknown option --foo", "--runs: must be at
 * least 1, got 0").
 */
gboolean vtb_cli_parse_run(int argc, char **argv, struct vtb_opts *o,
			   bool *help, GError **err);
void vtb_opts_clear(struct vtb_opts *o);

/* --help text of `vtbench run`, generated from vtb_run_options. */
void vtb_cli_print_run_help(FILE *f);

#endif
