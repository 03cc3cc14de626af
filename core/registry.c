/* The explicit tables of backends, transports and workloads. */
#include "core/registry.h"

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(vtb-error-quark, vtb_error)
/* clang-format on */

const char *const vtb_caches[] = {"none",	"writeback",	"unsafe",
				  "directsync", "writethrough", "sync",
				  NULL};

const char *const vtb_images[] = {"raw-sparse", "raw-prealloc", "qcow2",
				  "qcow2-prealloc", NULL};
const char *const vtb_fss[] = {"ext2", "ext3", "ext4", NULL};
const char *const vtb_aios[] = {"threads", "native", "io_uring", NULL};

const struct vtb_transport_ops *vtb_transport_find(const char *name)
{
	for (int i = 0; vtb_transports[i]; i++)
		if (strcmp(vtb_transports[i]->name, name) == 0)
			return vtb_transports[i];
	return NULL;
}

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

int vtb_backend_index(const struct vtb_backend_ops *be)
{
	for (int i = 0; vtb_backends[i]; i++)
		if (vtb_backends[i] == be)
			return i;
	g_assert_not_reached();
	return 0;
}

bool vtb_env_ready(const struct vtb_env *env, const struct vtb_backend_ops *be)
{
	return env->ready[vtb_backend_index(be)];
}

const char *vtb_env_reason(const struct vtb_env *env,
			   const struct vtb_backend_ops *be)
{
	return env->reason[vtb_backend_index(be)];
}

void vtb_env_set_ready(struct vtb_env *env, const struct vtb_backend_ops *be,
		       bool ready, const char *why)
{
	int i = vtb_backend_index(be);

	env->ready[i] = ready;
	g_free(env->reason[i]);
	env->reason[i] = ready ? NULL : g_strdup(why);
}

void vtb_env_init(struct vtb_env *env)
{
	for (int i = 0; vtb_backends[i]; i++) {
		g_assert(i < VTB_MAX_BACKENDS);
		if (!env->priv[i])
			env->priv[i] =
				g_malloc0(MAX(vtb_backends[i]->priv_size, 1));
	}
}

void vtb_env_clear(struct vtb_env *env)
{
	for (int i = 0; vtb_backends[i]; i++) {
		if (env->priv[i] && vtb_backends[i]->priv_clear)
			vtb_backends[i]->priv_clear(env->priv[i]);
		g_clear_pointer(&env->priv[i], g_free);
	}
	for (int i = 0; i < VTB_MAX_BACKENDS; i++)
		g_clear_pointer(&env->reason[i], g_free);
	g_clear_pointer(&env->cache_dir, g_free);
	g_clear_pointer(&env->agent, g_free);
}

void *vtb_env_priv(const struct vtb_env *env, const struct vtb_backend_ops *be)
{
	void *p = env->priv[vtb_backend_index(be)];

	g_assert(p); /* vtb_env_init() was called */
	return p;
}

const char *vtb_dev_kind_name(enum vtb_dev_kind k)
{
	static const char *const names[VTB_DEV__N] = {
		[VTB_DEV_SERIAL] = "serial",
		[VTB_DEV_VIRTIO_SERIAL] = "virtio-serial",
		[VTB_DEV_DISK] = "disk",
		[VTB_DEV_FS] = "filesystem",
	};

	return (unsigned)k < VTB_DEV__N ? names[k] : "?";
}

const struct vtb_device_ops *vtb_driver_row(const struct vtb_driver_ops *drv,
					    enum vtb_dev_kind k)
{
	return (unsigned)k < VTB_DEV__N ? drv->devices[k] : NULL;
}

const struct vtb_device_ops *vtb_backend_row(const struct vtb_backend_ops *be,
					     enum vtb_dev_kind k)
{
	return vtb_driver_row(be->drivers[0], k);
}

const struct vtb_driver_ops *
vtb_backend_driver(const struct vtb_backend_ops *be, const char *name)
{
	for (int i = 0; name && be->drivers[i]; i++)
		if (strcmp(be->drivers[i]->name, name) == 0)
			return be->drivers[i];
	return name ? NULL : be->drivers[0];
}

char *vtb_backend_cannot(const struct vtb_backend_ops *be,
			 const struct vtb_device *d)
{
	const struct vtb_device_ops *row = vtb_backend_row(be, d->kind);

	if (!row)
		return g_strdup_printf("%s has no %s device", be->name,
				       vtb_dev_kind_name(d->kind));
	return row->cannot ? row->cannot(d) : NULL;
}

void vtb_transport_device(const struct vtb_transport_ops *t,
			  struct vtb_device *d)
{
	d->kind = t->device;
	d->bus = t->bus;
}

const void *vtb_transport_opt(const struct vtb_opts *o, const char *t,
			      const char *name)
{
	const struct vtb_transport_ops *tops = vtb_transport_find(t);
	const char *base = tops ? vtb_transport_opts(o, tops) : NULL;

	for (const struct vtb_option *op = base ? tops->options : NULL;
	     op && op->name; op++)
		if (g_str_equal(op->name, name))
			return base + op->offset;
	return NULL;
}

const char *const *vtb_transport_modules(const struct vtb_backend_ops *be,
					 const struct vtb_transport_ops *t)
{
	const struct vtb_device_ops *row = vtb_backend_row(be, t->device);
	const char *const *m =
		row && row->guest_modules ? row->guest_modules(t) : NULL;

	return m ? m : t->guest_modules;
}

void vtb_transport_device_for(const struct vtb_transport_ops *t,
			      const struct vtb_opts *o, struct vtb_device *d)
{
	vtb_transport_device(t, d);
	if (t->carrier)
		t->carrier(o ? vtb_transport_opts(o, t) : NULL, d);
}

unsigned vtb_transport_quirks(const struct vtb_backend_ops *be,
			      const struct vtb_transport_ops *t)
{
	const struct vtb_device_ops *row;

	if (!t)
		return 0;
	row = vtb_backend_row(be, t->device);
	return row ? row->quirks : 0;
}

guint64 vtb_transport_default_size(const struct vtb_cell *c)
{
	const struct vtb_device_ops *row;

	if (c->workload->flags & VTB_WL_PER_MSG_SIZE) {
		guint64 n = VTB_ROUNDTRIP_MSGS;

		row = vtb_backend_row(c->backend, c->tops->device);
		if ((c->tops->run_flags & VTB_RUN_F_RAW_TTY) && row &&
		    row->roundtrip_msgs)
			n = row->roundtrip_msgs;
		return n * c->msg_size;
	}
	if (c->tops->default_size)
		return c->tops->default_size;
	row = vtb_backend_row(c->backend, c->tops->device);
	return row && row->default_size ? row->default_size(c) : 500ULL << 20;
}

/* "a, b, c": @names (@n of them), then the reserved ones. */
static char *known(const char *const *names, size_t n,
		   const struct vtb_name *reserved)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", names[i]);
	for (int i = 0; reserved[i].name; i++)
		g_string_append_printf(s, ", %s", reserved[i].name);
	return g_string_free(s, FALSE);
}

char *vtb_known_transports(void)
{
	const char *names[32];
	size_t n = 0;

	for (int i = 0; vtb_transports[i] && n < G_N_ELEMENTS(names); i++)
		names[n++] = vtb_transports[i]->name;
	return known(names, n, vtb_transports_reserved);
}

char *vtb_known_workloads(void)
{
	const char *names[32];
	size_t n = 0;

	for (int i = 0; vtb_workloads[i] && n < G_N_ELEMENTS(names); i++)
		names[n++] = vtb_workloads[i]->name;
	return known(names, n, vtb_workloads_reserved);
}

bool vtb_str_in(const char *const *tab, const char *s)
{
	for (int i = 0; tab[i]; i++)
		if (strcmp(tab[i], s) == 0)
			return true;
	return false;
}

const char *vtb_cell_boot_mode(const struct vtb_cell *cell)
{
	/* The engine's workloads; start-up boots for every run. */
	if (cell->workload->run ||
	    !(cell->workload->flags & (VTB_WL_STATELESS | VTB_WL_WRITES)))
		return NULL;
	/* A line the tty throttled stays deaf, even when the run that
	 * throttled it got all its bytes: a guest is kept only where
	 * nothing can fill the tty's buffer (a download, a short echo). */
	if (cell->tops &&
	    (vtb_transport_quirks(cell->backend, cell->tops) &
	     VTB_QUIRK_DEAF_AFTER_THROTTLE) &&
	    (cell->workload->work == VTB_WORK_SINK ||
	     cell->workload->work == VTB_WORK_COPY ||
	     (cell->workload->work == VTB_WORK_ECHO &&
	      cell->msg_size >= VTB_LINE_THROTTLE_AT)))
		return "per-run";
	return cell->env->opts->boot;
}

void *vtb_workload_opts(const struct vtb_opts *o,
			const struct vtb_workload_ops *w)
{
	for (int i = 0; vtb_workloads[i] && i < VTB_MAX_WORKLOADS; i++)
		if (vtb_workloads[i] == w)
			return o->workload_opts[i];
	return NULL;
}

void *vtb_transport_opts(const struct vtb_opts *o,
			 const struct vtb_transport_ops *t)
{
	for (int i = 0; vtb_transports[i] && i < VTB_MAX_TRANSPORTS; i++)
		if (vtb_transports[i] == t)
			return o->transport_opts[i];
	return NULL;
}

void *vtb_backend_opts(const struct vtb_opts *o,
		       const struct vtb_backend_ops *be)
{
	return o->backend_opts[vtb_backend_index(be)];
}
