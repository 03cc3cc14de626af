/* `vtbench run`, `list` and `probe`: the matrix and its environment. */
#ifndef VTB_RUNNER_H
#define VTB_RUNNER_H

#include "core/hostinfo.h"
#include "core/vtbench.h"

/* One matrix run: everything the results file records. */
struct vtb_matrix {
	struct vtb_opts opts;
	struct vtb_env env;
	struct vtb_hostinfo host;
	GPtrArray *cells;   /* struct vtb_cell * */
	GPtrArray *skipped; /* char *: "kvm: why not" */
	char **argv;	    /* the command line, for the record */
	char *started;	    /* ISO 8601 */
	char *finished;	    /* NULL while running */
	bool interrupted;
	char *libvirt_version;
};

/* Empty cells/skipped arrays, env->opts wired; no probing. */
void vtb_matrix_init(struct vtb_matrix *r);
/*
 * Expand the options into cells for every prepared backend (vtb_env_ready),
 * recording each combination that cannot run, with why,
 * in r->skipped.
 */
void vtb_matrix_build(struct vtb_matrix *r);
void vtb_matrix_clear(struct vtb_matrix *r);
/*
 * Bytes that move in about @seconds at @bytes_per_s, on a 2^n / 1.5*2^n
 * grid from 64 KiB, at most @max.
 */
guint64 vtb_size_for_rate(double bytes_per_s, double seconds, guint64 max);

int vtb_cmd_run(int argc, char **argv);
int vtb_cmd_list(int argc, char **argv);
int vtb_cmd_probe(int argc, char **argv);

/* Summary of a cell's measured (non-warm-up, ok) samples. */
struct vtb_summary {
	int n;	    /* ok measured samples */
	int failed; /* failed measured samples */
	double median, min, max, mean, stddev;
};
void vtb_cell_summary(const struct vtb_cell *c, struct vtb_summary *s);
/* Median of phase @name over ok measured samples; FALSE when none. */
gboolean vtb_cell_phase_median(const struct vtb_cell *c, const char *name,
			       double *out);
char *vtb_cell_label(const struct vtb_cell *c);

#endif
