/* Transport `virtio-blk`: the payload on a read-only disk the guest reads. */
#include "core/registry.h"

static const char *const vb_modules[] = {"virtio_blk", NULL};

static void vb_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("vtbpayload");
	dev->format = "raw";
	dev->readonly = true;
}

const struct vtb_transport_ops vtb_transport_virtio_blk = {
	.name = "virtio-blk",
	.kind = VTB_KIND_BLOCK,
	.help = "a read-only virtio-blk disk holding the payload",
	.device = VTB_DEV_DISK,
	.bus = "virtio-blk",
	.guest_modules = vb_modules,
	.describe = vb_describe,
	.default_size = 500ULL << 20,
};
