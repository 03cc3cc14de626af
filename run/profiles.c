/*
 * Profiles: named matrices that reproduce a seed article's tables, kept as
 * data: the options a user would type, and the article's figures (cited,
 * since the articles do not ship with vtbench) each beside the cell of
 * ours that measures the same thing.
 */
#include "run/profiles.h"

#include <string.h>

/*
 * "Lima の vmType VZ と virtiofs を試す" (2022-12-30): fio (test.fio:
 * bs=4k, direct=1, ioengine=libaio, numjobs=$ncpus (2), runtime=60s,
 * size=2 x memory, randrw 70 % reads) 5 runs a mount type, then `tar -x
 * --no-same-owner` of git v2.39.0.tar (213 dirs, 4294 files, 43 MB) 3
 * runs.  Figures: the median of its runs, their range in brackets, and
 * the article's stack (QEMU, VZ, QEMU+ssh).  A row's label names the
 * mount type and metric only: it is matched on every backend's cell, and
 * the cell's backend follows it ("9p untar @ uml").
 */
/* One mount type's five rows: the three fio jobs (randrw's two
 * directions) and the untar, each figure followed by the article's stack
 * (", QEMU"; "" where there is none). */
#define LIMA_ROW(name, tgt, wl, what, m, fig)                                  \
	{                                                                      \
		.label = name " " what, .workload = wl, .target = tgt,         \
		.metric = m, .figure = fig                                     \
	}
#define LIMA_ROWS(name, tgt, stack, rr, rw, rwr, rww, untar)                   \
	LIMA_ROW(name, tgt, "randio", "randread IOPS", "randread_read_iops",   \
		 rr stack),                                                    \
		LIMA_ROW(name, tgt, "randio", "randwrite IOPS",                \
			 "randwrite_write_iops", rw stack),                    \
		LIMA_ROW(name, tgt, "randio", "randrw read IOPS",              \
			 "randrw_read_iops", rwr stack),                       \
		LIMA_ROW(name, tgt, "randio", "randrw write IOPS",             \
			 "randrw_write_iops", rww stack),                      \
		LIMA_ROW(name, tgt, "untar", "untar", "seconds", untar stack)
#define HOSTFS "- (UML's counterpart; not in the article)"
/* clang-format off */
static const struct vtb_article_row lima_rows[] = {
	/* The article's reverse-sshfs runs SFTP inside ssh (encrypted) over
	 * Lima's network; ours, on both backends, on a virtio-serial port
	 * with no ssh at all: what the SFTP server and FUSE client cost
	 * without it. */
	LIMA_ROWS("reverse-sshfs", "sshfs", ", QEMU+ssh",
		  "1,764 (1,495-1,772)", "2,755 (604-3,279)",
		  "1,139 (1,037-1,172)", "488 (443-503)",
		  "15.76 s (15.59-16.00)"),
	LIMA_ROWS("9p", "9p", ", QEMU",
		  "8,910 (5,703-9,037)", "4,839 (4,143-5,026)",
		  "3,923 (3,797-4,030)", "1,682 (1,628-1,729)",
		  "32.77 s (29.19-34.57)"),
	/* The article's virtiofs is VZ's; ours QEMU's with virtiofsd. */
	LIMA_ROWS("virtiofs", "virtiofs", ", VZ",
		  "7,740 (7,565-9,645)", "4,481 (2,265-4,575)",
		  "3,806 (3,681-4,207)", "1,633 (1,579-1,805)",
		  "5.37 s (5.26-6.13)"),
	LIMA_ROWS("hostfs", "hostfs", "", HOSTFS, HOSTFS, HOSTFS, HOSTFS,
		  HOSTFS),
	{ NULL },
};
/* clang-format on */

static const struct vtb_article lima_article = {
	.title = "Lima の vmType VZ と virtiofs を試す (2022-12-30)",
	.source = "blog.1q77.com; fio 3.25 in a Docker container on a Lima "
		  "volume, guests of 2 vCPUs and 2 GiB",
	.setup = "macOS, Lima 0.14.2, other hardware",
	.rows = lima_rows,
};

/*
 * Two posts of the libguestfs author's blog (the seed's "Tag Archives:
 * benchmarks").  The first: 500 MB uploaded into ext2 on a 1 GB image,
 * libguestfs 1.23.16, the "virtualized" column (a KVM guest without
 * hardware virtualization: TCG, like this host), UML's channel its serial
 * line.  The second: 1500M of zeroes into ext2 on a 2G image in /dev/shm,
 * KVM on an idle physical machine, the mean of the last 3 of 5 runs.
 * Ours move other sizes (500M, serial lines sized from their rate): MB/s
 * is the figure to set beside the article's.
 */
/* clang-format off */
static const struct vtb_article_row uml_rows[] = {
	{ .label = "upload: serial line -> ubd", .transport = "serial",
	  .workload = "upload", .target = "ubd", .image = "raw-sparse",
	  .fs = "ext2",
	  .payload = "zero", .mount_opts = "-", .metric = "throughput_MBps",
	  .figure = "UML: 149 s for 500 MB (~3.4 MB/s)" },
	{ .label = "upload: virtio-serial -> virtio-blk",
	  .transport = "virtio-serial", .workload = "upload",
	  .target = "virtio-blk", .image = "raw-sparse", .fs = "ext2", .payload = "zero",
	  .mount_opts = "-", .metric = "throughput_MBps",
	  .figure = "KVM: 73 s for 500 MB (~6.8 MB/s)" },
	{ .label = "upload-no-write: serial line", .transport = "serial", .workload = "upload-no-write",
	  .payload = "zero", .metric = "throughput_MBps",
	  .figure = "UML: 140 s for 500 MB (~3.6 MB/s)" },
	{ .label = "upload-no-write: virtio-serial", .transport = "virtio-serial", .workload = "upload-no-write",
	  .payload = "zero", .metric = "throughput_MBps",
	  .figure = "KVM: 20 s for 500 MB (~25 MB/s)" },
	{ .label = "write-no-upload: ubd", .target = "ubd",
	  .workload = "write-no-upload", .image = "raw-sparse", .fs = "ext2", .payload = "zero",
	  .mount_opts = "-", .metric = "throughput_MBps",
	  .figure = "UML: 9 s for 500 MB (~56 MB/s)" },
	{ .label = "write-no-upload: virtio-blk",
	  .target = "virtio-blk", .workload = "write-no-upload", .image = "raw-sparse", .fs = "ext2",
	  .payload = "zero", .mount_opts = "-", .metric = "throughput_MBps",
	  .figure = "KVM: 25 s for 500 MB (~20 MB/s)" },
	{ NULL },
};
/* clang-format on */

static const struct vtb_article uml_article = {
	.title = "Performance of User-Mode Linux as a libguestfs backend",
	.source = "the libguestfs author's blog (seed: \"Tag Archives: "
		  "benchmarks\"), upload test, virtualized column",
	.setup = "libguestfs 1.23.16 in a KVM guest, no hardware "
		 "virtualization, other hardware",
	.rows = uml_rows,
};

/* Every row of the second post: KVM, ext2 unless said, no -o sync
 * unless said, zeroes unless said; "dd" is the payload attached as a
 * disk (our transport virtio-blk). */
#define UPLOAD_ROW(lbl, tr, img, fsys, mnt, pay, fig, need)                    \
	{                                                                      \
		.label = lbl, .transport = tr, .target = "virtio-blk",         \
		.workload = "upload", .image = img, .fs = fsys,                \
		.payload = pay, .mount_opts = mnt,                             \
		.metric = "throughput_MBps", .figure = fig, .needs = need      \
	}
/* clang-format off */
static const struct vtb_article_row upload_rows[] = {
	UPLOAD_ROW("raw sparse, upload", "virtio-serial", "raw-sparse",
		   "ext2", "-", "zero", "8 s, 188 MBps", NULL),
	UPLOAD_ROW("raw prealloc, upload", "virtio-serial", "raw-prealloc",
		   "ext2", "-", "zero", "8.5 s, 176 MBps", NULL),
	UPLOAD_ROW("raw prealloc, dd", "virtio-blk", "raw-prealloc", "ext2",
		   "-", "zero", "7.5 s, 200 MBps", NULL),
	UPLOAD_ROW("qcow2 no prealloc, upload", "virtio-serial", "qcow2",
		   "ext2", "-", "zero", "7.5 s, 200 MBps", NULL),
	UPLOAD_ROW("qcow2 preallocation=metadata, upload", "virtio-serial",
		   "qcow2-prealloc", "ext2", "-", "zero", "8 s, 188 MBps",
		   NULL),
	UPLOAD_ROW("qcow2 preallocation=metadata, dd", "virtio-blk",
		   "qcow2-prealloc", "ext2", "-", "zero", "8 s, 188 MBps",
		   NULL),
	UPLOAD_ROW("raw prealloc, dd, sync", "virtio-blk", "raw-prealloc",
		   "ext2", "sync", "zero", "12 s, 125 MBps",
		   "--mount-opts sync: a matrix has one set of mount options"),
	UPLOAD_ROW("raw prealloc, upload, sync", "virtio-serial",
		   "raw-prealloc", "ext2", "sync", "zero", "138 s, 11 MBps",
		   "--mount-opts sync: a matrix has one set of mount options"),
	UPLOAD_ROW("raw prealloc, dd, ext3", "virtio-blk", "raw-prealloc",
		   "ext3", "-", "zero", "10.5 s, 143 MBps",
		   "--fs ext2,ext3"),
	{ .label = "raw prealloc, upload tar.gz (-smp 1 and 4)",
	  .figure = "10.5 s, 143 MBps",
	  .missing = "vtbench moves the bytes as they are; no compressed "
		     "upload (tgz-in)" },
	UPLOAD_ROW("raw sparse, upload, other bytes than zero",
		   "virtio-serial", "raw-sparse", "ext2", "-", "random",
		   "no figure: \"neither qcow2 nor the kernel optimizes the "
		   "all-zero-byte case\"", NULL),
	{ NULL },
};
/* clang-format on */

static const struct vtb_article upload_article = {
	.title = "Benchmarks: uploading files",
	.source = "the libguestfs author's blog (seed: \"Tag Archives: "
		  "benchmarks\"); 1500M into a 2G image in /dev/shm",
	.setup = "KVM on an idle physical machine, other hardware",
	.rows = upload_rows,
};

static const char *const lima_words[] = {
	"--workload=randio,untar",
	"--target=9p,virtiofs,hostfs,sshfs",
	"--fio-jobs=randread,randwrite,randrw",
	"--fio-runtime=60",
	"--untar-tree=git",
	"--cpus=2",
	"--runs=5",
	NULL,
};

static const char *const libguestfs_words[] = {
	"--transport=serial,virtio-serial,virtio-blk",
	"--workload=upload,upload-no-write,write-no-upload",
	"--image=raw-sparse,raw-prealloc,qcow2,qcow2-prealloc",
	"--fs=ext2",
	"--payload=zero,random",
	"--disk-size=1G",
	"--runs=5",
	NULL,
};

const struct vtb_profile vtb_profiles[] = {
	{"libguestfs",
	 "the libguestfs posts' upload tables: UML's serial line against "
	 "virtio-serial, raw sparse/prealloc and qcow2, the payload as a "
	 "disk (dd), zero and random bytes",
	 libguestfs_words,
	 (const struct vtb_article *const[]){&uml_article, &upload_article,
					     NULL}},
	{"lima",
	 "the Lima article: fio randread/randwrite/randrw and untar of a "
	 "git-sized tree on 9p, virtiofs, reverse-sshfs (sshfs) and UML's "
	 "hostfs",
	 lima_words, (const struct vtb_article *const[]){&lima_article, NULL}},
	{NULL, NULL, NULL, NULL},
};

const struct vtb_profile *vtb_profile_find(const char *name)
{
	for (const struct vtb_profile *p = vtb_profiles; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

char *vtb_profile_names(void)
{
	GString *s = g_string_new(NULL);

	for (const struct vtb_profile *p = vtb_profiles; p->name; p++)
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", p->name);
	return g_string_free(s, FALSE);
}

/* "--name" of a word "--name" or "--name=value", or NULL. */
static char *opt_name(const char *w)
{
	const char *eq;

	if (strncmp(w, "--", 2) != 0 || !w[2])
		return NULL;
	eq = strchr(w, '=');
	return eq ? g_strndup(w, eq - w) : g_strdup(w);
}

char **vtb_profile_expand(int argc, char **argv, int *n)
{
	const struct vtb_profile *p = NULL;
	GPtrArray *out = g_ptr_array_new();

	for (int i = 0; i < argc && !p; i++) {
		if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
			p = vtb_profile_find(argv[i + 1]);
		else if (g_str_has_prefix(argv[i], "--profile="))
			p = vtb_profile_find(argv[i] + strlen("--profile="));
	}
	for (const char *const *w = p ? p->words : NULL; w && *w; w++) {
		g_autofree char *name = opt_name(*w);
		bool given = false;

		for (int i = 0; i < argc && !given; i++) {
			g_autofree char *a = opt_name(argv[i]);

			given = a && strcmp(a, name) == 0;
		}
		if (!given)
			g_ptr_array_add(out, (char *)*w);
	}
	for (int i = 0; i < argc; i++)
		g_ptr_array_add(out, argv[i]);
	*n = (int)out->len;
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}
