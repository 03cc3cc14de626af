/* Results: the JSON document (schema 1), the CSV rows and the table. */
#include "results/results.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/cpuacct.h"
#include "core/gitrev.h"
#include "core/json.h"
#include "core/registry.h"
#include "results/cell.h"
#include "results/resfile.h"

double vtb_sample_throughput(const struct vtb_sample *s)
{
	if (!s->bytes || !(s->seconds > 0))
		return 0;
	return s->bytes / s->seconds / 1e6;
}

static void series_add(GPtrArray *list, const char *name, const char *unit,
		       bool higher_better, double v)
{
	struct vtb_series *s = vtb_series_find(list, name);

	if (!s) {
		s = vtb_series_new(name, unit, higher_better);
		g_ptr_array_add(list, s);
	}
	g_array_append_val(s->v, v);
}

GPtrArray *vtb_cell_series(const struct vtb_cell *c)
{
	GPtrArray *list =
		g_ptr_array_new_with_free_func((GDestroyNotify)vtb_series_free);

	g_ptr_array_add(list, vtb_series_new(VTB_METRIC_SECONDS, "s", false));
	for (guint i = 0; i < c->samples->len; i++) {
		const struct vtb_sample *x = c->samples->pdata[i];

		if (x->warmup || !x->ok)
			continue;
		series_add(list, VTB_METRIC_SECONDS, "s", false, x->seconds);
		if (x->bytes)
			series_add(list, VTB_METRIC_THROUGHPUT, "MB/s", true,
				   vtb_sample_throughput(x));
		for (guint j = 0; x->metrics && j < x->metrics->len; j++) {
			const struct vtb_metric *m = &g_array_index(
				x->metrics, struct vtb_metric, j);

			/* as the reader does: seconds and bytes win */
			if (!strcmp(m->name, VTB_METRIC_SECONDS) ||
			    !strcmp(m->name, VTB_METRIC_THROUGHPUT))
				continue;
			series_add(list, m->name, m->unit, m->higher_better,
				   m->v);
		}
	}
	return list;
}

char *vtb_noise_note(const struct vtb_stats *st)
{
	if (!st->noisy)
		return NULL;
	/* one decimal near the threshold, so that "5.4 %" is not "5 %" */
	if (st->cv * 100 < 9.95)
		return g_strdup_printf("noisy: CV %.1f %%", st->cv * 100);
	return g_strdup_printf("noisy: CV %.0f %%", st->cv * 100);
}

void vtb_cell_summary(const struct vtb_cell *c, struct vtb_summary *s)
{
	g_autofree double *v = g_new0(double, c->samples->len + 1);
	struct vtb_stats st;

	memset(s, 0, sizeof(*s));
	for (guint i = 0; i < c->samples->len; i++) {
		struct vtb_sample *x = c->samples->pdata[i];

		if (x->warmup)
			continue;
		if (!x->ok) {
			s->failed++;
			continue;
		}
		v[s->n++] = x->seconds;
	}
	vtb_stats_compute(v, s->n, &st);
	s->median = st.median;
	s->min = st.min;
	s->max = st.max;
	s->mean = st.mean;
	s->stddev = st.stddev;
}

const struct vtb_sample *vtb_cell_median_sample(const struct vtb_cell *c)
{
	g_autoptr(GPtrArray) ok = g_ptr_array_new();
	g_autoptr(GArray) secs = g_array_new(FALSE, FALSE, sizeof(double));
	int i;

	for (guint k = 0; k < c->samples->len; k++) {
		const struct vtb_sample *x = c->samples->pdata[k];

		if (x->ok && !x->warmup) {
			g_ptr_array_add(ok, (gpointer)x);
			g_array_append_val(secs, x->seconds);
		}
	}
	/* The same choice as the report's of a results file. */
	i = vtb_median_index((const double *)secs->data, (int)secs->len);
	return i < 0 ? NULL : ok->pdata[i];
}

/* "guest-CPU-bound: ...; top: CPU 0/TCG 97 %, vtbench 3 %": the verdict
 * and the three busiest threads of @u. */
static char *cpu_line(const struct vtb_cpu_use *u)
{
	GString *s = g_string_new(u->verdict ? u->verdict : "no verdict");

	for (guint i = 0; i < MIN(u->threads->len, 3u) && u->wall_s > 0; i++) {
		const struct vtb_cpu_thread *t =
			&g_array_index(u->threads, struct vtb_cpu_thread, i);

		g_string_append_printf(
			s, "%s%s%s%s %.0f %%", i ? ", " : "; top: ", t->process,
			strcmp(t->process, t->thread) ? "/" : "",
			strcmp(t->process, t->thread) ? t->thread : "",
			100 * t->cpu_s / u->wall_s);
	}
	return g_string_free(s, FALSE);
}

gboolean vtb_cell_phase_median(const struct vtb_cell *c, const char *name,
			       double *out)
{
	g_autofree double *v = g_new0(double, c->samples->len + 1);
	int n = 0;

	for (guint i = 0; i < c->samples->len; i++) {
		struct vtb_sample *x = c->samples->pdata[i];

		if (x->warmup || !x->ok || !x->phases)
			continue;
		for (guint j = 0; j < x->phases->len; j++) {
			struct vtb_phase *p =
				&g_array_index(x->phases, struct vtb_phase, j);

			if (strcmp(p->name, name) == 0)
				v[n++] = p->s;
		}
	}
	if (!n)
		return FALSE;
	*out = vtb_median(v, n);
	return TRUE;
}

static void add_str(JsonBuilder *b, const char *k, const char *v)
{
	json_builder_set_member_name(b, k);
	if (v)
		json_builder_add_string_value(b, v);
	else
		json_builder_add_null_value(b);
}

static void add_num(JsonBuilder *b, const char *k, double v)
{
	json_builder_set_member_name(b, k);
	if (isfinite(v))
		json_builder_add_double_value(b, v);
	else
		json_builder_add_null_value(b); /* JSON has no NaN */
}

static void add_int(JsonBuilder *b, const char *k, gint64 v)
{
	json_builder_set_member_name(b, k);
	json_builder_add_int_value(b, v);
}

static void add_bool(JsonBuilder *b, const char *k, gboolean v)
{
	json_builder_set_member_name(b, k);
	json_builder_add_boolean_value(b, v);
}

static void add_host(JsonBuilder *b, const struct vtb_matrix *r)
{
	const struct vtb_hostinfo *h = &r->host;
	const struct vtb_env *env = &r->env;
	g_autofree char *nesting = vtb_hostinfo_nesting(h);
	double now[3];

	json_builder_set_member_name(b, "host");
	json_builder_begin_object(b);
	add_str(b, "kernel", h->kernel);
	add_str(b, "machine", h->machine);
	add_str(b, "cpu", h->cpu_model);
	add_int(b, "cores", h->cores);
	add_int(b, "memory_bytes", (gint64)h->mem_bytes);
	add_bool(b, "hypervisor_bit", h->hypervisor_bit);
	add_str(b, "hypervisor", h->hypervisor_vendor);
	add_str(b, "dmi", h->dmi);
	add_str(b, "sys_hypervisor", h->sys_hypervisor);
	add_bool(b, "kvm_loaded", h->kvm_module);
	add_str(b, "kvm_module", h->kvm_flavour);
	add_str(b, "nested", h->nested);
	add_str(b, "nesting", nesting);
	add_bool(b, "dev_kvm", h->dev_kvm);
	add_str(b, "boot_id", h->boot_id);
	json_builder_set_member_name(b, "loadavg");
	json_builder_begin_array(b);
	for (int i = 0; i < 3; i++)
		json_builder_add_double_value(b, h->loadavg[i]);
	json_builder_end_array(b);
	/* At this save: the end of the run, once it has finished. */
	if (getloadavg(now, 3) == 3) {
		json_builder_set_member_name(b, "loadavg_end");
		json_builder_begin_array(b);
		for (int i = 0; i < 3; i++)
			json_builder_add_double_value(b, now[i]);
		json_builder_end_array(b);
	}
	/* What each backend found out here: usable, why, its fixes. */
	for (int i = 0; vtb_backends[i]; i++) {
		const struct vtb_backend_ops *be = vtb_backends[i];

		if (!be->record)
			continue;
		json_builder_set_member_name(b, be->name);
		json_builder_begin_object(b);
		be->record(env, NULL, b);
		json_builder_end_object(b);
	}
	json_builder_end_object(b);
}

static void add_versions(JsonBuilder *b, const struct vtb_matrix *r)
{
	const struct vtb_env *env = &r->env;

	json_builder_set_member_name(b, "versions");
	json_builder_begin_object(b);
	add_str(b, "vtbench", PACKAGE_VERSION);
	add_str(b, "git", VTB_GIT_REV);
	/* Each backend's kernels, VMM and libraries, ready or not. */
	for (int i = 0; vtb_backends[i]; i++)
		if (vtb_backends[i]->versions)
			vtb_backends[i]->versions(env, b);
	add_str(b, "agent", env->agent);
	json_builder_end_object(b);
}

static void add_options(JsonBuilder *b, const struct vtb_opts *o)
{
	json_builder_set_member_name(b, "options");
	json_builder_begin_object(b);
	add_int(b, "runs", o->runs);
	add_int(b, "warmup", o->warmup);
	add_num(b, "timeout_s", o->timeout);
	add_int(b, "mem_mib", o->mem_mb);
	add_int(b, "size", (gint64)o->size);
	json_builder_end_object(b);
}

/* The values of one option table, under their names (NULL: not set). */
static void add_option_values(JsonBuilder *b, const struct vtb_option *tab,
			      const void *base)
{
	for (const struct vtb_option *op = tab; op && op->name; op++) {
		const void *field = (const char *)base + op->offset;

		json_builder_set_member_name(b, op->name);
		switch (op->type) {
		case VTB_OPT_STR:
			if (*(char *const *)field)
				json_builder_add_string_value(
					b, *(char *const *)field);
			else
				json_builder_add_null_value(b);
			break;
		case VTB_OPT_LIST:
			if (!*(char **const *)field) {
				json_builder_add_null_value(b);
				break;
			}
			json_builder_begin_array(b);
			for (char **it = *(char **const *)field; *it; it++)
				json_builder_add_string_value(b, *it);
			json_builder_end_array(b);
			break;
		case VTB_OPT_INT:
			json_builder_add_int_value(b, *(const int *)field);
			break;
		case VTB_OPT_SIZE: {
			guint64 v = *(const guint64 *)field;

			/* 0: not given, and no default (vtbench decides). */
			if (v)
				json_builder_add_int_value(b, (gint64)v);
			else
				json_builder_add_null_value(b);
			break;
		}
		case VTB_OPT_SECONDS:
			if (*(const double *)field > 0)
				json_builder_add_double_value(
					b, *(const double *)field);
			else
				json_builder_add_null_value(b);
			break;
		case VTB_OPT_FLAG:
			json_builder_add_boolean_value(b, *(const bool *)field);
			break;
		case VTB_OPT_NUM:
			json_builder_add_double_value(b,
						      *(const double *)field);
			break;
		}
	}
}

/*
 * Every option of `run` under its command-line name, defaults applied,
 * straight from the option tables (run's own, each backend's, each
 * workload's): an option added there is recorded without touching this
 * file.
 */
static void add_cli_options(JsonBuilder *b, const struct vtb_matrix *r)
{
	json_builder_set_member_name(b, "cli_options");
	json_builder_begin_object(b);
	add_option_values(b, r->options, &r->opts);
	for (int i = 0; vtb_backends[i]; i++)
		if (vtb_backends[i]->options)
			add_option_values(
				b, vtb_backends[i]->options,
				vtb_backend_opts(&r->opts, vtb_backends[i]));
	for (int i = 0; vtb_transports[i]; i++)
		if (vtb_transports[i]->options)
			add_option_values(b, vtb_transports[i]->options,
					  vtb_transport_opts(
						  &r->opts, vtb_transports[i]));
	for (int i = 0; vtb_workloads[i]; i++)
		if (vtb_workloads[i]->options)
			add_option_values(
				b, vtb_workloads[i]->options,
				vtb_workload_opts(&r->opts, vtb_workloads[i]));
	json_builder_end_object(b);
}

/* How the summaries were made, so a reader can reproduce them. */
static void add_statistics(JsonBuilder *b)
{
	g_autofree char *seed = g_strdup_printf("0x%016" G_GINT64_MODIFIER "x",
						(guint64)VTB_STATS_SEED);

	json_builder_set_member_name(b, "statistics");
	json_builder_begin_object(b);
	add_str(b, "excluded", "warm-up and failed samples");
	add_str(b, "stddev", "sample (n - 1)");
	add_num(b, "noise_cv", VTB_NOISE_CV);
	add_num(b, "ci_level", VTB_CI_LEVEL);
	add_str(b, "ci_method", "percentile bootstrap of the median");
	add_int(b, "bootstrap_resamples", VTB_BOOTSTRAP_RESAMPLES);
	add_str(b, "rng", "splitmix64");
	/* As text: JSON readers lose integers past 2^53. */
	add_str(b, "seed", seed);
	add_str(b, "throughput", "bytes / seconds per sample, 10^6 B/s");
	json_builder_end_object(b);
}

static void add_sample(JsonBuilder *b, const struct vtb_sample *s)
{
	json_builder_begin_object(b);
	add_bool(b, "warmup", s->warmup);
	add_bool(b, "ok", s->ok);
	add_num(b, "seconds", s->ok ? s->seconds : 0);
	add_int(b, "bytes", (gint64)s->bytes);
	/* Derived, for readers; compare recomputes it from bytes/seconds. */
	if (s->ok && s->bytes)
		add_num(b, VTB_METRIC_THROUGHPUT, vtb_sample_throughput(s));
	if (s->exit_s > 0)
		add_num(b, "exit_s", s->exit_s);
	add_str(b, "error", s->error);
	if (s->mount)
		add_str(b, "mount", s->mount);
	/* Only when something did not add up: what, with the figures. */
	if (s->note)
		add_str(b, "note", s->note);
	if (s->cpu) {
		json_builder_set_member_name(b, "cpu");
		vtb_cpu_use_to_json(s->cpu, b);
	}
	if (s->guest_release) {
		json_builder_set_member_name(b, "guest");
		json_builder_begin_object(b);
		add_str(b, "release", s->guest_release);
		add_int(b, "modules_loaded", s->modules_loaded);
		json_builder_end_object(b);
	}
	json_builder_set_member_name(b, "phases");
	json_builder_begin_object(b);
	for (guint i = 0; s->phases && i < s->phases->len; i++) {
		struct vtb_phase *p =
			&g_array_index(s->phases, struct vtb_phase, i);

		add_num(b, p->name, p->s);
	}
	json_builder_end_object(b);
	/* The workload's own figures; unit and direction are per cell. */
	json_builder_set_member_name(b, "metrics");
	json_builder_begin_object(b);
	for (guint i = 0; s->ok && s->metrics && i < s->metrics->len; i++) {
		struct vtb_metric *m =
			&g_array_index(s->metrics, struct vtb_metric, i);

		add_num(b, m->name, m->v);
	}
	json_builder_end_object(b);
	json_builder_end_object(b);
}

/* Add the phase names of @c's samples not yet in @names, in the order
 * they first appear: whatever a workload or driver measures. */
static void add_phase_names(GPtrArray *names, const struct vtb_cell *c)
{
	for (guint k = 0; k < c->samples->len; k++) {
		const struct vtb_sample *x = c->samples->pdata[k];

		for (guint j = 0; x->phases && j < x->phases->len; j++) {
			const char *n =
				g_array_index(x->phases, struct vtb_phase, j)
					.name;
			bool seen = false;

			for (guint i = 0; i < names->len && !seen; i++)
				seen = strcmp(names->pdata[i], n) == 0;
			if (!seen)
				g_ptr_array_add(names, (char *)n);
		}
	}
}

static GPtrArray *cell_phase_names(const struct vtb_cell *c)
{
	GPtrArray *names = g_ptr_array_new();

	add_phase_names(names, c);
	return names;
}

static const char *cell_status(const struct vtb_cell *c,
			       const struct vtb_summary *s)
{
	if (s->n && !s->failed)
		return "ok";
	return s->n ? "partial" : c->samples->len ? "failed" : "pending";
}

static struct vtb_cell_env cell_env(const struct vtb_cell *c)
{
	struct vtb_cell_env ce = {0};

	c->backend->cell_env(c, &ce);
	return ce;
}

/* ci95, cv and noisy beside the classic fields of a summary object. */
static void add_spread(JsonBuilder *b, const struct vtb_stats *st)
{
	add_num(b, "cv", st->cv);
	json_builder_set_member_name(b, "ci95");
	json_builder_begin_array(b);
	json_builder_add_double_value(b, st->ci_lo);
	json_builder_add_double_value(b, st->ci_hi);
	json_builder_end_array(b);
	add_bool(b, "noisy", st->noisy);
}

static void add_metrics(JsonBuilder *b, GPtrArray *series)
{
	json_builder_set_member_name(b, "metrics");
	json_builder_begin_object(b);
	for (guint i = 0; i < series->len; i++) {
		const struct vtb_series *m = series->pdata[i];
		struct vtb_stats st;

		vtb_stats_compute((double *)m->v->data, m->v->len, &st);
		json_builder_set_member_name(b, m->name);
		json_builder_begin_object(b);
		add_str(b, "unit", m->unit);
		add_bool(b, "higher_better", m->higher_better);
		json_builder_set_member_name(b, "summary");
		if (!st.n) {
			json_builder_add_null_value(b);
		} else {
			json_builder_begin_object(b);
			add_int(b, "n", st.n);
			add_num(b, "median", st.median);
			add_num(b, "min", st.min);
			add_num(b, "max", st.max);
			add_num(b, "mean", st.mean);
			add_num(b, "stddev", st.stddev);
			add_spread(b, &st);
			json_builder_end_object(b);
		}
		json_builder_end_object(b);
	}
	json_builder_end_object(b);
}

static void add_warnings(JsonBuilder *b, GPtrArray *series)
{
	json_builder_set_member_name(b, "warnings");
	json_builder_begin_array(b);
	for (guint i = 0; i < series->len; i++) {
		const struct vtb_series *m = series->pdata[i];
		struct vtb_stats st;
		g_autofree char *note = NULL, *w = NULL;

		vtb_stats_compute((double *)m->v->data, m->v->len, &st);
		note = vtb_noise_note(&st);
		if (!note)
			continue;
		w = g_strdup_printf("%s (%s)", note, m->name);
		json_builder_add_string_value(b, w);
	}
	json_builder_end_array(b);
}

/* What this cell ran on: kernel, modules, VMM, CPU model. */
static void add_cell_env(JsonBuilder *b, const struct vtb_matrix *r,
			 const struct vtb_cell *c)
{
	struct vtb_cell_env ce = cell_env(c);

	json_builder_set_member_name(b, "env");
	json_builder_begin_object(b);
	vtb_json_kernel(b, "kernel", ce.kernel);
	add_str(b, "boot_image", ce.boot_image);
	add_str(b, "modules", ce.modules);
	add_str(b, "vmm", ce.vmm);
	add_str(b, "vmm_version", ce.vmm_version);
	add_str(b, "cpu", ce.cpu);
	if (c->backend->record)
		c->backend->record(&r->env, c, b);
	/* A filesystem target's own facts (sshfs: its channel, no
	 * encryption), under its name. */
	{
		const struct vtb_transport_ops *t =
			vtb_transport_find(c->target);

		if (t && t->record) {
			json_builder_set_member_name(b, t->name);
			json_builder_begin_object(b);
			t->record(c, b);
			json_builder_end_object(b);
		}
	}
	json_builder_end_object(b);
}

/* What the check of a cell's runs proves, in words. */
static const char *verified(const struct vtb_cell *c, const struct vtb_opts *o)
{
	if (o->verify && g_str_equal(o->verify, "off"))
		return "nothing: --verify off (byte counts only)";
	switch (c->workload->work) {
	case VTB_WORK_SINK:
		return "the guest's XXH3 of every byte it received, against "
		       "the "
		       "host's of the payload (its cached hash is trusted only "
		       "for the file it was made with)";
	case VTB_WORK_COPY:
	case VTB_WORK_GEN:
		return "after the timed part the guest drops the written "
		       "file's pages from its page cache, reads it back and "
		       "hashes it (XXH3): that hash against the payload's; "
		       "and the bytes written against the ones received or "
		       "generated";
	case VTB_WORK_ECHO:
		return "the host's XXH3 of every byte echoed back, against "
		       "what it sent";
	case VTB_WORK_EMIT:
		return "the host's XXH3 of every byte it received, against "
		       "the seeded generator's";
	case VTB_WORK_UNTAR:
		return "every file, directory and byte of the tarball counted "
		       "on the target after the extraction";
	case VTB_WORK_FIO:
		return "fio's own job accounting (no content check)";
	case VTB_WORK_SYSCALL:
		return "every operation reported, with the count asked";
	case VTB_WORK_SLEEP:
		return "the guest slept as long as asked and moved nothing";
	default:
		return "nothing is moved";
	}
}

static void add_params(JsonBuilder *b, const struct vtb_matrix *r,
		       const struct vtb_cell *c)
{
	const struct vtb_opts *o = &r->opts;
	const char *boot = vtb_cell_boot_mode(c);
	struct vtb_cell_env ce = cell_env(c);

	json_builder_set_member_name(b, "params");
	json_builder_begin_object(b);
	add_int(b, "runs", o->runs);
	add_int(b, "warmup", o->warmup);
	add_int(b, "mem_mib", o->mem_mb);
	add_str(b, "boot_image", ce.boot_kind);
	/* What was measured: compare matches cells on all of these. */
	add_str(b, "target", c->target);
	add_str(b, "image", c->image);
	add_str(b, "fs", c->fs);
	add_str(b, "aio", c->aio);
	add_str(b, "variant", c->variant);
	add_str(b, "payload", c->payload);
	add_int(b, "size", (gint64)c->size);
	add_bool(b, "size_auto", c->size_auto);
	/* What an auto-sized transfer aimed at (--duration). */
	if (c->size_auto) {
		json_builder_set_member_name(b, "duration_s");
		json_builder_add_double_value(b, o->duration);
	}
	add_int(b, "msg_size", c->msg_size);
	add_str(b, "verify", o->verify);
	add_str(b, "verified", verified(c, o));
	/* Kept guests: one boot for all runs of the cell, or one each. */
	if (boot)
		add_str(b, "boot", boot);
	add_str(b, "mount_opts", o->mount_opts);
	add_int(b, "disk_size", (gint64)o->disk_size);
	add_bool(b, "drop_caches", o->drop_caches);
	add_int(b, "cpus", ce.cpus);
	/* null: the backend's default deadline */
	json_builder_set_member_name(b, "timeout_s");
	if (o->timeout > 0)
		json_builder_add_double_value(b, o->timeout);
	else
		json_builder_add_null_value(b);
	add_str(b, "accel_requested", ce.accel_requested);
	if (ce.connect)
		add_str(b, "connect", ce.connect);
	json_builder_end_object(b);
}

static void add_cell(JsonBuilder *b, const struct vtb_matrix *r,
		     const struct vtb_cell *c)
{
	struct vtb_summary s;
	const char *first_error = c->error;
	g_autoptr(GPtrArray) series = vtb_cell_series(c);
	g_autoptr(GPtrArray) phases = cell_phase_names(c);
	const struct vtb_series *secs = series->pdata[0];
	struct vtb_stats st;

	vtb_cell_summary(c, &s);
	vtb_stats_compute((double *)secs->v->data, secs->v->len, &st);
	json_builder_begin_object(b);
	add_str(b, "backend", c->backend->name);
	add_str(b, "driver", c->driver);
	add_str(b, "accel", c->accel);
	add_str(b, "transport", c->transport);
	add_str(b, "workload", c->workload->name);
	add_str(b, "cache", c->cache);
	add_str(b, "target", c->target);
	add_str(b, "image", c->image);
	add_str(b, "fs", c->fs);
	add_str(b, "aio", c->aio);
	add_str(b, "variant", c->variant);
	add_str(b, "payload", c->payload);
	add_int(b, "size", (gint64)c->size);
	add_int(b, "msg_size", c->msg_size);
	add_params(b, r, c);
	if (vtb_cell_boot_mode(c)) {
		add_int(b, "boots", c->boots);
		add_int(b, "runs_on_kept_guest", c->reused);
	}
	add_cell_env(b, r, c);
	json_builder_set_member_name(b, "appliance");
	json_builder_begin_object(b);
	add_str(b, "key", c->appliance.key);
	add_bool(b, "cache_hit", c->appliance.cache_hit);
	add_num(b, "build_s", c->appliance.build_s);
	json_builder_set_member_name(b, "modules");
	json_builder_begin_array(b);
	for (guint i = 0; c->appliance.modules && i < c->appliance.modules->len;
	     i++)
		json_builder_add_string_value(b,
					      c->appliance.modules->pdata[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);
	add_str(b, "unit", "s");
	add_str(b, "status", cell_status(c, &s));
	json_builder_set_member_name(b, "samples");
	json_builder_begin_array(b);
	for (guint i = 0; i < c->samples->len; i++) {
		const struct vtb_sample *x = c->samples->pdata[i];

		add_sample(b, x);
		if (!first_error && !x->ok)
			first_error = x->error;
	}
	json_builder_end_array(b);
	add_str(b, "error", first_error);
	json_builder_set_member_name(b, "summary");
	if (s.n) {
		json_builder_begin_object(b);
		add_int(b, "n", s.n);
		add_int(b, "failed", s.failed);
		add_num(b, "median", s.median);
		add_num(b, "min", s.min);
		add_num(b, "max", s.max);
		add_num(b, "mean", s.mean);
		add_num(b, "stddev", s.stddev);
		add_spread(b, &st);
		json_builder_end_object(b);
	} else {
		json_builder_add_null_value(b);
	}
	add_metrics(b, series);
	add_warnings(b, series);
	json_builder_set_member_name(b, "phases");
	json_builder_begin_object(b);
	for (guint i = 0; i < phases->len; i++) {
		double v;

		if (vtb_cell_phase_median(c, phases->pdata[i], &v))
			add_num(b, phases->pdata[i], v);
	}
	json_builder_end_object(b);
	json_builder_end_object(b);
}

char *vtb_results_json(const struct vtb_matrix *r)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	add_int(b, "schema", VTB_SCHEMA);
	add_str(b, "tool", "vtbench");
	/* The matrix came from a named profile (its options, then the
	 * command line's): null when not. */
	add_str(b, "profile", r->opts.profile);
	add_str(b, "started", r->started);
	add_str(b, "finished", r->finished);
	add_bool(b, "interrupted", r->interrupted);
	json_builder_set_member_name(b, "command_line");
	json_builder_begin_array(b);
	for (char **a = r->argv; a && *a; a++)
		json_builder_add_string_value(b, *a);
	json_builder_end_array(b);
	add_host(b, r);
	add_versions(b, r);
	add_options(b, &r->opts);
	add_cli_options(b, r);
	add_statistics(b);
	json_builder_set_member_name(b, "results");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->cells->len; i++)
		add_cell(b, r, r->cells->pdata[i]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "skipped");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->skipped->len; i++)
		json_builder_add_string_value(b, r->skipped->pdata[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);

	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	return json_generator_to_data(gen, NULL);
}

gboolean vtb_results_write_json(const struct vtb_matrix *r, const char *path,
				GError **err)
{
	g_autofree char *text = vtb_results_json(r);

	/* g_file_set_contents writes a temp file and renames it. */
	if (!g_file_set_contents(path, text, -1, err)) {
		g_prefix_error(err, "write results: ");
		return FALSE;
	}
	return TRUE;
}

void vtb_csv_field(GString *s, const char *v)
{
	if (!v)
		v = "";
	if (strpbrk(v, ",\"\n\r")) {
		g_string_append_c(s, '"');
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				g_string_append_c(s, '"');
			g_string_append_c(s, *p);
		}
		g_string_append_c(s, '"');
	} else {
		g_string_append(s, v);
	}
}

/* A numeric field after a comma; empty when not a number. */
static void csv_num(GString *s, double v)
{
	g_string_append_c(s, ',');
	if (isfinite(v))
		g_string_append_printf(s, "%.6f", v);
}

static void csv_gnum(GString *s, double v)
{
	g_string_append_c(s, ',');
	if (isfinite(v))
		g_string_append_printf(s, "%.9g", v);
}

/* The workload metrics of every cell, in the order first seen. */
static GPtrArray *csv_metric_names(const struct vtb_matrix *r)
{
	GPtrArray *names = g_ptr_array_new();

	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];

		for (guint k = 0; k < c->samples->len; k++) {
			const struct vtb_sample *x = c->samples->pdata[k];

			for (guint j = 0; x->metrics && j < x->metrics->len;
			     j++) {
				const char *n =
					g_array_index(x->metrics,
						      struct vtb_metric, j)
						.name;

				if (!g_ptr_array_find_with_equal_func(
					    names, n, g_str_equal, NULL))
					g_ptr_array_add(names, (char *)n);
			}
		}
	}
	return names;
}

static const struct vtb_metric *sample_metric(const struct vtb_sample *x,
					      const char *name)
{
	for (guint j = 0; x->metrics && j < x->metrics->len; j++) {
		const struct vtb_metric *m =
			&g_array_index(x->metrics, struct vtb_metric, j);

		if (strcmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

/* The CPU attribution of a sample: the verdict, seconds per group, the
 * rest of the host, the check, the guest's busy %, the VMM's peak RSS and
 * the guest's memory. */
#define CSV_CPU_COLUMNS                                                        \
	"cpu_verdict,cpu_vmm_s,cpu_guest_user_s,cpu_helper_s,cpu_vtbench_s,"   \
	"cpu_other_s,cpu_idle_s,cpu_accounted_pct,guest_busy_pct,"             \
	"vmm_hwm_kib,guest_mem_used_kib"

static void csv_cpu(GString *s, const struct vtb_cpu_use *u)
{
	double g[VTB_CPU_VTBENCH + 1] = {0};
	gint64 hwm = -1;

	g_string_append_c(s, ',');
	if (!u) {
		g_string_append(s, ",,,,,,,,,,");
		return;
	}
	vtb_csv_field(s, u->verdict);
	for (guint i = 0; i < u->threads->len; i++) {
		const struct vtb_cpu_thread *t =
			&g_array_index(u->threads, struct vtb_cpu_thread, i);

		g[t->group] += t->cpu_s;
	}
	for (int k = VTB_CPU_VMM; k <= VTB_CPU_VTBENCH; k++)
		g_string_append_printf(s, ",%.6f", g[k]);
	g_string_append_printf(s, ",%.6f,%.6f,%.1f", u->other_s, u->idle_s,
			       u->accounted_pct);
	if (u->guest.busy_pct >= 0)
		g_string_append_printf(s, ",%.1f", u->guest.busy_pct);
	else
		g_string_append_c(s, ',');
	for (guint i = 0; i < u->memory->len && hwm < 0; i++) {
		const struct vtb_cpu_mem *m =
			&g_array_index(u->memory, struct vtb_cpu_mem, i);

		if (m->group == VTB_CPU_VMM)
			hwm = m->hwm_kib;
	}
	if (hwm >= 0)
		g_string_append_printf(s, ",%" G_GINT64_FORMAT, hwm);
	else
		g_string_append_c(s, ',');
	if (u->guest.mem_used_kib >= 0)
		g_string_append_printf(s, ",%" G_GINT64_FORMAT,
				       u->guest.mem_used_kib);
	else
		g_string_append_c(s, ',');
}

static void csv_row(GString *s, const struct vtb_matrix *r,
		    const struct vtb_cell *c, guint k, GPtrArray *phases,
		    GPtrArray *metrics)
{
	const struct vtb_sample *x = c->samples->pdata[k];
	struct vtb_cell_env ce = cell_env(c);
	const struct vtb_kernel_info *ki = ce.kernel;
	g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, c->size);
	g_autofree char *msg = g_strdup_printf("%u", c->msg_size);
	g_autofree char *mem = g_strdup_printf("%d", r->opts.mem_mb);
	const char *fields[] = {
		c->backend->name,
		c->driver,
		c->accel,
		c->transport,
		c->workload->name,
		c->cache,
		c->target,
		c->image,
		c->fs,
		c->aio,
		c->variant,
		size,
		c->payload,
		msg,
		mem,
		ce.boot_kind,
		ki->release,
		ki->build_id,
	};

	for (guint f = 0; f < G_N_ELEMENTS(fields); f++) {
		vtb_csv_field(s, fields[f]);
		g_string_append_c(s, ',');
	}
	g_string_append_printf(s, "%u,%d,%d,%.6f,%" G_GUINT64_FORMAT, k + 1,
			       x->warmup, x->ok, x->ok ? x->seconds : 0.0,
			       x->bytes);
	if (x->ok && x->bytes)
		csv_num(s, vtb_sample_throughput(x));
	else
		g_string_append_c(s, ',');
	csv_num(s, x->exit_s);
	g_string_append_c(s, ',');
	vtb_csv_field(s, x->guest_release);
	g_string_append_c(s, ',');
	vtb_csv_field(s, x->error);
	csv_cpu(s, x->cpu);
	for (guint p = 0; p < phases->len; p++) {
		g_string_append_c(s, ',');
		for (guint j = 0; x->phases && j < x->phases->len; j++) {
			struct vtb_phase *ph =
				&g_array_index(x->phases, struct vtb_phase, j);

			if (strcmp(ph->name, phases->pdata[p]) == 0)
				g_string_append_printf(s, "%.6f", ph->s);
		}
	}
	for (guint m = 0; m < metrics->len; m++) {
		const struct vtb_metric *v =
			x->ok ? sample_metric(x, metrics->pdata[m]) : NULL;

		if (v)
			csv_gnum(s, v->v);
		else
			g_string_append_c(s, ',');
	}
	g_string_append_c(s, '\n');
}

gboolean vtb_results_write_csv(const struct vtb_matrix *r, const char *path,
			       GError **err)
{
	g_autoptr(GString) s = g_string_new(
		"backend,driver,accel,transport,workload,cache,target,image,fs,"
		"aio,variant,size,payload,msg_size,mem_mib,boot_image,kernel_"
		"release,"
		"kernel_build_id,run,warmup,"
		"ok,seconds,bytes," VTB_METRIC_THROUGHPUT
		",exit_s,guest_release,error," CSV_CPU_COLUMNS);
	g_autoptr(GPtrArray) metrics = csv_metric_names(r);
	g_autoptr(GPtrArray) phases = g_ptr_array_new();

	for (guint i = 0; i < r->cells->len; i++)
		add_phase_names(phases, r->cells->pdata[i]);
	for (guint i = 0; i < phases->len; i++)
		g_string_append_printf(s, ",phase_%s",
				       (char *)phases->pdata[i]);
	for (guint i = 0; i < metrics->len; i++) {
		g_string_append_c(s, ',');
		vtb_csv_field(s, metrics->pdata[i]);
	}
	g_string_append_c(s, '\n');
	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];

		for (guint k = 0; k < c->samples->len; k++)
			csv_row(s, r, c, k, phases, metrics);
	}
	if (!g_file_set_contents(path, s->str, s->len, err)) {
		g_prefix_error(err, "write CSV: ");
		return FALSE;
	}
	return TRUE;
}

char *vtb_format_value(double v, const char *unit)
{
	if (!isfinite(v))
		return g_strdup("-");
	if (g_strcmp0(unit, "s") == 0)
		return g_strdup_printf("%.3fs", v);
	if (g_strcmp0(unit, "MB/s") == 0)
		return g_strdup_printf("%.1f MB/s", v);
	return g_strdup_printf("%.4g%s%s", v, unit && *unit ? " " : "",
			       unit ? unit : "");
}

/* A line per metric beyond seconds, under its cell. */
static void print_other_metrics(GPtrArray *series, FILE *f)
{
	for (guint i = 1; i < series->len; i++) {
		const struct vtb_series *m = series->pdata[i];
		struct vtb_stats st;
		g_autofree char *med = NULL, *lo = NULL, *hi = NULL;
		g_autofree char *note = NULL, *name = NULL;

		vtb_stats_compute((double *)m->v->data, m->v->len, &st);
		if (!st.n)
			continue;
		med = vtb_format_value(st.median, m->unit);
		lo = vtb_format_value(st.min, m->unit);
		hi = vtb_format_value(st.max, m->unit);
		note = vtb_noise_note(&st);
		name = g_strdup_printf("  %s (%s)", m->name,
				       m->higher_better ? "higher is better"
							: "lower is better");
		fprintf(f, "%-34s %9s %9s %9s %5.1f%% %6d  %s\n", name, med, lo,
			hi, st.cv * 100, st.n, note ? note : "");
	}
}

void vtb_results_print_table(const struct vtb_matrix *r, FILE *f)
{
	fprintf(f, "%-34s %9s %9s %9s %6s %6s  %s\n", "cell", "median", "min",
		"max", "CV", "runs", "phases (median)");
	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];
		g_autofree char *label = vtb_cell_label(c);
		g_autofree char *runs = NULL, *note = NULL;
		g_autoptr(GString) ph = g_string_new(NULL);
		g_autoptr(GPtrArray) names = NULL;
		g_autoptr(GPtrArray) series = vtb_cell_series(c);
		const struct vtb_series *secs = series->pdata[0];
		const struct vtb_sample *med;
		struct vtb_summary s;
		struct vtb_stats st;

		vtb_cell_summary(c, &s);
		runs = g_strdup_printf("%d/%d", s.n, s.n + s.failed);
		if (!s.n) {
			const char *err = c->error;

			for (guint k = 0; !err && k < c->samples->len; k++) {
				const struct vtb_sample *x =
					c->samples->pdata[k];

				if (!x->ok)
					err = x->error;
			}
			fprintf(f, "%-34s %9s %9s %9s %6s %6s  FAILED: %s\n",
				label, "-", "-", "-", "-", runs,
				err ? err : "no runs");
			continue;
		}
		vtb_stats_compute((double *)secs->v->data, secs->v->len, &st);
		note = vtb_noise_note(&st);
		if (note)
			g_string_append_printf(ph, "%s; ", note);
		names = cell_phase_names(c);
		for (guint p = 0, first = 1; p < names->len; p++) {
			double v;

			if (!vtb_cell_phase_median(c, names->pdata[p], &v))
				continue;
			g_string_append_printf(ph, "%s%s %.3f",
					       first ? "" : ", ",
					       (char *)names->pdata[p], v);
			first = 0;
		}
		fprintf(f, "%-34s %8.3fs %8.3fs %8.3fs %5.1f%% %6s  %s\n",
			label, s.median, s.min, s.max, st.cv * 100, runs,
			ph->str);
		print_other_metrics(series, f);
		med = vtb_cell_median_sample(c);
		if (med && med->cpu) {
			g_autofree char *line = cpu_line(med->cpu);

			fprintf(f, "  cpu: %s\n", line);
		}
	}
	for (guint i = 0; i < r->skipped->len; i++)
		fprintf(f, "skipped: %s\n", (char *)r->skipped->pdata[i]);
}
