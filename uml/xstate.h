/*
 * UML's FPU state through ptrace, on hosts whose xstate is larger than the
 * buffer the UML kernel was built with.  Shared by the preload
 * (uml/vtbxstate.c, in linux.uml), vtbench (uml/xsfix.c) and the unit test.
 * Plain C, no GLib: the preload links nothing but libc.
 *
 * Why: UML 6.1 (and Debian's 6.12 source) saves and restores a guest
 * process's FPU state with PTRACE_GETREGSET/SETREGSET NT_X86_XSTATE into a
 * buffer of fixed size (FP_SIZE, 2696 bytes: x87 up to PKRU on Intel).  The
 * host kernel clamps a longer buffer to its own size, but refuses a SET
 * whose length is not exactly its user xstate size with EFAULT; with AMX's
 * TILEDATA enabled that size is 11008 bytes, so UML dies at the first user
 * process ("userspace - ptrace set fp regs failed, errno = 14").  The fix
 * does the SET with a full-size buffer: the tracee's current state, with
 * UML's prefix laid over it for exactly the state components that lie
 * wholly inside UML's buffer, their xstate_bv bits included.
 */
#ifndef VTB_XSTATE_H
#define VTB_XSTATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The counter file; without it the preload reports nothing. */
#define VTB_XSTATE_ENV_FILE "VTB_XSTATE_FILE"
/* "fix" (default) or "observe" (pass every call through, only count). */
#define VTB_XSTATE_ENV_MODE "VTB_XSTATE_MODE"
/*
 * Testing only: behave as if UML's buffer were this many bytes (a prefix
 * of what it passes), so that a host without AMX shows the failure and the
 * fix of one with it.  vtbench passes $VTBENCH_XSTATE_EMULATE through.
 */
#define VTB_XSTATE_ENV_EMULATE "VTB_XSTATE_EMULATE"

#define VTB_XSTATE_MAGIC 0x5453584254565400ULL /* "\0VTBXST" little-endian */
#define VTB_XSTATE_VERSION 2

/* Where the XSAVE header sits in the standard (ptrace) format. */
#define VTB_XSTATE_LEGACY 512u
#define VTB_XSTATE_HDR_END 576u

/*
 * The counter file, written by the preload with __atomic operations (UML
 * and the processes it execs share it through MAP_SHARED).
 */
struct vtb_xstate_shm {
	uint64_t magic;
	uint32_t version;
	uint32_t size;	     /* sizeof(struct vtb_xstate_shm) */
	uint64_t attached;   /* processes that mapped this file */
	uint64_t uml_len;    /* the buffer UML passes (after any emulation) */
	uint64_t host_len;   /* the host's NT_X86_XSTATE size */
	uint64_t gets, sets; /* NT_X86_XSTATE calls UML made */
	uint64_t fixed;	     /* SETs done through the full-size buffer */
	uint64_t cached; /* ... of them from the state UML\'s last GET read */
	uint64_t failed; /* SETs that failed, whichever way they went */
	int64_t last_errno; /* of the last failed SET */
};

/* The host's user state components in the standard format (CPUID 0xD). */
struct vtb_xstate_layout {
	uint64_t features; /* XCR0: the user components enabled */
	uint32_t max_size; /* bytes a buffer for all of them needs */
	struct {
		uint32_t off, size;
	} comp[64];
};

/* Fill @l from CPUID and XGETBV.  -1 when the CPU has no OSXSAVE. */
int vtb_xstate_layout_host(struct vtb_xstate_layout *l);

/*
 * The xstate_bv bits of the components that lie wholly within the first
 * @len bytes: x87 and SSE (the legacy area) when the header fits, and
 * every enabled component i >= 2 with off + size <= @len.  0 when @len
 * does not even hold the header.
 */
uint64_t vtb_xstate_inside(const struct vtb_xstate_layout *l, size_t len);

/*
 * Lay the @len-byte prefix @pre over @full (the tracee's current state,
 * as a full-size GETREGSET returned it): the legacy area, the bytes of
 * every component inside @len, and xstate_bv with those components' bits
 * from @pre and every other bit from @full.
 */
void vtb_xstate_merge(const struct vtb_xstate_layout *l, uint8_t *full,
		      const uint8_t *pre, size_t len);

/* The raw ptrace call the fix makes its own calls with. */
typedef long (*vtb_ptrace_fn)(int req, pid_t pid, void *addr, void *data);

/*
 * PTRACE_SETREGSET NT_X86_XSTATE of the @len bytes at @buf, through the
 * @host_len-byte @cur when @len is shorter than the host's size: @cur is
 * the tracee's current state when *@cur_valid (as the last full GET or SET
 * left it), else it is fetched with a full GETREGSET first; then merge,
 * SET the whole.  Afterwards *@cur_valid tells whether @cur still is the
 * tracee's state.  A @len of @host_len or more goes straight through (the
 * kernel clamps it).  Returns what ptrace returns (-1 and errno on
 * failure); *@fixed tells whether the full-size path was taken.
 */
long vtb_xstate_set(vtb_ptrace_fn pt, const struct vtb_xstate_layout *l,
		    pid_t pid, const void *buf, size_t len, uint8_t *cur,
		    int *cur_valid, size_t host_len, int *fixed);

/*
 * Whether ptrace request @req leaves the tracee's xstate as it was (reads,
 * general registers, memory): anything else, above all letting it run,
 * ends what a cached copy of its state can be trusted for.
 */
int vtb_xstate_req_keeps(int req);

/* The host's NT_X86_XSTATE size, asked of tracee @pid with a GETREGSET
 * into @scratch of @cap bytes (the kernel returns its own length).  0 on
 * failure, errno set. */
size_t vtb_xstate_host_len(vtb_ptrace_fn pt, pid_t pid, uint8_t *scratch,
			   size_t cap);

#endif
