/* vtbench guest agent: PID 1 of the appliance, runs workloads for the host. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY /* for a static XXH3_state_t: no malloc */
/* Under TCG every SIMD instruction is emulated: the scalar XXH3 is the
 * faster one there (measured), and gives the same hash. */
#define XXH_INLINE_ALL
#define XXH_VECTOR 0 /* XXH_SCALAR */
#include <xxhash.h>

#include "proto/proto.h"

#define AGENT_VERSION "0.1"
#define MODULES_DIR "/vtb/modules"
#define CTL_WAIT_NS (10 * 1000000000ull)
#define CTL_POLL_NS (5 * 1000000l)
#define DEFAULT_BLOCK (1u << 20)
#define MAX_BLOCK (8u << 20)

#define NORETURN __attribute__((noreturn))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

static int ctl_fd = -1;
static int off_how = RB_POWER_OFF;
static int debug;

/* Data goes straight from read() to here; one buffer, never reallocated. */
static uint8_t iobuf[MAX_BLOCK] __attribute__((aligned(4096)));
static XXH3_state_t hash_state;

/* The first thing that went wrong before the control channel was open. */
static struct {
	int set;
	int err;
	char step[VTB_STR_SHORT];
	char detail[VTB_STR_LONG];
} early;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(long ns)
{
	struct timespec ts = {0, ns};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Best effort: the console may be missing, and nothing may depend on it. */
PRINTF(1, 2) static void logmsg(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "vtbench-agent: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to complain */
}

/* Copy @src into @dst of @size, truncated: strings in messages are bounded. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * virtio_console's read() hands over at most one receive buffer (a page)
 * per call, and its write() sends at most 32 KiB.  Its port has no
 * read_iter/write_iter, so the VFS calls ->read or ->write once per piece
 * of a readv/writev, for as long as each piece goes through whole: with
 * pieces of those sizes one system call moves every buffer there is.  On
 * UML a guest system call costs tens of microseconds, and one per page
 * capped the channel at the guest's syscall rate (68 MB/s upload; with
 * pieces, over 1 GB/s).  Everything else (ttys, pipes, files, block
 * devices) takes a readv/writev exactly as a read/write.
 */
#define READ_PIECE 4096u
#define WRITE_PIECE (32u << 10)
#define PIECES 256u

/* @len bytes at @buf as up to PIECES iovecs of @piece bytes; how many. */
static int pieces(struct iovec *iov, const uint8_t *buf, size_t len,
		  size_t piece)
{
	unsigned n = 0;

	while (len > 0 && n < PIECES) {
		size_t l = len < piece ? len : piece;

		iov[n].iov_base = (void *)buf;
		iov[n].iov_len = l;
		buf += l;
		len -= l;
		n++;
	}
	return (int)n;
}

/* One read(2) of up to @len bytes, in pieces. */
static ssize_t read_pieces(int fd, uint8_t *buf, size_t len)
{
	struct iovec iov[PIECES];

	if (len <= READ_PIECE)
		return read(fd, buf, len);
	return readv(fd, iov, pieces(iov, buf, len, READ_PIECE));
}

/* One write(2) of up to @len bytes, in pieces. */
static ssize_t write_pieces(int fd, const uint8_t *buf, size_t len)
{
	struct iovec iov[PIECES];

	if (len <= WRITE_PIECE)
		return write(fd, buf, len);
	return writev(fd, iov, pieces(iov, buf, len, WRITE_PIECE));
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write_pieces(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until @want bytes, end of file or an error; *got says how many. */
static int read_full(int fd, uint8_t *buf, size_t want, size_t *got)
{
	*got = 0;
	while (*got < want) {
		ssize_t n = read_pieces(fd, buf + *got, want - *got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* ---- stopping ---- */

static void sshfs_stop(void);

NORETURN static void power_off(void)
{
	sshfs_stop();
	sync();
	reboot(off_how);
	logmsg("error: reboot: %s", strerror(errno));
	/* PID 1 must never exit: that would panic the guest. */
	for (;;)
		pause();
}

static int send_to(int fd, const struct vtb_msg *m);

/* Report @step failed to the host (if it can hear) and power off. */
NORETURN static void stop(int err, const char *step, const char *detail,
			  int log)
{
	struct vtb_msg m = {.type = VTB_MSG_ERROR};
	int fd = ctl_fd;

	if (log)
		logmsg("error: %s: %s (errno %d)", step, detail, err);
	if (fd >= 0) {
		/* No second ERROR if this one cannot be written either. */
		ctl_fd = -1;
		m.u.error.err = err;
		copy_str(m.u.error.step, sizeof(m.u.error.step), step);
		copy_str(m.u.error.detail, sizeof(m.u.error.detail), detail);
		send_to(fd, &m);
	}
	power_off();
}

NORETURN static void fail_with(int err, const char *step, const char *detail)
{
	stop(err, step, detail, 1);
}

/* Fail @step (printf-style) with @err, explained by strerror. */
PRINTF(2, 3) NORETURN static void fail(int err, const char *fmt, ...)
{
	char step[VTB_STR_SHORT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(step, sizeof(step), fmt, ap);
	va_end(ap);
	fail_with(err, step, err ? strerror(err) : "");
}

/*
 * Before the control channel is open an error cannot be reported yet; keep
 * the first one, carry on as far as possible, and report it once the host
 * can hear it.
 */
PRINTF(2, 3) static void note_early(int err, const char *fmt, ...)
{
	char step[VTB_STR_SHORT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(step, sizeof(step), fmt, ap);
	va_end(ap);
	logmsg("error: %s: %s (errno %d)", step, strerror(err), err);
	if (early.set)
		return;
	early.set = 1;
	early.err = err;
	copy_str(early.step, sizeof(early.step), step);
	copy_str(early.detail, sizeof(early.detail), strerror(err));
}

/* Already on the console when it happened. */
NORETURN static void fail_early(void)
{
	stop(early.err, early.step, early.detail, 0);
}

/*
 * A crash of PID 1 panics the kernel, which under QEMU without -no-reboot
 * would boot again; turn it into an orderly power-off instead.  Only
 * async-signal-safe calls here (vtb_msg_encode touches nothing shared).
 */
static void on_fatal_signal(int sig)
{
	static const char line[] = "vtbench-agent: error: fatal signal\n";
	static uint8_t buf[VTB_MSG_MAX];
	struct vtb_msg m = {.type = VTB_MSG_ERROR};
	int n;

	n = (int)write(STDERR_FILENO, line, sizeof(line) - 1);
	if (ctl_fd >= 0) {
		memcpy(m.u.error.step, "fatal signal", 13);
		m.u.error.detail[0] = (char)('0' + sig / 10 % 10);
		m.u.error.detail[1] = (char)('0' + sig % 10);
		n = vtb_msg_encode(&m, buf, sizeof(buf));
		if (n > 0)
			n = (int)write(ctl_fd, buf, (size_t)n);
	}
	sync();
	reboot(off_how);
	for (;;)
		pause();
}

static void catch_fatal_signals(void)
{
	static uint8_t altstack[64 * 1024];
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	struct sigaction sa;

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* ---- setup ---- */

/*
 * Without /dev/console in the initramfs fds 0-2 start closed, and the first
 * file we open would become "stderr": our log lines would then land in the
 * control channel.  Fill the gaps with something harmless.
 */
static void ensure_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		nfd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (nfd < 0)
			nfd = open("/dev/null", O_RDWR);
		if (nfd < 0)
			nfd = open("/", O_RDONLY | O_DIRECTORY);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

static void mount_fs(const char *type, const char *target)
{
	if (mkdir(target, 0755) < 0 && errno != EEXIST)
		note_early(errno, "mkdir %s", target);
	/* EBUSY: already there (UML may have mounted devtmpfs itself). */
	if (mount(type, target, type, MS_NOSUID, NULL) < 0 && errno != EBUSY)
		note_early(errno, "mount %s on %s", type, target);
}

/* Read a small file whole, NUL-terminated.  Returns its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	size_t got;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_full(fd, (uint8_t *)buf, size - 1, &got);
	close(fd);
	if (ret < 0)
		return ret;
	buf[got] = '\0';
	return (ssize_t)got;
}

struct cmdline {
	char ctl[256]; /* vtb.ctl= */
	/* vtb.fault=panic|crash:MS (the host's VTBENCH_TEST_FAULT): MS
	 * after HELLO, the kernel panics or the agent (PID 1) faults. */
	char fault[16];
	unsigned fault_ms;
};

/* Values with spaces or quotes are not supported: we choose the names. */
static void parse_cmdline(struct cmdline *cl)
{
	static char buf[4096];
	char *save = NULL, *tok;
	ssize_t n;

	memset(cl, 0, sizeof(*cl));
	n = read_small("/proc/cmdline", buf, sizeof(buf));
	if (n < 0) {
		note_early((int)-n, "read /proc/cmdline");
		return;
	}
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(tok, "vtb.ctl=", 8)) {
			copy_str(cl->ctl, sizeof(cl->ctl), tok + 8);
		} else if (!strcmp(tok, "vtb.off=poweroff")) {
			off_how = RB_POWER_OFF;
		} else if (!strcmp(tok, "vtb.off=reboot")) {
			off_how = RB_AUTOBOOT;
		} else if (!strncmp(tok, "vtb.off=", 8)) {
			logmsg("ignoring %s (poweroff or reboot)", tok);
		} else if (!strncmp(tok, "vtb.debug=", 10)) {
			debug = strcmp(tok + 10, "0") != 0;
		} else if (!strncmp(tok, "vtb.fault=", 10)) {
			char *colon = strchr(tok + 10, ':');

			if (colon) {
				*colon = 0;
				copy_str(cl->fault, sizeof(cl->fault),
					 tok + 10);
				cl->fault_ms =
					(unsigned)strtoul(colon + 1, NULL, 10);
			}
		}
	}
}

static int is_module(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 3 && !strcmp(d->d_name + n - 3, ".ko");
}

/* Plain byte order: the NN- prefixes encode the dependency order. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static unsigned load_modules(void)
{
	struct dirent **list;
	unsigned loaded = 0;
	int n;

	n = scandir(MODULES_DIR, &list, is_module, by_name);
	if (n < 0) {
		if (errno != ENOENT)
			note_early(errno, "scandir " MODULES_DIR);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		char path[512];
		int fd;

		snprintf(path, sizeof(path), MODULES_DIR "/%s",
			 list[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			note_early(errno, "open %s", list[i]->d_name);
		} else if (syscall(SYS_finit_module, fd, "", 0) == 0) {
			loaded++;
			if (debug)
				logmsg("loaded %s", list[i]->d_name);
		} else if (errno != EEXIST) {
			note_early(errno, "finit_module %s", list[i]->d_name);
		}
		if (fd >= 0)
			close(fd);
		free(list[i]);
	}
	free(list);
	return loaded;
}

/*
 * Raw 8-bit line: no echo, no CR/LF translation, no signals.  The line is
 * virtual, so the speed only needs to be high; no CRTSCTS, since neither
 * UML's lines nor QEMU's socket-backed UART drive the modem lines.
 */
static int make_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return -errno;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(tcflag_t)(CRTSCTS | HUPCL);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	return 0;
}

/*
 * No udev in the guest, so no /dev/virtio-ports/NAME or by-id links: find
 * the entry of @dir whose @attr file holds @want, and use its kernel name
 * under /dev (vportXpY for a virtio port's name, vdX for a disk serial).
 */
static int find_by_attr(const char *dir, const char *attr, const char *want,
			char *dev, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char path[512], val[256];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, attr);
		n = read_small(path, val, sizeof(val));
		if (n <= 0)
			continue;
		if (val[n - 1] == '\n')
			val[n - 1] = '\0';
		if (!strcmp(val, want)) {
			snprintf(dev, size, "/dev/%s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

static int find_vport(const char *name, char *dev, size_t size)
{
	return find_by_attr("/sys/class/virtio-ports", "name", name, dev, size);
}

static int find_blk(const char *serial, char *dev, size_t size)
{
	return find_by_attr("/sys/block", "serial", serial, dev, size);
}

/*
 * vport:NAME, blk:SERIAL or a path, waiting up to 5 s for it to appear:
 * devices probed by a module may show up just after it loaded.
 */
static int resolve_dev(const char *spec, char *dev, size_t size)
{
	for (int i = 0; i < 1000; i++) {
		int found;

		if (!strncmp(spec, "vport:", 6))
			found = find_vport(spec + 6, dev, size);
		else if (!strncmp(spec, "blk:", 4))
			found = find_blk(spec + 4, dev, size);
		else {
			snprintf(dev, size, "%s", spec);
			found = access(dev, F_OK) == 0;
		}
		if (found)
			return 1;
		sleep_ns(5000000);
	}
	return 0;
}

/* Wait for the control device to appear and open it, or fail. */
static void open_control(const char *spec)
{
	uint64_t deadline = now_ns() + CTL_WAIT_NS;
	int is_vport = !strncmp(spec, "vport:", 6);
	const char *arg = strchr(spec, ':');
	char dev[300];
	int err = ENOENT;

	if (!*spec) {
		if (early.set)
			fail_early();
		fail_with(EINVAL, "vtb.ctl", "no vtb.ctl= on the command line");
	}
	if (!arg || (!is_vport && strncmp(spec, "tty:", 4)) || !arg[1]) {
		if (early.set)
			fail_early();
		fail_with(EINVAL, "vtb.ctl", "expected tty:PATH or vport:NAME");
	}
	arg++;
	copy_str(dev, sizeof(dev), arg);
	for (;;) {
		if (!is_vport || find_vport(arg, dev, sizeof(dev))) {
			int fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);

			if (fd >= 0) {
				ctl_fd = fd;
				break;
			}
			err = errno;
			/* Devices appear as drivers probe: retry these. */
			if (err != ENOENT && err != ENXIO && err != ENODEV)
				break;
		}
		if (now_ns() >= deadline) {
			err = ETIMEDOUT;
			break;
		}
		sleep_ns(CTL_POLL_NS);
	}
	if (ctl_fd < 0) {
		/* A failed module load is the likelier cause: report that. */
		if (early.set) {
			logmsg("error: open control channel %s: %s", spec,
			       strerror(err));
			fail_early();
		}
		if (err != ETIMEDOUT)
			fail(err, "open %s", dev);
		if (is_vport)
			fail_with(err, "find virtio port",
				  "no port with that name after 10 s");
		fail_with(err, "open control channel",
			  "no such device after 10 s");
	}
	if (isatty(ctl_fd)) {
		int ret = make_raw(ctl_fd);

		if (ret < 0)
			fail(-ret, "raw mode %s", dev);
	}
	if (debug)
		logmsg("control channel %s", dev);
}

/* ---- messages ---- */

/* Encode and write @m to @fd.  Returns 0 or -errno of the write. */
static int send_to(int fd, const struct vtb_msg *m)
{
	static uint8_t buf[VTB_MSG_MAX];
	int n;

	n = vtb_msg_encode(m, buf, sizeof(buf));
	if (n < 0) {
		/* Only a bug of ours can get here: say so, don't loop. */
		logmsg("error: encode %s: %s", vtb_msg_type_name(m->type),
		       strerror(-n));
		return 0;
	}
	if (debug)
		logmsg("send %s", vtb_msg_type_name(m->type));
	return write_all(fd, buf, (size_t)n);
}

/* On the control channel; if that is broken there is no one to serve. */
static void send_msg(const struct vtb_msg *m)
{
	int ret = send_to(ctl_fd, m);

	if (ret < 0)
		fail(-ret, "write control channel");
}

/* ---- injected faults (tests/campaign.sh) ---- */

static int fault_panic;
static volatile int *volatile fault_nowhere; /* NULL */

static void fault_fire(int sig)
{
	(void)sig;
	if (fault_panic) {
		int fd = open("/proc/sysrq-trigger", O_WRONLY);

		if (fd >= 0 && write(fd, "c", 1) == 1)
			for (;;)
				pause();
	}
	/* A real fault: PID 1 dies, and the kernel with it. */
	*fault_nowhere = 1;
}

static void fault_arm(const struct cmdline *cl)
{
	struct itimerval it = {{0, 0}, {0, 0}};

	if (!cl->fault[0])
		return;
	if (strcmp(cl->fault, "panic") && strcmp(cl->fault, "crash")) {
		logmsg("ignoring vtb.fault=%s (panic or crash)", cl->fault);
		return;
	}
	fault_panic = !strcmp(cl->fault, "panic");
	it.it_value.tv_sec = cl->fault_ms / 1000;
	it.it_value.tv_usec = (cl->fault_ms % 1000) * 1000;
	signal(SIGALRM, fault_fire);
	setitimer(ITIMER_REAL, &it, NULL);
	logmsg("vtb.fault: %s in %u ms", cl->fault, cl->fault_ms);
}

static void send_hello(uint64_t t_entry, uint64_t t_modules, unsigned loaded)
{
	struct vtb_msg m = {.type = VTB_MSG_HELLO};
	struct utsname u;

	m.u.hello.version = VTB_PROTO_VERSION;
	m.u.hello.t_entry_ns = t_entry;
	m.u.hello.t_modules_ns = t_modules;
	m.u.hello.modules_loaded = loaded;
	if (uname(&u) == 0)
		copy_str(m.u.hello.release, sizeof(m.u.hello.release),
			 u.release);
	copy_str(m.u.hello.agent_version, sizeof(m.u.hello.agent_version),
		 AGENT_VERSION);
	m.u.hello.t_hello_ns = now_ns();
	send_msg(&m);
}

static void send_simple(uint16_t type)
{
	struct vtb_msg m = {.type = type};

	send_msg(&m);
}

/* ---- workloads ---- */

/* The guest's CPU time (jiffies of all CPUs), context switches and
 * interrupts, from /proc/stat. */
struct cpu_times {
	uint64_t busy, iowait, steal, idle, total;
	uint64_t ctxt, intr;
};

static uint64_t stat_line(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static int cpu_times(struct cpu_times *c)
{
	/* The intr line has a count per IRQ: a few KiB. */
	static char buf[32768];
	uint64_t v[8] = {0};
	char *p;

	if (read_small("/proc/stat", buf, sizeof(buf)) < 0 ||
	    strncmp(buf, "cpu ", 4))
		return -1;
	p = buf + 4;
	/* user nice system idle iowait irq softirq steal (guest is in user) */
	for (int i = 0; i < 8; i++)
		v[i] = strtoull(p, &p, 10);
	c->total = 0;
	for (int i = 0; i < 8; i++)
		c->total += v[i];
	c->idle = v[3];
	c->iowait = v[4];
	c->steal = v[7];
	c->busy = c->total - v[3] - v[4] - v[7];
	c->ctxt = stat_line(buf, "\nctxt ");
	c->intr = stat_line(buf, "\nintr ");
	return 0;
}

static uint32_t permille(uint64_t part, uint64_t whole)
{
	return (uint32_t)(part * 1000 / whole);
}

/* MemTotal - MemAvailable, in KiB; 0 when unknown. */
static uint64_t mem_used_kib(void)
{
	char buf[4096];
	uint64_t total, avail;

	if (read_small("/proc/meminfo", buf, sizeof(buf)) < 0)
		return 0;
	total = stat_line(buf, "MemTotal:");
	avail = stat_line(buf, "\nMemAvailable:");
	return total > avail ? total - avail : 0;
}

/* Sleep @us microseconds, whatever signals come. */
static void sleep_us(uint64_t us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000),
			      .tv_nsec = (long)(us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct job {
	const struct vtb_run *run;
	struct vtb_result *res;
	size_t block;
	int hash;
	int in, out; /* data fds, -1 when unused */
	/* VTB_RUN_F_READBACK: the file read back, once it was. */
	int read_back;
	uint64_t back_bytes, back_hash;
	/* `in` is a tty: what its input queue held before the last read,
	 * and the most before any (VTB_RUN's idle_ms). */
	int in_tty;
	int tty_last, tty_peak;
};

PRINTF(3, 4) static void job_err(struct job *j, int err, const char *fmt, ...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	j->res->err = err;
	snprintf(j->res->detail, sizeof(j->res->detail), "%s: %s", what,
		 strerror(err));
}

/*
 * A virtio disk's write cache on, through its config space (virtio_blk's
 * cache_type): for a back-end that caches writes but reports write through
 * (qemu-storage-daemon 7.2), so the guest sends its flushes as it does
 * under QEMU's own device in the same cache mode.
 */
static int disk_cache_on(struct job *j, const char *dev)
{
	const char *base = strrchr(dev, '/');
	static const char wb[] = "write back\n";
	char path[400];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/sys/block/%s/cache_type",
		 base ? base + 1 : dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write_all(fd, wb, sizeof(wb) - 1) < 0) {
		job_err(j, errno, "turn on the write cache of %s (%s)", dev,
			path);
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* What RUN's `mount` put on VTB_MOUNT_DIR, until the next one. */
static int target_mounted;
/* The guest's sshfs serving VTB_MOUNT_DIR (VTB_MOUNT_SSHFS), 0: none. */
static pid_t sshfs_pid;
static int sshfs_mount(struct job *j);
static int sshfs_unmount(struct job *j);

/* The relay of a 9p mount over a virtio-console port (0: none). */
static pid_t relay_pid;

/*
 * The relay's loop, in a child: bytes both ways between the port and
 * the kernel's end of a socketpair, until the kernel lets go of it (the
 * unmount: EOF) or an end fails.
 */
static void relay_loop(int port, int sock)
{
	static char up[65536], down[65536]; /* port->sock, sock->port */
	size_t up_len = 0, up_off = 0, down_len = 0, down_off = 0;

	fcntl(port, F_SETFL, O_NONBLOCK);
	fcntl(sock, F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p[2] = {
			{port,
			 (short)((up_len ? 0 : POLLIN) |
				 (down_len ? POLLOUT : 0)),
			 0},
			{sock,
			 (short)((down_len ? 0 : POLLIN) |
				 (up_len ? POLLOUT : 0)),
			 0},
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		if (!up_len && (p[0].revents & (POLLIN | POLLHUP))) {
			n = read(port, up, sizeof(up));
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				_exit(1);
			up_len = n > 0 ? (size_t)n : 0;
			up_off = 0;
		}
		if (up_len) {
			n = write(sock, up + up_off, up_len - up_off);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				_exit(0);
			if (n > 0 && (up_off += (size_t)n) == up_len)
				up_len = 0;
		}
		if (!down_len && (p[1].revents & (POLLIN | POLLHUP))) {
			n = read(sock, down, sizeof(down));
			if (n == 0)
				_exit(0);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				_exit(0);
			down_len = n > 0 ? (size_t)n : 0;
			down_off = 0;
		}
		if (down_len) {
			n = write(port, down + down_off, down_len - down_off);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				_exit(1);
			if (n > 0 && (down_off += (size_t)n) == down_len)
				down_len = 0;
		}
	}
}

/* After the unmount: the relay sees EOF and goes; 5 s, then killed. */
static void relay_stop(void)
{
	int st;

	if (!relay_pid)
		return;
	for (int i = 0; i < 1000; i++) {
		if (waitpid(relay_pid, &st, WNOHANG) == relay_pid) {
			relay_pid = 0;
			return;
		}
		sleep_ns(5000000);
	}
	kill(relay_pid, SIGKILL);
	while (waitpid(relay_pid, &st, 0) < 0 && errno == EINTR)
		;
	relay_pid = 0;
}

/*
 * The fd the kernel's 9p gets for stream @fd.  A tty: itself.  A
 * virtio-console port: the kernel's end of a socketpair whose other end a
 * child relays to the port, since trans=fd reads and writes with
 * kernel_read/kernel_write, which since Linux 5.10 refuse a file without
 * read_iter/write_iter, as virtio_console's port is (EINVAL).  -1 with
 * the job's error.
 */
static int stream_for_9p(struct job *j, int fd, const char *dev)
{
	int sv[2];
	pid_t pid;

	if (isatty(fd))
		return make_raw(fd) < 0
			       ? (job_err(j, errno, "raw mode on %s", dev), -1)
			       : fd;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		job_err(j, errno, "socketpair to relay %s", dev);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		job_err(j, errno, "fork the relay of %s", dev);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		relay_loop(fd, sv[1]);
	}
	relay_pid = pid;
	close(sv[1]);
	return sv[0];
}

/*
 * 9P over a stream (VTB_MOUNT_FD_PREFIX): open it, a tty raw (9P is
 * binary), and hand it to the kernel as rfdno/wfdno; the mount holds its
 * own reference, so ours is closed either way.
 */
static int mount_fd(struct job *j)
{
	const struct vtb_run *run = j->run;
	const char *spec = run->mount + strlen(VTB_MOUNT_FD_PREFIX);
	char dev[300], opts[VTB_STR_LONG + 40];
	int fd, kfd = -1, ret = -1;

	if (!resolve_dev(spec, dev, sizeof(dev))) {
		job_err(j, ENOENT, "find the 9p stream %s", spec);
		return -1;
	}
	/* A port takes one opener: the last mount's reference goes just
	 * after its unmount returns. */
	for (int i = 0; i < 400; i++) {
		fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0 || errno != EBUSY)
			break;
		sleep_ns(5000000);
	}
	if (fd < 0) {
		job_err(j, errno, "open the 9p stream %s", dev);
		return -1;
	}
	kfd = stream_for_9p(j, fd, dev);
	if (kfd < 0)
		goto out;
	snprintf(opts, sizeof(opts), "%s%srfdno=%d,wfdno=%d", run->mount_opts,
		 run->mount_opts[0] ? "," : "", kfd, kfd);
	if (mkdir(VTB_MOUNT_DIR, 0755) < 0 && errno != EEXIST) {
		job_err(j, errno, "mkdir %s", VTB_MOUNT_DIR);
		goto out;
	}
	if (mount("vtb9p", VTB_MOUNT_DIR,
		  run->mount_fs[0] ? run->mount_fs : "9p", 0, opts) < 0) {
		job_err(j, errno, "mount 9p over %s on %s -o %s", dev,
			VTB_MOUNT_DIR, opts);
		goto out;
	}
	target_mounted = 1;
	ret = 0;
out:
	if (kfd >= 0 && kfd != fd)
		close(kfd);
	close(fd);
	if (ret < 0)
		relay_stop();
	return ret;
}

/*
 * The kernel's own line for VTB_MOUNT_DIR in /proc/self/mounts, the
 * mount point left out ("vtbfs 9p rw,...,msize=512000,trans=virtio"), into
 * @out: the options the kernel took, which may not be those asked for (a
 * transport's largest msize, say).  "" when it cannot be read.
 */
static void mount_line(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[1024];

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char src[256], dir[256], type[64], opts[700];

		/* The last line for it is the mount on top. */
		if (sscanf(line, "%255s %255s %63s %699s", src, dir, type,
			   opts) == 4 &&
		    !strcmp(dir, VTB_MOUNT_DIR)) {
			char all[sizeof(src) + sizeof(type) + sizeof(opts)];
			size_t n = (size_t)snprintf(
				all, sizeof(all), "%s %s %s", src, type, opts);

			/* Cut to @size, as a detail is. */
			n = n < size ? n : size - 1;
			memcpy(out, all, n);
			out[n] = 0;
		}
	}
	fclose(f);
}

/*
 * The run's write target: the last one unmounted (which writes it back),
 * this one mounted.  The host asks for it in a RUN of its own, before it
 * reads its counters, so neither lands in a timed run.
 */
static int mount_run(struct job *j)
{
	const struct vtb_run *run = j->run;
	const char *src = run->mount;
	char dev[300];

	if (target_mounted && sshfs_pid) {
		if (sshfs_unmount(j) < 0)
			return -1;
		target_mounted = 0;
	} else if (target_mounted) {
		if (umount(VTB_MOUNT_DIR) < 0) {
			job_err(j, errno, "unmount the last target from %s",
				VTB_MOUNT_DIR);
			return -1;
		}
		target_mounted = 0;
		relay_stop();
	}
	if (!strcmp(run->mount, VTB_MOUNT_NONE))
		return 0;
	if (!strcmp(run->mount_fs, VTB_MOUNT_SSHFS)) {
		if (mkdir(VTB_MOUNT_DIR, 0755) < 0 && errno != EEXIST) {
			job_err(j, errno, "mkdir %s", VTB_MOUNT_DIR);
			return -1;
		}
		if (sshfs_mount(j) < 0)
			return -1;
		target_mounted = 1;
		mount_line(j->res->detail, sizeof(j->res->detail));
		return 0;
	}
	if (!strncmp(run->mount, VTB_MOUNT_FD_PREFIX,
		     strlen(VTB_MOUNT_FD_PREFIX))) {
		if (mount_fd(j) < 0)
			return -1;
		mount_line(j->res->detail, sizeof(j->res->detail));
		return 0;
	}
	if (!strncmp(run->mount, VTB_MOUNT_FS_PREFIX,
		     strlen(VTB_MOUNT_FS_PREFIX))) {
		/* A filesystem without a disk: 9p's tag, "none" for hostfs. */
		src = run->mount + strlen(VTB_MOUNT_FS_PREFIX);
	} else {
		if (!resolve_dev(run->mount, dev, sizeof(dev))) {
			job_err(j, ENOENT, "find disk %s", run->mount);
			return -1;
		}
		if ((run->flags & VTB_RUN_F_MOUNT_WC) &&
		    disk_cache_on(j, dev) < 0)
			return -1;
		src = dev;
	}
	if (mkdir(VTB_MOUNT_DIR, 0755) < 0 && errno != EEXIST) {
		job_err(j, errno, "mkdir %s", VTB_MOUNT_DIR);
		return -1;
	}
	if (mount(src, VTB_MOUNT_DIR, run->mount_fs[0] ? run->mount_fs : "ext4",
		  0, run->mount_opts[0] ? run->mount_opts : NULL) < 0) {
		job_err(j, errno, "mount %s (%s) on %s -o %s", src,
			run->mount_fs, VTB_MOUNT_DIR,
			run->mount_opts[0] ? run->mount_opts : "defaults");
		return -1;
	}
	target_mounted = 1;
	mount_line(j->res->detail, sizeof(j->res->detail));
	return 0;
}

/* `path` may be vport:NAME: only the guest knows which node that port got. */
static int open_in(struct job *j, int flags)
{
	const struct vtb_run *run = j->run;
	char dev[300];
	struct stat st;

	if (!resolve_dev(run->path, dev, sizeof(dev))) {
		job_err(j, ENOENT, "find %s", run->path);
		return -1;
	}
	j->in = open(dev, flags | O_NOCTTY | O_CLOEXEC);
	if (j->in < 0) {
		job_err(j, errno, "open %s", dev);
		return -1;
	}
	/*
	 * A guest kept for several runs must read the device again, not
	 * its own page cache of the last run.  The last close of a block
	 * device drops that cache already; this makes sure of it should
	 * anything else keep the device open.
	 */
	if (fstat(j->in, &st) == 0 && S_ISBLK(st.st_mode) &&
	    ioctl(j->in, BLKFLSBUF) < 0) {
		job_err(j, errno, "drop the page cache of %s", dev);
		return -1;
	}
	if (run->flags & VTB_RUN_F_RAW_TTY) {
		int ret = make_raw(j->in);

		if (ret < 0) {
			job_err(j, -ret, "raw mode %s", run->path);
			return -1;
		}
	}
	j->in_tty = isatty(j->in);
	j->tty_last = j->tty_peak = 0;
	return 0;
}

/*
 * read_full() of `in`; from a tty with the RUN's idle_ms, also watch the
 * line: -ENOLINK when no byte came for that long, and what the tty's
 * input queue held before the last read (the n_tty buffer throttles the
 * line at VTB_TTY_THROTTLE_AT: with nothing else draining it, a throttle
 * between two reads shows at the next one).
 */
static int read_in(struct job *j, uint8_t *buf, size_t want, size_t *got)
{
	*got = 0;
	if (!j->in_tty || !j->run->idle_ms)
		return read_full(j->in, buf, want, got);
	while (*got < want) {
		struct pollfd pf = {.fd = j->in, .events = POLLIN};
		int q = 0, r = poll(&pf, 1, (int)j->run->idle_ms);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENOLINK;
		if (ioctl(j->in, TIOCINQ, &q) == 0) {
			j->tty_last = q;
			if (q > j->tty_peak)
				j->tty_peak = q;
		}
		n = read_pieces(j->in, buf + *got, want - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* The line went quiet (read_in's -ENOLINK): the RESULT says how. */
static void line_quiet(struct job *j, uint64_t done)
{
	struct vtb_result *r = j->res;

	r->err = ENOLINK;
	r->bytes = done;
	r->hash = (uint64_t)j->tty_peak;
	snprintf(r->detail, sizeof(r->detail),
		 "no byte on %s for %u ms after %llu of %llu bytes; its tty "
		 "input queue held %d bytes before the last read, at most %d "
		 "(the tty throttles the line at %u)",
		 j->run->path, j->run->idle_ms, (unsigned long long)done,
		 (unsigned long long)j->run->size, j->tty_last, j->tty_peak,
		 VTB_TTY_THROTTLE_AT);
}

static int open_out(struct job *j)
{
	j->out = open(j->run->path2, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0644);
	if (j->out < 0) {
		job_err(j, errno, "open %s", j->run->path2);
		return -1;
	}
	return 0;
}

/* fsync and close @path2; EINVAL/EROFS: a device with nothing to flush. */
static void finish_out(struct job *j)
{
	int fd = j->out;

	j->out = -1;
	if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS && !j->res->err)
		job_err(j, errno, "fsync %s", j->run->path2);
	if (close(fd) < 0 && !j->res->err)
		job_err(j, errno, "close %s", j->run->path2);
}

/*
 * SINK, COPY and ECHO: read `size` bytes from `path` in `block`-sized
 * pieces, hash them, and pass each piece on to @out (COPY: path2, ECHO:
 * back to path itself) when @out >= 0.
 */
static void pump(struct job *j, int out, const char *out_name)
{
	uint64_t size = j->run->size, done = 0;
	struct vtb_result *r = j->res;

	while (done < size) {
		size_t want = j->block, got;
		int ret;

		if ((j->run->flags & VTB_RUN_F_TEST_STALL) && done >= size / 2)
			for (;;)
				pause();

		if (size - done < want)
			want = (size_t)(size - done);
		/* The stall hook stops at exactly half, whatever the block. */
		if ((j->run->flags & VTB_RUN_F_TEST_STALL) &&
		    size / 2 - done < want)
			want = (size_t)(size / 2 - done);
		ret = read_in(j, iobuf, want, &got);
		if (j->hash)
			XXH3_64bits_update(&hash_state, iobuf, got);
		if (got && out >= 0) {
			int wret = write_all(out, iobuf, got);

			if (wret < 0) {
				r->bytes = done;
				job_err(j, -wret, "write %s", out_name);
				return;
			}
		}
		done += got;
		r->bytes = done;
		if (ret == -ENOLINK) {
			line_quiet(j, done);
			return;
		}
		if (ret < 0) {
			job_err(j, -ret, "read %s", j->run->path);
			return;
		}
		if (got < want) {
			r->err = EIO;
			snprintf(r->detail, sizeof(r->detail),
				 "EOF after %llu of %llu bytes",
				 (unsigned long long)done,
				 (unsigned long long)size);
			return;
		}
	}
}

/*
 * COPY with the read and the write overlapped: a reader thread fills a
 * ring of block-sized slots (and hashes them) while this thread writes
 * them out, so the channel can hide behind the disk.  Falls back to
 * pump() when the block is too big for the ring.
 */
#define RING_SLOTS 8

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *job;
	size_t len[RING_SLOTS];
	size_t slot_size;
	unsigned head, tail; /* filled / written, counting up */
	int done;	     /* reader finished */
	int err;	     /* reader's errno, or -1 for EOF */
	uint64_t bytes;	     /* read so far */
} ring = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void *ring_reader(void *arg)
{
	struct job *j = ring.job;
	uint64_t size = j->run->size, done = 0;

	while (done < size) {
		size_t want = ring.slot_size, got;
		uint8_t *buf;
		int ret;

		if ((j->run->flags & VTB_RUN_F_TEST_STALL) && done >= size / 2)
			for (;;)
				pause();
		pthread_mutex_lock(&ring.mu);
		while (ring.head - ring.tail == RING_SLOTS)
			pthread_cond_wait(&ring.cv, &ring.mu);
		buf = iobuf + (ring.head % RING_SLOTS) * ring.slot_size;
		pthread_mutex_unlock(&ring.mu);
		if (size - done < want)
			want = (size_t)(size - done);
		ret = read_in(j, buf, want, &got);
		if (j->hash)
			XXH3_64bits_update(&hash_state, buf, got);
		done += got;
		pthread_mutex_lock(&ring.mu);
		ring.len[ring.head % RING_SLOTS] = got;
		if (got)
			ring.head++;
		ring.bytes = done;
		if (ret < 0 || got < want)
			ring.err = ret < 0 ? -ret : -1;
		pthread_cond_broadcast(&ring.cv);
		pthread_mutex_unlock(&ring.mu);
		if (ring.err)
			break;
	}
	pthread_mutex_lock(&ring.mu);
	ring.done = 1;
	pthread_cond_broadcast(&ring.cv);
	pthread_mutex_unlock(&ring.mu);
	return arg;
}

static void pump_overlapped(struct job *j, int out, const char *out_name)
{
	struct vtb_result *r = j->res;
	uint64_t written = 0;
	int werr = 0;
	pthread_t th;

	if (j->block * RING_SLOTS > MAX_BLOCK) {
		pump(j, out, out_name);
		return;
	}
	ring.job = j;
	ring.slot_size = j->block;
	ring.head = ring.tail = 0;
	ring.done = ring.err = 0;
	ring.bytes = 0;
	if (pthread_create(&th, NULL, ring_reader, NULL) != 0) {
		pump(j, out, out_name);
		return;
	}
	for (;;) {
		uint8_t *buf;
		size_t len;

		pthread_mutex_lock(&ring.mu);
		while (ring.tail == ring.head && !ring.done)
			pthread_cond_wait(&ring.cv, &ring.mu);
		if (ring.tail == ring.head) {
			pthread_mutex_unlock(&ring.mu);
			break;
		}
		buf = iobuf + (ring.tail % RING_SLOTS) * ring.slot_size;
		len = ring.len[ring.tail % RING_SLOTS];
		pthread_mutex_unlock(&ring.mu);
		/* After a write error keep draining, so the reader ends. */
		if (!werr) {
			int ret = write_all(out, buf, len);

			if (ret < 0)
				werr = -ret;
			else
				written += len;
		}
		pthread_mutex_lock(&ring.mu);
		ring.tail++;
		pthread_cond_broadcast(&ring.cv);
		pthread_mutex_unlock(&ring.mu);
	}
	pthread_join(th, NULL);
	r->bytes = ring.bytes;
	if (werr) {
		r->bytes = written;
		job_err(j, werr, "write %s", out_name);
	} else if (ring.err == ENOLINK) {
		line_quiet(j, ring.bytes);
	} else if (ring.err > 0) {
		job_err(j, ring.err, "read %s", j->run->path);
	} else if (ring.err < 0) {
		r->err = EIO;
		snprintf(r->detail, sizeof(r->detail),
			 "EOF after %llu of %llu bytes",
			 (unsigned long long)ring.bytes,
			 (unsigned long long)j->run->size);
	}
}

/* GEN: the payload's bytes to path2; EMIT: to the stream at path. */
static void generate(struct job *j, int out, const char *out_name)
{
	const struct vtb_run *run = j->run;
	uint64_t done = 0;
	int random = run->flags & VTB_RUN_F_RANDOM;

	if (!random)
		memset(iobuf, 0, j->block);
	while (done < run->size) {
		size_t n = j->block;
		int ret;

		if (run->size - done < n)
			n = (size_t)(run->size - done);
		if (random)
			vtb_payload_fill(iobuf, n, done, run->seed);
		if (j->hash)
			XXH3_64bits_update(&hash_state, iobuf, n);
		ret = write_all(out, iobuf, n);
		if (ret < 0) {
			job_err(j, -ret, "write %s", out_name);
			return;
		}
		done += n;
		j->res->bytes = done;
	}
}

/* The host's READY on the control channel, in the middle of a run
 * (nothing else is sent to the guest then). */
static int wait_host_ready(struct job *j)
{
	uint8_t buf[VTB_MSG_MAX];
	size_t fill = 0;
	struct vtb_msg m;

	for (;;) {
		ssize_t n = read(ctl_fd, buf + fill, sizeof(buf) - fill);
		int used;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			job_err(j, n < 0 ? errno : EPIPE,
				"wait for the host's READY");
			return -1;
		}
		fill += (size_t)n;
		used = vtb_msg_decode(buf, fill, &m);
		if (used == 0)
			continue;
		if (used < 0 || m.type != VTB_MSG_READY) {
			job_err(j, EPROTO, "the host sent %s, not READY",
				used < 0 ? "garbage"
					 : vtb_msg_type_name(m.type));
			return -1;
		}
		return 0;
	}
}

/*
 * VTB_RUN_F_READBACK, after the timed part: READY, the host's READY, then
 * the file `path2` is read again past the guest's page cache (its pages
 * dropped) and hashed into j->back_hash.
 */
static void read_back(struct job *j)
{
	XXH3_state_t st;
	int fd, ret;

	if (!(j->run->flags & VTB_RUN_F_READBACK) || j->res->err)
		return;
	j->res->t_end_ns = now_ns();
	send_simple(VTB_MSG_READY);
	/* The host reads its counters first, then says go. */
	if (wait_host_ready(j) < 0)
		return;
	fd = open(j->run->path2, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		job_err(j, errno, "open %s to read it back", j->run->path2);
		return;
	}
	/* Clean after the fsync: DONTNEED drops them all. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	XXH3_64bits_reset(&st);
	for (;;) {
		size_t got;

		ret = read_full(fd, iobuf, j->block, &got);
		XXH3_64bits_update(&st, iobuf, got);
		j->back_bytes += got;
		if (ret < 0) {
			job_err(j, -ret, "read %s back", j->run->path2);
			break;
		}
		if (got < j->block)
			break;
	}
	close(fd);
	j->back_hash = XXH3_64bits_digest(&st);
	j->read_back = !j->res->err;
}

#define TOOLS_DIR "/tools"
#define UNTAR_ERR "/untar.err" /* tar's stderr, in the initramfs */

/* A tools disk @spec (ext2, read-only) on @dir, once per boot. */
static int mount_tools_on(struct job *j, const char *spec, const char *dir,
			  int *mounted)
{
	char dev[300];

	if (*mounted)
		return 0;
	if (!resolve_dev(spec, dev, sizeof(dev))) {
		job_err(j, ENOENT, "find the tools disk %s", spec);
		return -1;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		job_err(j, errno, "mkdir %s", dir);
		return -1;
	}
	/* Debian's kernels serve ext2 from the ext4 driver. */
	if (mount(dev, dir, "ext2", MS_RDONLY, NULL) < 0 &&
	    mount(dev, dir, "ext4", MS_RDONLY, NULL) < 0) {
		job_err(j, errno, "mount the tools disk %s on %s", dev, dir);
		return -1;
	}
	*mounted = 1;
	return 0;
}

/* The workload's tools disk (`path2`) on /tools. */
static int mount_tools(struct job *j)
{
	static int mounted;

	return mount_tools_on(j, j->run->path2, TOOLS_DIR, &mounted);
}

/* PT_INTERP of the ELF64 @path into @out; "" for a static binary. */
static int elf_interp(const char *path, char *out, size_t size)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	out[0] = '\0';
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64) {
		close(fd);
		return -ENOEXEC;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph),
			  (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
		    (ssize_t)sizeof(ph)) {
			ret = -ENOEXEC;
			break;
		}
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz >= size ||
		    pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) !=
			    (ssize_t)ph.p_filesz)
			ret = -ENOEXEC;
		else
			out[ph.p_filesz] = '\0';
		break;
	}
	close(fd);
	return ret;
}

static struct {
	uint64_t dirs, files, bytes;
} walked;

static int count_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)path;
	if (ftw->level == 0)
		return 0;
	if (flag == FTW_D)
		walked.dirs++;
	else if (S_ISREG(st->st_mode)) {
		walked.files++;
		walked.bytes += (uint64_t)st->st_size;
	}
	return 0;
}

/* The last line(s) of a tool's stderr @path, on one line, into @buf. */
static void err_tail(const char *path, char *buf, size_t size)
{
	char raw[200];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > 0)
		n = pread(fd, raw, sizeof(raw) - 1,
			  end > (off_t)sizeof(raw) - 1
				  ? end - (off_t)sizeof(raw) + 1
				  : 0);
	close(fd);
	if (n <= 0)
		return;
	raw[n] = '\0';
	while (n > 0 && raw[n - 1] == '\n')
		raw[--n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (raw[i] == '\n')
			raw[i] = '|';
	snprintf(buf, size, "%s", raw);
}

#define TOOL_MAX_ARGS 96

/*
 * Run the tools disk's bin/@name with the @nargs arguments @args, stdin
 * and stdout /dev/null, stderr into @err_path; its wait status in
 * *@status.  -1 with the job's error when it could not be run at all.
 */
/* Where a tools disk's program finds its loader and libraries. */
struct tool_cmd {
	char tool[64], interp[256], ld[300], lib[64];
};

/*
 * The start of an argv that runs the tools disk @dir's bin/@name: its own
 * loader, told where the libraries are (no ld.so.cache here), then the
 * program.  The count, or -1 with the job's error.
 */
static int tool_argv(struct job *j, const char *dir, const char *name,
		     struct tool_cmd *c, const char **argv)
{
	int n = 0, ret;

	snprintf(c->tool, sizeof(c->tool), "%s/bin/%s", dir, name);
	ret = elf_interp(c->tool, c->interp, sizeof(c->interp));
	if (ret < 0) {
		job_err(j, -ret, "read the interpreter of %s", c->tool);
		return -1;
	}
	if (c->interp[0]) {
		snprintf(c->ld, sizeof(c->ld), "%s%s", dir, c->interp);
		snprintf(c->lib, sizeof(c->lib), "%s/lib", dir);
		argv[n++] = c->ld;
		argv[n++] = "--library-path";
		argv[n++] = c->lib;
	}
	argv[n++] = c->tool;
	return n;
}

static int run_tool(struct job *j, const char *name, const char *const *args,
		    int nargs, const char *err_path, int *status)
{
	struct tool_cmd cmd;
	const char *argv[TOOL_MAX_ARGS + 8];
	const char *tool = cmd.tool;
	int n, efd;
	pid_t pid;

	if (nargs > TOOL_MAX_ARGS) {
		job_err(j, E2BIG, "%d arguments for %s (at most %d)", nargs,
			name, TOOL_MAX_ARGS);
		return -1;
	}
	n = tool_argv(j, TOOLS_DIR, name, &cmd, argv);
	if (n < 0)
		return -1;
	for (int i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid = fork();
	if (pid < 0) {
		job_err(j, errno, "fork for %s", tool);
		if (efd >= 0)
			close(efd);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		dup2(efd >= 0 ? efd : nul, 2);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (efd >= 0)
		close(efd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR) {
			job_err(j, errno, "wait for %s", tool);
			return -1;
		}
	return 0;
}

/* A tool that did not exit 0, in the job's error: @what and its stderr. */
static void tool_failed(struct job *j, const char *what, int status,
			const char *err_path)
{
	struct vtb_result *r = j->res;
	char tail[200];

	err_tail(err_path, tail, sizeof(tail));
	r->err = EIO;
	if (WIFEXITED(status))
		snprintf(r->detail, sizeof(r->detail),
			 "%s exited with status %d: %s", what,
			 WEXITSTATUS(status), tail[0] ? tail : "no message");
	else
		snprintf(r->detail, sizeof(r->detail),
			 "%s killed by signal %d: %s", what, WTERMSIG(status),
			 tail[0] ? tail : "no message");
}

#define SSHFS_TOOLS_DIR "/tools-fs"
#define SSHFS_ERR "/sshfs.err" /* sshfs's stderr, in the initramfs */
#define SSHFS_STOP_NS (10 * 1000000000ull)

/* Is a FUSE filesystem on VTB_MOUNT_DIR?  From /proc: a stat of the
 * mount point would wait for the server. */
static int fuse_mounted(void)
{
	static char buf[16384];
	char *line, *save = NULL;

	if (read_small("/proc/self/mounts", buf, sizeof(buf)) <= 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (sp && !strncmp(sp + 1, VTB_MOUNT_DIR " fuse",
				   strlen(VTB_MOUNT_DIR " fuse")))
			return 1;
	}
	return 0;
}

/* Bytes the stream still holds from the last mount's session: dropped,
 * or the new sshfs would read the old server's replies. */
static void drain(int fd)
{
	ssize_t n;

	if (isatty(fd))
		tcflush(fd, TCIOFLUSH);
	do
		n = read(fd, iobuf, sizeof(iobuf));
	while (n > 0 || (n < 0 && errno == EINTR));
}

/* Reap @pid by @deadline (CLOCK_BOOTTIME ns), else kill it. */
static void reap_by(pid_t pid, uint64_t deadline)
{
	int st;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return;
		if (now_ns() >= deadline)
			break;
		sleep_ns(10000000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/*
 * The guest's sshfs (VTB_MOUNT_SSHFS) on VTB_MOUNT_DIR: SFTP on the stream
 * `mount` as its stdin and stdout, the program from the tools disk
 * `path2`, its arguments `args`; until the mount is there, by
 * VTB_SSHFS_MOUNT_S.
 */
static int sshfs_mount(struct job *j)
{
	static int tools_mounted;
	const struct vtb_run *run = j->run;
	const char *argv[TOOL_MAX_ARGS + 8];
	char dev[300], args[VTB_STR_ARGS], tail[200], *save = NULL, *a;
	struct tool_cmd cmd;
	uint64_t deadline;
	int n, fd, efd, st;
	pid_t pid;

	if (mount_tools_on(j, run->path2, SSHFS_TOOLS_DIR, &tools_mounted) < 0)
		return -1;
	n = tool_argv(j, SSHFS_TOOLS_DIR, "sshfs", &cmd, argv);
	if (n < 0)
		return -1;
	snprintf(args, sizeof(args), "%s", run->args);
	for (a = strtok_r(args, " ", &save); a;
	     a = strtok_r(NULL, " ", &save)) {
		if (n >= TOOL_MAX_ARGS) {
			job_err(j, E2BIG, "sshfs's arguments (at most %d)",
				TOOL_MAX_ARGS);
			return -1;
		}
		argv[n++] = a;
	}
	argv[n++] = VTB_MOUNT_DIR;
	argv[n] = NULL;
	if (!resolve_dev(run->mount, dev, sizeof(dev))) {
		job_err(j, ENOENT, "find sshfs's stream %s", run->mount);
		return -1;
	}
	fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		job_err(j, errno, "open sshfs's stream %s", dev);
		return -1;
	}
	if ((run->flags & VTB_RUN_F_RAW_TTY) && (st = make_raw(fd)) < 0) {
		job_err(j, -st, "raw mode %s", dev);
		close(fd);
		return -1;
	}
	drain(fd);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	efd = open(SSHFS_ERR, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid = fork();
	if (pid < 0) {
		job_err(j, errno, "fork for sshfs");
		close(fd);
		if (efd >= 0)
			close(efd);
		return -1;
	}
	if (pid == 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (efd >= 0)
			dup2(efd, 2);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	if (efd >= 0)
		close(efd);
	deadline = now_ns() + VTB_SSHFS_MOUNT_S * 1000000000ull;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (fuse_mounted()) {
			sshfs_pid = pid;
			return 0;
		}
		if (w == pid) {
			tool_failed(j, "sshfs", st, SSHFS_ERR);
			return -1;
		}
		if (now_ns() >= deadline)
			break;
		sleep_ns(10000000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	err_tail(SSHFS_ERR, tail, sizeof(tail));
	j->res->err = ETIMEDOUT;
	snprintf(j->res->detail, sizeof(j->res->detail),
		 "sshfs did not mount %s within %d s: %s", VTB_MOUNT_DIR,
		 VTB_SSHFS_MOUNT_S, tail[0] ? tail : "no message");
	return -1;
}

/*
 * The sshfs mount gone and sshfs reaped (it exits once unmounted), by
 * SSHFS_STOP_NS, else killed.  A mount busy or whose server is gone is
 * detached.  -1 with the job's error (@j may be NULL: power-off).
 */
static int sshfs_unmount(struct job *j)
{
	uint64_t deadline = now_ns() + SSHFS_STOP_NS;
	int ret = 0;

	if (umount(VTB_MOUNT_DIR) < 0) {
		if (j)
			job_err(j, errno, "unmount sshfs from %s",
				VTB_MOUNT_DIR);
		ret = -1;
		umount2(VTB_MOUNT_DIR, MNT_DETACH);
	}
	reap_by(sshfs_pid, deadline);
	sshfs_pid = 0;
	return ret;
}

static void sshfs_stop(void)
{
	if (sshfs_pid)
		sshfs_unmount(NULL);
	target_mounted = 0;
}

/* Extract @tarball into VTB_UNTAR_DIR with the tools disk's tar. */
static int run_tar(struct job *j, const char *tarball, int *status)
{
	/* The article's command: tar -x --no-same-owner -f FILE. */
	const char *const args[] = {"-x", "--no-same-owner", "-f", tarball,
				    "-C", VTB_UNTAR_DIR};

	return run_tool(j, "tar", args, 6, UNTAR_ERR, status);
}

#define UNTAR_TARBALL VTB_UNTAR_DIR ".tar"

/*
 * The tarball copied from its disk next to where it is extracted (the
 * article's "tarball on the same filesystem"), and VTB_UNTAR_DIR made.
 */
static int stage_tarball(struct job *j)
{
	struct vtb_result *r = j->res;

	if (mount_tools(j) < 0 || open_in(j, O_RDONLY) < 0)
		return -1;
	j->out = open(UNTAR_TARBALL, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0644);
	if (j->out < 0) {
		job_err(j, errno, "open %s", UNTAR_TARBALL);
		return -1;
	}
	j->hash = 0;
	pump(j, j->out, UNTAR_TARBALL);
	if (r->err)
		return -1;
	if (fsync(j->out) < 0) {
		job_err(j, errno, "fsync %s", UNTAR_TARBALL);
		return -1;
	}
	close(j->out);
	j->out = -1;
	r->bytes = 0;
	if (mkdir(VTB_UNTAR_DIR, 0755) < 0) {
		job_err(j, errno, "mkdir %s", VTB_UNTAR_DIR);
		return -1;
	}
	return 0;
}

/*
 * UNTAR: the tarball staged before READY; the timed part is tar and the
 * sync, closed by a second READY; the tree's counts go back in RESULT.
 */
static void untar(struct job *j)
{
	struct vtb_result *r = j->res;
	int status = 0;

	if (stage_tarball(j) < 0)
		return;
	sync();
	send_simple(VTB_MSG_READY);
	r->t_start_ns = now_ns();
	if (run_tar(j, UNTAR_TARBALL, &status) == 0)
		sync();
	r->t_end_ns = now_ns();
	/* The end of the timed part, whatever tar made of it. */
	send_simple(VTB_MSG_READY);
	if (r->err)
		return;
	memset(&walked, 0, sizeof(walked));
	if (nftw(VTB_UNTAR_DIR, count_one, 32, FTW_PHYS) != 0) {
		job_err(j, errno, "walk %s", VTB_UNTAR_DIR);
		return;
	}
	r->bytes = walked.bytes;
	r->hash = walked.files | walked.dirs << 32;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		tool_failed(j, "tar", status, UNTAR_ERR);
}

/* ---- METADATA: the walk and removal of an extracted tree ---- */

/* Deeper than any source tree; each level holds a directory open. */
#define TREE_MAX_DEPTH 256

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The path of what a tree part works on, for its error. */
static char tree_path[4096];

static size_t tree_push(size_t at, const char *name)
{
	int n = snprintf(tree_path + at, sizeof(tree_path) - at, "/%s", name);

	return n < 0 || (size_t)n >= sizeof(tree_path) - at
		       ? sizeof(tree_path) - 1
		       : at + (size_t)n;
}

/* The directory @name in @dfd, opened to read (tree_path names it). */
static int open_dir_at(struct job *j, int dfd, const char *name)
{
	int fd = openat(dfd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		job_err(j, errno, "open %s", tree_path);
	return fd;
}

/*
 * The walk of what @dfd (a directory, consumed) holds, as find does: its
 * entries read and each one fstatat'ed, directories walked in turn.
 * *@n counts the entries; *@skip (a test hook) leaves one out.
 */
static int walk_tree(struct job *j, int dfd, size_t at, unsigned depth,
		     uint64_t *n, int *skip)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int ret = 0;

	if (!d) {
		job_err(j, errno, "read %s", tree_path);
		close(dfd);
		return -1;
	}
	if (depth > TREE_MAX_DEPTH) {
		job_err(j, ELOOP, "walk %s (deeper than %d)", tree_path,
			TREE_MAX_DEPTH);
		closedir(d);
		return -1;
	}
	while (ret == 0) {
		struct stat st;
		size_t sub;

		errno = 0;
		e = readdir(d);
		if (!e) {
			if (errno) {
				tree_path[at] = '\0';
				job_err(j, errno, "read %s", tree_path);
				ret = -1;
			}
			break;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = tree_push(at, e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
		    0) {
			job_err(j, errno, "stat %s", tree_path);
			ret = -1;
			break;
		}
		if (*skip)
			*skip = 0;
		else
			(*n)++;
		if (S_ISDIR(st.st_mode)) {
			int fd = open_dir_at(j, dirfd(d), e->d_name);

			ret = fd < 0 ? -1
				     : walk_tree(j, fd, sub, depth + 1, n,
						 skip);
		}
		tree_path[at] = '\0';
	}
	closedir(d);
	return ret;
}

/* The names a directory holds (not . and ..), NUL-separated, and whether
 * each is a directory (d_type, or an fstatat where the filesystem does
 * not say), read whole before anything is removed. */
struct names {
	char *buf;
	size_t len, cap;
};

static int names_add(struct names *nm, const char *name, char is_dir)
{
	size_t need = strlen(name) + 2;

	if (nm->len + need > nm->cap) {
		size_t cap = nm->cap ? nm->cap * 2 : 4096;
		char *b;

		while (cap < nm->len + need)
			cap *= 2;
		b = realloc(nm->buf, cap);
		if (!b)
			return -1;
		nm->buf = b;
		nm->cap = cap;
	}
	nm->buf[nm->len++] = is_dir;
	memcpy(nm->buf + nm->len, name, need - 1);
	nm->len += need - 1;
	return 0;
}

static int read_names(struct job *j, int dfd, struct names *nm)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;

	if (!d) {
		job_err(j, errno, "read %s", tree_path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (;;) {
		char is_dir;

		errno = 0;
		e = readdir(d);
		if (!e)
			break;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0) {
				job_err(j, errno, "stat %s/%s", tree_path,
					e->d_name);
				closedir(d);
				return -1;
			}
			is_dir = S_ISDIR(st.st_mode);
		} else {
			is_dir = e->d_type == DT_DIR;
		}
		if (names_add(nm, e->d_name, is_dir) < 0) {
			errno = ENOMEM;
			break;
		}
	}
	if (errno) {
		job_err(j, errno, "read %s", tree_path);
		closedir(d);
		return -1;
	}
	closedir(d);
	return 0;
}

/*
 * rm -rf of what @dfd (a directory, consumed) holds: each directory's
 * names read first, then every entry unlinked, a directory once emptied.
 * *@n counts the entries removed.
 */
static int rm_tree(struct job *j, int dfd, size_t at, unsigned depth,
		   uint64_t *n)
{
	struct names nm = {0};
	int ret = 0;

	if (depth > TREE_MAX_DEPTH) {
		job_err(j, ELOOP, "remove %s (deeper than %d)", tree_path,
			TREE_MAX_DEPTH);
		close(dfd);
		return -1;
	}
	if (read_names(j, dfd, &nm) < 0) {
		free(nm.buf);
		close(dfd);
		return -1;
	}
	for (size_t off = 0; off < nm.len && ret == 0;) {
		int is_dir = nm.buf[off];
		const char *name = nm.buf + off + 1;
		size_t sub = tree_push(at, name);

		off += strlen(name) + 2;
		if (is_dir) {
			int fd = open_dir_at(j, dfd, name);

			ret = fd < 0 ? -1 : rm_tree(j, fd, sub, depth + 1, n);
			if (ret < 0)
				break;
		}
		if (unlinkat(dfd, name, is_dir ? AT_REMOVEDIR : 0) < 0) {
			job_err(j, errno, "remove %s", tree_path);
			ret = -1;
			break;
		}
		(*n)++;
		tree_path[at] = '\0';
	}
	free(nm.buf);
	close(dfd);
	return ret;
}

/* The guest's caches dropped: the walk reads its filesystem again. */
static int drop_caches(struct job *j)
{
	static const char path[] = "/proc/sys/vm/drop_caches";
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0 || write_all(fd, "3\n", 2) < 0) {
		job_err(j, errno, "write 3 to %s", path);
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* One DATA of one line "PART N NS\n"; its bytes counted in RESULT. */
static void send_part(struct job *j, const char *part, uint64_t n, uint64_t ns)
{
	static struct vtb_msg m = {.type = VTB_MSG_DATA};
	int len =
		snprintf((char *)m.u.data.bytes, VTB_DATA_MAX, "%s %llu %llu\n",
			 part, (unsigned long long)n, (unsigned long long)ns);

	m.u.data.len = (uint16_t)len;
	send_msg(&m);
	j->res->bytes += (uint64_t)len;
}

static int open_extracted(struct job *j)
{
	int fd = open(VTB_UNTAR_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	copy_str(tree_path, sizeof(tree_path), VTB_UNTAR_DIR);
	if (fd < 0)
		job_err(j, errno, "open %s", VTB_UNTAR_DIR);
	return fd;
}

/*
 * METADATA: the tree extracted, the tarball removed and the caches
 * dropped before READY; then the walk and the removal, each timed by the
 * guest and reported in its line (proto.h).
 */
static void metadata(struct job *j)
{
	static struct vtb_msg m = {.type = VTB_MSG_DATA};
	struct vtb_result *r = j->res;
	uint64_t walked_n = 0, removed_n = 0, t0;
	size_t top = strlen(VTB_UNTAR_DIR);
	int status = 0, skip = !!(j->run->flags & VTB_RUN_F_TEST_SHORT), fd;

	if (stage_tarball(j) < 0 || run_tar(j, UNTAR_TARBALL, &status) < 0)
		return;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		tool_failed(j, "tar", status, UNTAR_ERR);
		return;
	}
	if (unlink(UNTAR_TARBALL) < 0) {
		job_err(j, errno, "remove %s", UNTAR_TARBALL);
		return;
	}
	sync();
	if (drop_caches(j) < 0)
		return;
	r->bytes = 0;
	send_simple(VTB_MSG_READY);
	r->t_start_ns = now_ns();
	t0 = mono_ns();
	fd = open_extracted(j);
	if (fd >= 0 && walk_tree(j, fd, top, 0, &walked_n, &skip) == 0) {
		send_part(j, "walk", walked_n, mono_ns() - t0);
		t0 = mono_ns();
		fd = open_extracted(j);
		if (fd >= 0 && rm_tree(j, fd, top, 0, &removed_n) == 0) {
			if (rmdir(VTB_UNTAR_DIR) < 0)
				job_err(j, errno, "remove %s", VTB_UNTAR_DIR);
			else {
				sync();
				send_part(j, "rm", removed_n, mono_ns() - t0);
			}
		}
	}
	r->t_end_ns = now_ns();
	m.u.data.len = 0;
	send_msg(&m);
	r->hash = walked_n | removed_n << 32;
}

#define FIO_OUT "/vtbfio.json" /* fio's output, in the initramfs */
#define FIO_ERR "/vtbfio.err"
#define DIRECT_PROBE VTB_MOUNT_DIR "/.vtb-direct-probe"

/*
 * Whether VTB_MOUNT_DIR takes O_DIRECT, as fio would use it: an aligned
 * 4 KiB write and read of a file of its own.  0 when it does, the errno
 * when it refuses (EINVAL, EOPNOTSUPP: tmpfs before Linux 6.6, FUSE
 * without direct I/O), -1 with the job's error for any other failure.
 */
static int direct_refused(struct job *j)
{
	int fd, e = 0;

	fd = open(DIRECT_PROBE,
		  O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
	} else {
		memset(iobuf, 0, 4096);
		if (pwrite(fd, iobuf, 4096, 0) != 4096)
			e = errno ? errno : EIO;
		else if (pread(fd, iobuf, 4096, 0) != 4096)
			e = errno ? errno : EIO;
		close(fd);
	}
	unlink(DIRECT_PROBE);
	if (e == EINVAL || e == EOPNOTSUPP)
		return e;
	if (e) {
		job_err(j, e, "try O_DIRECT on %s", VTB_MOUNT_DIR);
		return -1;
	}
	return 0;
}

/* A file's bytes to the host in DATA messages, then the empty one. */
static void send_file(struct job *j, const char *path)
{
	static struct vtb_msg m = {.type = VTB_MSG_DATA};
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	j->res->bytes = 0;
	while (fd >= 0) {
		size_t got;
		int ret = read_full(fd, m.u.data.bytes, VTB_DATA_MAX, &got);

		if (ret < 0 && !j->res->err)
			job_err(j, -ret, "read %s", path);
		if (ret < 0 || got == 0)
			break;
		m.u.data.len = (uint16_t)got;
		send_msg(&m);
		j->res->bytes += got;
	}
	if (fd >= 0)
		close(fd);
	m.u.data.len = 0;
	send_msg(&m);
}

/*
 * FIO: the host's fio job on VTB_MOUNT_DIR, timed from READY to READY;
 * then fio's JSON goes back as DATA.  No JSON is read here: the host
 * parses it.
 */
static void fio(struct job *j)
{
	static char args[VTB_STR_ARGS];
	const char *argv[TOOL_MAX_ARGS];
	struct vtb_result *r = j->res;
	int n = 0, status = 0, refused = 0;
	char *save = NULL, *tok;

	j->hash = 0;
	if (mount_tools(j) < 0)
		return;
	/* fio would lay its file out 4 KiB at a time, in the timed part. */
	if (j->run->path[0] && j->run->size) {
		j->out = open(j->run->path,
			      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (j->out < 0) {
			job_err(j, errno, "open %s", j->run->path);
			return;
		}
		generate(j, j->out, j->run->path);
		if (r->err)
			return;
		if (fsync(j->out) < 0) {
			job_err(j, errno, "fsync %s", j->run->path);
			return;
		}
		close(j->out);
		j->out = -1;
	}
	if (j->run->flags & VTB_RUN_F_DIRECT) {
		refused = direct_refused(j);
		if (refused < 0)
			return;
	}
	/* Global options come before the first --name: these first. */
	argv[n++] = "--output=" FIO_OUT;
	if (j->run->flags & VTB_RUN_F_DIRECT)
		argv[n++] = refused ? "--direct=0" : "--direct=1";
	copy_str(args, sizeof(args), j->run->args);
	for (tok = strtok_r(args, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (n == TOOL_MAX_ARGS) {
			job_err(j, E2BIG, "fio's options (at most %d)",
				TOOL_MAX_ARGS - 2);
			return;
		}
		argv[n++] = tok;
	}
	unlink(FIO_OUT);
	send_simple(VTB_MSG_READY);
	r->t_start_ns = now_ns();
	run_tool(j, "fio", argv, n, FIO_ERR, &status);
	r->t_end_ns = now_ns();
	/* The end of the timed part, whatever fio made of it. */
	send_simple(VTB_MSG_READY);
	send_file(j, FIO_OUT);
	unlink(FIO_OUT);
	if ((j->run->flags & VTB_RUN_F_DIRECT) && !refused)
		r->hash = VTB_FIO_DIRECT;
	r->hash |= (uint64_t)refused << 32;
	if (!r->err && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		tool_failed(j, "fio", status, FIO_ERR);
	unlink(FIO_ERR);
}

/* ---- SYSCALL: micro-benchmarks of the guest kernel ---- */

/* A tmpfs of the agent's own for the file operations, once per boot. */
#define SYS_DIR "/vtbsys"
#define SYS_FILE SYS_DIR "/file"
/* argv[1] that makes the agent exit at once (fork_exec's static binary). */
#define EXIT_AT_ONCE "vtb.exit-at-once"
#define SYS_MAX_COUNT 1000000000ull
#define FAULT_CHUNK (4u << 20)
#define PAGE 4096u

/* Wait for @pid; 0 when it exited with status 0, else -1 with the error. */
static int reap(struct job *j, pid_t pid, const char *what)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			job_err(j, errno, "%s: wait", what);
			return -1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	j->res->err = ECHILD;
	snprintf(j->res->detail, sizeof(j->res->detail), "%s: the child %s %d",
		 what,
		 WIFEXITED(st) ? "exited with status" : "was killed by signal",
		 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return -1;
}

/* Each op runs @n times and puts the guest's nanoseconds in *@ns. */
static int op_getpid(struct job *j, uint64_t n, uint64_t *ns)
{
	uint64_t t0 = mono_ns();

	(void)j;
	/* The system call itself: no libc cache in the way. */
	for (uint64_t i = 0; i < n; i++)
		syscall(SYS_getpid);
	*ns = mono_ns() - t0;
	return 0;
}

static int op_open_close(struct job *j, uint64_t n, uint64_t *ns)
{
	uint64_t t0 = mono_ns();

	for (uint64_t i = 0; i < n; i++) {
		int fd = open(SYS_FILE, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			job_err(j, errno, "open_close: open %s", SYS_FILE);
			return -1;
		}
		close(fd);
	}
	*ns = mono_ns() - t0;
	return 0;
}

static int op_stat(struct job *j, uint64_t n, uint64_t *ns)
{
	uint64_t t0 = mono_ns();
	struct stat st;

	for (uint64_t i = 0; i < n; i++)
		if (stat(SYS_FILE, &st) < 0) {
			job_err(j, errno, "stat: stat %s", SYS_FILE);
			return -1;
		}
	*ns = mono_ns() - t0;
	return 0;
}

/* 64 bytes to a child over one pipe, back over another, @n times. */
static int op_pipe_pingpong(struct job *j, uint64_t n, uint64_t *ns)
{
	uint8_t msg[64];
	int to[2], from[2], ret = 0;
	size_t got;
	uint64_t t0;
	pid_t pid;

	memset(msg, 0x5a, sizeof(msg));
	if (pipe2(to, O_CLOEXEC) < 0) {
		job_err(j, errno, "pipe_pingpong: pipe");
		return -1;
	}
	if (pipe2(from, O_CLOEXEC) < 0) {
		job_err(j, errno, "pipe_pingpong: pipe");
		close(to[0]);
		close(to[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		/* Echo until the parent closes its end. */
		while (read_full(to[0], msg, sizeof(msg), &got) == 0 &&
		       got == sizeof(msg))
			if (write_all(from[1], msg, sizeof(msg)) < 0)
				_exit(1);
		_exit(got == 0 ? 0 : 1);
	}
	close(to[0]);
	close(from[1]);
	if (pid < 0) {
		job_err(j, errno, "pipe_pingpong: fork");
		close(to[1]);
		close(from[0]);
		return -1;
	}
	t0 = mono_ns();
	for (uint64_t i = 0; i < n && !ret; i++) {
		if ((ret = write_all(to[1], msg, sizeof(msg))) < 0)
			job_err(j, -ret, "pipe_pingpong: write");
		else if ((ret = read_full(from[0], msg, sizeof(msg), &got)) < 0)
			job_err(j, -ret, "pipe_pingpong: read");
		else if (got != sizeof(msg))
			job_err(j, ret = EPIPE,
				"pipe_pingpong: %zu of %zu "
				"bytes came back",
				got, sizeof(msg));
	}
	*ns = mono_ns() - t0;
	close(to[1]);
	if (reap(j, pid, "pipe_pingpong") < 0)
		ret = -1;
	close(from[0]);
	return ret ? -1 : 0;
}

static int op_fork_wait(struct job *j, uint64_t n, uint64_t *ns)
{
	uint64_t t0 = mono_ns();

	for (uint64_t i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			job_err(j, errno, "fork_wait: fork");
			return -1;
		}
		if (reap(j, pid, "fork_wait") < 0)
			return -1;
	}
	*ns = mono_ns() - t0;
	return 0;
}

/* The agent is static: it is its own static binary, told to exit. */
static int op_fork_exec(struct job *j, uint64_t n, uint64_t *ns)
{
	static char *const argv[] = {"/init", EXIT_AT_ONCE, NULL};
	uint64_t t0 = mono_ns();

	for (uint64_t i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execv(argv[0], argv);
			_exit(127);
		}
		if (pid < 0) {
			job_err(j, errno, "fork_exec: fork");
			return -1;
		}
		if (reap(j, pid, "fork_exec of /init") < 0)
			return -1;
	}
	*ns = mono_ns() - t0;
	return 0;
}

/* One write to each of @n fresh pages; only the writes are timed. */
static int op_page_fault(struct job *j, uint64_t n, uint64_t *ns)
{
	*ns = 0;
	for (uint64_t done = 0; done < n;) {
		uint64_t pages = n - done < FAULT_CHUNK / PAGE
					 ? n - done
					 : FAULT_CHUNK / PAGE,
			 t0;
		volatile uint8_t *p =
			mmap(NULL, FAULT_CHUNK, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			job_err(j, errno, "page_fault: mmap %u bytes",
				FAULT_CHUNK);
			return -1;
		}
		/* A fault per 4 KiB page, not one per 2 MiB (no THP on UML:
		 * EINVAL, which changes nothing). */
		madvise((void *)p, FAULT_CHUNK, MADV_NOHUGEPAGE);
		t0 = mono_ns();
		for (uint64_t i = 0; i < pages; i++)
			p[i * PAGE] = 1;
		*ns += mono_ns() - t0;
		munmap((void *)p, FAULT_CHUNK);
		done += pages;
	}
	return 0;
}

static const struct {
	const char *name;
	int (*run)(struct job *j, uint64_t n, uint64_t *ns);
} sys_ops[] = {
	{"getpid", op_getpid},
	{"open_close", op_open_close},
	{"stat", op_stat},
	{"pipe_pingpong", op_pipe_pingpong},
	{"fork_wait", op_fork_wait},
	{"fork_exec", op_fork_exec},
	{"page_fault", op_page_fault},
};
#define N_SYS_OPS (sizeof(sys_ops) / sizeof(sys_ops[0]))

/* The tmpfs and its file, before READY. */
static int sys_setup(struct job *j)
{
	static int mounted;
	int fd;

	if (!mounted) {
		if (mkdir(SYS_DIR, 0755) < 0 && errno != EEXIST) {
			job_err(j, errno, "mkdir %s", SYS_DIR);
			return -1;
		}
		if (mount("tmpfs", SYS_DIR, "tmpfs", MS_NOSUID, NULL) < 0) {
			job_err(j, errno, "mount tmpfs on %s", SYS_DIR);
			return -1;
		}
		mounted = 1;
	}
	fd = open(SYS_FILE, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		job_err(j, errno, "create %s", SYS_FILE);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * SYSCALL: `args` is "OP=COUNT ..."; all checked before READY, then each
 * op run and its line sent as DATA (proto.h).
 */
static void syscalls(struct job *j)
{
	static char args[VTB_STR_ARGS];
	static struct vtb_msg m = {.type = VTB_MSG_DATA};
	struct {
		unsigned op;
		uint64_t count;
	} todo[N_SYS_OPS * 2];
	struct vtb_result *r = j->res;
	unsigned n = 0;
	char *save = NULL, *tok;

	j->hash = 0;
	copy_str(args, sizeof(args), j->run->args);
	for (tok = strtok_r(args, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '='), *end;
		unsigned op;

		if (eq)
			*eq = '\0';
		for (op = 0; op < N_SYS_OPS; op++)
			if (!strcmp(tok, sys_ops[op].name))
				break;
		if (!eq || op == N_SYS_OPS || n == N_SYS_OPS * 2) {
			r->err = EINVAL;
			snprintf(r->detail, sizeof(r->detail),
				 !eq ? "syscall: '%s' is not OP=COUNT"
				 : op == N_SYS_OPS
					 ? "syscall: unknown op '%s'"
					 : "syscall: too many ops at '%s'",
				 tok);
			return;
		}
		errno = 0;
		todo[n].count = strtoull(eq + 1, &end, 10);
		if (errno || end == eq + 1 || *end || !todo[n].count ||
		    todo[n].count > SYS_MAX_COUNT) {
			r->err = EINVAL;
			snprintf(r->detail, sizeof(r->detail),
				 "syscall: %s=%s: a count from 1 to %llu", tok,
				 eq + 1, SYS_MAX_COUNT);
			return;
		}
		todo[n++].op = op;
	}
	if (sys_setup(j) < 0)
		return;
	send_simple(VTB_MSG_READY);
	r->t_start_ns = now_ns();
	r->bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t ns = 0;
		int len;

		if (sys_ops[todo[i].op].run(j, todo[i].count, &ns) < 0)
			break;
		len = snprintf((char *)m.u.data.bytes, VTB_DATA_MAX,
			       "%s %llu %llu\n", sys_ops[todo[i].op].name,
			       (unsigned long long)todo[i].count,
			       (unsigned long long)ns);
		m.u.data.len = (uint16_t)len;
		send_msg(&m);
		r->bytes += (uint64_t)len;
	}
	r->t_end_ns = now_ns();
	m.u.data.len = 0;
	send_msg(&m);
}

/*
 * READY is sent once the data endpoint is open (and in raw mode), for the
 * workloads whose stream or disk the host feeds or drains, and for GEN
 * once its file is open: every timed interval starts at READY.  NONE has
 * nothing to wait for.  When a setup step fails, RESULT comes instead of
 * READY.
 */
static void run_work(const struct vtb_run *run)
{
	struct vtb_msg m = {.type = VTB_MSG_RESULT};
	struct vtb_result *r = &m.u.result;
	struct job j = {
		.run = run,
		.res = r,
		.block = run->block ? run->block : DEFAULT_BLOCK,
		.hash = !(run->flags & VTB_RUN_F_NOVERIFY),
		.in = -1,
		.out = -1,
	};
	struct cpu_times c0, c1;
	int have_cpu = cpu_times(&c0) == 0;

	if (debug)
		logmsg("run work=%u flags=%#x size=%llu block=%u path=%s "
		       "path2=%s",
		       run->work, run->flags, (unsigned long long)run->size,
		       run->block, run->path, run->path2);
	XXH3_64bits_reset(&hash_state);
	r->t_start_ns = now_ns();

	if (j.block > MAX_BLOCK) {
		r->err = EINVAL;
		snprintf(r->detail, sizeof(r->detail),
			 "block %zu exceeds the agent's %u", j.block,
			 MAX_BLOCK);
		goto out;
	}
	if (run->mount[0] && mount_run(&j) < 0)
		goto out;
	switch (run->work) {
	case VTB_WORK_NONE:
		j.hash = 0;
		break;
	case VTB_WORK_SLEEP:
		j.hash = 0;
		if (run->size > VTB_SLEEP_MAX_US) {
			job_err(&j, EINVAL, "sleep of %llu us",
				(unsigned long long)run->size);
			break;
		}
		send_simple(VTB_MSG_READY);
		r->t_start_ns = now_ns();
		sleep_us(run->size);
		break;
	case VTB_WORK_SINK:
		if (open_in(&j, O_RDONLY) < 0)
			break;
		send_simple(VTB_MSG_READY);
		r->t_start_ns = now_ns();
		pump(&j, -1, NULL);
		break;
	case VTB_WORK_COPY:
		if (open_in(&j, O_RDONLY) < 0 || open_out(&j) < 0)
			break;
		send_simple(VTB_MSG_READY);
		r->t_start_ns = now_ns();
		pump_overlapped(&j, j.out, run->path2);
		finish_out(&j);
		read_back(&j);
		break;
	case VTB_WORK_GEN:
		if (open_out(&j) < 0)
			break;
		send_simple(VTB_MSG_READY);
		r->t_start_ns = now_ns();
		generate(&j, j.out, run->path2);
		finish_out(&j);
		read_back(&j);
		break;
	case VTB_WORK_EMIT:
		if (open_in(&j, O_WRONLY) < 0)
			break;
		send_simple(VTB_MSG_READY);
		r->t_start_ns = now_ns();
		generate(&j, j.in, run->path);
		break;
	case VTB_WORK_ECHO:
		if (open_in(&j, O_RDWR) < 0)
			break;
		send_simple(VTB_MSG_READY);
		r->t_start_ns = now_ns();
		pump(&j, j.in, run->path);
		break;
	case VTB_WORK_UNTAR:
		untar(&j);
		break;
	case VTB_WORK_METADATA:
		metadata(&j);
		break;
	case VTB_WORK_FIO:
		fio(&j);
		break;
	case VTB_WORK_SYSCALL:
		syscalls(&j);
		break;
	default:
		r->err = EINVAL;
		snprintf(r->detail, sizeof(r->detail), "unknown work %u",
			 run->work);
		break;
	}
out:
	/* UNTAR, FIO, SYSCALL and METADATA end their timed part before they
	 * report. */
	if (!r->t_end_ns)
		r->t_end_ns = now_ns();
	if (j.out >= 0)
		close(j.out);
	if (j.in >= 0)
		close(j.in);
	/* A partial transfer is hashed too: it helps to see what arrived. */
	if (j.hash && run->work != VTB_WORK_UNTAR &&
	    run->work != VTB_WORK_METADATA && r->err != ENOLINK &&
	    (!r->err || r->bytes))
		r->hash = XXH3_64bits_digest(&hash_state);
	/* What the host verifies is what the file holds. */
	if (j.read_back && !r->err) {
		if (j.back_bytes != r->bytes || j.back_hash != r->hash)
			job_err(&j, EIO,
				"%s read back differs: %llu bytes, hash "
				"%016llx; written %llu, %016llx",
				run->path2, (unsigned long long)j.back_bytes,
				(unsigned long long)j.back_hash,
				(unsigned long long)r->bytes,
				(unsigned long long)r->hash);
		r->hash = j.back_hash;
	}
	if (have_cpu && cpu_times(&c1) == 0 && c1.total > c0.total) {
		uint64_t t = c1.total - c0.total;

		r->cpu_busy_permille = permille(c1.busy - c0.busy, t);
		r->cpu_iowait_permille = permille(c1.iowait - c0.iowait, t);
		r->cpu_steal_permille = permille(c1.steal - c0.steal, t);
		r->cpu_idle_permille = permille(c1.idle - c0.idle, t);
		r->ctxt = c1.ctxt - c0.ctxt;
		r->intr = c1.intr - c0.intr;
	}
	r->mem_used_kib = mem_used_kib();
	if (debug || r->err)
		logmsg("result err=%d bytes=%llu %s", r->err,
		       (unsigned long long)r->bytes, r->detail);
	send_msg(&m);
}

/* Serve requests until POWEROFF; a broken or closed channel powers off. */
NORETURN static void serve(void)
{
	static uint8_t buf[2 * VTB_MSG_MAX];
	size_t fill = 0;

	for (;;) {
		struct vtb_msg m;
		ssize_t n;
		int used;

		n = read(ctl_fd, buf + fill, sizeof(buf) - fill);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail(errno, "read control channel");
		if (n == 0) {
			logmsg("control channel closed, powering off");
			power_off();
		}
		fill += (size_t)n;
		while ((used = vtb_msg_decode(buf, fill, &m)) > 0) {
			if (debug)
				logmsg("recv %s", vtb_msg_type_name(m.type));
			if (m.type == VTB_MSG_RUN) {
				run_work(&m.u.run);
			} else if (m.type == VTB_MSG_POWEROFF) {
				struct vtb_msg bye = {.type = VTB_MSG_BYE};

				bye.u.bye.t_ns = now_ns();
				send_msg(&bye);
				power_off();
			} else {
				fail_with(EPROTO, "unexpected message",
					  vtb_msg_type_name(m.type));
			}
			fill -= (size_t)used;
			memmove(buf, buf + used, fill);
		}
		if (used < 0)
			fail_with(EBADMSG, "decode control message",
				  strerror(-used));
	}
}

int main(int argc, char **argv)
{
	uint64_t t_entry = now_ns(), t_modules;
	struct cmdline cl;
	unsigned loaded;

	/* SYSCALL's fork_exec: a static binary that exits at once. */
	if (argc == 2 && !strcmp(argv[1], EXIT_AT_ONCE))
		return 0;

	/* Mounting and rebooting the host by mistake would be unkind. */
	if (getpid() != 1) {
		logmsg("must run as PID 1 (init) in the guest");
		return 2;
	}
	ensure_stdio();
	logmsg("started");
	catch_fatal_signals();

	mount_fs("proc", "/proc");
	mount_fs("sysfs", "/sys");
	mount_fs("devtmpfs", "/dev");
	ensure_stdio();
	parse_cmdline(&cl);

	loaded = load_modules();
	t_modules = now_ns();
	if (debug)
		logmsg("%u modules loaded", loaded);

	open_control(cl.ctl);
	if (early.set)
		fail_early();
	send_hello(t_entry, t_modules, loaded);
	fault_arm(&cl);
	serve();
}
