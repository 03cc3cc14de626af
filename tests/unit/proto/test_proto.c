/* Unit tests for proto/: round trips, malformed input, prefixes, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- round trips ---- */

struct rt_case {
	const char *name;
	struct vtb_msg msg;
	int max_strings; /* fill every string field to its longest */
};

static const struct rt_case rt_cases[] = {
	{"hello",
	 {.type = VTB_MSG_HELLO,
	  .u.hello = {VTB_PROTO_VERSION, 123456789, 223456789, 323456789, 6,
		      "6.1.0-56-amd64", "0.1"}}},
	{"hello extreme",
	 {.type = VTB_MSG_HELLO,
	  .u.hello = {UINT32_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
		      UINT32_MAX, "", ""}},
	 1},
	{"hello empty", {.type = VTB_MSG_HELLO}},
	{"error",
	 {.type = VTB_MSG_ERROR,
	  .u.error = {ENOENT, "open /dev/ttyS1", "No such file or directory"}}},
	{"error negative", {.type = VTB_MSG_ERROR, .u.error = {INT32_MIN}}},
	{"error extreme",
	 {.type = VTB_MSG_ERROR, .u.error = {INT32_MAX, "", ""}},
	 1},
	{"run sink",
	 {.type = VTB_MSG_RUN,
	  .u.run = {VTB_WORK_SINK, VTB_RUN_F_RAW_TTY, 4 << 20, 0, 65536, 15000,
		    "/dev/vport0p2", ""}}},
	{"run with a mount",
	 {.type = VTB_MSG_RUN,
	  .u.run = {VTB_WORK_NONE, VTB_RUN_F_MOUNT_WC, 0, 0, 0, 0, "", "",
		    "blk:vtbtgt3", "ext4", "data=journal,noatime"}}},
	{"run fio",
	 {.type = VTB_MSG_RUN,
	  .u.run = {VTB_WORK_FIO, VTB_RUN_F_DIRECT, 1 << 29, 0, 0, 0, "",
		    "blk:vtbtools", "", "", "",
		    "--output-format=json --bs=4k --name=randread "
		    "--rw=randread"}}},
	{"run syscall",
	 {.type = VTB_MSG_RUN,
	  .u.run = {VTB_WORK_SYSCALL, 0, 0, 0, 0, 0, "", "", "", "", "",
		    "getpid=20000 open_close=5000 fork_exec=50"}}},
	{"run extreme",
	 {.type = VTB_MSG_RUN,
	  .u.run = {UINT32_MAX, UINT32_MAX, UINT64_MAX, UINT64_MAX, UINT32_MAX,
		    UINT32_MAX}},
	 1},
	{"result",
	 {.type = VTB_MSG_RESULT,
	  .u.result = {0, 1 << 20, 0x0123456789abcdefu, 1000, 2000, 900, 50, 0,
		       49, 12345, 678, 20480, ""}}},
	{"result extreme",
	 {.type = VTB_MSG_RESULT,
	  .u.result = {-1, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
		       UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX,
		       UINT64_MAX, UINT64_MAX, UINT64_MAX}},
	 1},
	{"poweroff", {.type = VTB_MSG_POWEROFF}},
	{"bye", {.type = VTB_MSG_BYE, .u.bye = {42}}},
	{"bye extreme", {.type = VTB_MSG_BYE, .u.bye = {UINT64_MAX}}},
	{"ready", {.type = VTB_MSG_READY}},
	{"data empty (the end)", {.type = VTB_MSG_DATA}},
	{"data with NULs",
	 {.type = VTB_MSG_DATA, .u.data = {6, {'{', 0, '}', 0, 0xff, '\n'}}}},
	{"data full", {.type = VTB_MSG_DATA}, 1},
};

static void fill(char *s, size_t size)
{
	for (size_t i = 0; i + 1 < size; i++)
		s[i] = (char)('a' + i % 26);
	s[size - 1] = '\0';
}

#define FILL(arr) fill((arr), sizeof(arr))

/* Zeroed first so that whole messages compare with memcmp. */
static void case_msg(const struct rt_case *c, struct vtb_msg *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m, &c->msg, sizeof(*m));
	if (!c->max_strings)
		return;
	switch (m->type) {
	case VTB_MSG_HELLO:
		FILL(m->u.hello.release);
		FILL(m->u.hello.agent_version);
		break;
	case VTB_MSG_ERROR:
		FILL(m->u.error.step);
		FILL(m->u.error.detail);
		break;
	case VTB_MSG_RUN:
		FILL(m->u.run.path);
		FILL(m->u.run.path2);
		FILL(m->u.run.mount);
		FILL(m->u.run.mount_fs);
		FILL(m->u.run.mount_opts);
		FILL(m->u.run.args);
		break;
	case VTB_MSG_RESULT:
		FILL(m->u.result.detail);
		break;
	case VTB_MSG_DATA:
		/* Every byte value, NUL included, to the longest chunk. */
		m->u.data.len = VTB_DATA_MAX;
		for (size_t i = 0; i < VTB_DATA_MAX; i++)
			m->u.data.bytes[i] = (uint8_t)i;
		break;
	}
}

static void test_round_trip(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(rt_cases); i++) {
		struct vtb_msg in, out;
		uint8_t buf[VTB_MSG_MAX + 16];
		int n, r;

		case_msg(&rt_cases[i], &in);
		n = vtb_msg_encode(&in, buf, sizeof(buf));
		print_message("%-16s %d bytes\n", rt_cases[i].name, n);
		assert_true(n >= (int)VTB_HDR_SIZE);
		assert_true(n <= (int)VTB_MSG_MAX);
		memset(&out, 0xa5, sizeof(out));
		r = vtb_msg_decode(buf, (size_t)n, &out);
		assert_int_equal(r, n);
		assert_memory_equal(&in, &out, sizeof(in));

		/* Exactly one message is consumed from a longer stream. */
		memmove(buf + n, buf, 16);
		r = vtb_msg_decode(buf, (size_t)n + 16, &out);
		assert_int_equal(r, n);
		assert_memory_equal(&in, &out, sizeof(in));
	}
}

/* The exact bytes, so that the layout cannot drift unnoticed. */
static void test_golden(void **state)
{
	static const uint8_t bye[] = {
		0x56, 0x54, 0x42, 0x31, 0x06, 0x00, 0x00, 0x00, 0x08, 0x00,
		0x00, 0x00, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
	};
	static const uint8_t run[] = {
		0x56, 0x54, 0x42, 0x31, 0x03, 0x00, 0x00, 0x00, /* header */
		0x30, 0x00, 0x00, 0x00,				/* length 48 */
		0x02, 0x00, 0x00, 0x00,				/* work */
		0x05, 0x00, 0x00, 0x00,				/* flags */
		0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, /* size */
		0xef, 0xbe, 0xad, 0xde, 0x00, 0x00, 0x00, 0x80, /* seed */
		0x00, 0x00, 0x01, 0x00,				/* block */
		0x98, 0x3a, 0x00, 0x00,	     /* idle_ms 15000 */
		0x03, 0x00, 'a',  '/',	'b', /* path */
		0x01, 0x00, 'c',	     /* path2 */
		0x00, 0x00,		     /* mount */
		0x00, 0x00,		     /* mount_fs */
		0x00, 0x00,		     /* mount_opts */
		0x00, 0x00,		     /* args */
	};
	static const uint8_t run_fio[] = {
		0x56, 0x54, 0x42, 0x31, 0x03, 0x00, 0x00, 0x00, /* header */
		0x31, 0x00, 0x00, 0x00,				/* length 49 */
		0x07, 0x00, 0x00, 0x00,				/* work FIO */
		0x20, 0x00, 0x00, 0x00,				/* DIRECT */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* size */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seed */
		0x00, 0x00, 0x00, 0x00,				/* block */
		0x00, 0x00, 0x00, 0x00,				/* idle_ms */
		0x00, 0x00,					/* path */
		0x00, 0x00,					/* path2 */
		0x00, 0x00,					/* mount */
		0x00, 0x00,					/* mount_fs */
		0x00, 0x00,					/* mount_opts */
		0x05, 0x00, '-',  'a',	' ',  '-',  'b',	/* args */
	};
	static const uint8_t data[] = {
		0x56, 0x54, 0x42, 0x31, 0x08, 0x00, 0x00, 0x00, /* header */
		0x05, 0x00, 0x00, 0x00,				/* length 5 */
		0x03, 0x00, '{',  0x00, '}',			/* len, bytes */
	};
	struct vtb_msg m = {.type = VTB_MSG_BYE,
			    .u.bye = {0x0102030405060708u}};
	uint8_t buf[VTB_MSG_MAX];
	int n;

	n = vtb_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, sizeof(bye));
	assert_memory_equal(buf, bye, sizeof(bye));

	memset(&m, 0, sizeof(m));
	m.type = VTB_MSG_RUN;
	m.u.run = (struct vtb_run){
		VTB_WORK_COPY, 5,     1 << 20, 0x80000000deadbeefu,
		65536,	       15000, "a/b",   "c"};
	n = vtb_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, sizeof(run));
	assert_memory_equal(buf, run, sizeof(run));

	memset(&m, 0, sizeof(m));
	m.type = VTB_MSG_RUN;
	m.u.run.work = VTB_WORK_FIO;
	m.u.run.flags = VTB_RUN_F_DIRECT;
	strcpy(m.u.run.args, "-a -b");
	n = vtb_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, sizeof(run_fio));
	assert_memory_equal(buf, run_fio, sizeof(run_fio));

	memset(&m, 0, sizeof(m));
	m.type = VTB_MSG_DATA;
	m.u.data.len = 3;
	memcpy(m.u.data.bytes, "{\0}", 3);
	n = vtb_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
}

/* ---- malformed input ---- */

struct wire {
	uint8_t b[VTB_MSG_MAX + 64];
	size_t len;
};

static void put(struct wire *w, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		w->b[w->len++] = (uint8_t)(v >> (8 * i));
}

static void put_str(struct wire *w, const char *s, size_t n)
{
	put(w, n, 2);
	memcpy(w->b + w->len, s, n);
	w->len += n;
}

static void put_rep(struct wire *w, char c, size_t n)
{
	put(w, n, 2);
	memset(w->b + w->len, c, n);
	w->len += n;
}

static void hdr(struct wire *w, uint32_t magic, uint16_t type, uint16_t flags)
{
	put(w, magic, 4);
	put(w, type, 2);
	put(w, flags, 2);
	put(w, 0, 4);
}

/* Set the header's length to the payload written so far. */
static void end(struct wire *w)
{
	uint32_t plen = (uint32_t)(w->len - VTB_HDR_SIZE);

	for (int i = 0; i < 4; i++)
		w->b[8 + i] = (uint8_t)(plen >> (8 * i));
}

static void set_len(struct wire *w, uint32_t plen)
{
	for (int i = 0; i < 4; i++)
		w->b[8 + i] = (uint8_t)(plen >> (8 * i));
}

static void bad_magic(struct wire *w)
{
	hdr(w, VTB_MAGIC ^ 0x01000000u, VTB_MSG_BYE, 0);
	put(w, 1, 8);
	end(w);
}

static void bad_magic_first_byte(struct wire *w)
{
	put(w, 'X', 1);
}

static void bad_flags_low(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_READY, 1);
}

static void bad_flags_high(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_READY, 0x8000);
}

static void bad_flags_partial(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_READY, 0x0001);
	w->len = 7;
}

static void type_zero(struct wire *w)
{
	hdr(w, VTB_MAGIC, 0, 0);
}

static void type_max(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_TYPE_MAX_, 0);
}

static void type_ffff(struct wire *w)
{
	hdr(w, VTB_MAGIC, 0xffff, 0);
}

static void type_only(struct wire *w)
{
	hdr(w, VTB_MAGIC, 0x0100 | VTB_MSG_HELLO, 0);
	w->len = 6;
}

static void oversize(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_ERROR, 0);
	set_len(w, VTB_MSG_MAX_PAYLOAD + 1);
}

static void oversize_huge(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_RESULT, 0);
	set_len(w, UINT32_MAX);
}

static void poweroff_payload(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_POWEROFF, 0);
	put(w, 0, 1);
	end(w);
}

static void poweroff_len_only(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_POWEROFF, 0);
	set_len(w, 4);
}

static void ready_payload(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_READY, 0);
	put(w, 0, 8);
	end(w);
}

static void bye_short(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_BYE, 0);
	put(w, 7, 4);
	end(w);
}

static void bye_trailing(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_BYE, 0);
	put(w, 7, 8);
	put(w, 0, 1);
	end(w);
}

static void error_str_len_cut(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_ERROR, 0);
	put(w, 5, 4);
	put_str(w, "ab", 2);
	put(w, 0, 1); /* half of detail's length field */
	end(w);
}

static void error_str_beyond_payload(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_ERROR, 0);
	put(w, 5, 4);
	put_str(w, "ab", 2);
	put(w, 10, 2);
	put(w, 0x41414141, 4);
	end(w);
}

static void error_step_too_long(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_ERROR, 0);
	put(w, 5, 4);
	put_rep(w, 's', VTB_STR_SHORT);
	put_str(w, "", 0);
	end(w);
}

static void error_step_huge(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_ERROR, 0);
	put(w, 5, 4);
	put(w, 0xffff, 2);
	put_rep(w, 's', 200);
	end(w);
}

static void result_detail_too_long(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_RESULT, 0);
	put(w, 0, 4);
	for (int i = 0; i < 4; i++)
		put(w, 0, 8);
	put(w, 0, 4);
	put_rep(w, 'd', VTB_STR_LONG);
	end(w);
}

static void hello_embedded_nul(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_HELLO, 0);
	put(w, 1, 4);
	for (int i = 0; i < 3; i++)
		put(w, 0, 8);
	put(w, 0, 4);
	put_str(w, "6.1\0evil", 8);
	put_str(w, "0.1", 3);
	end(w);
}

static void hello_trailing_nul(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_HELLO, 0);
	put(w, 1, 4);
	for (int i = 0; i < 3; i++)
		put(w, 0, 8);
	put(w, 0, 4);
	put_str(w, "6.1", 3);
	put_str(w, "0.1", 4); /* "0.1" plus its NUL */
	end(w);
}

static void hello_cut_u64(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_HELLO, 0);
	put(w, 1, 4);
	put(w, 0, 4);
	end(w);
}

static void run_trailing(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_RUN, 0);
	put(w, VTB_WORK_SINK, 4);
	put(w, 0, 4);
	put(w, 1, 8);
	put(w, 0, 8);
	put(w, 4096, 4);
	put_str(w, "/dev/vdb", 8);
	put_str(w, "", 0);
	put_str(w, "", 0);
	put_str(w, "", 0);
	put_str(w, "", 0);
	put(w, 0, 1);
	end(w);
}

static void run_missing_path2(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_RUN, 0);
	put(w, VTB_WORK_SINK, 4);
	put(w, 0, 4);
	put(w, 1, 8);
	put(w, 0, 8);
	put(w, 4096, 4);
	put_str(w, "/dev/vdb", 8);
	end(w);
}

/* A version 4 RUN: no args. */
static void run_v4(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_RUN, 0);
	put(w, VTB_WORK_SINK, 4);
	put(w, 0, 4);
	put(w, 1, 8);
	put(w, 0, 8);
	put(w, 4096, 4);
	put_str(w, "/dev/vdb", 8);
	for (int i = 0; i < 4; i++)
		put_str(w, "", 0);
	end(w);
}

static void run_args_too_long(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_RUN, 0);
	put(w, VTB_WORK_FIO, 4);
	put(w, 0, 4);
	put(w, 1, 8);
	put(w, 0, 8);
	put(w, 4096, 4);
	for (int i = 0; i < 5; i++)
		put_str(w, "", 0);
	put_rep(w, 'a', VTB_STR_ARGS);
	end(w);
}

static void run_args_nul(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_RUN, 0);
	put(w, VTB_WORK_FIO, 4);
	put(w, 0, 4);
	put(w, 1, 8);
	put(w, 0, 8);
	put(w, 4096, 4);
	for (int i = 0; i < 5; i++)
		put_str(w, "", 0);
	put_str(w, "--a\0--b", 7);
	end(w);
}

/* DATA's length says more than the payload holds. */
static void data_truncated(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_DATA, 0);
	put(w, 10, 2);
	put(w, 0x4142434445ull, 5);
	end(w);
}

/* ... or less. */
static void data_trailing(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_DATA, 0);
	put(w, 3, 2);
	put(w, 0x41424344u, 4);
	end(w);
}

/* Half of the length field. */
static void data_len_cut(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_DATA, 0);
	put(w, 0, 1);
	end(w);
}

/* A length of VTB_DATA_MAX + 1 in a payload of the most a message has. */
static void data_oversized(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_DATA, 0);
	put(w, VTB_DATA_MAX + 1, 2);
	for (unsigned i = 0; i < VTB_DATA_MAX; i++)
		put(w, 'x', 1);
	end(w);
}

/* The header's length beyond any DATA: refused before the payload. */
static void data_header_oversized(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_DATA, 0);
	set_len(w, VTB_MSG_MAX_PAYLOAD + 1);
}

static void data_len_0xffff(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_DATA, 0);
	put(w, 0xffff, 2);
	put(w, 0, 8);
	end(w);
}

/* A version 3 RUN: no mount fields. */
static void run_v3(struct wire *w)
{
	hdr(w, VTB_MAGIC, VTB_MSG_RUN, 0);
	put(w, VTB_WORK_SINK, 4);
	put(w, 0, 4);
	put(w, 1, 8);
	put(w, 0, 8);
	put(w, 4096, 4);
	put_str(w, "/dev/vdb", 8);
	put_str(w, "", 0);
	end(w);
}

static const struct bad_case {
	const char *name;
	void (*build)(struct wire *w);
} bad_cases[] = {
	{"bad magic", bad_magic},
	{"bad magic first byte", bad_magic_first_byte},
	{"flags 1", bad_flags_low},
	{"flags 0x8000", bad_flags_high},
	{"flags partial header", bad_flags_partial},
	{"type 0", type_zero},
	{"type MAX_", type_max},
	{"type 0xffff", type_ffff},
	{"type in partial header", type_only},
	{"length max+1", oversize},
	{"length 2^32-1", oversize_huge},
	{"poweroff with payload", poweroff_payload},
	{"poweroff length only", poweroff_len_only},
	{"ready with payload", ready_payload},
	{"bye short", bye_short},
	{"bye trailing", bye_trailing},
	{"error string length cut", error_str_len_cut},
	{"error string beyond payload", error_str_beyond_payload},
	{"error step too long", error_step_too_long},
	{"error step 0xffff", error_step_huge},
	{"result detail too long", result_detail_too_long},
	{"hello embedded NUL", hello_embedded_nul},
	{"hello NUL terminator sent", hello_trailing_nul},
	{"hello cut inside u64", hello_cut_u64},
	{"run trailing byte", run_trailing},
	{"run missing path2", run_missing_path2},
	{"run of version 3 (no mount)", run_v3},
	{"run of version 4 (no args)", run_v4},
	{"run args too long", run_args_too_long},
	{"run args embedded NUL", run_args_nul},
	{"data truncated", data_truncated},
	{"data trailing bytes", data_trailing},
	{"data length cut", data_len_cut},
	{"data length max+1", data_oversized},
	{"data header length max+1", data_header_oversized},
	{"data length 0xffff", data_len_0xffff},
};

static void test_malformed(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		struct wire w = {.len = 0};
		struct vtb_msg out, before;
		int r;

		bad_cases[i].build(&w);
		memset(&out, 0x5a, sizeof(out));
		before = out;
		r = vtb_msg_decode(w.b, w.len, &out);
		print_message("%-28s %zu bytes -> %d\n", bad_cases[i].name,
			      w.len, r);
		assert_int_equal(r, -EBADMSG);
		/* A rejected message leaves the destination alone. */
		assert_memory_equal(&out, &before, sizeof(out));
	}
}

/* ---- prefixes ---- */

static void test_prefixes(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(rt_cases); i++) {
		struct vtb_msg in, out;
		uint8_t buf[VTB_MSG_MAX];
		int n;

		case_msg(&rt_cases[i], &in);
		n = vtb_msg_encode(&in, buf, sizeof(buf));
		assert_true(n > 0);
		for (int k = 0; k < n; k++) {
			/* An exact-size copy lets ASan catch reads past len. */
			uint8_t part[VTB_MSG_MAX];

			memcpy(part, buf, (size_t)k);
			assert_int_equal(vtb_msg_decode(part, (size_t)k, &out),
					 0);
		}
	}
	assert_int_equal(vtb_msg_decode(NULL, 0, NULL), 0);
}

/* ---- encode errors ---- */

static void test_encode_nospc(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(rt_cases); i++) {
		struct vtb_msg in;
		uint8_t buf[VTB_MSG_MAX];
		int n;

		case_msg(&rt_cases[i], &in);
		n = vtb_msg_encode(&in, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(vtb_msg_encode(&in, buf, (size_t)n), n);
		assert_int_equal(vtb_msg_encode(&in, buf, (size_t)n - 1),
				 -ENOSPC);
		assert_int_equal(vtb_msg_encode(&in, NULL, 0), -ENOSPC);
	}
}

/* Which string field of which type to leave unterminated (-1: none). */
static const struct inval_case {
	const char *name;
	uint16_t type;
	int field;
} inval_cases[] = {
	{"type 0", 0, -1},
	{"type MAX_", VTB_MSG_TYPE_MAX_, -1},
	{"type 0xffff", 0xffff, -1},
	{"hello release", VTB_MSG_HELLO, 0},
	{"hello agent_version", VTB_MSG_HELLO, 1},
	{"error step", VTB_MSG_ERROR, 0},
	{"error detail", VTB_MSG_ERROR, 1},
	{"run path", VTB_MSG_RUN, 0},
	{"run path2", VTB_MSG_RUN, 1},
	{"run mount", VTB_MSG_RUN, 2},
	{"run mount_fs", VTB_MSG_RUN, 3},
	{"run mount_opts", VTB_MSG_RUN, 4},
	{"run args", VTB_MSG_RUN, 5},
	{"result detail", VTB_MSG_RESULT, 0},
	/* Not a string: a DATA longer than its array. */
	{"data len max+1", VTB_MSG_DATA, -1},
	{"data len 0xffff", VTB_MSG_DATA, -1},
};

static void test_encode_inval(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(inval_cases); i++) {
		const struct inval_case *c = &inval_cases[i];
		struct vtb_msg m;
		uint8_t buf[VTB_MSG_MAX];
		char *s = NULL;
		size_t size = 0;

		memset(&m, 0, sizeof(m));
		m.type = c->type;
		switch (c->type * 8 + (unsigned)c->field) {
		case VTB_MSG_HELLO * 8:
			s = m.u.hello.release, size = VTB_STR_SHORT;
			break;
		case VTB_MSG_HELLO * 8 + 1:
			s = m.u.hello.agent_version, size = VTB_STR_SHORT;
			break;
		case VTB_MSG_ERROR * 8:
			s = m.u.error.step, size = VTB_STR_SHORT;
			break;
		case VTB_MSG_ERROR * 8 + 1:
			s = m.u.error.detail, size = VTB_STR_LONG;
			break;
		case VTB_MSG_RUN * 8:
			s = m.u.run.path, size = VTB_STR_SHORT;
			break;
		case VTB_MSG_RUN * 8 + 1:
			s = m.u.run.path2, size = VTB_STR_SHORT;
			break;
		case VTB_MSG_RUN * 8 + 2:
			s = m.u.run.mount, size = VTB_STR_SHORT;
			break;
		case VTB_MSG_RUN * 8 + 3:
			s = m.u.run.mount_fs, size = VTB_STR_SHORT;
			break;
		case VTB_MSG_RUN * 8 + 4:
			s = m.u.run.mount_opts, size = VTB_STR_LONG;
			break;
		case VTB_MSG_RUN * 8 + 5:
			s = m.u.run.args, size = VTB_STR_ARGS;
			break;
		case VTB_MSG_RESULT * 8:
			s = m.u.result.detail, size = VTB_STR_LONG;
			break;
		}
		if (c->field >= 0) {
			assert_non_null(s);
			memset(s, 'x', size);
		}
		if (c->type == VTB_MSG_DATA)
			m.u.data.len = strstr(c->name, "0xffff")
					       ? 0xffff
					       : VTB_DATA_MAX + 1;
		print_message("%s\n", c->name);
		assert_int_equal(vtb_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
		/* Invalid wins over too small. */
		assert_int_equal(vtb_msg_encode(&m, buf, 1), -EINVAL);
	}
}

/* ---- names ---- */

static void test_type_names(void **state)
{
	static const struct {
		unsigned type;
		const char *name;
	} names[] = {
		{0, "UNKNOWN"},
		{VTB_MSG_HELLO, "HELLO"},
		{VTB_MSG_ERROR, "ERROR"},
		{VTB_MSG_RUN, "RUN"},
		{VTB_MSG_RESULT, "RESULT"},
		{VTB_MSG_POWEROFF, "POWEROFF"},
		{VTB_MSG_BYE, "BYE"},
		{VTB_MSG_READY, "READY"},
		{VTB_MSG_DATA, "DATA"},
		{VTB_MSG_TYPE_MAX_, "UNKNOWN"},
		{0xffff, "UNKNOWN"},
		{UINT32_MAX, "UNKNOWN"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(vtb_msg_type_name(names[i].type),
				    names[i].name);
}

/* Work numbers are the protocol's: never reused, never renumbered. */
static void test_work_numbers(void **state)
{
	static const struct {
		unsigned got, want;
	} works[] = {
		{VTB_WORK_NONE, 0},	 {VTB_WORK_SINK, 1},
		{VTB_WORK_COPY, 2},	 {VTB_WORK_GEN, 3},
		{VTB_WORK_ECHO, 4},	 {VTB_WORK_EMIT, 5},
		{VTB_WORK_UNTAR, 6},	 {VTB_WORK_FIO, 7},
		{VTB_WORK_SYSCALL, 8},	 {VTB_WORK_SLEEP, 9},
		{VTB_WORK_METADATA, 10}, {VTB_WORK_MAX_, 11},
	};

	for (size_t i = 0; i < ARRAY_SIZE(works); i++)
		assert_int_equal(works[i].got, works[i].want);
}

/* ---- payload generator ---- */

static void test_payload(void **state)
{
	/* splitmix64 seeded with 0: its well-known first two outputs. */
	static const uint8_t seed0[16] = {
		0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2,
		0xf4, 0x65, 0xb9, 0xa1, 0x6a, 0x9e, 0x78, 0x6e,
	};
	static const size_t chunks[] = {1, 3, 7, 8, 13, 64, 100};
	uint8_t whole[1000], parts[1000], other[1000];
	uint64_t seeds[] = {0, 1, UINT64_MAX};

	vtb_payload_fill(whole, sizeof(seed0), 0, 0);
	assert_memory_equal(whole, seed0, sizeof(seed0));

	for (size_t s = 0; s < ARRAY_SIZE(seeds); s++) {
		vtb_payload_fill(whole, sizeof(whole), 0, seeds[s]);
		for (size_t c = 0; c < ARRAY_SIZE(chunks); c++) {
			size_t off = 0;

			memset(parts, 0, sizeof(parts));
			while (off < sizeof(parts)) {
				size_t n = chunks[c];

				if (n > sizeof(parts) - off)
					n = sizeof(parts) - off;
				vtb_payload_fill(parts + off, n, off, seeds[s]);
				off += n;
			}
			assert_memory_equal(whole, parts, sizeof(whole));
		}
	}
	vtb_payload_fill(other, sizeof(other), 0, 1);
	vtb_payload_fill(whole, sizeof(whole), 0, 2);
	assert_memory_not_equal(whole, other, sizeof(whole));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_encode_nospc),
		cmocka_unit_test(test_encode_inval),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_work_numbers),
		cmocka_unit_test(test_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
