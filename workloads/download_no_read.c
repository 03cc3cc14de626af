/* Workload `download-no-read`: the guest makes the payload and writes it
 * to the transport; the host hashes and discards it: the channel alone,
 * guest -> host. */
#include <xxhash.h>

#include "core/progress.h"
#include "engine/engine.h"

/* Reads of this size (0.4 s on the slowest line) keep a stall visible. */
#define PIECE (64u << 10)

static gboolean drain_feed(struct vtb_xfer *x, GError **err)
{
	guint64 size = x->run->size, got = 0;
	bool verify = !(x->run->flags & VTB_RUN_F_NOVERIFY);
	g_autofree guint8 *buf = g_malloc(PIECE);
	XXH3_state_t *st = XXH3_createState();
	/* Test hook: a byte flipped as if in flight, which must be caught. */
	bool corrupt = g_getenv("VTBENCH_TEST_CORRUPT") != NULL;
	guint64 hash;

	XXH3_64bits_reset(st);
	while (got < size) {
		size_t n = (size_t)MIN((guint64)PIECE, size - got);

		if (!vtb_xfer_read(x, buf, n, vtb_xfer_stall_deadline(), err)) {
			g_prefix_error(err,
				       "after %" G_GUINT64_FORMAT
				       " of %" G_GUINT64_FORMAT " bytes: ",
				       got, size);
			XXH3_freeState(st);
			return FALSE;
		}
		if (corrupt && got == 0)
			buf[n / 2] ^= 0x40;
		if (verify)
			XXH3_64bits_update(st, buf, n);
		got += n;
		vtb_progress_bytes(got, size);
	}
	x->t_end_us = g_get_monotonic_time();
	hash = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	/* What arrived is the payload; the guest's RESULT says it made the
	 * payload (the engine checks its hash against the same). */
	if (verify && hash != x->payload_hash) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "data corrupted: XXH3 of the %" G_GUINT64_FORMAT
			    " bytes received is %016" G_GINT64_MODIFIER
			    "x, the payload's %016" G_GINT64_MODIFIER "x",
			    size, hash, x->payload_hash);
		return FALSE;
	}
	return TRUE;
}

const struct vtb_workload_ops vtb_workload_download_no_read = {
	.name = "download-no-read",
	.help = "guest makes the payload -> transport -> hashed and discarded "
		"on the host: the channel alone, the other way",
	.needs = VTB_KIND_STREAM,
	.flags = VTB_WL_STATELESS,
	.work = VTB_WORK_EMIT,
	.feed = drain_feed,
};
