/* Progress of `run`: a live line on a terminal, plain lines otherwise. */
#include "core/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static struct {
	bool on, tty;
	unsigned cells, runs, runs_done;
	gint64 t0, run_t0, xfer_t0, last_draw;
	double run_secs; /* wall time of the runs finished so far */
	unsigned cell;
	char label[160];
	int k, total;
	bool warmup;
	double mbps;
	guint64 xfer_base;
} p;

static void fmt_dur(char *buf, size_t n, double s)
{
	int t = (int)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%d:%02d", t / 60, t % 60);
}

static void draw(void)
{
	char el[16], eta[16] = "?";
	double elapsed = (g_get_monotonic_time() - p.t0) / 1e6;

	if (p.runs_done) {
		double per = p.run_secs / p.runs_done;

		fmt_dur(eta, sizeof(eta),
			per * (p.runs - MIN(p.runs, p.runs_done)));
	}
	fmt_dur(el, sizeof(el), elapsed);
	fprintf(stderr, "\r\033[K[%u/%u] %.60s: %s %d/%d", p.cell + 1, p.cells,
		p.label, p.warmup ? "warm-up" : "run", p.k, p.total);
	if (p.mbps > 0)
		fprintf(stderr, " %.0f MB/s", p.mbps);
	fprintf(stderr, "  elapsed %s, ETA %s", el, eta);
	fflush(stderr);
	p.last_draw = g_get_monotonic_time();
}

void vtb_progress_begin(unsigned cells, unsigned runs, bool quiet)
{
	p.on = !quiet;
	p.tty = isatty(STDERR_FILENO);
	p.cells = cells;
	p.runs = runs;
	p.runs_done = 0;
	p.run_secs = 0;
	p.t0 = g_get_monotonic_time();
}

void vtb_progress_run(unsigned cell, const char *label, int k, int total,
		      bool warmup)
{
	p.cell = cell;
	g_strlcpy(p.label, label, sizeof(p.label));
	p.k = k;
	p.total = total;
	p.warmup = warmup;
	p.mbps = 0;
	p.run_t0 = g_get_monotonic_time();
	p.xfer_t0 = 0;
	if (p.on && p.tty)
		draw();
}

void vtb_progress_bytes(guint64 done, guint64 total)
{
	gint64 now = g_get_monotonic_time();

	/* The rate of the transfer, not of the boot before it. */
	if (!p.xfer_t0) {
		p.xfer_t0 = now;
		p.xfer_base = done;
	}
	if (!p.on || !p.tty || now - p.last_draw < 250000 || now == p.xfer_t0)
		return;
	p.mbps = (done - p.xfer_base) / 1e6 / ((now - p.xfer_t0) / 1e6);
	draw();
}

void vtb_progress_run_done(bool ok, double seconds, const char *error)
{
	p.runs_done++;
	p.run_secs += (g_get_monotonic_time() - p.run_t0) / 1e6;
	if (p.on && p.tty && !ok)
		fprintf(stderr, "\r\033[K[%u/%u] %s: run %d failed: %s\n",
			p.cell + 1, p.cells, p.label, p.k, error);
}

void vtb_progress_cell_done(unsigned cell, const char *label,
			    const char *summary)
{
	if (!p.on)
		return;
	fprintf(stderr, "%s[%u/%u] %s: %s\n", p.tty ? "\r\033[K" : "", cell + 1,
		p.cells, label, summary);
}

void vtb_progress_note(const char *fmt, ...)
{
	va_list ap;

	if (!p.on)
		return;
	if (p.tty)
		fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void vtb_progress_end(void)
{
	if (p.on && p.tty)
		fputs("\r\033[K", stderr);
	p.on = false;
}
