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

/* A workload: its file in workloads/ and a line here. */
extern const struct vtb_workload_ops vtb_workload_startup, vtb_workload_upload,
	vtb_workload_upload_no_write, vtb_workload_write_no_upload,
	vtb_workload_roundtrip;

const struct vtb_workload_ops *const vtb_workloads[] = {
	&vtb_workload_startup,	       &vtb_workload_upload,
	&vtb_workload_upload_no_write, &vtb_workload_write_no_upload,
	&vtb_workload_roundtrip,       NULL,
};

/* A transport: its file in transports/ and a line here. */
extern const struct vtb_transport_ops vtb_transport_virtio_serial,
	vtb_transport_serial, vtb_transport_virtio_blk, vtb_transport_ubd;

const struct vtb_transport_ops *const vtb_transports[] = {
	&vtb_transport_virtio_serial,
	&vtb_transport_serial,
	&vtb_transport_virtio_blk,
	&vtb_transport_ubd,
	NULL,
};

#define NOT_YET "not implemented in this version"
const struct vtb_name vtb_transports_reserved[] = {
	{"9p", NOT_YET},
	{"virtiofs", NOT_YET},
	{"hostfs", NOT_YET},
	{NULL, NULL},
};

const struct vtb_name vtb_workloads_reserved[] = {
	{"randio", NOT_YET},
	{"untar", NOT_YET},
	{NULL, NULL},
};
