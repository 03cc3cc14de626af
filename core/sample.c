/* A sample: what one run measured. */
#include "core/cpuacct.h"
#include "core/vtbench.h"

void vtb_sample_clear(struct vtb_sample *s)
{
	g_clear_pointer(&s->error, g_free);
	g_clear_pointer(&s->guest_release, g_free);
	g_clear_pointer(&s->phases, g_array_unref);
	g_clear_pointer(&s->metrics, g_array_unref);
	g_clear_pointer(&s->note, g_free);
	g_clear_pointer(&s->cpu, vtb_cpu_use_free);
	g_clear_pointer(&s->mount, g_free);
}

void vtb_sample_add_note(struct vtb_sample *s, const char *fmt, ...)
{
	g_autofree char *n = NULL;
	va_list ap;
	char *old = s->note;

	va_start(ap, fmt);
	n = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	s->note = old ? g_strdup_printf("%s; %s", old, n) : g_strdup(n);
	g_free(old);
}

void vtb_sample_add_phase(struct vtb_sample *s, const char *name, double v)
{
	struct vtb_phase p = {name, v};

	if (!s->phases)
		s->phases = g_array_new(FALSE, FALSE, sizeof(p));
	g_array_append_val(s->phases, p);
}

void vtb_sample_add_metric(struct vtb_sample *s, const char *name,
			   const char *unit, bool higher_better, double v)
{
	struct vtb_metric m = {name, unit, higher_better, v};

	if (!s->metrics)
		s->metrics = g_array_new(FALSE, FALSE, sizeof(m));
	g_array_append_val(s->metrics, m);
}
