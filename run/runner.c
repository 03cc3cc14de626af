/* `vtbench run`, `list` and `probe`: the matrix and its environment. */
#include "run/runner.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "run/cli.h"
#include "core/kernels.h"
#include "core/disk.h"
#include "core/registry.h"
#include "core/progress.h"
#include "results/results.h"
#include "analysis/profile.h"
#include "analysis/tables.h"
#include "results/cell.h"
#include "run/profiles.h"
#include "run/resume.h"
#include "engine/engine.h"

static void sample_free(gpointer p)
{
	vtb_sample_clear(p);
	g_free(p);
}

static void cell_free(gpointer p)
{
	struct vtb_cell *c = p;

	vtb_appliance_clear(&c->appliance);
	g_ptr_array_unref(c->samples);
	g_free(c->error);
	g_free(c);
}

void vtb_matrix_clear(struct vtb_matrix *r)
{
	if (r->cells)
		g_ptr_array_unref(r->cells);
	if (r->skipped)
		g_ptr_array_unref(r->skipped);
	vtb_env_clear(&r->env);
	vtb_opts_clear(&r->opts);
	vtb_hostinfo_clear(&r->host);
	g_free(r->started);
	g_free(r->finished);
}

/* One line naming the problem, exit code 2. */
static int bad_input(const char *msg)
{
	g_printerr("vtbench: %s\n", msg);
	return 2;
}

static char *now_iso(void)
{
	g_autoptr(GDateTime) t = g_date_time_new_now_utc();

	return g_date_time_format_iso8601(t);
}

static const struct vtb_backend_ops *backend_of(const char *name)
{
	return vtb_backend_find(name);
}

/* Build (or reuse) the appliance for @c. */
static gboolean cell_appliance(struct vtb_cell *c, GError **err)
{
	struct vtb_env *env = c->env;
	const char *dir = c->backend->modules_dir(env);
	g_autoptr(GPtrArray) mods = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	const struct vtb_device_ops *disk =
		vtb_backend_row(c->backend, VTB_DEV_DISK);
	const struct vtb_transport_ops *target;

	for (const char *const *m = c->backend->base_modules; *m; m++)
		g_ptr_array_add(names, (char *)*m);
	if (c->tops)
		for (const char *const *m =
			     vtb_transport_modules(c->backend, c->tops);
		     *m; m++)
			g_ptr_array_add(names, (char *)*m);
	/* The target disk and its filesystem, as the backend's guest needs
	 * (a filesystem target brings its own: its transport's modules). */
	target = c->workload && (c->workload->flags & VTB_WL_WRITES)
			 ? vtb_transport_find(c->target)
			 : NULL;
	if (c->workload && (c->workload->flags & VTB_WL_WRITES) && disk &&
	    disk->fs_modules &&
	    (!(target && target->kind == VTB_KIND_FS) ||
	     /* its own disks (untar's tools) are the backend's */
	     (c->workload->flags & VTB_WL_OWN_DATA) ||
	     /* so is the disk of the target's guest program (sshfs) */
	     target->guest_tools))
		for (const char *const *m = disk->fs_modules; *m; m++)
			g_ptr_array_add(names, (char *)*m);
	/* A target's bus is a block transport's: its driver too. */
	if (target)
		for (const char *const *m =
			     vtb_transport_modules(c->backend, target);
		     *m; m++)
			g_ptr_array_add(names, (char *)*m);
	g_ptr_array_add(names, NULL);

	if (names->len > 1 && !dir) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "%s: no modules directory for kernel %s",
			    c->backend->name, c->backend->release(env));
		return FALSE;
	}
	if (names->len > 1) {
		mods = vtb_modules_resolve(dir, c->backend->release(env),
					   (const char *const *)names->pdata,
					   err);
		if (!mods)
			return FALSE;
	} else {
		mods = g_ptr_array_new();
	}
	if (!vtb_appliance_get(env->cache_dir, env->agent, mods, &c->appliance,
			       err))
		return FALSE;
	c->appliance_ready = true;
	return TRUE;
}

/* The backend's own test boot of the startup appliance (verify()). */
static gboolean verify_backend(struct vtb_matrix *r,
			       const struct vtb_backend_ops *be, GError **err)
{
	/* A boot that moves nothing, of the startup appliance. */
	static const struct vtb_workload_ops verify_boot = {
		.name = "verify", .help = "the backend's test boot"};
	struct vtb_cell probe = {
		.env = &r->env, .backend = be, .workload = &verify_boot};
	gboolean ok;

	if (!be->verify)
		return TRUE;
	if (!cell_appliance(&probe, err))
		return FALSE;
	ok = be->verify(be, &r->env, probe.appliance.initrd, err);
	vtb_appliance_clear(&probe.appliance);
	return ok;
}

/*
 * Prepare every requested backend.  Returns 0, or the exit code (2) after
 * printing the one line.  A backend the user did not name explicitly and
 * that cannot run here is skipped with its reason.
 */
static int prepare_backends(struct vtb_matrix *r, bool test_accel)
{
	for (char **b = r->opts.backends; *b; b++) {
		const struct vtb_backend_ops *be = backend_of(*b);
		g_autoptr(GError) e = NULL;
		bool ok = be->prepare(&r->env, &e);

		if (ok && test_accel)
			ok = verify_backend(r, be, &e);
		if (ok) {
			vtb_env_set_ready(&r->env, be, true, NULL);
			continue;
		}
		if (e->code == VTB_ERR_INTERRUPTED)
			return 130;
		if (e->code == VTB_ERR_USAGE || r->opts.backends_given)
			return bad_input(e->message);
		g_ptr_array_add(r->skipped, g_strdup_printf("%s: %s", be->name,
							    e->message));
		if (!r->opts.quiet)
			g_printerr("vtbench: skipping %s: %s\n", be->name,
				   e->message);
		vtb_env_set_ready(&r->env, be, false, e->message);
	}
	return 0;
}

void vtb_matrix_init(struct vtb_matrix *r)
{
	r->env.opts = &r->opts;
	vtb_env_init(&r->env);
	r->options = vtb_run_options;
	r->cells = g_ptr_array_new_with_free_func(cell_free);
	r->skipped = g_ptr_array_new_with_free_func(g_free);
}

static int env_init(struct vtb_matrix *r)
{
	g_autoptr(GError) e = NULL;

	vtb_matrix_init(r);
	r->started = now_iso();
	vtb_hostinfo_get(&r->host);
	r->env.cache_dir = vtb_cache_dir(&e);
	if (!r->env.cache_dir)
		return bad_input(e->message);
	r->env.agent = vtb_find_agent(&e);
	if (!r->env.agent)
		return bad_input(e->message);
	return 0;
}

/* Why @be cannot attach a disk so described (NULLs: not decided), or NULL. */
static char *disk_cannot(const struct vtb_backend_ops *be, const char *bus,
			 const char *cache, const char *image, const char *aio)
{
	struct vtb_device d = {
		.kind = VTB_DEV_DISK,
		.bus = bus,
		.cache = cache,
		.format = !image			     ? NULL
			  : g_str_has_prefix(image, "qcow2") ? "qcow2"
							     : "raw",
		.aio = aio && !g_str_equal(aio, "-") ? aio : NULL,
	};

	return vtb_backend_cannot(be, &d);
}

struct cell_key {
	const struct vtb_backend_ops *be;
	const struct vtb_workload_ops *w;
	const char *driver;
	const struct vtb_transport_ops *t;
	const char *cache, *target, *image, *fs, *aio, *payload;
	const char *variant; /* a filesystem's own axis, or NULL */
	guint32 msg;
};

#define VTB_MIN_RATE_SIZE (4u << 10)
/* Warm-ups run again when the first was far too short to size from. */
#define VTB_MAX_CALIBRATIONS 3

/*
 * A transfer cell vtbench sizes from the rate its warm-up measured, so
 * that every run takes about --duration whatever the channel: rates span
 * four orders of magnitude between a serial line and virtio, and between
 * hosts.
 */
static bool rate_sized(const struct vtb_cell *c)
{
	return c->size_auto && !c->workload->run &&
	       !(c->workload->flags & VTB_WL_OWN_DATA);
}

guint64 vtb_size_for_rate(double bytes_per_s, double seconds, guint64 max)
{
	double want = bytes_per_s * seconds, best_d = INFINITY;
	guint64 best = VTB_MIN_RATE_SIZE;

	/*
	 * Steps of 2^n and 1.5 * 2^n: a run lands within ~20 % of @seconds,
	 * and a rate that moves a little between two runs of vtbench keeps
	 * the size, so their cells compare on equal terms.
	 */
	for (guint64 p = VTB_MIN_RATE_SIZE; p <= (1ULL << 40); p *= 2) {
		guint64 cand[2] = {p, p + p / 2};

		for (int i = 0; i < 2; i++) {
			double d = fabs(log(cand[i] / MAX(want, 1.0)));

			if (cand[i] <= MAX(max, VTB_MIN_RATE_SIZE) &&
			    d < best_d) {
				best_d = d;
				best = cand[i];
			}
		}
	}
	return best;
}

/*
 * Bytes a writing cell's target holds: 90 % of a disk image (the rest is
 * its filesystem's), of a tmpfs (half the guest's memory); a host
 * directory: no limit of ours.
 */
static guint64 target_room(const struct vtb_opts *o, const struct vtb_cell *c)
{
	const struct vtb_transport_ops *t = vtb_transport_find(c->target);

	if (t && t->kind == VTB_KIND_FS)
		return t->in_guest_memory
			       ? ((guint64)o->mem_mb << 20) / 2 / 10 * 9
			       : G_MAXUINT64;
	return o->disk_size / 10 * 9;
}

static void add_cell(struct vtb_matrix *r, const struct cell_key *k)
{
	struct vtb_cell *c = g_new0(struct vtb_cell, 1);
	const char *accel = k->be->accel ? k->be->accel(&r->env) : NULL;

	c->env = &r->env;
	c->backend = k->be;
	c->workload = k->w;
	c->driver = g_intern_string(k->driver);
	c->accel = accel ? g_intern_string(accel) : "-";
	c->tops = k->t;
	c->transport = k->t ? k->t->name : "-";
	c->cache = g_intern_string(k->cache ? k->cache : "-");
	c->target = g_intern_string(k->target ? k->target : "-");
	c->image = g_intern_string(k->image ? k->image : "-");
	c->fs = g_intern_string(k->fs ? k->fs : "-");
	c->aio = g_intern_string(k->aio ? k->aio : "-");
	c->variant = g_intern_string(k->variant ? k->variant : "-");
	c->payload = g_intern_string(k->payload ? k->payload : "-");
	c->msg_size = k->msg;
	/* A workload that moves bytes has a size. */
	if (k->w->work != VTB_WORK_NONE) {
		c->size_auto = !r->opts.size_given;
		c->size = r->opts.size_given || !k->t
				  ? r->opts.size
				  : vtb_transport_default_size(c);
		/* A guess never more than the target holds. */
		if (c->size_auto && (k->w->flags & VTB_WL_WRITES))
			c->size = MIN(c->size, target_room(&r->opts, c));
		/* The warm-up only has to measure the rate: a guess of
		 * ~--duration, from the guess of VTB_DEFAULT_SIZE_S. */
		if (rate_sized(c) && r->opts.warmup > 0)
			c->size =
				vtb_size_for_rate(c->size / VTB_DEFAULT_SIZE_S,
						  r->opts.duration, c->size);
	}
	c->samples = g_ptr_array_new_with_free_func(sample_free);
	g_ptr_array_add(r->cells, c);
}

static void skip_cell(struct vtb_matrix *r, const struct cell_key *k,
		      const char *why)
{
	GString *s = g_string_new(k->be->name);

	if (k->t)
		g_string_append_printf(s, " %s", k->t->name);
	g_string_append_printf(s, " %s", k->w->name);
	if (k->msg)
		g_string_append_printf(s, " %u B", k->msg);
	if (k->target)
		g_string_append_printf(s, " target=%s", k->target);
	if (k->cache)
		g_string_append_printf(s, " cache=%s", k->cache);
	if (k->image)
		g_string_append_printf(s, " image=%s", k->image);
	if (k->aio)
		g_string_append_printf(s, " aio=%s", k->aio);
	if (k->variant)
		g_string_append_printf(s, " %s", k->variant);
	g_string_append_printf(s, ": %s", why);
	g_ptr_array_add(r->skipped, g_string_free(s, FALSE));
}

/*
 * A filesystem as the target: no image, disk filesystem or aio; the
 * filesystem's own host cache modes (its cache_axis) times its own second
 * axis (variant_axis), else one cell.
 */
static void expand_fs_target(struct vtb_matrix *r, struct cell_key *k,
			     const struct vtb_transport_ops *fs)
{
	struct vtb_device d = {0};
	g_autofree char *why = NULL;
	const void *topts = vtb_transport_opts(&r->opts, fs);
	char *none[] = {"-", NULL};
	char **caches = fs->cache_axis && topts ? fs->cache_axis(topts) : NULL;
	g_auto(GStrv) variants =
		fs->variant_axis && topts ? fs->variant_axis(topts) : NULL;

	/* Its device, or the stream that carries it (sshfs). */
	vtb_transport_device_for(fs, &r->opts, &d);
	d.bus = fs->name;
	k->target = fs->name;
	k->image = k->fs = k->aio = NULL;
	k->cache = k->variant = NULL;
	/* Its programs missing here: exit 2 when asked for by name (the
	 * parse's check), skipped with why in a default matrix. */
	if (fs->check) {
		g_autoptr(GError) e = NULL;

		if (!fs->check(topts, &e)) {
			skip_cell(r, k, e->message);
			return;
		}
	}
	why = vtb_backend_cannot(k->be, &d);
	if (why) {
		skip_cell(r, k, why);
		return;
	}
	for (char **ca = caches ? caches : none; *ca; ca++) {
		k->cache = g_str_equal(*ca, "-") ? NULL : *ca;
		d.cache = k->cache;
		g_free(why);
		why = vtb_backend_cannot(k->be, &d);
		if (why) {
			skip_cell(r, k, why);
			continue;
		}
		for (char **va = variants ? variants : none; *va; va++) {
			k->variant = g_str_equal(*va, "-") ? NULL : *va;
			add_cell(r, k);
		}
		k->variant = NULL;
	}
}

/* Whether @be's own FS row serves filesystem @t natively. */
static bool serves_natively(const struct vtb_backend_ops *be,
			    const struct vtb_transport_ops *t)
{
	const struct vtb_device_ops *row = be->drivers[0]->devices[VTB_DEV_FS];

	return row && row->native &&
	       g_strv_contains((const char *const *)row->native, t->name);
}

/*
 * Filesystem @t on @be is away from home: another backend of this run,
 * ready here, serves it natively and @be does not.
 */
static bool away_from_home(const struct vtb_matrix *r,
			   const struct vtb_backend_ops *be,
			   const struct vtb_transport_ops *t)
{
	if (serves_natively(be, t))
		return false;
	for (char **n = r->opts.backends; n && *n; n++) {
		const struct vtb_backend_ops *o = vtb_backend_find(*n);

		if (o && o != be && serves_natively(o, t) &&
		    vtb_env_ready(&r->env, o))
			return true;
	}
	return false;
}

/* The disk dimensions of a cell: target x cache x image x fs x aio. */
static void expand_disks(struct vtb_matrix *r, struct cell_key *k)
{
	struct vtb_opts *o = &r->opts;
	char *def_target[] = {(char *)k->be->default_disk, NULL};
	char *shared[VTB_MAX_TRANSPORTS + 1];
	char *no_aio[] = {"-", NULL};
	char **targets = o->targets ? o->targets : def_target;
	char **aios = o->aios ? o->aios : no_aio;
	bool writes = k->w->flags & VTB_WL_WRITES;
	bool block = k->t && k->t->kind == VTB_KIND_BLOCK;

	if (!o->targets && (k->w->flags & VTB_WL_ON_SHARED_FS)) {
		int n = 0;

		for (int i = 0; vtb_transports[i] && i < VTB_MAX_TRANSPORTS;
		     i++)
			if (vtb_transports[i]->kind == VTB_KIND_FS &&
			    !vtb_transports[i]->in_guest_memory &&
			    (o->workloads_given ||
			     !away_from_home(r, k->be, vtb_transports[i])))
				shared[n++] = (char *)vtb_transports[i]->name;
		shared[n] = NULL;
		targets = shared;
	}

	if (!writes && !block) {
		add_cell(r, k);
		return;
	}
	for (char **tg = targets; *tg; tg++) {
		const char *bus = writes ? *tg : k->t->bus;
		const struct vtb_transport_ops *fst =
			writes ? vtb_transport_find(*tg) : NULL;

		if (fst && fst->kind == VTB_KIND_FS) {
			expand_fs_target(r, k, fst);
			continue;
		}
		if (writes) {
			g_autofree char *why =
				disk_cannot(k->be, bus, NULL, NULL, NULL);

			if (why) {
				k->target = *tg;
				skip_cell(r, k, why);
				continue;
			}
		}
		for (char **ca = o->caches; *ca; ca++)
			for (char **im = writes ? o->images : no_aio; *im; im++)
				for (char **fs = writes ? o->fss : no_aio; *fs;
				     fs++)
					for (char **ai = aios; *ai; ai++) {
						g_autofree char *why = NULL;

						k->target = writes ? *tg : NULL;
						k->cache = *ca;
						k->image = writes ? *im : NULL;
						k->fs = writes ? *fs : NULL;
						k->aio = g_str_equal(*ai, "-")
								 ? NULL
								 : *ai;
						why = disk_cannot(k->be, bus,
								  *ca, k->image,
								  k->aio);
						if (why)
							skip_cell(r, k, why);
						else
							add_cell(r, k);
					}
		if (!writes)
			break;
	}
}

/*
 * An echo that always deafens the line (VTB_QUIRK_DEAF_AFTER_THROTTLE):
 * the default matrix leaves it out; asked for by --msg-size, it runs and
 * fails naming the quirk.
 */
static char *throttle_why(const struct cell_key *k)
{
	const struct vtb_device_ops *row = vtb_backend_row(k->be, k->t->device);

	return g_strdup_printf("the line goes deaf once the guest tty "
			       "throttles it (%s), which a message of >= %u B "
			       "triggers; --msg-size 4K runs it anyway",
			       row->quirk_why, VTB_LINE_THROTTLE_AT);
}

static bool line_throttles(const struct cell_key *k)
{
	return (vtb_transport_quirks(k->be, k->t) &
		VTB_QUIRK_DEAF_AFTER_THROTTLE) &&
	       k->msg >= VTB_LINE_THROTTLE_AT;
}

/* A roundtrip cell per message size. */
static void add_roundtrips(struct vtb_matrix *r, struct cell_key *k)
{
	const struct vtb_msg_axis *axis = vtb_workload_opts(&r->opts, k->w);

	for (char **m = axis->sizes; *m; m++) {
		guint64 n = 0;

		vtb_parse_size(*m, &n);
		k->msg = (guint32)n;
		if (!axis->given && line_throttles(k)) {
			g_autofree char *why = throttle_why(k);

			skip_cell(r, k, why);
		} else
			add_cell(r, k);
	}
}

void vtb_matrix_build(struct vtb_matrix *r)
{
	struct vtb_opts *o = &r->opts;

	for (char **b = o->backends; *b; b++) {
		const struct vtb_backend_ops *be = backend_of(*b);
		/* --driver picks among a backend's drivers (none given: its
		 * first); one with a single driver always runs that. */
		char *only[] = {(char *)be->drivers[0]->name, NULL};

		if (!vtb_env_ready(&r->env, be))
			continue;
		for (char **w = o->workloads; *w; w++) {
			const struct vtb_workload_ops *wl =
				vtb_workload_find(*w);
			char **drivers = be->drivers[1] && o->drivers
						 ? o->drivers
						 : only;

			for (char **d = drivers; *d; d++) {
				for (int ti = 0;
				     wl->needs ? vtb_transports[ti] != NULL
					       : ti < 1;
				     ti++) {
					const struct vtb_transport_ops *t =
						wl->needs ? vtb_transports[ti]
							  : NULL;
					struct cell_key k = {.be = be,
							     .w = wl,
							     .driver = *d,
							     .t = t};
					g_autofree char *why = NULL;
					struct vtb_device td = {0};

					if (t && !(t->kind & wl->needs))
						continue;
					if (t && !o->transports &&
					    (wl->flags &
					     VTB_WL_STREAMS_BY_DEFAULT) &&
					    t->kind != VTB_KIND_STREAM)
						continue;
					if (t && o->transports &&
					    !g_strv_contains(
						    (const char *const *)
							    o->transports,
						    t->name))
						continue;
					if (t)
						vtb_transport_device(t, &td);
					if (t && (why = vtb_backend_cannot(
							  be, &td))) {
						skip_cell(r, &k, why);
						continue;
					}
					if (wl->work == VTB_WORK_NONE) {
						add_cell(r, &k);
						continue;
					}
					for (char **p = o->payloads; *p; p++) {
						k.payload = *p;
						if (!(wl->flags &
						      VTB_WL_PER_MSG_SIZE)) {
							expand_disks(r, &k);
							continue;
						}
						/* Echo uses its own bytes. */
						k.payload = NULL;
						if (p != o->payloads)
							break;
						add_roundtrips(r, &k);
					}
				}
			}
		}
	}
}

/*
 * Write the results files.  The first failure is said once and stops the
 * run: runs whose figures cannot be kept are a waste of the machine, and
 * a run that lost them must not exit 0.
 */
static void save(struct vtb_matrix *r)
{
	g_autoptr(GError) e = NULL;

	if (r->save_failed)
		return;
	if (r->opts.json && !vtb_results_write_json(r, r->opts.json, &e)) {
		g_printerr("vtbench: %s\n", e->message);
		r->save_failed = true;
		return;
	}
	if (r->opts.csv && !vtb_results_write_csv(r, r->opts.csv, &e)) {
		g_printerr("vtbench: %s\n", e->message);
		r->save_failed = true;
	}
}

static void run_cell(struct vtb_matrix *r, struct vtb_cell *c, guint idx)
{
	int total = r->opts.warmup + r->opts.runs, failures = 0;
	int calibrations = 0;
	g_autofree char *label = vtb_cell_label(c);
	g_autofree char *summary = NULL;
	struct vtb_summary sum;

	for (int k = 0; k < total && !vtb_interrupted() && !r->save_failed;
	     k++) {
		struct vtb_sample *s = g_new0(struct vtb_sample, 1);
		g_autoptr(GError) e = NULL;
		bool warm = k < r->opts.warmup;

		/* The same failure twice from the start is no noise: give up
		 * on the cell rather than wait for it again and again. */
		if (failures == 2 && c->samples->len == 2) {
			g_free(s);
			c->error = g_strdup_printf(
				"gave up after the first 2 runs failed: %s",
				((struct vtb_sample *)c->samples->pdata[1])
					->error);
			break;
		}
		vtb_progress_run(idx, label,
				 warm ? k + 1 : k - r->opts.warmup + 1,
				 warm ? r->opts.warmup : r->opts.runs, warm);
		s->warmup = warm;
		s->ok = vtb_workload_sample(c, s, &e);
		if (!s->ok) {
			s->error = g_strdup(e ? e->message : "failed");
			failures++;
		}
		g_ptr_array_add(c->samples, s);
		if (vtb_interrupted())
			break;
		vtb_progress_run_done(s->ok, s->seconds, s->error);
		/* The file is current after every run, even if we are
		 * killed outright. */
		save(r);
		/*
		 * The warm-up measured the line: size the runs from its
		 * rate (bytes one way: a roundtrip's twice); if it failed,
		 * they keep its guess.  A warm-up far shorter than
		 * --duration says more about start-up costs than about the
		 * rate (a guess 300x too small): it runs again, at the new
		 * size, up to VTB_MAX_CALIBRATIONS more times.
		 */
		if (warm && k == r->opts.warmup - 1 && rate_sized(c) && s->ok) {
			guint64 was = c->size;

			c->size = vtb_size_for_rate(
				c->size / MAX(s->seconds, 1e-6),
				r->opts.duration,
				/* A fast line moves what the others do. */
				MIN((c->workload->flags & VTB_WL_WRITES)
					    ? target_room(&r->opts, c)
					    : G_MAXUINT64,
				    r->opts.size));
			if (s->seconds < r->opts.duration / 4 &&
			    c->size > was &&
			    calibrations < VTB_MAX_CALIBRATIONS) {
				calibrations++;
				k--;
			}
		}
	}
	if (c->live) {
		g_autoptr(GError) pe = NULL;

		/* A guest that cannot power off after its last run spoils
		 * that run: the state it was measured in is suspect. */
		if (!vtb_cell_release_guest(c, &pe) && !vtb_interrupted() &&
		    c->samples->len) {
			struct vtb_sample *last =
				c->samples->pdata[c->samples->len - 1];

			last->ok = false;
			g_free(last->error);
			last->error = g_strdup_printf(
				"power-off after the cell's last run: %s",
				pe->message);
		}
	}
	vtb_cell_summary(c, &sum);
	if (c->error)
		summary = g_strdup(c->error);
	else if (sum.n)
		summary = g_strdup_printf("median %.3f s, %d/%d ok", sum.median,
					  sum.n, sum.n + sum.failed);
	else
		summary = g_strdup("no run succeeded");
	vtb_progress_cell_done(idx, label, summary);
}

/* The profile's tables, from the results as a file would hold them. */
static void print_profile(const struct vtb_matrix *r, FILE *f)
{
	const struct vtb_profile *p = vtb_profile_find(r->opts.profile);
	g_autofree char *json = vtb_results_json(r);
	g_autoptr(GError) e = NULL;
	struct vtb_rdoc *d = vtb_rdoc_parse("results", json, -1, &e);

	if (!d) {
		g_printerr("vtbench: profile %s: %s\n", p->name, e->message);
		return;
	}
	for (const struct vtb_article *const *a = p->articles; *a; a++)
		vtb_print_article(p->name, *a, d, f);
	vtb_rdoc_free(d);
}

/*
 * The random payloads the matrix will write into the cache (each size
 * once; zero payloads are sparse) must fit its filesystem: a --size it
 * cannot hold is bad input, not a disk filled to ENOSPC.
 */
static int payload_room(struct vtb_matrix *r)
{
	g_autoptr(GHashTable) seen =
		g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autofree gint64 *sizes = g_new(gint64, r->cells->len + 1);
	guint64 need = 0, largest = 0;
	struct statvfs fs;

	for (guint i = 0; i < r->cells->len; i++) {
		const struct vtb_cell *c = r->cells->pdata[i];
		guint64 n;

		if (c->size_auto || !c->size || !c->payload ||
		    (c->workload->flags &
		     (VTB_WL_PER_MSG_SIZE | VTB_WL_OWN_DATA)))
			continue;
		sizes[i] = (gint64)c->size;
		if (g_hash_table_contains(seen, &sizes[i]))
			continue;
		n = vtb_payload_bytes_to_make(r->env.cache_dir, c->payload,
					      c->size, VTB_PAYLOAD_SEED);
		if (!n)
			continue;
		g_hash_table_add(seen, &sizes[i]);
		need += n;
		largest = MAX(largest, n);
	}
	if (!need || statvfs(r->env.cache_dir, &fs) < 0 ||
	    need + (64u << 20) <= (guint64)fs.f_bavail * fs.f_frsize)
		return 0;
	{
		/* Plain ASCII: g_format_size() puts a no-break space. */
		g_autofree char *want =
			g_strdup_printf("%.1f GiB", need / 1073741824.0);
		g_autofree char *have = g_strdup_printf(
			"%.1f GiB",
			(double)fs.f_bavail * fs.f_frsize / 1073741824.0);
		g_autofree char *msg = g_strdup_printf(
			"--size %" G_GUINT64_FORMAT
			": the random payload%s to make (%s) would not fit "
			"the filesystem of the cache directory %s (%s free)",
			largest, need > largest ? "s" : "", want,
			r->env.cache_dir, have);

		return bad_input(msg);
	}
}

int vtb_cmd_run(int argc, char **argv)
{
	struct vtb_matrix r = {0};
	g_autoptr(GError) e = NULL;
	bool help, failed = false;
	int rc;

	r.argv = argv;
	if (!vtb_cli_parse_run(argc - 1, argv + 1, &r.opts, &help, &e)) {
		rc = bad_input(e->message);
		goto out;
	}
	if (help) {
		vtb_cli_print_run_help(stdout);
		rc = 0;
		goto out;
	}
	rc = env_init(&r);
	if (rc)
		goto out;
	rc = prepare_backends(&r, true);
	if (rc)
		goto out;
	vtb_matrix_build(&r);
	for (guint i = 0; i < r.cells->len; i++) {
		struct vtb_cell *c = r.cells->pdata[i];

		/* Leave room for the filesystem's own metadata. */
		if ((c->workload->flags & VTB_WL_WRITES) &&
		    c->size > target_room(&r.opts, c)) {
			g_autofree char *msg = g_strdup_printf(
				"--size %" G_GUINT64_FORMAT
				" does not fit the %s target "
				"(%" G_GUINT64_FORMAT " bytes: %s)",
				c->size, c->target, target_room(&r.opts, c),
				target_room(&r.opts, c) ==
						r.opts.disk_size / 10 * 9
					? "--disk-size less the filesystem's "
					  "~10 %"
					: "half of --mem, less 10 %");

			rc = bad_input(msg);
			goto out;
		}
	}
	rc = payload_room(&r);
	if (rc)
		goto out;
	if (!r.cells->len && r.skipped->len) {
		g_autofree char *msg = g_strdup_printf(
			"nothing to run: every cell asked for is refused: "
			"%s%s",
			(char *)r.skipped->pdata[0],
			r.skipped->len > 1 ? " (and more: see `vtbench list`)"
					   : "");

		rc = bad_input(msg);
		goto out;
	}
	if (!r.cells->len) {
		rc = bad_input("nothing to run: no backend is usable here "
			       "(see `vtbench list`)");
		goto out;
	}
	/* Every appliance first: a bad module is bad input, before any run. */
	for (guint i = 0; i < r.cells->len; i++) {
		struct vtb_cell *c = r.cells->pdata[i];

		if (!cell_appliance(c, &e)) {
			rc = bad_input(e->message);
			goto out;
		}
	}
	if (r.opts.resume) {
		int n = vtb_resume(&r, r.opts.resume, &e);

		if (n < 0) {
			rc = bad_input(e->message);
			goto out;
		}
		if (!r.opts.json)
			r.opts.json = g_strdup(r.opts.resume);
		if (!r.opts.quiet)
			g_printerr("vtbench: resumed %d of %u cells from %s\n",
				   n, r.cells->len, r.opts.resume);
	}
	/* Only now: bad input must stay one line. */
	for (int i = 0; !r.opts.quiet && vtb_backends[i]; i++) {
		const struct vtb_backend_ops *be = vtb_backends[i];
		g_autofree char *note = vtb_env_ready(&r.env, be) && be->notice
						? be->notice(&r.env)
						: NULL;

		if (note)
			g_printerr("vtbench: %s\n", note);
	}
	for (guint i = 0; !r.opts.quiet && i < r.skipped->len; i++)
		g_printerr("vtbench: skipping %s\n",
			   (char *)r.skipped->pdata[i]);
	save(&r);
	{
		unsigned runs = 0;

		for (guint i = 0; i < r.cells->len; i++)
			if (!((struct vtb_cell *)r.cells->pdata[i])->resumed)
				runs += r.opts.warmup + r.opts.runs;
		vtb_progress_begin(r.cells->len, runs, r.opts.quiet);
	}
	for (guint i = 0;
	     i < r.cells->len && !vtb_interrupted() && !r.save_failed; i++) {
		if (!((struct vtb_cell *)r.cells->pdata[i])->resumed)
			run_cell(&r, r.cells->pdata[i], i);
		save(&r);
	}
	vtb_progress_end();
	r.interrupted = vtb_interrupted();
	r.finished = now_iso();
	save(&r);
	vtb_results_print_table(&r, stdout);
	vtb_print_split(&r, stdout);
	vtb_print_flush_audit(&r, stdout);
	vtb_print_per_op(&r, stdout);
	if (r.opts.profile)
		print_profile(&r, stdout);
	for (guint i = 0; i < r.cells->len; i++) {
		struct vtb_summary s;

		vtb_cell_summary(r.cells->pdata[i], &s);
		if (s.failed || !s.n)
			failed = true;
	}
	if (r.interrupted) {
		g_printerr("vtbench: interrupted by signal %d; results so far "
			   "are saved\n",
			   vtb_interrupt_signal());
		rc = 128 + vtb_interrupt_signal();
	} else {
		rc = failed || r.save_failed ? 3 : 0;
	}
out:
	vtb_cleanup_all();
	vtb_matrix_clear(&r);
	return rc;
}

static int parse_common(struct vtb_matrix *r, int argc, char **argv,
			const char *usage)
{
	g_autoptr(GError) e = NULL;
	bool help;

	if (!vtb_cli_parse_run(argc - 1, argv + 1, &r->opts, &help, &e))
		return bad_input(e->message);
	if (help) {
		printf("Usage: vtbench %s [--uml-kernel PATH] [--kvm-kernel "
		       "PATH] [--qemu PATH] ...\n(the kernel and QEMU options "
		       "of `vtbench run`)\n",
		       usage);
		return -1;
	}
	return env_init(r);
}

int vtb_cmd_list(int argc, char **argv)
{
	struct vtb_matrix r = {0};
	int rc = parse_common(&r, argc, argv, "list");

	if (rc)
		goto out;
	r.opts.quiet = true;
	rc = prepare_backends(&r, true);
	if (rc)
		goto out;
	printf("Backends:\n");
	for (int i = 0; vtb_backends[i]; i++) {
		const struct vtb_backend_ops *be = vtb_backends[i];
		const char *why = vtb_env_reason(&r.env, be);
		g_autofree char *sum = NULL;

		if (!vtb_env_ready(&r.env, be)) {
			printf("  %-16s no: %s\n", be->name,
			       why ? why : "not requested");
			continue;
		}
		sum = be->summary ? be->summary(&r.env) : g_strdup(be->help);
		printf("  %-16s yes: %s\n", be->name, sum);
	}
	printf("Transports:\n");
	for (int i = 0; vtb_transports[i]; i++) {
		const struct vtb_transport_ops *t = vtb_transports[i];

		for (int b = 0; vtb_backends[b]; b++) {
			const struct vtb_backend_ops *be = vtb_backends[b];
			struct vtb_device td = {0};
			g_autofree char *why = NULL;
			bool ready = vtb_env_ready(&r.env, be);

			vtb_transport_device_for(t, &r.opts, &td);
			why = vtb_backend_cannot(be, &td);
			printf("  %-16s %-4s %s%s\n", b ? "" : t->name,
			       be->name,
			       why     ? "no: "
			       : ready ? "yes: "
				       : "no: ",
			       why     ? why
			       : ready ? t->help
				       : "backend not usable here");
		}
	}
	for (int i = 0; vtb_transports_reserved[i].name; i++)
		printf("  %-16s no: %s\n", vtb_transports_reserved[i].name,
		       vtb_transports_reserved[i].missing);
	printf("Devices (each backend's rows):\n");
	for (int b = 0; vtb_backends[b]; b++)
		for (int k = 0; k < VTB_DEV__N; k++) {
			const struct vtb_device_ops *row =
				vtb_backend_row(vtb_backends[b], k);

			printf("  %-16s %-4s %s\n", vtb_dev_kind_name(k),
			       vtb_backends[b]->name,
			       row ? row->help : "no such device");
		}
	printf("  %-16s      ext2, ext3, ext4, made on the host by mke2fs\n",
	       "filesystems");
	printf("Workloads:\n");
	for (int i = 0; vtb_workloads[i]; i++)
		printf("  %-16s yes: %s\n", vtb_workloads[i]->name,
		       vtb_workloads[i]->help);
	for (int i = 0; vtb_workloads_reserved[i].name; i++)
		printf("  %-16s no: %s\n", vtb_workloads_reserved[i].name,
		       vtb_workloads_reserved[i].missing);
	printf("Profiles (--profile NAME: these options first; the command "
	       "line's replace them):\n");
	for (const struct vtb_profile *p = vtb_profiles; p->name; p++) {
		g_autofree char *words = g_strjoinv(" ", (char **)p->words);

		printf("  %-16s %s\n  %-16s vtbench run %s\n", p->name, p->help,
		       "", words);
	}
out:
	vtb_cleanup_all();
	vtb_matrix_clear(&r);
	return rc < 0 ? 0 : rc;
}

int vtb_cmd_probe(int argc, char **argv)
{
	struct vtb_matrix r = {0};
	int rc = parse_common(&r, argc, argv, "probe");
	g_autofree char *nest = NULL;

	if (rc)
		goto out;
	r.opts.quiet = true;
	rc = prepare_backends(&r, true);
	if (rc)
		goto out;
	nest = vtb_hostinfo_nesting(&r.host);
	printf("host:        %s\n", r.host.kernel);
	printf("cpu:         %s, %d cores, %.1f GiB\n",
	       r.host.cpu_model ? r.host.cpu_model : "?", r.host.cores,
	       r.host.mem_bytes / (double)(1ULL << 30));
	printf("nesting:     %s\n", nest);
	printf("/dev/kvm:    %s\n", r.host.dev_kvm ? "present" : "absent");
	for (int i = 0; vtb_backends[i]; i++) {
		const struct vtb_backend_ops *be = vtb_backends[i];
		g_autoptr(GString) lines = g_string_new(NULL);

		if (vtb_env_ready(&r.env, be) && be->probe) {
			be->probe(&r.env, lines);
			fputs(lines->str, stdout);
		} else if (!vtb_env_ready(&r.env, be)) {
			g_autofree char *tag = g_strdup_printf("%s:", be->name);

			printf("%-12s not usable: %s\n", tag,
			       vtb_env_reason(&r.env, be));
		}
	}
out:
	vtb_cleanup_all();
	vtb_matrix_clear(&r);
	return rc < 0 ? 0 : rc;
}
