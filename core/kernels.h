/* Where the kernels, modules and the guest agent are found by default. */
#ifndef VTB_KERNELS_H
#define VTB_KERNELS_H

#include <glib.h>
#include <sys/types.h>

#include "appliance/appliance.h"

/*
 * A file vtbench ships beside itself: $@env_var, else @subdir/@name of
 * the build tree when the running program is in it (tests included),
 * else the installed libexec dir; never anywhere else.  Absolute, and
 * trusted (vtb_helper_trusted); NULL + err naming @what.
 */
char *vtb_find_helper(const char *env_var, const char *subdir, const char *name,
		      const char *what, GError **err);

/*
 * May vtbench run or inject @path (a library preloaded into QEMU under
 * libvirt runs as root)?  A regular file owned by root or @me and not
 * writable by group or others, in a directory of the same kind.  FALSE +
 * err "refusing PATH: why".
 */
gboolean vtb_helper_trusted(const char *path, uid_t me, GError **err);

/* The static guest agent ($VTBENCH_AGENT, build tree or libexec). */
char *vtb_find_agent(GError **err);

/* Default UML kernel path: /usr/bin/linux.uml. */
const char *vtb_default_uml_kernel(void);

/* /usr/lib/uml/modules/RELEASE, or NULL when missing. */
char *vtb_default_uml_modules(const char *release);

/*
 * The newest guest kernel for kvm: /boot/vmlinuz-R with /lib/modules/R,
 * else CACHE/kernels/PKG/boot/vmlinuz-R with its lib/modules/R (where
 * ./bootstrap unpacks Debian's linux-image).  Sets *modules to the modules
 * dir.  NULL when none is found.
 */
char *vtb_default_kvm_kernel(const char *cache_dir, char **modules);

/* Modules dir for a guest kernel at @kernel with @release: the tree it
 * came from (…/boot/vmlinuz-R → …/lib/modules/R), else /lib/modules/R. */
char *vtb_kvm_modules_for(const char *kernel, const char *release);

/*
 * The kernel @path names for option @opt ("--uml-kernel"): @path itself
 * when it is not a directory, else the first of @names (paths relative to
 * the build directory) found in it, with *@dir set to @path (newly
 * allocated; NULL for a file).  NULL with @err (VTB_ERR_USAGE, naming
 * what was looked for) when the directory holds none of them.
 */
char *vtb_kernel_in_dir(const char *opt, const char *path,
			const char *const *names, char **dir, GError **err);
/*
 * Fill @ki's build_dir with @dir (made absolute) and, when @dir is in a
 * git work tree, git_head and git_dirty from `git rev-parse HEAD` and
 * `git status --porcelain` (each with a deadline), asked of the source
 * tree when @dir is an out-of-place build (its link "source", recorded
 * as source_dir) and of @dir otherwise; has_git stays FALSE
 * when there is no git, no work tree or no answer in time.
 */
void vtb_kernel_source(const char *dir, struct vtb_kernel_info *ki);

#endif
