/*
 * 9P on UML: no virtio-9p there, so the guest mounts 9p with trans=fd
 * over a stream it opens (a virtio-console port or a serial line), and
 * diod, Debian's 9P server, serves the directory on the host end (a
 * helper child; a bridge thread in between, vhost/bridge.h).  The pure
 * parts, unit-tested.
 */
#ifndef VTB_UML_NINEP_H
#define VTB_UML_NINEP_H

#include <glib.h>

/*
 * The fd transport's largest msize: Linux 6.1 net/9p/trans_fd.c's
 * MAX_SOCK_BUF.  UML 6.1 says "Limiting 'msize' to 1048576 as this is
 * the maximum supported by transport fd" when asked 2M (measured), where
 * virtio's takes 2M.
 */
#define VTB_UML_9P_MSIZE_MAX (1u << 20)
/* What diod 1.0.24 answers to any larger Tversion (measured: asked 1M,
 * /proc/mounts shows msize=65536): recorded, not refused. */
#define VTB_DIOD_MSIZE_MAX 65536u
/* Debian's diod; $VTBENCH_DIOD names another (the tests: one that is
 * missing). */
#define VTB_DIOD "/usr/sbin/diod"
/* The channels 9p rides on UML (--9p-uml-line), the first the default. */
extern const char *const vtb_uml_9p_lines[];

/*
 * The diod to run: $VTBENCH_DIOD when set (a path, or a name looked up in
 * PATH), else VTB_DIOD, else "diod" in PATH.  NULL with why not in @why
 * (newly allocated, one line) when there is none.
 */
char *vtb_diod_find(char **why);

/*
 * argv of diod serving @dir, and only it, to the one client on fd @fd (both
 * directions): in the foreground, no authentication, no user database
 * (the guest's root attaches as uname=root), no config file, its log on
 * stderr (newly allocated).
 */
GStrv vtb_diod_argv(const char *diod, const char *dir, int fd);

/*
 * The mount data of 9p over a stream from the transport's @opts (written
 * for virtio: trans=virtio,...,msize=N,cache=C): trans=fd, and the export
 * as aname, the guest's root as uname; the agent adds rfdno/wfdno.  NULL
 * with @err when @dir cannot be an aname (a ',' would split it).
 */
char *vtb_uml_9p_opts(const char *opts, const char *dir, GError **err);

/* msize=N of mount data @opts, or 0 when it has none. */
guint64 vtb_9p_opts_msize(const char *opts);

/* diod's version ("1.0.24") from its binary's "diod-X.Y.Z" string, or
 * NULL (diod has no --version). */
char *vtb_diod_version(const char *diod);

#endif
