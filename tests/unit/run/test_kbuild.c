/* Unit tests: a kernel build's key changes with each of its inputs and
 * only with them, and a failed build's log yields the line naming its
 * error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "run/kbuild.h"

struct key_in {
	const char *tree, *arch, *recipe, *frag, *cc;
};

static const struct key_in base = {
	"git:0123456789abcdef0123456789abcdef01234567", "um", "defconfig+",
	"CONFIG_HOSTFS=y\n", "gcc (Debian 12.2.0-14) 12.2.0"};

static char *key_of(const struct key_in *k)
{
	return vtb_kbuild_key(k->tree, k->arch, k->recipe, k->frag, k->cc);
}

/* clang-format off */
static const struct {
	const char *name;
	struct key_in in;
	bool same; /* as base's key */
} key_cases[] = {
	{ "the same inputs", { "git:0123456789abcdef0123456789abcdef01234567",
	  "um", "defconfig+", "CONFIG_HOSTFS=y\n",
	  "gcc (Debian 12.2.0-14) 12.2.0" }, true },
	{ "another commit", { "git:1123456789abcdef0123456789abcdef01234567",
	  "um", "defconfig+", "CONFIG_HOSTFS=y\n",
	  "gcc (Debian 12.2.0-14) 12.2.0" }, false },
	{ "uncommitted changes", {
	  "git:0123456789abcdef0123456789abcdef01234567+00ff",
	  "um", "defconfig+", "CONFIG_HOSTFS=y\n",
	  "gcc (Debian 12.2.0-14) 12.2.0" }, false },
	{ "another arch", { "git:0123456789abcdef0123456789abcdef01234567",
	  "x86_64", "defconfig+", "CONFIG_HOSTFS=y\n",
	  "gcc (Debian 12.2.0-14) 12.2.0" }, false },
	{ "another base config", {
	  "git:0123456789abcdef0123456789abcdef01234567",
	  "um", "tinyconfig+", "CONFIG_HOSTFS=y\n",
	  "gcc (Debian 12.2.0-14) 12.2.0" }, false },
	{ "another fragment", { "git:0123456789abcdef0123456789abcdef01234567",
	  "um", "defconfig+", "CONFIG_HOSTFS=m\n",
	  "gcc (Debian 12.2.0-14) 12.2.0" }, false },
	{ "another compiler", { "git:0123456789abcdef0123456789abcdef01234567",
	  "um", "defconfig+", "CONFIG_HOSTFS=y\n",
	  "gcc (Debian 12.2.0-15) 12.2.0" }, false },
	/* The same bytes split differently between two fields. */
	{ "arch's end moved into the recipe", {
	  "git:0123456789abcdef0123456789abcdef01234567",
	  "u", "mdefconfig+", "CONFIG_HOSTFS=y\n",
	  "gcc (Debian 12.2.0-14) 12.2.0" }, false },
	{ "a tree hashed, not a commit", {
	  "tree:0123456789abcdef0123456789abcdef01234567",
	  "um", "defconfig+", "CONFIG_HOSTFS=y\n",
	  "gcc (Debian 12.2.0-14) 12.2.0" }, false },
};
/* clang-format on */

static void test_key(void **state)
{
	g_autofree char *k0 = key_of(&base);

	(void)state;
	assert_int_equal(strlen(k0), 16);
	assert_int_equal(strspn(k0, "0123456789abcdef"), 16);
	for (size_t i = 0; i < G_N_ELEMENTS(key_cases); i++) {
		g_autofree char *k = key_of(&key_cases[i].in);

		if (key_cases[i].same != (strcmp(k, k0) == 0))
			fail_msg("%s: key %s, base's %s", key_cases[i].name, k,
				 k0);
	}
}

/* clang-format off */
static const struct {
	const char *name, *log, *first; /* first NULL: none found */
} err_cases[] = {
	{ "a compiler error among CC lines",
	  "  CC      kernel/fork.o\n"
	  "  CC      kernel/exit.o\n"
	  "/src/kernel/exit.c:12:1: error: expected ';' before '}' token\n"
	  "make[3]: *** [scripts/Makefile.build:229: kernel/exit.o] Error 1\n",
	  "/src/kernel/exit.c:12:1: error: expected ';' before '}' token" },
	{ "the compiler's line, though make's Error came first",
	  "make[2]: *** [kernel] Error 2\n"
	  "/src/init/main.c:5:10: fatal error: nope.h: No such file or "
	  "directory\n",
	  "/src/init/main.c:5:10: fatal error: nope.h: No such file or "
	  "directory" },
	{ "make's line when no tool said error:",
	  "  LD      vmlinux\n"
	  "ld: fork.o: in function `f': undefined reference to `g'\n"
	  "make[1]: *** [Makefile:1166: vmlinux] Error 1\n"
	  "make: *** [Makefile:224: __sub-make] Error 2\n",
	  "make[1]: *** [Makefile:1166: vmlinux] Error 1" },
	{ "make's own complaint",
	  "### vtbench: configure: make -C /src defconfig\n"
	  "make: *** No rule to make target 'defconfig'.  Stop.\n",
	  "make: *** No rule to make target 'defconfig'.  Stop." },
	{ "no final newline", "  CC a.o\nx.c:1:1: error: y",
	  "x.c:1:1: error: y" },
	{ "carriage return and blanks trimmed",
	  "  x.c:1:1: error: y\r\nmore\n", "x.c:1:1: error: y" },
	{ "nothing that names an error", "  CC a.o\n  LD b\nwarning: w\n",
	  NULL },
	{ "an empty log", "", NULL },
};
/* clang-format on */

static void test_first_error(void **state)
{
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(err_cases); i++) {
		g_autofree char *f = vtb_kbuild_first_error(
			err_cases[i].log, strlen(err_cases[i].log));

		if (!err_cases[i].first) {
			if (f)
				fail_msg("%s: found '%s'", err_cases[i].name,
					 f);
			continue;
		}
		if (!f || strcmp(f, err_cases[i].first))
			fail_msg("%s: '%s', not '%s'", err_cases[i].name,
				 f ? f : "(none)", err_cases[i].first);
	}
}

/* A line longer than a terminal's few rows is cut. */
static void test_first_error_long(void **state)
{
	g_autoptr(GString) log = g_string_new("x.c:1:1: error: ");
	g_autofree char *f = NULL;

	(void)state;
	for (int i = 0; i < 1000; i++)
		g_string_append_c(log, 'a');
	g_string_append(log, "\nnext: error: b\n");
	f = vtb_kbuild_first_error(log->str, log->len);
	assert_non_null(f);
	assert_int_equal(strlen(f), 300);
	assert_true(g_str_has_prefix(f, "x.c:1:1: error: aaa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_first_error),
		cmocka_unit_test(test_first_error_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
