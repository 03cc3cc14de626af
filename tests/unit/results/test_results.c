/* Unit tests: CSV quoting and columns, and the JSON that compare reads back. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "run/cli.h"
#include "core/registry.h"
#include "results/resfile.h"
#include "results/results.h"
#include "tests/unit/testutil.h"

/* A nasty error message: comma, quotes, newline, carriage return. */
#define NASTY "boot: guest said \"no, never\"\r\nthen, \"oops\""

struct csv_case {
	const char *in, *out;
};

static void test_csv_field(void **state)
{
	static const struct csv_case cases[] = {
		{NULL, ""},	      {"", ""},
		{"plain", "plain"},   {"with space", "with space"},
		{"a,b", "\"a,b\""},   {"say \"hi\"", "\"say \"\"hi\"\"\""},
		{"\"", "\"\"\"\""},   {"line\nbreak", "\"line\nbreak\""},
		{"cr\r", "\"cr\r\""}, {"kvm/direct/tcg", "kvm/direct/tcg"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GString) s = g_string_new(NULL);

		vtb_csv_field(s, cases[i].in);
		assert_string_equal(s->str, cases[i].out);
	}
}

static struct vtb_sample *sample(bool warmup, bool ok, double secs,
				 guint64 bytes)
{
	struct vtb_sample *s = g_new0(struct vtb_sample, 1);

	s->warmup = warmup;
	s->ok = ok;
	s->seconds = secs;
	s->bytes = bytes;
	if (ok) {
		s->guest_release = g_strdup("6.1.0");
		vtb_sample_add_phase(s, "vmm_to_kernel", 0.02);
		vtb_sample_add_phase(s, "kernel_to_init", secs - 0.03);
	}
	return s;
}

/* One uml cell: a warm-up, two ok runs (one moved bytes), one failure. */
static void make_matrix(struct vtb_matrix *r)
{
	struct vtb_cell *c = g_new0(struct vtb_cell, 1);
	struct vtb_sample *s;
	bool help;

	memset(r, 0, sizeof(*r));
	assert_true(vtb_cli_parse_run(0, NULL, &r->opts, &help, NULL));
	r->env.opts = &r->opts;
	vtb_env_init(&r->env);
	r->cells = g_ptr_array_new();
	r->skipped = g_ptr_array_new_with_free_func(g_free);
	r->started = g_strdup("2025-01-01T00:00:00Z");
	c->env = &r->env;
	c->backend = &vtb_backend_uml;
	c->workload = vtb_workload_find("startup");
	c->driver = "direct";
	c->accel = "-";
	c->transport = "-";
	c->cache = "-";
	c->target = "-";
	c->image = "-";
	c->fs = "-";
	c->aio = "-";
	c->variant = "-";
	c->payload = "zero";
	c->samples = g_ptr_array_new();
	g_ptr_array_add(c->samples, sample(true, true, 9, 0));
	s = sample(false, true, 1.25, 2000000);
	vtb_sample_add_metric(s, "msgs_per_s", "1/s", true, 4321.5);
	/* A phase no list names (a driver's own): it must reach the
	 * summaries and the CSV all the same. */
	vtb_sample_add_phase(s, "driver_own_phase", 0.5);
	g_ptr_array_add(c->samples, s);
	s = sample(false, false, 0, 0);
	s->error = g_strdup(NASTY);
	g_ptr_array_add(c->samples, s);
	g_ptr_array_add(c->samples, sample(false, true, 1.5, 0));
	g_ptr_array_add(r->cells, c);
}

static void free_matrix(struct vtb_matrix *r)
{
	struct vtb_cell *c = r->cells->pdata[0];

	for (guint i = 0; i < c->samples->len; i++) {
		vtb_sample_clear(c->samples->pdata[i]);
		g_free(c->samples->pdata[i]);
	}
	g_ptr_array_unref(c->samples);
	g_free(c);
	g_ptr_array_unref(r->cells);
	g_ptr_array_unref(r->skipped);
	g_free(r->started);
	vtb_env_clear(&r->env);
	vtb_opts_clear(&r->opts);
}

/* RFC 4180, independently of the writer: rows of fields. */
static GPtrArray *csv_parse(const char *p)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_ptr_array_unref);
	GPtrArray *row = NULL;
	GString *f = g_string_new(NULL);

	while (*p) {
		if (!row)
			row = g_ptr_array_new_with_free_func(g_free);
		if (*p == '"') {
			for (p++; *p; p++) {
				if (*p == '"' && p[1] == '"')
					g_string_append_c(f, *p++);
				else if (*p == '"')
					break;
				else
					g_string_append_c(f, *p);
			}
			assert_int_equal(*p, '"');
			p++;
		} else {
			while (*p && *p != ',' && *p != '\n')
				g_string_append_c(f, *p++);
		}
		g_ptr_array_add(row, g_strdup(f->str));
		g_string_truncate(f, 0);
		if (*p == ',') {
			p++;
			continue;
		}
		assert_int_equal(*p, '\n');
		p++;
		g_ptr_array_add(rows, row);
		row = NULL;
	}
	assert_null(row);
	g_string_free(f, TRUE);
	return rows;
}

static int column(GPtrArray *header, const char *name)
{
	for (guint i = 0; i < header->len; i++)
		if (strcmp(header->pdata[i], name) == 0)
			return (int)i;
	fail_msg("no CSV column %s", name);
	return -1;
}

static void test_csv_file(void **state)
{
	g_autofree char *dir = vtbt_tmpdir();
	g_autofree char *path = g_build_filename(dir, "r.csv", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	struct vtb_matrix r;
	GPtrArray *head;
	/* clang-format off */
	static const char *const params[] = {
		"backend", "driver", "accel", "transport", "workload", "cache",
		"size", "payload", "mem_mib", "boot_image", "kernel_release",
		"run", "warmup", "ok", "seconds", "bytes", "throughput_MBps",
		"error", "phase_vmm_to_kernel", "phase_driver_own_phase",
		"msgs_per_s",
	};
	/* clang-format on */

	make_matrix(&r);
	assert_true(vtb_results_write_csv(&r, path, NULL));
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	rows = csv_parse(text);
	/* header + every sample, warm-up and failure included */
	assert_int_equal(rows->len, 5);
	head = rows->pdata[0];
	for (size_t i = 0; i < G_N_ELEMENTS(params); i++)
		column(head, params[i]);
	for (guint i = 1; i < rows->len; i++) {
		GPtrArray *row = rows->pdata[i];

		assert_int_equal(row->len, head->len);
	}
	assert_string_equal(
		((GPtrArray *)rows->pdata[3])->pdata[column(head, "error")],
		NASTY);
	/* 2e6 bytes in 1.25 s: 1.6 MB/s, derived per sample */
	assert_string_equal(((GPtrArray *)rows->pdata[2])
				    ->pdata[column(head, "throughput_MBps")],
			    "1.600000");
	assert_string_equal(((GPtrArray *)rows->pdata[2])
				    ->pdata[column(head, "msgs_per_s")],
			    "4321.5");
	assert_string_equal(((GPtrArray *)rows->pdata[4])
				    ->pdata[column(head, "msgs_per_s")],
			    "");
	assert_string_equal(
		((GPtrArray *)rows->pdata[1])->pdata[column(head, "warmup")],
		"1");
	free_matrix(&r);
	vtbt_rm_rf(dir);
}

static JsonObject *obj_at(JsonObject *o, const char *a, const char *b)
{
	o = json_object_get_object_member(o, a);
	return b ? json_object_get_object_member(o, b) : o;
}

/* The writer's JSON carries what compare needs, and compare reads it. */
static void test_json_roundtrip(void **state)
{
	g_autofree char *dir = vtbt_tmpdir();
	g_autofree char *path = g_build_filename(dir, "r.json", NULL);
	g_autoptr(JsonParser) p = json_parser_new();
	g_autoptr(GError) e = NULL;
	struct vtb_matrix r;
	struct vtb_rdoc *d;
	const struct vtb_rcell *c;
	const struct vtb_series *s;
	JsonObject *cell, *m;
	JsonArray *samples;

	make_matrix(&r);
	assert_true(vtb_results_write_json(&r, path, NULL));
	assert_true(json_parser_load_from_file(p, path, NULL));
	cell = json_array_get_object_element(
		json_object_get_array_member(
			json_node_get_object(json_parser_get_root(p)),
			"results"),
		0);
	/* the classic summary: seconds of ok measured samples */
	assert_int_equal(
		json_object_get_int_member(obj_at(cell, "summary", NULL), "n"),
		2);
	assert_int_equal(json_array_get_length(json_object_get_array_member(
				 obj_at(cell, "summary", NULL), "ci95")),
			 2);
	/* per metric: unit, direction, summary */
	m = obj_at(cell, "metrics", "msgs_per_s");
	assert_true(json_object_get_boolean_member(m, "higher_better"));
	assert_string_equal(json_object_get_string_member(m, "unit"), "1/s");
	assert_int_equal(
		json_object_get_int_member(obj_at(m, "summary", NULL), "n"), 1);
	m = obj_at(cell, "metrics", "throughput_MBps");
	assert_true(json_object_get_boolean_member(m, "higher_better"));
	assert_false(json_object_get_boolean_member(
		obj_at(cell, "metrics", "seconds"), "higher_better"));
	/* CV of 1.25 and 1.5: 0.1282 > 5 % */
	assert_int_equal(json_array_get_length(json_object_get_array_member(
				 cell, "warnings")),
			 1);
	samples = json_object_get_array_member(cell, "samples");
	assert_true(fabs(json_object_get_double_member(
				 json_array_get_object_element(samples, 1),
				 "throughput_MBps") -
			 1.6) < 1e-12);
	assert_true(json_object_get_double_member(
			    obj_at(json_array_get_object_element(samples, 1),
				   "metrics", NULL),
			    "msgs_per_s") == 4321.5);
	assert_string_equal(json_object_get_string_member(
				    obj_at(cell, "params", NULL), "payload"),
			    "zero");
	/* Phases from the samples, a driver's own among them. */
	assert_true(json_object_get_double_member(obj_at(cell, "phases", NULL),
						  "driver_own_phase") == 0.5);
	assert_true(json_object_has_member(obj_at(cell, "phases", NULL),
					   "kernel_to_init"));

	d = vtb_rdoc_load(path, &e);
	if (!d)
		fail_msg("%s", e->message);
	c = d->cells->pdata[0];
	assert_string_equal(c->label, "uml startup");
	assert_int_equal(c->n, 2);
	assert_int_equal(c->failed, 1);
	assert_string_equal(c->error, NASTY);
	s = vtb_series_find(c->series, "seconds");
	assert_int_equal(s->v->len, 2);
	assert_true(g_array_index(s->v, double, 1) == 1.5);
	s = vtb_series_find(c->series, "msgs_per_s");
	assert_true(s->higher_better);
	assert_string_equal(s->unit, "1/s");
	s = vtb_series_find(c->series, "throughput_MBps");
	assert_int_equal(s->v->len, 1);
	vtb_rdoc_free(d);
	free_matrix(&r);
	vtbt_rm_rf(dir);
}

static void test_noise_note(void **state)
{
	static const struct {
		double cv;
		bool noisy;
		const char *note;
	} cases[] = {
		{0.03, false, NULL},
		{0.054, true, "noisy: CV 5.4 %"},
		{0.0996, true, "noisy: CV 10 %"},
		{0.12, true, "noisy: CV 12 %"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct vtb_stats st = {
			.n = 5, .cv = cases[i].cv, .noisy = cases[i].noisy};
		g_autofree char *note = vtb_noise_note(&st);

		assert_string_equal(note ? note : "(none)",
				    cases[i].note ? cases[i].note : "(none)");
	}
}

/* A results file of the right syntax: the document, a row, a sample. */
#define DOC_H(host, rows)                                                      \
	"{\"tool\":\"vtbench\",\"schema\":1" host ",\"results\":[" rows "]}"
#define DOC(rows) DOC_H("", rows)
#define ROW(extra, samples)                                                    \
	"{\"backend\":\"uml\",\"driver\":\"direct\",\"accel\":\"-\","          \
	"\"transport\":\"-\",\"workload\":\"startup\",\"cache\":\"-\"" extra   \
	",\"samples\":[" samples "]}"
#define PARAMS ",\"params\":{\"runs\":1,\"size\":0,\"msg_size\":0}"
#define SAMPLE_X(extra) "{\"ok\":true,\"warmup\":false,\"seconds\":1" extra "}"
#define SAMPLE SAMPLE_X(",\"bytes\":0")
/* A sample's "cpu", as the engine writes it (without the closing brace). */
#define CPU(extra)                                                             \
	"{\"wall_s\":1.02,\"cores\":2,\"threads\":[{\"group\":\"vmm\","        \
	"\"process\":\"qemu-system-x86\",\"thread\":\"CPU 0/TCG\","            \
	"\"cpu_s\":0.98,\"wait_s\":0.01}],\"other_s\":0.05,\"idle_s\":0.9,"    \
	"\"guest\":{\"busy_pct\":95}" extra

struct shape_case {
	const char *json;
	const char *msg; /* after "t.json: "; NULL: read */
};

/*
 * The wrong shape in the right syntax: one line naming the member and the
 * file, never a GLib critical, a default or a row that matches any cell.
 */
static const struct shape_case shape_cases[] = {
	{DOC(ROW(PARAMS, SAMPLE)), NULL},
	{DOC_H(",\"host\":{\"loadavg\":[0.5,1,2]}", ROW(PARAMS, SAMPLE)), NULL},
	{DOC(ROW(PARAMS, "{\"ok\":false,\"warmup\":false,\"seconds\":0,"
			 "\"bytes\":0,\"error\":null}")),
	 NULL},
	/* a row without params matched every cell */
	{DOC(ROW("", SAMPLE)), "results[0]: missing \"params\" (object)"},
	{DOC(ROW(",\"params\":[]", SAMPLE)),
	 "results[0]: missing \"params\" (object)"},
	{DOC(ROW(PARAMS ",\"msg_size\":{}", SAMPLE)),
	 "results[0]: \"msg_size\" is not a whole number"},
	{DOC(ROW(",\"params\":{\"msg_size\":\"64\"}", SAMPLE)),
	 "results[0]: \"msg_size\" is not a whole number"},
	{DOC(ROW(PARAMS ",\"size\":-1", SAMPLE)),
	 "results[0]: \"size\" is not a whole number"},
	{DOC(ROW(",\"params\":{\"size\":1.5}", SAMPLE)),
	 "results[0]: \"size\" is not a whole number"},
	{DOC(ROW(",\"params\":{\"size_auto\":\"yes\"}", SAMPLE)),
	 "results[0]: params.size_auto: not true or false"},
	{DOC(ROW(PARAMS ",\"error\":42", SAMPLE)),
	 "results[0]: \"error\" is not a string"},
	{DOC(ROW(PARAMS ",\"phases\":[]", SAMPLE)),
	 "results[0]: \"phases\" is not an object"},
	{DOC(ROW(PARAMS ",\"phases\":{\"poweroff\":\"fast\"}", SAMPLE)),
	 "results[0].phases.poweroff: not a number"},
	{DOC(ROW(PARAMS ",\"metrics\":{\"p99_us\":3}", SAMPLE)),
	 "results[0].metrics.p99_us: not an object"},
	{DOC(ROW(PARAMS ",\"metrics\":[]", SAMPLE)),
	 "results[0]: \"metrics\" is not an object"},
	/* a sample without bytes */
	{DOC(ROW(PARAMS, SAMPLE_X(""))),
	 "results[0].samples[0]: missing \"bytes\" (number)"},
	{DOC(ROW(PARAMS, "{\"ok\":false,\"warmup\":false,\"seconds\":0}")),
	 "results[0].samples[0]: missing \"bytes\" (number)"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":\"1M\""))),
	 "results[0].samples[0]: missing \"bytes\" (number)"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"error\":[]"))),
	 "results[0].samples[0]: \"error\" is not a string"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"note\":5"))),
	 "results[0].samples[0]: \"note\" is not a string"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"note\":\"clock\""))), NULL},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"phases\":{\"boot\":null}"))),
	 "results[0].samples[0].phases.boot: not a number"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"metrics\":7"))),
	 "results[0].samples[0]: \"metrics\" is not an object"},
	/* the engine's CPU attribution: what is drawn must be numbers */
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"cpu\":null"))), NULL},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"cpu\":" CPU("") "}"))), NULL},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"cpu\":[]"))),
	 "results[0].samples[0].cpu: not an object"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"cpu\":{\"cores\":2,"
				  "\"threads\":[]}"))),
	 "results[0].samples[0].cpu: missing \"wall_s\" (seconds > 0)"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"cpu\":{\"wall_s\":1,"
				  "\"cores\":0.5,\"threads\":[]}"))),
	 "results[0].samples[0].cpu: missing \"cores\" (a count >= 1)"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"cpu\":{\"wall_s\":1,"
				  "\"cores\":2}"))),
	 "results[0].samples[0].cpu: missing \"threads\" (array)"},
	{DOC(ROW(PARAMS,
		 SAMPLE_X(",\"bytes\":0,\"cpu\":" CPU(",\"verdict\":1") "}"))),
	 "results[0].samples[0].cpu: \"verdict\" is not a string"},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"cpu\":{\"wall_s\":1,"
				  "\"cores\":2,\"threads\":[{\"group\":"
				  "\"vmm\",\"process\":\"q\",\"thread\":"
				  "\"t\",\"cpu_s\":\"1\"}]}"))),
	 "results[0].samples[0].cpu.threads[0]: missing \"cpu_s\""},
	{DOC(ROW(PARAMS, SAMPLE_X(",\"bytes\":0,\"cpu\":{\"wall_s\":1,"
				  "\"cores\":2,\"threads\":[{\"group\":"
				  "\"vmm\",\"cpu_s\":1}]}"))),
	 "results[0].samples[0].cpu.threads[0]: missing \"group\""},
	/* compare reads the load averages as numbers */
	{DOC_H(",\"host\":{\"loadavg\":[\"high\"]}", ROW(PARAMS, SAMPLE)),
	 "host.loadavg: not an array of numbers"},
	{DOC_H(",\"host\":{\"loadavg_end\":{}}", ROW(PARAMS, SAMPLE)),
	 "host.loadavg_end: not an array of numbers"},
	{DOC_H(",\"host\":[]", ROW(PARAMS, SAMPLE)),
	 "\"host\" is not an object"},
};

static void test_median_index(void **state)
{
	static const struct {
		double v[6];
		int n, want;
	} cases[] = {
		{{0}, 0, -1},
		{{7}, 1, 0},
		{{3, 1, 2}, 3, 2},
		/* even: the lower of the middle two */
		{{4, 1, 3, 2}, 4, 3},
		{{1, 2}, 2, 0},
		/* equals ranked by position */
		{{5, 5, 5}, 3, 1},
		{{2, 1, 1, 9, 9}, 5, 0},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_int_equal(vtb_median_index(cases[i].v, cases[i].n),
				 cases[i].want);
}

/* The cell's "cpu" is that of its median ok measured sample. */
static void test_cpu_of_median(void **state)
{
	static const char json[] = DOC(ROW(
		PARAMS,
		/* a warm-up and a failure are never the median */
		"{\"ok\":true,\"warmup\":true,\"seconds\":2,\"bytes\":0,"
		"\"cpu\":" CPU(
			",\"verdict\":\"warm-up\"") "}},"
						    "{\"ok\":false,\"warmup\":"
						    "false,\"seconds\":2,"
						    "\"bytes\":0,"
						    "\"cpu\":" CPU(
							    ",\"verdict\":"
							    "\"failed\"") "}},"
									  "{\"o"
									  "k\":"
									  "true"
									  ",\"w"
									  "armu"
									  "p\":"
									  "fals"
									  "e,"
									  "\"se"
									  "cond"
									  "s\":"
									  "3,"
									  "\"by"
									  "tes"
									  "\":"
									  "0,"
									  "\"cp"
									  "u\""
									  ":" CPU(",\"verdict\":\"slow\"") "}},"
													   "{\"ok\":true,\"warmup\":false,\"seconds\":2,\"bytes\":0,"
													   "\"cpu\":" CPU(
														   ",\"verdict\":\"median\"") "}},"
																	      "{\"ok\":true,\"warmup\":false,\"seconds\":1,\"bytes\":0}"));
	static const char old[] = DOC(ROW(PARAMS, SAMPLE));
	g_autoptr(GError) e = NULL;
	struct vtb_rdoc *d = vtb_rdoc_parse("t.json", json, -1, &e);
	const struct vtb_rcell *c;
	const struct vtb_rthread *t;

	if (!d)
		fail_msg("%s", e->message);
	c = d->cells->pdata[0];
	assert_non_null(c->cpu);
	assert_string_equal(c->cpu->verdict, "median");
	assert_true(c->cpu->wall_s == 1.02);
	assert_int_equal(c->cpu->cores, 2);
	assert_true(c->cpu->idle_s == 0.9 && c->cpu->system_s == 0);
	assert_true(c->cpu->guest_busy_pct == 95);
	assert_true(isnan(c->cpu->accounted_pct));
	assert_int_equal(c->cpu->threads->len, 1);
	t = &g_array_index(c->cpu->threads, struct vtb_rthread, 0);
	assert_string_equal(t->thread, "CPU 0/TCG");
	assert_string_equal(t->group, "vmm");
	assert_true(t->cpu_s == 0.98);
	assert_string_equal(c->where, "uml");
	assert_string_equal(c->what, "startup");
	vtb_rdoc_free(d);
	/* an older file: no attribution, no error */
	d = vtb_rdoc_parse("t.json", old, -1, &e);
	assert_non_null(d);
	assert_null(((struct vtb_rcell *)d->cells->pdata[0])->cpu);
	vtb_rdoc_free(d);
}

/*
 * Not JSON: one line however the parser quotes the token it stopped at.
 * The first case is what fuzz_results found (a string constant broken
 * across lines, quoted whole by json-glib).
 */
static void test_not_json_one_line(void **state)
{
	g_autofree char *xs = g_strnfill(1000, 'x');
	g_autofree char *long_str = g_strdup_printf("[\"%s\" 1]", xs);
	const char *cases[] = {"{\"st\n 1.5,\n\" 1}", "[1, \"a\r\nb\" 2]",
			       long_str};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) e = NULL;
		struct vtb_rdoc *d = vtb_rdoc_parse("t.json", cases[i], -1, &e);

		assert_null(d);
		assert_non_null(e);
		assert_true(g_str_has_prefix(e->message, "t.json: not JSON: "));
		for (const char *p = e->message; *p; p++)
			if (g_ascii_iscntrl(*p))
				fail_msg("control character in: %s",
					 e->message);
		assert_true(g_utf8_strlen(e->message, -1) < 200);
	}
}

static void test_shape(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(shape_cases); i++) {
		const struct shape_case *c = &shape_cases[i];
		g_autoptr(GError) e = NULL;
		g_autofree char *want = NULL;
		struct vtb_rdoc *d = vtb_rdoc_parse("t.json", c->json, -1, &e);

		if (!c->msg) {
			if (!d)
				fail_msg("%s: %s", c->json, e->message);
			vtb_rdoc_free(d);
			continue;
		}
		if (d)
			fail_msg("accepted: %s", c->json);
		want = g_strdup_printf("t.json: %s", c->msg);
		assert_int_equal(e->code, VTB_ERR_USAGE);
		if (!g_str_has_prefix(e->message, want))
			fail_msg("%s: '%s', want '%s'", c->json, e->message,
				 want);
		assert_null(strchr(e->message, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_median_index),
		cmocka_unit_test(test_cpu_of_median),
		cmocka_unit_test(test_csv_field),
		cmocka_unit_test(test_noise_note),
		cmocka_unit_test(test_csv_file),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_not_json_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
