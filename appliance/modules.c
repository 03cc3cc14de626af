/* Module dependency closure from each .ko's .modinfo, never modules.dep. */
#include "appliance/appliance.h"
#include "appliance/elfnote.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <gelf.h>

static const char *const ko_suffixes[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};

enum visit_state {
	VISITING = 1,
	DONE,
};

struct resolver {
	const char *dir;
	const char *release;
	GHashTable *paths;   /* name -> absolute path */
	GHashTable *builtin; /* name set */
	GHashTable *state;   /* name -> enum visit_state */
	GPtrArray *stack;    /* names being visited, for the cycle message */
	GPtrArray *out;	     /* struct vtb_module *, dependencies first */
};

static char *canonical_name(const char *s, gsize len)
{
	char *n = g_strndup(s, len);

	g_strdelimit(n, "-", '_');
	return n;
}

/* "virtio-rng.ko.xz" -> "virtio_rng"; NULL when no module suffix. */
static char *module_name_of(const char *file)
{
	gsize len = strlen(file), i;

	for (i = 0; i < G_N_ELEMENTS(ko_suffixes); i++) {
		gsize sl = strlen(ko_suffixes[i]);

		if (len > sl && strcmp(file + len - sl, ko_suffixes[i]) == 0)
			return canonical_name(file, len - sl);
	}
	return NULL;
}

/* Between two copies of a module, prefer updates/ (as depmod does). */
static gboolean path_preferred(const char *a, const char *b)
{
	gboolean ua = strstr(a, "/updates/") != NULL;
	gboolean ub = strstr(b, "/updates/") != NULL;

	if (ua != ub)
		return ua;
	return strcmp(a, b) < 0;
}

static void index_add(GHashTable *paths, char *name, char *path)
{
	const char *old = g_hash_table_lookup(paths, name);

	if (old && !path_preferred(path, old)) {
		g_free(name);
		g_free(path);
		return;
	}
	g_hash_table_replace(paths, name, path);
}

/* Symlinked directories (build/, source/) are not followed. */
static gboolean walk(GHashTable *paths, const char *dir, GError **err)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		int e = errno;

		g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_IO,
			    "open %s: %s", dir, g_strerror(e));
		return FALSE;
	}
	while ((de = readdir(d))) {
		g_autofree char *path = NULL;
		unsigned char type = de->d_type;
		char *name;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path = g_build_filename(dir, de->d_name, NULL);
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (lstat(path, &st) < 0)
				continue;
			type = S_ISDIR(st.st_mode)   ? DT_DIR
			       : S_ISLNK(st.st_mode) ? DT_LNK
						     : DT_REG;
		}
		if (type == DT_DIR) {
			if (!walk(paths, path, err)) {
				closedir(d);
				return FALSE;
			}
			continue;
		}
		if (type != DT_REG && type != DT_LNK)
			continue;
		name = module_name_of(de->d_name);
		if (name)
			index_add(paths, name, g_steal_pointer(&path));
	}
	closedir(d);
	return TRUE;
}

static gboolean read_builtin(const char *dir, GHashTable *builtin, GError **err)
{
	g_autofree char *file = g_build_filename(dir, "modules.builtin", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GError *e = NULL;
	int i;

	if (!g_file_get_contents(file, &text, NULL, &e)) {
		gboolean absent =
			g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT);

		if (!absent)
			g_set_error(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_IO, "read %s: %s", file,
				    e->message);
		g_error_free(e);
		return absent;
	}
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++) {
		const char *base = strrchr(lines[i], '/');
		char *name = module_name_of(base ? base + 1 : lines[i]);

		if (name)
			g_hash_table_add(builtin, name);
	}
	return TRUE;
}

static gboolean modinfo_error(const char *path, GError **err, const char *fmt,
			      ...) G_GNUC_PRINTF(3, 4);

static gboolean modinfo_error(const char *path, GError **err, const char *fmt,
			      ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_MODULE,
		    "%s: %s", path, msg);
	return FALSE;
}

/* libelf alone would report a cut-off file as a vague bad section header. */
static gboolean check_bounds(Elf *elf, const char *path, gsize n, GError **err)
{
	Elf_Scn *scn = NULL;
	size_t shnum;
	GElf_Ehdr eh;
	guint64 end;

	if (!gelf_getehdr(elf, &eh))
		return modinfo_error(path, err, "truncated (%zu bytes)", n);
	if (eh.e_type != ET_REL)
		return modinfo_error(path, err,
				     "not a kernel module (ELF type %u, not "
				     "relocatable)",
				     eh.e_type);
	if (elf_getshdrnum(elf, &shnum) < 0)
		return modinfo_error(path, err, "truncated (%zu bytes)", n);
	end = eh.e_shoff + (guint64)shnum * eh.e_shentsize;
	if (end > n)
		return modinfo_error(
			path, err,
			"truncated (section headers end at %" G_GUINT64_FORMAT
			", the file has %zu bytes)",
			end, n);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return modinfo_error(path, err, "corrupt ELF (%s)",
					     elf_errmsg(-1));
		if (sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_offset + sh.sh_size > n)
			return modinfo_error(path, err,
					     "truncated (section %zu ends at "
					     "%" G_GUINT64_FORMAT
					     ", the file has %zu bytes)",
					     elf_ndxscn(scn),
					     sh.sh_offset + sh.sh_size, n);
	}
	return TRUE;
}

/* Parse the NUL-separated key=value strings of .modinfo. */
static gboolean parse_modinfo(Elf *elf, const char *path, char **depends,
			      char **vermagic, GError **err)
{
	Elf_Scn *scn = vtb_elf_section(elf, ".modinfo");
	Elf_Data *data;
	const char *p, *end;

	if (!scn)
		return modinfo_error(path, err, "no .modinfo section");
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		return modinfo_error(path, err, "cannot read .modinfo (%s)",
				     elf_errmsg(-1));
	p = data->d_buf;
	end = p + data->d_size;
	while (p < end) {
		const char *z = memchr(p, '\0', end - p);
		gsize len = z ? (gsize)(z - p) : (gsize)(end - p);

		if (len > 8 && strncmp(p, "depends=", 8) == 0 && !*depends)
			*depends = g_strndup(p + 8, len - 8);
		else if (len > 9 && strncmp(p, "vermagic=", 9) == 0 &&
			 !*vermagic)
			*vermagic = g_strndup(p + 9, len - 9);
		p += len + 1;
	}
	return TRUE;
}

gboolean vtb_modinfo_parse(const char *path, void *data, gsize n,
			   char **depends, char **vermagic, GError **err)
{
	g_autoptr(GBytes) plain = NULL;
	char *d = data;
	enum vtb_comp comp = vtb_comp_detect(d, n);
	Elf *elf;
	gboolean ok;

	if (comp != VTB_COMP_NONE) {
		plain = vtb_decompress(comp, d, n, 0, path,
				       VTB_APPLIANCE_ERR_MODULE, err);
		if (!plain)
			return FALSE;
		d = (char *)g_bytes_get_data(plain, &n);
	}
	if (n < SELFMAG || memcmp(d, ELFMAG, SELFMAG) != 0)
		return modinfo_error(path, err,
				     "not a kernel module (not ELF)");
	elf_version(EV_CURRENT);
	elf = elf_memory(d, n);
	if (!elf)
		return modinfo_error(path, err, "corrupt ELF (%s)",
				     elf_errmsg(-1));
	ok = check_bounds(elf, path, n, err) &&
	     parse_modinfo(elf, path, depends, vermagic, err);
	elf_end(elf);
	return ok;
}

/* *depends is NULL or "" when the module needs nothing. */
static gboolean read_modinfo(const char *path, char **depends, char **vermagic,
			     GError **err)
{
	g_autoptr(GMappedFile) mf = NULL;

	mf = vtb_map_file(path, VTB_APPLIANCE_ERR_MODULE, err);
	if (!mf)
		return FALSE;
	return vtb_modinfo_parse(path, g_mapped_file_get_contents(mf),
				 g_mapped_file_get_length(mf), depends,
				 vermagic, err);
}

static gboolean cycle_error(struct resolver *r, const char *name, GError **err)
{
	GString *chain = g_string_new(NULL);
	guint i = 0;

	while (i < r->stack->len && strcmp(r->stack->pdata[i], name) != 0)
		i++;
	for (; i < r->stack->len; i++)
		g_string_append_printf(chain, "%s -> ",
				       (char *)r->stack->pdata[i]);
	g_string_append(chain, name);
	g_set_error(err, VTB_APPLIANCE_ERROR, VTB_APPLIANCE_ERR_MODULE,
		    "dependency cycle in %s: %s", r->dir, chain->str);
	g_string_free(chain, TRUE);
	return FALSE;
}

static gboolean visit(struct resolver *r, const char *name, const char *parent,
		      GError **err)
{
	g_autofree char *depends = NULL;
	g_autofree char *vermagic = NULL;
	g_auto(GStrv) deps = NULL;
	struct vtb_module *m;
	const char *path;
	gsize rel_len;
	int i;

	if (g_hash_table_contains(r->builtin, name))
		return TRUE;
	switch (GPOINTER_TO_INT(g_hash_table_lookup(r->state, name))) {
	case DONE:
		return TRUE;
	case VISITING:
		return cycle_error(r, name, err);
	}
	path = g_hash_table_lookup(r->paths, name);
	if (!path) {
		if (parent)
			g_set_error(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_MODULE,
				    "module %s (needed by %s) not found in %s",
				    name, parent, r->dir);
		else
			g_set_error(err, VTB_APPLIANCE_ERROR,
				    VTB_APPLIANCE_ERR_MODULE,
				    "module %s not found in %s", name, r->dir);
		return FALSE;
	}
	if (!read_modinfo(path, &depends, &vermagic, err))
		return FALSE;
	if (!vermagic)
		return modinfo_error(path, err, "no vermagic in .modinfo");
	rel_len = strcspn(vermagic, " ");
	if (r->release && (strlen(r->release) != rel_len ||
			   strncmp(vermagic, r->release, rel_len) != 0))
		return modinfo_error(path, err,
				     "vermagic %.*s does not match kernel %s",
				     (int)rel_len, vermagic, r->release);

	g_hash_table_insert(r->state, g_strdup(name),
			    GINT_TO_POINTER(VISITING));
	g_ptr_array_add(r->stack, (gpointer)name);
	deps = g_strsplit(depends ? depends : "", ",", -1);
	for (i = 0; deps[i]; i++) {
		g_autofree char *dep = NULL;

		if (!*deps[i])
			continue;
		dep = canonical_name(deps[i], strlen(deps[i]));
		if (!visit(r, dep, name, err))
			return FALSE;
	}
	g_ptr_array_remove_index(r->stack, r->stack->len - 1);
	g_hash_table_insert(r->state, g_strdup(name), GINT_TO_POINTER(DONE));

	m = g_new0(struct vtb_module, 1);
	m->name = g_strdup(name);
	m->path = g_strdup(path);
	g_ptr_array_add(r->out, m);
	return TRUE;
}

static void module_free(gpointer p)
{
	struct vtb_module *m = p;

	g_free(m->name);
	g_free(m->path);
	g_free(m);
}

GPtrArray *vtb_modules_resolve(const char *dir, const char *release,
			       const char *const *names, GError **err)
{
	g_autofree char *absdir = g_canonicalize_filename(dir, NULL);
	g_autoptr(GHashTable) paths = NULL;
	g_autoptr(GHashTable) builtin = NULL;
	g_autoptr(GHashTable) state = NULL;
	g_autoptr(GPtrArray) stack = NULL;
	g_autoptr(GPtrArray) out = NULL;
	struct resolver r;
	int i;

	paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	builtin = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	state = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	stack = g_ptr_array_new();
	out = g_ptr_array_new_with_free_func(module_free);
	if (!walk(paths, absdir, err) || !read_builtin(absdir, builtin, err))
		return NULL;

	r = (struct resolver){
		.dir = absdir,
		.release = release,
		.paths = paths,
		.builtin = builtin,
		.state = state,
		.stack = stack,
		.out = out,
	};
	for (i = 0; names && names[i]; i++) {
		g_autofree char *name =
			canonical_name(names[i], strlen(names[i]));

		if (!visit(&r, name, NULL, err))
			return NULL;
	}
	return g_steal_pointer(&out);
}
