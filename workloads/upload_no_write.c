/* Workload `upload-no-write`: host -> transport -> hashed and discarded in the
 * guest: the channel alone. */
#include "core/registry.h"
#include "engine/engine.h"

static gboolean upload_no_write_run(struct vtb_cell *cell, struct vtb_sample *s,
				    GError **err)
{
	return vtb_xfer_run(cell, s, VTB_XFER_UPLOAD_NO_WRITE, err);
}

const struct vtb_workload_ops vtb_workload_upload_no_write = {
	.name = "upload-no-write",
	.help = "host -> transport -> hashed and discarded in the guest: the "
		"channel alone",
	.needs = VTB_KIND_STREAM | VTB_KIND_BLOCK,
	.writes = false,
	.run = upload_no_write_run,
};
