/* Workload `randio`: the real fio in the guest, the Lima article's random
 * I/O job on the target, its JSON parsed on the host. */
#include "workloads/randio.h"

#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "core/channel.h"
#include "core/registry.h"
#include "core/vm.h"
#include "engine/engine.h"

extern const struct vtb_workload_ops vtb_workload_randio;

/* What fio prints at most; its JSON of three jobs is ~17 KB. */
#define FIO_OUT_MAX (16u << 20)
/* One file for every job and thread, on the target the run mounted. */
#define FIO_FILE VTB_MOUNT_DIR "/randio.dat"

/* The article's test.fio: [random-read], [random-write], [random-readwrite]. */
static const struct vtb_fio_job fio_jobs[] = {
	{"randread", "--rw=randread", true, false},
	{"randwrite", "--rw=randwrite", false, true},
	{"randrw", "--rw=randrw --rwmixread=70", true, true},
};

const struct vtb_fio_job *vtb_fio_job_find(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(fio_jobs); i++)
		if (g_strcmp0(fio_jobs[i].name, name) == 0)
			return &fio_jobs[i];
	return NULL;
}

static gboolean usage(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean usage(GError **err, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(err, VTB_ERROR, VTB_ERR_USAGE, msg);
	return FALSE;
}

char *vtb_fio_args(const struct vtb_fio_params *p, GError **err)
{
	g_autoptr(GString) a = g_string_new(NULL);
	guint64 ms = (guint64)(p->runtime_s * 1000 + 0.5);

	if (!p->filename || !*p->filename || strpbrk(p->filename, " \t\n")) {
		usage(err, "fio's file \"%s\" is empty or has a space",
		      p->filename ? p->filename : "");
		return NULL;
	}
	if (p->size < 4096) {
		usage(err,
		      "fio's size %" G_GUINT64_FORMAT
		      " is less than one 4k block",
		      p->size);
		return NULL;
	}
	if (!(p->runtime_s >= 0.001) || p->runtime_s > 86400) {
		usage(err, "fio's runtime %g s is not from 1 ms to a day",
		      p->runtime_s);
		return NULL;
	}
	if (p->numjobs < 1 || p->numjobs > 1024) {
		usage(err, "fio's numjobs %d is not from 1 to 1024",
		      p->numjobs);
		return NULL;
	}
	if (!p->jobs || !p->jobs[0]) {
		usage(err, "no fio job to run");
		return NULL;
	}
	g_string_printf(
		a,
		"--output-format=json --filename=%s --size=%" G_GUINT64_FORMAT
		" --bs=4k --ioengine=libaio --iodepth=1 --numjobs=%d "
		"--thread --group_reporting --time_based "
		"--runtime=%" G_GUINT64_FORMAT "ms "
		"--percentile_list=50:99:99.9",
		p->filename, p->size, p->numjobs, ms);
	if (p->extra && *p->extra) {
		g_auto(GStrv) v = g_strsplit(p->extra, " ", -1);

		for (int i = 0; v[i]; i++)
			if (*v[i])
				g_string_append_printf(a, " %s", v[i]);
	}
	for (int i = 0; p->jobs[i]; i++) {
		const struct vtb_fio_job *j = vtb_fio_job_find(p->jobs[i]);

		if (!j) {
			usage(err, "unknown fio job \"%s\"", p->jobs[i]);
			return NULL;
		}
		/* One reporting group each, one after the other. */
		g_string_append_printf(a, " --name=%s %s --stonewall", j->name,
				       j->opts);
	}
	if (a->len >= VTB_STR_ARGS) {
		usage(err, "fio's options take %zu bytes, more than a RUN's %u",
		      a->len, VTB_STR_ARGS - 1);
		return NULL;
	}
	return g_string_free(g_steal_pointer(&a), FALSE);
}

guint64 vtb_fio_default_size(guint64 mem, guint64 room)
{
	guint64 size = 2 * mem;

	if (room && size > room / 10 * 9)
		size = room / 10 * 9;
	size &= ~(guint64)((1u << 20) - 1);
	return MAX(size, 1u << 20);
}

/* ---- fio's JSON ---- */

/*
 * The agent's --direct=N, under "global options": spelt so that the word
 * alone, also a driver's name, is not a string here (tests/layers.sh).
 */
#define FIO_DIRECT_KEY                                                         \
	"dir"                                                                  \
	"ect"

static gboolean run_error(GError **err, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static gboolean run_error(GError **err, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(err, VTB_ERROR, VTB_ERR_RUN, msg);
	return FALSE;
}

/* Member @name of @o as an object, or NULL. */
static JsonObject *obj_member(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* Member @name of @o as a number into *@v. */
static gboolean num_member(JsonObject *o, const char *name, double *v)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;
	GType t;

	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return FALSE;
	t = json_node_get_value_type(n);
	if (t == G_TYPE_INT64)
		*v = (double)json_node_get_int(n);
	else if (t == G_TYPE_DOUBLE)
		*v = json_node_get_double(n);
	else
		return FALSE;
	return TRUE;
}

/* The job fio reports as @name (group_reporting: one per group). */
static JsonObject *find_job(JsonArray *jobs, const char *name)
{
	for (guint i = 0; i < json_array_get_length(jobs); i++) {
		JsonNode *n = json_array_get_element(jobs, i);
		JsonObject *o;

		if (!JSON_NODE_HOLDS_OBJECT(n))
			continue;
		o = json_node_get_object(n);
		if (g_strcmp0(json_object_get_string_member_with_default(
				      o, "jobname", NULL),
			      name) == 0)
			return o;
	}
	return NULL;
}

static void add(GArray *m, const char *job, const char *dir, const char *what,
		const char *unit, bool higher, double v)
{
	g_autofree char *name = g_strdup_printf("%s_%s_%s", job, dir, what);
	/* Interned: a metric's name outlives the sample (static). */
	struct vtb_metric x = {g_intern_string(name), unit, higher, v};

	g_array_append_val(m, x);
}

/* clat_ns.percentile's keys, as --percentile_list=50:99:99.9 makes them. */
static const struct {
	const char *key, *name;
} pcts[] = {
	{"50.000000", "clat_p50_us"},
	{"99.000000", "clat_p99_us"},
	{"99.900000", "clat_p99_9_us"},
};

/* One direction of one job: its figures into @m, its bytes to *@bytes. */
static gboolean direction(JsonObject *job, const char *name, const char *dir,
			  GArray *m, guint64 *bytes, GError **err)
{
	JsonObject *d = obj_member(job, dir), *pct;
	double ios, iops, bw, io;

	if (!d)
		return run_error(err, "fio job %s: no \"%s\" in its JSON", name,
				 dir);
	if (!num_member(d, "total_ios", &ios) ||
	    !num_member(d, "iops", &iops) || !num_member(d, "bw_bytes", &bw) ||
	    !num_member(d, "io_bytes", &io))
		return run_error(err,
				 "fio job %s: %s lacks total_ios, iops, "
				 "bw_bytes or io_bytes",
				 name, dir);
	if (ios <= 0)
		return run_error(err, "fio job %s did no %s I/O", name, dir);
	pct = obj_member(obj_member(d, "clat_ns"), "percentile");
	add(m, name, dir, "iops", "1/s", true, iops);
	add(m, name, dir, "mb_per_s", "MB/s", true, bw / 1e6);
	for (gsize i = 0; i < G_N_ELEMENTS(pcts); i++) {
		double ns;

		if (!num_member(pct, pcts[i].key, &ns))
			return run_error(err,
					 "fio job %s: no %s.clat_ns.percentile"
					 "[\"%s\"] in its JSON",
					 name, dir, pcts[i].key);
		add(m, name, dir, pcts[i].name, "us", false, ns / 1e3);
	}
	*bytes += (guint64)io;
	return TRUE;
}

/* Where the document starts: fio writes its messages to the same file. */
static const char *json_start(const char *out, gsize len)
{
	const char *p = out, *end = out + len;

	while (p < end) {
		const char *nl;

		if (*p == '{')
			return p;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		p = nl + 1;
	}
	return NULL;
}

gboolean vtb_fio_metrics(const char *out, gsize len, const char *const *jobs,
			 struct vtb_sample *s, int *direct, guint64 *bytes,
			 GError **err)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GArray) m =
		g_array_new(FALSE, FALSE, sizeof(struct vtb_metric));
	g_autoptr(GError) e = NULL;
	const char *start = json_start(out, len);
	JsonObject *root, *global;
	JsonNode *jn;
	JsonArray *ja;
	const char *d;

	*direct = -1;
	*bytes = 0;
	if (!start) {
		g_autofree char *head = g_strndup(out, MIN(len, 80));

		return run_error(err,
				 "fio's output holds no JSON (%zu bytes%s%s)",
				 len, len ? ": " : "",
				 g_strstrip(g_strdelimit(head, "\n\r\t", ' ')));
	}
	if (!json_parser_load_from_data(parser, start,
					(gssize)(out + len - start), &e))
		return run_error(err, "fio's JSON: %s", e->message);
	jn = json_parser_get_root(parser);
	if (!jn || !JSON_NODE_HOLDS_OBJECT(jn))
		return run_error(err, "fio's JSON is not an object");
	root = json_node_get_object(jn);
	jn = json_object_get_member(root, "jobs");
	if (!jn || !JSON_NODE_HOLDS_ARRAY(jn))
		return run_error(err, "fio's JSON has no \"jobs\" array");
	ja = json_node_get_array(jn);
	global = obj_member(root, "global options");
	d = global ? json_object_get_string_member_with_default(
			     global, FIO_DIRECT_KEY, NULL)
		   : NULL;
	*direct = !d ? -1 : g_str_equal(d, "1") ? 1 : 0;
	for (int i = 0; jobs[i]; i++) {
		const struct vtb_fio_job *j = vtb_fio_job_find(jobs[i]);
		JsonObject *o = find_job(ja, jobs[i]);
		double error;

		if (!j)
			return run_error(err, "unknown fio job %s", jobs[i]);
		if (!o)
			return run_error(err, "fio's JSON has no job %s",
					 jobs[i]);
		if (!num_member(o, "error", &error))
			return run_error(err, "fio job %s: no \"error\"",
					 jobs[i]);
		if (error != 0)
			return run_error(
				err, "fio job %s failed: error %g (%s)",
				jobs[i], error, g_strerror((int)error));
		if ((j->read &&
		     !direction(o, j->name, "read", m, bytes, err)) ||
		    (j->write &&
		     !direction(o, j->name, "write", m, bytes, err)))
			return FALSE;
	}
	for (guint i = 0; i < m->len; i++) {
		struct vtb_metric *x = &g_array_index(m, struct vtb_metric, i);

		vtb_sample_add_metric(s, x->name, x->unit, x->higher_better,
				      x->v);
	}
	return TRUE;
}

/* ---- the workload ---- */

struct randio_opts {
	double runtime;
	guint64 size; /* 0: vtb_fio_default_size */
	char **jobs;
};

/* A guest's fio: its tools disk, its options, what came back. */
struct randio {
	struct vtb_device *tools;
	char *args;
	GByteArray *out;
	guint64 size;
	guint njobs;
};

static void randio_free(gpointer p)
{
	struct randio *r = p;

	g_free(r->args);
	if (r->out)
		g_byte_array_unref(r->out);
	g_free(r);
}

static const char *const default_jobs[] = {"randread", "randwrite", "randrw",
					   NULL};

static const char *const *jobs_of(const struct randio_opts *o)
{
	return o && o->jobs && o->jobs[0] ? (const char *const *)o->jobs
					  : default_jobs;
}

/* The room fio's file has on @c's target (0: a host directory's). */
static guint64 target_room(const struct vtb_cell *c)
{
	const struct vtb_opts *o = c->env->opts;
	const struct vtb_transport_ops *t = vtb_transport_find(c->target);

	if (!t || t->kind != VTB_KIND_FS)
		return o->disk_size;
	/*
	 * A tmpfs holds half of the memory the guest's kernel has left:
	 * with --mem 256, 110M fit under UML and 115M did not.
	 */
	return t->in_guest_memory ? ((guint64)o->mem_mb << 20) / 5 * 2 : 0;
}

/* The tools image (fio and its libraries) as a disk, fio's options. */
static gboolean randio_prepare(struct vtb_xfer *x, GError **err)
{
	struct vtb_cell *c = x->cell;
	const struct randio_opts *o =
		vtb_workload_opts(c->env->opts, &vtb_workload_randio);
	g_autofree char *fio = g_find_program_in_path("fio");
	struct randio *r = g_new0(struct randio, 1);
	const char *bins[] = {fio, NULL};
	struct vtb_cell_env ce = {0};
	struct vtb_fio_params p = {.filename = FIO_FILE};
	struct vtb_tools tools;
	struct vtb_device *d;

	x->priv = r;
	x->priv_free = randio_free;
	if (!fio) {
		g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
			    "randio: no fio on this host to give the guest");
		return FALSE;
	}
	c->backend->cell_env(c, &ce);
	p.numjobs = MAX(ce.cpus, 1);
	p.runtime_s = o ? o->runtime : 10;
	p.size = o && o->size ? o->size
			      : vtb_fio_default_size(
					(guint64)c->env->opts->mem_mb << 20,
					target_room(c));
	p.jobs = jobs_of(o);
	/* The tests' way to make fio fail in the guest. */
	p.extra = g_getenv("VTBENCH_TEST_FIO_OPTS");
	r->args = vtb_fio_args(&p, err);
	if (!r->args)
		return FALSE;
	r->size = p.size;
	r->njobs = g_strv_length((char **)p.jobs);
	if (!vtb_tools_get(c->env->cache_dir, bins, NULL, &tools, err)) {
		g_prefix_error(err, "the guest tools image: ");
		return FALSE;
	}
	d = vtb_vm_add_device(x->vm);
	d->kind = VTB_DEV_DISK;
	d->name = g_strdup("vtbtools");
	/* On the target's bus, or the backend's disk for a filesystem. */
	d->bus = x->target_is_fs ? c->backend->default_disk : c->target;
	d->image = g_strdup(tools.image);
	d->format = "raw";
	d->readonly = true;
	vtb_tools_clear(&tools);
	r->tools = d;
	return TRUE;
}

static void randio_fill_run(struct vtb_xfer *x, struct vtb_run *run)
{
	struct randio *r = x->priv;

	/* Laid out by the agent before READY, in 1 MiB writes of bytes no
	 * layer can skip: fio's own layout (4 KiB writes) took 20 of UML's
	 * 28 s for 512M and three 2 s jobs. */
	g_strlcpy(run->path, FIO_FILE, sizeof(run->path));
	g_strlcpy(run->path2, r->tools->guest, sizeof(run->path2));
	g_strlcpy(run->args, r->args, sizeof(run->args));
	run->flags |= VTB_RUN_F_DIRECT | VTB_RUN_F_RANDOM;
	run->size = r->size;
	run->block = 1u << 20;
}

/*
 * The timed part ends at the guest's second READY, when fio ended; its
 * output follows in DATA.  fio lays its file out before its jobs run
 * (9p wrote ~1 MB/s here at worst): allow for that and every job.
 */
static gboolean randio_feed(struct vtb_xfer *x, GError **err)
{
	struct randio *r = x->priv;
	const struct randio_opts *o =
		vtb_workload_opts(x->cell->env->opts, &vtb_workload_randio);
	double runtime = o ? o->runtime : 10;
	gint64 dl = g_get_monotonic_time() +
		    (gint64)((120 + r->njobs * (runtime + 30) + r->size / 1e6) *
			     1e6);
	struct vtb_msg m;

	if (!vtb_chan_expect(x->vm, VTB_MSG_READY, &m, dl, err)) {
		g_prefix_error(err, "randio: waiting for fio to end: ");
		return FALSE;
	}
	x->t_end_us = g_get_monotonic_time();
	if (r->out)
		g_byte_array_set_size(r->out, 0);
	else
		r->out = g_byte_array_new();
	for (;;) {
		if (!vtb_chan_expect(x->vm, VTB_MSG_DATA, &m,
				     vtb_xfer_stall_deadline(), err)) {
			g_prefix_error(err,
				       "randio: fio's output after %u bytes: ",
				       r->out->len);
			return FALSE;
		}
		if (!m.u.data.len)
			return TRUE;
		if (r->out->len + m.u.data.len > FIO_OUT_MAX) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "randio: fio's output exceeds %u bytes",
				    FIO_OUT_MAX);
			return FALSE;
		}
		g_byte_array_append(r->out, m.u.data.bytes, m.u.data.len);
	}
}

static gboolean randio_check(struct vtb_xfer *x, const struct vtb_result *res,
			     GError **err)
{
	struct randio *r = x->priv;
	const struct randio_opts *o =
		vtb_workload_opts(x->cell->env->opts, &vtb_workload_randio);
	int refused = (int)(res->hash >> 32), direct;
	bool want_direct = res->hash & VTB_FIO_DIRECT;
	guint64 bytes;

	if (res->err) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "guest: %s",
			    res->detail[0] ? res->detail
					   : g_strerror(res->err));
		return FALSE;
	}
	if (res->bytes != r->out->len) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "fio's output: %u of %" G_GUINT64_FORMAT
			    " bytes arrived",
			    r->out->len, res->bytes);
		return FALSE;
	}
	if (!vtb_fio_metrics((const char *)r->out->data, r->out->len,
			     jobs_of(o), x->s, &direct, &bytes, err))
		return FALSE;
	if (direct != (want_direct ? 1 : 0)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "fio ran with direct=%d, the agent passed %d",
			    direct, want_direct);
		return FALSE;
	}
	/* What the target refused is a finding, not a failure: say it. */
	if (refused)
		vtb_sample_add_note(x->s,
				    "the target refused O_DIRECT (%s): fio ran "
				    "with direct=0, through the guest's page "
				    "cache",
				    g_strerror(refused));
	/* 1: the job as asked for. */
	vtb_sample_add_metric(x->s, "o_direct", "0/1", true, direct);
	x->s->bytes = bytes;
	return TRUE;
}

static const char *const job_names[] = {"randread", "randwrite", "randrw",
					NULL};

static gboolean check_fio_size(const char *opt, const char *v, GError **err)
{
	guint64 n = 0;

	if (vtb_parse_size(v, &n) && n >= 4096)
		return TRUE;
	return usage(err, "--%s %s: at least one 4k block (4K)", opt, v);
}

#define OFF(f) offsetof(struct randio_opts, f)
/* clang-format off */
static const struct vtb_option randio_options[] = {
	{ "fio-runtime", VTB_OPT_SECONDS, OFF(runtime), "10", "SEC",
	  "each fio job's runtime (time based; the article's: 60)",
	  NULL, 0, -1 },
	{ "fio-size", VTB_OPT_SIZE, OFF(size), NULL, "BYTES",
	  "fio's file, shared by its jobs [default: 2x --mem, so it "
	  "does not fit the guest's page cache, at most 90 % of the "
	  "target's room: --disk-size, or 40 % of --mem for tmpfs]",
	  check_fio_size, 0, -1 },
	{ "fio-jobs", VTB_OPT_LIST, OFF(jobs), "randread,randwrite,randrw",
	  "LIST", "fio jobs, one after the other: randread, "
	  "randwrite, randrw (70 % reads)", NULL, 0, -1, job_names },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1, NULL, 0, NULL },
};
/* clang-format on */

const struct vtb_workload_ops vtb_workload_randio = {
	.name = "randio",
	.help = "the guest's fio: the Lima article's randread, randwrite and "
		"randrw (bs 4k, direct, libaio, a thread per vCPU) on the "
		"target: IOPS, MB/s, clat p50/p99/p99.9",
	.needs = 0,
	.flags = VTB_WL_WRITES | VTB_WL_OWN_DATA,
	.work = VTB_WORK_FIO,
	.prepare = randio_prepare,
	.fill_run = randio_fill_run,
	.feed = randio_feed,
	.check_result = randio_check,
	.options = randio_options,
	.options_size = sizeof(struct randio_opts),
};
