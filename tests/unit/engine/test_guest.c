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

/* What the guest kernel took against what was asked, from its mount line. */
static void test_mount_taken(void **state)
{
	static const struct {
		const char *asked, *line, *want; /* want NULL: nothing */
	} t[] = {
		/* virtio's 9p carries 512000 bytes at most. */
		{"trans=virtio,version=9p2000.L,msize=2097152,cache=mmap",
		 "vtbfs 9p rw,dirsync,relatime,mmap,access=client,"
		 "msize=512000,trans=virtio",
		 "msize=512000 for msize=2097152"},
		/* 128K is 6.1's default: not shown, so not told apart. */
		{"trans=virtio,version=9p2000.L,msize=131072,cache=mmap",
		 "vtbfs 9p rw,dirsync,relatime,mmap,access=client,"
		 "trans=virtio",
		 NULL},
		{"trans=virtio,msize=65536",
		 "vtbfs 9p rw,msize=65536,trans=virtio", NULL},
		/* Two differences, both said. */
		{"a=1,b=2,c=3", "x t rw,a=1,b=9,c=4",
		 "b=9 for b=2; c=4 for c=3"},
		/* A key that is a prefix of another is not it. */
		{"ms=1", "x t rw,msize=512000", NULL},
		{"", "none hostfs rw,relatime", NULL},
		/* tmpfs shows its share of memory worked out. */
		{"size=50%", "tmpfs tmpfs rw,relatime,size=105372k,inode64",
		 NULL},
		{NULL, NULL, NULL},
		{"msize=4096", NULL, NULL},
		{"msize=4096", "garbage", NULL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *got = vtb_mount_taken(t[i].asked, t[i].line);

		if (g_strcmp0(got, t[i].want))
			fail_msg("'%s' against '%s': '%s', want '%s'",
				 t[i].asked ? t[i].asked : "(null)",
				 t[i].line ? t[i].line : "(null)",
				 got ? got : "(none)",
				 t[i].want ? t[i].want : "(none)");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_figures),
		cmocka_unit_test(test_mount_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
