/* Unit tests: the kernel config fragment covers every module the appliance
 * can load, is well-formed, and --check reads .config files right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/kconfig.h"
#include "core/registry.h"
#include "core/vtbench.h"

static const char *const arches[] = {"um", "x86_64"};

static bool in_frag(const GArray *frag, const char *symbol)
{
	for (guint i = 0; i < frag->len; i++)
		if (!strcmp(g_array_index(frag, struct vtb_kconfig_line, i)
				    .symbol,
			    symbol))
			return true;
	return false;
}

/* Every module of the tables runner.c loads from, walked here on its own
 * (not through vtb_kconfig_modules()), has its symbol in the fragment. */
static void check_mods(const GArray *frag, const char *arch,
		       const char *const *mods)
{
	for (int i = 0; mods && mods[i]; i++) {
		const char *sym = vtb_kconfig_symbol_of(mods[i]);

		if (!sym)
			fail_msg("%s: module %s has no symbol", arch, mods[i]);
		if (!in_frag(frag, sym))
			fail_msg("%s: CONFIG_%s (%s) not in the fragment", arch,
				 sym, mods[i]);
	}
}

static void test_covers_modules(void **state)
{
	(void)state;
	for (int b = 0; vtb_backends[b]; b++) {
		const struct vtb_backend_ops *be = vtb_backends[b];
		g_autoptr(GArray) frag = NULL;
		g_autoptr(GError) e = NULL;

		assert_non_null(be->kernel_arch);
		frag = vtb_kconfig_fragment(be->kernel_arch, &e);
		assert_non_null(frag);
		check_mods(frag, be->kernel_arch, be->base_modules);
		for (int d = 0; be->drivers[d]; d++)
			for (int k = 0; k < VTB_DEV__N; k++) {
				const struct vtb_device_ops *row =
					vtb_driver_row(be->drivers[d], k);

				if (row)
					check_mods(frag, be->kernel_arch,
						   row->fs_modules);
			}
		for (int t = 0; vtb_transports[t]; t++) {
			struct vtb_device dev = {0};
			g_autofree char *why = NULL;

			vtb_transport_device(vtb_transports[t], &dev);
			why = vtb_backend_cannot(be, &dev);
			if (!why)
				check_mods(frag, be->kernel_arch,
					   vtb_transport_modules(
						   be, vtb_transports[t]));
		}
	}
}

/* Unique symbols; each line CONFIG_[A-Z0-9_]+=(y|m) # why. */
static void test_well_formed(void **state)
{
	(void)state;
	for (size_t a = 0; a < G_N_ELEMENTS(arches); a++) {
		g_autoptr(GArray) frag = vtb_kconfig_fragment(arches[a], NULL);
		g_autofree char *text = NULL;
		g_auto(GStrv) lines = NULL;
		g_autoptr(GHashTable) seen =
			g_hash_table_new(g_str_hash, g_str_equal);
		g_autoptr(GRegex) re = g_regex_new(
			"^CONFIG_[A-Z0-9_]+=(y|m) # [^\n]+$", 0, 0, NULL);
		int n = 0;

		assert_non_null(frag);
		assert_true(frag->len > 10);
		for (guint i = 0; i < frag->len; i++) {
			const char *s =
				g_array_index(frag, struct vtb_kconfig_line, i)
					.symbol;

			if (!g_hash_table_add(seen, (char *)s))
				fail_msg("%s: CONFIG_%s twice", arches[a], s);
		}
		text = vtb_kconfig_render(arches[a], frag);
		lines = g_strsplit(text, "\n", -1);
		for (int i = 0; lines[i]; i++) {
			if (!lines[i][0] || lines[i][0] == '#')
				continue;
			if (!g_regex_match(re, lines[i], 0, NULL))
				fail_msg("%s: malformed line '%s'", arches[a],
					 lines[i]);
			n++;
		}
		assert_int_equal(n, frag->len);
	}
}

static void test_arch(void **state)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(GArray) um = vtb_kconfig_fragment("um", NULL);
	g_autoptr(GArray) x86 = vtb_kconfig_fragment("x86_64", NULL);

	(void)state;
	assert_null(vtb_kconfig_fragment("arm64", &e));
	assert_non_null(strstr(e->message, "unknown --arch 'arm64'"));
	/* what each arch's fragment must say, whatever the tables become
	 * (UML's virtiofs and 9p join when uml/ carries them) */
	assert_true(in_frag(um, "BLK_DEV_UBD") && in_frag(um, "HOSTFS") &&
		    in_frag(um, "SSL") && in_frag(um, "VIRTIO_UML") &&
		    in_frag(um, "VIRTIO_CONSOLE") &&
		    in_frag(um, "VIRTIO_BLK") && !in_frag(um, "PVH"));
	assert_true(in_frag(x86, "PVH") && in_frag(x86, "VIRTIO_PCI") &&
		    in_frag(x86, "NET_9P_VIRTIO") && in_frag(x86, "9P_FS") &&
		    in_frag(x86, "NET_9P") && in_frag(x86, "SERIAL_8250") &&
		    in_frag(x86, "EXT4_FS") && !in_frag(x86, "HOSTFS"));
}

struct check_case {
	const char *name, *config;
	int missing;	   /* -1: not a .config */
	const char *first; /* in the first missing line */
};

/* clang-format off */
static const struct check_case check_cases[] = {
	{ "empty", "", -1, "no CONFIG_ line" },
	{ "comments only", "# hello\n#\n", -1, "no CONFIG_ line" },
	{ "prose", "CONFIG_HOSTFS=y\nhello world\n", -1, "line 2" },
	{ "binary", "CONFIG_A=y\n\0\1", -1, "binary" },
	{ "bad symbol", "CONFIG_A B=y\n", -1, "line 1" },
	{ "one option", "CONFIG_HOSTFS=y\n", 1000, "CONFIG_" },
	{ "m for y", "CONFIG_HOSTFS=m\n", 1000, "CONFIG_" },
};
/* clang-format on */

static void test_check(void **state)
{
	g_autoptr(GArray) frag = vtb_kconfig_fragment("um", NULL);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(check_cases); i++) {
		const struct check_case *c = &check_cases[i];
		gsize len = strlen(c->config);
		g_autoptr(GError) e = NULL;
		g_autoptr(GPtrArray) m = NULL;

		if (!strcmp(c->name, "binary"))
			len = sizeof("CONFIG_A=y\n\0\1") - 1;
		m = vtb_kconfig_missing(frag, c->config, len, &e);
		if (c->missing < 0) {
			if (m)
				fail_msg("%s: taken as a .config", c->name);
			if (!strstr(e->message, c->first))
				fail_msg("%s: '%s'", c->name, e->message);
			continue;
		}
		assert_non_null(m);
		assert_true(m->len > 0);
		assert_non_null(strstr(m->pdata[0], c->first));
	}
}

/* The whole fragment as a .config: nothing lacks; y for m is fine, m for
 * y is not; a line dropped is reported once. */
static void test_check_fragment(void **state)
{
	(void)state;
	for (size_t a = 0; a < G_N_ELEMENTS(arches); a++) {
		g_autoptr(GArray) frag = vtb_kconfig_fragment(arches[a], NULL);
		g_autofree char *text = vtb_kconfig_render(arches[a], frag);
		g_autoptr(GString) ally = g_string_new(NULL);
		g_autoptr(GString) allm = g_string_new(NULL);
		g_autoptr(GString) drop = g_string_new(NULL);
		g_autoptr(GPtrArray) m = NULL;
		guint ny = 0;

		for (guint i = 0; i < frag->len; i++) {
			const struct vtb_kconfig_line *l = &g_array_index(
				frag, struct vtb_kconfig_line, i);

			g_string_append_printf(ally, "CONFIG_%s=y\n",
					       l->symbol);
			g_string_append_printf(allm, "CONFIG_%s=m\n",
					       l->symbol);
			if (i)
				g_string_append_printf(drop, "CONFIG_%s=%c\n",
						       l->symbol, l->value);
			else
				g_string_append_printf(
					drop, "# CONFIG_%s is not set\n",
					l->symbol);
			ny += l->value == 'y';
		}
		/* the rendering itself reads back (comments after values
		 * are not .config syntax, so strip them) */
		m = vtb_kconfig_missing(frag, ally->str, ally->len, NULL);
		assert_non_null(m);
		assert_int_equal(m->len, 0);
		g_ptr_array_unref(m);
		m = vtb_kconfig_missing(frag, allm->str, allm->len, NULL);
		assert_non_null(m);
		assert_int_equal(m->len, ny);
		g_ptr_array_unref(m);
		m = vtb_kconfig_missing(frag, drop->str, drop->len, NULL);
		assert_non_null(m);
		assert_int_equal(m->len, 1);
		assert_non_null(strstr(m->pdata[0], "not set"));
		assert_non_null(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_covers_modules),
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_arch),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_fragment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
