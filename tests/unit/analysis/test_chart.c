/* Unit tests: the report's axes, ratios, values, headlines and CPU bars. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/chart.h"

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * MAX(1, fabs(b));
}

static void test_axis(void **state)
{
	static const struct {
		const char *what;
		double min_pos, max;
		bool log;
		double lo, hi;
		int nticks;
		double ticks[12]; /* the first ones, then 0: unchecked */
	} cases[] = {
		{"one value", 5, 5, false, 0, 5.25, 3, {0, 2, 4}},
		{"exactly 100x: linear",
		 1,
		 100,
		 false,
		 0,
		 105,
		 3,
		 {0, 50, 100}},
		{"zeros only beside: linear",
		 NAN,
		 3,
		 false,
		 0,
		 3.15,
		 4,
		 {0, 1, 2, 3}},
		/* serial beside virtio-serial */
		{"0.1 to 540 MB/s: log",
		 0.1,
		 540,
		 true,
		 0.1,
		 1000,
		 5,
		 {0.1, 1, 10, 100, 1000}},
		{"three decades: 2 and 5 too",
		 0.5,
		 80,
		 true,
		 0.1,
		 100,
		 10,
		 {0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100}},
		{"a power of ten is its own end",
		 1,
		 1000,
		 true,
		 1,
		 1000,
		 10,
		 {1, 2, 5, 10}},
		{"six decades",
		 0.002,
		 1500,
		 true,
		 0.001,
		 10000,
		 8,
		 {0.001, 0.01, 0.1, 1, 10, 100, 1000, 10000}},
		{"nothing positive", NAN, 0, false, 0, 1, 6, {0, 0.2}},
		{"fractions round",
		 0.2,
		 0.31,
		 false,
		 0,
		 0.3255,
		 4,
		 {0, 0.1, 0.2, 0.3}},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct vtb_axis a;
		double t[32];
		int n;

		vtb_axis_init(&a, cases[i].min_pos, cases[i].max);
		if (a.log != cases[i].log || !near(a.lo, cases[i].lo) ||
		    !near(a.hi, cases[i].hi))
			fail_msg("%s: log %d %g..%g", cases[i].what, a.log,
				 a.lo, a.hi);
		n = vtb_axis_ticks(&a, t, 32);
		if (n != cases[i].nticks)
			fail_msg("%s: %d ticks", cases[i].what, n);
		for (int k = 0; k < n && k < 12; k++)
			if (cases[i].ticks[k] != 0 &&
			    !near(t[k], cases[i].ticks[k]))
				fail_msg("%s: tick %d is %.17g", cases[i].what,
					 k, t[k]);
		/* both ends of the axis are its ends */
		assert_true(near(vtb_axis_frac(&a, a.lo), 0));
		assert_true(near(vtb_axis_frac(&a, a.hi), 1));
	}
}

static void test_axis_frac(void **state)
{
	static const struct {
		double min_pos, max, v, want;
	} cases[] = {
		{1, 10, 5.25, 0.5},  {1, 10, -3, 0},
		{1, 10, 1e9, 1},     {0.1, 1000, 10, 0.5},
		{0.1, 1000, 0, 0},   {0.1, 1000, 0.01, 0},
		{0.1, 1000, NAN, 0}, {0.1, 1000, 1, 0.25},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct vtb_axis a;
		double f;

		vtb_axis_init(&a, cases[i].min_pos, cases[i].max);
		f = vtb_axis_frac(&a, cases[i].v);
		if (!near(f, cases[i].want))
			fail_msg("case %zu: %g, want %g", i, f, cases[i].want);
	}
}

static void test_ratio_text(void **state)
{
	static const struct {
		double va, vb;
		bool higher_better;
		const char *want; /* NULL: none */
	} cases[] = {
		{607.7, 98.6, true, "uml 6.2\xc3\x97 faster than kvm"},
		{98.6, 607.7, true, "kvm 6.2\xc3\x97 faster than uml"},
		/* latency: lower is better */
		{313, 161, false, "kvm 1.9\xc3\x97 faster than uml"},
		{280, 2574, false, "uml 9.2\xc3\x97 faster than kvm"},
		{0.5, 0.0312, true, "uml 16\xc3\x97 faster than kvm"},
		{1.0, 1.03, false, "about equal (1.03\xc3\x97)"},
		{1.0, 1.0, true, "about equal (1.00\xc3\x97)"},
		{1.0, 1.05, false, "uml 1.1\xc3\x97 faster than kvm"},
		/* failed or missing: no ratio, never a zero */
		{0, 5, true, NULL},
		{NAN, 5, true, NULL},
		{5, INFINITY, false, NULL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *s =
			vtb_ratio_text("uml", cases[i].va, "kvm", cases[i].vb,
				       cases[i].higher_better);

		if (g_strcmp0(s, cases[i].want) != 0)
			fail_msg("case %zu: '%s', want '%s'", i, s,
				 cases[i].want);
	}
}

static void test_value_text(void **state)
{
	static const struct {
		double v;
		const char *unit, *want;
	} cases[] = {
		{607.7058, "MB/s", "608 MB/s"},
		{98.6, "MB/s", "98.6 MB/s"},
		{0.03123, "MB/s", "0.0312 MB/s"},
		{0.5, "MB/s", "0.500 MB/s"},
		{1.005, "s", "1.00 s"},
		{313.2, "us", "313 \xc2\xb5s"},
		{1.2345, "s", "1.23 s"},
		{3161.4, "1/s", "3161 1/s"},
		{0, "count", "0 count"},
		{12, "", "12.0"},
		{NAN, "s", "-"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *s = vtb_value_text(cases[i].v, cases[i].unit);

		assert_string_equal(s, cases[i].want);
	}
}

static void test_headline(void **state)
{
	static const struct {
		const char *names[5], *units[5];
		const char *want;
	} cases[] = {
		{{"seconds"}, {"s"}, "seconds"},
		{{"seconds", "throughput_MBps", "sender_cpu_pct",
		  "backend_kicks"},
		 {"s", "MB/s", "%", "count"},
		 "throughput_MBps"},
		/* roundtrip: its latency, before its bytes' rate */
		{{"seconds", "throughput_MBps", "latency_median_us",
		  "latency_p99_us", "msgs_per_s"},
		 {"s", "MB/s", "us", "us", "1/s"},
		 "latency_median_us"},
		/* randio: fio's iops first */
		{{"seconds", "throughput_MBps", "randread_iops",
		  "randread_mb_per_s", "randread_p99_us"},
		 {"s", "MB/s", "1/s", "MB/s", "us"},
		 "randread_iops"},
		{{NULL}, {NULL}, NULL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) s = g_ptr_array_new_with_free_func(
			(GDestroyNotify)vtb_series_free);
		const struct vtb_series *h;

		for (int k = 0; k < 5 && cases[i].names[k]; k++)
			g_ptr_array_add(s, vtb_series_new(cases[i].names[k],
							  cases[i].units[k],
							  false));
		h = vtb_headline(s);
		assert_string_equal(h ? h->name : "(none)",
				    cases[i].want ? cases[i].want : "(none)");
	}
}

static void test_cpu_segments(void **state)
{
	/* 1 s on 2 cores: 2 CPU seconds are 100 % */
	static const struct vtb_rthread threads[] = {
		{"helper", "virtiofsd", "virtiofsd", 0.2, 0},
		{"vmm", "qemu-system-x86", "CPU 0/TCG", 0.98, 0.01},
		{"vtbench", "vtbench", "vtbench", 0.04, 0},
		{"vmm", "qemu-system-x86", "qemu-system-x86", 0.06, 0},
		{"vmm", "qemu-system-x86", "call_rcu", 0, 0},
	};
	static const struct {
		const char *name, *group;
		int count;
		double pct;
	} want[] = {
		{"CPU 0/TCG", "vmm", 1, 49},
		{"virtiofsd", "helper", 1, 10},
		{"others < 5 %", "few", 2, 5},
		{"other processes", "other", 0, 2.5},
		{"idle", "idle", 0, 30},
	};
	struct vtb_rcpu cpu = {.wall_s = 1, .cores = 2};
	g_autoptr(GArray) segs = NULL;

	cpu.threads = g_array_new(FALSE, FALSE, sizeof(struct vtb_rthread));
	g_array_append_vals(cpu.threads, threads, G_N_ELEMENTS(threads));
	cpu.other_s = 0.05;
	cpu.idle_s = 0.6;
	segs = vtb_cpu_segments(&cpu, 5);
	assert_int_equal(segs->len, G_N_ELEMENTS(want));
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		const struct vtb_cpu_seg *s =
			&g_array_index(segs, struct vtb_cpu_seg, i);

		assert_string_equal(s->name, want[i].name);
		assert_string_equal(s->group, want[i].group);
		assert_int_equal(s->count, want[i].count);
		if (!near(s->pct, want[i].pct))
			fail_msg("%s: %g %%", s->name, s->pct);
	}
	g_array_unref(cpu.threads);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_axis),
		cmocka_unit_test(test_axis_frac),
		cmocka_unit_test(test_ratio_text),
		cmocka_unit_test(test_value_text),
		cmocka_unit_test(test_headline),
		cmocka_unit_test(test_cpu_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
