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
	VTB_OPT_INT,	 /* integer from min to max, then check()ed */
	VTB_OPT_SIZE,	 /* bytes, with K/M/G/T suffixes (powers of 1024) */
	VTB_OPT_SECONDS, /* seconds, VTB_OPT_MIN_SECONDS to a day */
	VTB_OPT_FLAG,	 /* no argument */
	VTB_OPT_NUM,	 /* a finite number (double), checked by check_num */
};

struct vtb_option {
	const char *name; /* long name without "--" */
	enum vtb_opt_type type;
	size_t offset;	 /* of the field in the set's struct */
	const char *def; /* default, as the user would type it; NULL none */
	const char *metavar;
	const char *help;
	/* Check one value (each list item); NULL = anything goes. */
	gboolean (*check)(const char *opt, const char *value, GError **err);
	long min;      /* VTB_OPT_INT: smallest value allowed */
	ssize_t given; /* offset of a bool set when given, or -1 */
	/* The values allowed (each list item), NULL-terminated; NULL: any. */
	const char *const *choices;
	char short_name; /* -x as well as --name; 0: none */
	/* VTB_OPT_NUM: check the number; NULL = anything finite. */
	gboolean (*check_num)(const char *opt, double v, GError **err);
	/* VTB_OPT_INT: largest value allowed; 0: any int. */
	long max;
};

/*
 * The shortest deadline an option of seconds takes: no boot (the fastest
 * here takes ~1.5 s) and no transfer completes sooner, so a shorter one
 * would measure nothing but the deadline.
 */
#define VTB_OPT_MIN_SECONDS 0.1

/*
 * One table and the struct its offsets point into; a command parses a
 * NULL-tab-terminated array of them (run: its own, then each workload's
 * under the workload's name).
 */
struct vtb_optset {
	const char *title; /* heading in --help, or NULL */
	const struct vtb_option *tab;
	void *base;
};

/* "500M" -> 524288000; FALSE for garbage, zero-length or overflow. */
gboolean vtb_parse_size(const char *s, guint64 *out);

#endif
