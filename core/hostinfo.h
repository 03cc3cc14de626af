/* What the host is: kernel, CPU, memory, hypervisor and nesting. */
#ifndef VTB_HOSTINFO_H
#define VTB_HOSTINFO_H

#include <glib.h>
#include <stdbool.h>

struct vtb_hostinfo {
	char *kernel; /* uname -srv */
	char *machine;
	char *cpu_model;
	int cores;
	guint64 mem_bytes;
	bool hypervisor_bit;	 /* CPUID.1:ECX[31]: we are a guest */
	char *hypervisor_vendor; /* CPUID 0x40000000 signature, or NULL */
	char *dmi;		 /* DMI vendor + product, or NULL */
	bool kvm_module;	 /* kvm loaded on this host (for nesting) */
	char *kvm_flavour;	 /* "kvm_intel", "kvm_amd", "kvm_pvm" or NULL */
	char *nested;		 /* the flavour's nested parameter, or NULL */
	bool dev_kvm;		 /* /dev/kvm exists */
	char *boot_id;
	char *sys_hypervisor; /* /sys/hypervisor/type ("xen"), or NULL */
	double loadavg[3];    /* at start: a busy host explains noisy cells */
};

void vtb_hostinfo_get(struct vtb_hostinfo *h);
void vtb_hostinfo_clear(struct vtb_hostinfo *h);
/* One line: "guest of KVMKVMKVM (PVM), 2 cores, ..." */
char *vtb_hostinfo_nesting(const struct vtb_hostinfo *h);

#endif
