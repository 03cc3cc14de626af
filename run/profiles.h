/* Profiles: named matrices that reproduce a seed article's tables. */
#ifndef VTB_RUN_PROFILES_H
#define VTB_RUN_PROFILES_H

#include <glib.h>

#include "analysis/profile.h"

struct vtb_profile {
	const char *name, *help;
	/*
	 * The options of `vtbench run`, one word each ("--name=value"),
	 * as a user would type them.
	 */
	const char *const *words;
	const struct vtb_article *const *articles; /* NULL-terminated */
};

extern const struct vtb_profile vtb_profiles[]; /* ends with a NULL name */

const struct vtb_profile *vtb_profile_find(const char *name);
/* "libguestfs, lima" (newly allocated). */
char *vtb_profile_names(void);
/*
 * @argv (@argc words after the command's name) with the words of the
 * profile that --profile NAME (or --profile=NAME) names put in front,
 * less those whose option @argv gives itself: the command line wins,
 * lists included (--image qcow2 runs qcow2 only).  No --profile, or an
 * unknown name (the option's own check says so): @argv's words as they
 * are.  A NULL-terminated array of borrowed strings; *@n its length.
 */
char **vtb_profile_expand(int argc, char **argv, int *n);

#endif
