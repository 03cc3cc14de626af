/* The explicit tables of backends, transports and workloads. */
#ifndef VTB_REGISTRY_H
#define VTB_REGISTRY_H

#include "core/vtbench.h"

extern const struct vtb_backend_ops vtb_backend_uml;
extern const struct vtb_backend_ops vtb_backend_kvm;
extern const struct vtb_workload_ops vtb_workload_startup;
extern const struct vtb_workload_ops vtb_workload_upload;
extern const struct vtb_workload_ops vtb_workload_upload_no_write;
extern const struct vtb_workload_ops vtb_workload_write_no_upload;
extern const struct vtb_workload_ops vtb_workload_roundtrip;
extern const struct vtb_transport_ops vtb_transport_virtio_serial;
extern const struct vtb_transport_ops vtb_transport_serial;
extern const struct vtb_transport_ops vtb_transport_virtio_blk;
extern const struct vtb_transport_ops vtb_transport_ubd;

/*
 * UML 6.1's serial line goes deaf once the guest's tty throttles it:
 * line_throttle() takes the line's read IRQ away and line_unthrottle()
 * never gives it back.  n_tty throttles below 128 free bytes of its 4 KiB
 * buffer, so a message of VTB_LINE_THROTTLE_AT bytes always does it; a
 * bulk transfer can by chance, and the line stays deaf for later runs.
 */
#define VTB_UML_LINE_BUG "line_unthrottle() does not re-enable its read IRQ"
#define VTB_LINE_THROTTLE_AT (4096 - 128)
bool vtb_line_goes_deaf(const char *backend,
			const struct vtb_transport_ops *t);

/* NULL-terminated tables: one line per plug-in. */
extern const struct vtb_backend_ops *const vtb_backends[];
extern const struct vtb_workload_ops *const vtb_workloads[];
extern const struct vtb_transport_ops *const vtb_transports[];

/*
 * Every name DESIGN.md reserves, with what this build can do with it, so
 * that `list` tells the truth and a reserved-but-missing name says so
 * instead of "unknown".
 */
struct vtb_name {
	const char *name;
	const char *backends; /* "uml,kvm", "kvm", ... */
	const char *missing; /* NULL when implemented, else why not */
};
extern const struct vtb_name vtb_transport_names[];
extern const struct vtb_name vtb_workload_names[];
extern const char *const vtb_drivers[];
extern const char *const vtb_accels[];
extern const char *const vtb_caches[];
extern const char *const vtb_images[];
extern const char *const vtb_fss[];
extern const char *const vtb_aios[];

const struct vtb_backend_ops *vtb_backend_find(const char *name);
const struct vtb_workload_ops *vtb_workload_find(const char *name);
const struct vtb_transport_ops *vtb_transport_find(const char *name);
const struct vtb_name *vtb_name_find(const struct vtb_name *tab,
				     const char *name);
bool vtb_str_in(const char *const *tab, const char *s);

#endif
