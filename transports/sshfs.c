/*
 * Transport `sshfs`: a host directory over SFTP, what Lima calls
 * reverse-sshfs, without the network: the guest's sshfs -o passive speaks
 * SFTP on a stream (a virtio-serial port, or a serial line), served on
 * the host by OpenSSH's sftp-server, a helper child on the stream's host
 * end.  No ssh between them, so no encryption (Lima adds ssh's); and no
 * chroot (OpenSSH chroots in sshd, not in sftp-server): the server can
 * reach what vtbench's user can, the guest is only pointed at the
 * directory vtbench prepares.
 */
#include "transports/sshfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/options.h"
#include "core/registry.h"
#include "core/vm.h"

extern const struct vtb_transport_ops vtb_transport_sshfs;

/* fuse for sshfs; virtio_console for the port (unused on a serial line). */
static const char *const sshfs_modules[] = {"fuse", "virtio_console", NULL};

char *vtb_sshfs_server(GError **err)
{
	const char *env = g_getenv(VTB_SFTP_SERVER_ENV);
	char *p;

	if (env && *env) {
		p = vtb_find_program(env);
		if (!p)
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "sshfs: no sftp-server at %s (%s)", env,
				    VTB_SFTP_SERVER_ENV);
		return p;
	}
	p = vtb_find_program(VTB_SFTP_SERVER);
	if (!p)
		p = vtb_find_program("sftp-server");
	if (!p)
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "sshfs: no sftp-server (%s, Debian's "
			    "openssh-sftp-server)",
			    VTB_SFTP_SERVER);
	return p;
}

char *vtb_sshfs_client(GError **err)
{
	const char *env = g_getenv(VTB_SSHFS_ENV);
	const char *want = env && *env ? env : "sshfs";
	char *p = vtb_find_program(want);

	if (!p)
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "sshfs: no %s on this host to give the guest%s",
			    want,
			    env && *env ? " (" VTB_SSHFS_ENV ")"
					: " (Debian's sshfs)");
	return p;
}

GStrv vtb_sftp_server_argv(const char *server, const char *dir)
{
	GStrvBuilder *b = g_strv_builder_new();
	GStrv v;

	/* -e: its log on stderr (our log file), not syslog; ERROR: INFO
	 * would log every open and close of an untar in the timed part. */
	g_strv_builder_add_many(b, server, "-e", "-l", "ERROR", "-d", dir,
				NULL);
	v = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return v;
}

static bool has_blank(const char *s)
{
	for (; *s; s++)
		if (g_ascii_isspace(*s) || g_ascii_iscntrl(*s))
			return true;
	return false;
}

char *vtb_sshfs_args(const char *dir, const char *opts, GError **err)
{
	g_autofree char *a = NULL;

	if (has_blank(dir)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "sshfs cannot take the directory %s: the guest "
			    "splits its arguments at spaces; set TMPDIR to "
			    "a path without one",
			    dir);
		return NULL;
	}
	if (has_blank(opts)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "sshfs cannot take the options '%s': the guest "
			    "splits its arguments at spaces",
			    opts);
		return NULL;
	}
	/* -f: the agent waits for it and reaps it; the host name is only a
	 * label in passive mode (no ssh is run). */
	a = g_strdup_printf("-f -o passive%s%s vtbench:%s", *opts ? "," : "",
			    opts, dir);
	if (strlen(a) >= VTB_STR_ARGS) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "sshfs's arguments for %s do not fit a RUN "
			    "message (%zu bytes, at most %u)",
			    dir, strlen(a), VTB_STR_ARGS - 1);
		return NULL;
	}
	return g_steal_pointer(&a);
}

char *vtb_sshfs_opts(const char *cache)
{
	/* sshfs 3 renamed 2.x's cache= to dir_cache= (a cache= it does not
	 * know would go to ssh, which passive mode does not run). */
	return g_strdup_printf("dir_cache=%s", cache && g_str_equal(cache, "no")
						       ? "no"
						       : "yes");
}

static const char *channel_of(const struct vtb_sshfs_opts *o)
{
	return o && o->channel ? o->channel : "virtio-serial";
}

static void sshfs_carrier(const void *topts, struct vtb_device *d)
{
	d->kind = g_str_equal(channel_of(topts), "serial")
			  ? VTB_DEV_SERIAL
			  : VTB_DEV_VIRTIO_SERIAL;
	d->needs_fd = true;
}

static void sshfs_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("vtb.sftp");
	dev->mount_fs = VTB_MOUNT_SSHFS;
	dev->mount_opts = vtb_sshfs_opts(c->cache);
}

static char **sshfs_caches(const void *topts)
{
	return ((const struct vtb_sshfs_opts *)topts)->caches;
}

static char **sshfs_guest_tools(GError **err)
{
	char *client = vtb_sshfs_client(err);
	char **v;

	if (!client)
		return NULL;
	v = g_new0(char *, 2);
	v[0] = client;
	return v;
}

/*
 * sftp-server for one mount, its stdin and stdout the stream's host end.
 * Whatever the last session left in the stream is dropped first, so the
 * new server's first read is the new sshfs's.
 */
static struct vtb_child *sshfs_serve(struct vtb_vm *vm, struct vtb_device *d,
				     struct vtb_run *run, GError **err)
{
	g_autofree char *server = NULL, *args = NULL;
	g_auto(GStrv) argv = NULL;
	g_autoptr(GError) e = NULL;
	struct vtb_fdmap fds[2];
	char buf[4096];
	int fl;

	if (d->fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "sshfs: the stream %s has no host fd", d->name);
		return NULL;
	}
	server = vtb_sshfs_server(&e);
	if (!server) {
		/* Not asked for by name (the default matrix): a failed run. */
		g_set_error_literal(err, VTB_ERROR, VTB_ERR_RUN, e->message);
		return NULL;
	}
	args = vtb_sshfs_args(d->image, d->mount_opts, err);
	if (!args)
		return NULL;
	fl = fcntl(d->fd, F_GETFL);
	fcntl(d->fd, F_SETFL, fl | O_NONBLOCK);
	while (read(d->fd, buf, sizeof(buf)) > 0)
		;
	/* sftp-server reads and writes it as a blocking fd. */
	fcntl(d->fd, F_SETFL, fl & ~O_NONBLOCK);
	fds[0] = (struct vtb_fdmap){.src = d->fd, .dst = 0};
	fds[1] = (struct vtb_fdmap){.src = d->fd, .dst = 1};
	argv = vtb_sftp_server_argv(server, d->image);
	g_strlcpy(run->args, args, sizeof(run->args));
	return vtb_vm_spawn_helper_fds(vm, (const char *const *)argv,
				       "sftp-server.log", NULL, fds, 2, err);
}

static gboolean sshfs_check(const void *topts, GError **err)
{
	g_autofree char *server = vtb_sshfs_server(err);
	g_autofree char *client = server ? vtb_sshfs_client(err) : NULL;

	return client != NULL;
}

static void sshfs_record(const struct vtb_cell *c, void *builder)
{
	JsonBuilder *b = builder;
	const struct vtb_sshfs_opts *o =
		vtb_transport_opts(c->env->opts, &vtb_transport_sshfs);
	g_autofree char *opts = vtb_sshfs_opts(c->cache);
	g_autofree char *server = vtb_sshfs_server(NULL);

	json_builder_set_member_name(b, "channel");
	json_builder_add_string_value(b, channel_of(o));
	json_builder_set_member_name(b, "server");
	json_builder_add_string_value(b, server ? server : VTB_SFTP_SERVER);
	/* What Lima's reverse-sshfs has and this one has not. */
	json_builder_set_member_name(b, "encryption");
	json_builder_add_string_value(b, "none: SFTP straight on the channel, "
					 "no ssh");
	json_builder_set_member_name(b, "chroot");
	json_builder_add_boolean_value(b, FALSE);
	json_builder_set_member_name(b, "sshfs_options");
	json_builder_add_string_value(b, opts);
}

static const char *const cache_names[] = {"yes", "no", NULL};
static const char *const channel_names[] = {"virtio-serial", "serial", NULL};

#define OFF(f) offsetof(struct vtb_sshfs_opts, f)
/* clang-format off */
static const struct vtb_option sshfs_options[] = {
	{ "sshfs-cache", VTB_OPT_LIST, OFF(caches), "yes", "LIST",
	  "sshfs's directory cache (its -o dir_cache), a cell each: yes "
	  "(sshfs's default), no", NULL, 0, -1, cache_names },
	{ "sshfs-channel", VTB_OPT_STR, OFF(channel), "virtio-serial",
	  "CHANNEL", "the stream SFTP runs on: virtio-serial (a port of its "
	  "own) or serial (a serial line)", NULL, 0, -1, channel_names },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0, -1 },
};
/* clang-format on */

const struct vtb_transport_ops vtb_transport_sshfs = {
	.name = "sshfs",
	.kind = VTB_KIND_FS,
	.help = "a host directory over SFTP: the guest's sshfs (passive) on a "
		"virtio-serial port or serial line, OpenSSH's sftp-server on "
		"the host; no ssh, so no encryption (Lima's reverse-sshfs has "
		"ssh's), and sftp-server is not chrooted",
	.device = VTB_DEV_VIRTIO_SERIAL,
	.bus = "sshfs",
	.guest_modules = sshfs_modules,
	.describe = sshfs_describe,
	.options = sshfs_options,
	.options_size = sizeof(struct vtb_sshfs_opts),
	.cache_axis = sshfs_caches,
	.carrier = sshfs_carrier,
	.guest_tools = sshfs_guest_tools,
	.serve = sshfs_serve,
	.check = sshfs_check,
	.record = sshfs_record,
};
