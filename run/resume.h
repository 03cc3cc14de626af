/* `run --resume FILE`: take the cells FILE already measured, run the rest. */
#ifndef VTB_RESUME_H
#define VTB_RESUME_H

#include "run/runner.h"

/*
 * Mark every cell of @r that @path holds complete, with the same
 * parameters, accelerator and kernel on the same host, as resumed, with
 * its samples copied in.  Returns the number of cells resumed, or -1 with
 * VTB_ERR_USAGE for a file that is not a vtbench results file.
 */
int vtb_resume(struct vtb_matrix *r, const char *path, GError **err);

#endif
