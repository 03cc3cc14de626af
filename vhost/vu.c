/* The vhost-user decoder is the trust boundary to the VMM: every message is
 * checked whole before the device sees it. */
#include "vhost/vu.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* What each request carries. */
enum shape {
	SH_UNKNOWN = 0, /* not in the table: unknown or not supported */
	SH_NONE,	/* no payload, no fd */
	SH_U64,		/* a u64, no fd */
	SH_U64_FD,	/* index | NOFD; one fd unless NOFD */
	SH_FD,		/* no payload, one fd */
	SH_STATE,	/* vring state */
	SH_ADDR,	/* vring addresses */
	SH_MEM,		/* memory table, one fd per region */
	SH_CONFIG,	/* config space header + bytes */
};

static const struct {
	const char *name;
	unsigned char shape;
} reqs[VU_REQUEST_MAX_] = {
	[VU_GET_FEATURES] = {"GET_FEATURES", SH_NONE},
	[VU_SET_FEATURES] = {"SET_FEATURES", SH_U64},
	[VU_SET_OWNER] = {"SET_OWNER", SH_NONE},
	[VU_RESET_OWNER] = {"RESET_OWNER", SH_NONE},
	[VU_SET_MEM_TABLE] = {"SET_MEM_TABLE", SH_MEM},
	[VU_SET_LOG_BASE] = {"SET_LOG_BASE"},
	[VU_SET_LOG_FD] = {"SET_LOG_FD"},
	[VU_SET_VRING_NUM] = {"SET_VRING_NUM", SH_STATE},
	[VU_SET_VRING_ADDR] = {"SET_VRING_ADDR", SH_ADDR},
	[VU_SET_VRING_BASE] = {"SET_VRING_BASE", SH_STATE},
	[VU_GET_VRING_BASE] = {"GET_VRING_BASE", SH_STATE},
	[VU_SET_VRING_KICK] = {"SET_VRING_KICK", SH_U64_FD},
	[VU_SET_VRING_CALL] = {"SET_VRING_CALL", SH_U64_FD},
	[VU_SET_VRING_ERR] = {"SET_VRING_ERR", SH_U64_FD},
	[VU_GET_PROTOCOL_FEATURES] = {"GET_PROTOCOL_FEATURES", SH_NONE},
	[VU_SET_PROTOCOL_FEATURES] = {"SET_PROTOCOL_FEATURES", SH_U64},
	[VU_GET_QUEUE_NUM] = {"GET_QUEUE_NUM", SH_NONE},
	[VU_SET_VRING_ENABLE] = {"SET_VRING_ENABLE", SH_STATE},
	[VU_SEND_RARP] = {"SEND_RARP"},
	[VU_NET_SET_MTU] = {"NET_SET_MTU"},
	[VU_SET_SLAVE_REQ_FD] = {"SET_SLAVE_REQ_FD", SH_FD},
	[VU_IOTLB_MSG] = {"IOTLB_MSG"},
	[VU_SET_VRING_ENDIAN] = {"SET_VRING_ENDIAN"},
	[VU_GET_CONFIG] = {"GET_CONFIG", SH_CONFIG},
	[VU_SET_CONFIG] = {"SET_CONFIG", SH_CONFIG},
	[VU_RESET_DEVICE] = {"RESET_DEVICE", SH_NONE},
	[VU_VRING_KICK] = {"VRING_KICK"},
	[VU_GET_MAX_MEM_SLOTS] = {"GET_MAX_MEM_SLOTS"},
	[VU_ADD_MEM_REG] = {"ADD_MEM_REG"},
	[VU_REM_MEM_REG] = {"REM_MEM_REG"},
	[VU_SET_STATUS] = {"SET_STATUS"},
	[VU_GET_STATUS] = {"GET_STATUS"},
};

#define STATE_SIZE 8u
#define ADDR_SIZE 40u
#define REGION_SIZE 32u
#define MEM_HDR_SIZE 8u
#define CONFIG_HDR_SIZE 12u

const char *vu_request_name(uint32_t request)
{
	if (request < VU_REQUEST_MAX_ && reqs[request].name)
		return reqs[request].name;
	return "UNKNOWN";
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

#define WHY(...) (snprintf(why, VU_WHY_MAX, __VA_ARGS__), -1)

int vu_check_header(const uint8_t *buf, uint32_t *size, char *why)
{
	uint32_t req = get32(buf), flags = get32(buf + 4), sz = get32(buf + 8);
	const char *name = vu_request_name(req);
	unsigned shape = req < VU_REQUEST_MAX_ ? reqs[req].shape : SH_UNKNOWN;
	uint32_t min, max;

	if (req >= VU_REQUEST_MAX_ || !reqs[req].name)
		return WHY("unknown request %" PRIu32, req);
	if (shape == SH_UNKNOWN)
		return WHY("%s (%" PRIu32 "): not supported", name, req);
	if ((flags & VU_VERSION_MASK) != VU_VERSION)
		return WHY("%s: version %" PRIu32 " in flags 0x%" PRIx32
			   ", not %u",
			   name, flags & VU_VERSION_MASK, flags, VU_VERSION);
	if (flags & VU_FLAG_REPLY)
		return WHY("%s: a reply (flags 0x%" PRIx32
			   ") from the front-end",
			   name, flags);
	if (flags & ~(VU_VERSION_MASK | VU_FLAG_NEED_REPLY))
		return WHY("%s: unknown flag bits 0x%" PRIx32, name,
			   flags & ~(VU_VERSION_MASK | VU_FLAG_NEED_REPLY));
	switch (shape) {
	case SH_NONE:
	case SH_FD:
		min = max = 0;
		break;
	case SH_U64:
	case SH_U64_FD:
		min = max = 8;
		break;
	case SH_STATE:
		min = max = STATE_SIZE;
		break;
	case SH_ADDR:
		min = max = ADDR_SIZE;
		break;
	case SH_MEM:
		min = MEM_HDR_SIZE + REGION_SIZE;
		max = VU_PAYLOAD_MAX;
		break;
	default: /* SH_CONFIG */
		min = CONFIG_HDR_SIZE;
		max = CONFIG_HDR_SIZE + VU_CONFIG_MAX;
		break;
	}
	if (sz < min || sz > max) {
		if (min == max)
			return WHY("%s: payload of %" PRIu32
				   " bytes, not %" PRIu32,
				   name, sz, min);
		return WHY("%s: payload of %" PRIu32 " bytes, not %" PRIu32
			   "..%" PRIu32,
			   name, sz, min, max);
	}
	if (shape == SH_MEM && (sz - MEM_HDR_SIZE) % REGION_SIZE)
		return WHY("%s: payload of %" PRIu32
			   " bytes is not whole regions",
			   name, sz);
	*size = sz;
	return 0;
}

static int want_fds(const struct vu_msg *m, unsigned want, char *why)
{
	const char *name = vu_request_name(m->request);

	if (m->nfds == want)
		return 0;
	if (want && !m->nfds)
		return WHY("%s: needs %u fd%s, none came", name, want,
			   want == 1 ? "" : "s");
	if (!want)
		return WHY("%s: %u unexpected fd%s", name, m->nfds,
			   m->nfds == 1 ? "" : "s");
	return WHY("%s: needs %u fds, %u came", name, want, m->nfds);
}

static int add_overflows(uint64_t a, uint64_t b)
{
	return a + b < a;
}

static int decode_mem(const uint8_t *p, struct vu_msg *m, char *why)
{
	uint32_t num = get32(p);

	if (num == 0)
		return WHY("SET_MEM_TABLE: no regions");
	if (num > VU_MAX_REGIONS)
		return WHY("SET_MEM_TABLE: too many regions (%" PRIu32
			   ", at most %u)",
			   num, VU_MAX_REGIONS);
	if (MEM_HDR_SIZE + num * REGION_SIZE > m->size)
		return WHY("SET_MEM_TABLE: %" PRIu32 " regions need %" PRIu32
			   " bytes, payload has %" PRIu32,
			   num, MEM_HDR_SIZE + num * REGION_SIZE, m->size);
	m->u.mem.num = num;
	for (uint32_t i = 0; i < num; i++) {
		const uint8_t *q = p + MEM_HDR_SIZE + i * REGION_SIZE;
		struct vu_region *r = &m->u.mem.r[i];

		r->guest_addr = get64(q);
		r->size = get64(q + 8);
		r->user_addr = get64(q + 16);
		r->mmap_offset = get64(q + 24);
		if (r->size == 0)
			return WHY("SET_MEM_TABLE: region %" PRIu32 " is empty",
				   i);
		if (add_overflows(r->guest_addr, r->size) ||
		    add_overflows(r->user_addr, r->size) ||
		    add_overflows(r->mmap_offset, r->size))
			return WHY("SET_MEM_TABLE: region %" PRIu32
				   " (size 0x%" PRIx64
				   ") wraps the address space",
				   i, r->size);
	}
	return want_fds(m, num, why);
}

static int decode_config(const uint8_t *p, struct vu_msg *m, char *why)
{
	const char *name = vu_request_name(m->request);

	m->u.config.offset = get32(p);
	m->u.config.size = get32(p + 4);
	m->u.config.flags = get32(p + 8);
	if (m->u.config.size > VU_CONFIG_MAX)
		return WHY("%s: %" PRIu32 " config bytes, at most %u", name,
			   m->u.config.size, VU_CONFIG_MAX);
	if (m->size != CONFIG_HDR_SIZE + m->u.config.size)
		return WHY("%s: payload of %" PRIu32 " bytes for %" PRIu32
			   " config bytes",
			   name, m->size, m->u.config.size);
	if (m->u.config.offset > VU_CONFIG_MAX - m->u.config.size)
		return WHY("%s: offset %" PRIu32 " + %" PRIu32
			   " beyond the config space",
			   name, m->u.config.offset, m->u.config.size);
	memcpy(m->u.config.data, p + CONFIG_HDR_SIZE, m->u.config.size);
	return want_fds(m, 0, why);
}

int vu_decode(const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
	      struct vu_msg *m, char *why)
{
	const uint8_t *p = buf + VU_HDR_SIZE;
	uint32_t size;
	const char *name;

	if (len < VU_HDR_SIZE)
		return 0;
	if (vu_check_header(buf, &size, why) < 0)
		return -1;
	if (len - VU_HDR_SIZE < size)
		return 0;
	memset(m, 0, sizeof(*m));
	m->request = get32(buf);
	m->flags = get32(buf + 4);
	m->size = size;
	name = vu_request_name(m->request);
	if (nfds > VU_MAX_FDS)
		return WHY("%s: %u fds, at most %u", name, nfds, VU_MAX_FDS);
	for (unsigned i = 0; i < VU_MAX_FDS; i++)
		m->fds[i] = i < nfds ? fds[i] : -1;
	m->nfds = nfds;

	switch (reqs[m->request].shape) {
	case SH_NONE:
		if (want_fds(m, 0, why) < 0)
			return -1;
		break;
	case SH_FD:
		if (want_fds(m, 1, why) < 0)
			return -1;
		break;
	case SH_U64:
		m->u.u64 = get64(p);
		if (want_fds(m, 0, why) < 0)
			return -1;
		break;
	case SH_U64_FD:
		m->u.u64 = get64(p);
		if (m->u.u64 & ~(uint64_t)(VU_VRING_IDX_MASK | VU_VRING_NOFD))
			return WHY("%s: reserved bits in 0x%" PRIx64, name,
				   m->u.u64);
		if (want_fds(m, m->u.u64 & VU_VRING_NOFD ? 0 : 1, why) < 0)
			return -1;
		break;
	case SH_STATE:
		m->u.state.index = get32(p);
		m->u.state.num = get32(p + 4);
		if (want_fds(m, 0, why) < 0)
			return -1;
		break;
	case SH_ADDR:
		m->u.addr.index = get32(p);
		m->u.addr.flags = get32(p + 4);
		m->u.addr.desc = get64(p + 8);
		m->u.addr.used = get64(p + 16);
		m->u.addr.avail = get64(p + 24);
		m->u.addr.log = get64(p + 32);
		if (m->u.addr.flags & ~1u)
			return WHY("%s: unknown flag bits 0x%" PRIx32, name,
				   m->u.addr.flags & ~1u);
		if (want_fds(m, 0, why) < 0)
			return -1;
		break;
	case SH_MEM:
		if (decode_mem(p, m, why) < 0)
			return -1;
		break;
	default: /* SH_CONFIG */
		if (decode_config(p, m, why) < 0)
			return -1;
		break;
	}
	return (int)(VU_HDR_SIZE + size);
}

static void put_hdr(uint8_t *buf, uint32_t request, uint32_t size)
{
	put32(buf, request);
	put32(buf + 4, VU_VERSION | VU_FLAG_REPLY);
	put32(buf + 8, size);
}

int vu_encode_ack(uint32_t request, uint64_t status, uint8_t *buf, size_t cap)
{
	if (cap < VU_HDR_SIZE + 8)
		return -1;
	put_hdr(buf, request, 8);
	put64(buf + VU_HDR_SIZE, status);
	return (int)VU_HDR_SIZE + 8;
}

int vu_encode_reply(const struct vu_msg *m, uint8_t *buf, size_t cap)
{
	uint8_t *p = buf + VU_HDR_SIZE;
	uint32_t size;

	switch (m->request) {
	case VU_GET_FEATURES:
	case VU_GET_PROTOCOL_FEATURES:
	case VU_GET_QUEUE_NUM:
		return vu_encode_ack(m->request, m->u.u64, buf, cap);
	case VU_GET_VRING_BASE:
		if (cap < VU_HDR_SIZE + STATE_SIZE)
			return -1;
		put_hdr(buf, m->request, STATE_SIZE);
		put32(p, m->u.state.index);
		put32(p + 4, m->u.state.num);
		return (int)(VU_HDR_SIZE + STATE_SIZE);
	case VU_GET_CONFIG:
		if (m->u.config.size > VU_CONFIG_MAX)
			return -1;
		size = CONFIG_HDR_SIZE + m->u.config.size;
		if (cap < VU_HDR_SIZE + size)
			return -1;
		put_hdr(buf, m->request, size);
		put32(p, m->u.config.offset);
		put32(p + 4, m->u.config.size);
		put32(p + 8, m->u.config.flags);
		memcpy(p + CONFIG_HDR_SIZE, m->u.config.data, m->u.config.size);
		return (int)(VU_HDR_SIZE + size);
	default:
		return -1;
	}
}

int vu_check_reply(const uint8_t *buf, uint32_t request, uint32_t *size,
		   char *why)
{
	uint32_t req = get32(buf), flags = get32(buf + 4), sz = get32(buf + 8);
	const char *name = vu_request_name(request);

	if (req != request)
		return WHY("a reply to %s (%" PRIu32 ") where %s's was due",
			   vu_request_name(req), req, name);
	if (flags != (VU_VERSION | VU_FLAG_REPLY))
		return WHY("%s: reply flags 0x%" PRIx32 ", not 0x%x", name,
			   flags, VU_VERSION | VU_FLAG_REPLY);
	if (sz > CONFIG_HDR_SIZE + VU_CONFIG_MAX && sz > VU_PAYLOAD_MAX)
		return WHY("%s: reply payload of %" PRIu32 " bytes", name, sz);
	*size = sz;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* The fds of @mh into @fds; -1 when the kernel dropped some. */
static int take_fds(struct msghdr *mh, int *fds, unsigned *nfds)
{
	for (struct cmsghdr *h = CMSG_FIRSTHDR(mh); h; h = CMSG_NXTHDR(mh, h)) {
		size_t k;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(fd));
			if (*nfds < VU_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	return mh->msg_flags & MSG_CTRUNC ? -1 : 0;
}

int vu_recv(int fd, int stop_fd, uint8_t *buf, size_t len, int *fds,
	    unsigned *nfds, int timeout_ms, const char *peer, char *why)
{
	long long deadline = now_ms() + timeout_ms;
	size_t got = 0;

	while (got < len) {
		union {
			char b[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {buf + got, len - got};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		struct pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
		long long left;
		ssize_t n;

		if (fds) {
			mh.msg_control = ctl.b;
			mh.msg_controllen = sizeof(ctl.b);
		}
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n > 0 && fds && take_fds(&mh, fds, nfds) < 0)
			return WHY("more than %u fds with one message",
				   VU_MAX_FDS);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			snprintf(why, VU_WHY_MAX, "%s closed the socket", peer);
			return got ? -1 : 1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return WHY("read the socket: %s", strerror(errno));
		if (got == 0 && fds)
			return 2; /* nothing there: not even a header */
		left = deadline - now_ms();
		if (left <= 0 || poll(p, 2, (int)left) == 0)
			return WHY("%s stopped %zu bytes into a %zu-byte read",
				   peer, got, len);
		if (p[1].revents)
			return 3;
	}
	return 0;
}

int vu_send(int fd, const uint8_t *buf, size_t len, const int *fds,
	    unsigned nfds, int timeout_ms, const char *peer, char *why)
{
	long long deadline = now_ms() + timeout_ms;
	size_t off = 0;

	if (nfds > VU_MAX_FDS)
		return WHY("%u fds, at most %u", nfds, VU_MAX_FDS);
	while (off < len) {
		union {
			char b[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {(void *)(buf + off), len - off};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		struct pollfd p = {fd, POLLOUT, 0};
		long long left;
		ssize_t n;

		if (off == 0 && nfds) {
			struct cmsghdr *h;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.b;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			h = CMSG_FIRSTHDR(&mh);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(h), fds, sizeof(int) * nfds);
		}
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return WHY("write to %s: %s", peer, strerror(errno));
		left = deadline - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return WHY("%s took no more after %zu of %zu bytes",
				   peer, off, len);
	}
	return 0;
}
