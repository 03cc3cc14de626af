/* Unit tests: module closure on the real UML and guest module trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "appliance/appliance.h"
#include "tests/unit/testutil.h"

enum tree {
	T_UML,	      /* /usr/lib/uml/modules/<release>: has modules.builtin */
	T_KVM,	      /* the guest kernel's tree: no modules.dep */
	T_COMPRESSED, /* a copy of a real closure, .ko.xz/.ko.zst/.ko.gz */
	T_BAD,	      /* broken modules made from a real one */
	T_FAKE,	      /* in T_BAD's directory, .modinfo rewritten by objcopy */
	T_MISSING,    /* a directory that does not exist */
};

static struct {
	char *tmp;
	struct vtbt_kernel uml, kvm;
	gboolean have_uml, have_kvm;
	/* Where T_COMPRESSED and T_BAD come from (UML, else the guest's). */
	struct vtbt_kernel *src;
	char *compressed, *bad, *missing;
	GPtrArray *src_closure; /* closure of SRC_NAMES in src */
	char *why_compressed, *why_bad, *why_fake;
} fx;

#define SRC_NAMES                                                              \
	{                                                                      \
		"virtiofs", "virtio_console", NULL                             \
	}

static const char *tree_dir(enum tree t)
{
	switch (t) {
	case T_UML:
		return fx.uml.modules;
	case T_KVM:
		return fx.kvm.modules;
	case T_COMPRESSED:
		return fx.compressed;
	case T_BAD:
	case T_FAKE:
		return fx.bad;
	case T_MISSING:
		return fx.missing;
	}
	return NULL;
}

static const char *tree_release(enum tree t)
{
	switch (t) {
	case T_UML:
		return fx.uml.release;
	case T_KVM:
		return fx.kvm.release;
	default:
		return fx.src ? fx.src->release : "0";
	}
}

static const char *tree_why(enum tree t)
{
	switch (t) {
	case T_UML:
		return fx.uml.why;
	case T_KVM:
		return fx.kvm.why;
	case T_COMPRESSED:
		return fx.why_compressed;
	case T_BAD:
		return fx.why_bad;
	case T_FAKE:
		return fx.why_bad ? fx.why_bad : fx.why_fake;
	default:
		return NULL;
	}
}

static gboolean compress_to(const char *tool, const char *src, const char *dst)
{
	const char *argv[] = {tool, "-c", src, NULL};
	g_autoptr(GBytes) out = vtbt_exec(argv);

	if (!out)
		return FALSE;
	vtbt_write(dst, g_bytes_get_data(out, NULL), g_bytes_get_size(out));
	return TRUE;
}

/* The source closure again, each module compressed a different way. */
static void make_compressed_tree(void)
{
	static const char *const tools[] = {"xz", "zstd", "gzip"};
	static const char *const exts[] = {"xz", "zst", "gz"};
	g_autofree char *bi_src = NULL, *bi_dst = NULL;
	guint i;

	fx.compressed = g_build_filename(fx.tmp, "compressed", NULL);
	for (i = 0; i < fx.src_closure->len; i++) {
		const struct vtb_module *m = fx.src_closure->pdata[i];
		g_autofree char *dst =
			g_strdup_printf("%s/kernel/d%u/%s.ko.%s", fx.compressed,
					i, m->name, exts[i % 3]);

		if (!compress_to(tools[i % 3], m->path, dst)) {
			fx.why_compressed =
				g_strdup_printf("cannot run %s to compress %s",
						tools[i % 3], m->path);
			return;
		}
	}
	bi_src = g_build_filename(fx.src->modules, "modules.builtin", NULL);
	bi_dst = g_build_filename(fx.compressed, "modules.builtin", NULL);
	if (g_file_test(bi_src, G_FILE_TEST_EXISTS))
		vtbt_copy(bi_src, bi_dst, -1);
}

/* objcopy rewrites .modinfo; NULL @modinfo renames it away. */
static gboolean with_modinfo(const char *src, const char *dst,
			     const char *modinfo, gsize len)
{
	g_autofree char *info = g_strdup_printf("%s.modinfo", dst);
	g_autofree char *upd = g_strdup_printf(".modinfo=%s", info);
	const char *rn[] = {
		"objcopy", "--rename-section", ".modinfo=.vtbtest", src, dst,
		NULL};
	const char *up[] = {"objcopy", "--update-section", upd, src, dst, NULL};
	g_autoptr(GBytes) out = NULL;

	if (!modinfo)
		return (out = vtbt_exec(rn)) != NULL;
	vtbt_write(info, modinfo, len);
	out = vtbt_exec(up);
	unlink(info);
	return out != NULL;
}

static gboolean fake_module(const char *fuse, const char *name,
			    const char *depends)
{
	g_autofree char *dst = g_strdup_printf("%s/kernel/%s.ko", fx.bad, name);
	g_autoptr(GString) info = g_string_new(NULL);

	g_string_append_printf(info, "depends=%s", depends);
	g_string_append_c(info, '\0');
	g_string_append_printf(info, "vermagic=%s SMP mod_unload",
			       fx.src->release);
	g_string_append_c(info, '\0');
	return with_modinfo(fuse, dst, info->str, info->len);
}

static void make_bad_tree(void)
{
	g_autofree char *fuse = vtbt_find_ko(fx.src->modules, "fuse");
	g_autofree char *k = NULL, *p = NULL, *xz = NULL;
	struct stat st;

	fx.bad = g_build_filename(fx.tmp, "bad", NULL);
	k = g_build_filename(fx.bad, "kernel", NULL);
	if (!fuse || stat(fuse, &st) < 0) {
		fx.why_bad =
			g_strdup_printf("no fuse.ko in %s", fx.src->modules);
		return;
	}
#define BAD(name) (g_free(p), p = g_build_filename(k, name, NULL))
	vtbt_copy(fuse, BAD("trunc_head.ko"), 1000);
	vtbt_copy(fuse, BAD("trunc_half.ko"), st.st_size / 2);
	vtbt_write(BAD("notelf.ko"), "not an ELF file\n", 16);
	vtbt_write(BAD("empty.ko"), "", 0);
	vtbt_copy("/bin/true", BAD("exec.ko"), -1);
	xz = g_build_filename(fx.tmp, "fuse.ko.xz", NULL);
	if (compress_to("xz", fuse, xz)) {
		stat(xz, &st);
		vtbt_copy(xz, BAD("badxz.ko.xz"), st.st_size / 2);
	}
	if (!with_modinfo(fuse, BAD("nomodinfo.ko"), NULL, 0) ||
	    !fake_module(fuse, "cyc_a", "cyc_b") ||
	    !fake_module(fuse, "cyc_b", "cyc_c") ||
	    !fake_module(fuse, "cyc_c", "cyc_a") ||
	    !fake_module(fuse, "needs_ghost", "ghost"))
		fx.why_fake = g_strdup("objcopy cannot rewrite .modinfo");
#undef BAD
}

static int setup(void **state)
{
	const char *names[] = SRC_NAMES;
	GError *err = NULL;

	fx.tmp = vtbt_tmpdir();
	fx.missing = g_build_filename(fx.tmp, "no-such-dir", NULL);
	fx.have_uml = vtbt_find_uml(&fx.uml) && fx.uml.modules;
	fx.have_kvm = vtbt_find_kvm(&fx.kvm) && fx.kvm.modules;
	fx.src = fx.have_uml ? &fx.uml : fx.have_kvm ? &fx.kvm : NULL;
	if (!fx.src) {
		fx.why_compressed = g_strdup("no real module tree to copy");
		fx.why_bad = g_strdup(fx.why_compressed);
		return 0;
	}
	fx.src_closure = vtb_modules_resolve(fx.src->modules, fx.src->release,
					     names, &err);
	if (!fx.src_closure) {
		print_error("resolve in %s: %s\n", fx.src->modules,
			    err->message);
		g_error_free(err);
		return -1;
	}
	make_compressed_tree();
	make_bad_tree();
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	vtbt_rm_rf(fx.tmp);
	g_free(fx.tmp);
	g_free(fx.compressed);
	g_free(fx.bad);
	g_free(fx.missing);
	g_free(fx.why_compressed);
	g_free(fx.why_bad);
	g_free(fx.why_fake);
	if (fx.src_closure)
		g_ptr_array_unref(fx.src_closure);
	vtbt_kernel_clear(&fx.uml);
	vtbt_kernel_clear(&fx.kvm);
	return 0;
}

struct mod_case {
	const char *label;
	enum tree tree;
	const char *names[6];
	const char *release;	  /* NULL: the tree's kernel's */
	int code;		  /* -1: success */
	const char *msg;	  /* in the error message */
	const char *present[8];	  /* in the closure */
	const char *absent[4];	  /* dropped (built in) */
	const char *before[8][2]; /* [0] loads before [1] */
	int count;		  /* -1: any */
};

static const struct mod_case cases[] = {
	{"uml/closure",
	 T_UML,
	 {"virtio", "virtio_console", "virtiofs", "virtio-blk"},
	 .code = -1,
	 .present = {"virtio_console", "fuse", "virtiofs", "virtio_blk"},
	 .absent = {"virtio", "virtio_ring"},
	 .before = {{"fuse", "virtiofs"}},
	 .count = 4},
	{"uml/only-builtin",
	 T_UML,
	 {"virtio", "virtio-ring"},
	 .code = -1,
	 .count = 0},
	{"uml/duplicates",
	 T_UML,
	 {"fuse", "virtiofs", "fuse"},
	 .code = -1,
	 .present = {"fuse", "virtiofs"},
	 .before = {{"fuse", "virtiofs"}},
	 .count = 2},
	{"uml/vermagic",
	 T_UML,
	 {"virtio_console"},
	 "0.0.0-wrong",
	 VTB_APPLIANCE_ERR_MODULE,
	 "virtio_console.ko: vermagic "},
	{"uml/missing",
	 T_UML,
	 {"virtio_console", "no-such-module"},
	 .code = VTB_APPLIANCE_ERR_MODULE,
	 .msg = "module no_such_module not found in /"},
	{"kvm/closure",
	 T_KVM,
	 {"virtio_pci", "virtio-console"},
	 .code = -1,
	 .present = {"virtio", "virtio_ring", "virtio_pci_modern_dev",
		     "virtio_pci_legacy_dev", "virtio_pci", "virtio_console"},
	 .before = {{"virtio_ring", "virtio"},
		    {"virtio", "virtio_pci"},
		    {"virtio_ring", "virtio_pci"},
		    {"virtio_pci_modern_dev", "virtio_pci"},
		    {"virtio_pci_legacy_dev", "virtio_pci"},
		    {"virtio", "virtio_console"}},
	 .count = -1},
	{"kvm/dash-in-file-name",
	 T_KVM,
	 {"virtio_rng"},
	 .code = -1,
	 .present = {"virtio", "virtio_rng"},
	 .before = {{"virtio", "virtio_rng"}},
	 .count = -1},
	{"kvm/vermagic",
	 T_KVM,
	 {"virtio_blk"},
	 "6.1.0-55-amd64",
	 VTB_APPLIANCE_ERR_MODULE,
	 "does not match kernel 6.1.0-55-amd64"},
	{"kvm/missing",
	 T_KVM,
	 {"no_such_module"},
	 .code = VTB_APPLIANCE_ERR_MODULE,
	 .msg = "module no_such_module not found in /"},
	{"compressed/same-closure", T_COMPRESSED, SRC_NAMES, .code = -1,
	 .count = -1},
	{"bad/truncated-head",
	 T_BAD,
	 {"trunc_head"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 "trunc_head.ko: truncated"},
	{"bad/truncated-half",
	 T_BAD,
	 {"trunc_half"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 "trunc_half.ko: truncated"},
	{"bad/not-elf",
	 T_BAD,
	 {"notelf"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 "notelf.ko: not a kernel module (not ELF)"},
	{"bad/empty",
	 T_BAD,
	 {"empty"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 "empty.ko: not a kernel module (not ELF)"},
	{"bad/executable",
	 T_BAD,
	 {"exec"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 "exec.ko: not a kernel module (ELF type 3, not relocatable)"},
	{"bad/truncated-xz",
	 T_BAD,
	 {"badxz"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 "badxz.ko.xz (xz): data truncated"},
	{"fake/no-modinfo",
	 T_FAKE,
	 {"nomodinfo"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 "nomodinfo.ko: no .modinfo section"},
	{"fake/cycle",
	 T_FAKE,
	 {"cyc_a"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 ": cyc_a -> cyc_b -> cyc_c -> cyc_a"},
	{"fake/missing-dependency",
	 T_FAKE,
	 {"needs_ghost"},
	 NULL,
	 VTB_APPLIANCE_ERR_MODULE,
	 "module ghost (needed by needs_ghost) not found in /"},
	{"missing-dir",
	 T_MISSING,
	 {"fuse"},
	 "1",
	 VTB_APPLIANCE_ERR_IO,
	 "no-such-dir: No such file or directory"},
};

static int index_of(GPtrArray *mods, const char *name)
{
	guint i;

	for (i = 0; i < mods->len; i++)
		if (strcmp(((struct vtb_module *)mods->pdata[i])->name, name) ==
		    0)
			return i;
	return -1;
}

static void check_closure(const struct mod_case *c, GPtrArray *mods)
{
	guint i, j;

	for (i = 0; i < mods->len; i++) {
		const struct vtb_module *m = mods->pdata[i];

		print_message("  %02u %s %s\n", i, m->name, m->path);
		assert_null(strchr(m->name, '-'));
		assert_true(g_path_is_absolute(m->path));
		assert_true(g_file_test(m->path, G_FILE_TEST_IS_REGULAR));
		for (j = 0; j < i; j++)
			assert_string_not_equal(
				m->name,
				((struct vtb_module *)mods->pdata[j])->name);
	}
	if (c->count >= 0)
		assert_int_equal(mods->len, c->count);
	for (i = 0; i < G_N_ELEMENTS(c->present) && c->present[i]; i++)
		if (index_of(mods, c->present[i]) < 0)
			fail_msg("%s missing from the closure", c->present[i]);
	for (i = 0; i < G_N_ELEMENTS(c->absent) && c->absent[i]; i++)
		if (index_of(mods, c->absent[i]) >= 0)
			fail_msg("built-in %s in the closure", c->absent[i]);
	for (i = 0; i < G_N_ELEMENTS(c->before) && c->before[i][0]; i++) {
		int a = index_of(mods, c->before[i][0]);
		int b = index_of(mods, c->before[i][1]);

		if (a < 0 || b < 0 || a >= b)
			fail_msg("%s (at %d) must load before %s (at %d)",
				 c->before[i][0], a, c->before[i][1], b);
	}
}

/* Compression changes the file, never the closure or its order. */
static void check_same_as_source(GPtrArray *mods)
{
	guint i;

	assert_int_equal(mods->len, fx.src_closure->len);
	for (i = 0; i < mods->len; i++) {
		const struct vtb_module *m = mods->pdata[i];
		const struct vtb_module *s = fx.src_closure->pdata[i];
		static const char *const exts[] = {".ko.xz", ".ko.zst",
						   ".ko.gz"};

		assert_string_equal(m->name, s->name);
		assert_true(g_str_has_suffix(m->path, exts[i % 3]));
	}
}

static void test_resolve(void **state)
{
	const struct mod_case *c = *state;
	const char *dir = tree_dir(c->tree);
	const char *release = c->release ? c->release : tree_release(c->tree);
	g_autoptr(GPtrArray) mods = NULL;
	GError *err = NULL;
	gint64 t0;

	if (!dir || tree_why(c->tree))
		VTBT_SKIP("%s", tree_why(c->tree) ? tree_why(c->tree)
						  : "module tree absent");
	t0 = g_get_monotonic_time();
	mods = vtb_modules_resolve(dir, release, c->names, &err);
	print_message("  resolve in %s: %.3f s\n", dir,
		      (g_get_monotonic_time() - t0) / 1e6);
	if (c->code >= 0) {
		if (mods)
			fail_msg("resolve succeeded, expected \"%s\"", c->msg);
		print_message("  error: %s\n", err->message);
		assert_true(g_error_matches(err, VTB_APPLIANCE_ERROR, c->code));
		assert_non_null(strstr(err->message, c->msg));
		g_error_free(err);
		return;
	}
	if (!mods)
		fail_msg("resolve in %s: %s", dir, err->message);
	check_closure(c, mods);
	if (c->tree == T_COMPRESSED)
		check_same_as_source(mods);
}

int main(void)
{
	GArray *t = vtbt_tests();
	guint i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		vtbt_add(t, cases[i].label, test_resolve, &cases[i]);
	return vtbt_run(t, "modules", setup, teardown);
}
