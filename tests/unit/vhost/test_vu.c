/* Unit tests for vhost/vu.c: a table of messages the decoder must accept or
 * reject (with the reason), and the replies it encodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vhost/vu.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The payload as little-endian u64 words (this test runs on x86). */
#define NW 40

struct vu_case {
	const char *name;
	uint32_t request, flags, size;
	uint64_t w[NW];
	unsigned nfds;
	int cut;	 /* bytes short of the whole message: a prefix */
	const char *why; /* NULL: accepted; else a part of the reason */
};

#define V VU_VERSION
#define R1(g, s, u, o) (g), (s), (u), (o)

static const struct vu_case cases[] = {
	/* good */
	{"get features", VU_GET_FEATURES, V, 0},
	{"get features, need reply", VU_GET_FEATURES, V | VU_FLAG_NEED_REPLY,
	 0},
	{"set owner", VU_SET_OWNER, V, 0},
	{"set features", VU_SET_FEATURES, V, 8, {1ull << 32 | 1ull << 30}},
	{"set vring num", VU_SET_VRING_NUM, V, 8, {256ull << 32 | 4}},
	{"set vring addr",
	 VU_SET_VRING_ADDR,
	 V,
	 40,
	 {5, 0x1000, 0x3000, 0x2000, UINT64_MAX}},
	{"set vring kick", VU_SET_VRING_KICK, V, 8, {3}, 1},
	{"set vring call no fd", VU_SET_VRING_CALL, V, 8, {VU_VRING_NOFD | 3}},
	{"mem table 1 region",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 32,
	 {1, R1(0x1000, 0x10000, 0x7f0000001000, 0x1000)},
	 1},
	/* virtio_uml sends its whole two-region array with num = 1 */
	{"mem table 1 of 2 regions",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 64,
	 {1, R1(0x1000, 0x10000, 0x1000, 0x1000)},
	 1},
	{"mem table 8 regions",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 8 * 32,
	 {8, R1(0, 1, 0, 0), R1(1, 1, 1, 0), R1(2, 1, 2, 0), R1(3, 1, 3, 0),
	  R1(4, 1, 4, 0), R1(5, 1, 5, 0), R1(6, 1, 6, 0), R1(7, 1, 7, 0)},
	 8},
	{"get config 12", VU_GET_CONFIG, V, 12 + 12, {12ull << 32}},
	{"set slave req fd", VU_SET_SLAVE_REQ_FD, V, 0, {0}, 1},
	{"reset device", VU_RESET_DEVICE, V, 0},

	/* prefixes: more bytes needed, not an error */
	{"header prefix", VU_GET_FEATURES, V, 0, {0}, 0, 1, ""},
	{"payload prefix", VU_SET_FEATURES, V, 8, {0}, 0, 3, ""},

	/* bad */
	{"unknown request 0", 0, V, 0, .why = "unknown request 0"},
	{"unknown request 99", 99, V, 0, .why = "unknown request 99"},
	{"unknown request 26", 26, V, 0, .why = "unknown request 26"},
	{"unsupported log base", VU_SET_LOG_BASE, V, 8,
	 .why = "SET_LOG_BASE (6): not supported"},
	{"version 0", VU_GET_FEATURES, 0, 0, .why = "version 0"},
	{"version 2", VU_GET_FEATURES, 2, 0, .why = "version 2"},
	{"reply bit", VU_GET_FEATURES, V | VU_FLAG_REPLY, 0, .why = "a reply"},
	{"unknown flag", VU_GET_FEATURES, V | 0x100, 0,
	 .why = "unknown flag bits 0x100"},
	{"u64 short", VU_SET_FEATURES, V, 4,
	 .why = "SET_FEATURES: payload of 4 bytes, not 8"},
	{"u64 long", VU_SET_FEATURES, V, 16,
	 .why = "payload of 16 bytes, not 8"},
	{"no payload with payload", VU_SET_OWNER, V, 8,
	 .why = "SET_OWNER: payload of 8 bytes, not 0"},
	{"state short", VU_SET_VRING_NUM, V, 4, .why = "not 8"},
	{"addr short", VU_SET_VRING_ADDR, V, 32, .why = "not 40"},
	{"addr flags",
	 VU_SET_VRING_ADDR,
	 V,
	 40,
	 {2ull << 32},
	 .why = "unknown flag bits 0x2"},
	{"kick without fd",
	 VU_SET_VRING_KICK,
	 V,
	 8,
	 {3},
	 .why = "SET_VRING_KICK: needs 1 fd, none came"},
	{"kick nofd with fd",
	 VU_SET_VRING_KICK,
	 V,
	 8,
	 {VU_VRING_NOFD | 3},
	 1,
	 .why = "1 unexpected fd"},
	{"kick reserved bits",
	 VU_SET_VRING_KICK,
	 V,
	 8,
	 {1ull << 20},
	 1,
	 .why = "reserved bits"},
	{"features with fd",
	 VU_SET_FEATURES,
	 V,
	 8,
	 {0},
	 1,
	 .why = "SET_FEATURES: 1 unexpected fd"},
	{"slave req without fd", VU_SET_SLAVE_REQ_FD, V, 0,
	 .why = "needs 1 fd"},
	{"mem table empty payload", VU_SET_MEM_TABLE, V, 8,
	 .why = "payload of 8 bytes, not 40..264"},
	{"mem table too big payload", VU_SET_MEM_TABLE, V, 8 + 9 * 32,
	 .why = "not 40..264"},
	{"mem table partial region", VU_SET_MEM_TABLE, V, 8 + 40,
	 .why = "not whole regions"},
	{"mem table no regions",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 32,
	 {0},
	 .why = "no regions"},
	{"mem table too many regions",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 8 * 32,
	 {9},
	 8,
	 .why = "too many regions (9, at most 8)"},
	{"mem table num beyond size",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 32,
	 {2, R1(0, 1, 0, 0)},
	 2,
	 .why = "2 regions need 72 bytes, payload has 40"},
	{"mem table missing fd",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 64,
	 {2, R1(0, 1, 0, 0), R1(1, 1, 1, 0)},
	 1,
	 .why = "needs 2 fds, 1 came"},
	{"mem table no fds",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 32,
	 {1, R1(0, 1, 0, 0)},
	 .why = "needs 1 fd, none came"},
	{"mem table empty region",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 32,
	 {1, R1(0x1000, 0, 0, 0)},
	 1,
	 .why = "region 0 is empty"},
	{"mem table wraps",
	 VU_SET_MEM_TABLE,
	 V,
	 8 + 32,
	 {1, R1(UINT64_MAX - 10, 0x1000, 0, 0)},
	 1,
	 .why = "wraps the address space"},
	{"config too big",
	 VU_GET_CONFIG,
	 V,
	 12 + 8,
	 {300ull << 32},
	 .why = "300 config bytes, at most 256"},
	{"config size mismatch",
	 VU_GET_CONFIG,
	 V,
	 12 + 8,
	 {12ull << 32},
	 .why = "payload of 20 bytes for 12 config bytes"},
	{"config offset beyond",
	 VU_GET_CONFIG,
	 V,
	 12 + 8,
	 {250ull | 8ull << 32},
	 .why = "beyond the config space"},
	{"too many fds",
	 VU_GET_FEATURES,
	 V,
	 0,
	 {0},
	 VU_MAX_FDS + 1,
	 .why = "9 fds, at most 8"},
};

static size_t build(const struct vu_case *c, uint8_t *buf)
{
	uint32_t h[3] = {c->request, c->flags, c->size};

	memset(buf, 0xee, VU_HDR_SIZE + NW * 8);
	memcpy(buf, h, sizeof(h));
	memcpy(buf + VU_HDR_SIZE, c->w, c->size < NW * 8 ? c->size : NW * 8);
	return VU_HDR_SIZE + c->size - (size_t)c->cut;
}

static void test_table(void **state)
{
	int fds[VU_MAX_FDS + 1];

	for (unsigned i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = 100 + (int)i;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct vu_case *c = &cases[i];
		uint8_t buf[VU_HDR_SIZE + NW * 8];
		char why[VU_WHY_MAX] = "";
		struct vu_msg m;
		size_t len = build(c, buf);
		int r = vu_decode(buf, len, fds, c->nfds, &m, why);

		print_message("%-28s -> %d %s\n", c->name, r, why);
		if (c->cut) {
			assert_int_equal(r, 0);
		} else if (!c->why) {
			assert_int_equal(r, (int)len);
			assert_int_equal(m.request, c->request);
			assert_int_equal(m.nfds, c->nfds);
			for (unsigned k = 0; k < c->nfds; k++)
				assert_int_equal(m.fds[k], 100 + (int)k);
			for (unsigned k = c->nfds; k < VU_MAX_FDS; k++)
				assert_int_equal(m.fds[k], -1);
		} else {
			assert_int_equal(r, -1);
			if (!strstr(why, c->why))
				fail_msg("%s: reason '%s' lacks '%s'", c->name,
					 why, c->why);
		}
	}
}

/* The header check alone rejects what the full decode rejects by the
 * header, before a reader waits for a payload. */
static void test_header(void **state)
{
	uint8_t buf[VU_HDR_SIZE];
	uint32_t h[3] = {VU_SET_MEM_TABLE, V, 1u << 30}, size = 0;
	char why[VU_WHY_MAX];

	memcpy(buf, h, sizeof(h));
	assert_int_equal(vu_check_header(buf, &size, why), -1);
	assert_non_null(strstr(why, "SET_MEM_TABLE: payload of 1073741824"));
	h[2] = 8 + 32;
	memcpy(buf, h, sizeof(h));
	assert_int_equal(vu_check_header(buf, &size, why), 0);
	assert_int_equal(size, 40);
}

static void test_fields(void **state)
{
	const struct vu_case *mem8 = NULL, *addr = NULL;
	uint8_t buf[VU_HDR_SIZE + NW * 8];
	int fds[VU_MAX_FDS] = {3, 4, 5, 6, 7, 8, 9, 10};
	char why[VU_WHY_MAX];
	struct vu_msg m;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!strcmp(cases[i].name, "mem table 8 regions"))
			mem8 = &cases[i];
		if (!strcmp(cases[i].name, "set vring addr"))
			addr = &cases[i];
	}
	assert_true(vu_decode(buf, build(mem8, buf), fds, 8, &m, why) > 0);
	assert_int_equal(m.u.mem.num, 8);
	assert_int_equal(m.u.mem.r[7].guest_addr, 7);
	assert_int_equal(m.u.mem.r[7].user_addr, 7);
	assert_int_equal(m.u.mem.r[7].size, 1);
	assert_true(vu_decode(buf, build(addr, buf), NULL, 0, &m, why) > 0);
	assert_int_equal(m.u.addr.index, 5);
	assert_int_equal(m.u.addr.desc, 0x1000);
	assert_int_equal(m.u.addr.used, 0x3000);
	assert_int_equal(m.u.addr.avail, 0x2000);
	assert_true(m.u.addr.log == UINT64_MAX);
}

static void test_replies(void **state)
{
	uint8_t buf[VU_HDR_SIZE + VU_PAYLOAD_MAX + VU_CONFIG_MAX];
	struct vu_msg m = {.request = VU_GET_FEATURES, .u.u64 = 0x140000002};
	uint32_t h[3];
	uint64_t v;

	assert_int_equal(vu_encode_reply(&m, buf, sizeof(buf)), 20);
	memcpy(h, buf, 12);
	memcpy(&v, buf + 12, 8);
	assert_int_equal(h[0], VU_GET_FEATURES);
	assert_int_equal(h[1], VU_VERSION | VU_FLAG_REPLY);
	assert_int_equal(h[2], 8);
	assert_true(v == 0x140000002);
	assert_int_equal(vu_encode_reply(&m, buf, 19), -1);

	m = (struct vu_msg){.request = VU_GET_CONFIG};
	m.u.config.size = 12;
	m.u.config.data[4] = 2;
	assert_int_equal(vu_encode_reply(&m, buf, sizeof(buf)), 12 + 12 + 12);
	memcpy(h, buf, 12);
	assert_int_equal(h[2], 24);
	assert_int_equal(buf[12 + 4], 12); /* config.size */
	assert_int_equal(buf[12 + 12 + 4], 2);

	m = (struct vu_msg){.request = VU_GET_VRING_BASE};
	m.u.state.index = 4;
	m.u.state.num = 77;
	assert_int_equal(vu_encode_reply(&m, buf, sizeof(buf)), 20);
	assert_int_equal(buf[12], 4);
	assert_int_equal(buf[16], 77);

	m = (struct vu_msg){.request = VU_SET_OWNER};
	assert_int_equal(vu_encode_reply(&m, buf, sizeof(buf)), -1);
	assert_int_equal(vu_encode_ack(VU_SET_MEM_TABLE, 1, buf, sizeof(buf)),
			 20);
	memcpy(h, buf, 12);
	memcpy(&v, buf + 12, 8);
	assert_int_equal(h[0], VU_SET_MEM_TABLE);
	assert_true(v == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
