/*
 * Workload `metadata`: what users meet after an untar.  The tree of
 * `untar` is extracted before the clock starts and the guest's caches
 * dropped; then the guest walks it (a stat of every entry, as find and
 * git status do) and removes it (rm -rf), each part timed.
 */
#include "workloads/metadata.h"

#include <stdarg.h>
#include <string.h>

#include "core/channel.h"
#include "core/registry.h"
#include "workloads/untar.h"

extern const struct vtb_workload_ops vtb_workload_metadata;

static gboolean bad(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean bad(GError **err, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "metadata: the guest's %s",
		    msg);
	return FALSE;
}

/* A decimal u64 of @s, nothing else; FALSE for garbage and overflow. */
static gboolean decimal(const char *s, guint64 *v)
{
	return *s >= '0' && *s <= '9' &&
	       g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, v, NULL);
}

gboolean vtb_metadata_parse(const char *text, gsize len, guint64 want,
			    struct vtb_metadata_lines *out, GError **err)
{
	static const char *const parts[] = {"walk", "rm"};
	guint64 *n[] = {&out->walk_n, &out->rm_n};
	guint64 *ns[] = {&out->walk_ns, &out->rm_ns};
	const char *p = text, *end = text + len;

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len))
		return bad(err, "lines hold a NUL byte");
	for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		g_autofree char *line = NULL, *shown = NULL;
		g_auto(GStrv) f = NULL;

		if (!nl)
			return bad(err, "%s line is missing%s", parts[i],
				   p < end ? " (a line without its end)" : "");
		line = g_strndup(p, (gsize)(nl - p));
		p = nl + 1;
		f = g_strsplit(line, " ", 0);
		/* Quoted escaped: the message goes into JSON as UTF-8. */
		if (g_strv_length(f) != 3) {
			shown = g_strescape(line, NULL);
			return bad(err, "line %u is not '%s N NS': '%.60s'",
				   i + 1, parts[i], shown);
		}
		if (!g_str_equal(f[0], parts[i])) {
			shown = g_strescape(f[0], NULL);
			return bad(err, "line %u is '%.40s' where %s was due",
				   i + 1, shown, parts[i]);
		}
		if (!decimal(f[1], n[i]) || !decimal(f[2], ns[i])) {
			g_autofree char *c = g_strescape(f[1], NULL);

			shown = g_strescape(f[2], NULL);
			return bad(err,
				   "%s: entries '%.30s' or nanoseconds "
				   "'%.30s' is no decimal of 64 bits",
				   parts[i], c, shown);
		}
		if (*n[i] != want)
			return bad(err,
				   "%s counted %" G_GUINT64_FORMAT
				   " entries, the tarball holds "
				   "%" G_GUINT64_FORMAT,
				   parts[i], *n[i], want);
		if (!*ns[i])
			return bad(err, "%s took 0 ns: no time", parts[i]);
	}
	if (p != end) {
		g_autofree char *shown = g_strescape(p, NULL);

		return bad(err, "lines go on after the rm line: '%.40s'",
			   shown);
	}
	return TRUE;
}

/* ---- the workload ---- */

/* The tree of untar, and the guest's lines of one run. */
struct metadata {
	struct vtb_untar u; /* first: x->priv is both */
	guint lines;	    /* DATA messages that held a line */
	GString *out;
};

static void metadata_free(gpointer p)
{
	struct metadata *m = p;

	vtb_untar_clear(&m->u);
	g_string_free(m->out, TRUE);
	g_free(m);
}

/* What extracting the tarball makes below the directory: every entry. */
static guint64 entries(const struct vtb_untar *u)
{
	return u->want.dirs + u->want.files + u->want.others;
}

static gboolean metadata_prepare(struct vtb_xfer *x, GError **err)
{
	struct metadata *m = g_new0(struct metadata, 1);

	m->out = g_string_new(NULL);
	x->priv = m;
	x->priv_free = metadata_free;
	return vtb_untar_prepare(x, &m->u, err);
}

static void metadata_fill_run(struct vtb_xfer *x, struct vtb_run *run)
{
	struct metadata *m = x->priv;

	vtb_untar_fill_run(&m->u, run);
	/* The extraction comes before READY, untimed. */
	x->ready_wait_us = vtb_untar_extract_us(&m->u);
	/* Test hook: the guest's walk misses an entry. */
	if (g_getenv("VTBENCH_TEST_METADATA_SHORT"))
		run->flags |= VTB_RUN_F_TEST_SHORT;
}

/*
 * The guest sends the walk's line when the walk ended and the removal's
 * when the removal and its sync ended; the timed part ends at the second.
 */
static gboolean metadata_feed(struct vtb_xfer *x, GError **err)
{
	struct metadata *m = x->priv;
	/* 9p's untar of the git tree took 26 s here, its removal is of
	 * that order: allow 50 entries a second, and a start. */
	gint64 wait_us = (gint64)((120 + entries(&m->u) / 50.0) * 1e6);
	static const char *const after[] = {"READY", "the walk's line",
					    "the rm line"};
	struct vtb_msg msg;

	g_string_truncate(m->out, 0);
	m->lines = 0;
	for (;;) {
		if (!vtb_chan_expect(x->vm, VTB_MSG_DATA, &msg,
				     g_get_monotonic_time() + wait_us, err)) {
			g_prefix_error(err, "metadata: waiting after %s: ",
				       after[MIN(m->lines, 2)]);
			return FALSE;
		}
		if (!msg.u.data.len)
			break;
		if (m->lines == 2) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "metadata: the guest sent more than its "
				    "2 lines");
			return FALSE;
		}
		m->lines++;
		x->t_end_us = g_get_monotonic_time();
		g_string_append_len(m->out, (const char *)msg.u.data.bytes,
				    msg.u.data.len);
	}
	if (!x->t_end_us)
		x->t_end_us = g_get_monotonic_time();
	return TRUE;
}

static gboolean metadata_check(struct vtb_xfer *x, const struct vtb_result *r,
			       GError **err)
{
	struct metadata *m = x->priv;
	struct vtb_metadata_lines l;
	double walk_s, rm_s, host_s = (x->t_end_us - x->t0_us) / 1e6;

	/* Nothing crosses a transport: the lines are no payload. */
	x->s->bytes = 0;
	if (r->err) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "guest: %s",
			    r->detail[0] ? r->detail : g_strerror(r->err));
		return FALSE;
	}
	if (r->bytes != m->out->len) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "metadata: %" G_GSIZE_FORMAT
			    " of the guest's %" G_GUINT64_FORMAT
			    " bytes of lines arrived",
			    m->out->len, r->bytes);
		return FALSE;
	}
	if (!vtb_metadata_parse(m->out->str, m->out->len, entries(&m->u), &l,
				err))
		return FALSE;
	if (m->lines != 2) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "metadata: 2 lines came in %u messages, not one "
			    "each",
			    m->lines);
		return FALSE;
	}
	if (r->hash != (l.walk_n | l.rm_n << 32)) {
		g_set_error(
			err, VTB_ERROR, VTB_ERR_RUN,
			"metadata: the guest's RESULT counts %" G_GUINT64_FORMAT
			" and %" G_GUINT64_FORMAT
			" entries, its lines %" G_GUINT64_FORMAT
			" and %" G_GUINT64_FORMAT,
			r->hash & 0xffffffffu, r->hash >> 32, l.walk_n, l.rm_n);
		return FALSE;
	}
	walk_s = l.walk_ns / 1e9;
	rm_s = l.rm_ns / 1e9;
	/* The guest's clock explains the parts; the host's times the whole. */
	vtb_sample_add_phase(x->s, "walk_s", walk_s);
	vtb_sample_add_phase(x->s, "rm_s", rm_s);
	vtb_sample_add_metric(x->s, "walk_files_per_s", "1/s", true,
			      l.walk_n / walk_s);
	vtb_sample_add_metric(x->s, "rm_files_per_s", "1/s", true,
			      l.rm_n / rm_s);
	vtb_sample_add_metric(x->s, "entries", "entries", false,
			      (double)l.walk_n);
	/* Both parts ran within the host's timed part (1 ms: the two ends
	 * of a message). */
	if (walk_s + rm_s > host_s * 1.01 + 0.001)
		vtb_sample_add_note(x->s,
				    "the guest's clock gave the walk and rm "
				    "%.6f s, the host's %.6f s to both: the "
				    "phases are the guest's",
				    walk_s + rm_s, host_s);
	return TRUE;
}

const struct vtb_workload_ops vtb_workload_metadata = {
	.name = "metadata",
	.help = "untar's tree, extracted untimed and the guest's caches "
		"dropped, walked (a stat of every entry, as find and git "
		"status) and removed (rm -rf, synced): phases walk_s and rm_s, "
		"files/s of each",
	.needs = 0,
	.flags = VTB_WL_WRITES | VTB_WL_OWN_DATA | VTB_WL_ON_SHARED_FS,
	.work = VTB_WORK_METADATA,
	.prepare = metadata_prepare,
	.fill_run = metadata_fill_run,
	.feed = metadata_feed,
	.check_result = metadata_check,
};
