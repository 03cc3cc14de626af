/*
 * Which console lines explain a failure (core/console.c): real captured
 * consoles (UML dying of the xstate size, a guest kernel's panic) and the
 * shapes of QEMU's and the kernel's dumps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/console.h"
#include "tests/unit/testutil.h"

struct explain_case {
	const char *name;
	const char *file; /* under tests/unit/data, or NULL: @text */
	const char *text;
	int max;
	const char *want;
};

static const struct explain_case explain_cases[] = {
	{"UML on an AMX host: the failure and the panic, no frames",
	 "console-uml-xstate.txt", NULL, 3,
	 "userspace - ptrace set fp regs failed, errno = 14 | Kernel panic "
	 "- not syncing: Attempted to kill init! exitcode=0x0000000b"},
	{"guest kernel panic: timestamps and the x86 trace left out",
	 "console-kvm-panic.txt", NULL, 3,
	 "No filesystem could mount root, tried: | Kernel panic - not "
	 "syncing: VFS: Unable to mount root fs on unknown-block(0,0)"},
	{"one line asked: the panic alone", "console-uml-xstate.txt", NULL, 1,
	 "Kernel panic - not syncing: Attempted to kill init! "
	 "exitcode=0x0000000b"},
	{"QEMU refusing -cpu host: both of its lines", NULL,
	 "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
	 "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3039: "
	 "kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' "
	 "failed.\n",
	 3,
	 "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69 | "
	 "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3039: "
	 "kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' "
	 "failed."},
	{"KVM emulation failure: the error, not the register dump", NULL,
	 "KVM internal error. Suberror: 1\n"
	 "extra data[0]: 0x0000000000000000\n"
	 "emulation failure\n"
	 "RAX=0000000000000000 RBX=ffffffff82a03e80 RCX=0000000000000000\n"
	 "RSI=ffff888003c4a000 RDI=ffffffff82c4a7c0 RBP=0000000000000000\n"
	 "RIP=ffffffff81a1b2c4 RFL=00000046 [---Z-P-] CPL=0 II=0 A20=1\n"
	 "ES =0000 0000000000000000 ffffffff 00c00000\n"
	 "GDT=     fffffe0000001000 0000007f\n"
	 "CR0=80050033 CR2=0000000000000000 CR3=0000000002a0c000\n"
	 "EFER=0000000000000d01\n"
	 "XMM00=00000000000000000000000000000000 "
	 "XMM01=00000000000000000000000000000000\n"
	 "Code=48 89 e5 f0 48 0f c7 0e <74> 02 31 c0\n",
	 3, "KVM internal error. Suberror: 1 | emulation failure"},
	{"an oops: BUG and Oops, not RIP or the trace", NULL,
	 "[    3.100000] BUG: kernel NULL pointer dereference, address: "
	 "0000000000000000\n"
	 "[    3.100001] #PF: supervisor read access in kernel mode\n"
	 "[    3.100002] Oops: 0000 [#1] PREEMPT SMP NOPTI\n"
	 "[    3.100003] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0 #1\n"
	 "[    3.100004] RIP: 0010:vtb_probe+0x12/0x40\n"
	 "[    3.100005] Code: 48 8b 07 c3\n"
	 "[    3.100006] RSP: 0018:ffffc90000013e58 EFLAGS: 00010246\n"
	 "[    3.100007] Call Trace:\n"
	 "[    3.100008]  <TASK>\n"
	 "[    3.100009]  ? do_one_initcall+0x41/0x200\n"
	 "[    3.100010]  </TASK>\n",
	 3,
	 "BUG: kernel NULL pointer dereference, address: 0000000000000000 "
	 "| Oops: 0000 [#1] PREEMPT SMP NOPTI"},
	{"a healthy UML boot: its usual complaints are not the reason", NULL,
	 "Failed to initialize ubd device 0 :Couldn't determine size of "
	 "device's file\n"
	 "epollctl add err fd 1, Operation not permitted\n"
	 "Run /init as init process\n",
	 3, "Run /init as init process"},
	{"nothing explains: the last lines", NULL, "one\ntwo\nthree\nfour\n", 2,
	 "three | four"},
	{"CRLF from a serial console", NULL,
	 "booting\r\nerror: no root\r\n\r\n", 3, "error: no root"},
	{"empty", NULL, "", 3, ""},
	{"only a trace", NULL, "Call Trace:\n [<60692902>] ? x+0x1/0x2\n", 3,
	 ""},
};

static char *data_file(const char *name)
{
	const char *src = g_getenv("VTB_SRCDIR");
	g_autofree char *path = g_build_filename(src ? src : ".", "tests",
						 "unit", "data", name, NULL);
	char *text = NULL;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

static void test_explain(void **state)
{
	const struct explain_case *c = *state;
	g_autofree char *text = c->file ? data_file(c->file) : NULL;
	g_autofree char *got =
		vtb_console_explain(text ? text : c->text, c->max);

	assert_string_equal(got, c->want);
}

static void test_long_line(void **state)
{
	g_autofree char *line = g_strnfill(500, 'x');
	g_autofree char *text = g_strdup_printf("error: %s\n", line);
	g_autofree char *got = vtb_console_explain(text, 3);

	assert_int_equal(strlen(got), 200);
	assert_true(g_str_has_suffix(got, "..."));
}

struct noise_case {
	const char *line;
	bool noise;
};

static const struct noise_case noise_cases[] = {
	{" [<606944ba>] ? _printk+0x0/0x94", true},
	{" 606944ba 607e7fcd 67443b90 6067bb96", true},
	{" dump_stack_lvl+0x44/0x5c", true},
	{" ? rest_init+0xd0/0xd0", true},
	{" <TASK>", true},
	{"RAX=0000000000000000 RBX=ffffffff82a03e80", true},
	{"ES =0000 0000000000000000 ffffffff 00c00000", true},
	{"XMM00=00000000000000000000000000000000", true},
	{"Code=48 89 e5", true},
	{"   ", true},
	{"Kernel panic - not syncing: VFS: Unable to mount root fs", false},
	{"userspace - ptrace set fp regs failed, errno = 14", false},
	{"TCP: cubic registered", false},
	{"A=1 is a setting", false},
};

static void test_noise(void **state)
{
	const struct noise_case *c = *state;

	assert_int_equal(vtb_console_is_noise(c->line), c->noise);
}

int main(void)
{
	GArray *t = vtbt_tests();

	for (size_t i = 0; i < G_N_ELEMENTS(explain_cases); i++)
		vtbt_add(t, explain_cases[i].name, test_explain,
			 &explain_cases[i]);
	vtbt_add(t, "a runaway line is cut at 200 characters", test_long_line,
		 NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(noise_cases); i++)
		vtbt_add(t, noise_cases[i].line, test_noise, &noise_cases[i]);
	return vtbt_run(t, "console", NULL, NULL);
}
