/*
 * The option engine of every command: tables of struct vtb_option
 * (core/options.h) parsed, checked and printed as --help.
 */
#include "run/options.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/registry.h"

static gboolean usage_error(GError **err, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static gboolean usage_error(GError **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err)
		*err = g_error_new_valist(VTB_ERROR, VTB_ERR_USAGE, fmt, ap);
	va_end(ap);
	return FALSE;
}

static gboolean check_choice(const char *const *tab, const char *opt,
			     const char *v, GError **err)
{
	g_autofree char *known = NULL;

	if (vtb_str_in(tab, v))
		return TRUE;
	known = g_strjoinv(", ", (char **)tab);
	return usage_error(err, "--%s: unknown value '%s' (known: %s)", opt, v,
			   known);
}

static gboolean check_value(const struct vtb_option *op, const char *v,
			    GError **err)
{
	if (op->choices && !check_choice(op->choices, op->name, v, err))
		return FALSE;
	return !op->check || op->check(op->name, v, err);
}

/* @append: the user gave this list option before: add to it instead of
 * replacing the default. */
static gboolean set_value(const struct vtb_option *op, void *base,
			  const char *v, bool append, GError **err)
{
	void *field = (char *)base + op->offset;

	switch (op->type) {
	case VTB_OPT_STR:
		if (!*v)
			return usage_error(err, "--%s: empty value", op->name);
		if (!check_value(op, v, err))
			return FALSE;
		g_free(*(char **)field);
		*(char **)field = g_strdup(v);
		return TRUE;
	case VTB_OPT_LIST: {
		g_auto(GStrv) items = g_strsplit(v, ",", -1);
		GStrvBuilder *b = g_strv_builder_new();
		char **old = *(char ***)field;

		if (old && append)
			g_strv_builder_addv(b, (const char **)old);
		for (char **it = items; *it; it++) {
			g_strstrip(*it);
			if (!**it) {
				g_strv_builder_unref(b);
				return usage_error(err,
						   "--%s: empty item in '%s'",
						   op->name, v);
			}
			if (!check_value(op, *it, err)) {
				g_strv_builder_unref(b);
				return FALSE;
			}
			if (!append ||
			    !g_strv_contains((const char **)old, *it))
				g_strv_builder_add(b, *it);
		}
		g_strfreev(old);
		*(char ***)field = g_strv_builder_end(b);
		g_strv_builder_unref(b);
		return TRUE;
	}
	case VTB_OPT_INT: {
		char *end = NULL;
		gint64 n;

		errno = 0;
		n = g_ascii_strtoll(v, &end, 10);
		if (!*v || *end || errno || n > G_MAXINT)
			return usage_error(err, "--%s: not a number: '%s'",
					   op->name, v);
		if (n < op->min)
			return usage_error(err,
					   "--%s: must be at least %ld, got %s",
					   op->name, op->min, v);
		if (op->max && n > op->max)
			return usage_error(err, "--%s: at most %ld, got %s",
					   op->name, op->max, v);
		if (op->check && !op->check(op->name, v, err))
			return FALSE;
		*(int *)field = (int)n;
		return TRUE;
	}
	case VTB_OPT_SIZE: {
		guint64 n;

		if (!vtb_parse_size(v, &n))
			return usage_error(err,
					   "--%s: not a size: '%s' (e.g. 4096, "
					   "64K, 500M, 2G)",
					   op->name, v);
		if (n == 0)
			return usage_error(err, "--%s: must be more than 0",
					   op->name);
		if (op->check && !op->check(op->name, v, err))
			return FALSE;
		*(guint64 *)field = n;
		return TRUE;
	}
	case VTB_OPT_SECONDS: {
		char *end = NULL;
		double d = g_ascii_strtod(v, &end);

		if (!*v || *end || !(d >= VTB_OPT_MIN_SECONDS) || d > 86400)
			return usage_error(err,
					   "--%s: not a number of seconds "
					   "(%g <= SEC <= 86400): '%s'",
					   op->name, VTB_OPT_MIN_SECONDS, v);
		*(double *)field = d;
		return TRUE;
	}
	case VTB_OPT_FLAG:
		*(bool *)field = true;
		return TRUE;
	case VTB_OPT_NUM: {
		char *end = NULL;
		double d = g_ascii_strtod(v, &end);

		if (!*v || *end || !isfinite(d))
			return usage_error(err, "--%s: not a number: '%s'",
					   op->name, v);
		if (op->check_num && !op->check_num(op->name, d, err))
			return FALSE;
		*(double *)field = d;
		return TRUE;
	}
	}
	return FALSE;
}

/* The set and row of --@name (or -@short_name), or FALSE. */
static bool find(const struct vtb_optset *sets, const char *name,
		 char short_name, const struct vtb_optset **set,
		 const struct vtb_option **op)
{
	for (const struct vtb_optset *st = sets; st->tab; st++)
		for (const struct vtb_option *o = st->tab; o->name; o++)
			if (name ? strcmp(o->name, name) == 0
				 : short_name && o->short_name == short_name) {
				*set = st;
				*op = o;
				return true;
			}
	return false;
}

gboolean vtb_options_defaults(const struct vtb_optset *sets, GError **err)
{
	for (const struct vtb_optset *st = sets; st->tab; st++)
		for (const struct vtb_option *op = st->tab; op->name; op++)
			if (op->def &&
			    !set_value(op, st->base, op->def, false, err))
				return FALSE;
	return TRUE;
}

gboolean vtb_options_parse(const struct vtb_optset *sets, int argc, char **argv,
			   GPtrArray *positional, bool *help, GError **err)
{
	/* The options given once already: a list given again adds to
	 * what the user gave instead of replacing the default. */
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);

	*help = false;
	if (!vtb_options_defaults(sets, err))
		return FALSE;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct vtb_optset *st;
		const struct vtb_option *op;
		g_autofree char *name = NULL;
		const char *val = NULL, *eq = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = true;
			return TRUE;
		}
		if (a[0] != '-' || a[1] == 0) {
			if (!positional)
				return usage_error(
					err, "unexpected argument '%s'", a);
			g_ptr_array_add(positional, (char *)a);
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a, '=');
			name = eq ? g_strndup(a + 2, eq - a - 2)
				  : g_strdup(a + 2);
			if (!find(sets, name, 0, &st, &op))
				return usage_error(err, "unknown option --%s",
						   name);
		} else if (a[2] || !find(sets, NULL, a[1], &st, &op)) {
			return usage_error(err, "unknown option %s", a);
		}
		if (op->type == VTB_OPT_FLAG) {
			if (eq)
				return usage_error(err, "--%s takes no value",
						   op->name);
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return usage_error(err, "--%s needs a value (%s)",
					   op->name, op->metavar);
		}
		if (!set_value(op, st->base, val,
			       g_hash_table_contains(seen, op), err))
			return FALSE;
		g_hash_table_add(seen, (gpointer)op);
		if (op->given >= 0)
			*(bool *)((char *)st->base + op->given) = true;
	}
	return TRUE;
}

void vtb_options_clear(const struct vtb_option *tab, void *base)
{
	for (const struct vtb_option *op = tab; op->name; op++) {
		void *field = (char *)base + op->offset;

		if (op->type == VTB_OPT_STR)
			g_clear_pointer((char **)field, g_free);
		else if (op->type == VTB_OPT_LIST)
			g_clear_pointer((char ***)field, g_strfreev);
	}
}

void vtb_options_print_help(const struct vtb_optset *sets, FILE *f)
{
	for (const struct vtb_optset *st = sets; st->tab; st++) {
		if (st != sets)
			fprintf(f, "\n%s:\n", st->title ? st->title : "");
		for (const struct vtb_option *op = st->tab; op->name; op++) {
			g_autofree char *lhs = g_strdup_printf(
				"%s%s%s--%s%s%s", op->short_name ? "-" : "",
				op->short_name ? (char[]){op->short_name, 0}
					       : "",
				op->short_name ? ", " : "", op->name,
				op->metavar ? " " : "",
				op->metavar ? op->metavar : "");

			fprintf(f, "  %-28s %s", lhs, op->help);
			if (op->def)
				fprintf(f, " [%s]", op->def);
			fputc('\n', f);
		}
		if (st == sets)
			fprintf(f, "  %-28s %s\n", "--help", "this text");
	}
}

gboolean vtb_check_percent(const char *opt, double v, GError **err)
{
	if (v >= 0 && v <= 1000)
		return TRUE;
	return usage_error(err, "--%s: a percentage from 0 to 1000, got %g",
			   opt, v);
}

gboolean vtb_check_probability(const char *opt, double v, GError **err)
{
	if (v > 0 && v < 1)
		return TRUE;
	return usage_error(err,
			   "--%s: a probability between 0 and 1 (exclusive), "
			   "got %g",
			   opt, v);
}
