/* Reading a results file back: validation, cells and their metrics. */
#include "results/resfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "core/registry.h"
#include "results/cell.h"
#include "results/results.h"

/* Parameters that say how a cell was measured, not what it measured. */
static const char *const not_identity[] = {
	"runs", "warmup", "timeout_s", "accel_requested", "boot_image", NULL};

static gboolean bad(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean bad(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err)
		*err = g_error_new_valist(VTB_ERROR, VTB_ERR_USAGE, fmt, ap);
	va_end(ap);
	return FALSE;
}

static void rphase_free(gpointer p)
{
	struct vtb_rphase *ph = p;

	g_free(ph->name);
	g_free(ph);
}

static void rcpu_free(struct vtb_rcpu *cpu)
{
	if (!cpu)
		return;
	if (cpu->threads)
		g_array_unref(cpu->threads);
	g_free(cpu);
}

static void rcell_free(gpointer p)
{
	struct vtb_rcell *c = p;

	g_free(c->label);
	g_free(c->where);
	g_free(c->what);
	rcpu_free(c->cpu);
	if (c->series)
		g_ptr_array_unref(c->series);
	if (c->phases)
		g_ptr_array_unref(c->phases);
	g_free(c);
}

void vtb_rdoc_free(struct vtb_rdoc *d)
{
	if (!d)
		return;
	g_free(d->path);
	if (d->cells)
		g_ptr_array_unref(d->cells);
	if (d->root_node)
		json_node_unref(d->root_node);
	g_free(d);
}

/* A JSON number (jq writes whole numbers without a fraction). */
static bool node_number(JsonNode *n, double *out)
{
	GType t;

	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return false;
	t = json_node_get_value_type(n);
	if (t == G_TYPE_DOUBLE)
		*out = json_node_get_double(n);
	else if (t == G_TYPE_INT64)
		*out = (double)json_node_get_int(n);
	else
		return false;
	return isfinite(*out);
}

static const char *node_string(JsonNode *n)
{
	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

static bool node_bool(JsonNode *n, bool *out)
{
	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_BOOLEAN)
		return false;
	*out = json_node_get_boolean(n);
	return true;
}

static JsonObject *member_object(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* @name of @o, when present, is a whole number >= 0 (sizes, counts). */
static gboolean check_count(JsonObject *o, const char *name, const char *where,
			    GError **err)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || (JSON_NODE_HOLDS_VALUE(n) &&
		   json_node_get_value_type(n) == G_TYPE_INT64 &&
		   json_node_get_int(n) >= 0))
		return TRUE;
	return bad(err, "%s: \"%s\" is not a whole number", where, name);
}

/* @name of @o, when present, is an object whose members are numbers. */
static gboolean check_numbers(JsonObject *o, const char *name,
			      const char *where, GError **err)
{
	JsonNode *n = json_object_get_member(o, name);
	JsonObjectIter it;
	const char *k;
	JsonNode *v;
	double d;

	if (!n)
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return bad(err, "%s: \"%s\" is not an object", where, name);
	json_object_iter_init_ordered(&it, json_node_get_object(n));
	while (json_object_iter_next_ordered(&it, &k, &v))
		if (!node_number(v, &d))
			return bad(err, "%s.%s.%s: not a number", where, name,
				   k);
	return TRUE;
}

/* @name of @o, when present, is a string or null. */
static gboolean check_text(JsonObject *o, const char *name, const char *where,
			   GError **err)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || json_node_is_null(n) || node_string(n))
		return TRUE;
	return bad(err, "%s: \"%s\" is not a string", where, name);
}

char *vtb_json_text(JsonObject *o, const char *dotted)
{
	g_auto(GStrv) parts = g_strsplit(dotted, ".", -1);
	JsonNode *n = NULL;

	for (char **p = parts; *p; p++) {
		if (!o)
			return NULL;
		n = json_object_get_member(o, *p);
		if (!n)
			return NULL;
		o = p[1] && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
						      : NULL;
	}
	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return NULL;
	if (json_node_get_value_type(n) == G_TYPE_STRING)
		return g_strdup(json_node_get_string(n));
	return json_to_string(n, FALSE);
}

/* Direction and unit of @name from the row's "metrics", or defaults. */
static bool metric_meta(JsonObject *metrics, const char *name,
			const char **unit, bool *higher_better)
{
	JsonObject *m = metrics ? member_object(metrics, name) : NULL;

	if (m && node_bool(json_object_get_member(m, "higher_better"),
			   higher_better)) {
		*unit = node_string(json_object_get_member(m, "unit"));
		if (!*unit)
			*unit = "";
		return true;
	}
	if (strcmp(name, VTB_METRIC_SECONDS) == 0) {
		*unit = "s";
		*higher_better = false;
		return true;
	}
	if (strcmp(name, VTB_METRIC_THROUGHPUT) == 0) {
		*unit = "MB/s";
		*higher_better = true;
		return true;
	}
	return false;
}

static void add_value(struct vtb_rcell *c, JsonObject *metrics,
		      const char *name, double v)
{
	struct vtb_series *s = vtb_series_find(c->series, name);

	if (!s) {
		const char *unit = "";
		bool hb = false;

		metric_meta(metrics, name, &unit, &hb);
		s = vtb_series_new(name, unit, hb);
		g_ptr_array_add(c->series, s);
	}
	g_array_append_val(s->v, v);
}

/*
 * One sample.  seconds and bytes are the raw figures: throughput is
 * derived from them again (a file doctored in seconds stays coherent),
 * the workload's own metrics come from "metrics".
 */
static gboolean read_sample(struct vtb_rcell *c, JsonObject *metrics,
			    JsonNode *n, const char *where, double *ok_secs,
			    GError **err)
{
	JsonObject *s, *m;
	bool ok, warmup;
	double secs, bytes = 0;
	JsonNode *bn;

	if (!JSON_NODE_HOLDS_OBJECT(n))
		return bad(err, "%s: not an object", where);
	s = json_node_get_object(n);
	if (!node_bool(json_object_get_member(s, "ok"), &ok))
		return bad(err, "%s: missing \"ok\" (true or false)", where);
	if (!node_bool(json_object_get_member(s, "warmup"), &warmup))
		return bad(err, "%s: missing \"warmup\" (true or false)",
			   where);
	if (!node_number(json_object_get_member(s, "seconds"), &secs))
		return bad(err, "%s: missing \"seconds\" (number)", where);
	bn = json_object_get_member(s, "bytes");
	if (!node_number(bn, &bytes))
		return bad(err, "%s: missing \"bytes\" (number)", where);
	if (!check_text(s, "error", where, err) ||
	    !check_text(s, "note", where, err) ||
	    !check_numbers(s, "phases", where, err) ||
	    !check_numbers(s, "metrics", where, err))
		return FALSE;
	if (warmup)
		return TRUE;
	if (!ok) {
		c->failed++;
		if (!c->error)
			c->error =
				node_string(json_object_get_member(s, "error"));
		return TRUE;
	}
	if (secs < 0 || bytes < 0)
		return bad(err, "%s: negative \"seconds\" or \"bytes\"", where);
	c->n++;
	*ok_secs = secs;
	add_value(c, metrics, VTB_METRIC_SECONDS, secs);
	if (bytes > 0 && secs > 0)
		add_value(c, metrics, VTB_METRIC_THROUGHPUT,
			  bytes / secs / 1e6);
	m = member_object(s, "metrics");
	if (m) {
		JsonObjectIter it;
		const char *name;
		JsonNode *v;

		json_object_iter_init_ordered(&it, m);
		while (json_object_iter_next_ordered(&it, &name, &v)) {
			double d;
			const char *unit;
			bool hb;

			if (!node_number(v, &d))
				return bad(err, "%s.metrics.%s: not a number",
					   where, name);
			/* the raw figures above win over a homonym */
			if (!strcmp(name, VTB_METRIC_SECONDS) ||
			    !strcmp(name, VTB_METRIC_THROUGHPUT))
				continue;
			if (!metric_meta(metrics, name, &unit, &hb))
				return bad(
					err,
					"%s.metrics.%s: no unit and direction "
					"in the row's \"metrics\"",
					where, name);
			add_value(c, metrics, name, d);
		}
	}
	return TRUE;
}

static const char *member_str(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	return n && JSON_NODE_HOLDS_VALUE(n) &&
			       json_node_get_value_type(n) == G_TYPE_STRING
		       ? json_node_get_string(n)
		       : NULL;
}

/* The label `run` printed for this row, and its halves (results/cell.c). */
static void make_label(struct vtb_rcell *c)
{
	struct vtb_cell_key k = {
		.backend = c->backend,
		.driver = c->driver,
		.accel = c->accel,
		.transport = c->transport,
		.workload = c->workload,
		.cache = c->cache,
		/* Files written before a field existed lack it. */
		.target = member_str(c->obj, "target"),
		.image = member_str(c->obj, "image"),
		.fs = member_str(c->obj, "fs"),
		.aio = member_str(c->obj, "aio"),
		.variant = member_str(c->obj, "variant"),
		.payload = member_str(c->obj, "payload"),
	};

	if (json_object_has_member(c->obj, "msg_size"))
		k.msg_size = json_object_get_int_member(c->obj, "msg_size");
	c->label = vtb_cell_key_label(&k);
	c->where = vtb_cell_key_where(&k);
	c->what = vtb_cell_key_what(&k);
}

bool vtb_rcell_match(const struct vtb_rcell *a, const struct vtb_rcell *b)
{
	JsonObject *pa = member_object(a->obj, "params");
	JsonObject *pb = member_object(b->obj, "params");
	JsonObjectIter it;
	const char *name;
	JsonNode *v;

	if (strcmp(a->backend, b->backend) || strcmp(a->driver, b->driver) ||
	    strcmp(a->transport, b->transport) ||
	    strcmp(a->workload, b->workload) || strcmp(a->cache, b->cache))
		return false;
	if (!pa || !pb)
		return true;
	json_object_iter_init_ordered(&it, pa);
	while (json_object_iter_next_ordered(&it, &name, &v)) {
		JsonNode *w = json_object_get_member(pb, name);

		/* vtbench sized both from the rate it measured: the same
		 * cell, compared by throughput (compare skips seconds). */
		if (strcmp(name, "size") == 0 && vtb_rcell_auto_sized(a) &&
		    vtb_rcell_auto_sized(b))
			continue;
		if (w && !vtb_str_in(not_identity, name) &&
		    !json_node_equal(v, w))
			return false;
	}
	return true;
}

bool vtb_rcell_auto_sized(const struct vtb_rcell *c)
{
	JsonObject *p = member_object(c->obj, "params");

	return p && json_object_get_boolean_member_with_default(p, "size_auto",
								FALSE);
}

gint64 vtb_rcell_size(const struct vtb_rcell *c)
{
	JsonObject *p = member_object(c->obj, "params");

	if (p && json_object_has_member(p, "size"))
		return json_object_get_int_member_with_default(p, "size", 0);
	return json_object_get_int_member_with_default(c->obj, "size", 0);
}

int vtb_median_index(const double *v, int n)
{
	int best = -1;

	/* the value with as many below it as the middle rank: O(n^2), and n
	 * is a cell's runs */
	for (int i = 0; i < n; i++) {
		int below = 0, same = 0;

		for (int j = 0; j < n; j++) {
			below += v[j] < v[i];
			same += v[j] == v[i] && j < i;
		}
		if (below + same == (n - 1) / 2) {
			best = i;
			break;
		}
	}
	return best;
}

static double opt_number(JsonObject *o, const char *name, double dflt)
{
	double d;

	return node_number(json_object_get_member(o, name), &d) ? d : dflt;
}

/*
 * "cpu" of a sample, when present and not null: the engine's attribution.
 * The figures drawn must be numbers; what is only shown may be missing.
 */
static gboolean read_cpu(JsonNode *n, const char *where, struct vtb_rcpu **out,
			 GError **err)
{
	g_autoptr(GArray) threads = NULL;
	JsonObject *o, *g;
	JsonNode *tn;
	JsonArray *ta;
	struct vtb_rcpu *cpu;
	double wall, cores;

	*out = NULL;
	if (!n || json_node_is_null(n))
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return bad(err, "%s: not an object", where);
	o = json_node_get_object(n);
	if (!node_number(json_object_get_member(o, "wall_s"), &wall) ||
	    !(wall > 0))
		return bad(err, "%s: missing \"wall_s\" (seconds > 0)", where);
	if (!node_number(json_object_get_member(o, "cores"), &cores) ||
	    cores < 1 || cores != floor(cores))
		return bad(err, "%s: missing \"cores\" (a count >= 1)", where);
	tn = json_object_get_member(o, "threads");
	if (!tn || !JSON_NODE_HOLDS_ARRAY(tn))
		return bad(err, "%s: missing \"threads\" (array)", where);
	if (!check_text(o, "verdict", where, err))
		return FALSE;
	ta = json_node_get_array(tn);
	threads = g_array_new(FALSE, TRUE, sizeof(struct vtb_rthread));
	for (guint i = 0; i < json_array_get_length(ta); i++) {
		JsonNode *e = json_array_get_element(ta, i);
		struct vtb_rthread t = {0};
		JsonObject *to;

		if (!JSON_NODE_HOLDS_OBJECT(e))
			return bad(err, "%s.threads[%u]: not an object", where,
				   i);
		to = json_node_get_object(e);
		t.group = node_string(json_object_get_member(to, "group"));
		t.process = node_string(json_object_get_member(to, "process"));
		t.thread = node_string(json_object_get_member(to, "thread"));
		if (!t.group || !t.process || !t.thread)
			return bad(err,
				   "%s.threads[%u]: missing \"group\", "
				   "\"process\" or \"thread\" (string)",
				   where, i);
		if (!node_number(json_object_get_member(to, "cpu_s"),
				 &t.cpu_s) ||
		    t.cpu_s < 0)
			return bad(err,
				   "%s.threads[%u]: missing \"cpu_s\" "
				   "(seconds >= 0)",
				   where, i);
		t.wait_s = opt_number(to, "wait_s", NAN);
		g_array_append_val(threads, t);
	}
	cpu = g_new0(struct vtb_rcpu, 1);
	cpu->wall_s = wall;
	cpu->cores = (int)cores;
	cpu->threads = g_steal_pointer(&threads);
	cpu->other_s = MAX(opt_number(o, "other_s", 0), 0);
	cpu->idle_s = MAX(opt_number(o, "idle_s", 0), 0);
	cpu->system_s = MAX(opt_number(o, "system_s", 0), 0);
	cpu->accounted_pct = opt_number(o, "accounted_pct", NAN);
	g = member_object(o, "guest");
	cpu->guest_busy_pct = g ? opt_number(g, "busy_pct", NAN) : NAN;
	cpu->verdict = node_string(json_object_get_member(o, "verdict"));
	*out = cpu;
	return TRUE;
}

static gboolean read_cell(struct vtb_rdoc *d, JsonNode *n, guint idx,
			  GError **err)
{
	static const char *const keys[] = {"backend",	"driver",   "accel",
					   "transport", "workload", "cache"};
	const char **fields[G_N_ELEMENTS(keys)];
	g_autofree char *where =
		g_strdup_printf("%s: results[%u]", d->path, idx);
	struct vtb_rcell *c;
	JsonObject *metrics, *phases, *params;
	JsonNode *samples, *sa, *mn;
	g_autoptr(GArray) ok_secs = NULL;
	g_autoptr(GArray) ok_idx = NULL;
	bool flag;
	int med;

	if (!JSON_NODE_HOLDS_OBJECT(n))
		return bad(err, "%s: not an object", where);
	c = g_new0(struct vtb_rcell, 1);
	g_ptr_array_add(d->cells, c);
	c->obj = json_node_get_object(n);
	fields[0] = &c->backend;
	fields[1] = &c->driver;
	fields[2] = &c->accel;
	fields[3] = &c->transport;
	fields[4] = &c->workload;
	fields[5] = &c->cache;
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		*fields[i] =
			node_string(json_object_get_member(c->obj, keys[i]));
		if (!*fields[i])
			return bad(err, "%s: missing \"%s\" (string)", where,
				   keys[i]);
	}
	samples = json_object_get_member(c->obj, "samples");
	if (!samples || !JSON_NODE_HOLDS_ARRAY(samples))
		return bad(err, "%s: missing \"samples\" (array)", where);
	/* What matching, labels and resume read: a row without params
	 * matched every cell; "msg_size": {} made GLib criticals. */
	params = member_object(c->obj, "params");
	if (!params)
		return bad(err, "%s: missing \"params\" (object)", where);
	if (!check_count(c->obj, "size", where, err) ||
	    !check_count(c->obj, "msg_size", where, err) ||
	    !check_count(params, "size", where, err) ||
	    !check_count(params, "msg_size", where, err) ||
	    !check_text(c->obj, "error", where, err) ||
	    !check_numbers(c->obj, "phases", where, err))
		return FALSE;
	sa = json_object_get_member(params, "size_auto");
	if (sa && !node_bool(sa, &flag))
		return bad(err, "%s: params.size_auto: not true or false",
			   where);
	mn = json_object_get_member(c->obj, "metrics");
	if (mn && !JSON_NODE_HOLDS_OBJECT(mn))
		return bad(err, "%s: \"metrics\" is not an object", where);
	if (mn) {
		JsonObjectIter it;
		const char *name;
		JsonNode *v;

		json_object_iter_init_ordered(&it, json_node_get_object(mn));
		while (json_object_iter_next_ordered(&it, &name, &v))
			if (!JSON_NODE_HOLDS_OBJECT(v))
				return bad(
					err,
					"%s.metrics.%s: not an object (unit, "
					"higher_better)",
					where, name);
	}
	make_label(c);
	c->series =
		g_ptr_array_new_with_free_func((GDestroyNotify)vtb_series_free);
	/* seconds first, even when every sample failed */
	g_ptr_array_add(c->series,
			vtb_series_new(VTB_METRIC_SECONDS, "s", false));
	metrics = member_object(c->obj, "metrics");
	ok_secs = g_array_new(FALSE, FALSE, sizeof(double));
	ok_idx = g_array_new(FALSE, FALSE, sizeof(guint));
	for (guint i = 0;
	     i < json_array_get_length(json_node_get_array(samples)); i++) {
		g_autofree char *w =
			g_strdup_printf("%s.samples[%u]", where, i);
		double secs = NAN;

		if (!read_sample(c, metrics,
				 json_array_get_element(
					 json_node_get_array(samples), i),
				 w, &secs, err))
			return FALSE;
		if (!isnan(secs)) {
			g_array_append_val(ok_secs, secs);
			g_array_append_val(ok_idx, i);
		}
	}
	med = vtb_median_index((double *)ok_secs->data, (int)ok_secs->len);
	if (med >= 0) {
		guint i = g_array_index(ok_idx, guint, med);
		g_autofree char *w =
			g_strdup_printf("%s.samples[%u].cpu", where, i);
		JsonNode *sn =
			json_array_get_element(json_node_get_array(samples), i);

		if (!read_cpu(json_object_get_member(json_node_get_object(sn),
						     "cpu"),
			      w, &c->cpu, err))
			return FALSE;
	}
	if (!c->error)
		c->error = node_string(json_object_get_member(c->obj, "error"));
	c->phases = g_ptr_array_new_with_free_func(rphase_free);
	phases = member_object(c->obj, "phases");
	if (phases) {
		JsonObjectIter it;
		const char *name;
		JsonNode *v;

		json_object_iter_init_ordered(&it, phases);
		while (json_object_iter_next_ordered(&it, &name, &v)) {
			struct vtb_rphase *ph;
			double x;

			if (!node_number(v, &x))
				continue;
			ph = g_new0(struct vtb_rphase, 1);
			ph->name = g_strdup(name);
			ph->median = x;
			g_ptr_array_add(c->phases, ph);
		}
	}
	return TRUE;
}

/* What compare reads of the host beyond text: the load averages. */
static gboolean check_host(const struct vtb_rdoc *d, GError **err)
{
	static const char *const loads[] = {"loadavg", "loadavg_end"};
	JsonNode *h = json_object_get_member(d->root, "host");

	if (!h)
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(h))
		return bad(err, "%s: \"host\" is not an object", d->path);
	for (size_t i = 0; i < G_N_ELEMENTS(loads); i++) {
		JsonNode *a = json_object_get_member(json_node_get_object(h),
						     loads[i]);
		JsonArray *arr;
		double x;

		if (!a)
			continue;
		if (!JSON_NODE_HOLDS_ARRAY(a))
			return bad(err, "%s: host.%s: not an array of numbers",
				   d->path, loads[i]);
		arr = json_node_get_array(a);
		for (guint k = 0; k < json_array_get_length(arr); k++)
			if (!node_number(json_array_get_element(arr, k), &x))
				return bad(err,
					   "%s: host.%s: not an array of "
					   "numbers",
					   d->path, loads[i]);
	}
	return TRUE;
}

/*
 * json-glib's message quotes the token it stopped at, newlines and all
 * (a broken string constant runs to the next quote): one line of at most
 * 160 characters, as every usage error is.
 */
static char *one_line(const char *msg)
{
	char *s = g_utf8_make_valid(msg, -1);

	for (char *p = s; *p; p++)
		if (g_ascii_iscntrl(*p))
			*p = ' ';
	if (g_utf8_strlen(s, -1) > 160) {
		char *cut = g_utf8_substring(s, 0, 159);

		g_free(s);
		s = g_strconcat(cut, "\u2026", NULL);
		g_free(cut);
	}
	return s;
}

struct vtb_rdoc *vtb_rdoc_parse(const char *path, const char *data, gssize len,
				GError **err)
{
	g_autoptr(JsonParser) p = json_parser_new();
	g_autoptr(GError) e = NULL;
	struct vtb_rdoc *d = g_new0(struct vtb_rdoc, 1);
	JsonNode *schema, *results;
	const char *tool;
	bool flag;

	d->path = g_strdup(path);
	d->cells = g_ptr_array_new_with_free_func(rcell_free);
	if (!json_parser_load_from_data(p, data, len, &e)) {
		g_autofree char *why = one_line(e->message);

		bad(err, "%s: not JSON: %s", path, why);
		goto fail;
	}
	d->root_node = json_parser_steal_root(p);
	if (!d->root_node) {
		bad(err, "%s: not JSON: the file is empty", path);
		goto fail;
	}
	if (!JSON_NODE_HOLDS_OBJECT(d->root_node)) {
		bad(err, "%s: not a vtbench results file (not a JSON object)",
		    path);
		goto fail;
	}
	d->root = json_node_get_object(d->root_node);
	tool = node_string(json_object_get_member(d->root, "tool"));
	if (g_strcmp0(tool, "vtbench") != 0) {
		bad(err,
		    "%s: not a vtbench results file (no \"tool\": "
		    "\"vtbench\")",
		    path);
		goto fail;
	}
	schema = json_object_get_member(d->root, "schema");
	if (!schema || !JSON_NODE_HOLDS_VALUE(schema) ||
	    json_node_get_value_type(schema) != G_TYPE_INT64) {
		bad(err, "%s: no \"schema\" version number", path);
		goto fail;
	}
	if (json_node_get_int(schema) != VTB_SCHEMA) {
		bad(err,
		    "%s: schema %" G_GINT64_FORMAT " is not supported (this "
		    "vtbench reads schema %d)",
		    path, json_node_get_int(schema), VTB_SCHEMA);
		goto fail;
	}
	results = json_object_get_member(d->root, "results");
	if (!results || !JSON_NODE_HOLDS_ARRAY(results)) {
		bad(err, "%s: missing \"results\" (array)", path);
		goto fail;
	}
	if (node_bool(json_object_get_member(d->root, "interrupted"), &flag))
		d->interrupted = flag;
	if (!check_host(d, err))
		goto fail;
	for (guint i = 0;
	     i < json_array_get_length(json_node_get_array(results)); i++)
		if (!read_cell(d,
			       json_array_get_element(
				       json_node_get_array(results), i),
			       i, err))
			goto fail;
	return d;
fail:
	vtb_rdoc_free(d);
	return NULL;
}

/* The whole file, or an error naming it and errno's reason. */
static char *read_all(const char *path, gsize *len, GError **err)
{
	g_autoptr(GByteArray) buf = g_byte_array_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		bad(err, "cannot read %s: %s", path, g_strerror(errno));
		return NULL;
	}
	for (;;) {
		guint8 chunk[65536];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			bad(err, "cannot read %s: %s", path, g_strerror(errno));
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		g_byte_array_append(buf, chunk, r);
	}
	close(fd);
	*len = buf->len;
	g_byte_array_append(buf, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);
}

struct vtb_rdoc *vtb_rdoc_load(const char *path, GError **err)
{
	gsize len = 0;
	g_autofree char *data = read_all(path, &len, err);

	if (!data)
		return NULL;
	if (!g_utf8_validate(data, len, NULL)) {
		bad(err, "%s: not JSON: not UTF-8 text", path);
		return NULL;
	}
	return vtb_rdoc_parse(path, data, len, err);
}
