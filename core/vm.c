/* One guest's lifetime: private dir, boot with a deadline, power-off. */
#include "core/vm.h"

#include <unistd.h>

#include "core/channel.h"


void vtb_vm_free(struct vtb_vm *vm)
{
	if (!vm)
		return;
	vtb_child_kill(&vm->child);
	if (vm->cell && vm->cell->backend->cleanup)
		vm->cell->backend->cleanup(vm);
	if (vm->ctl_fd >= 0)
		close(vm->ctl_fd);
	vtb_tmpdir_remove(vm->dir);
	g_free(vm->dir);
	g_free(vm->console_log);
	g_free(vm);
}

struct vtb_vm *vtb_vm_boot(struct vtb_cell *cell, double timeout_s,
			   GError **err)
{
	g_autoptr(vtb_vm) vm = g_new0(struct vtb_vm, 1);
	g_autofree char *prefix =
		g_strdup_printf("vtbench-%s", cell->backend->name);

	vm->cell = cell;
	vm->ctl_fd = -1;
	vm->child.pidfd = -1;
	vm->dir = vtb_tmpdir_new(prefix, err);
	if (!vm->dir)
		return NULL;
	vm->console_log = g_build_filename(vm->dir, "console.log", NULL);
	vm->deadline_us = g_get_monotonic_time() + (gint64)(timeout_s * 1e6);
	if (!cell->backend->boot(vm, err))
		return NULL;
	if (vm->hello.version != VTB_PROTO_VERSION) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "guest agent speaks protocol %u, vtbench %u "
			    "(stale appliance?)",
			    vm->hello.version, VTB_PROTO_VERSION);
		return NULL;
	}
	return g_steal_pointer(&vm);
}

gboolean vtb_vm_poweroff(struct vtb_vm *vm, double timeout_s, GError **err)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)(timeout_s * 1e6);
	struct vtb_msg m = { .type = VTB_MSG_POWEROFF };
	gint64 left;

	if (!vtb_chan_send(vm, &m, deadline, err) ||
	    !vtb_chan_expect(vm, VTB_MSG_BYE, &m, deadline, err))
		return FALSE;
	left = (deadline - g_get_monotonic_time()) / 1000;
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
