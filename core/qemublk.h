/*
 * QEMU's block layer as both backends meet it: what a host cache mode
 * means, which disks it can open, and qemu-storage-daemon, which serves a
 * disk to a guest that is not QEMU's (UML, over vhost-user).
 */
#ifndef VTB_QEMUBLK_H
#define VTB_QEMUBLK_H

#include "core/vtbench.h"

/* A -drive cache= mode in QEMU's own terms (its manual's table). */
struct vtb_qemu_cache {
	bool writeback; /* completes a write before it reaches the disk */
	bool direct;	/* O_DIRECT on the image */
	bool no_flush;	/* the guest's flushes are dropped */
};

/* The modes QEMU has, NULL-terminated. */
extern const char *const vtb_qemu_caches[];

/* @mode ("none", "writeback", ...) in QEMU's terms; FALSE if unknown. */
gboolean vtb_qemu_cache_of(const char *mode, struct vtb_qemu_cache *out);

/*
 * Why QEMU's block layer cannot open disk @d as described (cache mode,
 * aio; NULL fields not decided yet), newly allocated, or NULL.
 */
char *vtb_qemu_disk_cannot(const struct vtb_device *d);

/*
 * The argv of qemu-storage-daemon @qsd serving @d (image, format, cache,
 * aio, readonly) as a vhost-user-blk export on the unix socket @sock.  It
 * writes @pidfile once the export listens (QSD writes it after creating
 * every export), which is how the caller knows a front-end may connect.
 */
GStrv vtb_qsd_argv(const char *qsd, const struct vtb_device *d,
		   const char *sock, const char *pidfile);

/* @v as a value of a QEMU option (commas doubled); g_free. */
char *vtb_qemu_opt_value(const char *v);

#endif
