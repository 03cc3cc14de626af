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
 *
 * UML reads a tracee's FPU state (GET) after every stop and writes it
 * (SET) before every resume, so a guest syscall costs one of each.  The
 * fix needs the tracee's full state for a SET; rather than a GET of its
 * own each time (1.7 us here, +30 % on UML's FPU handling), UML's short
 * GET is done at full size into a per-tracee copy, and a SET uses that
 * copy while it is still the tracee's state: until the tracee is resumed
 * or touched by any request that may change it (vtb_xstate_req_keeps).
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
static int busy; /* scratch and cache in use (a signal handler's call) */

static void *map(size_t n);

/* The per-tracee copies: a slot by pid, host_len bytes each. */
#define SLOTS 64
static struct {
	pid_t pid;
	int valid; /* the copy is the tracee's state right now */
} slot[SLOTS];
static uint8_t *cache; /* SLOTS * host_len, mapped on first use */

static unsigned slot_of(pid_t pid)
{
	return (unsigned)pid % SLOTS;
}

/* @pid's copy, or NULL when it has none (its valid flag in *@valid). */
static uint8_t *copy_of(pid_t pid, int **valid)
{
	unsigned i = slot_of(pid);

	if (!cache && host_len)
		cache = map(SLOTS * host_len);
	if (!cache)
		return NULL;
	if (slot[i].pid != pid) {
		slot[i].pid = pid;
		slot[i].valid = 0;
	}
	*valid = &slot[i].valid;
	return cache + i * host_len;
}

static void forget(pid_t pid)
{
	unsigned i = slot_of(pid);

	if (slot[i].pid == pid)
		__atomic_store_n(&slot[i].valid, 0, __ATOMIC_RELAXED);
}

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
	/* Never touched pages cost nothing: the cache stays small. */
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
	uint8_t *cur;
	int fixed = 0, e, *valid, none = 0;
	long r;

	if (emulate && emulate < len)
		len = emulate;
	BUMP(sets);
	PUT(uml_len, len);
	measure(pid);
	if (observe || !have_layout || !host_len || len >= host_len) {
		struct iovec v = {.iov_base = iov->iov_base, .iov_len = len};

		forget(pid);
		r = raw_ptrace(PTRACE_SETREGSET, pid,
			       (void *)(uintptr_t)NT_X86_XSTATE, &v);
		goto out;
	}
	/* Reentered from a signal handler: a buffer of its own. */
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
		forget(pid);
		cur = map(host_len);
		valid = &none;
		if (!cur) {
			errno = ENOMEM;
			r = -1;
			goto out;
		}
	} else {
		cur = copy_of(pid, &valid);
		if (!cur) {
			cur = scratch;
			valid = &none;
		}
	}
	if (*valid)
		BUMP(cached);
	r = vtb_xstate_set(raw_ptrace, &layout, pid, iov->iov_base, len, cur,
			   valid, host_len, &fixed);
	e = errno;
	if (valid == &none && cur != scratch)
		munmap(cur, host_len);
	else
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
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
	struct iovec full;
	uint8_t *cur;
	int *valid;
	long r;

	BUMP(gets);
	if (emulate && emulate < iov->iov_len)
		iov->iov_len = emulate;
	PUT(uml_len, iov->iov_len);
	measure(pid);
	if (observe || !have_layout || !host_len || iov->iov_len >= host_len ||
	    __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
		forget(pid);
		/* A short GET is fine: the kernel copies what fits. */
		return raw_ptrace(PTRACE_GETREGSET, pid,
				  (void *)(uintptr_t)NT_X86_XSTATE, iov);
	}
	/* The whole state into the tracee's copy, UML's part to UML. */
	cur = copy_of(pid, &valid);
	if (!cur) {
		__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
		return raw_ptrace(PTRACE_GETREGSET, pid,
				  (void *)(uintptr_t)NT_X86_XSTATE, iov);
	}
	full = (struct iovec){.iov_base = cur, .iov_len = host_len};
	r = raw_ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE,
		       &full);
	*valid = r == 0 && full.iov_len == host_len;
	if (r == 0)
		memcpy(iov->iov_base, cur, iov->iov_len);
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	return r;
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
	if (!vtb_xstate_req_keeps(req))
		forget(pid);
	if (!real_ptrace) {
		errno = ENOSYS;
		return -1;
	}
	return real_ptrace(req, pid, addr, data);
}
