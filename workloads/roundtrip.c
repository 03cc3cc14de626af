/* Workload `roundtrip`: small messages echoed by the guest, latency. */
#include "core/registry.h"
#include "engine/engine.h"

static gboolean roundtrip_run(struct vtb_cell *cell, struct vtb_sample *s,
			      GError **err)
{
	return vtb_roundtrip_run(cell, s, err);
}

const struct vtb_workload_ops vtb_workload_roundtrip = {
	.name = "roundtrip",
	.help = "ping-pong of small messages: median and p99 latency, msgs/s",
	.needs = VTB_KIND_STREAM,
	.roundtrip = true,
	.run = roundtrip_run,
};
