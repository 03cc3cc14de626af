/* What a guest's console says about why it failed: the lines that explain. */
#include "core/console.h"

#include <string.h>

/* Longest line kept; a register dump or a runaway line is cut there. */
#define LINE_MAX_CHARS 200

static bool is_hex_word(const char *p, size_t n)
{
	if (n < 8)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isxdigit(p[i]))
			return false;
	return true;
}

/* " 606944ba 607e7fcd 67443b90": a raw stack dump. */
static bool only_hex_words(const char *s)
{
	bool any = false;

	while (*s) {
		size_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		n = strcspn(s, " \t");
		if (!is_hex_word(s, n))
			return false;
		any = true;
		s += n;
	}
	return any;
}

/* "? run_init_process+0xc4/0xd0" (x86 guest frames). */
static bool is_symbol_frame(const char *s)
{
	const char *plus;

	if (s[0] == '?' && s[1] == ' ')
		s += 2;
	plus = strstr(s, "+0x");
	if (!plus || plus == s)
		return false;
	for (const char *p = s; p < plus; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.')
			return false;
	return strchr(plus, '/') != NULL;
}

/* "RAX=0000000000000000 RBX=…", "ES =0000 …", "CR0=80050033 …" (QEMU). */
static bool is_qemu_regs(const char *s)
{
	const char *eq = strchr(s, '='), *v;

	if (!eq || eq - s > 6 || eq == s)
		return false;
	for (const char *p = s; p < eq; p++)
		if (!g_ascii_isupper(*p) && !g_ascii_isdigit(*p) && *p != ' ')
			return false;
	for (v = eq + 1; *v == ' '; v++)
		;
	return strspn(v, "0123456789abcdefABCDEF") >= 4;
}

static const char *const noise_prefixes[] = {"Call Trace:",
					     "Stack:",
					     "<TASK>",
					     "</TASK>",
					     "<IRQ>",
					     "</IRQ>",
					     "Modules linked in:",
					     "Hardware name:",
					     "---[ end ",
					     "Code:",
					     "Code=",
					     "RIP:",
					     "RSP:",
					     "RAX:",
					     "RDX:",
					     "RBP:",
					     "R10:",
					     "R13:",
					     "FS:",
					     "CS:",
					     "CR2:",
					     "DR0:",
					     "DR3:",
					     "PKRU:",
					     "CPU: ",
					     "Kernel Offset:",
					     "[<",
					     NULL};

/*
 * Lines every healthy boot prints, which would otherwise pass for
 * errors: UML looks for ubd0's default "root_fs" file, and its con0 on
 * /dev/null cannot be polled.
 */
static const char *const benign[] = {
	"Failed to initialize ubd device 0 :Couldn't determine size",
	"epollctl add err fd ",
	NULL,
};

bool vtb_console_is_noise(const char *line)
{
	const char *s = line;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return true;
	for (const char *const *p = noise_prefixes; *p; p++)
		if (g_str_has_prefix(s, *p))
			return true;
	return is_symbol_frame(s) || only_hex_words(s) || is_qemu_regs(s);
}

static const char *const keys[] = {
	"panic",    "fail",	"error",   "unable to", "bug:",	   "oops",
	"warning:", "killed",	"refused", "cannot",	"can't",   "not found",
	"no such",  "segfault", "abort",   "denied",	"invalid", NULL};

static bool is_benign(const char *line)
{
	for (const char *const *b = benign; *b; b++)
		if (strstr(line, *b))
			return true;
	return false;
}

static bool explains(const char *line)
{
	g_autofree char *low = g_ascii_strdown(line, -1);

	if (is_benign(line))
		return false;
	for (const char *const *k = keys; *k; k++)
		if (strstr(low, *k))
			return true;
	return false;
}

static char *clean(const char *line)
{
	g_autofree char *s = g_strstrip(g_strdup(line));

	/* Kernel timestamps "[    1.234567] " say nothing here. */
	if (s[0] == '[') {
		char *end = strchr(s, ']');

		if (end &&
		    strspn(s + 1, " 0123456789.") == (size_t)(end - s - 1)) {
			char *rest = g_strdup(g_strchug(end + 1));

			g_free(s);
			s = rest;
		}
	}
	if (strlen(s) > LINE_MAX_CHARS)
		strcpy(s + LINE_MAX_CHARS - 3, "...");
	return g_steal_pointer(&s);
}

char *vtb_console_explain(const char *text, int max_lines)
{
	g_auto(GStrv) raw = g_strsplit_set(text ? text : "", "\r\n", -1);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) pick = g_ptr_array_new();
	g_autoptr(GPtrArray) tail = g_ptr_array_new();
	GString *out = g_string_new(NULL);
	int panic = -1;

	for (char **r = raw; *r; r++) {
		g_autofree char *c = clean(*r);

		if (!vtb_console_is_noise(c))
			g_ptr_array_add(lines, g_steal_pointer(&c));
	}
	for (guint i = 0; i < lines->len; i++)
		if (strstr(lines->pdata[i], "Kernel panic"))
			panic = (int)i;
	if (panic >= 0) {
		/* The panic and what led to it. */
		if (panic > 0 && max_lines > 1)
			g_ptr_array_add(pick, lines->pdata[panic - 1]);
		g_ptr_array_add(pick, lines->pdata[panic]);
	} else {
		/* The last lines that explain, in order; else the tail. */
		for (int i = (int)lines->len - 1;
		     i >= 0 && (int)pick->len < max_lines; i--)
			if (explains(lines->pdata[i]))
				g_ptr_array_insert(pick, 0, lines->pdata[i]);
		for (int i = (int)lines->len - 1;
		     !pick->len && i >= 0 && (int)tail->len < max_lines; i--)
			if (!is_benign(lines->pdata[i]))
				g_ptr_array_insert(tail, 0, lines->pdata[i]);
		if (!pick->len)
			g_ptr_array_extend(pick, tail, NULL, NULL);
	}
	for (guint i = 0; i < pick->len; i++)
		g_string_append_printf(out, "%s%s", i ? " | " : "",
				       (char *)pick->pdata[i]);
	return g_string_free(out, FALSE);
}
