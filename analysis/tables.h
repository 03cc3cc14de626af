/* The tables `run` prints after its cells, from the cells' samples. */
#ifndef VTB_TABLES_H
#define VTB_TABLES_H

#include <stdio.h>

#include "core/matrix.h"

/*
 * The article's split: is upload bound by the channel or by the disk?
 * Each cell beside the cells of the workloads that take it apart
 * (split_of: upload-no-write and write-no-upload of the same bytes).
 */
void vtb_print_split(const struct vtb_matrix *r, FILE *f);
/*
 * The flush audit: the guest fsyncs its file once at the end of each run;
 * what did the VMM do to the image file meanwhile?
 */
void vtb_print_flush_audit(const struct vtb_matrix *r, FILE *f);
/*
 * Figures per operation (metrics of unit VTB_UNIT_PER_OP, syscall's):
 * one row per metric, one column of medians per cell that measured it
 * (a cell with no ok run has none: no column rather than zeros), and with
 * two columns the first's over the second's, UML beside KVM.
 */
void vtb_print_per_op(const struct vtb_matrix *r, FILE *f);

#endif
