/* KVM/QEMU backend: the QEMU command line, the KVM test and the driver. */
#ifndef VTB_KVM_H
#define VTB_KVM_H

#include <stdbool.h>

#include "core/vtbench.h"

/* The kvm backend's state in struct vtb_env (vtb_env_priv). */
struct vtb_kvm_env {
	struct vtb_kernel_info kernel; /* what the user gave/was found */
	char *boot_image; /* PVH vmlinux when possible, else bzImage */
	bool pvh;
	char *modules;
	char *qemu; /* path of qemu-system-x86_64 */
	char *qemu_version;
	bool usable;	  /* the KVM boot test passed */
	char *verdict;	  /* its one-line reason */
	char *accel;	  /* "kvm" or "tcg": what its cells use */
	char *cpu;	  /* -cpu model that passed the KVM test, or NULL */
	double prepare_s; /* vmlinux extraction/cache lookup */
	/* libvirt driver: "shared" or "upload" (share-nothing), static;
	 * NULL until a libvirt guest booted. */
	const char *libvirt_files;
};

struct vtb_qemu_cfg {
	const char *qemu;
	const char *accel;  /* "kvm" or "tcg" */
	const char *cpu;    /* -cpu model; NULL: host for kvm, qemu64 for tcg */
	const char *kernel; /* PVH vmlinux or bzImage */
	const char *initrd;
	const char *append; /* whole kernel command line */
	int mem_mb;
	const char *console_log;
	const char *ctl_sock;	  /* unix socket vtbench listens on */
	int smp;		  /* guest vCPUs */
	struct vtb_device **devs; /* streams (with ->sock) and disks */
	size_t ndevs;
};

/*
 * argv of qemu-system-x86_64 for @c (newly allocated).  Sets each device's
 * guest name (/dev/ttyS1.., vport:NAME, blk:SERIAL); NULL with @err for a
 * device QEMU cannot take.  Call it before vtb_kvm_append() so the mount
 * can name its disk.
 */
GStrv vtb_qemu_argv(const struct vtb_qemu_cfg *c, GError **err);

/* The guest kernel command line for @accel; @extra appended if set. */
char *vtb_kvm_append(const char *accel, const char *extra);

/*
 * Is KVM usable for a real guest here?  Boots the appliance under
 * -enable-kvm with a 2 s deadline (a working KVM reaches HELLO in well
 * under a second) unless a verdict for this host boot, QEMU version and
 * guest kernel is cached.  Sets @be's usable and verdict in @env.
 * @initrd is the appliance used for the test.
 */
gboolean vtb_kvm_test(const struct vtb_backend_ops *be, struct vtb_env *env,
		      const char *initrd, GError **err);
/* The backend's verify(): the accelerator from --accel and the test. */
gboolean vtb_kvm_verify(const struct vtb_backend_ops *be, struct vtb_env *env,
			const char *initrd, GError **err);

/* `qemu-system-x86_64 --version`'s first line, cached per binary. */
char *vtb_qemu_version(const char *qemu);

/* The libvirt driver's domain, described like vtb_qemu_cfg. */
struct vtb_domxml_cfg {
	const char *name;  /* domain name, unique on the libvirt host */
	const char *accel; /* "kvm" -> <domain type='kvm'>, else 'qemu' */
	const char *cpu;   /* kvm: model that passed the KVM test ("host") */
	const char *kernel;
	const char *initrd;
	const char *append;
	int mem_mb;
	int smp;
	/*
	 * Share-nothing (remote) form: console_log NULL gives a pty console
	 * (alias ua-vtbcon), ctl_sock NULL and a stream device's ->sock NULL
	 * give ports and serial lines libvirt and QEMU open themselves, for
	 * virDomainOpenChannel() (port name) and virDomainOpenConsole()
	 * (alias ua-NAME).
	 */
	const char *console_log;
	const char *ctl_sock;	  /* unix socket vtbench listens on, or NULL */
	struct vtb_device **devs; /* streams (with ->sock) and disks */
	size_t ndevs;
	/* NULL, or per device where the VMM finds a disk (a volume's path);
	 * a NULL entry: the device's ->image. */
	const char *const *disk_paths;
	/*
	 * "+UID:+GID" QEMU runs as for this domain (relabel='no'), so it
	 * opens what vtbench's user can and nothing is chowned or opened to
	 * others; NULL: the daemon's qemu.conf user (remote hosts).
	 */
	const char *dac_label;
	/* "NAME=value" for QEMU's environment (<qemu:env>), or NULL. */
	const char *const *qemu_env;
};

/* The user alias ("ua-NAME", made valid) of stream device @name. */
char *vtb_domxml_alias(const char *name);

/*
 * The domain XML for @c (newly allocated).  Sets each device's guest name
 * as vtb_qemu_argv() does; NULL with @err for a device libvirt cannot take.
 */
char *vtb_domain_xml(const struct vtb_domxml_cfg *c, GError **err);

/* Boot helpers shared with the accel test. */
gboolean vtb_kvm_boot_accel(struct vtb_vm *vm, const char *accel,
			    const char *cpu, GError **err);

/* kvm/sock.c. */

/*
 * A listening unix socket at @path (non-blocking, backlog 1), or -1 with
 * @err.  QEMU connects to it at start-up.
 */
int vtb_kvm_listen_unix(const char *path, GError **err);

/*
 * Accept the VMM's connection on @lfd by vm->deadline_us, noticing a
 * signal or (direct driver) QEMU's exit.  Returns the fd or -1 with @err.
 */
int vtb_kvm_accept(struct vtb_vm *vm, int lfd, GError **err);

/* The libvirt driver (kvm/libvirt.c). */

/* The libvirt library's version, "10.10.0" (newly allocated), or NULL. */
char *vtb_libvirt_version(void);

/* Can @uri be opened?  FALSE with libvirt's own message (VTB_ERR_USAGE). */
gboolean vtb_libvirt_check(const char *uri, GError **err);

/* Boot @vm as a transient domain; returns after HELLO. */
gboolean vtb_libvirt_boot(struct vtb_vm *vm, GError **err);

/* Destroy the domain if it still runs, close the connection. */
void vtb_libvirt_cleanup(struct vtb_vm *vm);

/* Wait for the domain to be gone (see vtb_backend_ops.wait_exit). */
gboolean vtb_libvirt_wait_exit(struct vtb_vm *vm, int timeout_ms);
/*
 * How the domain ended, as libvirt's lifecycle event said, waiting up to
 * @timeout_ms for it; NULL when the vm has no libvirt domain.
 */
char *vtb_libvirt_describe_exit(struct vtb_vm *vm, int timeout_ms);

/* query-blockstats of disk @d through libvirt-qemu. */
gboolean vtb_libvirt_disk_stats(struct vtb_vm *vm, const struct vtb_device *d,
				struct vtb_disk_stats *out, GError **err);

#endif
