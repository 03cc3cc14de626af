/* Reading a results file back: validation, cells and their metrics. */
#ifndef VTB_RESFILE_H
#define VTB_RESFILE_H

#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "core/stats.h"

struct vtb_rphase {
	char *name;
	double median;
};

/* One thread's share of the host CPU ("cpu" of a sample). */
struct vtb_rthread {
	const char *group; /* vmm, guest-user, helper, vtbench */
	const char *process, *thread;
	double cpu_s, wait_s;
};

/*
 * Where the host's CPU went during one sample ("cpu" of a sample, the
 * engine's attribution).  Strings are borrowed from the document.
 */
struct vtb_rcpu {
	double wall_s;	 /* the attributed interval */
	int cores;	 /* host CPUs online */
	GArray *threads; /* struct vtb_rthread, busiest first */
	double other_s, idle_s, system_s;     /* 0 when missing */
	double accounted_pct, guest_busy_pct; /* NAN when missing */
	const char *verdict; /* "guest-CPU-bound: ...", or NULL */
};

/* One result row of the file, with what compare and report need. */
struct vtb_rcell {
	JsonObject *obj; /* the row itself, owned by the document */
	const char *backend, *driver, *accel, *transport, *workload, *cache;
	char *label;	    /* "kvm/direct/tcg startup", as `run` prints it */
	char *where, *what; /* its halves: "kvm/direct/tcg", "startup" */
	int n, failed;	    /* ok and failed measured samples */
	const char *error;  /* the first error, or NULL */
	/* struct vtb_series *: "seconds" first, as vtb_cell_series() */
	GPtrArray *series;
	GPtrArray *phases; /* struct vtb_rphase *: phase medians, in order */
	/* "cpu" of the ok measured sample whose seconds are the median (the
	 * lower of the middle two), or NULL: older file, no such sample */
	struct vtb_rcpu *cpu;
};

struct vtb_rdoc {
	char *path;
	JsonNode *root_node;
	JsonObject *root;
	GPtrArray *cells; /* struct vtb_rcell * */
	bool interrupted;
};

/*
 * The same experiment: equal backend, driver, transport, workload, cache
 * and parameters, except those that only say how it was measured (runs,
 * warm-ups, timeout, accel asked for, boot image) and those only one row
 * has (files written before a parameter existed still match).  Neither
 * the kernel nor the accelerator used is part of it: comparing kernels is
 * the point, and compare warns when the accelerators differ.
 */
bool vtb_rcell_match(const struct vtb_rcell *a, const struct vtb_rcell *b);
/* params.size_auto: vtbench chose the size (serial: from the rate). */
bool vtb_rcell_auto_sized(const struct vtb_rcell *c);
/*
 * The index in @v of the median of its @n values (the lower of the middle
 * two when @n is even; equal values ranked by position), or -1 when @n
 * is 0.
 */
int vtb_median_index(const double *v, int n);

/* Bytes per transfer of the cell, 0 when none. */
gint64 vtb_rcell_size(const struct vtb_rcell *c);

/*
 * Read and validate the results file at @path.  Errors are VTB_ERR_USAGE
 * with one line naming the file and the problem: unreadable, not JSON,
 * not a vtbench file, another schema version, a missing or mistyped
 * field ("b.json: results[2].samples[0]: missing \"seconds\" (number)").
 */
struct vtb_rdoc *vtb_rdoc_load(const char *path, GError **err);
/* The same from @len bytes at @data (-1: NUL-terminated); @path names it. */
struct vtb_rdoc *vtb_rdoc_parse(const char *path, const char *data, gssize len,
				GError **err);
void vtb_rdoc_free(struct vtb_rdoc *d);

/*
 * The scalar at @dotted ("host.cpu", "env.kernel.release") under @o as
 * text, or NULL when missing or null.  Free it.
 */
char *vtb_json_text(JsonObject *o, const char *dotted);

#endif
