/* The vhost-user wire format: a strict decoder of front-end messages and an
 * encoder of our replies (QEMU docs/interop/vhost-user.rst). */
#ifndef VTB_VU_H
#define VTB_VU_H

#include <stddef.h>
#include <stdint.h>

/* Header: request u32, flags u32, size u32 (payload bytes), little-endian. */
#define VU_HDR_SIZE 12u
#define VU_VERSION 0x1u
#define VU_VERSION_MASK 0x3u
#define VU_FLAG_REPLY 0x4u
#define VU_FLAG_NEED_REPLY 0x8u

#define VU_MAX_REGIONS 8u
#define VU_MAX_FDS 8u
/* Config space bytes a GET/SET_CONFIG may carry (QEMU's limit too). */
#define VU_CONFIG_MAX 256u
/* The largest payload of any request we decode (a full memory table). */
#define VU_PAYLOAD_MAX (8u + VU_MAX_REGIONS * 32u)
/* Bytes a reason string takes at most, NUL included. */
#define VU_WHY_MAX 160u

/* In the u64 of SET_VRING_KICK/CALL/ERR: the ring index and "no fd". */
#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD 0x100u

/* Feature bits of vhost-user itself. */
#define VU_F_PROTOCOL_FEATURES 30
#define VU_PROTOCOL_F_MQ 0
#define VU_PROTOCOL_F_REPLY_ACK 3
#define VU_PROTOCOL_F_SLAVE_REQ 5
#define VU_PROTOCOL_F_CONFIG 9
#define VU_PROTOCOL_F_RESET_DEVICE 13
#define VU_PROTOCOL_F_INBAND_NOTIFICATIONS 14

/* Message numbers are the specification's; never renumbered. */
enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_SEND_RARP = 19,
	VU_NET_SET_MTU = 20,
	VU_SET_SLAVE_REQ_FD = 21,
	VU_IOTLB_MSG = 22,
	VU_SET_VRING_ENDIAN = 23,
	VU_GET_CONFIG = 24,
	VU_SET_CONFIG = 25,
	VU_RESET_DEVICE = 34,
	VU_VRING_KICK = 35,
	VU_GET_MAX_MEM_SLOTS = 36,
	VU_ADD_MEM_REG = 37,
	VU_REM_MEM_REG = 38,
	VU_SET_STATUS = 39,
	VU_GET_STATUS = 40,
	VU_REQUEST_MAX_
};

struct vu_region {
	uint64_t guest_addr;  /* guest physical: descriptor addresses */
	uint64_t size;	      /* bytes */
	uint64_t user_addr;   /* front-end virtual: vring addresses */
	uint64_t mmap_offset; /* where the region starts in its fd */
};

/* One decoded message.  Fds are the caller's: vu_decode() only checks how
 * many came and copies them; the caller closes what it does not keep. */
struct vu_msg {
	uint32_t request; /* enum vu_request */
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64; /* features; KICK/CALL/ERR: index | NOFD */
		struct {
			uint32_t index, num;
		} state; /* SET_VRING_NUM/BASE/ENABLE, GET_VRING_BASE */
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log; /* front-end virtual */
		} addr;
		struct {
			uint32_t num;
			struct vu_region r[VU_MAX_REGIONS];
		} mem;
		struct {
			uint32_t offset, size, flags;
			uint8_t data[VU_CONFIG_MAX];
		} config;
	} u;
	int fds[VU_MAX_FDS]; /* SET_MEM_TABLE: one per region; else fds[0] */
	unsigned nfds;
};

/* "SET_MEM_TABLE", or "UNKNOWN". */
const char *vu_request_name(uint32_t request);

/*
 * Check the header in @buf (VU_HDR_SIZE bytes) before reading the payload:
 * 0 and the payload bytes in *@size, or -1 with the reason in @why
 * (VU_WHY_MAX bytes): an unknown request, bad flags, or a size this
 * request can never have.  A stream reader calls it so that it never
 * waits for bytes that cannot form a message.
 */
int vu_check_header(const uint8_t *buf, uint32_t *size, char *why);

/*
 * Decode one message from @buf[0, @len) with the @nfds fds that came with
 * it.  Returns the bytes consumed, 0 when @buf is a proper prefix (more
 * bytes needed), or -1 with the reason in @why (VU_WHY_MAX bytes): unknown
 * request, wrong version or unknown flag bits, a size that does not match
 * the request's payload, too many or empty regions, a missing or an
 * unexpected fd, reserved bits set.  Never reads past @len.
 */
int vu_decode(const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
	      struct vu_msg *m, char *why);

/*
 * Encode the reply to @m (m->request, and the payload member its reply
 * carries: u64 for GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM and
 * any REPLY_ACK; state for GET_VRING_BASE; config for GET_CONFIG) into
 * @buf of @cap bytes.  Returns the bytes written, or -1 when @cap is too
 * small or the request has no reply of that shape.
 */
int vu_encode_reply(const struct vu_msg *m, uint8_t *buf, size_t cap);

/* The reply to a NEED_REPLY request that has no reply of its own:
 * u64 @status (0 = success). */
int vu_encode_ack(uint32_t request, uint64_t status, uint8_t *buf, size_t cap);

/*
 * Check the header in @buf (VU_HDR_SIZE bytes) of a back-end's reply to
 * @request: 0 and its payload bytes in *@size, or -1 with the reason in
 * @why: not a reply, another request's, wrong version or flag bits, a
 * payload larger than any reply's.  The payload's shape is the caller's.
 */
int vu_check_reply(const uint8_t *buf, uint32_t request, uint32_t *size,
		   char *why);

/*
 * Exactly @len bytes from stream socket @fd into @buf; with @fds, the fds
 * that came with them are appended to @fds (*@nfds of VU_MAX_FDS, the
 * caller closes them, also on failure).  Waits on @fd and @stop_fd
 * (readable: stop); once a first byte came the rest must come within
 * @timeout_ms.  Returns 0, 2 when nothing was there (with @fds only: a
 * reader polls first), 3 when stopped, 1 (and @why) when @peer closed the
 * socket before a first byte, or -1 with @why: @peer closed it part-way
 * or stopped, a read error, more than VU_MAX_FDS fds.
 */
int vu_recv(int fd, int stop_fd, uint8_t *buf, size_t len, int *fds,
	    unsigned *nfds, int timeout_ms, const char *peer, char *why);

/*
 * All @len bytes of @buf to stream socket @fd, @nfds fds with the first
 * byte (SCM_RIGHTS), within @timeout_ms; never SIGPIPE.  0, or -1 with
 * @why naming @peer.
 */
int vu_send(int fd, const uint8_t *buf, size_t len, const int *fds,
	    unsigned nfds, int timeout_ms, const char *peer, char *why);

#endif
