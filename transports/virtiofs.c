/* Transport `virtiofs`: a host directory through QEMU 7.2's C virtiofsd
 * (a helper child) and vhost-user-fs, each --virtiofs-cache mode a cell. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "core/registry.h"
#include "core/virtiofsd.h"

extern const struct vtb_transport_ops vtb_transport_virtiofs;

static const char *const vfs_modules[] = {"virtiofs", NULL};

struct vtb_virtiofs_opts {
	char **caches;
	char **threads;
};

static void vfs_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("vtbfs");
	dev->mount_fs = "virtiofs";
	dev->mount_opts = g_strdup("");
	/* The cell's variant "threads=N" (checked as an option). */
	dev->threads = c->variant && g_str_has_prefix(c->variant, "threads=")
			       ? atoi(c->variant + strlen("threads="))
			       : 0;
}

static char **vfs_caches(const void *topts)
{
	return ((const struct vtb_virtiofs_opts *)topts)->caches;
}

/* "threads=N" for each --virtiofs-threads, as a number (04 is 4). */
static char **vfs_threads(const void *topts)
{
	const struct vtb_virtiofs_opts *o = topts;
	GPtrArray *v = g_ptr_array_new();

	for (char **t = o->threads; t && *t; t++) {
		char *item = g_strdup_printf("threads=%d", atoi(*t));

		if (g_ptr_array_find_with_equal_func(v, item, g_str_equal,
						     NULL))
			g_free(item);
		else
			g_ptr_array_add(v, item);
	}
	g_ptr_array_add(v, NULL);
	return (char **)g_ptr_array_free(v, FALSE);
}

/* A thread-pool size: 0 (none) to 1024. */
static gboolean check_threads(const char *opt, const char *v, GError **err)
{
	char *end = NULL;
	gint64 n = g_ascii_strtoll(v, &end, 10);

	if (*v && !*end && n >= 0 && n <= 1024)
		return TRUE;
	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
		    "--%s: not a thread-pool size from 0 to 1024: '%s'", opt,
		    v);
	return FALSE;
}

static const char *const vfs_cache_names[] = {"auto", "always", "none", NULL};

#define OFF(f) offsetof(struct vtb_virtiofs_opts, f)
/* clang-format off */
static const struct vtb_option vfs_options[] = {
	{ "virtiofs-cache", VTB_OPT_LIST, OFF(caches), "auto", "LIST",
	  "virtiofsd cache modes, a cell each: auto, always, none", NULL, 0,
	  -1, vfs_cache_names },
	{ "virtiofs-threads", VTB_OPT_LIST, OFF(threads), "0", "LIST",
	  "virtiofsd's --thread-pool-size, a cell each, 0 to 1024 (0: its "
	  "requests on the queue's own thread)", check_threads, 0, -1 },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1 },
};
/* clang-format on */

/* Asked for by name: no virtiofsd here is bad input. */
static gboolean vfs_check(const void *topts, GError **err)
{
	g_autofree char *vfsd = vtb_virtiofsd_find(err);

	return vfsd != NULL;
}

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
	.variant_axis = vfs_threads,
	.check = vfs_check,
};
