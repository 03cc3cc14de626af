/* Workload `write-no-upload`: the guest makes the same bytes and writes them:
 * the disk alone. */
#include "core/registry.h"
#include "engine/engine.h"

static gboolean write_no_upload_run(struct vtb_cell *cell, struct vtb_sample *s,
				    GError **err)
{
	return vtb_xfer_run(cell, s, VTB_XFER_WRITE_NO_UPLOAD, err);
}

const struct vtb_workload_ops vtb_workload_write_no_upload = {
	.name = "write-no-upload",
	.help = "the guest makes the same bytes and writes them: the disk "
		"alone",
	.needs = 0,
	.writes = true,
	.run = write_no_upload_run,
};
