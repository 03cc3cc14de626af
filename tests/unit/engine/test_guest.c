/* Unit tests: the guest's own figures of a transfer, from its RESULT. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

#define NONE NAN /* the phase must be absent */

struct guest_case {
	const char *name;
	guint64 start_ns, end_ns; /* the guest's CLOCK_BOOTTIME stamps */
	guint32 busy_permille;
	double transfer_s; /* guest_transfer, or NONE */
	const char *note;  /* in the sample's note, or NULL */
};

/* clang-format off */
static const struct guest_case cases[] = {
	{ "in order: the guest's interval", 2000000000, 2500000000, 731,
	  0.5, NULL },
	{ "an instant: 0 is true", 7, 7, 0, 0, NULL },
	/* Unsigned stamps out of order would wrap to 1.8e10 s. */
	{ "end before start: said, nothing wraps", 2500000000, 2000000000,
	  500, NONE,
	  "guest stamps out of order (start 2500000000, end 2000000000 ns): "
	  "guest_transfer unknown" },
};
/* clang-format on */

static double find(GArray *a, const char *name)
{
	for (guint i = 0; a && i < a->len; i++) {
		const struct vtb_phase *p =
			&g_array_index(a, struct vtb_phase, i);

		if (!strcmp(p->name, name))
			return p->s;
	}
	return NAN;
}

static void test_guest_figures(void **state)
{
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct guest_case *c = &cases[i];
		struct vtb_result r = {
			.t_start_ns = c->start_ns,
			.t_end_ns = c->end_ns,
			.cpu_busy_permille = c->busy_permille,
		};
		struct vtb_sample s = {0};
		double got;

		vtb_xfer_guest_figures(&s, &r);
		got = find(s.phases, "guest_transfer");
		if (isnan(got) != isnan(c->transfer_s) ||
		    (!isnan(got) && fabs(got - c->transfer_s) > 1e-9))
			fail_msg("%s: guest_transfer = %g, want %g", c->name,
				 got, c->transfer_s);
		if (!c->note != !s.note ||
		    (c->note && !strstr(s.note, c->note)))
			fail_msg("%s: note '%s', want '%s'", c->name,
				 s.note ? s.note : "(none)",
				 c->note ? c->note : "(none)");
		vtb_sample_clear(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_figures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
