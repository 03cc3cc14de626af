/*
 * The explicit tables of plug-ins: one line per backend, transport and
 * workload, and the reserved names this build lacks.  This file is the one
 * place that points up at the plug-ins (by design: no constructor tricks),
 * so tests/layers.sh leaves it out of the cycle check.
 */
#include "core/registry.h"

const struct vtb_backend_ops *const vtb_backends[] = {
	&vtb_backend_uml,
	&vtb_backend_kvm,
	NULL,
};

/*
 * One line per workload and per transport, in the order `list`, the
 * default matrix and the split table use: NAME is the file's
 * vtb_workload_NAME / vtb_transport_NAME.
 */
/* clang-format off */
#define WORKLOADS(X)                                                           \
	X(startup)                                                             \
	X(upload)                                                              \
	X(upload_no_write)                                                     \
	X(write_no_upload)                                                     \
	X(roundtrip)                                                           \
	X(download_no_read)                                                    \
	X(untar)                                                               \
	X(metadata)                                                            \
	X(randio)                                                              \
	X(idle)                                                                \
	X(syscall)                                                             \
	/* a new workload: one line above */

#define TRANSPORTS(X)                                                          \
	X(virtio_serial)                                                       \
	X(serial)                                                              \
	X(virtio_blk)                                                          \
	X(ubd)                                                                 \
	X(9p)                                                                  \
	X(virtiofs)                                                            \
	X(hostfs)                                                              \
	X(tmpfs)                                                               \
	X(sshfs)                                                               \
	/* a new transport: one line above */
/* clang-format on */

#define DECLARE_WORKLOAD(n)                                                    \
	extern const struct vtb_workload_ops vtb_workload_##n;
#define DECLARE_TRANSPORT(n)                                                   \
	extern const struct vtb_transport_ops vtb_transport_##n;
WORKLOADS(DECLARE_WORKLOAD)
TRANSPORTS(DECLARE_TRANSPORT)

#define ENTRY_WORKLOAD(n) &vtb_workload_##n,
#define ENTRY_TRANSPORT(n) &vtb_transport_##n,
const struct vtb_workload_ops *const vtb_workloads[] = {
	WORKLOADS(ENTRY_WORKLOAD) NULL};
const struct vtb_transport_ops *const vtb_transports[] = {
	TRANSPORTS(ENTRY_TRANSPORT) NULL};

#define NOT_YET "not implemented in this version"
const struct vtb_name vtb_transports_reserved[] = {
	{NULL, NULL},
};

const struct vtb_name vtb_workloads_reserved[] = {
	{NULL, NULL},
};
