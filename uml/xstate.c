/* The xstate fix's logic (see uml/xstate.h): layout, merge, the SET. */
#include "uml/xstate.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

int vtb_xstate_layout_host(struct vtb_xstate_layout *l)
{
	unsigned a, b, c, d;
	uint32_t lo, hi;

	memset(l, 0, sizeof(*l));
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) ||
	    __get_cpuid_max(0, NULL) < 0xd)
		return -1;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	l->features = (uint64_t)hi << 32 | lo;
	__cpuid_count(0xd, 0, a, b, c, d);
	l->max_size = b; /* for the components XCR0 enables */
	l->comp[0].off = 0;
	l->comp[0].size = 160; /* x87: FCW .. ST7 in the FXSAVE area */
	l->comp[1].off = 160;
	l->comp[1].size = 256; /* XMM0-15 */
	for (int i = 2; i < 64; i++) {
		if (!(l->features & (1ULL << i)))
			continue;
		__cpuid_count(0xd, (unsigned)i, a, b, c, d);
		/* Supervisor state (ECX bit 0) never reaches ptrace. */
		if (c & 1)
			continue;
		l->comp[i].size = a;
		l->comp[i].off = b;
	}
	return 0;
}

uint64_t vtb_xstate_inside(const struct vtb_xstate_layout *l, size_t len)
{
	uint64_t m = 0;

	if (len < VTB_XSTATE_HDR_END)
		return 0;
	m = l->features & 3;
	for (int i = 2; i < 64; i++)
		if ((l->features & (1ULL << i)) && l->comp[i].size &&
		    (size_t)l->comp[i].off + l->comp[i].size <= len)
			m |= 1ULL << i;
	return m;
}

void vtb_xstate_merge(const struct vtb_xstate_layout *l, uint8_t *full,
		      const uint8_t *pre, size_t len)
{
	uint64_t in = vtb_xstate_inside(l, len), bv_full, bv_pre, bv;

	if (!in)
		return;
	memcpy(full, pre, VTB_XSTATE_LEGACY);
	memcpy(&bv_full, full + VTB_XSTATE_LEGACY, sizeof(bv_full));
	memcpy(&bv_pre, pre + VTB_XSTATE_LEGACY, sizeof(bv_pre));
	/*
	 * A component's bit says "restore me from the buffer" (set) or
	 * "put me in my initial state" (clear).  Taking a bit from UML's
	 * buffer for a component it never held would wipe live state (the
	 * guest's static glibc then read NULL through %fs in a by-hand
	 * prototype that did so); taking the tracee's bit for one UML holds
	 * would ignore what UML restored.
	 */
	bv = (bv_pre & in) | (bv_full & ~in);
	memcpy(full + VTB_XSTATE_LEGACY, &bv, sizeof(bv));
	for (int i = 2; i < 64; i++)
		if (in & (1ULL << i))
			memcpy(full + l->comp[i].off, pre + l->comp[i].off,
			       l->comp[i].size);
}

size_t vtb_xstate_host_len(vtb_ptrace_fn pt, pid_t pid, uint8_t *scratch,
			   size_t cap)
{
	struct iovec iov = {.iov_base = scratch, .iov_len = cap};

	if (pt(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov) <
	    0)
		return 0;
	return iov.iov_len;
}

long vtb_xstate_set(vtb_ptrace_fn pt, const struct vtb_xstate_layout *l,
		    pid_t pid, const void *buf, size_t len, uint8_t *cur,
		    int *cur_valid, size_t host_len, int *fixed)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	void *nt = (void *)(uintptr_t)NT_X86_XSTATE;
	long r;

	*fixed = 0;
	if (len >= host_len || !cur || !vtb_xstate_inside(l, len)) {
		*cur_valid = 0;
		return pt(PTRACE_SETREGSET, pid, nt, &iov);
	}
	iov.iov_base = cur;
	iov.iov_len = host_len;
	if (!*cur_valid) {
		if (pt(PTRACE_GETREGSET, pid, nt, &iov) < 0)
			return -1;
		if (iov.iov_len != host_len) {
			errno = EFAULT; /* the host's size changed under us */
			return -1;
		}
	}
	vtb_xstate_merge(l, cur, buf, len);
	*fixed = 1;
	r = pt(PTRACE_SETREGSET, pid, nt, &iov);
	/* On success the tracee holds exactly @cur. */
	*cur_valid = r == 0;
	return r;
}

int vtb_xstate_req_keeps(int req)
{
	switch (req) {
	case PTRACE_PEEKTEXT:
	case PTRACE_PEEKDATA:
	case PTRACE_PEEKUSER:
	case PTRACE_POKETEXT:
	case PTRACE_POKEDATA:
	case PTRACE_GETREGS:
	case PTRACE_SETREGS:
	case PTRACE_GETFPREGS:
	case PTRACE_GETSIGINFO:
	case PTRACE_GETEVENTMSG:
		return 1;
	default:
		/* CONT, SYSCALL, SYSEMU, SINGLESTEP, KILL, DETACH, ATTACH,
		 * SETOPTIONS (a new tracee), SETFPREGS, POKEUSER, ... */
		return 0;
	}
}
