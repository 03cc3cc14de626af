/* Unit tests for vhost/fsmsg.c and vhost/fsfront.c: tables of the VMM's
 * requests (what is answered, with which bytes; what is forwarded, as
 * what) and of the back-end's replies; then the relay thread between a
 * front-end played here and the real virtiofsd, fds passed through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "core/virtiofsd.h"
#include "vhost/fsfront.h"
#include "vhost/fsmsg.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define V VU_VERSION
#define NR VU_FLAG_NEED_REPLY
#define CFG (1ull << VU_PROTOCOL_F_CONFIG)
#define INBAND (1ull << VU_PROTOCOL_F_INBAND_NOTIFICATIONS)
#define ACK (1ull << VU_PROTOCOL_F_REPLY_ACK)
#define SLAVE (1ull << VU_PROTOCOL_F_SLAVE_REQ)

/* GET/SET_CONFIG's payload: offset, size, flags (u32 each), bytes. */
#define CONF(off, sz) ((uint64_t)(sz) << 32 | (off)), 0

struct req_case {
	const char *name;
	uint32_t request, flags, size;
	uint64_t w[8];
	unsigned nfds;
	int act;	 /* VTB_FSF_FORWARD or VTB_FSF_ANSWER */
	const char *out; /* ANSWER: the bytes sent to the VMM, hex */
	uint64_t fwd;	 /* FORWARD: the payload's first u64 after */
	uint32_t due;	 /* the reply due from the back-end after */
};

/* The config space of tag "vtbfs", one request queue, as hex. */
#define TAG                                                                    \
	"7674626673"                                                           \
	"0000000000000000000000000000000000000000"                             \
	"0000000000000000000000"
#define HDR(req, size)                                                         \
	req "000000"                                                           \
	    "05000000" size "000000"

static const struct req_case reqs[] = {
	{"GET_CONFIG: all 40 bytes",
	 VU_GET_CONFIG,
	 V,
	 12 + 40,
	 {CONF(0, 40)},
	 0,
	 VTB_FSF_ANSWER,
	 HDR("18", "34") "00000000"
			 "28000000"
			 "00000000" TAG "01000000"},
	/* UML reads a field as offset 0, size offset+len. */
	{"GET_CONFIG: up to the queues",
	 VU_GET_CONFIG,
	 V,
	 12 + 37,
	 {CONF(0, 37)},
	 0,
	 VTB_FSF_ANSWER,
	 HDR("18", "31") "00000000"
			 "25000000"
			 "00000000" TAG "01"},
	{"GET_CONFIG: the queues alone",
	 VU_GET_CONFIG,
	 V,
	 12 + 4,
	 {CONF(36, 4)},
	 0,
	 VTB_FSF_ANSWER,
	 HDR("18", "10") "24000000"
			 "04000000"
			 "00000000"
			 "01000000"},
	{"GET_CONFIG: past the end reads zeros",
	 VU_GET_CONFIG,
	 V,
	 12 + 8,
	 {CONF(38, 8)},
	 0,
	 VTB_FSF_ANSWER,
	 HDR("18", "14") "26000000"
			 "08000000"
			 "00000000"
			 "0000000000000000"},
	{"GET_CONFIG, need reply: its reply, no ack",
	 VU_GET_CONFIG,
	 V | NR,
	 12 + 1,
	 {CONF(0, 1)},
	 0,
	 VTB_FSF_ANSWER,
	 HDR("18", "0d") "00000000"
			 "01000000"
			 "00000000"
			 "76"},
	{"SET_CONFIG, need reply: refused",
	 VU_SET_CONFIG,
	 V | NR,
	 12 + 4,
	 {CONF(36, 4), 2},
	 0,
	 VTB_FSF_ANSWER,
	 HDR("19", "08") "0100000000000000"},
	{"SET_CONFIG: nothing said",
	 VU_SET_CONFIG,
	 V,
	 12 + 4,
	 {CONF(36, 4), 2},
	 0,
	 VTB_FSF_ANSWER,
	 ""},
	{"GET_PROTOCOL_FEATURES: forwarded",
	 VU_GET_PROTOCOL_FEATURES,
	 V,
	 0,
	 {0},
	 0,
	 VTB_FSF_FORWARD,
	 NULL,
	 0,
	 VU_GET_PROTOCOL_FEATURES},
	{"SET_PROTOCOL_FEATURES: F_CONFIG hidden",
	 VU_SET_PROTOCOL_FEATURES,
	 V | NR,
	 8,
	 {ACK | SLAVE | CFG},
	 0,
	 VTB_FSF_FORWARD,
	 NULL,
	 ACK | SLAVE,
	 VU_SET_PROTOCOL_FEATURES},
	{"SET_PROTOCOL_FEATURES, no ack",
	 VU_SET_PROTOCOL_FEATURES,
	 V,
	 8,
	 {SLAVE | CFG},
	 0,
	 VTB_FSF_FORWARD,
	 NULL,
	 SLAVE,
	 0},
	{"GET_FEATURES: forwarded",
	 VU_GET_FEATURES,
	 V,
	 0,
	 {0},
	 0,
	 VTB_FSF_FORWARD,
	 NULL,
	 0,
	 VU_GET_FEATURES},
	{"SET_FEATURES: as it is",
	 VU_SET_FEATURES,
	 V | NR,
	 8,
	 {0x140000000},
	 0,
	 VTB_FSF_FORWARD,
	 NULL,
	 0x140000000,
	 VU_SET_FEATURES},
	{"SET_VRING_NUM, need reply",
	 VU_SET_VRING_NUM,
	 V | NR,
	 8,
	 {256ull << 32 | 1},
	 0,
	 VTB_FSF_FORWARD,
	 NULL,
	 256ull << 32 | 1,
	 VU_SET_VRING_NUM},
	{"SET_VRING_KICK and its fd",
	 VU_SET_VRING_KICK,
	 V,
	 8,
	 {1},
	 1,
	 VTB_FSF_FORWARD,
	 NULL,
	 1,
	 0},
	{"SET_SLAVE_REQ_FD and its fd",
	 VU_SET_SLAVE_REQ_FD,
	 V | NR,
	 0,
	 {0},
	 1,
	 VTB_FSF_FORWARD,
	 NULL,
	 0,
	 VU_SET_SLAVE_REQ_FD},
	{"SET_MEM_TABLE, two regions",
	 VU_SET_MEM_TABLE,
	 V | NR,
	 8 + 64,
	 {2, 0x1000, 0x1000, 0x1000, 0x1000, 0x2000, 0x1000, 0x2000},
	 2,
	 VTB_FSF_FORWARD,
	 NULL,
	 2,
	 VU_SET_MEM_TABLE},
};

static size_t hex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] && s[1]; s += 2)
		out[n++] = (uint8_t)g_ascii_xdigit_value(s[0]) << 4 |
			   (uint8_t)g_ascii_xdigit_value(s[1]);
	return n;
}

/* A message in @buf (VU_HDR_SIZE + 256 bytes): the header, then up to
 * @nw words of @w. */
static size_t build(uint32_t req, uint32_t flags, uint32_t size,
		    const uint64_t *w, size_t nw, uint8_t *buf)
{
	uint32_t h[3] = {req, flags, size};

	memset(buf, 0, VU_HDR_SIZE + 256);
	memcpy(buf, h, sizeof(h));
	memcpy(buf + VU_HDR_SIZE, w, size < nw * 8 ? size : nw * 8);
	return VU_HDR_SIZE + size;
}

static void test_requests(void **state)
{
	int fds[2] = {100, 101};

	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
		const struct req_case *c = &reqs[i];
		struct vtb_fsfront_core core;
		uint8_t buf[VU_HDR_SIZE + 256], orig[VU_HDR_SIZE + 256];
		uint8_t out[VU_HDR_SIZE + 12 + VU_CONFIG_MAX], want[128];
		char why[VU_WHY_MAX] = "";
		size_t len = build(c->request, c->flags, c->size, c->w, 8, buf);
		struct vu_msg m;
		int out_len = -7, r;
		uint64_t v;

		vtb_fsfront_core_init(&core, "vtbfs", 1);
		memcpy(orig, buf, sizeof(buf));
		if (vu_decode(buf, len, fds, c->nfds, &m, why) != (int)len)
			fail_msg("%s: decode: %s", c->name, why);
		r = vtb_fsfront_request(&core, buf, len, &m, out, sizeof(out),
					&out_len, why);
		print_message("%-44s -> %d, %d bytes\n", c->name, r, out_len);
		assert_int_equal(r, c->act);
		assert_int_equal(vtb_fsfront_due(&core), c->due);
		if (c->act == VTB_FSF_ANSWER) {
			size_t n = hex(c->out, want);

			assert_int_equal(out_len, (int)n);
			assert_memory_equal(out, want, n);
			assert_int_equal(core.st.forwarded, 0);
			continue;
		}
		assert_int_equal(out_len, 0);
		assert_int_equal(core.st.forwarded, 1);
		assert_int_equal(core.st.fds, c->nfds);
		/* The header and every byte but what was rewritten. */
		assert_memory_equal(buf, orig, VU_HDR_SIZE);
		if (c->size >= 8) {
			memcpy(&v, buf + VU_HDR_SIZE, 8);
			assert_true(v == c->fwd);
			assert_memory_equal(buf + VU_HDR_SIZE + 8,
					    orig + VU_HDR_SIZE + 8,
					    c->size - 8);
		}
	}
}

struct reply_case {
	const char *name;
	uint32_t due; /* what the front forwarded (0: nothing) */
	uint32_t request, flags, size;
	uint64_t value;
	uint64_t want; /* the u64 the VMM gets */
	const char *why;
};

#define RV (VU_VERSION | VU_FLAG_REPLY)
/* virtiofsd 7.2's protocol features: MQ, LOG_SHMFD, REPLY_ACK,
 * SLAVE_REQ, SLAVE_SEND_FD, HOST_NOTIFIER, MAX_MEM_SLOTS. */
#define VFSD_PF 0x8c2bull

static const struct reply_case replies[] = {
	{"protocol features: F_CONFIG added", VU_GET_PROTOCOL_FEATURES,
	 VU_GET_PROTOCOL_FEATURES, RV, 8, VFSD_PF, VFSD_PF | CFG},
	{"protocol features: in-band notifications hidden",
	 VU_GET_PROTOCOL_FEATURES, VU_GET_PROTOCOL_FEATURES, RV, 8,
	 ACK | INBAND, ACK | CFG},
	{"features: as they are", VU_GET_FEATURES, VU_GET_FEATURES, RV, 8,
	 0x175000000, 0x175000000},
	{"an ack: as it is", VU_SET_VRING_NUM, VU_SET_VRING_NUM, RV, 8, 1, 1},
	{"nothing due", 0, VU_GET_FEATURES, RV, 8, 0, 0, "no reply was due"},
	{"another request's reply", VU_GET_FEATURES, VU_GET_PROTOCOL_FEATURES,
	 RV, 8, 0, 0, "GET_PROTOCOL_FEATURES (15) where GET_FEATURES's"},
	{"not marked a reply", VU_GET_FEATURES, VU_GET_FEATURES, V, 8, 0, 0,
	 "reply flags 0x1, not 0x5"},
	{"need-reply on a reply", VU_GET_FEATURES, VU_GET_FEATURES, RV | NR, 8,
	 0, 0, "reply flags 0xd"},
	{"short payload", VU_GET_PROTOCOL_FEATURES, VU_GET_PROTOCOL_FEATURES,
	 RV, 4, 0, 0, "reply payload of 4 bytes, not 8"},
	{"huge payload", VU_GET_FEATURES, VU_GET_FEATURES, RV, 1u << 20, 0, 0,
	 "reply payload of 1048576 bytes"},
};

static void test_replies(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(replies); i++) {
		const struct reply_case *c = &replies[i];
		struct vtb_fsfront_core core;
		uint8_t buf[VU_HDR_SIZE + 256];
		char why[VU_WHY_MAX] = "";
		size_t len =
			build(c->request, c->flags, c->size, &c->value, 1, buf);
		uint64_t v;
		int r;

		vtb_fsfront_core_init(&core, "vtbfs", 1);
		if (c->due) {
			core.pending[0] = c->due;
			core.npending = 1;
		}
		if (len > sizeof(buf))
			len = sizeof(buf);
		r = vtb_fsfront_reply(&core, buf, len, why);
		print_message("%-48s -> %d %s\n", c->name, r, why);
		if (c->why) {
			assert_int_equal(r, -1);
			if (!strstr(why, c->why))
				fail_msg("%s: reason '%s' lacks '%s'", c->name,
					 why, c->why);
			continue;
		}
		assert_int_equal(r, 0);
		memcpy(&v, buf + VU_HDR_SIZE, 8);
		assert_true(v == c->want);
		assert_int_equal(vtb_fsfront_due(&core), 0);
		assert_int_equal(core.st.replies, 1);
	}
}

/* Replies are matched in order, and the front tracks a bounded number. */
static void test_pending(void **state)
{
	struct vtb_fsfront_core core;
	uint8_t buf[VU_HDR_SIZE + 256], out[64];
	char why[VU_WHY_MAX] = "";
	uint64_t w = 0;
	struct vu_msg m;
	int out_len;

	vtb_fsfront_core_init(&core, "vtbfs", 1);
	for (unsigned i = 0; i <= VTB_FSFRONT_PENDING_MAX; i++) {
		uint32_t req = i % 2 ? VU_GET_FEATURES : VU_GET_QUEUE_NUM;
		size_t len = build(req, V, 0, &w, 1, buf);
		int r;

		assert_int_equal(vu_decode(buf, len, NULL, 0, &m, why),
				 (int)len);
		r = vtb_fsfront_request(&core, buf, len, &m, out, sizeof(out),
					&out_len, why);
		if (i < VTB_FSFRONT_PENDING_MAX)
			assert_int_equal(r, VTB_FSF_FORWARD);
		else
			assert_int_equal(r, -1);
	}
	assert_non_null(strstr(why, "8 replies already due"));
	for (unsigned i = 0; i < VTB_FSFRONT_PENDING_MAX; i++) {
		uint32_t req = i % 2 ? VU_GET_FEATURES : VU_GET_QUEUE_NUM;
		size_t len = build(req, RV, 8, &w, 1, buf);

		assert_int_equal(vtb_fsfront_due(&core), req);
		assert_int_equal(vtb_fsfront_reply(&core, buf, len, why), 0);
	}
	assert_int_equal(vtb_fsfront_due(&core), 0);
}

/* ---- the relay, with the real virtiofsd behind it ---- */

struct relay {
	char *dir, *be_sock, *front_sock, *share;
	pid_t vfsd;
	struct vtb_fsfront *f;
	int vmm; /* our end: we are the front-end */
};

static void xsend(int fd, uint32_t req, uint32_t flags, const void *p,
		  uint32_t size, const int *fds, unsigned nfds)
{
	uint8_t buf[VU_HDR_SIZE + 256];
	char why[VU_WHY_MAX] = "";
	uint32_t h[3] = {req, flags, size};

	memcpy(buf, h, sizeof(h));
	if (size)
		memcpy(buf + VU_HDR_SIZE, p, size);
	if (vu_send(fd, buf, VU_HDR_SIZE + size, fds, nfds, 5000, "front",
		    why) < 0)
		fail_msg("send %s: %s", vu_request_name(req), why);
}

/* The next message the VMM gets, within 5 s; its payload in @p. */
static uint32_t xrecv(int fd, uint32_t *flags, void *p, uint32_t *size)
{
	uint8_t buf[VU_HDR_SIZE + 256];
	char why[VU_WHY_MAX] = "";
	struct pollfd pf = {fd, POLLIN, 0};
	uint32_t h[3];

	if (poll(&pf, 1, 5000) != 1)
		fail_msg("no reply within 5 s");
	if (vu_recv(fd, -1, buf, VU_HDR_SIZE, NULL, NULL, 5000, "front", why) !=
	    0)
		fail_msg("reply header: %s", why);
	memcpy(h, buf, sizeof(h));
	assert_true(h[2] <= 256);
	if (h[2] && vu_recv(fd, -1, buf + VU_HDR_SIZE, h[2], NULL, NULL, 5000,
			    "front", why) != 0)
		fail_msg("reply payload: %s", why);
	*flags = h[1];
	*size = h[2];
	memcpy(p, buf + VU_HDR_SIZE, h[2]);
	return h[0];
}

static uint64_t ask_u64(int fd, uint32_t req, uint32_t flags, const void *p,
			uint32_t size, const int *fds, unsigned nfds)
{
	uint8_t r[256];
	uint32_t rf, rs;
	uint64_t v;

	xsend(fd, req, flags, p, size, fds, nfds);
	assert_int_equal(xrecv(fd, &rf, r, &rs), req);
	assert_int_equal(rf, RV);
	assert_int_equal(rs, 8);
	memcpy(&v, r, 8);
	return v;
}

static int relay_setup(void **state)
{
	struct relay *t = g_new0(struct relay, 1);
	g_autoptr(GError) err = NULL;
	struct vtb_device d = {.fd = -1, .end_fd = -1};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	g_auto(GStrv) argv = NULL;

	*state = t;
	t->vmm = -1;
	if (geteuid() != 0 ||
	    !g_file_test(VTB_VIRTIOFSD, G_FILE_TEST_IS_EXECUTABLE))
		return 0; /* the test skips, saying why */
	t->dir = g_dir_make_tmp("fsfront-XXXXXX", NULL);
	t->be_sock = g_build_filename(t->dir, "vfsd.sock", NULL);
	t->front_sock = g_build_filename(t->dir, "front.sock", NULL);
	t->share = g_build_filename(t->dir, "share", NULL);
	mkdir(t->share, 0700);
	d.image = t->share;
	argv = vtb_virtiofsd_argv(VTB_VIRTIOFSD, &d, t->be_sock);
	t->vfsd = fork();
	if (t->vfsd == 0) {
		int null = open("/dev/null", O_WRONLY);

		setpgid(0, 0); /* killed as a group: it forks its sandbox */
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 500 && access(t->be_sock, F_OK) < 0; i++)
		g_usleep(10000);
	t->f = vtb_fsfront_new(t->front_sock, t->be_sock, "vtbfs", 1, &err);
	if (!t->f)
		fail_msg("front: %s", err->message);
	t->vmm = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, t->front_sock);
	assert_int_equal(connect(t->vmm, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	return 0;
}

static int relay_teardown(void **state)
{
	struct relay *t = *state;

	if (t->vmm >= 0)
		close(t->vmm);
	vtb_fsfront_free(t->f);
	if (t->vfsd > 0) {
		kill(-t->vfsd, SIGKILL);
		waitpid(t->vfsd, NULL, 0);
	}
	if (t->dir) {
		rmdir(t->share);
		unlink(t->be_sock);
		rmdir(t->dir);
	}
	assert_int_equal(t->front_sock ? access(t->front_sock, F_OK) : -1, -1);
	g_free(t->dir);
	g_free(t->be_sock);
	g_free(t->front_sock);
	g_free(t->share);
	g_free(t);
	return 0;
}

/*
 * What UML 6.1's virtio_uml sends at probe, through the front to
 * virtiofsd: F_CONFIG offered and answered here; the memory table's fd
 * reaches virtiofsd (its ack says it mapped it), as do a vring's kick
 * and call fds; then virtiofsd killed: the front says so, the VMM sees
 * its socket close.
 */
static void test_relay(void **state)
{
	struct relay *t = *state;
	struct vtb_fsfront_stats st;
	uint64_t feat, pf, v;
	uint8_t r[256];
	uint32_t rf, rs;
	int memfd, kick, call[2];
	uint64_t mem[5] = {1, 0, 1 << 20, 0, 0};
	uint64_t state64;
	char *e = NULL;

	if (!t->f) {
		print_message("[  SKIP    ] needs root and %s\n",
			      VTB_VIRTIOFSD);
		skip();
	}
	xsend(t->vmm, VU_SET_OWNER, V, NULL, 0, NULL, 0);
	feat = ask_u64(t->vmm, VU_GET_FEATURES, V, NULL, 0, NULL, 0);
	assert_true(feat & (1ull << VU_F_PROTOCOL_FEATURES));
	pf = ask_u64(t->vmm, VU_GET_PROTOCOL_FEATURES, V, NULL, 0, NULL, 0);
	assert_true(pf & CFG);
	assert_true(pf & ACK);
	assert_false(pf & INBAND);
	/* As UML: what it supports, and from now on acks asked. */
	pf &= ACK | SLAVE | CFG;
	assert_int_equal(ask_u64(t->vmm, VU_SET_PROTOCOL_FEATURES, V | NR, &pf,
				 8, NULL, 0),
			 0);
	/* The tag, as UML reads it. */
	xsend(t->vmm, VU_GET_CONFIG, V, (uint8_t[12 + 40]){0, 0, 0, 0, 40},
	      12 + 40, NULL, 0);
	assert_int_equal(xrecv(t->vmm, &rf, r, &rs), VU_GET_CONFIG);
	assert_int_equal(rs, 12 + 40);
	assert_memory_equal(r + 12, "vtbfs\0", 6);
	assert_int_equal(r[12 + 36], 1);
	v = 1ull << 32 | 1ull << 30;
	assert_int_equal(
		ask_u64(t->vmm, VU_SET_FEATURES, V | NR, &v, 8, NULL, 0), 0);
	/* A memory table: virtiofsd maps the fd, or says it could not. */
	memfd = memfd_create("fsfront-test", MFD_CLOEXEC);
	assert_int_equal(ftruncate(memfd, 1 << 20), 0);
	assert_int_equal(ask_u64(t->vmm, VU_SET_MEM_TABLE, V | NR, mem,
				 sizeof(mem), &memfd, 1),
			 0);
	/* A vring's call and error fds (a kick would start the queue). */
	kick = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(pipe2(call, O_CLOEXEC), 0);
	state64 = 0;
	assert_int_equal(ask_u64(t->vmm, VU_SET_VRING_CALL, V | NR, &state64, 8,
				 &call[1], 1),
			 0);
	assert_int_equal(ask_u64(t->vmm, VU_SET_VRING_ERR, V | NR, &state64, 8,
				 &kick, 1),
			 0);
	vtb_fsfront_stats(t->f, &st);
	assert_int_equal(st.config_reads, 1);
	assert_int_equal(st.fds, 3);
	assert_true(st.replies >= 7);
	assert_null(vtb_fsfront_error(t->f));

	/* virtiofsd gone: the VMM's socket closes, the front says why. */
	kill(-t->vfsd, SIGKILL);
	waitpid(t->vfsd, NULL, 0);
	t->vfsd = 0;
	{
		struct pollfd pf1 = {t->vmm, POLLIN, 0};
		char c;

		assert_int_equal(poll(&pf1, 1, 5000), 1);
		assert_int_equal(read(t->vmm, &c, 1), 0);
	}
	e = vtb_fsfront_error(t->f);
	assert_non_null(e);
	print_message("front: %s\n", e);
	assert_non_null(strstr(e, "virtiofsd closed the socket"));
	g_free(e);
	close(memfd);
	close(kick);
	close(call[0]);
	close(call[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_pending),
		cmocka_unit_test_setup_teardown(test_relay, relay_setup,
						relay_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
