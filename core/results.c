/* Results: the JSON document (schema 1), the CSV rows and the table. */
#include "core/results.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "config.h"
#include "core/gitrev.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void vtb_cell_summary(const struct vtb_cell *c, struct vtb_summary *s)
{
	g_autofree double *v = g_new0(double, c->samples->len + 1);
	double sum = 0, sq = 0;

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
		sum += x->seconds;
	}
	if (!s->n)
		return;
	s->mean = sum / s->n;
	for (int i = 0; i < s->n; i++)
		sq += (v[i] - s->mean) * (v[i] - s->mean);
	s->stddev = s->n > 1 ? sqrt(sq / (s->n - 1)) : 0;
	s->median = median_of(v, s->n);
	s->min = v[0];
	s->max = v[s->n - 1];
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
	*out = median_of(v, n);
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
	json_builder_add_double_value(b, v);
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

static void add_kernel(JsonBuilder *b, const char *k,
		       const struct vtb_kernel_info *ki)
{
	json_builder_set_member_name(b, k);
	if (!ki->path) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_begin_object(b);
	add_str(b, "path", ki->path);
	add_str(b, "kind", vtb_kernel_kind_name(ki->kind));
	add_str(b, "release", ki->release);
	add_str(b, "banner", ki->banner);
	add_str(b, "build_id", ki->build_id);
	json_builder_end_object(b);
}

static void add_host(JsonBuilder *b, const struct vtb_matrix *r)
{
	const struct vtb_hostinfo *h = &r->host;
	const struct vtb_env *env = &r->env;

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
	add_str(b, "kvm_module", h->kvm_flavour);
	add_str(b, "nested", h->nested);
	add_bool(b, "dev_kvm", h->dev_kvm);
	add_str(b, "boot_id", h->boot_id);
	json_builder_set_member_name(b, "kvm");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "usable");
	if (env->kvm_verdict && !g_str_has_prefix(env->kvm_verdict, "not "))
		json_builder_add_boolean_value(b, env->kvm_usable);
	else
		json_builder_add_null_value(b);
	add_str(b, "reason", env->kvm_verdict);
	json_builder_end_object(b);
	json_builder_end_object(b);
}

static void add_versions(JsonBuilder *b, const struct vtb_matrix *r)
{
	const struct vtb_env *env = &r->env;

	json_builder_set_member_name(b, "versions");
	json_builder_begin_object(b);
	add_str(b, "vtbench", PACKAGE_VERSION);
	add_str(b, "git", VTB_GIT_REV);
	add_str(b, "qemu", env->qemu_version);
	add_str(b, "libvirt", r->libvirt_version);
	add_kernel(b, "uml_kernel", &env->uml_kernel);
	add_kernel(b, "guest_kernel", &env->kvm_kernel);
	add_str(b, "guest_boot_image", env->kvm_boot_image);
	add_bool(b, "guest_pvh", env->kvm_pvh);
	/* vmlinux extraction, or its cache lookup */
	add_num(b, "guest_prepare_s", env->kvm_prepare_s);
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
	add_str(b, "accel", o->accel);
	add_int(b, "size", (gint64)o->size);
	json_builder_end_object(b);
}

static void add_sample(JsonBuilder *b, const struct vtb_sample *s)
{
	json_builder_begin_object(b);
	add_bool(b, "warmup", s->warmup);
	add_bool(b, "ok", s->ok);
	add_num(b, "seconds", s->ok ? s->seconds : 0);
	add_int(b, "bytes", (gint64)s->bytes);
	if (s->exit_s > 0)
		add_num(b, "exit_s", s->exit_s);
	add_str(b, "error", s->error);
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
	json_builder_end_object(b);
}

static const char *const phase_names[] = { "vmm_to_kernel", "kernel_to_init",
					   "modules", "agent_ready",
					   "poweroff", NULL };

static const char *cell_status(const struct vtb_cell *c,
			       const struct vtb_summary *s)
{
	if (s->n && !s->failed)
		return "ok";
	return s->n ? "partial" : c->samples->len ? "failed" : "pending";
}

static void add_cell(JsonBuilder *b, const struct vtb_matrix *r,
		     const struct vtb_cell *c)
{
	struct vtb_summary s;
	const char *first_error = c->error;

	vtb_cell_summary(c, &s);
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
	add_str(b, "payload", c->payload);
	add_int(b, "size", (gint64)c->size);
	add_int(b, "msg_size", c->msg_size);
	json_builder_set_member_name(b, "params");
	json_builder_begin_object(b);
	add_bool(b, "size_auto", c->size_auto);
	add_str(b, "verify", r->opts.verify);
	add_str(b, "mount_opts", r->opts.mount_opts);
	add_int(b, "disk_size", (gint64)r->opts.disk_size);
	add_bool(b, "drop_caches", r->opts.drop_caches);
	add_int(b, "runs", r->opts.runs);
	add_int(b, "warmup", r->opts.warmup);
	add_int(b, "mem_mib", r->opts.mem_mb);
	add_int(b, "cpus", g_str_equal(c->backend->name, "kvm") ? r->opts.cpus : 1);
	add_str(b, "boot_image",
		g_str_equal(c->backend->name, "uml")
			? "uml"
			: (r->env.kvm_pvh ? "pvh-vmlinux" : "bzImage"));
	json_builder_end_object(b);
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
		json_builder_end_object(b);
	} else {
		json_builder_add_null_value(b);
	}
	json_builder_set_member_name(b, "phases");
	json_builder_begin_object(b);
	for (int i = 0; phase_names[i]; i++) {
		double v;

		if (vtb_cell_phase_median(c, phase_names[i], &v))
			add_num(b, phase_names[i], v);
	}
	json_builder_end_object(b);
	json_builder_end_object(b);
}

gboolean vtb_results_write_json(const struct vtb_matrix *r, const char *path,
				GError **err)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(b);
	add_int(b, "schema", VTB_SCHEMA);
	add_str(b, "tool", "vtbench");
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
	text = json_generator_to_data(gen, NULL);
	/* g_file_set_contents writes a temp file and renames it. */
	if (!g_file_set_contents(path, text, -1, err)) {
		g_prefix_error(err, "write results: ");
		return FALSE;
	}
	return TRUE;
}

static void csv_field(GString *s, const char *v)
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

gboolean vtb_results_write_csv(const struct vtb_matrix *r, const char *path,
			       GError **err)
{
	g_autoptr(GString) s = g_string_new(
		"backend,driver,accel,transport,workload,cache,run,warmup,ok,"
		"seconds,bytes,exit_s,error");

	for (int i = 0; phase_names[i]; i++)
		g_string_append_printf(s, ",phase_%s", phase_names[i]);
	g_string_append_c(s, '\n');
	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];

		for (guint k = 0; k < c->samples->len; k++) {
			const struct vtb_sample *x = c->samples->pdata[k];
			const char *fields[] = { c->backend->name, c->driver,
						 c->accel,	   c->transport,
						 c->workload->name, c->cache };

			for (guint f = 0; f < G_N_ELEMENTS(fields); f++) {
				csv_field(s, fields[f]);
				g_string_append_c(s, ',');
			}
			g_string_append_printf(s, "%u,%d,%d,%.6f,%" G_GUINT64_FORMAT
						  ",%.6f,",
					       k + 1, x->warmup, x->ok,
					       x->ok ? x->seconds : 0.0,
					       x->bytes, x->exit_s);
			csv_field(s, x->error);
			for (int p = 0; phase_names[p]; p++) {
				g_string_append_c(s, ',');
				for (guint j = 0; x->phases && j < x->phases->len;
				     j++) {
					struct vtb_phase *ph = &g_array_index(
						x->phases, struct vtb_phase, j);

					if (strcmp(ph->name, phase_names[p]) ==
					    0)
						g_string_append_printf(
							s, "%.6f", ph->s);
				}
			}
			g_string_append_c(s, '\n');
		}
	}
	if (!g_file_set_contents(path, s->str, s->len, err)) {
		g_prefix_error(err, "write CSV: ");
		return FALSE;
	}
	return TRUE;
}

void vtb_results_print_table(const struct vtb_matrix *r, FILE *f)
{
	fprintf(f, "%-34s %9s %9s %9s %6s  %s\n", "cell", "median", "min",
		"max", "runs", "phases (median)");
	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];
		g_autofree char *label = vtb_cell_label(c);
		g_autofree char *runs = NULL;
		g_autoptr(GString) ph = g_string_new(NULL);
		struct vtb_summary s;

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
			fprintf(f, "%-34s %9s %9s %9s %6s  FAILED: %s\n", label,
				"-", "-", "-", runs, err ? err : "no runs");
			continue;
		}
		for (int p = 0; phase_names[p]; p++) {
			double v;

			if (vtb_cell_phase_median(c, phase_names[p], &v))
				g_string_append_printf(ph, "%s%s %.3f",
						       ph->len ? ", " : "",
						       phase_names[p], v);
		}
		fprintf(f, "%-34s %8.3fs %8.3fs %8.3fs %6s  %s\n", label,
			s.median, s.min, s.max, runs, ph->str);
	}
	for (guint i = 0; i < r->skipped->len; i++)
		fprintf(f, "skipped: %s\n", (char *)r->skipped->pdata[i]);
}
