/* Unit tests: the /proc parsers (lines captured from QEMU and UML on this
 * host), the interval's attribution from two copies of /proc, the
 * verdict and the results' "cpu" object. */
#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/cpuacct.h"

/* Captured here: QEMU's main thread, its unnamed RCU thread and vCPU,
 * UML's kernel and one of its traced processes. */
#define QEMU_STAT                                                              \
	"32165 (qemu-system-x86) S 32153 32165 14478 0 -1 138412416 9527 0 2 " \
	"0 511 242 0 0 20 0 3 0 3223112 1634328576 61306 "                     \
	"18446744073709551615 94582568312832 94582574173269 140727003416160 "  \
	"0 0 0 268444224 4100 16451 0 0 0 17 0 0 0 0 0 0 94582577285368 "      \
	"94582582489520 94582624628736 140727003424406 140727003425222 "       \
	"140727003425222 140727003426780 0\n"
#define QEMU_RCU_STAT                                                          \
	"32168 (qemu-system-x86) S 32153 32165 14478 0 -1 4194368 3 0 0 0 1 "  \
	"1 0 0 20 0 3 0 3223118 1634328576 61306 18446744073709551615 "        \
	"94582568312832 94582574173269 140727003416160 0 0 0 2147220087 4100 " \
	"16451 1 0 0 -1 0 0 0 0 0 0 94582577285368 94582582489520 "            \
	"94582624628736 140727003424406 140727003425222 140727003425222 "      \
	"140727003426780 0\n"
#define VCPU_STAT                                                              \
	"32169 (CPU 0/TCG) R 32153 32165 14478 0 -1 138412224 3690 0 1 0 403 " \
	"54 0 0 20 0 3 0 3223120 1634328576 61306 18446744073709551615 "       \
	"94582568312832 94582574173269 140727003416160 0 0 0 2147220087 4100 " \
	"16451 0 0 0 -1 1 0 0 0 0 0 94582577285368 94582582489520 "            \
	"94582624628736 140727003424406 140727003425222 140727003425222 "      \
	"140727003426780 0\n"
#define UML_STAT                                                               \
	"32404 (linux.uml) S 32153 32404 14478 0 -1 4194304 8449 1290 16 0 "   \
	"148 297 13 3 20 0 1 0 3224447 272625664 6712 18446744073709551615 "   \
	"1610616832 1619757968 140722242814320 0 0 0 4096 5 402679514 1 0 0 "  \
	"17 1 0 0 0 0 0 1619759104 1621336432 1833144320 140722242820170 "     \
	"140722242820528 140722242820528 140722242822117 0\n"

static void test_pid_stat(void **state)
{
	static const struct {
		const char *name, *line;
		gboolean ok;
		const char *comm;
		char st;
		int ppid;
		guint64 ticks, cticks, start;
	} cases[] = {
		{"qemu main thread", QEMU_STAT, TRUE, "qemu-system-x86", 'S',
		 32153, 753, 0, 3223112},
		{"qemu rcu thread (priority -1 field)", QEMU_RCU_STAT, TRUE,
		 "qemu-system-x86", 'S', 32153, 2, 0, 3223118},
		{"vcpu: a comm with a space and a slash", VCPU_STAT, TRUE,
		 "CPU 0/TCG", 'R', 32153, 457, 0, 3223120},
		{"uml kernel, reaped children", UML_STAT, TRUE, "linux.uml",
		 'S', 32153, 445, 16, 3224447},
		{"comm with parens and spaces",
		 "7 (a) (b c)) S 1 7 7 0 -1 0 0 0 0 0 3 4 5 6 20 0 1 0 99 0 0",
		 TRUE, "a) (b c)", 'S', 1, 7, 11, 99},
		{"cut before starttime", "7 (x) S 1 7 7 0 -1 0 0 0 0 0 3 4 5 6",
		 FALSE},
		{"no comm", "7 x S 1 7 7 0 -1 0 0 0 0 0 3 4 5 6 20 0 1 0 99",
		 FALSE},
		{"no state", "7 (x) ", FALSE},
		{"letters for numbers",
		 "7 (x) S 1 7 7 0 -1 0 0 0 0 0 a b 5 6 20 0 1 0 99", FALSE},
		{"empty", "", FALSE},
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct vtb_pstat p;
		gboolean ok = vtb_parse_pid_stat(cases[i].line, &p);

		if (ok != cases[i].ok)
			fail_msg("%s: ok %d, want %d", cases[i].name, ok,
				 cases[i].ok);
		if (!ok)
			continue;
		assert_string_equal(p.comm, cases[i].comm);
		assert_int_equal(p.state, cases[i].st);
		assert_int_equal(p.ppid, cases[i].ppid);
		assert_int_equal(p.ticks, cases[i].ticks);
		assert_int_equal(p.cticks, cases[i].cticks);
		assert_int_equal(p.start, cases[i].start);
	}
}

static void test_small_files(void **state)
{
	static const struct {
		const char *line;
		gboolean ok;
		guint64 run, wait;
	} sched[] = {
		{"4585529450 2080008546 89249\n", TRUE, 4585529450ull,
		 2080008546ull},
		{"23269888 31142064 62", TRUE, 23269888, 31142064},
		{"12 34", FALSE},
		{"x y z", FALSE},
		{"", FALSE},
	};
	static const struct {
		const char *text;
		gboolean ok;
		guint64 user, idle, iowait, steal;
	} host[] = {
		{"cpu  891849 805 607327 4881815 17416 0 10419 0 0 0\ncpu0 1 2 "
		 "3 4 5 6 7 8 9 10\nctxt 5\n",
		 TRUE, 891849, 4881815, 17416, 0},
		{"cpu  1 2 3 4 5 6 7 8\n", TRUE, 1, 4, 5, 8},
		{"cpu0 1 2 3 4 5 6 7 8\n", FALSE},
		{"cpu  1 2 3\n", FALSE},
		{"", FALSE},
	};
	static const struct {
		const char *text, *key;
		gint64 kib;
	} status[] = {
		{"Name:\tqemu\nVmPeak:\t 1 kB\nVmHWM:\t  245428 kB\n", "VmHWM",
		 245428},
		{"VmHWM:\t2176 kB\n", "VmHWM", 2176},
		{"Name:\tlinux.uml\nTracerPid:\t32404\n", "TracerPid", 32404},
		{"Name:\tkthreadd\nVmHWMx:\t5 kB\n", "VmHWM", -1},
		{"VmHWM:\tlots kB\n", "VmHWM", -1},
		{"", "VmHWM", -1},
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(sched); i++) {
		guint64 r = 0, w = 0;

		assert_int_equal(vtb_parse_schedstat(sched[i].line, &r, &w),
				 sched[i].ok);
		if (sched[i].ok) {
			assert_int_equal(r, sched[i].run);
			assert_int_equal(w, sched[i].wait);
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(host); i++) {
		struct vtb_hstat h;

		assert_int_equal(vtb_parse_proc_stat(host[i].text, &h),
				 host[i].ok);
		if (host[i].ok) {
			assert_int_equal(h.user, host[i].user);
			assert_int_equal(h.idle, host[i].idle);
			assert_int_equal(h.iowait, host[i].iowait);
			assert_int_equal(h.steal, host[i].steal);
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(status); i++)
		assert_int_equal(
			vtb_parse_status_kib(status[i].text, status[i].key),
			status[i].kib);
}

/* ---- two copies of /proc ---- */

static void put(const char *root, const char *rel, const char *text)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(path);

	assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
	assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* A process (its stat) and, for each thread, its stat and schedstat. */
static void proc(const char *root, int pid, const char *comm, int ppid,
		 int ticks, int cticks, int start, const char *status)
{
	g_autofree char *rel = g_strdup_printf("%d/stat", pid);
	g_autofree char *line = g_strdup_printf(
		"%d (%s) S %d %d %d 0 -1 0 0 0 0 0 %d 0 %d 0 20 0 1 0 %d 0 0\n",
		pid, comm, ppid, pid, pid, ticks, cticks, start);

	put(root, rel, line);
	g_free(rel);
	rel = g_strdup_printf("%d/status", pid);
	put(root, rel, status ? status : "TracerPid:\t0\nVmHWM:\t1000 kB\n");
}

static void thread(const char *root, int pid, int tid, const char *comm,
		   int ticks, int start, guint64 run_ms, guint64 wait_ms)
{
	g_autofree char *rel = g_strdup_printf("%d/task/%d/stat", pid, tid);
	g_autofree char *line = g_strdup_printf(
		"%d (%s) S 1 %d %d 0 -1 0 0 0 0 0 %d 0 0 0 20 0 1 0 %d 0 0\n",
		tid, comm, pid, pid, ticks, start);
	g_autofree char *ss = g_strdup_printf(
		"%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " 1\n",
		run_ms * 1000000, wait_ms * 1000000);

	put(root, rel, line);
	g_free(rel);
	rel = g_strdup_printf("%d/task/%d/schedstat", pid, tid);
	put(root, rel, ss);
}

static const struct vtb_cpu_thread *
entry(const struct vtb_cpu_use *u, const char *process, const char *thread)
{
	for (guint i = 0; i < u->threads->len; i++) {
		const struct vtb_cpu_thread *t =
			&g_array_index(u->threads, struct vtb_cpu_thread, i);

		if (!strcmp(t->process, process) && !strcmp(t->thread, thread))
			return t;
	}
	fail_msg("no thread %s/%s", process, thread);
	return NULL;
}

static void rm_rf(const char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	assert_int_equal(system(cmd), 0);
}

/*
 * QEMU: a worker exits inside the interval and another starts; a helper
 * daemon; vtbench; a make whose gcc and cc1 end inside (its reaped time
 * holds theirs, whole) and whose background child, orphaned, is reaped by
 * init; a process started inside; one started before
 * that the first copy missed (not counted for its whole life).
 */
static void test_diff_qemu(void **state)
{
	g_autofree char *a = g_dir_make_tmp("cpuacct-a-XXXXXX", NULL);
	g_autofree char *b = g_dir_make_tmp("cpuacct-b-XXXXXX", NULL);
	const struct vtb_cpu_root roots[] = {{100, VTB_CPU_VMM},
					     {300, VTB_CPU_HELPER},
					     {50, VTB_CPU_VTBENCH}};
	g_autoptr(vtb_cpu_snap) sa = NULL, sb = NULL;
	g_autoptr(vtb_cpu_use) u = NULL;
	const struct vtb_cpu_thread *t;

	(void)state;
	put(a, "stat", "cpu  1000 0 500 8000 100 0 0 0 0 0\n");
	proc(a, 1, "init", 0, 0, 0, 1, NULL);
	proc(a, 50, "vtbench", 1, 15, 0, 10, NULL);
	thread(a, 50, 50, "vtbench", 15, 10, 150, 0);
	proc(a, 100, "qemu-system-x86", 50, 150, 0, 20,
	     "TracerPid:\t0\nVmHWM:\t245428 kB\n");
	thread(a, 100, 100, "qemu-system-x86", 60, 20, 600, 10);
	thread(a, 100, 101, "qemu-system-x86", 0, 20, 1, 0);
	thread(a, 100, 102, "CPU 0/TCG", 80, 21, 800, 20);
	thread(a, 100, 103, "worker", 10, 30, 100, 0);
	proc(a, 300, "virtiofsd", 50, 20, 0, 25, NULL);
	thread(a, 300, 300, "virtiofsd", 20, 25, 200, 0);
	proc(a, 400, "make", 1, 5, 0, 40, NULL);
	proc(a, 401, "gcc", 400, 2, 0, 41, NULL);
	proc(a, 402, "cc1", 401, 50, 0, 42, NULL);
	/* Left in the background by make: init reaps it. */
	proc(a, 450, "bg", 400, 10, 0, 43, NULL);

	put(b, "stat", "cpu  1100 0 553 8035 110 0 0 0 0 0\n");
	proc(b, 1, "init", 0, 0, 15, 1, NULL);
	proc(b, 50, "vtbench", 1, 25, 0, 10, NULL);
	thread(b, 50, 50, "vtbench", 25, 10, 250, 0);
	/* 98 ticks more: main 20, vCPU 70, the new worker 3, and 5 the
	 * worker that exited used. */
	proc(b, 100, "qemu-system-x86", 50, 248, 0, 20,
	     "TracerPid:\t0\nVmHWM:\t245500 kB\n");
	thread(b, 100, 100, "qemu-system-x86", 80, 20, 800, 30);
	thread(b, 100, 101, "qemu-system-x86", 0, 20, 1, 0);
	thread(b, 100, 102, "CPU 0/TCG", 150, 21, 1500, 120);
	thread(b, 100, 104, "worker", 3, 5020, 30, 0);
	proc(b, 300, "virtiofsd", 50, 30, 0, 25, NULL);
	thread(b, 300, 300, "virtiofsd", 30, 25, 300, 0);
	/* gcc (3 ticks in all) and cc1 (70) ended and were reaped. */
	proc(b, 400, "make", 1, 6, 73, 40, NULL);
	proc(b, 600, "sh", 1, 8, 0, 5050, NULL);
	proc(b, 700, "missed", 1, 900, 0, 100, NULL);

	sa = vtb_cpu_snap_read(a, 1000000, 5000, roots, G_N_ELEMENTS(roots));
	sb = vtb_cpu_snap_read(b, 2000000, 5100, roots, G_N_ELEMENTS(roots));
	u = vtb_cpu_use_diff(sa, sb);

	assert_float_equal(u->wall_s, 1.0, 1e-9);
	t = entry(u, "qemu-system-x86", "CPU 0/TCG");
	assert_int_equal(t->group, VTB_CPU_VMM);
	assert_true(t->runs_guest);
	assert_float_equal(t->cpu_s, 0.7, 1e-9);
	assert_float_equal(t->wait_s, 0.1, 1e-9);
	t = entry(u, "qemu-system-x86", "qemu-system-x86");
	assert_false(t->runs_guest);
	assert_float_equal(t->cpu_s, 0.2, 1e-9);
	/* The new worker, from nothing; the one that exited, from ticks. */
	assert_float_equal(entry(u, "qemu-system-x86", "worker")->cpu_s, 0.03,
			   1e-9);
	t = entry(u, "(exited)", "exited in the run");
	assert_int_equal(t->group, VTB_CPU_VMM);
	assert_float_equal(t->cpu_s, 0.05, 1e-9);
	t = entry(u, "virtiofsd", "virtiofsd");
	assert_int_equal(t->group, VTB_CPU_HELPER);
	assert_float_equal(t->cpu_s, 0.1, 1e-9);
	t = entry(u, "vtbench", "vtbench");
	assert_int_equal(t->group, VTB_CPU_VTBENCH);
	assert_float_equal(t->cpu_s, 0.1, 1e-9);
	/* The busiest first. */
	assert_string_equal(
		g_array_index(u->threads, struct vtb_cpu_thread, 0).thread,
		"CPU 0/TCG");
	/* make 1 + reaped 73 (make) + 15 (init) - (gcc 2 + cc1 50 + bg
	 * 10) at a = 27; sh 8. */
	assert_float_equal(u->other_s, 0.35, 1e-9);
	assert_float_equal(u->idle_s, 0.45, 1e-9);
	assert_float_equal(u->system_s, 0.0, 1e-9);
	/* 1.18 threads + 0.35 + 0.45 of 2 s. */
	assert_float_equal(u->accounted_pct, 99.0, 1e-6);
	assert_int_equal(u->memory->len, 3);
	for (guint i = 0; i < u->memory->len; i++) {
		const struct vtb_cpu_mem *m =
			&g_array_index(u->memory, struct vtb_cpu_mem, i);

		if (!strcmp(m->process, "qemu-system-x86"))
			assert_int_equal(m->hwm_kib, 245500);
	}
	rm_rf(a);
	rm_rf(b);
}

/* UML: the kernel's own thread runs the guest, a process it traces runs
 * guest user code, one it does not trace is its I/O helper; a traced
 * process that ended inside shows as the guest's too. */
static void test_diff_uml(void **state)
{
	g_autofree char *a = g_dir_make_tmp("cpuacct-a-XXXXXX", NULL);
	g_autofree char *b = g_dir_make_tmp("cpuacct-b-XXXXXX", NULL);
	const struct vtb_cpu_root roots[] = {{800, VTB_CPU_VMM},
					     {50, VTB_CPU_VTBENCH}};
	g_autoptr(vtb_cpu_snap) sa = NULL, sb = NULL;
	g_autoptr(vtb_cpu_use) u = NULL;
	const char *traced = "TracerPid:\t800\nVmHWM:\t2176 kB\n";
	const struct vtb_cpu_thread *t;
	g_autofree char *verdict = NULL;

	(void)state;
	put(a, "stat", "cpu  0 0 0 0 0 0 0 0 0 0\n");
	proc(a, 50, "vtbench", 1, 0, 0, 10, NULL);
	thread(a, 50, 50, "vtbench", 0, 10, 0, 0);
	proc(a, 800, "linux.uml", 50, 100, 0, 20, NULL);
	thread(a, 800, 800, "linux.uml", 100, 20, 1000, 0);
	proc(a, 801, "linux.uml", 800, 10, 0, 30, traced);
	thread(a, 801, 801, "linux.uml", 10, 30, 100, 0);
	proc(a, 802, "linux.uml", 800, 1, 0, 30, NULL);
	thread(a, 802, 802, "linux.uml", 1, 30, 10, 0);
	proc(a, 803, "linux.uml", 800, 4, 0, 31, traced);
	thread(a, 803, 803, "linux.uml", 4, 31, 40, 0);

	put(b, "stat", "cpu  150 0 40 8 2 0 0 0 0 0\n");
	proc(b, 50, "vtbench", 1, 0, 0, 10, NULL);
	thread(b, 50, 50, "vtbench", 0, 10, 0, 0);
	/* 803 ended after 6 ticks more: reaped, 10 in all. */
	proc(b, 800, "linux.uml", 50, 180, 10, 20, NULL);
	thread(b, 800, 800, "linux.uml", 180, 20, 1800, 0);
	proc(b, 801, "linux.uml", 800, 110, 0, 30, traced);
	thread(b, 801, 801, "linux.uml", 110, 30, 1100, 0);
	proc(b, 802, "linux.uml", 800, 3, 0, 30, NULL);
	thread(b, 802, 802, "linux.uml", 3, 30, 30, 0);

	sa = vtb_cpu_snap_read(a, 0, 5000, roots, G_N_ELEMENTS(roots));
	sb = vtb_cpu_snap_read(b, 1000000, 5100, roots, G_N_ELEMENTS(roots));
	u = vtb_cpu_use_diff(sa, sb);

	t = entry(u, "linux.uml", "linux.uml");
	assert_true(t->runs_guest);
	assert_float_equal(t->cpu_s, 0.8, 1e-9);
	t = entry(u, "uml-userspace", "1 process");
	assert_int_equal(t->group, VTB_CPU_GUEST_USER);
	assert_float_equal(t->cpu_s, 1.0, 1e-9);
	t = entry(u, "uml-helper", "uml-helper");
	assert_int_equal(t->group, VTB_CPU_VMM);
	assert_false(t->runs_guest);
	assert_float_equal(t->cpu_s, 0.02, 1e-9);
	t = entry(u, "uml-userspace", "exited in the run");
	assert_int_equal(t->group, VTB_CPU_GUEST_USER);
	assert_float_equal(t->cpu_s, 0.06, 1e-9);
	/* Only the VMM is a root: its children have no memory line. */
	assert_int_equal(u->memory->len, 2);
	u->guest.busy_pct = 99;
	verdict = vtb_cpu_verdict(u);
	assert_string_equal(verdict,
			    "guest-CPU-bound: uml-userspace (1 process) 100 %, "
			    "all the guest's threads 186 % (guest 99 % busy)");
	rm_rf(a);
	rm_rf(b);
}

/* ---- the verdict ---- */

struct vthread {
	enum vtb_cpu_group g;
	const char *process, *name;
	int n;
	bool guest;
	double cpu, wait;
};

static struct vtb_cpu_use *use_of(const struct vthread *t, double busy)
{
	struct vtb_cpu_use *u = g_new0(struct vtb_cpu_use, 1);

	u->wall_s = 2;
	u->cores = 2;
	u->threads = g_array_new(FALSE, TRUE, sizeof(struct vtb_cpu_thread));
	u->memory = g_array_new(FALSE, TRUE, sizeof(struct vtb_cpu_mem));
	u->guest = (struct vtb_cpu_guest){busy, -1, -1, -1, -1, -1, -1};
	for (; t && t->process; t++) {
		struct vtb_cpu_thread x = {
			.group = t->g,
			.process = g_strdup(t->process),
			.name = g_strdup(t->name),
			.thread = t->n > 1 && t->g != VTB_CPU_GUEST_USER
					  ? g_strdup_printf("%s (%d threads)",
							    t->name, t->n)
					  : g_strdup(t->name),
			.n = t->n ? t->n : 1,
			.runs_guest = t->guest,
			.cpu_s = t->cpu,
			.wait_s = t->wait,
		};

		g_array_append_val(u->threads, x);
	}
	return u;
}

static void free_use(struct vtb_cpu_use *u)
{
	for (guint i = 0; i < u->threads->len; i++) {
		struct vtb_cpu_thread *t =
			&g_array_index(u->threads, struct vtb_cpu_thread, i);

		g_free(t->process);
		g_free(t->name);
		g_free(t->thread);
	}
	g_array_set_size(u->threads, 0);
	vtb_cpu_use_free(u);
}

static void test_verdict(void **state)
{
	/* Wall 2 s: a thread of 1.94 s is 97 %. */
	static const struct {
		const char *name;
		struct vthread t[5];
		double busy;
		const char *want;
	} cases[] = {
		{"vcpu busy",
		 {{VTB_CPU_VMM, "qemu-system-x86", "CPU 0/TCG", 1, true, 1.94},
		  {VTB_CPU_VMM, "qemu-system-x86", "qemu-system-x86", 1, false,
		   0.2}},
		 95,
		 "guest-CPU-bound: CPU 0/TCG 97 % (guest 95 % busy)"},
		{"main loop busy",
		 {{VTB_CPU_VMM, "qemu-system-x86", "qemu-system-x86", 1, false,
		   1.98},
		  {VTB_CPU_VMM, "qemu-system-x86", "CPU 0/TCG", 1, true, 0.6}},
		 20,
		 "VMM-bound: qemu-system-x86 main thread 99 % (guest 20 % "
		 "busy)"},
		{"helper threads together",
		 {{VTB_CPU_HELPER, "virtiofsd", "virtiofsd", 1, false, 1.8},
		  {VTB_CPU_HELPER, "virtiofsd", "pool", 1, false, 1.8},
		  {VTB_CPU_VMM, "qemu-system-x86", "CPU 0/TCG", 1, true, 1.0}},
		 50,
		 "helper-bound: virtiofsd 2 threads 180 %"},
		{"sender",
		 {{VTB_CPU_VTBENCH, "vtbench", "vtbench", 1, false, 1.9},
		  {VTB_CPU_VMM, "linux.uml", "linux.uml", 1, true, 0.5}},
		 30,
		 "sender-bound: vtbench 95 % (guest 30 % busy)"},
		{"vtbench's vhost-user back-end",
		 {{VTB_CPU_VTBENCH, "vtbench", "vhost-console", 1, false, 1.7}},
		 -1,
		 "helper-bound: vtbench's vhost-console 85 %"},
		{"nothing busy",
		 {{VTB_CPU_VMM, "qemu-system-x86", "CPU 0/TCG", 1, true, 0.3},
		  {VTB_CPU_VTBENCH, "vtbench", "vtbench", 1, false, 0.1}},
		 10,
		 "waiting: every thread < 20 %"},
		{"busy guest, its thread short of host CPU",
		 {{VTB_CPU_VMM, "linux.uml", "linux.uml", 1, true, 1.1, 0.8},
		  {VTB_CPU_VTBENCH, "vtbench", "vtbench", 1, false, 0.4}},
		 98,
		 "guest-CPU-bound: linux.uml main thread 55 % (guest 98 % "
		 "busy; "
		 "threads waited 40 % for a host CPU)"},
		{"mixed",
		 {{VTB_CPU_VMM, "qemu-system-x86", "qemu-system-x86", 1, false,
		   1.2},
		  {VTB_CPU_VMM, "qemu-system-x86", "CPU 0/TCG", 1, true, 0.9}},
		 40,
		 "mixed: qemu-system-x86 main thread 60 %, CPU 0/TCG 45 % "
		 "(guest 40 % busy)"},
		{"no thread",
		 {{0}},
		 -1,
		 "unknown: no thread of the guest was seen"},
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct vtb_cpu_use *u = use_of(cases[i].t, cases[i].busy);
		g_autofree char *v = vtb_cpu_verdict(u);

		if (strcmp(v, cases[i].want))
			fail_msg("%s: \"%s\", want \"%s\"", cases[i].name, v,
				 cases[i].want);
		free_use(u);
	}
}

/* The results' object and back: what resume keeps. */
static void test_json(void **state)
{
	static const struct vthread t[] = {{VTB_CPU_VMM, "qemu-system-x86",
					    "CPU 0/TCG", 1, true, 1.5, 0.1},
					   {VTB_CPU_GUEST_USER, "uml-userspace",
					    "3 processes", 3, true, 0.2},
					   {0}};
	struct vtb_cpu_use *u = use_of(t, 75);
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) n = NULL;
	g_autoptr(vtb_cpu_use) back = NULL;
	const struct vtb_cpu_thread *x;

	(void)state;
	u->verdict = g_strdup("mixed: whatever");
	u->other_s = 0.25;
	vtb_cpu_use_to_json(u, b);
	n = json_builder_get_root(b);
	back = vtb_cpu_use_from_json(json_node_get_object(n));
	assert_float_equal(back->wall_s, 2, 1e-12);
	assert_int_equal(back->cores, 2);
	assert_float_equal(back->other_s, 0.25, 1e-12);
	assert_float_equal(back->guest.busy_pct, 75, 1e-12);
	assert_int_equal(back->guest.mem_used_kib, -1);
	assert_string_equal(back->verdict, "mixed: whatever");
	assert_int_equal(back->threads->len, 2);
	x = &g_array_index(back->threads, struct vtb_cpu_thread, 1);
	assert_int_equal(x->group, VTB_CPU_GUEST_USER);
	assert_string_equal(x->thread, "3 processes");
	assert_int_equal(x->n, 3);
	assert_true(x->runs_guest);
	free_use(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_stat),
		cmocka_unit_test(test_small_files),
		cmocka_unit_test(test_diff_qemu),
		cmocka_unit_test(test_diff_uml),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
