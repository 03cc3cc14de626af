/* vtbench: the command-line entry point and its subcommands. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "core/gitrev.h"
#include "core/proc.h"
#include "run/check.h"
#include "run/commands.h"
#include "run/kernel.h"
#include "run/runner.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"run", vtb_cmd_run, "run the benchmark matrix"},
	{"list", vtb_cmd_list,
	 "every backend/transport/workload, usable here or why not"},
	{"probe", vtb_cmd_probe,
	 "this host: nesting, KVM usability (tested), versions"},
	{"compare", vtb_cmd_compare,
	 "BASE.json NEW.json: significant regressions (exit 1)"},
	{"report", vtb_cmd_report,
	 "FILE.json... -o report.html: charts in one HTML file"},
	{"check", vtb_cmd_check,
	 "BASE.json [run options]: BASE's matrix again, exit 0/1/125 for git "
	 "bisect run"},
	{"kernel", vtb_cmd_kernel,
	 "config --arch ARCH [--check FILE]: the config a kernel needs; "
	 "build SRC [--arch ARCH]: build one"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vtbench COMMAND [OPTION...]\n\nCommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`vtbench COMMAND --help` for its options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("vtbench %s (%s)\n", PACKAGE_VERSION, VTB_GIT_REV);
		return 0;
	}
	vtb_signals_install();
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr,
		"vtbench: unknown command '%s' (run, list, probe, compare, "
		"report, check, kernel)\n",
		argv[1]);
	return 2;
}
