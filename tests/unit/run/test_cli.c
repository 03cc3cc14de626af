/* Unit tests: option parsing and validation from the option table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/registry.h"
#include "kvm/kvm.h"
#include "run/cli.h"
#include "run/options.h"
#include "uml/uml.h"

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
	{"--workload randio --fio-runtime 2 --fio-size 64M --fio-jobs randrw",
	 true, NULL, 5, 1, "uml,kvm", 500ULL << 20},
	{"--workload randio --fio-size 1K", false,
	 "--fio-size 1K: at least one 4k block"},
	{"--workload randio --fio-jobs randread,seqread", false,
	 "--fio-jobs: unknown value 'seqread'"},
	{"--workload randio --fio-runtime 0", false,
	 "--fio-runtime: not a number of seconds"},
	{"--workload untar", true, NULL, 5, 1, "uml,kvm", 500ULL << 20},
	{"--workload untar --tarball /etc/passwd", false, "not a tar archive"},
	{"--target sshfs --sshfs-cache yes,no --sshfs-channel serial", true,
	 NULL, 5, 1, "uml,kvm", 500ULL << 20},
	{"--target sshfs --sshfs-cache maybe", false,
	 "--sshfs-cache: unknown value 'maybe' (known: yes, no)"},
	{"--target sshfs --sshfs-channel usb", false,
	 "--sshfs-channel: unknown value 'usb'"},
	{"--target 9p,virtiofs,hostfs,tmpfs --9p-cache none,mmap "
	 "--9p-msize 128K --virtiofs-cache always --virtiofs-threads 4",
	 true, NULL, 5, 1, "uml,kvm", 500ULL << 20},
	{"--9p-msize 1K", false, "--9p-msize: not a 9p msize from 4K to 2M"},
	{"--9p-msize 4M", false, "--9p-msize: not a 9p msize"},
	{"--9p-cache lots", false, "--9p-cache: unknown value 'lots'"},
	{"--virtiofs-cache never", false, "--virtiofs-cache: unknown value"},
	{"--virtiofs-threads 5000", false,
	 "--virtiofs-threads: not a thread-pool size from 0 to 1024"},
	{"--virtiofs-threads 4,x", false,
	 "--virtiofs-threads: not a thread-pool"},
	{"--9p-msize 128K,4M", false, "--9p-msize: not a 9p msize"},
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
	/* Bounds: nothing overflows, nothing the host cannot give. */
	{"--runs 2147483647 --warmup 1", false, "--runs: at most 100000, got"},
	{"--runs 100000 --warmup 1000", true, NULL, 100000, 1000, "uml,kvm",
	 500ULL << 20},
	{"--warmup 1001", false, "--warmup: at most 1000, got 1001"},
	{"--cpus 999", false, "--cpus: at most "},
	{"--mem 2147483647", false, "MiB (this host's memory), got 2147483647"},
	{"--timeout 1e-9", false, "--timeout: not a number of seconds (0.1 <="},
	{"--timeout 0.1", true, NULL, 5, 1, "uml,kvm", 500ULL << 20},
	/* roundtrip's message count: 1 to 10^8 (32 bits on the wire) */
	{"--workload roundtrip --size 1T --msg-size 64", false,
	 "--msg-size 64 is 17179869184 messages: it must be 1 to 100000000"},
	{"--workload roundtrip --size 32 --msg-size 64", false,
	 "is 0 messages"},
	{"--workload roundtrip --size 1T --msg-size 1M", true, NULL, 5, 1,
	 "uml,kvm", 1ULL << 40},
	{"--workload startup --size 1T", true, NULL, 5, 1, "uml,kvm",
	 1ULL << 40},
	/* mount options go on the guest's kernel command line */
	{"--mount-opts sync\tinit=/bin/sh", false,
	 "--mount-opts: 'sync\tinit=/bin/sh' has a space, quote or control"},
	{"--mount-opts sync\"init=/bin/sh", false, "has a space, quote"},
	{"--mount-opts sync,noatime", true, NULL, 5, 1, "uml,kvm",
	 500ULL << 20},
	/* output files: their directory takes them, before anything runs */
	{"--json /nonexistent/dir/r.json", false,
	 "--json: cannot write /nonexistent/dir/r.json: /nonexistent/dir: No "
	 "such file or directory"},
	{"--json /", false, "--json: / is a directory"},
	{"--csv /etc/passwd/r.csv", false, "/etc/passwd: Not a directory"},
	{"--json /dev/null", false, "--json: /dev/null is not a regular file"},
	{"--json /tmp/r.json --csv r.csv", true, NULL, 5, 1, "uml,kvm",
	 500ULL << 20},
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

/* A workload's own option: parsed into its struct, in --help under it. */
static void test_workload_options(void **state)
{
	const struct vtb_workload_ops *rt = vtb_workload_find("roundtrip");
	char *a[] = {"--msg-size", "1K", "--msg-size=64"};
	const struct vtb_msg_axis *axis;
	struct vtb_opts o;
	bool help;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(rt->options);
	assert_true(vtb_cli_parse_run(0, NULL, &o, &help, NULL));
	axis = vtb_workload_opts(&o, rt);
	assert_non_null(axis);
	assert_false(axis->given);
	assert_int_equal(g_strv_length(axis->sizes), 2);
	assert_string_equal(axis->sizes[1], "4K");
	vtb_opts_clear(&o);
	/* Given twice: the user's two, not the default's. */
	assert_true(vtb_cli_parse_run(3, a, &o, &help, NULL));
	axis = vtb_workload_opts(&o, rt);
	assert_true(axis->given);
	assert_int_equal(g_strv_length(axis->sizes), 2);
	assert_string_equal(axis->sizes[0], "1K");
	assert_string_equal(axis->sizes[0], "1K");
	assert_string_equal(axis->sizes[1], "64");
	vtb_opts_clear(&o);
	for (int i = 0; i < VTB_MAX_WORKLOADS; i++)
		assert_null(o.workload_opts[i]);
	f = open_memstream(&buf, &len);
	vtb_cli_print_run_help(f);
	fclose(f);
	assert_non_null(strstr(buf, "Options of workload roundtrip:\n"
				    "  --msg-size LIST"));
	free(buf);
}

/* A backend's own options: parsed into its struct (defaults applied), in
 * --help under its name, freed with the rest. */
static void test_backend_options(void **state)
{
	/* --cpus is bounded by this host's CPUs: ask for all of them. */
	guint ncpu = g_get_num_processors();
	g_autofree char *cpus = g_strdup_printf("%u", ncpu);
	char *a[] = {"--kvm-kernel",	"/k",	   "--cpus", cpus,
		     "--uml-xstate=on", "--accel", "tcg"};
	const struct vtb_kvm_opts *k;
	const struct vtb_uml_opts *u;
	struct vtb_opts o;
	bool help;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_true(vtb_cli_parse_run(0, NULL, &o, &help, NULL));
	k = vtb_backend_opts(&o, &vtb_backend_kvm);
	u = vtb_backend_opts(&o, &vtb_backend_uml);
	assert_non_null(k);
	assert_non_null(u);
	assert_null(k->kernel);
	assert_string_equal(k->accel, "auto");
	assert_string_equal(k->qemu, "qemu-system-x86_64");
	assert_string_equal(k->connect, "qemu:///system");
	assert_int_equal(k->cpus, 1);
	assert_string_equal(u->xstate, "auto");
	assert_null(u->kernel);
	vtb_opts_clear(&o);
	assert_true(vtb_cli_parse_run(7, a, &o, &help, NULL));
	k = vtb_backend_opts(&o, &vtb_backend_kvm);
	u = vtb_backend_opts(&o, &vtb_backend_uml);
	assert_string_equal(k->kernel, "/k");
	assert_string_equal(k->accel, "tcg");
	assert_int_equal(k->cpus, ncpu);
	assert_string_equal(u->xstate, "on");
	vtb_opts_clear(&o);
	for (int i = 0; i < VTB_MAX_BACKENDS; i++)
		assert_null(o.backend_opts[i]);
	f = open_memstream(&buf, &len);
	vtb_cli_print_run_help(f);
	fclose(f);
	assert_non_null(strstr(buf, "Options of backend uml:\n"
				    "  --uml-kernel PATH"));
	assert_non_null(strstr(buf, "Options of backend kvm:\n"
				    "  --accel auto|kvm|tcg"));
	free(buf);
}

struct cmd_opts {
	char *out;
	double pct;
	bool flag;
};

#define COFF(f) offsetof(struct cmd_opts, f)
static const struct vtb_option cmd_table[] = {
	{.name = "output",
	 .short_name = 'o',
	 .type = VTB_OPT_STR,
	 .offset = COFF(out),
	 .metavar = "FILE",
	 .help = "out",
	 .given = -1},
	{.name = "pct",
	 .type = VTB_OPT_NUM,
	 .offset = COFF(pct),
	 .def = "5",
	 .metavar = "PCT",
	 .help = "pct",
	 .given = -1,
	 .check_num = vtb_check_percent},
	{.name = "flag",
	 .type = VTB_OPT_FLAG,
	 .offset = COFF(flag),
	 .help = "flag",
	 .given = -1},
	{.name = NULL},
};

struct cmd_case {
	const char *args;
	bool ok;
	const char *msg;   /* substring of the error, when !ok */
	const char *out;   /* expected when ok */
	double pct;	   /* expected when ok */
	const char *files; /* positionals, joined with ',' */
};

/* The engine as compare and report use it: positionals, -o, numbers. */
static void test_engine(void **state)
{
	static const struct cmd_case cases[] = {
		{"a b", true, NULL, NULL, 5, "a,b"},
		{"-o x.html a", true, NULL, "x.html", 5, "a"},
		{"a --output=y --pct 12.5 b", true, NULL, "y", 12.5, "a,b"},
		{"--flag -", true, NULL, NULL, 5, "-"},
		{"--pct 2000", false, "--pct: a percentage from 0 to 1000"},
		{"--pct nan", false, "--pct: not a number: 'nan'"},
		{"--pct 1x", false, "--pct: not a number"},
		{"-x", false, "unknown option -x"},
		{"-oo", false, "unknown option -oo"},
		{"--nope", false, "unknown option --nope"},
		{"-o", false, "--output needs a value (FILE)"},
		{"--output=", false, "--output: empty value"},
		{"--flag=1", false, "--flag takes no value"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(GStrv) argv = g_strsplit(cases[i].args, " ", -1);
		g_autoptr(GPtrArray) pos = g_ptr_array_new();
		g_autoptr(GError) e = NULL;
		struct cmd_opts o = {0};
		struct vtb_optset sets[] = {{NULL, cmd_table, &o}, {0}};
		bool help;
		gboolean ok = vtb_options_parse(sets, (int)g_strv_length(argv),
						argv, pos, &help, &e);

		if (ok != cases[i].ok)
			fail_msg("'%s': %s", cases[i].args,
				 e ? e->message : "accepted");
		if (!ok) {
			assert_int_equal(e->code, VTB_ERR_USAGE);
			if (!strstr(e->message, cases[i].msg))
				fail_msg("'%s': '%s' lacks '%s'", cases[i].args,
					 e->message, cases[i].msg);
		} else {
			g_autofree char *files = NULL;

			g_ptr_array_add(pos, NULL);
			files = g_strjoinv(",", (char **)pos->pdata);
			assert_string_equal(files, cases[i].files);
			assert_true(o.pct == cases[i].pct);
			if (cases[i].out)
				assert_string_equal(o.out, cases[i].out);
			else
				assert_null(o.out);
		}
		vtb_options_clear(cmd_table, &o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_given_flags),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_workload_options),
		cmocka_unit_test(test_backend_options),
		cmocka_unit_test(test_engine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
