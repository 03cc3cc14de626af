/* Workload `upload-no-write`: host -> transport -> hashed and discarded in the
 * guest: the channel alone. */
#include "engine/engine.h"

const struct vtb_workload_ops vtb_workload_upload_no_write = {
	.name = "upload-no-write",
	.help = "host -> transport -> hashed and discarded in the guest: the "
		"channel alone",
	.needs = VTB_KIND_STREAM | VTB_KIND_BLOCK,
	.flags = VTB_WL_STATELESS,
	.work = VTB_WORK_SINK,
	.split_of = "upload",
	.split_col = "no-write",
};
