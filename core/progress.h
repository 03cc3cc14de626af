/* Progress of `run`: a live line on a terminal, plain lines otherwise. */
#ifndef VTB_PROGRESS_H
#define VTB_PROGRESS_H

#include <glib.h>
#include <stdbool.h>

/*
 * @runs: total runs in the matrix (warm-ups included), for the ETA.
 * Quiet: nothing at all.  On a terminal (stderr) one line is redrawn:
 * cell, run k of N, live MB/s, elapsed, ETA; elsewhere one plain line per
 * finished cell.
 */
void vtb_progress_begin(unsigned cells, unsigned runs, bool quiet);
void vtb_progress_run(unsigned cell, const char *label, int k, int total,
		      bool warmup);
/* Called by transfers as bytes move; cheap, rate-limited. */
void vtb_progress_bytes(guint64 done, guint64 total);
void vtb_progress_run_done(bool ok, double seconds, const char *error);
/* @summary: "1.234 s median, 5/5 ok" or the error. */
void vtb_progress_cell_done(unsigned cell, const char *label,
			    const char *summary);
void vtb_progress_note(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void vtb_progress_end(void);

#endif
