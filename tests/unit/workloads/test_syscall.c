/* Unit tests: syscall's check of the guest's lines ("OP COUNT NS\n"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"
#include "workloads/syscall.h"

static const char *const three[] = {"getpid", "stat", "fork_exec"};
static const guint64 counts[] = {20000, 5000, 100};

struct parse_case {
	const char *name;
	const char *text;
	gsize len;	 /* 0: strlen(text) */
	guint n;	 /* ops asked, of three[] */
	const char *err; /* in the refusal, or NULL: accepted */
	guint64 ns[3];	 /* what an accepted one holds */
};

static const struct parse_case parse_cases[] = {
	{"three good lines",
	 "getpid 20000 2000000\nstat 5000 1500000\nfork_exec 100 300000000\n",
	 0,
	 3,
	 NULL,
	 {2000000, 1500000, 300000000}},
	{"the largest figure a second per op allows",
	 "getpid 20000 20000000000000\n",
	 0,
	 1,
	 NULL,
	 {20000000000000}},
	{"nothing asked, nothing sent", "", 0, 0, NULL, {0}},
	{"an op missing at the end",
	 "getpid 20000 2000000\nstat 5000 1500000\n",
	 0,
	 3,
	 "line for fork_exec is missing",
	 {0}},
	{"no line at all", "", 0, 1, "line for getpid is missing", {0}},
	{"the last line without its newline",
	 "getpid 20000 2000000\nstat 5000 1500000",
	 0,
	 2,
	 "line for stat is missing (a line without its end)",
	 {0}},
	{"ops out of order",
	 "stat 5000 1500000\ngetpid 20000 2000000\n",
	 0,
	 2,
	 "line 1 is stat where getpid was asked",
	 {0}},
	{"an op repeated",
	 "getpid 20000 2000000\ngetpid 20000 2000000\n",
	 0,
	 2,
	 "line 2 is getpid where stat was asked",
	 {0}},
	{"an extra line after the last op",
	 "getpid 20000 2000000\nstat 5000 1\n",
	 0,
	 1,
	 "lines go on after the last op: 'stat 5000 1",
	 {0}},
	{"another count",
	 "getpid 10000 2000000\n",
	 0,
	 1,
	 "getpid: 10000 runs where 20000 were asked",
	 {0}},
	{"garbage, quoted escaped",
	 "\x01\xff\x80garbage\n",
	 0,
	 1,
	 "line 1 is not 'OP COUNT NS': '\\001\\377\\200garbage'",
	 {0}},
	{"an unknown op, escaped",
	 "get\tpid 20000 2000000\n",
	 0,
	 1,
	 "line 1 is get\\tpid where getpid was asked",
	 {0}},
	{"two fields",
	 "getpid 20000\n",
	 0,
	 1,
	 "line 1 is not 'OP COUNT NS'",
	 {0}},
	{"four fields",
	 "getpid 20000 1 2\n",
	 0,
	 1,
	 "line 1 is not 'OP COUNT NS'",
	 {0}},
	{"two spaces",
	 "getpid  20000 1\n",
	 0,
	 1,
	 "line 1 is not 'OP COUNT NS'",
	 {0}},
	{"nanoseconds not decimal",
	 "getpid 20000 12ab\n",
	 0,
	 1,
	 "getpid: count '20000' or nanoseconds '12ab' is no decimal",
	 {0}},
	{"a negative figure",
	 "getpid 20000 -5\n",
	 0,
	 1,
	 "is no decimal of 64 bits",
	 {0}},
	{"a sign", "getpid +20000 5\n", 0, 1, "is no decimal of 64 bits", {0}},
	{"hexadecimal",
	 "getpid 20000 0x10\n",
	 0,
	 1,
	 "is no decimal of 64 bits",
	 {0}},
	{"overflow of 64 bits",
	 "getpid 20000 18446744073709551616\n",
	 0,
	 1,
	 "nanoseconds '18446744073709551616' is no decimal of 64 bits",
	 {0}},
	{"count overflow",
	 "getpid 99999999999999999999999 5\n",
	 0,
	 1,
	 "is no decimal of 64 bits",
	 {0}},
	{"zero nanoseconds",
	 "getpid 20000 0\n",
	 0,
	 1,
	 "getpid: 0 ns for 20000 runs is not a time",
	 {0}},
	{"over a second per op",
	 "getpid 20000 20000000020001\n",
	 0,
	 1,
	 "is not a time (0, or over 1 s each)",
	 {0}},
	{"a NUL inside",
	 "getpid 20000 2\0000\n",
	 17,
	 1,
	 "lines hold a NUL byte",
	 {0}},
	{"CRLF",
	 "getpid 20000 2000000\r\n",
	 0,
	 1,
	 "is no decimal of 64 bits",
	 {0}},
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		guint64 ns[3] = {0};
		GError *e = NULL;
		gboolean ok = vtb_syscall_parse(
			c->text, c->len ? c->len : strlen(c->text), three,
			counts, c->n, ns, &e);

		print_message("case: %s\n", c->name);
		if (!c->err) {
			assert_true(ok);
			assert_null(e);
			for (guint k = 0; k < c->n; k++)
				assert_int_equal(ns[k], c->ns[k]);
			continue;
		}
		assert_false(ok);
		assert_non_null(e);
		if (!strstr(e->message, c->err))
			fail_msg("%s: '%s' lacks '%s'", c->name, e->message,
				 c->err);
		assert_non_null(strstr(e->message, "syscall: the guest's "));
		g_error_free(e);
	}
}

/* The host's ops are the protocol's, in its order, each counted. */
static void test_ops(void **state)
{
	static const char *const wire[] = {VTB_SYSCALL_OPS};
	size_t n = 0;

	(void)state;
	for (; vtb_syscall_ops[n].name; n++) {
		assert_true(n < G_N_ELEMENTS(wire));
		assert_string_equal(vtb_syscall_ops[n].name, wire[n]);
		assert_true(vtb_syscall_ops[n].count > 0);
		assert_ptr_equal(vtb_syscall_op_find(wire[n]),
				 &vtb_syscall_ops[n]);
	}
	assert_int_equal(n, G_N_ELEMENTS(wire));
	assert_null(vtb_syscall_op_find("nosuch"));
	assert_null(vtb_syscall_op_find(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
