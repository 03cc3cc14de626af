/* Host side of the flush audit: counter file, VMM environment, reading. */
#include "flush/flush.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/kernels.h"
#include "core/vtbench.h"
#include "flush/vtbflush.h"

struct vtb_flush {
	char *file;
	char *lib; /* absolute path of libvtbflush.so */
	struct vtb_flush_shm *shm;
};

static char *find_lib(GError **err)
{
	g_autofree char *abs =
		vtb_find_helper("VTBENCH_FLUSHLIB", "flush", "libvtbflush.so",
				"flush library", err);

	if (!abs)
		return NULL;
	/* LD_PRELOAD splits at both. */
	if (strpbrk(abs, ": \t")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
			    "flush library %s: LD_PRELOAD cannot carry a path "
			    "with ':' or blanks; set VTBENCH_FLUSHLIB to a "
			    "copy elsewhere",
			    abs);
		return NULL;
	}
	return g_steal_pointer(&abs);
}

struct vtb_flush *vtb_flush_new(const char *dir, GError **err)
{
	g_autoptr(vtb_flush) f = g_new0(struct vtb_flush, 1);
	g_autofree char *adir = g_canonicalize_filename(dir, NULL);
	/* Absolute: the VMM may run in another directory. */
	g_autofree char *tmpl = g_build_filename(adir, "flush-XXXXXX", NULL);
	struct vtb_flush_shm *s;
	int fd, e;

	f->lib = find_lib(err);
	if (!f->lib)
		return NULL;
	fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "create flush counter file in %s: %s", dir,
			    g_strerror(e));
		return NULL;
	}
	f->file = g_steal_pointer(&tmpl);
	if (ftruncate(fd, sizeof(*s)) != 0) {
		e = errno;
		close(fd);
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "size %s: %s", f->file,
			    g_strerror(e));
		return NULL;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = errno;
	close(fd);
	if (s == MAP_FAILED) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "mmap %s: %s", f->file,
			    g_strerror(e));
		return NULL;
	}
	f->shm = s;
	s->version = VTB_FLUSH_VERSION;
	s->size = sizeof(*s);
	/* Last: the magic says the header is complete. */
	__atomic_store_n(&s->magic, VTB_FLUSH_MAGIC, __ATOMIC_RELEASE);
	return g_steal_pointer(&f);
}

const char *vtb_flush_file(struct vtb_flush *f)
{
	return f->file;
}

/* The preload reads '\' as "next character is literal". */
static void append_escaped(GString *s, const char *path)
{
	for (const char *p = path; *p; p++) {
		if (*p == ':' || *p == '\\')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
}

char **vtb_flush_env(struct vtb_flush *f, const char *const *image_paths)
{
	const char *pre = g_getenv("LD_PRELOAD");
	g_autoptr(GString) paths = g_string_new(NULL);
	GPtrArray *env = g_ptr_array_new();

	for (const char *const *p = image_paths; p && *p; p++) {
		/* The VMM may run elsewhere: make relative paths ours. */
		g_autofree char *abs = g_canonicalize_filename(*p, NULL);

		if (paths->len)
			g_string_append_c(paths, ':');
		append_escaped(paths, abs);
	}
	g_ptr_array_add(
		env, pre && *pre
			     ? g_strdup_printf("LD_PRELOAD=%s:%s", f->lib, pre)
			     : g_strdup_printf("LD_PRELOAD=%s", f->lib));
	g_ptr_array_add(env,
			g_strdup_printf("%s=%s", VTB_FLUSH_ENV_FILE, f->file));
	g_ptr_array_add(
		env, g_strdup_printf("%s=%s", VTB_FLUSH_ENV_PATHS, paths->str));
	g_ptr_array_add(env, NULL);
	return (char **)g_ptr_array_free(env, FALSE);
}

static guint64 load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void vtb_flush_read(struct vtb_flush *f, struct vtb_flush_counts *out)
{
	const uint64_t *c = f->shm->count;

	out->fsync = load(&c[VTB_FC_FSYNC]);
	out->fdatasync = load(&c[VTB_FC_FDATASYNC]);
	out->sync_file_range = load(&c[VTB_FC_SYNC_FILE_RANGE]);
	out->syncfs = load(&c[VTB_FC_SYNCFS]);
	out->sync_opens = load(&c[VTB_FC_SYNC_OPENS]);
	out->direct_opens = load(&c[VTB_FC_DIRECT_OPENS]);
	out->dsync_writes = load(&c[VTB_FC_DSYNC_WRITES]);
}

void vtb_flush_counts_sub(const struct vtb_flush_counts *a,
			  const struct vtb_flush_counts *b,
			  struct vtb_flush_counts *out)
{
	out->fsync = a->fsync - b->fsync;
	out->fdatasync = a->fdatasync - b->fdatasync;
	out->sync_file_range = a->sync_file_range - b->sync_file_range;
	out->syncfs = a->syncfs - b->syncfs;
	out->sync_opens = a->sync_opens - b->sync_opens;
	out->direct_opens = a->direct_opens - b->direct_opens;
	out->dsync_writes = a->dsync_writes - b->dsync_writes;
}

void vtb_flush_status(struct vtb_flush *f, guint64 *attached, guint64 *missing)
{
	if (attached)
		*attached = load(&f->shm->attached);
	if (missing)
		*missing = load(&f->shm->missing);
}

void vtb_flush_free(struct vtb_flush *f)
{
	if (!f)
		return;
	if (f->shm)
		munmap(f->shm, sizeof(*f->shm));
	if (f->file)
		unlink(f->file);
	g_free(f->file);
	g_free(f->lib);
	g_free(f);
}
