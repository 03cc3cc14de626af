/* The explicit tables of backends, transports and workloads. */
#ifndef VTB_REGISTRY_H
#define VTB_REGISTRY_H

#include "core/vtbench.h"

extern const struct vtb_backend_ops vtb_backend_uml;
extern const struct vtb_backend_ops vtb_backend_kvm;

/* An echo of this many bytes always throttles the guest's tty
 * (VTB_QUIRK_DEAF_AFTER_THROTTLE). */
#define VTB_LINE_THROTTLE_AT VTB_TTY_THROTTLE_AT

/* The row of @drv for device kind @k, or NULL when it has none. */
const struct vtb_device_ops *vtb_driver_row(const struct vtb_driver_ops *drv,
					    enum vtb_dev_kind k);
/* @be's driver @name, its first for NULL, or NULL when it has none such. */
const struct vtb_driver_ops *
vtb_backend_driver(const struct vtb_backend_ops *be, const char *name);
/* The row of @be (its first driver) for device kind @k, or NULL when it
 * has none. */
const struct vtb_device_ops *vtb_backend_row(const struct vtb_backend_ops *be,
					     enum vtb_dev_kind k);
/*
 * Why @be cannot attach @d (newly allocated), or NULL when it can: its
 * row's cannot(), or that it has no row for the kind.
 */
char *vtb_backend_cannot(const struct vtb_backend_ops *be,
			 const struct vtb_device *d);
/* @t's device as the matrix knows it before a cell exists. */
void vtb_transport_device(const struct vtb_transport_ops *t,
			  struct vtb_device *d);
/* The guest modules @t needs on @be: its row's (guest_modules) or the
 * transport's own. */
const char *const *vtb_transport_modules(const struct vtb_backend_ops *be,
					 const struct vtb_transport_ops *t);
/* Likewise with the options @o (or NULL: the defaults), which choose the
 * stream that carries a filesystem served over one (its carrier()). */
void vtb_transport_device_for(const struct vtb_transport_ops *t,
			      const struct vtb_opts *o, struct vtb_device *d);
/* The quirks of @t's device on @be (0 when it has no row). */
unsigned vtb_transport_quirks(const struct vtb_backend_ops *be,
			      const struct vtb_transport_ops *t);
/*
 * A guess of the bytes ~VTB_DEFAULT_SIZE_S of @c's transfer moves (a
 * roundtrip cell: its messages one way), where the warm-up starts from
 * when --size is not given.
 */
guint64 vtb_transport_default_size(const struct vtb_cell *c);
/* The options @w declared, as parsed into @o (NULL: it has none). */
void *vtb_workload_opts(const struct vtb_opts *o,
			const struct vtb_workload_ops *w);
/* The options backend @be declared, as parsed into @o (NULL: none). */
/* The field of option @name of transport @t as parsed into @o (its
 * table's offset), or NULL when there is no such transport or option: a
 * backend reads a transport's option without its struct. */
const void *vtb_transport_opt(const struct vtb_opts *o, const char *t,
			      const char *name);
/* A 9p cell's msize (its variant "msize=SIZE"; 512K without one). */
guint64 vtb_9p_cell_msize(const struct vtb_cell *c);
/* The options @t declared, as parsed into @o (NULL: it has none). */
void *vtb_transport_opts(const struct vtb_opts *o,
			 const struct vtb_transport_ops *t);
void *vtb_backend_opts(const struct vtb_opts *o,
		       const struct vtb_backend_ops *be);
/* @be's place in vtb_backends[]. */
int vtb_backend_index(const struct vtb_backend_ops *be);
/* Whether @be was prepared and verified here. */
bool vtb_env_ready(const struct vtb_env *env, const struct vtb_backend_ops *be);
/* Why @be is not ready, or NULL. */
const char *vtb_env_reason(const struct vtb_env *env,
			   const struct vtb_backend_ops *be);
/* Mark @be ready, or not with @why (copied; NULL when ready). */
void vtb_env_set_ready(struct vtb_env *env, const struct vtb_backend_ops *be,
		       bool ready, const char *why);

/* Allocate every backend's state in @env (zeroed; see priv_size). */
void vtb_env_init(struct vtb_env *env);
/* Free @env's members: the backends' states (priv_clear), the reasons,
 * the cache dir and agent paths. */
void vtb_env_clear(struct vtb_env *env);
/* @be's state in @env (vtb_env_init). */
void *vtb_env_priv(const struct vtb_env *env, const struct vtb_backend_ops *be);

/* "serial", "virtio-serial", "disk". */
const char *vtb_dev_kind_name(enum vtb_dev_kind k);

/* NULL-terminated tables: one line per plug-in. */
extern const struct vtb_backend_ops *const vtb_backends[];
extern const struct vtb_workload_ops *const vtb_workloads[];
extern const struct vtb_transport_ops *const vtb_transports[];

/*
 * The names DESIGN.md reserves that this build has no plug-in for, with
 * why, so that `list` tells the truth and such a name says so instead of
 * "unknown".  A plug-in's own name comes from its ops table.
 */
struct vtb_name {
	const char *name;
	const char *missing; /* why not */
};
extern const struct vtb_name vtb_transports_reserved[];
extern const struct vtb_name vtb_workloads_reserved[];
extern const char *const vtb_caches[];
extern const char *const vtb_images[];
extern const char *const vtb_fss[];
extern const char *const vtb_aios[];

const struct vtb_backend_ops *vtb_backend_find(const char *name);
const struct vtb_workload_ops *vtb_workload_find(const char *name);
const struct vtb_transport_ops *vtb_transport_find(const char *name);
const struct vtb_name *vtb_name_find(const struct vtb_name *tab,
				     const char *name);
/* "a, b, c": the names of this build's plug-ins, then the reserved ones
 * (newly allocated). */
char *vtb_known_transports(void);
char *vtb_known_workloads(void);
bool vtb_str_in(const char *const *tab, const char *s);

/*
 * How the runs of a cell the transfer engine runs boot: "per-cell" (one
 * kept guest; a writing workload's has a fresh target for each run) or
 * "per-run"; NULL for cells that boot every run by nature (startup).
 */
const char *vtb_cell_boot_mode(const struct vtb_cell *cell);

#endif
