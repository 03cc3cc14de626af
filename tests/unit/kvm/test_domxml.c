/* Unit tests: libvirt domain XML built from device descriptions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm/kvm.h"

#define MAXDEV 4

struct dev_desc {
	enum vtb_dev_kind kind;
	const char *name;
	const char *sock;			  /* streams */
	const char *image, *format, *cache, *aio; /* disks */
	bool readonly;
	const char *path; /* disks: a volume's path on the libvirt host */
	const char *bus;  /* filesystems: 9p, virtiofs, tmpfs */
	int threads;	  /* virtiofs: virtiofsd's thread pool */
};

struct xml_case {
	const char *what;
	const char *accel, *cpu;
	const char *const *env;
	bool remote; /* share-nothing: no local console file or sockets */
	struct dev_desc devs[MAXDEV];
	const char *const want[12];	 /* fragments that must be present */
	const char *const absent[4];	 /* fragments that must not be */
	const char *const guest[MAXDEV]; /* each device's guest name */
};

static const char *const flush_env[] = {"LD_PRELOAD=/l/libvtbflush.so",
					"VTB_FLUSH_FILE=/t/f&1", NULL};

/* clang-format off */
static const struct xml_case cases[] = {
	{"startup, tcg", "tcg", NULL, NULL, false, {{0}},
	 {"<domain type='qemu'>", "<name>vtbench-kvm-X</name>",
	  "<kernel>/c/vmlinux</kernel>", "<initrd>/c/a.cpio</initrd>",
	  "<cmdline>console=ttyS0 vtb.ctl=vport:vtb.ctl</cmdline>",
	  "<memory unit='MiB'>256</memory>", "<vcpu>2</vcpu>",
	  "<serial type='file'>\n      <source path='/t/console.log'/>\n      <target port='0'/>",
	  "<source mode='connect' path='/t/ctl.sock'/>\n      <target type='virtio' name='vtb.ctl'/>",
	  "<on_reboot>destroy</on_reboot>", "<acpi/>",
	  "<label>+0:+0</label>"},
	 {"<cpu", "qemu:", "<disk", "<iothreads"}, {NULL}},
	{"kvm with the model the test passed", "kvm", "qemu64", NULL, false, {{0}},
	 {"<domain type='kvm'>", "<model fallback='forbid'>qemu64</model>",
	  NULL}, {NULL}, {NULL}},
	{"kvm -cpu host", "kvm", "host", NULL, false, {{0}},
	 {"<domain type='kvm'>", "<cpu mode='host-passthrough'/>", NULL},
	 {NULL}, {NULL}},
	{"virtio-serial data port", "tcg", NULL, NULL, false,
	 {{VTB_DEV_VIRTIO_SERIAL, "vtb.data", "/t/data0.sock"}},
	 {"<channel type='unix'>\n      <source mode='connect' path='/t/data0.sock'/>\n      <target type='virtio' name='vtb.data'/>",
	  NULL}, {"<serial type='unix'>", NULL}, {"vport:vtb.data"}},
	{"8250 data line after the console", "tcg", NULL, NULL, false,
	 {{VTB_DEV_SERIAL, "vtb.serial", "/t/data0.sock"}},
	 {"<serial type='unix'>\n      <source mode='connect' path='/t/data0.sock'/>\n      <target port='1'/>",
	  NULL}, {NULL}, {"/dev/ttyS1"}},
	{"read-only payload disk and a target with cache and aio", "tcg", NULL,
	 NULL, false,
	 {{VTB_DEV_DISK, "vtbpayload", NULL, "/c/p&q.raw", "raw", "writeback",
	   NULL, true},
	  {VTB_DEV_DISK, "vtbtarget", NULL, "/t/target.img", "qcow2", "none",
	   "native", false}},
	 {"<driver name='qemu' type='raw' iothread='1' cache='writeback'/>\n      <source file='/c/p&amp;q.raw'/>\n      <target dev='vda' bus='virtio'/>\n      <serial>vtbpayload</serial>\n      <alias name='ua-vtbpayload'/>\n      <readonly/>",
	  "<driver name='qemu' type='qcow2' iothread='2' cache='none' io='native'/>\n      <source file='/t/target.img'/>\n      <target dev='vdb' bus='virtio'/>\n      <serial>vtbtarget</serial>\n      <alias name='ua-vtbtarget'/>\n    </disk>",
	  "<iothreads>2</iothreads>", NULL}, {NULL},
	 {"blk:vtbpayload", "blk:vtbtarget"}},
	{"flush audit environment", "tcg", NULL, flush_env, false, {{0}},
	 {"<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>",
	  "<qemu:env name='LD_PRELOAD' value='/l/libvtbflush.so'/>",
	  "<qemu:env name='VTB_FLUSH_FILE' value='/t/f&amp;1'/>", NULL},
	 {NULL}, {NULL}},
	{"share-nothing: pty console, ports and lines through streams",
	 "tcg", NULL, NULL, true,
	 {{VTB_DEV_VIRTIO_SERIAL, "vtb.data"}, {VTB_DEV_SERIAL, "da.ta"}},
	 {"<serial type='pty'>\n      <target port='0'/>\n      <alias name='ua-vtbcon'/>",
	  "<channel type='unix'>\n      <source mode='bind'/>\n      <target type='virtio' name='vtb.ctl'/>",
	  "<channel type='unix'>\n      <source mode='bind'/>\n      <target type='virtio' name='vtb.data'/>",
	  "<serial type='pty'>\n      <target port='1'/>\n      <alias name='ua-da-ta'/>",
	  NULL},
	 {"path=", "<serial type='file'>", "<seclabel", NULL},
	 {"vport:vtb.data", "/dev/ttyS1"}},
	{"share-nothing: disks from volumes", "tcg", NULL, NULL, true,
	 {{VTB_DEV_DISK, "vtbpayload", NULL, "/c/p.raw", "raw", NULL, NULL,
	   true, "/tmp/vtbench-1-0-x/ro-p.raw"},
	  {VTB_DEV_DISK, "vtbtarget", NULL, "/t/target.img", "raw", "none",
	   NULL, false, NULL}},
	 {"<source file='/tmp/vtbench-1-0-x/ro-p.raw'/>\n      <target dev='vda'",
	  "<source file='/t/target.img'/>\n      <target dev='vdb'", NULL},
	 {"/c/p.raw", NULL}, {"blk:vtbpayload", "blk:vtbtarget"}},
	{"9p and virtiofs: <filesystem>s, the memory shared", "tcg", NULL,
	 NULL, false,
	 {{VTB_DEV_FS, "vtbfs", NULL, "/t/sh&are", NULL, "mmap", NULL, false,
	   NULL, "9p"},
	  {VTB_DEV_FS, "vtbfs2", NULL, "/t/d2", NULL, "always", NULL, false,
	   NULL, "virtiofs", 4}},
	 {"<filesystem type='mount' accessmode='squash'>\n      <source dir='/t/sh&amp;are'/>\n      <target dir='vtbfs'/>\n      <alias name='ua-vtbfs'/>",
	  "<filesystem type='mount' accessmode='passthrough'>\n      <driver type='virtiofs'/>\n      <binary path='/usr/lib/qemu/virtiofsd'>\n        <cache mode='always'/>\n        <thread_pool size='4'/>\n      </binary>\n      <source dir='/t/d2'/>\n      <target dir='vtbfs2'/>",
	  "<memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>",
	  NULL},
	 {NULL}, {"fs:vtbfs", "fs:vtbfs2"}},
	{"9p alone: no shared memory", "tcg", NULL, NULL, false,
	 {{VTB_DEV_FS, "vtbfs", NULL, "/t/s", NULL, "none", NULL, false, NULL,
	   "9p"}},
	 {"<target dir='vtbfs'/>", NULL}, {"<memoryBacking", "<driver", NULL},
	 {"fs:vtbfs"}},
	{"virtiofs auto, no pool: virtiofsd's defaults", "tcg", NULL, NULL,
	 false,
	 {{VTB_DEV_FS, "vtbfs", NULL, "/t/s", NULL, "auto", NULL, false, NULL,
	   "virtiofs", 0}},
	 {"<binary path='/usr/lib/qemu/virtiofsd'>\n      </binary>",
	  "<memoryBacking>", NULL},
	 {"<cache mode", "<thread_pool", NULL}, {"fs:vtbfs"}},
	{"tmpfs: the guest's own, no device", "tcg", NULL, NULL, false,
	 {{VTB_DEV_FS, "vtbfs", NULL, NULL, NULL, NULL, NULL, false, NULL,
	   "tmpfs"}},
	 {"<devices>", NULL}, {"<filesystem", "<memoryBacking", NULL},
	 {"fs:tmpfs"}},
};
/* clang-format on */

/* libvirt's own schema check, where libvirt-clients is installed. */
static void validate(const char *xml, const char *what)
{
	g_autofree char *tool = g_find_program_in_path("virt-xml-validate");
	g_autofree char *path = NULL, *out = NULL, *errs = NULL;
	const char *argv[] = {tool, NULL, "domain", NULL};
	int fd, status = 0;

	if (!tool)
		return;
	fd = g_file_open_tmp("vtb-domxml-XXXXXX.xml", &path, NULL);
	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_set_contents(path, xml, -1, NULL));
	argv[1] = path;
	assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out,
				 &errs, &status, NULL));
	unlink(path);
	if (!g_spawn_check_wait_status(status, NULL))
		fail_msg("case '%s': virt-xml-validate: %s%s\n%s", what, out,
			 errs, xml);
}

static void test_domain_xml(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct xml_case *c = &cases[i];
		struct vtb_device devs[MAXDEV] = {0};
		struct vtb_device *pdev[MAXDEV];
		const char *paths[MAXDEV] = {0};
		struct vtb_domxml_devs xd;
		size_t n = 0;
		g_autoptr(GError) e = NULL;
		g_autofree char *xml = NULL;
		struct vtb_domxml_cfg cfg = {
			.name = "vtbench-kvm-X",
			.accel = c->accel,
			.cpu = c->cpu,
			.kernel = "/c/vmlinux",
			.initrd = "/c/a.cpio",
			.append = "console=ttyS0 vtb.ctl=vport:vtb.ctl",
			.mem_mb = 256,
			.smp = 2,
			.console_log = "/t/console.log",
			.ctl_sock = "/t/ctl.sock",
			.dac_label = "+0:+0",
			.qemu_env = c->env,
		};

		for (; n < MAXDEV && c->devs[n].name; n++) {
			const struct dev_desc *d = &c->devs[n];

			devs[n] = (struct vtb_device){
				.kind = d->kind,
				.name = (char *)d->name,
				.end_path = (char *)d->sock,
				.bus = d->bus ? d->bus : "virtio-blk",
				.image = (char *)d->image,
				.format = d->format,
				.cache = d->cache,
				.aio = d->aio,
				.readonly = d->readonly,
				.threads = d->threads,
			};
			pdev[n] = &devs[n];
			paths[n] = d->path;
		}
		if (c->remote) {
			cfg.console_log = cfg.ctl_sock = NULL;
			cfg.dac_label = NULL;
		}
		/* As the libvirt driver's rows attach them. */
		vtb_domxml_devs_init(&xd);
		for (size_t k = 0; k < n; k++)
			if (pdev[k]->kind == VTB_DEV_SERIAL)
				vtb_domxml_add_serial(&xd, pdev[k]);
			else if (pdev[k]->kind == VTB_DEV_VIRTIO_SERIAL)
				vtb_domxml_add_port(&xd, pdev[k]);
			else if (pdev[k]->kind == VTB_DEV_FS) {
				if (!vtb_domxml_add_fs(
					    &xd, pdev[k],
					    "/usr/lib/qemu/virtiofsd", &e))
					fail_msg("case '%s': %s", c->what,
						 e->message);
			} else if (!vtb_domxml_add_disk(
					   &xd, pdev[k],
					   c->remote ? paths[k] : NULL, &e))
				fail_msg("case '%s': %s", c->what, e->message);
		cfg.devs = &xd;
		xml = vtb_domain_xml(&cfg);
		vtb_domxml_devs_clear(&xd);
		if (!xml)
			fail_msg("case '%s': no XML", c->what);
		for (int k = 0; k < 12 && c->want[k]; k++)
			if (!strstr(xml, c->want[k]))
				fail_msg("case '%s': missing\n%s\nin\n%s",
					 c->what, c->want[k], xml);
		for (int k = 0; k < 4 && c->absent[k]; k++)
			if (strstr(xml, c->absent[k]))
				fail_msg("case '%s': unexpected %s in\n%s",
					 c->what, c->absent[k], xml);
		for (size_t k = 0; k < n; k++) {
			assert_non_null(devs[k].guest);
			assert_string_equal(devs[k].guest, c->guest[k]);
			g_free(devs[k].guest);
		}
		validate(xml, c->what);
	}
}

/* A disk libvirt's QEMU cannot take is an error naming it. */
static void test_ubd_refused(void **state)
{
	struct vtb_device d = {.kind = VTB_DEV_DISK,
			       .name = "vtbtarget",
			       .bus = "ubd",
			       .image = "/t/x",
			       .format = "raw"};
	struct vtb_domxml_devs xd;
	g_autoptr(GError) e = NULL;

	vtb_domxml_devs_init(&xd);
	assert_false(vtb_domxml_add_disk(&xd, &d, NULL, &e));
	assert_non_null(e);
	assert_non_null(strstr(e->message, "ubd disk (vtbtarget)"));
	/* Nothing of it reaches the domain. */
	assert_int_equal(xd.ndisk, 0);
	assert_int_equal(xd.xml->len, 0);
	vtb_domxml_devs_clear(&xd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_xml),
		cmocka_unit_test(test_ubd_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
