/*
 * A profile's tables: each figure of the article beside the cell of ours
 * that measures the same thing, read from a results document (the one
 * `run` just made, or a saved file).
 */
#include "analysis/profile.h"

#include <string.h>

#include "core/stats.h"
#include "results/results.h"

/* A row field against the cell's: NULL any, "-" none. */
static bool field_match(const char *want, const char *have)
{
	bool none = !have || !*have || strcmp(have, "-") == 0;

	if (!want)
		return true;
	if (strcmp(want, "-") == 0)
		return none;
	return !none && strcmp(want, have) == 0;
}

bool vtb_article_row_match_key(const struct vtb_article_row *row,
			       const struct vtb_cell_key *k,
			       const char *mount_opts)
{
	if (row->missing)
		return false;
	return field_match(row->transport, k->transport) &&
	       field_match(row->workload, k->workload) &&
	       field_match(row->target, k->target) &&
	       field_match(row->image, k->image) &&
	       field_match(row->fs, k->fs) &&
	       field_match(row->payload, k->payload) &&
	       field_match(row->mount_opts, mount_opts);
}

bool vtb_article_row_match(const struct vtb_article_row *row,
			   const struct vtb_rcell *c)
{
	g_autofree char *target = vtb_json_text(c->obj, "target");
	g_autofree char *image = vtb_json_text(c->obj, "image");
	g_autofree char *fs = vtb_json_text(c->obj, "fs");
	g_autofree char *payload = vtb_json_text(c->obj, "payload");
	g_autofree char *mount_opts =
		vtb_json_text(c->obj, "params.mount_opts");
	struct vtb_cell_key k = {
		.transport = c->transport,
		.workload = c->workload,
		.target = target,
		.image = image,
		.fs = fs,
		.payload = payload,
	};

	return vtb_article_row_match_key(row, &k, mount_opts);
}

/* " WORD " or " WORD:" in @s, or @s starting with "WORD ". */
static bool has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(s, w, n) == 0 && (s[n] == ' ' || s[n] == ':'))
		return true;
	for (const char *p = strchr(s, ' '); p; p = strchr(p + 1, ' '))
		if (strncmp(p + 1, w, n) == 0 &&
		    (p[1 + n] == ' ' || p[1 + n] == ':'))
			return true;
	return false;
}

static bool has_kv(const char *s, const char *k, const char *v)
{
	g_autofree char *w = v ? g_strdup_printf("%s=%s", k, v) : NULL;

	return !v || strcmp(v, "-") == 0 || has_word(s, w);
}

bool vtb_article_row_skipped(const struct vtb_article_row *row,
			     const char *skipped)
{
	if (row->missing)
		return false;
	/* Only what the skip line names: transport, workload, target,
	 * image (runner.c's skip_cell). */
	return (!row->transport || has_word(skipped, row->transport)) &&
	       (!row->workload || has_word(skipped, row->workload)) &&
	       has_kv(skipped, "target", row->target) &&
	       has_kv(skipped, "image", row->image);
}

/* Ours: "1234 1/s", "3.2 % / 5" or why there is none. */
static void ours(const struct vtb_article_row *row, const struct vtb_rcell *c,
		 char **value, char **spread)
{
	struct vtb_series *s = vtb_series_find(c->series, row->metric);
	struct vtb_stats st;

	if (!c->n) {
		*value = g_strdup_printf("FAILED: %s",
					 c->error ? c->error : "no ok run");
		*spread = g_strdup_printf("0 ok / %d", c->failed);
		return;
	}
	if (!s || !s->v->len) {
		*value = g_strdup_printf("no %s in this cell", row->metric);
		*spread = g_strdup("-");
		return;
	}
	vtb_stats_compute((double *)s->v->data, s->v->len, &st);
	/* Whole from 100 up (IOPS of 14020, not 1.402e+04); three digits
	 * below (a serial line's 0.0234 MB/s, not 0.0). */
	*value = g_strdup_printf(st.median >= 100 ? "%.0f %s" : "%.3g %s",
				 st.median,
				 strcmp(s->unit, "1/s") == 0 ? "/s" : s->unit);
	*spread = g_strdup_printf("%.1f %% / %d%s", st.cv * 100, st.n,
				  c->failed ? " (+failed)" : "");
}

static void line(FILE *f, const char *label, const char *where,
		 const char *value, const char *spread, const char *figure)
{
	g_autofree char *cell = g_strdup_printf(
		"%s%s%s", label, where ? " @ " : "", where ? where : "");

	fprintf(f, "  %-56s %-14s %-14s %s\n", cell, value, spread, figure);
}

void vtb_print_article(const char *profile, const struct vtb_article *a,
		       const struct vtb_rdoc *d, FILE *f)
{
	JsonNode *sk = json_object_get_member(d->root, "skipped");
	JsonArray *skipped = sk && JSON_NODE_HOLDS_ARRAY(sk)
				     ? json_node_get_array(sk)
				     : NULL;
	g_autofree char *hdr = g_strdup_printf("article (%s)", a->setup);

	fprintf(f, "\nProfile %s: %s\n  (%s)\n", profile, a->title, a->source);
	line(f, "cell", NULL, "ours (median)", "CV / runs", hdr);
	for (const struct vtb_article_row *row = a->rows; row->label; row++) {
		bool any = false;

		if (row->missing) {
			line(f, row->label, NULL, "MISSING", "-", row->figure);
			fprintf(f, "  %-56s (%s)\n", "", row->missing);
			continue;
		}
		for (guint i = 0; i < d->cells->len; i++) {
			const struct vtb_rcell *c = d->cells->pdata[i];
			g_autofree char *value = NULL, *spread = NULL;

			if (!vtb_article_row_match(row, c))
				continue;
			ours(row, c, &value, &spread);
			line(f, row->label, c->where, value, spread,
			     row->figure);
			any = true;
		}
		for (guint i = 0; skipped && i < json_array_get_length(skipped);
		     i++) {
			const char *s =
				json_array_get_string_element(skipped, i);

			g_autofree char *where = NULL;

			if (!s || !vtb_article_row_skipped(row, s))
				continue;
			where = g_strndup(s, strcspn(s, " :"));
			line(f, row->label, where, "SKIPPED", "-", row->figure);
			fprintf(f, "  %-56s (%s)\n", "", s);
			any = true;
		}
		if (any)
			continue;
		line(f, row->label, NULL, "NOT RUN", "-", row->figure);
		if (row->needs)
			fprintf(f, "  %-56s (not in this matrix: add %s)\n", "",
				row->needs);
		else
			fprintf(f,
				"  %-56s (not in this matrix: the options "
				"given "
				"leave it out)\n",
				"");
	}
}
