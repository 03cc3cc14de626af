/* QEMU 7.2's C virtiofsd as a helper child of a vm: both backends give
 * the guest a virtio-fs device it serves (kvm directly, uml through the
 * front of vhost/fsfront.h). */
#ifndef VTB_VIRTIOFSD_H
#define VTB_VIRTIOFSD_H

#include "core/vtbench.h"

/* Where Debian's qemu-system-common puts QEMU 7.2's C virtiofsd. */
#define VTB_VIRTIOFSD "/usr/lib/qemu/virtiofsd"
/* Names another virtiofsd (a path, or a program in PATH): tests. */
#define VTB_VIRTIOFSD_ENV "VTBENCH_VIRTIOFSD"
/* virtiofsd listens within this (it starts in ~20 ms). */
#define VTB_VIRTIOFSD_START_S 10.0

/*
 * The virtiofsd to run (newly allocated): $VTBENCH_VIRTIOFSD when set,
 * else VTB_VIRTIOFSD, else one in PATH; NULL with @err (VTB_ERR_USAGE,
 * one line naming what is missing).
 */
char *vtb_virtiofsd_find(GError **err);

/* argv of QEMU 7.2's virtiofsd serving @d on @sock (newly allocated). */
GStrv vtb_virtiofsd_argv(const char *virtiofsd, const struct vtb_device *d,
			 const char *sock);

/*
 * Start virtiofsd serving filesystem @d (d->image, d->cache, d->threads)
 * as a helper child of @vm, listening on @sock, and wait until it
 * listens (by VTB_VIRTIOFSD_START_S and the vm's deadline); adds the
 * boot phase virtiofsd_start.  FALSE with @err ("virtiofs: " and why: no
 * virtiofsd, a directory its -o cannot take, it exited or did not
 * listen in time).
 */
gboolean vtb_virtiofsd_start(struct vtb_vm *vm, const struct vtb_device *d,
			     const char *sock, GError **err);

#endif
