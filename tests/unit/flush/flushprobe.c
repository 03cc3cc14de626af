/*
 * Makes the calls a VMM makes on its disk images, as argv says, so
 * test_flush can check what libvtbflush.so counts.  Exits 1 naming the
 * first operation that did not behave as it does without the preload.
 *
 *   open=P open-sync=P open-dsync=P open-direct=P   open(2) P, O_RDWR + flag
 *   openat=P open2=P              openat(), __open_2(), O_RDWR | O_DSYNC
 *   sysopen=P                     O_RDWR by the raw syscall, unseen by libc
 *   fsync fdatasync sfr syncfs    on the current fd (sfr: sync_file_range)
 *   pwritev2=none|dsync|sync      one 4 KiB write at 0 with those flags
 *   dup dup2=N dupfd setfl-direct close pipe   (the new fd becomes current)
 *   closefrom                     close_range(3, ~0U, 0)
 *   sysdup2=N                     dup2 by the raw syscall, unseen by libc
 *   sysclose                      close by the raw syscall, unseen by libc
 *   fsync-fails                   fsync, which must fail with EINVAL
 *   threads=N,M                   N threads doing M fdatasyncs each
 *   cd=DIR                        chdir
 *   hold                          print "ready", wait for EOF on stdin
 *   die                           SIGKILL itself
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int __open_2(const char *path, int flags);

static int cur = -1;

static void *hammer(void *arg)
{
	long m = (long)arg;

	for (long i = 0; i < m; i++)
		if (fdatasync(cur) != 0)
			return (void *)1;
	return NULL;
}

static int threads(const char *arg)
{
	pthread_t t[64];
	long n, m;
	int bad = 0;

	if (sscanf(arg, "%ld,%ld", &n, &m) != 2 || n < 1 || n > 64)
		return -1;
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, hammer, (void *)m) != 0)
			return -1;
	for (long i = 0; i < n; i++) {
		void *r;

		pthread_join(t[i], &r);
		bad |= r != NULL;
	}
	return bad ? -1 : 0;
}

static int pwrite2(const char *how)
{
	static char buf[4096];
	struct iovec iov = {buf, sizeof(buf)};
	int flags = !strcmp(how, "dsync")  ? RWF_DSYNC
		    : !strcmp(how, "sync") ? RWF_SYNC
					   : 0;

	memset(buf, 'v', sizeof(buf));
	if (pwritev2(cur, &iov, 1, 0, flags) != (ssize_t)sizeof(buf))
		return -1;
	return 0;
}

static int set(int fd)
{
	if (fd < 0)
		return -1;
	cur = fd;
	return 0;
}

static int op(const char *o)
{
	const char *eq = strchr(o, '=');
	const char *a = eq ? eq + 1 : "";
	size_t n = eq ? (size_t)(eq - o) : strlen(o);
	int p[2];

#define IS(name) (n == strlen(name) && !strncmp(o, name, n))
	if (IS("open"))
		return set(open(a, O_RDWR));
	if (IS("open-sync"))
		return set(open(a, O_RDWR | O_SYNC));
	if (IS("open-dsync"))
		return set(open(a, O_RDWR | O_DSYNC));
	if (IS("open-direct"))
		return set(open(a, O_RDWR | O_DIRECT));
	if (IS("openat"))
		return set(openat(AT_FDCWD, a, O_RDWR | O_DSYNC));
	if (IS("open2"))
		return set(__open_2(a, O_RDWR | O_DSYNC));
	if (IS("sysopen"))
		return set((int)syscall(SYS_openat, AT_FDCWD, a, O_RDWR));
	if (IS("fsync"))
		return fsync(cur);
	if (IS("fdatasync"))
		return fdatasync(cur);
	if (IS("sfr"))
		return sync_file_range(cur, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (IS("syncfs"))
		return syncfs(cur);
	if (IS("pwritev2"))
		return pwrite2(a);
	if (IS("dup"))
		return set(dup(cur));
	if (IS("dup2"))
		return set(dup2(cur, atoi(a)));
	if (IS("dupfd"))
		return set(fcntl(cur, F_DUPFD_CLOEXEC, 20));
	if (IS("setfl-direct"))
		return fcntl(cur, F_SETFL, fcntl(cur, F_GETFL) | O_DIRECT);
	if (IS("close"))
		return close(cur);
	if (IS("sysclose"))
		return (int)syscall(SYS_close, cur);
	if (IS("closefrom"))
		return close_range(3, ~0U, 0);
	if (IS("sysdup2"))
		return set((int)syscall(SYS_dup2, cur, atoi(a)));
	if (IS("pipe"))
		return pipe(p) == 0 ? set(p[0]) : -1;
	if (IS("fsync-fails"))
		return fsync(cur) == -1 && errno == EINVAL ? 0 : -1;
	if (IS("threads"))
		return threads(a);
	if (IS("cd"))
		return chdir(a);
	if (IS("hold")) {
		char c;

		printf("ready\n");
		fflush(stdout);
		/* Until stdin closes: a failed test leaves no probe. */
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	if (IS("die"))
		return raise(SIGKILL);
#undef IS
	return -1;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (op(argv[i]) != 0) {
			fprintf(stderr, "flushprobe: %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
	}
	return 0;
}
