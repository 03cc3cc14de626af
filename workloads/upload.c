/* Workload `upload`: host -> transport -> a file on the guest's disk, fsync'ed.
 */
#include "core/registry.h"
#include "engine/engine.h"

static gboolean upload_run(struct vtb_cell *cell, struct vtb_sample *s,
			   GError **err)
{
	return vtb_xfer_run(cell, s, VTB_XFER_UPLOAD, err);
}

const struct vtb_workload_ops vtb_workload_upload = {
	.name = "upload",
	.help = "host -> transport -> a file on the guest's disk, fsync'ed",
	.needs = VTB_KIND_STREAM | VTB_KIND_BLOCK,
	.writes = true,
	.run = upload_run,
};
