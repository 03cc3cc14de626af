/*
 * Appliance: kernel identification, module closure, initramfs, the guest
 * tools image and the cache.
 */
#ifndef VTB_APPLIANCE_H
#define VTB_APPLIANCE_H

#include <glib.h>
#include <sys/types.h>

#define VTB_APPLIANCE_ERROR (vtb_appliance_error_quark())
GQuark vtb_appliance_error_quark(void);

/* Error codes in VTB_APPLIANCE_ERROR.  All are "bad input" for the CLI. */
enum vtb_appliance_err {
	VTB_APPLIANCE_ERR_IO,	  /* cannot read/write a file */
	VTB_APPLIANCE_ERR_KERNEL, /* not the kind of kernel expected */
	VTB_APPLIANCE_ERR_MODULE, /* bad, missing or mismatched module */
	VTB_APPLIANCE_ERR_TOOL, /* a guest tool not ELF, or a library missing */
};

enum vtb_kernel_kind {
	VTB_KERNEL_UNKNOWN = 0,
	VTB_KERNEL_UML,	    /* ELF executable with .uml.setup.init etc. */
	VTB_KERNEL_BZIMAGE, /* x86 boot image with "HdrS" setup header */
	VTB_KERNEL_VMLINUX, /* plain ELF kernel image (not UML) */
};

struct vtb_kernel_info {
	enum vtb_kernel_kind kind;
	char *path;	  /* as given, made absolute */
	char *release;	  /* "6.1.176" from the "Linux version" banner */
	char *banner;	  /* the whole "Linux version ..." line, or NULL */
	char *build_id;	  /* hex of NT_GNU_BUILD_ID, NULL when absent */
	gboolean has_pvh; /* VMLINUX only: PVH entry note present */
	/* Where it came from, when given as a build directory: the
	 * directory (absolute), and when that is in a git work tree its
	 * HEAD and whether the tree has changes (has_git FALSE: no git).
	 * source_dir: the source tree of an out-of-place build (kbuild's
	 * O= leaves a link "source" to it), where git is asked instead. */
	char *build_dir;
	char *source_dir;
	char *git_head;
	gboolean has_git, git_dirty;
};

/*
 * Identify the kernel at @path without running it.  Fills @out (caller
 * clears it with vtb_kernel_info_clear()).  Fails with ERR_IO when the file
 * cannot be read and ERR_KERNEL when it is no kernel at all (e.g. /bin/true:
 * an ELF without the UML sections and without a Linux banner).  A bzImage's
 * release comes from its setup header's version string.
 */
gboolean vtb_kernel_identify(const char *path, struct vtb_kernel_info *out,
			     GError **err);
void vtb_kernel_info_clear(struct vtb_kernel_info *ki);
const char *vtb_kernel_kind_name(enum vtb_kernel_kind kind);

/*
 * Extract the uncompressed vmlinux ELF from the bzImage at @bzimage (payload
 * compressed with gzip, xz, zstd or lz4) into @dest (written atomically).
 * On success *has_pvh says whether it carries the PVH entry note
 * (XEN_ELFNOTE_PHYS32_ENTRY, type 18).
 */
gboolean vtb_bzimage_extract(const char *bzimage, const char *dest,
			     gboolean *has_pvh, GError **err);

struct vtb_module {
	char *name; /* canonical: '-' replaced by '_' */
	char *path; /* absolute path of the .ko / .ko.xz / .ko.zst / .ko.gz */
};

/*
 * Resolve the modules @names (NULL-terminated; '-' and '_' equivalent) and
 * their dependency closure (from each module's .modinfo "depends=", read
 * with libelf; modules.dep is never used) in the tree @dir.  Modules built
 * into the kernel (listed in @dir/modules.builtin, when present) are
 * dropped silently.  Each module's "vermagic=" first word must equal
 * @release.  Returns a GPtrArray of struct vtb_module * (owned; free with
 * g_ptr_array_unref) ordered so that every module comes after its
 * dependencies.  Errors name the module and the file: missing module,
 * not ELF, truncated, no .modinfo, vermagic mismatch, dependency cycle.
 */
GPtrArray *vtb_modules_resolve(const char *dir, const char *release,
			       const char *const *names, GError **err);

/*
 * The "depends=" and "vermagic=" values of the .modinfo of the module
 * image at @data (@n bytes: an ELF relocatable, or one compressed by
 * gzip, xz, zstd or lz4; writable, as libelf may write it), as
 * vtb_modules_resolve reads each .ko; @path names it in errors.  Each
 * is newly allocated, or left NULL when absent.
 * Errors (ERR_MODULE): not ELF, truncated, corrupt, no .modinfo.
 */
gboolean vtb_modinfo_parse(const char *path, void *data, gsize n,
			   char **depends, char **vermagic, GError **err);

struct vtb_appliance {
	char *initrd; /* path of the cached initramfs (newc cpio) */
	char *key;    /* hex cache key */
	gboolean cache_hit;
	double build_s;	    /* time spent in vtb_appliance_get, seconds */
	GPtrArray *modules; /* char * names in load order */
};

/*
 * Build, or reuse from @cache_dir, the initramfs holding @agent as /init
 * and the modules @mods (from vtb_modules_resolve, already ordered),
 * decompressed, as /vtb/modules/NN-name.ko (NN = load order, two digits).
 * The cache key hashes the agent's and every module's bytes, so a changed
 * input always rebuilds and a hit costs no rebuild.  Written atomically.
 */
gboolean vtb_appliance_get(const char *cache_dir, const char *agent,
			   GPtrArray *mods, struct vtb_appliance *out,
			   GError **err);
void vtb_appliance_clear(struct vtb_appliance *a);

enum vtb_tool_kind {
	VTB_TOOL_BIN,	 /* a binary asked for: bin/NAME */
	VTB_TOOL_LIB,	 /* a DT_NEEDED library: lib/SONAME */
	VTB_TOOL_INTERP, /* the PT_INTERP loader, at its own path */
};

/* A file of the guest tools image. */
struct vtb_tool_file {
	enum vtb_tool_kind kind;
	char *src;  /* host file (symlinks resolved) */
	char *dest; /* path in the image, relative: "lib/libc.so.6" */
};

/*
 * The ELF executables @binaries (NULL-terminated) with their shared-library
 * closure, resolved as the dynamic loader does without its cache: DT_RPATH
 * (when there is no DT_RUNPATH), DT_RUNPATH ($ORIGIN expanded), then
 * @libdirs (NULL: Debian's /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu
 * and /lib64).  A library of another ELF class or machine is skipped, as
 * the loader skips it.  Returns a GPtrArray of struct vtb_tool_file *
 * (owned), each binary followed by its interpreter and libraries, each
 * soname once.  Errors (ERR_TOOL, one line, naming the binary): not ELF,
 * "BIN: library X (needed by LIB) not found in DIRS", interpreter missing.
 */
GPtrArray *vtb_tools_closure(const char *const *binaries,
			     const char *const *libdirs, GError **err);

struct vtb_tools {
	char *image;  /* the cached read-only ext2 image */
	char *key;    /* hex cache key */
	char *interp; /* "/lib64/ld-linux-x86-64.so.2" inside the image, or
			 NULL when every binary is static */
	gboolean cache_hit;
	double build_s;	  /* time spent in vtb_tools_get, seconds */
	GPtrArray *files; /* char *: every path in the image */
};

/*
 * Build, or reuse from @cache_dir/tools, an ext2 image (mke2fs -d, made
 * read-only, files owned by root) of vtb_tools_closure(@binaries,
 * @libdirs): bin/NAME, lib/SONAME and the interpreter at its path.  The
 * guest runs a tool as INTERP --library-path MNT/lib MNT/bin/NAME.  The
 * key hashes every file's image path and bytes, so an upgraded library
 * rebuilds.  Written atomically; the staging tree is always removed.
 */
gboolean vtb_tools_get(const char *cache_dir, const char *const *binaries,
		       const char *const *libdirs, struct vtb_tools *out,
		       GError **err);
void vtb_tools_clear(struct vtb_tools *t);

/*
 * vtbench's cache directory: $VTBENCH_CACHE_DIR, else
 * $XDG_CACHE_HOME/vtbench, else ~/.cache/vtbench.  Created 0700 if missing.
 * Returns a newly allocated path.
 */
char *vtb_cache_dir(GError **err);

/* A cache directory vtbench may believe: a directory of @me's, not
 * writable by group or others.  FALSE + err naming it and why. */
gboolean vtb_cache_dir_trusted(const char *dir, uid_t me, GError **err);

#endif
