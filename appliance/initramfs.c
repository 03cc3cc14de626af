/* The appliance initramfs (agent as /init + modules), cached by content. */
#include "appliance/appliance.h"
#include "appliance/elfnote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <xxhash.h>

/* Bump whenever the archive's layout changes: old cache entries then miss. */
#define APPLIANCE_FORMAT "vtbench-appliance-1"

/* An input of the archive, mapped once for both the key and the build. */
struct input {
	const char *name; /* module name, NULL for the agent */
	const char *path;
	GMappedFile *mf;
};

static void hash_input(XXH3_state_t *st, const struct input *in)
{
	const char *d = g_mapped_file_get_contents(in->mf);
	gsize len = g_mapped_file_get_length(in->mf);
	guint64 le = GUINT64_TO_LE(len);

	/* Names and lengths keep the concatenation unambiguous. */
	if (in->name)
		XXH3_128bits_update(st, in->name, strlen(in->name) + 1);
	XXH3_128bits_update(st, &le, sizeof(le));
	if (len)
		XXH3_128bits_update(st, d, len);
}

static char *cache_key(struct input *in, guint n)
{
	XXH3_state_t *st = XXH3_createState();
	XXH128_canonical_t c;
	GString *hex;
	guint i;

	XXH3_128bits_reset(st);
	XXH3_128bits_update(st, APPLIANCE_FORMAT, sizeof(APPLIANCE_FORMAT));
	for (i = 0; i < n; i++)
		hash_input(st, &in[i]);
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	XXH3_freeState(st);
	hex = g_string_sized_new(2 * sizeof(c.digest));
	for (i = 0; i < sizeof(c.digest); i++)
		g_string_append_printf(hex, "%02x", c.digest[i]);
	return g_string_free(hex, FALSE);
}

static gboolean ar_error(struct archive *ar, const char *step, const char *what,
			 GError **err)
{
	g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO, "%s %s: %s",
		    step, what,
		    archive_error_string(ar) ? archive_error_string(ar)
					     : "libarchive error");
	return FALSE;
}

struct writer {
	struct archive *ar;
	struct archive_entry *ae;
	const char *tmp; /* the file being written, for messages */
	unsigned ino;
};

/* mtime 0 and root ownership: equal inputs give byte-identical archives. */
static gboolean add_entry(struct writer *w, const char *name, mode_t type,
			  mode_t perm, const void *data, gsize len,
			  GError **err)
{
	struct archive_entry *ae = w->ae;

	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, perm);
	archive_entry_set_ino(ae, ++w->ino);
	archive_entry_set_nlink(ae, type == AE_IFDIR ? 2 : 1);
	archive_entry_set_size(ae, type == AE_IFREG ? len : 0);
	if (type == AE_IFCHR) {
		archive_entry_set_rdevmajor(ae, 5);
		archive_entry_set_rdevminor(ae, 1);
	}
	if (archive_write_header(w->ar, ae) != ARCHIVE_OK) {
		g_autofree char *what =
			g_strdup_printf("%s in %s", name, w->tmp);

		return ar_error(w->ar, "write header of", what, err);
	}
	if (type == AE_IFREG && len > 0 &&
	    archive_write_data(w->ar, data, len) != (la_ssize_t)len) {
		g_autofree char *what =
			g_strdup_printf("%s in %s", name, w->tmp);

		return ar_error(w->ar, "write", what, err);
	}
	return TRUE;
}

static gboolean write_entries(struct archive *ar, struct input *in, guint n,
			      const char *tmp, GError **err)
{
	static const char *const dirs[] = {"dev", "proc", "sys", "vtb",
					   "vtb/modules"};
	struct writer w = {ar, archive_entry_new(), tmp, 0};
	gboolean ok = FALSE;
	guint i;

	for (i = 0; i < G_N_ELEMENTS(dirs); i++)
		if (!add_entry(&w, dirs[i], AE_IFDIR, 0755, NULL, 0, err))
			goto out_free;
	/* Without /dev/console the kernel starts init with no stdio. */
	if (!add_entry(&w, "dev/console", AE_IFCHR, 0600, NULL, 0, err))
		goto out_free;
	if (!add_entry(&w, "init", AE_IFREG, 0755,
		       g_mapped_file_get_contents(in[0].mf),
		       g_mapped_file_get_length(in[0].mf), err))
		goto out_free;
	for (i = 1; i < n; i++) {
		const char *d = g_mapped_file_get_contents(in[i].mf);
		gsize len = g_mapped_file_get_length(in[i].mf);
		enum vtb_comp comp = vtb_comp_detect(d, len);
		g_autoptr(GBytes) plain = NULL;
		g_autofree char *name = NULL;

		/* The guest loads them with finit_module: no decompressor. */
		if (comp != VTB_COMP_NONE) {
			plain = vtb_decompress(comp, d, len, 0, in[i].path,
					       VTB_APPLIANCE_ERR_MODULE, err);
			if (!plain)
				goto out_free;
			d = g_bytes_get_data(plain, &len);
		}
		if (len < SELFMAG || memcmp(d, ELFMAG, SELFMAG) != 0) {
			g_set_error(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_MODULE,
				    "%s: not a kernel module (not ELF)",
				    in[i].path);
			goto out_free;
		}
		name = g_strdup_printf("vtb/modules/%02u-%s.ko", i - 1,
				       in[i].name);
		if (!add_entry(&w, name, AE_IFREG, 0644, d, len, err))
			goto out_free;
	}
	ok = TRUE;
out_free:
	archive_entry_free(w.ae);
	return ok;
}

static gboolean build(const char *dest, struct input *in, guint n, GError **err)
{
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", dest);
	struct archive *ar = NULL;
	int fd, e;

	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "create a temporary file next to %s: %s", dest,
			    g_strerror(e));
		return FALSE;
	}
	/* Uncompressed: the guest unpacks it fastest that way. */
	ar = archive_write_new();
	if (archive_write_set_format_cpio_newc(ar) != ARCHIVE_OK ||
	    archive_write_add_filter_none(ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(ar, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(ar, fd) != ARCHIVE_OK) {
		ar_error(ar, "open", tmp, err);
		goto out_unlink;
	}
	if (!write_entries(ar, in, n, tmp, err))
		goto out_unlink;
	if (archive_write_close(ar) != ARCHIVE_OK) {
		ar_error(ar, "finish", tmp, err);
		goto out_unlink;
	}
	archive_write_free(ar);
	ar = NULL;
	/* A crash must not leave an empty file under the final name. */
	if (fsync(fd) < 0 || close(fd) < 0) {
		e = errno;
		fd = -1;
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "sync %s: %s", tmp, g_strerror(e));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, dest) < 0) {
		e = errno;
		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "rename %s to %s: %s", tmp, dest, g_strerror(e));
		goto out_unlink;
	}
	return TRUE;
out_unlink:
	if (ar)
		archive_write_free(ar);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return FALSE;
}

static void inputs_free(struct input *in, guint n)
{
	guint i;

	for (i = 0; i < n; i++)
		if (in[i].mf)
			g_mapped_file_unref(in[i].mf);
	g_free(in);
}

gboolean vtb_appliance_get(const char *cache_dir, const char *agent,
			   GPtrArray *mods, struct vtb_appliance *out,
			   GError **err)
{
	gint64 t0 = g_get_monotonic_time();
	guint nmods = mods ? mods->len : 0, n = nmods + 1, i;
	g_autofree char *dir = NULL;
	struct input *in;
	struct stat st;
	gboolean ok = FALSE;

	memset(out, 0, sizeof(*out));
	in = g_new0(struct input, n);
	in[0].path = agent;
	for (i = 0; i < nmods; i++) {
		const struct vtb_module *m = mods->pdata[i];

		in[i + 1].name = m->name;
		in[i + 1].path = m->path;
	}
	for (i = 0; i < n; i++) {
		in[i].mf = vtb_map_file(in[i].path, VTB_APPLIANCE_ERR_IO, err);
		if (!in[i].mf)
			goto out_free;
	}

	out->key = cache_key(in, n);
	dir = g_build_filename(cache_dir, "appliance", NULL);
	out->initrd = g_strdup_printf("%s/%s.cpio", dir, out->key);
	out->modules = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; i < nmods; i++)
		g_ptr_array_add(
			out->modules,
			g_strdup(((struct vtb_module *)mods->pdata[i])->name));

	if (stat(out->initrd, &st) == 0 && S_ISREG(st.st_mode)) {
		out->cache_hit = TRUE;
	} else {
		if (g_mkdir_with_parents(dir, 0700) < 0) {
			int e = errno;

			g_set_error(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_IO, "mkdir %s: %s", dir,
				    g_strerror(e));
			goto out_free;
		}
		if (!build(out->initrd, in, n, err))
			goto out_free;
	}
	out->build_s = (g_get_monotonic_time() - t0) / 1e6;
	ok = TRUE;
out_free:
	inputs_free(in, n);
	if (!ok)
		vtb_appliance_clear(out);
	return ok;
}

void vtb_appliance_clear(struct vtb_appliance *a)
{
	g_free(a->initrd);
	g_free(a->key);
	if (a->modules)
		g_ptr_array_unref(a->modules);
	memset(a, 0, sizeof(*a));
}

char *vtb_cache_dir(GError **err)
{
	const char *env = g_getenv("VTBENCH_CACHE_DIR");
	const char *xdg = g_getenv("XDG_CACHE_HOME");
	char *dir;

	if (env && *env)
		dir = g_strdup(env);
	else if (xdg && g_path_is_absolute(xdg)) /* XDG: relative is invalid */
		dir = g_build_filename(xdg, "vtbench", NULL);
	else
		dir = g_build_filename(g_get_home_dir(), ".cache", "vtbench",
				       NULL);
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		int e = errno;

		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "mkdir %s: %s", dir, g_strerror(e));
		g_free(dir);
		return NULL;
	}
	if (!vtb_cache_dir_trusted(dir, geteuid(), err)) {
		g_free(dir);
		return NULL;
	}
	return dir;
}

gboolean vtb_cache_dir_trusted(const char *dir, uid_t me, GError **err)
{
	struct stat st;
	const char *why = NULL;

	if (stat(dir, &st) < 0)
		why = g_strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (st.st_uid != me)
		why = "owned by another user";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "writable by others";
	if (!why)
		return TRUE;
	/* What is in it decides what runs and what is believed. */
	g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
		    "cache directory %s: %s, so its appliances, payload hashes "
		    "and KVM verdicts cannot be trusted (chmod 700 it, or set "
		    "VTBENCH_CACHE_DIR)",
		    dir, why);
	return FALSE;
}
