/* Transport `hostfs`: UML's own host filesystem, confined to a directory
 * vtbench prepares (UML's hostfs= is its root). */
#include "core/registry.h"

static const char *const no_modules[] = {NULL};

static void hostfs_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("vtbhostfs");
	dev->mount_fs = "hostfs";
	/* No data: the root UML's hostfs= gave, nothing above it. */
	dev->mount_opts = g_strdup("");
}

const struct vtb_transport_ops vtb_transport_hostfs = {
	.name = "hostfs",
	.kind = VTB_KIND_FS,
	.help = "UML's hostfs: a host directory vtbench prepares, the guest's "
		"only view of the host",
	.device = VTB_DEV_FS,
	.bus = "hostfs",
	.guest_modules = no_modules,
	.describe = hostfs_describe,
};
