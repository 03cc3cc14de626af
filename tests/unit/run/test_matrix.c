/* Unit tests: the matrix expansion and what each backend's disks accept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "run/cli.h"
#include "core/registry.h"
#include "kvm/kvm.h"
#include "results/cell.h"
#include "run/runner.h"

struct mcase {
	const char *args;
	int cells;
	const char *has_cell; /* a label that must be there, or NULL */
	const char *skip;     /* a substring of some skip reason, or NULL */
	int skips;	 /* expected number of skipped combinations, -1 any */
	const char *env; /* "NAME=value" set for the case, or NULL */
};

static const struct mcase cases[] = {
	/* startup: one cell per backend, no transport. */
	{"--workload startup", 2, "uml startup", NULL, 0},
	/* Every stream transport on both backends (UML's virtio-serial is
	 * vtbench's own vhost-user back-end). */
	{"--workload upload-no-write --transport serial,virtio-serial", 4,
	 "uml virtio-serial upload-no-write", NULL, 0},
	/* Block transports land on their own backend only. */
	{"--workload upload-no-write --transport virtio-blk,ubd", 3,
	 "uml virtio-blk upload-no-write cache=writeback", "UML's own block",
	 1},
	/* download-no-read: streams only, both ways of each. */
	{"--workload download-no-read", 4, "uml virtio-serial download-no-read",
	 NULL, 0},
	/* write-no-upload needs no transport: one per target x cache. */
	{"--workload write-no-upload --cache none,writeback,unsafe,"
	 "directsync,writethrough",
	 6, "kvm/direct/tcg write-no-upload ->virtio-blk cache=none",
	 "ubd has cache writeback or sync", 4},
	/* sync is ubd's flag, not a QEMU mode. */
	{"--workload write-no-upload --cache sync", 1,
	 "uml write-no-upload ->ubd cache=sync", "QEMU has no cache mode sync",
	 1},
	/* qcow2 is QEMU's; ubd takes raw. */
	{"--workload write-no-upload --image raw-sparse,qcow2 --fs ext2,ext4",
	 6,
	 "kvm/direct/tcg write-no-upload ->virtio-blk cache=writeback "
	 "qcow2 ext4",
	 "raw images only", 2},
	/* aio=native without O_DIRECT is refused, not mapped. */
	{"--backend kvm --workload write-no-upload --cache none,writeback "
	 "--aio native",
	 1,
	 "kvm/direct/tcg write-no-upload ->virtio-blk cache=none "
	 "aio=native",
	 "needs O_DIRECT", 1},
	/* A target a backend lacks. */
	{"--backend kvm --workload upload --transport serial --target ubd", 0,
	 NULL, "UML's own block", 1},
	/* UML's virtio-blk target: QEMU's modes and formats, via QSD. */
	{"--backend uml --workload write-no-upload --target virtio-blk "
	 "--cache writeback,sync,unsafe --image qcow2",
	 2, "uml write-no-upload ->virtio-blk cache=unsafe qcow2",
	 "QEMU has no cache mode sync", 1},
	/* Roundtrip: one cell per message size, streams only. */
	{"--workload roundtrip --msg-size 64,4K", 8,
	 "uml virtio-serial roundtrip 64B", NULL, 0},
	/* By default the UML line's 4 KiB echo is left out, with why. */
	{"--workload roundtrip", 7, "uml serial roundtrip 64B", "goes deaf", 1},
	/* untar without --target: every shared filesystem each backend
	 * has (uml hostfs, 9p, virtiofs and sshfs, kvm 9p, virtiofs and
	 * sshfs), the others skipped. */
	{"--workload untar", 7, "uml untar ->9p cache=mmap msize=512K",
	 "UML's own", 1},
	/* The default job: each filesystem only where a backend of the run
	 * serves it natively (9p, virtiofs, sshfs on kvm; hostfs on uml, so
	 * kvm's hostfs is not even a skip); all of UML's when kvm is not in
	 * the run. */
	{"", 30, "kvm/direct/tcg untar ->sshfs cache=yes", "goes deaf", 2},
	{"", 30, "uml untar ->hostfs", "UML's own", 2},
	{"--backend uml", 17, "uml untar ->9p cache=mmap msize=512K", NULL, 1},
	/* sshfs on both, over either stream; each --sshfs-cache a cell. */
	{"--workload untar --target sshfs --sshfs-cache yes,no", 4,
	 "uml untar ->sshfs cache=no", NULL, 0},
	{"--backend kvm --workload upload --transport virtio-serial "
	 "--target sshfs --sshfs-channel serial",
	 1, "kvm/direct/tcg virtio-serial upload ->sshfs cache=yes", NULL, 0},
	/* Its programs missing: skipped with why when not asked for. */
	{"--workload untar", 5, "uml untar ->hostfs",
	 "sshfs: no sftp-server at /nonexistent", 3,
	 "VTBENCH_SFTP_SERVER=/nonexistent"},
	{"--workload untar", 5, "uml untar ->9p cache=mmap msize=512K",
	 "virtiofs: VTBENCH_VIRTIOFSD=/nonexistent: no such program", 3,
	 "VTBENCH_VIRTIOFSD=/nonexistent"},
	/* metadata runs where untar does: the same shared filesystems by
	 * default, the disks and tmpfs when asked for. */
	{"--workload metadata", 7,
	 "kvm/direct/tcg metadata ->virtiofs "
	 "cache=auto threads=0",
	 "UML's own", 1},
	{"--workload metadata --target ubd,virtio-blk,tmpfs", 5,
	 "uml metadata ->ubd cache=writeback", "UML's own block", 1},
	/* Asked for, it runs (and fails with the reason). */
	{"--backend uml --workload roundtrip --msg-size 4K", 2,
	 "uml serial roundtrip 4096B", NULL, 0},
	/* upload without --transport: the streams only; over a block
	 * transport (a disk-to-disk copy) when asked for. */
	{"--workload upload", 4, "uml serial upload ->ubd cache=writeback",
	 NULL, 0},
	{"--workload upload --transport virtio-blk,ubd", 3,
	 "uml ubd upload ->ubd cache=writeback", "UML's own block", 1},
	/* Filesystem targets: each one's own cache modes a cell, no image,
	 * fs or disk cache; what a backend lacks skipped with why. */
	{"--workload write-no-upload --target 9p,virtiofs,hostfs,tmpfs "
	 "--9p-cache none,loose --virtiofs-cache auto,always --image qcow2 "
	 "--fs ext4 --cache none",
	 11, "uml write-no-upload ->9p cache=loose msize=512K", "UML's own", 1},
	{"--backend uml --workload untar --target hostfs,tmpfs", 2,
	 "uml untar ->hostfs", NULL, 0},
	{"--backend kvm --workload untar --target virtiofs", 1,
	 "kvm/direct/tcg untar ->virtiofs cache=auto threads=0", NULL, 0},
	/* Each filesystem's second axis times its cache modes: 9p's msize
	 * (524288 is 512K: one cell), virtiofsd's thread pool. */
	{"--backend kvm --workload untar --target 9p,virtiofs --9p-msize "
	 "128K,524288,512K,1M --9p-cache none,mmap --virtiofs-threads 0,4,04",
	 8, "kvm/direct/tcg untar ->9p cache=none msize=1M", NULL, 0},
	{"--backend kvm --workload untar --target virtiofs --virtiofs-cache "
	 "always --virtiofs-threads 4",
	 1, "kvm/direct/tcg untar ->virtiofs cache=always threads=4", NULL, 0},
	/* UML's 9p (trans=fd) carries the msize axis as virtio-9p does. */
	{"--backend uml --workload untar --target 9p --9p-msize 128K,1M", 2,
	 "uml untar ->9p cache=mmap msize=1M", NULL, 0},
	{"--backend kvm --workload untar --target hostfs", 0, NULL,
	 "hostfs is UML's own filesystem", 1},
	/* Payloads multiply transfer cells but not roundtrip. */
	{"--backend kvm --workload upload-no-write,roundtrip --transport "
	 "virtio-serial --payload zero,random --msg-size 64",
	 3, "kvm/direct/tcg virtio-serial upload-no-write random", NULL, 0},
};

static bool has_label(struct vtb_matrix *r, const char *want)
{
	for (guint i = 0; i < r->cells->len; i++) {
		g_autofree char *l = vtb_cell_label(r->cells->pdata[i]);

		if (g_str_equal(l, want))
			return true;
	}
	return false;
}

static bool has_skip(struct vtb_matrix *r, const char *want)
{
	for (guint i = 0; i < r->skipped->len; i++)
		if (strstr(r->skipped->pdata[i], want))
			return true;
	return false;
}

static void dump(struct vtb_matrix *r)
{
	for (guint i = 0; i < r->cells->len; i++) {
		g_autofree char *l = vtb_cell_label(r->cells->pdata[i]);

		print_message("  cell: %s\n", l);
	}
	for (guint i = 0; i < r->skipped->len; i++)
		print_message("  skip: %s\n", (char *)r->skipped->pdata[i]);
}

static void test_expand(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct mcase *c = &cases[i];
		g_auto(GStrv) argv = g_strsplit(c->args, " ", -1);
		struct vtb_matrix r = {0};
		g_autoptr(GError) e = NULL;
		bool help;

		if (c->env)
			putenv((char *)c->env);
		if (!vtb_cli_parse_run((int)g_strv_length(argv), argv, &r.opts,
				       &help, &e))
			fail_msg("'%s': %s", c->args, e->message);
		vtb_matrix_init(&r);
		vtb_env_set_ready(
			&r.env, &vtb_backend_uml,
			g_strv_contains((const char *const *)r.opts.backends,
					"uml"),
			NULL);
		vtb_env_set_ready(
			&r.env, &vtb_backend_kvm,
			g_strv_contains((const char *const *)r.opts.backends,
					"kvm"),
			NULL);
		((struct vtb_kvm_env *)vtb_env_priv(&r.env, &vtb_backend_kvm))
			->accel = g_strdup("tcg");
		vtb_matrix_build(&r);
		if ((int)r.cells->len != c->cells ||
		    (c->has_cell && !has_label(&r, c->has_cell)) ||
		    (c->skip && !has_skip(&r, c->skip)) ||
		    (c->skips >= 0 && (int)r.skipped->len != c->skips)) {
			dump(&r);
			fail_msg("'%s': %u cells (want %d), %u skipped (want "
				 "%d)",
				 c->args, r.cells->len, c->cells,
				 r.skipped->len, c->skips);
		}
		vtb_matrix_clear(&r);
		if (c->env) {
			g_autofree char *name =
				g_strndup(c->env, strcspn(c->env, "="));

			g_unsetenv(name);
		}
	}
}

/* Transfer cells get a size: --size, else the warm-up's is the guess of
 * --duration (the transport's default is ~10 s), else that default. */
static void test_sizes(void **state)
{
	static const struct {
		const char *workload, *transport, *duration;
		guint64 want;
	} t[] = {
		/* 16 MiB in ~10 s: 1.6 MB in 1 s -> 1.5 MiB */
		{"upload-no-write", "serial", "1", 3ULL << 19},
		/* in 4 s: 6.7 MB -> 6 MiB */
		{"upload-no-write", "serial", "4", 6ULL << 20},
		/* 500M in ~10 s: 52 MB in 1 s -> 48 MiB */
		{"upload-no-write", "virtio-serial", "1", 48ULL << 20},
		{"download-no-read", "virtio-serial", "1", 48ULL << 20},
		{"upload", "virtio-serial", "1", 48ULL << 20},
		/* roundtrips: 20000 64-byte messages in ~10 s: 2048 */
		{"roundtrip", "virtio-serial", "1", 2048ULL * 64},
		/* no transport: --size's default is the guess */
		{"write-no-upload", NULL, "1", 48ULL << 20},
		/* never more than the guess: the grid's step under 500M */
		{"write-no-upload", NULL, "60", 384ULL << 20},
	};
	char *a1[] = {"--backend",	 "uml",		"--workload",
		      "upload-no-write", "--transport", "serial"};
	char *a2[] = {"--backend",   "uml",    "--workload", "upload-no-write",
		      "--transport", "serial", "--size",     "3M"};
	char *a3[] = {"--backend",   "uml",    "--workload", "upload-no-write",
		      "--transport", "serial", "--warmup",   "0"};
	struct vtb_matrix r = {0};
	struct vtb_cell *c;
	bool help;

	assert_true(vtb_cli_parse_run(6, a1, &r.opts, &help, NULL));
	vtb_matrix_init(&r);
	vtb_env_set_ready(&r.env, &vtb_backend_uml, true, NULL);
	vtb_matrix_build(&r);
	assert_int_equal(r.cells->len, 1);
	c = r.cells->pdata[0];
	assert_true(c->size_auto);
	/* A second for the warm-up, which measures the line's rate. */
	assert_true(c->size == 3ULL << 19);
	vtb_matrix_clear(&r);

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		char *a[] = {"--backend",   "uml",
			     "--workload",  (char *)t[i].workload,
			     "--duration",  (char *)t[i].duration,
			     "--transport", (char *)t[i].transport};

		memset(&r, 0, sizeof(r));
		assert_true(vtb_cli_parse_run(t[i].transport ? 8 : 6, a,
					      &r.opts, &help, NULL));
		vtb_matrix_init(&r);
		vtb_env_set_ready(&r.env, &vtb_backend_uml, true, NULL);
		vtb_matrix_build(&r);
		/* A roundtrip's first cell is its first message size. */
		assert_true(r.cells->len >= 1);
		c = r.cells->pdata[0];
		assert_true(c->size_auto);
		if (c->size != t[i].want)
			fail_msg("%s %s --duration %s: %" G_GUINT64_FORMAT
				 " bytes, want %" G_GUINT64_FORMAT,
				 t[i].workload,
				 t[i].transport ? t[i].transport : "-",
				 t[i].duration, c->size, t[i].want);
		vtb_matrix_clear(&r);
	}

	/* No warm-up, nothing measured: the transport's own default. */
	memset(&r, 0, sizeof(r));
	assert_true(vtb_cli_parse_run(8, a3, &r.opts, &help, NULL));
	vtb_matrix_init(&r);
	vtb_env_set_ready(&r.env, &vtb_backend_uml, true, NULL);
	vtb_matrix_build(&r);
	c = r.cells->pdata[0];
	assert_true(c->size_auto);
	assert_true(c->size == 16ULL << 20);
	vtb_matrix_clear(&r);

	memset(&r, 0, sizeof(r));
	assert_true(vtb_cli_parse_run(8, a2, &r.opts, &help, NULL));
	vtb_matrix_init(&r);
	vtb_env_set_ready(&r.env, &vtb_backend_uml, true, NULL);
	vtb_matrix_build(&r);
	c = r.cells->pdata[0];
	assert_false(c->size_auto);
	assert_true(c->size == 3ULL << 20);
	vtb_matrix_clear(&r);
}

/* Rate-sized transfers: --duration of the measured rate, on a coarse
 * grid. */
static void test_size_for_rate(void **state)
{
	static const struct {
		double rate, secs;
		guint64 max, want;
	} t[] = {
		/* 0.16 MB/s for 10 s = 1.6 MB: 1.5 MiB (9.8 s) */
		{160e3, 10, G_MAXUINT64, 3ULL << 19},
		/* 1.9 MB/s: 19 MB -> 16 MiB (8.8 s), not 24 MiB (13 s) */
		{1.9e6, 10, G_MAXUINT64, 16ULL << 20},
		/* a few percent either way keeps the size */
		{1.8e6, 10, G_MAXUINT64, 16ULL << 20},
		{2.0e6, 10, G_MAXUINT64, 16ULL << 20},
		/* 2.6 MB/s: 26 MB -> 24 MiB */
		{2.6e6, 10, G_MAXUINT64, 24ULL << 20},
		/* never below 4 KiB, even for a line that hardly moves */
		{10, 10, G_MAXUINT64, 4ULL << 10},
		{0, 10, G_MAXUINT64, 4ULL << 10},
		/* a target disk caps it */
		{1e9, 10, 900ULL << 20, 768ULL << 20},
		/* the default second: 1068 MB/s -> 1 GiB, 75 MB/s -> 64 MiB */
		{1068e6, 1, G_MAXUINT64, 1ULL << 30},
		{75e6, 1, G_MAXUINT64, 64ULL << 20},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		guint64 got = vtb_size_for_rate(t[i].rate, t[i].secs, t[i].max);

		if (got != t[i].want)
			fail_msg("rate %.0f B/s: %" G_GUINT64_FORMAT
				 " bytes, want %" G_GUINT64_FORMAT,
				 t[i].rate, got, t[i].want);
	}
}

/* A backend with one row: everything else it cannot carry, by table. */
static const struct vtb_device_ops toy_serial = {.help = "a toy line"};
static const struct vtb_driver_ops toy_direct = {
	.name = "direct",
	.devices = {[VTB_DEV_SERIAL] = &toy_serial},
};
static const struct vtb_driver_ops *const toy_drivers[] = {&toy_direct, NULL};
static const struct vtb_backend_ops toy = {
	.name = "toy",
	.drivers = toy_drivers,
};

/* Devices as backend rows: who attaches what, and why not. */
static void test_rows(void **state)
{
	static const struct {
		const struct vtb_backend_ops *be;
		enum vtb_dev_kind kind;
		const char *bus, *cache, *format, *aio;
		const char *why; /* substring, NULL: attachable */
	} t[] = {
		{&toy, VTB_DEV_SERIAL, NULL, NULL, NULL, NULL, NULL},
		{&toy, VTB_DEV_DISK, "virtio-blk", NULL, NULL, NULL,
		 "toy has no disk device"},
		{&toy, VTB_DEV_VIRTIO_SERIAL, NULL, NULL, NULL, NULL,
		 "toy has no virtio-serial device"},
		{&vtb_backend_uml, VTB_DEV_SERIAL, NULL, NULL, NULL, NULL,
		 NULL},
		{&vtb_backend_uml, VTB_DEV_VIRTIO_SERIAL, NULL, NULL, NULL,
		 NULL, NULL},
		{&vtb_backend_uml, VTB_DEV_DISK, "virtio-blk", NULL, NULL, NULL,
		 NULL},
		{&vtb_backend_uml, VTB_DEV_DISK, "virtio-blk", "none", "qcow2",
		 "native", NULL},
		{&vtb_backend_uml, VTB_DEV_DISK, "virtio-blk", "writeback",
		 "raw", "native", "needs O_DIRECT"},
		{&vtb_backend_uml, VTB_DEV_DISK, "virtio-blk", "sync", "raw",
		 NULL, "QEMU has no cache mode sync"},
		{&vtb_backend_uml, VTB_DEV_DISK, "scsi", NULL, NULL, NULL,
		 "UML has no scsi disk"},
		{&vtb_backend_uml, VTB_DEV_DISK, "ubd", "sync", "raw", NULL,
		 NULL},
		{&vtb_backend_uml, VTB_DEV_DISK, "ubd", "none", NULL, NULL,
		 "ubd has cache writeback or sync"},
		{&vtb_backend_uml, VTB_DEV_DISK, "ubd", "writeback", "qcow2",
		 NULL, "raw images only"},
		{&vtb_backend_uml, VTB_DEV_DISK, "ubd", "writeback", "raw",
		 "native", "ubd has none"},
		{&vtb_backend_kvm, VTB_DEV_DISK, "ubd", NULL, NULL, NULL,
		 "UML's own block"},
		{&vtb_backend_kvm, VTB_DEV_DISK, "virtio-blk", "sync", NULL,
		 NULL, "QEMU has no cache mode sync"},
		{&vtb_backend_kvm, VTB_DEV_DISK, "virtio-blk", "writeback",
		 "qcow2", "native", "needs O_DIRECT"},
		{&vtb_backend_kvm, VTB_DEV_DISK, "virtio-blk", "none", "qcow2",
		 "native", NULL},
		{&vtb_backend_kvm, VTB_DEV_VIRTIO_SERIAL, NULL, NULL, NULL,
		 NULL, NULL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		struct vtb_device d = {.kind = t[i].kind,
				       .bus = t[i].bus,
				       .cache = t[i].cache,
				       .format = t[i].format,
				       .aio = t[i].aio};
		g_autofree char *why = vtb_backend_cannot(t[i].be, &d);

		if (t[i].why ? !why || !strstr(why, t[i].why) : why != NULL)
			fail_msg("%s %s %s: '%s', want '%s'", t[i].be->name,
				 vtb_dev_kind_name(t[i].kind),
				 t[i].bus ? t[i].bus : "", why ? why : "(can)",
				 t[i].why ? t[i].why : "(can)");
		/* Every driver of the backend refuses alike. */
		for (int k = 1; t[i].be->drivers[k]; k++) {
			const struct vtb_device_ops *row =
				vtb_driver_row(t[i].be->drivers[k], d.kind);
			g_autofree char *w2 = !row	    ? g_strdup("no row")
					      : row->cannot ? row->cannot(&d)
							    : NULL;

			if (g_strcmp0(why, w2) != 0)
				fail_msg("%s/%s %s: '%s', its first driver "
					 "'%s'",
					 t[i].be->name,
					 t[i].be->drivers[k]->name,
					 vtb_dev_kind_name(t[i].kind),
					 w2 ? w2 : "(can)",
					 why ? why : "(can)");
		}
	}
	/* The deaf line is a quirk of UML's row, not of the transport. */
	assert_true(vtb_transport_quirks(&vtb_backend_uml,
					 vtb_transport_find("serial")) &
		    VTB_QUIRK_DEAF_AFTER_THROTTLE);
	assert_false(vtb_transport_quirks(&vtb_backend_kvm,
					  vtb_transport_find("serial")) &
		     VTB_QUIRK_DEAF_AFTER_THROTTLE);
	assert_int_equal(vtb_transport_quirks(&toy, vtb_transport_find("ubd")),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_size_for_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
