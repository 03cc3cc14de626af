/* The virtio-console back-end: vhost-user on a socket and the control
 * queues in its thread, port 1's data queues in the caller's. */
#include "vhost/console.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/vtbench.h"
#include "vhost/vq.h"
#include "vhost/vu.h"

/* The queues of a multiport console with two ports (virtio spec 5.3.2):
 * port 0's pair, the control pair, port 1's pair. */
enum {
	Q_RX0,	/* port 0, host -> guest (port 0 is never added) */
	Q_TX0,	/* port 0, guest -> host */
	Q_CIN,	/* control, host -> guest */
	Q_COUT, /* control, guest -> host */
	Q_RX1,	/* port 1, host -> guest */
	Q_TX1,	/* port 1, guest -> host */
	NQ
};
#define MAX_NR_PORTS 2u
#define PORT_ID 1u

#define FEATURES                                                               \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_CONSOLE_F_MULTIPORT) | \
	 (1ull << VU_F_PROTOCOL_FEATURES))
/*
 * SLAVE_REQ although we never ask anything: UML 6.1's virtio_uml allocates
 * the IRQ its call fds share only when it sets up the back-end request
 * channel (vhost_user_init_slave_req); without it every vring's call fd
 * asks for IRQ 0, the timer's, and find_vqs fails with -EBUSY ("genirq:
 * Flags mismatch irq 0").  Not INBAND_NOTIFICATIONS: kicks and calls stay
 * on fds.
 */
#define PROTOCOL_FEATURES                                                      \
	((1ull << VU_PROTOCOL_F_REPLY_ACK) | (1ull << VU_PROTOCOL_F_CONFIG) |  \
	 (1ull << VU_PROTOCOL_F_RESET_DEVICE) |                                \
	 (1ull << VU_PROTOCOL_F_SLAVE_REQ))

/* How long the rest of a message may take once its header came. */
#define MSG_TIMEOUT_MS 10000
/* A control message: id, event, value, and PORT_NAME's name. */
#define CTL_HDR 8u
#define CTL_MAX (CTL_HDR + 256u)
/*
 * A call on port 1's queues that the guest has not answered (no kick
 * since) is written again after RESCUE_MIN_NS, then at doubling
 * intervals while they stay under RESCUE_MAX_NS (nine calls in ~130 ms
 * in all; a guest that kicks nothing for that long is not asleep on a
 * lost call but done, or stuck, which the caller's deadline sees).  UML
 * 6.1 loses a SIGIO that arrives after do_idle() soft-disabled interrupts
 * and before os_idle_sleep() calls sigsuspend(): sig_handler() only flags
 * it pending, and the guest sleeps until its next timer signal (up to a
 * 10 ms tick).  A second write sends a new SIGIO (a pipe signals on every
 * write) and wakes it.  A guest that is busy answers first and sees no
 * second call.
 */
#define RESCUE_MIN_NS 250000ll
#define RESCUE_MAX_NS 64000000ll

struct ring {
	unsigned num;
	uint64_t desc, avail, used; /* front-end virtual */
	uint16_t base;
	bool addr_set, enabled, live; /* live: q valid over the table */
	int kick_fd, call_fd, err_fd;
	struct vq q;
};

struct ctl_msg {
	guint32 len;
	guint8 b[CTL_MAX];
};

struct vtb_vcon {
	char *path, *port;
	int listen_fd, sock_fd;
	int stop_fd;   /* eventfd: free() wakes the thread */
	int notify_fd; /* eventfd: vtb_vcon_fd() */
	int rescue_fd; /* timerfd: a call the guest did not answer */
	/* The front-end's request pipe: kept open, never written (UML
	 * breaks the device when it sees it close). */
	int slave_fd;
	GThread *thread;
	bool unlink_path;

	GMutex lock; /* everything below */
	GCond cond;  /* opened or failed changed */
	bool connected, ready, port_ready, opened, failed;
	char *error;
	guint64 features, protocol_features;
	struct vq_mem mem;
	void *map[VU_MAX_REGIONS];
	size_t map_len[VU_MAX_REGIONS];
	struct ring rings[NQ];
	GQueue ctl_out; /* struct ctl_msg *, to the guest */
	/* The port's transmit chain being read, and the bytes of it the
	 * caller already has (kept across a new memory table). */
	bool tx_have;
	guint64 tx_done;
	struct vtb_vcon_stats st;
	/* st.kicks at the last call on port 1, and the rescue interval. */
	guint64 kicks_at_call;
	gint64 rescue_ns;
	struct vq_chain rx_chain, tx_chain, ctl_chain;
};

static void notify(struct vtb_vcon *c)
{
	guint64 one = 1;

	if (write(c->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		g_warning("vhost console: eventfd write: %s",
			  g_strerror(errno));
}

static void drain(int fd)
{
	guint64 v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

/* Under the lock: the first failure wins; the thread stops serving. */
static void fail(struct vtb_vcon *c, const char *why)
{
	if (c->failed)
		return;
	c->failed = true;
	c->error = g_strdup(why);
	g_cond_broadcast(&c->cond);
	notify(c);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void ring_reset(struct ring *r)
{
	close_fd(&r->kick_fd);
	close_fd(&r->call_fd);
	close_fd(&r->err_fd);
	memset(r, 0, sizeof(*r));
	r->kick_fd = r->call_fd = r->err_fd = -1;
}

static void unmap_table(struct vtb_vcon *c)
{
	for (unsigned i = 0; i < VU_MAX_REGIONS; i++) {
		if (c->map[i])
			munmap(c->map[i], c->map_len[i]);
		c->map[i] = NULL;
		c->map_len[i] = 0;
	}
	memset(&c->mem, 0, sizeof(c->mem));
	for (unsigned i = 0; i < NQ; i++)
		c->rings[i].live = false;
}

/* The device as it was before the front-end set it up; the port and the
 * failure state are the caller's business and stay. */
static void device_reset(struct vtb_vcon *c)
{
	struct ctl_msg *m;

	for (unsigned i = 0; i < NQ; i++)
		ring_reset(&c->rings[i]);
	close_fd(&c->slave_fd);
	unmap_table(c);
	while ((m = g_queue_pop_head(&c->ctl_out)))
		g_free(m);
	c->features = 0;
	c->ready = c->port_ready = c->opened = false;
	c->tx_have = false;
	c->tx_done = 0;
}

/* A ring serves once it has addresses, a kick fd and (with protocol
 * features) was enabled. */
static bool ring_running(const struct vtb_vcon *c, const struct ring *r)
{
	bool enabled =
		r->enabled || !(c->features & (1ull << VU_F_PROTOCOL_FEATURES));

	return r->live && r->kick_fd >= 0 && enabled;
}

static int ring_map(struct vtb_vcon *c, unsigned idx, char *why)
{
	struct ring *r = &c->rings[idx];
	uint16_t last = r->q.last_avail, used = r->q.used_idx;
	bool was = r->live;

	r->live = false;
	if (vq_setup(&r->q, &c->mem, r->num, r->desc, r->avail, r->used,
		     r->base, why) < 0) {
		char tmp[VU_WHY_MAX];

		snprintf(tmp, sizeof(tmp), "queue %u: %s", idx, why);
		memcpy(why, tmp, sizeof(tmp));
		return -1;
	}
	if (was) {
		r->q.last_avail = last;
		r->q.used_idx = used;
	}
	r->live = true;
	return 0;
}

static void rescue_arm(struct vtb_vcon *c, gint64 ns)
{
	struct itimerspec t = {.it_value = {.tv_sec = ns / 1000000000,
					    .tv_nsec = ns % 1000000000}};

	c->rescue_ns = ns;
	timerfd_settime(c->rescue_fd, 0, &t, NULL);
}

static bool data_ring(const struct vtb_vcon *c, const struct ring *r)
{
	return r == &c->rings[Q_RX1] || r == &c->rings[Q_TX1];
}

static void call(struct vtb_vcon *c, struct ring *r)
{
	/* 8 bytes: an eventfd's counter, and what UML's pipe reader
	 * expects.  A full pipe already has calls pending. */
	guint64 one = 1;

	if (r->call_fd < 0 || !vq_should_call(&r->q))
		return;
	if (write(r->call_fd, &one, sizeof(one)) == sizeof(one))
		c->st.calls++;
	if (data_ring(c, r)) {
		c->kicks_at_call = c->st.kicks;
		rescue_arm(c, RESCUE_MIN_NS);
	}
}

/* The rescue timer fired (in the thread, under the lock): the guest
 * kicked nothing since the last call on port 1, so call again. */
static void rescue(struct vtb_vcon *c)
{
	guint64 one = 1;
	bool again = false;

	drain(c->rescue_fd);
	if (c->st.kicks != c->kicks_at_call)
		return;
	for (unsigned i = Q_RX1; i <= Q_TX1; i++) {
		struct ring *r = &c->rings[i];

		if (r->call_fd < 0 || !ring_running(c, r) ||
		    !vq_should_call(&r->q))
			continue;
		if (write(r->call_fd, &one, sizeof(one)) == sizeof(one))
			again = true;
	}
	if (!again)
		return;
	c->st.rescued_calls++;
	if (c->rescue_ns * 2 <= RESCUE_MAX_NS)
		rescue_arm(c, c->rescue_ns * 2);
}

/* ---- the control queues (under the lock, in the thread) ---- */

static void ctl_queue(struct vtb_vcon *c, guint16 event, guint16 value,
		      const char *name)
{
	struct ctl_msg *m = g_new0(struct ctl_msg, 1);
	guint32 id = htole32(PORT_ID);
	guint16 e = htole16(event), v = htole16(value);

	memcpy(m->b, &id, 4);
	memcpy(m->b + 4, &e, 2);
	memcpy(m->b + 6, &v, 2);
	m->len = CTL_HDR;
	if (name) {
		size_t n = MIN(strlen(name) + 1, CTL_MAX - CTL_HDR);

		memcpy(m->b + CTL_HDR, name, n);
		m->len += (guint32)n;
	}
	g_queue_push_tail(&c->ctl_out, m);
}

/* Copy @len bytes into the writable buffers of @ch. */
static void copy_in(const struct vq_chain *ch, const guint8 *src, size_t len)
{
	for (unsigned i = 0; i < ch->nin && len; i++) {
		size_t n = MIN(len, ch->in[i].iov_len);

		memcpy(ch->in[i].iov_base, src, n);
		src += n;
		len -= n;
	}
}

static int ctl_flush(struct vtb_vcon *c, char *why)
{
	struct ring *r = &c->rings[Q_CIN];
	bool pushed = false;
	struct ctl_msg *m;

	if (!ring_running(c, r))
		return 0;
	while ((m = g_queue_peek_head(&c->ctl_out))) {
		int n = vq_pop(&r->q, &c->ctl_chain, why);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (c->ctl_chain.in_len < m->len) {
			snprintf(why, VU_WHY_MAX,
				 "control receive buffer of %" PRIu64
				 " bytes, message needs %" PRIu32,
				 c->ctl_chain.in_len, m->len);
			return -1;
		}
		copy_in(&c->ctl_chain, m->b, m->len);
		vq_push(&r->q, c->ctl_chain.head, m->len);
		c->st.ctl_msgs++;
		pushed = true;
		g_free(g_queue_pop_head(&c->ctl_out));
	}
	if (pushed)
		call(c, r);
	return 0;
}

static int ctl_handle(struct vtb_vcon *c, const guint8 *b, size_t len,
		      char *why)
{
	guint32 id;
	guint16 event, value;

	if (len < CTL_HDR) {
		snprintf(why, VU_WHY_MAX,
			 "control message of %zu bytes, not %u or more", len,
			 CTL_HDR);
		return -1;
	}
	memcpy(&id, b, 4);
	memcpy(&event, b + 4, 2);
	memcpy(&value, b + 6, 2);
	id = le32toh(id);
	event = le16toh(event);
	value = le16toh(value);
	c->st.ctl_msgs++;
	switch (event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (!value) {
			snprintf(why, VU_WHY_MAX,
				 "the guest's driver failed to set up");
			return -1;
		}
		if (!c->ready)
			ctl_queue(c, VIRTIO_CONSOLE_PORT_ADD, 1, NULL);
		c->ready = true;
		break;
	case VIRTIO_CONSOLE_PORT_READY:
		if (id != PORT_ID)
			break;
		if (!value) {
			snprintf(why, VU_WHY_MAX,
				 "the guest failed to add port %u", PORT_ID);
			return -1;
		}
		if (!c->port_ready) {
			ctl_queue(c, VIRTIO_CONSOLE_PORT_NAME, 1, c->port);
			ctl_queue(c, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
		}
		c->port_ready = true;
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (id != PORT_ID)
			break;
		c->opened = value != 0;
		g_cond_broadcast(&c->cond);
		notify(c);
		break;
	default:
		break; /* nothing else is for a device to act on */
	}
	return 0;
}

static int ctl_receive(struct vtb_vcon *c, char *why)
{
	struct ring *r = &c->rings[Q_COUT];
	bool pushed = false;
	int n;

	if (!ring_running(c, r))
		return 0;
	while ((n = vq_pop(&r->q, &c->ctl_chain, why)) > 0) {
		guint8 b[CTL_MAX];
		size_t len = 0;

		for (unsigned i = 0; i < c->ctl_chain.nout && len < CTL_MAX;
		     i++) {
			size_t k =
				MIN(CTL_MAX - len, c->ctl_chain.out[i].iov_len);

			memcpy(b + len, c->ctl_chain.out[i].iov_base, k);
			len += k;
		}
		vq_push(&r->q, c->ctl_chain.head, 0);
		pushed = true;
		if (ctl_handle(c, b, len, why) < 0)
			return -1;
	}
	if (pushed)
		call(c, r);
	if (n < 0)
		return -1;
	return ctl_flush(c, why);
}

/* ---- vhost-user messages (under the lock, in the thread) ---- */

static int ring_index(const struct vu_msg *m, uint32_t index, char *why)
{
	if (index < NQ)
		return (int)index;
	snprintf(why, VU_WHY_MAX, "%s: queue %" PRIu32 ", the device has %u",
		 vu_request_name(m->request), index, NQ);
	return -1;
}

static int set_mem_table(struct vtb_vcon *c, struct vu_msg *m, char *why)
{
	void *map[VU_MAX_REGIONS] = {0};
	size_t len[VU_MAX_REGIONS] = {0};
	unsigned i;

	for (i = 0; i < m->u.mem.num; i++) {
		const struct vu_region *r = &m->u.mem.r[i];

		len[i] = (size_t)(r->mmap_offset + r->size);
		map[i] = mmap(NULL, len[i], PROT_READ | PROT_WRITE, MAP_SHARED,
			      m->fds[i], 0);
		if (map[i] == MAP_FAILED) {
			map[i] = NULL;
			snprintf(why, VU_WHY_MAX,
				 "SET_MEM_TABLE: mmap region %u (0x%" PRIx64
				 " bytes at offset 0x%" PRIx64 "): %s",
				 i, r->size, r->mmap_offset, g_strerror(errno));
			goto unmap;
		}
	}
	/* The partly read transmit chain points into the old table: read
	 * it again from the new one, skipping what the caller has. */
	if (c->tx_have) {
		vq_unpop(&c->rings[Q_TX1].q);
		c->tx_have = false;
	}
	unmap_table(c);
	c->mem.n = m->u.mem.num;
	for (i = 0; i < m->u.mem.num; i++) {
		c->mem.r[i].gpa = m->u.mem.r[i].guest_addr;
		c->mem.r[i].size = m->u.mem.r[i].size;
		c->mem.r[i].uva = m->u.mem.r[i].user_addr;
		c->mem.r[i].host = (guint8 *)map[i] + m->u.mem.r[i].mmap_offset;
		c->map[i] = map[i];
		c->map_len[i] = len[i];
	}
	for (i = 0; i < NQ; i++)
		if (c->rings[i].addr_set && ring_map(c, i, why) < 0)
			return -1;
	return 0;
unmap:
	for (i = 0; i < VU_MAX_REGIONS; i++)
		if (map[i])
			munmap(map[i], len[i]);
	return -1;
}

static void take_fd(int *slot, int *fd)
{
	close_fd(slot);
	*slot = *fd;
	*fd = -1;
	if (*slot >= 0)
		fcntl(*slot, F_SETFL, fcntl(*slot, F_GETFL) | O_NONBLOCK);
}

static int send_all(struct vtb_vcon *c, const guint8 *b, int len, char *why)
{
	ssize_t n =
		send(c->sock_fd, b, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n == len)
		return 0;
	snprintf(why, VU_WHY_MAX, "send the reply: %s",
		 n < 0 ? g_strerror(errno) : "short write");
	return -1;
}

static void config_space(struct vu_msg *m)
{
	guint8 cfg[VU_CONFIG_MAX] = {0};
	guint32 ports = htole32(MAX_NR_PORTS);

	/* cols, rows 0 (no VIRTIO_CONSOLE_F_SIZE); emerg_wr 0. */
	memcpy(cfg + 4, &ports, 4);
	memcpy(m->u.config.data, cfg + m->u.config.offset, m->u.config.size);
}

/* Act on @m; 0, 1 when the reply was sent, or -1 with @why. */
static int handle(struct vtb_vcon *c, struct vu_msg *m, char *why)
{
	const char *name = vu_request_name(m->request);
	guint8 out[VU_HDR_SIZE + VU_PAYLOAD_MAX + VU_CONFIG_MAX];
	struct ring *r = NULL;
	int idx = -1;

	switch (m->request) {
	case VU_SET_VRING_NUM:
	case VU_SET_VRING_BASE:
	case VU_GET_VRING_BASE:
	case VU_SET_VRING_ENABLE:
		idx = ring_index(m, m->u.state.index, why);
		break;
	case VU_SET_VRING_ADDR:
		idx = ring_index(m, m->u.addr.index, why);
		break;
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR:
		idx = ring_index(m, (uint32_t)(m->u.u64 & VU_VRING_IDX_MASK),
				 why);
		break;
	default:
		idx = 0;
		break;
	}
	if (idx < 0)
		return -1;
	r = &c->rings[idx];

	switch (m->request) {
	case VU_SET_OWNER:
		return 0;
	case VU_RESET_OWNER:
	case VU_RESET_DEVICE:
		device_reset(c);
		notify(c);
		return 0;
	case VU_GET_FEATURES:
		m->u.u64 = FEATURES;
		break;
	case VU_SET_FEATURES:
		if (m->u.u64 & ~FEATURES) {
			snprintf(why, VU_WHY_MAX,
				 "SET_FEATURES 0x%" PRIx64 ": bits 0x%" PRIx64
				 " were not offered",
				 m->u.u64, (guint64)(m->u.u64 & ~FEATURES));
			return -1;
		}
		c->features = m->u.u64;
		return 0;
	case VU_GET_PROTOCOL_FEATURES:
		m->u.u64 = PROTOCOL_FEATURES;
		break;
	case VU_SET_PROTOCOL_FEATURES:
		if (m->u.u64 & ~PROTOCOL_FEATURES) {
			snprintf(why, VU_WHY_MAX,
				 "SET_PROTOCOL_FEATURES 0x%" PRIx64
				 ": bits 0x%" PRIx64 " were not offered",
				 m->u.u64,
				 (guint64)(m->u.u64 & ~PROTOCOL_FEATURES));
			return -1;
		}
		c->protocol_features = m->u.u64;
		return 0;
	case VU_GET_QUEUE_NUM:
		m->u.u64 = NQ;
		break;
	case VU_SET_MEM_TABLE:
		return set_mem_table(c, m, why);
	case VU_SET_VRING_NUM:
		if (m->u.state.num == 0 || m->u.state.num > VQ_MAX_NUM ||
		    (m->u.state.num & (m->u.state.num - 1))) {
			snprintf(why, VU_WHY_MAX,
				 "SET_VRING_NUM: queue %d size %" PRIu32
				 " is not a power of 2 up to %u",
				 idx, m->u.state.num, VQ_MAX_NUM);
			return -1;
		}
		r->num = m->u.state.num;
		r->live = false;
		r->addr_set = false;
		return 0;
	case VU_SET_VRING_BASE:
		if (m->u.state.num > 0xffff) {
			snprintf(why, VU_WHY_MAX,
				 "SET_VRING_BASE: queue %d base %" PRIu32
				 " beyond 16 bits",
				 idx, m->u.state.num);
			return -1;
		}
		r->base = (uint16_t)m->u.state.num;
		r->q.last_avail = r->q.used_idx = r->base;
		return 0;
	case VU_SET_VRING_ADDR:
		if (!c->mem.n) {
			snprintf(why, VU_WHY_MAX,
				 "SET_VRING_ADDR of queue %d before "
				 "SET_MEM_TABLE",
				 idx);
			return -1;
		}
		if (!r->num) {
			snprintf(why, VU_WHY_MAX,
				 "SET_VRING_ADDR of queue %d before "
				 "SET_VRING_NUM",
				 idx);
			return -1;
		}
		r->desc = m->u.addr.desc;
		r->avail = m->u.addr.avail;
		r->used = m->u.addr.used;
		r->addr_set = true;
		r->live = false;
		return ring_map(c, (unsigned)idx, why);
	case VU_GET_VRING_BASE:
		/* Stops the ring (the spec): no kick is served after it. */
		m->u.state.num = r->q.last_avail;
		close_fd(&r->kick_fd);
		r->enabled = false;
		break;
	case VU_SET_VRING_KICK:
		if (m->u.u64 & VU_VRING_NOFD) {
			snprintf(why, VU_WHY_MAX,
				 "SET_VRING_KICK of queue %d without an fd: "
				 "polling is not supported",
				 idx);
			return -1;
		}
		take_fd(&r->kick_fd, &m->fds[0]);
		notify(c);
		return 0;
	case VU_SET_VRING_CALL:
		take_fd(&r->call_fd, &m->fds[0]);
		return 0;
	case VU_SET_VRING_ERR:
		take_fd(&r->err_fd, &m->fds[0]);
		return 0;
	case VU_SET_VRING_ENABLE:
		if (m->u.state.num > 1) {
			snprintf(why, VU_WHY_MAX,
				 "SET_VRING_ENABLE: queue %d state %" PRIu32,
				 idx, m->u.state.num);
			return -1;
		}
		r->enabled = m->u.state.num;
		notify(c);
		return 0;
	case VU_SET_SLAVE_REQ_FD:
		take_fd(&c->slave_fd, &m->fds[0]);
		return 0;
	case VU_GET_CONFIG:
		config_space(m);
		break;
	case VU_SET_CONFIG:
		return 0; /* emerg_wr only, and F_EMERG_WRITE is not offered */
	default:
		snprintf(why, VU_WHY_MAX, "%s: not handled", name);
		return -1;
	}
	{
		int n = vu_encode_reply(m, out, sizeof(out));

		if (n < 0) {
			snprintf(why, VU_WHY_MAX, "%s: cannot encode the reply",
				 name);
			return -1;
		}
		if (send_all(c, out, n, why) < 0)
			return -1;
	}
	return 1;
}

/* ---- the thread ---- */

/* Exactly @len bytes from the socket by the deadline, or the reason. */
static int recv_full(struct vtb_vcon *c, guint8 *buf, size_t len, int *fds,
		     unsigned *nfds, char *why)
{
	return vu_recv(c->sock_fd, c->stop_fd, buf, len, fds, nfds,
		       MSG_TIMEOUT_MS, "the front-end", why);
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * Read and serve one message; without the lock while reading.  Returns 0
 * when served or nothing was there, -1 after a failure, 1 when stopped.
 */
static int serve_one(struct vtb_vcon *c)
{
	guint8 buf[VU_HDR_SIZE + VU_PAYLOAD_MAX + VU_CONFIG_MAX];
	int fds[VU_MAX_FDS];
	unsigned nfds = 0;
	char why[VU_WHY_MAX] = "";
	struct vu_msg m;
	guint32 size;
	int r;

	r = recv_full(c, buf, VU_HDR_SIZE, fds, &nfds, why);
	if (r == 2)
		return 0;
	if (r == 0 && vu_check_header(buf, &size, why) < 0)
		r = -1;
	if (r == 0 && size)
		r = recv_full(c, buf + VU_HDR_SIZE, size, NULL, NULL, why);
	if (r == 0 && vu_decode(buf, VU_HDR_SIZE + size, fds, nfds, &m, why) <
			      (int)VU_HDR_SIZE)
		r = -1;
	if (r != 0) {
		close_fds(fds, nfds);
		if (r == 3)
			return 1;
		g_mutex_lock(&c->lock);
		fail(c, why);
		g_mutex_unlock(&c->lock);
		return -1;
	}

	g_mutex_lock(&c->lock);
	r = handle(c, &m, why);
	close_fds(m.fds, VU_MAX_FDS); /* those not taken */
	if (r >= 0 && c->ready)
		r = ctl_flush(c, why) < 0 ? -1 : r;
	if (r != 1 && (m.flags & VU_FLAG_NEED_REPLY)) {
		guint8 ack[VU_HDR_SIZE + 8];
		char why2[VU_WHY_MAX];
		int n = vu_encode_ack(m.request, r < 0, ack, sizeof(ack));

		if (send_all(c, ack, n, why2) < 0 && r >= 0) {
			memcpy(why, why2, sizeof(why));
			r = -1;
		}
	}
	if (r < 0)
		fail(c, why);
	g_mutex_unlock(&c->lock);
	return r < 0 ? -1 : 0;
}

/* A kick on ring @i: the control queues are ours, port 1's the caller's. */
static void kicked(struct vtb_vcon *c, unsigned i)
{
	char why[VU_WHY_MAX] = "";

	drain(c->rings[i].kick_fd);
	switch (i) {
	case Q_COUT:
		if (ctl_receive(c, why) < 0)
			fail(c, why);
		break;
	case Q_CIN:
		if (ctl_flush(c, why) < 0)
			fail(c, why);
		break;
	case Q_RX1:
	case Q_TX1:
		c->st.kicks++;
		notify(c);
		break;
	default:
		break; /* port 0 is never added: nothing comes there */
	}
}

static gpointer thread_main(gpointer data)
{
	struct vtb_vcon *c = data;

	for (;;) {
		struct pollfd p[3 + NQ];
		int ring_of[3 + NQ];
		unsigned n = 0;
		bool failed;

		p[n++] = (struct pollfd){c->stop_fd, POLLIN, 0};
		g_mutex_lock(&c->lock);
		failed = c->failed;
		if (!failed && c->sock_fd < 0)
			p[n++] = (struct pollfd){c->listen_fd, POLLIN, 0};
		if (!failed && c->sock_fd >= 0) {
			p[n++] = (struct pollfd){c->sock_fd, POLLIN, 0};
			ring_of[n] = -1;
			p[n++] = (struct pollfd){c->rescue_fd, POLLIN, 0};
			for (unsigned i = 0; i < NQ; i++) {
				if (c->rings[i].kick_fd < 0)
					continue;
				ring_of[n] = (int)i;
				p[n++] = (struct pollfd){c->rings[i].kick_fd,
							 POLLIN, 0};
			}
		}
		g_mutex_unlock(&c->lock);

		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			g_mutex_lock(&c->lock);
			fail(c, "poll");
			g_mutex_unlock(&c->lock);
			continue;
		}
		if (p[0].revents)
			break;
		if (n < 2)
			continue;
		if (p[1].fd == c->listen_fd && p[1].revents) {
			int fd = accept4(c->listen_fd, NULL, NULL,
					 SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd < 0)
				continue;
			g_mutex_lock(&c->lock);
			c->sock_fd = fd;
			c->connected = true;
			g_mutex_unlock(&c->lock);
			close_fd(&c->listen_fd);
			continue;
		}
		if (p[1].revents) {
			int s = serve_one(c);

			if (s > 0)
				break;
			if (s < 0) {
				/* The front-end sees the close at once. */
				g_mutex_lock(&c->lock);
				close_fd(&c->sock_fd);
				g_mutex_unlock(&c->lock);
				continue;
			}
		}
		g_mutex_lock(&c->lock);
		/* Kicks first: one that came with the timer answers it. */
		for (unsigned k = 3; k < n && !c->failed; k++)
			if (p[k].revents &&
			    c->rings[ring_of[k]].kick_fd == p[k].fd)
				kicked(c, (unsigned)ring_of[k]);
		if (n > 2 && p[2].revents && !c->failed)
			rescue(c);
		if (c->failed)
			close_fd(&c->sock_fd);
		g_mutex_unlock(&c->lock);
	}
	return NULL;
}

/* ---- the API ---- */

struct vtb_vcon *vtb_vcon_new(const char *path, const char *port, GError **err)
{
	struct vtb_vcon *c = g_new0(struct vtb_vcon, 1);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sigaction old;

	c->path = g_strdup(path);
	c->port = g_strdup(port);
	c->listen_fd = c->sock_fd = c->stop_fd = c->notify_fd = -1;
	c->rescue_fd = -1;
	c->slave_fd = -1;
	g_mutex_init(&c->lock);
	g_cond_init(&c->cond);
	g_queue_init(&c->ctl_out);
	for (unsigned i = 0; i < NQ; i++)
		ring_reset(&c->rings[i]);

	if (strlen(port) + 1 > CTL_MAX - CTL_HDR) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "port name '%s': longer than %u bytes", port,
			    CTL_MAX - CTL_HDR - 1);
		goto free;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "socket %s: longer than %zu bytes", path,
			    sizeof(sa.sun_path) - 1);
		goto free;
	}
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0 || c->notify_fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "eventfd: %s",
			    g_strerror(errno));
		goto free;
	}
	c->rescue_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->rescue_fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "timerfd: %s",
			    g_strerror(errno));
		goto free;
	}
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "socket %s: %s", path,
			    g_strerror(errno));
		goto free;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "bind %s: %s", path,
			    g_strerror(errno));
		goto free;
	}
	c->unlink_path = true;
	if (listen(c->listen_fd, 1) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "listen %s: %s", path,
			    g_strerror(errno));
		goto free;
	}
	c->thread = g_thread_try_new("vhost-console", thread_main, c, err);
	if (!c->thread)
		goto free;
	return c;
free:
	vtb_vcon_free(c);
	return NULL;
}

static gboolean failed_err(struct vtb_vcon *c, GError **err)
{
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "vhost console %s: %s",
		    c->path, c->error);
	return FALSE;
}

gboolean vtb_vcon_wait_open(struct vtb_vcon *c, gint64 deadline_us,
			    GError **err)
{
	gboolean ok = TRUE;

	g_mutex_lock(&c->lock);
	while (!c->failed && !c->opened)
		if (!g_cond_wait_until(&c->cond, &c->lock, deadline_us))
			break;
	if (c->failed) {
		ok = failed_err(c, err);
	} else if (!c->opened) {
		const char *how = "the guest never opened port 1";

		if (!c->connected)
			how = "the front-end never connected";
		else if (!c->ready)
			how = "the guest's driver never sent DEVICE_READY";
		else if (!c->port_ready)
			how = "the guest never made port 1 ready";
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "vhost console %s: %s (port '%s')", c->path, how,
			    c->port);
		ok = FALSE;
	}
	g_mutex_unlock(&c->lock);
	return ok;
}

gssize vtb_vcon_write(struct vtb_vcon *c, const void *buf, size_t len,
		      GError **err)
{
	struct ring *r = &c->rings[Q_RX1];
	const guint8 *src = buf;
	char why[VU_WHY_MAX];
	size_t done = 0;
	bool pushed = false;

	g_mutex_lock(&c->lock);
	if (c->failed) {
		failed_err(c, err);
		g_mutex_unlock(&c->lock);
		return -1;
	}
	drain(c->notify_fd);
	/* The guest discards what reaches a port no process has open
	 * (virtio_console's in_intr): wait for PORT_OPEN, which notifies. */
	while (c->opened && done < len && ring_running(c, r)) {
		struct vq_chain *ch = &c->rx_chain;
		size_t n;
		int k = vq_pop(&r->q, ch, why);

		if (k < 0) {
			fail(c, why);
			break;
		}
		if (k == 0)
			break;
		n = MIN(len - done, ch->in_len);
		copy_in(ch, src + done, n);
		vq_push(&r->q, ch->head, (uint32_t)n);
		pushed = true;
		done += n;
		c->st.bufs_to_guest++;
	}
	if (pushed)
		call(c, r);
	c->st.bytes_to_guest += done;
	if (c->failed && !done) {
		failed_err(c, err);
		g_mutex_unlock(&c->lock);
		return -1;
	}
	g_mutex_unlock(&c->lock);
	return (gssize)done;
}

gssize vtb_vcon_read(struct vtb_vcon *c, void *buf, size_t len, GError **err)
{
	struct ring *r = &c->rings[Q_TX1];
	struct vq_chain *ch = &c->tx_chain;
	guint8 *dst = buf;
	char why[VU_WHY_MAX];
	size_t done = 0;
	bool pushed = false;

	g_mutex_lock(&c->lock);
	if (c->failed) {
		failed_err(c, err);
		g_mutex_unlock(&c->lock);
		return -1;
	}
	drain(c->notify_fd);
	while (done < len && ring_running(c, r)) {
		guint64 skip;

		if (!c->tx_have) {
			int k = vq_pop(&r->q, ch, why);

			if (k < 0) {
				fail(c, why);
				break;
			}
			if (k == 0)
				break;
			c->tx_have = true;
		}
		skip = c->tx_done;
		for (unsigned i = 0; i < ch->nout && done < len; i++) {
			size_t l = ch->out[i].iov_len, n;

			if (skip >= l) {
				skip -= l;
				continue;
			}
			n = MIN(len - done, l - skip);
			memcpy(dst + done, (guint8 *)ch->out[i].iov_base + skip,
			       n);
			done += n;
			c->tx_done += n;
			skip = 0;
		}
		if (c->tx_done >= ch->out_len) {
			vq_push(&r->q, ch->head, 0);
			pushed = true;
			c->tx_have = false;
			c->tx_done = 0;
			c->st.bufs_from_guest++;
		}
	}
	if (pushed)
		call(c, r);
	c->st.bytes_from_guest += done;
	if (c->failed && !done) {
		failed_err(c, err);
		g_mutex_unlock(&c->lock);
		return -1;
	}
	g_mutex_unlock(&c->lock);
	return (gssize)done;
}

int vtb_vcon_fd(struct vtb_vcon *c)
{
	return c->notify_fd;
}

void vtb_vcon_stats(struct vtb_vcon *c, struct vtb_vcon_stats *out)
{
	g_mutex_lock(&c->lock);
	*out = c->st;
	g_mutex_unlock(&c->lock);
}

void vtb_vcon_free(struct vtb_vcon *c)
{
	if (!c)
		return;
	if (c->thread) {
		guint64 one = 1;

		if (write(c->stop_fd, &one, sizeof(one)) < 0)
			g_warning("vhost console: stop: %s", g_strerror(errno));
		g_thread_join(c->thread);
	}
	device_reset(c);
	close_fd(&c->sock_fd);
	close_fd(&c->listen_fd);
	close_fd(&c->stop_fd);
	close_fd(&c->notify_fd);
	close_fd(&c->rescue_fd);
	if (c->unlink_path)
		unlink(c->path);
	g_mutex_clear(&c->lock);
	g_cond_clear(&c->cond);
	g_free(c->error);
	g_free(c->path);
	g_free(c->port);
	g_free(c);
}
