/* KVM/QEMU backend, driver `direct`: vtbench spawns qemu-system-x86_64. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/registry.h"
#include "core/virtiofsd.h"
#include "core/vm.h"
#include "kvm/kvm.h"

/* The driver's state while a guest boots (vm->priv). */
struct direct {
	struct vtb_qemu_devs devs;
	char *qlog; /* QEMU's stderr */
};

static gboolean direct_prepare(struct vtb_vm *vm, GError **err)
{
	struct direct *q = g_new0(struct direct, 1);

	vtb_qemu_devs_init(&q->devs);
	q->qlog = g_build_filename(vm->dir, "qemu.log", NULL);
	vm->priv = q;
	return TRUE;
}

/*
 * QEMU's own complaint is the best reason there is: its own reason
 * (vtb_qemu_reason: a KVM error or register dump in one line), else the
 * first line on its stderr.  Its own reason is also kept in
 * kv->qemu_said, for the KVM test.
 */
static void direct_explain(struct vtb_vm *vm, GError **err)
{
	struct direct *q = vm->priv;
	struct vtb_kvm_env *kv = vtb_env_priv(vm->cell->env, vm->cell->backend);
	g_autofree char *data = NULL;
	char *nl;

	if (!g_file_get_contents(q->qlog, &data, NULL, NULL) || !*data)
		return;
	g_free(kv->qemu_said);
	kv->qemu_said = vtb_qemu_reason(data);
	if (kv->qemu_said) {
		g_prefix_error(err, "%s: ", kv->qemu_said);
		return;
	}
	nl = strchr(data, '\n');
	if (nl)
		*nl = 0;
	g_strstrip(data);
	if (*data)
		g_prefix_error(err, "%s: ", data);
}

/* QEMU connects to every socket at start-up: listen first. */
static gboolean direct_attach_serial(struct vtb_vm *vm, struct vtb_device *d,
				     GError **err)
{
	struct direct *q = vm->priv;

	if (!vtb_kvm_listen_device(vm, d, err))
		return FALSE;
	vtb_qemu_add_serial(&q->devs, d);
	return TRUE;
}

static gboolean direct_attach_port(struct vtb_vm *vm, struct vtb_device *d,
				   GError **err)
{
	struct direct *q = vm->priv;

	if (!vtb_kvm_listen_device(vm, d, err))
		return FALSE;
	vtb_qemu_add_port(&q->devs, d);
	return TRUE;
}

static gboolean direct_attach_disk(struct vtb_vm *vm, struct vtb_device *d,
				   GError **err)
{
	struct direct *q = vm->priv;

	return vtb_qemu_add_disk(&q->devs, d, err);
}

/*
 * A filesystem target: 9p and tmpfs are QEMU's arguments; virtiofs has
 * QEMU 7.2's virtiofsd serve the directory, a helper child of the vm
 * started (and listening) before QEMU, which connects to it.
 */
static gboolean direct_attach_fs(struct vtb_vm *vm, struct vtb_device *d,
				 GError **err)
{
	struct direct *q = vm->priv;
	g_autofree char *sock = NULL;

	if (!g_str_equal(d->bus, "virtiofs"))
		return vtb_qemu_add_fs(&q->devs, d, NULL, err);
	sock = g_build_filename(vm->dir, "virtiofs.sock", NULL);
	if (!vtb_virtiofsd_start(vm, d, sock, err))
		return FALSE;
	return vtb_qemu_add_fs(&q->devs, d, sock, err);
}

static gboolean direct_spawn(struct vtb_vm *vm, GError **err)
{
	struct vtb_env *env = vm->cell->env;
	struct vtb_kvm_env *kv = vtb_env_priv(env, vm->cell->backend);
	struct direct *q = vm->priv;
	const char *accel = vm->cell->accel;
	g_autofree char *sock = g_build_filename(vm->dir, "ctl.sock", NULL);
	g_autofree char *append = NULL;
	g_auto(GStrv) argv = NULL;
	struct vtb_qemu_cfg cfg;
	int lfd, log_fd;
	gboolean ok;

	append = vtb_kvm_append(accel, vtb_test_fault_param());
	cfg = (struct vtb_qemu_cfg){
		.qemu = kv->qemu,
		.accel = accel,
		/* The model the KVM test passed with; TCG: QEMU's default. */
		.cpu = g_str_equal(accel, "kvm") ? kv->cpu : NULL,
		.kernel = kv->boot_image,
		.initrd = vm->cell->appliance.initrd,
		.append = append,
		.mem_mb = env->opts->mem_mb,
		.console_log = vm->console_log,
		.ctl_sock = sock,
		.smp = kv->o->cpus,
		.devs = &q->devs,
	};
	argv = vtb_qemu_argv(&cfg);
	lfd = vtb_kvm_listen_unix(sock, err);
	if (lfd < 0)
		return FALSE;
	log_fd = open(q->qlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = vtb_child_spawn(&vm->child, (const char *const *)argv, log_fd,
			     NULL, 0, (const char *const *)vm->vmm_env, err);
	if (log_fd >= 0)
		close(log_fd);
	if (!ok) {
		close(lfd);
		return FALSE;
	}
	vm->t_spawn_us = vm->child.t_spawn_us;
	vm->ctl_fd = vtb_kvm_accept(vm, lfd, err);
	close(lfd);
	if (vm->ctl_fd < 0) {
		direct_explain(vm, err);
		return FALSE;
	}
	return TRUE;
}

static void direct_cleanup(struct vtb_vm *vm)
{
	struct direct *q = vm->priv;

	/* vtb_vm_free() kills QEMU, closes the devices' sockets and removes
	 * vm->dir. */
	if (!q)
		return;
	vtb_qemu_devs_clear(&q->devs);
	g_free(q->qlog);
	g_free(q);
	vm->priv = NULL;
}

static const struct vtb_device_ops direct_serial = {
	VTB_KVM_SERIAL_ROW,
	.attach = direct_attach_serial,
	.connect = vtb_kvm_accept_device,
};

static const struct vtb_device_ops direct_port = {
	VTB_KVM_PORT_ROW,
	.attach = direct_attach_port,
	.connect = vtb_kvm_accept_device,
};

static const struct vtb_device_ops direct_disk = {
	VTB_KVM_DISK_ROW,
	.attach = direct_attach_disk,
};

static const struct vtb_device_ops direct_fs = {
	VTB_KVM_FS_ROW,
	.cannot = vtb_kvm_fs_cannot,
	.attach = direct_attach_fs,
};

/* No monitor: no wait_exit (QEMU is vm->child), no disk_stats. */
const struct vtb_driver_ops vtb_kvm_direct = {
	.name = "direct",
	.devices =
		{
			[VTB_DEV_SERIAL] = &direct_serial,
			[VTB_DEV_VIRTIO_SERIAL] = &direct_port,
			[VTB_DEV_DISK] = &direct_disk,
			[VTB_DEV_FS] = &direct_fs,
		},
	.prepare = direct_prepare,
	.spawn = direct_spawn,
	.explain = direct_explain,
	.cleanup = direct_cleanup,
};
