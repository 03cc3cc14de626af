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

#endif
