/* Unit tests: the upload split finds a cell's parts from the workload
 * table; the matrix per operation puts cells side by side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/tables.h"
#include "core/registry.h"

static void sample_free(gpointer p)
{
	vtb_sample_clear(p);
	g_free(p);
}

/* A cell of @workload with 3 ok samples of @secs, on uml. */
static struct vtb_cell *cell(struct vtb_matrix *r, const char *workload,
			     const char *transport, const char *cache,
			     const char *target, double secs)
{
	struct vtb_cell *c = g_new0(struct vtb_cell, 1);

	c->env = &r->env;
	c->backend = vtb_backends[0];
	c->workload = vtb_workload_find(workload);
	assert_non_null(c->workload);
	c->driver = "d";
	c->accel = "-";
	c->transport = transport;
	c->tops = strcmp(transport, "-") ? vtb_transport_find(transport) : NULL;
	c->cache = cache;
	c->target = target;
	c->image = strcmp(target, "-") ? "raw-sparse" : "-";
	c->fs = strcmp(target, "-") ? "ext2" : "-";
	c->aio = "-";
	c->variant = "-";
	c->payload = "zero";
	c->size = 100000000;
	c->samples = g_ptr_array_new_with_free_func(sample_free);
	for (int i = 0; i < 3; i++) {
		struct vtb_sample *s = g_new0(struct vtb_sample, 1);

		s->ok = true;
		s->seconds = secs;
		s->bytes = c->size;
		g_ptr_array_add(c->samples, s);
	}
	g_ptr_array_add(r->cells, c);
	return c;
}

static void cell_free(gpointer p)
{
	struct vtb_cell *c = p;

	g_ptr_array_unref(c->samples);
	g_free(c);
}

static char *split_of(struct vtb_matrix *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vtb_print_split(r, f);
	fclose(f);
	return buf;
}

struct split_case {
	const char *what;
	/* the no-write and no-upload cells: transport, cache, target */
	const char *nw_cache, *nu_cache, *nu_target;
	double up, nw, nu;
	const char *want; /* substring of the output, or NULL: no row */
};

static void test_split(void **state)
{
	static const struct split_case cases[] = {
		{"disk slower", "-", "writeback", "ubd", 4, 1, 2,
		 " 4.00s    25MB/s   1.00s   100MB/s   2.00s    50MB/s  2.00x"},
		{"channel slower", "-", "writeback", "ubd", 3, 3, 1, " 1.00x"},
		{"no-upload of another cache", "-", "sync", "ubd", 4, 1, 2,
		 NULL},
		{"no-upload of another target", "-", "writeback", "virtio-blk",
		 4, 1, 2, NULL},
		{"no-write of another cache", "sync", "writeback", "ubd", 4, 1,
		 2, NULL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct vtb_matrix r = {0};
		g_autofree char *out = NULL;

		r.cells = g_ptr_array_new_with_free_func(cell_free);
		cell(&r, "upload", "serial", "writeback", "ubd", cases[i].up);
		cell(&r, "upload-no-write", "serial", cases[i].nw_cache, "-",
		     cases[i].nw);
		cell(&r, "write-no-upload", "-", cases[i].nu_cache,
		     cases[i].nu_target, cases[i].nu);
		out = split_of(&r);
		if (!cases[i].want) {
			if (*out)
				fail_msg("%s: a row: %s", cases[i].what, out);
		} else {
			if (!strstr(out, "upload split (medians)") ||
			    !strstr(out, "no-write") ||
			    !strstr(out, "no-upload") ||
			    !strstr(out, cases[i].want))
				fail_msg("%s: '%s' not in:\n%s", cases[i].what,
					 cases[i].want, out);
		}
		g_ptr_array_unref(r.cells);
	}
}

/* A part that failed every run is no part: no row rather than a zero. */
static void test_split_failed_part(void **state)
{
	struct vtb_matrix r = {0};
	struct vtb_cell *nu;
	g_autofree char *out = NULL;

	r.cells = g_ptr_array_new_with_free_func(cell_free);
	cell(&r, "upload", "serial", "writeback", "ubd", 4);
	cell(&r, "upload-no-write", "serial", "-", "-", 1);
	nu = cell(&r, "write-no-upload", "-", "writeback", "ubd", 2);
	for (guint i = 0; i < nu->samples->len; i++)
		((struct vtb_sample *)nu->samples->pdata[i])->ok = false;
	out = split_of(&r);
	assert_string_equal(out, "");
	g_ptr_array_unref(r.cells);
}

/* ---- figures per operation ---- */

static char *per_op_of(struct vtb_matrix *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vtb_print_per_op(r, f);
	fclose(f);
	return buf;
}

/* A syscall cell whose 3 samples have @getpid and @stat ns/op (< 0: no
 * such metric), and a metric of another unit. */
static struct vtb_cell *op_cell(struct vtb_matrix *r, double getpid,
				double stat, bool ok)
{
	struct vtb_cell *c = cell(r, "syscall", "-", "-", "-", 1);

	for (guint i = 0; i < c->samples->len; i++) {
		struct vtb_sample *s = c->samples->pdata[i];

		s->ok = ok;
		if (getpid >= 0)
			vtb_sample_add_metric(s, "getpid_ns", VTB_UNIT_PER_OP,
					      false, getpid + i);
		if (stat >= 0)
			vtb_sample_add_metric(s, "stat_ns", VTB_UNIT_PER_OP,
					      false, stat);
		vtb_sample_add_metric(s, "guest_cpu_pct", "%", false, 100);
	}
	return c;
}

struct per_op_case {
	const char *what;
	double a_getpid, a_stat, b_getpid, b_stat;
	bool b_ok;
	const char *want[4]; /* lines (substrings) of the output */
	const char * not ;   /* not in the output, or NULL */
};

static void test_per_op(void **state)
{
	static const struct per_op_case cases[] = {
		{"two cells side by side, medians, ratio",
		 100000,
		 90000,
		 500,
		 4500,
		 true,
		 {"ns per operation (medians)    uml syscall  uml syscall   "
		  "ratio\n",
		  "getpid_ns                          100001          501  "
		  "199.6x\n",
		  "stat_ns                             90000         4500   "
		  "20.0x\n",
		  "(ratio: the first column over the second)\n"},
		 "guest_cpu_pct"},
		{"a metric one cell lacks: '-' and no ratio",
		 100000,
		 -1,
		 500,
		 4500,
		 true,
		 {"stat_ns                                 -         4500\n",
		  "getpid_ns                          100001          501  "
		  "199.6x\n"},
		 NULL},
		{"a failed cell: no column, no zero, no ratio",
		 100000,
		 90000,
		 500,
		 4500,
		 false,
		 {"getpid_ns                          100001\n",
		  "stat_ns                             90000\n"},
		 "   ratio"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct per_op_case *c = &cases[i];
		struct vtb_matrix r = {0};
		g_autofree char *out = NULL;

		r.cells = g_ptr_array_new_with_free_func(cell_free);
		op_cell(&r, c->a_getpid, c->a_stat, true);
		op_cell(&r, c->b_getpid, c->b_stat, c->b_ok);
		/* A cell of another workload has no figure per operation. */
		cell(&r, "upload", "serial", "writeback", "ubd", 4);
		out = per_op_of(&r);
		for (size_t k = 0; k < G_N_ELEMENTS(c->want) && c->want[k]; k++)
			if (!strstr(out, c->want[k]))
				fail_msg("%s: '%s' not in:\n%s", c->what,
					 c->want[k], out);
		if (c->not &&strstr(out, c->not ))
			fail_msg("%s: '%s' in:\n%s", c->what, c->not, out);
		g_ptr_array_unref(r.cells);
	}
}

/* No cell with figures per operation: nothing printed. */
static void test_per_op_none(void **state)
{
	struct vtb_matrix r = {0};
	g_autofree char *out = NULL;

	r.cells = g_ptr_array_new_with_free_func(cell_free);
	cell(&r, "upload", "serial", "writeback", "ubd", 4);
	op_cell(&r, 100, 100, false);
	out = per_op_of(&r);
	assert_string_equal(out, "");
	g_ptr_array_unref(r.cells);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_failed_part),
		cmocka_unit_test(test_per_op),
		cmocka_unit_test(test_per_op_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
