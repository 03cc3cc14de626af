/* KVM/QEMU backend, driver `direct`: vtbench spawns qemu-system-x86_64. */
#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/json.h"
#include "core/kernels.h"
#include "core/proc.h"
#include "core/registry.h"
#include "core/vm.h"

/* This backend's state in @env. */
static struct vtb_kvm_env *K(const struct vtb_env *env)
{
	return vtb_env_priv(env, &vtb_backend_kvm);
}

static gboolean not_qemu(GError **err, const char *qemu, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static gboolean not_qemu(GError **err, const char *qemu, const char *fmt, ...)
{
	g_autofree char *why = NULL;
	va_list ap;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE, "--qemu %s: %s", qemu, why);
	return FALSE;
}

char *vtb_qemu_version(const char *qemu, int timeout_ms, GError **err)
{
	const char *argv[] = {qemu, "--version", NULL};
	struct vtb_child c = {0};
	g_autoptr(GError) e = NULL;
	g_autofree char *status = NULL;
	char out[512] = "", *nl;
	ssize_t n;
	int p[2];

	/* The child writes into the pipe, read after it exited: a tiny
	 * answer fits its buffer; a program that writes on and on blocks,
	 * and meets the deadline. */
	if (pipe2(p, O_CLOEXEC) != 0) {
		not_qemu(err, qemu, "pipe: %s", g_strerror(errno));
		return NULL;
	}
	/* Only ours: the child's end blocks, as stdout does. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	if (!vtb_child_spawn(&c, argv, p[1], NULL, 0, NULL, &e)) {
		close(p[0]);
		close(p[1]);
		not_qemu(err, qemu, "%s", e->message);
		return NULL;
	}
	close(p[1]);
	if (!vtb_child_wait(&c, timeout_ms)) {
		vtb_child_kill(&c);
		close(p[0]);
		not_qemu(err, qemu,
			 "no answer to --version in %d ms: not a QEMU",
			 timeout_ms);
		return NULL;
	}
	n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = 0;
	nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
	g_strstrip(out);
	status = vtb_child_describe_status(&c);
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status)) {
		not_qemu(err, qemu, "--version %s: not a working QEMU", status);
		return NULL;
	}
	if (!g_str_has_prefix(out, "QEMU emulator version ")) {
		not_qemu(err, qemu,
			 "not a QEMU: --version says '%.60s', not \"QEMU "
			 "emulator version ...\"",
			 out);
		return NULL;
	}
	return g_strdup(out);
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

#define OFF(f) offsetof(struct vtb_kvm_opts, f)
static const char *const accels[] = {"auto", "kvm", "tcg", NULL};

/*
 * vCPUs the host has: more boots (TCG shares the host's cores) but
 * measures the host's scheduler, and under --accel auto it fails the KVM
 * test for a reason that is not KVM's.
 */
static gboolean check_cpus(const char *opt, const char *v, GError **err)
{
	guint host = g_get_num_processors();

	if (g_ascii_strtoll(v, NULL, 10) <= host)
		return TRUE;
	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
		    "--%s: at most %u (this host's CPUs), got %s", opt, host,
		    v);
	return FALSE;
}

/* clang-format off */
static const struct vtb_option kvm_options[] = {
	{ "accel", VTB_OPT_STR, OFF(accel), "auto", "auto|kvm|tcg",
	  "accelerator; auto tests KVM by booting the guest kernel",
	  NULL, 0, -1, accels },
	{ "connect", VTB_OPT_STR, OFF(connect), "qemu:///system", "URI",
	  "libvirt URI (driver libvirt)", NULL, 0, -1 },
	{ "kvm-kernel", VTB_OPT_STR, OFF(kernel), NULL, "PATH",
	  "guest kernel bzImage or vmlinux, or a build directory (its "
	  "vmlinux, else arch/x86/boot/bzImage) (default: newest found)",
	  NULL, 0, -1 },
	{ "kvm-modules", VTB_OPT_STR, OFF(modules), NULL, "DIR",
	  "guest kernel modules (default: the kernel's own)", NULL, 0, -1 },
	{ "qemu", VTB_OPT_STR, OFF(qemu), "qemu-system-x86_64", "PATH",
	  "QEMU binary", NULL, 0, -1 },
	{ "cpus", VTB_OPT_INT, OFF(cpus), "1", "N",
	  "guest vCPUs, at most the host's (UML is uniprocessor)",
	  check_cpus, 1, -1 },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1 },
};
/* clang-format on */

static gboolean kvm_prepare(struct vtb_env *env, GError **err)
{
	struct vtb_kvm_env *kv = K(env);
	const struct vtb_kvm_opts *o =
		vtb_backend_opts(env->opts, &vtb_backend_kvm);
	g_autofree char *found = NULL, *found_mods = NULL;
	g_autofree char *dir = NULL, *in_dir = NULL;
	g_autoptr(GError) e = NULL;
	const char *path = o->kernel;
	/* A build directory: the vmlinux (booted through its PVH entry, as
	 * pick_boot_image() would from the bzImage), else the bzImage. */
	const char *const names[] = {"vmlinux", "arch/x86/boot/bzImage", NULL};

	kv->o = o;

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
	kv->qemu_version = vtb_qemu_version(kv->qemu, VTB_QEMU_VERSION_MS, err);
	if (!kv->qemu_version)
		return FALSE;
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
	if (o->kernel) {
		in_dir = vtb_kernel_in_dir("--kvm-kernel", o->kernel, names,
					   &dir, err);
		if (!in_dir)
			return FALSE;
		path = in_dir;
	}
	if (!vtb_kernel_identify(path, &kv->kernel, &e)) {
		g_set_error(err, VTB_ERROR,
			    o->kernel ? VTB_ERR_USAGE : VTB_ERR_UNAVAILABLE,
			    "--kvm-kernel: %s", e->message);
		return FALSE;
	}
	if (dir && kv->kernel.kind == VTB_KERNEL_VMLINUX &&
	    !kv->kernel.has_pvh) {
		/* A vmlinux QEMU cannot boot (no CONFIG_PVH): the bzImage. */
		g_autofree char *bz = g_build_filename(dir, names[1], NULL);

		if (g_file_test(bz, G_FILE_TEST_IS_REGULAR)) {
			vtb_kernel_info_clear(&kv->kernel);
			g_free(in_dir);
			path = in_dir = g_steal_pointer(&bz);
			if (!vtb_kernel_identify(path, &kv->kernel, &e)) {
				g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
					    "--kvm-kernel: %s", e->message);
				return FALSE;
			}
		}
	}
	if (dir)
		vtb_kernel_source(dir, &kv->kernel);
	if (kv->kernel.kind == VTB_KERNEL_UML) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "--kvm-kernel %s: a UML kernel, not a guest kernel "
			    "for QEMU (give it as --uml-kernel)",
			    path);
		return FALSE;
	}
	if (o->modules) {
		if (!g_file_test(o->modules, G_FILE_TEST_IS_DIR)) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "--kvm-modules %s: not a directory",
				    o->modules);
			return FALSE;
		}
		kv->modules = g_strdup(o->modules);
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
	if (env->opts->drivers &&
	    g_strv_contains((const char *const *)env->opts->drivers,
			    "libvirt") &&
	    !vtb_libvirt_check(o->connect, err))
		return FALSE;
	return pick_boot_image(env, err);
}

static const char *kvm_modules_dir(const struct vtb_env *env)
{
	return K(env)->modules;
}

static const char *kvm_release(const struct vtb_env *env)
{
	return K(env)->kernel.release;
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
	g_free(kv->test_cache);
	g_free(kv->qemu_reason);
	g_free(kv->qemu_said);
	g_free(kv->accel);
	g_free(kv->cpu);
}

static const char *const kvm_base_modules[] = {"virtio_pci", "virtio_console",
					       NULL};

static double kvm_boot_timeout(const struct vtb_cell *c)
{
	return strcmp(c->accel, "kvm") == 0 ? 20 : 60;
}

static const char *kvm_accel(const struct vtb_env *env)
{
	return K(env)->accel;
}

static char *kvm_summary(const struct vtb_env *env)
{
	struct vtb_kvm_env *kv = K(env);
	const struct vtb_driver_ops *const *d = vtb_backend_kvm.drivers;
	GString *s = g_string_new(NULL);

	g_string_printf(s, "accel %s (%s), drivers ", kv->accel, kv->verdict);
	for (int i = 0; d[i]; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", d[i]->name);
	return g_string_free(s, FALSE);
}

static void kvm_probe(const struct vtb_env *env, GString *out)
{
	struct vtb_kvm_env *kv = K(env);
	g_autofree char *libvirt = vtb_libvirt_version();

	g_string_append_printf(out, "KVM usable:  %s: %s\n",
			       kv->usable ? "yes" : "no", kv->verdict);
	if (kv->tries)
		g_string_append_printf(
			out,
			"KVM test:    %d %s (at most %d)%s; "
			"verdict %s %s\n",
			kv->tries, kv->tries == 1 ? "try" : "tries",
			VTB_KVM_TEST_TRIES, kv->cached ? ", earlier" : "",
			kv->cached ? "cached in" : "saved to", kv->test_cache);
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

	if (kv->usable || strcmp(kv->o->accel, "auto") != 0)
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
		.cpus = kv->o->cpus,
		.accel_requested = kv->o->accel,
		.connect = strcmp(c->driver, "libvirt") == 0 ? kv->o->connect
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
	/* The test: how many boots the verdict took, QEMU's own reason for
	 * the last that failed, whether it was cached, and where. */
	json_builder_set_member_name(b, "tries");
	if (kv->tries)
		json_builder_add_int_value(b, kv->tries);
	else
		json_builder_add_null_value(b);
	vtb_json_str(b, "qemu_reason", kv->qemu_reason);
	vtb_json_bool(b, "cached", kv->cached);
	vtb_json_str(b, "cache_file", kv->test_cache);
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

static const struct vtb_driver_ops *const kvm_drivers[] = {
	&vtb_kvm_direct, &vtb_kvm_libvirt, NULL};

const struct vtb_backend_ops vtb_backend_kvm = {
	.name = "kvm",
	.help = "QEMU with KVM, or TCG where KVM is missing or unusable",
	.priv_size = sizeof(struct vtb_kvm_env),
	.priv_clear = kvm_priv_clear,
	.options = kvm_options,
	.options_size = sizeof(struct vtb_kvm_opts),
	.prepare = kvm_prepare,
	.verify = vtb_kvm_verify,
	.base_modules = kvm_base_modules,
	.kernel_arch = "x86_64",
	.modules_dir = kvm_modules_dir,
	.release = kvm_release,
	/* The engine's entry point; only libvirt has QMP to ask. */
	.disk_stats = vtb_vm_disk_stats,
	.default_disk = "virtio-blk",
	.boot_timeout = kvm_boot_timeout,
	.drivers = kvm_drivers,
	.accel = kvm_accel,
	.summary = kvm_summary,
	.probe = kvm_probe,
	.notice = kvm_notice,
	.cell_env = kvm_cell_env,
	.record = kvm_record,
	.versions = kvm_versions,
};
