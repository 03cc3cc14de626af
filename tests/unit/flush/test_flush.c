/*
 * Unit tests: the flush-audit preload counts exactly the flushes made on
 * the images, in real processes (flushprobe, and qemu-io when installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "flush/flush.h"
#include "tests/unit/testutil.h"

struct flush_case {
	const char *name;
	const char *images; /* ' '-separated; '@' is the test's temp dir */
	const char *ops;    /* flushprobe's argv, likewise */
	struct vtb_flush_counts want;
	guint64 missing;
	bool killed;	  /* the probe SIGKILLs itself */
	bool no_env;	  /* LD_PRELOAD only, no VTB_FLUSH_* */
	const char *file; /* VTB_FLUSH_FILE instead of the real one */
};

static const struct flush_case flush_cases[] = {
	{"fsync", "@/img", "open=@/img fsync fsync", {.fsync = 2}},
	{"fdatasync, sync_file_range, syncfs",
	 "@/img",
	 "open=@/img fdatasync fdatasync fdatasync sfr syncfs",
	 {.fdatasync = 3, .sync_file_range = 1, .syncfs = 1}},
	{"O_SYNC, O_DSYNC and O_DIRECT opens",
	 "@/img",
	 "open-sync=@/img close open-dsync=@/img close open-direct=@/img "
	 "close open=@/img",
	 {.sync_opens = 2, .direct_opens = 1}},
	{"openat and __open_2",
	 "@/img",
	 "openat=@/img fsync close open2=@/img fdatasync",
	 {.sync_opens = 2, .fsync = 1, .fdatasync = 1}},
	{"pwritev2 with RWF_DSYNC/RWF_SYNC",
	 "@/img",
	 "open=@/img pwritev2=none pwritev2=dsync pwritev2=sync pwritev2=dsync",
	 {.dsync_writes = 3}},
	{"another file is not counted",
	 "@/img",
	 "open-sync=@/other fsync fdatasync sfr syncfs pwritev2=dsync "
	 "open-direct=@/other setfl-direct",
	 {0}},
	{"image named by a symlink",
	 "@/link",
	 "open=@/img fsync",
	 {.fsync = 1}},
	{"image opened through a symlink",
	 "@/img",
	 "open-dsync=@/link fsync",
	 {.fsync = 1, .sync_opens = 1}},
	{"image opened by a relative path",
	 "@/img",
	 "cd=@ open=img fsync open=./sub/../img fdatasync",
	 {.fsync = 1, .fdatasync = 1}},
	{"':' in an image path", "@/a:b", "open=@/a:b fsync", {.fsync = 1}},
	{"dup, dup2, F_DUPFD",
	 "@/img",
	 "open=@/img dup fsync dup2=30 fsync "
	 "dupfd fsync",
	 {.fsync = 3}},
	{"closed image fd reused by a pipe",
	 "@/img",
	 "open=@/img close pipe fsync-fails",
	 {0}},
	{"close_range, then fds reused behind the preload",
	 "@/img",
	 "open=@/img dup2=100 closefrom pipe fsync-fails sysdup2=100 "
	 "fsync-fails",
	 {0}},
	{"image fd closed behind the preload, its number reused by another",
	 "@/img",
	 "open=@/img sysclose sysopen=@/other fsync fdatasync",
	 {0}},
	{"image fd opened behind the preload",
	 "@/img",
	 "sysopen=@/img fsync fdatasync",
	 {.fsync = 1, .fdatasync = 1}},
	{"F_SETFL turning O_DIRECT on",
	 "@/img",
	 "open=@/img setfl-direct setfl-direct",
	 {.direct_opens = 1}},
	{"4 threads", "@/img", "open=@/img threads=4,250", {.fdatasync = 1000}},
	{"two images and another file",
	 "@/img @/img2",
	 "open=@/img fsync open=@/img2 fsync open=@/other fsync",
	 {.fsync = 2}},
	{"a missing image",
	 "@/nope @/img",
	 "open=@/img fsync",
	 {.fsync = 1},
	 1},
	{"counts survive SIGKILL",
	 "@/img",
	 "open=@/img fsync fdatasync die",
	 {.fsync = 1, .fdatasync = 1},
	 0,
	 true},
	{"no VTB_FLUSH_* variables: nothing counted",
	 "@/img",
	 "open-sync=@/img fsync pwritev2=dsync",
	 {0},
	 0,
	 false,
	 true},
	{"counter file not ours: nothing counted",
	 "@/img",
	 "open-sync=@/img fsync pwritev2=dsync",
	 {0},
	 0,
	 false,
	 false,
	 "@/other"},
};

static char *tmp;

static int setup(void **state)
{
	static const char zero[65536];
	static const char *const files[] = {"img", "img2", "other", "a:b"};
	g_autofree char *img = NULL, *link = NULL, *sub = NULL;

	tmp = vtbt_tmpdir();
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = g_build_filename(tmp, files[i], NULL);

		vtbt_write(path, zero, sizeof(zero));
	}
	img = g_build_filename(tmp, "img", NULL);
	link = g_build_filename(tmp, "link", NULL);
	sub = g_build_filename(tmp, "sub", NULL);
	if (symlink(img, link) != 0 || mkdir(sub, 0700) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	vtbt_rm_rf(tmp);
	g_free(tmp);
	return 0;
}

/* @s with '@' replaced by the temp dir, split at ' '. */
static char **expand(const char *s)
{
	g_auto(GStrv) parts = g_strsplit(s, "@", -1);
	g_autofree char *joined = g_strjoinv(tmp, parts);

	return *joined ? g_strsplit(joined, " ", -1) : g_new0(char *, 1);
}

static char *probe_path(void)
{
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = g_path_get_dirname(self);

	return g_build_filename(dir, "flushprobe", NULL);
}

/* The launcher with @env set (and no VTB_FLUSH_* from our own). */
static GSubprocessLauncher *launcher(char **env, GSubprocessFlags flags)
{
	GSubprocessLauncher *l = g_subprocess_launcher_new(flags);

	g_subprocess_launcher_unsetenv(l, "VTB_FLUSH_FILE");
	g_subprocess_launcher_unsetenv(l, "VTB_FLUSH_PATHS");
	for (char **e = env; e && *e; e++) {
		g_auto(GStrv) kv = g_strsplit(*e, "=", 2);

		g_subprocess_launcher_setenv(l, kv[0], kv[1], TRUE);
	}
	return l;
}

static void assert_counts(const char *what, const struct vtb_flush_counts *got,
			  const struct vtb_flush_counts *want)
{
	if (memcmp(got, want, sizeof(*got)) == 0)
		return;
	fail_msg("%s: got fsync=%" G_GUINT64_FORMAT
		 " fdatasync=%" G_GUINT64_FORMAT " sfr=%" G_GUINT64_FORMAT
		 " syncfs=%" G_GUINT64_FORMAT " sync_opens=%" G_GUINT64_FORMAT
		 " direct_opens=%" G_GUINT64_FORMAT
		 " dsync_writes=%" G_GUINT64_FORMAT ", want %" G_GUINT64_FORMAT
		 "/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
		 "/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
		 "/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
		 what, got->fsync, got->fdatasync, got->sync_file_range,
		 got->syncfs, got->sync_opens, got->direct_opens,
		 got->dsync_writes, want->fsync, want->fdatasync,
		 want->sync_file_range, want->syncfs, want->sync_opens,
		 want->direct_opens, want->dsync_writes);
}

static void test_case(void **state)
{
	const struct flush_case *c = *state;
	g_autoptr(GError) e = NULL;
	g_autoptr(vtb_flush) f = vtb_flush_new(tmp, &e);
	g_auto(GStrv) images = expand(c->images);
	g_auto(GStrv) ops = expand(c->ops);
	g_auto(GStrv) env = NULL;
	g_autofree char *file_var = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	struct vtb_flush_counts got;
	guint64 attached, missing;

	if (!f)
		fail_msg("vtb_flush_new: %s", e->message);
	env = vtb_flush_env(f, (const char *const *)images);
	if (c->file) {
		g_auto(GStrv) file = expand(c->file);

		file_var = g_strdup_printf("VTB_FLUSH_FILE=%s", file[0]);
	}
	g_ptr_array_add(argv, probe_path());
	for (char **o = ops; *o; o++)
		g_ptr_array_add(argv, g_strdup(*o));
	g_ptr_array_add(argv, NULL);
	{
		/* LD_PRELOAD only, or another counter file. */
		g_autoptr(GPtrArray) set = g_ptr_array_new();

		g_ptr_array_add(set, env[0]);
		if (!c->no_env) {
			g_ptr_array_add(set, file_var ? file_var : env[1]);
			g_ptr_array_add(set, env[2]);
		}
		g_ptr_array_add(set, NULL);
		l = launcher((char **)set->pdata, G_SUBPROCESS_FLAGS_NONE);
	}
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata,
					 &e);
	if (!p)
		fail_msg("spawn flushprobe: %s", e->message);
	if (!g_subprocess_wait(p, NULL, &e))
		fail_msg("wait: %s", e->message);
	if (c->killed) {
		assert_true(g_subprocess_get_if_signaled(p));
		assert_int_equal(g_subprocess_get_term_sig(p), SIGKILL);
	} else if (!g_subprocess_get_successful(p)) {
		fail_msg("flushprobe failed under the preload (see stderr)");
	}
	vtb_flush_read(f, &got);
	assert_counts(c->name, &got, &c->want);
	vtb_flush_status(f, &attached, &missing);
	assert_int_equal(attached, c->no_env || c->file ? 0 : 1);
	assert_int_equal(missing, c->missing);
}

/* Counts are there while the VMM runs, and stay after it is killed. */
static void test_live_then_killed(void **state)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(vtb_flush) f = vtb_flush_new(tmp, &e);
	g_auto(GStrv) images = expand("@/img");
	g_auto(GStrv) ops = expand("open=@/img fsync fdatasync hold");
	g_autofree char *probe = probe_path();
	g_auto(GStrv) env = NULL;
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GDataInputStream) in = NULL;
	g_autofree char *line = NULL;
	const char *argv[8] = {probe};
	struct vtb_flush_counts live, after, diff;
	const struct vtb_flush_counts want = {.fsync = 1, .fdatasync = 1};

	assert_non_null(f);
	for (int i = 0; ops[i]; i++)
		argv[i + 1] = ops[i];
	env = vtb_flush_env(f, (const char *const *)images);
	l = launcher(env, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				  G_SUBPROCESS_FLAGS_STDIN_PIPE);
	p = g_subprocess_launcher_spawnv(l, argv, &e);
	assert_non_null(p);
	in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p));
	line = g_data_input_stream_read_line(in, NULL, NULL, &e);
	assert_string_equal(line ? line : "(eof)", "ready");
	vtb_flush_read(f, &live);
	assert_counts("live", &live, &want);
	g_subprocess_force_exit(p);
	assert_true(g_subprocess_wait(p, NULL, NULL));
	vtb_flush_read(f, &after);
	vtb_flush_counts_sub(&after, &live, &diff);
	assert_counts("after SIGKILL", &after, &want);
	assert_counts("difference", &diff, &(struct vtb_flush_counts){0});
}

/* The environment: absolute paths, ':' escaped, LD_PRELOAD kept. */
static void test_env(void **state)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(vtb_flush) f = vtb_flush_new(tmp, &e);
	const char *images[] = {"rel/x.img", "/a:b\\c", NULL};
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *want_paths = g_strdup_printf(
		"VTB_FLUSH_PATHS=%s/rel/x.img:/a\\:b\\\\c", cwd);
	g_autofree char *old = g_strdup(g_getenv("LD_PRELOAD"));
	g_auto(GStrv) env = NULL, env2 = NULL;

	assert_non_null(f);
	assert_true(g_path_is_absolute(vtb_flush_file(f)));
	g_unsetenv("LD_PRELOAD");
	env = vtb_flush_env(f, images);
	assert_int_equal(g_strv_length(env), 3);
	assert_true(g_str_has_prefix(env[0], "LD_PRELOAD=/"));
	assert_true(g_str_has_suffix(env[0], "/libvtbflush.so"));
	assert_true(g_str_has_prefix(env[1], "VTB_FLUSH_FILE=/"));
	assert_string_equal(env[1] + strlen("VTB_FLUSH_FILE="),
			    vtb_flush_file(f));
	assert_string_equal(env[2], want_paths);

	g_setenv("LD_PRELOAD", "/x/other.so", TRUE);
	env2 = vtb_flush_env(f, images);
	if (old)
		g_setenv("LD_PRELOAD", old, TRUE);
	else
		g_unsetenv("LD_PRELOAD");
	assert_true(g_str_has_suffix(env2[0], "/libvtbflush.so:/x/other.so"));
	assert_string_equal(env2[1], env[1]);
}

/* QEMU's block layer through the preload, per cache mode. */
struct qemu_case {
	const char *cache;		  /* qemu-io -t */
	const char *cmds;		  /* ';'-separated -c commands */
	guint64 min_flushes, max_flushes; /* fsync + fdatasync */
	guint64 min_direct;
};

static const struct qemu_case qemu_cases[] = {
	{"writeback", "write 0 64k;flush", 1, 2, 0},
	{"writeback", "write 0 64k", 1, 1, 0}, /* flushed when closed */
	{"unsafe", "write 0 64k;flush", 0, 0, 0},
	{"writethrough", "write 0 4k;write 4k 4k;write 8k 4k", 3, 4, 0},
	{"none", "write 0 64k;flush", 1, 2, 1},
	{"directsync", "write 0 4k;write 4k 4k", 2, 3, 1},
};

static void test_qemu_io(void **state)
{
	const struct qemu_case *c = *state;
	g_autofree char *qemu_io = g_find_program_in_path("qemu-io");
	g_autofree char *img = g_build_filename(tmp, "qemu.img", NULL);
	g_autoptr(GError) e = NULL;
	g_autoptr(vtb_flush) f = NULL;
	g_auto(GStrv) cmds = g_strsplit(c->cmds, ";", -1);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_auto(GStrv) env = NULL;
	const char *images[] = {img, NULL};
	static const char zero[1 << 20];
	struct vtb_flush_counts got;
	guint64 flushes, attached;

	if (!qemu_io)
		VTBT_SKIP("qemu-io not installed (apt-get install qemu-utils)");
	vtbt_write(img, zero, sizeof(zero));
	f = vtb_flush_new(tmp, &e);
	assert_non_null(f);
	env = vtb_flush_env(f, images);
	g_ptr_array_add(argv, qemu_io);
	g_ptr_array_add(argv, "-f");
	g_ptr_array_add(argv, "raw");
	g_ptr_array_add(argv, "-t");
	g_ptr_array_add(argv, (char *)c->cache);
	for (char **cmd = cmds; *cmd; cmd++) {
		g_ptr_array_add(argv, "-c");
		g_ptr_array_add(argv, *cmd);
	}
	g_ptr_array_add(argv, img);
	g_ptr_array_add(argv, NULL);
	l = launcher(env, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata,
					 &e);
	assert_non_null(p);
	assert_true(g_subprocess_wait(p, NULL, NULL));
	assert_true(g_subprocess_get_successful(p));
	vtb_flush_read(f, &got);
	vtb_flush_status(f, &attached, NULL);
	flushes = got.fsync + got.fdatasync;
	print_message("         qemu-io -t %s '%s': fsync %" G_GUINT64_FORMAT
		      " fdatasync %" G_GUINT64_FORMAT
		      " direct opens %" G_GUINT64_FORMAT "\n",
		      c->cache, c->cmds, got.fsync, got.fdatasync,
		      got.direct_opens);
	assert_int_equal(attached, 1);
	assert_in_range(flushes, c->min_flushes, c->max_flushes);
	assert_true(got.direct_opens >= c->min_direct);
	if (!c->min_direct)
		assert_int_equal(got.direct_opens, 0);
	unlink(img);
}

int main(void)
{
	GArray *tests = vtbt_tests();

	for (size_t i = 0; i < G_N_ELEMENTS(flush_cases); i++)
		vtbt_add(tests, flush_cases[i].name, test_case,
			 &flush_cases[i]);
	vtbt_add(tests, "counts live, and after SIGKILL", test_live_then_killed,
		 NULL);
	vtbt_add(tests, "environment for the VMM", test_env, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(qemu_cases); i++) {
		g_autofree char *name = g_strdup_printf("qemu-io -t %s: %s",
							qemu_cases[i].cache,
							qemu_cases[i].cmds);

		vtbt_add(tests, name, test_qemu_io, &qemu_cases[i]);
	}
	return vtbt_run(tests, "flush", setup, teardown);
}
