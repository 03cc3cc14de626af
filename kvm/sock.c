/*
 * The host ends of QEMU's sockets, for both drivers: vtbench listens, QEMU
 * connects at start-up, vtbench accepts by the boot deadline.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/channel.h"
#include "kvm/kvm.h"

int vtb_kvm_listen_unix(const char *path, GError **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "listen on %s: %s",
			    path, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Accept QEMU's connection, or notice that QEMU died, by the deadline. */
int vtb_kvm_accept(struct vtb_vm *vm, int lfd, GError **err)
{
	for (;;) {
		struct pollfd p[2] = {
			{.fd = lfd, .events = POLLIN},
			{.fd = vm->child.pidfd, .events = POLLIN}};
		gint64 left = vm->deadline_us - g_get_monotonic_time();
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0)
			return fd;
		if (vtb_interrupted()) {
			g_set_error(err, VTB_ERROR, VTB_ERR_INTERRUPTED,
				    "interrupted by signal %d",
				    vtb_interrupt_signal());
			return -1;
		}
		if (left <= 0) {
			g_autofree char *ctx = vtb_vm_console_context(vm);

			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "qemu did not connect its control socket "
				    "in time%s",
				    ctx);
			return -1;
		}
		poll(p, p[1].fd >= 0 ? 2 : 1, (int)MIN(left / 1000 + 1, 500));
		if (p[1].revents && !p[0].revents) {
			g_autofree char *how = NULL;
			g_autofree char *ctx = NULL;

			vtb_child_wait(&vm->child, 2000);
			how = vtb_child_describe_status(&vm->child);
			ctx = vtb_vm_console_context(vm);
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "qemu %s before connecting%s", how, ctx);
			return -1;
		}
	}
}

gboolean vtb_kvm_listen_device(struct vtb_vm *vm, struct vtb_device *d,
			       GError **err)
{
	guint i = 0;

	/* Named by the device's place in the guest, as QEMU will see it. */
	g_ptr_array_find(vm->devices, d, &i);
	g_free(d->end_path);
	d->end_path = g_strdup_printf("%s/data%u.sock", vm->dir, i);
	d->end_fd = vtb_kvm_listen_unix(d->end_path, err);
	return d->end_fd >= 0;
}

gboolean vtb_kvm_accept_device(struct vtb_vm *vm, struct vtb_device *d,
			       GError **err)
{
	if (d->end_fd < 0)
		return TRUE;
	d->fd = vtb_kvm_accept(vm, d->end_fd, err);
	close(d->end_fd);
	d->end_fd = -1;
	return d->fd >= 0;
}
