/* Workload `syscall`: the guest kernel's micro-benchmarks and their lines. */
#ifndef VTB_SYSCALL_H
#define VTB_SYSCALL_H

#include "core/vtbench.h"

/* One micro-benchmark the host asks of the agent (VTB_WORK_SYSCALL). */
struct vtb_syscall_op {
	const char *name; /* on the wire, and the metric's stem */
	guint64 count;	  /* how many times (--syscall-scale 1) */
};

/* Every op, in the order they run; NULL-name-terminated. */
extern const struct vtb_syscall_op vtb_syscall_ops[];

/* The op called @name, or NULL. */
const struct vtb_syscall_op *vtb_syscall_op_find(const char *name);

/*
 * Check the guest's lines (@len bytes at @text, each "OP COUNT NS\n",
 * proto/proto.h) against what was asked: the @n ops @names, in that
 * order, @counts times each.  Fills @ns[i], the guest's nanoseconds for
 * all of op i.  FALSE with @err (VTB_ERR_RUN) naming the line and what is
 * wrong with it: an op missing, out of order or repeated, another count,
 * a figure that is no decimal, overflows 64 bits or is 0, a NUL, text
 * after the last line, more than a second per operation.
 */
gboolean vtb_syscall_parse(const char *text, gsize len,
			   const char *const *names, const guint64 *counts,
			   guint n, guint64 *ns, GError **err);

#endif
