/* UML backend: the linux.uml command line and the process around it. */
#ifndef VTB_UML_H
#define VTB_UML_H

#include <glib.h>

#include "core/vtbench.h"

/* The uml backend's options (its table in uml/uml.c). */
struct vtb_uml_opts {
	char *kernel;	  /* --uml-kernel */
	char *modules;	  /* --uml-modules */
	char *xstate;	  /* --uml-xstate: auto, on, off */
	char *ninep_line; /* --9p-uml-line: virtio-serial, serial */
};

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

/* The devices' arguments and their numbering so far (vtb_uml_add_*). */
struct vtb_uml_devs {
	GPtrArray *args; /* char *, owned */
	int nserial, ndisk, nvblk;
};

void vtb_uml_devs_init(struct vtb_uml_devs *u);
void vtb_uml_devs_clear(struct vtb_uml_devs *u);

/* The host fd number the VMM gets for its @k-th data serial line. */
#define VTB_UML_SERIAL_FD(k) (4 + (k))

/*
 * Serial line @d as the next data line (ttyS2..): its argument, its guest
 * name.  Returns its number k, whose host end the VMM must get as fd
 * VTB_UML_SERIAL_FD(k).
 */
int vtb_uml_add_serial(struct vtb_uml_devs *u, struct vtb_device *d);
/* Disk @d as the next ubd (/dev/ubda..); FALSE with @err for a disk UML
 * cannot take (not ubd, not raw). */
gboolean vtb_uml_add_disk(struct vtb_uml_devs *u, struct vtb_device *d,
			  GError **err);

/* qemu-storage-daemon serves its disk within this (it starts in ~50 ms). */
#define VTB_QSD_START_S 10.0

/* virtio ids of the devices UML takes over vhost-user. */
#define VTB_VIRTIO_ID_CONSOLE 3
#define VTB_VIRTIO_ID_BLOCK 2
#define VTB_VIRTIO_ID_FS 26

/*
 * A virtio device whose vhost-user back-end listens on @sock: its
 * argument (virtio_uml.device=SOCK:ID) and its guest name: /dev/vda.. for
 * a disk, in the order added; vport:NAME for a console port.
 */
void vtb_uml_add_vhost(struct vtb_uml_devs *u, struct vtb_device *d,
		       const char *sock, int virtio_id);

struct vtb_uml_cfg {
	const char *kernel;
	const char *initrd;
	int mem_mb;
	const char *umid;
	const char *uml_dir;	/* private 0700 dir for UML's runtime files */
	const char *hostfs_dir; /* private empty dir: hostfs confined here */
	int ctl_fd;	    /* the guest's ttyS1, as numbered in the child */
	const char *append; /* extra kernel parameters, or NULL */
	const struct vtb_uml_devs *devs; /* serial lines and disks, or NULL */
};

/* Can UML take each of @argv (after argv[0]) as meant?  FALSE + err
 * naming the argument and the reason. */
gboolean vtb_uml_argv_check(char *const *argv, GError **err);

/* The argv of linux.uml for @c (newly allocated, NULL-terminated). */
GStrv vtb_uml_argv(const struct vtb_uml_cfg *c);

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
