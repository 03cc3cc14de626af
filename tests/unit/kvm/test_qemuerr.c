/* Unit tests: QEMU's own reason, one line, from what it printed on stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/kvm.h"
#include "tests/unit/testutil.h"

/* The register dump QEMU 7.2 prints after a KVM internal error in a
 * 64-bit guest kernel (x86_cpu_dump_state, CPU_DUMP_CODE); %s: Code=. */
#define DUMP64(code)                                                           \
	"RAX=0000000000000000 RBX=ffffffff82a03e40 RCX=0000000000000000 "      \
	"RDX=0000000000000001\n"                                               \
	"RSI=ffff888003a4b000 RDI=ffff888003a4b000 RBP=ffffc90000013e18 "      \
	"RSP=ffffc90000013e00\n"                                               \
	"R8 =0000000000000000 R9 =0000000000000000 R10=0000000000000000 "      \
	"R11=0000000000000000\n"                                               \
	"R12=ffff888003a4b000 R13=0000000000000000 R14=0000000000000000 "      \
	"R15=0000000000000000\n"                                               \
	"RIP=ffffffff81a4c5d2 RFL=00010046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 "  \
	"HLT=0\n"                                                              \
	"ES =0000 0000000000000000 ffffffff 00c00000\n"                        \
	"CS =0010 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]\n"       \
	"SS =0018 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"       \
	"GDT=     fffffe0000001000 0000007f\n"                                 \
	"IDT=     fffffe0000000000 00000fff\n"                                 \
	"CR0=80050033 CR2=0000000000000000 CR3=0000000002a0c000 "              \
	"CR4=000006f0\n"                                                       \
	"DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 "      \
	"DR3=0000000000000000 \n"                                              \
	"DR6=00000000fffe0ff0 DR7=0000000000000400\n"                          \
	"EFER=0000000000000d01\n"                                              \
	"Code=" code "\n"

/* 20 bytes before RIP, as QEMU prints them. */
#define BEFORE "48 89 e5 41 54 53 48 89 fb 48 8b 06 48 8b 56 08 48 89 f1 48 "

#define EMULATION_FAILURE                                                      \
	"KVM internal error. Suberror: 1\n"                                    \
	"extra data[0]: 0x0000000000000001\n"                                  \
	"extra data[1]: 0x0000000000000000\n"                                  \
	"emulation failure\n"

struct reason_case {
	const char *name;
	const char *text; /* QEMU's stderr */
	const char *want; /* NULL: no reason of QEMU's own */
};

static const struct reason_case cases[] = {
	{"emulation failure at lock cmpxchg16b (-cpu qemu64 here)",
	 EMULATION_FAILURE DUMP64(
		 BEFORE "<f0> 48 0f c7 0f 0f 94 c0 5b 41 5c 5d c3 cc cc cc cc "
			"0f 1f 44 00 00 55 48 89 e5 41 57 41 56 41 55"),
	 "KVM internal error, suberror 1 (emulation failure) at "
	 "RIP=ffffffff81a4c5d2: lock cmpxchg16b"},
	{"cmpxchg16b behind a segment prefix, no LOCK",
	 EMULATION_FAILURE DUMP64(BEFORE "<65> 48 0f c7 4f 08 0f 94 c0"),
	 "KVM internal error, suberror 1 (emulation failure) at "
	 "RIP=ffffffff81a4c5d2: cmpxchg16b"},
	{"lock cmpxchg8b: no REX.W",
	 EMULATION_FAILURE DUMP64(BEFORE "<f0> 0f c7 0e 0f 94 c0"),
	 "KVM internal error, suberror 1 (emulation failure) at "
	 "RIP=ffffffff81a4c5d2: lock cmpxchg8b"},
	{"0f c7 /6 is rdrand, not cmpxchg: the bytes",
	 EMULATION_FAILURE DUMP64(BEFORE "<48> 0f c7 f0 73 fa c3"),
	 "KVM internal error, suberror 1 (emulation failure) at "
	 "RIP=ffffffff81a4c5d2, code 48 0f c7 f0 73 fa c3"},
	{"another instruction: its first 8 bytes",
	 EMULATION_FAILURE DUMP64(BEFORE "<0f> 01 f9 48 c1 e2 20 48 09 d0 c3"),
	 "KVM internal error, suberror 1 (emulation failure) at "
	 "RIP=ffffffff81a4c5d2, code 0f 01 f9 48 c1 e2 20 48"},
	{"code not readable", EMULATION_FAILURE DUMP64("?? ?? ?? <?\?> ?? ??"),
	 "KVM internal error, suberror 1 (emulation failure) at "
	 "RIP=ffffffff81a4c5d2"},
	{"real mode: EIP, and the dump after warnings",
	 "qemu-system-x86_64: warning: host doesn't support requested "
	 "feature: CPUID.80000001H:ECX.svm [bit 2]\n"
	 "KVM internal error. Suberror: 1\n"
	 "emulation failure\n"
	 "EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000663\n"
	 "ESI=00000000 EDI=00000000 EBP=00000000 ESP=00000000\n"
	 "EIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
	 "Code=00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	 "<ea> 5b e0 00 f0 30 36 2f 32 33\n",
	 "KVM internal error, suberror 1 (emulation failure) at "
	 "EIP=0000fff0, code ea 5b e0 00 f0 30 36 2f"},
	{"suberror 3, no dump",
	 "KVM internal error. Suberror: 3\n"
	 "extra data[0]: 0x000000008000002f\n"
	 "extra data[1]: 0x0000000000000020\n",
	 "KVM internal error, suberror 3 (event delivery failed)"},
	{"an unknown suberror: its number",
	 "KVM internal error. Suberror: 764064\n",
	 "KVM internal error, suberror 764064"},
	{"no /dev/kvm: the first of QEMU's two lines",
	 "Could not access KVM kernel module: No such file or directory\n"
	 "qemu-system-x86_64: failed to initialize kvm: No such file or "
	 "directory\n",
	 "Could not access KVM kernel module: No such file or directory"},
	{"failed to initialize kvm alone, program name dropped",
	 "qemu-system-x86_64: failed to initialize kvm: Permission denied\n",
	 "failed to initialize kvm: Permission denied"},
	{"-cpu host here: MSR 0x10a, then QEMU aborts",
	 "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x20000c0f\n"
	 "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3181: "
	 "kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' "
	 "failed.\n",
	 "failed to set MSR 0x10a to 0x20000c0f"},
	{"KVM_RUN failed",
	 "error: kvm run failed Bad address\n" DUMP64("<f4> 90"),
	 "kvm run failed Bad address"},
	{"hardware entry failure",
	 "KVM: entry failed, hardware error 0x80000021\n\n"
	 "If you're running a guest on an Intel machine without unrestricted "
	 "mode\nsupport, the failure can be most likely due to the guest "
	 "entering an invalid\nstate for Intel VT.\n",
	 "KVM: entry failed, hardware error 0x80000021"},
	{"vCPU creation",
	 "qemu-system-x86_64: kvm_init_vcpu: kvm_arch_init_vcpu failed (0): "
	 "Invalid argument\n",
	 "kvm_init_vcpu: kvm_arch_init_vcpu failed (0): Invalid argument"},
	{"VM creation",
	 "ioctl(KVM_CREATE_VM) failed: 12 Cannot allocate memory\n"
	 "qemu-system-x86_64: failed to initialize kvm: Cannot allocate "
	 "memory\n",
	 "ioctl(KVM_CREATE_VM) failed: 12 Cannot allocate memory"},

	/* Nothing of QEMU's own about KVM: the caller says what it can. */
	{"unmatched: empty", "", NULL},
	{"unmatched: a missing image",
	 "qemu-system-x86_64: -drive file=/x.img,format=raw,if=none,id=d0: "
	 "Could not open '/x.img': No such file or directory\n",
	 NULL},
	{"unmatched: a warning only",
	 "qemu-system-x86_64: warning: host doesn't support requested "
	 "feature: CPUID.80000001H:ECX.svm [bit 2]\n",
	 NULL},
	{"unmatched: killed by vtbench",
	 "qemu-system-x86_64: terminating on signal 15 from pid 4242 "
	 "(./vtbench)\n",
	 NULL},
	{"unmatched: a register dump without an error line",
	 DUMP64(BEFORE "<f0> 48 0f c7 0f"), NULL},
};

static void test_reason(void **state)
{
	const struct reason_case *c = *state;
	g_autofree char *got = vtb_qemu_reason(c->text);

	if (!c->want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, c->want);
	assert_null(strchr(got, '\n'));
}

static void test_null(void **state)
{
	(void)state;
	assert_null(vtb_qemu_reason(NULL));
}

int main(void)
{
	GArray *t = vtbt_tests();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		vtbt_add(t, cases[i].name, test_reason, &cases[i]);
	vtbt_add(t, "NULL text", test_null, NULL);
	return vtbt_run(t, "kvm/qemuerr", NULL, NULL);
}
