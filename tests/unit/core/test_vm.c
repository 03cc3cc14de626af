/*
 * A guest's helper daemons (core/vm.c): real processes, gone with the VM on
 * every path — freed, their own children included, after SIGINT — and a
 * helper that cannot start is an error, not a silent absence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/registry.h"
#include "core/vm.h"
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

int main(void)
{
	GArray *t = vtbt_tests();

	vtbt_add(t, "helpers and their children go with the VM",
		 test_free_kills, NULL);
	vtbt_add(t, "a helper that cannot start is an error",
		 test_missing_program, NULL);
	vtbt_add(t, "SIGINT kills a helper", test_sigint, NULL);
	return vtbt_run(t, "vm", setup, teardown);
}
