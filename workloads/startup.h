/* Workload `startup`: the boot's phases, from the host's clock and HELLO. */
#ifndef VTB_STARTUP_H
#define VTB_STARTUP_H

#include "core/vtbench.h"

/*
 * Add to @s the phases of spawn -> HELLO (@hello_s, host clock) that the
 * guest's stamps in @h place: vmm_to_kernel, kernel_to_init, modules,
 * agent_ready; they add up to @hello_s.  A phase the stamps make negative
 * (a guest clock ahead of the host's, stamps out of order) is left out
 * and said in the sample's note, with the figures: never a 0.
 */
void vtb_startup_phases(struct vtb_sample *s, double hello_s,
			const struct vtb_hello *h);

#endif
