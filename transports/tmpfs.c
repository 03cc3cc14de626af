/* Transport `tmpfs`: the guest's own memory as the target, the floor any
 * shared filesystem or disk is measured against. */
#include "core/registry.h"

static const char *const no_modules[] = {NULL};

static void tmpfs_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("vtbtmpfs");
	dev->mount_fs = "tmpfs";
	/* Half the guest's memory by default: say so, the size is sized. */
	dev->mount_opts = g_strdup("size=50%");
}

const struct vtb_transport_ops vtb_transport_tmpfs = {
	.name = "tmpfs",
	.kind = VTB_KIND_FS,
	.help = "the guest's own tmpfs (its memory, half of it at most): the "
		"floor set by the guest's CPU",
	.device = VTB_DEV_FS,
	.bus = "tmpfs",
	.guest_modules = no_modules,
	.describe = tmpfs_describe,
	.in_guest_memory = true,
};
