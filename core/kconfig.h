/* The kernel config fragment vtbench needs (`vtbench kernel config`). */
#ifndef VTB_KCONFIG_H
#define VTB_KCONFIG_H

#include <glib.h>

/* One line of a fragment: CONFIG_<symbol>=<value>  # <why>. */
struct vtb_kconfig_line {
	const char *symbol; /* without CONFIG_ */
	char value;	    /* 'y' built in; 'm' a module is fine (or y) */
	const char *why;
};

/* The arches of the registered backends' kernels, comma-separated
 * (newly allocated), for usage lines. */
char *vtb_kconfig_arches(void);
/*
 * The modules the appliance can load on a backend whose kernel is of
 * @arch: the backends' base modules, their disk rows' filesystem modules
 * and the modules of every transport they carry (static strings; a
 * module once).  Empty for an arch no backend has.
 */
GPtrArray *vtb_kconfig_modules(const char *arch);
/* The CONFIG_ symbol (without CONFIG_) of guest module @module, or NULL
 * when the table has none. */
const char *vtb_kconfig_symbol_of(const char *module);
/*
 * The fragment for @arch (struct vtb_kconfig_line elements, each symbol
 * once): the built-in options of the arch, then the modules of
 * vtb_kconfig_modules() with what they depend on.  NULL with @err
 * (VTB_ERR_USAGE) for an unknown arch or a module the table lacks.
 */
GArray *vtb_kconfig_fragment(const char *arch, GError **err);
/* @frag as text, a line each, with a header naming @arch. */
char *vtb_kconfig_render(const char *arch, const GArray *frag);
/*
 * The lines of @frag the kernel .config @text (@len bytes) lacks, as
 * "CONFIG_X=v  # why (the config has ...)" strings (newly allocated);
 * =y in the config satisfies =m.  NULL with @err (VTB_ERR_USAGE) when
 * @text is not a kernel .config (no CONFIG_ line, or a line that is
 * neither a comment nor CONFIG_X=...).
 */
GPtrArray *vtb_kconfig_missing(const GArray *frag, const char *text, gsize len,
			       GError **err);

#endif
