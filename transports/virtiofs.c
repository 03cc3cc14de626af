/* Transport `virtiofs`: a host directory through QEMU 7.2's C virtiofsd
 * (a helper child) and vhost-user-fs, each --virtiofs-cache mode a cell. */
#include <stddef.h>

#include "core/options.h"
#include "core/registry.h"

extern const struct vtb_transport_ops vtb_transport_virtiofs;

static const char *const vfs_modules[] = {"virtiofs", NULL};

struct vtb_virtiofs_opts {
	char **caches;
	int threads;
};

static void vfs_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	const struct vtb_virtiofs_opts *o =
		vtb_transport_opts(c->env->opts, &vtb_transport_virtiofs);

	dev->name = g_strdup("vtbfs");
	dev->mount_fs = "virtiofs";
	dev->mount_opts = g_strdup("");
	dev->threads = o ? o->threads : 0;
}

static char **vfs_caches(const void *topts)
{
	return ((const struct vtb_virtiofs_opts *)topts)->caches;
}

static const char *const vfs_cache_names[] = {"auto", "always", "none", NULL};

#define OFF(f) offsetof(struct vtb_virtiofs_opts, f)
/* clang-format off */
static const struct vtb_option vfs_options[] = {
	{ "virtiofs-cache", VTB_OPT_LIST, OFF(caches), "auto", "LIST",
	  "virtiofsd cache modes, a cell each: auto, always, none", NULL, 0,
	  -1, vfs_cache_names },
	{ "virtiofs-threads", VTB_OPT_INT, OFF(threads), "0", "N",
	  "virtiofsd's --thread-pool-size (0: its requests on the queue's "
	  "own thread)", NULL, 0, -1, .max = 1024 },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1 },
};
/* clang-format on */

const struct vtb_transport_ops vtb_transport_virtiofs = {
	.name = "virtiofs",
	.kind = VTB_KIND_FS,
	.help = "a host directory through virtiofsd (QEMU 7.2's, a helper "
		"child) and vhost-user-fs, the guest's memory shared with it",
	.device = VTB_DEV_FS,
	.bus = "virtiofs",
	.guest_modules = vfs_modules,
	.describe = vfs_describe,
	.options = vfs_options,
	.options_size = sizeof(struct vtb_virtiofs_opts),
	.cache_axis = vfs_caches,
};
