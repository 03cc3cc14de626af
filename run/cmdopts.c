/* Option tables of `compare` and `report`, in the style of core/cli.c. */
#include "run/cmdopts.h"

#include <math.h>
#include <string.h>

#include "core/vtbench.h"

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

static gboolean set_value(const struct vtb_cmdopt *op, void *opts,
			  const char *v, GError **err)
{
	void *field = (char *)opts + op->offset;
	char *end = NULL;
	double d;

	switch (op->type) {
	case VTB_CMDOPT_STR:
		if (!*v)
			return usage_error(err, "--%s: empty value", op->name);
		g_free(*(char **)field);
		*(char **)field = g_strdup(v);
		return TRUE;
	case VTB_CMDOPT_NUM:
		d = g_ascii_strtod(v, &end);
		if (!*v || *end || !isfinite(d))
			return usage_error(err, "--%s: not a number: '%s'",
					   op->name, v);
		if (op->check && !op->check(op->name, d, err))
			return FALSE;
		*(double *)field = d;
		return TRUE;
	}
	return FALSE;
}

static const struct vtb_cmdopt *find(const struct vtb_cmdopt *tab,
				     const char *name, char short_name)
{
	for (; tab->name; tab++)
		if (name ? strcmp(tab->name, name) == 0
			 : short_name && tab->short_name == short_name)
			return tab;
	return NULL;
}

gboolean vtb_cmdopts_parse(const struct vtb_cmdopt *tab, void *opts, int argc,
			   char **argv, GPtrArray *positional, bool *help,
			   GError **err)
{
	*help = false;
	for (const struct vtb_cmdopt *op = tab; op->name; op++)
		if (op->def && !set_value(op, opts, op->def, err))
			return FALSE;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct vtb_cmdopt *op;
		g_autofree char *name = NULL;
		const char *val = NULL, *eq = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = true;
			return TRUE;
		}
		if (a[0] != '-' || a[1] == 0) {
			g_ptr_array_add(positional, (char *)a);
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a, '=');
			name = eq ? g_strndup(a + 2, eq - a - 2)
				  : g_strdup(a + 2);
			op = find(tab, name, 0);
			if (!op)
				return usage_error(err, "unknown option --%s",
						   name);
		} else {
			op = a[2] ? NULL : find(tab, NULL, a[1]);
			if (!op)
				return usage_error(err, "unknown option %s", a);
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return usage_error(err, "--%s needs a value (%s)",
					   op->name, op->metavar);
		if (!set_value(op, opts, val, err))
			return FALSE;
	}
	return TRUE;
}

void vtb_cmdopts_clear(const struct vtb_cmdopt *tab, void *opts)
{
	for (; tab->name; tab++)
		if (tab->type == VTB_CMDOPT_STR)
			g_clear_pointer((char **)((char *)opts + tab->offset),
					g_free);
}

void vtb_cmdopts_print_help(const struct vtb_cmdopt *tab, FILE *f)
{
	for (; tab->name; tab++) {
		g_autofree char *lhs = NULL;

		if (tab->short_name)
			lhs = g_strdup_printf("-%c, --%s %s", tab->short_name,
					      tab->name, tab->metavar);
		else
			lhs = g_strdup_printf("--%s %s", tab->name,
					      tab->metavar);
		fprintf(f, "  %-28s %s", lhs, tab->help);
		if (tab->def)
			fprintf(f, " [%s]", tab->def);
		fputc('\n', f);
	}
	fprintf(f, "  %-28s %s\n", "--help", "this text");
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
