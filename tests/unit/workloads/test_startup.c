/* Unit tests: start-up phases from the host's clock and the guest's stamps. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "workloads/startup.h"

#define NS(s) ((guint64)((s)*1e9 + 0.5))
#define NONE NAN /* the phase must be absent */

struct phase_case {
	const char *name;
	double hello_s;			    /* host: spawn -> HELLO */
	double entry_s, modules_s, stamp_s; /* guest uptime stamps */
	double vmm, kernel, modules, agent; /* the phases, or NONE */
	const char *note;		    /* in the sample's note, or NULL */
};

/* clang-format off */
static const struct phase_case cases[] = {
	{ "consistent: the phases add up to spawn -> HELLO",
	  2.2, 2.0, 2.004, 2.005, 0.195, 2.0, 0.004, 0.001, NULL },
	{ "the guest's HELLO stamp equals the host's interval: 0 is true",
	  2.005, 2.0, 2.004, 2.005, 0, 2.0, 0.004, 0.001, NULL },
	/* UML's and TCG's clocks drift: ahead, the kernel would have
	 * started before the spawn.  Said, not clamped to 0. */
	{ "guest clock ahead of the host's: no vmm_to_kernel, a note",
	  2.0, 2.0, 2.004, 2.05, NONE, 2.0, 0.004, 0.046,
	  "guest clock 0.050000 s ahead of the host's (HELLO at 2.050000 s "
	  "of guest uptime, 2.000000 s after the spawn): vmm_to_kernel "
	  "unknown" },
	/* Unsigned stamps out of order would wrap to 1.8e10 s. */
	{ "modules stamp before the entry stamp: said, nothing wraps",
	  2.2, 2.0, 1.9, 2.005, 0.195, 2.0, NONE, NONE,
	  "guest stamps out of order (entry 2000000000, modules 1900000000, "
	  "HELLO 2005000000 ns): modules and agent_ready unknown" },
	{ "both at once: two notes",
	  1.0, 2.0, 1.9, 2.005, NONE, 2.0, NONE, NONE,
	  "vmm_to_kernel unknown; guest stamps out of order" },
};
/* clang-format on */

/* The phase @name of @s, or NAN. */
static double phase(const struct vtb_sample *s, const char *name)
{
	for (guint i = 0; s->phases && i < s->phases->len; i++) {
		const struct vtb_phase *p =
			&g_array_index(s->phases, struct vtb_phase, i);

		if (!strcmp(p->name, name))
			return p->s;
	}
	return NAN;
}

static void test_phases(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct phase_case *c = &cases[i];
		struct vtb_hello h = {
			.t_entry_ns = NS(c->entry_s),
			.t_modules_ns = NS(c->modules_s),
			.t_hello_ns = NS(c->stamp_s),
		};
		struct vtb_sample s = {0};
		const struct {
			const char *name;
			double want;
		} want[] = {
			{"vmm_to_kernel", c->vmm},
			{"kernel_to_init", c->kernel},
			{"modules", c->modules},
			{"agent_ready", c->agent},
		};
		double sum = 0;
		bool all = true;

		vtb_startup_phases(&s, c->hello_s, &h);
		for (size_t k = 0; k < G_N_ELEMENTS(want); k++) {
			double got = phase(&s, want[k].name);

			if (isnan(want[k].want) != isnan(got) ||
			    (!isnan(got) && fabs(got - want[k].want) > 1e-6))
				fail_msg("%s: %s = %g, want %g", c->name,
					 want[k].name, got, want[k].want);
			/* never a negative phase */
			if (!isnan(got) && got < 0)
				fail_msg("%s: %s negative", c->name,
					 want[k].name);
			all &= !isnan(got);
			sum += isnan(got) ? 0 : got;
		}
		/* All present: they add up to the host's interval. */
		if (all && fabs(sum - c->hello_s) > 1e-6)
			fail_msg("%s: phases add up to %g, not %g", c->name,
				 sum, c->hello_s);
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
		cmocka_unit_test(test_phases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
