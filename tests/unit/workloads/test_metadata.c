/* Unit tests: metadata's check of the guest's lines ("walk N NS\n",
 * "rm N NS\n"), each case against a tarball of 452 entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "workloads/metadata.h"

#define WANT 452

struct parse_case {
	const char *name;
	const char *text;
	gsize len;	 /* 0: strlen(text) */
	const char *err; /* in the refusal, or NULL: accepted */
	guint64 walk_ns, rm_ns;
};

static const struct parse_case parse_cases[] = {
	{"both lines", "walk 452 53000000\nrm 452 1100000000\n", 0, NULL,
	 53000000, 1100000000},
	{"the largest figure", "walk 452 18446744073709551615\nrm 452 1\n", 0,
	 NULL, 18446744073709551615ull, 1},
	/* What the test hook VTB_RUN_F_TEST_SHORT makes the agent send. */
	{"the walk one entry short", "walk 451 53000000\nrm 452 1100000000\n",
	 0, "walk counted 451 entries, the tarball holds 452", 0, 0},
	{"the removal short", "walk 452 53000000\nrm 400 1100000000\n", 0,
	 "rm counted 400 entries, the tarball holds 452", 0, 0},
	{"more than the tarball", "walk 453 5\nrm 453 5\n", 0,
	 "walk counted 453 entries, the tarball holds 452", 0, 0},
	{"no line at all", "", 0, "line for walk is missing", 0, 0},
	{"the rm line missing", "walk 452 53000000\n", 0,
	 "line for rm is missing", 0, 0},
	{"the rm line without its end", "walk 452 53000000\nrm 452 11", 0,
	 "line for rm is missing (a line without its end)", 0, 0},
	{"out of order", "rm 452 1\nwalk 452 1\n", 0,
	 "line 1 is rm where walk was asked", 0, 0},
	{"the walk twice", "walk 452 1\nwalk 452 1\n", 0,
	 "line 2 is walk where rm was asked", 0, 0},
	{"a line after rm", "walk 452 1\nrm 452 1\nrm 452 1\n", 0,
	 "lines go on after the rm line: 'rm 452 1", 0, 0},
	{"two fields", "walk 452\nrm 452 1\n", 0,
	 "line 1 is not 'PART N NS': 'walk 452'", 0, 0},
	{"four fields", "walk 452 1 2\nrm 452 1\n", 0,
	 "line 1 is not 'PART N NS'", 0, 0},
	{"garbage, quoted escaped", "\x01\xff\x80garbage\n", 0,
	 "line 1 is not 'PART N NS': '\\001\\377\\200garbage'", 0, 0},
	{"a name escaped", "wa\tlk 452 1\nrm 452 1\n", 0,
	 "line 1 is wa\\tlk where walk was asked", 0, 0},
	{"no decimal", "walk 452 12ab\nrm 452 1\n", 0,
	 "walk: count '452' or nanoseconds '12ab' is no decimal of 64 bits", 0,
	 0},
	{"a negative count", "walk -452 1\nrm 452 1\n", 0,
	 "is no decimal of 64 bits", 0, 0},
	{"a sign", "walk +452 1\nrm 452 1\n", 0, "is no decimal of 64 bits", 0,
	 0},
	{"hexadecimal", "walk 0x1c4 1\nrm 452 1\n", 0,
	 "is no decimal of 64 bits", 0, 0},
	{"overflow of 64 bits", "walk 452 18446744073709551616\nrm 452 1\n", 0,
	 "nanoseconds '18446744073709551616' is no decimal of 64 bits", 0, 0},
	{"zero nanoseconds", "walk 452 5\nrm 452 0\n", 0,
	 "rm took 0 ns: no time", 0, 0},
	{"a NUL inside", "walk 452 5\0\nrm 452 1\n", 21,
	 "lines hold a NUL byte", 0, 0},
	{"CRLF", "walk 452 5\r\nrm 452 1\r\n", 0, "is no decimal of 64 bits", 0,
	 0},
};

static void test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct vtb_metadata_lines l;
	GError *e = NULL;
	gboolean ok = vtb_metadata_parse(
		c->text, c->len ? c->len : strlen(c->text), WANT, &l, &e);

	if (!c->err) {
		if (!ok)
			fail_msg("%s: refused: %s", c->name, e->message);
		assert_int_equal(l.walk_n, WANT);
		assert_int_equal(l.rm_n, WANT);
		assert_true(l.walk_ns == c->walk_ns);
		assert_true(l.rm_ns == c->rm_ns);
		return;
	}
	assert_false(ok);
	assert_non_null(e);
	print_message("  %s\n", e->message);
	if (!strstr(e->message, c->err))
		fail_msg("%s: '%s' lacks '%s'", c->name, e->message, c->err);
	assert_true(g_str_has_prefix(e->message, "metadata: the guest's "));
	assert_null(strchr(e->message, '\n'));
	g_error_free(e);
}

int main(void)
{
	struct CMUnitTest tests[G_N_ELEMENTS(parse_cases)];

	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++)
		tests[i] = (struct CMUnitTest){parse_cases[i].name, test_parse,
					       NULL, NULL,
					       (void *)&parse_cases[i]};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
