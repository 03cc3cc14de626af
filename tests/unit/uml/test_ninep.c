/*
 * 9P on UML (uml/ninep.c): diod's argv, the fd transport's mount data
 * from the transport's, the msize in it, diod found or not, its version;
 * and the --9p-uml-line and --9p-msize options as `run` parses them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core/registry.h"
#include "core/vtbench.h"
#include "uml/ninep.h"
#include "uml/uml.h"

static void test_diod_argv(void **state)
{
	g_auto(GStrv) a = vtb_diod_argv("/usr/sbin/diod", "/tmp/x/share", 3);
	g_autofree char *line = g_strjoinv(" ", a);

	assert_string_equal(
		line, "/usr/sbin/diod --foreground --no-auth --no-userdb "
		      "--config-file /dev/null --logdest stderr --rfdno 3 "
		      "--wfdno 3 --export /tmp/x/share");
}

struct opts_case {
	const char *in, *dir, *want; /* want NULL: refused */
};

static const struct opts_case opts_cases[] = {
	/* What transports/ninep.c describes for virtio. */
	{"trans=virtio,version=9p2000.L,msize=524288,cache=mmap", "/d",
	 "trans=fd,version=9p2000.L,msize=524288,cache=mmap,uname=root,"
	 "aname=/d"},
	/* --mount-opts appended by the engine stay. */
	{"trans=virtio,version=9p2000.L,msize=4096,cache=none,sync", "/a/b",
	 "trans=fd,version=9p2000.L,msize=4096,cache=none,sync,uname=root,"
	 "aname=/a/b"},
	/* An aname or uname of the user's is ours instead. */
	{"trans=virtio,aname=/etc,uname=nobody", "/d",
	 "trans=fd,uname=root,aname=/d"},
	{"", "/d", "trans=fd,uname=root,aname=/d"},
	{NULL, "/d", "trans=fd,uname=root,aname=/d"},
	/* aname= cannot carry a ','. */
	{"trans=virtio", "/tmp/a,b/share", NULL},
};

static void test_mount_opts(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(opts_cases); i++) {
		const struct opts_case *c = &opts_cases[i];
		g_autoptr(GError) e = NULL;
		g_autofree char *o = vtb_uml_9p_opts(c->in, c->dir, &e);

		if (!c->want) {
			assert_null(o);
			assert_non_null(e);
			assert_non_null(strstr(e->message, c->dir));
			assert_non_null(strstr(e->message, "','"));
			continue;
		}
		assert_null(e);
		assert_string_equal(o, c->want);
	}
}

static const struct {
	const char *opts;
	guint64 msize;
} msize_cases[] = {
	{"trans=fd,msize=524288,cache=none", 524288},
	{"msize=4096", 4096},
	{"trans=fd,cache=none", 0},
	{"", 0},
	{NULL, 0},
};

static void test_msize(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(msize_cases); i++)
		assert_int_equal(vtb_9p_opts_msize(msize_cases[i].opts),
				 msize_cases[i].msize);
}

/* $VTBENCH_DIOD: a program found, or one line saying it is missing. */
static void test_diod_find(void **state)
{
	char *why = NULL;
	char *p;

	g_setenv("VTBENCH_DIOD", "/nonexistent/diod", TRUE);
	p = vtb_diod_find(&why);
	assert_null(p);
	assert_non_null(why);
	assert_non_null(strstr(why, "VTBENCH_DIOD=/nonexistent/diod"));
	assert_null(strchr(why, '\n'));
	g_free(why);
	why = NULL;
	g_setenv("VTBENCH_DIOD", "/bin/sh", TRUE);
	p = vtb_diod_find(&why);
	assert_string_equal(p, "/bin/sh");
	assert_null(why);
	g_free(p);
	g_unsetenv("VTBENCH_DIOD");
}

static const struct {
	const char *bytes;
	size_t len;
	const char *want;
} version_cases[] = {
	{"\x7f"
	 "ELF\0\0junk\0diod-1.0.24\0more",
	 27, "1.0.24"},
	{"xx diod-2.1 yy", 14, "2.1"},
	{"no version here", 15, NULL},
};

static void test_diod_version(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(version_cases); i++) {
		g_autofree char *path = NULL;
		g_autofree char *v = NULL;
		int fd = g_file_open_tmp("vtbdiod-XXXXXX", &path, NULL);

		assert_true(fd >= 0);
		assert_int_equal(
			write(fd, version_cases[i].bytes, version_cases[i].len),
			(ssize_t)version_cases[i].len);
		close(fd);
		v = vtb_diod_version(path);
		if (version_cases[i].want)
			assert_string_equal(v, version_cases[i].want);
		else
			assert_null(v);
		g_unlink(path);
	}
	assert_null(vtb_diod_version("/nonexistent"));
	assert_null(vtb_diod_version(NULL));
}

/* The installed diod, where there is one: its version is found. */
static void test_installed_diod(void **state)
{
	g_autofree char *v = NULL;

	if (!g_file_test(VTB_DIOD, G_FILE_TEST_IS_EXECUTABLE))
		skip();
	v = vtb_diod_version(VTB_DIOD);
	assert_non_null(v);
	assert_true(g_ascii_isdigit(v[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diod_argv),
		cmocka_unit_test(test_mount_opts),
		cmocka_unit_test(test_msize),
		cmocka_unit_test(test_diod_find),
		cmocka_unit_test(test_diod_version),
		cmocka_unit_test(test_installed_diod),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
