/* Unit tests: the UML and QEMU command lines built from a description. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "core/qemublk.h"
#include "core/registry.h"
#include "core/virtiofsd.h"
#include "kvm/kvm.h"
#include "engine/engine.h"
#include "tests/unit/testutil.h"
#include "uml/uml.h"

static int index_of(char **argv, const char *s)
{
	for (int i = 0; argv[i]; i++)
		if (strcmp(argv[i], s) == 0)
			return i;
	return -1;
}

/* Value following @opt, e.g. after "-machine". */
static const char *after(char **argv, const char *opt)
{
	int i = index_of(argv, opt);

	return i >= 0 && argv[i + 1] ? argv[i + 1] : NULL;
}

struct uml_case {
	struct vtb_uml_cfg cfg;
	const char *const want[8];   /* arguments that must be present */
	const char *const absent[4]; /* arguments that must not be */
};

static const struct uml_case uml_cases[] = {
	{{"/usr/bin/linux.uml", "/c/a.cpio", 256, "vtb-1-0", "/t/uml",
	  "/t/hostfs", 3, NULL},
	 {"mem=256M", "initrd=/c/a.cpio", "umid=vtb-1-0", "uml_dir=/t/uml",
	  "hostfs=/t/hostfs", "ssl1=fd:3", "vtb.ctl=tty:/dev/ttyS1",
	  "con0=fd:0,fd:1"},
	 {"root=/dev/ubda", NULL}},
	{{"/k/linux", "/x.cpio", 64, "u", "/d", "/h", 7, "vtb.debug=1  x=y"},
	 {"mem=64M", "ssl1=fd:7", "vtb.debug=1", "x=y", "hostfs=/h",
	  "vtb.off=poweroff", "pty.legacy_count=0", NULL},
	 {"", NULL}},
};

static void test_uml_argv(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(uml_cases); i++) {
		const struct uml_case *c = &uml_cases[i];
		g_auto(GStrv) argv = vtb_uml_argv(&c->cfg);

		assert_string_equal(argv[0], c->cfg.kernel);
		for (int k = 0; k < 8 && c->want[k]; k++)
			assert_true(index_of(argv, c->want[k]) > 0);
		for (int k = 0; k < 4 && c->absent[k]; k++)
			assert_int_equal(index_of(argv, c->absent[k]), -1);
		/* The blanket null must come before the specific lines,
		 * or it would override them. */
		assert_true(index_of(argv, "con=null") <
			    index_of(argv, "con0=fd:0,fd:1"));
		assert_true(index_of(argv, "ssl=null") >= 0);
		for (int k = 0; argv[k]; k++)
			if (g_str_has_prefix(argv[k], "ssl1="))
				assert_true(index_of(argv, "ssl=null") < k);
	}
}

struct qemu_case {
	const char *accel;
	const char *machine;
	const char *cpu;
};

static const struct qemu_case qemu_cases[] = {
	{"tcg", "pc,accel=tcg", "qemu64"},
	{"kvm", "pc,accel=kvm", "host"},
};

static void test_qemu_argv(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(qemu_cases); i++) {
		const struct qemu_case *c = &qemu_cases[i];
		g_autofree char *append = vtb_kvm_append(c->accel, NULL);
		struct vtb_qemu_cfg cfg = {
			.qemu = "/usr/bin/qemu-system-x86_64",
			.accel = c->accel,
			.kernel = "/c/vmlinux.elf",
			.initrd = "/c/a.cpio",
			.append = append,
			.mem_mb = 256,
			.console_log = "/t/console.log",
			.ctl_sock = "/t/ctl.sock",
		};
		g_auto(GStrv) argv = vtb_qemu_argv(&cfg);

		assert_string_equal(argv[0], cfg.qemu);
		assert_true(index_of(argv, "-nodefaults") > 0);
		assert_true(index_of(argv, "-no-reboot") > 0);
		assert_string_equal(after(argv, "-name"),
				    "vtbench,debug-threads=on");
		assert_string_equal(after(argv, "-machine"), c->machine);
		assert_string_equal(after(argv, "-cpu"), c->cpu);
		assert_string_equal(after(argv, "-m"), "256");
		assert_string_equal(after(argv, "-kernel"), cfg.kernel);
		assert_string_equal(after(argv, "-initrd"), cfg.initrd);
		assert_string_equal(after(argv, "-append"), append);
		assert_true(index_of(argv,
				     "socket,id=vtbctl,path=/t/ctl.sock") > 0);
		assert_true(index_of(argv,
				     "file,id=vtbcon,path=/t/console.log") > 0);
		assert_true(index_of(argv, "virtserialport,bus=vtbser.0,"
					   "chardev=vtbctl,name=vtb.ctl") > 0);
		/* No shell anywhere: every argument stands alone. */
		for (int k = 0; argv[k]; k++)
			assert_null(strstr(argv[k], "sh -c"));
	}
}

struct append_case {
	const char *accel;
	const char *extra;
	const char *const want[4];
	const char *const absent[2];
};

static const struct append_case append_cases[] = {
	{"tcg",
	 NULL,
	 {"cryptomgr.notests", "vtb.ctl=vport:vtb.ctl", "vtb.off=reboot",
	  "console=ttyS0"},
	 {NULL}},
	{"kvm",
	 "vtb.debug=1",
	 {"vtb.debug=1", "panic=-1", "quiet", NULL},
	 {"cryptomgr.notests", NULL}},
};

static void test_append(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(append_cases); i++) {
		const struct append_case *c = &append_cases[i];
		g_autofree char *a = vtb_kvm_append(c->accel, c->extra);
		g_auto(GStrv) words = g_strsplit(a, " ", -1);

		for (int k = 0; k < 4 && c->want[k]; k++)
			assert_true(index_of(words, c->want[k]) >= 0);
		for (int k = 0; k < 2 && c->absent[k]; k++)
			assert_int_equal(index_of(words, c->absent[k]), -1);
	}
	{
		/* TCG gets the longer default boot deadline. */
		struct vtb_opts o = {0};
		struct vtb_env env = {.opts = &o};
		struct vtb_cell tcg = {.env = &env,
				       .backend = &vtb_backend_kvm,
				       .accel = "tcg"};
		struct vtb_cell kvm = tcg;

		kvm.accel = "kvm";
		assert_true(vtb_cell_boot_timeout(&tcg) >
			    vtb_cell_boot_timeout(&kvm));
	}
}

/* Devices as a transport or workload describes them. */
static struct vtb_device *dev(enum vtb_dev_kind kind, const char *name,
			      const char *bus, const char *image,
			      const char *cache, const char *aio, bool ro)
{
	struct vtb_device *d = g_new0(struct vtb_device, 1);

	d->kind = kind;
	d->name = g_strdup(name);
	d->bus = bus;
	d->image = g_strdup(image);
	d->format = "raw";
	d->cache = cache;
	d->aio = aio;
	d->readonly = ro;
	d->fd = d->end_fd = -1;
	if (kind != VTB_DEV_DISK)
		d->end_path = g_strdup_printf("/t/%s.sock", name);
	return d;
}

static void dev_free(struct vtb_device *d)
{
	g_free(d->name);
	g_free(d->image);
	g_free(d->guest);
	g_free(d->end_path);
	g_free(d);
}

struct devcase {
	const char *backend;
	struct {
		enum vtb_dev_kind kind;
		const char *name, *bus, *image, *cache, *aio;
		bool ro;
		const char *guest; /* expected guest name, NULL: error */
	} devs[3];
	const char *const want[6]; /* arguments that must be present */
};

static const struct devcase dev_cases[] = {
	{"uml",
	 {{VTB_DEV_SERIAL, "data", NULL, NULL, NULL, NULL, false, "/dev/ttyS2"},
	  {VTB_DEV_DISK, "pay", "ubd", "/i/p.img", "writeback", NULL, true,
	   "/dev/ubda"},
	  {VTB_DEV_DISK, "tgt", "ubd", "/i/t.img", "sync", NULL, false,
	   "/dev/ubdb"}},
	 {"ssl2=fd:4", "ubd0rc=/i/p.img", "ubd1s=/i/t.img", NULL}},
	/* virtio-blk: vhost-user, each on its back-end's socket, /dev/vda..
	 * in the order attached, beside ubd's own numbering. */
	{"uml",
	 {{VTB_DEV_DISK, "x", "virtio-blk", "/i/x.img", "none", NULL, true,
	   "/dev/vda"},
	  {VTB_DEV_DISK, "pay", "ubd", "/i/p.img", "writeback", NULL, true,
	   "/dev/ubda"},
	  {VTB_DEV_DISK, "tgt", "virtio-blk", "/i/t.img", "none", NULL, false,
	   "/dev/vdb"}},
	 {"virtio_uml.device=/t/x.sock:2", "ubd0rc=/i/p.img",
	  "virtio_uml.device=/t/tgt.sock:2", NULL}},
	{"uml",
	 {{VTB_DEV_DISK, "x", "scsi", "/i/x.img", "none", NULL, false, NULL}},
	 {NULL}},
	/* A virtio-serial port: vtbench's console back-end, id 3; the guest
	 * finds it by name, as under QEMU. */
	{"uml",
	 {{VTB_DEV_VIRTIO_SERIAL, "vtb.data", NULL, NULL, NULL, NULL, false,
	   "vport:vtb.data"},
	  {VTB_DEV_DISK, "x", "virtio-blk", "/i/x.img", "none", NULL, true,
	   "/dev/vda"}},
	 {"virtio_uml.device=/t/vtb.data.sock:3",
	  "virtio_uml.device=/t/x.sock:2", NULL}},
	{"kvm",
	 {{VTB_DEV_SERIAL, "data", NULL, NULL, NULL, NULL, false, "/dev/ttyS1"},
	  {VTB_DEV_VIRTIO_SERIAL, "vtb.data", NULL, NULL, NULL, NULL, false,
	   "vport:vtb.data"},
	  {VTB_DEV_DISK, "tgt", "virtio-blk", "/i/t.img", "none", "native",
	   true, "blk:tgt"}},
	 {"chardev:vtbchr0",
	  "virtserialport,bus=vtbser.0,chardev=vtbchr1,name=vtb.data",
	  "file=/i/t.img,if=none,id=vtbdisk0,format=raw,cache=none,"
	  "aio=native,readonly=on,file.locking=off",
	  "iothread,id=vtbio0",
	  "virtio-blk-pci,drive=vtbdisk0,serial=tgt,iothread=vtbio0"}},
	{"kvm",
	 {{VTB_DEV_DISK, "u", "ubd", "/i/u.img", "writeback", NULL, false,
	   NULL}},
	 {NULL}},
};

static void test_devices(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(dev_cases); i++) {
		const struct devcase *c = &dev_cases[i];
		struct vtb_device *devs[3];
		size_t n = 0;
		bool expect_ok = true;
		g_auto(GStrv) argv = NULL;
		g_autoptr(GError) e = NULL;

		for (; n < 3 && c->devs[n].name; n++) {
			devs[n] = dev(c->devs[n].kind, c->devs[n].name,
				      c->devs[n].bus, c->devs[n].image,
				      c->devs[n].cache, c->devs[n].aio,
				      c->devs[n].ro);
			if (!c->devs[n].guest)
				expect_ok = false;
		}
		if (g_str_equal(c->backend, "uml")) {
			struct vtb_uml_devs ud;
			struct vtb_uml_cfg cfg = {"/k", "/i.cpio", 64,
						  "u",	"/d",	   "/h",
						  3,	NULL,	   &ud};
			bool ok = true;

			/* As the uml driver's rows attach them. */
			vtb_uml_devs_init(&ud);
			for (size_t k = 0; ok && k < n; k++)
				if (devs[k]->kind == VTB_DEV_SERIAL) {
					vtb_uml_add_serial(&ud, devs[k]);
				} else if (devs[k]->kind ==
					   VTB_DEV_VIRTIO_SERIAL) {
					g_autofree char *sock = g_strdup_printf(
						"/t/%s.sock", devs[k]->name);

					vtb_uml_add_vhost(
						&ud, devs[k], sock,
						VTB_VIRTIO_ID_CONSOLE);
				} else if (g_str_equal(devs[k]->bus,
						       "virtio-blk")) {
					g_autofree char *sock = g_strdup_printf(
						"/t/%s.sock", devs[k]->name);

					vtb_uml_add_vhost(&ud, devs[k], sock,
							  VTB_VIRTIO_ID_BLOCK);
				} else {
					ok = vtb_uml_add_disk(&ud, devs[k], &e);
				}
			argv = ok ? vtb_uml_argv(&cfg) : NULL;
			vtb_uml_devs_clear(&ud);
		} else {
			struct vtb_qemu_devs qd;
			struct vtb_qemu_cfg cfg = {
				.qemu = "qemu",
				.accel = "tcg",
				.kernel = "/k",
				.initrd = "/i",
				.append = "",
				.mem_mb = 64,
				.console_log = "/c",
				.ctl_sock = "/s",
				.devs = &qd,
			};
			bool ok = true;

			/* As the direct driver's rows attach them. */
			vtb_qemu_devs_init(&qd);
			for (size_t k = 0; ok && k < n; k++)
				if (devs[k]->kind == VTB_DEV_SERIAL)
					vtb_qemu_add_serial(&qd, devs[k]);
				else if (devs[k]->kind == VTB_DEV_VIRTIO_SERIAL)
					vtb_qemu_add_port(&qd, devs[k]);
				else
					ok = vtb_qemu_add_disk(&qd, devs[k],
							       &e);
			argv = ok ? vtb_qemu_argv(&cfg) : NULL;
			vtb_qemu_devs_clear(&qd);
		}
		if (!expect_ok) {
			assert_null(argv);
			assert_non_null(e);
			assert_int_equal(e->code, VTB_ERR_RUN);
		} else {
			if (!argv)
				fail_msg("case %zu: %s", i, e->message);
			for (int k = 0; k < 6 && c->want[k]; k++)
				if (index_of(argv, c->want[k]) < 0)
					fail_msg("case %zu lacks %s", i,
						 c->want[k]);
			for (size_t k = 0; k < n; k++)
				assert_string_equal(devs[k]->guest,
						    c->devs[k].guest);
		}
		for (size_t k = 0; k < n; k++)
			dev_free(devs[k]);
	}
}

/* --qemu: a QEMU says so in --version's first line, within the deadline. */
/* Filesystems under QEMU: 9p's fsdev and device, virtiofs's vhost-user
 * device with the guest's memory shared, tmpfs as nothing; others refused. */
static const struct fscase {
	const char *bus, *image, *cache;
	int threads;
	const char *sock;
	const char *guest; /* NULL: refused */
	bool share_mem;
	const char *const want[4];
} fs_cases[] = {
	{"9p",
	 "/t/share",
	 "mmap",
	 0,
	 NULL,
	 "fs:vtbfs",
	 false,
	 {"local,id=vtbfs0,path=/t/share,security_model=none",
	  "virtio-9p-pci,fsdev=vtbfs0,mount_tag=vtbfs", NULL}},
	{"virtiofs",
	 "/t/share",
	 "always",
	 4,
	 "/t/vfs.sock",
	 "fs:vtbfs",
	 true,
	 {"socket,id=vtbvfs0,path=/t/vfs.sock",
	  "vhost-user-fs-pci,chardev=vtbvfs0,tag=vtbfs",
	  "memory-backend-memfd,id=vtbmem,size=256M,share=on",
	  "pc,accel=tcg,memory-backend=vtbmem"}},
	{"tmpfs", NULL, NULL, 0, NULL, "fs:tmpfs", false, {NULL}},
	/* virtiofs without its daemon's socket, 9p without a directory, a
	 * filesystem QEMU has not. */
	{"virtiofs", "/t/share", NULL, 0, NULL, NULL, false, {NULL}},
	{"9p", NULL, NULL, 0, NULL, NULL, false, {NULL}},
	{"hostfs", "/t/share", NULL, 0, NULL, NULL, false, {NULL}},
};

static void test_fs(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fs_cases); i++) {
		const struct fscase *c = &fs_cases[i];
		struct vtb_device d = {.kind = VTB_DEV_FS,
				       .name = "vtbfs",
				       .bus = c->bus,
				       .image = (char *)c->image,
				       .cache = c->cache,
				       .threads = c->threads};
		struct vtb_qemu_devs qd;
		struct vtb_qemu_cfg cfg = {
			.qemu = "/usr/bin/qemu-system-x86_64",
			.accel = "tcg",
			.kernel = "/c/vmlinux.elf",
			.initrd = "/c/a.cpio",
			.append = "x",
			.mem_mb = 256,
			.console_log = "/t/console.log",
			.ctl_sock = "/t/ctl.sock",
			.devs = &qd,
		};
		g_autoptr(GError) e = NULL;
		g_auto(GStrv) argv = NULL;
		gboolean ok;

		vtb_qemu_devs_init(&qd);
		ok = vtb_qemu_add_fs(&qd, &d, c->sock, &e);
		if (!c->guest) {
			assert_false(ok);
			assert_non_null(e);
			vtb_qemu_devs_clear(&qd);
			continue;
		}
		if (!ok)
			fail_msg("case %zu: %s", i, e->message);
		assert_string_equal(d.guest, c->guest);
		assert_int_equal(qd.share_mem, c->share_mem);
		argv = vtb_qemu_argv(&cfg);
		for (int k = 0; k < 4 && c->want[k]; k++)
			if (index_of(argv, c->want[k]) < 0)
				fail_msg("case %zu lacks %s", i, c->want[k]);
		if (!c->share_mem)
			assert_true(index_of(argv, "pc,accel=tcg") > 0);
		g_free(d.guest);
		vtb_qemu_devs_clear(&qd);
	}
}

/* virtiofsd: the directory, the cache mode, the pool when asked. */
static void test_virtiofsd_argv(void **state)
{
	struct vtb_device d = {.kind = VTB_DEV_FS,
			       .bus = "virtiofs",
			       .image = "/t/share",
			       .cache = "none",
			       .threads = 8};
	g_auto(GStrv) a = vtb_virtiofsd_argv("/usr/lib/qemu/virtiofsd", &d,
					     "/t/vfs.sock");
	g_auto(GStrv) b = NULL;

	assert_string_equal(a[0], "/usr/lib/qemu/virtiofsd");
	assert_true(index_of(a, "--socket-path=/t/vfs.sock") > 0);
	assert_true(index_of(a, "source=/t/share") > 0);
	assert_true(index_of(a, "cache=none") > 0);
	assert_true(index_of(a, "--thread-pool-size=8") > 0);
	d.cache = NULL;
	d.threads = 0;
	b = vtb_virtiofsd_argv("v", &d, "/s");
	assert_true(index_of(b, "cache=auto") > 0);
	for (int k = 0; b[k]; k++)
		assert_false(g_str_has_prefix(b[k], "--thread-pool-size"));
}

static void test_qemu_version(void **state)
{
	g_autofree char *dir = vtbt_tmpdir();
	g_autofree char *slow = g_build_filename(dir, "slow", NULL);
	g_autofree char *chatty = g_build_filename(dir, "chatty", NULL);
	g_autofree char *real = g_find_program_in_path("qemu-system-x86_64");
	const struct {
		const char *qemu;
		const char *msg; /* in the error; NULL: a QEMU */
	} cases[] = {
		{"/bin/true", "--qemu /bin/true: not a QEMU: --version says "
			      "'true (GNU coreutils)"},
		{"/bin/false",
		 "--qemu /bin/false: --version exited with status "
		 "1: not a working QEMU"},
		{"/nonexistent/qemu", "--qemu /nonexistent/qemu: "},
		/* hangs, or writes without end: the deadline */
		{slow, "no answer to --version in 300 ms: not a QEMU"},
		{chatty, "no answer to --version in 300 ms: not a QEMU"},
		{real, NULL},
	};

	vtbt_write(slow, "#!/bin/sh\nexec sleep 30\n", 24);
	vtbt_write(chatty, "#!/bin/sh\nexec yes QEMU\n", 24);
	chmod(slow, 0755);
	chmod(chatty, 0755);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) e = NULL;
		g_autofree char *v = NULL;

		if (!cases[i].qemu)
			continue; /* no QEMU installed: its case only */
		v = vtb_qemu_version(cases[i].qemu, 300, &e);
		if (!cases[i].msg) {
			if (!v)
				fail_msg("%s: %s", cases[i].qemu, e->message);
			assert_true(
				g_str_has_prefix(v, "QEMU emulator version"));
			continue;
		}
		if (v)
			fail_msg("%s taken for a QEMU: %s", cases[i].qemu, v);
		assert_int_equal(e->code, VTB_ERR_USAGE);
		if (!strstr(e->message, cases[i].msg))
			fail_msg("'%s' lacks '%s'", e->message, cases[i].msg);
		assert_null(strchr(e->message, '\n'));
	}
	vtbt_rm_rf(dir);
}

/* Paths as option values: QEMU's commas doubled; what UML cannot take
 * refused, naming it. */
static void test_path_syntax(void **state)
{
	/* clang-format off */
	static const struct { const char *in, *out; } esc[] = {
		{ "/a/b", "/a/b" }, { "", "" }, { "/t/a,b", "/t/a,,b" },
		{ ",", ",," }, { "/x,,y,", "/x,,,,y,," },
	};
	static const struct {
		const char *arg, *refused; /* NULL: taken */
	} uml[] = {
		{ "ubd0=/c/p.img", NULL },
		{ "con0=fd:0,fd:1", NULL },
		{ "virtio_uml.device=/t/a.sock:3", NULL },
		{ "virtio_uml.device=/t:x/a.sock:3", "ends its socket at ':'" },
		{ "hostfs=/t/h", NULL },
		{ "hostfs=/t/a,b/h", "hostfs= ends its directory at ','" },
		{ "initrd=/t/a b/i.cpio", "splits at blanks" },
		{ "uml_dir=/t/a\tb", "splits at blanks" },
		{ "uml_dir=/t/a\nb", "splits at blanks" },
	};
	/* clang-format on */
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(esc); i++) {
		g_autofree char *o = vtb_qemu_opt_value(esc[i].in);

		assert_string_equal(o, esc[i].out);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(uml); i++) {
		char *argv[] = {"linux.uml", (char *)uml[i].arg, NULL};
		g_autoptr(GError) e = NULL;
		gboolean ok = vtb_uml_argv_check(argv, &e);

		if (!uml[i].refused != !!ok ||
		    (uml[i].refused && !strstr(e->message, uml[i].refused)))
			fail_msg("%s: %s, want %s", uml[i].arg,
				 ok ? "taken" : e->message,
				 uml[i].refused ? uml[i].refused : "taken");
	}
	/* ubd= has no quoting: an image path with ',' or ':' is refused. */
	{
		struct vtb_uml_devs ud;
		struct vtb_device d = {.kind = VTB_DEV_DISK,
				       .bus = "ubd",
				       .format = "raw",
				       .name = "x",
				       .image = "/t/a:b.img"};
		g_autoptr(GError) e = NULL;

		vtb_uml_devs_init(&ud);
		assert_false(vtb_uml_add_disk(&ud, &d, &e));
		assert_non_null(strstr(e->message, "splits it at ',' and ':'"));
		vtb_uml_devs_clear(&ud);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_version),
		cmocka_unit_test(test_uml_argv),
		cmocka_unit_test(test_qemu_argv),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_fs),
		cmocka_unit_test(test_virtiofsd_argv),
		cmocka_unit_test(test_path_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
