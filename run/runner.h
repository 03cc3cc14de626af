/* `vtbench run`, `list` and `probe`: the matrix and its environment. */
#ifndef VTB_RUNNER_H
#define VTB_RUNNER_H

#include "core/matrix.h"
#include "core/vtbench.h"

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

#endif
