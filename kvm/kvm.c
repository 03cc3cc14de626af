/* KVM/QEMU backend, driver `direct`: vtbench spawns qemu-system-x86_64. */
#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/channel.h"
#include "core/json.h"
#include "core/kernels.h"
#include "core/registry.h"
#include "core/vm.h"

/* This backend's state in @env. */
static struct vtb_kvm_env *K(const struct vtb_env *env)
{
	return vtb_env_priv(env, &vtb_backend_kvm);
}

char *vtb_qemu_version(const char *qemu)
{
	const char *argv[] = {qemu, "--version", NULL};
	g_autofree char *out = NULL;
	g_autoptr(GError) e = NULL;
	int status = 0;
	char *nl;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
			  NULL, NULL, &out, NULL, &status, &e) ||
	    !g_spawn_check_wait_status(status, NULL) || !out)
		return NULL;
	nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
	return g_strdup(g_strstrip(out));
}

/* Find or extract the PVH vmlinux for a bzImage, cached by content. */
static gboolean pick_boot_image(struct vtb_env *env, GError **err)
{
	struct vtb_kvm_env *kv = K(env);
	struct vtb_kernel_info *k = &kv->kernel;
	g_autofree char *data = NULL;
	g_autofree char *dir = NULL, *dest = NULL, *pvhmark = NULL;
	gsize len;
	gboolean pvh = FALSE;
	gint64 t0 = g_get_monotonic_time();

	if (k->kind == VTB_KERNEL_VMLINUX) {
		if (!k->has_pvh) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "--kvm-kernel %s: a vmlinux without the "
				    "PVH entry note cannot be booted by QEMU; "
				    "give the bzImage",
				    k->path);
			return FALSE;
		}
		kv->boot_image = g_strdup(k->path);
		kv->pvh = true;
		return TRUE;
	}
	if (!g_file_get_contents(k->path, &data, &len, err))
		return FALSE;
	dir = g_build_filename(env->cache_dir, "vmlinux", NULL);
	g_mkdir_with_parents(dir, 0700);
	{
		g_autofree char *key = g_compute_checksum_for_data(
			G_CHECKSUM_SHA256, (const guchar *)data, len);

		dest = g_strdup_printf("%s/%.32s.elf", dir, key);
		pvhmark = g_strdup_printf("%s/%.32s.nopvh", dir, key);
	}
	if (g_file_test(dest, G_FILE_TEST_EXISTS)) {
		pvh = TRUE;
	} else if (!g_file_test(pvhmark, G_FILE_TEST_EXISTS)) {
		g_autoptr(GError) e = NULL;

		if (!vtb_bzimage_extract(k->path, dest, &pvh, &e)) {
			/* Booting the bzImage still works, only slower. */
			g_printerr("vtbench: %s: no vmlinux extracted (%s); "
				   "booting the bzImage\n",
				   k->path, e->message);
			pvh = FALSE;
		}
		if (!pvh) {
			unlink(dest);
			g_file_set_contents(pvhmark, "", 0, NULL);
		}
	}
	kv->pvh = pvh;
	kv->boot_image = g_strdup(pvh ? dest : k->path);
	if (pvh) {
		/* The bzImage has no build id; the vmlinux inside does. */
		struct vtb_kernel_info vi = {0};

		if (vtb_kernel_identify(dest, &vi, NULL)) {
			if (!k->build_id)
				k->build_id = g_steal_pointer(&vi.build_id);
			if (!k->banner)
				k->banner = g_steal_pointer(&vi.banner);
		}
		vtb_kernel_info_clear(&vi);
	}
	kv->prepare_s = (g_get_monotonic_time() - t0) / 1e6;
	return TRUE;
}

static gboolean kvm_prepare(struct vtb_env *env, GError **err)
{
	struct vtb_kvm_env *kv = K(env);
	struct vtb_opts *o = env->opts;
	g_autofree char *found = NULL, *found_mods = NULL;
	g_autoptr(GError) e = NULL;
	const char *path = o->kvm_kernel;

	kv->qemu = vtb_find_program(o->qemu);
	if (!kv->qemu) {
		g_set_error(err, VTB_ERROR,
			    strcmp(o->qemu, "qemu-system-x86_64") == 0
				    ? VTB_ERR_UNAVAILABLE
				    : VTB_ERR_USAGE,
			    "--qemu %s: no such program (install "
			    "qemu-system-x86)",
			    o->qemu);
		return FALSE;
	}
	kv->qemu_version = vtb_qemu_version(kv->qemu);
	if (!kv->qemu_version) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "--qemu %s: `--version` failed: not a working QEMU",
			    kv->qemu);
		return FALSE;
	}
	if (!path) {
		found = vtb_default_kvm_kernel(env->cache_dir, &found_mods);
		if (!found) {
			g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
				    "no guest kernel found in /boot or %s/"
				    "kernels (run ./bootstrap, or give "
				    "--kvm-kernel)",
				    env->cache_dir);
			return FALSE;
		}
		path = found;
	}
	if (!vtb_kernel_identify(path, &kv->kernel, &e)) {
		g_set_error(err, VTB_ERROR,
			    o->kvm_kernel ? VTB_ERR_USAGE : VTB_ERR_UNAVAILABLE,
			    "--kvm-kernel: %s", e->message);
		return FALSE;
	}
	if (kv->kernel.kind == VTB_KERNEL_UML) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "--kvm-kernel %s: a UML kernel, not a guest kernel "
			    "for QEMU (give it as --uml-kernel)",
			    path);
		return FALSE;
	}
	if (o->kvm_modules) {
		if (!g_file_test(o->kvm_modules, G_FILE_TEST_IS_DIR)) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "--kvm-modules %s: not a directory",
				    o->kvm_modules);
			return FALSE;
		}
		kv->modules = g_strdup(o->kvm_modules);
	} else if (found_mods) {
		kv->modules = g_steal_pointer(&found_mods);
	} else {
		kv->modules = vtb_kvm_modules_for(kv->kernel.path,
						  kv->kernel.release);
		if (!kv->modules) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "--kvm-kernel %s: no modules for %s found "
				    "(give --kvm-modules)",
				    path, kv->kernel.release);
			return FALSE;
		}
	}
	/* A bad --connect is bad input, before any run. */
	if (o->drivers &&
	    g_strv_contains((const char *const *)o->drivers, "libvirt") &&
	    !vtb_libvirt_check(o->connect, err))
		return FALSE;
	return pick_boot_image(env, err);
}

static const char *kvm_modules_dir(const struct vtb_env *env)
{
	struct vtb_kvm_env *kv = K(env);
	return kv->modules;
}

static const char *kvm_release(const struct vtb_env *env)
{
	struct vtb_kvm_env *kv = K(env);
	return kv->kernel.release;
}

/* QEMU's first line of complaint on stderr, or NULL. */
static char *qemu_complaint(const char *qlog)
{
	g_autofree char *data = NULL;
	char *nl;

	if (!g_file_get_contents(qlog, &data, NULL, NULL) || !*data)
		return NULL;
	nl = strchr(data, '\n');
	if (nl)
		*nl = 0;
	return g_strdup(g_strstrip(data));
}

gboolean vtb_kvm_boot_accel(struct vtb_vm *vm, const char *accel,
			    const char *cpu, GError **err)
{
	struct vtb_env *env = vm->cell->env;
	struct vtb_kvm_env *kv = K(env);
	g_autofree char *sock = g_build_filename(vm->dir, "ctl.sock", NULL);
	g_autofree char *append = NULL, *mount = NULL;
	g_autofree char *qlog = g_build_filename(vm->dir, "qemu.log", NULL);
	g_auto(GStrv) argv = NULL;
	struct vtb_qemu_cfg cfg;
	struct vtb_msg m;
	int lfd, log_fd;
	gboolean ok;

	/* QEMU connects to every socket at start-up: listen first. */
	for (guint i = 0; i < vm->devices->len; i++) {
		struct vtb_device *d = vm->devices->pdata[i];

		if (d->kind == VTB_DEV_DISK)
			continue;
		d->sock = g_strdup_printf("%s/data%u.sock", vm->dir, i);
		d->listen_fd = vtb_kvm_listen_unix(d->sock, err);
		if (d->listen_fd < 0)
			return FALSE;
	}
	cfg = (struct vtb_qemu_cfg){
		.qemu = kv->qemu,
		.accel = accel,
		.cpu = cpu,
		.kernel = kv->boot_image,
		.initrd = vm->cell->appliance.initrd,
		.mem_mb = env->opts->mem_mb,
		.console_log = vm->console_log,
		.ctl_sock = sock,
		.smp = env->opts->cpus,
		.devs = (struct vtb_device **)vm->devices->pdata,
		.ndevs = vm->devices->len,
	};
	/* Once to name the devices, then with the mount that uses a name. */
	cfg.append = "";
	argv = vtb_qemu_argv(&cfg, err);
	if (!argv)
		return FALSE;
	g_strfreev(argv);
	mount = vtb_vm_mount_args(vm);
	append = vtb_kvm_append(accel, mount);
	cfg.append = append;
	argv = vtb_qemu_argv(&cfg, err);
	if (!argv)
		return FALSE;
	lfd = vtb_kvm_listen_unix(sock, err);
	if (lfd < 0)
		return FALSE;
	log_fd = open(qlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
		/* QEMU's own complaint is the best reason there is. */
		g_autofree char *qerr = qemu_complaint(qlog);

		if (qerr)
			g_prefix_error(err, "%s: ", qerr);
		return FALSE;
	}
	for (guint i = 0; i < vm->devices->len; i++) {
		struct vtb_device *d = vm->devices->pdata[i];

		if (d->listen_fd < 0)
			continue;
		d->fd = vtb_kvm_accept(vm, d->listen_fd, err);
		close(d->listen_fd);
		d->listen_fd = -1;
		if (d->fd < 0)
			return FALSE;
	}
	if (!vtb_chan_expect(vm, VTB_MSG_HELLO, &m, vm->deadline_us, err)) {
		g_autofree char *qerr = qemu_complaint(qlog);

		if (qerr)
			g_prefix_error(err, "%s: ", qerr);
		return FALSE;
	}
	vm->t_hello_us = g_get_monotonic_time();
	vm->hello = m.u.hello;
	return TRUE;
}

static bool is_libvirt(const struct vtb_vm *vm)
{
	return vm->cell->driver && g_str_equal(vm->cell->driver, "libvirt");
}

static gboolean kvm_boot(struct vtb_vm *vm, GError **err)
{
	struct vtb_env *env = vm->cell->env;
	struct vtb_kvm_env *kv = K(env);

	if (is_libvirt(vm))
		return vtb_libvirt_boot(vm, err);

	return vtb_kvm_boot_accel(
		vm, vm->cell->accel,
		g_str_equal(vm->cell->accel, "kvm") ? kv->cpu : NULL, err);
}

static void kvm_cleanup(struct vtb_vm *vm)
{
	if (is_libvirt(vm))
		vtb_libvirt_cleanup(vm);
}

static gboolean kvm_wait_exit(struct vtb_vm *vm, int timeout_ms,
			      gboolean *handled)
{
	*handled = is_libvirt(vm);
	return *handled && vtb_libvirt_wait_exit(vm, timeout_ms);
}

static char *kvm_describe_exit(struct vtb_vm *vm, int timeout_ms)
{
	return is_libvirt(vm) ? vtb_libvirt_describe_exit(vm, timeout_ms)
			      : NULL;
}

/* Only libvirt gives us QMP (the direct driver has no monitor). */
static gboolean kvm_disk_stats(struct vtb_vm *vm, const struct vtb_device *d,
			       struct vtb_disk_stats *out, GError **err)
{
	return is_libvirt(vm) && vtb_libvirt_disk_stats(vm, d, out, err);
}

static void kvm_priv_clear(void *priv)
{
	struct vtb_kvm_env *kv = priv;

	vtb_kernel_info_clear(&kv->kernel);
	g_free(kv->boot_image);
	g_free(kv->modules);
	g_free(kv->qemu);
	g_free(kv->qemu_version);
	g_free(kv->verdict);
	g_free(kv->accel);
	g_free(kv->cpu);
}

static const char *const kvm_base_modules[] = {"virtio_pci", "virtio_console",
					       NULL};

/*
 * About 10 s per run at the rates measured here (QEMU's 8250 under TCG
 * ~0.16 MB/s): the start from which the warm-up measures this host's rate.
 */
static guint64 kvm_serial_size(const struct vtb_cell *c)
{
	return strcmp(c->accel, "kvm") == 0 ? 8ULL << 20 : 1ULL << 20;
}

static const struct vtb_device_ops kvm_serial = {
	.help = "QEMU's second 8250 UART (ttyS1..) on a unix socket",
	.default_size = kvm_serial_size,
	/* ~10 s of a 512-byte echo on the 8250 under TCG */
	.roundtrip_msgs = 100,
};

static const struct vtb_device_ops kvm_virtio_serial = {
	.help = "a virtserialport on a unix socket",
};

static const char *const qemu_caches[] = {
	"none", "writeback", "unsafe", "directsync", "writethrough", NULL};

static char *kvm_disk_cannot(const struct vtb_device *d)
{
	if (strcmp(d->bus, "virtio-blk") != 0)
		return g_strdup_printf("%s is UML's own block driver", d->bus);
	if (d->cache && !vtb_str_in(qemu_caches, d->cache))
		return g_strdup_printf("QEMU has no cache mode %s (ubd's)",
				       d->cache);
	if (d->aio && strcmp(d->aio, "native") == 0 && d->cache &&
	    strcmp(d->cache, "none") != 0 &&
	    strcmp(d->cache, "directsync") != 0)
		return g_strdup("aio=native needs O_DIRECT: cache none or "
				"directsync");
	return NULL;
}

/* Debian's kernel has ext2/3/4 in the ext4 module, whose crc32c is a soft
 * dependency (not in depends=). */
static const char *const kvm_fs_modules[] = {"virtio_blk", "ext4",
					     "crc32c_generic", NULL};

static const struct vtb_device_ops kvm_disk = {
	.cannot = kvm_disk_cannot,
	.help = "virtio-blk: images raw-sparse, raw-prealloc, qcow2, "
		"qcow2-prealloc; cache none, writeback, unsafe, directsync, "
		"writethrough; aio threads, native, io_uring",
	.fs_modules = kvm_fs_modules,
};

static double kvm_boot_timeout(const struct vtb_cell *c)
{
	return strcmp(c->accel, "kvm") == 0 ? 20 : 60;
}

static const char *kvm_accel(const struct vtb_env *env)
{
	struct vtb_kvm_env *kv = K(env);
	return kv->accel;
}

static char *kvm_summary(const struct vtb_env *env)
{
	struct vtb_kvm_env *kv = K(env);
	return g_strdup_printf("accel %s (%s), drivers direct, libvirt",
			       kv->accel, kv->verdict);
}

static void kvm_probe(const struct vtb_env *env, GString *out)
{
	struct vtb_kvm_env *kv = K(env);
	g_autofree char *libvirt = vtb_libvirt_version();

	g_string_append_printf(out, "KVM usable:  %s: %s\n",
			       kv->usable ? "yes" : "no", kv->verdict);
	g_string_append_printf(out, "kvm accel:   %s\n", kv->accel);
	g_string_append_printf(out, "qemu:        %s (%s)\n", kv->qemu,
			       kv->qemu_version);
	g_string_append_printf(out, "guest:       %s %s%s%s\n", kv->kernel.path,
			       kv->kernel.release,
			       kv->pvh ? ", PVH vmlinux " : ", bzImage",
			       kv->pvh ? kv->boot_image : "");
	g_string_append_printf(out, "libvirt:     %s\n",
			       libvirt ? libvirt : "unknown");
}

static char *kvm_notice(const struct vtb_env *env)
{
	struct vtb_kvm_env *kv = K(env);
	if (kv->usable || strcmp(env->opts->accel, "auto") != 0)
		return NULL;
	return g_strdup_printf("using TCG: %s", kv->verdict);
}

static void kvm_cell_env(const struct vtb_cell *c, struct vtb_cell_env *out)
{
	const struct vtb_env *env = c->env;
	struct vtb_kvm_env *kv = K(env);

	*out = (struct vtb_cell_env){
		.kernel = &kv->kernel,
		.boot_image = kv->boot_image,
		.boot_kind = kv->pvh ? "pvh-vmlinux" : "bzImage",
		.modules = kv->modules,
		.vmm = kv->qemu,
		.vmm_version = kv->qemu_version,
		/* TCG: QEMU's default model */
		.cpu = strcmp(c->accel, "kvm") == 0 ? kv->cpu : NULL,
		.cpus = env->opts->cpus,
		.accel_requested = env->opts->accel,
		.connect = strcmp(c->driver, "libvirt") == 0
				   ? env->opts->connect
				   : NULL,
	};
}

static void kvm_record(const struct vtb_env *env, const struct vtb_cell *cell,
		       void *builder)
{
	struct vtb_kvm_env *kv = K(env);
	JsonBuilder *b = builder;

	if (cell) {
		/* How the libvirt host got the files and channels (README). */
		if (strcmp(cell->driver, "libvirt") == 0)
			vtb_json_str(b, "libvirt_files", kv->libvirt_files);
		return;
	}
	json_builder_set_member_name(b, "usable");
	if (kv->verdict && !g_str_has_prefix(kv->verdict, "not "))
		json_builder_add_boolean_value(b, kv->usable);
	else
		json_builder_add_null_value(b);
	vtb_json_str(b, "reason", kv->verdict);
	vtb_json_str(b, "accel", kv->accel);
	vtb_json_str(b, "cpu", kv->cpu);
}

static void kvm_versions(const struct vtb_env *env, void *builder)
{
	struct vtb_kvm_env *kv = K(env);
	JsonBuilder *b = builder;
	g_autofree char *libvirt = vtb_libvirt_version();

	vtb_json_str(b, "qemu", kv->qemu_version);
	vtb_json_str(b, "qemu_path", kv->qemu);
	vtb_json_str(b, "libvirt", libvirt);
	vtb_json_kernel(b, "guest_kernel", &kv->kernel);
	vtb_json_str(b, "guest_modules", kv->modules);
	vtb_json_str(b, "guest_boot_image", kv->boot_image);
	vtb_json_bool(b, "guest_pvh", kv->pvh);
	/* vmlinux extraction, or its cache lookup */
	vtb_json_num(b, "guest_prepare_s", kv->prepare_s);
}

const struct vtb_backend_ops vtb_backend_kvm = {
	.name = "kvm",
	.help = "QEMU with KVM, or TCG where KVM is missing or unusable",
	.priv_size = sizeof(struct vtb_kvm_env),
	.priv_clear = kvm_priv_clear,
	.prepare = kvm_prepare,
	.verify = vtb_kvm_verify,
	.base_modules = kvm_base_modules,
	.modules_dir = kvm_modules_dir,
	.release = kvm_release,
	.boot = kvm_boot,
	.cleanup = kvm_cleanup,
	.wait_exit = kvm_wait_exit,
	.describe_exit = kvm_describe_exit,
	.disk_stats = kvm_disk_stats,
	.devices =
		{
			[VTB_DEV_SERIAL] = &kvm_serial,
			[VTB_DEV_VIRTIO_SERIAL] = &kvm_virtio_serial,
			[VTB_DEV_DISK] = &kvm_disk,
		},
	.default_disk = "virtio-blk",
	.boot_timeout = kvm_boot_timeout,
	.drivers = vtb_drivers,
	.accel = kvm_accel,
	.summary = kvm_summary,
	.probe = kvm_probe,
	.notice = kvm_notice,
	.cell_env = kvm_cell_env,
	.record = kvm_record,
	.versions = kvm_versions,
};
