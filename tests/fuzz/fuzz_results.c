/*
 * libFuzzer harness: a results file is user input to `compare`, `report`,
 * `check` and `run --resume`; reading it, then comparing and drawing it,
 * must fail cleanly on anything.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/report.h"
#include "results/resfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* A GLib critical is a misuse of an API by our reader: a finding. */
	/* GLib 2.74's slice allocator hides a leaked GString from the
	 * leak checker; plain malloc does not. */
	setenv("G_SLICE", "always-malloc", 1);
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) e = NULL;
	struct vtb_comparison *c;
	struct vtb_rdoc *docs[2];
	char *copy, *html;

	/* As vtb_rdoc_load hands a file over: UTF-8, NUL-terminated. */
	if (!g_utf8_validate((const char *)data, (gssize)size, NULL))
		return 0;
	copy = g_malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = 0;
	docs[0] = vtb_rdoc_parse("fuzz.json", copy, (gssize)size, &e);
	g_free(copy);
	if (!docs[0]) {
		/* One line naming the file and the problem. */
		if (!e || !strstr(e->message, "fuzz.json") ||
		    strchr(e->message, '\n'))
			abort();
		return 0;
	}
	if (e)
		abort();
	for (guint i = 0; i < docs[0]->cells->len; i++) {
		const struct vtb_rcell *a = docs[0]->cells->pdata[i];

		(void)vtb_rcell_size(a);
		(void)vtb_rcell_auto_sized(a);
		/* A cell is the same experiment as itself. */
		if (!vtb_rcell_match(a, a))
			abort();
	}
	c = vtb_compare(docs[0], docs[0], 0.05, 0.05);
	vtb_comparison_print(c, devnull);
	(void)vtb_comparison_outcome(c);
	vtb_comparison_free(c);
	docs[1] = docs[0];
	html = vtb_report_html(docs, 2, 0.05, 0.05);
	g_free(html);
	vtb_rdoc_free(docs[0]);
	return 0;
}
