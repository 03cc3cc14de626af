/* The guest tools image: host binaries + their library closure, ext2, cached.
 */
#include "appliance/appliance.h"
#include "appliance/elfnote.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

/* Bump whenever the image's layout changes: old cache entries then miss. */
#define TOOLS_FORMAT "vtbench-tools-1"

/*
 * Where Debian's loader finds what ld.so.cache lists (the cache's format is
 * glibc's own and changes between versions; these directories are what
 * ldconfig indexed in the first place).
 */
static const char *const default_libdirs[] = {
	"/lib/x86_64-linux-gnu",
	"/usr/lib/x86_64-linux-gnu",
	"/lib64",
	NULL,
};

/* One ELF object of the closure, as the dynamic loader would see it. */
struct object {
	char *path;   /* as found (a symlink stays a symlink) */
	char *interp; /* PT_INTERP, or NULL */
	char *rpath, *runpath;
	GPtrArray *needed; /* char *, DT_NEEDED in order */
};

struct closure {
	const char *const *libdirs;
	const char *binary;  /* the binary being resolved, for messages */
	unsigned char class; /* ELFCLASS of the binary: libraries must match */
	GElf_Half machine;
	GHashTable *dests; /* dest -> struct vtb_tool_file *, owned by out */
	GPtrArray *out;	   /* struct vtb_tool_file * */
};

static void object_clear(struct object *o)
{
	g_free(o->path);
	g_free(o->interp);
	g_free(o->rpath);
	g_free(o->runpath);
	if (o->needed)
		g_ptr_array_unref(o->needed);
	memset(o, 0, sizeof(*o));
}

static void tool_file_free(gpointer p)
{
	struct vtb_tool_file *f = p;

	g_free(f->src);
	g_free(f->dest);
	g_free(f);
}

static gboolean tool_error(GError **err, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static gboolean tool_error(GError **err, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_TOOL,
			    msg);
	return FALSE;
}

/* The PT_INTERP string, bounds-checked against the file. */
static gboolean read_interp(Elf *elf, const char *d, gsize n, const char *path,
			    char **interp, GError **err)
{
	size_t phnum, i;

	if (elf_getphdrnum(elf, &phnum) < 0)
		return tool_error(err, "%s: corrupt ELF (%s)", path,
				  elf_errmsg(-1));
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph))
			return tool_error(err, "%s: corrupt ELF (%s)", path,
					  elf_errmsg(-1));
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_offset >= n || ph.p_filesz > n - ph.p_offset ||
		    ph.p_filesz < 2)
			return tool_error(err, "%s: truncated (PT_INTERP)",
					  path);
		*interp = g_strndup(d + ph.p_offset, ph.p_filesz);
		return TRUE;
	}
	return TRUE;
}

/* DT_NEEDED, DT_RPATH and DT_RUNPATH from the SHT_DYNAMIC section. */
static gboolean read_dynamic(Elf *elf, struct object *o, GError **err)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Shdr sh;
		size_t i, count;

		if (!gelf_getshdr(scn, &sh))
			return tool_error(err, "%s: corrupt ELF (%s)", o->path,
					  elf_errmsg(-1));
		if (sh.sh_type != SHT_DYNAMIC)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			return tool_error(err,
					  "%s: cannot read the dynamic "
					  "section (%s)",
					  o->path, elf_errmsg(-1));
		count = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < count; i++) {
			const char *s;
			GElf_Dyn dyn;

			if (!gelf_getdyn(data, i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH &&
			    dyn.d_tag != DT_RUNPATH)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				return tool_error(err,
						  "%s: dynamic entry %zu "
						  "names no string (%s)",
						  o->path, i, elf_errmsg(-1));
			if (dyn.d_tag == DT_NEEDED)
				g_ptr_array_add(o->needed, g_strdup(s));
			else if (dyn.d_tag == DT_RPATH && !o->rpath)
				o->rpath = g_strdup(s);
			else if (dyn.d_tag == DT_RUNPATH && !o->runpath)
				o->runpath = g_strdup(s);
		}
		return TRUE;
	}
	return TRUE;
}

/*
 * Read @path as an ELF object.  With @c->class still 0 it sets the class and
 * machine every later object must have; a later object that differs makes
 * *@compatible FALSE (the loader skips such a file and searches on).
 */
static gboolean object_read(struct closure *c, const char *path,
			    struct object *o, gboolean *compatible,
			    GError **err)
{
	g_autoptr(GMappedFile) mf = NULL;
	const char *d;
	GElf_Ehdr eh;
	gboolean ok = FALSE;
	Elf *elf;
	gsize n;

	memset(o, 0, sizeof(*o));
	o->path = g_strdup(path);
	o->needed = g_ptr_array_new_with_free_func(g_free);
	*compatible = TRUE;
	mf = vtb_map_file(path, VTB_APPLIANCE_ERR_TOOL, err);
	if (!mf)
		return FALSE;
	d = g_mapped_file_get_contents(mf);
	n = g_mapped_file_get_length(mf);
	if (n < EI_NIDENT || memcmp(d, ELFMAG, SELFMAG) != 0)
		return tool_error(err, "%s: not an ELF executable", path);
	if (c->class && d[EI_CLASS] != c->class) {
		*compatible = FALSE;
		return TRUE;
	}
	elf_version(EV_CURRENT);
	elf = elf_memory((char *)d, n);
	if (!elf)
		return tool_error(err, "%s: corrupt ELF (%s)", path,
				  elf_errmsg(-1));
	if (!gelf_getehdr(elf, &eh)) {
		tool_error(err, "%s: truncated ELF header (%zu bytes)", path,
			   n);
		goto out_end;
	}
	if (!c->class) {
		if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
			tool_error(err,
				   "%s: not an ELF executable (ELF type %u)",
				   path, eh.e_type);
			goto out_end;
		}
		c->class = d[EI_CLASS];
		c->machine = eh.e_machine;
	} else if (eh.e_machine != c->machine || eh.e_type != ET_DYN) {
		*compatible = FALSE;
		ok = TRUE;
		goto out_end;
	}
	ok = read_interp(elf, d, n, path, &o->interp, err) &&
	     read_dynamic(elf, o, err);
out_end:
	elf_end(elf);
	return ok;
}

/* $ORIGIN and ${ORIGIN} become the directory of the object itself. */
static char *expand_origin(const char *dir, const struct object *from)
{
	g_autofree char *real = realpath(from->path, NULL);
	g_autofree char *origin = g_path_get_dirname(real ? real : from->path);
	g_autofree char *a = NULL;
	g_auto(GStrv) parts = NULL;

	parts = g_strsplit(dir, "${ORIGIN}", -1);
	a = g_strjoinv(origin, parts);
	g_strfreev(parts);
	parts = g_strsplit(a, "$ORIGIN", -1);
	return g_strjoinv(origin, parts);
}

static void add_path_list(GPtrArray *dirs, const char *list,
			  const struct object *from)
{
	g_auto(GStrv) v = NULL;
	int i;

	if (!list)
		return;
	v = g_strsplit(list, ":", -1);
	for (i = 0; v[i]; i++)
		if (*v[i])
			g_ptr_array_add(dirs, expand_origin(v[i], from));
}

/*
 * The loader's order, less LD_LIBRARY_PATH and the cache: DT_RPATH of the
 * object and of the executable (when the object has no DT_RUNPATH), the
 * object's DT_RUNPATH, then the default directories.
 */
static GPtrArray *search_dirs(struct closure *c, const struct object *from,
			      const struct object *exe)
{
	GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
	int i;

	if (!from->runpath) {
		add_path_list(dirs, from->rpath, from);
		if (exe != from && !exe->runpath)
			add_path_list(dirs, exe->rpath, exe);
	}
	add_path_list(dirs, from->runpath, from);
	for (i = 0; c->libdirs[i]; i++)
		g_ptr_array_add(dirs, g_strdup(c->libdirs[i]));
	return dirs;
}

static void add_file(struct closure *c, enum vtb_tool_kind kind,
		     const char *src, const char *dest)
{
	struct vtb_tool_file *f = g_new0(struct vtb_tool_file, 1);
	char *real = realpath(src, NULL);

	/* The image holds the file's bytes under the name asked for. */
	f->src = real ? real : g_strdup(src);
	f->dest = g_strdup(dest);
	f->kind = kind;
	g_ptr_array_add(c->out, f);
	g_hash_table_insert(c->dests, f->dest, f);
}

static gboolean visit(struct closure *c, const struct object *o,
		      const struct object *exe, GError **err);

static const char *interp_name(const char *interp)
{
	const char *slash = strrchr(interp, '/');

	return slash ? slash + 1 : interp;
}

/*
 * Find @name for @from, add it and what it needs.  Every error is made
 * here, once, naming the binary being resolved: deeper levels propagate.
 */
static gboolean resolve(struct closure *c, const char *name,
			const struct object *from, const struct object *exe,
			GError **err)
{
	g_autofree char *dest = g_strdup_printf("lib/%s", name);
	g_autoptr(GPtrArray) dirs = NULL;
	g_autofree char *joined = NULL;
	guint i;

	/* One copy per soname, as the loader loads each once; the loader
	 * itself is loaded already, under its own name. */
	if (g_hash_table_contains(c->dests, dest))
		return TRUE;
	if (exe->interp && strcmp(name, interp_name(exe->interp)) == 0)
		return TRUE;
	if (strchr(name, '/'))
		return tool_error(err,
				  "%s: %s needs %s by path; only names are "
				  "supported",
				  c->binary, from->path, name);
	dirs = search_dirs(c, from, exe);
	for (i = 0; i < dirs->len; i++) {
		g_autofree char *cand =
			g_build_filename(dirs->pdata[i], name, NULL);
		struct object lib;
		gboolean compatible, ok;

		if (!g_file_test(cand, G_FILE_TEST_IS_REGULAR))
			continue;
		if (!object_read(c, cand, &lib, &compatible, err)) {
			object_clear(&lib);
			g_prefix_error(err, "%s: ", c->binary);
			return FALSE;
		}
		if (!compatible) {
			object_clear(&lib);
			continue;
		}
		add_file(c, VTB_TOOL_LIB, cand, dest);
		ok = visit(c, &lib, exe, err);
		object_clear(&lib);
		return ok;
	}
	g_ptr_array_add(dirs, NULL);
	joined = g_strjoinv(":", (char **)dirs->pdata);
	if (from == exe)
		return tool_error(err, "%s: library %s not found in %s",
				  c->binary, name, joined);
	return tool_error(err, "%s: library %s (needed by %s) not found in %s",
			  c->binary, name, from->path, joined);
}

static gboolean visit(struct closure *c, const struct object *o,
		      const struct object *exe, GError **err)
{
	guint i;

	for (i = 0; i < o->needed->len; i++)
		if (!resolve(c, o->needed->pdata[i], o, exe, err))
			return FALSE;
	return TRUE;
}

/* One binary: itself, its interpreter, its libraries. */
static gboolean add_binary(struct closure *c, const char *binary, GError **err)
{
	g_autofree char *base = g_path_get_basename(binary);
	g_autofree char *dest = g_strdup_printf("bin/%s", base);
	struct object exe;
	gboolean compatible, ok = FALSE;

	c->binary = binary;
	c->class = 0;
	if (!object_read(c, binary, &exe, &compatible, err))
		goto out_clear;
	if (g_hash_table_contains(c->dests, dest)) {
		tool_error(err, "%s: a second tool called %s", binary, base);
		goto out_clear;
	}
	add_file(c, VTB_TOOL_BIN, binary, dest);
	if (exe.interp) {
		const char *rel = exe.interp + strspn(exe.interp, "/");

		if (!g_path_is_absolute(exe.interp) || !*rel) {
			tool_error(err,
				   "%s: interpreter %s is not an "
				   "absolute path",
				   binary, exe.interp);
			goto out_clear;
		}
		if (!g_file_test(exe.interp, G_FILE_TEST_IS_REGULAR)) {
			tool_error(err, "%s: interpreter %s not found", binary,
				   exe.interp);
			goto out_clear;
		}
		if (!g_hash_table_contains(c->dests, rel))
			add_file(c, VTB_TOOL_INTERP, exe.interp, rel);
	}
	ok = visit(c, &exe, &exe, err);
out_clear:
	object_clear(&exe);
	return ok;
}

GPtrArray *vtb_tools_closure(const char *const *binaries,
			     const char *const *libdirs, GError **err)
{
	g_autoptr(GHashTable) dests = NULL;
	g_autoptr(GPtrArray) out = NULL;
	struct closure c = {0};
	int i;

	dests = g_hash_table_new(g_str_hash, g_str_equal);
	out = g_ptr_array_new_with_free_func(tool_file_free);
	c.libdirs = libdirs ? libdirs : default_libdirs;
	c.dests = dests;
	c.out = out;
	for (i = 0; binaries && binaries[i]; i++)
		if (!add_binary(&c, binaries[i], err))
			return NULL;
	return g_steal_pointer(&out);
}

static char *cache_key(GPtrArray *files, GMappedFile **mf)
{
	XXH3_state_t *st = XXH3_createState();
	XXH128_canonical_t c;
	GString *hex;
	guint i;

	XXH3_128bits_reset(st);
	XXH3_128bits_update(st, TOOLS_FORMAT, sizeof(TOOLS_FORMAT));
	for (i = 0; i < files->len; i++) {
		const struct vtb_tool_file *f = files->pdata[i];
		gsize len = g_mapped_file_get_length(mf[i]);
		guint64 le = GUINT64_TO_LE(len);

		/* Names and lengths keep the concatenation unambiguous. */
		XXH3_128bits_update(st, f->dest, strlen(f->dest) + 1);
		XXH3_128bits_update(st, &le, sizeof(le));
		if (len)
			XXH3_128bits_update(
				st, g_mapped_file_get_contents(mf[i]), len);
	}
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	XXH3_freeState(st);
	hex = g_string_sized_new(2 * sizeof(c.digest));
	for (i = 0; i < sizeof(c.digest); i++)
		g_string_append_printf(hex, "%02x", c.digest[i]);
	return g_string_free(hex, FALSE);
}

static gboolean io_error(GError **err, const char *step, const char *path)
{
	int e = errno;

	g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO, "%s %s: %s",
		    step, path, g_strerror(e));
	return FALSE;
}

static gboolean write_all(const char *path, const char *d, gsize n,
			  GError **err)
{
	g_autofree char *dir = g_path_get_dirname(path);
	int fd;

	if (g_mkdir_with_parents(dir, 0755) < 0)
		return io_error(err, "mkdir", dir);
	/* ELF objects, executable as Debian ships them. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (fd < 0)
		return io_error(err, "create", path);
	while (n > 0) {
		ssize_t w = write(fd, d, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			io_error(err, "write", path);
			close(fd);
			return FALSE;
		}
		d += w;
		n -= w;
	}
	if (close(fd) < 0)
		return io_error(err, "close", path);
	return TRUE;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* mke2fs -d copies the staging tree into a fresh ext2 of @kib KiB. */
static gboolean run_mke2fs(const char *stage, const char *img, guint nfiles,
			   guint64 kib, GError **err)
{
	g_autofree char *inodes = g_strdup_printf("%u", nfiles + 32);
	g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT "k", kib);
	g_autofree char *out = NULL, *errout = NULL;
	g_autoptr(GError) e = NULL;
	const char *const argv[] = {
		"mke2fs",
		"-q",
		"-F",
		"-t",
		"ext2",
		"-m",
		"0",
		"-L",
		"vtbtools",
		"-N",
		inodes,
		"-E",
		"root_owner=0:0",
		"-d",
		stage,
		img,
		size,
		NULL,
	};
	int status;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
			  NULL, &out, &errout, &status, &e)) {
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "run mke2fs for %s: %s", img, e->message);
		return FALSE;
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_strstrip(errout);
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "mke2fs -d %s %s failed: %s", stage, img,
			    *errout ? g_strdelimit(errout, "\n", ' ')
				    : "no message");
		return FALSE;
	}
	return TRUE;
}

/* Stage the files, make the image beside @dest, rename it into place. */
static gboolean build(const char *dest, GPtrArray *files, GMappedFile **mf,
		      GError **err)
{
	g_autofree char *stage = g_strdup_printf("%s.stage-XXXXXX", dest);
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", dest);
	guint64 kib = 0;
	gboolean ok = FALSE;
	guint i;
	int fd;

	if (!g_mkdtemp_full(stage, 0755))
		return io_error(err, "create the staging directory", stage);
	for (i = 0; i < files->len; i++) {
		const struct vtb_tool_file *f = files->pdata[i];
		g_autofree char *path = g_build_filename(stage, f->dest, NULL);
		gsize n = g_mapped_file_get_length(mf[i]);

		if (!write_all(path, g_mapped_file_get_contents(mf[i]), n, err))
			goto out_stage;
		/* 1 KiB blocks, indirect blocks, an inode: with room. */
		kib += (n + 1023) / 1024 + n / (256 * 1024) + 2;
	}
	/* Group descriptors, bitmaps, inode tables, directories. */
	kib += kib / 8 + 1024;
	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		io_error(err, "create a temporary file next to", dest);
		goto out_stage;
	}
	close(fd);
	if (!run_mke2fs(stage, tmp, files->len, kib, err))
		goto out_tmp;
	/* Read-only in the guest; read-only here too. */
	if (chmod(tmp, 0444) < 0) {
		io_error(err, "chmod", tmp);
		goto out_tmp;
	}
	if (rename(tmp, dest) < 0) {
		int e = errno;

		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "rename %s to %s: %s", tmp, dest, g_strerror(e));
		goto out_tmp;
	}
	ok = TRUE;
	goto out_stage;
out_tmp:
	unlink(tmp);
out_stage:
	nftw(stage, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return ok;
}

gboolean vtb_tools_get(const char *cache_dir, const char *const *binaries,
		       const char *const *libdirs, struct vtb_tools *out,
		       GError **err)
{
	gint64 t0 = g_get_monotonic_time();
	g_autoptr(GPtrArray) files = NULL;
	g_autofree char *dir = NULL;
	GMappedFile **mf = NULL;
	gboolean ok = FALSE;
	struct stat st;
	guint i;

	memset(out, 0, sizeof(*out));
	files = vtb_tools_closure(binaries, libdirs, err);
	if (!files)
		return FALSE;
	mf = g_new0(GMappedFile *, files->len);
	for (i = 0; i < files->len; i++) {
		const struct vtb_tool_file *f = files->pdata[i];

		mf[i] = vtb_map_file(f->src, VTB_APPLIANCE_ERR_TOOL, err);
		if (!mf[i])
			goto out_free;
	}
	out->key = cache_key(files, mf);
	dir = g_build_filename(cache_dir, "tools", NULL);
	out->image = g_strdup_printf("%s/%s.ext2", dir, out->key);
	out->files = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; i < files->len; i++) {
		const struct vtb_tool_file *f = files->pdata[i];

		g_ptr_array_add(out->files, g_strdup(f->dest));
		if (f->kind == VTB_TOOL_INTERP && !out->interp)
			out->interp = g_strconcat("/", f->dest, NULL);
	}
	if (stat(out->image, &st) == 0 && S_ISREG(st.st_mode)) {
		out->cache_hit = TRUE;
	} else {
		if (g_mkdir_with_parents(dir, 0700) < 0) {
			io_error(err, "mkdir", dir);
			goto out_free;
		}
		if (!build(out->image, files, mf, err))
			goto out_free;
	}
	out->build_s = (g_get_monotonic_time() - t0) / 1e6;
	ok = TRUE;
out_free:
	for (i = 0; i < files->len; i++)
		if (mf[i])
			g_mapped_file_unref(mf[i]);
	g_free(mf);
	if (!ok)
		vtb_tools_clear(out);
	return ok;
}

void vtb_tools_clear(struct vtb_tools *t)
{
	g_free(t->image);
	g_free(t->key);
	g_free(t->interp);
	if (t->files)
		g_ptr_array_unref(t->files);
	memset(t, 0, sizeof(*t));
}
