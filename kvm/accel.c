/* Is KVM usable?  Tested by booting the real guest kernel, then cached. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/registry.h"
#include "core/vm.h"
#include "kvm/kvm.h"

/*
 * A working KVM reaches HELLO in well under a second, so 2 s is plenty on
 * a quiet host; on a busy one (other test runs on the same 2 cores) a
 * boot can miss it, so a "no" gets two longer chances before it is cached.
 */
static const double deadline_s[VTB_KVM_TEST_TRIES] = {2, 4, 4};

const char *vtb_kvm_dev(void)
{
	const char *d = g_getenv("VTBENCH_TEST_KVM_DEV");

	return d && *d ? d : "/dev/kvm";
}

/* Length-prefixed, so no two members can run into each other. */
static void key_str(GString *s, const char *v)
{
	if (v)
		g_string_append_printf(s, "%zu:%s;", strlen(v), v);
	else
		g_string_append(s, "-;");
}

static void key_num(GString *s, gint64 v)
{
	g_string_append_printf(s, "%" G_GINT64_FORMAT ";", v);
}

char *vtb_kvm_probe_key(const struct vtb_kvm_probe_id *id)
{
	g_autoptr(GString) s = g_string_new("kvm-test 2;");
	g_autofree char *sum = NULL;

	key_str(s, id->boot_id);
	key_num(s, (gint64)id->dev);
	key_num(s, (gint64)id->ino);
	key_num(s, (gint64)id->rdev);
	key_str(s, id->qemu);
	key_str(s, id->qemu_version);
	key_num(s, id->qemu_size);
	key_num(s, id->qemu_mtime_ns);
	key_str(s, id->kernel);
	key_str(s, id->kernel_build_id);
	key_num(s, id->kernel_size);
	key_num(s, id->kernel_mtime_ns);
	key_str(s, id->initrd);
	key_num(s, id->initrd_size);
	key_num(s, id->initrd_mtime_ns);
	key_num(s, id->cpus);
	key_num(s, id->mem_mb);
	sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, s->str, s->len);
	return g_strndup(sum, 32);
}

static void file_id(const char *path, gint64 *size, gint64 *mtime_ns)
{
	struct stat st;

	if (!path || stat(path, &st) != 0) {
		*size = *mtime_ns = -1;
		return;
	}
	*size = st.st_size;
	*mtime_ns = (gint64)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/*
 * Where the verdict for this test is cached: a reboot, another device,
 * QEMU, guest kernel or appliance, or other --cpus or --mem test again.
 */
static char *verdict_path(const struct vtb_env *env,
			  const struct vtb_kvm_env *kv, const struct stat *dev,
			  const char *initrd)
{
	g_autofree char *boot_id = NULL, *key = NULL;
	g_autofree char *dir =
		g_build_filename(env->cache_dir, "kvm-test", NULL);
	struct vtb_kvm_probe_id id = {
		.dev = dev->st_dev,
		.ino = dev->st_ino,
		.rdev = dev->st_rdev,
		.qemu = kv->qemu,
		.qemu_version = kv->qemu_version,
		.kernel = kv->boot_image,
		.kernel_build_id = kv->kernel.build_id,
		.initrd = initrd,
		.cpus = kv->o->cpus,
		.mem_mb = env->opts->mem_mb,
	};

	if (g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot_id,
				NULL, NULL))
		id.boot_id = g_strstrip(boot_id);
	file_id(kv->qemu, &id.qemu_size, &id.qemu_mtime_ns);
	file_id(kv->boot_image, &id.kernel_size, &id.kernel_mtime_ns);
	file_id(initrd, &id.initrd_size, &id.initrd_mtime_ns);
	key = vtb_kvm_probe_key(&id);
	g_mkdir_with_parents(dir, 0700);
	return g_build_filename(dir, key, NULL);
}

static void set_verdict(struct vtb_kvm_env *kv, bool usable, const char *why)
{
	kv->usable = usable;
	g_free(kv->verdict);
	kv->verdict = g_strdup(why);
}

#define GROUP "kvm-test"

static bool cache_read(struct vtb_kvm_env *kv, const char *path)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *why = NULL, *cpu = NULL, *said = NULL, *note = NULL;
	g_autoptr(GError) e = NULL;
	gboolean usable;
	int tries;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
		return false;
	usable = g_key_file_get_boolean(kf, GROUP, "usable", &e);
	tries = g_key_file_get_integer(kf, GROUP, "tries", e ? NULL : &e);
	why = g_key_file_get_string(kf, GROUP, "reason", e ? NULL : &e);
	cpu = g_key_file_get_string(kf, GROUP, "cpu", NULL);
	said = g_key_file_get_string(kf, GROUP, "qemu_reason", NULL);
	if (e || tries < 1 || (usable && !cpu))
		return false;
	kv->tries = tries;
	kv->cached = true;
	g_free(kv->qemu_reason);
	kv->qemu_reason = g_steal_pointer(&said);
	g_free(kv->cpu);
	kv->cpu = usable ? g_steal_pointer(&cpu) : NULL;
	note = g_strdup_printf("%s (cached for this boot)", why);
	set_verdict(kv, usable, note);
	return true;
}

static void cache_write(const struct vtb_kvm_env *kv, const char *path)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	g_key_file_set_boolean(kf, GROUP, "usable", kv->usable);
	g_key_file_set_integer(kf, GROUP, "tries", kv->tries);
	g_key_file_set_string(kf, GROUP, "reason", kv->verdict);
	if (kv->cpu)
		g_key_file_set_string(kf, GROUP, "cpu", kv->cpu);
	if (kv->qemu_reason)
		g_key_file_set_string(kf, GROUP, "qemu_reason",
				      kv->qemu_reason);
	g_key_file_save_to_file(kf, path, NULL);
}

/*
 * One try: -cpu host first, as users run it; when QEMU refuses it (here
 * it aborts on MSR 0x10a) a plain model may still work.  TRUE with
 * kv->cpu set when a guest reached its agent; what failed is appended to
 * @tried.
 */
static gboolean try_boot(struct vtb_kvm_env *kv, struct vtb_cell *cell,
			 double deadline, GString *tried, GError **err)
{
	static const char *const cpus[] = {"host", "qemu64"};
	g_autofree char *said = NULL, *prev = NULL;
	double prev_took = 0;

	g_string_truncate(tried, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cpus); i++) {
		g_autoptr(GError) e = NULL;
		struct vtb_vm *vm;
		gint64 t0 = g_get_monotonic_time();
		double took;

		g_free(kv->cpu);
		kv->cpu = g_strdup(cpus[i]);
		g_clear_pointer(&kv->qemu_said, g_free);
		vm = vtb_vm_boot(cell, deadline, &e);
		took = (g_get_monotonic_time() - t0) / 1e6;
		if (vm) {
			g_autofree char *why = g_strdup_printf(
				"a Linux guest reached its agent under KVM "
				"(-cpu %s) in %.2f s",
				cpus[i], took);

			set_verdict(kv, true, why);
			g_clear_pointer(&kv->qemu_reason, g_free);
			vtb_vm_poweroff(vm, 2, NULL);
			vtb_vm_free(vm);
			return TRUE;
		}
		g_clear_pointer(&kv->cpu, g_free);
		/* QEMU's own words, of the last boot that had any. */
		if (kv->qemu_said) {
			g_free(said);
			said = g_steal_pointer(&kv->qemu_said);
		}
		if (e->code == VTB_ERR_INTERRUPTED) {
			g_propagate_error(err, g_steal_pointer(&e));
			return FALSE;
		}
		/* Both models failing alike (no KVM at all) is said once. */
		if (i == 1 && g_strcmp0(prev, e->message) == 0)
			g_string_printf(tried,
					"-cpu %s and %s: %s after %.2f and "
					"%.2f s",
					cpus[0], cpus[1], prev, prev_took,
					took);
		else
			g_string_append_printf(tried,
					       "%s-cpu %s: %s after %.2f s",
					       tried->len ? "; " : "", cpus[i],
					       e->message, took);
		g_free(prev);
		prev = g_strdup(e->message);
		prev_took = took;
	}
	g_free(kv->qemu_reason);
	kv->qemu_reason = g_steal_pointer(&said);
	return FALSE;
}

gboolean vtb_kvm_test(const struct vtb_backend_ops *be, struct vtb_env *env,
		      const char *initrd, GError **err)
{
	struct vtb_kvm_env *kv = vtb_env_priv(env, be);
	const char *dev = vtb_kvm_dev();
	struct vtb_cell cell = {
		.env = env,
		.backend = be,
		.accel = "kvm",
		.driver = "direct",
	};
	g_autoptr(GString) tried = g_string_new(NULL);
	g_autoptr(GString) deadlines = g_string_new(NULL);
	struct stat st;
	int fd;

	kv->tries = 0;
	kv->cached = false;
	if (access(dev, F_OK) != 0) {
		g_autofree char *why = g_strdup_printf(
			"no %s (no KVM module or no hardware virtualization)",
			dev);

		set_verdict(kv, false, why);
		return TRUE;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		g_autofree char *why = g_strdup_printf("cannot open %s: %s",
						       dev, g_strerror(errno));

		if (fd >= 0)
			close(fd);
		set_verdict(kv, false, why);
		return TRUE;
	}
	close(fd);

	g_free(kv->test_cache);
	kv->test_cache = verdict_path(env, kv, &st, initrd);
	if (cache_read(kv, kv->test_cache))
		return TRUE;

	cell.appliance.initrd = (char *)initrd;
	for (int t = 0; t < VTB_KVM_TEST_TRIES; t++) {
		g_autoptr(GError) e = NULL;

		kv->tries = t + 1;
		g_string_append_printf(deadlines, "%s%.0f", t ? ", " : "",
				       deadline_s[t]);
		if (try_boot(kv, &cell, deadline_s[t], tried, &e)) {
			if (t > 0) {
				g_autofree char *why = g_strdup_printf(
					"%s, on try %d of %d", kv->verdict,
					t + 1, VTB_KVM_TEST_TRIES);

				set_verdict(kv, true, why);
			}
			break;
		}
		if (e) {
			g_propagate_error(err, g_steal_pointer(&e));
			return FALSE;
		}
	}
	if (!kv->cpu) {
		g_autofree char *why = g_strdup_printf(
			"%s opens, but a Linux guest does not reach its agent "
			"under KVM in %d tries (deadlines %s s); the last: %s",
			dev, kv->tries, deadlines->str, tried->str);

		set_verdict(kv, false, why);
	}
	cache_write(kv, kv->test_cache);
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
