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

static char *verdict_path(struct vtb_env *env)
{
	g_autofree char *boot_id = NULL;
	g_autofree char *dir = g_build_filename(env->cache_dir, "kvm-test",
						NULL);
	g_autofree char *key = NULL;
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	struct stat st = { 0 };

	g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot_id, NULL,
			    NULL);
	stat(env->kvm_boot_image, &st);
	/* A reboot, a QEMU upgrade or another guest kernel re-tests. */
	g_checksum_update(ck, (const guchar *)(boot_id ? boot_id : "?"), -1);
	g_checksum_update(ck, (const guchar *)env->qemu_version, -1);
	g_checksum_update(ck, (const guchar *)env->kvm_boot_image, -1);
	g_checksum_update(ck, (const guchar *)&st.st_size, sizeof(st.st_size));
	g_checksum_update(ck, (const guchar *)&st.st_mtime,
			  sizeof(st.st_mtime));
	if (env->kvm_kernel.build_id)
		g_checksum_update(ck, (const guchar *)env->kvm_kernel.build_id,
				  -1);
	key = g_strndup(g_checksum_get_string(ck), 32);
	g_checksum_free(ck);
	g_mkdir_with_parents(dir, 0700);
	return g_build_filename(dir, key, NULL);
}

static void set_verdict(struct vtb_env *env, bool usable, const char *why)
{
	env->kvm_usable = usable;
	g_free(env->kvm_verdict);
	env->kvm_verdict = g_strdup(why);
}

gboolean vtb_kvm_test(struct vtb_env *env, const char *initrd, GError **err)
{
	g_autofree char *vpath = NULL, *cached = NULL;
	struct vtb_cell cell = {
		.env = env,
		.backend = &vtb_backend_kvm,
		.accel = "kvm",
		.driver = "direct",
	};
	g_autoptr(GError) e = NULL;
	struct vtb_vm *vm;
	gint64 t0;
	int fd;

	if (access("/dev/kvm", F_OK) != 0) {
		set_verdict(env, false,
			    "no /dev/kvm (no KVM module or no hardware "
			    "virtualization)");
		return TRUE;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		g_autofree char *why = g_strdup_printf("cannot open /dev/kvm: %s",
						       g_strerror(errno));
		set_verdict(env, false, why);
		return TRUE;
	}
	close(fd);

	vpath = verdict_path(env);
	if (g_file_get_contents(vpath, &cached, NULL, NULL) && cached[0] &&
	    cached[1] == '\n') {
		g_autofree char *why =
			g_strdup_printf("%s (cached for this boot)", cached + 2);
		set_verdict(env, cached[0] == '1', why);
		return TRUE;
	}

	cell.appliance.initrd = (char *)initrd;
	t0 = g_get_monotonic_time();
	vm = vtb_vm_boot(&cell, KVM_TEST_S, &e);
	if (vm) {
		double s = (vm->t_hello_us - vm->t_spawn_us) / 1e6;
		g_autofree char *why = g_strdup_printf(
			"a Linux guest reached its agent under KVM in %.2f s",
			s);

		set_verdict(env, true, why);
		vtb_vm_poweroff(vm, 2, NULL);
		vtb_vm_free(vm);
	} else if (e && e->code == VTB_ERR_INTERRUPTED) {
		g_propagate_error(err, g_steal_pointer(&e));
		return FALSE;
	} else {
		g_autofree char *why = g_strdup_printf(
			"/dev/kvm opens, but a Linux guest did not reach its "
			"agent within %.0f s under KVM (%.2f s: %s)",
			KVM_TEST_S, (g_get_monotonic_time() - t0) / 1e6,
			e ? e->message : "?");

		set_verdict(env, false, why);
	}
	{
		g_autofree char *rec = g_strdup_printf(
			"%c\n%s", env->kvm_usable ? '1' : '0', env->kvm_verdict);

		g_file_set_contents(vpath, rec, -1, NULL);
	}
	return TRUE;
}
