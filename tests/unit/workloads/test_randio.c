/* Unit tests: randio's fio options, its default size, and fio's JSON (real
 * output of this machine's fio 3.33, in tests/unit/data/fio/) to metrics. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/testutil.h"
#include "workloads/randio.h"

#define MIB (1ull << 20)

/* ---- fio's options ---- */

static const char *const all3[] = {"randread", "randwrite", "randrw", NULL};
static const char *const rw_only[] = {"randrw", NULL};
static const char *const unknown[] = {"randread", "seqread", NULL};
static const char *const none[] = {NULL};

#define GLOBAL                                                                 \
	"--output-format=json --filename=/mnt/randio.dat --size=536870912 "    \
	"--bs=4k --ioengine=libaio --iodepth=1 --numjobs=2 --thread "          \
	"--group_reporting --time_based "

struct args_case {
	const char *name;
	struct vtb_fio_params p;
	const char *want; /* the options, or NULL: refused */
	const char *err;  /* in the refusal */
};

static char long_name[VTB_STR_ARGS];

static const struct args_case args_cases[] = {
	{"the article's three jobs, two threads",
	 {"/mnt/randio.dat", 512 * MIB, 10, 2, all3},
	 GLOBAL "--runtime=10000ms --percentile_list=50:99:99.9 "
		"--name=randread --rw=randread --stonewall "
		"--name=randwrite --rw=randwrite --stonewall "
		"--name=randrw --rw=randrw --rwmixread=70 --stonewall"},
	{"fractional runtime in ms",
	 {"/mnt/randio.dat", 512 * MIB, 2.5, 2, rw_only},
	 GLOBAL "--runtime=2500ms --percentile_list=50:99:99.9 "
		"--name=randrw --rw=randrw --rwmixread=70 --stonewall"},
	{"extra global options before the jobs, spaces squeezed",
	 {"/mnt/randio.dat", 512 * MIB, 10, 2, rw_only,
	  " --ioengine=x  --a=1 "},
	 GLOBAL "--runtime=10000ms --percentile_list=50:99:99.9 --ioengine=x "
		"--a=1 --name=randrw --rw=randrw --rwmixread=70 --stonewall"},
	{"a file name with a space",
	 {"/mnt/my file", 512 * MIB, 10, 1, all3},
	 NULL,
	 "has a space"},
	{"a file name with a tab",
	 {"/mnt/my\tfile", 512 * MIB, 10, 1, all3},
	 NULL,
	 "has a space"},
	{"no file name", {"", 512 * MIB, 10, 1, all3}, NULL, "is empty"},
	{"less than a block",
	 {"/mnt/x", 4095, 10, 1, all3},
	 NULL,
	 "less than one 4k block"},
	{"runtime 0", {"/mnt/x", MIB, 0, 1, all3}, NULL, "runtime 0 s"},
	{"runtime NaN", {"/mnt/x", MIB, NAN, 1, all3}, NULL, "runtime nan"},
	{"numjobs 0", {"/mnt/x", MIB, 1, 0, all3}, NULL, "numjobs 0"},
	{"an unknown job",
	 {"/mnt/x", MIB, 1, 1, unknown},
	 NULL,
	 "unknown fio job \"seqread\""},
	{"no job", {"/mnt/x", MIB, 1, 1, none}, NULL, "no fio job"},
	{"longer than RUN's args",
	 {long_name, MIB, 1, 1, all3},
	 NULL,
	 "more than a RUN's 1023"},
};

static void test_args(void **state)
{
	const struct args_case *c = *state;
	g_autoptr(GError) err = NULL;
	g_autofree char *got = vtb_fio_args(&c->p, &err);

	if (!c->want) {
		assert_null(got);
		assert_non_null(err);
		assert_int_equal(err->code, VTB_ERR_USAGE);
		print_message("%s\n", err->message);
		assert_non_null(strstr(err->message, c->err));
		return;
	}
	assert_null(err);
	assert_string_equal(got, c->want);
	/* What the agent splits on single spaces: no empty option. */
	assert_null(strstr(got, "  "));
	assert_true(strlen(got) < VTB_STR_ARGS);
}

/* ---- the default size ---- */

static const struct size_case {
	const char *name;
	guint64 mem, room, want;
} size_cases[] = {
	{"2x --mem on the default 1G disk", 256 * MIB, 1024 * MIB, 512 * MIB},
	{"90 % of a 512M disk, whole MiB", 256 * MIB, 512 * MIB, 460 * MIB},
	{"tmpfs: 90 % of 40 % of --mem", 256 * MIB, 256 * MIB / 5 * 2,
	 92 * MIB},
	{"a host directory: no cap", 2048 * MIB, 0, 4096 * MIB},
	{"never below 1 MiB", 64 * MIB, MIB, MIB},
};

static void test_default_size(void **state)
{
	const struct size_case *c = *state;

	assert_int_equal(vtb_fio_default_size(c->mem, c->room), c->want);
}

/* ---- fio's JSON ---- */

/* A metric the sample must have, by name. */
struct want_metric {
	const char *name;
	double v;
};

struct json_case {
	const char *name;
	const char *file; /* in tests/unit/data/fio, or NULL: text */
	const char *text;
	gssize cut; /* keep this many bytes of it; -1: all */
	const char *const *jobs;
	const char *err;    /* NULL: parsed */
	unsigned n_metrics; /* when parsed */
	int direct;	    /* when parsed */
	guint64 bytes;	    /* when parsed */
	struct want_metric want[4];
};

static const char *const rr[] = {"randread", NULL};

static const struct json_case json_cases[] = {
	{"three jobs, two threads each, direct",
	 "three-jobs.json",
	 NULL,
	 -1,
	 all3,
	 NULL,
	 20,
	 1,
	 289959936,
	 {{"randread_read_iops", 31089.91009},
	  {"randread_read_clat_p99_us", 162.816},
	  {"randrw_write_clat_p99_9_us", 7700.48},
	  {"randrw_write_mb_per_s", 22.705998}}},
	{"only the job asked for",
	 "three-jobs.json",
	 NULL,
	 -1,
	 rw_only,
	 NULL,
	 10,
	 1,
	 53460992 + 22728704,
	 {{"randrw_read_mb_per_s", 53.407584},
	  {"randrw_write_iops", 5543.456543}}},
	{"buffered (direct=0)",
	 "buffered-randrw.json",
	 NULL,
	 -1,
	 rw_only,
	 NULL,
	 10,
	 0,
	 50335744,
	 {{"randrw_read_iops", 17133.732535},
	  {"randrw_read_clat_p50_us", 1.576},
	  {"randrw_write_clat_p99_9_us", 17.792}}},
	{"a job that errored (ENOSPC), after fio's messages", "enospc.json",
	 NULL, -1, all3,
	 "fio job randread failed: error 28 (No space left on device)"},
	{"a job fio did not run", "buffered-randrw.json", NULL, -1, rr,
	 "fio's JSON has no job randread"},
	{"cut short", "three-jobs.json", NULL, 5000, all3, "fio's JSON: "},
	{"cut after its first brace", "three-jobs.json", NULL, 1, all3,
	 "fio's JSON: "},
	{"empty", NULL, "", -1, all3, "fio's output holds no JSON (0 bytes)"},
	{"only fio's complaint", NULL,
	 "fio: engine libaio not loadable\nfio: failed to load engine\n", -1,
	 all3,
	 "holds no JSON (59 bytes: fio: engine libaio not loadable fio: "
	 "failed to load engine)"},
	{"an array", NULL, "[1, 2]\n", -1, all3, "holds no JSON"},
	{"not an object after all", NULL, "{\"jobs\": [}", -1, all3,
	 "fio's JSON: "},
	{"no jobs", NULL, "{}", -1, all3, "has no \"jobs\" array"},
	{"jobs not an array", NULL, "{\"jobs\": {}}", -1, all3,
	 "has no \"jobs\" array"},
	{"error not a number", NULL,
	 "{\"jobs\": [{\"jobname\": \"randread\", \"error\": \"0\"}]}", -1, rr,
	 "fio job randread: no \"error\""},
	{"no read object", NULL,
	 "{\"jobs\": [{\"jobname\": \"randread\", \"error\": 0}]}", -1, rr,
	 "fio job randread: no \"read\""},
	{"no I/O in a direction it does", NULL,
	 "{\"jobs\": [{\"jobname\": \"randread\", \"error\": 0, \"read\": "
	 "{\"total_ios\": 0, \"iops\": 0, \"bw_bytes\": 0, \"io_bytes\": 0}}]}",
	 -1, rr, "fio job randread did no read I/O"},
	{"iops a string", NULL,
	 "{\"jobs\": [{\"jobname\": \"randread\", \"error\": 0, \"read\": "
	 "{\"total_ios\": 5, \"iops\": \"5\", \"bw_bytes\": 0, \"io_bytes\": "
	 "0}}]}",
	 -1, rr, "read lacks total_ios, iops"},
	{"no percentiles", NULL,
	 "{\"jobs\": [{\"jobname\": \"randread\", \"error\": 0, \"read\": "
	 "{\"total_ios\": 5, \"iops\": 5, \"bw_bytes\": 20480, \"io_bytes\": "
	 "20480, \"clat_ns\": {}}}]}",
	 -1, rr, "fio job randread: no read.clat_ns.percentile[\"50.000000\"]"},
	{"p99.9 missing", NULL,
	 "{\"jobs\": [{\"jobname\": \"randread\", \"error\": 0, \"read\": "
	 "{\"total_ios\": 5, \"iops\": 5, \"bw_bytes\": 20480, \"io_bytes\": "
	 "20480, \"clat_ns\": {\"percentile\": {\"50.000000\": 1000, "
	 "\"99.000000\": 2000}}}}]}",
	 -1, rr, "percentile[\"99.900000\"]"},
	{"minimal and good, no global options",
	 NULL,
	 "{\"jobs\": [{\"jobname\": \"randread\", \"error\": 0, \"read\": "
	 "{\"total_ios\": 5, \"iops\": 5, \"bw_bytes\": 20480, \"io_bytes\": "
	 "20480, \"clat_ns\": {\"percentile\": {\"50.000000\": 1000, "
	 "\"99.000000\": 2000, \"99.900000\": 3000}}}}]}",
	 -1,
	 rr,
	 NULL,
	 5,
	 -1,
	 20480,
	 {{"randread_read_iops", 5}, {"randread_read_clat_p99_9_us", 3}}},
	{"an unknown job asked for", "three-jobs.json", NULL, -1, unknown,
	 "unknown fio job seqread"},
};

static char *data_file(const char *name, gsize *len)
{
	const char *src = g_getenv("VTB_SRCDIR");
	g_autofree char *path = g_build_filename(
		src ? src : ".", "tests", "unit", "data", "fio", name, NULL);
	char *text = NULL;

	assert_true(g_file_get_contents(path, &text, len, NULL));
	return text;
}

static double metric(const struct vtb_sample *s, const char *name)
{
	for (guint i = 0; s->metrics && i < s->metrics->len; i++) {
		const struct vtb_metric *m =
			&g_array_index(s->metrics, struct vtb_metric, i);

		if (!strcmp(m->name, name))
			return m->v;
	}
	return NAN;
}

static void test_json(void **state)
{
	const struct json_case *c = *state;
	g_autoptr(GError) err = NULL;
	g_autofree char *text = NULL;
	struct vtb_sample s = {0};
	gsize len = 0;
	int direct = 7;
	guint64 bytes = 7;
	gboolean ok;

	if (c->file) {
		text = data_file(c->file, &len);
	} else {
		text = g_strdup(c->text);
		len = strlen(text);
	}
	if (c->cut >= 0)
		len = MIN(len, (gsize)c->cut);
	ok = vtb_fio_metrics(text, len, c->jobs, &s, &direct, &bytes, &err);
	if (c->err) {
		assert_false(ok);
		assert_non_null(err);
		print_message("%s\n", err->message);
		assert_int_equal(err->code, VTB_ERR_RUN);
		assert_non_null(strstr(err->message, c->err));
		/* Nothing of a failed parse lands in the sample. */
		assert_true(!s.metrics || s.metrics->len == 0);
	} else {
		assert_null(err);
		assert_true(ok);
		assert_non_null(s.metrics);
		assert_int_equal(s.metrics->len, c->n_metrics);
		assert_int_equal(direct, c->direct);
		assert_int_equal(bytes, c->bytes);
		for (gsize i = 0; i < G_N_ELEMENTS(c->want) && c->want[i].name;
		     i++) {
			double v = metric(&s, c->want[i].name);

			print_message("%s = %g\n", c->want[i].name, v);
			assert_true(fabs(v - c->want[i].v) <=
				    1e-9 * fabs(c->want[i].v));
		}
		/* Every metric's name is JOB_DIR_WHAT of a job asked for. */
		for (guint i = 0; i < s.metrics->len; i++) {
			const char *n =
				g_array_index(s.metrics, struct vtb_metric, i)
					.name;
			bool mine = false;

			for (int j = 0; c->jobs[j]; j++)
				mine |= g_str_has_prefix(n, c->jobs[j]) &&
					n[strlen(c->jobs[j])] == '_';
			assert_true(mine);
		}
	}
	vtb_sample_clear(&s);
}

int main(void)
{
	GArray *tests = g_array_new(FALSE, FALSE, sizeof(struct CMUnitTest));

	memset(long_name, 'x', sizeof(long_name) - 200);
	long_name[0] = '/';
	for (gsize i = 0; i < G_N_ELEMENTS(args_cases); i++)
		vtbt_add(tests, args_cases[i].name, test_args, &args_cases[i]);
	for (gsize i = 0; i < G_N_ELEMENTS(size_cases); i++)
		vtbt_add(tests, size_cases[i].name, test_default_size,
			 &size_cases[i]);
	for (gsize i = 0; i < G_N_ELEMENTS(json_cases); i++)
		vtbt_add(tests, json_cases[i].name, test_json, &json_cases[i]);
	return vtbt_run(tests, "randio", NULL, NULL);
}
