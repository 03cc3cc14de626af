/* Unit tests: QEMU's cache modes, the disks it refuses, QSD's argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/qemublk.h"

/* QEMU's manual, -drive cache=, written out again by hand. */
static const struct {
	const char *mode;
	bool known, writeback, direct, no_flush;
} modes[] = {
	{"writeback", true, true, false, false},
	{"none", true, true, true, false},
	{"writethrough", true, false, false, false},
	{"directsync", true, false, true, false},
	{"unsafe", true, true, false, true},
	{"sync", false}, /* ubd's */
	{"", false},
	{NULL, false},
};

static void test_cache_modes(void **state)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct vtb_qemu_cache c = {0};
		gboolean ok = vtb_qemu_cache_of(modes[i].mode, &c);

		if (ok != modes[i].known)
			fail_msg("%s: known %d", modes[i].mode, ok);
		if (ok && (c.writeback != modes[i].writeback ||
			   c.direct != modes[i].direct ||
			   c.no_flush != modes[i].no_flush))
			fail_msg("%s: writeback %d direct %d no-flush %d",
				 modes[i].mode, c.writeback, c.direct,
				 c.no_flush);
	}
	/* Every mode the options offer as QEMU's is in the table. */
	for (const char *const *m = vtb_qemu_caches; *m; m++) {
		struct vtb_qemu_cache c;

		assert_true(vtb_qemu_cache_of(*m, &c));
	}
}

static const struct {
	const char *cache, *aio;
	const char *why; /* substring, or NULL: accepted */
} refusals[] = {
	{NULL, NULL, NULL},
	{"none", "native", NULL},
	{"directsync", "native", NULL},
	{"writeback", "native", "aio=native needs O_DIRECT"},
	{"unsafe", "native", "aio=native needs O_DIRECT"},
	{"writeback", "io_uring", NULL},
	{"sync", NULL, "no cache mode sync"},
	{NULL, "native", NULL}, /* cache not decided yet */
};

static void test_disk_cannot(void **state)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct vtb_device d = {.kind = VTB_DEV_DISK,
				       .bus = "virtio-blk",
				       .cache = refusals[i].cache,
				       .aio = refusals[i].aio};
		g_autofree char *why = vtb_qemu_disk_cannot(&d);

		if (!refusals[i].why != !why ||
		    (why && !strstr(why, refusals[i].why)))
			fail_msg("case %zu (%s, %s): got \"%s\"", i,
				 refusals[i].cache, refusals[i].aio,
				 why ? why : "(accepted)");
	}
}

static const struct {
	const char *cache, *aio, *format;
	bool readonly;
	const char *want[4]; /* file node, format node, export, pidfile */
} argvs[] = {
	{"writeback",
	 NULL,
	 "raw",
	 false,
	 {"driver=file,node-name=file0,filename=/i/t.img,cache.direct=off,"
	  "cache.no-flush=off,read-only=off",
	  "driver=raw,node-name=disk0,file=file0,cache.direct=off,"
	  "cache.no-flush=off,read-only=off",
	  "type=vhost-user-blk,id=export0,node-name=disk0,addr.type=unix,"
	  "addr.path=/d/s.sock,writable=on,writethrough=off",
	  "/d/q.pid"}},
	{"directsync",
	 "native",
	 "qcow2",
	 false,
	 {"driver=file,node-name=file0,filename=/i/t.img,cache.direct=on,"
	  "cache.no-flush=off,read-only=off,aio=native",
	  "driver=qcow2,node-name=disk0,file=file0,cache.direct=on,"
	  "cache.no-flush=off,read-only=off",
	  "type=vhost-user-blk,id=export0,node-name=disk0,addr.type=unix,"
	  "addr.path=/d/s.sock,writable=on,writethrough=on",
	  "/d/q.pid"}},
	{"unsafe",
	 "io_uring",
	 "raw",
	 true,
	 {"driver=file,node-name=file0,filename=/i/t.img,cache.direct=off,"
	  "cache.no-flush=on,read-only=on,aio=io_uring",
	  "driver=raw,node-name=disk0,file=file0,cache.direct=off,"
	  "cache.no-flush=on,read-only=on",
	  "type=vhost-user-blk,id=export0,node-name=disk0,addr.type=unix,"
	  "addr.path=/d/s.sock,writable=off,writethrough=off",
	  "/d/q.pid"}},
	/* No cache given: QEMU's default, writeback. */
	{NULL,
	 NULL,
	 NULL,
	 true,
	 {"driver=file,node-name=file0,filename=/i/t.img,cache.direct=off,"
	  "cache.no-flush=off,read-only=on",
	  "driver=raw,node-name=disk0,file=file0,cache.direct=off,"
	  "cache.no-flush=off,read-only=on",
	  "type=vhost-user-blk,id=export0,node-name=disk0,addr.type=unix,"
	  "addr.path=/d/s.sock,writable=off,writethrough=off",
	  "/d/q.pid"}},
};

static void test_qsd_argv(void **state)
{
	static const char *const flags[] = {"--blockdev", "--blockdev",
					    "--export", "--pidfile"};

	for (size_t i = 0; i < sizeof(argvs) / sizeof(argvs[0]); i++) {
		struct vtb_device d = {.kind = VTB_DEV_DISK,
				       .bus = "virtio-blk",
				       .image = "/i/t.img",
				       .format = argvs[i].format,
				       .cache = argvs[i].cache,
				       .aio = argvs[i].aio,
				       .readonly = argvs[i].readonly};
		g_auto(GStrv) argv = vtb_qsd_argv("/usr/bin/qsd", &d,
						  "/d/s.sock", "/d/q.pid");

		assert_int_equal(g_strv_length(argv), 9);
		assert_string_equal(argv[0], "/usr/bin/qsd");
		for (int k = 0; k < 4; k++) {
			assert_string_equal(argv[1 + 2 * k], flags[k]);
			if (strcmp(argv[2 + 2 * k], argvs[i].want[k]) != 0)
				fail_msg("case %zu, %s:\n got %s\nwant %s", i,
					 flags[k], argv[2 + 2 * k],
					 argvs[i].want[k]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_modes),
		cmocka_unit_test(test_disk_cannot),
		cmocka_unit_test(test_qsd_argv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
