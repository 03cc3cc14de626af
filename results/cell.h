/* A cell's identity as users read it: one label, from a cell or a file. */
#ifndef VTB_RESULTS_CELL_H
#define VTB_RESULTS_CELL_H

#include "core/vtbench.h"

/* What tells cells apart ("-" or NULL: not part of this cell). */
struct vtb_cell_key {
	const char *backend, *driver, *accel, *transport, *workload;
	gint64 msg_size; /* 0: none */
	const char *target, *cache, *image, *fs, *aio, *payload;
	const char *variant; /* a filesystem's own axis: "msize=512K" */
};

/* "kvm/direct/tcg virtio-blk upload ->virtio-blk cache=none": the label
 * run prints and compare and report show (newly allocated). */
char *vtb_cell_key_label(const struct vtb_cell_key *k);
/* Its two halves, newly allocated: where it ran ("kvm/direct/tcg"; uml)
 * and what it measured ("virtio-blk upload ->virtio-blk cache=none"). */
char *vtb_cell_key_where(const struct vtb_cell_key *k);
char *vtb_cell_key_what(const struct vtb_cell_key *k);
void vtb_cell_key_of(const struct vtb_cell *c, struct vtb_cell_key *k);
char *vtb_cell_label(const struct vtb_cell *c);

#endif
