/* The host end of the control channel: framed messages with deadlines. */
#ifndef VTB_CHANNEL_H
#define VTB_CHANNEL_H

#include "core/vtbench.h"

/*
 * Send @m on vm->ctl_fd, giving up at @deadline_us (monotonic).  Fails with
 * VTB_ERR_RUN on a timeout, a closed channel or an exited VMM.
 */
gboolean vtb_chan_send(struct vtb_vm *vm, const struct vtb_msg *m,
		       gint64 deadline_us, GError **err);

/*
 * Receive one message.  Waits on the channel and on the VMM's pidfd, so a
 * VMM that dies becomes an error at once ("qemu exited with status 1")
 * rather than at the deadline.  Garbage from the guest is an error naming
 * it.  Timeouts and deaths quote the last console lines.
 */
gboolean vtb_chan_recv(struct vtb_vm *vm, struct vtb_msg *m, gint64 deadline_us,
		       GError **err);

/*
 * Receive and require a message of @type.  An ERROR from the guest becomes
 * "guest: STEP: strerror: DETAIL"; any other type is a protocol error.
 */
gboolean vtb_chan_expect(struct vtb_vm *vm, unsigned type, struct vtb_msg *m,
			 gint64 deadline_us, GError **err);

/* "; console: ..." with the last lines of the guest console, or "". */
char *vtb_vm_console_context(struct vtb_vm *vm);

#endif
