/*
 * An option of a command, as a table row: what the option engine
 * (run/cli.c) parses and checks, what --help prints and what the results
 * record under "cli_options".
 */
#ifndef VTB_OPTIONS_H
#define VTB_OPTIONS_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

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

#endif
