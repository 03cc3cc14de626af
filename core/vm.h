/* One guest's lifetime: private dir, boot with a deadline, power-off. */
#ifndef VTB_VM_H
#define VTB_VM_H

#include "core/vtbench.h"

/*
 * Boot the cell's appliance with the cell's backend; returns a vm that has
 * said HELLO, or NULL with the reason (console tail included).  Nothing is
 * left behind on failure.  @timeout_s: boot deadline.
 */
struct vtb_vm *vtb_vm_boot(struct vtb_cell *cell, double timeout_s,
			   GError **err);

/*
 * Ask the guest to power off (POWEROFF, then BYE) and wait for the VMM to
 * exit, by @timeout_s.  Sets vm->t_exit_us.  The VMM is killed when it
 * does not go in time (and that is an error).
 */
gboolean vtb_vm_poweroff(struct vtb_vm *vm, double timeout_s, GError **err);

/* Kill what is left, close the channel, remove the private dir. */
void vtb_vm_free(struct vtb_vm *vm);
typedef struct vtb_vm vtb_vm;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vtb_vm, vtb_vm_free)

#endif
