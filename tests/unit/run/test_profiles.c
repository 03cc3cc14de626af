/* Unit tests: profiles parse with the real option table, their command
 * line's options replace theirs, and every article row has its cell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/profile.h"
#include "core/registry.h"
#include "kvm/kvm.h"
#include "results/cell.h"
#include "run/cli.h"
#include "run/profiles.h"
#include "run/runner.h"

static gboolean parse(const char *args, struct vtb_opts *o, GError **e)
{
	g_auto(GStrv) argv = g_strsplit(args, " ", -1);
	bool help;

	return vtb_cli_parse_run((int)g_strv_length(argv), argv, o, &help, e);
}

/* Every profile's words alone, as `vtbench list` prints them. */
static void test_words_parse(void **state)
{
	for (const struct vtb_profile *p = vtb_profiles; p->name; p++) {
		g_autofree char *words = g_strjoinv(" ", (char **)p->words);
		g_autofree char *args =
			g_strdup_printf("--profile %s", p->name);
		struct vtb_opts a = {0}, b = {0};
		g_autoptr(GError) e = NULL;

		for (const char *const *w = p->words; *w; w++)
			if (!g_str_has_prefix(*w, "--") || !strchr(*w, '='))
				fail_msg("%s: '%s' is not --name=value",
					 p->name, *w);
		if (!parse(words, &a, &e))
			fail_msg("%s: %s: %s", p->name, words, e->message);
		if (!parse(args, &b, &e))
			fail_msg("%s: %s", args, e->message);
		assert_string_equal(b.profile, p->name);
		assert_int_equal(a.runs, b.runs);
		assert_int_equal(g_strv_length(a.workloads),
				 g_strv_length(b.workloads));
		assert_null(a.profile);
		vtb_opts_clear(&a);
		vtb_opts_clear(&b);
	}
}

struct ocase {
	const char *args;
	bool ok;
	const char *want; /* error substring, or "runs images payloads" */
};

static const struct ocase ocases[] = {
	{"--profile libguestfs", true,
	 "5 raw-sparse,raw-prealloc,qcow2,"
	 "qcow2-prealloc zero,random"},
	/* The command line's replace the profile's, lists too, wherever
	 * --profile stands. */
	{"--runs 1 --profile=libguestfs --image qcow2", true,
	 "1 qcow2 zero,random"},
	{"--profile libguestfs --payload random --runs=2", true,
	 "2 raw-sparse,raw-prealloc,qcow2,qcow2-prealloc random"},
	/* A list given twice by the user still adds. */
	{"--profile libguestfs --image qcow2 --image raw-sparse", true,
	 "5 qcow2,raw-sparse zero,random"},
	{"--profile lima --runs 1", true, "1 raw-sparse zero"},
	{"--profile nope", false,
	 "--profile: unknown profile 'nope' (known: libguestfs, lima)"},
	{"--profile", false, "--profile needs a value"},
	{"--profile lima --image vmdk", false, "--image: unknown value"},
};

static void test_overrides(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(ocases); i++) {
		const struct ocase *c = &ocases[i];
		struct vtb_opts o = {0};
		g_autoptr(GError) e = NULL;
		gboolean ok = parse(c->args, &o, &e);

		if (ok != c->ok)
			fail_msg("'%s': %s", c->args,
				 ok ? "parsed" : e->message);
		if (!ok) {
			if (!strstr(e->message, c->want))
				fail_msg("'%s': '%s' lacks '%s'", c->args,
					 e->message, c->want);
			/* A failed parse may have set some: freed all the
			 * same. */
			vtb_opts_clear(&o);
			continue;
		}
		{
			g_autofree char *im = g_strjoinv(",", o.images);
			g_autofree char *pl = g_strjoinv(",", o.payloads);
			g_autofree char *got =
				g_strdup_printf("%d %s %s", o.runs, im, pl);

			assert_string_equal(got, c->want);
		}
		vtb_opts_clear(&o);
	}
}

/* The profile's matrix with @extra (a row's `needs`), both backends
 * usable, kvm under TCG. */
static void build(struct vtb_matrix *r, const struct vtb_profile *p,
		  const char *extra)
{
	g_autofree char *args =
		g_strdup_printf("--profile %s%s%s", p->name, extra ? " " : "",
				extra ? extra : "");
	g_autoptr(GError) e = NULL;

	if (!parse(args, &r->opts, &e))
		fail_msg("'%s': %s", args, e->message);
	vtb_matrix_init(r);
	vtb_env_set_ready(&r->env, &vtb_backend_uml, true, NULL);
	vtb_env_set_ready(&r->env, &vtb_backend_kvm, true, NULL);
	((struct vtb_kvm_env *)vtb_env_priv(&r->env, &vtb_backend_kvm))->accel =
		g_strdup("tcg");
	vtb_matrix_build(r);
}

/* Every row vtbench can make is a cell of its profile's matrix (with the
 * options its `needs` names), or at least a skipped one with a reason;
 * the rows it cannot make say why. */
static void test_rows_have_cells(void **state)
{
	for (const struct vtb_profile *p = vtb_profiles; p->name; p++)
		for (const struct vtb_article *const *a = p->articles; *a; a++)
			for (const struct vtb_article_row *row = (*a)->rows;
			     row->label; row++) {
				struct vtb_matrix r = {0};
				g_autofree char *extra =
					row->needs
						? g_strndup(row->needs,
							    strcspn(row->needs,
								    ":"))
						: NULL;
				int cells = 0, skips = 0;

				assert_non_null(row->figure);
				if (row->missing) {
					assert_null(row->metric);
					continue;
				}
				assert_non_null(row->metric);
				build(&r, p, extra);
				for (guint i = 0; i < r.cells->len; i++) {
					struct vtb_cell_key k;

					vtb_cell_key_of(r.cells->pdata[i], &k);
					cells += vtb_article_row_match_key(
						row, &k, r.opts.mount_opts);
				}
				for (guint i = 0; i < r.skipped->len; i++)
					skips += vtb_article_row_skipped(
						row, r.skipped->pdata[i]);
				if (!cells)
					fail_msg("%s: '%s' has no cell (%d "
						 "skipped)",
						 p->name, row->label, skips);
				vtb_matrix_clear(&r);
				/* Without its options it is not there. */
				if (!row->needs)
					continue;
				memset(&r, 0, sizeof(r));
				build(&r, p, NULL);
				for (guint i = 0; i < r.cells->len; i++) {
					struct vtb_cell_key k;

					vtb_cell_key_of(r.cells->pdata[i], &k);
					if (vtb_article_row_match_key(
						    row, &k, r.opts.mount_opts))
						fail_msg("%s: '%s' needs "
							 "nothing",
							 p->name, row->label);
				}
				vtb_matrix_clear(&r);
			}
}

/* A skip line names its cell: transport, workload, target, image. */
static void test_skip_lines(void **state)
{
	static const struct vtb_article_row r9p = {.label = "9p",
						   .workload = "randio",
						   .target = "9p",
						   .metric = "x",
						   .figure = "1"};
	static const struct vtb_article_row rq = {.label = "q",
						  .transport = "virtio-serial",
						  .workload = "upload",
						  .image = "qcow2",
						  .metric = "x",
						  .figure = "1"};

	assert_true(vtb_article_row_skipped(
		&r9p, "uml randio target=9p: uml has no virtio-9p"));
	assert_false(vtb_article_row_skipped(
		&r9p, "uml untar target=9p: uml has no virtio-9p"));
	assert_false(vtb_article_row_skipped(
		&r9p, "kvm randio target=hostfs: hostfs is UML's own"));
	assert_true(vtb_article_row_skipped(
		&rq, "uml virtio-serial upload target=ubd cache=writeback "
		     "image=qcow2: ubd takes raw images only"));
	assert_false(vtb_article_row_skipped(
		&rq, "uml virtio-serial upload target=ubd cache=writeback "
		     "image=raw-sparse: whatever"));
	assert_false(vtb_article_row_skipped(
		&rq, "uml serial upload image=qcow2: whatever"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_parse),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_rows_have_cells),
		cmocka_unit_test(test_skip_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
