/* One guest's lifetime: private dir, boot with a deadline, power-off. */
#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/channel.h"
#include "core/registry.h"

static void device_free(gpointer p)
{
	struct vtb_device *d = p;

	if (d->fd >= 0)
		close(d->fd);
	if (d->end_fd >= 0)
		close(d->end_fd);
	g_free(d->name);
	g_free(d->image);
	g_free(d->guest);
	g_free(d->mount_opts);
	g_free(d->end_path);
	g_free(d);
}

void vtb_vm_free(struct vtb_vm *vm)
{
	if (!vm)
		return;
	vtb_child_kill(&vm->child);
	if (vm->runs && vm->runs_free)
		vm->runs_free(vm->runs);
	for (guint i = 0; vm->helpers && i < vm->helpers->len; i++)
		vtb_child_kill(vm->helpers->pdata[i]);
	if (vm->helpers)
		g_ptr_array_unref(vm->helpers);
	if (vm->watches)
		g_array_unref(vm->watches);
	if (vm->driver && vm->driver->cleanup)
		vm->driver->cleanup(vm);
	if (vm->ctl_fd >= 0)
		close(vm->ctl_fd);
	g_ptr_array_unref(vm->devices);
	g_strfreev(vm->vmm_env);
	if (vm->boot_phases)
		g_array_unref(vm->boot_phases);
	vtb_tmpdir_remove(vm->dir);
	g_free(vm->dir);
	g_free(vm->console_log);
	g_free(vm);
}

static bool helper_ready(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	return !S_ISREG(st.st_mode) || st.st_size > 0;
}

gboolean vtb_vm_helper_wait(struct vtb_child *c, const char *path,
			    const char *log, const char *what, const char *did,
			    const char *do_, double limit_s, gint64 deadline,
			    GError **err)
{
	for (;;) {
		if (helper_ready(path))
			return TRUE;
		if (vtb_child_wait(c, 10)) {
			g_autofree char *st = vtb_child_describe_status(c);
			g_autofree char *tail = vtb_tail_file(log, 1);

			g_strchomp(tail);
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "%s %s before it %s: %s", what, st, did,
				    *tail ? tail : "(no output)");
			return FALSE;
		}
		if (g_get_monotonic_time() > deadline) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "%s did not %s within %.0f s (log: %s)",
				    what, do_, limit_s, log);
			return FALSE;
		}
	}
}

struct vtb_child *vtb_vm_spawn_helper(struct vtb_vm *vm,
				      const char *const *argv,
				      const char *log_name,
				      const char *const *env_set, GError **err)
{
	return vtb_vm_spawn_helper_fds(vm, argv, log_name, env_set, NULL, 0,
				       err);
}

void vtb_vm_helper_stop(struct vtb_vm *vm, struct vtb_child *c)
{
	if (!c || !vm->helpers)
		return;
	vtb_child_kill(c);
	g_ptr_array_remove(vm->helpers, c);
}

struct vtb_child *
vtb_vm_spawn_helper_fds(struct vtb_vm *vm, const char *const *argv,
			const char *log_name, const char *const *env_set,
			const struct vtb_fdmap *fds, size_t nfds, GError **err)
{
	g_autofree char *log = g_build_filename(vm->dir, log_name, NULL);
	struct vtb_child *c = g_new0(struct vtb_child, 1);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	gboolean ok;

	c->pidfd = -1;
	if (fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "open %s: %s", log,
			    g_strerror(errno));
		g_free(c);
		return NULL;
	}
	ok = vtb_child_spawn(c, argv, fd, fds, nfds, env_set, err);
	close(fd);
	if (!ok) {
		g_free(c);
		return NULL;
	}
	if (!vm->helpers)
		vm->helpers = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(vm->helpers, c);
	return c;
}

void vtb_vm_add_watch(struct vtb_vm *vm, int fd,
		      gboolean (*check)(void *obj, GError **err), void *obj)
{
	struct vtb_watch w = {fd, check, obj};

	if (!vm->watches)
		vm->watches = g_array_new(FALSE, FALSE, sizeof(w));
	g_array_append_val(vm->watches, w);
}

struct vtb_device *vtb_vm_add_device(struct vtb_vm *vm)
{
	struct vtb_device *d = g_new0(struct vtb_device, 1);

	d->fd = d->end_fd = -1;
	g_ptr_array_add(vm->devices, d);
	return d;
}

struct vtb_vm *vtb_vm_new(struct vtb_cell *cell, GError **err)
{
	g_autoptr(vtb_vm) vm = g_new0(struct vtb_vm, 1);
	g_autofree char *prefix =
		g_strdup_printf("vtbench-%s", cell->backend->name);

	vm->cell = cell;
	vm->driver = vtb_backend_driver(cell->backend, cell->driver);
	g_assert(vm->driver);
	vm->ctl_fd = -1;
	vm->child.pidfd = -1;
	vm->devices = g_ptr_array_new_with_free_func(device_free);
	vm->dir = vtb_tmpdir_new(prefix, err);
	if (!vm->dir)
		return NULL;
	vm->console_log = g_build_filename(vm->dir, "console.log", NULL);
	return g_steal_pointer(&vm);
}

/* Every device through its row: attach() before the spawn, connect()
 * after it. */
static gboolean each_device(struct vtb_vm *vm, bool attach, GError **err)
{
	for (guint i = 0; i < vm->devices->len; i++) {
		struct vtb_device *d = vm->devices->pdata[i];
		const struct vtb_device_ops *row =
			vtb_driver_row(vm->driver, d->kind);

		if (attach && (!row || !row->attach)) {
			/* The matrix asked vtb_backend_cannot() first. */
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "%s/%s: cannot attach device %s (%s)",
				    vm->cell->backend->name, vm->driver->name,
				    d->name, vtb_dev_kind_name(d->kind));
			return FALSE;
		}
		if (attach && !row->attach(vm, d, err))
			return FALSE;
		if (!attach && row->connect && !row->connect(vm, d, err))
			return FALSE;
	}
	return TRUE;
}

gboolean vtb_vm_start(struct vtb_vm *vm, double timeout_s, GError **err)
{
	const struct vtb_driver_ops *drv = vm->driver;
	struct vtb_msg m;

	vm->deadline_us = g_get_monotonic_time() + (gint64)(timeout_s * 1e6);
	if (drv->prepare && !drv->prepare(vm, err))
		return FALSE;
	if (!each_device(vm, true, err) || !drv->spawn(vm, err) ||
	    !each_device(vm, false, err))
		return FALSE;
	if (drv->resume && !drv->resume(vm, err))
		return FALSE;
	/* The guest speaks first: we only listen until HELLO. */
	if (!vtb_chan_expect(vm, VTB_MSG_HELLO, &m, vm->deadline_us, err)) {
		if (drv->explain)
			drv->explain(vm, err);
		return FALSE;
	}
	vm->t_hello_us = g_get_monotonic_time();
	vm->hello = m.u.hello;
	if (drv->booted && !drv->booted(vm, err))
		return FALSE;
	if (vm->hello.version != VTB_PROTO_VERSION) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "guest agent speaks protocol %u, vtbench %u "
			    "(stale appliance?)",
			    vm->hello.version, VTB_PROTO_VERSION);
		return FALSE;
	}
	return TRUE;
}

void vtb_vm_add_boot_phase(struct vtb_vm *vm, const char *name, double s)
{
	struct vtb_phase p = {name, s};

	if (!vm->boot_phases)
		vm->boot_phases = g_array_new(FALSE, FALSE, sizeof(p));
	g_array_append_val(vm->boot_phases, p);
}

struct vtb_vm *vtb_vm_boot(struct vtb_cell *cell, double timeout_s,
			   GError **err)
{
	g_autoptr(vtb_vm) vm = vtb_vm_new(cell, err);

	if (!vm || !vtb_vm_start(vm, timeout_s, err))
		return NULL;
	return g_steal_pointer(&vm);
}

gboolean vtb_vm_disk_stats(struct vtb_vm *vm, const struct vtb_device *d,
			   struct vtb_disk_stats *out, GError **err)
{
	return vm->driver->disk_stats &&
	       vm->driver->disk_stats(vm, d, out, err);
}

gboolean vtb_vm_poweroff(struct vtb_vm *vm, double timeout_s, GError **err)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)(timeout_s * 1e6);
	struct vtb_msg m = {.type = VTB_MSG_POWEROFF};
	gint64 left;

	if (!vtb_chan_send(vm, &m, deadline, err) ||
	    !vtb_chan_expect(vm, VTB_MSG_BYE, &m, deadline, err))
		return FALSE;
	left = (deadline - g_get_monotonic_time()) / 1000;
	/* A VMM that is not vm->child (a libvirt domain): its driver waits. */
	if (vm->driver->wait_exit &&
	    vm->driver->wait_exit(vm, (int)MAX(left, 0))) {
		vm->t_exit_us = g_get_monotonic_time();
		return TRUE;
	}
	if (vm->driver->wait_exit) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "%s did not exit within %.0f s of power-off",
			    vm->cell->backend->name, timeout_s);
		return FALSE;
	}
	if (!vtb_child_wait(&vm->child, (int)MAX(left, 0))) {
		g_autofree char *ctx = vtb_vm_console_context(vm);

		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "%s did not exit within %.0f s of power-off%s",
			    vm->cell->backend->name, timeout_s, ctx);
		return FALSE;
	}
	vm->t_exit_us = g_get_monotonic_time();
	return TRUE;
}

const char *vtb_test_fault_param(void)
{
	static char param[48];
	const char *e = g_getenv("VTBENCH_TEST_FAULT");
	g_autoptr(GRegex) re = NULL;

	if (!e || !*e)
		return NULL;
	re = g_regex_new("^(panic|crash):[0-9]{1,6}$", 0, 0, NULL);
	if (!g_regex_match(re, e, 0, NULL))
		return NULL;
	g_snprintf(param, sizeof(param), "vtb.fault=%s", e);
	return param;
}
