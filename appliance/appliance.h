/* Appliance: kernel identification, module closure, initramfs and cache. */
#ifndef VTB_APPLIANCE_H
#define VTB_APPLIANCE_H

#include <glib.h>

#define VTB_APPLIANCE_ERROR (vtb_appliance_error_quark())
GQuark vtb_appliance_error_quark(void);

/* Error codes in VTB_APPLIANCE_ERROR.  All are "bad input" for the CLI. */
enum vtb_appliance_err {
	VTB_APPLIANCE_ERR_IO,	  /* cannot read/write a file */
	VTB_APPLIANCE_ERR_KERNEL, /* not the kind of kernel expected */
	VTB_APPLIANCE_ERR_MODULE, /* bad, missing or mismatched module */
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

/*
 * vtbench's cache directory: $VTBENCH_CACHE_DIR, else
 * $XDG_CACHE_HOME/vtbench, else ~/.cache/vtbench.  Created 0700 if missing.
 * Returns a newly allocated path.
 */
char *vtb_cache_dir(GError **err);

#endif
