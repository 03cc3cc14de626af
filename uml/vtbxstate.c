/*
 * libvtbxstate.so, LD_PRELOADed into linux.uml where vtbench's boot test
 * found it needed: wraps ptrace() so that UML's NT_X86_XSTATE SETREGSET
 * reaches the host with the full size the host demands (uml/xstate.h).
 * Every other call goes to libc's ptrace() untouched.
 *
 * UML calls ptrace() on its kernel stacks (16 KiB) and may do so from a
 * signal handler, so the wrapper takes no lock, allocates only with mmap
 * and keeps the xstate buffer off the stack.  errno and the result are the
 * kernel's, whichever path a call took.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uml/xstate.h"

#define EXPORT __attribute__((visibility("default")))

typedef long (*libc_ptrace_fn)(enum __ptrace_request req, ...);

static libc_ptrace_fn real_ptrace;
static struct vtb_xstate_shm *shm;
static struct vtb_xstate_layout layout;
static bool have_layout, observe;
static size_t emulate;	 /* 0: UML's own length */
static size_t host_len;	 /* 0 until the first call measured it */
static uint8_t *scratch; /* host_len bytes, mapped once */
static size_t scratch_cap;
static int busy; /* scratch in use (a call from a signal handler) */

static long raw_ptrace(int req, pid_t pid, void *addr, void *data)
{
	return syscall(SYS_ptrace, req, pid, addr, data);
}

/* Macros, not functions: &shm->f of a NULL shm would be undefined. */
#define BUMP(f)                                                                \
	do {                                                                   \
		if (shm)                                                       \
			__atomic_add_fetch(&shm->f, 1, __ATOMIC_RELAXED);      \
	} while (0)
#define PUT(f, v)                                                              \
	do {                                                                   \
		if (shm)                                                       \
			__atomic_store_n(&shm->f, (v), __ATOMIC_RELAXED);      \
	} while (0)

static void *map(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

__attribute__((constructor)) static void init(void)
{
	const char *file = getenv(VTB_XSTATE_ENV_FILE);
	const char *mode = getenv(VTB_XSTATE_ENV_MODE);
	const char *emu = getenv(VTB_XSTATE_ENV_EMULATE);
	int fd;

	real_ptrace = (libc_ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	observe = mode && strcmp(mode, "observe") == 0;
	if (emu && *emu)
		emulate = strtoul(emu, NULL, 0);
	have_layout = vtb_xstate_layout_host(&layout) == 0;
	if (have_layout) {
		/* Room for every component the CPU has, and a page. */
		scratch_cap = (layout.max_size + 8191) & ~(size_t)4095;
		scratch = map(scratch_cap);
	}
	if (!file || !*file)
		return;
	fd = open(file, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   0);
	close(fd);
	if (shm == MAP_FAILED || shm->magic != VTB_XSTATE_MAGIC ||
	    shm->version != VTB_XSTATE_VERSION || shm->size != sizeof(*shm)) {
		if (shm != MAP_FAILED)
			munmap(shm, sizeof(*shm));
		shm = NULL;
		return;
	}
	BUMP(attached);
}

/* The host's size, asked once of the first tracee (also to report it). */
static void measure(pid_t pid)
{
	int e = errno;

	if (host_len || !scratch ||
	    __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return;
	host_len = vtb_xstate_host_len(raw_ptrace, pid, scratch, scratch_cap);
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	PUT(host_len, host_len);
	errno = e;
}

static long xstate_set(pid_t pid, struct iovec *iov)
{
	size_t len = iov->iov_len;
	uint8_t *buf = scratch;
	int fixed = 0, e;
	long r;

	if (emulate && emulate < len)
		len = emulate;
	BUMP(sets);
	PUT(uml_len, len);
	measure(pid);
	if (observe || !have_layout || !host_len || len >= host_len) {
		struct iovec v = {.iov_base = iov->iov_base, .iov_len = len};

		r = raw_ptrace(PTRACE_SETREGSET, pid,
			       (void *)(uintptr_t)NT_X86_XSTATE, &v);
		goto out;
	}
	/* Reentered from a signal handler: a buffer of its own. */
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
		buf = map(host_len);
		if (!buf) {
			errno = ENOMEM;
			r = -1;
			goto out;
		}
	}
	r = vtb_xstate_set(raw_ptrace, &layout, pid, iov->iov_base, len, buf,
			   host_len, &fixed);
	e = errno;
	if (buf == scratch)
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	else
		munmap(buf, host_len);
	errno = e;
out:
	if (r < 0) {
		e = errno;
		BUMP(failed);
		PUT(last_errno, e);
		errno = e;
	} else if (fixed) {
		BUMP(fixed);
	}
	return r;
}

static long xstate_get(pid_t pid, struct iovec *iov)
{
	BUMP(gets);
	if (emulate && emulate < iov->iov_len)
		iov->iov_len = emulate;
	PUT(uml_len, iov->iov_len);
	measure(pid);
	/* A short GET is fine: the kernel copies what fits. */
	return raw_ptrace(PTRACE_GETREGSET, pid,
			  (void *)(uintptr_t)NT_X86_XSTATE, iov);
}

EXPORT long ptrace(enum __ptrace_request req, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, req);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	if ((req == PTRACE_SETREGSET || req == PTRACE_GETREGSET) &&
	    (uintptr_t)addr == NT_X86_XSTATE && data) {
		return req == PTRACE_SETREGSET ? xstate_set(pid, data)
					       : xstate_get(pid, data);
	}
	if (!real_ptrace) {
		errno = ENOSYS;
		return -1;
	}
	return real_ptrace(req, pid, addr, data);
}
