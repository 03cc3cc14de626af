/* What the transfer workloads share: set-up, streaming, verification. */
#ifndef VTB_WORKLOADS_COMMON_H
#define VTB_WORKLOADS_COMMON_H

#include "core/vtbench.h"

/* No progress for this long aborts a transfer as stalled. */
#define VTB_STALL_S 15.0

enum vtb_xfer_mode {
	VTB_XFER_UPLOAD,	  /* transport -> guest file, fsync */
	VTB_XFER_UPLOAD_NO_WRITE, /* transport -> hashed and discarded */
	VTB_XFER_WRITE_NO_UPLOAD, /* guest generates, writes, fsyncs */
};

/* Boot deadline for the cell (--timeout, else per backend/accel). */
double vtb_cell_boot_timeout(const struct vtb_cell *cell);

/* One sample of upload / upload-no-write / write-no-upload. */
gboolean vtb_xfer_run(struct vtb_cell *cell, struct vtb_sample *s,
		      enum vtb_xfer_mode mode, GError **err);

/* One sample of roundtrip: cell->msg_size messages echoed by the guest. */
gboolean vtb_roundtrip_run(struct vtb_cell *cell, struct vtb_sample *s,
			   GError **err);

/* Power off the guest the cell kept between its runs, if any. */
gboolean vtb_cell_release_guest(struct vtb_cell *cell, GError **err);

#endif
