/* The virtio-fs front's messages: config space answered, protocol
 * features rewritten, replies matched to their requests. */
#include "vhost/fsmsg.h"

#include <endian.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MIN_(a, b) ((a) < (b) ? (a) : (b))
#define WHY(...) (snprintf(why, VU_WHY_MAX, __VA_ARGS__), -1)

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

void vtb_fsfront_core_init(struct vtb_fsfront_core *c, const char *tag,
			   uint32_t queues)
{
	uint32_t q = htole32(queues);

	memset(c, 0, sizeof(*c));
	/* NUL-padded, not NUL-terminated when it is 36 bytes long. */
	memcpy(c->config, tag, MIN_(strlen(tag), VTB_FS_TAG_MAX));
	memcpy(c->config + VTB_FS_TAG_MAX, &q, sizeof(q));
}

/* Requests whose reply the back-end sends whether or not it was asked
 * for (those the front forwards). */
static bool has_reply(uint32_t request)
{
	return request == VU_GET_FEATURES ||
	       request == VU_GET_PROTOCOL_FEATURES ||
	       request == VU_GET_QUEUE_NUM || request == VU_GET_VRING_BASE;
}

int vtb_fsfront_request(struct vtb_fsfront_core *c, uint8_t *buf, size_t len,
			const struct vu_msg *m, uint8_t *out, size_t cap,
			int *out_len, char *why)
{
	struct vu_msg r;

	*out_len = 0;
	switch (m->request) {
	case VU_GET_CONFIG:
		/* Its own reply, never an ack (NEED_REPLY is moot). */
		r = *m;
		memset(r.u.config.data, 0, sizeof(r.u.config.data));
		if (m->u.config.offset < VTB_FS_CONFIG_SIZE)
			memcpy(r.u.config.data, c->config + m->u.config.offset,
			       MIN_(m->u.config.size,
				    VTB_FS_CONFIG_SIZE - m->u.config.offset));
		*out_len = vu_encode_reply(&r, out, cap);
		if (*out_len < 0)
			return WHY("GET_CONFIG: no room for the reply");
		c->st.config_reads++;
		return VTB_FSF_ANSWER;
	case VU_SET_CONFIG:
		/* A virtio-fs device's config space is read-only (5.11.4):
		 * a write is not applied, and an ack says so. */
		c->st.config_writes++;
		if (m->flags & VU_FLAG_NEED_REPLY) {
			*out_len = vu_encode_ack(m->request, 1, out, cap);
			if (*out_len < 0)
				return WHY("SET_CONFIG: no room for the ack");
		}
		return VTB_FSF_ANSWER;
	case VU_SET_PROTOCOL_FEATURES:
		/* The back-end never offered F_CONFIG: it must not see it
		 * accepted. */
		if (len < VU_HDR_SIZE + 8)
			return WHY("SET_PROTOCOL_FEATURES: short message");
		put64(buf + VU_HDR_SIZE,
		      m->u.u64 & ~(1ull << VU_PROTOCOL_F_CONFIG));
		break;
	default:
		break;
	}
	if (has_reply(m->request) || (m->flags & VU_FLAG_NEED_REPLY)) {
		if (c->npending == VTB_FSFRONT_PENDING_MAX)
			return WHY("%s: %u replies already due from the "
				   "back-end",
				   vu_request_name(m->request), c->npending);
		c->pending[c->npending++] = m->request;
	}
	c->st.forwarded++;
	c->st.fds += m->nfds;
	return VTB_FSF_FORWARD;
}

uint32_t vtb_fsfront_due(const struct vtb_fsfront_core *c)
{
	return c->npending ? c->pending[0] : 0;
}

int vtb_fsfront_reply(struct vtb_fsfront_core *c, uint8_t *buf, size_t len,
		      char *why)
{
	uint32_t req = vtb_fsfront_due(c), size;
	uint64_t v;

	if (!req)
		return WHY("the back-end sent a message when no reply was "
			   "due");
	if (len < VU_HDR_SIZE)
		return WHY("a reply to %s of %zu bytes", vu_request_name(req),
			   len);
	if (vu_check_reply(buf, req, &size, why) < 0)
		return -1;
	/* Every reply to what the front forwards is a u64 or a vring
	 * state: 8 bytes. */
	if (size != 8 || len != VU_HDR_SIZE + size)
		return WHY("%s: reply payload of %zu bytes, not 8",
			   vu_request_name(req), len - VU_HDR_SIZE);
	if (req == VU_GET_PROTOCOL_FEATURES) {
		/*
		 * F_CONFIG: the front answers config space.  Not
		 * INBAND_NOTIFICATIONS: UML would then kick with messages
		 * through this socket instead of its eventfds.
		 */
		v = get64(buf + VU_HDR_SIZE);
		v |= 1ull << VU_PROTOCOL_F_CONFIG;
		v &= ~(1ull << VU_PROTOCOL_F_INBAND_NOTIFICATIONS);
		put64(buf + VU_HDR_SIZE, v);
	}
	memmove(c->pending, c->pending + 1,
		(c->npending - 1) * sizeof(c->pending[0]));
	c->npending--;
	c->st.replies++;
	return 0;
}
