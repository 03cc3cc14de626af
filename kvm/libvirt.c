/* KVM/QEMU backend, driver `libvirt`: a transient domain per boot. */
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/proc.h"
#include "core/registry.h"
#include "core/virtiofsd.h"
#include "core/vm.h"
#include "kvm/kvm.h"

/* What libvirt said of the domain's end; owned by the event callback. */
struct lv_fate {
	char *name;
	gint stopped; /* VIR_DOMAIN_EVENT_STOPPED_* + 1, 0 while running */
};

/* The driver's state for one guest (vm->priv), from prepare() on. */
struct lv {
	virConnectPtr conn;
	virDomainPtr dom;
	int fate_cb; /* lifecycle callback id, -1 when none */
	struct lv_fate *fate;
	char *name;
	struct store *store; /* the run's (see store_get) */
	bool upload;	     /* share-nothing: volumes and stream bridges */
	GPtrArray *vols;     /* virStorageVolPtr made for this guest only */
	GPtrArray *bridges;  /* struct bridge * */
	struct vtb_domxml_devs devs; /* what the rows attached */
	char *kernel, *initrd;	     /* share-nothing: their volumes' paths */
	char *ctl_sock;		     /* shared files: the control socket, */
	int ctl_lfd;		     /* listened on until QEMU connects */
	gint64 t;		     /* end of the last phase measured */
};

/* libvirt prints every error to stderr by default; we report our own. */
static void quiet(void *data, virErrorPtr e)
{
}

/*
 * libvirt's event loop, for the streams of share-nothing mode and the
 * connections' keepalive.  Signals stay with the main thread, whose
 * waits rely on EINTR.
 */
static gpointer event_loop(gpointer data)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (;;)
		virEventRunDefaultImpl();
	return NULL;
}

static void lv_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		virInitialize();
		virSetErrorFunc(NULL, quiet);
		/* Before any connection, so they use it. */
		virEventRegisterDefaultImpl();
		g_thread_unref(
			g_thread_new("libvirt-events", event_loop, NULL));
		g_once_init_leave(&done, 1);
	}
}

/* libvirt's own message, its first line only (XML errors add a
 * picture of the offending line). */
static const char *lv_msg(void)
{
	static __thread char buf[512];
	const char *m = virGetLastErrorMessage();

	if (!m || !*m)
		return "unknown libvirt error";
	g_strlcpy(buf, m, sizeof(buf));
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* How long a daemon may take to accept a connection. */
#define LV_OPEN_TIMEOUT_S 60

/* A virConnectOpen in a thread of its own, shared with the caller until
 * both let go of it. */
struct open_call {
	GMutex lock;
	GCond done_cond;
	char *uri;
	virConnectPtr conn;
	char *msg; /* the thread's libvirt error, when it failed */
	bool done;
	int refs;
};

static void open_call_unref(struct open_call *o)
{
	bool last;

	g_mutex_lock(&o->lock);
	last = --o->refs == 0;
	g_mutex_unlock(&o->lock);
	if (!last)
		return;
	/* The caller gave up on it: a late connection goes unused. */
	if (o->conn)
		virConnectClose(o->conn);
	g_free(o->uri);
	g_free(o->msg);
	g_mutex_clear(&o->lock);
	g_cond_clear(&o->done_cond);
	g_free(o);
}

static gpointer open_thread(gpointer data)
{
	struct open_call *o = data;
	virConnectPtr c = virConnectOpen(o->uri);

	g_mutex_lock(&o->lock);
	o->conn = c;
	if (!c)
		o->msg = g_strdup(lv_msg());
	o->done = true;
	g_cond_signal(&o->done_cond);
	g_mutex_unlock(&o->lock);
	open_call_unref(o);
	return NULL;
}

/*
 * virConnectOpen with a deadline: libvirt's own has none, and a daemon
 * whose workers are stuck (libvirt 9.0 deadlocks freeing a console
 * stream) accepts the socket and never answers.  Ctrl-C ends the wait
 * too.  Keepalive (on the event loop) is then the deadline of every call
 * on it: a daemon that stops answering for 15 s fails the call.  NULL
 * with @why (newly allocated) when it failed.
 */
static virConnectPtr lv_open(const char *uri, char **why)
{
	struct open_call *o = g_new0(struct open_call, 1);
	/* Test hook VTBENCH_TEST_LIBVIRT_OPEN_S: a shorter deadline. */
	const char *hook = g_getenv("VTBENCH_TEST_LIBVIRT_OPEN_S");
	int limit = hook && atoi(hook) > 0 ? atoi(hook) : LV_OPEN_TIMEOUT_S;
	gint64 end = g_get_monotonic_time() + (gint64)limit * G_USEC_PER_SEC;
	virConnectPtr c = NULL;
	GThread *t;

	lv_init();
	g_mutex_init(&o->lock);
	g_cond_init(&o->done_cond);
	o->uri = g_strdup(uri);
	o->refs = 2;
	t = g_thread_new("libvirt-open", open_thread, o);
	g_thread_unref(t);
	g_mutex_lock(&o->lock);
	while (!o->done && !vtb_interrupted() && g_get_monotonic_time() < end)
		g_cond_wait_until(&o->done_cond, &o->lock,
				  MIN(end, g_get_monotonic_time() + 100000));
	if (o->done) {
		c = g_steal_pointer(&o->conn);
		if (!c)
			*why = g_strdup(o->msg);
	} else if (vtb_interrupted()) {
		*why = g_strdup("interrupted"); /* callers check */
	} else {
		*why = g_strdup_printf("the daemon did not answer in %d s",
				       limit);
	}
	g_mutex_unlock(&o->lock);
	open_call_unref(o);
	if (c)
		virConnectSetKeepAlive(c, 5, 3);
	return c;
}

char *vtb_libvirt_version(void)
{
	unsigned long v = 0;

	if (virGetVersion(&v, NULL, NULL) != 0)
		return NULL;
	return g_strdup_printf("%lu.%lu.%lu", v / 1000000, v / 1000 % 1000,
			       v % 1000);
}

gboolean vtb_libvirt_check(const char *uri, GError **err)
{
	g_autofree char *why = NULL;
	virConnectPtr c = lv_open(uri, &why);

	if (!c) {
		g_set_error(err, VTB_ERROR,
			    vtb_interrupted() ? VTB_ERR_INTERRUPTED
					      : VTB_ERR_USAGE,
			    "--connect %s: cannot connect: %s", uri, why);
		return FALSE;
	}
	virConnectClose(c);
	return TRUE;
}

static double since(gint64 *t)
{
	gint64 now = g_get_monotonic_time();
	double s = (now - *t) / 1e6;

	*t = now;
	return s;
}

/* One QMP command through libvirt-qemu; the reply's "return" member. */
static JsonNode *qmp(struct vtb_vm *vm, const char *cmd, GError **err)
{
	struct lv *lv = vm->priv;
	g_autofree char *json = g_strdup_printf("{\"execute\":\"%s\"}", cmd);
	g_autofree char *reply = NULL;
	g_autoptr(JsonParser) p = json_parser_new();
	JsonObject *o;

	if (!lv || !lv->dom) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "QMP %s: no domain",
			    cmd);
		return NULL;
	}
	if (virDomainQemuMonitorCommand(lv->dom, json, &reply, 0) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "QMP %s on %s: %s",
			    cmd, lv->name, lv_msg());
		return NULL;
	}
	if (!json_parser_load_from_data(p, reply, -1, err)) {
		g_prefix_error(err, "QMP %s reply: ", cmd);
		return NULL;
	}
	o = json_node_get_object(json_parser_get_root(p));
	if (!o || !json_object_has_member(o, "return")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "QMP %s: %s", cmd,
			    reply);
		return NULL;
	}
	return json_node_copy(json_object_get_member(o, "return"));
}

/* The accel QEMU really uses must be the one the cell says. */
static gboolean confirm_accel(struct vtb_vm *vm, GError **err)
{
	g_autoptr(JsonNode) r = qmp(vm, "query-kvm", err);
	JsonObject *o;
	bool enabled, want = g_str_equal(vm->cell->accel, "kvm");

	if (!r)
		return FALSE;
	o = json_node_get_object(r);
	enabled = o && json_object_get_boolean_member_with_default(o, "enabled",
								   FALSE);
	if (enabled != want) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "QMP query-kvm: QEMU runs with KVM %s, the cell "
			    "says accel %s",
			    enabled ? "enabled" : "disabled", vm->cell->accel);
		return FALSE;
	}
	return TRUE;
}

/*
 * Share-nothing mode.  A daemon that cannot see vtbench's files (another
 * host, another user's session daemon) gets them as volumes of a pool of
 * ours, uploaded through the storage API; the guest's ports and lines are
 * reached through streams.  One store per run: read-only files are
 * uploaded once and reused; everything goes at exit.
 */
struct store {
	char *uri;
	virConnectPtr conn;
	bool upload;
	virStoragePoolPtr pool; /* NULL until the first upload */
	char *pool_name;
	GHashTable *ro; /* local path -> its volume (virStorageVolPtr) */
	bool told_audit;
};

static struct store *store;
static unsigned pool_seq;

static void vol_delete(virStorageVolPtr v)
{
	virStorageVolDelete(v, 0);
	virStorageVolFree(v);
}

/* Delete every volume and the pool with its directory.  Runs at exit,
 * also after SIGINT (main returns); safe to call twice. */
static void store_free(void)
{
	struct store *s = store;

	store = NULL;
	if (!s)
		return;
	if (s->ro)
		g_hash_table_destroy(s->ro);
	if (s->pool) {
		virStorageVolPtr *left = NULL;
		int n;

		/* Whatever a failed step left: the directory must go. */
		virStoragePoolRefresh(s->pool, 0);
		n = virStoragePoolListAllVolumes(s->pool, &left, 0);
		for (int i = 0; i < n; i++)
			vol_delete(left[i]);
		free(left);
		virStoragePoolDestroy(s->pool);
		virStoragePoolDelete(s->pool, 0);
		virStoragePoolUndefine(s->pool);
		virStoragePoolFree(s->pool);
	}
	if (s->conn)
		virConnectClose(s->conn);
	g_free(s->pool_name);
	g_free(s->uri);
	g_free(s);
}

/*
 * Does the daemon see our files?  A transient dir pool on a fresh private
 * dir of ours must start and list the marker file we put there: true for
 * this host's system daemon, false for another host or for a daemon of
 * another user (our 0700 dirs are closed to it).  @why says what failed.
 */
static bool daemon_sees_our_files(virConnectPtr conn, char **why)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *dir = vtb_tmpdir_new("vtbench-probe", &e);
	g_autofree char *marker = NULL, *path = NULL, *xml = NULL;
	virStoragePoolPtr pool;
	virStorageVolPtr vol;
	bool seen;

	if (!dir) {
		*why = g_strdup(e->message);
		return false;
	}
	marker = g_strdup_printf("probe-%08x%08x", g_random_int(),
				 g_random_int());
	path = g_build_filename(dir, marker, NULL);
	g_file_set_contents(path, "vtbench", -1, NULL);
	xml = g_markup_printf_escaped("<pool type='dir'>"
				      "<name>vtbench-probe-%d-%s</name>"
				      "<target><path>%s</path></target>"
				      "</pool>",
				      (int)getpid(), marker + 6, dir);
	pool = virStoragePoolCreateXML(conn, xml, 0);
	if (!pool) {
		*why = g_strdup_printf("the daemon cannot open %s: %s", dir,
				       lv_msg());
		vtb_tmpdir_remove(dir);
		return false;
	}
	vol = virStorageVolLookupByName(pool, marker);
	seen = vol != NULL;
	if (vol)
		virStorageVolFree(vol);
	else
		*why = g_strdup_printf("the daemon sees no %s", path);
	virStoragePoolDestroy(pool);
	virStoragePoolFree(pool);
	vtb_tmpdir_remove(dir);
	return seen;
}

/* The run's store for @uri, its mode decided on first use. */
static struct store *store_get(struct vtb_env *env, struct vtb_kvm_env *kv,
			       const char *uri, GError **err)
{
	g_autofree char *why = NULL;
	struct store *s;

	if (store && g_str_equal(store->uri, uri))
		return store;
	store_free();
	s = g_new0(struct store, 1);
	s->uri = g_strdup(uri);
	s->conn = lv_open(uri, &why);
	if (!s->conn) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: connect to %s: %s", uri, why);
		g_free(s->uri);
		g_free(s);
		return NULL;
	}
	s->ro = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				      (GDestroyNotify)vol_delete);
	s->upload = !daemon_sees_our_files(s->conn, &why);
	kv->libvirt_files = s->upload ? "upload" : "shared";
	if (s->upload && !env->opts->quiet)
		g_printerr("vtbench: libvirt %s: share-nothing mode (%s): "
			   "files go through the storage API, channels "
			   "through streams\n",
			   uri, why);
	store = s;
	{
		static gsize registered;

		if (g_once_init_enter(&registered)) {
			atexit(store_free);
			g_once_init_leave(&registered, 1);
		}
	}
	return s;
}

/*
 * The run's pool: a directory of its own on the libvirt host, built by
 * the daemon and removed with the pool (persistent only so that
 * virStoragePoolDelete can remove the directory; undefined at exit).
 * 0711: a system daemon's QEMU user must traverse it.
 */
static gboolean store_pool(struct store *s, GError **err)
{
	g_autofree char *xml = NULL, *path = NULL;
	virStoragePoolPtr p;

	if (s->pool)
		return TRUE;
	for (;;) {
		g_free(s->pool_name);
		s->pool_name = g_strdup_printf("vtbench-%d-%u", (int)getpid(),
					       pool_seq++);
		p = virStoragePoolLookupByName(s->conn, s->pool_name);
		if (!p)
			break;
		virStoragePoolFree(p);
	}
	/*
	 * A path on the daemon's side, which is share-nothing by definition
	 * here (it could not see our files): our $TMPDIR is one of those
	 * files, so /tmp of the daemon's host, where any user may create a
	 * directory; a random name libvirt builds 0711.
	 */
	path = g_strdup_printf("/tmp/%s-%08x", s->pool_name, g_random_int());
	xml = g_markup_printf_escaped(
		"<pool type='dir'><name>%s</name>"
		"<target><path>%s</path>"
		"<permissions><mode>0711</mode></permissions></target>"
		"</pool>",
		s->pool_name, path);
	p = virStoragePoolDefineXML(s->conn, xml, 0);
	if (!p) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: define pool %s at %s: %s", s->pool_name,
			    path, lv_msg());
		return FALSE;
	}
	if (virStoragePoolBuild(p, 0) < 0 || virStoragePoolCreate(p, 0) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: build pool %s at %s: %s", s->pool_name,
			    path, lv_msg());
		virStoragePoolDelete(p, 0);
		virStoragePoolUndefine(p);
		virStoragePoolFree(p);
		return FALSE;
	}
	s->pool = p;
	return TRUE;
}

/* Feeds a file to virStreamSendAll / virStreamSparseSendAll. */
struct source {
	int fd;
	off_t size;
	gint64 deadline;
};

static int src_read(virStreamPtr st, char *buf, size_t n, void *opaque)
{
	struct source *src = opaque;
	ssize_t r;

	/* The upload's deadline, and SIGINT, end it here. */
	if (vtb_interrupted() || g_get_monotonic_time() > src->deadline) {
		errno = vtb_interrupted() ? EINTR : ETIMEDOUT;
		return -1;
	}
	do
		r = read(src->fd, buf, n);
	while (r < 0 && errno == EINTR && !vtb_interrupted());
	return (int)r;
}

static int src_hole(virStreamPtr st, int *in_data, long long *len, void *opaque)
{
	struct source *src = opaque;
	off_t cur = lseek(src->fd, 0, SEEK_CUR), next;

	if (cur < 0)
		return -1;
	if (cur >= src->size) {
		*in_data = 0;
		*len = 0;
		return 0;
	}
	next = lseek(src->fd, cur, SEEK_DATA);
	if (next < 0 && errno == ENXIO) {
		*in_data = 0;
		*len = src->size - cur;
	} else if (next < 0) {
		return -1;
	} else if (next > cur) {
		*in_data = 0;
		*len = next - cur;
	} else {
		next = lseek(src->fd, cur, SEEK_HOLE);
		if (next < 0)
			return -1;
		*in_data = 1;
		*len = next - cur;
	}
	return lseek(src->fd, cur, SEEK_SET) < 0 ? -1 : 0;
}

static int src_skip(virStreamPtr st, long long len, void *opaque)
{
	struct source *src = opaque;

	return lseek(src->fd, len, SEEK_CUR) < 0 ? -1 : 0;
}

/*
 * Upload @local as volume @name of the run's pool; returns the volume, or
 * NULL with @err.  Holes stay holes (sparse stream) where the file has
 * them; a fully allocated file is fully allocated there too.
 */
static virStorageVolPtr upload(struct store *s, const char *local,
			       const char *name, GError **err)
{
	g_autofree char *xml = NULL;
	struct source src = {.fd = -1};
	virStorageVolPtr vol = NULL;
	virStreamPtr st = NULL;
	struct stat sb;
	bool sparse;
	int r;

	if (!store_pool(s, err))
		return NULL;
	src.fd = open(local, O_RDONLY | O_CLOEXEC);
	if (src.fd < 0 || fstat(src.fd, &sb) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: upload %s: %s", local, g_strerror(errno));
		goto fail;
	}
	src.size = sb.st_size;
	/* Remote links are slow: 1 MB/s at least, and two minutes. */
	src.deadline = g_get_monotonic_time() + 120000000 + sb.st_size;
	sparse = (guint64)sb.st_blocks * 512 < (guint64)sb.st_size;
	xml = g_markup_printf_escaped(
		"<volume type='file'><name>%s</name>"
		"<capacity unit='bytes'>%lld</capacity>"
		"<allocation unit='bytes'>%lld</allocation>"
		"<target><format type='raw'/>"
		"<permissions><mode>0600</mode></permissions></target>"
		"</volume>",
		name, (long long)sb.st_size,
		sparse ? 0LL : (long long)sb.st_size);
	vol = virStorageVolCreateXML(s->pool, xml, 0);
	if (!vol) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: create volume %s in pool %s: %s", name,
			    s->pool_name, lv_msg());
		goto fail;
	}
	st = virStreamNew(s->conn, 0);
	if (!st)
		goto fail_lv;
	r = -1;
	if (sparse &&
	    virStorageVolUpload(vol, st, 0, sb.st_size,
				VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) == 0)
		r = virStreamSparseSendAll(st, src_read, src_hole, src_skip,
					   &src);
	else if (!sparse || virGetLastErrorCode() == VIR_ERR_NO_SUPPORT ||
		 virGetLastErrorCode() == VIR_ERR_INVALID_ARG) {
		if (sparse) {
			/* An older daemon: plain, holes sent as zeros. */
			virStreamFree(st);
			st = virStreamNew(s->conn, 0);
		}
		if (st && virStorageVolUpload(vol, st, 0, sb.st_size, 0) == 0)
			r = virStreamSendAll(st, src_read, &src);
	}
	if (r < 0 || virStreamFinish(st) < 0) {
		if (vtb_interrupted())
			g_set_error(err, VTB_ERROR, VTB_ERR_INTERRUPTED,
				    "interrupted by signal %d",
				    vtb_interrupt_signal());
		else if (g_get_monotonic_time() > src.deadline)
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "libvirt: upload %s to pool %s: not done "
				    "in %.0f s",
				    local, s->pool_name,
				    (120e6 + sb.st_size) / 1e6);
		else
			goto fail_lv;
		if (st)
			virStreamAbort(st);
		goto fail;
	}
	virStreamFree(st);
	close(src.fd);
	return vol;
fail_lv:
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
		    "libvirt: upload %s to pool %s: %s", local, s->pool_name,
		    lv_msg());
	if (st)
		virStreamAbort(st);
fail:
	if (st)
		virStreamFree(st);
	if (vol)
		vol_delete(vol);
	if (src.fd >= 0)
		close(src.fd);
	return NULL;
}

/* A volume's path on the libvirt host (newly allocated), or NULL. */
static char *vol_path(virStorageVolPtr v, GError **err)
{
	char *p = virStorageVolGetPath(v);

	if (!p)
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: path of volume %s: %s",
			    virStorageVolGetName(v), lv_msg());
	return p;
}

/*
 * A read-only file (kernel, initramfs, payload image) on the libvirt
 * host: uploaded on first use, reused for the rest of the run.  Its
 * volume is named by a hash of the local path, which is itself named by
 * content in vtbench's cache.
 */
static char *ro_path(struct store *s, const char *local, GError **err)
{
	virStorageVolPtr v = g_hash_table_lookup(s->ro, local);
	g_autofree char *base = NULL, *key = NULL, *name = NULL;

	if (!v) {
		base = g_path_get_basename(local);
		key = g_compute_checksum_for_string(G_CHECKSUM_SHA256, local,
						    -1);
		name = g_strdup_printf("ro-%.12s-%s", key, base);
		v = upload(s, local, name, err);
		if (!v)
			return NULL;
		g_hash_table_insert(s->ro, g_strdup(local), v);
	}
	return vol_path(v, err);
}

/*
 * A stream of the guest's (a virtio port or a serial line) bridged to a
 * local socket, so the workloads keep using plain fds.  All stream I/O
 * happens on the event loop thread; the buffers are small and a side is
 * read only when the other took the last chunk, so a guest that stops
 * reading fills the socket and the sender sees EAGAIN, as with a local
 * socket.  The console is the same with a file as the local end.
 */
#define BRIDGE_BUF 65536

struct bridge {
	gint ref;
	GMutex lock;
	virStreamPtr st;
	int fd;	   /* the bridge's end of the socketpair, or the console log */
	int watch; /* event handle on fd, -1 for the console log */
	bool dead; /* torn down by its owner: callbacks do nothing */
	bool st_eof, fd_eof, broken;
	guint8 up[BRIDGE_BUF]; /* fd -> stream */
	size_t up_len, up_off;
	guint8 down[BRIDGE_BUF]; /* stream -> fd */
	size_t down_len, down_off;
};

static void bridge_unref(void *p)
{
	struct bridge *b = p;

	if (!g_atomic_int_dec_and_test(&b->ref))
		return;
	if (b->st)
		virStreamFree(b->st);
	if (b->fd >= 0)
		close(b->fd);
	g_mutex_clear(&b->lock);
	g_free(b);
}

/* Stop moving bytes: the local side sees EOF (and EPIPE on writes). */
static void bridge_break(struct bridge *b)
{
	b->broken = true;
	b->up_len = b->up_off = b->down_len = b->down_off = 0;
	if (b->watch >= 0)
		shutdown(b->fd, SHUT_RDWR);
}

/* What each side should wake us for, given what is buffered. */
static void bridge_arm(struct bridge *b)
{
	int sev = 0, fev = 0;

	if (!b->broken) {
		if (b->up_off < b->up_len)
			sev |= VIR_STREAM_EVENT_WRITABLE;
		else if (!b->fd_eof && b->watch >= 0)
			fev |= VIR_EVENT_HANDLE_READABLE;
		if (b->down_off < b->down_len)
			fev |= VIR_EVENT_HANDLE_WRITABLE;
		else if (!b->st_eof)
			sev |= VIR_STREAM_EVENT_READABLE;
	}
	virStreamEventUpdateCallback(b->st, sev);
	if (b->watch >= 0)
		virEventUpdateHandle(b->watch, fev);
}

static void bridge_push_down(struct bridge *b)
{
	while (b->down_off < b->down_len) {
		ssize_t w = write(b->fd, b->down + b->down_off,
				  b->down_len - b->down_off);

		if (w > 0) {
			b->down_off += w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		bridge_break(b);
		return;
	}
	b->down_len = b->down_off = 0;
	/* The guest's side ended and all it said is delivered. */
	if (b->st_eof && b->watch >= 0)
		shutdown(b->fd, SHUT_WR);
}

static void bridge_push_up(struct bridge *b)
{
	while (b->up_off < b->up_len) {
		int n = virStreamSend(b->st, (char *)b->up + b->up_off,
				      b->up_len - b->up_off);

		if (n > 0) {
			b->up_off += n;
			continue;
		}
		if (n == -2)
			return;
		bridge_break(b);
		return;
	}
	b->up_len = b->up_off = 0;
}

static void on_stream(virStreamPtr st, int events, void *opaque)
{
	struct bridge *b = opaque;

	g_mutex_lock(&b->lock);
	if (b->dead || b->broken)
		goto out;
	if (events & VIR_STREAM_EVENT_WRITABLE)
		bridge_push_up(b);
	if ((events & (VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_HANGUP)) &&
	    !b->broken && b->down_off == b->down_len && !b->st_eof) {
		int n = virStreamRecv(st, (char *)b->down, sizeof(b->down));

		if (n > 0) {
			b->down_len = n;
			b->down_off = 0;
			bridge_push_down(b);
		} else if (n == 0) {
			b->st_eof = true;
			bridge_push_down(b);
		} else if (n != -2) {
			bridge_break(b);
		}
	}
	if (events & VIR_STREAM_EVENT_ERROR)
		bridge_break(b);
	bridge_arm(b);
out:
	g_mutex_unlock(&b->lock);
}

static void on_fd(int watch, int fd, int events, void *opaque)
{
	struct bridge *b = opaque;

	g_mutex_lock(&b->lock);
	if (b->dead || b->broken)
		goto out;
	if (events & VIR_EVENT_HANDLE_WRITABLE)
		bridge_push_down(b);
	if ((events & (VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_HANGUP |
		       VIR_EVENT_HANDLE_ERROR)) &&
	    !b->broken && b->up_off == b->up_len && !b->fd_eof) {
		ssize_t n = read(fd, b->up, sizeof(b->up));

		if (n > 0) {
			b->up_len = n;
			b->up_off = 0;
			bridge_push_up(b);
		} else if (n == 0) {
			b->fd_eof = true;
		} else if (errno != EAGAIN && errno != EINTR) {
			bridge_break(b);
		}
	}
	bridge_arm(b);
out:
	g_mutex_unlock(&b->lock);
}

/*
 * Bridge @st (opened, non-blocking) to a new socketpair; returns vtbench's
 * end (non-blocking, as an accepted socket is), or -1 with @err.  With
 * @log >= 0 the stream only feeds that file (the console).
 */
static int bridge_new(struct lv *lv, virStreamPtr st, int log, const char *what,
		      GError **err)
{
	struct bridge *b = g_new0(struct bridge, 1);
	int sv[2] = {-1, -1};

	g_mutex_init(&b->lock);
	b->ref = 1;
	b->st = st;
	b->watch = -1;
	b->fd = log;
	if (log < 0) {
		if (socketpair(AF_UNIX,
			       SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
			       sv) < 0) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "libvirt: socketpair for %s: %s", what,
				    g_strerror(errno));
			bridge_unref(b);
			return -1;
		}
		b->fd = sv[1];
	}
	g_ptr_array_add(lv->bridges, b);
	g_mutex_lock(&b->lock);
	g_atomic_int_inc(&b->ref);
	if (virStreamEventAddCallback(st, VIR_STREAM_EVENT_READABLE, on_stream,
				      b, bridge_unref) < 0) {
		g_atomic_int_dec_and_test(&b->ref);
		g_mutex_unlock(&b->lock);
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: watch stream of %s: %s", what, lv_msg());
		if (sv[0] >= 0)
			close(sv[0]);
		return -1;
	}
	if (log < 0) {
		g_atomic_int_inc(&b->ref);
		b->watch = virEventAddHandle(b->fd, VIR_EVENT_HANDLE_READABLE,
					     on_fd, b, bridge_unref);
		if (b->watch < 0) {
			g_atomic_int_dec_and_test(&b->ref);
			g_mutex_unlock(&b->lock);
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "libvirt: watch socket of %s failed", what);
			close(sv[0]);
			return -1;
		}
	}
	g_mutex_unlock(&b->lock);
	return log < 0 ? sv[0] : 0;
}

/* Owner's end: no callback touches @b after this; the stream is aborted. */
static void bridge_free(void *p)
{
	struct bridge *b = p;

	g_mutex_lock(&b->lock);
	b->dead = true;
	if (b->watch >= 0)
		virEventRemoveHandle(b->watch);
	b->watch = -1;
	g_mutex_unlock(&b->lock);
	/* The stream's callback holds a reference until libvirt drops it. */
	virStreamEventRemoveCallback(b->st);
	virStreamAbort(b->st);
	bridge_unref(b);
}

/* Open the guest's stream @name (port name or serial alias) and bridge
 * it; returns the local fd (or 0 for the console log @log). */
static int open_stream(struct lv *lv, const char *name, bool console, int log,
		       GError **err)
{
	virStreamPtr st = virStreamNew(lv->conn, VIR_STREAM_NONBLOCK);
	int r;

	if (!st) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: new stream for %s: %s", name, lv_msg());
		if (log >= 0)
			close(log);
		return -1;
	}
	r = console ? virDomainOpenConsole(lv->dom, name, st,
					   VIR_DOMAIN_CONSOLE_FORCE)
		    : virDomainOpenChannel(lv->dom, name, st,
					   VIR_DOMAIN_CHANNEL_FORCE);
	if (r < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: open %s %s of %s: %s",
			    console ? "console" : "channel", name, lv->name,
			    lv_msg());
		virStreamFree(st);
		if (log >= 0)
			close(log);
		return -1;
	}
	return bridge_new(lv, st, log, name, err);
}

static void fate_free(void *p)
{
	struct lv_fate *f = p;

	g_free(f->name);
	g_free(f);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
			int detail, void *opaque)
{
	struct lv_fate *f = opaque;
	const char *name = virDomainGetName(dom);

	if (event == VIR_DOMAIN_EVENT_STOPPED && name &&
	    g_str_equal(name, f->name))
		g_atomic_int_set(&f->stopped, detail + 1);
	return 0;
}

/*
 * Hear how the domain ends: a QEMU that dies leaves no child of ours to
 * reap, libvirt's lifecycle event says why.  Registered before the
 * create, so an early death is heard too.
 */
static void watch_fate(struct lv *lv)
{
	struct lv_fate *f = g_new0(struct lv_fate, 1);

	f->name = g_strdup(lv->name);
	lv->fate_cb = virConnectDomainEventRegisterAny(
		lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), f, fate_free);
	if (lv->fate_cb < 0)
		fate_free(f);
	else
		lv->fate = f;
}

static const char *stopped_how(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
		return "shut down";
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
		return "destroyed";
	case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
		return "crashed";
	case VIR_DOMAIN_EVENT_STOPPED_FAILED:
		return "failed: QEMU died";
	default:
		return "stopped";
	}
}

static char *lv_describe_exit(struct vtb_vm *vm, int timeout_ms)
{
	struct lv *lv = vm->priv;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	int st;

	if (!lv || !lv->fate)
		return NULL;
	while (!(st = g_atomic_int_get(&lv->fate->stopped)) &&
	       g_get_monotonic_time() < deadline && !vtb_interrupted())
		g_usleep(10000);
	if (!st)
		return g_strdup("still running (libvirt reports no stop)");
	return g_strdup_printf("stopped (libvirt: %s)", stopped_how(st - 1));
}

/*
 * The boot sequence (core/vm.c), step by step: connect and, share-nothing,
 * upload the kernel and initramfs (prepare); each device's XML, its socket
 * or its volume (the rows' attach); the domain (spawn); its sockets
 * accepted or streams opened (the rows' connect); a paused domain resumed
 * (resume); phases and the accelerator checked after HELLO (booted).
 */
static gboolean lv_prepare(struct vtb_vm *vm, GError **err)
{
	struct vtb_env *env = vm->cell->env;
	struct vtb_kvm_env *kv = vtb_env_priv(env, vm->cell->backend);
	const char *uri = kv->o->connect;
	struct lv *lv = g_new0(struct lv, 1);
	g_autofree char *why = NULL;

	vm->priv = lv;
	lv->fate_cb = -1;
	lv->ctl_lfd = -1;
	lv->name = g_path_get_basename(vm->dir);
	lv->vols = g_ptr_array_new_with_free_func((GDestroyNotify)vol_delete);
	lv->bridges = g_ptr_array_new_with_free_func(bridge_free);
	vtb_domxml_devs_init(&lv->devs);
	g_strlcpy(vm->child.name, "qemu (libvirt)", sizeof(vm->child.name));
	/* Decided once per run; the connection stays for the uploads. */
	lv->store = store_get(env, kv, uri, err);
	if (!lv->store)
		return FALSE;
	lv->upload = lv->store->upload;
	lv->t = vm->t_spawn_us = g_get_monotonic_time();
	lv->conn = lv_open(uri, &why);
	if (!lv->conn) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: connect to %s: %s", uri, why);
		return FALSE;
	}
	vtb_vm_add_boot_phase(vm, "libvirt_connect", since(&lv->t));
	if (!lv->upload)
		return TRUE;
	/* Share-nothing: the files the guest needs as volumes (phase
	 * libvirt_upload, with the disks the rows upload). */
	lv->kernel = ro_path(lv->store, kv->boot_image, err);
	if (!lv->kernel)
		return FALSE;
	lv->initrd = ro_path(lv->store, vm->cell->appliance.initrd, err);
	return lv->initrd != NULL;
}

/* QEMU connects to every socket at start-up: listen first (shared files);
 * share-nothing, libvirt and QEMU open them themselves. */
static gboolean lv_attach_serial(struct vtb_vm *vm, struct vtb_device *d,
				 GError **err)
{
	struct lv *lv = vm->priv;

	if (!lv->upload && !vtb_kvm_listen_device(vm, d, err))
		return FALSE;
	vtb_domxml_add_serial(&lv->devs, d);
	return TRUE;
}

static gboolean lv_attach_port(struct vtb_vm *vm, struct vtb_device *d,
			       GError **err)
{
	struct lv *lv = vm->priv;

	if (!lv->upload && !vtb_kvm_listen_device(vm, d, err))
		return FALSE;
	vtb_domxml_add_port(&lv->devs, d);
	return TRUE;
}

/* Share-nothing: a read-only disk is uploaded once per run, a written one
 * is this guest's own copy. */
static gboolean lv_attach_disk(struct vtb_vm *vm, struct vtb_device *d,
			       GError **err)
{
	struct lv *lv = vm->priv;
	char *path = NULL;
	gboolean ok;

	if (lv->upload && d->readonly) {
		path = ro_path(lv->store, d->image, err);
		if (!path)
			return FALSE;
	} else if (lv->upload) {
		g_autofree char *base = g_path_get_basename(d->image);
		g_autofree char *name =
			g_strdup_printf("%s-%s", lv->name, base);
		virStorageVolPtr v = upload(lv->store, d->image, name, err);

		if (!v)
			return FALSE;
		g_ptr_array_add(lv->vols, v);
		path = vol_path(v, err);
		if (!path)
			return FALSE;
	}
	ok = vtb_domxml_add_disk(&lv->devs, d, path, err);
	free(path);
	return ok;
}

static gboolean lv_connect_serial(struct vtb_vm *vm, struct vtb_device *d,
				  GError **err)
{
	struct lv *lv = vm->priv;
	g_autofree char *alias = NULL;

	if (!lv->upload)
		return vtb_kvm_accept_device(vm, d, err);
	alias = vtb_domxml_alias(d->name);
	d->fd = open_stream(lv, alias, true, -1, err);
	return d->fd >= 0;
}

static gboolean lv_connect_port(struct vtb_vm *vm, struct vtb_device *d,
				GError **err)
{
	struct lv *lv = vm->priv;

	if (!lv->upload)
		return vtb_kvm_accept_device(vm, d, err);
	d->fd = open_stream(lv, d->name, false, -1, err);
	return d->fd >= 0;
}

/*
 * Share-nothing: the domain is created paused; the console and the
 * control port are opened here, the devices' streams by the rows, and
 * resume() lets it run, so no byte the guest writes is lost.
 */
static gboolean open_control(struct vtb_vm *vm, GError **err)
{
	struct lv *lv = vm->priv;
	int log =
		open(vm->console_log,
		     O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);

	if (log < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "open %s: %s",
			    vm->console_log, g_strerror(errno));
		return FALSE;
	}
	if (open_stream(lv, "ua-vtbcon", true, log, err) < 0)
		return FALSE;
	vm->ctl_fd = open_stream(lv, "vtb.ctl", false, -1, err);
	return vm->ctl_fd >= 0;
}

static gboolean lv_spawn(struct vtb_vm *vm, GError **err)
{
	struct vtb_env *env = vm->cell->env;
	struct vtb_kvm_env *kv = vtb_env_priv(env, vm->cell->backend);
	struct lv *lv = vm->priv;
	const char *uri = kv->o->connect;
	g_autofree char *append = NULL, *xml = NULL;
	g_autofree char *label = NULL, *xmlpath = NULL;
	struct vtb_domxml_cfg cfg;

	if (lv->upload) {
		/* A phase of its own, not part of the sample's seconds. */
		double up = since(&lv->t);

		vtb_vm_add_boot_phase(vm, "libvirt_upload", up);
		vm->t_spawn_us += (gint64)(up * 1e6);
		/* Nor of the boot's deadline. */
		vm->deadline_us += (gint64)(up * 1e6);
		/* Said once, by the first guest that has disks to audit. */
		if (vm->vmm_env && !lv->store->told_audit) {
			if (!env->opts->quiet)
				g_printerr("vtbench: libvirt %s: no flush "
					   "audit: the remote QEMU cannot "
					   "load vtbench's library\n",
					   uri);
			lv->store->told_audit = true;
		}
	} else {
		lv->ctl_sock = g_build_filename(vm->dir, "ctl.sock", NULL);
		lv->ctl_lfd = vtb_kvm_listen_unix(lv->ctl_sock, err);
		if (lv->ctl_lfd < 0)
			return FALSE;
		/*
		 * QEMU runs as vtbench's user, as under the direct driver:
		 * it reaches the private dir and the cache, nobody else
		 * does.
		 */
		label = g_strdup_printf("+%u:+%u", (unsigned)getuid(),
					(unsigned)getgid());
	}
	append = vtb_kvm_append(vm->cell->accel, vtb_test_fault_param());
	cfg = (struct vtb_domxml_cfg){
		.name = lv->name,
		.accel = vm->cell->accel,
		.cpu = g_str_equal(vm->cell->accel, "kvm") ? kv->cpu : NULL,
		.kernel = lv->upload ? lv->kernel : kv->boot_image,
		.initrd = lv->upload ? lv->initrd : vm->cell->appliance.initrd,
		.append = append,
		.mem_mb = env->opts->mem_mb,
		.smp = kv->o->cpus,
		.console_log = lv->upload ? NULL : vm->console_log,
		.ctl_sock = lv->ctl_sock,
		.devs = &lv->devs,
		.dac_label = label,
		/* The remote QEMU cannot load our library: no audit. */
		.qemu_env =
			lv->upload ? NULL : (const char *const *)vm->vmm_env,
	};
	xml = vtb_domain_xml(&cfg);
	/* Kept beside the console log for whoever debugs a failed boot. */
	xmlpath = g_build_filename(vm->dir, "domain.xml", NULL);
	g_file_set_contents(xmlpath, xml, -1, NULL);
	vtb_vm_add_boot_phase(vm, "libvirt_xml", since(&lv->t));

	watch_fate(lv);
	/* AUTODESTROY: the domain goes with our connection, even when
	 * vtbench is killed; cleanup destroys it explicitly too. */
	lv->dom = virDomainCreateXML(
		lv->conn, xml,
		VIR_DOMAIN_START_AUTODESTROY |
			(lv->upload ? VIR_DOMAIN_START_PAUSED : 0));
	if (!lv->dom) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: create domain %s: %s", lv->name,
			    lv_msg());
		return FALSE;
	}
	if (lv->upload)
		return open_control(vm, err);
	vtb_vm_add_boot_phase(vm, "libvirt_create", since(&lv->t));
	vm->ctl_fd = vtb_kvm_accept(vm, lv->ctl_lfd, err);
	close(lv->ctl_lfd);
	lv->ctl_lfd = -1;
	return vm->ctl_fd >= 0;
}

/* Share-nothing: every stream is open, let the paused domain run. */
static gboolean lv_resume(struct vtb_vm *vm, GError **err)
{
	struct lv *lv = vm->priv;

	if (!lv->upload)
		return TRUE;
	if (virDomainResume(lv->dom) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: resume domain %s: %s", lv->name,
			    lv_msg());
		return FALSE;
	}
	vtb_vm_add_boot_phase(vm, "libvirt_create", since(&lv->t));
	return TRUE;
}

static gboolean lv_booted(struct vtb_vm *vm, GError **err)
{
	struct lv *lv = vm->priv;

	vtb_vm_add_boot_phase(vm, "libvirt_running_to_hello", since(&lv->t));
	return confirm_accel(vm, err);
}

static gboolean lv_wait_exit(struct vtb_vm *vm, int timeout_ms)
{
	struct lv *lv = vm->priv;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	if (!lv || !lv->dom)
		return TRUE;
	/* The guest reboots; on_reboot=destroy ends QEMU and the
	 * transient domain disappears. */
	for (;;) {
		int active = virDomainIsActive(lv->dom);

		if (active == 0 || (active < 0 && virGetLastErrorCode() ==
							  VIR_ERR_NO_DOMAIN)) {
			virDomainFree(lv->dom);
			lv->dom = NULL;
			return TRUE;
		}
		if (g_get_monotonic_time() >= deadline || vtb_interrupted())
			return FALSE;
		g_usleep(2000);
	}
}

static gboolean lv_disk_stats(struct vtb_vm *vm, const struct vtb_device *d,
			      struct vtb_disk_stats *out, GError **err)
{
	g_autoptr(JsonNode) r = qmp(vm, "query-blockstats", err);
	g_autofree char *alias = vtb_domxml_alias(d->name);
	g_autofree char *path =
		g_strdup_printf("/machine/peripheral/%s/", alias);
	JsonArray *a;

	if (!r)
		return FALSE;
	a = json_node_get_array(r);
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *o = json_array_get_object_element(a, i);
		const char *qdev = json_object_get_string_member_with_default(
			o, "qdev", "");
		JsonObject *st;

		if (!g_str_equal(qdev, alias) && !g_str_has_prefix(qdev, path))
			continue;
		st = json_object_get_object_member(o, "stats");
		if (!st)
			break;
		out->rd_bytes = json_object_get_int_member(st, "rd_bytes");
		out->wr_bytes = json_object_get_int_member(st, "wr_bytes");
		out->rd_ops = json_object_get_int_member(st, "rd_operations");
		out->wr_ops = json_object_get_int_member(st, "wr_operations");
		out->flush_ops =
			json_object_get_int_member(st, "flush_operations");
		return TRUE;
	}
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
		    "QMP query-blockstats: no device %s", alias);
	return FALSE;
}

static void lv_cleanup(struct vtb_vm *vm)
{
	struct lv *lv = vm->priv;

	if (!lv)
		return;
	/*
	 * The guest's connection may be clogged with stream data the guest
	 * never read (the daemon stops reading it): destroy the domain
	 * through the store's connection first, so the daemon drops that
	 * data and the streams' aborts and our destroy go through.
	 */
	if (lv->upload && lv->dom && store && store->conn) {
		unsigned char uuid[VIR_UUID_BUFLEN];
		virDomainPtr d = NULL;

		if (virDomainGetUUID(lv->dom, uuid) == 0)
			d = virDomainLookupByUUID(store->conn, uuid);
		if (d) {
			virDomainDestroy(d);
			virDomainFree(d);
		}
	}
	/* Then the bridges: no callback runs once they are gone. */
	if (lv->bridges)
		g_ptr_array_unref(lv->bridges);
	if (lv->dom) {
		/* Gone already is fine; anything else must not leave it. */
		virDomainDestroy(lv->dom);
		virDomainFree(lv->dom);
	}
	/* This guest's volumes, once its QEMU no longer holds them. */
	if (lv->vols)
		g_ptr_array_unref(lv->vols);
	/* libvirt frees the fate once no callback can run any more. */
	if (lv->conn && lv->fate_cb >= 0)
		virConnectDomainEventDeregisterAny(lv->conn, lv->fate_cb);
	if (lv->conn)
		virConnectClose(lv->conn);
	if (lv->ctl_lfd >= 0)
		close(lv->ctl_lfd);
	vtb_domxml_devs_clear(&lv->devs);
	free(lv->kernel);
	free(lv->initrd);
	g_free(lv->ctl_sock);
	g_free(lv->name);
	g_free(lv);
	vm->priv = NULL;
}

static const struct vtb_device_ops lv_serial = {
	VTB_KVM_SERIAL_ROW,
	.attach = lv_attach_serial,
	.connect = lv_connect_serial,
};

static const struct vtb_device_ops lv_port = {
	VTB_KVM_PORT_ROW,
	.attach = lv_attach_port,
	.connect = lv_connect_port,
};

static const struct vtb_device_ops lv_disk = {
	VTB_KVM_DISK_ROW,
	.attach = lv_attach_disk,
};

/*
 * A host directory needs the daemon on this host (shared files): a
 * remote one cannot see ours.  virtiofsd is libvirt's to start: it
 * checks the binary's path itself, but a missing one is said here first.
 */
static gboolean lv_attach_fs(struct vtb_vm *vm, struct vtb_device *d,
			     GError **err)
{
	struct lv *lv = vm->priv;
	bool vfs = g_str_equal(d->bus, "virtiofs");
	g_autofree char *vfsd = NULL;

	if (lv->upload && !g_str_equal(d->bus, "tmpfs")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt share-nothing: %s serves a directory of "
			    "the daemon's host, which vtbench cannot prepare "
			    "or read from here",
			    d->bus);
		return FALSE;
	}
	if (vfs) {
		vfsd = vtb_virtiofsd_find(err);
		if (!vfsd) {
			(*err)->code = VTB_ERR_RUN;
			return FALSE;
		}
	}
	/* libvirt passes the directory to virtiofsd in -o source=. */
	if (vfs && strchr(d->image, ',')) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "virtiofsd cannot take the directory %s: its -o "
			    "options split at ','; set TMPDIR to a path "
			    "without one",
			    d->image);
		return FALSE;
	}
	return vtb_domxml_add_fs(&lv->devs, d, vfsd, err);
}

static const struct vtb_device_ops lv_fs = {
	.cannot = vtb_kvm_fs_cannot,
	.help = "9p: a <filesystem> (QEMU's local fsdev, accessmode squash: "
		"security model none); virtiofs: a <filesystem> whose "
		"virtiofsd libvirt starts, memory shared (memfd); tmpfs: the "
		"guest's own; a host directory only when the daemon shares "
		"this host's files",
	.native = vtb_kvm_native_fs,
	.attach = lv_attach_fs,
};

/*
 * The domain's QEMU when it runs here: libvirt's pidfile of a local
 * qemu:///system, checked against the process's command line (a remote
 * host's domain of the same name is not ours).
 */
static pid_t lv_vmm_pid(struct vtb_vm *vm)
{
	struct lv *lv = vm->priv;
	g_autofree char *path = NULL, *text = NULL, *cmd = NULL;
	g_autofree char *want = NULL;
	gsize len = 0;
	pid_t pid;

	if (!lv || !lv->name)
		return 0;
	path = g_strdup_printf("/run/libvirt/qemu/%s.pid", lv->name);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	pid = (pid_t)atoi(text);
	g_free(path);
	path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
	if (pid <= 0 || !g_file_get_contents(path, &cmd, &len, NULL))
		return 0;
	want = g_strdup_printf("guest=%s,", lv->name);
	for (gsize i = 0; i < len; i += strlen(cmd + i) + 1)
		if (g_str_has_prefix(cmd + i, want))
			return pid;
	return 0;
}

const struct vtb_driver_ops vtb_kvm_libvirt = {
	.name = "libvirt",
	.devices =
		{
			[VTB_DEV_SERIAL] = &lv_serial,
			[VTB_DEV_VIRTIO_SERIAL] = &lv_port,
			[VTB_DEV_DISK] = &lv_disk,
			[VTB_DEV_FS] = &lv_fs,
		},
	.prepare = lv_prepare,
	.spawn = lv_spawn,
	.resume = lv_resume,
	.booted = lv_booted,
	.cleanup = lv_cleanup,
	.wait_exit = lv_wait_exit,
	.describe_exit = lv_describe_exit,
	.disk_stats = lv_disk_stats,
	.vmm_pid = lv_vmm_pid,
};
