/* UML backend: the linux.uml command line and the process around it. */
#ifndef VTB_UML_H
#define VTB_UML_H

#include <glib.h>

#include "core/vtbench.h"

/* The uml backend's state in struct vtb_env (vtb_env_priv). */
struct vtb_uml_env {
	struct vtb_kernel_info kernel;
	char *modules;
	/* The ptrace xstate fix (uml/xstate.h), decided by a test boot. */
	const char *xstate_mode; /* --uml-xstate: auto, on, off */
	bool xstate_fix;	 /* every UML process gets libvtbxstate.so */
	char *xstate_why;	 /* applied or not, and why */
	char *xstate_lib;	 /* absolute path of libvtbxstate.so */
	guint64 xstate_uml, xstate_host; /* bytes; 0 = not seen */
};

struct vtb_uml_cfg {
	const char *kernel;
	const char *initrd;
	int mem_mb;
	const char *umid;
	const char *uml_dir;	/* private 0700 dir for UML's runtime files */
	const char *hostfs_dir; /* private empty dir: hostfs confined here */
	int ctl_fd;	    /* the guest's ttyS1, as numbered in the child */
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

/*
 * The xstate fix (uml/xsfix.c).  vtb_uml_xstate_test() is the backend's
 * verify(): a test boot of @initrd with @be decides the state's
 * xstate_fix and _why (cached per host boot, kernel build, fix library
 * and appliance), or fails with VTB_ERR_UNAVAILABLE and the console's
 * reason.
 */
gboolean vtb_uml_xstate_test(const struct vtb_backend_ops *be,
			     struct vtb_env *env, const char *initrd,
			     GError **err);
/* Find libvtbxstate.so into u->xstate_lib. */
gboolean vtb_uml_xstate_find(struct vtb_uml_env *u, GError **err);
/*
 * Add to @envset ("NAME=value" strings, g_free'd by the caller) what
 * loads the fix in @mode ("fix" or "observe") with counters in @report
 * (or none): LD_PRELOAD extended (after an LD_PRELOAD= already in
 * @envset, else before the inherited one), the mode, the emulation.
 */
void vtb_uml_xstate_env(const struct vtb_uml_env *u, GPtrArray *envset,
			const char *mode, const char *report);
/* Whether this run's UML processes get the library (the fix, or the
 * test-only $VTBENCH_XSTATE_EMULATE). */
bool vtb_uml_xstate_loaded(const struct vtb_uml_env *u);

#endif
