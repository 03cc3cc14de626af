/*
 * A guest's helper daemons (core/vm.c): real processes, gone with the VM on
 * every path — freed, their own children included, after SIGINT — and a
 * helper that cannot start is an error, not a silent absence.  The boot
 * sequence every driver runs through: its steps in order, cleanup after
 * any of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <glib-unix.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/registry.h"
#include "core/vm.h"
#include "proto/proto.h"
#include "tests/unit/testutil.h"

static bool gone(pid_t pid)
{
	/* Reaped by vtb_child_kill, or a zombie of nobody's: not running. */
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Wait up to 2 s for @pid to disappear (a grandchild is reaped by init). */
static bool gone_soon(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		g_autofree char *stat = NULL;
		g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);

		if (gone(pid))
			return true;
		/* A zombie (state Z) is dead too. */
		if (g_file_get_contents(path, &stat, NULL, NULL) &&
		    strstr(stat, ") Z "))
			return true;
		g_usleep(10000);
	}
	return false;
}

static struct vtb_cell cell = {.backend = &vtb_backend_uml};

static int setup(void **state)
{
	char *dir = vtbt_tmpdir();

	g_setenv("TMPDIR", dir, TRUE);
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	vtbt_rm_rf(*state);
	g_free(*state);
	return 0;
}

static void test_free_kills(void **state)
{
	const char *const sleeper[] = {"sleep", "600", NULL};
	const char *const family[] = {
		"sh", "-c", "sleep 600 & echo $! >grandchild; wait", NULL};
	struct vtb_vm *vm = vtb_vm_new(&cell, NULL);
	struct vtb_child *a, *b;
	g_autofree char *dir = NULL, *gc = NULL, *gcpath = NULL;
	pid_t pa, pb, pg = 0;

	assert_non_null(vm);
	dir = g_strdup(vm->dir);
	a = vtb_vm_spawn_helper(vm, sleeper, "a.log", NULL, NULL);
	assert_non_null(a);
	g_assert(chdir(vm->dir) == 0);
	b = vtb_vm_spawn_helper(vm, family, "b.log", NULL, NULL);
	assert_non_null(b);
	pa = a->pid;
	pb = b->pid;
	gcpath = g_build_filename(vm->dir, "grandchild", NULL);
	for (int i = 0; i < 200 && !pg; i++) {
		if (g_file_get_contents(gcpath, &gc, NULL, NULL))
			pg = (pid_t)atoi(gc);
		g_clear_pointer(&gc, g_free);
		if (!pg)
			g_usleep(10000);
	}
	g_assert(chdir("/") == 0);
	assert_true(pg > 0);
	assert_false(gone(pa));
	assert_false(gone(pb));
	assert_false(gone(pg));
	vtb_vm_free(vm);
	assert_true(gone(pa));
	assert_true(gone(pb));
	/* Its own child went with its process group. */
	assert_true(gone_soon(pg));
	assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void test_missing_program(void **state)
{
	const char *const argv[] = {"/nonexistent/vtb-helper", NULL};
	struct vtb_vm *vm = vtb_vm_new(&cell, NULL);
	g_autoptr(GError) e = NULL;

	assert_null(vtb_vm_spawn_helper(vm, argv, "x.log", NULL, &e));
	assert_non_null(e);
	assert_non_null(strstr(e->message, "/nonexistent/vtb-helper"));
	assert_true(!vm->helpers || vm->helpers->len == 0);
	vtb_vm_free(vm);
}

/* The signal handler kills helpers as it kills the VMM. */
static void test_sigint(void **state)
{
	const char *const sleeper[] = {"sleep", "600", NULL};
	struct vtb_vm *vm = vtb_vm_new(&cell, NULL);
	struct vtb_child *h;
	struct pollfd p;

	vtb_signals_install();
	h = vtb_vm_spawn_helper(vm, sleeper, "s.log", NULL, NULL);
	assert_non_null(h);
	raise(SIGINT);
	assert_true(vtb_interrupted());
	p = (struct pollfd){.fd = h->pidfd, .events = POLLIN};
	/* The helper's pidfd turns readable: it exited, killed. */
	assert_int_equal(poll(&p, 1, 2000), 1);
	vtb_vm_free(vm);
}

/*
 * The one boot sequence (vtb_vm_start) with a toy driver that logs its
 * steps: every device attached in guest order before the spawn, every
 * endpoint connected after it, HELLO read by the core; a failed step
 * stops the sequence and vtb_vm_free() still cleans up.
 */
static GString *steps;
static const char *fail_at; /* a step that fails, or NULL */
static bool say_hello;
static int far_end = -1;

static gboolean step(const char *what, const char *name, GError **err)
{
	g_autofree char *s = g_strdup_printf("%s%s%s", what, name ? ":" : "",
					     name ? name : "");

	g_string_append_printf(steps, "%s%s", steps->len ? " " : "", s);
	if (fail_at && g_str_equal(s, fail_at)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "%s failed", s);
		return FALSE;
	}
	return TRUE;
}

static gboolean toy_prepare(struct vtb_vm *vm, GError **err)
{
	return step("prepare", NULL, err);
}

static gboolean toy_attach(struct vtb_vm *vm, struct vtb_device *d,
			   GError **err)
{
	d->guest = g_strdup_printf("/dev/%s", d->name);
	return step("attach", d->name, err);
}

static gboolean toy_connect(struct vtb_vm *vm, struct vtb_device *d,
			    GError **err)
{
	return step("connect", d->name, err);
}

/* The control channel: a socketpair whose far end says HELLO (or not). */
static gboolean toy_spawn(struct vtb_vm *vm, GError **err)
{
	int sv[2];

	if (!step("spawn", NULL, err))
		return FALSE;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	if (say_hello) {
		struct vtb_msg m = {.type = VTB_MSG_HELLO};
		guint8 buf[VTB_MSG_MAX];
		int n;

		m.u.hello.version = VTB_PROTO_VERSION;
		n = vtb_msg_encode(&m, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(write(sv[1], buf, n), n);
	}
	/* The far end stays open: silence, not a closed channel. */
	vm->ctl_fd = sv[0];
	g_unix_set_fd_nonblocking(sv[0], TRUE, NULL);
	far_end = sv[1];
	vm->t_spawn_us = g_get_monotonic_time();
	return TRUE;
}

static gboolean toy_resume(struct vtb_vm *vm, GError **err)
{
	return step("resume", NULL, err);
}

static void toy_explain(struct vtb_vm *vm, GError **err)
{
	step("explain", NULL, NULL);
	g_prefix_error(err, "the toy VMM said why: ");
}

static gboolean toy_booted(struct vtb_vm *vm, GError **err)
{
	return step("booted", NULL, err);
}

static void toy_cleanup(struct vtb_vm *vm)
{
	step("cleanup", NULL, NULL);
	if (far_end >= 0)
		close(far_end);
	far_end = -1;
}

static const struct vtb_device_ops toy_stream = {
	.attach = toy_attach,
	.connect = toy_connect,
};
static const struct vtb_device_ops toy_disk = {.attach = toy_attach};
static const struct vtb_device_ops toy_port = {.help = "cannot attach"};
static const struct vtb_driver_ops toy_driver = {
	.name = "direct",
	.devices =
		{
			[VTB_DEV_SERIAL] = &toy_stream,
			[VTB_DEV_VIRTIO_SERIAL] = &toy_port,
			[VTB_DEV_DISK] = &toy_disk,
		},
	.prepare = toy_prepare,
	.spawn = toy_spawn,
	.resume = toy_resume,
	.explain = toy_explain,
	.booted = toy_booted,
	.cleanup = toy_cleanup,
};
static const struct vtb_driver_ops *const toy_drivers[] = {&toy_driver, NULL};
static const struct vtb_backend_ops toy_backend = {
	.name = "toy",
	.drivers = toy_drivers,
};
static struct vtb_cell toy_cell = {.backend = &toy_backend};

/* Boot a toy vm with devices @kinds named @names; the steps it took. */
static char *boot_toy(const enum vtb_dev_kind *kinds, const char *const *names,
		      size_t n, double timeout_s, gboolean *ok, GError **err)
{
	struct vtb_vm *vm = vtb_vm_new(&toy_cell, NULL);
	g_autofree char *dir = NULL;

	assert_non_null(vm);
	dir = g_strdup(vm->dir);
	steps = g_string_new(NULL);
	for (size_t i = 0; i < n; i++) {
		struct vtb_device *d = vtb_vm_add_device(vm);

		d->kind = kinds[i];
		d->name = g_strdup(names[i]);
		d->bus = "virtio-blk";
	}
	*ok = vtb_vm_start(vm, timeout_s, err);
	if (*ok) {
		assert_true(vm->t_hello_us >= vm->t_spawn_us);
		assert_int_equal(vm->hello.version, VTB_PROTO_VERSION);
		assert_string_equal(
			((struct vtb_device *)vm->devices->pdata[0])->guest,
			"/dev/s1");
	}
	vtb_vm_free(vm);
	/* Nothing of the guest's is left: its dir, the far end. */
	assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
	assert_int_equal(far_end, -1);
	return g_string_free(g_steal_pointer(&steps), FALSE);
}

static void test_sequence(void **state)
{
	static const enum vtb_dev_kind kinds[] = {VTB_DEV_SERIAL, VTB_DEV_DISK,
						  VTB_DEV_SERIAL};
	static const char *const names[] = {"s1", "d1", "s2"};
	static const enum vtb_dev_kind port[] = {VTB_DEV_VIRTIO_SERIAL};
	static const char *const pname[] = {"p1"};
	gboolean ok;
	g_autofree char *s = NULL;

	/* All steps, in order: attach all, spawn, connect the streams. */
	fail_at = NULL;
	say_hello = true;
	{
		g_autoptr(GError) e = NULL;

		s = boot_toy(kinds, names, 3, 5, &ok, &e);
		if (!ok)
			fail_msg("%s (%s)", e->message, s);
		assert_string_equal(s, "prepare attach:s1 attach:d1 attach:s2 "
				       "spawn connect:s1 connect:s2 resume "
				       "booted cleanup");
		g_clear_pointer(&s, g_free);
	}
	/* A failed attach: no spawn, cleanup all the same. */
	fail_at = "attach:d1";
	{
		g_autoptr(GError) e = NULL;

		s = boot_toy(kinds, names, 3, 5, &ok, &e);
		assert_false(ok);
		assert_string_equal(e->message, "attach:d1 failed");
		assert_string_equal(s, "prepare attach:s1 attach:d1 cleanup");
		g_clear_pointer(&s, g_free);
	}
	/* A failed connect after the spawn. */
	fail_at = "connect:s2";
	{
		g_autoptr(GError) e = NULL;

		s = boot_toy(kinds, names, 3, 5, &ok, &e);
		assert_false(ok);
		assert_string_equal(s, "prepare attach:s1 attach:d1 attach:s2 "
				       "spawn connect:s1 connect:s2 cleanup");
		g_clear_pointer(&s, g_free);
	}
	/* No HELLO by the deadline: the driver explains. */
	fail_at = NULL;
	say_hello = false;
	{
		g_autoptr(GError) e = NULL;

		s = boot_toy(kinds, names, 1, 0.3, &ok, &e);
		assert_false(ok);
		assert_true(
			g_str_has_prefix(e->message, "the toy VMM said why: "));
		assert_string_equal(s, "prepare attach:s1 spawn connect:s1 "
				       "resume explain cleanup");
		g_clear_pointer(&s, g_free);
	}
	/* A row without attach: the driver cannot carry it. */
	{
		g_autoptr(GError) e = NULL;

		s = boot_toy(port, pname, 1, 5, &ok, &e);
		assert_false(ok);
		assert_non_null(strstr(e->message, "cannot attach device p1"));
		assert_string_equal(s, "prepare cleanup");
		g_clear_pointer(&s, g_free);
	}
}

int main(void)
{
	GArray *t = vtbt_tests();

	vtbt_add(t, "helpers and their children go with the VM",
		 test_free_kills, NULL);
	vtbt_add(t, "a helper that cannot start is an error",
		 test_missing_program, NULL);
	/* Before the SIGINT test: a boot after it is interrupted. */
	vtbt_add(t, "one boot sequence, cleanup after any step", test_sequence,
		 NULL);
	vtbt_add(t, "SIGINT kills a helper", test_sigint, NULL);
	return vtbt_run(t, "vm", setup, teardown);
}
