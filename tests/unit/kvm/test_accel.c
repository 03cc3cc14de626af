/* Unit tests: the KVM test's cache key changes with each of its inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/kvm.h"
#include "tests/unit/testutil.h"

static const struct vtb_kvm_probe_id base = {
	.boot_id = "1c0a7e02-5c39-4f4e-9d3b-8d8f3f2f6a11",
	.dev = 5,
	.ino = 130,
	.rdev = (10 << 8) | 232, /* 10:232, /dev/kvm */
	.qemu = "/usr/bin/qemu-system-x86_64",
	.qemu_version = "QEMU emulator version 7.2.22",
	.qemu_size = 19088744,
	.qemu_mtime_ns = 1700000000000000000,
	.kernel = "/root/.cache/vtbench/vmlinux/6.1.0-41-amd64",
	.kernel_build_id = "8f1ab3c0d7e2",
	.kernel_size = 67108864,
	.kernel_mtime_ns = 1700000001000000000,
	.initrd = "/root/.cache/vtbench/appliances/0123abcd.cpio",
	.initrd_size = 2097152,
	.initrd_mtime_ns = 1700000002000000000,
	.cpus = 1,
	.mem_mb = 256,
};

/* One input changed from base. */
struct key_case {
	const char *name;
	void (*change)(struct vtb_kvm_probe_id *id);
};

#define CASE(n, stmt)                                                          \
	static void n(struct vtb_kvm_probe_id *id)                             \
	{                                                                      \
		stmt;                                                          \
	}
CASE(reboot, id->boot_id = "9e4d1f6b-0b21-4c8e-8f0e-2a7b5c6d7e8f")
CASE(no_boot_id, id->boot_id = NULL)
CASE(dev_dev, id->dev = 6)
CASE(dev_ino, id->ino = 131)
CASE(dev_rdev, id->rdev = (1 << 8) | 3) /* /dev/null */
CASE(qemu_path, id->qemu = "/opt/qemu/bin/qemu-system-x86_64")
CASE(qemu_version, id->qemu_version = "QEMU emulator version 8.2.0")
CASE(qemu_size, id->qemu_size += 1)
CASE(qemu_mtime, id->qemu_mtime_ns += 1)
CASE(kernel_path, id->kernel = "/boot/vmlinuz-6.1.0-41-amd64")
CASE(kernel_build_id, id->kernel_build_id = "8f1ab3c0d7e3")
CASE(kernel_size, id->kernel_size += 1)
CASE(kernel_mtime, id->kernel_mtime_ns += 1)
CASE(initrd_path, id->initrd = "/root/.cache/vtbench/appliances/4567.cpio")
CASE(initrd_size, id->initrd_size += 1)
CASE(initrd_mtime, id->initrd_mtime_ns += 1)
CASE(cpus, id->cpus = 2)
CASE(mem, id->mem_mb = 512)
/* A member's text moved into its neighbour is another key too. */
CASE(shifted, (id->qemu = "/usr/bin/qemu-system-x86_64QEMU",
	       id->qemu_version = " emulator version 7.2.22"))

static const struct key_case key_cases[] = {
	{"reboot", reboot},
	{"no boot id", no_boot_id},
	{"/dev/kvm st_dev", dev_dev},
	{"/dev/kvm st_ino", dev_ino},
	{"/dev/kvm st_rdev", dev_rdev},
	{"QEMU path", qemu_path},
	{"QEMU version", qemu_version},
	{"QEMU size", qemu_size},
	{"QEMU mtime", qemu_mtime},
	{"guest kernel path", kernel_path},
	{"guest kernel build id", kernel_build_id},
	{"guest kernel size", kernel_size},
	{"guest kernel mtime", kernel_mtime},
	{"appliance path", initrd_path},
	{"appliance size", initrd_size},
	{"appliance mtime", initrd_mtime},
	{"--cpus", cpus},
	{"--mem", mem},
	{"text shifted between members", shifted},
};

static void test_key_changes(void **state)
{
	const struct key_case *c = *state;
	struct vtb_kvm_probe_id id = base;
	g_autofree char *k0 = vtb_kvm_probe_key(&base);
	g_autofree char *k1 = NULL;

	c->change(&id);
	k1 = vtb_kvm_probe_key(&id);
	assert_string_not_equal(k0, k1);
}

/* The same inputs give the same key: a cached verdict is found again. */
static void test_key_stable(void **state)
{
	struct vtb_kvm_probe_id id = base;
	g_autofree char *k0 = vtb_kvm_probe_key(&base);
	g_autofree char *k1 = vtb_kvm_probe_key(&id);

	(void)state;
	assert_string_equal(k0, k1);
	assert_int_equal(strlen(k0), 32);
	for (const char *p = k0; *p; p++)
		assert_true(g_ascii_isxdigit(*p));
}

/* The test hook: which device the test opens. */
static void test_dev(void **state)
{
	(void)state;
	g_unsetenv("VTBENCH_TEST_KVM_DEV");
	assert_string_equal(vtb_kvm_dev(), "/dev/kvm");
	g_setenv("VTBENCH_TEST_KVM_DEV", "", TRUE);
	assert_string_equal(vtb_kvm_dev(), "/dev/kvm");
	g_setenv("VTBENCH_TEST_KVM_DEV", "/dev/null", TRUE);
	assert_string_equal(vtb_kvm_dev(), "/dev/null");
	g_unsetenv("VTBENCH_TEST_KVM_DEV");
}

int main(void)
{
	GArray *t = vtbt_tests();

	for (size_t i = 0; i < G_N_ELEMENTS(key_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("key changes: %s", key_cases[i].name);

		vtbt_add(t, name, test_key_changes, &key_cases[i]);
	}
	vtbt_add(t, "key stable", test_key_stable, NULL);
	vtbt_add(t, "device hook", test_dev, NULL);
	return vtbt_run(t, "kvm/accel", NULL, NULL);
}
