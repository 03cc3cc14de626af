/* One matrix run as data: what the runner fills and the results record. */
#ifndef VTB_MATRIX_H
#define VTB_MATRIX_H

#include "core/hostinfo.h"
#include "core/options.h"
#include "core/vtbench.h"

/* One matrix run: everything the results file records. */
struct vtb_matrix {
	struct vtb_opts opts;
	struct vtb_env env;
	struct vtb_hostinfo host;
	GPtrArray *cells;   /* struct vtb_cell * */
	GPtrArray *skipped; /* char *: "BACKEND: why not" */
	char **argv;	    /* the command line, for the record */
	char *started;	    /* ISO 8601 */
	char *finished;	    /* NULL while running */
	bool interrupted;
	/* A results file could not be written: the run stops, exit 3. */
	bool save_failed;
	/* The option table of `run`, for the record. */
	const struct vtb_option *options;
};

#endif
