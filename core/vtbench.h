/* Core types shared by the runner, the backends and the workloads. */
#ifndef VTB_VTBENCH_H
#define VTB_VTBENCH_H

#include <glib.h>
#include <stdbool.h>

#include "appliance/appliance.h"
#include "core/proc.h"
#include "proto/proto.h"

#define VTB_ERROR (vtb_error_quark())
GQuark vtb_error_quark(void);

enum vtb_err {
	VTB_ERR_USAGE, /* bad input or usage: the CLI exits 2 */
	VTB_ERR_UNAVAILABLE, /* a backend/transport cannot run on this host */
	VTB_ERR_RUN, /* one run failed: a failed sample */
	VTB_ERR_INTERRUPTED, /* SIGINT/SIGTERM */
};

/* Options of `vtbench run`; filled from the table in core/cli.c. */
struct vtb_opts {
	char **backends;
	char **drivers;
	char *connect;
	char *accel;
	char **transports;
	char **workloads;
	char **caches;
	guint64 size;
	char *payload;
	int runs;
	int warmup;
	double timeout; /* seconds, 0 = per-accel default */
	char *uml_kernel;
	char *uml_modules;
	char *kvm_kernel;
	char *kvm_modules;
	char *qemu;
	char *json;
	char *csv;
	int mem_mb;
	bool quiet;
	/* Which list options the user gave (vs. defaults). */
	bool backends_given;
	bool workloads_given;
};

/* What vtbench found out about the host and the kernels it will boot. */
struct vtb_env {
	struct vtb_opts *opts;
	char *cache_dir;
	char *agent; /* path of the static guest agent */

	/* uml */
	bool uml_ready;
	char *uml_reason; /* why not, when !uml_ready */
	struct vtb_kernel_info uml_kernel;
	char *uml_modules;

	/* kvm */
	bool kvm_ready;
	char *kvm_reason;
	struct vtb_kernel_info kvm_kernel; /* what the user gave/was found */
	char *kvm_boot_image; /* PVH vmlinux when possible, else bzImage */
	bool kvm_pvh;
	char *kvm_modules;
	char *qemu; /* path of qemu-system-x86_64 */
	char *qemu_version;
	bool kvm_usable; /* the KVM boot test passed */
	char *kvm_verdict; /* its one-line reason */
	char *accel; /* "kvm" or "tcg": what the kvm backend uses */
	char *kvm_cpu; /* -cpu model that passed the KVM test, or NULL */
	double kvm_prepare_s; /* vmlinux extraction/cache lookup */
};

struct vtb_vm;

/*
 * A backend boots the appliance and owns the VMM process.  Names are those
 * users type (DESIGN.md).  The runner calls prepare() once per `run`, then
 * boot()/shutdown()/cleanup() per sample.
 */
struct vtb_backend_ops {
	const char *name;
	const char *help;
	/*
	 * Find kernels, modules and helpers for this backend and decide
	 * whether it can run here; fills @env.  Returns FALSE with
	 * VTB_ERR_USAGE when the user's input is wrong (a bad --uml-kernel)
	 * and VTB_ERR_UNAVAILABLE when the host lacks something.
	 */
	gboolean (*prepare)(struct vtb_env *env, GError **err);
	/* Modules the guest needs for the control channel (NULL-ended). */
	const char *const *base_modules;
	/* Modules dir and release used for the appliance. */
	const char *(*modules_dir)(const struct vtb_env *env);
	const char *(*release)(const struct vtb_env *env);
	/*
	 * Spawn the VMM and return once the guest said HELLO (vm->hello
	 * filled, vm->t_hello_us set), or fail by vm->deadline_us.  On
	 * failure the caller still calls cleanup().
	 */
	gboolean (*boot)(struct vtb_vm *vm, GError **err);
	/* Release everything boot() made; safe after a partial boot. */
	void (*cleanup)(struct vtb_vm *vm);
};

struct vtb_phase {
	const char *name; /* static string */
	double s;
};

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
	char *error; /* NULL when ok */
	double seconds; /* the primary figure, host monotonic clock */
	guint64 bytes;
	GArray *phases; /* struct vtb_phase */
	double exit_s; /* spawn -> VMM exit, 0 when unknown */
	GArray *metrics; /* struct vtb_metric: figures beyond seconds/bytes */
	char *guest_release; /* from HELLO, NULL when no HELLO */
	guint32 modules_loaded; /* from HELLO */
};

struct vtb_workload_ops;

/* One cell of the matrix. */
struct vtb_cell {
	struct vtb_env *env;
	const struct vtb_backend_ops *backend;
	const struct vtb_workload_ops *workload;
	const char *driver; /* "direct" for uml too */
	const char *accel; /* "tcg"/"kvm" for kvm, "-" for uml */
	const char *transport; /* "-" when the workload needs none */
	const char *cache; /* "-" when not a block transport */
	struct vtb_appliance appliance;
	bool appliance_ready;
	GPtrArray *samples; /* struct vtb_sample *, warm-ups included */
	char *error; /* a cell-level failure (appliance build), or NULL */
};

/* A workload measures one sample of a cell. */
struct vtb_workload_ops {
	const char *name;
	const char *help;
	/* Measure one sample into @s.  FALSE + @err fails the sample. */
	gboolean (*run)(struct vtb_cell *cell, struct vtb_sample *s,
			GError **err);
};

/* A booted (or booting) guest. */
struct vtb_vm {
	struct vtb_cell *cell;
	char *dir; /* private 0700 temp dir: sockets, logs */
	char *console_log;
	struct vtb_child child;
	int ctl_fd; /* the control channel, -1 when closed */
	guint8 rbuf[VTB_MSG_MAX * 2];
	size_t rlen;
	gint64 deadline_us; /* boot deadline, monotonic */
	gint64 t_spawn_us;
	gint64 t_hello_us;
	gint64 t_exit_us;
	struct vtb_hello hello;
	void *priv; /* backend state */
};

void vtb_sample_clear(struct vtb_sample *s);
void vtb_sample_add_phase(struct vtb_sample *s, const char *name, double v);
void vtb_sample_add_metric(struct vtb_sample *s, const char *name,
			   const char *unit, bool higher_better, double v);

#endif
