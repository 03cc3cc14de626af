/*
 * UML's xstate fix (uml/xstate.c): the component arithmetic on the layouts
 * of real CPUs (tables), and the fix against this host's kernel: a ptrace'd
 * child whose vector registers hold known values goes through a GET/SET
 * round trip with a buffer shorter than the host's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "uml/xstate.h"

/* Layouts as CPUID 0xD reports them (standard format offsets). */
struct comp {
	int i;
	uint32_t off, size;
};

static void layout_of(struct vtb_xstate_layout *l, const struct comp *c)
{
	memset(l, 0, sizeof(*l));
	l->features = 3;
	l->comp[0].size = 160;
	l->comp[1].off = 160;
	l->comp[1].size = 256;
	for (; c->i; c++) {
		l->features |= 1ULL << c->i;
		l->comp[c->i].off = c->off;
		l->comp[c->i].size = c->size;
		if (c->off + c->size > l->max_size)
			l->max_size = c->off + c->size;
	}
}

/* Sapphire Rapids: AVX-512, PKRU, AMX (11008 bytes with TILEDATA). */
static const struct comp amx[] = {
	{2, 576, 256}, {5, 1088, 64},  {6, 1152, 512},	 {7, 1664, 1024},
	{9, 2688, 8},  {17, 2752, 64}, {18, 2816, 8192}, {0},
};
/* AMD Zen (EPYC) without AVX-512: AVX and PKRU, 2440 bytes. */
static const struct comp zen[] = {
	{2, 576, 256},
	{9, 2432, 8},
	{0},
};
/* Skylake-SP: AVX-512 and PKRU, 2696 bytes, UML 6.1's own size. */
static const struct comp skx[] = {
	{2, 576, 256},	 {5, 1088, 64}, {6, 1152, 512},
	{7, 1664, 1024}, {9, 2688, 8},	{0},
};

struct inside_case {
	const char *name;
	const struct comp *layout;
	size_t len;
	uint64_t want;
};

static const struct inside_case inside_cases[] = {
	{"amx: UML 6.1's 2696 bytes hold all but AMX", amx, 2696, 0x2e7},
	{"amx: 2688 leaves PKRU out", amx, 2688, 0xe7},
	{"amx: opmask cut in half is outside", amx, 1100, 0x7},
	{"amx: the full size holds all", amx, 11008, 0x602e7},
	{"amx: header only", amx, 576, 0x3},
	{"amx: shorter than the header: nothing", amx, 575, 0},
	{"zen: 2696 holds everything", zen, 2696, 0x207},
	{"zen: 832 leaves PKRU out", zen, 832, 0x7},
	{"zen: 2432 ends where PKRU starts", zen, 2432, 0x7},
	{"skx: 2696 is exactly everything", skx, 2696, 0x2e7},
};

static void test_inside(void **state)
{
	const struct inside_case *c = *state;
	struct vtb_xstate_layout l;

	layout_of(&l, c->layout);
	assert_int_equal(vtb_xstate_inside(&l, c->len), c->want);
}

struct merge_case {
	const char *name;
	const struct comp *layout;
	size_t len;
	uint64_t bv_pre, bv_full, want_bv;
};

static const struct merge_case merge_cases[] = {
	/* UML says AVX-512 state is initial: believe it, keep AMX's bits. */
	{"amx: in-buffer bits from UML, AMX bits from the tracee", amx, 2696,
	 0x3, 0x602e7, 0x60003},
	{"amx: UML's bits for what it holds", amx, 2696, 0x2e7, 0x3, 0x2e7},
	{"amx: a bit UML claims outside its buffer is ignored", amx, 2696,
	 0x602e7, 0x3, 0x2e7},
	{"zen: 832 bytes: PKRU's bit stays the tracee's", zen, 832, 0x7, 0x203,
	 0x207},
	{"amx: half an opmask: opmask stays the tracee's", amx, 1100, 0x27, 0x7,
	 0x7},
};

static void test_merge(void **state)
{
	const struct merge_case *c = *state;
	struct vtb_xstate_layout l;
	g_autofree uint8_t *full = NULL, *pre = NULL;
	uint64_t bv;

	layout_of(&l, c->layout);
	full = g_malloc(l.max_size);
	pre = g_malloc(l.max_size);
	memset(full, 0xaa, l.max_size);
	memset(pre, 0x55, l.max_size);
	memcpy(full + 512, &c->bv_full, 8);
	memcpy(pre + 512, &c->bv_pre, 8);
	vtb_xstate_merge(&l, full, pre, c->len);
	memcpy(&bv, full + 512, 8);
	assert_int_equal(bv, c->want_bv);
	/* The legacy area is UML's; the rest of the header the tracee's. */
	assert_int_equal(full[0], 0x55);
	assert_int_equal(full[511], 0x55);
	assert_int_equal(full[520], 0xaa);
	for (int i = 2; i < 64; i++) {
		uint8_t want;

		if (!(l.features & (1ULL << i)))
			continue;
		want = vtb_xstate_inside(&l, c->len) & (1ULL << i) ? 0x55
								   : 0xaa;
		assert_int_equal(full[l.comp[i].off], want);
		assert_int_equal(full[l.comp[i].off + l.comp[i].size - 1],
				 want);
	}
}

/* --- Against the real kernel. --- */

static int n_calls;

static long counting_ptrace(int req, pid_t pid, void *addr, void *data)
{
	n_calls++;
	return ptrace(req, pid, addr, data);
}

#define REG_BYTES 32
static uint8_t child_in[16 * REG_BYTES] __attribute__((aligned(32)));
static uint8_t child_out[16 * REG_BYTES] __attribute__((aligned(32)));

static bool have_avx(void)
{
	unsigned a, b, c, d;
	uint32_t lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) ||
	    !(c & bit_AVX))
		return false;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

/* ymm0-15 (or xmm0-15) from child_in, a stop, then into child_out. */
#define LDY(n) "vmovdqu " #n "*32(%0), %%ymm" #n "\n"
#define STY(n) "vmovdqu %%ymm" #n ", " #n "*32(%1)\n"
#define LDX(n) "movdqu " #n "*32(%0), %%xmm" #n "\n"
#define STX(n) "movdqu %%xmm" #n ", " #n "*32(%1)\n"
/* clang-format off */
#define ALL(M) \
	M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) \
	M(13) M(14) M(15)
/* clang-format on */
#define CLOBBERS                                                               \
	"memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",      \
		"xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",    \
		"xmm14", "xmm15"

static void __attribute__((noreturn)) child(int out_fd, bool avx)
{
	size_t off = 0;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		_exit(3);
	/* Registers loaded, stopped at int3, stored: no call between. */
	if (avx)
		__asm__ volatile(ALL(LDY) "int3\n" ALL(STY)
				 :
				 : "r"(child_in), "r"(child_out)
				 : CLOBBERS);
	else
		__asm__ volatile(ALL(LDX) "int3\n" ALL(STX)
				 :
				 : "r"(child_in), "r"(child_out)
				 : CLOBBERS);
	while (off < sizeof(child_out)) {
		ssize_t n =
			write(out_fd, child_out + off, sizeof(child_out) - off);

		if (n <= 0)
			_exit(4);
		off += (size_t)n;
	}
	_exit(0);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 13);
}

struct tracee {
	pid_t pid;
	int out_fd;
	bool avx;
};

static void tracee_start(struct tracee *t)
{
	int p[2], st;

	t->avx = have_avx();
	for (size_t i = 0; i < sizeof(child_in); i++)
		child_in[i] = pattern(i);
	assert_int_equal(pipe(p), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		close(p[0]);
		child(p[1], t->avx);
	}
	close(p[1]);
	t->out_fd = p[0];
	assert_int_equal(waitpid(t->pid, &st, 0), t->pid);
	assert_true(WIFSTOPPED(st));
	assert_int_equal(WSTOPSIG(st), SIGTRAP);
}

/* Let the child run on and collect the registers it ended with. */
static void tracee_finish(struct tracee *t, uint8_t *regs)
{
	size_t off = 0;
	int st;

	assert_int_equal(ptrace(PTRACE_CONT, t->pid, NULL, NULL), 0);
	while (off < sizeof(child_out)) {
		ssize_t n =
			read(t->out_fd, regs + off, sizeof(child_out) - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
	close(t->out_fd);
	assert_int_equal(waitpid(t->pid, &st, 0), t->pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static long get(pid_t pid, void *buf, size_t *len)
{
	struct iovec iov = {.iov_base = buf, .iov_len = *len};
	long r = ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE,
			&iov);

	*len = iov.iov_len;
	return r;
}

struct host {
	struct vtb_xstate_layout l;
	size_t len; /* the host's NT_X86_XSTATE size */
};

static void host_get(struct host *h, pid_t pid)
{
	uint8_t big[65536];
	size_t n = sizeof(big);

	if (vtb_xstate_layout_host(&h->l) != 0)
		VTBT_SKIP("no XSAVE on this CPU: ptrace has no xstate");
	assert_int_equal(get(pid, big, &n), 0);
	h->len = n;
	assert_true(h->len >= VTB_XSTATE_HDR_END);
	assert_int_equal(
		vtb_xstate_host_len(counting_ptrace, pid, big, sizeof(big)),
		h->len);
}

/*
 * The "UML" buffer lengths to try on this host: just the header (every
 * component outside), and up to the host's last component (what an AMX
 * host does to UML 6.1: all but the last component inside).
 */
enum uml_len { LEN_HEADER, LEN_BUT_LAST };

static size_t uml_len_for(const struct host *h, enum uml_len which)
{
	uint32_t last = 0;

	if (which == LEN_HEADER)
		return VTB_XSTATE_HDR_END;
	for (int i = 2; i < 64; i++)
		if ((h->l.features & (1ULL << i)) && h->l.comp[i].size &&
		    h->l.comp[i].off > last)
			last = h->l.comp[i].off;
	return last > VTB_XSTATE_HDR_END ? last : VTB_XSTATE_HDR_END;
}

struct rt_case {
	const char *name;
	enum uml_len len;
	bool modify; /* change the xmm registers in UML's buffer */
	bool cached; /* the state a full GET read is handed in */
};

static const struct rt_case rt_cases[] = {
	{"round trip, header-sized buffer, state intact", LEN_HEADER, false},
	{"round trip, buffer short of the last component, state intact",
	 LEN_BUT_LAST, false},
	{"xmm changed through a header-sized buffer, the rest intact",
	 LEN_HEADER, true},
	{"xmm changed through a buffer short of the last component",
	 LEN_BUT_LAST, true},
	{"from the state the last full GET read: one call, same result",
	 LEN_BUT_LAST, true, true},
	{"from the cached state, header-sized buffer", LEN_HEADER, true, true},
};

static void test_roundtrip(void **state)
{
	const struct rt_case *c = *state;
	struct tracee t;
	struct host h;
	g_autofree uint8_t *ref = NULL, *after = NULL, *small = NULL,
			   *scratch = NULL;
	uint8_t regs[sizeof(child_out)];
	size_t len, n;
	uint64_t bv_ref, bv_after;
	int fixed = -1, valid;
	struct iovec iov;

	tracee_start(&t);
	host_get(&h, t.pid);
	len = uml_len_for(&h, c->len);
	if (len >= h.len) {
		ptrace(PTRACE_KILL, t.pid, NULL, NULL);
		waitpid(t.pid, NULL, 0);
		VTBT_SKIP("this host's xstate (%zu bytes) has no component "
			  "beyond the header to leave out",
			  h.len);
	}
	ref = g_malloc0(h.len);
	after = g_malloc0(h.len);
	scratch = g_malloc0(h.len);
	small = g_malloc0(len);
	n = h.len;
	assert_int_equal(get(t.pid, ref, &n), 0);
	/* As UML does: GET into its short buffer (the kernel truncates). */
	n = len;
	assert_int_equal(get(t.pid, small, &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(small, ref, len);

	/* Without the fix the host refuses it: this is what kills UML. */
	iov = (struct iovec){.iov_base = small, .iov_len = len};
	errno = 0;
	assert_int_equal(ptrace(PTRACE_SETREGSET, t.pid,
				(void *)(uintptr_t)NT_X86_XSTATE, &iov),
			 -1);
	assert_int_equal(errno, EFAULT);

	if (c->modify)
		for (size_t i = 0; i < 256; i++)
			small[160 + i] ^= 0x5a;
	valid = 0;
	if (c->cached) {
		memcpy(scratch, ref, h.len);
		valid = 1;
	}
	n_calls = 0;
	assert_int_equal(vtb_xstate_set(counting_ptrace, &h.l, t.pid, small,
					len, scratch, &valid, h.len, &fixed),
			 0);
	assert_int_equal(fixed, 1);
	/* GET the whole (unless handed in), SET the whole. */
	assert_int_equal(n_calls, c->cached ? 1 : 2);
	assert_int_equal(valid, 1);

	n = h.len;
	assert_int_equal(get(t.pid, after, &n), 0);
	memcpy(&bv_ref, ref + 512, 8);
	memcpy(&bv_after, after + 512, 8);
	assert_int_equal(bv_after, bv_ref);
	if (c->modify)
		for (size_t i = 0; i < 256; i++)
			ref[160 + i] ^= 0x5a;
	assert_memory_equal(after, ref, h.len);

	/* What the child itself finds in its registers. */
	tracee_finish(&t, regs);
	for (size_t r = 0; r < 16; r++)
		for (size_t b = 0; b < (t.avx ? 32u : 16u); b++) {
			size_t i = r * REG_BYTES + b;
			uint8_t want = pattern(i);

			if (b < 16 && c->modify)
				want ^= 0x5a;
			assert_int_equal(regs[i], want);
		}
}

/* A buffer of the host's own size: the fix does nothing but the SET. */
static void test_noop(void **state)
{
	struct tracee t;
	struct host h;
	g_autofree uint8_t *buf = NULL, *scratch = NULL, *after = NULL;
	uint8_t regs[sizeof(child_out)];
	int fixed = -1, valid = 1;
	size_t n;

	tracee_start(&t);
	host_get(&h, t.pid);
	buf = g_malloc0(h.len);
	after = g_malloc0(h.len);
	scratch = g_malloc0(h.len);
	n = h.len;
	assert_int_equal(get(t.pid, buf, &n), 0);
	for (size_t i = 0; i < 256; i++)
		buf[160 + i] ^= 0x5a;
	n_calls = 0;
	assert_int_equal(vtb_xstate_set(counting_ptrace, &h.l, t.pid, buf,
					h.len, scratch, &valid, h.len, &fixed),
			 0);
	assert_int_equal(fixed, 0);
	assert_int_equal(n_calls, 1);
	assert_int_equal(valid, 0); /* @scratch was not involved */
	n = h.len;
	assert_int_equal(get(t.pid, after, &n), 0);
	assert_memory_equal(after, buf, h.len);
	tracee_finish(&t, regs);
	for (size_t r = 0; r < 16; r++)
		for (size_t b = 0; b < 16; b++) {
			size_t i = r * REG_BYTES + b;

			assert_int_equal(regs[i], pattern(i) ^ 0x5a);
		}
}

struct keeps_case {
	const char *name;
	int req;
	int keeps;
};

static const struct keeps_case keeps_cases[] = {
	{"GETREGS keeps the cached state", PTRACE_GETREGS, 1},
	{"SETREGS (general registers) keeps it", PTRACE_SETREGS, 1},
	{"PEEKDATA keeps it", PTRACE_PEEKDATA, 1},
	{"POKEDATA keeps it", PTRACE_POKEDATA, 1},
	{"CONT lets the tracee run: drop it", PTRACE_CONT, 0},
	{"SYSEMU (UML's resume): drop it", PTRACE_SYSEMU, 0},
	{"SYSCALL: drop it", PTRACE_SYSCALL, 0},
	{"SINGLESTEP: drop it", PTRACE_SINGLESTEP, 0},
	{"KILL: drop it (the pid may come back)", PTRACE_KILL, 0},
	{"SETOPTIONS (a new tracee): drop it", PTRACE_SETOPTIONS, 0},
	{"SETFPREGS writes x87/SSE: drop it", PTRACE_SETFPREGS, 0},
	{"POKEUSER: drop it", PTRACE_POKEUSER, 0},
	{"an unknown request: drop it", 0x7777, 0},
};

static void test_keeps(void **state)
{
	const struct keeps_case *c = *state;

	assert_int_equal(vtb_xstate_req_keeps(c->req), c->keeps);
}

int main(void)
{
	GArray *t = vtbt_tests();

	for (size_t i = 0; i < G_N_ELEMENTS(inside_cases); i++)
		vtbt_add(t, inside_cases[i].name, test_inside,
			 &inside_cases[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(merge_cases); i++)
		vtbt_add(t, merge_cases[i].name, test_merge, &merge_cases[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(rt_cases); i++)
		vtbt_add(t, rt_cases[i].name, test_roundtrip, &rt_cases[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(keeps_cases); i++)
		vtbt_add(t, keeps_cases[i].name, test_keeps, &keeps_cases[i]);
	vtbt_add(t, "a buffer of the host's size goes straight through",
		 test_noop, NULL);
	return vtbt_run(t, "xstate", NULL, NULL);
}
