/*
 * libvtbflush.so, LD_PRELOADed into the VMM (qemu, linux.uml,
 * qemu-storage-daemon): counts the flushes it makes on the guest's image
 * files into a shared counter file vtbench reads while the guest runs.
 *
 * The wrappers run in QEMU's thread pool, in UML's io thread (a bare clone()
 * with a small stack) and possibly in signal handlers, so after the
 * constructor they take no lock, allocate nothing and use little stack.
 * Whatever goes wrong, the VMM's call is still made and its result and
 * errno are left as they were: at worst a call is not counted.
 */
#undef _FORTIFY_SOURCE /* we define open(), which fortify makes inline */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "flush/vtbflush.h"

#define EXPORT __attribute__((visibility("default")))

/* glibc's fortified entry points, called when the VMM was built with
 * _FORTIFY_SOURCE and does not pass a mode. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* NULL until the constructor found a valid counter file and an image. */
static struct vtb_flush_shm *shm;
static struct {
	dev_t dev;
	ino_t ino;
} images[VTB_FLUSH_MAX_IMAGES];
static int n_images;

/*
 * fd → "is an image" for fds we saw opened or duplicated: a record kept
 * up to date, never trusted for a count (fd_is_image checks the inode).
 */
#define FD_BITS 65536
#define LONG_BITS (8 * sizeof(unsigned long))
static unsigned long fdmap[FD_BITS / LONG_BITS];

static struct vtb_flush_shm *active(void)
{
	return __atomic_load_n(&shm, __ATOMIC_ACQUIRE);
}

static void bump(struct vtb_flush_shm *s, enum vtb_flush_counter c)
{
	__atomic_add_fetch(&s->count[c], 1, __ATOMIC_RELAXED);
}

static bool bit_get(int fd)
{
	if (fd < 0 || fd >= FD_BITS)
		return false;
	return __atomic_load_n(&fdmap[fd / LONG_BITS], __ATOMIC_RELAXED) &
	       (1UL << (fd % LONG_BITS));
}

static void bit_put(int fd, bool on)
{
	unsigned long m;

	if (fd < 0 || fd >= FD_BITS)
		return;
	m = 1UL << (fd % LONG_BITS);
	if (on)
		__atomic_or_fetch(&fdmap[fd / LONG_BITS], m, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&fdmap[fd / LONG_BITS], ~m,
				   __ATOMIC_RELAXED);
}

static bool stat_is_image(const struct stat *st)
{
	for (int i = 0; i < n_images; i++)
		if (images[i].dev == st->st_dev && images[i].ino == st->st_ino)
			return true;
	return false;
}

/*
 * Caller saves errno.  The inode decides, every time: a set bit may be
 * stale (a close by the raw syscall, the number then reused), and a flush
 * costs far more than an fstat.
 */
static bool fd_is_image(int fd)
{
	struct stat st;
	bool img;

	if (fd < 0)
		return false;
	img = fstat(fd, &st) == 0 && stat_is_image(&st);
	if (img != bit_get(fd))
		bit_put(fd, img);
	return img;
}

/* Counted before the call, so a flush the VMM is killed in still shows. */
static void count_fd(int fd, enum vtb_flush_counter c)
{
	struct vtb_flush_shm *s = active();
	int saved = errno;

	if (s && fd_is_image(fd))
		bump(s, c);
	errno = saved;
}

/* After a successful open: remember what the fd is, count its flags. */
static int opened(int fd, int flags)
{
	struct vtb_flush_shm *s = active();
	int saved = errno;
	struct stat st;
	bool img;

	if (!s || fd < 0)
		return fd;
	img = fstat(fd, &st) == 0 && stat_is_image(&st);
	bit_put(fd, img);
	if (img && (flags & O_DSYNC)) /* O_SYNC includes the O_DSYNC bit */
		bump(s, VTB_FC_SYNC_OPENS);
	if (img && (flags & O_DIRECT))
		bump(s, VTB_FC_DIRECT_OPENS);
	errno = saved;
	return fd;
}

/*
 * The real functions.  Resolved by the constructor; a call made before it
 * (from another library's constructor) resolves lazily.  Should dlsym fail,
 * the wrappers make the system call themselves.
 */
enum real_fn {
	R_FSYNC,
	R_FDATASYNC,
	R_SYNC_FILE_RANGE,
	R_SYNCFS,
	R_OPEN,
	R_OPEN64,
	R_OPENAT,
	R_OPENAT64,
	R_OPEN_2,
	R_OPEN64_2,
	R_OPENAT_2,
	R_OPENAT64_2,
	R_CLOSE,
	R_CLOSE_RANGE,
	R_DUP,
	R_DUP2,
	R_DUP3,
	R_FCNTL,
	R_FCNTL64,
	R_PWRITEV2,
	R_PWRITEV64V2,
	R_N
};

static const char *const real_names[R_N] = {
	[R_FSYNC] = "fsync",
	[R_FDATASYNC] = "fdatasync",
	[R_SYNC_FILE_RANGE] = "sync_file_range",
	[R_SYNCFS] = "syncfs",
	[R_OPEN] = "open",
	[R_OPEN64] = "open64",
	[R_OPENAT] = "openat",
	[R_OPENAT64] = "openat64",
	[R_OPEN_2] = "__open_2",
	[R_OPEN64_2] = "__open64_2",
	[R_OPENAT_2] = "__openat_2",
	[R_OPENAT64_2] = "__openat64_2",
	[R_CLOSE] = "close",
	[R_CLOSE_RANGE] = "close_range",
	[R_DUP] = "dup",
	[R_DUP2] = "dup2",
	[R_DUP3] = "dup3",
	[R_FCNTL] = "fcntl",
	[R_FCNTL64] = "fcntl64",
	[R_PWRITEV2] = "pwritev2",
	[R_PWRITEV64V2] = "pwritev64v2",
};

static void *real_fns[R_N];

static void *real(enum real_fn f)
{
	void *p = __atomic_load_n(&real_fns[f], __ATOMIC_ACQUIRE);

	if (!p) {
		p = dlsym(RTLD_NEXT, real_names[f]);
		__atomic_store_n(&real_fns[f], p, __ATOMIC_RELEASE);
	}
	return p;
}

/* A path from VTB_FLUSH_PATHS: stat it, or count it as missing. */
static void add_image(struct vtb_flush_shm *s, const char *path)
{
	struct stat st;

	if (n_images == VTB_FLUSH_MAX_IMAGES || stat(path, &st) != 0 ||
	    (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		__atomic_add_fetch(&s->missing, 1, __ATOMIC_RELAXED);
		return;
	}
	images[n_images].dev = st.st_dev;
	images[n_images].ino = st.st_ino;
	n_images++;
}

static void parse_paths(struct vtb_flush_shm *s, const char *list)
{
	static char buf[PATH_MAX];
	size_t n = 0;
	bool overflow = false;

	for (const char *p = list;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == ':' || !*p) {
			if (overflow)
				__atomic_add_fetch(&s->missing, 1,
						   __ATOMIC_RELAXED);
			else if (n) {
				buf[n] = '\0';
				add_image(s, buf);
			}
			n = 0;
			overflow = false;
			if (!*p)
				break;
			continue;
		}
		if (n + 1 < sizeof(buf))
			buf[n++] = *p;
		else
			overflow = true;
	}
}

/* Maps the counter file; NULL when it is absent or not ours. */
static struct vtb_flush_shm *map_counters(const char *path)
{
	struct vtb_flush_shm *s;
	struct stat st;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(*s)) {
		syscall(SYS_close, fd);
		return NULL;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	syscall(SYS_close, fd);
	if (s == MAP_FAILED)
		return NULL;
	if (s->magic != VTB_FLUSH_MAGIC || s->version != VTB_FLUSH_VERSION ||
	    s->size != sizeof(*s)) {
		munmap(s, sizeof(*s));
		return NULL;
	}
	return s;
}

__attribute__((constructor)) static void vtbflush_init(void)
{
	const char *file = getenv(VTB_FLUSH_ENV_FILE);
	const char *paths = getenv(VTB_FLUSH_ENV_PATHS);
	struct vtb_flush_shm *s;
	int saved = errno;

	for (int i = 0; i < R_N; i++)
		real((enum real_fn)i);
	if (!file || !*file || !paths)
		goto out;
	s = map_counters(file);
	if (!s)
		goto out;
	parse_paths(s, paths);
	__atomic_add_fetch(&s->attached, 1, __ATOMIC_RELAXED);
	if (n_images)
		__atomic_store_n(&shm, s, __ATOMIC_RELEASE);
out:
	errno = saved;
}

/* Flushes. */

EXPORT int fsync(int fd)
{
	int (*f)(int) = real(R_FSYNC);

	count_fd(fd, VTB_FC_FSYNC);
	return f ? f(fd) : (int)syscall(SYS_fsync, fd);
}

EXPORT int fdatasync(int fd)
{
	int (*f)(int) = real(R_FDATASYNC);

	count_fd(fd, VTB_FC_FDATASYNC);
	return f ? f(fd) : (int)syscall(SYS_fdatasync, fd);
}

EXPORT int sync_file_range(int fd, off64_t off, off64_t len, unsigned flags)
{
	int (*f)(int, off64_t, off64_t, unsigned) = real(R_SYNC_FILE_RANGE);

	count_fd(fd, VTB_FC_SYNC_FILE_RANGE);
	return f ? f(fd, off, len, flags)
		 : (int)syscall(SYS_sync_file_range, fd, off, len, flags);
}

EXPORT int syncfs(int fd)
{
	int (*f)(int) = real(R_SYNCFS);

	count_fd(fd, VTB_FC_SYNCFS);
	return f ? f(fd) : (int)syscall(SYS_syncfs, fd);
}

static ssize_t do_pwritev2(enum real_fn r, int fd, const struct iovec *iov,
			   int cnt, off64_t off, int flags)
{
	ssize_t (*f)(int, const struct iovec *, int, off64_t, int) = real(r);

	if (flags & (RWF_DSYNC | RWF_SYNC))
		count_fd(fd, VTB_FC_DSYNC_WRITES);
	if (f)
		return f(fd, iov, cnt, off, flags);
	/* The kernel takes the offset as two longs, low half first. */
	return syscall(SYS_pwritev2, fd, iov, cnt, (long)off, 0L, flags);
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
			int flags)
{
	return do_pwritev2(R_PWRITEV2, fd, iov, cnt, off, flags);
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt,
			   off64_t off, int flags)
{
	return do_pwritev2(R_PWRITEV64V2, fd, iov, cnt, off, flags);
}

/* Opens. */

static bool needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static int do_openat(enum real_fn r, int dirfd, const char *path, int flags,
		     mode_t mode)
{
	int (*f)(int, const char *, int, ...) = real(r);

	if (f)
		return opened(f(dirfd, path, flags, mode), flags);
	return opened((int)syscall(SYS_openat, dirfd, path, flags, mode),
		      flags);
}

static int do_open(enum real_fn r, const char *path, int flags, mode_t mode)
{
	int (*f)(const char *, int, ...) = real(r);

	if (f)
		return opened(f(path, flags, mode), flags);
	return opened((int)syscall(SYS_openat, AT_FDCWD, path, flags, mode),
		      flags);
}

#define MODE_ARG(flags, last)                                                  \
	({                                                                     \
		mode_t m_ = 0;                                                 \
		if (needs_mode(flags)) {                                       \
			va_list ap_;                                           \
			va_start(ap_, last);                                   \
			m_ = va_arg(ap_, mode_t);                              \
			va_end(ap_);                                           \
		}                                                              \
		m_;                                                            \
	})

EXPORT int open(const char *path, int flags, ...)
{
	return do_open(R_OPEN, path, flags, MODE_ARG(flags, flags));
}

EXPORT int open64(const char *path, int flags, ...)
{
	return do_open(R_OPEN64, path, flags, MODE_ARG(flags, flags));
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	return do_openat(R_OPENAT, dirfd, path, flags, MODE_ARG(flags, flags));
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	return do_openat(R_OPENAT64, dirfd, path, flags,
			 MODE_ARG(flags, flags));
}

/* The fortified ones take no mode; glibc's own checks stay in force. */
static int do_open_2(enum real_fn r, int dirfd, const char *path, int flags)
{
	if (r == R_OPEN_2 || r == R_OPEN64_2) {
		int (*f)(const char *, int) = real(r);

		if (f)
			return opened(f(path, flags), flags);
	} else {
		int (*f)(int, const char *, int) = real(r);

		if (f)
			return opened(f(dirfd, path, flags), flags);
	}
	return opened((int)syscall(SYS_openat, dirfd, path, flags, 0), flags);
}

EXPORT int __open_2(const char *path, int flags)
{
	return do_open_2(R_OPEN_2, AT_FDCWD, path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	return do_open_2(R_OPEN64_2, AT_FDCWD, path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return do_open_2(R_OPENAT_2, dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return do_open_2(R_OPENAT64_2, dirfd, path, flags);
}

/*
 * Closes and duplicates keep the cache right.  The bit is cleared before
 * the close: once closed, the number may be reused by another thread.
 */

EXPORT int close(int fd)
{
	int (*f)(int) = real(R_CLOSE);

	bit_put(fd, false);
	return f ? f(fd) : (int)syscall(SYS_close, fd);
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	int (*f)(unsigned, unsigned, int) = real(R_CLOSE_RANGE);

	/* qemu closes everything above 2 in its children: whole words then. */
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		for (unsigned fd = first; fd <= last && fd < FD_BITS;) {
			if (fd % LONG_BITS == 0 && last - fd >= LONG_BITS - 1) {
				__atomic_store_n(&fdmap[fd / LONG_BITS], 0,
						 __ATOMIC_RELAXED);
				fd += LONG_BITS;
			} else {
				bit_put((int)fd++, false);
			}
		}
	return f ? f(first, last, flags)
		 : (int)syscall(SYS_close_range, first, last, flags);
}

/* @to now refers to what @from does. */
static int duplicated(int from, int to)
{
	if (to >= 0 && to != from)
		bit_put(to, bit_get(from));
	return to;
}

EXPORT int dup(int fd)
{
	int (*f)(int) = real(R_DUP);

	return duplicated(fd, f ? f(fd) : (int)syscall(SYS_dup, fd));
}

EXPORT int dup2(int fd, int to)
{
	int (*f)(int, int) = real(R_DUP2);

	if (fd != to)
		bit_put(to, false); /* dup2 closes it */
	return duplicated(fd, f ? f(fd, to) : (int)syscall(SYS_dup2, fd, to));
}

EXPORT int dup3(int fd, int to, int flags)
{
	int (*f)(int, int, int) = real(R_DUP3);

	if (fd != to)
		bit_put(to, false);
	return duplicated(fd, f ? f(fd, to, flags)
				: (int)syscall(SYS_dup3, fd, to, flags));
}

static int do_fcntl(enum real_fn r, int fd, int cmd, void *arg)
{
	int (*f)(int, int, ...) = real(r);
	int before = 0, ret;
	bool direct_on = false;

	/* F_SETFL can turn O_DIRECT on: count that as a direct open. */
	if (cmd == F_SETFL && ((long)arg & O_DIRECT) && active()) {
		int saved = errno;

		if (fd_is_image(fd)) {
			before = f ? f(fd, F_GETFL)
				   : (int)syscall(SYS_fcntl, fd, F_GETFL);
			direct_on = before >= 0 && !(before & O_DIRECT);
		}
		errno = saved;
	}
	ret = f ? f(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
	if (direct_on && ret == 0 && active())
		bump(active(), VTB_FC_DIRECT_OPENS);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		duplicated(fd, ret);
	return ret;
}

/* Every command takes at most one argument, an int or a pointer. */
EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(R_FCNTL, fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(R_FCNTL64, fd, cmd, arg);
}
