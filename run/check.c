/*
 * `vtbench check BASE.json [run options]`: run BASE's matrix again (on the
 * kernel under test), compare, and exit as `git bisect run` reads it.
 */
#include "run/check.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stddef.h>
#include <string.h>

#include "analysis/compare.h"
#include "appliance/appliance.h"
#include "core/proc.h"
#include "core/registry.h"
#include "results/resfile.h"
#include "run/cli.h"
#include "run/kbuild.h"
#include "run/options.h"
#include "run/runner.h"

struct check_opts {
	double threshold; /* percent */
	double alpha;
	char *kernel_tree;
};

#define KOFF(f) offsetof(struct check_opts, f)
/* clang-format off */
static const struct vtb_option check_options[] = {
	{ .name = "threshold", .type = VTB_OPT_NUM, .offset = KOFF(threshold),
	  .def = "5", .metavar = "PCT",
	  .help = "smallest change of a median that counts, in %",
	  .given = -1, .check_num = vtb_check_percent },
	{ .name = "alpha", .type = VTB_OPT_NUM, .offset = KOFF(alpha),
	  .def = "0.01", .metavar = "P",
	  .help = "significance level of the permutation test",
	  .given = -1, .check_num = vtb_check_probability },
	{ .name = "kernel-tree", .type = VTB_OPT_STR,
	  .offset = KOFF(kernel_tree), .metavar = "SRC",
	  .help = "build the kernel(s) BASE's backends boot from this source "
		  "tree first (as `vtbench kernel build`) and run on them",
	  .given = -1 },
	{ .name = NULL },
};
/* clang-format on */

/* Options of `run` that say where results go, not what is measured:
 * BASE's are not carried over. */
static const char *const not_carried[] = {"json", "csv", "resume", "quiet",
					  NULL};

static int usage(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int usage(const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_printerr("vtbench: check: %s\n", msg);
	return VTB_CHECK_USAGE;
}

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: vtbench check BASE.json [OPTION...] [RUN OPTION...]\n\n"
		"Run the matrix BASE.json recorded again, with the run options "
		"given here\ninstead of BASE's (e.g. --uml-kernel or "
		"--kvm-kernel of the kernel under\ntest), compare, and print "
		"one verdict line.\n\nOptions:\n");
	vtb_options_print_help(
		(const struct vtb_optset[]){{NULL, check_options, NULL}, {0}},
		f);
	fprintf(f,
		"\nOther options are those of `vtbench run`.\n\n"
		"Exit codes, as `git bisect run` reads them: 0 no significant "
		"regression,\n1 a regression, 125 the kernel under test is not "
		"usable, did not build\n(--kernel-tree), did not boot or "
		"nothing could be judged (bisect skips it),\n128 bad input or "
		"usage (bisect stops), 128+N interrupted by signal N.\n");
}

/* The name of a `run` option at @a ("--runs=3" -> "runs"), or NULL. */
static char *option_name(const char *a)
{
	const char *eq;

	if (strncmp(a, "--", 2) != 0 || !a[2])
		return NULL;
	eq = strchr(a, '=');
	return eq ? g_strndup(a + 2, eq - a - 2) : g_strdup(a + 2);
}

/*
 * BASE's recorded options (cli_options) as run arguments, except those
 * the user gives (@given) and those in not_carried.  FALSE when BASE has
 * none (a file from before they were recorded).
 */
static gboolean base_args(const struct vtb_rdoc *base, GHashTable *given,
			  GPtrArray *out, GError **err)
{
	JsonObject *co;
	JsonObjectIter it;
	const char *name;
	JsonNode *v;

	if (!json_object_has_member(base->root, "cli_options") ||
	    !JSON_NODE_HOLDS_OBJECT(
		    json_object_get_member(base->root, "cli_options"))) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "%s has no \"cli_options\" (written by an older "
			    "vtbench): its matrix cannot be run again",
			    base->path);
		return FALSE;
	}
	co = json_object_get_object_member(base->root, "cli_options");
	json_object_iter_init_ordered(&it, co);
	while (json_object_iter_next_ordered(&it, &name, &v)) {
		g_autofree char *val = NULL;

		if (g_hash_table_contains(given, name) ||
		    vtb_str_in(not_carried, name) || json_node_is_null(v))
			continue;
		if (JSON_NODE_HOLDS_ARRAY(v)) {
			JsonArray *a = json_node_get_array(v);
			GString *s = g_string_new(NULL);

			for (guint i = 0; i < json_array_get_length(a); i++) {
				JsonNode *e = json_array_get_element(a, i);

				if (!JSON_NODE_HOLDS_VALUE(e) ||
				    json_node_get_value_type(e) !=
					    G_TYPE_STRING) {
					g_string_free(s, TRUE);
					g_set_error(err, VTB_ERROR,
						    VTB_ERR_USAGE,
						    "%s: cli_options.%s: not "
						    "a list of strings",
						    base->path, name);
					return FALSE;
				}
				g_string_append_printf(s, "%s%s", i ? "," : "",
						       json_node_get_string(e));
			}
			val = g_string_free(s, FALSE);
		} else if (JSON_NODE_HOLDS_VALUE(v)) {
			GType t = json_node_get_value_type(v);

			if (t == G_TYPE_BOOLEAN) {
				if (json_node_get_boolean(v))
					g_ptr_array_add(
						out,
						g_strdup_printf("--%s", name));
				continue;
			}
			if (t == G_TYPE_STRING)
				val = g_strdup(json_node_get_string(v));
			else if (t == G_TYPE_INT64)
				val = g_strdup_printf("%" G_GINT64_FORMAT,
						      json_node_get_int(v));
			else
				val = g_strdup_printf("%.17g",
						      json_node_get_double(v));
		} else {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "%s: cli_options.%s: not a value",
				    base->path, name);
			return FALSE;
		}
		g_ptr_array_add(out, g_strdup_printf("--%s=%s", name, val));
	}
	return TRUE;
}

/*
 * Build from @src the kernel of each backend BASE's cells ran on, and add
 * the run options that boot it to @runargs (their names to @given, so
 * BASE's are not carried over).  Returns -1 when all built, else the exit
 * code: 125 for a tree that did not configure or build, 128 for bad input
 * (also a kernel option given beside --kernel-tree), 128+N on a signal.
 */
static int build_kernels(const struct vtb_rdoc *base, const char *src,
			 GHashTable *given, GPtrArray *runargs)
{
	g_autoptr(GPtrArray) arches = g_ptr_array_new();
	g_autoptr(GError) e = NULL;
	g_autofree char *cache = vtb_cache_dir(&e);

	if (!cache)
		return usage("%s", e->message);
	for (guint i = 0; i < base->cells->len; i++) {
		const struct vtb_rcell *c = base->cells->pdata[i];
		const struct vtb_backend_ops *be =
			c->backend ? vtb_backend_find(c->backend) : NULL;

		if (be && be->kernel_arch &&
		    !g_ptr_array_find_with_equal_func(arches, be->kernel_arch,
						      g_str_equal, NULL))
			g_ptr_array_add(arches, (char *)be->kernel_arch);
	}
	if (!arches->len)
		return usage("%s: no cell of a backend vtbench can build a "
			     "kernel for",
			     base->path);
	/* Before a build: a clash is said at once. */
	for (guint i = 0; i < arches->len; i++) {
		g_autoptr(GPtrArray) names =
			g_ptr_array_new_with_free_func(g_free);

		vtb_kbuild_run_opts(arches->pdata[i], NULL, NULL, names);
		for (guint j = 0; j < names->len; j++)
			if (g_hash_table_contains(given, names->pdata[j]))
				return usage("--kernel-tree builds the kernel "
					     "that --%s would name: give one "
					     "of them",
					     (char *)names->pdata[j]);
	}
	for (guint i = 0; i < arches->len; i++) {
		g_autoptr(GPtrArray) opts =
			g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GPtrArray) names =
			g_ptr_array_new_with_free_func(g_free);
		struct vtb_kbuild_req req = {.src = src,
					     .arch = arches->pdata[i],
					     .cache_dir = cache,
					     .timeout_s = 10800};
		struct vtb_kbuild b = {0};

		if (!vtb_kbuild_run(&req, &b, &e)) {
			vtb_kbuild_clear(&b);
			if (g_error_matches(e, VTB_ERROR,
					    VTB_ERR_INTERRUPTED)) {
				g_printerr("vtbench: check: %s\n", e->message);
				return 128 + vtb_interrupt_signal();
			}
			if (g_error_matches(e, VTB_ERROR, VTB_ERR_RUN)) {
				printf("vtbench check: skip (125): the kernel "
				       "tree did not build: %s\n",
				       e->message);
				return VTB_CHECK_SKIP;
			}
			return usage("--kernel-tree: %s", e->message);
		}
		g_printerr("vtbench: check: kernel %s %s %s (%s)\n",
			   (char *)arches->pdata[i], b.release,
			   b.cached ? "built before" : "built", b.obj);
		vtb_kbuild_run_opts(arches->pdata[i], &b, opts, names);
		vtb_kbuild_clear(&b);
		for (guint j = 0; j < opts->len; j++) {
			g_ptr_array_add(runargs, g_strdup(opts->pdata[j]));
			g_hash_table_add(given, g_strdup(names->pdata[j]));
		}
	}
	return -1;
}

/* Every cell failed every run: the kernel did not boot, or nothing ran. */
static bool nothing_ran(const struct vtb_rdoc *d)
{
	for (guint i = 0; i < d->cells->len; i++)
		if (((const struct vtb_rcell *)d->cells->pdata[i])->n)
			return false;
	return true;
}

int vtb_cmd_check(int argc, char **argv)
{
	struct check_opts o = {0};
	g_autoptr(GPtrArray) own = g_ptr_array_new();
	g_autoptr(GPtrArray) pos = g_ptr_array_new();
	g_autoptr(GPtrArray) runargs = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) given =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GError) e = NULL;
	struct vtb_rdoc *base = NULL, *now = NULL;
	struct vtb_comparison *cmp = NULL;
	g_autofree char *tmpdir = NULL, *json = NULL;
	struct vtb_opts ro;
	bool help;
	int rc = VTB_CHECK_USAGE, run_rc;

	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		print_help(stdout);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-')
		return usage("needs BASE.json first (vtbench check BASE.json "
			     "[OPTION...])");
	/* check's own options; the rest is for run. */
	g_ptr_array_add(runargs, g_strdup("run"));
	for (int i = 2; i < argc; i++) {
		g_autofree char *name = option_name(argv[i]);
		bool mine = false;

		for (const struct vtb_option *op = check_options; op->name;
		     op++)
			mine = mine || (name && !strcmp(name, op->name));
		if (mine) {
			g_ptr_array_add(own, argv[i]);
			if (!strchr(argv[i], '=') && i + 1 < argc)
				g_ptr_array_add(own, argv[++i]);
			continue;
		}
		if (name)
			g_hash_table_add(given, g_steal_pointer(&name));
		g_ptr_array_add(runargs, g_strdup(argv[i]));
	}
	if (!vtb_options_parse(
		    (const struct vtb_optset[]){{NULL, check_options, &o}, {0}},
		    (int)own->len, (char **)own->pdata, pos, &help, &e)) {
		rc = usage("%s", e->message);
		goto out;
	}
	/* A typo must stop a bisect, not blame a commit: check the run
	 * options before anything runs. */
	if (!vtb_cli_parse_run((int)runargs->len - 1,
			       (char **)runargs->pdata + 1, &ro, &help, &e)) {
		vtb_opts_clear(&ro);
		rc = usage("%s", e->message);
		goto out;
	}
	json = g_strdup(ro.json);
	vtb_opts_clear(&ro);
	if (help) {
		rc = usage("--help goes first: vtbench check --help");
		goto out;
	}
	base = vtb_rdoc_load(argv[1], &e);
	if (!base) {
		rc = usage("%s", e->message);
		goto out;
	}
	if (o.kernel_tree) {
		int brc = build_kernels(base, o.kernel_tree, given, runargs);

		if (brc >= 0) {
			rc = brc;
			goto out;
		}
	}
	if (!base_args(base, given, runargs, &e)) {
		rc = usage("%s", e->message);
		goto out;
	}
	if (!json) {
		tmpdir = g_dir_make_tmp("vtbench-check-XXXXXX", &e);
		if (!tmpdir) {
			rc = usage("temporary directory: %s", e->message);
			goto out;
		}
		json = g_build_filename(tmpdir, "now.json", NULL);
		g_ptr_array_add(runargs, g_strdup_printf("--json=%s", json));
	}
	g_ptr_array_add(runargs, NULL);
	run_rc = vtb_cmd_run((int)runargs->len - 1, (char **)runargs->pdata);
	if (run_rc >= 128) {
		rc = run_rc; /* interrupted: the bisect stops */
		goto out;
	}
	/* The options parsed: what run refused is the kernel under test
	 * (not a UML kernel, no modules, no usable backend). */
	if (run_rc == 2) {
		printf("vtbench check: skip (125): the kernel under test is "
		       "not usable (see above)\n");
		rc = VTB_CHECK_SKIP;
		goto out;
	}
	now = vtb_rdoc_load(json, &e);
	if (!now) {
		printf("vtbench check: skip (125): no results: %s\n",
		       e->message);
		rc = VTB_CHECK_SKIP;
		goto out;
	}
	if (nothing_ran(now)) {
		printf("vtbench check: skip (125): no cell of the kernel under "
		       "test ran (did it boot?)\n");
		rc = VTB_CHECK_SKIP;
		goto out;
	}
	cmp = vtb_compare(base, now, o.alpha, o.threshold / 100);
	if (!cmp->rows->len) {
		rc = usage("nothing to compare: no cell of %s ran again",
			   base->path);
		goto out;
	}
	vtb_comparison_print(cmp, stdout);
	/* Not a pass, and 125 rather than 128: it is this run's samples
	 * that were too few (failed runs) as often as BASE's. */
	if (vtb_comparison_outcome(cmp) == VTB_COMPARE_UNJUDGED) {
		printf("vtbench check: skip (125): nothing could be judged "
		       "against %s (too few ok runs per side)\n",
		       base->path);
		rc = VTB_CHECK_SKIP;
		goto out;
	}
	if (cmp->regressions) {
		printf("vtbench check: regression (1): %d of %u metric%s "
		       "worse than %s\n",
		       cmp->regressions, cmp->rows->len,
		       cmp->rows->len == 1 ? "" : "s", base->path);
		rc = VTB_CHECK_REGRESSION;
	} else {
		printf("vtbench check: same (0): no significant regression in "
		       "%u metric%s against %s\n",
		       cmp->rows->len, cmp->rows->len == 1 ? "" : "s",
		       base->path);
		rc = VTB_CHECK_SAME;
	}
out:
	vtb_options_clear(check_options, &o);
	vtb_comparison_free(cmp);
	vtb_rdoc_free(now);
	vtb_rdoc_free(base);
	if (tmpdir) {
		g_unlink(json);
		g_rmdir(tmpdir);
	}
	return rc;
}
