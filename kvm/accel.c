/* Is KVM usable?  Tested by booting the real guest kernel, then cached. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/registry.h"
#include "core/vm.h"
#include "kvm/kvm.h"

#define KVM_TEST_S 2.0

static char *verdict_path(const struct vtb_env *env,
			  const struct vtb_kvm_env *kv)
{
	g_autofree char *boot_id = NULL;
	g_autofree char *dir =
		g_build_filename(env->cache_dir, "kvm-test", NULL);
	g_autofree char *key = NULL;
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	struct stat st = {0};

	g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot_id, NULL,
			    NULL);
	stat(kv->boot_image, &st);
	/* A reboot, a QEMU upgrade or another guest kernel re-tests. */
	g_checksum_update(ck, (const guchar *)(boot_id ? boot_id : "?"), -1);
	g_checksum_update(ck, (const guchar *)kv->qemu_version, -1);
	g_checksum_update(ck, (const guchar *)kv->boot_image, -1);
	g_checksum_update(ck, (const guchar *)&st.st_size, sizeof(st.st_size));
	g_checksum_update(ck, (const guchar *)&st.st_mtime,
			  sizeof(st.st_mtime));
	if (kv->kernel.build_id)
		g_checksum_update(ck, (const guchar *)kv->kernel.build_id, -1);
	key = g_strndup(g_checksum_get_string(ck), 32);
	g_checksum_free(ck);
	g_mkdir_with_parents(dir, 0700);
	return g_build_filename(dir, key, NULL);
}

static void set_verdict(struct vtb_kvm_env *kv, bool usable, const char *why)
{
	kv->usable = usable;
	g_free(kv->verdict);
	kv->verdict = g_strdup(why);
}

gboolean vtb_kvm_test(const struct vtb_backend_ops *be, struct vtb_env *env,
		      const char *initrd, GError **err)
{
	struct vtb_kvm_env *kv = vtb_env_priv(env, be);
	g_autofree char *vpath = NULL, *cached = NULL;
	struct vtb_cell cell = {
		.env = env,
		.backend = be,
		.accel = "kvm",
		.driver = "direct",
	};
	static const char *const cpus[] = {"host", "qemu64"};
	g_autoptr(GString) tried = g_string_new(NULL);
	int fd;

	if (access("/dev/kvm", F_OK) != 0) {
		set_verdict(kv, false,
			    "no /dev/kvm (no KVM module or no hardware "
			    "virtualization)");
		return TRUE;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		g_autofree char *why = g_strdup_printf(
			"cannot open /dev/kvm: %s", g_strerror(errno));
		set_verdict(kv, false, why);
		return TRUE;
	}
	close(fd);

	vpath = verdict_path(env, kv);
	if (g_file_get_contents(vpath, &cached, NULL, NULL) && cached[0] &&
	    cached[1] == '\n') {
		char *cpu = cached + 2, *nl = strchr(cpu, '\n');
		g_autofree char *why = NULL;

		if (!nl)
			goto retest;
		*nl = 0;
		why = g_strdup_printf("%s (cached for this boot)", nl + 1);
		set_verdict(kv, cached[0] == '1', why);
		if (kv->usable)
			kv->cpu = g_strdup(cpu);
		return TRUE;
	}

retest:
	cell.appliance.initrd = (char *)initrd;
	/*
	 * -cpu host first, as users run it; when QEMU refuses it (here it
	 * aborts on MSR 0x10a) a plain model may still work, so try that
	 * within the same budget.
	 */
	for (size_t i = 0; i < G_N_ELEMENTS(cpus); i++) {
		g_autoptr(GError) e = NULL;
		struct vtb_vm *vm;
		gint64 t0 = g_get_monotonic_time();
		double took;

		g_free(kv->cpu);
		kv->cpu = g_strdup(cpus[i]);
		vm = vtb_vm_boot(&cell, KVM_TEST_S, &e);
		took = (g_get_monotonic_time() - t0) / 1e6;
		if (vm) {
			g_autofree char *why = g_strdup_printf(
				"a Linux guest reached its agent under KVM "
				"(-cpu %s) in %.2f s",
				cpus[i], took);

			set_verdict(kv, true, why);
			vtb_vm_poweroff(vm, 2, NULL);
			vtb_vm_free(vm);
			break;
		}
		if (e->code == VTB_ERR_INTERRUPTED) {
			g_propagate_error(err, g_steal_pointer(&e));
			return FALSE;
		}
		g_string_append_printf(tried, "%s-cpu %s: %s after %.2f s",
				       tried->len ? "; " : "", cpus[i],
				       e->message, took);
		g_clear_pointer(&kv->cpu, g_free);
	}
	if (!kv->cpu) {
		g_autofree char *why = g_strdup_printf(
			"/dev/kvm opens, but a Linux guest does not reach its "
			"agent under KVM within %.0f s (%s)",
			KVM_TEST_S, tried->str);

		set_verdict(kv, false, why);
	}
	{
		g_autofree char *rec =
			g_strdup_printf("%c\n%s\n%s", kv->usable ? '1' : '0',
					kv->cpu ? kv->cpu : "-", kv->verdict);

		g_file_set_contents(vpath, rec, -1, NULL);
	}
	return TRUE;
}

gboolean vtb_kvm_verify(const struct vtb_backend_ops *be, struct vtb_env *env,
			const char *initrd, GError **err)
{
	struct vtb_kvm_env *kv = vtb_env_priv(env, be);
	const char *want = kv->o->accel;

	if (strcmp(want, "tcg") == 0) {
		kv->accel = g_strdup("tcg");
		kv->verdict = g_strdup("not tested: --accel tcg");
		return TRUE;
	}
	if (!vtb_kvm_test(be, env, initrd, err))
		return FALSE;
	if (kv->usable) {
		kv->accel = g_strdup("kvm");
		return TRUE;
	}
	if (strcmp(want, "kvm") == 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "--accel kvm: KVM is not usable here: %s",
			    kv->verdict);
		return FALSE;
	}
	kv->accel = g_strdup("tcg");
	return TRUE;
}
