/* Child processes, private temp dirs and signals: nothing outlives vtbench. */
#include "core/proc.h"
#include "core/vtbench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CHILDREN 64
/* Read by the signal handler: plain ints, written with signals blocked. */
static volatile sig_atomic_t live_pgids[MAX_CHILDREN];
static volatile sig_atomic_t got_signal;
static GPtrArray *tmpdirs;

static void on_signal(int sig)
{
	int saved = errno;

	got_signal = sig;
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (live_pgids[i] > 0)
			kill(-(pid_t)live_pgids[i], SIGKILL);
	errno = saved;
}

void vtb_signals_install(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	/* No SA_RESTART: blocked syscalls return EINTR and the waits notice. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool vtb_interrupted(void)
{
	return got_signal != 0;
}

int vtb_interrupt_signal(void)
{
	return got_signal;
}

static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void register_pgid(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (live_pgids[i] == 0) {
			live_pgids[i] = pid;
			return;
		}
}

static void unregister_pgid(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (live_pgids[i] == pid)
			live_pgids[i] = 0;
}

char *vtb_find_program(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? g_strdup(name) : NULL;
	return g_find_program_in_path(name);
}

/* Runs between fork and exec: async-signal-safe calls only. */
static void G_GNUC_NORETURN child_exec(const char *path, char *const *argv,
				       char *const *envp, int log_fd,
				       const struct vtb_fdmap *fds, size_t nfds,
				       pid_t parent, const sigset_t *old)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	int hi[16];
	int maxfd = 2, nul;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	sigaction(SIGINT, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGHUP, &dfl, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	sigprocmask(SIG_SETMASK, old, NULL);

	/* Move sources out of the way first so dup2 cannot clobber one. */
	for (size_t i = 0; i < nfds && i < 16; i++) {
		hi[i] = fcntl(fds[i].src, F_DUPFD, 200 + (int)i);
		if (hi[i] < 0)
			_exit(126);
		if (fds[i].dst > maxfd)
			maxfd = fds[i].dst;
	}
	if (log_fd >= 0)
		log_fd = fcntl(log_fd, F_DUPFD, 190);
	nul = open("/dev/null", O_RDWR);
	if (nul < 0)
		_exit(126);
	dup2(nul, 0);
	dup2(log_fd >= 0 ? log_fd : nul, 1);
	dup2(log_fd >= 0 ? log_fd : nul, 2);
	for (size_t i = 0; i < nfds && i < 16; i++) {
		dup2(hi[i], fds[i].dst);
		/* dup2 clears FD_CLOEXEC on the new fd. */
	}
	syscall(SYS_close_range, maxfd + 1, ~0U, 0);
	execve(path, argv, envp);
	_exit(127);
}

gboolean vtb_child_spawn(struct vtb_child *c, const char *const *argv,
			 int log_fd, const struct vtb_fdmap *fds, size_t nfds,
			 const char *const *env_set, GError **err)
{
	g_autofree char *path = vtb_find_program(argv[0]);
	g_autoptr(GPtrArray) envp = g_ptr_array_new();
	sigset_t old;
	pid_t parent = getpid(), pid;

	c->pid = 0;
	c->pidfd = -1;
	c->reaped = false;
	{
		g_autofree char *base = g_path_get_basename(argv[0]);

		g_strlcpy(c->name, base, sizeof(c->name));
	}
	if (!path) {
		g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
			    "run %s: program not found", argv[0]);
		return FALSE;
	}
	if (nfds > 16) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "run %s: too many fds",
			    argv[0]);
		return FALSE;
	}
	/* Our settings replace inherited ones of the same name: the VMM's
	 * getenv() would return the first. */
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		bool replaced = false;

		for (const char *const *s = env_set; eq && s && *s; s++)
			if (strncmp(*s, *e, eq - *e + 1) == 0)
				replaced = true;
		if (!replaced)
			g_ptr_array_add(envp, *e);
	}
	for (const char *const *e = env_set; e && *e; e++)
		g_ptr_array_add(envp, (char *)*e);
	g_ptr_array_add(envp, NULL);

	block_signals(&old);
	c->t_spawn_us = g_get_monotonic_time();
	pid = fork();
	if (pid == 0)
		child_exec(path, (char *const *)argv,
			   (char *const *)envp->pdata, log_fd, fds, nfds,
			   parent, &old);
	if (pid < 0) {
		int e = errno;

		sigprocmask(SIG_SETMASK, &old, NULL);
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "fork for %s: %s",
			    argv[0], g_strerror(e));
		return FALSE;
	}
	/* Also here, so the group exists before anyone signals it. */
	setpgid(pid, pid);
	c->pid = pid;
	register_pgid(pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (vtb_interrupted())
		kill(-pid, SIGKILL);
	return TRUE;
}

static gboolean reap(struct vtb_child *c, int flags)
{
	int status;
	pid_t r;

	if (c->reaped || c->pid <= 0)
		return TRUE;
	do
		r = waitpid(c->pid, &status, flags);
	while (r < 0 && errno == EINTR);
	if (r == c->pid || (r < 0 && errno == ECHILD)) {
		c->status = r == c->pid ? status : 0;
		c->reaped = true;
		/* Reap stragglers that stayed in the group (UML's helpers). */
		kill(-c->pid, SIGKILL);
		unregister_pgid(c->pid);
		if (c->pidfd >= 0)
			close(c->pidfd);
		c->pidfd = -1;
		return TRUE;
	}
	return FALSE;
}

gboolean vtb_child_wait(struct vtb_child *c, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	if (c->reaped || c->pid <= 0)
		return TRUE;
	if (timeout_ms < 0)
		return reap(c, 0);
	for (;;) {
		gint64 left;
		struct pollfd p = {.fd = c->pidfd, .events = POLLIN};

		if (reap(c, WNOHANG))
			return TRUE;
		left = (deadline - g_get_monotonic_time()) / 1000;
		if (left <= 0)
			return FALSE;
		if (c->pidfd >= 0)
			poll(&p, 1, (int)MIN(left, 1000));
		else
			g_usleep(MIN(left, 10) * 1000);
	}
}

void vtb_child_kill(struct vtb_child *c)
{
	if (c->pid <= 0 || c->reaped)
		return;
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	reap(c, 0);
}

char *vtb_child_describe_status(const struct vtb_child *c)
{
	if (!c->reaped)
		return g_strdup("still running");
	if (WIFEXITED(c->status))
		return g_strdup_printf("exited with status %d",
				       WEXITSTATUS(c->status));
	if (WIFSIGNALED(c->status))
		return g_strdup_printf("killed by signal %d (%s)",
				       WTERMSIG(c->status),
				       strsignal(WTERMSIG(c->status)));
	return g_strdup_printf("ended with wait status %#x", c->status);
}

char *vtb_tmpdir_new(const char *prefix, GError **err)
{
	g_autofree char *tmpl = g_strdup_printf("%s-XXXXXX", prefix);
	char *dir = g_dir_make_tmp(tmpl, err);

	if (!dir)
		return NULL;
	if (!tmpdirs)
		tmpdirs = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(tmpdirs, g_strdup(dir));
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	remove(path);
	return 0;
}

static int rm_below(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0 && remove(path) < 0 && errno != ENOENT)
		return errno;
	return 0;
}

gboolean vtb_dir_empty(const char *path, GError **err)
{
	int e = nftw(path, rm_below, 16, FTW_DEPTH | FTW_PHYS);

	if (e) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "empty %s: %s", path,
			    g_strerror(e > 0 ? e : errno));
		return FALSE;
	}
	return TRUE;
}

void vtb_tmpdir_remove(const char *path)
{
	if (!path)
		return;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (tmpdirs)
		for (guint i = 0; i < tmpdirs->len; i++)
			if (g_str_equal(tmpdirs->pdata[i], path)) {
				g_ptr_array_remove_index(tmpdirs, i);
				break;
			}
}

void vtb_cleanup_all(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		pid_t p = live_pgids[i];

		if (p > 0) {
			kill(-p, SIGKILL);
			waitpid(p, NULL, 0);
			live_pgids[i] = 0;
		}
	}
	while (tmpdirs && tmpdirs->len) {
		g_autofree char *d = g_strdup(tmpdirs->pdata[0]);

		vtb_tmpdir_remove(d);
	}
}

double vtb_now_s(void)
{
	return (double)g_get_monotonic_time() / 1e6;
}

char *vtb_tail_file(const char *path, int n)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	const char *p;
	int lines = 0;

	if (!path || !g_file_get_contents(path, &data, &len, NULL) || !len)
		return g_strdup("");
	p = data + len;
	while (p > data && (p[-1] == '\n' || p[-1] == '\r'))
		p--;
	while (p > data) {
		if (p[-1] == '\n' && ++lines == n)
			break;
		p--;
	}
	return g_strstrip(g_utf8_make_valid(p, data + len - p));
}

void vtb_strv_take(GStrvBuilder *b, char *s)
{
	g_strv_builder_add(b, s);
	g_free(s);
}
