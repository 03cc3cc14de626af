/*
 * Workload `untar` and what `metadata` shares with it: the tree's tarball
 * and the guest's tar on read-only disks, and the RUN that extracts it.
 */
#ifndef VTB_UNTAR_H
#define VTB_UNTAR_H

#include "core/tarball.h"
#include "engine/engine.h"

/* What one sample extracts, and the disks that carry it. */
struct vtb_untar {
	struct vtb_tree_counts want;
	char *tar_path;
	struct vtb_device *tools, *tar;
};

/*
 * Fill @u for the guest of @x: the tarball untar's options ask for
 * (--untar-tree's generated tree, or --tarball) counted, the tools image
 * (the host's tar and its libraries) made or found, and both added to the
 * guest as read-only disks (x->data is the tarball's).  FALSE with @err
 * naming the step; vtb_untar_clear() frees what was filled.
 */
gboolean vtb_untar_prepare(struct vtb_xfer *x, struct vtb_untar *u,
			   GError **err);
void vtb_untar_clear(struct vtb_untar *u);

/* RUN's path (the tarball's disk), path2 (the tools disk) and size. */
void vtb_untar_fill_run(const struct vtb_untar *u, struct vtb_run *run);

/* How long the guest may take to extract @u's tarball and sync, in
 * microseconds. */
gint64 vtb_untar_extract_us(const struct vtb_untar *u);

#endif
