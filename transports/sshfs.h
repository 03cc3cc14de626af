/* Transport `sshfs`: the pure parts (paths, argv, the guest's arguments),
 * for the unit tests. */
#ifndef VTB_TRANSPORTS_SSHFS_H
#define VTB_TRANSPORTS_SSHFS_H

#include <glib.h>

#include "core/vtbench.h"

/* Where Debian's openssh-sftp-server puts it. */
#define VTB_SFTP_SERVER "/usr/lib/openssh/sftp-server"
/* For tests: the host's sftp-server and the sshfs the guest gets. */
#define VTB_SFTP_SERVER_ENV "VTBENCH_SFTP_SERVER"
#define VTB_SSHFS_ENV "VTBENCH_SSHFS"

struct vtb_sshfs_opts {
	char **caches; /* --sshfs-cache: yes, no (a cell each) */
	char *channel; /* --sshfs-channel: virtio-serial, serial */
};

/*
 * The programs: $VTBENCH_SFTP_SERVER, else VTB_SFTP_SERVER, else
 * sftp-server in PATH; $VTBENCH_SSHFS, else sshfs in PATH.  Newly
 * allocated, or NULL with VTB_ERR_USAGE and one line naming what is
 * missing (and its Debian package).
 */
char *vtb_sshfs_server(GError **err);
char *vtb_sshfs_client(GError **err);

/* argv of sftp-server serving @dir (its start directory), errors on its
 * stderr (newly allocated). */
GStrv vtb_sftp_server_argv(const char *server, const char *dir);

/*
 * The guest's sshfs arguments before its mount point, as a RUN's `args`
 * (space-separated): foreground, passive (SFTP on stdin/stdout), the -o
 * options @opts (dir_cache=..., then --mount-opts), and @dir on the host.
 * NULL with @err when @dir or @opts cannot travel that way (a space, a
 * control character) or it does not fit VTB_STR_ARGS.
 */
char *vtb_sshfs_args(const char *dir, const char *opts, GError **err);

/* sshfs's -o options for cache mode @cache ("yes", "no"): newly
 * allocated. */
char *vtb_sshfs_opts(const char *cache);

#endif
