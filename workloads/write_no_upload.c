/* Workload `write-no-upload`: the guest makes the same bytes and writes them:
 * the disk alone. */
#include "engine/engine.h"

const struct vtb_workload_ops vtb_workload_write_no_upload = {
	.name = "write-no-upload",
	.help = "the guest makes the same bytes and writes them: the disk "
		"alone",
	.needs = 0,
	.flags = VTB_WL_WRITES,
	.work = VTB_WORK_GEN,
	.split_of = "upload",
	.split_col = "no-upload",
};
