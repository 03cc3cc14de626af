/* Workload `upload`: host -> transport -> a file on the guest's disk, fsync'ed.
 */
#include "engine/engine.h"

const struct vtb_workload_ops vtb_workload_upload = {
	.name = "upload",
	.help = "host -> transport -> a file on the guest's disk, fsync'ed",
	.needs = VTB_KIND_STREAM | VTB_KIND_BLOCK,
	.flags = VTB_WL_WRITES | VTB_WL_STREAMS_BY_DEFAULT,
	.work = VTB_WORK_COPY,
};
