/* A byte pump between a guest's stream (a console port, a line's fd) and
 * a helper child's socket, on a thread of its own. */
#include "vhost/bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/vtbench.h"
#include "vhost/console.h"

/* One direction's bytes in flight: read from one end, not yet all
 * written to the other.  64 KiB: a 9P message of the fd transport's
 * usual size in one go. */
#define BUF_SIZE (64u << 10)

struct buf {
	guint8 b[BUF_SIZE];
	size_t len, off;
};

struct vtb_bridge {
	char *name;
	struct vtb_vcon *vcon; /* the guest's end, or NULL: guest_fd */
	int guest_fd;
	int helper_fd;
	guint stall_ms;
	int stop_fd; /* eventfd: vtb_bridge_free() wakes the thread */
	int fail_fd; /* eventfd: readable once the thread stopped */
	GThread *thread;
	GMutex lock; /* error, st */
	char *error;
	struct vtb_bridge_stats st;
	struct buf to_guest, from_guest;
};

static void fail(struct vtb_bridge *b, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static void fail(struct vtb_bridge *b, const char *fmt, ...)
{
	guint64 one = 1;
	va_list ap;

	g_mutex_lock(&b->lock);
	if (!b->error) {
		va_start(ap, fmt);
		b->error = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	g_mutex_unlock(&b->lock);
	if (write(b->fail_fd, &one, sizeof(one)) < 0)
		g_warning("bridge %s: %s", b->name, g_strerror(errno));
}

static size_t pending(const struct buf *q)
{
	return q->len - q->off;
}

/* Guest -> our buffer: the count, 0 for nothing now, -1 failed. */
static gssize guest_read(struct vtb_bridge *b, void *buf, size_t n)
{
	g_autoptr(GError) e = NULL;
	gssize r;

	if (b->vcon) {
		r = vtb_vcon_read(b->vcon, buf, n, &e);
		if (r < 0)
			fail(b, "%s", e->message);
		return r;
	}
	r = read(b->guest_fd, buf, n);
	if (r > 0)
		return r;
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r == 0)
		fail(b, "the VMM closed the guest's end");
	else
		fail(b, "read the guest's end: %s", g_strerror(errno));
	return -1;
}

static gssize guest_write(struct vtb_bridge *b, const void *buf, size_t n)
{
	g_autoptr(GError) e = NULL;
	gssize r;

	if (b->vcon) {
		r = vtb_vcon_write(b->vcon, buf, n, &e);
		if (r < 0)
			fail(b, "%s", e->message);
		return r;
	}
	r = write(b->guest_fd, buf, n);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	fail(b, "write the guest's end: %s", g_strerror(errno));
	return -1;
}

/* Bytes for the guest the VMM holds and the guest has not read yet. */
static guint64 guest_queued(const struct vtb_bridge *b)
{
	int q = 0;

	if (b->vcon || ioctl(b->guest_fd, SIOCOUTQ, &q) < 0)
		return 0;
	return (guint64)q;
}

/* One round of copies without blocking; TRUE when a byte moved. */
static bool pump(struct vtb_bridge *b, bool *failed)
{
	struct buf *fg = &b->from_guest, *tg = &b->to_guest;
	bool moved = false;
	gssize n;

	if (!pending(fg)) {
		n = guest_read(b, fg->b, sizeof(fg->b));
		if (n < 0)
			goto failed;
		fg->len = (size_t)n;
		fg->off = 0;
	}
	if (pending(fg)) {
		n = write(b->helper_fd, fg->b + fg->off, pending(fg));
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fail(b, "write the helper's end: %s",
			     g_strerror(errno));
			goto failed;
		}
		if (n > 0) {
			fg->off += (size_t)n;
			g_mutex_lock(&b->lock);
			b->st.from_guest += (guint64)n;
			g_mutex_unlock(&b->lock);
			moved = true;
		}
	}
	if (!pending(tg)) {
		n = read(b->helper_fd, tg->b, sizeof(tg->b));
		if (n == 0) {
			fail(b, "the helper closed its end");
			goto failed;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fail(b, "read the helper's end: %s", g_strerror(errno));
			goto failed;
		}
		tg->len = n > 0 ? (size_t)n : 0;
		tg->off = 0;
	}
	if (pending(tg)) {
		n = guest_write(b, tg->b + tg->off, pending(tg));
		if (n < 0)
			goto failed;
		if (n > 0) {
			tg->off += (size_t)n;
			g_mutex_lock(&b->lock);
			b->st.to_guest += (guint64)n;
			g_mutex_unlock(&b->lock);
			moved = true;
		}
	}
	return moved;
failed:
	*failed = true;
	return false;
}

/* The poll set of the next wait: only what can make progress, so that
 * a readable console fd is always drained by the next pump(). */
static unsigned poll_set(struct vtb_bridge *b, struct pollfd *p)
{
	bool want_guest_in = !pending(&b->from_guest);
	bool want_guest_out = pending(&b->to_guest) > 0;
	short hev = (short)((want_guest_out ? 0 : POLLIN) |
			    (pending(&b->from_guest) ? POLLOUT : 0));
	short gev = (short)((want_guest_in ? POLLIN : 0) |
			    (want_guest_out ? POLLOUT : 0));
	unsigned n = 0;

	/* An fd with no events is left out (-1): its hang-up would wake
	 * every poll while the other end is what we wait on. */
	p[n++] = (struct pollfd){.fd = b->stop_fd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = hev ? b->helper_fd : -1, .events = hev};
	if (b->vcon)
		p[n++] = (struct pollfd){.fd = gev ? vtb_vcon_fd(b->vcon) : -1,
					 .events = POLLIN};
	else
		p[n++] = (struct pollfd){.fd = gev ? b->guest_fd : -1,
					 .events = gev};
	return n;
}

static gpointer bridge_main(gpointer data)
{
	struct vtb_bridge *b = data;
	gint64 last = g_get_monotonic_time();
	guint64 last_q = 0, last_to = 0;

	for (;;) {
		struct pollfd p[3];
		bool failed = false, moved = pump(b, &failed);
		guint64 q, to;
		unsigned n;

		if (failed)
			return NULL;
		/* The guest took bytes: what it read of the VMM's queue, or
		 * what reached its buffers. */
		q = guest_queued(b) + pending(&b->to_guest);
		to = b->st.to_guest;
		if (to != last_to || q < last_q || !q)
			last = g_get_monotonic_time();
		last_to = to;
		last_q = q;
		if (b->stall_ms && q &&
		    g_get_monotonic_time() - last >
			    (gint64)b->stall_ms * 1000) {
			/* SIOCOUTQ counts a unix socket's buffers whole:
			 * about, not exactly, the bytes. */
			fail(b,
			     "stalled: ~%" G_GUINT64_FORMAT " bytes for the "
			     "guest not taken for %.1f s",
			     q, b->stall_ms / 1e3);
			return NULL;
		}
		if (moved)
			continue;
		n = poll_set(b, p);
		/* Waiting on the guest to take bytes: look again soon, the
		 * VMM's queue has no fd to wait on. */
		if (poll(p, n, q ? 100 : 1000) < 0 && errno != EINTR) {
			fail(b, "poll: %s", g_strerror(errno));
			return NULL;
		}
		if (p[0].revents)
			return NULL;
	}
}

struct vtb_bridge *vtb_bridge_new(const char *name, struct vtb_vcon *vcon,
				  int guest_fd, int helper_fd, guint stall_ms,
				  GError **err)
{
	struct vtb_bridge *b = g_new0(struct vtb_bridge, 1);

	b->name = g_strdup(name);
	b->vcon = vcon;
	b->guest_fd = vcon ? -1 : guest_fd;
	b->helper_fd = helper_fd;
	b->stall_ms = stall_ms;
	g_mutex_init(&b->lock);
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->fail_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->stop_fd < 0 || b->fail_fd < 0 ||
	    !g_unix_set_fd_nonblocking(helper_fd, TRUE, NULL) ||
	    (!vcon && !g_unix_set_fd_nonblocking(guest_fd, TRUE, NULL))) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "%s: bridge: %s", name,
			    g_strerror(errno));
		vtb_bridge_free(b);
		return NULL;
	}
	b->thread = g_thread_try_new("vtb-bridge", bridge_main, b, err);
	if (!b->thread) {
		g_prefix_error(err, "%s: bridge: ", name);
		vtb_bridge_free(b);
		return NULL;
	}
	return b;
}

int vtb_bridge_fd(struct vtb_bridge *b)
{
	return b->fail_fd;
}

gboolean vtb_bridge_check(struct vtb_bridge *b, GError **err)
{
	gboolean ok;

	g_mutex_lock(&b->lock);
	ok = !b->error;
	if (!ok)
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "%s: %s", b->name,
			    b->error);
	g_mutex_unlock(&b->lock);
	return ok;
}

void vtb_bridge_stats(struct vtb_bridge *b, struct vtb_bridge_stats *out)
{
	g_mutex_lock(&b->lock);
	*out = b->st;
	g_mutex_unlock(&b->lock);
}

void vtb_bridge_free(struct vtb_bridge *b)
{
	if (!b)
		return;
	if (b->thread) {
		guint64 one = 1;

		if (write(b->stop_fd, &one, sizeof(one)) < 0)
			g_warning("bridge %s: stop: %s", b->name,
				  g_strerror(errno));
		g_thread_join(b->thread);
	}
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	if (b->fail_fd >= 0)
		close(b->fail_fd);
	if (b->helper_fd >= 0)
		close(b->helper_fd);
	g_mutex_clear(&b->lock);
	g_free(b->error);
	g_free(b->name);
	g_free(b);
}
