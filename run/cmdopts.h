/* Option tables of `compare` and `report`, in the style of core/cli.c. */
#ifndef VTB_CMDOPTS_H
#define VTB_CMDOPTS_H

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>

enum vtb_cmdopt_type {
	VTB_CMDOPT_STR, /* free text (a path) */
	VTB_CMDOPT_NUM, /* a number, checked by .check */
};

struct vtb_cmdopt {
	const char *name; /* long name without "--" */
	char short_name;  /* 0: none */
	enum vtb_cmdopt_type type;
	size_t offset;	 /* of the field (char * or double) in the options */
	const char *def; /* default, as the user would type it; NULL none */
	const char *metavar;
	const char *help;
	/* Check a number; NULL = anything goes. */
	gboolean (*check)(const char *opt, double v, GError **err);
};

/*
 * Parse @argc arguments at @argv (after the command's name) into @opts
 * with the NULL-named-terminated table @tab, defaults applied first.
 * Arguments not starting with '-' go to @positional (borrowed).  Sets
 * *help for --help/-h.  Errors are VTB_ERR_USAGE, one line.
 */
gboolean vtb_cmdopts_parse(const struct vtb_cmdopt *tab, void *opts, int argc,
			   char **argv, GPtrArray *positional, bool *help,
			   GError **err);
/* Checks for VTB_CMDOPT_NUM: 0..1000 %; 0 < p < 1. */
gboolean vtb_check_percent(const char *opt, double v, GError **err);
gboolean vtb_check_probability(const char *opt, double v, GError **err);
/* Free the strings the table put in @opts. */
void vtb_cmdopts_clear(const struct vtb_cmdopt *tab, void *opts);
/* The option lines of --help, from the table. */
void vtb_cmdopts_print_help(const struct vtb_cmdopt *tab, FILE *f);

#endif
