/* Transport `ubd`: the payload on a read-only UML block device. */
#include "core/registry.h"

static const char *const no_modules[] = {NULL};

static void ubd_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("vtbpayload");
	dev->format = "raw";
	dev->readonly = true;
}

const struct vtb_transport_ops vtb_transport_ubd = {
	.name = "ubd",
	.kind = VTB_KIND_BLOCK,
	.help = "a read-only UML ubd disk holding the payload",
	.device = VTB_DEV_DISK,
	.bus = "ubd",
	.guest_modules = no_modules,
	.describe = ubd_describe,
	.default_size = 500ULL << 20,
};
