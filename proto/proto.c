/* Codec for the vtbench wire protocol; the decoder is the trust boundary. */
#include "proto/proto.h"

#include <errno.h>
#include <string.h>

/* Bytes of each payload's integer fields, in the order of its struct. */
#define HELLO_INTS (4 + 8 + 8 + 8 + 4)
#define ERROR_INTS 4
#define RUN_INTS (4 + 4 + 8 + 8 + 4 + 4)
#define RESULT_INTS (4 + 8 + 8 + 8 + 8 + 4 + 4 + 4 + 4 + 8 + 8 + 8)
#define BYE_INTS 8
#define DATA_LEN 2

/* Bytes a string field takes on the wire at most / at least. */
#define STR_MAX(arr) (2u + sizeof(arr) - 1u)
#define STR_MIN 2u

static const char *const type_names[VTB_MSG_TYPE_MAX_] = {
	[VTB_MSG_HELLO] = "HELLO",	 [VTB_MSG_ERROR] = "ERROR",
	[VTB_MSG_RUN] = "RUN",		 [VTB_MSG_RESULT] = "RESULT",
	[VTB_MSG_POWEROFF] = "POWEROFF", [VTB_MSG_BYE] = "BYE",
	[VTB_MSG_READY] = "READY",	 [VTB_MSG_DATA] = "DATA",
};

const char *vtb_msg_type_name(unsigned type)
{
	if (type < VTB_MSG_TYPE_MAX_ && type_names[type])
		return type_names[type];
	return "UNKNOWN";
}

/*
 * Payload size bounds per type.  Checking them as soon as the header is
 * complete lets a stream reader reject a hopeless length at once instead of
 * waiting for bytes that can never form a valid message.
 */
struct bounds {
	uint32_t min, max;
};

static int payload_bounds(unsigned type, struct bounds *b)
{
	const struct vtb_msg *m = NULL;

	switch (type) {
	case VTB_MSG_HELLO:
		b->min = HELLO_INTS + STR_MIN + STR_MIN;
		b->max = HELLO_INTS + STR_MAX(m->u.hello.release) +
			 STR_MAX(m->u.hello.agent_version);
		return 0;
	case VTB_MSG_ERROR:
		b->min = ERROR_INTS + STR_MIN + STR_MIN;
		b->max = ERROR_INTS + STR_MAX(m->u.error.step) +
			 STR_MAX(m->u.error.detail);
		return 0;
	case VTB_MSG_RUN:
		b->min = RUN_INTS + 6 * STR_MIN;
		b->max = RUN_INTS + STR_MAX(m->u.run.path) +
			 STR_MAX(m->u.run.path2) + STR_MAX(m->u.run.mount) +
			 STR_MAX(m->u.run.mount_fs) +
			 STR_MAX(m->u.run.mount_opts) + STR_MAX(m->u.run.args);
		return 0;
	case VTB_MSG_RESULT:
		b->min = RESULT_INTS + STR_MIN;
		b->max = RESULT_INTS + STR_MAX(m->u.result.detail);
		return 0;
	case VTB_MSG_BYE:
		b->min = b->max = BYE_INTS;
		return 0;
	case VTB_MSG_DATA:
		b->min = DATA_LEN;
		b->max = DATA_LEN + VTB_DATA_MAX;
		return 0;
	case VTB_MSG_POWEROFF:
	case VTB_MSG_READY:
		b->min = b->max = 0;
		return 0;
	default:
		return -1;
	}
}

/* ---- encoding ---- */

struct wbuf {
	uint8_t *p;
	size_t len;
};

static void put_u16(struct wbuf *w, uint16_t v)
{
	w->p[w->len++] = (uint8_t)v;
	w->p[w->len++] = (uint8_t)(v >> 8);
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	put_u16(w, (uint16_t)n);
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* Wire size of string field @s in an array of @size, or 0 if unterminated. */
static size_t str_size(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	return n < size ? 2 + n : 0;
}

#define STR_SIZE(arr) str_size((arr), sizeof(arr))

/* Payload size of @m, or 0 with *ok false when a field cannot be encoded. */
static size_t payload_size(const struct vtb_msg *m, int *ok)
{
	size_t a, b;

	*ok = 1;
	switch (m->type) {
	case VTB_MSG_HELLO:
		a = STR_SIZE(m->u.hello.release);
		b = STR_SIZE(m->u.hello.agent_version);
		*ok = a && b;
		return HELLO_INTS + a + b;
	case VTB_MSG_ERROR:
		a = STR_SIZE(m->u.error.step);
		b = STR_SIZE(m->u.error.detail);
		*ok = a && b;
		return ERROR_INTS + a + b;
	case VTB_MSG_RUN: {
		size_t c = STR_SIZE(m->u.run.mount),
		       d = STR_SIZE(m->u.run.mount_fs),
		       e = STR_SIZE(m->u.run.mount_opts),
		       f = STR_SIZE(m->u.run.args);

		a = STR_SIZE(m->u.run.path);
		b = STR_SIZE(m->u.run.path2);
		*ok = a && b && c && d && e && f;
		return RUN_INTS + a + b + c + d + e + f;
	}
	case VTB_MSG_RESULT:
		a = STR_SIZE(m->u.result.detail);
		*ok = a != 0;
		return RESULT_INTS + a;
	case VTB_MSG_BYE:
		return BYE_INTS;
	case VTB_MSG_DATA:
		*ok = m->u.data.len <= VTB_DATA_MAX;
		return DATA_LEN + m->u.data.len;
	case VTB_MSG_POWEROFF:
	case VTB_MSG_READY:
		return 0;
	default:
		*ok = 0;
		return 0;
	}
}

int vtb_msg_encode(const struct vtb_msg *m, uint8_t *buf, size_t cap)
{
	struct wbuf w = {buf, 0};
	int ok;
	size_t plen = payload_size(m, &ok);

	if (!ok)
		return -EINVAL;
	if (cap < VTB_HDR_SIZE + plen)
		return -ENOSPC;

	put_u32(&w, VTB_MAGIC);
	put_u16(&w, m->type);
	put_u16(&w, 0);
	put_u32(&w, (uint32_t)plen);

	switch (m->type) {
	case VTB_MSG_HELLO:
		put_u32(&w, m->u.hello.version);
		put_u64(&w, m->u.hello.t_entry_ns);
		put_u64(&w, m->u.hello.t_modules_ns);
		put_u64(&w, m->u.hello.t_hello_ns);
		put_u32(&w, m->u.hello.modules_loaded);
		put_str(&w, m->u.hello.release);
		put_str(&w, m->u.hello.agent_version);
		break;
	case VTB_MSG_ERROR:
		put_u32(&w, (uint32_t)m->u.error.err);
		put_str(&w, m->u.error.step);
		put_str(&w, m->u.error.detail);
		break;
	case VTB_MSG_RUN:
		put_u32(&w, m->u.run.work);
		put_u32(&w, m->u.run.flags);
		put_u64(&w, m->u.run.size);
		put_u64(&w, m->u.run.seed);
		put_u32(&w, m->u.run.block);
		put_u32(&w, m->u.run.idle_ms);
		put_str(&w, m->u.run.path);
		put_str(&w, m->u.run.path2);
		put_str(&w, m->u.run.mount);
		put_str(&w, m->u.run.mount_fs);
		put_str(&w, m->u.run.mount_opts);
		put_str(&w, m->u.run.args);
		break;
	case VTB_MSG_RESULT:
		put_u32(&w, (uint32_t)m->u.result.err);
		put_u64(&w, m->u.result.bytes);
		put_u64(&w, m->u.result.hash);
		put_u64(&w, m->u.result.t_start_ns);
		put_u64(&w, m->u.result.t_end_ns);
		put_u32(&w, m->u.result.cpu_busy_permille);
		put_u32(&w, m->u.result.cpu_iowait_permille);
		put_u32(&w, m->u.result.cpu_steal_permille);
		put_u32(&w, m->u.result.cpu_idle_permille);
		put_u64(&w, m->u.result.ctxt);
		put_u64(&w, m->u.result.intr);
		put_u64(&w, m->u.result.mem_used_kib);
		put_str(&w, m->u.result.detail);
		break;
	case VTB_MSG_BYE:
		put_u64(&w, m->u.bye.t_ns);
		break;
	case VTB_MSG_DATA:
		put_u16(&w, m->u.data.len);
		memcpy(w.p + w.len, m->u.data.bytes, m->u.data.len);
		w.len += m->u.data.len;
		break;
	default:
		break;
	}
	return (int)w.len;
}

/* ---- decoding ---- */

/* A cursor over the payload; any overrun latches bad. */
struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int bad;
};

static uint64_t get_le(struct rbuf *r, size_t n)
{
	uint64_t v = 0;

	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += n;
	return v;
}

static uint32_t get_u32(struct rbuf *r)
{
	return (uint32_t)get_le(r, 4);
}

static uint64_t get_u64(struct rbuf *r)
{
	return get_le(r, 8);
}

static void get_str(struct rbuf *r, char *dst, size_t size)
{
	size_t n = (size_t)get_le(r, 2);

	if (r->bad)
		return;
	if (n >= size || r->len - r->off < n ||
	    memchr(r->p + r->off, '\0', n)) {
		r->bad = 1;
		return;
	}
	memcpy(dst, r->p + r->off, n);
	dst[n] = '\0';
	r->off += n;
}

#define GET_STR(r, arr) get_str((r), (arr), sizeof(arr))

/* A blob of u16 length + bytes into @dst of @size; NULs allowed. */
static uint16_t get_blob(struct rbuf *r, uint8_t *dst, size_t size)
{
	size_t n = (size_t)get_le(r, 2);

	if (r->bad)
		return 0;
	if (n > size || r->len - r->off < n) {
		r->bad = 1;
		return 0;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return (uint16_t)n;
}

static uint32_t hdr_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t hdr_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/*
 * Check whatever part of the header is present, so that garbage is refused
 * from its first bad byte rather than after a full header has arrived.
 */
static int check_header(const uint8_t *buf, size_t len, unsigned *type,
			uint32_t *plen)
{
	static const uint8_t magic[4] = {
		VTB_MAGIC & 0xff,
		(VTB_MAGIC >> 8) & 0xff,
		(VTB_MAGIC >> 16) & 0xff,
		(VTB_MAGIC >> 24) & 0xff,
	};
	struct bounds b;

	if (len == 0)
		return 0;
	if (memcmp(buf, magic, len < 4 ? len : 4) != 0)
		return -EBADMSG;
	if (len < 6)
		return 0;
	*type = hdr_u16(buf + 4);
	if (payload_bounds(*type, &b) < 0)
		return -EBADMSG;
	if (len >= 7 && buf[6] != 0)
		return -EBADMSG;
	if (len >= 8 && buf[7] != 0)
		return -EBADMSG;
	if (len < VTB_HDR_SIZE)
		return 0;
	*plen = hdr_u32(buf + 8);
	if (*plen > VTB_MSG_MAX_PAYLOAD || *plen < b.min || *plen > b.max)
		return -EBADMSG;
	return 1;
}

int vtb_msg_decode(const uint8_t *buf, size_t len, struct vtb_msg *out)
{
	struct vtb_msg m;
	struct rbuf r;
	unsigned type = 0;
	uint32_t plen = 0;
	int ret;

	ret = check_header(buf, len, &type, &plen);
	if (ret <= 0)
		return ret;
	if (len - VTB_HDR_SIZE < plen)
		return 0;

	/* Zeroed so that padding and string tails compare equal. */
	memset(&m, 0, sizeof(m));
	m.type = (uint16_t)type;
	r = (struct rbuf){buf + VTB_HDR_SIZE, plen, 0, 0};

	switch (type) {
	case VTB_MSG_HELLO:
		m.u.hello.version = get_u32(&r);
		m.u.hello.t_entry_ns = get_u64(&r);
		m.u.hello.t_modules_ns = get_u64(&r);
		m.u.hello.t_hello_ns = get_u64(&r);
		m.u.hello.modules_loaded = get_u32(&r);
		GET_STR(&r, m.u.hello.release);
		GET_STR(&r, m.u.hello.agent_version);
		break;
	case VTB_MSG_ERROR:
		m.u.error.err = (int32_t)get_u32(&r);
		GET_STR(&r, m.u.error.step);
		GET_STR(&r, m.u.error.detail);
		break;
	case VTB_MSG_RUN:
		m.u.run.work = get_u32(&r);
		m.u.run.flags = get_u32(&r);
		m.u.run.size = get_u64(&r);
		m.u.run.seed = get_u64(&r);
		m.u.run.block = get_u32(&r);
		m.u.run.idle_ms = get_u32(&r);
		GET_STR(&r, m.u.run.path);
		GET_STR(&r, m.u.run.path2);
		GET_STR(&r, m.u.run.mount);
		GET_STR(&r, m.u.run.mount_fs);
		GET_STR(&r, m.u.run.mount_opts);
		GET_STR(&r, m.u.run.args);
		break;
	case VTB_MSG_RESULT:
		m.u.result.err = (int32_t)get_u32(&r);
		m.u.result.bytes = get_u64(&r);
		m.u.result.hash = get_u64(&r);
		m.u.result.t_start_ns = get_u64(&r);
		m.u.result.t_end_ns = get_u64(&r);
		m.u.result.cpu_busy_permille = get_u32(&r);
		m.u.result.cpu_iowait_permille = get_u32(&r);
		m.u.result.cpu_steal_permille = get_u32(&r);
		m.u.result.cpu_idle_permille = get_u32(&r);
		m.u.result.ctxt = get_u64(&r);
		m.u.result.intr = get_u64(&r);
		m.u.result.mem_used_kib = get_u64(&r);
		GET_STR(&r, m.u.result.detail);
		break;
	case VTB_MSG_BYE:
		m.u.bye.t_ns = get_u64(&r);
		break;
	case VTB_MSG_DATA:
		m.u.data.len =
			get_blob(&r, m.u.data.bytes, sizeof(m.u.data.bytes));
		break;
	default:
		break;
	}
	if (r.bad || r.off != r.len)
		return -EBADMSG;

	memcpy(out, &m, sizeof(m));
	return (int)(VTB_HDR_SIZE + plen);
}

/* ---- payload ---- */

/* splitmix64's output function (Steele, Lea, Flood 2014). */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t payload_word(uint64_t seed, uint64_t word)
{
	return mix64(seed + (word + 1) * VTB_PAYLOAD_GAMMA);
}

/* Byte stores the compiler merges into one 8-byte store on x86. */
static void store_le64(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	p[4] = (uint8_t)(v >> 32);
	p[5] = (uint8_t)(v >> 40);
	p[6] = (uint8_t)(v >> 48);
	p[7] = (uint8_t)(v >> 56);
}

void vtb_payload_fill(uint8_t *buf, size_t len, uint64_t off, uint64_t seed)
{
	uint64_t word = off / 8;
	unsigned skip = (unsigned)(off % 8);

	/* A partial first word when @off is not a multiple of 8. */
	if (skip) {
		uint64_t v = payload_word(seed, word++);

		for (; skip < 8 && len > 0; skip++, len--)
			*buf++ = (uint8_t)(v >> (8 * skip));
	}
	for (; len >= 8; len -= 8, buf += 8)
		store_le64(buf, payload_word(seed, word++));
	if (len > 0) {
		uint64_t v = payload_word(seed, word);

		for (unsigned i = 0; i < len; i++)
			buf[i] = (uint8_t)(v >> (8 * i));
	}
}
