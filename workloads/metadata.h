/* Workload `metadata`: the walk and removal of an extracted tree. */
#ifndef VTB_METADATA_H
#define VTB_METADATA_H

#include "core/vtbench.h"

/* What the guest's lines (VTB_WORK_METADATA) say. */
struct vtb_metadata_lines {
	guint64 walk_n, walk_ns; /* entries stat'ed, guest nanoseconds */
	guint64 rm_n, rm_ns;	 /* entries removed, guest nanoseconds */
};

/*
 * Check the guest's lines (@len bytes at @text: "walk N NS\n" then
 * "rm N NS\n", proto/proto.h) and fill @out.  Both parts must count
 * @want entries, what the tarball holds.  FALSE with @err (VTB_ERR_RUN)
 * naming the line and what is wrong with it: a line missing, out of
 * order, repeated or without its end, another count than @want, a figure
 * that is no decimal or overflows 64 bits, a time of 0, a NUL, text after
 * the last line.
 */
gboolean vtb_metadata_parse(const char *text, gsize len, guint64 want,
			    struct vtb_metadata_lines *out, GError **err);

#endif
