/* What the transfer workloads share: set-up, streaming, verification. */
#include "engine/engine.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <xxhash.h>

#include "core/channel.h"
#include "core/cpuacct.h"
#include "core/disk.h"
#include "core/progress.h"
#include "core/proc.h"
#include "core/registry.h"
#include "core/stats.h"
#include "core/vm.h"
#include "flush/flush.h"

#define CHUNK (1u << 20)
#define PAYLOAD_SEED VTB_PAYLOAD_SEED

static guint8 zeros[CHUNK];

/* VTBENCH_STALL_S shortens the stall deadline for the tests. */
static double stall_s(void)
{
	const char *e = g_getenv("VTBENCH_STALL_S");
	double v = e ? g_ascii_strtod(e, NULL) : 0;

	return v > 0 ? v : VTB_STALL_S;
}

double vtb_cell_boot_timeout(const struct vtb_cell *cell)
{
	const struct vtb_opts *o = cell->env->opts;

	if (o->timeout > 0)
		return o->timeout;
	return cell->backend->boot_timeout(cell);
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static bool verify_on(const struct vtb_cell *cell)
{
	return !g_str_equal(cell->env->opts->verify, "off");
}

/* The data device of the transport under test, described for the vm. */
static struct vtb_device *add_data_device(struct vtb_vm *vm,
					  const char *payload_path)
{
	struct vtb_cell *c = vm->cell;
	struct vtb_device *d = vtb_vm_add_device(vm);

	vtb_transport_device(c->tops, d);
	if (c->tops->describe)
		c->tops->describe(c, d);
	if (d->kind == VTB_DEV_DISK) {
		const struct vtb_transport_ops *t =
			c->target ? vtb_transport_find(c->target) : NULL;

		d->image = g_strdup(payload_path);
		/* A filesystem target's cache mode (9p's mmap, virtiofs's
		 * auto) is its own: the payload disk then has QEMU's. */
		if (!t || t->kind != VTB_KIND_FS) {
			d->cache = g_str_equal(c->cache, "-") ? NULL : c->cache;
			d->aio = g_str_equal(c->aio, "-") ? NULL : c->aio;
		}
	}
	return d;
}

/*
 * A fresh filesystem on a fresh image for every run: the guest's @i-th
 * target, mounted by the run that uses it (mount_target).
 */
static struct vtb_device *add_target(struct vtb_vm *vm, guint i, GError **err)
{
	struct vtb_cell *c = vm->cell;
	struct vtb_device *d = vtb_vm_add_device(vm);
	const char *format = NULL;
	g_autofree char *base = g_strdup_printf("target%u.img", i);

	d->kind = VTB_DEV_DISK;
	d->name = g_strdup_printf("vtbtarget%u", i);
	d->bus = c->target;
	d->image = g_build_filename(vm->dir, base, NULL);
	if (!vtb_disk_make(d->image, c->image, c->fs, c->env->opts->disk_size,
			   &format, err))
		return NULL;
	d->format = format;
	d->cache = c->cache;
	d->aio = g_str_equal(c->aio, "-") ? NULL : c->aio;
	return d;
}

/* The cell's target when it is a filesystem (VTB_KIND_FS), else NULL. */
static const struct vtb_transport_ops *fs_target(const struct vtb_cell *c)
{
	const struct vtb_transport_ops *t = vtb_transport_find(c->target);

	return t && t->kind == VTB_KIND_FS ? t : NULL;
}

/*
 * The program a filesystem is mounted with in the guest (sshfs) and its
 * libraries, on a read-only tools disk of their own (the backend's disk):
 * the workload's tools disk (tar, fio) is another.
 */
static gboolean add_fs_tools(struct vtb_vm *vm,
			     const struct vtb_transport_ops *t,
			     struct vtb_device *fs, GError **err)
{
	g_auto(GStrv) bins = t->guest_tools(err);
	struct vtb_tools tools;
	struct vtb_device *d;

	if (!bins) {
		g_prefix_error(err, "%s: ", t->name);
		return FALSE;
	}
	if (!vtb_tools_get(vm->cell->env->cache_dir, (const char *const *)bins,
			   NULL, &tools, err)) {
		g_prefix_error(err, "%s: the guest tools image: ", t->name);
		return FALSE;
	}
	d = vtb_vm_add_device(vm);
	d->kind = VTB_DEV_DISK;
	d->name = g_strdup_printf("vtb%stools", t->name);
	d->bus = vm->cell->backend->default_disk;
	d->image = g_strdup(tools.image);
	d->format = "raw";
	d->readonly = true;
	vtb_tools_clear(&tools);
	fs->tools = d;
	return TRUE;
}

/*
 * A filesystem target: one for all the runs of a guest, its host
 * directory (none for a filesystem in the guest's memory) emptied
 * between runs while the guest has it unmounted (mount_target).
 */
static struct vtb_device *add_fs_target(struct vtb_vm *vm,
					const struct vtb_transport_ops *t,
					GError **err)
{
	struct vtb_cell *c = vm->cell;
	struct vtb_device *d = vtb_vm_add_device(vm);

	vtb_transport_device_for(t, c->env->opts, d);
	t->describe(c, d);
	d->cache = g_str_equal(c->cache, "-") ? NULL : c->cache;
	if (c->env->opts->mount_opts && *c->env->opts->mount_opts) {
		char *o = g_strdup_printf("%s%s%s", d->mount_opts,
					  *d->mount_opts ? "," : "",
					  c->env->opts->mount_opts);

		g_free(d->mount_opts);
		d->mount_opts = o;
	}
	if (t->guest_tools && !add_fs_tools(vm, t, d, err))
		return NULL;
	if (t->in_guest_memory)
		return d;
	d->image = g_build_filename(vm->dir, "share", NULL);
	if (g_mkdir(d->image, 0700) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "mkdir %s: %s",
			    d->image, g_strerror(errno));
		return NULL;
	}
	return d;
}

/*
 * Whether the runs of this cell share one boot: upload-no-write and
 * roundtrip leave nothing behind in the guest (the agent drops a block
 * device's page cache before reading it again); a writing workload gets a
 * fresh image for every run, one of several the guest was booted with,
 * mounted just before the run and unmounted after it.  Only the first run
 * pays for the boot and later runs find the guest's code warm, as a
 * user's long-lived guest would.  --boot per-run boots for every run.
 */
static bool keeps_guest(const struct vtb_cell *cell)
{
	const char *mode = vtb_cell_boot_mode(cell);

	return mode && g_str_equal(mode, "per-cell");
}

/* Fresh targets one boot carries at most (UML has 16 ubd devices). */
#define TARGETS_PER_BOOT 8u

/* What a guest keeps between the runs it serves (vm->runs). */
struct guest_runs {
	struct vtb_device *data; /* the transport's device, or NULL */
	GPtrArray *targets;	 /* struct vtb_device *, owned by the vm */
	guint next;		 /* the target of the next run */
	bool fs;      /* targets[0], a filesystem, serves every run */
	bool fs_used; /* a run wrote to it */
	/* The filesystem's server for the current mount (a transport's
	 * serve()), a helper of the vm; NULL when none. */
	struct vtb_child *server;
	struct vtb_flush *audit;
	void *priv; /* the workload's (prepare) */
	GDestroyNotify priv_free;
};

static void guest_runs_free(gpointer p)
{
	struct guest_runs *g = p;

	vtb_flush_free(g->audit);
	if (g->priv && g->priv_free)
		g->priv_free(g->priv);
	g_ptr_array_unref(g->targets);
	g_free(g);
}

static gboolean poweroff_free(struct vtb_vm *vm, GError **err)
{
	gboolean ok = vtb_vm_poweroff(vm, 30, err);

	vtb_vm_free(vm);
	return ok;
}

static guint runs_left(const struct vtb_cell *cell)
{
	const struct vtb_opts *o = cell->env->opts;
	guint total = (guint)(o->warmup + o->runs);

	return total > cell->samples->len ? total - cell->samples->len : 1;
}

static struct vtb_flush *audit_attach(struct vtb_vm *vm,
				      const GPtrArray *targets);

/*
 * The guest for one run, in x->vm with x->data, x->target and x->priv: the
 * one kept from the cell's last run, or a new one booted with the data
 * device of the transport under test and, for a writing workload, the
 * targets of the runs it will serve.  On failure x->vm may be set (the
 * caller frees it).
 */
static gboolean guest_for_run(struct vtb_xfer *x, const char *payload_path,
			      GError **err)
{
	struct vtb_cell *cell = x->cell;
	const struct vtb_workload_ops *w = cell->workload;
	struct vtb_vm *vm = g_steal_pointer(&cell->live);
	struct guest_runs *g;

	/* A payload disk of another size (the runs after the warm-up that
	 * sized them) needs a guest of its own. */
	if (vm && payload_path && (g = vm->runs)->data &&
	    g->data->kind == VTB_DEV_DISK &&
	    g_strcmp0(g->data->image, payload_path) != 0) {
		g_autoptr(GError) e = NULL;

		if (!poweroff_free(g_steal_pointer(&vm), &e))
			vtb_progress_note("vtbench: %s", e->message);
	}
	if (vm) {
		cell->reused++;
		x->vm = vm;
		g = vm->runs;
		goto have;
	}
	vm = x->vm = vtb_vm_new(cell, err);
	if (!vm)
		return FALSE;
	g = g_new0(struct guest_runs, 1);
	g->targets = g_ptr_array_new();
	vm->runs = g;
	vm->runs_free = guest_runs_free;
	if (cell->tops)
		g->data = add_data_device(vm, payload_path);
	if ((w->flags & VTB_WL_WRITES) && fs_target(cell)) {
		struct vtb_device *d = add_fs_target(vm, fs_target(cell), err);

		if (!d)
			return FALSE;
		g_ptr_array_add(g->targets, d);
		g->fs = true;
	} else if (w->flags & VTB_WL_WRITES) {
		guint n = keeps_guest(cell)
				  ? MIN(runs_left(cell), TARGETS_PER_BOOT)
				  : 1;

		for (guint i = 0; i < n; i++) {
			struct vtb_device *d = add_target(vm, i, err);

			if (!d)
				return FALSE;
			g_ptr_array_add(g->targets, d);
		}
		g->audit = audit_attach(vm, g->targets);
	}
	if (w->prepare) {
		gboolean ok;

		x->target_is_fs = g->fs;
		x->data = g->data;
		ok = w->prepare(x, err);
		g->data = x->data;
		g->priv = g_steal_pointer(&x->priv);
		g->priv_free = x->priv_free;
		if (!ok)
			return FALSE;
	}
	if (!vtb_vm_start(vm, vtb_cell_boot_timeout(cell), err))
		return FALSE;
	cell->boots++;
have:
	x->data = g->data;
	x->priv = g->priv;
	x->target_is_fs = g->fs;
	if (g->fs)
		x->target = g->targets->pdata[0];
	else if (g->next < g->targets->len)
		x->target = g->targets->pdata[g->next++];
	return TRUE;
}

/*
 * The run's target mounted on /mnt in a RUN of its own (the last run's
 * unmounted, which writes it back), before the host reads its counters:
 * neither lands in the timed run.  The image of the last target is then
 * given back to the host.
 */
/* The fields of a RUN that only (un)mounts: @what is a RUN's mount. */
static gboolean mount_fields(struct vtb_run *r, const char *what,
			     const char *fs, const char *opts, guint32 flags,
			     GError **err)
{
	r->work = VTB_WORK_NONE;
	r->flags = flags;
	if (g_strlcpy(r->mount, what, sizeof(r->mount)) >= sizeof(r->mount) ||
	    g_strlcpy(r->mount_fs, fs ? fs : "", sizeof(r->mount_fs)) >=
		    sizeof(r->mount_fs) ||
	    g_strlcpy(r->mount_opts, opts ? opts : "", sizeof(r->mount_opts)) >=
		    sizeof(r->mount_opts)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "the target's mount does not fit a RUN message");
		return FALSE;
	}
	return TRUE;
}

/*
 * Send the mount RUN @m and check its RESULT.  @line: where the guest
 * kernel's mount line goes (newly allocated; NULL when it sent none), or
 * NULL.
 */
static gboolean guest_mount_msg(struct vtb_vm *vm, struct vtb_msg *m,
				char **line, GError **err)
{
	if (!vtb_chan_send(vm, m, g_get_monotonic_time() + 10000000, err) ||
	    !vtb_chan_expect(vm, VTB_MSG_RESULT, m,
			     g_get_monotonic_time() + 60000000, err))
		return FALSE;
	if (m->u.result.err) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "guest: %s",
			    m->u.result.detail[0]
				    ? m->u.result.detail
				    : g_strerror(m->u.result.err));
		return FALSE;
	}
	if (line) {
		g_free(*line);
		*line = m->u.result.detail[0]
				? g_strndup(m->u.result.detail,
					    sizeof(m->u.result.detail))
				: NULL;
	}
	return TRUE;
}

/* One RUN that only (un)mounts (@line as guest_mount_msg's). */
static gboolean guest_mount(struct vtb_vm *vm, const char *what, const char *fs,
			    const char *opts, guint32 flags, char **line,
			    GError **err)
{
	struct vtb_msg m = {.type = VTB_MSG_RUN};

	return mount_fields(&m.u.run, what, fs, opts, flags, err) &&
	       guest_mount_msg(vm, &m, line, err);
}

char *vtb_mount_taken(const char *asked, const char *line)
{
	const char *opts = line ? strrchr(line, ' ') : NULL;
	g_auto(GStrv) want = g_strsplit(asked ? asked : "", ",", -1);
	g_auto(GStrv) have = g_strsplit(opts ? opts + 1 : "", ",", -1);
	GString *s = g_string_new(NULL);

	for (char **w = want; *w; w++) {
		const char *eq = strchr(*w, '=');
		size_t klen = eq ? (size_t)(eq - *w) + 1 : 0;

		/* A share ("size=50%") the kernel shows worked out. */
		if (!eq || g_str_has_suffix(eq, "%"))
			continue;
		for (char **h = have; *h; h++)
			if (!strncmp(*h, *w, klen) && strcmp(*h, *w)) {
				g_string_append_printf(s, "%s%s for %s",
						       s->len ? "; " : "", *h,
						       *w);
				break;
			}
	}
	return g_string_free(s, s->len == 0);
}

/*
 * A filesystem a program in the guest serves over a stream (sshfs): its
 * server started afresh on the host (the last one's session ended with
 * the last mount), then the guest's program on the stream.
 */
static gboolean mount_served(struct vtb_xfer *x,
			     const struct vtb_transport_ops *t, GError **err)
{
	struct guest_runs *g = x->vm->runs;
	struct vtb_device *d = x->target;
	struct vtb_msg m = {.type = VTB_MSG_RUN};
	struct vtb_run *r = &m.u.run;

	vtb_vm_helper_stop(x->vm, g_steal_pointer(&g->server));
	if (!mount_fields(r, d->guest, d->mount_fs, d->mount_opts,
			  d->kind == VTB_DEV_SERIAL ? VTB_RUN_F_RAW_TTY : 0,
			  err))
		return FALSE;
	if (d->tools)
		g_strlcpy(r->path2, d->tools->guest, sizeof(r->path2));
	g->server = t->serve(x->vm, d, r, err);
	if (!g->server) {
		g_prefix_error(err, "%s: ", t->name);
		return FALSE;
	}
	return guest_mount_msg(x->vm, &m, &x->s->mount, err);
}

static gboolean mount_target(struct vtb_xfer *x, GError **err)
{
	struct vtb_cell *cell = x->cell;
	struct guest_runs *g = x->vm->runs;
	struct vtb_device *d = x->target;
	g_autofree char *taken = NULL;

	if (!d->guest) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "the target %s has no name in the guest", d->name);
		return FALSE;
	}
	if (g->fs) {
		/* The last run's files go while nothing holds them. */
		if (g->fs_used && d->image &&
		    (!guest_mount(x->vm, VTB_MOUNT_NONE, NULL, NULL, 0, NULL,
				  err) ||
		     !vtb_dir_empty(d->image, err)))
			return FALSE;
		g->fs_used = true;
		if (fs_target(cell)->serve) {
			if (!mount_served(x, fs_target(cell), err))
				return FALSE;
		} else if (!guest_mount(x->vm, d->guest, d->mount_fs,
					d->mount_opts, 0, &x->s->mount, err)) {
			return FALSE;
		}
		taken = vtb_mount_taken(d->mount_opts, x->s->mount);
		if (taken)
			vtb_sample_add_note(x->s, "the guest kernel took %s",
					    taken);
		return TRUE;
	}
	if (!guest_mount(x->vm, d->guest, cell->fs, cell->env->opts->mount_opts,
			 d->guest_wc ? VTB_RUN_F_MOUNT_WC : 0, &x->s->mount,
			 err))
		return FALSE;
	if (g->next >= 2) {
		struct vtb_device *last = g->targets->pdata[g->next - 2];
		g_autoptr(GError) e = NULL;

		if (g_str_equal(last->format, "raw") &&
		    !vtb_disk_discard(last->image, &e))
			vtb_progress_note("vtbench: %s", e->message);
	}
	return TRUE;
}

/* After a good run: keep the guest for the next run, or power it off. */
static gboolean release_guest(struct vtb_cell *cell, struct vtb_vm *vm,
			      GError **err)
{
	struct guest_runs *g = vm->runs;

	if (!keeps_guest(cell) ||
	    (!g->fs && g->targets->len && g->next >= g->targets->len))
		return poweroff_free(vm, err);
	cell->live = vm;
	return TRUE;
}

gboolean vtb_cell_release_guest(struct vtb_cell *cell, GError **err)
{
	struct vtb_vm *vm = g_steal_pointer(&cell->live);

	return vm ? poweroff_free(vm, err) : TRUE;
}

/*
 * The guest's words for a line that went quiet (its read gave up after
 * RUN's idle_ms) when its tty had throttled the line before: the
 * evidence of VTB_QUIRK_DEAF_AFTER_THROTTLE.
 */
#define LINE_DEAF "the line went deaf after the guest's tty throttled it, "

/* A stall on a line that goes deaf (VTB_QUIRK_DEAF_AFTER_THROTTLE) says
 * why, when the guest saw it happen. */
static void explain_stall(const struct vtb_cell *cell, GError **err)
{
	const struct vtb_device_ops *row =
		cell->tops ? vtb_backend_row(cell->backend, cell->tops->device)
			   : NULL;

	if (err && *err && strstr((*err)->message, LINE_DEAF) && row &&
	    (row->quirks & VTB_QUIRK_DEAF_AFTER_THROTTLE)) {
		char *m = g_strdup_printf("%s (%s)", (*err)->message,
					  row->quirk_why);

		g_free((*err)->message);
		(*err)->message = m;
	}
}

/* Bytes the host sent on @d that the VMM has not taken yet, or -1. */
static gint64 queued_to_vmm(struct vtb_device *d)
{
	int q = 0;

	if (!d)
		return -1;
	if (d->sops)
		return (gint64)d->sops->queued(d->sobj);
	return d->fd >= 0 && ioctl(d->fd, SIOCOUTQ, &q) == 0 ? q : -1;
}

/*
 * A RESULT's failure as the reason of the run.  A line gone quiet
 * (ENOLINK) went deaf after a throttle when the guest's tty had
 * throttled it during the run and the VMM still holds bytes it no longer
 * reads.
 */
static void guest_failed(const struct vtb_result *r, gint64 queued,
			 GError **err)
{
	const char *d = r->detail[0] ? r->detail : g_strerror(r->err);

	if (r->err == ENOLINK && r->hash >= VTB_TTY_THROTTLE_AT && queued > 0)
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "stalled: " LINE_DEAF "%" G_GINT64_FORMAT
			    " bytes still queued to the VMM; %s",
			    queued, d);
	else if (r->err == ENOLINK)
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "stalled: %s", d);
	else
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "guest: %s", d);
}

/*
 * The host saw no progress for stall_s().  A guest that watches its line
 * (RUN's idle_ms) says in a moment how it saw the stall: its RESULT is
 * the better reason.  TRUE when it replaced @err.
 */
#define STALL_GRACE_MS 3000
static void guest_stopped(struct vtb_vm *vm, struct vtb_device *d, guint64 done,
			  guint64 size, GError **err);

static gboolean guest_says(struct vtb_vm *vm, struct vtb_device *d,
			   guint64 done, guint64 size, GError **err)
{
	struct pollfd pf = {.fd = vm->ctl_fd, .events = POLLIN};

	if (vtb_interrupted() ||
	    (!vm->rlen && poll(&pf, 1, STALL_GRACE_MS) <= 0))
		return FALSE;
	g_clear_error(err);
	guest_stopped(vm, d, done, size, err);
	return TRUE;
}

static void fail_stall(struct vtb_vm *vm, struct vtb_device *d, guint64 done,
		       guint64 size, GError **err)
{
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
		    "stalled: no progress for %.0f s after %" G_GUINT64_FORMAT
		    " of %" G_GUINT64_FORMAT " bytes",
		    stall_s(), done, size);
	guest_says(vm, d, done, size, err);
}

/*
 * The guest answered while we were still sending: it stopped reading.
 * Turn its RESULT (or ERROR) into the reason.
 */
static void guest_stopped(struct vtb_vm *vm, struct vtb_device *d, guint64 done,
			  guint64 size, GError **err)
{
	struct vtb_msg m;
	g_autoptr(GError) e = NULL;

	if (!vtb_chan_recv(vm, &m, g_get_monotonic_time() + 2000000, &e)) {
		g_propagate_prefixed_error(err, g_steal_pointer(&e),
					   "after %" G_GUINT64_FORMAT
					   " of %" G_GUINT64_FORMAT " bytes: ",
					   done, size);
		return;
	}
	if (m.type == VTB_MSG_RESULT && m.u.result.err == ENOLINK)
		guest_failed(&m.u.result, queued_to_vmm(d), err);
	else if (m.type == VTB_MSG_RESULT)
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "guest stopped reading after %" G_GUINT64_FORMAT
			    " of %" G_GUINT64_FORMAT " bytes: %s",
			    done, size,
			    m.u.result.detail[0] ? m.u.result.detail
						 : g_strerror(m.u.result.err));
	else if (m.type == VTB_MSG_ERROR)
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "guest agent failed after %" G_GUINT64_FORMAT
			    " of %" G_GUINT64_FORMAT " bytes: %s %s",
			    done, size, m.u.error.step, m.u.error.detail);
	else
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "guest sent %s mid-transfer",
			    vtb_msg_type_name(m.type));
}

/*
 * A stream back-end failed (errno EIO, @err set).  When that is because
 * the VMM died (a vhost-user back-end sees its front-end disconnect a
 * moment before the VMM is reaped), the VMM's end is the reason: give it
 * a second to be reaped and say how it went instead.
 */
static gboolean backend_failed(struct vtb_vm *vm, struct vtb_device *d,
			       guint64 done, guint64 size, GError **err)
{
	struct pollfd p = {.fd = vm->child.pidfd, .events = POLLIN};

	if (p.fd >= 0 && poll(&p, 1, 1000) > 0 && (p.revents & POLLIN)) {
		g_clear_error(err);
		guest_stopped(vm, d, done, size, err);
		return FALSE;
	}
	g_prefix_error(err,
		       "after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
		       " bytes: ",
		       done, size);
	return FALSE;
}

/*
 * One non-blocking write or read on stream @d, through its fd or its
 * back-end (vtb_stream_ops): as write(2)/read(2), errno EAGAIN when it
 * cannot move now; a back-end's failure is -1 with errno EIO and @err set.
 */
static ssize_t stream_io(struct vtb_device *d, bool out, void *buf, size_t n,
			 GError **err)
{
	gssize r;

	if (!d->sops)
		return out ? write(d->fd, buf, n) : read(d->fd, buf, n);
	r = out ? d->sops->write(d->sobj, buf, n, err)
		: d->sops->read(d->sobj, buf, n, err);
	if (r <= 0)
		errno = r == 0 ? EAGAIN : EIO;
	return r > 0 ? r : -1;
}

/* What to poll for @d to make progress (@events: POLLIN or POLLOUT). */
static struct pollfd stream_pollfd(const struct vtb_device *d, short events)
{
	if (d->sops)
		return (struct pollfd){.fd = d->sops->poll_fd(d->sobj),
				       .events = POLLIN};
	return (struct pollfd){.fd = d->fd, .events = events};
}

/*
 * Write @size bytes of @data (NULL: zeros) to the stream @d, watching the
 * control channel and the VMM.  The test hook VTBENCH_TEST_CORRUPT flips
 * one byte half-way, so the verification must catch it.
 */
static gboolean send_stream(struct vtb_vm *vm, struct vtb_device *d,
			    const guint8 *data, guint64 size, GError **err)
{
	guint64 off = 0, mid = size / 2;
	gint64 last = g_get_monotonic_time();
	bool corrupt = g_getenv("VTBENCH_TEST_CORRUPT") != NULL;

	while (off < size) {
		size_t n = MIN(CHUNK, size - off);
		const guint8 *p = data ? data + off : zeros;
		guint8 flipped;
		struct pollfd pf[3];
		ssize_t w;
		int r;

		if (corrupt && off <= mid && mid < off + n) {
			if (off == mid) {
				flipped = p[0] ^ 0xff;
				p = &flipped;
				n = 1;
			} else {
				n = mid - off;
			}
		}
		w = stream_io(d, true, (void *)p, n, err);
		if (w > 0) {
			off += w;
			last = g_get_monotonic_time();
			vtb_progress_bytes(off, size);
			continue;
		}
		if (w < 0 && d->sops && errno == EIO)
			return backend_failed(vm, d, off, size, err);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			if (errno == EPIPE || errno == ECONNRESET) {
				guest_stopped(vm, d, off, size, err);
				return FALSE;
			}
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "write to %s: %s", d->name,
				    g_strerror(errno));
			return FALSE;
		}
		if (vtb_interrupted()) {
			g_set_error(err, VTB_ERROR, VTB_ERR_INTERRUPTED,
				    "interrupted by signal %d",
				    vtb_interrupt_signal());
			return FALSE;
		}
		pf[0] = stream_pollfd(d, POLLOUT);
		pf[1] = (struct pollfd){.fd = vm->ctl_fd, .events = POLLIN};
		pf[2] = (struct pollfd){.fd = vm->child.pidfd,
					.events = POLLIN};
		r = poll(pf, pf[2].fd >= 0 ? 3 : 2, 500);
		if (r > 0 && (pf[1].revents || pf[2].revents) &&
		    !pf[0].revents) {
			guest_stopped(vm, d, off, size, err);
			return FALSE;
		}
		if (g_get_monotonic_time() - last > stall_s() * 1e6) {
			fail_stall(vm, d, off, size, err);
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * All is sent, but may still sit in the socket: until the guest has read
 * it, watch the queue, so a guest that stopped reading is a stall, not a
 * wait for the long result deadline.
 */
static gboolean wait_drained(struct vtb_vm *vm, struct vtb_device *d,
			     guint64 size, GError **err)
{
	gint64 since = g_get_monotonic_time();
	int last = -1;

	for (;;) {
		struct pollfd pf[2] = {
			{.fd = vm->ctl_fd, .events = POLLIN},
			{.fd = vm->child.pidfd, .events = POLLIN}};
		int q = 0;

		if (vm->rlen || vtb_interrupted() ||
		    poll(pf, pf[1].fd >= 0 ? 2 : 1, 250) != 0)
			return TRUE;
		if (d->sops)
			q = (int)MIN(d->sops->queued(d->sobj), G_MAXINT);
		else if (ioctl(d->fd, SIOCOUTQ, &q) < 0)
			return TRUE;
		if (q == 0)
			return TRUE;
		if (q != last) {
			last = q;
			since = g_get_monotonic_time();
		} else if (g_get_monotonic_time() - since > stall_s() * 1e6) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "stalled: the guest stopped reading with "
				    "%d of %" G_GUINT64_FORMAT
				    " bytes still queued for %.0f s",
				    q, size, stall_s());
			guest_says(vm, d, size - (guint64)q, size, err);
			return FALSE;
		}
	}
}

/* Check the guest's RESULT against what was sent. */
static gboolean check_result(struct vtb_cell *cell, const struct vtb_result *r,
			     struct vtb_device *d, guint64 size, guint64 hash,
			     GError **err)
{
	if (r->err) {
		guest_failed(r, queued_to_vmm(d), err);
		if (r->bytes < size && r->err != ENOLINK)
			g_prefix_error(err,
				       "lost %" G_GUINT64_FORMAT
				       " of %" G_GUINT64_FORMAT " bytes: ",
				       size - r->bytes, size);
		return FALSE;
	}
	if (r->bytes != size) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "lost %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
			    " bytes",
			    size > r->bytes ? size - r->bytes : 0, size);
		return FALSE;
	}
	if (verify_on(cell) && r->hash != hash) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "data corrupted: XXH3 of the %" G_GUINT64_FORMAT
			    " bytes is %016" G_GINT64_MODIFIER
			    "x in the guest, %016" G_GINT64_MODIFIER "x sent",
			    size, r->hash, hash);
		return FALSE;
	}
	return TRUE;
}

static guint32 run_flags(const struct vtb_cell *cell)
{
	guint32 f = 0;

	if (cell->tops)
		f |= cell->tops->run_flags;
	if (!verify_on(cell))
		f |= VTB_RUN_F_NOVERIFY;
	if (g_str_equal(cell->payload, "random"))
		f |= VTB_RUN_F_RANDOM;
	if (g_getenv("VTBENCH_TEST_STALL"))
		f |= VTB_RUN_F_TEST_STALL;
	/* What was written is read back after the timed part and verified:
	 * the hash of the bytes in flight would not prove they landed. */
	if (verify_on(cell) && (cell->workload->work == VTB_WORK_COPY ||
				cell->workload->work == VTB_WORK_GEN))
		f |= VTB_RUN_F_READBACK;
	return f;
}

/* Wait for READY, or a RESULT that says why the guest could not start. */
static gboolean wait_ready(struct vtb_vm *vm, gint64 deadline, GError **err)
{
	struct vtb_msg m;

	if (!vtb_chan_recv(vm, &m, deadline, err))
		return FALSE;
	if (m.type == VTB_MSG_READY)
		return TRUE;
	if (m.type == VTB_MSG_RESULT && m.u.result.err) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "guest: %s",
			    m.u.result.detail);
		return FALSE;
	}
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
		    "protocol: expected READY from the guest, got %s",
		    vtb_msg_type_name(m.type));
	return FALSE;
}

/*
 * The flush audit: load libvtbflush.so into the VMM (and its helpers) so
 * it counts the flushes it makes on the target images, the disks written.
 * Without it the run still goes on.
 */
static struct vtb_flush *audit_attach(struct vtb_vm *vm,
				      const GPtrArray *targets)
{
	g_autoptr(GPtrArray) paths = g_ptr_array_new();
	g_autoptr(GError) e = NULL;
	struct vtb_flush *f;

	for (guint i = 0; i < targets->len; i++)
		g_ptr_array_add(
			paths, ((struct vtb_device *)targets->pdata[i])->image);
	if (!paths->len)
		return NULL;
	g_ptr_array_add(paths, NULL);
	f = vtb_flush_new(vm->dir, &e);
	if (!f) {
		vtb_progress_note("vtbench: no flush audit: %s", e->message);
		return NULL;
	}
	g_strfreev(vm->vmm_env);
	vm->vmm_env = vtb_flush_env(f, (const char *const *)paths->pdata);
	return f;
}

/* What the VMM did to the images while the guest ran (and fsynced). */
static void audit_record(const struct vtb_cell *cell, struct vtb_flush *f,
			 guint n_images, const struct vtb_flush_counts *before,
			 struct vtb_sample *s)
{
	struct vtb_flush_counts now, d;
	guint64 attached = 0, missing = 0;

	vtb_flush_status(f, &attached, &missing);
	/*
	 * No figures rather than zeros that prove nothing: no process
	 * loaded the audit, an image it could not watch, or io_uring,
	 * whose flushes bypass libc where the audit listens.
	 */
	if (!attached)
		return;
	if (g_str_equal(cell->aio, "io_uring")) {
		vtb_sample_add_note(s, "flush audit: unknown under io_uring, "
				       "whose flushes do not go through libc");
		return;
	}
	if (missing) {
		vtb_sample_add_note(s,
				    "flush audit: %" G_GUINT64_FORMAT
				    " image(s) could not be watched, no counts",
				    missing);
		return;
	}
	vtb_flush_read(f, &now);
	vtb_flush_counts_sub(&now, before, &d);
	vtb_sample_add_metric(s, "host_fsync", "calls", false, d.fsync);
	vtb_sample_add_metric(s, "host_fdatasync", "calls", false, d.fdatasync);
	vtb_sample_add_metric(s, "host_sync_file_range", "calls", false,
			      d.sync_file_range);
	vtb_sample_add_metric(s, "host_syncfs", "calls", false, d.syncfs);
	vtb_sample_add_metric(s, "host_dsync_writes", "writes", false,
			      d.dsync_writes);
	/*
	 * Opens happen at VMM start, before the run, for every target the
	 * guest was booted with, each alike: the opens of one.
	 */
	vtb_sample_add_metric(s, "host_sync_opens", "opens", false,
			      (double)now.sync_opens / MAX(n_images, 1));
	vtb_sample_add_metric(s, "host_direct_opens", "opens", false,
			      (double)now.direct_opens / MAX(n_images, 1));
}

/*
 * The VMM's own counters of a disk (QMP query-blockstats, libvirt driver),
 * before and after the timed run: what the device saw, beside the flush
 * audit's view of the host file.
 */
struct blk_snap {
	struct vtb_device *d;
	const char *const *names; /* rd_bytes wr_bytes rd_ops wr_ops flush */
	bool ok;
	struct vtb_disk_stats st;
};

static const char *const target_stat_names[] = {
	"vmm_target_rd_bytes", "vmm_target_wr_bytes", "vmm_target_rd_ops",
	"vmm_target_wr_ops", "vmm_target_flush_ops"};
static const char *const payload_stat_names[] = {
	"vmm_payload_rd_bytes", "vmm_payload_wr_bytes", "vmm_payload_rd_ops",
	"vmm_payload_wr_ops", "vmm_payload_flush_ops"};

static void blk_snap(struct vtb_vm *vm, struct blk_snap *b)
{
	g_autoptr(GError) e = NULL;

	b->ok = false;
	if (!b->d || b->d->kind != VTB_DEV_DISK ||
	    !vm->cell->backend->disk_stats)
		return;
	b->ok = vm->cell->backend->disk_stats(vm, b->d, &b->st, &e);
	if (!b->ok && e)
		vtb_progress_note("vtbench: no VMM disk counters: %s",
				  e->message);
}

static void blk_record(struct vtb_sample *s, const struct blk_snap *a,
		       const struct blk_snap *b)
{
	if (!a->ok || !b->ok)
		return;
	vtb_sample_add_metric(s, a->names[0], "bytes", false,
			      b->st.rd_bytes - a->st.rd_bytes);
	vtb_sample_add_metric(s, a->names[1], "bytes", false,
			      b->st.wr_bytes - a->st.wr_bytes);
	vtb_sample_add_metric(s, a->names[2], "ops", false,
			      b->st.rd_ops - a->st.rd_ops);
	vtb_sample_add_metric(s, a->names[3], "ops", false,
			      b->st.wr_ops - a->st.wr_ops);
	vtb_sample_add_metric(s, a->names[4], "ops", false,
			      b->st.flush_ops - a->st.flush_ops);
}

/* A stream back-end's counters (vtb_stream_ops.counters) at one time. */
#define SOPS_MAX_COUNTERS 16u
struct sops_snap {
	unsigned n;
	const char *names[SOPS_MAX_COUNTERS];
	guint64 vals[SOPS_MAX_COUNTERS];
};

static void sops_snap(const struct vtb_device *d, struct sops_snap *s)
{
	s->n = 0;
	if (d && d->sops && d->sops->counters)
		s->n = MIN(d->sops->counters(d->sobj, s->names, s->vals,
					     SOPS_MAX_COUNTERS),
			   SOPS_MAX_COUNTERS);
}

static void sops_record(struct vtb_sample *s, const struct sops_snap *a,
			const struct sops_snap *b)
{
	for (unsigned i = 0; i < a->n && i < b->n; i++) {
		g_autofree char *name =
			g_strdup_printf("backend_%s", a->names[i]);

		/* Interned: a metric's name outlives the sample (static). */
		vtb_sample_add_metric(s, g_intern_string(name), "count", false,
				      (double)(b->vals[i] - a->vals[i]));
	}
}

struct payload {
	char *path;
	guint64 hash;
	guint8 *map;
	size_t len;
};

/*
 * Test hook VTBENCH_TEST_CORRUPT_TARGET: once the guest wrote and synced
 * its file on a host directory (a filesystem target), flip its first
 * byte on the host, so that the read-back must catch it.
 */
static void corrupt_target(const struct vtb_xfer *x)
{
	g_autofree char *path = NULL;
	guint8 b;
	int fd;

	if (!g_getenv("VTBENCH_TEST_CORRUPT_TARGET") || !x->target_is_fs ||
	    !x->target->image)
		return;
	path = g_build_filename(x->target->image, "payload", NULL);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (pread(fd, &b, 1, 0) == 1) {
		b ^= 0xff;
		if (pwrite(fd, &b, 1, 0) != 1)
			g_warning("corrupt %s: %s", path, g_strerror(errno));
	}
	close(fd);
}

/*
 * The mapped payload in memory before the clock starts: a page that is
 * not would be read from the host's disk inside the timed part.  Returns
 * the share of its pages in memory then (mincore), -1 when unknown.
 */
static double payload_warm(const struct payload *p)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (p->len + page - 1) / page, in = 0;
	g_autofree unsigned char *vec = NULL;
	volatile guint8 sink = 0;

	if (!p->map || !p->len)
		return -1;
	madvise(p->map, p->len, MADV_WILLNEED);
	for (size_t off = 0; off < p->len; off += page)
		sink ^= p->map[off];
	(void)sink;
	vec = g_malloc(pages);
	if (mincore(p->map, p->len, vec) < 0)
		return -1;
	for (size_t i = 0; i < pages; i++)
		in += vec[i] & 1;
	return 100.0 * (double)in / (double)pages;
}

static void payload_clear(struct payload *p)
{
	if (p->map)
		munmap(p->map, p->len);
	g_free(p->path);
}

static gboolean payload_open(struct vtb_cell *cell, bool need_map,
			     struct payload *p, GError **err)
{
	int fd;

	memset(p, 0, sizeof(*p));
	if (!vtb_payload_get(cell->env->cache_dir, cell->payload, cell->size,
			     PAYLOAD_SEED, &p->path, &p->hash, err))
		return FALSE;
	if (!need_map || g_str_equal(cell->payload, "zero"))
		return TRUE;
	fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "open %s: %s", p->path,
			    g_strerror(errno));
		return FALSE;
	}
	p->len = cell->size;
	p->map = mmap(NULL, p->len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "mmap %s: %s", p->path,
			    g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* Allow for slow guest disks: ubd with O_SYNC wrote 500 MiB in 36 s. */
static gint64 result_deadline(const struct vtb_cell *cell)
{
	double s = 120 + cell->size / 1e6;

	return g_get_monotonic_time() + (gint64)(s * 1e6);
}

void vtb_xfer_guest_figures(struct vtb_sample *s, const struct vtb_result *r)
{
	/* Unsigned stamps: out of order, the difference would wrap. */
	if (r->t_end_ns >= r->t_start_ns)
		vtb_sample_add_phase(s, "guest_transfer",
				     (r->t_end_ns - r->t_start_ns) / 1e9);
	else
		vtb_sample_add_note(
			s,
			"guest stamps out of order (start %" PRIu64
			", end %" PRIu64 " ns): guest_transfer unknown",
			(uint64_t)r->t_start_ns, (uint64_t)r->t_end_ns);
	vtb_sample_add_metric(s, "guest_cpu_pct", "%", false,
			      r->cpu_busy_permille / 10.0);
}

/* The processes whose threads the CPU attribution lists: the VMM (and
 * its children), the helper daemons, vtbench. */
static guint cpu_roots(struct vtb_vm *vm, struct vtb_cpu_root *r, guint max)
{
	pid_t vmm =
		vm->driver->vmm_pid ? vm->driver->vmm_pid(vm) : vm->child.pid;
	guint n = 0;

	if (vmm > 0)
		r[n++] = (struct vtb_cpu_root){vmm, VTB_CPU_VMM};
	for (guint i = 0; vm->helpers && i < vm->helpers->len && n < max - 1;
	     i++) {
		const struct vtb_child *c = vm->helpers->pdata[i];

		if (c->pid > 0 && !c->reaped)
			r[n++] = (struct vtb_cpu_root){c->pid, VTB_CPU_HELPER};
	}
	r[n++] = (struct vtb_cpu_root){getpid(), VTB_CPU_VTBENCH};
	return n;
}

/*
 * The sample's CPU attribution from the snapshots around the timed part
 * and the guest's own figures; what does not add up becomes a note.
 */
static void add_cpu_use(struct vtb_sample *s, const struct vtb_cpu_snap *a,
			const struct vtb_cpu_snap *b,
			const struct vtb_result *r)
{
	struct vtb_cpu_use *u = vtb_cpu_use_diff(a, b);
	guint32 sum = r->cpu_busy_permille + r->cpu_iowait_permille +
		      r->cpu_steal_permille + r->cpu_idle_permille;

	/* Rounded down each: the four make 1000 less at most 4. */
	if (sum && (sum > 1000 || sum < 996))
		vtb_sample_add_note(s,
				    "the guest's CPU figures add up to %.1f %% "
				    "(busy %u, iowait %u, steal %u, idle %u "
				    "permille): left out",
				    sum / 10.0, r->cpu_busy_permille,
				    r->cpu_iowait_permille,
				    r->cpu_steal_permille,
				    r->cpu_idle_permille);
	else if (sum) {
		u->guest.busy_pct = r->cpu_busy_permille / 10.0;
		u->guest.iowait_pct = r->cpu_iowait_permille / 10.0;
		u->guest.steal_pct = r->cpu_steal_permille / 10.0;
		u->guest.idle_pct = r->cpu_idle_permille / 10.0;
		u->guest.ctxt = (gint64)MIN(r->ctxt, (guint64)G_MAXINT64);
		u->guest.intr = (gint64)MIN(r->intr, (guint64)G_MAXINT64);
	}
	if (r->mem_used_kib)
		u->guest.mem_used_kib =
			(gint64)MIN(r->mem_used_kib, (guint64)G_MAXINT64);
	u->verdict = vtb_cpu_verdict(u);
	/* Beyond 10 %, and beyond what the clock ticks of /proc can blur
	 * (a few ticks of 10 ms in a short run). */
	if (fabs(u->accounted_pct - 100) > VTB_CPU_ACCOUNTED_TOLERANCE &&
	    fabs(u->accounted_pct - 100) * u->wall_s * u->cores / 100 >
		    4.0 / (double)sysconf(_SC_CLK_TCK))
		vtb_sample_add_note(s,
				    "the CPU attribution accounts for %.0f %% "
				    "of %.3f s x %d cores",
				    u->accounted_pct, u->wall_s, u->cores);
	vtb_cpu_use_free(s->cpu);
	s->cpu = u;
}

/* The engine's feed: a stream transport gets the payload written into it
 * and drained; a disk transport is read by the guest, nothing to do. */
static gboolean stream_feed(struct vtb_xfer *x, GError **err)
{
	struct vtb_cell *cell = x->cell;
	double cpu0 = cpu_seconds();

	if (!x->data || x->data->kind == VTB_DEV_DISK)
		return TRUE;
	if (!send_stream(x->vm, x->data, x->payload, cell->size, err) ||
	    !wait_drained(x->vm, x->data, cell->size, err))
		return FALSE;
	vtb_sample_add_metric(
		x->s, "sender_cpu_pct", "%", false,
		100 * (cpu_seconds() - cpu0) /
			MAX((g_get_monotonic_time() - x->t0_us) / 1e6, 1e-6));
	return TRUE;
}

guint32 vtb_xfer_msgs(const struct vtb_cell *cell)
{
	/* The cell's size is its messages' bytes one way (--size, or the
	 * runner's sizing from the rate). */
	return (guint32)CLAMP(cell->size / cell->msg_size, 1, G_MAXUINT32);
}

void vtb_xfer_fill(guint8 *buf, size_t n, guint64 offset)
{
	vtb_payload_fill(buf, n, offset, PAYLOAD_SEED);
}

gint64 vtb_xfer_stall_deadline(void)
{
	return g_get_monotonic_time() + (gint64)(stall_s() * 1e6);
}

gboolean vtb_xfer_run(struct vtb_cell *cell, struct vtb_sample *s, GError **err)
{
	const struct vtb_workload_ops *w = cell->workload;
	bool per_msg = w->flags & VTB_WL_PER_MSG_SIZE;
	gboolean (*feed)(struct vtb_xfer *, GError **) =
		w->feed ? w->feed : stream_feed;
	struct vtb_xfer x = {.cell = cell, .s = s};
	struct payload pay = {0};
	struct vtb_msg m = {.type = VTB_MSG_RUN};
	struct vtb_run *run = &m.u.run;
	struct vtb_msg rm; /* the guest's answers: never over the RUN sent */
	bool stream = cell->tops && cell->tops->kind == VTB_KIND_STREAM;
	bool sink = stream && w->work == VTB_WORK_SINK && !w->feed;
	gboolean ok = FALSE;
	gint64 t1, dl;
	struct vtb_flush *audit = NULL;
	struct vtb_flush_counts flush0 = {0};
	struct blk_snap tg0 = {.names = target_stat_names};
	struct blk_snap pl0 = {.names = payload_stat_names};
	struct blk_snap tg1, pl1;
	struct sops_snap so0 = {0}, so1;
	struct vtb_cpu_root roots[8];
	guint n_roots = 0;
	bool have_result = false;
	double resident;
	g_autoptr(vtb_cpu_snap) cpu0 = NULL;
	g_autoptr(vtb_cpu_snap) cpu1 = NULL;

	x.run = run;
	/* The payload the transport carries or the guest makes (its hash is
	 * what the guest must report), unless the workload sends messages of
	 * its own. */
	if (!per_msg && !(w->flags & VTB_WL_OWN_DATA) &&
	    !payload_open(cell, stream, &pay, err))
		goto out;
	if (!guest_for_run(&x, pay.path, err))
		goto out;
	if (x.target && !mount_target(&x, err))
		goto out;
	audit = ((struct guest_runs *)x.vm->runs)->audit;
	x.payload = pay.map;
	x.payload_hash = pay.hash;

	run->work = w->work;
	run->flags = run_flags(cell);
	/* A guest reading a tty watches it: a line that goes quiet is told
	 * by the guest (with what its tty saw) before the host's stall. */
	if (stream)
		run->idle_ms = (guint32)(stall_s() * 1000);
	run->seed = PAYLOAD_SEED;
	if (per_msg) {
		run->block = cell->msg_size;
		run->size = (guint64)vtb_xfer_msgs(cell) * cell->msg_size;
	} else {
		run->block = 1u << 20;
		run->size = cell->size;
	}
	if (x.data)
		g_strlcpy(run->path, x.data->guest, sizeof(run->path));
	if (x.target)
		g_strlcpy(run->path2, "/mnt/payload", sizeof(run->path2));
	if (w->fill_run)
		w->fill_run(&x, run);

	/* As the article did: flush the host before each timed run. */
	if (pay.path || x.target)
		sync();
	/*
	 * --drop-caches is for what the guest reads through the VMM (a
	 * payload disk, the target's image).  A stream's payload is the
	 * host's source: it is read into memory instead, so that no host
	 * disk read lands in the timed part of "the channel alone".
	 */
	if (cell->env->opts->drop_caches) {
		if (pay.path && !pay.map)
			vtb_drop_cache(pay.path);
		if (x.target && x.target->kind == VTB_DEV_DISK)
			vtb_drop_cache(x.target->image);
	}
	resident = payload_warm(&pay);
	if (resident >= 0)
		vtb_sample_add_metric(s, "host_payload_in_memory_pct", "%",
				      true, resident);
	if (audit)
		vtb_flush_read(audit, &flush0);
	tg0.d = x.target;
	pl0.d = pay.path ? x.data : NULL;
	blk_snap(x.vm, &tg0);
	blk_snap(x.vm, &pl0);
	sops_snap(x.data, &so0);
	if (!vtb_chan_send(x.vm, &m, g_get_monotonic_time() + 10000000, err))
		goto out;
	if (!wait_ready(x.vm,
			g_get_monotonic_time() +
				(x.ready_wait_us ? x.ready_wait_us : 30000000),
			err))
		goto out;
	x.t0_us = g_get_monotonic_time();
	/* After t0: the scan of /proc (ms) is not the run's time. */
	n_roots = cpu_roots(x.vm, roots, G_N_ELEMENTS(roots));
	cpu0 = vtb_cpu_snap_take(roots, n_roots);
	if (!feed(&x, err))
		goto out;
	/*
	 * A sink has nothing left to do once the VMM took every byte but
	 * read what it buffered: that is quick, or the guest stopped.
	 */
	dl = sink ? g_get_monotonic_time() + (gint64)(stall_s() * 1e6)
	     /* A feed that ended the timed part did the whole exchange: the
	      * guest only has to answer. */
	     : x.t_end_us ? g_get_monotonic_time() + 30000000
			  : result_deadline(cell);
	/* A run that reads its file back ends its timed part with READY
	 * (or a RESULT that says why it could not). */
	if (run->flags & VTB_RUN_F_READBACK) {
		if (!vtb_chan_recv(x.vm, &rm, dl, err))
			goto out;
		if (rm.type == VTB_MSG_READY) {
			x.t_end_us = g_get_monotonic_time();
		} else if (rm.type != VTB_MSG_RESULT) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "the guest sent %s, not READY or RESULT, "
				    "at the end of the transfer",
				    vtb_msg_type_name(rm.type));
			goto out;
		} else {
			have_result = true;
		}
	} else if (!vtb_chan_expect(x.vm, VTB_MSG_RESULT, &rm, dl, err)) {
		if (sink && (*err)->code == VTB_ERR_RUN &&
		    g_get_monotonic_time() >= dl) {
			g_clear_error(err);
			g_set_error(
				err, VTB_ERROR, VTB_ERR_RUN,
				"stalled: the VMM took all %" G_GUINT64_FORMAT
				" bytes but the guest did not finish reading "
				"them within %.0f s",
				cell->size, stall_s());
		}
		goto out;
	} else {
		have_result = true;
	}
	t1 = x.t_end_us ? x.t_end_us : g_get_monotonic_time();
	cpu1 = vtb_cpu_snap_take(roots, n_roots);
	if (audit)
		audit_record(cell, audit,
			     ((struct guest_runs *)x.vm->runs)->targets->len,
			     &flush0, s);
	tg1 = tg0;
	pl1 = pl0;
	blk_snap(x.vm, &tg1);
	blk_snap(x.vm, &pl1);
	blk_record(s, &tg0, &tg1);
	blk_record(s, &pl0, &pl1);
	sops_snap(x.data, &so1);
	sops_record(s, &so0, &so1);
	/* The file read back: outside the timed part and the counters. */
	if (!have_result) {
		struct vtb_msg go = {.type = VTB_MSG_READY};

		corrupt_target(&x);
		if (!vtb_chan_send(x.vm, &go, g_get_monotonic_time() + 10000000,
				   err) ||
		    !vtb_chan_expect(x.vm, VTB_MSG_RESULT, &rm,
				     result_deadline(cell), err)) {
			g_prefix_error(err, "reading %s back: ", run->path2);
			goto out;
		}
	}
	s->bytes = x.bytes ? x.bytes : rm.u.result.bytes;
	if (w->check_result
		    ? !w->check_result(&x, &rm.u.result, err)
		    : !check_result(cell, &rm.u.result, x.data,
				    x.expect_bytes ? x.expect_bytes : run->size,
				    x.expect_hash_set ? x.expect_hash
						      : pay.hash,
				    err))
		goto out;
	s->seconds = (t1 - x.t0_us) / 1e6;
	vtb_xfer_guest_figures(s, &rm.u.result);
	add_cpu_use(s, cpu0, cpu1, &rm.u.result);
	ok = release_guest(cell, g_steal_pointer(&x.vm), err);
out:
	/* A guest whose run failed is suspect: never kept. */
	if (x.vm)
		vtb_vm_free(x.vm);
	payload_clear(&pay);
	if (!ok)
		explain_stall(cell, err);
	return ok;
}

gboolean vtb_workload_sample(struct vtb_cell *cell, struct vtb_sample *s,
			     GError **err)
{
	if (cell->workload->run)
		return cell->workload->run(cell, s, err);
	return vtb_xfer_run(cell, s, err);
}

/* Read exactly @n bytes from the stream by @deadline. */
gboolean vtb_xfer_read(struct vtb_xfer *x, guint8 *buf, size_t n,
		       gint64 deadline, GError **err)
{
	struct vtb_vm *vm = x->vm;
	struct vtb_device *d = x->data;
	size_t got = 0;

	while (got < n) {
		struct pollfd pf[2] = {
			stream_pollfd(d, POLLIN),
			{.fd = vm->child.pidfd, .events = POLLIN}};
		ssize_t r = stream_io(d, false, buf + got, n - got, err);
		gint64 left;

		if (r > 0) {
			got += r;
			continue;
		}
		if (r < 0 && d->sops && errno == EIO)
			return backend_failed(vm, d, got, n, err);
		if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "stream closed after %zu of %zu bytes", got,
				    n);
			return FALSE;
		}
		left = (deadline - g_get_monotonic_time()) / 1000;
		if (left <= 0 || vtb_interrupted()) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "stalled: a read of %zu bytes incomplete "
				    "(%zu arrived) after %.0f s",
				    n, got, stall_s());
			guest_says(vm, d, got, n, err);
			return FALSE;
		}
		poll(pf, pf[1].fd >= 0 ? 2 : 1, (int)MIN(left, 500));
		if ((pf[1].revents & POLLIN) && !pf[0].revents) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "VMM exited during the read");
			return FALSE;
		}
	}
	return TRUE;
}

gboolean vtb_xfer_write(struct vtb_xfer *x, const guint8 *buf, size_t n,
			gint64 deadline, GError **err)
{
	struct vtb_device *d = x->data;
	size_t done = 0;

	while (done < n) {
		struct pollfd pf = stream_pollfd(d, POLLOUT);
		ssize_t w =
			stream_io(d, true, (void *)(buf + done), n - done, err);
		gint64 left;

		if (w > 0) {
			done += w;
			continue;
		}
		if (w < 0 && d->sops && errno == EIO)
			return backend_failed(x->vm, d, done, n, err);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "write a message: %s", g_strerror(errno));
			return FALSE;
		}
		left = (deadline - g_get_monotonic_time()) / 1000;
		if (left <= 0 || vtb_interrupted()) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "stalled: could not send a message for "
				    "%.0f s",
				    stall_s());
			guest_says(x->vm, d, done, n, err);
			return FALSE;
		}
		poll(&pf, 1, (int)MIN(left, 500));
	}
	return TRUE;
}
