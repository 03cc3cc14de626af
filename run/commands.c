/* `vtbench compare` and `vtbench report`: their options and exit codes. */
#include "run/commands.h"

#include <stddef.h>
#include <stdio.h>

#include "analysis/compare.h"
#include "analysis/profile.h"
#include "analysis/report.h"
#include "core/vtbench.h"
#include "run/options.h"
#include "run/profiles.h"

struct compare_opts {
	double threshold; /* percent */
	double alpha;
};

#define COFF(f) offsetof(struct compare_opts, f)
/* clang-format off */
static const struct vtb_option compare_options[] = {
	{ .name = "threshold", .type = VTB_OPT_NUM, .offset = COFF(threshold),
	  .def = "5", .metavar = "PCT",
	  .help = "smallest change of a median that counts, in %",
	  .given = -1, .check_num = vtb_check_percent },
	{ .name = "alpha", .type = VTB_OPT_NUM, .offset = COFF(alpha),
	  .def = "0.01", .metavar = "P",
	  .help = "significance level of the permutation test",
	  .given = -1, .check_num = vtb_check_probability },
	{ .name = NULL },
};
/* clang-format on */

static void compare_help(FILE *f)
{
	fprintf(f,
		"Usage: vtbench compare BASE.json NEW.json [OPTION...]\n\n"
		"Match the cells of two results files by their parameters and "
		"say, for\neach metric, whether NEW is significantly worse "
		"than BASE.\n\nOptions:\n");
	vtb_options_print_help(
		(const struct vtb_optset[]){{NULL, compare_options, NULL}, {0}},
		f);
	fprintf(f, "\nExit codes: 0 no significant regression, 1 at least "
		   "one, 2 bad input or usage,\n4 nothing could be judged "
		   "(too few ok runs on a side for --alpha).\n");
}

int vtb_cmd_compare(int argc, char **argv)
{
	struct compare_opts o = {0};
	g_autoptr(GPtrArray) files = g_ptr_array_new();
	g_autoptr(GError) e = NULL;
	struct vtb_rdoc *base = NULL, *new_ = NULL;
	struct vtb_comparison *cmp = NULL;
	bool help;
	int rc = 2;

	if (!vtb_options_parse(
		    (const struct vtb_optset[]){{NULL, compare_options, &o},
						{0}},
		    argc - 1, argv + 1, files, &help, &e))
		goto bad;
	if (help) {
		compare_help(stdout);
		return 0;
	}
	if (files->len != 2) {
		g_set_error(&e, VTB_ERROR, VTB_ERR_USAGE,
			    "needs two files, BASE.json and NEW.json "
			    "(got %u)",
			    files->len);
		goto bad;
	}
	base = vtb_rdoc_load(files->pdata[0], &e);
	if (!base)
		goto bad;
	new_ = vtb_rdoc_load(files->pdata[1], &e);
	if (!new_)
		goto bad;
	cmp = vtb_compare(base, new_, o.alpha, o.threshold / 100);
	if (!cmp->rows->len) {
		g_set_error(&e, VTB_ERROR, VTB_ERR_USAGE,
			    "nothing to compare: no cell of %s is in %s",
			    base->path, new_->path);
		goto bad;
	}
	vtb_comparison_print(cmp, stdout);
	rc = vtb_comparison_outcome(cmp);
	goto out;
bad:
	g_printerr("vtbench: compare: %s\n", e->message);
out:
	vtb_comparison_free(cmp);
	vtb_rdoc_free(new_);
	vtb_rdoc_free(base);
	return rc;
}

struct report_opts {
	char *output;
	char *profile;
	double threshold; /* percent */
	double alpha;
};

static gboolean check_profile(const char *opt, const char *v, GError **err)
{
	g_autofree char *known = NULL;

	if (vtb_profile_find(v))
		return TRUE;
	known = vtb_profile_names();
	g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
		    "--%s: unknown profile '%s' (known: %s)", opt, v, known);
	return FALSE;
}

#define ROFF(f) offsetof(struct report_opts, f)
/* clang-format off */
static const struct vtb_option report_options[] = {
	{ .name = "output", .short_name = 'o', .type = VTB_OPT_STR,
	  .offset = ROFF(output), .metavar = "FILE",
	  .help = "the HTML file to write (required)", .given = -1 },
	{ .name = "profile", .type = VTB_OPT_STR, .offset = ROFF(profile),
	  .metavar = "NAME",
	  .help = "instead of HTML: the profile's article tables for one "
		  "results file, on stdout (`vtbench list` names the "
		  "profiles)", .given = -1, .check = check_profile },
	{ .name = "threshold", .type = VTB_OPT_NUM, .offset = ROFF(threshold),
	  .def = "5", .metavar = "PCT",
	  .help = "compare table (two files): smallest change that counts, "
		  "in %", .given = -1, .check_num = vtb_check_percent },
	{ .name = "alpha", .type = VTB_OPT_NUM, .offset = ROFF(alpha),
	  .def = "0.01", .metavar = "P",
	  .help = "compare table (two files): significance level",
	  .given = -1, .check_num = vtb_check_probability },
	{ .name = NULL },
};
/* clang-format on */

static void report_help(FILE *f)
{
	fprintf(f, "Usage: vtbench report FILE.json... -o report.html\n"
		   "       vtbench report --profile NAME FILE.json\n\n"
		   "Write one self-contained HTML page (inline SVG, no "
		   "network) with a chart\nper metric, the start-up phases "
		   "and, for two files, the compare table.\n\nOptions:\n");
	vtb_options_print_help(
		(const struct vtb_optset[]){{NULL, report_options, NULL}, {0}},
		f);
	fprintf(f, "\nExit codes: 0 written, 2 bad input or usage.\n");
}

int vtb_cmd_report(int argc, char **argv)
{
	struct report_opts o = {0};
	g_autoptr(GPtrArray) files = g_ptr_array_new();
	g_autoptr(GPtrArray) docs =
		g_ptr_array_new_with_free_func((GDestroyNotify)vtb_rdoc_free);
	g_autoptr(GError) e = NULL;
	g_autofree char *html = NULL;
	bool help;
	int rc = 2;

	if (!vtb_options_parse(
		    (const struct vtb_optset[]){{NULL, report_options, &o},
						{0}},
		    argc - 1, argv + 1, files, &help, &e))
		goto bad;
	if (help) {
		report_help(stdout);
		rc = 0;
		goto out;
	}
	if (!files->len) {
		g_set_error(&e, VTB_ERROR, VTB_ERR_USAGE,
			    "needs at least one results file");
		goto bad;
	}
	if (o.profile) {
		const struct vtb_profile *p = vtb_profile_find(o.profile);
		struct vtb_rdoc *d;

		if (files->len != 1) {
			g_set_error(&e, VTB_ERROR, VTB_ERR_USAGE,
				    "--profile takes one results file (got "
				    "%u)",
				    files->len);
			goto bad;
		}
		d = vtb_rdoc_load(files->pdata[0], &e);
		if (!d)
			goto bad;
		for (const struct vtb_article *const *a = p->articles; *a; a++)
			vtb_print_article(p->name, *a, d, stdout);
		vtb_rdoc_free(d);
		rc = 0;
		goto out;
	}
	if (!o.output) {
		g_set_error(&e, VTB_ERROR, VTB_ERR_USAGE,
			    "needs -o FILE (the HTML to write)");
		goto bad;
	}
	for (guint i = 0; i < files->len; i++) {
		struct vtb_rdoc *d = vtb_rdoc_load(files->pdata[i], &e);

		if (!d)
			goto bad;
		g_ptr_array_add(docs, d);
	}
	html = vtb_report_html((struct vtb_rdoc **)docs->pdata, docs->len,
			       o.alpha, o.threshold / 100);
	/* temp file + rename, like the results */
	if (!g_file_set_contents(o.output, html, -1, &e)) {
		g_prefix_error(&e, "write %s: ", o.output);
		g_printerr("vtbench: report: %s\n", e->message);
		rc = 2;
		goto out;
	}
	rc = 0;
	goto out;
bad:
	g_printerr("vtbench: report: %s\n", e->message);
out:
	vtb_options_clear(report_options, &o);
	return rc;
}
