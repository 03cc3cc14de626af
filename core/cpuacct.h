/* Where a run's time went: the CPU of every thread of the guest's
 * processes (the VMM, its children, the helper daemons) and of vtbench,
 * the rest of the host and its idle time, from /proc over an interval. */
#ifndef VTB_CPUACCT_H
#define VTB_CPUACCT_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* Who a process belongs to. */
enum vtb_cpu_group {
	VTB_CPU_OTHER = 0,  /* another process of the host */
	VTB_CPU_VMM,	    /* the VMM (QEMU, linux.uml and its helpers) */
	VTB_CPU_GUEST_USER, /* UML's processes that run guest user code */
	VTB_CPU_HELPER,	    /* a helper daemon of the guest */
	VTB_CPU_VTBENCH,    /* vtbench itself (the sender) */
};

/* "vmm", "guest-user", "helper", "vtbench", "other". */
const char *vtb_cpu_group_name(enum vtb_cpu_group g);

/* /proc/PID/stat, the fields used. */
struct vtb_pstat {
	char comm[64];
	char state;
	pid_t ppid;
	guint64 ticks;	/* utime + stime, clock ticks (dead threads too) */
	guint64 cticks; /* cutime + cstime: children it reaped */
	guint64 start;	/* starttime, ticks after boot */
};

/* Parse /proc/PID/stat's text (a comm may hold spaces and parens); FALSE
 * when it is not one. */
gboolean vtb_parse_pid_stat(const char *buf, struct vtb_pstat *out);
/* Parse /proc/PID/task/TID/schedstat: ns on a CPU, ns waiting for one. */
gboolean vtb_parse_schedstat(const char *buf, guint64 *run_ns,
			     guint64 *wait_ns);

/* /proc/stat's "cpu" line, clock ticks of all CPUs. */
struct vtb_hstat {
	guint64 user, nice, system, idle, iowait, irq, softirq, steal;
};
gboolean vtb_parse_proc_stat(const char *buf, struct vtb_hstat *out);
/* A "Key:   N kB" line of /proc/PID/status in KiB (or "Key: N", N), or
 * -1. */
gint64 vtb_parse_status_kib(const char *buf, const char *key);

/* What the interval's attribution is made of (vtb_cpu_use). */
struct vtb_cpu_thread {
	enum vtb_cpu_group group;
	char *process; /* "qemu-system-x86", "uml-userspace", ... */
	char *thread;  /* "CPU 0/TCG", "worker (4 threads)", ... */
	char *name;    /* the threads' own name ("worker") */
	int n;	       /* threads (processes for guest-user) summed here */
	/* It runs the guest: QEMU's vCPUs, UML's kernel (linux.uml's main
	 * thread) and UML's processes of guest user code. */
	bool runs_guest;
	double cpu_s;
	double wait_s; /* runnable, waiting for a CPU */
};

struct vtb_cpu_mem {
	enum vtb_cpu_group group;
	char *process;
	gint64 hwm_kib;
};

/* The guest's own view of the interval (the agent's RESULT), -1 when
 * unknown. */
struct vtb_cpu_guest {
	double busy_pct, iowait_pct, steal_pct, idle_pct;
	gint64 ctxt, intr, mem_used_kib;
};

struct vtb_cpu_use {
	double wall_s;
	int cores;
	GArray *threads; /* struct vtb_cpu_thread, busiest first */
	double other_s;	 /* the other processes of the host */
	double idle_s;	 /* host idle + iowait */
	double system_s; /* host irq + softirq + steal: no thread's */
	double accounted_pct;
	GArray *memory; /* struct vtb_cpu_mem, one per process */
	struct vtb_cpu_guest guest;
	char *verdict;
};

void vtb_cpu_use_free(struct vtb_cpu_use *u);
typedef struct vtb_cpu_use vtb_cpu_use;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vtb_cpu_use, vtb_cpu_use_free)

/* A process to follow, with every descendant (UML's processes). */
struct vtb_cpu_root {
	pid_t pid;
	enum vtb_cpu_group group;
};

struct vtb_cpu_snap;

/* How far the accounted CPU may be from wall time x cores, in percent,
 * before the results say so. */
#define VTB_CPU_ACCOUNTED_TOLERANCE 10.0

/* Read /proc now: the host's CPU, every process, and the threads of
 * @roots and their descendants.  Never fails: what cannot be read is
 * left out (a process that just exited). */
struct vtb_cpu_snap *vtb_cpu_snap_take(const struct vtb_cpu_root *roots,
				       guint n_roots);
/* The same from @root, a directory laid out as /proc (its root string
 * must outlive the snapshot), at @t_us (monotonic) and @boot_ticks
 * (CLOCK_BOOTTIME in clock ticks, starttime's clock): for tests. */
struct vtb_cpu_snap *vtb_cpu_snap_read(const char *root, gint64 t_us,
				       guint64 boot_ticks,
				       const struct vtb_cpu_root *roots,
				       guint n_roots);
void vtb_cpu_snap_free(struct vtb_cpu_snap *s);
typedef struct vtb_cpu_snap vtb_cpu_snap;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vtb_cpu_snap, vtb_cpu_snap_free)

/* The attribution of the interval from @a to @b (same roots); the verdict
 * and guest figures are for the caller to add (vtb_cpu_verdict). */
struct vtb_cpu_use *vtb_cpu_use_diff(const struct vtb_cpu_snap *a,
				     const struct vtb_cpu_snap *b);

/*
 * The one-line verdict of @u from its threads and @u->guest: e.g.
 * "guest-CPU-bound: CPU 0/TCG 97 % (guest 95 % busy)", "VMM-bound: ...",
 * "helper-bound: virtiofsd 2 threads 180 %", "sender-bound: vtbench
 * 95 %", "waiting: every thread < 20 %", or "mixed: A 50 %, B 40 %".
 * Newly allocated.
 */
char *vtb_cpu_verdict(const struct vtb_cpu_use *u);

/* The results' "cpu" object of a sample, and back (resume); the reader
 * takes what it can and leaves the rest empty (-1 for guest figures). */
void vtb_cpu_use_to_json(const struct vtb_cpu_use *u, JsonBuilder *b);
struct vtb_cpu_use *vtb_cpu_use_from_json(JsonObject *o);

#endif
