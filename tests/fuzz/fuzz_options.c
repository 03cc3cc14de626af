/*
 * libFuzzer harness: `vtbench run`'s argv, one argument per line of the
 * input, through the option engine and every plug-in's checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/cli.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* GLib 2.74's slice allocator hides a leaked GString from the
	 * leak checker; plain malloc does not. */
	setenv("G_SLICE", "always-malloc", 1);
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) argv = NULL;
	struct vtb_opts o;
	bool help = false;
	gboolean ok;
	int argc;

	if (memchr(data, 0, size))
		return 0;
	text = g_strndup((const char *)data, size);
	/* The checks stat and read the paths they are given (--json's
	 * directory, --tarball): keep them to names in the current directory
	 * (the build tree), as one reading /dev/zero or a FIFO as a tarball
	 * would hang the fuzzer, not find anything. */
	g_strdelimit(text, "/", '_');
	/* A line is an argument, so none has a newline (an error quoting
	 * such a value would be two lines). */
	argv = g_strsplit(text, "\n", -1);
	argc = (int)g_strv_length(argv);
	if (argc > MAX_ARGS)
		return 0;
	ok = vtb_cli_parse_run(argc, argv, &o, &help, &e);
	/* Success, or an error of one line (run's exit 2), never both. */
	if (ok == (e != NULL))
		abort();
	if (e && (!e->message[0] || strchr(e->message, '\n')))
		abort();
	if (ok && !help && (o.runs < 1 || o.warmup < 0 || !o.backends))
		abort();
	vtb_opts_clear(&o);
	return 0;
}
