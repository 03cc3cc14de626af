/* Transport `9p`: a host directory over 9P2000.L with --9p-msize and each
 * --9p-cache mode a cell: virtio-9p (QEMU's local fsdev), or on a
 * backend without it, its row's stream and server (uml/ninep.h). */
#include <stddef.h>
#include <string.h>

#include "core/options.h"
#include "core/registry.h"

extern const struct vtb_transport_ops vtb_transport_9p;

static const char *const p9_modules[] = {"9pnet_virtio", "9p", NULL};

struct p9_opts {
	char **msizes;
	char **caches;
};

#define P9_MSIZE_DEFAULT (512u << 10)

/* A cell's msize, from its variant "msize=SIZE". */
guint64 vtb_9p_cell_msize(const struct vtb_cell *c)
{
	guint64 n = 0;

	if (c->variant && g_str_has_prefix(c->variant, "msize=") &&
	    vtb_parse_size(c->variant + strlen("msize="), &n))
		return n;
	return P9_MSIZE_DEFAULT;
}

static void p9_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("vtbfs");
	dev->mount_fs = "9p";
	dev->mount_opts = g_strdup_printf(
		"trans=virtio,version=9p2000.L,msize=%" G_GUINT64_FORMAT
		",cache=%s",
		vtb_9p_cell_msize(c),
		g_str_equal(c->cache, "-") ? "none" : c->cache);
}

static char **p9_caches(const void *topts)
{
	return ((const struct p9_opts *)topts)->caches;
}

/* "msize=512K" for each --9p-msize, the size in the largest unit that
 * divides it, so 524288 and 512K are the same cell. */
static char **p9_msizes(const void *topts)
{
	const struct p9_opts *o = topts;
	GPtrArray *v = g_ptr_array_new();

	for (char **m = o->msizes; m && *m; m++) {
		guint64 n = 0;
		char *item;

		if (!vtb_parse_size(*m, &n))
			continue; /* refused by check_msize already */
		if (n % (1u << 20) == 0)
			item = g_strdup_printf("msize=%" G_GUINT64_FORMAT "M",
					       n >> 20);
		else if (n % 1024 == 0)
			item = g_strdup_printf("msize=%" G_GUINT64_FORMAT "K",
					       n >> 10);
		else
			item = g_strdup_printf("msize=%" G_GUINT64_FORMAT, n);
		if (g_ptr_array_find_with_equal_func(v, item, g_str_equal,
						     NULL))
			g_free(item);
		else
			g_ptr_array_add(v, item);
	}
	g_ptr_array_add(v, NULL);
	return (char **)g_ptr_array_free(v, FALSE);
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
	{ "9p-msize", VTB_OPT_LIST, OFF(msizes), "512K", "LIST",
	  "9p's largest message, a cell each, 4K to 2M (Linux's default is "
	  "128K)", check_msize, 0, -1 },
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
	.variant_axis = p9_msizes,
};
