/* Workload `roundtrip`: small messages echoed by the guest, latency. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/stats.h"
#include "engine/engine.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The timed part: each message out, its echo back, compared.  A
 * message's latency is its write and the read of its echo only: the
 * host makes and hashes the next message (different bytes each time, so
 * a stale echo cannot pass) outside that interval.  msgs_per_s is the
 * wall rate of the whole loop, that work included.
 */
static gboolean echo_feed(struct vtb_xfer *x, GError **err)
{
	guint32 msz = x->run->block, n = (guint32)(x->run->size / msz);
	g_autofree double *lat = g_new(double, n);
	g_autofree guint8 *out = g_malloc(msz), *in = g_malloc(msz);
	XXH3_state_t *st = XXH3_createState();
	double secs;

	XXH3_64bits_reset(st);
	for (guint32 i = 0; i < n; i++) {
		gint64 a, dl = vtb_xfer_stall_deadline();

		vtb_xfer_fill(out, msz, (guint64)i * msz);
		XXH3_64bits_update(st, out, msz);
		a = g_get_monotonic_time();
		if (!vtb_xfer_write(x, out, msz, dl, err) ||
		    !vtb_xfer_read(x, in, msz, dl, err)) {
			g_prefix_error(err, "message %u of %u: ", i + 1, n);
			XXH3_freeState(st);
			return FALSE;
		}
		lat[i] = (double)(g_get_monotonic_time() - a); /* us */
		if (memcmp(in, out, msz) != 0) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "message %u of %u came back altered", i + 1,
				    n);
			XXH3_freeState(st);
			return FALSE;
		}
	}
	x->t_end_us = g_get_monotonic_time();
	x->expect_hash = XXH3_64bits_digest(st);
	x->expect_hash_set = true;
	XXH3_freeState(st);
	x->bytes = 2 * x->run->size;
	secs = (x->t_end_us - x->t0_us) / 1e6;
	qsort(lat, n, sizeof(*lat), cmp_double);
	vtb_sample_add_metric(x->s, "latency_median_us", "us", false,
			      vtb_median(lat, (int)n));
	vtb_sample_add_metric(x->s, "latency_p99_us", "us", false,
			      lat[MIN(n - 1, (guint32)(0.99 * n))]);
	vtb_sample_add_metric(x->s, "msgs_per_s", "1/s", true, n / secs);
	return TRUE;
}

struct roundtrip_opts {
	struct vtb_msg_axis msg; /* first: VTB_WL_PER_MSG_SIZE */
};

static gboolean check_msg_size(const char *opt, const char *v, GError **err)
{
	guint64 n;

	if (vtb_parse_size(v, &n) && n > 0 && n <= (1u << 20))
		return TRUE;
	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
		    "--%s: not a message size from 1 to 1M: '%s'", opt, v);
	return FALSE;
}

/*
 * Each message's latency is kept (8 bytes) and the count crosses the wire
 * as 32 bits: --size / --msg-size must be at least one message and at
 * most this many (~4 h at the 6,900 msgs/s of README's 64-byte case).
 */
#define ROUNDTRIP_MAX_MSGS 100000000ULL

static gboolean roundtrip_check(const struct vtb_opts *o, const void *wopts,
				GError **err)
{
	const struct roundtrip_opts *ro = wopts;

	for (char **m = ro->msg.sizes; m && *m; m++) {
		guint64 msz = 0;

		vtb_parse_size(*m, &msz);
		if (!msz ||
		    (o->size >= msz && o->size / msz <= ROUNDTRIP_MAX_MSGS))
			continue;
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "roundtrip: --size %" G_GUINT64_FORMAT
			    " with --msg-size %s is %" G_GUINT64_FORMAT
			    " messages: it must be 1 to %llu",
			    o->size, *m, o->size / msz, ROUNDTRIP_MAX_MSGS);
		return FALSE;
	}
	return TRUE;
}

#define OFF(f) offsetof(struct roundtrip_opts, f)
/* clang-format off */
static const struct vtb_option roundtrip_options[] = {
	{ "msg-size", VTB_OPT_LIST, OFF(msg.sizes), "64,4K", "LIST",
	  "roundtrip message sizes", check_msg_size, 0,
	  (ssize_t)OFF(msg.given), NULL, 0, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1, NULL, 0, NULL },
};
/* clang-format on */

const struct vtb_workload_ops vtb_workload_roundtrip = {
	.name = "roundtrip",
	.help = "ping-pong of small messages: median and p99 latency, msgs/s",
	.needs = VTB_KIND_STREAM,
	.flags = VTB_WL_STATELESS | VTB_WL_PER_MSG_SIZE,
	.work = VTB_WORK_ECHO,
	.feed = echo_feed,
	.options = roundtrip_options,
	.options_size = sizeof(struct roundtrip_opts),
	.check = roundtrip_check,
};
