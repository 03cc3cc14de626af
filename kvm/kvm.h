/* KVM/QEMU backend: the QEMU command line, the KVM test and the driver. */
#ifndef VTB_KVM_H
#define VTB_KVM_H

#include <stdbool.h>

#include "core/vtbench.h"

struct vtb_qemu_cfg {
	const char *qemu;
	const char *accel; /* "kvm" or "tcg" */
	const char *cpu; /* -cpu model; NULL: host for kvm, qemu64 for tcg */
	const char *kernel; /* PVH vmlinux or bzImage */
	const char *initrd;
	const char *append; /* whole kernel command line */
	int mem_mb;
	const char *console_log;
	const char *ctl_sock; /* unix socket vtbench listens on */
	int smp; /* guest vCPUs */
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

/* Default boot deadline in seconds for @accel. */
double vtb_kvm_default_timeout(const char *accel);

/*
 * Is KVM usable for a real guest here?  Boots the appliance under
 * -enable-kvm with a 2 s deadline (a working KVM reaches HELLO in well
 * under a second) unless a verdict for this host boot, QEMU version and
 * guest kernel is cached.  Sets env->kvm_usable and env->kvm_verdict.
 * @initrd is the appliance used for the test.
 */
gboolean vtb_kvm_test(struct vtb_env *env, const char *initrd, GError **err);

/* `qemu-system-x86_64 --version`'s first line, cached per binary. */
char *vtb_qemu_version(const char *qemu);

/* Boot helpers shared with the accel test. */
gboolean vtb_kvm_boot_accel(struct vtb_vm *vm, const char *accel,
			    const char *cpu, GError **err);

#endif
