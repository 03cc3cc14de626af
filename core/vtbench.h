/* Core types shared by the runner, the backends and the workloads. */
#ifndef VTB_VTBENCH_H
#define VTB_VTBENCH_H

#include <glib.h>
#include <stdbool.h>

#include "appliance/appliance.h"
#include "core/options.h"
#include "core/proc.h"
#include "proto/proto.h"

#define VTB_ERROR (vtb_error_quark())
GQuark vtb_error_quark(void);

enum vtb_err {
	VTB_ERR_USAGE,	     /* bad input or usage: the CLI exits 2 */
	VTB_ERR_UNAVAILABLE, /* a backend/transport cannot run on this host */
	VTB_ERR_RUN,	     /* one run failed: a failed sample */
	VTB_ERR_INTERRUPTED, /* SIGINT/SIGTERM */
};

/* Room for the entries of vtb_workloads[] and vtb_backends[]. */
#define VTB_MAX_WORKLOADS 16
#define VTB_MAX_BACKENDS 8
#define VTB_MAX_TRANSPORTS 16

/* Options of `vtbench run`; filled from the table in run/cli.c and the
 * backends' and workloads' own tables. */
struct vtb_opts {
	char **backends;
	char **drivers;
	char **transports;
	char **workloads;
	char **caches;
	char **images;	/* raw-sparse, raw-prealloc, qcow2, qcow2-prealloc */
	char **fss;	/* ext2, ext3, ext4 */
	char **targets; /* buses of the disk written to */
	char **aios;	/* threads, native, io_uring */
	char *mount_opts;
	char *profile; /* the named matrix whose options came first */
	char *verify;  /* on, off */
	char *boot;    /* per-cell, per-run */
	guint64 disk_size;
	bool drop_caches;
	bool size_given;
	guint64 size;
	char **payloads;
	int runs;
	int warmup;
	double timeout;	 /* seconds, 0 = per-accel default */
	double duration; /* seconds a transfer aims at without --size */
	char *json;
	char *csv;
	char *resume; /* results file whose complete cells are reused */
	int mem_mb;
	bool quiet;
	/* Which list options the user gave (vs. defaults). */
	bool backends_given;
	bool workloads_given;
	/* Each workload's own options (its options table fills them), by
	 * index in vtb_workloads[]; NULL for one without. */
	void *workload_opts[VTB_MAX_WORKLOADS];
	/* Each backend's own options (its kernel, its VMM), likewise, by
	 * index in vtb_backends[] (vtb_backend_opts()). */
	void *backend_opts[VTB_MAX_BACKENDS];
	/* Each transport's own options, by index in vtb_transports[]. */
	void *transport_opts[VTB_MAX_TRANSPORTS];
};

/* What vtbench found out about the host and the kernels it will boot. */
struct vtb_env {
	struct vtb_opts *opts;
	char *cache_dir;
	char *agent; /* path of the static guest agent */

	/* Per backend (index in vtb_backends): prepared and verified, or
	 * why not (vtb_env_ready(), vtb_env_set_ready()). */
	bool ready[VTB_MAX_BACKENDS];
	char *reason[VTB_MAX_BACKENDS];

	/* Each backend's own state (in its own header), priv_size
	 * bytes the core allocates zeroed for every backend of the build;
	 * vtb_env_priv() finds it. */
	void *priv[VTB_MAX_BACKENDS];
};

struct vtb_vm;
struct vtb_cell;

/* What a cell ran on, as its backend describes it for the results. */
struct vtb_cell_env {
	const struct vtb_kernel_info *kernel;
	const char *boot_image; /* the file booted */
	const char *boot_kind;	/* the backend's name for the image's format */
	const char *modules;
	const char *vmm, *vmm_version;
	const char *cpu;	     /* -cpu model, NULL: the VMM's default */
	int cpus;		     /* guest CPUs */
	const char *accel_requested; /* --accel where it applies, or NULL */
	const char *connect; /* the host the driver connects to, or NULL */
};

/* A disk's counters as the VMM itself keeps them (QMP query-blockstats). */
struct vtb_disk_stats {
	guint64 rd_bytes, wr_bytes;
	guint64 rd_ops, wr_ops, flush_ops;
};

/*
 * A device a transport or workload needs in the guest, described once;
 * each backend turns it into its own form (its VMM's arguments).
 */
enum vtb_dev_kind {
	VTB_DEV_SERIAL,	       /* an emulated serial line: guest ttyS<n> */
	VTB_DEV_VIRTIO_SERIAL, /* a virtio-console port named `name` */
	VTB_DEV_DISK,	       /* a disk image on a bus (a transport's) */
	/* A filesystem the guest mounts that is no disk of its own: a host
	 * directory (9p, virtiofs, hostfs), or the guest's memory (tmpfs);
	 * its bus is the transport's name. */
	VTB_DEV_FS,
	VTB_DEV__N
};

/*
 * A stream whose host end is a back-end inside vtbench rather than an fd
 * (a vhost-user device of vhost/): the engine moves its bytes
 * through these, straight between its buffers and the guest's.
 */
struct vtb_stream_ops {
	/* Move up to @n bytes without blocking: the count, 0 when the guest
	 * has no room (write) or sent nothing (read) right now, -1 with @err
	 * when the stream failed (the reason: front-end gone, a bad
	 * descriptor). */
	gssize (*write)(void *obj, const void *buf, size_t n, GError **err);
	gssize (*read)(void *obj, void *buf, size_t n, GError **err);
	/* An fd that polls readable when write or read may make progress. */
	int (*poll_fd)(void *obj);
	/* Bytes written that the guest has not taken yet (SIOCOUTQ's part);
	 * 0 when none or when the back-end hands them over at once. */
	guint64 (*queued)(void *obj);
	/* Optional: the back-end's own counters (cumulative), at most @max
	 * of them: static names into @names, values into @vals; the count.
	 * The engine records each one's change over a run as metric
	 * "backend_NAME". */
	unsigned (*counters)(void *obj, const char **names, guint64 *vals,
			     unsigned max);
};

struct vtb_device {
	enum vtb_dev_kind kind;
	char *name; /* port name / disk serial, unique in the vm */
	/* Disks. */
	const char *bus;    /* the transport's bus */
	char *image;	    /* host path (a filesystem: its directory) */
	const char *format; /* "raw" or "qcow2" */
	const char *cache;  /* host cache mode (--cache), as the row maps it */
	const char *aio;    /* --aio, NULL for the VMM's default */
	bool readonly;
	/* Set by the driver's row at boot (attach, connect). */
	/* The guest must turn the disk's write cache on: its device reports
	 * write through while the host caches (vtb.mntwc=back). */
	bool guest_wc;
	char *guest; /* what the agent opens: /dev/ttyS2, vport:N, blk:S;
		      * a filesystem: what it mounts (RUN's mount) */
	/* A filesystem: its type and mount(2) data in the guest, and its
	 * server's threads (virtiofsd's pool; 0: its default). */
	const char *mount_fs;
	char *mount_opts;
	int threads;
	int fd; /* streams: connected host endpoint, -1 until booted */
	/* The row's end before connect: a socket vtbench listens on, or
	 * the VMM's end of a socketpair; -1 when none.  Closed (and the
	 * path freed) with the device. */
	int end_fd;
	char *end_path; /* that socket's path, or NULL */
	/* A stream without an fd (fd stays -1): its ops and object, set by
	 * the row's connect(); the row's driver frees the object. */
	const struct vtb_stream_ops *sops;
	void *sobj;
	/* A filesystem served over this stream (a transport's carrier()):
	 * its host end must be an fd a helper child can take (d->fd). */
	bool needs_fd;
	/* The tools disk with the program the guest mounts it with (a
	 * transport's guest_tools), set by the engine; NULL when none. */
	struct vtb_device *tools;
};

/* Transport kinds. */
#define VTB_KIND_STREAM 1u
#define VTB_KIND_BLOCK 2u
/* A filesystem a writing workload's target may be instead of a disk. */
#define VTB_KIND_FS 4u

/*
 * A transport: the channel under test, as the guest sees it.  One file per
 * transport plus a line in core/registry.c; it names no backend: whether
 * and how a backend carries it is that backend's row for the device kind.
 */
struct vtb_transport_ops {
	const char *name; /* as users type it */
	unsigned kind;	  /* VTB_KIND_STREAM or VTB_KIND_BLOCK */
	const char *help;
	enum vtb_dev_kind device; /* what the guest gets */
	const char *bus;	  /* disks: the bus, as --target names it */
	/* Guest modules its device needs (NULL-terminated). */
	const char *const *guest_modules;
	/* Describe the device for @c into @dev (name, format, ...); the
	 * kind and bus are set from the fields above before the call. */
	void (*describe)(const struct vtb_cell *c, struct vtb_device *dev);
	/* A guess of ~VTB_DEFAULT_SIZE_S of a transfer, where the warm-up
	 * starts from when --size is not given; 0: the backend row's
	 * default_size(), for lines whose rate is the backend's. */
	guint64 default_size;
	/* TTY flags the agent must apply (VTB_RUN_F_RAW_TTY) or 0. */
	unsigned run_flags;
	/* Its own options (core/options.h), merged into `run --help`, and
	 * the size of the struct their offsets point into; read with
	 * vtb_transport_opts(). */
	const struct vtb_option *options;
	size_t options_size;
	/* A filesystem in the guest's memory (half of it, at most). */
	bool in_guest_memory;
	/* A filesystem's host cache modes, one cell each (from its options
	 * @topts); NULL: no such axis. */
	char **(*cache_axis)(const void *topts);
	/* A second axis of the filesystem's own (9p's msize, virtiofsd's
	 * thread pool), one cell each: its values as "NAME=VALUE" (newly
	 * allocated, from @topts); NULL: no such axis. */
	char **(*variant_axis)(const void *topts);
	/*
	 * Optional, for a filesystem a program in the guest serves over a
	 * stream (sshfs).  carrier(): the stream device that carries it, as
	 * its options @topts choose: sets d->kind (a stream kind) and
	 * d->needs_fd, after `device` and `bus` (vtb_transport_device_for).
	 */
	void (*carrier)(const void *topts, struct vtb_device *d);
	/* Host paths of the binaries the guest runs for it (newly
	 * allocated, NULL-terminated), given on a read-only tools disk of
	 * their own (d->tools); NULL with @err when one is missing. */
	char **(*guest_tools)(GError **err);
	/*
	 * Start its server for one mount of @d: a helper child of @vm
	 * (vtb_vm_spawn_helper) on d->fd, the last one stopped by the
	 * engine first; and fill what the mount RUN @run tells the guest's
	 * program (its args).  Returns the helper, or NULL with @err.
	 */
	struct vtb_child *(*serve)(struct vtb_vm *vm, struct vtb_device *d,
				   struct vtb_run *run, GError **err);
	/*
	 * Optional: called after parsing when the transport is asked for by
	 * name (--transport, --target), with its options @topts; FALSE with
	 * VTB_ERR_USAGE and one line when it cannot run (a missing program).
	 */
	gboolean (*check)(const void *topts, GError **err);
	/* Optional: its facts in a cell's results (members of an object
	 * named after it; @b a JsonBuilder). */
	void (*record)(const struct vtb_cell *c, void *b);
};

/*
 * What a device kind does on one backend that the rest of vtbench must
 * act on, without naming the backend.
 */
/* The line stops reading for good once the guest's tty throttled it: a
 * guest that bulk data reaches over it is never kept, and an echo that
 * always throttles is left out of the default matrix. */
#define VTB_QUIRK_DEAF_AFTER_THROTTLE 1u

/*
 * A driver's row for one device kind.  A backend without a row for a kind
 * (in its first driver) cannot carry it ("BACKEND has no serial
 * device"); a row may still refuse some combinations (a bus, a cache
 * mode) through cannot().
 */
struct vtb_device_ops {
	/*
	 * NULL when the backend can attach @d as described (kind, bus, and
	 * for disks the cache, format and aio, each NULL when not decided
	 * yet), else why not: newly allocated, one line.
	 */
	char *(*cannot)(const struct vtb_device *d);
	/* What this backend attaches, for `list` (static). */
	const char *help;
	unsigned quirks; /* VTB_QUIRK_* */
	/* The quirk explained, for skip reasons and failed samples. */
	const char *quirk_why;
	/* Default transfer bytes of a transport that leaves it to the
	 * backend (serial lines: ~10 s here). */
	guint64 (*default_size)(const struct vtb_cell *c);
	/* Roundtrip messages in ~VTB_DEFAULT_SIZE_S on a slow (raw tty)
	 * line: a guess, for the warm-up; 0: VTB_ROUNDTRIP_MSGS. */
	guint32 roundtrip_msgs;
	/* Guest modules a disk written through a filesystem needs. */
	const char *const *fs_modules;
	/* Guest modules transport @t needs on this backend instead of its
	 * own guest_modules, or NULL: its own (a 9p that rides a stream
	 * needs 9pnet_fd, not virtio-9p).  NULL hook: always its own. */
	const char *const *(*guest_modules)(const struct vtb_transport_ops *t);
	/*
	 * Filesystems (as --target names them) this row serves with a device
	 * of the VMM's own, not through a bridge vtbench adds (a server on a
	 * stream, a front before a daemon); NULL-terminated, or NULL.  The
	 * default job (no --workload, no --target) runs a filesystem only on
	 * the backends that serve it natively when one of them runs, to keep
	 * to a few minutes.
	 */
	const char *const *native;
	/*
	 * Boot, in guest order, before spawn(): add @d to the VMM's
	 * configuration the driver builds in vm->priv (arguments, domain
	 * XML), set d->guest, and prepare the host endpoint (listen, a
	 * socketpair).  FALSE with @err (the step and the device named);
	 * the driver's cleanup() and vtb_vm_free() release what it made.
	 * NULL: the driver cannot attach the kind (the row only explains
	 * why not, for `list` and the matrix).
	 */
	gboolean (*attach)(struct vtb_vm *vm, struct vtb_device *d,
			   GError **err);
	/*
	 * After spawn(), in guest order: the host endpoint d->fd connected
	 * (accepted, opened) by vm->deadline_us, or FALSE with @err.  NULL:
	 * nothing to connect (a disk) or connected by attach().
	 */
	gboolean (*connect)(struct vtb_vm *vm, struct vtb_device *d,
			    GError **err);
};

/*
 * How a backend starts its VMM: one table per driver (a backend has one
 * or more).  vtb_vm_start() (core/vm.c) runs the one boot sequence
 * for all of them:
 *
 *   prepare()  (optional) the driver's state in vm->priv, what every
 *              device needs (a connection, the files a remote host gets)
 *   attach()   every device, in guest order, through the driver's row
 *   spawn()    the VMM with the configuration the rows built; returns
 *              with the control channel vm->ctl_fd connected and
 *              vm->t_spawn_us set
 *   connect()  every device's host endpoint, through its row
 *   resume()   (optional) once every endpoint is there (a domain created
 *              paused)
 *   HELLO      read by the core by vm->deadline_us; on failure
 *              explain() (optional) may prefix what the VMM said
 *   booted()   (optional) after HELLO: checks and phases of its own
 *
 * Any step may fail; vtb_vm_free() then kills the VMM and the helpers
 * and calls cleanup(), which must be safe after a partial boot.
 */
struct vtb_driver_ops {
	const char *name; /* as --driver takes it */
	/* One row per device kind it attaches (see vtb_device_ops). */
	const struct vtb_device_ops *devices[VTB_DEV__N];
	gboolean (*prepare)(struct vtb_vm *vm, GError **err);
	gboolean (*spawn)(struct vtb_vm *vm, GError **err);
	gboolean (*resume)(struct vtb_vm *vm, GError **err);
	void (*explain)(struct vtb_vm *vm, GError **err);
	gboolean (*booted)(struct vtb_vm *vm, GError **err);
	/* Release everything the steps made; safe after a partial boot. */
	void (*cleanup)(struct vtb_vm *vm);
	/*
	 * After the guest's BYE: wait up to @timeout_ms for a VMM that is
	 * not vm->child (one a daemon started) to be gone.  TRUE when gone.
	 * NULL: vm->child is waited for instead.
	 */
	gboolean (*wait_exit)(struct vtb_vm *vm, int timeout_ms);
	/*
	 * How a VMM that is not vm->child ended (waiting up to @timeout_ms
	 * to hear it), or NULL: vm->child's status says it.
	 */
	char *(*describe_exit)(struct vtb_vm *vm, int timeout_ms);
	/* The VMM's own counters of disk @d (e.g. over QMP), or NULL. */
	gboolean (*disk_stats)(struct vtb_vm *vm, const struct vtb_device *d,
			       struct vtb_disk_stats *out, GError **err);
	/*
	 * The pid of a VMM that is not vm->child (one a daemon started) when
	 * it runs on this host, else 0; NULL: vm->child is the VMM.  For the
	 * CPU attribution (core/cpuacct.h).
	 */
	pid_t (*vmm_pid)(struct vtb_vm *vm);
};

/* Seconds of a transfer the guess of default_size stands for. */
#define VTB_DEFAULT_SIZE_S 10.0
/* Roundtrips of a fast channel in ~VTB_DEFAULT_SIZE_S (500 us each). */
#define VTB_ROUNDTRIP_MSGS 20000u

/*
 * A backend boots the appliance and owns the VMM process.  Names are those
 * users type (DESIGN.md).  The runner calls prepare() and verify() once
 * per `run`; each boot runs the cell's driver (vtb_driver_ops).
 */
struct vtb_backend_ops {
	const char *name;
	const char *help;
	/* Bytes of its state in struct vtb_env (vtb_env_priv), and what
	 * frees the members it allocated there (the core frees the rest). */
	size_t priv_size;
	void (*priv_clear)(void *priv);
	/* Its own options (core/options.h), merged into `run --help` under
	 * its name, and the size of the struct their offsets point into;
	 * read with vtb_backend_opts(). */
	const struct vtb_option *options;
	size_t options_size;
	/*
	 * Find kernels, modules and helpers for this backend and decide
	 * whether it can run here; fills @env.  Returns FALSE with
	 * VTB_ERR_USAGE when the user's input is wrong (a bad kernel path)
	 * and VTB_ERR_UNAVAILABLE when the host lacks something.
	 */
	gboolean (*prepare)(struct vtb_env *env, GError **err);
	/*
	 * After prepare(), for run, list and probe: boot the startup
	 * appliance @initrd (built by the caller from base_modules) to
	 * find out what really works here, e.g. whether the accelerator runs
	 * a guest or which fix the kernel needs; fills @env.  FALSE with
	 * VTB_ERR_UNAVAILABLE and one line (the console's reason) when the
	 * backend cannot run, VTB_ERR_USAGE for an option that cannot be met
	 * (an accelerator the host lacks), VTB_ERR_INTERRUPTED on a signal.
	 * NULL: nothing to test.  @be is this table, for the test boot's cell
	 * (so the backend's files need not name their own table).
	 */
	gboolean (*verify)(const struct vtb_backend_ops *be,
			   struct vtb_env *env, const char *initrd,
			   GError **err);
	/* The bus of the disk a writing workload writes to by default. */
	const char *default_disk;
	/* Seconds a boot of @c may take (--timeout overrides). */
	double (*boot_timeout)(const struct vtb_cell *c);
	/*
	 * Its drivers (NULL-terminated, at least one), the first the
	 * default; --driver picks among them when it has more than one.
	 * The first driver's rows are the backend's (`list`, the matrix,
	 * vtb_backend_cannot); the others' must refuse alike.
	 */
	const struct vtb_driver_ops *const *drivers;
	/* The accelerator its cells use once verified, or NULL ("-"). */
	const char *(*accel)(const struct vtb_env *env);
	/* `list`: what it runs with, after "yes: " (newly allocated). */
	char *(*summary)(const struct vtb_env *env);
	/* `probe`: its lines when ready, each "name:        value\n". */
	void (*probe)(const struct vtb_env *env, GString *out);
	/* A note for stderr once the run starts (e.g. a fallback taken),
	 * newly allocated, or NULL. */
	char *(*notice)(const struct vtb_env *env);
	/* What cell @c ran on. */
	void (*cell_env)(const struct vtb_cell *c, struct vtb_cell_env *out);
	/*
	 * Its facts for the results: the member named after the backend in
	 * "host" (@cell NULL), or extra members of a cell's "env" object.
	 * @b is a JsonBuilder (void * keeps json-glib out of this header).
	 */
	void (*record)(const struct vtb_env *env, const struct vtb_cell *cell,
		       void *b);
	/*
	 * Its members of the results' "versions" object (its kernels, its
	 * VMM and libraries), null where not found; called whether or not
	 * it is ready.  @b as in record().
	 */
	void (*versions)(const struct vtb_env *env, void *b);
	/* Modules the guest needs for the control channel (NULL-ended). */
	const char *const *base_modules;
	/* The kernel's ARCH= ("um", "x86_64"): the fragment of `vtbench
	 * kernel config --arch` gathers the modules of the backends of it. */
	const char *kernel_arch;
	/* Modules dir and release used for the appliance. */
	const char *(*modules_dir)(const struct vtb_env *env);
	const char *(*release)(const struct vtb_env *env);
	/*
	 * The VMM's own counters of disk @d, when the cell's driver can ask
	 * the VMM (e.g. over QMP).  FALSE when it cannot (@err may stay
	 * NULL).  The engine's entry point; the driver's disk_stats does it.
	 */
	gboolean (*disk_stats)(struct vtb_vm *vm, const struct vtb_device *d,
			       struct vtb_disk_stats *out, GError **err);
};

struct vtb_phase {
	const char *name; /* static string */
	double s;
};

/* The unit of a metric per operation (syscall's): `run` prints those in
 * one matrix, a row per metric and a column per cell. */
#define VTB_UNIT_PER_OP "ns/op"

/* A figure a workload measures besides seconds (e.g. latency p99). */
struct vtb_metric {
	const char *name; /* static: "p99_us", "msgs_per_s", ... */
	const char *unit; /* static: "us", "1/s", "MB/s" */
	bool higher_better;
	double v;
};

struct vtb_sample {
	bool ok;
	bool warmup;
	char *error;	/* NULL when ok */
	double seconds; /* the primary figure, host monotonic clock */
	guint64 bytes;
	GArray *phases;	 /* struct vtb_phase */
	double exit_s;	 /* spawn -> VMM exit, 0 when unknown */
	GArray *metrics; /* struct vtb_metric: figures beyond seconds/bytes */
	char *guest_release;	/* from HELLO, NULL when no HELLO */
	guint32 modules_loaded; /* from HELLO */
	/* What does not add up in this sample's own figures (a guest clock
	 * ahead of the host's), "; "-joined; NULL when all does. */
	char *note;
	/* Where the timed interval's CPU went (core/cpuacct.h), or NULL. */
	struct vtb_cpu_use *cpu;
	/* The target as the guest's kernel mounted it ("SOURCE TYPE
	 * OPTIONS"), or NULL when the sample has no target. */
	char *mount;
};

struct vtb_workload_ops;

/* One cell of the matrix. */
struct vtb_cell {
	struct vtb_env *env;
	const struct vtb_backend_ops *backend;
	const struct vtb_workload_ops *workload;
	const char *driver;    /* its backend's driver (a backend has >= 1) */
	const char *accel;     /* the backend's accelerator, or "-" */
	const char *transport; /* "-" when the workload needs none */
	const struct vtb_transport_ops *tops; /* NULL when none */
	const char *cache;		      /* "-" when no disk is involved */
	const char *target; /* bus of the disk written to, or "-" */
	const char *image;  /* image kind of the target, or "-" */
	const char *fs;	    /* filesystem on the target, or "-" */
	const char *aio;    /* --aio of the disks, or "-" */
	/* The target filesystem's variant_axis value ("msize=512K"), or
	 * "-" */
	const char *variant;
	const char *payload; /* zero, random */
	guint64 size;	     /* bytes per transfer; 0 when none */
	bool size_auto;	     /* size chosen by vtbench, not --size */
	guint32 msg_size;    /* roundtrip message bytes, 0 otherwise */
	struct vtb_appliance appliance;
	bool appliance_ready;
	GPtrArray *samples; /* struct vtb_sample *, warm-ups included */
	char *error;  /* a cell-level failure (appliance build), or NULL */
	bool resumed; /* samples taken from --resume FILE, not run */
	/* The guest kept between the runs of a cell (--boot per-cell). */
	struct vtb_vm *live;
	/* Boots this cell made, and runs it measured on a kept guest. */
	unsigned boots, reused;
};

struct vtb_xfer; /* engine/engine.h */

/* What a workload is, for the matrix and the engine (flags). */
#define VTB_WL_WRITES                                                          \
	0x1u /* writes a file on a fresh target disk with a                    \
		filesystem, under the flush audit */
/* Leaves nothing behind in the guest, so a guest may be kept between the
 * runs of a cell (--boot per-cell). */
#define VTB_WL_STATELESS 0x2u
/* One cell per --msg-size; messages of that size, no payload file. */
#define VTB_WL_PER_MSG_SIZE 0x4u
/* Brings its own data (prepare/fill_run): no payload file is made. */
#define VTB_WL_OWN_DATA 0x8u
/* Without --target: on every shared filesystem the backend has (the
 * transports of kind filesystem with a host directory), not its disk. */
#define VTB_WL_ON_SHARED_FS 0x10u
/* Without --transport: over the stream transports only (over a block
 * transport it is a disk-to-disk copy, there when asked for). */
#define VTB_WL_STREAMS_BY_DEFAULT 0x20u

/*
 * A workload is data for the transfer engine (engine/engine.h): what the
 * agent runs, its flags, the split it joins; plus optional hooks.  One
 * file in workloads/ and a line in core/plugins.c.
 */
struct vtb_workload_ops {
	const char *name;
	const char *help;
	/* Transport kinds it runs over; 0 = none (startup, write-no-upload). */
	unsigned needs;
	unsigned flags; /* VTB_WL_* */
	/* What RUN asks of the agent; VTB_WORK_NONE: nothing is moved, and
	 * run() measures the sample. */
	enum vtb_work work;
	/*
	 * The workload whose time this one takes apart (upload = the channel
	 * alone + the disk alone), and this one's column in that table.
	 */
	const char *split_of, *split_col;
	/*
	 * The timed host part, called after READY with the clock running;
	 * NULL: the engine's (stream the payload over a stream transport,
	 * nothing for a disk).  It may set what the RESULT must say
	 * (x->expect_*), the end of the timed part and the bytes moved.
	 */
	gboolean (*feed)(struct vtb_xfer *x, GError **err);
	/* The whole sample, for a workload that moves nothing (startup);
	 * NULL: the engine runs it. */
	gboolean (*run)(struct vtb_cell *cell, struct vtb_sample *s,
			GError **err);
	/*
	 * Optional, for a workload with data of its own (VTB_WL_OWN_DATA):
	 * prepare() is called for every boot, once the guest's devices (the
	 * targets included) are described; it may add devices
	 * (vtb_vm_add_device) and keep state in x->priv, which the runs of
	 * that guest see (freed with it by x->priv_free).  fill_run() is called
	 * after the boot, when the devices' guest paths are known, to fill
	 * RUN's path, path2 and size.  check_result() replaces the engine's
	 * check of the RESULT (bytes and hash against the payload's); FALSE
	 * fails the sample.
	 */
	gboolean (*prepare)(struct vtb_xfer *x, GError **err);
	void (*fill_run)(struct vtb_xfer *x, struct vtb_run *run);
	gboolean (*check_result)(struct vtb_xfer *x, const struct vtb_result *r,
				 GError **err);
	/* Its own options (core/options.h), merged into `run --help`, and
	 * the size of the struct their offsets point into. */
	const struct vtb_option *options;
	size_t options_size;
	/*
	 * Optional: called after parsing when the workload is asked for,
	 * with its own options (@wopts) and the run's (@o); FALSE with
	 * VTB_ERR_USAGE and one line when they cannot be met together.
	 */
	gboolean (*check)(const struct vtb_opts *o, const void *wopts,
			  GError **err);
};

/* The options of a VTB_WL_PER_MSG_SIZE workload begin with this: the
 * matrix makes one cell per size. */
struct vtb_msg_axis {
	char **sizes;
	bool given; /* by the user, not the default */
};

/* A booted (or booting) guest. */
struct vtb_vm {
	struct vtb_cell *cell;
	const struct vtb_driver_ops *driver; /* the cell's */
	char *dir; /* private 0700 temp dir: sockets, logs */
	char *console_log;
	struct vtb_child child;
	/* Helper daemons of this guest (vhost-user back-ends, storage
	 * daemons, ...): struct vtb_child *, each in its own process group,
	 * killed and reaped with the VMM on every path (vtb_vm_spawn_helper).
	 */
	GPtrArray *helpers;
	/* Back-ends inside vtbench that can fail as a helper can die (a
	 * bridge's thread): struct vtb_watch (core/vm.h), polled with the
	 * helpers while the host waits on the guest (vtb_vm_add_watch). */
	GArray *watches;
	int ctl_fd; /* the control channel, -1 when closed */
	guint8 rbuf[VTB_MSG_MAX * 2];
	size_t rlen;
	gint64 deadline_us; /* boot deadline, monotonic */
	gint64 t_spawn_us;
	gint64 t_hello_us;
	gint64 t_exit_us;
	struct vtb_hello hello;
	GPtrArray *devices; /* struct vtb_device *, in guest order */
	/* The engine's state for the runs this guest serves (its targets,
	 * the flush audit, the workload's own), freed first by
	 * vtb_vm_free(). */
	void *runs;
	GDestroyNotify runs_free;
	char **vmm_env;	     /* extra environment for the VMM, or NULL */
	GArray *boot_phases; /* struct vtb_phase the backend measured, or NULL
			      */
	void *priv;	     /* the driver's state for this boot */
};

void vtb_sample_clear(struct vtb_sample *s);
void vtb_sample_add_phase(struct vtb_sample *s, const char *name, double v);
void vtb_sample_add_metric(struct vtb_sample *s, const char *name,
			   const char *unit, bool higher_better, double v);
void vtb_sample_add_note(struct vtb_sample *s, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

#endif
