/* Child processes, private temp dirs and signals: nothing outlives vtbench. */
#ifndef VTB_PROC_H
#define VTB_PROC_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* An fd the child gets at a fixed number (dup2'ed after fork). */
struct vtb_fdmap {
	int src;
	int dst;
};

struct vtb_child {
	pid_t pid;  /* also the process group id; 0 when not running */
	int pidfd;  /* readable when the child exited; -1 when none */
	int status; /* wait status once reaped */
	bool reaped;
	gint64 t_spawn_us; /* g_get_monotonic_time() just before fork */
	char name[32];	   /* basename of the program, for messages */
};

/*
 * Install SIGINT/SIGTERM/SIGHUP handlers.  On a signal every registered
 * child's process group gets SIGKILL from the handler itself (so a guest
 * stuck in a tight loop cannot delay it) and vtb_interrupted() turns true;
 * the code waiting on a channel then sees EOF and unwinds normally.
 */
void vtb_signals_install(void);
bool vtb_interrupted(void);
int vtb_interrupt_signal(void);

/*
 * Spawn @argv[0] (a path, or a name looked up in PATH) in its own process
 * group, with SIGKILL as its parent-death signal, stdin from /dev/null and
 * stdout+stderr to @log_fd (or /dev/null when -1), plus the extra @fds.
 * Every other fd is closed.  @env_set: NULL or "NAME=value" strings added
 * to the environment.  The child is registered for the signal handler.
 */
gboolean vtb_child_spawn(struct vtb_child *c, const char *const *argv,
			 int log_fd, const struct vtb_fdmap *fds, size_t nfds,
			 const char *const *env_set, GError **err);

/*
 * Wait up to @timeout_ms (-1 forever, 0 poll) for the child to exit and
 * reap it.  Returns TRUE when reaped.
 */
gboolean vtb_child_wait(struct vtb_child *c, int timeout_ms);

/* SIGKILL the whole process group, reap, unregister. Safe to call twice. */
void vtb_child_kill(struct vtb_child *c);

/* "exited with status 1" / "killed by signal 9 (Killed)". */
char *vtb_child_describe_status(const struct vtb_child *c);

/*
 * Make a private 0700 directory under $TMPDIR (or /tmp), registered so it
 * is removed (recursively) by vtb_tmpdir_remove() or at the latest by
 * vtb_cleanup_all().
 */
char *vtb_tmpdir_new(const char *prefix, GError **err);
void vtb_tmpdir_remove(const char *path);
/* Remove everything inside the directory @path, which stays. */
gboolean vtb_dir_empty(const char *path, GError **err);

/* Kill every child still registered and remove every temp dir. */
void vtb_cleanup_all(void);

/* Monotonic clock in seconds (double), for reports. */
double vtb_now_s(void);

/* Last @n lines of the file at @path, "" when unreadable. */
char *vtb_tail_file(const char *path, int n);

/* Resolve @name via PATH (or check it when it has a '/'); NULL if absent. */
char *vtb_find_program(const char *name);

/* Add @s to @b and free it (g_strv_builder_take is GLib 2.80). */
void vtb_strv_take(GStrvBuilder *b, char *s);

#endif
