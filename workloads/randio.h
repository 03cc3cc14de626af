/* Workload `randio`: the real fio in the guest; its job and its JSON. */
#ifndef VTB_RANDIO_H
#define VTB_RANDIO_H

#include "core/vtbench.h"

/* One of the Lima article's fio jobs, run in this order. */
struct vtb_fio_job {
	const char *name; /* as --fio-jobs takes it; fio's jobname */
	const char *opts; /* its own fio options, after --name= */
	bool read, write; /* the directions it must report */
};

/* The job called @name, or NULL. */
const struct vtb_fio_job *vtb_fio_job_find(const char *name);

/* What the host asks of fio in the guest. */
struct vtb_fio_params {
	const char *filename;	 /* one file, shared by every job and thread */
	guint64 size;		 /* its bytes (fio's size=) */
	double runtime_s;	 /* each job's, time based */
	int numjobs;		 /* threads per job: the guest's vCPUs */
	const char *const *jobs; /* names of vtb_fio_job, NULL-terminated */
	/* More global options, space-separated, or NULL (a test hook). */
	const char *extra;
};

/*
 * fio's options for RUN's args, space-separated: global options (JSON
 * output, bs=4k, libaio, iodepth 1, threads, group reporting, time based,
 * the clat percentiles 50/99/99.9), then each job stonewalled after the
 * last.  O_DIRECT is the agent's to add (VTB_RUN_F_DIRECT).  NULL with
 * @err (VTB_ERR_USAGE, one line) when a value has a space, a job is
 * unknown, a figure is out of range or the whole exceeds RUN's args.
 */
char *vtb_fio_args(const struct vtb_fio_params *p, GError **err);

/*
 * The default of --fio-size: twice the guest's memory @mem (so the file
 * does not fit its page cache), at most 90 % of the target's @room (0:
 * unknown, a host directory), in whole MiB, at least 1 MiB.
 */
guint64 vtb_fio_default_size(guint64 mem, guint64 room);

/*
 * Read fio's --output-format=json output (@len bytes at @out; any lines
 * before the one that opens the document, fio's own messages, are
 * skipped) and add to @s, for each job of @jobs (names, NULL-terminated)
 * and each direction it does (read, write): JOB_DIR_iops,
 * JOB_DIR_mb_per_s, JOB_DIR_clat_p50_us, _p99_us and _p99_9_us.  Sets
 * *@direct from its global options (1, 0, or -1 when absent) and
 * *@bytes to the bytes the jobs moved.  FALSE with @err (VTB_ERR_RUN)
 * naming the job and member when the output holds no JSON, a job is
 * missing, reported an error, or did no I/O in a direction it must;
 * nothing is added to @s then.
 */
gboolean vtb_fio_metrics(const char *out, gsize len, const char *const *jobs,
			 struct vtb_sample *s, int *direct, guint64 *bytes,
			 GError **err);

#endif
