/* Unit tests: kernel identification and bzImage extraction, on real kernels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "appliance/appliance.h"
#include "tests/unit/testutil.h"

#define SYNTH_RELEASE "9.9.9-vtbtest"

static struct {
	char *tmp;
	struct vtbt_kernel uml, kvm;
	gboolean have_uml, have_kvm;
	char *uml_version; /* from `linux.uml --version` */
	char *vmlinux;	   /* extracted from the KVM bzImage */
	gboolean vmlinux_pvh;
	double extract_s;
	char *extract_err;
	GBytes *true_bin;
} fx;

enum input {
	IN_UML,
	IN_TRUE,
	IN_MISSING,
	IN_TEXT,
	IN_EMPTY,
	IN_DIR,
	IN_FIFO,
	IN_DEVNULL,
	IN_BZIMAGE,
	IN_VMLINUX,
	IN_TRUNC_BZIMAGE,
	IN_SYNTH_BZIMAGE,
};

/* Path of the input, or NULL with *why set when it is absent here. */
static char *input_path(enum input in, const char **why)
{
	switch (in) {
	case IN_UML:
		*why = fx.uml.why;
		return fx.have_uml ? g_strdup(fx.uml.kernel) : NULL;
	case IN_TRUE:
		return g_strdup("/bin/true");
	case IN_MISSING:
		return g_build_filename(fx.tmp, "no-such-kernel", NULL);
	case IN_TEXT:
		return g_build_filename(fx.tmp, "text", NULL);
	case IN_EMPTY:
		return g_build_filename(fx.tmp, "empty", NULL);
	case IN_DIR:
		return g_strdup(fx.tmp);
	case IN_FIFO: {
		char *p = g_build_filename(fx.tmp, "fifo", NULL);

		if (mkfifo(p, 0600) != 0 && errno != EEXIST)
			*why = "mkfifo failed";
		return p;
	}
	case IN_DEVNULL:
		return g_strdup("/dev/null");
	case IN_BZIMAGE:
		*why = fx.kvm.why;
		return fx.have_kvm ? g_strdup(fx.kvm.kernel) : NULL;
	case IN_VMLINUX:
		*why = fx.kvm.why ? fx.kvm.why : fx.extract_err;
		return fx.vmlinux ? g_strdup(fx.vmlinux) : NULL;
	case IN_TRUNC_BZIMAGE:
		*why = fx.kvm.why;
		return fx.have_kvm
			       ? g_build_filename(fx.tmp, "trunc-bzimage", NULL)
			       : NULL;
	case IN_SYNTH_BZIMAGE:
		return g_build_filename(fx.tmp, "synth-gzip", NULL);
	}
	return NULL;
}

/* A release from the kernel itself or its file name: an independent view. */
static const char *expected_release(enum input in)
{
	const char *base;

	switch (in) {
	case IN_UML:
		return fx.uml_version;
	case IN_BZIMAGE:
	case IN_VMLINUX:
		base = strrchr(fx.kvm.kernel, '/');
		base = base ? base + 1 : fx.kvm.kernel;
		return g_str_has_prefix(base, "vmlinuz-") ? base + 8 : NULL;
	case IN_SYNTH_BZIMAGE:
		return SYNTH_RELEASE;
	default:
		return NULL;
	}
}

/*
 * A minimal bzImage: one setup sector after the boot sector, the version
 * string at 0x300, @payload 16 bytes into the protected-mode part, then the
 * uncompressed size as the kernel's build appends it (not for gzip).
 */
static void make_bzimage(const char *path, GBytes *payload, guint32 usize,
			 gboolean trailer, gsize cut)
{
	gsize plen = g_bytes_get_size(payload) + (trailer ? 4 : 0);
	gsize total = 1024 + 16 + plen;
	g_autofree guint8 *b = g_malloc0(total);
	guint32 v;
	guint16 w;

	b[0x1f1] = 1;
	v = GUINT32_TO_LE((16 + plen + 15) / 16);
	memcpy(b + 0x1f4, &v, 4);
	memcpy(b + 0x202, "HdrS", 4);
	w = GUINT16_TO_LE(0x020f);
	memcpy(b + 0x206, &w, 2);
	w = GUINT16_TO_LE(0x100);
	memcpy(b + 0x20e, &w, 2);
	strcpy((char *)b + 0x300, SYNTH_RELEASE " (t@t) #1 SMP");
	v = GUINT32_TO_LE(16);
	memcpy(b + 0x248, &v, 4);
	v = GUINT32_TO_LE(plen);
	memcpy(b + 0x24c, &v, 4);
	memcpy(b + 1040, g_bytes_get_data(payload, NULL),
	       g_bytes_get_size(payload));
	if (trailer) {
		v = GUINT32_TO_LE(usize);
		memcpy(b + 1040 + plen - 4, &v, 4);
	}
	vtbt_write(path, b, cut ? MIN(cut, total) : total);
}

static GBytes *compress_with(const char *tool, const char *file)
{
	const char *gz[] = {"gzip", "-n", "-9", "-c", file, NULL};
	const char *xz[] = {"xz", "--check=crc32", "-c", file, NULL};
	const char *zs[] = {"zstd", "-q", "-c", file, NULL};
	const char *lz[] = {"lz4", "-l", "-q", "-c", file, NULL};

	if (strcmp(tool, "gzip") == 0)
		return vtbt_exec(gz);
	if (strcmp(tool, "xz") == 0)
		return vtbt_exec(xz);
	if (strcmp(tool, "zstd") == 0)
		return vtbt_exec(zs);
	return vtbt_exec(lz);
}

static int setup(void **state)
{
	const char *ver[] = {NULL, "--version", NULL};
	g_autofree char *p = NULL;
	g_autoptr(GBytes) gz = NULL;
	GError *err = NULL;

	fx.tmp = vtbt_tmpdir();
	p = g_build_filename(fx.tmp, "text", NULL);
	vtbt_write(p, "Linux version 1.2.3 but only text\n", 34);
	g_free(p);
	p = g_build_filename(fx.tmp, "empty", NULL);
	vtbt_write(p, "", 0);
	g_free(p);
	fx.true_bin = vtbt_read("/bin/true");

	fx.have_uml = vtbt_find_uml(&fx.uml);
	if (fx.have_uml) {
		g_autoptr(GBytes) out = NULL;

		ver[0] = fx.uml.kernel;
		out = vtbt_exec(ver);
		if (out)
			fx.uml_version = g_strstrip(
				g_strndup(g_bytes_get_data(out, NULL),
					  g_bytes_get_size(out)));
	}

	fx.have_kvm = vtbt_find_kvm(&fx.kvm);
	if (fx.have_kvm) {
		gint64 t0 = g_get_monotonic_time();
		g_autofree char *trunc =
			g_build_filename(fx.tmp, "trunc-bzimage", NULL);
		struct stat st;

		fx.vmlinux = g_build_filename(fx.tmp, "vmlinux", NULL);
		if (!vtb_bzimage_extract(fx.kvm.kernel, fx.vmlinux,
					 &fx.vmlinux_pvh, &err)) {
			fx.extract_err = g_strdup(err->message);
			g_clear_error(&err);
			g_clear_pointer(&fx.vmlinux, g_free);
		}
		fx.extract_s = (g_get_monotonic_time() - t0) / 1e6;
		print_message("bzImage extraction: %.3f s\n", fx.extract_s);
		stat(fx.kvm.kernel, &st);
		vtbt_copy(fx.kvm.kernel, trunc, st.st_size / 2);
	}

	/* A gzip bzImage around /bin/true, for identify's synthetic case. */
	gz = compress_with("gzip", "/bin/true");
	p = g_build_filename(fx.tmp, "synth-gzip", NULL);
	if (gz)
		make_bzimage(p, gz, g_bytes_get_size(fx.true_bin), FALSE, 0);
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	vtbt_rm_rf(fx.tmp);
	g_free(fx.tmp);
	vtbt_kernel_clear(&fx.uml);
	vtbt_kernel_clear(&fx.kvm);
	g_free(fx.uml_version);
	g_free(fx.vmlinux);
	g_free(fx.extract_err);
	g_bytes_unref(fx.true_bin);
	return 0;
}

struct id_case {
	const char *label;
	enum input in;
	int code; /* -1: success */
	enum vtb_kernel_kind kind;
	const char *msg; /* in the error message */
	gboolean build_id, pvh;
};

static const struct id_case id_cases[] = {
	{"uml", IN_UML, -1, VTB_KERNEL_UML, NULL, TRUE, FALSE},
	{"true", IN_TRUE, VTB_APPLIANCE_ERR_KERNEL, 0,
	 "/bin/true: an ELF executable but not a Linux kernel (no "
	 ".uml.setup.init section, no Linux banner)"},
	{"missing", IN_MISSING, VTB_APPLIANCE_ERR_IO, 0,
	 "no-such-kernel: No such file or directory"},
	{"text", IN_TEXT, VTB_APPLIANCE_ERR_KERNEL, 0, "not a Linux kernel"},
	{"empty", IN_EMPTY, VTB_APPLIANCE_ERR_KERNEL, 0, "empty"},
	{"directory", IN_DIR, VTB_APPLIANCE_ERR_KERNEL, 0, "a directory"},
	/* Opened, a FIFO would wait for a writer: the type comes first. */
	{"fifo", IN_FIFO, VTB_APPLIANCE_ERR_KERNEL, 0,
	 "fifo: a FIFO, not a regular file"},
	{"/dev/null", IN_DEVNULL, VTB_APPLIANCE_ERR_KERNEL, 0,
	 "/dev/null: a character device, not a regular file"},
	{"bzimage", IN_BZIMAGE, -1, VTB_KERNEL_BZIMAGE, NULL, FALSE, FALSE},
	{"vmlinux", IN_VMLINUX, -1, VTB_KERNEL_VMLINUX, NULL, TRUE, TRUE},
	{"truncated-bzimage", IN_TRUNC_BZIMAGE, VTB_APPLIANCE_ERR_KERNEL, 0,
	 "truncated bzImage"},
	{"synthetic-bzimage", IN_SYNTH_BZIMAGE, -1, VTB_KERNEL_BZIMAGE, NULL,
	 FALSE, FALSE},
};

static void test_identify(void **state)
{
	const struct id_case *c = *state;
	g_autofree char *path = NULL;
	struct vtb_kernel_info ki;
	const char *why = NULL, *rel;
	GError *err = NULL;
	gboolean ok;

	path = input_path(c->in, &why);
	if (!path)
		VTBT_SKIP("%s", why ? why : "input absent");
	if (c->in == IN_SYNTH_BZIMAGE && !g_file_test(path, G_FILE_TEST_EXISTS))
		VTBT_SKIP("no gzip command to build the synthetic bzImage");

	/* A hang (an open that waits) fails the case instead. */
	alarm(10);
	ok = vtb_kernel_identify(path, &ki, &err);
	alarm(0);
	if (c->code >= 0) {
		assert_false(ok);
		assert_non_null(err);
		print_message("  error: %s\n", err->message);
		assert_true(g_error_matches(err, VTB_APPLIANCE_ERROR, c->code));
		assert_non_null(strstr(err->message, c->msg));
		assert_null(ki.path);
		assert_null(ki.release);
		g_error_free(err);
		return;
	}
	if (!ok)
		fail_msg("identify %s: %s", path, err->message);
	assert_int_equal(ki.kind, c->kind);
	assert_true(g_path_is_absolute(ki.path));
	assert_non_null(ki.release);
	assert_true(g_ascii_isdigit(ki.release[0]));
	rel = expected_release(c->in);
	if (rel)
		assert_string_equal(ki.release, rel);
	if (c->kind != VTB_KERNEL_BZIMAGE) {
		g_autofree char *prefix =
			g_strdup_printf("Linux version %s (", ki.release);

		assert_non_null(ki.banner);
		assert_true(g_str_has_prefix(ki.banner, prefix));
		assert_null(strchr(ki.banner, '\n'));
	}
	if (c->build_id) {
		assert_non_null(ki.build_id);
		assert_true(strlen(ki.build_id) >= 16);
		assert_int_equal(strspn(ki.build_id, "0123456789abcdef"),
				 strlen(ki.build_id));
	}
	assert_int_equal(ki.has_pvh, c->pvh);
	print_message("  %s %s build-id %s%s\n", vtb_kernel_kind_name(ki.kind),
		      ki.release, ki.build_id ? ki.build_id : "-",
		      ki.has_pvh ? " pvh" : "");
	vtb_kernel_info_clear(&ki);
	assert_null(ki.path);
}

static void test_kind_names(void **state)
{
	assert_string_equal(vtb_kernel_kind_name(VTB_KERNEL_UML), "uml");
	assert_string_equal(vtb_kernel_kind_name(VTB_KERNEL_BZIMAGE),
			    "bzimage");
	assert_string_equal(vtb_kernel_kind_name(VTB_KERNEL_VMLINUX),
			    "vmlinux");
	assert_string_equal(vtb_kernel_kind_name(VTB_KERNEL_UNKNOWN),
			    "unknown");
}

/* The real bzImage: its vmlinux was extracted once, in setup(). */
static void test_extract_real(void **state)
{
	if (!fx.have_kvm)
		VTBT_SKIP("%s", fx.kvm.why);
	if (!fx.vmlinux)
		fail_msg("extract %s: %s", fx.kvm.kernel, fx.extract_err);
	assert_true(fx.vmlinux_pvh);
	print_message("  extraction: %.3f s\n", fx.extract_s);
}

struct bz_case {
	const char *label;
	const char *tool;  /* compressor; NULL: raw bytes "BZh91AY" */
	gboolean trailer;  /* the kernel's appended size */
	gsize cut;	   /* truncate the bzImage to this many bytes */
	gboolean bad_dest; /* destination in a missing directory */
	int code;	   /* -1: success */
	const char *msg;
	gboolean real; /* wrap the real vmlinux instead of /bin/true */
};

static const struct bz_case bz_cases[] = {
	{"gzip", "gzip", FALSE, 0, FALSE, -1, NULL},
	{"xz", "xz", TRUE, 0, FALSE, -1, NULL},
	{"zstd", "zstd", TRUE, 0, FALSE, -1, NULL},
	{"lz4-legacy", "lz4", TRUE, 0, FALSE, -1, NULL},
	{"truncated", "xz", TRUE, 1100, FALSE, VTB_APPLIANCE_ERR_KERNEL,
	 "truncated bzImage"},
	{"bzip2", NULL, TRUE, 0, FALSE, VTB_APPLIANCE_ERR_KERNEL,
	 "unsupported format (magic 42 5a 68 39"},
	{"dest-in-missing-dir", "xz", TRUE, 0, TRUE, VTB_APPLIANCE_ERR_IO,
	 "no-dir/vmlinux: No such file or directory"},
	/* Many 8 MiB lz4 blocks; a zstd window beyond one block. */
	{"real-vmlinux-as-lz4", "lz4", TRUE, 0, FALSE, -1, NULL, TRUE},
	{"real-vmlinux-as-zstd", "zstd", TRUE, 0, FALSE, -1, NULL, TRUE},
};

/* Corrupting the payload inside a well-formed header. */
static void test_extract_corrupt(void **state)
{
	g_autofree char *bz = g_build_filename(fx.tmp, "corrupt-xz", NULL);
	g_autofree char *dest = g_build_filename(fx.tmp, "corrupt.out", NULL);
	g_autoptr(GBytes) xz = compress_with("xz", "/bin/true");
	g_autoptr(GBytes) half = NULL;
	gboolean pvh;
	GError *err = NULL;

	if (!xz)
		VTBT_SKIP("no xz command");
	half = g_bytes_new_from_bytes(xz, 0, g_bytes_get_size(xz) / 2);
	make_bzimage(bz, half, 0, TRUE, 0);
	assert_false(vtb_bzimage_extract(bz, dest, &pvh, &err));
	print_message("  error: %s\n", err->message);
	assert_true(g_error_matches(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_KERNEL));
	assert_non_null(strstr(err->message, "corrupt-xz payload (xz): "));
	assert_false(g_file_test(dest, G_FILE_TEST_EXISTS));
	g_error_free(err);
}

static void test_extract_synth(void **state)
{
	const struct bz_case *c = *state;
	g_autofree char *name = g_strdup_printf("bz-%s", c->label);
	g_autofree char *bz = g_build_filename(fx.tmp, name, NULL);
	g_autofree char *dest = g_build_filename(
		fx.tmp, c->bad_dest ? "no-dir/vmlinux" : "vmlinux-synth", NULL);
	g_autoptr(GBytes) payload = NULL;
	g_autoptr(GBytes) got = NULL;
	g_autoptr(GBytes) want = NULL;
	const char *src = "/bin/true";
	gboolean pvh = !c->real;
	GError *err = NULL;
	gint64 t0;

	if (c->real) {
		if (!fx.vmlinux)
			VTBT_SKIP("%s",
				  fx.kvm.why ? fx.kvm.why : fx.extract_err);
		src = fx.vmlinux;
	}
	want = c->real ? vtbt_read(src) : g_bytes_ref(fx.true_bin);
	if (c->tool) {
		payload = compress_with(c->tool, src);
		if (!payload)
			VTBT_SKIP("no %s command", c->tool);
	} else {
		payload = g_bytes_new_static("BZh91AY&SY", 10);
	}
	make_bzimage(bz, payload, g_bytes_get_size(want), c->trailer, c->cut);
	if (c->code >= 0) {
		assert_false(vtb_bzimage_extract(bz, dest, &pvh, &err));
		print_message("  error: %s\n", err->message);
		assert_true(g_error_matches(err, VTB_APPLIANCE_ERROR, c->code));
		assert_non_null(strstr(err->message, c->msg));
		g_error_free(err);
		return;
	}
	t0 = g_get_monotonic_time();
	if (!vtb_bzimage_extract(bz, dest, &pvh, &err))
		fail_msg("extract %s: %s", bz, err->message);
	print_message("  %zu -> %zu bytes in %.3f s\n",
		      g_bytes_get_size(payload), g_bytes_get_size(want),
		      (g_get_monotonic_time() - t0) / 1e6);
	assert_int_equal(pvh, c->real);
	got = vtbt_read(dest);
	assert_true(g_bytes_equal(got, want));
	unlink(dest);
}

int main(void)
{
	GArray *t = vtbt_tests();
	guint i;

	for (i = 0; i < G_N_ELEMENTS(id_cases); i++) {
		g_autofree char *n =
			g_strdup_printf("identify/%s", id_cases[i].label);

		vtbt_add(t, n, test_identify, &id_cases[i]);
	}
	vtbt_add(t, "kind-names", test_kind_names, NULL);
	vtbt_add(t, "extract/real-bzimage", test_extract_real, NULL);
	for (i = 0; i < G_N_ELEMENTS(bz_cases); i++) {
		g_autofree char *n =
			g_strdup_printf("extract/%s", bz_cases[i].label);

		vtbt_add(t, n, test_extract_synth, &bz_cases[i]);
	}
	vtbt_add(t, "extract/corrupt-payload", test_extract_corrupt, NULL);
	return vtbt_run(t, "kernel", setup, teardown);
}
