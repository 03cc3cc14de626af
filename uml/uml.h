/* UML backend: the linux.uml command line and the process around it. */
#ifndef VTB_UML_H
#define VTB_UML_H

#include <glib.h>

#include "core/vtbench.h"

struct vtb_uml_cfg {
	const char *kernel;
	const char *initrd;
	int mem_mb;
	const char *umid;
	const char *uml_dir; /* private 0700 dir for UML's runtime files */
	const char *hostfs_dir; /* private empty dir: hostfs confined here */
	int ctl_fd; /* the guest's ttyS1, as numbered in the child */
	const char *append; /* extra kernel parameters, or NULL */
	struct vtb_device **devs; /* serial lines and ubd disks */
	size_t ndevs;
};

/* The host fd number the VMM gets for its @k-th data serial line. */
#define VTB_UML_SERIAL_FD(k) (4 + (k))

/*
 * The argv of linux.uml for @c (newly allocated, NULL-terminated).  Sets
 * each device's guest name (/dev/ttyS2.., /dev/ubda..).  Returns NULL
 * with @err for a device UML cannot take.
 */
GStrv vtb_uml_argv(const struct vtb_uml_cfg *c, GError **err);

#endif
