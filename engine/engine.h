/*
 * The transfer engine: one sequence for every workload that moves bytes --
 * guest and devices, flush audit, RUN, READY, the timed host part, RESULT,
 * verification, and the guest kept or released.  Workloads configure it
 * with data (struct vtb_workload_ops) and an optional feed() hook.
 */
#ifndef VTB_ENGINE_H
#define VTB_ENGINE_H

#include "core/vtbench.h"

/* No progress for this long aborts a transfer as stalled. */
#define VTB_STALL_S 15.0

/* One sample in the making, as the engine hands it to feed(). */
struct vtb_xfer {
	struct vtb_cell *cell;
	struct vtb_sample *s;
	struct vtb_vm *vm;
	struct vtb_device *data;   /* the transport's device, or NULL */
	struct vtb_device *target; /* the disk written to, or NULL */
	bool target_is_fs;	   /* the cell's target is a filesystem */
	const struct vtb_run *run; /* RUN as sent */
	/* The payload file a stream transport sends, mapped, and its hash;
	 * NULL for a workload with its own bytes (VTB_WL_PER_MSG_SIZE). */
	const guint8 *payload;
	guint64 payload_hash;
	gint64 t0_us; /* the clock started: READY arrived */
	/* Set by feed() where the defaults do not hold: */
	guint64 expect_bytes; /* the RESULT's byte count; 0: run->size */
	guint64 expect_hash;  /* its hash, with expect_hash_set */
	bool expect_hash_set; /* else: the payload's hash */
	gint64 t_end_us;      /* end of the timed part; 0: RESULT's arrival */
	/* Set by fill_run(): how long the guest may take from RUN to READY
	 * (untimed work of its own first); 0: 30 s. */
	gint64 ready_wait_us;
	guint64 bytes; /* moved, for the sample; 0: the RESULT's */
	/* A workload's own state (prepare), kept with the guest it was
	 * booted for and freed with it by priv_free. */
	void *priv;
	GDestroyNotify priv_free;
};

/* Boot deadline for the cell (--timeout, else per backend/accel). */
double vtb_cell_boot_timeout(const struct vtb_cell *cell);

/* Measure one sample of @cell: its workload's run(), or the engine. */
gboolean vtb_workload_sample(struct vtb_cell *cell, struct vtb_sample *s,
			     GError **err);

/* The engine's sequence for one sample (what vtb_workload_sample runs). */
gboolean vtb_xfer_run(struct vtb_cell *cell, struct vtb_sample *s,
		      GError **err);

/* Messages per sample of a VTB_WL_PER_MSG_SIZE cell: its size over
 * its message size. */
guint32 vtb_xfer_msgs(const struct vtb_cell *cell);

/* Write / read exactly @n bytes of x->data's stream by @deadline
 * (monotonic us), or fail as stalled, closed, or the VMM gone. */
gboolean vtb_xfer_write(struct vtb_xfer *x, const guint8 *buf, size_t n,
			gint64 deadline, GError **err);
gboolean vtb_xfer_read(struct vtb_xfer *x, guint8 *buf, size_t n,
		       gint64 deadline, GError **err);
/* Monotonic deadline of one message or block: now + the stall time. */
gint64 vtb_xfer_stall_deadline(void);

/* The bytes of the seeded payload at @offset (what the agent makes). */
void vtb_xfer_fill(guint8 *buf, size_t n, guint64 offset);

/* The guest's figures of a run from its RESULT: the phase guest_transfer
 * (a note instead when its stamps are out of order), guest_cpu_pct. */
void vtb_xfer_guest_figures(struct vtb_sample *s, const struct vtb_result *r);

/*
 * What the guest's kernel took differently from the mount options asked
 * for (@asked, "k=v,..."), read from its mount @line ("SOURCE TYPE
 * OPTIONS"): "msize=512000 for msize=2097152", "; "-joined; NULL when
 * every k=v it shows is as asked (one it does not show is its default,
 * which cannot be told from here).
 */
char *vtb_mount_taken(const char *asked, const char *line);

/* Power off the guest the cell kept between its runs, if any. */
gboolean vtb_cell_release_guest(struct vtb_cell *cell, GError **err);

#endif
