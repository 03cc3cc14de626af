/*
 * A byte pump between a guest's stream and a helper child's socket: a
 * thread that copies both ways between port 1 of a vhost-user console
 * (vhost/console.h) or an fd the VMM holds the other end of (a UML serial
 * line's socketpair), and our end of a socketpair whose other end a
 * helper daemon serves (diod, sftp-server).  The helper then sees a
 * plain socket, whatever carries the bytes to the guest.
 *
 * The bridge owns the thread and its end of the helper's socketpair;
 * the console (or the guest fd) stays the caller's and must outlive the
 * bridge.  While the bridge runs, nothing else may read or write the
 * console's port 1 or the guest fd.
 */
#ifndef VTB_VHOST_BRIDGE_H
#define VTB_VHOST_BRIDGE_H

#include <glib.h>

struct vtb_vcon;
struct vtb_bridge;

struct vtb_bridge_stats {
	guint64 to_guest;   /* bytes the guest's end took */
	guint64 from_guest; /* bytes the helper's end took */
};

/*
 * Start pumping between the guest's end, @vcon's port 1 (or, with @vcon
 * NULL, the stream fd @guest_fd: not owned), and @helper_fd, our end of
 * the helper's socketpair, owned by the bridge from now on (closed by
 * vtb_bridge_free, also on failure here).  @name names the bridge in
 * errors ("9p over virtio-serial").  @stall_ms: when bytes for the guest
 * wait that long without the guest taking any (a line that went deaf), the
 * bridge fails saying so; 0: never.  NULL with @err (VTB_ERR_RUN) when
 * the thread cannot start.
 */
struct vtb_bridge *vtb_bridge_new(const char *name, struct vtb_vcon *vcon,
				  int guest_fd, int helper_fd, guint stall_ms,
				  GError **err);

/*
 * An fd, owned by @b, that polls readable once the bridge stopped for
 * good: an end failed or closed (the helper closed its socket: EOF), or
 * the guest stalled (@stall_ms).  vtb_bridge_check() then says why.
 */
int vtb_bridge_fd(struct vtb_bridge *b);

/* TRUE while the bridge pumps; FALSE with the reason (VTB_ERR_RUN, the
 * bridge's name first) once it stopped. */
gboolean vtb_bridge_check(struct vtb_bridge *b, GError **err);

/* A snapshot of the counters. */
void vtb_bridge_stats(struct vtb_bridge *b, struct vtb_bridge_stats *out);

/*
 * Stop the thread (it wakes at once, never blocked in a copy), join it,
 * close the helper's end (the helper sees EOF).  Bytes not yet copied are
 * dropped.  Safe after a failure; NULL is ignored.
 */
void vtb_bridge_free(struct vtb_bridge *b);

#endif
