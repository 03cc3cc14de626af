/* Unit tests: the UML and QEMU command lines built from a description. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/kvm.h"
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
	  "vtb.off=poweroff", NULL},
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
	assert_true(vtb_kvm_default_timeout("tcg") >
		    vtb_kvm_default_timeout("kvm"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uml_argv),
		cmocka_unit_test(test_qemu_argv),
		cmocka_unit_test(test_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
