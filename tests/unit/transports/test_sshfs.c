/* Unit tests: the sshfs transport's pure parts: the guest's sshfs
 * arguments, its -o options per cache mode, sftp-server's argv, and how
 * both programs are found (the test overrides included). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/testutil.h"
#include "transports/sshfs.h"

static char long_dir[VTB_STR_ARGS];

/* ---- the guest's arguments ---- */

struct args_case {
	const char *name;
	const char *dir, *opts;
	const char *want; /* NULL: refused */
	const char *err;  /* in the refusal */
};

static const struct args_case args_cases[] = {
	{"the share, sshfs's directory cache on", "/tmp/v/share",
	 "dir_cache=yes", "-f -o passive,dir_cache=yes vtbench:/tmp/v/share"},
	{"--mount-opts after the cache", "/s", "dir_cache=no,max_conns=2",
	 "-f -o passive,dir_cache=no,max_conns=2 vtbench:/s"},
	{"no options: passive alone", "/s", "", "-f -o passive vtbench:/s"},
	{"a comma in the directory travels (a positional argument)", "/a,b/s",
	 "dir_cache=yes", "-f -o passive,dir_cache=yes vtbench:/a,b/s"},
	{"a directory with a space", "/tmp/my dir", "dir_cache=yes", NULL,
	 "splits its arguments at spaces; set TMPDIR"},
	{"a directory with a newline", "/tmp/a\nb", "", NULL,
	 "splits its arguments at spaces"},
	{"options with a tab", "/s", "dir_cache=yes\tx", NULL,
	 "cannot take the options"},
	{"too long for RUN's args", long_dir, "", NULL,
	 "do not fit a RUN message"},
};

static void test_args(void **state)
{
	const struct args_case *c = *state;
	g_autoptr(GError) e = NULL;
	g_autofree char *a = vtb_sshfs_args(c->dir, c->opts, &e);

	if (c->want) {
		assert_null(e);
		assert_string_equal(a, c->want);
		assert_true(strlen(a) < VTB_STR_ARGS);
		return;
	}
	assert_null(a);
	assert_non_null(e);
	assert_int_equal(e->code, VTB_ERR_RUN);
	if (!strstr(e->message, c->err))
		fail_msg("'%s' lacks '%s'", e->message, c->err);
}

/* ---- -o per cache mode ---- */

struct opts_case {
	const char *name, *cache, *want;
};

static const struct opts_case opts_cases[] = {
	{"cache yes: sshfs 3's dir_cache", "yes", "dir_cache=yes"},
	{"cache no", "no", "dir_cache=no"},
	{"no cache axis value: sshfs's default", "-", "dir_cache=yes"},
	{"NULL: the default", NULL, "dir_cache=yes"},
};

static void test_opts(void **state)
{
	const struct opts_case *c = *state;
	g_autofree char *o = vtb_sshfs_opts(c->cache);

	assert_string_equal(o, c->want);
}

/* ---- sftp-server's argv ---- */

static void test_server_argv(void **state)
{
	g_auto(GStrv) v = vtb_sftp_server_argv("/usr/lib/openssh/sftp-server",
					       "/tmp/x/share");
	const char *const want[] = {"/usr/lib/openssh/sftp-server",
				    "-e",
				    "-l",
				    "ERROR",
				    "-d",
				    "/tmp/x/share",
				    NULL};

	(void)state;
	assert_int_equal(g_strv_length(v), G_N_ELEMENTS(want) - 1);
	for (gsize i = 0; want[i]; i++)
		assert_string_equal(v[i], want[i]);
}

/* ---- finding the programs ---- */

struct find_case {
	const char *name;
	bool server;	  /* sftp-server, else sshfs */
	const char *env;  /* the override, or NULL: unset */
	const char *want; /* the path, or NULL: refused */
	const char *err;
};

static const struct find_case find_cases[] = {
	{"sftp-server overridden by a program that exists", true, "/bin/true",
	 "/bin/true"},
	{"sftp-server overridden by one that does not", true,
	 "/nonexistent/sftp-server", NULL,
	 "sshfs: no sftp-server at /nonexistent/sftp-server "
	 "(VTBENCH_SFTP_SERVER)"},
	{"sshfs overridden by a program that exists", false, "/bin/true",
	 "/bin/true"},
	{"sshfs overridden by one that does not", false, "/nonexistent/sshfs",
	 NULL,
	 "sshfs: no /nonexistent/sshfs on this host to give the guest "
	 "(VTBENCH_SSHFS)"},
	{"an override by name, looked up in PATH", false, "sh", "/bin/sh"},
};

static void test_find(void **state)
{
	const struct find_case *c = *state;
	const char *var = c->server ? VTB_SFTP_SERVER_ENV : VTB_SSHFS_ENV;
	g_autoptr(GError) e = NULL;
	g_autofree char *p = NULL;

	g_setenv(var, c->env, TRUE);
	p = c->server ? vtb_sshfs_server(&e) : vtb_sshfs_client(&e);
	g_unsetenv(var);
	if (c->want) {
		assert_null(e);
		/* PATH may find sh under /usr/bin too. */
		if (!g_str_has_suffix(p, c->want + 4))
			fail_msg("'%s', want '%s'", p, c->want);
		return;
	}
	assert_null(p);
	assert_non_null(e);
	assert_int_equal(e->code, VTB_ERR_USAGE);
	assert_string_equal(e->message, c->err);
}

int main(void)
{
	GArray *tests = vtbt_tests();

	memset(long_dir, 'x', sizeof(long_dir) - 1);
	long_dir[0] = '/';
	for (gsize i = 0; i < G_N_ELEMENTS(args_cases); i++)
		vtbt_add(tests, args_cases[i].name, test_args, &args_cases[i]);
	for (gsize i = 0; i < G_N_ELEMENTS(opts_cases); i++)
		vtbt_add(tests, opts_cases[i].name, test_opts, &opts_cases[i]);
	vtbt_add(tests, "sftp-server: errors on stderr, the share its start",
		 test_server_argv, NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(find_cases); i++)
		vtbt_add(tests, find_cases[i].name, test_find, &find_cases[i]);
	return vtbt_run(tests, "sshfs", NULL, NULL);
}
