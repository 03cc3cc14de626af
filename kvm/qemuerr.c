/* What QEMU's stderr says about why a guest did not run: one line. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"

/* KVM_INTERNAL_ERROR_* (linux/kvm.h), as QEMU reports them by number. */
static const char *const suberrors[] = {
	[1] = "emulation failure",
	[2] = "simultaneous exceptions",
	[3] = "event delivery failed",
	[4] = "unexpected exit reason",
};

/*
 * Lines QEMU prints when KVM itself refuses, in the order they explain
 * best: "Could not access KVM kernel module" comes before the "failed to
 * initialize kvm" that follows it and says less.
 */
static const char *const known[] = {
	"Could not access KVM kernel module",
	"ioctl(KVM_CREATE_VM) failed",
	"failed to initialize kvm",
	"kvm_init_vcpu",
	"failed to set MSR",
	"kvm run failed",
	"KVM: entry failed",
	"KVM_SET_CPUID2 failed",
};

/* "qemu-system-x86_64: error: X" -> "X". */
static const char *strip_prog(const char *line)
{
	const char *colon = strstr(line, ": ");

	if (g_str_has_prefix(line, "qemu") && colon &&
	    !memchr(line, ' ', colon - line))
		line = colon + 2;
	if (g_str_has_prefix(line, "error: "))
		line += strlen("error: ");
	return line;
}

/*
 * The bytes at the instruction pointer of a "Code=.. .. <f0> 48 0f .."
 * line (x86_cpu_dump_state: 20 bytes before RIP, the byte at RIP in
 * angle brackets, "??" where unreadable); returns how many, at most @max.
 */
static int code_at_rip(const char *code, guint8 *out, int max)
{
	const char *p = strchr(code, '<');
	int n = 0;

	if (!p)
		return 0;
	p++;
	while (n < max && g_ascii_isxdigit(p[0]) && g_ascii_isxdigit(p[1])) {
		out[n++] = g_ascii_xdigit_value(p[0]) << 4 |
			   g_ascii_xdigit_value(p[1]);
		p += 2;
		if (*p == '>')
			p++;
		if (*p != ' ')
			break;
		p++;
	}
	return n;
}

/*
 * The one instruction worth naming: CMPXCHG8B/16B is 0F C7 /1 (ModRM reg
 * 1, a memory operand), 16B with REX.W, after optional legacy prefixes
 * (F0 is LOCK).  The guest kernel's first cmpxchg16b is what KVM's
 * emulator fails on here under -cpu qemu64 (DESIGN.md).
 */
static char *decode(const guint8 *b, int n)
{
	static const guint8 legacy[] = {0xf2, 0xf3, 0x2e, 0x36, 0x3e,
					0x26, 0x64, 0x65, 0x66, 0x67};
	bool lock = false;
	guint8 rex = 0;
	int i = 0;

	for (; i < n; i++) {
		if (b[i] == 0xf0)
			lock = true;
		else if (!memchr(legacy, b[i], sizeof(legacy)))
			break;
	}
	if (i < n && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i + 2 < n && b[i] == 0x0f && b[i + 1] == 0xc7 &&
	    ((b[i + 2] >> 3) & 7) == 1 && (b[i + 2] >> 6) != 3)
		return g_strdup_printf("%s%s", lock ? "lock " : "",
				       rex & 8 ? "cmpxchg16b" : "cmpxchg8b");
	return NULL;
}

/* "KVM internal error, suberror 1 (emulation failure) at RIP=...: ...". */
static char *internal_error(char **lines, int at)
{
	g_autoptr(GString) s = g_string_new(NULL);
	const char *rip = NULL, *code = NULL;
	char *end;
	long sub = strtol(lines[at] + strlen("KVM internal error. Suberror:"),
			  &end, 10);

	g_string_printf(s, "KVM internal error, suberror %ld", sub);
	if (sub > 0 && sub < (long)G_N_ELEMENTS(suberrors) && suberrors[sub])
		g_string_append_printf(s, " (%s)", suberrors[sub]);
	/* The register dump that follows; the next error ends it. */
	for (int i = at + 1; lines[i]; i++) {
		const char *l = lines[i];

		if (g_str_has_prefix(l, "KVM internal error"))
			break;
		if (!rip && (g_str_has_prefix(l, "RIP=") ||
			     g_str_has_prefix(l, "EIP=")))
			rip = l;
		if (!code && g_str_has_prefix(l, "Code="))
			code = l + strlen("Code=");
	}
	if (rip) {
		int len = strcspn(rip, " ");

		g_string_append_printf(s, " at %.*s", len, rip);
	}
	if (code) {
		guint8 b[16];
		int n = code_at_rip(code, b, sizeof(b));
		g_autofree char *insn = decode(b, n);

		if (insn) {
			g_string_append_printf(s, ": %s", insn);
		} else if (n) {
			g_string_append(s, ", code");
			for (int i = 0; i < MIN(n, 8); i++)
				g_string_append_printf(s, " %02x", b[i]);
		}
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

char *vtb_qemu_reason(const char *text)
{
	g_auto(GStrv) lines = NULL;

	if (!text)
		return NULL;
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		g_strstrip(lines[i]);
		if (g_str_has_prefix(lines[i], "KVM internal error. Suberror:"))
			return internal_error(lines, i);
	}
	for (size_t k = 0; k < G_N_ELEMENTS(known); k++)
		for (int i = 0; lines[i]; i++) {
			const char *l = strip_prog(lines[i]);

			if (strstr(l, known[k]))
				return g_strdup(l);
		}
	return NULL;
}
