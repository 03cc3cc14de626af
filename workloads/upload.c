/* Workload `upload`: host -> transport -> a file on the guest's disk, fsync'ed.
 */
#include "engine/engine.h"

const struct vtb_workload_ops vtb_workload_upload = {
	.name = "upload",
	.help = "host -> transport -> a file on the guest's disk, fsync'ed",
	.needs = VTB_KIND_STREAM | VTB_KIND_BLOCK,
	.flags = VTB_WL_WRITES,
	.work = VTB_WORK_COPY,
};
