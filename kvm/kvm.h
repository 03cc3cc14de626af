/* KVM/QEMU backend: the QEMU command line, the KVM test and the driver. */
#ifndef VTB_KVM_H
#define VTB_KVM_H

#include <stdbool.h>

#include "core/vtbench.h"

/* The kvm backend's state in struct vtb_env (vtb_env_priv). */
/* The kvm backend's options (its table in kvm/kvm.c). */
struct vtb_kvm_opts {
	char *kernel;  /* --kvm-kernel */
	char *modules; /* --kvm-modules */
	char *qemu;    /* --qemu */
	char *accel;   /* --accel: auto, kvm, tcg */
	char *connect; /* --connect: the libvirt URI */
	int cpus;      /* --cpus: guest vCPUs */
};

struct vtb_kvm_env {
	/* Its options, set by prepare() (the run's, vtb_backend_opts). */
	const struct vtb_kvm_opts *o;
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
	/* QEMU's own reason (vtb_qemu_reason) for the last boot that
	 * failed, set by the direct driver's explain(). */
	char *qemu_said;
	/* The KVM test: boots its verdict took (0: not tested), whether
	 * the verdict came from its cache (@test_cache: where), and QEMU's
	 * own reason for its last failed boot, NULL when QEMU gave none. */
	int tries;
	bool cached;
	char *test_cache;
	char *qemu_reason;
	/* libvirt driver: "shared" or "upload" (share-nothing), static;
	 * NULL until a libvirt guest booted. */
	const char *libvirt_files;
};

/*
 * QEMU's arguments for the devices (-chardev, -serial, -drive, -device,
 * ...), added one by one as the direct driver's rows attach them, with
 * their numbering so far.
 */
struct vtb_qemu_devs {
	GPtrArray *args; /* char *, owned */
	int nserial, ndisk, nchr, nfs;
	/* The guest's memory a shared memfd (vhost-user-fs needs it). */
	bool share_mem;
};

void vtb_qemu_devs_init(struct vtb_qemu_devs *q);
void vtb_qemu_devs_clear(struct vtb_qemu_devs *q);
/*
 * Stream device @d (its ->end_path vtbench listens on) as the next 8250 UART
 * (/dev/ttyS1..) or virtserialport (vport:NAME); sets its guest name.
 */
void vtb_qemu_add_serial(struct vtb_qemu_devs *q, struct vtb_device *d);
void vtb_qemu_add_port(struct vtb_qemu_devs *q, struct vtb_device *d);
/* Disk @d as the next virtio-blk (blk:SERIAL), or FALSE with @err for a
 * disk QEMU cannot take (ubd). */
gboolean vtb_qemu_add_disk(struct vtb_qemu_devs *q, struct vtb_device *d,
			   GError **err);

/*
 * Filesystem @d as QEMU carries it: 9p as virtio-9p-pci over a local
 * fsdev of d->image, virtiofs as vhost-user-fs-pci on @vfs_sock (its
 * virtiofsd listening there; the guest's memory then shared), tmpfs as
 * nothing; sets its guest name.  FALSE with @err for any other.
 */
gboolean vtb_qemu_add_fs(struct vtb_qemu_devs *q, struct vtb_device *d,
			 const char *vfs_sock, GError **err);

struct vtb_qemu_cfg {
	const char *qemu;
	const char *accel;  /* "kvm" or "tcg" */
	const char *cpu;    /* -cpu model; NULL: host for kvm, qemu64 for tcg */
	const char *kernel; /* PVH vmlinux or bzImage */
	const char *initrd;
	const char *append; /* whole kernel command line */
	int mem_mb;
	const char *console_log;
	const char *ctl_sock;		  /* unix socket vtbench listens on */
	int smp;			  /* guest vCPUs */
	const struct vtb_qemu_devs *devs; /* or NULL: none */
};

/* argv of qemu-system-x86_64 for @c (newly allocated). */
GStrv vtb_qemu_argv(const struct vtb_qemu_cfg *c);

/* The guest kernel command line for @accel; @extra appended if set. */
char *vtb_kvm_append(const char *accel, const char *extra);

/*
 * Is KVM usable for a real guest here?  Boots the appliance under
 * -enable-kvm (-cpu host, then qemu64) with a 2 s deadline (a working KVM
 * reaches HELLO in well under a second), up to VTB_KVM_TEST_TRIES times
 * with longer deadlines before it concludes "no", unless a verdict for
 * the same vtb_kvm_probe_key() is cached.  A "yes" is cached at once.
 * Sets @be's usable, verdict, tries and cached in @env.  @initrd is the
 * appliance used for the test.
 */
gboolean vtb_kvm_test(const struct vtb_backend_ops *be, struct vtb_env *env,
		      const char *initrd, GError **err);
#define VTB_KVM_TEST_TRIES 3

/*
 * The device the KVM test opens: /dev/kvm, or for tests only
 * $VTBENCH_TEST_KVM_DEV (=/dev/null drives the test's "no" path on a host
 * without KVM: the device opens, QEMU's KVM does not).
 */
const char *vtb_kvm_dev(void);

/* Everything the KVM test's verdict depends on. */
struct vtb_kvm_probe_id {
	const char *boot_id; /* /proc/sys/kernel/random/boot_id */
	/* the device (vtb_kvm_dev()): st_dev, st_ino, st_rdev */
	guint64 dev, ino, rdev;
	const char *qemu, *qemu_version;
	gint64 qemu_size, qemu_mtime_ns;
	const char *kernel, *kernel_build_id; /* the boot image */
	gint64 kernel_size, kernel_mtime_ns;
	const char *initrd; /* the appliance */
	gint64 initrd_size, initrd_mtime_ns;
	int cpus, mem_mb;
};

/*
 * The name of @id's cached verdict: 32 hex digits of a hash of every
 * member (newly allocated).  Any member changed changes the key.
 */
char *vtb_kvm_probe_key(const struct vtb_kvm_probe_id *id);

/*
 * QEMU's own reason in its stderr @text, one line (newly allocated), or
 * NULL when it printed none we know: a KVM internal error with its
 * register dump ("KVM internal error, suberror 1 (emulation failure) at
 * RIP=...: lock cmpxchg16b", the instruction decoded from the dump's
 * Code= bytes when it is CMPXCHG8B/16B, else the first bytes), or the
 * line where QEMU says KVM refused ("Could not access KVM kernel module:
 * ...", "failed to initialize kvm: ...", "failed to set MSR ...", ...).
 */
char *vtb_qemu_reason(const char *text);

/* The backend's verify(): the accelerator from --accel and the test. */
gboolean vtb_kvm_verify(const struct vtb_backend_ops *be, struct vtb_env *env,
			const char *initrd, GError **err);

/*
 * `@qemu --version`'s first line, which must say "QEMU emulator version"
 * (so /bin/true is not taken for a QEMU), within @timeout_ms.  Errors
 * are VTB_ERR_USAGE with one line naming @qemu and what it did.
 */
char *vtb_qemu_version(const char *qemu, int timeout_ms, GError **err);
/* How long `--version` may take: QEMU answers in ~20 ms here. */
#define VTB_QEMU_VERSION_MS 5000

/*
 * The domain's <devices> the libvirt driver's rows attach, one by one,
 * with their numbering so far.  A stream device's ->end_path NULL gives a
 * port or serial line libvirt and QEMU open themselves (share-nothing),
 * for virDomainOpenChannel() (port name) and virDomainOpenConsole()
 * (alias ua-NAME).
 */
struct vtb_domxml_devs {
	GString *xml;
	int nserial, ndisk, nfs;
	bool share_mem; /* a vhost-user device maps the guest's memory */
};

void vtb_domxml_devs_init(struct vtb_domxml_devs *x);
void vtb_domxml_devs_clear(struct vtb_domxml_devs *x);
/* Stream device @d as the next serial line (/dev/ttyS1..) or virtio port
 * (vport:NAME); sets its guest name. */
void vtb_domxml_add_serial(struct vtb_domxml_devs *x, struct vtb_device *d);
void vtb_domxml_add_port(struct vtb_domxml_devs *x, struct vtb_device *d);
/* Disk @d as the next virtio disk (blk:SERIAL), found by the VMM at @path
 * (a volume's path) or, NULL, at its ->image; FALSE with @err for a disk
 * libvirt's QEMU cannot take (ubd). */
gboolean vtb_domxml_add_disk(struct vtb_domxml_devs *x, struct vtb_device *d,
			     const char *path, GError **err);
/*
 * Filesystem @d (9p, virtiofs: a <filesystem> serving its ->image, the
 * directory, by the tag ->name; tmpfs: nothing) with the direct driver's
 * settings: 9p's security model none (accessmode squash); virtiofs's
 * virtiofsd, started by libvirt, with @d's cache mode and thread pool,
 * and the guest's memory shared.  Sets its guest name.
 */
gboolean vtb_domxml_add_fs(struct vtb_domxml_devs *x, struct vtb_device *d,
			   const char *virtiofsd, GError **err);

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
	 * (alias ua-vtbcon), ctl_sock NULL a control port libvirt and QEMU
	 * open themselves, for virDomainOpenChannel().
	 */
	const char *console_log;
	const char *ctl_sock; /* unix socket vtbench listens on, or NULL */
	const struct vtb_domxml_devs *devs; /* or NULL: none */
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

/* The domain XML for @c (newly allocated). */
char *vtb_domain_xml(const struct vtb_domxml_cfg *c);

/* The device rows' facts both drivers share (kvm/devices.c). */
extern const char *const vtb_kvm_fs_modules[];
guint64 vtb_kvm_serial_size(const struct vtb_cell *c);
char *vtb_kvm_disk_cannot(const struct vtb_device *d);
/* Filesystems QEMU can give the guest (9p, virtiofs, tmpfs), or why not. */
char *vtb_kvm_fs_cannot(const struct vtb_device *d);
/* The filesystems QEMU serves with its own devices: virtio-9p, and
 * vhost-user-fs-pci with virtiofsd; sshfs's stream is a virtio-serial port
 * QEMU hands to sftp-server (the FS rows' native list). */
extern const char *const vtb_kvm_native_fs[];
#define VTB_KVM_FS_ROW                                                         \
	.help = "9p: virtio-9p-pci, local fsdev (security model none); "       \
		"virtiofs: vhost-user-fs-pci and QEMU's virtiofsd, memory "    \
		"shared (memfd); tmpfs: the guest's own",                      \
	.native = vtb_kvm_native_fs

#define VTB_KVM_SERIAL_ROW                                                     \
	.help = "QEMU's second 8250 UART (ttyS1..) on a unix socket",          \
	.default_size = vtb_kvm_serial_size, /* ~10 s of a 512-byte echo on    \
						the 8250 under TCG */          \
		.roundtrip_msgs = 100
#define VTB_KVM_PORT_ROW .help = "a virtserialport on a unix socket"
#define VTB_KVM_DISK_ROW                                                       \
	.cannot = vtb_kvm_disk_cannot,                                         \
	.help = "virtio-blk: images raw-sparse, raw-prealloc, qcow2, "         \
		"qcow2-prealloc; cache none, writeback, unsafe, directsync, "  \
		"writethrough; aio threads, native, io_uring",                 \
	.fs_modules = vtb_kvm_fs_modules

/* The drivers: QEMU spawned by vtbench (kvm/direct.c), a transient
 * libvirt domain (kvm/libvirt.c). */
extern const struct vtb_driver_ops vtb_kvm_direct;
extern const struct vtb_driver_ops vtb_kvm_libvirt;

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

/*
 * A stream device's host end before the VMM starts: d->end_path in the vm's
 * dir, listened on (d->end_fd); QEMU connects to it at start-up.
 */
gboolean vtb_kvm_listen_device(struct vtb_vm *vm, struct vtb_device *d,
			       GError **err);
/* After the spawn: d->fd accepted on d->end_fd (then closed). */
gboolean vtb_kvm_accept_device(struct vtb_vm *vm, struct vtb_device *d,
			       GError **err);

/* The libvirt driver (kvm/libvirt.c). */

/* The libvirt library's version, "10.10.0" (newly allocated), or NULL. */
char *vtb_libvirt_version(void);

/* Can @uri be opened?  FALSE with libvirt's own message (VTB_ERR_USAGE). */
gboolean vtb_libvirt_check(const char *uri, GError **err);

#endif
