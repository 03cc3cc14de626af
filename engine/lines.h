/*
 * The guest's report in lines (VTB_WORK_SYSCALL, VTB_WORK_METADATA): one
 * DATA of one line "NAME COUNT NS\n" per part, as the part ends, then an
 * empty DATA.  Received and read here line by line; what the figures must
 * be is the workload's.
 */
#ifndef VTB_LINES_H
#define VTB_LINES_H

#include "engine/engine.h"

/*
 * The timed host part of such a work: the DATA messages that hold a line
 * appended to @out (emptied first), counted in *@lines, x->t_end_us set
 * at each; done at the empty DATA.  At most @max lines, each within
 * @wait_us of the last.  FALSE with @err starting "@who: " when one does
 * not come in time or there are more.
 */
gboolean vtb_lines_receive(struct vtb_xfer *x, const char *who, guint max,
			   gint64 wait_us, GString *out, guint *lines,
			   GError **err);

/*
 * The RESULT of such a work, before its lines are read: FALSE with @err
 * when the guest failed ("guest: " and its detail) or when not all the
 * bytes of lines it sent (RESULT's bytes) arrived in @out.
 */
gboolean vtb_lines_result(const char *who, const struct vtb_result *r,
			  const GString *out, GError **err);

/* Reading the lines of @who (the workload's name, for errors). */
struct vtb_lines {
	const char *who;
	const char *p, *end;
	guint n; /* lines read */
};

/* Start on the @len bytes at @text; FALSE when they hold a NUL. */
gboolean vtb_lines_begin(struct vtb_lines *l, const char *who, const char *text,
			 gsize len, GError **err);

/*
 * The next line: "NAME COUNT NS" for the @name due, COUNT and NS
 * decimals of 64 bits (nothing else), into *@count and *@ns.  FALSE with
 * @err naming the line and the fault: missing (or without its end), not
 * three fields (@shape names them for the error, e.g. "OP COUNT NS"),
 * another name, no decimal.
 */
gboolean vtb_lines_next(struct vtb_lines *l, const char *name,
			const char *shape, guint64 *count, guint64 *ns,
			GError **err);

/* Nothing after the last line; @last names it in the error. */
gboolean vtb_lines_end(struct vtb_lines *l, const char *last, GError **err);

/* A fault in the lines of @l: FALSE, @err "WHO: the guest's " + @fmt. */
gboolean vtb_lines_fail(const struct vtb_lines *l, GError **err,
			const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#endif
