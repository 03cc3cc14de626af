/* The explicit tables of backends, transports and workloads. */
#include "core/registry.h"

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(vtb-error-quark, vtb_error)
/* clang-format on */

const struct vtb_backend_ops *const vtb_backends[] = {
	&vtb_backend_uml,
	&vtb_backend_kvm,
	NULL,
};

const struct vtb_workload_ops *const vtb_workloads[] = {
	&vtb_workload_startup,
	NULL,
};

#define NOT_YET "not implemented in this version"
const struct vtb_name vtb_transport_names[] = {
	{ "serial", "uml,kvm", NOT_YET },
	{ "virtio-serial", "uml,kvm", NOT_YET },
	{ "virtio-blk", "uml,kvm", NOT_YET },
	{ "ubd", "uml", NOT_YET },
	{ "9p", "uml,kvm", NOT_YET },
	{ "virtiofs", "kvm", NOT_YET },
	{ "hostfs", "uml", NOT_YET },
	{ NULL, NULL, NULL },
};

const struct vtb_name vtb_workload_names[] = {
	{ "startup", "uml,kvm", NULL },
	{ "upload", "uml,kvm", NOT_YET },
	{ "upload-no-write", "uml,kvm", NOT_YET },
	{ "write-no-upload", "uml,kvm", NOT_YET },
	{ "roundtrip", "uml,kvm", NOT_YET },
	{ "randio", "uml,kvm", NOT_YET },
	{ "untar", "uml,kvm", NOT_YET },
	{ NULL, NULL, NULL },
};

const char *const vtb_drivers[] = { "direct", "libvirt", NULL };
const char *const vtb_accels[] = { "auto", "kvm", "tcg", NULL };
const char *const vtb_caches[] = { "none",	   "writeback", "unsafe",
				   "directsync",   "writethrough", "sync",
				   NULL };

const struct vtb_backend_ops *vtb_backend_find(const char *name)
{
	for (int i = 0; vtb_backends[i]; i++)
		if (strcmp(vtb_backends[i]->name, name) == 0)
			return vtb_backends[i];
	return NULL;
}

const struct vtb_workload_ops *vtb_workload_find(const char *name)
{
	for (int i = 0; vtb_workloads[i]; i++)
		if (strcmp(vtb_workloads[i]->name, name) == 0)
			return vtb_workloads[i];
	return NULL;
}

const struct vtb_name *vtb_name_find(const struct vtb_name *tab,
				     const char *name)
{
	for (int i = 0; tab[i].name; i++)
		if (strcmp(tab[i].name, name) == 0)
			return &tab[i];
	return NULL;
}

bool vtb_str_in(const char *const *tab, const char *s)
{
	for (int i = 0; tab[i]; i++)
		if (strcmp(tab[i], s) == 0)
			return true;
	return false;
}
