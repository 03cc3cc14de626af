/* Transport `9p`: a host directory over 9P2000.L with --9p-msize and each
 * --9p-cache mode a cell: virtio-9p (QEMU's local fsdev), or on a
 * backend without it, its row's stream and server (uml/ninep.h). */
#include <stddef.h>

#include "core/options.h"
#include "core/registry.h"

extern const struct vtb_transport_ops vtb_transport_9p;

static const char *const p9_modules[] = {"9pnet_virtio", "9p", NULL};

struct p9_opts {
	guint64 msize;
	char **caches;
};

static void p9_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	const struct p9_opts *o =
		vtb_transport_opts(c->env->opts, &vtb_transport_9p);

	dev->name = g_strdup("vtbfs");
	dev->mount_fs = "9p";
	dev->mount_opts = g_strdup_printf(
		"trans=virtio,version=9p2000.L,msize=%" G_GUINT64_FORMAT
		",cache=%s",
		o ? o->msize : 512u << 10,
		g_str_equal(c->cache, "-") ? "none" : c->cache);
}

static char **p9_caches(const void *topts)
{
	return ((const struct p9_opts *)topts)->caches;
}

static const char *const p9_cache_names[] = {"none", "loose", "fscache", "mmap",
					     NULL};

/* Linux takes 4K to 2M here (virtio's ring of 128 pages at most). */
static gboolean check_msize(const char *opt, const char *v, GError **err)
{
	guint64 n = 0;

	if (vtb_parse_size(v, &n) && n >= 4096 && n <= (2u << 20))
		return TRUE;
	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
		    "--%s: not a 9p msize from 4K to 2M: '%s'", opt, v);
	return FALSE;
}

#define OFF(f) offsetof(struct p9_opts, f)
/* clang-format off */
static const struct vtb_option p9_options[] = {
	{ "9p-msize", VTB_OPT_SIZE, OFF(msize), "512K", "BYTES",
	  "9p's largest message (Linux's default is 128K)", check_msize, 0,
	  -1 },
	{ "9p-cache", VTB_OPT_LIST, OFF(caches), "mmap", "LIST",
	  "9p cache modes, a cell each: none, loose, fscache, mmap (Lima's "
	  "default for a writable mount)", NULL, 0, -1, p9_cache_names },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1 },
};
/* clang-format on */

const struct vtb_transport_ops vtb_transport_9p = {
	.name = "9p",
	.kind = VTB_KIND_FS,
	.help = "a host directory over 9P2000.L: virtio-9p (QEMU's local "
		"fsdev, security model none), or where the VMM has none "
		"(UML) trans=fd over a virtio-serial port or a serial line "
		"(--9p-uml-line), served by diod",
	.device = VTB_DEV_FS,
	.bus = "9p",
	.guest_modules = p9_modules,
	.describe = p9_describe,
	.options = p9_options,
	.options_size = sizeof(struct p9_opts),
	.cache_axis = p9_caches,
};
