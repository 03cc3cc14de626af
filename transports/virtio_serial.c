/* Transport `virtio-serial`: a virtserialport of its own, beside control. */
#include "core/registry.h"

static const char *const vs_modules[] = {"virtio_console", NULL};

static void vs_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("vtb.data");
}

const struct vtb_transport_ops vtb_transport_virtio_serial = {
	.name = "virtio-serial",
	.kind = VTB_KIND_STREAM,
	.help = "a virtio-serial port (a named virtio-console port, "
		"/dev/virtio-ports/NAME in the guest)",
	.device = VTB_DEV_VIRTIO_SERIAL,
	.guest_modules = vs_modules,
	.describe = vs_describe,
	.default_size = 500ULL << 20,
};
