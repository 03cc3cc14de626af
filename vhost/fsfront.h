/*
 * A thin vhost-user front for a virtio-fs back-end (QEMU 7.2's C
 * virtiofsd) that does not serve config space: between a VMM (UML's
 * virtio_uml, a vhost-user front-end) and the back-end, it answers
 * GET_CONFIG and SET_CONFIG itself (struct virtio_fs_config: the tag and
 * the number of request queues), offers VHOST_USER_PROTOCOL_F_CONFIG to
 * the VMM and hides it from the back-end, and passes every other message
 * through both ways, fds included.  Only the control messages cross it:
 * the virtqueues are in memory both map, kicks and calls on the fds they
 * exchanged, so it costs nothing per request of the guest's.
 */
#ifndef VTB_VHOST_FSFRONT_H
#define VTB_VHOST_FSFRONT_H

#include <glib.h>
#include <stdint.h>

#include "vhost/fsmsg.h"

struct vtb_fsfront;

/*
 * Connect to the back-end listening on @backend, listen on @path (created
 * here, unlinked by vtb_fsfront_free; an existing file is an error) for
 * the VMM's one connection, and start the front's thread.  SIGPIPE is set
 * to SIG_IGN if it was at its default.  NULL with @err (VTB_ERR_RUN: the
 * step and the path).
 */
struct vtb_fsfront *vtb_fsfront_new(const char *path, const char *backend,
				    const char *tag, uint32_t queues,
				    GError **err);

/* Why the front stopped relaying (a malformed message, a peer that went
 * away mid-message), newly allocated; NULL while it has not failed. */
char *vtb_fsfront_error(struct vtb_fsfront *f);

/* A snapshot of the counters. */
void vtb_fsfront_stats(struct vtb_fsfront *f, struct vtb_fsfront_stats *out);

/*
 * Stop and join the thread, close both connections (the back-end sees
 * its front-end go and exits), unlink the socket.  Safe at any point;
 * NULL is ignored.
 */
void vtb_fsfront_free(struct vtb_fsfront *f);

#endif
