/* The host end of the control channel: framed messages with deadlines. */
#include "core/channel.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/console.h"
#include "core/vm.h"

char *vtb_vm_console_context(struct vtb_vm *vm)
{
	/* Enough to reach past a UML or x86 call trace (~60 lines). */
	g_autofree char *tail = vtb_tail_file(vm->console_log, 200);
	g_autofree char *why = vtb_console_explain(tail, 3);

	if (!*why)
		return g_strdup("");
	return g_strdup_printf("; console: %s", why);
}

static void fail_run(struct vtb_vm *vm, GError **err, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void fail_run(struct vtb_vm *vm, GError **err, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	g_autofree char *ctx = vtb_vm_console_context(vm);
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (vtb_interrupted())
		g_set_error(err, VTB_ERROR, VTB_ERR_INTERRUPTED,
			    "interrupted by signal %d", vtb_interrupt_signal());
	else
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "%s%s", msg, ctx);
}

/*
 * The VMM is gone: say how, after giving it a moment to be reaped.  A
 * driver that hears of the exit from a daemon (libvirt's lifecycle event)
 * may hear late on a loaded host: up to 5 s, returned as soon as it does.
 */
static void fail_vmm_gone(struct vtb_vm *vm, GError **err, const char *what)
{
	g_autofree char *how = NULL;

	if (vm->driver->describe_exit)
		how = vm->driver->describe_exit(vm, 5000);
	if (!how) {
		vtb_child_wait(&vm->child, 2000);
		how = vtb_child_describe_status(&vm->child);
	}
	fail_run(vm, err, "%s: %s %s", what, vm->child.name, how);
}

/*
 * Wait for the channel (@events), the VMM's exit (*vmm_died) or a helper
 * daemon's (*helper: which one): a back-end that died (a storage daemon,
 * virtiofsd) leaves its guest waiting for ever on a device that will
 * never answer, so its exit ends the wait as the VMM's does.
 */
#define WAIT_HELPERS 8
#define WAIT_WATCHES 4
static int wait_fd(struct vtb_vm *vm, short events, gint64 deadline_us,
		   bool *vmm_died, struct vtb_child **helper,
		   const struct vtb_watch **watch)
{
	struct pollfd p[2 + WAIT_HELPERS + WAIT_WATCHES] = {
		{.fd = vm->ctl_fd, .events = events},
		{.fd = vm->child.pidfd, .events = POLLIN},
	};
	struct vtb_child *hs[WAIT_HELPERS];
	gint64 left = deadline_us - g_get_monotonic_time();
	unsigned n = 2, nh, nw = 0;
	int r;

	*vmm_died = false;
	*helper = NULL;
	*watch = NULL;
	if (left <= 0)
		return 0;
	for (guint i = 0;
	     vm->helpers && i < vm->helpers->len && n < 2 + WAIT_HELPERS; i++) {
		struct vtb_child *c = vm->helpers->pdata[i];

		if (c->pidfd < 0 || c->reaped)
			continue;
		hs[n - 2] = c;
		p[n++] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
	}
	nh = n;
	for (; vm->watches && nw < vm->watches->len && nw < WAIT_WATCHES; nw++)
		p[n++] = (struct pollfd){
			.fd = g_array_index(vm->watches, struct vtb_watch, nw)
				      .fd,
			.events = POLLIN};
	r = poll(p, n, (int)MIN(left / 1000 + 1, 1000));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[0].revents)
		return 1;
	if (r > 0 && p[1].fd >= 0 && p[1].revents)
		*vmm_died = true;
	for (unsigned i = 2; r > 0 && !*vmm_died && i < nh; i++)
		if (p[i].revents) {
			*helper = hs[i - 2];
			return 0;
		}
	for (unsigned i = nh; r > 0 && !*vmm_died && i < n; i++)
		if (p[i].revents) {
			*watch = &g_array_index(vm->watches, struct vtb_watch,
						i - nh);
			break;
		}
	return 0;
}

/* A back-end inside vtbench failed (wait_fd): its reason. */
static void fail_watch(struct vtb_vm *vm, GError **err,
		       const struct vtb_watch *w)
{
	g_autoptr(GError) e = NULL;

	if (w->check(w->obj, &e))
		fail_run(vm, err, "a back-end of the guest's devices stopped");
	else
		fail_run(vm, err, "%s", e->message);
}

/* A helper daemon of the vm exited (wait_fd): say which and how. */
static void fail_helper_gone(struct vtb_vm *vm, GError **err,
			     struct vtb_child *c)
{
	g_autofree char *how = NULL;

	vtb_child_wait(c, 1000);
	how = vtb_child_describe_status(c);
	fail_run(vm, err, "%s, a back-end of the guest's devices, %s", c->name,
		 how);
}

gboolean vtb_chan_send(struct vtb_vm *vm, const struct vtb_msg *m,
		       gint64 deadline_us, GError **err)
{
	guint8 buf[VTB_MSG_MAX];
	int n = vtb_msg_encode(m, buf, sizeof(buf));
	size_t off = 0;

	if (n < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "encode %s: %s",
			    vtb_msg_type_name(m->type), g_strerror(-n));
		return FALSE;
	}
	while (off < (size_t)n) {
		bool died;
		struct vtb_child *helper;
		const struct vtb_watch *watch;
		ssize_t w;
		int r;

		if (vtb_interrupted() || vm->ctl_fd < 0) {
			fail_run(vm, err, "send %s: channel closed",
				 vtb_msg_type_name(m->type));
			return FALSE;
		}
		w = write(vm->ctl_fd, buf + off, n - off);
		if (w > 0) {
			off += w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			fail_run(vm, err, "send %s: %s",
				 vtb_msg_type_name(m->type), g_strerror(errno));
			return FALSE;
		}
		r = wait_fd(vm, POLLOUT, deadline_us, &died, &helper, &watch);
		if (helper) {
			fail_helper_gone(vm, err, helper);
			return FALSE;
		}
		if (watch) {
			fail_watch(vm, err, watch);
			return FALSE;
		}
		if (died) {
			fail_vmm_gone(vm, err, "send");
			return FALSE;
		}
		if (r == 0 && g_get_monotonic_time() >= deadline_us) {
			fail_run(vm, err, "send %s: timed out",
				 vtb_msg_type_name(m->type));
			return FALSE;
		}
	}
	return TRUE;
}

gboolean vtb_chan_recv(struct vtb_vm *vm, struct vtb_msg *m, gint64 deadline_us,
		       GError **err)
{
	for (;;) {
		int d = vtb_msg_decode(vm->rbuf, vm->rlen, m);
		bool died;
		struct vtb_child *helper;
		const struct vtb_watch *watch;
		ssize_t n;
		int r;

		if (d > 0) {
			memmove(vm->rbuf, vm->rbuf + d, vm->rlen - d);
			vm->rlen -= d;
			return TRUE;
		}
		if (d < 0) {
			g_autofree char *hex = NULL;
			size_t show = MIN(vm->rlen, 16);
			GString *s = g_string_new(NULL);

			for (size_t i = 0; i < show; i++)
				g_string_append_printf(s, "%02x", vm->rbuf[i]);
			hex = g_string_free(s, FALSE);
			fail_run(vm, err,
				 "malformed message from the guest (%zu bytes: "
				 "%s%s)",
				 vm->rlen, hex, vm->rlen > show ? "..." : "");
			return FALSE;
		}
		if (vtb_interrupted() || vm->ctl_fd < 0) {
			fail_run(vm, err, "receive: channel closed");
			return FALSE;
		}
		n = read(vm->ctl_fd, vm->rbuf + vm->rlen,
			 sizeof(vm->rbuf) - vm->rlen);
		if (n > 0) {
			vm->rlen += n;
			continue;
		}
		if (n == 0) {
			fail_vmm_gone(vm, err, "control channel closed");
			return FALSE;
		}
		if (errno != EAGAIN && errno != EINTR) {
			fail_run(vm, err, "receive: %s", g_strerror(errno));
			return FALSE;
		}
		r = wait_fd(vm, POLLIN, deadline_us, &died, &helper, &watch);
		if (r < 0) {
			fail_run(vm, err, "poll: %s", g_strerror(-r));
			return FALSE;
		}
		if (helper) {
			fail_helper_gone(vm, err, helper);
			return FALSE;
		}
		if (watch) {
			fail_watch(vm, err, watch);
			return FALSE;
		}
		if (died) {
			/* Drain what the guest wrote before the VMM went. */
			n = read(vm->ctl_fd, vm->rbuf + vm->rlen,
				 sizeof(vm->rbuf) - vm->rlen);
			if (n > 0) {
				vm->rlen += n;
				continue;
			}
			fail_vmm_gone(vm, err, "guest stopped");
			return FALSE;
		}
		if (r == 0 && g_get_monotonic_time() >= deadline_us) {
			fail_run(vm, err, "no message from the guest in time");
			return FALSE;
		}
	}
}

gboolean vtb_chan_expect(struct vtb_vm *vm, unsigned type, struct vtb_msg *m,
			 gint64 deadline_us, GError **err)
{
	if (!vtb_chan_recv(vm, m, deadline_us, err))
		return FALSE;
	if (m->type == type)
		return TRUE;
	if (m->type == VTB_MSG_ERROR) {
		g_set_error(
			err, VTB_ERROR, VTB_ERR_RUN, "guest: %s: %s%s%s",
			m->u.error.step,
			m->u.error.err ? g_strerror(m->u.error.err) : "error",
			m->u.error.detail[0] ? ": " : "", m->u.error.detail);
		return FALSE;
	}
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
		    "protocol: expected %s from the guest, got %s",
		    vtb_msg_type_name(type), vtb_msg_type_name(m->type));
	return FALSE;
}
