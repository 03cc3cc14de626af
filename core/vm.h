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

/* A vm with its private dir, not started: add devices, then start it. */
struct vtb_vm *vtb_vm_new(struct vtb_cell *cell, GError **err);
/* A device owned by the vm from now on (fds -1, strings allocated). */
struct vtb_device *vtb_vm_add_device(struct vtb_vm *vm);
/*
 * Boot, by the one sequence of every driver (vtb_driver_ops): prepare,
 * attach every device, spawn, connect every endpoint, resume, HELLO by
 * the deadline @timeout_s from now, booted.  Returns once the guest said
 * HELLO; FALSE with the reason (vtb_vm_free() cleans up).
 */
gboolean vtb_vm_start(struct vtb_vm *vm, double timeout_s, GError **err);
/* The VMM's own counters of disk @d, when the vm's driver can ask them
 * (vtb_driver_ops.disk_stats); FALSE when it cannot (@err may stay NULL). */
gboolean vtb_vm_disk_stats(struct vtb_vm *vm, const struct vtb_device *d,
			   struct vtb_disk_stats *out, GError **err);
/* A start-up phase the backend measured (@name static), for the sample. */
void vtb_vm_add_boot_phase(struct vtb_vm *vm, const char *name, double s);

/*
 * Start a helper daemon of @vm from @argv (an argv array, never a shell
 * string), its output in @log_name in the vm's private dir, @env_set added
 * to its environment (or NULL).  It has the VMM's lifetime rules: own
 * process group, SIGKILL on vtbench's death, killed by the signal handler,
 * killed and reaped by vtb_vm_free().  Returns it (owned by @vm), or NULL.
 */
struct vtb_child *vtb_vm_spawn_helper(struct vtb_vm *vm,
				      const char *const *argv,
				      const char *log_name,
				      const char *const *env_set, GError **err);

/* The same, with @fds given to the helper at fixed numbers (a
 * socketpair's end it serves). */
struct vtb_child *
vtb_vm_spawn_helper_fds(struct vtb_vm *vm, const char *const *argv,
			const char *log_name, const char *const *env_set,
			const struct vtb_fdmap *fds, size_t nfds, GError **err);
/* Kill and reap helper @c of @vm (NULL: nothing) and forget it. */
void vtb_vm_helper_stop(struct vtb_vm *vm, struct vtb_child *c);

/*
 * Wait until helper @c is ready: @path exists (a regular file: with
 * content, e.g. a pidfile; anything else, e.g. a socket: at all), by
 * @deadline (monotonic us; @limit_s is that limit, for the message).
 * FALSE with "@what STATUS before it @did: LOG's last line" when it
 * exits first, or "@what did not @do within N s (log: @log)".
 */
gboolean vtb_vm_helper_wait(struct vtb_child *c, const char *path,
			    const char *log, const char *what, const char *did,
			    const char *do_, double limit_s, gint64 deadline,
			    GError **err);

/*
 * A back-end inside vtbench (a bridge's thread, vhost/bridge.h) watched
 * like a helper daemon: once @fd polls readable, @check(@obj) returns
 * FALSE with the reason, and the wait on the guest ends with it.  @obj
 * must stay valid until vtb_vm_free(), whose driver cleanup frees it.
 */
struct vtb_watch {
	int fd;
	gboolean (*check)(void *obj, GError **err);
	void *obj;
};
void vtb_vm_add_watch(struct vtb_vm *vm, int fd,
		      gboolean (*check)(void *obj, GError **err), void *obj);

/* Kill what is left (helpers after the VMM), close the channel, remove
 * the private dir. */
void vtb_vm_free(struct vtb_vm *vm);
typedef struct vtb_vm vtb_vm;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vtb_vm, vtb_vm_free)

/*
 * Test hook (tests/campaign.sh): VTBENCH_TEST_FAULT=panic:MS or crash:MS
 * becomes the guest kernel parameter vtb.fault=..., and MS after its
 * HELLO the guest's kernel panics or its agent (PID 1) faults.  NULL
 * without it (or when malformed).
 */
const char *vtb_test_fault_param(void);

#endif
