/* Workload `untar`: the guest's GNU tar extracts a source tree onto the
 * target, tarball on the same filesystem (the Lima article's test). */
#include "workloads/untar.h"

#include <stddef.h>
#include <string.h>

#include "appliance/appliance.h"
#include "core/channel.h"
#include "core/registry.h"
#include "core/vm.h"

/* One tree for every run and both backends. */
#define UNTAR_SEED 0x5eed5eedULL

extern const struct vtb_workload_ops vtb_workload_untar;

struct untar_opts {
	char *tree;    /* a shape of core/tarball.h */
	char *tarball; /* the user's, instead of a generated tree */
	bool tree_given;
};

void vtb_untar_clear(struct vtb_untar *u)
{
	g_clear_pointer(&u->tar_path, g_free);
}

static void untar_free(gpointer p)
{
	vtb_untar_clear(p);
	g_free(p);
}

static struct vtb_device *ro_disk(struct vtb_xfer *x, const char *name,
				  const char *image)
{
	struct vtb_device *d = vtb_vm_add_device(x->vm);

	d->kind = VTB_DEV_DISK;
	d->name = g_strdup(name);
	/* On the target's bus, or the backend's disk for a filesystem. */
	d->bus = x->target_is_fs ? x->cell->backend->default_disk
				 : x->cell->target;
	d->image = g_strdup(image);
	d->format = "raw";
	d->readonly = true;
	return d;
}

/* The tarball and the tools image (tar and its libraries), as disks. */
gboolean vtb_untar_prepare(struct vtb_xfer *x, struct vtb_untar *u,
			   GError **err)
{
	const struct untar_opts *o =
		vtb_workload_opts(x->cell->env->opts, &vtb_workload_untar);
	const char *cache = x->cell->env->cache_dir;
	g_autofree char *tar = g_find_program_in_path("tar");
	struct vtb_tools tools;
	const char *bins[] = {tar, NULL};

	if (o && o->tarball) {
		u->tar_path = g_strdup(o->tarball);
		if (!vtb_tarball_count(u->tar_path, &u->want, err))
			return FALSE;
	} else {
		const struct vtb_tree_shape *s =
			vtb_tree_shape_find(o && o->tree ? o->tree : "quick");

		if (!vtb_tarball_get(cache, s, UNTAR_SEED, &u->tar_path,
				     &u->want, err))
			return FALSE;
	}
	if (!tar) {
		g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
			    "%s: no tar on this host to give the guest",
			    x->cell->workload->name);
		return FALSE;
	}
	if (!vtb_tools_get(cache, bins, NULL, &tools, err)) {
		g_prefix_error(err, "the guest tools image: ");
		return FALSE;
	}
	u->tools = ro_disk(x, "vtbtools", tools.image);
	vtb_tools_clear(&tools);
	u->tar = ro_disk(x, "vtbtar", u->tar_path);
	x->data = u->tar;
	return TRUE;
}

static gboolean untar_prepare(struct vtb_xfer *x, GError **err)
{
	struct vtb_untar *u = g_new0(struct vtb_untar, 1);

	x->priv = u;
	x->priv_free = untar_free;
	return vtb_untar_prepare(x, u, err);
}

void vtb_untar_fill_run(const struct vtb_untar *u, struct vtb_run *run)
{
	g_strlcpy(run->path, u->tar->guest, sizeof(run->path));
	g_strlcpy(run->path2, u->tools->guest, sizeof(run->path2));
	run->size = u->want.tar_size;
	run->block = 1u << 20;
}

static void untar_fill_run(struct vtb_xfer *x, struct vtb_run *run)
{
	vtb_untar_fill_run(x->priv, run);
}

gint64 vtb_untar_extract_us(const struct vtb_untar *u)
{
	/* 9p took 5+ minutes for the git tree by hand: allow for it. */
	return (gint64)((300 + u->want.tar_size / 1e5) * 1e6);
}

/* The timed part ends at the guest's second READY, after tar and sync. */
static gboolean untar_feed(struct vtb_xfer *x, GError **err)
{
	struct vtb_untar *u = x->priv;
	gint64 dl = g_get_monotonic_time() + vtb_untar_extract_us(u);
	struct vtb_msg m;

	if (!vtb_chan_expect(x->vm, VTB_MSG_READY, &m, dl, err)) {
		g_prefix_error(err, "untar: ");
		return FALSE;
	}
	x->t_end_us = g_get_monotonic_time();
	return TRUE;
}

/* Every file, directory and byte of the tarball is on the target. */
static gboolean untar_check(struct vtb_xfer *x, const struct vtb_result *r,
			    GError **err)
{
	struct vtb_untar *u = x->priv;
	guint64 files = r->hash & 0xffffffffu, dirs = r->hash >> 32;
	double secs = (x->t_end_us - x->t0_us) / 1e6;

	if (r->err) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "guest: %s",
			    r->detail[0] ? r->detail : g_strerror(r->err));
		return FALSE;
	}
	if (files != u->want.files || dirs != u->want.dirs ||
	    r->bytes != u->want.bytes) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "extraction incomplete: %" G_GUINT64_FORMAT
			    " of %" G_GUINT64_FORMAT
			    " files, %" G_GUINT64_FORMAT
			    " of %" G_GUINT64_FORMAT
			    " directories, %" G_GUINT64_FORMAT
			    " of %" G_GUINT64_FORMAT " bytes",
			    files, u->want.files, dirs, u->want.dirs, r->bytes,
			    u->want.bytes);
		return FALSE;
	}
	vtb_sample_add_metric(x->s, "files_per_s", "1/s", true,
			      files / MAX(secs, 1e-6));
	vtb_sample_add_metric(x->s, "files", "files", false, (double)files);
	vtb_sample_add_metric(x->s, "dirs", "dirs", false, (double)dirs);
	return TRUE;
}

static const char *const tree_names[] = {"quick", "git", NULL};

/* Refused while parsing (exit 2), not in every cell. */
static gboolean check_tarball(const char *opt, const char *v, GError **err)
{
	struct vtb_tree_counts c;

	if (vtb_tarball_count(v, &c, err))
		return TRUE;
	g_prefix_error(err, "--%s: ", opt);
	return FALSE;
}

#define OFF(f) offsetof(struct untar_opts, f)
/* clang-format off */
static const struct vtb_option untar_options[] = {
	{ "untar-tree", VTB_OPT_STR, OFF(tree), "quick", "SHAPE",
	  "the generated tree of untar and metadata: quick (22 dirs, 430 "
	  "files, 4 MB) or git (the article's: 213 dirs, 4294 files, 43 MB)",
	  NULL, 0, (ssize_t)OFF(tree_given), tree_names, 0, NULL },
	{ "tarball", VTB_OPT_STR, OFF(tarball), NULL, "FILE",
	  "untar (and metadata) this uncompressed tarball instead",
	  check_tarball, 0, -1, NULL, 0, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1, NULL, 0, NULL },
};
/* clang-format on */

const struct vtb_workload_ops vtb_workload_untar = {
	.name = "untar",
	.help = "the guest's GNU tar extracts a source tree onto the "
		"target "
		"and syncs: seconds, files/s",
	.needs = 0,
	.flags = VTB_WL_WRITES | VTB_WL_OWN_DATA | VTB_WL_ON_SHARED_FS,
	.work = VTB_WORK_UNTAR,
	.prepare = untar_prepare,
	.fill_run = untar_fill_run,
	.feed = untar_feed,
	.check_result = untar_check,
	.options = untar_options,
	.options_size = sizeof(struct untar_opts),
};
