/* Transport `ubd`: the payload on a read-only UML block device. */
#include "core/registry.h"

static const char *ubd_unsupported(const char *backend)
{
	if (!g_str_equal(backend, "uml"))
		return "ubd is UML's own block driver";
	return NULL;
}

static const char *const *ubd_modules(const char *backend)
{
	static const char *const none[] = { NULL };

	return none;
}

static void ubd_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->kind = VTB_DEV_DISK;
	dev->name = g_strdup("vtbpayload");
	dev->bus = "ubd";
	dev->format = "raw";
	dev->readonly = true;
}

static guint64 ubd_default_size(const struct vtb_cell *c)
{
	return 500ULL << 20;
}

const struct vtb_transport_ops vtb_transport_ubd = {
	.name = "ubd",
	.kind = VTB_KIND_BLOCK,
	.help = "a read-only UML ubd disk holding the payload",
	.unsupported = ubd_unsupported,
	.modules = ubd_modules,
	.describe = ubd_describe,
	.default_size = ubd_default_size,
};
