/* Transport `virtio-blk`: the payload on a read-only disk the guest reads. */
#include "core/registry.h"

static const char *vb_unsupported(const char *backend)
{
	if (g_str_equal(backend, "uml"))
		return "UML over vhost-user (qemu-storage-daemon) is not "
		       "implemented in this version";
	return NULL;
}

static const char *const *vb_modules(const char *backend)
{
	static const char *const mods[] = { "virtio_blk", NULL };

	return mods;
}

static void vb_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->kind = VTB_DEV_DISK;
	dev->name = g_strdup("vtbpayload");
	dev->bus = "virtio-blk";
	dev->format = "raw";
	dev->readonly = true;
}

static guint64 vb_default_size(const struct vtb_cell *c)
{
	return 500ULL << 20;
}

const struct vtb_transport_ops vtb_transport_virtio_blk = {
	.name = "virtio-blk",
	.kind = VTB_KIND_BLOCK,
	.help = "a read-only virtio-blk disk holding the payload",
	.unsupported = vb_unsupported,
	.modules = vb_modules,
	.describe = vb_describe,
	.default_size = vb_default_size,
};
