/* A profile's tables: an article's figures beside ours, cell by cell. */
#ifndef VTB_ANALYSIS_PROFILE_H
#define VTB_ANALYSIS_PROFILE_H

#include <stdio.h>

#include "results/cell.h"
#include "results/resfile.h"

/*
 * One figure of an article and the cell of ours that measures the same
 * thing.  The match fields are compared with the results row's (NULL:
 * any value; "-": none, e.g. no --mount-opts).
 */
struct vtb_article_row {
	const char *label; /* the article's cell: "9p randread IOPS" */
	const char *transport, *workload, *target, *image, *fs, *payload,
		*mount_opts;
	const char *metric; /* the series of ours: "seconds", "..._iops" */
	const char *figure; /* the article's, as it states it */
	/* vtbench cannot make this cell at all: why (no row of ours) */
	const char *missing;
	/* what the profile's own matrix lacks for it: "--fs ext2,ext3" */
	const char *needs;
};

/* An article as a profile cites it; rows end with a NULL label. */
struct vtb_article {
	const char *title, *source;
	const char *setup; /* "macOS, Lima 0.14.2, other hardware" */
	const struct vtb_article_row *rows;
};

/*
 * Does the cell @k (with the matrix's --mount-opts @mount_opts, NULL:
 * none) measure @row's cell?
 */
bool vtb_article_row_match_key(const struct vtb_article_row *row,
			       const struct vtb_cell_key *k,
			       const char *mount_opts);
/* The same for a results row. */
bool vtb_article_row_match(const struct vtb_article_row *row,
			   const struct vtb_rcell *c);
/*
 * Does @skipped (a results file's "skipped" line, "kvm upload
 * target=virtio-blk image=qcow2: why") name @row's cell?
 */
bool vtb_article_row_skipped(const struct vtb_article_row *row,
			     const char *skipped);
/*
 * The table of @a for the results in @d: one line per article row and
 * cell of ours that matches it (ours: median, CV and runs; a failed cell
 * its error, a skipped one the reason, never a zero), the article's
 * figure beside.
 */
void vtb_print_article(const char *profile, const struct vtb_article *a,
		       const struct vtb_rdoc *d, FILE *f);

#endif
