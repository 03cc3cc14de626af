/* Payload files and disk images: made with the real tools, verified. */
#include "core/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/proc.h"
#include "core/vtbench.h"

gboolean vtb_run_tool(const char *const *argv, GError **err)
{
	g_autofree char *out = NULL, *errout = NULL;
	g_autoptr(GError) e = NULL;
	int status;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
			  NULL, &out, &errout, &status, &e)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "run %s: %s", argv[0],
			    e->message);
		return FALSE;
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_strstrip(errout);
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "%s failed: %s",
			    argv[0],
			    *errout ? g_strdelimit(errout, "\n", ' ')
				    : "no message");
		return FALSE;
	}
	return TRUE;
}

static gboolean write_random(const char *path, guint64 size, guint64 seed,
			     guint64 *hash, GError **err)
{
	g_autofree char *tmp = g_strdup_printf("%s.tmp%d", path, getpid());
	const size_t chunk = 1 << 20;
	g_autofree guint8 *buf = g_malloc(chunk);
	XXH3_state_t *st = XXH3_createState();
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	guint64 off = 0;

	XXH3_64bits_reset(st);
	if (fd < 0)
		goto fail;
	while (off < size) {
		size_t n = MIN(chunk, size - off);
		size_t done = 0;

		/* A big payload takes minutes: Ctrl-C ends it. */
		if (vtb_interrupted()) {
			g_set_error(err, VTB_ERROR, VTB_ERR_INTERRUPTED,
				    "interrupted by signal %d making %s",
				    vtb_interrupt_signal(), path);
			close(fd);
			unlink(tmp);
			XXH3_freeState(st);
			return FALSE;
		}
		vtb_payload_fill(buf, n, off, seed);
		XXH3_64bits_update(st, buf, n);
		while (done < n) {
			ssize_t w = write(fd, buf + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				goto fail;
			done += w;
		}
		off += n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	*hash = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	if (rename(tmp, path) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "rename %s: %s", tmp,
			    g_strerror(errno));
		unlink(tmp);
		return FALSE;
	}
	return TRUE;
fail:
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "write payload %s: %s", tmp,
		    g_strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	XXH3_freeState(st);
	return FALSE;
}

/* The hash of @size zeros (minutes for terabytes: Ctrl-C ends it). */
static gboolean zero_hash(guint64 size, guint64 *h, GError **err)
{
	static guint8 zeros[1 << 16];
	XXH3_state_t *st = XXH3_createState();

	XXH3_64bits_reset(st);
	for (guint64 off = 0; off < size; off += sizeof(zeros)) {
		if ((off & ((1u << 30) - 1)) == 0 && vtb_interrupted()) {
			g_set_error(err, VTB_ERROR, VTB_ERR_INTERRUPTED,
				    "interrupted by signal %d hashing the "
				    "payload",
				    vtb_interrupt_signal());
			XXH3_freeState(st);
			return FALSE;
		}
		XXH3_64bits_update(st, zeros, MIN(sizeof(zeros), size - off));
	}
	*h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return TRUE;
}

char *vtb_payload_hash_text(guint64 hash, const struct stat *st)
{
	return g_strdup_printf(
		"%016" G_GINT64_MODIFIER "x %ju %jd %jd.%09ld\n", hash,
		(uintmax_t)st->st_ino, (intmax_t)st->st_size,
		(intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

/* The hash of the cache file's text when it was made for @st's file. */
gboolean vtb_payload_hash_parse(const char *text, const struct stat *st,
				guint64 *hash)
{
	g_autofree char *want = NULL;
	char *end;

	*hash = g_ascii_strtoull(text, &end, 16);
	if (end == text)
		return FALSE;
	want = vtb_payload_hash_text(*hash, st);
	return strcmp(text, want) == 0;
}

/* Where the payload's file is kept in @cache_dir. */
static char *payload_path(const char *cache_dir, const char *payload,
			  guint64 size, guint64 seed)
{
	g_autofree char *name =
		g_str_equal(payload, "random")
			? g_strdup_printf("random-%016" G_GINT64_MODIFIER
					  "x-%" G_GUINT64_FORMAT ".bin",
					  seed, size)
			: g_strdup_printf("zero-%" G_GUINT64_FORMAT ".bin",
					  size);

	return g_build_filename(cache_dir, "payload", name, NULL);
}

guint64 vtb_payload_bytes_to_make(const char *cache_dir, const char *payload,
				  guint64 size, guint64 seed)
{
	g_autofree char *path = payload_path(cache_dir, payload, size, seed);
	struct stat st;

	if (!g_str_equal(payload, "random") ||
	    (stat(path, &st) == 0 && (guint64)st.st_size == size))
		return 0;
	return size;
}

gboolean vtb_payload_get(const char *cache_dir, const char *payload,
			 guint64 size, guint64 seed, char **path, guint64 *hash,
			 GError **err)
{
	g_autofree char *dir = g_build_filename(cache_dir, "payload", NULL);
	g_autofree char *hpath = NULL, *htext = NULL;
	bool random = g_str_equal(payload, "random");
	struct stat st;

	g_mkdir_with_parents(dir, 0700);
	*path = payload_path(cache_dir, payload, size, seed);
	hpath = g_strconcat(*path, ".xxh3", NULL);
	/* The hash is trusted for the file it was made with only: same
	 * inode, size and mtime (else the file is made again). */
	if (stat(*path, &st) == 0 && (guint64)st.st_size == size &&
	    g_file_get_contents(hpath, &htext, NULL, NULL) &&
	    vtb_payload_hash_parse(htext, &st, hash))
		return TRUE;
	unlink(*path);
	if (random) {
		if (!write_random(*path, size, seed, hash, err))
			goto fail;
	} else {
		int fd = open(*path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "create payload %s: %s", *path,
				    g_strerror(errno));
			if (fd >= 0)
				close(fd);
			unlink(*path);
			goto fail;
		}
		close(fd);
		if (!zero_hash(size, hash, err)) {
			unlink(*path);
			goto fail;
		}
	}
	g_free(htext);
	if (stat(*path, &st) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "stat payload %s: %s",
			    *path, g_strerror(errno));
		goto fail;
	}
	htext = vtb_payload_hash_text(*hash, &st);
	if (!g_file_set_contents(hpath, htext, -1, err))
		goto fail;
	return TRUE;
fail:
	g_clear_pointer(path, g_free);
	return FALSE;
}

gboolean vtb_disk_make(const char *path, const char *image, const char *fs,
		       guint64 disk_size, const char **format, GError **err)
{
	g_autofree char *sz = g_strdup_printf("%" G_GUINT64_FORMAT, disk_size);
	g_autofree char *raw = NULL;
	bool qcow2 = g_str_has_prefix(image, "qcow2");
	bool prealloc = g_str_has_suffix(image, "-prealloc");
	/* Initialise inode tables and journal now: the guest's lazy init
	 * would otherwise write in the background during the run. */
	const char *const mkfs[] = {"mke2fs",
				    "-q",
				    "-F",
				    "-t",
				    fs,
				    "-E",
				    "lazy_itable_init=0,lazy_journal_init=0,"
				    "nodiscard",
				    NULL,
				    NULL};
	const char **mk = g_memdup2(mkfs, sizeof(mkfs));
	gboolean ok;

	raw = qcow2 ? g_strconcat(path, ".raw", NULL) : g_strdup(path);
	{
		const char *const create[] = {"qemu-img",
					      "create",
					      "-q",
					      "-f",
					      "raw",
					      "-o",
					      prealloc && !qcow2
						      ? "preallocation=falloc"
						      : "preallocation=off",
					      raw,
					      sz,
					      NULL};

		ok = vtb_run_tool(create, err);
	}
	mk[7] = raw;
	ok = ok && vtb_run_tool(mk, err);
	g_free(mk);
	if (ok && qcow2) {
		const char *const conv[] = {"qemu-img",
					    "convert",
					    "-q",
					    "-f",
					    "raw",
					    "-O",
					    "qcow2",
					    "-o",
					    prealloc ? "preallocation=metadata"
						     : "preallocation=off",
					    raw,
					    path,
					    NULL};

		ok = vtb_run_tool(conv, err);
		unlink(raw);
	}
	if (!ok) {
		g_prefix_error(err, "make %s %s image %s: ", image, fs, path);
		unlink(path);
		return FALSE;
	}
	*format = qcow2 ? "qcow2" : "raw";
	return TRUE;
}

gboolean vtb_disk_discard(const char *path, GError **err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	struct stat st;
	gboolean ok;

	if (fd < 0 || fstat(fd, &st) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "open %s: %s", path,
			    g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return FALSE;
	}
	ok = !st.st_size ||
	     fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		       st.st_size) == 0;
	if (!ok)
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "free the blocks of %s: %s", path,
			    g_strerror(errno));
	close(fd);
	return ok;
}

void vtb_drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}
