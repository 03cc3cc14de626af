/* Unit tests: which helper files (agent, preload libraries) are trusted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "appliance/appliance.h"
#include "core/kernels.h"
#include "core/vtbench.h"

struct trust_case {
	const char *name;
	mode_t dir_mode, file_mode; /* file_mode 0: a FIFO instead */
	bool other_owner;    /* the file belongs to neither root nor me */
	const char *refused; /* in the error, or NULL: trusted */
};

/* clang-format off */
static const struct trust_case cases[] = {
	{ "mine, 0755 in a 0755 dir", 0755, 0755, false, NULL },
	{ "mine, read-only", 0700, 0444, false, NULL },
	{ "group-writable file", 0755, 0775, false, "writable by others" },
	{ "world-writable file", 0755, 0757, false, "writable by others" },
	{ "world-writable dir (a /tmp)", 0777, 0755, false,
	  "in a directory writable by others" },
	{ "a FIFO", 0755, 0, false, "not a regular file" },
	{ "another user's file", 0755, 0755, true,
	  "owned by another user (neither root nor you)" },
};
/* clang-format on */

static void test_trusted(void **state)
{
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct trust_case *c = &cases[i];
		g_autofree char *dir = g_dir_make_tmp("vtbtrust-XXXXXX", NULL);
		g_autofree char *f = g_build_filename(dir, "lib.so", NULL);
		g_autoptr(GError) e = NULL;
		uid_t me = geteuid();
		gboolean ok;

		assert_non_null(dir);
		if (c->file_mode) {
			assert_true(g_file_set_contents(f, "x", 1, NULL));
			assert_int_equal(chmod(f, c->file_mode), 0);
		} else {
			assert_int_equal(mkfifo(f, 0644), 0);
		}
		/* Root's own files are trusted: as root, give the file away;
		 * as a user, ask for someone else. */
		if (c->other_owner && me == 0)
			assert_int_equal(chown(f, 65534, 65534), 0);
		else if (c->other_owner)
			me = me + 1;
		assert_int_equal(chmod(dir, c->dir_mode), 0);
		ok = vtb_helper_trusted(f, me, &e);
		if (!c->refused != !!ok)
			fail_msg("%s: %s, want %s", c->name,
				 ok ? "trusted" : e->message,
				 c->refused ? c->refused : "trusted");
		if (c->refused && !strstr(e->message, c->refused))
			fail_msg("%s: '%s', want '%s'", c->name, e->message,
				 c->refused);
		if (c->refused && !strstr(e->message, f))
			fail_msg("%s: '%s' does not name the file", c->name,
				 e->message);
		chmod(dir, 0700);
		g_unlink(f);
		g_rmdir(dir);
	}
}

/* The build's own helpers pass: what the tests and ./vtbench use. */
static void test_found(void **state)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *agent = NULL;

	(void)state;
	g_unsetenv("VTBENCH_AGENT");
	agent = vtb_find_agent(&e);
	if (!agent)
		fail_msg("%s", e->message);
	assert_true(g_str_has_prefix(agent, VTB_BUILDDIR "/agent/"));
	/* An explicit path is checked like any other. */
	g_setenv("VTBENCH_AGENT", "/nonexistent/agent", TRUE);
	g_clear_pointer(&agent, g_free);
	agent = vtb_find_agent(&e);
	assert_null(agent);
	assert_non_null(strstr(e->message, "VTBENCH_AGENT=/nonexistent/agent"));
	g_unsetenv("VTBENCH_AGENT");
}

/* The cache directory: what is in it decides what runs. */
static void test_cache_dir(void **state)
{
	/* clang-format off */
	static const struct {
		const char *name;
		mode_t mode; /* 0: a regular file */
		bool other_owner;
		const char *refused;
	} dirs[] = {
		{ "mine, 0700", 0700, false, NULL },
		{ "mine, 0755", 0755, false, NULL },
		{ "group-writable", 0770, false, "writable by others" },
		{ "world-writable", 0777, false, "writable by others" },
		{ "a file", 0, false, "not a directory" },
		{ "another user's", 0700, true, "owned by another user" },
	};
	/* clang-format on */
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		g_autofree char *top = g_dir_make_tmp("vtbcache-XXXXXX", NULL);
		g_autofree char *d = g_build_filename(top, "c", NULL);
		g_autoptr(GError) e = NULL;
		uid_t me = geteuid();
		gboolean ok;

		if (dirs[i].mode) {
			assert_int_equal(mkdir(d, 0700), 0);
			assert_int_equal(chmod(d, dirs[i].mode), 0);
		} else {
			assert_true(g_file_set_contents(d, "", 0, NULL));
		}
		if (dirs[i].other_owner)
			me = me + 1;
		ok = vtb_cache_dir_trusted(d, me, &e);
		if (!dirs[i].refused != !!ok ||
		    (dirs[i].refused && (!strstr(e->message, dirs[i].refused) ||
					 !strstr(e->message, d))))
			fail_msg("%s: %s, want %s", dirs[i].name,
				 ok ? "trusted" : e->message,
				 dirs[i].refused ? dirs[i].refused : "trusted");
		g_remove(d);
		g_rmdir(top);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_cache_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
