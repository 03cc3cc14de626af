/* UML backend: the linux.uml command line and the process around it. */
#ifndef VTB_UML_H
#define VTB_UML_H

#include <glib.h>

struct vtb_uml_cfg {
	const char *kernel;
	const char *initrd;
	int mem_mb;
	const char *umid;
	const char *uml_dir; /* private 0700 dir for UML's runtime files */
	const char *hostfs_dir; /* private empty dir: hostfs confined here */
	int ctl_fd; /* the guest's ttyS1, as numbered in the child */
	const char *append; /* extra kernel parameters, or NULL */
};

/* The argv of linux.uml for @c (newly allocated, NULL-terminated). */
GStrv vtb_uml_argv(const struct vtb_uml_cfg *c);

#endif
