/* `run --resume FILE`: take the cells FILE already measured, run the rest. */
#include "run/resume.h"

#include <string.h>

#include "core/cpuacct.h"
#include "results/resfile.h"
#include "results/results.h"

static bool same_text(JsonObject *a, JsonObject *b, const char *dotted)
{
	g_autofree char *x = vtb_json_text(a, dotted);
	g_autofree char *y = vtb_json_text(b, dotted);

	return g_strcmp0(x, y) == 0;
}

static double num(JsonObject *o, const char *k)
{
	JsonNode *n = json_object_get_member(o, k);

	return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : 0;
}

/* The samples of a results row, back into struct vtb_sample. */
static void import_samples(struct vtb_cell *c, JsonObject *row)
{
	JsonArray *a = json_object_get_array_member(row, "samples");
	JsonObject *meta =
		json_object_has_member(row, "metrics")
			? json_object_get_object_member(row, "metrics")
			: NULL;

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *o = json_array_get_object_element(a, i);
		struct vtb_sample *s = g_new0(struct vtb_sample, 1);
		JsonObject *ph, *mt, *g;
		JsonObjectIter it;
		const char *name;
		JsonNode *v;

		s->warmup = json_object_get_boolean_member(o, "warmup");
		s->ok = json_object_get_boolean_member(o, "ok");
		s->seconds = num(o, "seconds");
		s->bytes = (guint64)json_object_get_int_member(o, "bytes");
		s->exit_s = num(o, "exit_s");
		if (json_object_has_member(o, "error") &&
		    !json_node_is_null(json_object_get_member(o, "error")))
			s->error = g_strdup(
				json_object_get_string_member(o, "error"));
		if (json_object_has_member(o, "note") &&
		    !json_node_is_null(json_object_get_member(o, "note")))
			s->note = g_strdup(
				json_object_get_string_member(o, "note"));
		ph = json_object_has_member(o, "phases")
			     ? json_object_get_object_member(o, "phases")
			     : NULL;
		if (ph) {
			json_object_iter_init_ordered(&it, ph);
			while (json_object_iter_next_ordered(&it, &name, &v))
				vtb_sample_add_phase(s, g_intern_string(name),
						     json_node_get_double(v));
		}
		mt = json_object_has_member(o, "metrics")
			     ? json_object_get_object_member(o, "metrics")
			     : NULL;
		if (mt) {
			json_object_iter_init_ordered(&it, mt);
			while (json_object_iter_next_ordered(&it, &name, &v)) {
				JsonObject *m =
					meta && json_object_has_member(meta,
								       name)
						? json_object_get_object_member(
							  meta, name)
						: NULL;
				g_autofree char *unit =
					m ? vtb_json_text(m, "unit") : NULL;

				vtb_sample_add_metric(
					s, g_intern_string(name),
					g_intern_string(unit ? unit : ""),
					m && json_object_get_boolean_member(
						     m, "higher_better"),
					json_node_get_double(v));
			}
		}
		if (json_object_has_member(o, "cpu") &&
		    JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "cpu")))
			s->cpu = vtb_cpu_use_from_json(
				json_object_get_object_member(o, "cpu"));
		g = json_object_has_member(o, "guest")
			    ? json_object_get_object_member(o, "guest")
			    : NULL;
		if (g) {
			s->guest_release = vtb_json_text(g, "release");
			s->modules_loaded = (guint32)json_object_get_int_member(
				g, "modules_loaded");
		}
		g_ptr_array_add(c->samples, s);
	}
}

/* Measured as asked: every run there, or the cell gave up on purpose. */
static bool complete(const struct vtb_matrix *r, JsonObject *row)
{
	JsonArray *a = json_object_get_array_member(row, "samples");
	g_autofree char *err = vtb_json_text(row, "error");

	int measured = 0, warm = 0;

	if (!a)
		return false;
	/* A rate-sized cell may have run its warm-up again (calibration). */
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonObject *s = json_array_get_object_element(a, i);

		if (s && json_object_get_boolean_member_with_default(
				 s, "warmup", FALSE))
			warm++;
		else
			measured++;
	}
	if (measured == r->opts.runs && warm >= r->opts.warmup)
		return true;
	return err && g_str_has_prefix(err, "gave up");
}

int vtb_resume(struct vtb_matrix *r, const char *path, GError **err)
{
	g_autofree char *mine = NULL;
	struct vtb_rdoc *old = NULL, *now = NULL;
	int resumed = 0;

	old = vtb_rdoc_load(path, err);
	if (!old) {
		g_prefix_error(err, "--resume: ");
		return -1;
	}
	/* This run's cells as a results document, in memory, to match them
	 * the same way compare does. */
	mine = vtb_results_json(r);
	if (!(now = vtb_rdoc_parse("this run", mine, -1, err)))
		goto out;
	if (!same_text(old->root, now->root, "host.cpu") ||
	    !same_text(old->root, now->root, "host.cores") ||
	    !same_text(old->root, now->root, "host.kernel")) {
		g_printerr("vtbench: --resume: %s was measured on another host "
			   "or host kernel; running every cell\n",
			   path);
		goto out;
	}
	for (guint i = 0; i < now->cells->len && i < r->cells->len; i++) {
		const struct vtb_rcell *n = now->cells->pdata[i];
		struct vtb_cell *c = r->cells->pdata[i];

		for (guint k = 0; k < old->cells->len; k++) {
			const struct vtb_rcell *o = old->cells->pdata[k];

			if (!vtb_rcell_match(n, o) ||
			    g_strcmp0(n->accel, o->accel) != 0 ||
			    !same_text(n->obj, o->obj, "env.kernel.release") ||
			    !same_text(n->obj, o->obj, "env.kernel.build_id") ||
			    !same_text(n->obj, o->obj, "params.runs") ||
			    !same_text(n->obj, o->obj, "params.warmup") ||
			    !complete(r, o->obj))
				continue;
			import_samples(c, o->obj);
			c->boots = json_object_get_int_member_with_default(
				o->obj, "boots", 0);
			c->reused = json_object_get_int_member_with_default(
				o->obj, "runs_on_kept_guest", 0);
			c->resumed = true;
			/* A rate-sized cell keeps the size it measured. */
			if (c->size_auto && vtb_rcell_auto_sized(o))
				c->size = (guint64)vtb_rcell_size(o);
			if (!json_node_is_null(
				    json_object_get_member(o->obj, "error")) &&
			    !c->error) {
				g_autofree char *e =
					vtb_json_text(o->obj, "error");

				if (e && g_str_has_prefix(e, "gave up"))
					c->error = g_strdup(e);
			}
			resumed++;
			break;
		}
	}
out:
	if (old)
		vtb_rdoc_free(old);
	if (now)
		vtb_rdoc_free(now);
	return err && *err ? -1 : resumed;
}
