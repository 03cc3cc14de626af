/*
 * Workload `metadata`: what users meet after an untar.  The tree of
 * `untar` is extracted before the clock starts and the guest's caches
 * dropped; then the guest walks it (a stat of every entry, as find and
 * git status do) and removes it (rm -rf), each part timed.
 */
#include "workloads/metadata.h"

#include <string.h>

#include "engine/lines.h"
#include "workloads/untar.h"

extern const struct vtb_workload_ops vtb_workload_metadata;

gboolean vtb_metadata_parse(const char *text, gsize len, guint64 want,
			    struct vtb_metadata_lines *out, GError **err)
{
	static const char *const parts[] = {"walk", "rm"};
	guint64 *n[] = {&out->walk_n, &out->rm_n};
	guint64 *ns[] = {&out->walk_ns, &out->rm_ns};
	struct vtb_lines l;

	memset(out, 0, sizeof(*out));
	if (!vtb_lines_begin(&l, "metadata", text, len, err))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
		if (!vtb_lines_next(&l, parts[i], "PART N NS", n[i], ns[i],
				    err))
			return FALSE;
		if (*n[i] != want)
			return vtb_lines_fail(&l, err,
					      "%s counted %" G_GUINT64_FORMAT
					      " entries, the tarball holds "
					      "%" G_GUINT64_FORMAT,
					      parts[i], *n[i], want);
		if (!*ns[i])
			return vtb_lines_fail(&l, err, "%s took 0 ns: no time",
					      parts[i]);
	}
	return vtb_lines_end(&l, "the rm line", err);
}

/* ---- the workload ---- */

/* The tree of untar, and the guest's lines of one run. */
struct metadata {
	struct vtb_untar u; /* untar's tarball and disks */
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

	return vtb_lines_receive(x, "metadata", 2, wait_us, m->out, &m->lines,
				 err);
}

static gboolean metadata_check(struct vtb_xfer *x, const struct vtb_result *r,
			       GError **err)
{
	struct metadata *m = x->priv;
	struct vtb_metadata_lines l;
	double walk_s, rm_s, host_s = (x->t_end_us - x->t0_us) / 1e6;

	/* Nothing crosses a transport: the lines are no payload. */
	x->s->bytes = 0;
	if (!vtb_lines_result("metadata", r, m->out, err))
		return FALSE;
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
