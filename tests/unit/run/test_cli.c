/* Unit tests: option parsing and validation from the option table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "run/cli.h"

struct cli_case {
	const char *args; /* space-separated */
	bool ok;
	const char *msg;      /* substring of the error, when !ok */
	int runs, warmup;     /* expected, when ok */
	const char *backends; /* expected, joined with ',' */
	guint64 size;
};

static const struct cli_case cli_cases[] = {
	{"", true, NULL, 5, 1, "uml,kvm", 500ULL << 20},
	{"--runs 10 --warmup 0", true, NULL, 10, 0, "uml,kvm", 500ULL << 20},
	{"--runs=3 --backend kvm", true, NULL, 3, 1, "kvm", 500ULL << 20},
	{"--backend uml --backend kvm,uml", true, NULL, 5, 1, "uml,kvm",
	 500ULL << 20},
	{"--size 4K", true, NULL, 5, 1, "uml,kvm", 4096},
	{"--size 1GiB", true, NULL, 5, 1, "uml,kvm", 1ULL << 30},
	{"--runs 0", false, "--runs: must be at least 1, got 0"},
	{"--runs -2", false, "must be at least 1"},
	{"--runs x", false, "--runs: not a number"},
	{"--warmup -1", false, "--warmup: must be at least 0"},
	{"--backend foo", false, "unknown backend 'foo'"},
	{"--backend uml,", false, "empty item"},
	{"--workload nope", false, "unknown workload 'nope'"},
	{"--workload untar", false, "not implemented"},
	{"--transport 9p", false, "not implemented"},
	{"--transport serial,virtio-serial --workload upload", true, NULL, 5, 1,
	 "uml,kvm", 500ULL << 20},
	{"--image qcow2,raw-prealloc --fs ext4 --cache none,sync", true, NULL,
	 5, 1, "uml,kvm", 500ULL << 20},
	{"--image vmdk", false, "--image: unknown value 'vmdk'"},
	{"--fs xfs", false, "--fs: unknown value 'xfs'"},
	{"--target nvme", false, "--target: unknown value 'nvme'"},
	{"--aio posix", false, "--aio: unknown value 'posix'"},
	{"--msg-size 0", false, "--msg-size: not a message size"},
	{"--msg-size 2M", false, "--msg-size: not a message size"},
	{"--verify maybe", false, "--verify: unknown value 'maybe'"},
	{"--payload ones", false, "--payload: unknown value 'ones'"},
	{"--cpus 0", false, "--cpus: must be at least 1"},
	{"--disk-size 0", false, "--disk-size: must be more than 0"},
	{"--transport carrier-pigeon", false, "unknown transport"},
	{"--accel fast", false, "unknown value 'fast'"},
	{"--cache none,bogus", false, "unknown value 'bogus'"},
	{"--size 0", false, "must be more than 0"},
	{"--size 12Q", false, "not a size"},
	{"--size 99999999999999T", false, "not a size"},
	{"--timeout 0", false, "--timeout: not a number of seconds"},
	{"--frobnicate", false, "unknown option --frobnicate"},
	{"--runs", false, "--runs needs a value"},
	{"stray", false, "unexpected argument 'stray'"},
	{"--quiet=yes", false, "takes no value"},
	{"--driver direct,libvirt", true, NULL, 5, 1, "uml,kvm", 500ULL << 20},
	{"--driver vmm", false, "--driver: unknown value 'vmm'"},
	{"--mem 10", false, "--mem: must be at least 64"},
};

static void test_parse(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cli_cases); i++) {
		const struct cli_case *c = &cli_cases[i];
		g_auto(GStrv) argv = g_strsplit(c->args, " ", -1);
		int argc = *c->args ? (int)g_strv_length(argv) : 0;
		g_autoptr(GError) e = NULL;
		struct vtb_opts o;
		bool help;
		gboolean ok = vtb_cli_parse_run(argc, argv, &o, &help, &e);

		if (ok != c->ok)
			fail_msg("case '%s': ok=%d, error: %s", c->args, ok,
				 e ? e->message : "none");
		if (c->ok) {
			g_autofree char *be = g_strjoinv(",", o.backends);

			assert_int_equal(o.runs, c->runs);
			assert_int_equal(o.warmup, c->warmup);
			assert_string_equal(be, c->backends);
			assert_true(o.size == c->size);
		} else {
			assert_int_equal(e->code, VTB_ERR_USAGE);
			if (!strstr(e->message, c->msg))
				fail_msg("case '%s': message '%s' lacks '%s'",
					 c->args, e->message, c->msg);
			/* One line. */
			assert_null(strchr(e->message, '\n'));
		}
		vtb_opts_clear(&o);
	}
}

static void test_given_flags(void **state)
{
	char *a1[] = {"--backend", "kvm"};
	struct vtb_opts o;
	bool help;

	assert_true(vtb_cli_parse_run(2, a1, &o, &help, NULL));
	assert_true(o.backends_given);
	assert_false(o.workloads_given);
	vtb_opts_clear(&o);
	assert_true(vtb_cli_parse_run(0, NULL, &o, &help, NULL));
	assert_false(o.backends_given);
	vtb_opts_clear(&o);
}

static void test_help(void **state)
{
	char *a[] = {"--runs", "3", "--help"};
	struct vtb_opts o;
	bool help;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_true(vtb_cli_parse_run(3, a, &o, &help, NULL));
	assert_true(help);
	vtb_opts_clear(&o);
	vtb_cli_print_run_help(f);
	fclose(f);
	/* Every option in the table appears in --help. */
	for (const struct vtb_option *op = vtb_run_options; op->name; op++) {
		g_autofree char *flag = g_strdup_printf("--%s", op->name);

		assert_non_null(strstr(buf, flag));
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_given_flags),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
