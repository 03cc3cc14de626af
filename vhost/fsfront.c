/* The virtio-fs vhost-user front: config space answered here, every other
 * control message relayed between the VMM and virtiofsd by one thread. */
#include "vhost/fsfront.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/vtbench.h"

/* How long the rest of a message may take once its first byte came, and
 * a send to a peer whose socket is full. */
#define MSG_TIMEOUT_MS 10000
#define CONFIG_HDR 12u

#define WHY(...) (snprintf(why, VU_WHY_MAX, __VA_ARGS__), -1)

struct vtb_fsfront {
	char *path;
	int listen_fd, vmm_fd, be_fd;
	int stop_fd; /* eventfd: free() wakes the thread */
	bool unlink_path;
	GThread *thread;

	GMutex lock; /* error and core.st */
	char *error;
	struct vtb_fsfront_core core;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * Stop relaying: the VMM sees its socket close (UML marks the device
 * broken at its next message).  virtiofsd keeps its socket until
 * vtb_fsfront_free(): the virtqueues never pass here, and a virtiofsd
 * that exited for the front's fault would be blamed for it.
 */
static void fail(struct vtb_fsfront *f, const char *why)
{
	g_mutex_lock(&f->lock);
	if (!f->error)
		f->error = g_strdup(why);
	g_mutex_unlock(&f->lock);
	close_fd(&f->vmm_fd);
}

/* One request of the VMM's: 0, 1 when the VMM went (power-off), 3 when
 * stopped, -1 with @why. */
static int from_vmm(struct vtb_fsfront *f, char *why)
{
	guint8 buf[VU_HDR_SIZE + VU_PAYLOAD_MAX + VU_CONFIG_MAX];
	guint8 out[VU_HDR_SIZE + CONFIG_HDR + VU_CONFIG_MAX];
	int fds[VU_MAX_FDS];
	unsigned nfds = 0;
	struct vu_msg m;
	guint32 size = 0;
	int r, out_len = 0;

	r = vu_recv(f->vmm_fd, f->stop_fd, buf, VU_HDR_SIZE, fds, &nfds,
		    MSG_TIMEOUT_MS, "the VMM", why);
	if (r == 2 || r == 1) /* 1: the VMM closed its socket */
		return r == 2 ? 0 : 1;
	if (r == 0 && vu_check_header(buf, &size, why) < 0)
		r = -1;
	if (r == 0 && size)
		r = vu_recv(f->vmm_fd, f->stop_fd, buf + VU_HDR_SIZE, size,
			    NULL, NULL, MSG_TIMEOUT_MS, "the VMM", why);
	if (r == 0 &&
	    vu_decode(buf, VU_HDR_SIZE + size, fds, nfds, &m, why) <= 0)
		r = -1;
	if (r == 0) {
		g_mutex_lock(&f->lock);
		r = vtb_fsfront_request(&f->core, buf, VU_HDR_SIZE + size, &m,
					out, sizeof(out), &out_len, why);
		g_mutex_unlock(&f->lock);
	}
	if (r == VTB_FSF_FORWARD)
		r = vu_send(f->be_fd, buf, VU_HDR_SIZE + size, fds, nfds,
			    MSG_TIMEOUT_MS, "virtiofsd", why);
	else if (r == VTB_FSF_ANSWER)
		r = out_len ? vu_send(f->vmm_fd, out, (size_t)out_len, NULL, 0,
				      MSG_TIMEOUT_MS, "the VMM", why)
			    : 0;
	/* Passed on (the back-end holds its own copies now) or not. */
	close_fds(fds, nfds);
	return r;
}

/* The back-end's reply: 0, 3 when stopped, -1 with @why. */
static int from_backend(struct vtb_fsfront *f, char *why)
{
	guint8 buf[VU_HDR_SIZE + VU_PAYLOAD_MAX + VU_CONFIG_MAX];
	int fds[VU_MAX_FDS];
	unsigned nfds = 0;
	guint32 size = 0, due;
	int r;

	r = vu_recv(f->be_fd, f->stop_fd, buf, VU_HDR_SIZE, fds, &nfds,
		    MSG_TIMEOUT_MS, "virtiofsd", why);
	close_fds(fds, nfds);
	if (r == 2)
		return 0;
	if (r == 1) /* virtiofsd closed its socket: it is gone */
		return -1;
	if (r == 0 && nfds)
		r = WHY("virtiofsd sent %u fds with a reply", nfds);
	g_mutex_lock(&f->lock);
	due = vtb_fsfront_due(&f->core);
	g_mutex_unlock(&f->lock);
	if (r == 0 && !due)
		r = WHY("virtiofsd sent a message when no reply was due");
	if (r == 0 && vu_check_reply(buf, due, &size, why) < 0)
		r = -1;
	if (r == 0 && size)
		r = vu_recv(f->be_fd, f->stop_fd, buf + VU_HDR_SIZE, size, NULL,
			    NULL, MSG_TIMEOUT_MS, "virtiofsd", why);
	if (r == 0) {
		g_mutex_lock(&f->lock);
		r = vtb_fsfront_reply(&f->core, buf, VU_HDR_SIZE + size, why);
		g_mutex_unlock(&f->lock);
	}
	if (r == 0)
		r = vu_send(f->vmm_fd, buf, VU_HDR_SIZE + size, NULL, 0,
			    MSG_TIMEOUT_MS, "the VMM", why);
	return r;
}

static gpointer thread_main(gpointer data)
{
	struct vtb_fsfront *f = data;

	for (;;) {
		struct pollfd p[3] = {{f->stop_fd, POLLIN, 0}};
		char why[VU_WHY_MAX] = "";
		unsigned n = 1;
		int r = 0;

		if (f->vmm_fd < 0 && f->listen_fd >= 0)
			p[n++] = (struct pollfd){f->listen_fd, POLLIN, 0};
		if (f->vmm_fd >= 0) {
			/* One request at a time: the VMM's next waits
			 * while a reply is due, so answers keep their
			 * order. */
			if (!vtb_fsfront_due(&f->core))
				p[n++] = (struct pollfd){f->vmm_fd, POLLIN, 0};
			p[n++] = (struct pollfd){f->be_fd, POLLIN, 0};
		}
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(f, "poll");
			continue;
		}
		if (p[0].revents)
			break;
		for (unsigned i = 1; i < n && r == 0; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == f->listen_fd) {
				int fd = accept4(f->listen_fd, NULL, NULL,
						 SOCK_CLOEXEC);

				/* One VMM: no second connection. */
				if (fd >= 0) {
					f->vmm_fd = fd;
					close_fd(&f->listen_fd);
				}
			} else if (p[i].fd == f->vmm_fd) {
				r = from_vmm(f, why);
			} else if (p[i].fd == f->be_fd) {
				r = from_backend(f, why);
			}
		}
		if (r == 3)
			break;
		if (r == 1) {
			/* The VMM is gone: so is the device. */
			close_fd(&f->vmm_fd);
			close_fd(&f->be_fd);
		} else if (r < 0) {
			fail(f, why);
		}
	}
	return NULL;
}

struct vtb_fsfront *vtb_fsfront_new(const char *path, const char *backend,
				    const char *tag, uint32_t queues,
				    GError **err)
{
	struct vtb_fsfront *f = g_new0(struct vtb_fsfront, 1);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sockaddr_un be = {.sun_family = AF_UNIX};
	struct sigaction old;

	f->path = g_strdup(path);
	f->listen_fd = f->vmm_fd = f->be_fd = f->stop_fd = -1;
	g_mutex_init(&f->lock);
	vtb_fsfront_core_init(&f->core, tag, queues);

	if (!*tag || strlen(tag) > VTB_FS_TAG_MAX) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "virtio-fs tag '%s': not 1..%u bytes", tag,
			    VTB_FS_TAG_MAX);
		goto free;
	}
	if (strlen(path) >= sizeof(sa.sun_path) ||
	    strlen(backend) >= sizeof(be.sun_path)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "socket %s: longer than %zu bytes",
			    strlen(path) >= sizeof(sa.sun_path) ? path
								: backend,
			    sizeof(sa.sun_path) - 1);
		goto free;
	}
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	f->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->stop_fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "eventfd: %s",
			    g_strerror(errno));
		goto free;
	}
	f->be_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memcpy(be.sun_path, backend, strlen(backend));
	if (f->be_fd < 0 ||
	    connect(f->be_fd, (struct sockaddr *)&be, sizeof(be)) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "connect to %s: %s",
			    backend, g_strerror(errno));
		goto free;
	}
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "socket %s: %s", path,
			    g_strerror(errno));
		goto free;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "bind %s: %s", path,
			    g_strerror(errno));
		goto free;
	}
	f->unlink_path = true;
	if (listen(f->listen_fd, 1) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "listen %s: %s", path,
			    g_strerror(errno));
		goto free;
	}
	f->thread = g_thread_try_new("vhost-fsfront", thread_main, f, err);
	if (!f->thread)
		goto free;
	return f;
free:
	vtb_fsfront_free(f);
	return NULL;
}

char *vtb_fsfront_error(struct vtb_fsfront *f)
{
	char *e;

	g_mutex_lock(&f->lock);
	e = g_strdup(f->error);
	g_mutex_unlock(&f->lock);
	return e;
}

void vtb_fsfront_stats(struct vtb_fsfront *f, struct vtb_fsfront_stats *out)
{
	g_mutex_lock(&f->lock);
	*out = f->core.st;
	g_mutex_unlock(&f->lock);
}

void vtb_fsfront_free(struct vtb_fsfront *f)
{
	if (!f)
		return;
	if (f->thread) {
		guint64 one = 1;

		if (write(f->stop_fd, &one, sizeof(one)) < 0)
			g_warning("vhost-user fs front: stop: %s",
				  g_strerror(errno));
		g_thread_join(f->thread);
	}
	close_fd(&f->vmm_fd);
	close_fd(&f->be_fd);
	close_fd(&f->listen_fd);
	close_fd(&f->stop_fd);
	if (f->unlink_path)
		unlink(f->path);
	g_mutex_clear(&f->lock);
	g_free(f->error);
	g_free(f->path);
	g_free(f);
}
