/* Workload `startup`: spawn -> HELLO, and -> VMM exit after power-off. */
#include "workloads/startup.h"

#include <inttypes.h>

#include "core/vm.h"
#include "engine/engine.h"

void vtb_startup_phases(struct vtb_sample *s, double hello_s,
			const struct vtb_hello *h)
{
	/*
	 * The guest's CLOCK_BOOTTIME starts with its kernel.  Subtracting
	 * its HELLO stamp from the host's HELLO time places the kernel's
	 * start on the host clock; the rest are guest-clock intervals
	 * (TCG and UML clocks drift: they explain, the host clock measures).
	 */
	double kstart_s = hello_s - h->t_hello_ns / 1e9;

	if (kstart_s >= 0)
		vtb_sample_add_phase(s, "vmm_to_kernel", kstart_s);
	else
		vtb_sample_add_note(s,
				    "guest clock %.6f s ahead of the host's "
				    "(HELLO at %.6f s of guest uptime, %.6f s "
				    "after the spawn): vmm_to_kernel unknown",
				    -kstart_s, h->t_hello_ns / 1e9, hello_s);
	vtb_sample_add_phase(s, "kernel_to_init", h->t_entry_ns / 1e9);
	/* Unsigned stamps: out of order, a difference would wrap. */
	if (h->t_modules_ns >= h->t_entry_ns &&
	    h->t_hello_ns >= h->t_modules_ns) {
		vtb_sample_add_phase(s, "modules",
				     (h->t_modules_ns - h->t_entry_ns) / 1e9);
		vtb_sample_add_phase(s, "agent_ready",
				     (h->t_hello_ns - h->t_modules_ns) / 1e9);
	} else {
		vtb_sample_add_note(s,
				    "guest stamps out of order (entry %" PRIu64
				    ", modules %" PRIu64 ", HELLO %" PRIu64
				    " ns): modules and agent_ready unknown",
				    h->t_entry_ns, h->t_modules_ns,
				    h->t_hello_ns);
	}
}

static gboolean startup_run(struct vtb_cell *cell, struct vtb_sample *s,
			    GError **err)
{
	double timeout = vtb_cell_boot_timeout(cell);
	struct vtb_vm *vm = vtb_vm_boot(cell, timeout, err);
	double hello_s;
	const struct vtb_hello *h;

	if (!vm)
		return FALSE;
	h = &vm->hello;
	s->guest_release = g_strdup(h->release);
	s->modules_loaded = h->modules_loaded;
	hello_s = (vm->t_hello_us - vm->t_spawn_us) / 1e6;
	s->seconds = hello_s;
	/* The driver's own steps before the guest ran (libvirt's). */
	for (guint i = 0; vm->boot_phases && i < vm->boot_phases->len; i++) {
		const struct vtb_phase *p =
			&g_array_index(vm->boot_phases, struct vtb_phase, i);

		vtb_sample_add_phase(s, p->name, p->s);
	}
	vtb_startup_phases(s, hello_s, h);
	if (!vtb_vm_poweroff(vm, timeout, err)) {
		vtb_vm_free(vm);
		return FALSE;
	}
	s->exit_s = (vm->t_exit_us - vm->t_spawn_us) / 1e6;
	vtb_sample_add_phase(s, "poweroff", s->exit_s - hello_s);
	vtb_vm_free(vm);
	return TRUE;
}

const struct vtb_workload_ops vtb_workload_startup = {
	.name = "startup",
	.help = "host clock from VMM spawn to the agent's HELLO (and to exit)",
	.work = VTB_WORK_NONE,
	.run = startup_run,
};
