/*
 * A vhost-user back-end for one virtio-console device (multiport), served
 * by its own thread, for a VMM that is a vhost-user front-end (UML's
 * virtio_uml.device=SOCKET:3, QEMU's vhost-user-device).  The guest sees
 * one port, id 1, with the name we give it (/dev/vportNp1, as QEMU's
 * virtserialport); the host moves bytes straight between its buffers and
 * the guest's virtqueue buffers, no socket in between.
 */
#ifndef VTB_VHOST_CONSOLE_H
#define VTB_VHOST_CONSOLE_H

#include <glib.h>

struct vtb_vcon;

struct vtb_vcon_stats {
	guint64 bytes_to_guest;	  /* vtb_vcon_write() into port 1 */
	guint64 bytes_from_guest; /* vtb_vcon_read() from port 1 */
	guint64 bufs_to_guest;	  /* port 1 receive buffers filled */
	guint64 bufs_from_guest;  /* port 1 transmit buffers consumed */
	guint64 calls;		  /* guest notifications written to a call fd */
	guint64 kicks;		  /* the guest's kicks of port 1's queues */
	guint64 ctl_msgs;	  /* control messages, both ways */
	/* Calls written again because the guest did not answer the first
	 * (a lost interrupt: see RESCUE_MIN_NS in console.c). */
	guint64 rescued_calls;
};

/*
 * Listen on unix socket @path (created here, unlinked by vtb_vcon_free;
 * an existing file is an error) as the back-end of one virtio-console
 * device whose port 1 is named @port, and start the back-end thread.  The
 * front-end connects once; a second connection is not accepted.  SIGPIPE
 * is set to SIG_IGN if it was at its default (a call fd whose reader is
 * gone must not kill us).  NULL with @err (VTB_ERR_RUN: the step and the
 * path) on failure.
 */
struct vtb_vcon *vtb_vcon_new(const char *path, const char *port, GError **err);

/*
 * Wait by @deadline_us (g_get_monotonic_time() clock) until the guest
 * opened port 1 (PORT_OPEN 1 from the guest: a process opened
 * /dev/vportNp1).  FALSE with @err on failure (the device's reason) or at
 * the deadline (how far it got: never connected, no DEVICE_READY, port
 * not ready, not opened).
 */
gboolean vtb_vcon_wait_open(struct vtb_vcon *c, gint64 deadline_us,
			    GError **err);

/*
 * Host -> guest, from any one thread: copy up to @len bytes from @buf
 * straight into the guest's receive buffers of port 1, mark them used and
 * signal the guest.  Never blocks: the bytes copied, 0 when the guest has
 * no free buffer now (poll vtb_vcon_fd()), -1 with @err when the device
 * failed (the front-end went away, a bad descriptor: the reason; the same
 * reason on every later call).
 */
gssize vtb_vcon_write(struct vtb_vcon *c, const void *buf, size_t len,
		      GError **err);

/*
 * Guest -> host: copy up to @len bytes the guest transmitted on port 1; a
 * transmit buffer consumed in part is kept for the next call.  Same
 * convention as vtb_vcon_write().
 */
gssize vtb_vcon_read(struct vtb_vcon *c, void *buf, size_t len, GError **err);

/*
 * An fd for poll(POLLIN), owned by @c: readable whenever a write or read
 * may make progress (the guest added receive buffers, transmitted, the
 * port opened) or the device failed.  vtb_vcon_write/read drain it
 * before they look at the queues, so one that returns 0 may wait on it.
 */
int vtb_vcon_fd(struct vtb_vcon *c);

/* A snapshot of the counters. */
void vtb_vcon_stats(struct vtb_vcon *c, struct vtb_vcon_stats *out);

/*
 * Stop the thread, unmap the guest's memory, close every fd (the
 * front-end sees the socket close), unlink the socket.  Safe at any
 * point, also when the front-end never came; NULL is ignored.
 */
void vtb_vcon_free(struct vtb_vcon *c);

#endif
