/* Transport `virtio-serial`: a virtserialport of its own, beside control. */
#include "core/registry.h"

static const char *vs_unsupported(const char *backend)
{
	if (g_str_equal(backend, "uml"))
		return "UML needs a vhost-user virtio-console backend for it, "
		       "and none is packaged (QEMU's serve block and fs only)";
	return NULL;
}

static const char *const *vs_modules(const char *backend)
{
	static const char *const mods[] = { "virtio_console", NULL };

	return mods;
}

static void vs_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->kind = VTB_DEV_VIRTIO_SERIAL;
	dev->name = g_strdup("vtb.data");
}

static guint64 vs_default_size(const struct vtb_cell *c)
{
	return 500ULL << 20;
}

const struct vtb_transport_ops vtb_transport_virtio_serial = {
	.name = "virtio-serial",
	.kind = VTB_KIND_STREAM,
	.help = "a virtio-serial port (QEMU virtserialport on a unix socket)",
	.unsupported = vs_unsupported,
	.modules = vs_modules,
	.describe = vs_describe,
	.default_size = vs_default_size,
};
