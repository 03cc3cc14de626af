/* Where a run's time went, from /proc: see cpuacct.h.  Threads are
 * measured by schedstat (ns), processes and the host by clock ticks. */
#include "core/cpuacct.h"

#include "core/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A UML process tree is small; a chain deeper than this is not ours. */
#define MAX_DEPTH 64
/* What the threads and processes that ended inside the run are listed as. */
#define EXITED "exited in the run"
/* Threads below this in the interval are left out of the list. */
#define MIN_LISTED_S 0.0005

const char *vtb_cpu_group_name(enum vtb_cpu_group g)
{
	switch (g) {
	case VTB_CPU_VMM:
		return "vmm";
	case VTB_CPU_GUEST_USER:
		return "guest-user";
	case VTB_CPU_HELPER:
		return "helper";
	case VTB_CPU_VTBENCH:
		return "vtbench";
	default:
		return "other";
	}
}

gboolean vtb_parse_pid_stat(const char *buf, struct vtb_pstat *out)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long f[20];
	char *p, *end;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!open || !close || close < open || close[1] != ' ')
		return FALSE;
	n = MIN((size_t)(close - open - 1), sizeof(out->comm) - 1);
	memcpy(out->comm, open + 1, n);
	out->comm[n] = '\0';
	p = (char *)close + 2;
	if (!*p || *p == ' ')
		return FALSE;
	out->state = *p++;
	/* Fields 4..22 (ppid .. starttime), numbers; 3 is the state. */
	for (int i = 0; i < 19; i++) {
		if (*p != ' ')
			return FALSE;
		p++;
		errno = 0;
		f[i] = strtoull(p, &end, 10);
		if (end == p || errno)
			return FALSE;
		/* Fields that may be negative (priority, nice) are parsed
		 * through: only the ones used must be plain numbers. */
		p = end;
	}
	out->ppid = (pid_t)f[0];
	out->ticks = f[10] + f[11];
	out->cticks = f[12] + f[13];
	out->start = f[18];
	return TRUE;
}

gboolean vtb_parse_schedstat(const char *buf, guint64 *run_ns, guint64 *wait_ns)
{
	unsigned long long r, w, slices;
	char tail;

	if (sscanf(buf, "%llu %llu %llu%c", &r, &w, &slices, &tail) < 3)
		return FALSE;
	*run_ns = r;
	*wait_ns = w;
	return TRUE;
}

gboolean vtb_parse_proc_stat(const char *buf, struct vtb_hstat *out)
{
	unsigned long long v[8];

	memset(out, 0, sizeof(*out));
	if (strncmp(buf, "cpu ", 4) ||
	    sscanf(buf + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		return FALSE;
	out->user = v[0];
	out->nice = v[1];
	out->system = v[2];
	out->idle = v[3];
	out->iowait = v[4];
	out->irq = v[5];
	out->softirq = v[6];
	out->steal = v[7];
	return TRUE;
}

gint64 vtb_parse_status_kib(const char *buf, const char *key)
{
	size_t k = strlen(key);
	const char *p = buf;
	long long v;

	while (p && *p) {
		if (!strncmp(p, key, k) && p[k] == ':' &&
		    sscanf(p + k + 1, "%lld kB", &v) == 1 && v >= 0)
			return v;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* ---- snapshots ---- */

struct sproc {
	pid_t pid;
	struct vtb_pstat st;
	enum vtb_cpu_group group; /* OTHER: not followed */
	bool root;
	gint64 hwm_kib; /* roots only, else -1 */
	char name[64];	/* roots: their program's basename, or "" */
};

struct sthread {
	pid_t pid, tid;
	guint64 start;
	enum vtb_cpu_group group;
	char process[64];
	char name[64];
	guint64 ticks;
	guint64 run_ns, wait_ns;
	bool root_main; /* the main thread of a root process */
};

struct vtb_cpu_snap {
	const char *root; /* "/proc", or a copy of one (tests) */
	gint64 t_us;
	guint64 boot_ticks; /* CLOCK_BOOTTIME in ticks: starttime's clock */
	struct vtb_hstat host;
	bool host_ok;
	GArray *procs;	    /* struct sproc */
	GArray *threads;    /* struct sthread, of the followed processes */
	GHashTable *by_pid; /* pid -> index + 1 in procs */
};

static gboolean read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return FALSE;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return FALSE;
	buf[n] = '\0';
	return TRUE;
}

static struct sproc *snap_proc(const struct vtb_cpu_snap *s, pid_t pid)
{
	gpointer v = g_hash_table_lookup(s->by_pid, GINT_TO_POINTER(pid));

	return v ? &g_array_index(s->procs, struct sproc,
				  GPOINTER_TO_UINT(v) - 1)
		 : NULL;
}

/* The group of @p: its own as a root, or its nearest root ancestor's;
 * @tracer: the pid tracing it (UML's processes of guest user code). */
static enum vtb_cpu_group follow(const struct vtb_cpu_snap *s, struct sproc *p,
				 const struct vtb_cpu_root *roots, guint n,
				 bool *below_vmm, pid_t *vmm)
{
	pid_t pid = p->pid;

	*below_vmm = false;
	for (int depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
		struct sproc *q;

		for (guint i = 0; i < n; i++) {
			if (roots[i].pid != pid)
				continue;
			*below_vmm = depth > 0 && roots[i].group == VTB_CPU_VMM;
			*vmm = pid;
			return roots[i].group;
		}
		q = snap_proc(s, pid);
		if (!q)
			break;
		pid = q->st.ppid;
	}
	return VTB_CPU_OTHER;
}

static pid_t tracer_of(const struct vtb_cpu_snap *s, pid_t pid)
{
	char path[PATH_MAX], buf[4096];

	snprintf(path, sizeof(path), "%s/%d/status", s->root, (int)pid);
	return read_text(path, buf, sizeof(buf))
		       ? (pid_t)MAX(vtb_parse_status_kib(buf, "TracerPid"), 0)
		       : 0;
}

static gboolean program_of(const struct vtb_cpu_snap *s, pid_t pid, char *out,
			   size_t size)
{
	char path[PATH_MAX], buf[PATH_MAX];
	const char *slash;

	snprintf(path, sizeof(path), "%s/%d/cmdline", s->root, (int)pid);
	if (!read_text(path, buf, sizeof(buf)) || !*buf)
		return FALSE;
	slash = strrchr(buf, '/');
	g_strlcpy(out, slash ? slash + 1 : buf, size);
	return *out != '\0';
}

static gint64 hwm_of(const struct vtb_cpu_snap *s, pid_t pid)
{
	char path[PATH_MAX], buf[4096];

	snprintf(path, sizeof(path), "%s/%d/status", s->root, (int)pid);
	return read_text(path, buf, sizeof(buf))
		       ? vtb_parse_status_kib(buf, "VmHWM")
		       : -1;
}

static void snap_threads(struct vtb_cpu_snap *s, const struct sproc *p,
			 const char *process)
{
	char path[PATH_MAX], buf[1024];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/task", s->root, (int)p->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct sthread t = {.pid = p->pid, .group = p->group};
		struct vtb_pstat st;

		t.tid = (pid_t)atoi(e->d_name);
		if (t.tid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%d/task/%d/stat", s->root,
			 (int)p->pid, (int)t.tid);
		if (!read_text(path, buf, sizeof(buf)) ||
		    !vtb_parse_pid_stat(buf, &st))
			continue;
		t.start = st.start;
		t.ticks = st.ticks;
		t.root_main = p->root && t.tid == p->pid;
		/* A thread that never got a name of its own shares the
		 * process's: keep it apart from the main thread, which is
		 * named as its process is. */
		g_strlcpy(t.name,
			  t.tid == p->pid && !strcmp(st.comm, p->st.comm)
				  ? process
			  : t.tid != p->pid && !strcmp(st.comm, p->st.comm)
				  ? "unnamed thread"
				  : st.comm,
			  sizeof(t.name));
		g_strlcpy(t.process, process, sizeof(t.process));
		snprintf(path, sizeof(path), "%s/%d/task/%d/schedstat", s->root,
			 (int)p->pid, (int)t.tid);
		if (!read_text(path, buf, sizeof(buf)) ||
		    !vtb_parse_schedstat(buf, &t.run_ns, &t.wait_ns)) {
			/* No schedstat in this kernel: ticks, no wait. */
			t.run_ns = t.ticks * (1000000000ull /
					      (guint64)sysconf(_SC_CLK_TCK));
			t.wait_ns = 0;
		}
		g_array_append_val(s->threads, t);
	}
	closedir(d);
}

struct vtb_cpu_snap *vtb_cpu_snap_take(const struct vtb_cpu_root *roots,
				       guint n_roots)
{
	struct timespec ts;
	guint64 hz = (guint64)sysconf(_SC_CLK_TCK);

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return vtb_cpu_snap_read("/proc", g_get_monotonic_time(),
				 (guint64)ts.tv_sec * hz +
					 (guint64)ts.tv_nsec /
						 (1000000000ull / hz),
				 roots, n_roots);
}

struct vtb_cpu_snap *vtb_cpu_snap_read(const char *root, gint64 t_us,
				       guint64 boot_ticks,
				       const struct vtb_cpu_root *roots,
				       guint n_roots)
{
	struct vtb_cpu_snap *s = g_new0(struct vtb_cpu_snap, 1);
	char path[PATH_MAX], buf[2048];
	static char stat[65536];
	struct dirent *e;
	DIR *d;

	s->root = root;
	s->procs = g_array_new(FALSE, TRUE, sizeof(struct sproc));
	s->threads = g_array_new(FALSE, TRUE, sizeof(struct sthread));
	s->by_pid = g_hash_table_new(NULL, NULL);
	s->t_us = t_us;
	s->boot_ticks = boot_ticks;
	snprintf(path, sizeof(path), "%s/stat", root);
	s->host_ok = read_text(path, stat, sizeof(stat)) &&
		     vtb_parse_proc_stat(stat, &s->host);
	d = opendir(root);
	while (d && (e = readdir(d))) {
		struct sproc p = {.hwm_kib = -1};

		p.pid = (pid_t)atoi(e->d_name);
		if (p.pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%d/stat", root, (int)p.pid);
		if (!read_text(path, buf, sizeof(buf)) ||
		    !vtb_parse_pid_stat(buf, &p.st))
			continue;
		g_array_append_val(s->procs, p);
		g_hash_table_insert(s->by_pid, GINT_TO_POINTER(p.pid),
				    GUINT_TO_POINTER(s->procs->len));
	}
	if (d)
		closedir(d);
	for (guint i = 0; i < s->procs->len; i++) {
		struct sproc *p = &g_array_index(s->procs, struct sproc, i);
		const char *process = p->st.comm;
		bool below_vmm;
		pid_t vmm = 0;

		p->group = follow(s, p, roots, n_roots, &below_vmm, &vmm);
		if (p->group == VTB_CPU_OTHER)
			continue;
		for (guint r = 0; r < n_roots; r++)
			p->root = p->root || roots[r].pid == p->pid;
		if (below_vmm) {
			/* UML: a process it traces runs guest user code;
			 * one it does not is its own helper (I/O). */
			p->group = tracer_of(s, p->pid) == vmm
					   ? VTB_CPU_GUEST_USER
					   : VTB_CPU_VMM;
			process = p->group == VTB_CPU_GUEST_USER
					  ? "uml-userspace"
					  : "uml-helper";
		}
		if (p->root) {
			p->hwm_kib = hwm_of(s, p->pid);
			/* Its program's name, where comm is cut to 15. */
			if (program_of(s, p->pid, p->name, sizeof(p->name)))
				process = p->name;
		}
		snap_threads(s, p, process);
	}
	return s;
}

void vtb_cpu_snap_free(struct vtb_cpu_snap *s)
{
	if (!s)
		return;
	g_array_unref(s->procs);
	g_array_unref(s->threads);
	g_hash_table_unref(s->by_pid);
	g_free(s);
}

/* ---- the interval ---- */

static void thread_clear(gpointer p)
{
	struct vtb_cpu_thread *t = p;

	g_free(t->process);
	g_free(t->thread);
	g_free(t->name);
}

static void mem_clear(gpointer p)
{
	g_free(((struct vtb_cpu_mem *)p)->process);
}

void vtb_cpu_use_free(struct vtb_cpu_use *u)
{
	if (!u)
		return;
	if (u->threads)
		g_array_unref(u->threads);
	if (u->memory)
		g_array_unref(u->memory);
	g_free(u->verdict);
	g_free(u);
}

static const struct sthread *find_thread(const struct vtb_cpu_snap *s,
					 const struct sthread *t)
{
	for (guint i = 0; i < s->threads->len; i++) {
		const struct sthread *o =
			&g_array_index(s->threads, struct sthread, i);

		if (o->tid == t->tid && o->start == t->start)
			return o;
	}
	return NULL;
}

/* The same process in @s: same pid, same start (pids are reused). */
static const struct sproc *same_proc(const struct vtb_cpu_snap *s,
				     const struct sproc *p)
{
	const struct sproc *o = snap_proc(s, p->pid);

	return o && o->st.start == p->st.start ? o : NULL;
}

static void add_entry(GArray *list, enum vtb_cpu_group g, const char *process,
		      const char *name, bool guest, double cpu_s, double wait_s)
{
	for (guint i = 0; i < list->len; i++) {
		struct vtb_cpu_thread *t =
			&g_array_index(list, struct vtb_cpu_thread, i);

		if (t->group == g && !strcmp(t->process, process) &&
		    !strcmp(t->name, name)) {
			t->n++;
			t->cpu_s += cpu_s;
			t->wait_s += wait_s;
			return;
		}
	}
	struct vtb_cpu_thread t = {
		.group = g,
		.process = g_strdup(process),
		.name = g_strdup(name),
		.n = 1,
		.runs_guest = guest,
		.cpu_s = cpu_s,
		.wait_s = wait_s,
	};
	g_array_append_val(list, t);
}

static gint by_cpu(gconstpointer a, gconstpointer b)
{
	double x = ((const struct vtb_cpu_thread *)a)->cpu_s;
	double y = ((const struct vtb_cpu_thread *)b)->cpu_s;

	return (x < y) - (x > y);
}

/*
 * What the processes below @pid that ended between @a and @b had used at
 * @a: a parent's reaped-children time holds theirs, and their children's
 * (reaped by them), whole.  @kids: the group of the first one.
 */
static double gone_before(const struct vtb_cpu_snap *a,
			  const struct vtb_cpu_snap *b, pid_t pid, int depth,
			  enum vtb_cpu_group *kids, bool *kids_known)
{
	double sum = 0;

	if (depth >= MAX_DEPTH)
		return 0;
	for (guint j = 0; j < a->procs->len; j++) {
		const struct sproc *c =
			&g_array_index(a->procs, struct sproc, j);

		if (c->st.ppid != pid || same_proc(b, c))
			continue;
		sum += (double)(c->st.ticks + c->st.cticks) +
		       gone_before(a, b, c->pid, depth + 1, kids, kids_known);
		if (!*kids_known) {
			*kids = c->group;
			*kids_known = true;
		}
	}
	return sum;
}

/* A thread of @p at @a is gone at @b (the process's ticks then hold time
 * no thread shows; otherwise they differ from the threads' by rounding). */
static bool lost_thread(const struct vtb_cpu_snap *a,
			const struct vtb_cpu_snap *b, const struct sproc *p)
{
	for (guint i = 0; i < a->threads->len; i++) {
		const struct sthread *t =
			&g_array_index(a->threads, struct sthread, i);

		if (t->pid == p->pid && !find_thread(b, t))
			return true;
	}
	return false;
}

struct vtb_cpu_use *vtb_cpu_use_diff(const struct vtb_cpu_snap *a,
				     const struct vtb_cpu_snap *b)
{
	struct vtb_cpu_use *u = g_new0(struct vtb_cpu_use, 1);
	double tick = 1.0 / (double)sysconf(_SC_CLK_TCK);
	/* Per group: ticks of threads and processes that ended inside. */
	double gone[VTB_CPU_VTBENCH + 1] = {0};
	double threads_s = 0, other_reaped = 0;
	bool uml = false;
	GArray *list;
	guint keep = 0;

	u->wall_s = (b->t_us - a->t_us) / 1e6;
	u->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
	u->guest = (struct vtb_cpu_guest){-1, -1, -1, -1, -1, -1, -1};
	list = g_array_new(FALSE, TRUE, sizeof(struct vtb_cpu_thread));
	g_array_set_clear_func(list, thread_clear);
	u->threads = list;
	u->memory = g_array_new(FALSE, TRUE, sizeof(struct vtb_cpu_mem));
	g_array_set_clear_func(u->memory, mem_clear);

	/*
	 * Threads of the followed processes: what each did in between.  A
	 * VMM that traces processes of guest user code is UML: its main
	 * thread is the guest's kernel.  QEMU's vCPUs are named "CPU n/..".
	 */
	for (guint i = 0; i < b->threads->len && !uml; i++)
		uml = g_array_index(b->threads, struct sthread, i).group ==
		      VTB_CPU_GUEST_USER;
	for (guint i = 0; i < b->threads->len; i++) {
		const struct sthread *t =
			&g_array_index(b->threads, struct sthread, i);
		const struct sthread *o = find_thread(a, t);
		guint64 run = t->run_ns - (o ? MIN(o->run_ns, t->run_ns) : 0);
		guint64 wait =
			t->wait_ns - (o ? MIN(o->wait_ns, t->wait_ns) : 0);

		add_entry(list, t->group, t->process, t->name,
			  t->group == VTB_CPU_GUEST_USER ||
				  (t->group == VTB_CPU_VMM &&
				   (g_str_has_prefix(t->name, "CPU ") ||
				    (uml && t->root_main))),
			  run / 1e9, wait / 1e9);
	}

	/*
	 * What the lists cannot show: threads that exited inside (the
	 * process's ticks count them, its threads' do not), and processes
	 * that ended inside (their parent's reaped children's ticks, less
	 * what they had already used at @a).
	 */
	for (guint i = 0; i < b->procs->len; i++) {
		const struct sproc *p =
			&g_array_index(b->procs, struct sproc, i);
		const struct sproc *o = same_proc(a, p);
		double own = 0, reaped, before = 0;
		enum vtb_cpu_group kids = VTB_CPU_OTHER;
		bool kids_known = false;

		if (!o) {
			/* Started inside: all of it is the interval's.  One
			 * older that @a missed is left out, not counted for
			 * its whole life. */
			if (p->group == VTB_CPU_OTHER &&
			    p->st.start + 1 >= a->boot_ticks)
				u->other_s +=
					(p->st.ticks + p->st.cticks) * tick;
			continue;
		}
		if (p->group != VTB_CPU_OTHER && lost_thread(a, b, p)) {
			guint64 thr = 0;

			for (guint j = 0; j < b->threads->len; j++) {
				const struct sthread *t = &g_array_index(
					b->threads, struct sthread, j);
				const struct sthread *to;

				if (t->pid != p->pid)
					continue;
				to = find_thread(a, t);
				thr += t->ticks -
				       (to ? MIN(to->ticks, t->ticks) : 0);
			}
			own = (double)(p->st.ticks -
				       MIN(o->st.ticks, p->st.ticks)) -
			      (double)thr;
			if (own > 0)
				gone[p->group] += own * tick;
		} else if (p->group == VTB_CPU_OTHER) {
			u->other_s +=
				(p->st.ticks - MIN(o->st.ticks, p->st.ticks)) *
				tick;
		}
		/*
		 * Children it reaped in between, less their time before.
		 * The host's other processes are summed as a whole below:
		 * an orphan is reaped by init, not by the parent it had.
		 */
		if (p->group == VTB_CPU_OTHER) {
			other_reaped +=
				(double)(p->st.cticks -
					 MIN(o->st.cticks, p->st.cticks));
			continue;
		}
		before = gone_before(a, b, p->pid, 0, &kids, &kids_known);
		if (!kids_known)
			kids = p->group == VTB_CPU_VMM ? VTB_CPU_GUEST_USER
						       : p->group;
		reaped = (double)(p->st.cticks -
				  MIN(o->st.cticks, p->st.cticks)) -
			 before;
		if (reaped <= 0)
			continue;
		if (kids == VTB_CPU_OTHER)
			u->other_s += reaped * tick;
		else
			gone[kids] += reaped * tick;
	}
	/* Each process of the host's others that ended: what it had used
	 * at @a is in its reaper's count too, whoever that was. */
	for (guint j = 0; j < a->procs->len; j++) {
		const struct sproc *c =
			&g_array_index(a->procs, struct sproc, j);

		if (c->group == VTB_CPU_OTHER && !same_proc(b, c))
			other_reaped -= (double)(c->st.ticks + c->st.cticks);
	}
	if (other_reaped > 0)
		u->other_s += other_reaped * tick;
	for (int g = VTB_CPU_VMM; g <= VTB_CPU_VTBENCH; g++)
		if (gone[g] > 0)
			add_entry(list, g,
				  g == VTB_CPU_GUEST_USER ? "uml-userspace"
							  : "(exited)",
				  EXITED, g == VTB_CPU_GUEST_USER, gone[g], 0);

	/* Names as read, busiest first, the idle ones left out. */
	g_array_sort(list, by_cpu);
	for (guint i = 0; i < list->len; i++) {
		struct vtb_cpu_thread *t =
			&g_array_index(list, struct vtb_cpu_thread, i);

		threads_s += t->cpu_s;
		if (t->cpu_s < MIN_LISTED_S && t->wait_s < MIN_LISTED_S) {
			thread_clear(t);
			continue;
		}
		if (!strcmp(t->name, EXITED))
			t->thread = g_strdup(EXITED);
		else if (t->group == VTB_CPU_GUEST_USER)
			t->thread = g_strdup_printf("%d process%s", t->n,
						    t->n == 1 ? "" : "es");
		else if (t->n > 1)
			t->thread = g_strdup_printf("%s (%d threads)", t->name,
						    t->n);
		else
			t->thread = g_strdup(t->name);
		g_array_index(list, struct vtb_cpu_thread, keep++) = *t;
	}
	g_array_set_clear_func(list, NULL);
	g_array_set_size(list, keep);
	g_array_set_clear_func(list, thread_clear);

	if (a->host_ok && b->host_ok) {
		const struct vtb_hstat *x = &a->host, *y = &b->host;

		u->idle_s =
			((y->idle - x->idle) + (y->iowait - x->iowait)) * tick;
		u->system_s = ((y->irq - x->irq) + (y->softirq - x->softirq) +
			       (y->steal - x->steal)) *
			      tick;
	}
	if (u->wall_s > 0 && u->cores > 0)
		u->accounted_pct =
			100 *
			(threads_s + u->other_s + u->idle_s + u->system_s) /
			(u->wall_s * u->cores);

	for (guint i = 0; i < b->procs->len; i++) {
		const struct sproc *p =
			&g_array_index(b->procs, struct sproc, i);
		struct vtb_cpu_mem m;

		if (!p->root || p->hwm_kib < 0)
			continue;
		m.group = p->group;
		m.process = g_strdup(*p->name ? p->name : p->st.comm);
		m.hwm_kib = p->hwm_kib;
		g_array_append_val(u->memory, m);
	}
	return u;
}

/* ---- the verdict ---- */

/* At or above this a thread (or a helper's threads together) bounds the
 * run; below the other mark nothing is busy. */
#define BOUND_PCT 75.0
#define IDLE_PCT 20.0
#define GUEST_BUSY_PCT 90.0
/* Run-queue wait worth a mention: the host's CPUs were short. */
#define WAIT_PCT 10.0

static bool runs_guest(const struct vtb_cpu_thread *t)
{
	return t->runs_guest;
}

static double pct(const struct vtb_cpu_use *u, double s)
{
	return u->wall_s > 0 ? 100 * s / u->wall_s : 0;
}

/* "qemu-system-x86 main thread", "CPU 0/TCG", "qemu-storage-daemon's
 * unnamed thread (5 threads)", "vtbench's vhost-console". */
static char *label(const struct vtb_cpu_thread *t)
{
	if (t->group == VTB_CPU_GUEST_USER)
		return g_strdup_printf("uml-userspace (%s)", t->thread);
	if (t->group == VTB_CPU_VTBENCH)
		return strcmp(t->thread, t->process)
			       ? g_strdup_printf("vtbench's %s", t->thread)
			       : g_strdup("vtbench");
	if (!strcmp(t->name, t->process) && t->n == 1)
		return g_strdup_printf("%s main thread", t->process);
	if (t->runs_guest)
		return g_strdup(t->thread);
	return g_strdup_printf("%s's %s", t->process, t->thread);
}

char *vtb_cpu_verdict(const struct vtb_cpu_use *u)
{
	const struct vtb_cpu_thread *top = NULL;
	double guest_s = 0, helper_s = 0, wait_s = 0;
	const char *helper = NULL;
	int helper_n = 0;
	g_autofree char *top_label = NULL;
	g_autofree char *busy = NULL;

	if (!u->threads || !u->threads->len || u->wall_s <= 0)
		return g_strdup("unknown: no thread of the guest was seen");
	top = &g_array_index(u->threads, struct vtb_cpu_thread, 0);
	top_label = label(top);
	for (guint i = 0; i < u->threads->len; i++)
		wait_s += g_array_index(u->threads, struct vtb_cpu_thread, i)
				  .wait_s;
	if (u->guest.busy_pct >= 0 && pct(u, wait_s) >= WAIT_PCT)
		busy = g_strdup_printf(" (guest %.0f %% busy; threads waited "
				       "%.0f %% for a host CPU)",
				       u->guest.busy_pct, pct(u, wait_s));
	else if (u->guest.busy_pct >= 0)
		busy = g_strdup_printf(" (guest %.0f %% busy)",
				       u->guest.busy_pct);
	else if (pct(u, wait_s) >= WAIT_PCT)
		busy = g_strdup_printf(" (threads waited %.0f %% for a host "
				       "CPU)",
				       pct(u, wait_s));
	else
		busy = g_strdup("");
	for (guint i = 0; i < u->threads->len; i++) {
		const struct vtb_cpu_thread *t =
			&g_array_index(u->threads, struct vtb_cpu_thread, i);

		if (runs_guest(t))
			guest_s += t->cpu_s;
		/* The busiest helper daemon, all its threads together. */
		if (t->group == VTB_CPU_HELPER &&
		    (!helper || !strcmp(helper, t->process))) {
			helper = t->process;
			helper_s += t->cpu_s;
			if (pct(u, t->cpu_s) >= 1)
				helper_n += t->n;
		}
	}
	if (pct(u, top->cpu_s) < IDLE_PCT && pct(u, helper_s) < IDLE_PCT)
		return g_strdup_printf("waiting: every thread < %.0f %%",
				       IDLE_PCT);
	if (helper && pct(u, helper_s) >= BOUND_PCT && helper_s >= top->cpu_s)
		return g_strdup_printf("helper-bound: %s %d thread%s %.0f %%",
				       helper, MAX(helper_n, 1),
				       helper_n > 1 ? "s" : "",
				       pct(u, helper_s));
	/* A guest busy all the time is bound by its CPU even when its
	 * threads waited for the host's (a shared host). */
	if (pct(u, top->cpu_s) >= BOUND_PCT ||
	    (runs_guest(top) && (pct(u, guest_s) >= BOUND_PCT ||
				 u->guest.busy_pct >= GUEST_BUSY_PCT))) {
		if (runs_guest(top)) {
			if (guest_s > top->cpu_s * 1.1)
				return g_strdup_printf(
					"guest-CPU-bound: %s %.0f %%, all the "
					"guest's threads %.0f %%%s",
					top_label, pct(u, top->cpu_s),
					pct(u, guest_s), busy);
			return g_strdup_printf("guest-CPU-bound: %s %.0f %%%s",
					       top_label, pct(u, top->cpu_s),
					       busy);
		}
		switch (top->group) {
		case VTB_CPU_VMM:
			return g_strdup_printf("VMM-bound: %s %.0f %%%s",
					       top_label, pct(u, top->cpu_s),
					       busy);
		case VTB_CPU_VTBENCH:
			/* Its vhost-user back-ends are threads of its own. */
			if (g_str_has_prefix(top->name, "vhost"))
				return g_strdup_printf(
					"helper-bound: %s %.0f %%%s", top_label,
					pct(u, top->cpu_s), busy);
			return g_strdup_printf("sender-bound: %s %.0f %%%s",
					       top_label, pct(u, top->cpu_s),
					       busy);
		default:
			return g_strdup_printf("helper-bound: %s %.0f %%",
					       top_label, pct(u, top->cpu_s));
		}
	}
	if (u->threads->len > 1) {
		const struct vtb_cpu_thread *next =
			&g_array_index(u->threads, struct vtb_cpu_thread, 1);
		g_autofree char *next_label = label(next);

		return g_strdup_printf("mixed: %s %.0f %%, %s %.0f %%%s",
				       top_label, pct(u, top->cpu_s),
				       next_label, pct(u, next->cpu_s), busy);
	}
	return g_strdup_printf("mixed: %s %.0f %%%s", top_label,
			       pct(u, top->cpu_s), busy);
}

/* ---- the results ---- */

void vtb_cpu_use_to_json(const struct vtb_cpu_use *u, JsonBuilder *b)
{
	const struct vtb_cpu_guest *g = &u->guest;

	json_builder_begin_object(b);
	vtb_json_num(b, "wall_s", u->wall_s);
	vtb_json_int(b, "cores", u->cores);
	json_builder_set_member_name(b, "threads");
	json_builder_begin_array(b);
	for (guint i = 0; i < u->threads->len; i++) {
		const struct vtb_cpu_thread *t =
			&g_array_index(u->threads, struct vtb_cpu_thread, i);

		json_builder_begin_object(b);
		vtb_json_str(b, "group", vtb_cpu_group_name(t->group));
		vtb_json_str(b, "process", t->process);
		vtb_json_str(b, "thread", t->thread);
		vtb_json_int(b, "n", t->n);
		vtb_json_bool(b, "runs_guest", t->runs_guest);
		vtb_json_num(b, "cpu_s", t->cpu_s);
		vtb_json_num(b, "wait_s", t->wait_s);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	vtb_json_num(b, "other_s", u->other_s);
	vtb_json_num(b, "idle_s", u->idle_s);
	vtb_json_num(b, "system_s", u->system_s);
	vtb_json_num(b, "accounted_pct", u->accounted_pct);
	json_builder_set_member_name(b, "guest");
	json_builder_begin_object(b);
	if (g->busy_pct >= 0) {
		vtb_json_num(b, "busy_pct", g->busy_pct);
		vtb_json_num(b, "iowait_pct", g->iowait_pct);
		vtb_json_num(b, "steal_pct", g->steal_pct);
		vtb_json_num(b, "idle_pct", g->idle_pct);
		vtb_json_int(b, "ctxt", g->ctxt);
		vtb_json_int(b, "intr", g->intr);
	}
	if (g->mem_used_kib >= 0)
		vtb_json_int(b, "mem_used_kib", g->mem_used_kib);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "memory");
	json_builder_begin_array(b);
	for (guint i = 0; i < u->memory->len; i++) {
		const struct vtb_cpu_mem *m =
			&g_array_index(u->memory, struct vtb_cpu_mem, i);

		json_builder_begin_object(b);
		vtb_json_str(b, "group", vtb_cpu_group_name(m->group));
		vtb_json_str(b, "process", m->process);
		vtb_json_int(b, "hwm_kib", m->hwm_kib);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	vtb_json_str(b, "verdict", u->verdict);
	json_builder_end_object(b);
}

static double jnum(JsonObject *o, const char *k, double dflt)
{
	JsonNode *n = o ? json_object_get_member(o, k) : NULL;

	return n && JSON_NODE_HOLDS_VALUE(n) &&
			       json_node_get_value_type(n) != G_TYPE_STRING &&
			       json_node_get_value_type(n) != G_TYPE_BOOLEAN
		       ? json_node_get_double(n)
		       : dflt;
}

static char *jstr(JsonObject *o, const char *k)
{
	JsonNode *n = o ? json_object_get_member(o, k) : NULL;

	return n && JSON_NODE_HOLDS_VALUE(n) &&
			       json_node_get_value_type(n) == G_TYPE_STRING
		       ? g_strdup(json_node_get_string(n))
		       : NULL;
}

static bool jbool(JsonObject *o, const char *k)
{
	JsonNode *n = o ? json_object_get_member(o, k) : NULL;

	return n && JSON_NODE_HOLDS_VALUE(n) &&
	       json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
	       json_node_get_boolean(n);
}

static enum vtb_cpu_group group_of(const char *name)
{
	for (int g = VTB_CPU_OTHER; g <= VTB_CPU_VTBENCH; g++)
		if (name && !strcmp(name, vtb_cpu_group_name(g)))
			return g;
	return VTB_CPU_OTHER;
}

struct vtb_cpu_use *vtb_cpu_use_from_json(JsonObject *o)
{
	struct vtb_cpu_use *u = g_new0(struct vtb_cpu_use, 1);
	JsonNode *n;
	JsonObject *g;

	u->wall_s = jnum(o, "wall_s", 0);
	u->cores = (int)jnum(o, "cores", 0);
	u->other_s = jnum(o, "other_s", 0);
	u->idle_s = jnum(o, "idle_s", 0);
	u->system_s = jnum(o, "system_s", 0);
	u->accounted_pct = jnum(o, "accounted_pct", 0);
	u->verdict = jstr(o, "verdict");
	u->threads = g_array_new(FALSE, TRUE, sizeof(struct vtb_cpu_thread));
	g_array_set_clear_func(u->threads, thread_clear);
	u->memory = g_array_new(FALSE, TRUE, sizeof(struct vtb_cpu_mem));
	g_array_set_clear_func(u->memory, mem_clear);
	n = json_object_get_member(o, "threads");
	for (guint i = 0; n && JSON_NODE_HOLDS_ARRAY(n) &&
			  i < json_array_get_length(json_node_get_array(n));
	     i++) {
		JsonNode *e = json_array_get_element(json_node_get_array(n), i);
		JsonObject *t = JSON_NODE_HOLDS_OBJECT(e)
					? json_node_get_object(e)
					: NULL;
		g_autofree char *group = jstr(t, "group");
		struct vtb_cpu_thread x = {
			.group = group_of(group),
			.process = jstr(t, "process"),
			.thread = jstr(t, "thread"),
			.n = (int)jnum(t, "n", 1),
			.runs_guest = jbool(t, "runs_guest"),
			.cpu_s = jnum(t, "cpu_s", 0),
			.wait_s = jnum(t, "wait_s", 0),
		};

		if (!t || !x.process || !x.thread) {
			g_free(x.process);
			g_free(x.thread);
			continue;
		}
		x.name = g_strdup(x.thread);
		g_array_append_val(u->threads, x);
	}
	n = json_object_get_member(o, "memory");
	for (guint i = 0; n && JSON_NODE_HOLDS_ARRAY(n) &&
			  i < json_array_get_length(json_node_get_array(n));
	     i++) {
		JsonNode *e = json_array_get_element(json_node_get_array(n), i);
		JsonObject *m = JSON_NODE_HOLDS_OBJECT(e)
					? json_node_get_object(e)
					: NULL;
		g_autofree char *group = jstr(m, "group");
		struct vtb_cpu_mem x = {.group = group_of(group),
					.process = jstr(m, "process"),
					.hwm_kib =
						(gint64)jnum(m, "hwm_kib", -1)};

		if (x.process)
			g_array_append_val(u->memory, x);
	}
	n = json_object_get_member(o, "guest");
	g = n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
	u->guest.busy_pct = jnum(g, "busy_pct", -1);
	u->guest.iowait_pct = jnum(g, "iowait_pct", -1);
	u->guest.steal_pct = jnum(g, "steal_pct", -1);
	u->guest.idle_pct = jnum(g, "idle_pct", -1);
	u->guest.ctxt = (gint64)jnum(g, "ctxt", -1);
	u->guest.intr = (gint64)jnum(g, "intr", -1);
	u->guest.mem_used_kib = (gint64)jnum(g, "mem_used_kib", -1);
	return u;
}
