/* UML backend: the linux.uml command line and the process around it. */
#include "uml/uml.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/json.h"
#include "core/kernels.h"
#include "core/options.h"
#include "core/qemublk.h"
#include "core/registry.h"
#include "core/virtiofsd.h"
#include "core/vm.h"
#include "core/vtbench.h"
#include "uml/ninep.h"
#include "uml/xstate.h"
#include "vhost/bridge.h"
#include "vhost/console.h"
#include "vhost/fsfront.h"

/* This backend's state in @env. */
static struct vtb_uml_env *U(const struct vtb_env *env)
{
	return vtb_env_priv(env, &vtb_backend_uml);
}

void vtb_uml_devs_init(struct vtb_uml_devs *u)
{
	*u = (struct vtb_uml_devs){
		.args = g_ptr_array_new_with_free_func(g_free)};
}

void vtb_uml_devs_clear(struct vtb_uml_devs *u)
{
	if (u->args)
		g_ptr_array_unref(u->args);
	u->args = NULL;
}

int vtb_uml_add_serial(struct vtb_uml_devs *u, struct vtb_device *d)
{
	int n = u->nserial++;

	/* ttyS0/1: console and control. */
	g_ptr_array_add(u->args, g_strdup_printf("ssl%d=fd:%d", 2 + n,
						 VTB_UML_SERIAL_FD(n)));
	g_free(d->guest);
	d->guest = g_strdup_printf("/dev/ttyS%d", 2 + n);
	return n;
}

gboolean vtb_uml_add_disk(struct vtb_uml_devs *u, struct vtb_device *d,
			  GError **err)
{
	bool sync = d->cache && g_str_equal(d->cache, "sync");

	g_clear_pointer(&d->guest, g_free);
	if (d->kind != VTB_DEV_DISK || !g_str_equal(d->bus, "ubd") ||
	    !g_str_equal(d->format, "raw")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "uml: cannot attach device %s (%s)", d->name,
			    d->kind == VTB_DEV_DISK ? d->bus : "stream");
		return FALSE;
	}
	/* ubdN=FILE[,COW][:SERIAL]: no way to quote either. */
	if (strpbrk(d->image, ",: \t\n")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "ubd cannot take the image %s: UML's ubd= splits "
			    "it at ',' and ':' (and its command line at "
			    "blanks); set VTBENCH_CACHE_DIR or TMPDIR to a "
			    "path without them",
			    d->image);
		return FALSE;
	}
	/*
	 * A read-only disk is a file nothing writes (the payload, the tools
	 * image of vtbench's cache): shared ('c'), so UML takes no POSIX
	 * lock on all of it, which a QEMU opening the same file with its
	 * image locks (libvirt's) reads as "Failed to get consistent read
	 * lock".
	 */
	g_ptr_array_add(u->args, g_strdup_printf("ubd%d%s%s=%s", u->ndisk,
						 d->readonly ? "rc" : "",
						 sync ? "s" : "", d->image));
	d->guest = g_strdup_printf("/dev/ubd%c", 'a' + u->ndisk);
	u->ndisk++;
	return TRUE;
}

void vtb_uml_add_vhost(struct vtb_uml_devs *u, struct vtb_device *d,
		       const char *sock, int virtio_id)
{
	g_ptr_array_add(u->args, g_strdup_printf("virtio_uml.device=%s:%d",
						 sock, virtio_id));
	if (virtio_id == VTB_VIRTIO_ID_BLOCK) {
		g_free(d->guest);
		d->guest = g_strdup_printf("/dev/vd%c", 'a' + u->nvblk++);
	} else if (virtio_id == VTB_VIRTIO_ID_CONSOLE) {
		g_free(d->guest);
		d->guest = g_strdup_printf("vport:%s", d->name);
	}
}

gboolean vtb_uml_argv_check(char *const *argv, GError **err)
{
	for (guint i = 1; argv[i]; i++) {
		const char *a = argv[i], *why = NULL;
		const char *v = strchr(a, '=');

		/* UML joins its arguments into the kernel's command line. */
		if (strpbrk(a, " \t\n"))
			why = "its command line splits at blanks";
		else if (g_str_has_prefix(a, "virtio_uml.device=") &&
			 strchr(v + 1, ':') != strrchr(v + 1, ':'))
			why = "virtio_uml.device= ends its socket at ':'";
		else if (g_str_has_prefix(a, "hostfs=") && strchr(a, ','))
			why = "hostfs= ends its directory at ','";
		if (why) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "UML cannot take '%s': %s; set TMPDIR or "
				    "VTBENCH_CACHE_DIR to a path without them",
				    a, why);
			return FALSE;
		}
	}
	return TRUE;
}

GStrv vtb_uml_argv(const struct vtb_uml_cfg *c)
{
	GStrvBuilder *b = g_strv_builder_new();
	GStrv argv;

	g_strv_builder_add(b, c->kernel);
	vtb_strv_take(b, g_strdup_printf("mem=%dM", c->mem_mb));
	vtb_strv_take(b, g_strdup_printf("initrd=%s", c->initrd));
	vtb_strv_take(b, g_strdup_printf("umid=%s", c->umid));
	vtb_strv_take(b, g_strdup_printf("uml_dir=%s", c->uml_dir));
	/* Without hostfs= a guest could mount any host path. */
	vtb_strv_take(b, g_strdup_printf("hostfs=%s", c->hostfs_dir));
	/* Every console and serial line off, then the two we use. */
	g_strv_builder_add(b, "con=null");
	g_strv_builder_add(b, "ssl=null");
	g_strv_builder_add(b, "con0=fd:0,fd:1");
	vtb_strv_take(b, g_strdup_printf("ssl1=fd:%d", c->ctl_fd));
	g_strv_builder_add(b, "quiet");
	/*
	 * No legacy BSD ptys: the agent uses none, and registering Debian's
	 * 256 pairs is pty_init's 0.8-0.9 s of UML's 2.2 s to init here
	 * (initcall_debug), as libguestfs drops TCG's crypto self-tests.
	 */
	g_strv_builder_add(b, "pty.legacy_count=0");
	g_strv_builder_add(b, "vtb.ctl=tty:/dev/ttyS1");
	g_strv_builder_add(b, "vtb.off=poweroff");
	for (guint i = 0; c->devs && i < c->devs->args->len; i++)
		g_strv_builder_add(b, c->devs->args->pdata[i]);
	if (c->append && *c->append) {
		g_auto(GStrv) extra = g_strsplit(c->append, " ", -1);

		for (char **e = extra; *e; e++)
			if (**e)
				g_strv_builder_add(b, *e);
	}
	argv = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return argv;
}

#define OFF(f) offsetof(struct vtb_uml_opts, f)
static const char *const autoonoff[] = {"auto", "on", "off", NULL};

/* clang-format off */
static const struct vtb_option uml_options[] = {
	{ "uml-kernel", VTB_OPT_STR, OFF(kernel), NULL, "PATH",
	  "UML kernel, or a build directory (its linux) (default "
	  "/usr/bin/linux.uml)", NULL, 0, -1 },
	{ "uml-modules", VTB_OPT_STR, OFF(modules), NULL, "DIR",
	  "UML modules (default /usr/lib/uml/modules/RELEASE)", NULL, 0, -1 },
	{ "uml-xstate", VTB_OPT_STR, OFF(xstate), "auto", "auto|on|off",
	  "UML's ptrace FPU-state fix (libvtbxstate.so, for hosts whose "
	  "xstate outgrew UML's buffer, e.g. with AMX): auto applies it "
	  "when a test boot shows UML needs it", NULL, 0, -1, autoonoff },
	{ "9p-uml-line", VTB_OPT_STR, OFF(ninep_line), "virtio-serial",
	  "virtio-serial|serial",
	  "the stream UML's 9p (trans=fd, served by diod) rides: a "
	  "virtio-console port or a serial line", NULL, 0, -1,
	  vtb_uml_9p_lines },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1 },
};
/* clang-format on */

/* A 9p target on UML rides trans=fd, whose msize stops short of
 * virtio's: refuse what it would silently cut. */
static gboolean check_9p_msize(const struct vtb_opts *o, GError **err)
{
	char **const *field = vtb_transport_opt(o, "9p", "9p-msize");
	char *const *msizes = field ? *field : NULL;
	guint64 n;

	if (!msizes ||
	    (o->targets &&
	     !g_strv_contains((const char *const *)o->targets, "9p")))
		return TRUE;
	for (; *msizes; msizes++) {
		if (!vtb_parse_size(*msizes, &n) || n <= VTB_UML_9P_MSIZE_MAX)
			continue; /* the transport refuses what is no size */
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "--9p-msize %s: UML's 9p rides trans=fd, which "
			    "takes 4K to 1M (Linux's MAX_SOCK_BUF); virtio-9p "
			    "takes up to 2M",
			    *msizes);
		return FALSE;
	}
	return TRUE;
}

static gboolean uml_prepare(struct vtb_env *env, GError **err)
{
	struct vtb_uml_env *u = U(env);
	const struct vtb_uml_opts *o =
		vtb_backend_opts(env->opts, &vtb_backend_uml);
	/* A build directory: its vmlinux-sized ELF is named linux. */
	const char *const in_dir[] = {"linux", NULL};
	g_autofree char *dir = NULL;
	g_autofree char *path = NULL;
	g_autoptr(GError) e = NULL;

	path = vtb_kernel_in_dir("--uml-kernel",
				 o->kernel ? o->kernel
					   : vtb_default_uml_kernel(),
				 in_dir, &dir, err);
	if (!path)
		return FALSE;
	if (!vtb_kernel_identify(path, &u->kernel, &e)) {
		/* A kernel the user named is bad input; a default one
		 * missing means UML is not installed here. */
		g_set_error(err, VTB_ERROR,
			    o->kernel ? VTB_ERR_USAGE : VTB_ERR_UNAVAILABLE,
			    "--uml-kernel: %s", e->message);
		return FALSE;
	}
	if (u->kernel.kind != VTB_KERNEL_UML) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "--uml-kernel %s: a %s, not a UML kernel", path,
			    vtb_kernel_kind_name(u->kernel.kind));
		return FALSE;
	}
	if (dir)
		vtb_kernel_source(dir, &u->kernel);
	if (o->modules) {
		if (!g_file_test(o->modules, G_FILE_TEST_IS_DIR)) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "--uml-modules %s: not a directory",
				    o->modules);
			return FALSE;
		}
		u->modules = g_strdup(o->modules);
	} else {
		u->modules = vtb_default_uml_modules(u->kernel.release);
	}
	u->xstate_mode = o->xstate ? o->xstate : "auto";
	if (!check_9p_msize(env->opts, err))
		return FALSE;
	return vtb_uml_xstate_find(u, err);
}

static const char *uml_modules_dir(const struct vtb_env *env)
{
	return U(env)->modules;
}

static const char *uml_release(const struct vtb_env *env)
{
	return U(env)->kernel.release;
}

/* The driver's state while a guest boots (vm->priv). */
struct uml_boot {
	struct vtb_uml_devs devs;
	/* The VMM's fds: [0] the control line, then the serial lines. */
	struct vtb_fdmap map[16];
	size_t nmap;
	/* The virtio-serial devices' back-ends (struct vtb_vcon *). */
	GPtrArray *vcons;
	/* The virtio-fs devices' fronts (struct vtb_fsfront *). */
	GPtrArray *fronts;
	/* 9p's streams to diod (struct uml_9p *), freed before the
	 * consoles they pump. */
	GPtrArray *ninep;
	/* Streams a helper child serves (struct uml_fd_stream *), freed
	 * before the consoles they pump. */
	GPtrArray *fd_streams;
	/* hostfs's root: a target's directory, else an empty one. */
	const char *hostfs_dir;
};

static gboolean uml_boot_prepare(struct vtb_vm *vm, GError **err)
{
	struct uml_boot *ub = g_new0(struct uml_boot, 1);

	vtb_uml_devs_init(&ub->devs);
	ub->nmap = 1;
	ub->vcons = g_ptr_array_new();
	ub->fronts = g_ptr_array_new();
	ub->ninep = g_ptr_array_new();
	ub->fd_streams = g_ptr_array_new();
	vm->priv = ub;
	return TRUE;
}

static const struct vtb_device_ops uml_serial;

/*
 * A stream a helper child serves (d->needs_fd: sshfs's sftp-server): a
 * bridge thread (vhost/bridge.h) between the guest's end, our console's
 * port or the line's socketpair end, and a socketpair whose other end is
 * d->fd, for the helper.  Watched by the vm: a line that goes deaf (bytes
 * for the guest untaken for the stall time) fails the run naming UML's
 * bug, in seconds rather than at the run's deadline.
 */
struct uml_fd_stream {
	struct vtb_bridge *b;
	int line_fd;	       /* a serial line's end, or -1 */
	const char *quirk_why; /* a serial line's, or NULL */
};

static void uml_fd_stream_free(gpointer p)
{
	struct uml_fd_stream *f = p;

	vtb_bridge_free(f->b);
	if (f->line_fd >= 0)
		close(f->line_fd);
	g_free(f);
}

static gboolean uml_fd_stream_check(void *obj, GError **err)
{
	struct uml_fd_stream *f = obj;

	if (vtb_bridge_check(f->b, err))
		return TRUE;
	if (f->quirk_why && strstr((*err)->message, "stalled:")) {
		char *m = g_strdup_printf("%s: the line went deaf (%s)",
					  (*err)->message, f->quirk_why);

		g_free((*err)->message);
		(*err)->message = m;
	}
	return FALSE;
}

/* Seconds the guest may leave bytes for it untaken (VTBENCH_STALL_S, as
 * the engine's stall). */
static guint uml_stall_ms(void)
{
	const char *e = g_getenv("VTBENCH_STALL_S");
	double v = e ? g_ascii_strtod(e, NULL) : 0;

	return (guint)((v > 0 ? v : 15.0) * 1000);
}

/* @d's guest end (@vcon's port, or the line @line_fd) bridged to a new
 * socketpair; d->fd its other end. */
static gboolean uml_fd_stream(struct vtb_vm *vm, struct vtb_device *d,
			      struct vtb_vcon *vcon, int line_fd, GError **err)
{
	struct uml_boot *ub = vm->priv;
	g_autofree char *name = g_strdup_printf(
		"%s over %s %s", d->bus ? d->bus : d->name,
		vcon ? "virtio-serial" : "the serial line", d->guest);
	struct uml_fd_stream *f;
	int h[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, h) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "socketpair for %s: %s", d->name,
			    g_strerror(errno));
		if (line_fd >= 0)
			close(line_fd);
		return FALSE;
	}
	f = g_new0(struct uml_fd_stream, 1);
	f->line_fd = line_fd;
	f->quirk_why = vcon ? NULL : uml_serial.quirk_why;
	f->b = vtb_bridge_new(name, vcon, line_fd, h[1], uml_stall_ms(), err);
	if (!f->b) {
		close(h[0]);
		uml_fd_stream_free(f);
		return FALSE;
	}
	g_ptr_array_add(ub->fd_streams, f);
	vtb_vm_add_watch(vm, vtb_bridge_fd(f->b), uml_fd_stream_check, f);
	d->fd = h[0];
	return TRUE;
}

/* A serial line: a socketpair, like control; the VMM gets one end. */
static gboolean uml_attach_serial(struct vtb_vm *vm, struct vtb_device *d,
				  GError **err)
{
	struct uml_boot *ub = vm->priv;
	int p[2], n;

	if (ub->nmap >= G_N_ELEMENTS(ub->map) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "socketpair for %s: %s", d->name,
			    g_strerror(errno));
		return FALSE;
	}
	d->fd = p[0];
	d->end_fd = p[1];
	g_unix_set_fd_nonblocking(d->fd, TRUE, NULL);
	n = vtb_uml_add_serial(&ub->devs, d);
	ub->map[ub->nmap++] =
		(struct vtb_fdmap){.src = p[1], .dst = VTB_UML_SERIAL_FD(n)};
	if (d->needs_fd) {
		d->fd = -1;
		return uml_fd_stream(vm, d, NULL, p[0], err);
	}
	return TRUE;
}

/* The VMM holds its end now. */
static gboolean uml_connect_serial(struct vtb_vm *vm, struct vtb_device *d,
				   GError **err)
{
	if (d->end_fd >= 0)
		close(d->end_fd);
	d->end_fd = -1;
	return TRUE;
}

/* What the flush audit (vm->vmm_env) sets, for the process that writes
 * the images; the xstate fix is linux.uml's alone. */
static GStrv audit_env(const struct vtb_vm *vm)
{
	GStrvBuilder *b = g_strv_builder_new();
	GStrv env;

	for (char **e = vm->vmm_env; e && *e; e++)
		if (!g_str_has_prefix(*e, VTB_XSTATE_ENV_MODE "="))
			g_strv_builder_add(b, *e);
	env = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return env;
}

/*
 * A virtio-blk disk: qemu-storage-daemon serves its image as a
 * vhost-user-blk export, a helper of the vm started (and listening)
 * before linux.uml, which connects to it at boot.  It is the process
 * that writes the image, so it gets the flush audit.
 */
static gboolean uml_attach_vublk(struct vtb_vm *vm, struct vtb_device *d,
				 GError **err)
{
	struct uml_boot *ub = vm->priv;
	int n = ub->devs.nvblk;
	g_autofree char *qsd = vtb_find_program("qemu-storage-daemon");
	g_autofree char *sock = g_strdup_printf("%s/vublk%d.sock", vm->dir, n);
	g_autofree char *pidfile = g_strdup_printf("%s/qsd%d.pid", vm->dir, n);
	g_autofree char *log_name = g_strdup_printf("qsd%d.log", n);
	g_autofree char *log = g_build_filename(vm->dir, log_name, NULL);
	g_auto(GStrv) argv = NULL;
	g_auto(GStrv) env = audit_env(vm);
	gint64 t0 = g_get_monotonic_time();
	struct vtb_qemu_cache mode;
	struct vtb_child *c;

	if (!qsd) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "disk %s: qemu-storage-daemon is not installed "
			    "(Debian's qemu-system-common)",
			    d->name);
		return FALSE;
	}
	argv = vtb_qsd_argv(qsd, d, sock, pidfile);
	c = vtb_vm_spawn_helper(vm, (const char *const *)argv, log_name,
				(const char *const *)env, err);
	/* Its pidfile is written once its exports listen. */
	if (!c ||
	    !vtb_vm_helper_wait(
		    c, pidfile, log, "qemu-storage-daemon", "served the disk",
		    "serve the disk", VTB_QSD_START_S,
		    MIN(vm->deadline_us, t0 + (gint64)(VTB_QSD_START_S * 1e6)),
		    err)) {
		g_prefix_error(err, "disk %s: ", d->name);
		return FALSE;
	}
	vtb_vm_add_boot_phase(vm, "qsd_start",
			      (g_get_monotonic_time() - t0) / 1e6);
	vtb_uml_add_vhost(&ub->devs, d, sock, VTB_VIRTIO_ID_BLOCK);
	/* QSD 7.2 reports wce=0 whatever its cache (its export's config
	 * never sets wce): as QEMU's own device does for a mode that caches,
	 * the guest then sees a write cache, and flushes. */
	d->guest_wc =
		!d->readonly &&
		vtb_qemu_cache_of(d->cache ? d->cache : "writeback", &mode) &&
		mode.writeback;
	return TRUE;
}

/* The engine's view of a console back-end (struct vtb_stream_ops). */
static gssize vcon_write(void *obj, const void *buf, size_t n, GError **err)
{
	return vtb_vcon_write(obj, buf, n, err);
}

static gssize vcon_read(void *obj, void *buf, size_t n, GError **err)
{
	return vtb_vcon_read(obj, buf, n, err);
}

static int vcon_poll_fd(void *obj)
{
	return vtb_vcon_fd(obj);
}

/* Bytes are in the guest's buffers once written: nothing is queued. */
static guint64 vcon_queued(void *obj)
{
	return 0;
}

/* What the back-end counted: buffers per byte, notifications each way,
 * and the calls it wrote again for a guest that missed one. */
static unsigned vcon_counters(void *obj, const char **names, guint64 *vals,
			      unsigned max)
{
	struct vtb_vcon_stats st;
	unsigned n = 0;

	vtb_vcon_stats(obj, &st);
#define COUNT(f)                                                               \
	do {                                                                   \
		if (n < max) {                                                 \
			names[n] = #f;                                         \
			vals[n++] = st.f;                                      \
		}                                                              \
	} while (0)
	COUNT(bufs_to_guest);
	COUNT(bufs_from_guest);
	COUNT(kicks);
	COUNT(calls);
	COUNT(rescued_calls);
#undef COUNT
	return n;
}

static const struct vtb_stream_ops vcon_ops = {
	.write = vcon_write,
	.read = vcon_read,
	.poll_fd = vcon_poll_fd,
	.queued = vcon_queued,
	.counters = vcon_counters,
};

/*
 * A virtio-serial port: vtbench's own vhost-user virtio-console back-end
 * (vhost/console.h), a thread of this process listening before linux.uml
 * starts; UML connects at boot and the guest gets /dev/virtio-ports/NAME.
 * The engine moves the bytes through it, no fd in between.
 */
static gboolean uml_attach_vcon(struct vtb_vm *vm, struct vtb_device *d,
				GError **err)
{
	struct uml_boot *ub = vm->priv;
	g_autofree char *sock =
		g_strdup_printf("%s/vcon%u.sock", vm->dir, ub->vcons->len);
	struct vtb_vcon *c = vtb_vcon_new(sock, d->name, err);

	if (!c) {
		g_prefix_error(err, "virtio-serial %s: ", d->name);
		return FALSE;
	}
	g_ptr_array_add(ub->vcons, c);
	vtb_uml_add_vhost(&ub->devs, d, sock, VTB_VIRTIO_ID_CONSOLE);
	if (d->needs_fd)
		return uml_fd_stream(vm, d, c, -1, err);
	d->sops = &vcon_ops;
	d->sobj = c;
	return TRUE;
}

static const struct vtb_device_ops uml_serial;

static const char *uml_9p_line(const struct vtb_uml_opts *o)
{
	return o && o->ninep_line ? o->ninep_line : vtb_uml_9p_lines[0];
}

/* One 9p stream: the bridge between the guest's end and diod's socket. */
struct uml_9p {
	struct vtb_bridge *b;
	const struct vtb_device_ops *row; /* a serial line's: its quirk */
};

static void uml_9p_free(gpointer p)
{
	struct uml_9p *n = p;

	vtb_bridge_free(n->b);
	g_free(n);
}

/* The bridge stopped: its reason, and for a serial line that went quiet
 * with bytes for the guest, the line's known bug. */
static gboolean uml_9p_check(void *obj, GError **err)
{
	struct uml_9p *n = obj;

	if (vtb_bridge_check(n->b, err))
		return TRUE;
	if (n->row && strstr((*err)->message, "stalled:")) {
		char *m = g_strdup_printf("%s: the line went deaf (%s)",
					  (*err)->message, n->row->quirk_why);

		g_free((*err)->message);
		(*err)->message = m;
	}
	return FALSE;
}

/* Seconds the guest may leave bytes for it untaken (VTBENCH_STALL_S, as
 * the engine's stall). */
static guint uml_9p_stall_ms(void)
{
	const char *e = g_getenv("VTBENCH_STALL_S");
	double v = e ? g_ascii_strtod(e, NULL) : 0;

	return (guint)((v > 0 ? v : 15.0) * 1000);
}

/*
 * 9p: diod serves the directory on one end of a socketpair (a helper
 * child); a bridge thread pumps its other end to the guest's stream, a
 * virtio-console port of our own back-end or a serial line, which the
 * agent opens and mounts with trans=fd.  A dead diod ends the wait on
 * the guest as any helper's death does; a stalled or broken stream, as
 * the bridge's watch.
 */
static gboolean uml_attach_9p(struct vtb_vm *vm, struct vtb_device *d,
			      GError **err)
{
	struct uml_boot *ub = vm->priv;
	const struct vtb_uml_opts *o =
		vtb_backend_opts(vm->cell->env->opts, &vtb_backend_uml);
	bool serial = g_str_equal(uml_9p_line(o), "serial");
	char *why = NULL;
	g_autofree char *diod = vtb_diod_find(&why);
	g_autofree char *opts = NULL, *name = NULL, *spec = NULL;
	g_auto(GStrv) argv = NULL;
	struct vtb_vcon *vcon = NULL;
	struct vtb_fdmap map;
	struct uml_9p *n;
	int h[2], guest_fd = -1;

	if (!diod) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "9p: %s", why);
		g_free(why);
		return FALSE;
	}
	opts = vtb_uml_9p_opts(d->mount_opts, d->image, err);
	if (!opts)
		return FALSE;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, h) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "9p: socketpair for diod: %s", g_strerror(errno));
		return FALSE;
	}
	map = (struct vtb_fdmap){.src = h[0], .dst = 3};
	argv = vtb_diod_argv(diod, d->image, 3);
	if (!vtb_vm_spawn_helper_fds(vm, (const char *const *)argv, "diod.log",
				     NULL, &map, 1, err)) {
		close(h[0]);
		close(h[1]);
		g_prefix_error(err, "9p: ");
		return FALSE;
	}
	close(h[0]);
	if (serial) {
		/* A line like a serial transport's; the agent makes it raw. */
		if (!uml_attach_serial(vm, d, err)) {
			close(h[1]);
			return FALSE;
		}
		guest_fd = d->fd;
	} else {
		g_autofree char *sock = g_strdup_printf(
			"%s/vcon%u.sock", vm->dir, ub->vcons->len);

		vcon = vtb_vcon_new(sock, d->name, err);
		if (!vcon) {
			close(h[1]);
			g_prefix_error(err, "9p: virtio-serial %s: ", d->name);
			return FALSE;
		}
		g_ptr_array_add(ub->vcons, vcon);
		vtb_uml_add_vhost(&ub->devs, d, sock, VTB_VIRTIO_ID_CONSOLE);
	}
	name = g_strdup_printf("9p over %s %s", uml_9p_line(o), d->guest);
	n = g_new0(struct uml_9p, 1);
	n->row = serial ? &uml_serial : NULL;
	n->b = vtb_bridge_new(name, vcon, guest_fd, h[1], uml_9p_stall_ms(),
			      err);
	if (!n->b) {
		g_free(n);
		return FALSE;
	}
	g_ptr_array_add(ub->ninep, n);
	vtb_vm_add_watch(vm, vtb_bridge_fd(n->b), uml_9p_check, n);
	spec = g_strdup_printf(VTB_MOUNT_FD_PREFIX "%s", d->guest);
	g_free(d->guest);
	d->guest = g_steal_pointer(&spec);
	g_free(d->mount_opts);
	d->mount_opts = g_steal_pointer(&opts);
	return TRUE;
}

static gboolean uml_attach_disk(struct vtb_vm *vm, struct vtb_device *d,
				GError **err)
{
	struct uml_boot *ub = vm->priv;

	if (g_str_equal(d->bus, "virtio-blk"))
		return uml_attach_vublk(vm, d, err);
	return vtb_uml_add_disk(&ub->devs, d, err);
}

static gboolean uml_spawn(struct vtb_vm *vm, GError **err)
{
	struct vtb_env *env = vm->cell->env;
	struct vtb_uml_env *u = U(env);
	struct uml_boot *ub = vm->priv;
	g_autofree char *uml_dir = g_build_filename(vm->dir, "uml", NULL);
	g_autofree char *hostfs =
		ub->hostfs_dir ? g_strdup(ub->hostfs_dir)
			       : g_build_filename(vm->dir, "hostfs", NULL);
	g_autofree char *umid = NULL;
	g_autofree char *tmpenv = g_strdup_printf("TMPDIR=%s", vm->dir);
	g_auto(GStrv) argv = NULL;
	g_autoptr(GPtrArray) envset = g_ptr_array_new_with_free_func(g_free);
	static unsigned seq;
	int sv[2], log_fd;
	bool xstate_set = false;
	gboolean ok;
	struct vtb_uml_cfg cfg;

	g_ptr_array_add(envset, g_strdup(tmpenv));
	for (char **e = vm->vmm_env; e && *e; e++) {
		g_ptr_array_add(envset, g_strdup(*e));
		if (g_str_has_prefix(*e, VTB_XSTATE_ENV_MODE "="))
			xstate_set = true; /* the test boot chose */
	}
	if (!xstate_set && vtb_uml_xstate_loaded(u))
		vtb_uml_xstate_env(u, envset, u->xstate_fix ? "fix" : "observe",
				   NULL);
	g_ptr_array_add(envset, NULL);

	if (g_mkdir(uml_dir, 0700) < 0 ||
	    (!ub->hostfs_dir && g_mkdir(hostfs, 0700) < 0)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "mkdir in %s: %s",
			    vm->dir, g_strerror(errno));
		return FALSE;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "socketpair: %s",
			    g_strerror(errno));
		return FALSE;
	}
	log_fd = open(vm->console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);
	if (log_fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "open %s: %s",
			    vm->console_log, g_strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return FALSE;
	}
	umid = g_strdup_printf("vtb-%d-%u", (int)getpid(), seq++);
	cfg = (struct vtb_uml_cfg){
		.kernel = u->kernel.path,
		.initrd = vm->cell->appliance.initrd,
		.mem_mb = env->opts->mem_mb,
		.umid = umid,
		.uml_dir = uml_dir,
		.hostfs_dir = hostfs,
		.ctl_fd = 3,
		.devs = &ub->devs,
		.append = vtb_test_fault_param(),
	};
	argv = vtb_uml_argv(&cfg);
	if (!vtb_uml_argv_check(argv, err)) {
		close(log_fd);
		close(sv[0]);
		close(sv[1]);
		return FALSE;
	}
	ub->map[0] = (struct vtb_fdmap){.src = sv[1], .dst = 3};
	ok = vtb_child_spawn(&vm->child, (const char *const *)argv, log_fd,
			     ub->map, ub->nmap,
			     (const char *const *)envset->pdata, err);
	close(log_fd);
	close(sv[1]);
	if (!ok) {
		close(sv[0]);
		return FALSE;
	}
	vm->t_spawn_us = vm->child.t_spawn_us;
	g_unix_set_fd_nonblocking(sv[0], TRUE, NULL);
	vm->ctl_fd = sv[0];
	return TRUE;
}

/* A guest that never said HELLO: a virtio-fs front that gave up says why
 * (a message of UML's it refused, virtiofsd gone during the probe). */
static void uml_explain(struct vtb_vm *vm, GError **err)
{
	struct uml_boot *ub = vm->priv;

	for (guint i = 0; ub && i < ub->fronts->len; i++) {
		g_autofree char *why = vtb_fsfront_error(ub->fronts->pdata[i]);

		if (why)
			g_prefix_error(err, "virtiofs front: %s: ", why);
	}
}

static void uml_cleanup(struct vtb_vm *vm)
{
	struct uml_boot *ub = vm->priv;

	/* vtb_vm_free() kills the VMM, closes the devices' fds (the
	 * socketpairs' ends) and removes vm->dir. */
	if (!ub)
		return;
	for (guint i = 0; i < ub->ninep->len; i++)
		uml_9p_free(ub->ninep->pdata[i]);
	g_ptr_array_unref(ub->ninep);
	for (guint i = 0; i < ub->fd_streams->len; i++)
		uml_fd_stream_free(ub->fd_streams->pdata[i]);
	g_ptr_array_unref(ub->fd_streams);
	/* linux.uml is gone: its end of each console socket too. */
	for (guint i = 0; i < ub->vcons->len; i++)
		vtb_vcon_free(ub->vcons->pdata[i]);
	g_ptr_array_unref(ub->vcons);
	/* And virtiofsd is killed: the fronts' threads have nothing left. */
	for (guint i = 0; i < ub->fronts->len; i++)
		vtb_fsfront_free(ub->fronts->pdata[i]);
	g_ptr_array_unref(ub->fronts);
	vtb_uml_devs_clear(&ub->devs);
	g_free(ub);
	vm->priv = NULL;
}

static void uml_priv_clear(void *priv)
{
	struct vtb_uml_env *u = priv;

	vtb_kernel_info_clear(&u->kernel);
	g_free(u->modules);
	g_free(u->xstate_why);
	g_free(u->xstate_lib);
}

static const char *const uml_base_modules[] = {NULL};

/* Its serial lines: socketpairs, ttyS2.. in the guest. */
static guint64 uml_serial_size(const struct vtb_cell *c)
{
	/* ~10 s at the ~1.9 MB/s measured here; the warm-up measures. */
	return 16ULL << 20;
}

static const struct vtb_device_ops uml_serial = {
	.help = "a UML serial line on a socketpair (ttyS2..)",
	.attach = uml_attach_serial,
	.connect = uml_connect_serial,
	.quirks = VTB_QUIRK_DEAF_AFTER_THROTTLE,
	.quirk_why = "known UML bug: once the guest tty throttles the line, "
		     "line_unthrottle() does not re-enable its read IRQ",
	.default_size = uml_serial_size,
	/* ~10 s of a 512-byte echo at the rates measured here */
	.roundtrip_msgs = 500,
};

static const struct vtb_device_ops uml_virtio_serial = {
	.help = "virtio-console (multiport) over vhost-user: vtbench's own "
		"back-end, a thread that copies between the host's buffers "
		"and the guest's virtqueues",
	.attach = uml_attach_vcon,
};

static const char *const ubd_caches[] = {"writeback", "sync", NULL};

static char *uml_disk_cannot(const struct vtb_device *d)
{
	/* Over vhost-user, QEMU's block layer (qemu-storage-daemon) opens
	 * the image: its cache modes, formats and aio. */
	if (g_str_equal(d->bus, "virtio-blk"))
		return vtb_qemu_disk_cannot(d);
	if (!g_str_equal(d->bus, "ubd"))
		return g_strdup_printf("UML has no %s disk", d->bus);
	if (d->cache && !vtb_str_in(ubd_caches, d->cache))
		return g_strdup_printf("ubd has cache writeback or sync (its "
				       "s flag), not %s",
				       d->cache);
	if (d->format && !g_str_equal(d->format, "raw"))
		return g_strdup_printf("ubd takes raw images only, not %s",
				       d->format);
	if (d->aio)
		return g_strdup("aio is a QEMU setting; ubd has none");
	return NULL;
}

/* Filesystems: UML's own hostfs, the guest's tmpfs, and virtiofs
 * through vtbench's front. */
static char *uml_fs_cannot(const struct vtb_device *d)
{
	if (g_str_equal(d->bus, "9p")) {
		char *why = NULL;
		g_autofree char *diod = vtb_diod_find(&why);

		return diod ? NULL : why;
	}
	/* Its cache modes are virtiofsd's (the transport checks them). */
	if (g_str_equal(d->bus, "virtiofs"))
		return NULL;
	if (!g_str_equal(d->bus, "hostfs") && !g_str_equal(d->bus, "tmpfs"))
		return g_strdup_printf("uml has no filesystem %s", d->bus);
	if (d->cache)
		return g_strdup_printf("%s has no cache modes", d->bus);
	return NULL;
}

/*
 * virtio-fs: QEMU 7.2's virtiofsd serves the directory, a helper of the
 * vm, and vtbench's front (vhost/fsfront.h, a thread of this process)
 * sits between it and linux.uml, answering the config space UML reads
 * through VHOST_USER_PROTOCOL_F_CONFIG and virtiofsd does not serve.
 * virtiofsd maps UML's physical memory (the file UML creates in its
 * TMPDIR, passed by SET_MEM_TABLE) and works on the virtqueues there.
 */
static gboolean uml_attach_virtiofs(struct vtb_vm *vm, struct vtb_device *d,
				    GError **err)
{
	struct uml_boot *ub = vm->priv;
	unsigned n = ub->fronts->len;
	g_autofree char *sock = g_strdup_printf("%s/vfsd%u.sock", vm->dir, n);
	g_autofree char *front =
		g_strdup_printf("%s/vfsfront%u.sock", vm->dir, n);
	struct vtb_fsfront *f;

	if (!vtb_virtiofsd_start(vm, d, sock, err))
		return FALSE;
	/* One request queue, as QEMU's vhost-user-fs-pci by default. */
	f = vtb_fsfront_new(front, sock, d->name, 1, err);
	if (!f) {
		g_prefix_error(err, "virtiofs: ");
		return FALSE;
	}
	g_ptr_array_add(ub->fronts, f);
	vtb_uml_add_vhost(&ub->devs, d, front, VTB_VIRTIO_ID_FS);
	g_free(d->guest);
	d->guest = g_strdup_printf(VTB_MOUNT_FS_PREFIX "%s", d->name);
	return TRUE;
}

static gboolean uml_attach_fs(struct vtb_vm *vm, struct vtb_device *d,
			      GError **err)
{
	struct uml_boot *ub = vm->priv;

	if (g_str_equal(d->bus, "virtiofs"))
		return uml_attach_virtiofs(vm, d, err);
	if (g_str_equal(d->bus, "hostfs")) {
		/* hostfs= is the root: the guest sees this directory only. */
		ub->hostfs_dir = d->image;
		d->guest = g_strdup(VTB_MOUNT_FS_PREFIX "none");
	} else if (g_str_equal(d->bus, "tmpfs")) {
		d->guest = g_strdup(VTB_MOUNT_FS_PREFIX "tmpfs");
	} else if (g_str_equal(d->bus, "9p")) {
		return uml_attach_9p(vm, d, err);
	} else {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "uml has no filesystem %s", d->bus);
		return FALSE;
	}
	return TRUE;
}

/* The VMM holds its end of a 9p serial line now (none for the others). */
static gboolean uml_connect_fs(struct vtb_vm *vm, struct vtb_device *d,
			       GError **err)
{
	return uml_connect_serial(vm, d, err);
}

static const char *const ninep_modules[] = {"9pnet_fd", "9p", "virtio_console",
					    NULL};

/* 9p rides a stream here: 9pnet_fd and the port's driver, no virtio-9p. */
static const char *const *uml_fs_modules(const struct vtb_transport_ops *t)
{
	return g_str_equal(t->bus, "9p") ? ninep_modules : NULL;
}

/* Its own: hostfs.  9p rides vtbench's stream to diod, virtiofs its
 * front before virtiofsd, sshfs a bridged stream to sftp-server. */
static const char *const uml_native_fs[] = {"hostfs", NULL};

static const struct vtb_device_ops uml_fs = {
	.cannot = uml_fs_cannot,
	.help = "hostfs (confined to the directory vtbench prepares), the "
		"guest's tmpfs, 9p with trans=fd over a virtio-console port or "
		"a serial line (--9p-uml-line), served by diod, and virtiofs: "
		"QEMU's virtiofsd behind vtbench's vhost-user front, which "
		"answers the config space virtiofsd does not (the data path "
		"is virtiofsd's own)",
	.attach = uml_attach_fs,
	.connect = uml_connect_fs,
	.guest_modules = uml_fs_modules,
	.native = uml_native_fs,
};

static const struct vtb_device_ops uml_disk = {
	.cannot = uml_disk_cannot,
	.help = "ubd: raw images only; cache writeback or sync (O_SYNC); no "
		"aio setting.  virtio-blk: qemu-storage-daemon's "
		"vhost-user-blk export (QEMU's cache modes, formats and aio; "
		"no VMM counters: QSD 7.2's export keeps none)",
	.attach = uml_attach_disk,
};

static double uml_boot_timeout(const struct vtb_cell *c)
{
	return 30;
}

static char *uml_summary(const struct vtb_env *env)
{
	struct vtb_uml_env *u = U(env);

	return g_strdup_printf("%s (%s); xstate fix %s", u->kernel.path,
			       u->kernel.release, u->xstate_why);
}

static void uml_probe(const struct vtb_env *env, GString *out)
{
	struct vtb_uml_env *u = U(env);

	g_string_append_printf(out, "uml:         %s %s (build id %s)\n",
			       u->kernel.path, u->kernel.release,
			       u->kernel.build_id ? u->kernel.build_id
						  : "none");
	g_string_append_printf(out, "uml xstate:  fix %s\n", u->xstate_why);
}

static void uml_cell_env(const struct vtb_cell *c, struct vtb_cell_env *out)
{
	const struct vtb_env *env = c->env;
	struct vtb_uml_env *u = U(env);

	*out = (struct vtb_cell_env){
		.kernel = &u->kernel,
		.boot_image = u->kernel.path,
		.boot_kind = "uml",
		.modules = u->modules,
		.vmm = u->kernel.path,
		.vmm_version = u->kernel.release,
		.cpus = 1, /* UML is uniprocessor */
	};
}

/* How 9p reached the guest: the stream, the server and its version,
 * the msize asked (and the most diod answers), the cache mode. */
static void record_9p(const struct vtb_env *env, const struct vtb_cell *cell,
		      JsonBuilder *b)
{
	const struct vtb_uml_opts *o =
		vtb_backend_opts(env->opts, &vtb_backend_uml);
	char *why = NULL;
	g_autofree char *diod = vtb_diod_find(&why);
	g_autofree char *version = vtb_diod_version(diod);

	g_free(why);
	json_builder_set_member_name(b, "ninep");
	json_builder_begin_object(b);
	vtb_json_str(b, "line", uml_9p_line(o));
	vtb_json_str(b, "trans", "fd");
	/* The agent's (agent.c stream_for_9p): virtio_console's port has no
	 * read_iter/write_iter, which trans=fd's kernel_read/write need. */
	vtb_json_str(b, "guest_relay",
		     g_str_equal(uml_9p_line(o), "serial")
			     ? NULL
			     : "a guest process copies between the port and "
			       "the socketpair 9p reads and writes");
	vtb_json_str(b, "server", diod);
	vtb_json_str(b, "server_version", version);
	vtb_json_int(b, "msize", (gint64)vtb_9p_cell_msize(cell));
	vtb_json_int(b, "server_msize_max", VTB_DIOD_MSIZE_MAX);
	vtb_json_int(b, "trans_msize_max", VTB_UML_9P_MSIZE_MAX);
	vtb_json_str(b, "cache", cell->cache);
	json_builder_end_object(b);
}

static void uml_record(const struct vtb_env *env, const struct vtb_cell *cell,
		       void *builder)
{
	struct vtb_uml_env *u = U(env);
	JsonBuilder *b = builder;
	bool ready = vtb_env_ready(env, &vtb_backend_uml);
	const char *why = vtb_env_reason(env, &vtb_backend_uml);

	/* UML's xstate fix (uml/xstate.h): applied or not, and why. */
	if (cell) {
		vtb_json_bool(b, "xstate_fix", u->xstate_fix);
		vtb_json_str(b, "xstate_why", u->xstate_why);
		if (g_str_equal(cell->target, "9p"))
			record_9p(env, cell, b);
		return;
	}
	json_builder_set_member_name(b, "usable");
	if (ready || why)
		json_builder_add_boolean_value(b, ready);
	else
		json_builder_add_null_value(b);
	vtb_json_str(b, "reason", ready ? NULL : why);
	vtb_json_str(b, "xstate_mode", u->xstate_mode);
	vtb_json_bool(b, "xstate_fix", u->xstate_fix);
	vtb_json_str(b, "xstate_why", u->xstate_why);
	vtb_json_int(b, "xstate_uml_bytes", (gint64)u->xstate_uml);
	vtb_json_int(b, "xstate_host_bytes", (gint64)u->xstate_host);
}

static void uml_versions(const struct vtb_env *env, void *builder)
{
	struct vtb_uml_env *u = U(env);
	JsonBuilder *b = builder;

	vtb_json_kernel(b, "uml_kernel", &u->kernel);
	vtb_json_str(b, "uml_modules", u->modules);
}

/* One driver: vtbench spawns linux.uml itself. */
static const struct vtb_driver_ops uml_direct = {
	.name = "direct",
	.devices =
		{
			[VTB_DEV_SERIAL] = &uml_serial,
			[VTB_DEV_VIRTIO_SERIAL] = &uml_virtio_serial,
			[VTB_DEV_DISK] = &uml_disk,
			[VTB_DEV_FS] = &uml_fs,
		},
	.prepare = uml_boot_prepare,
	.spawn = uml_spawn,
	.explain = uml_explain,
	.cleanup = uml_cleanup,
};

static const struct vtb_driver_ops *const uml_drivers[] = {&uml_direct, NULL};

const struct vtb_backend_ops vtb_backend_uml = {
	.name = "uml",
	.help = "User-Mode Linux (linux.uml) as a host process",
	.priv_size = sizeof(struct vtb_uml_env),
	.priv_clear = uml_priv_clear,
	.options = uml_options,
	.options_size = sizeof(struct vtb_uml_opts),
	.prepare = uml_prepare,
	.verify = vtb_uml_xstate_test,
	.base_modules = uml_base_modules,
	.kernel_arch = "um",
	.modules_dir = uml_modules_dir,
	.release = uml_release,
	.default_disk = "ubd",
	.boot_timeout = uml_boot_timeout,
	.summary = uml_summary,
	.probe = uml_probe,
	.cell_env = uml_cell_env,
	.record = uml_record,
	.versions = uml_versions,
	.drivers = uml_drivers,
};
