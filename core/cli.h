/* Command-line options as tables: parsing, validation and --help. */
#ifndef VTB_CLI_H
#define VTB_CLI_H

#include <stdio.h>
#include <sys/types.h>

#include "core/vtbench.h"

enum vtb_opt_type {
	VTB_OPT_STR,	 /* free text (a path, a URI) */
	VTB_OPT_LIST,	 /* comma-separated, repeatable; each item checked */
	VTB_OPT_INT,	 /* integer >= min */
	VTB_OPT_SIZE,	 /* bytes, with K/M/G/T suffixes (powers of 1024) */
	VTB_OPT_SECONDS, /* positive number of seconds */
	VTB_OPT_FLAG,	 /* no argument */
};

struct vtb_option {
	const char *name; /* long name without "--" */
	enum vtb_opt_type type;
	size_t offset;	 /* of the field in struct vtb_opts */
	const char *def; /* default, as the user would type it; NULL none */
	const char *metavar;
	const char *help;
	/* Check one value (each list item); NULL = anything goes. */
	gboolean (*check)(const char *opt, const char *value, GError **err);
	long min;      /* VTB_OPT_INT: smallest value allowed */
	ssize_t given; /* offset of a bool set when given, or -1 */
	/* The values allowed (each list item), NULL-terminated; NULL: any. */
	const char *const *choices;
};

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

/* "500M" -> 524288000; FALSE for garbage, zero-length or overflow. */
gboolean vtb_parse_size(const char *s, guint64 *out);

/* --help text of `vtbench run`, generated from vtb_run_options. */
void vtb_cli_print_run_help(FILE *f);

#endif
