/* vhost/bridge.h with an fd as the guest's end: real sockets, the real
 * thread; every byte checked both ways, and each way it stops. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/vtbench.h"
#include "vhost/bridge.h"

/* The guest's socketpair (VMM side, bridge side) and the helper's. */
struct rig {
	int vmm, guest, helper, mine;
	struct vtb_bridge *b;
};

static void rig_up(struct rig *r, guint stall_ms)
{
	int g[2], h[2];
	g_autoptr(GError) e = NULL;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, g), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, h), 0);
	r->vmm = g[0];
	r->guest = g[1];
	r->helper = h[0];
	r->mine = h[1];
	r->b = vtb_bridge_new("test", NULL, r->guest, r->mine, stall_ms, &e);
	assert_non_null(r->b);
	assert_null(e);
}

static void rig_down(struct rig *r)
{
	vtb_bridge_free(r->b);
	if (r->vmm >= 0)
		close(r->vmm);
	close(r->guest);
	if (r->helper >= 0)
		close(r->helper);
}

/* The bridge stopped by @ms and says @want. */
static void stops_saying(struct rig *r, int ms, const char *want)
{
	struct pollfd p = {.fd = vtb_bridge_fd(r->b), .events = POLLIN};
	g_autoptr(GError) e = NULL;

	assert_int_equal(poll(&p, 1, ms), 1);
	assert_false(vtb_bridge_check(r->b, &e));
	assert_non_null(e);
	if (!strstr(e->message, want))
		fail_msg("'%s' does not say '%s'", e->message, want);
	assert_non_null(strstr(e->message, "test: "));
}

/* Write all of @n bytes from @src to @out while reading @n from @in. */
static void move(int out, int in, const guint8 *src, guint8 *dst, size_t n)
{
	size_t w = 0, rd = 0;

	while (rd < n) {
		struct pollfd p[2] = {
			{.fd = in, .events = POLLIN},
			{.fd = w < n ? out : -1, .events = POLLOUT}};
		ssize_t k;

		assert_true(poll(p, 2, 5000) > 0);
		if (p[1].revents & POLLOUT) {
			k = send(out, src + w, MIN(n - w, 65536), MSG_DONTWAIT);
			assert_true(k > 0 || errno == EAGAIN);
			if (k > 0)
				w += (size_t)k;
		}
		if (p[0].revents & POLLIN) {
			k = recv(in, dst + rd, n - rd, MSG_DONTWAIT);
			assert_true(k > 0);
			rd += (size_t)k;
		}
	}
}

struct dir_case {
	const char *what;
	size_t bytes;
	bool to_guest;
};

static const struct dir_case dir_cases[] = {
	{"one byte to the guest", 1, true},
	{"one byte from the guest", 1, false},
	{"8 MiB to the guest", 8u << 20, true},
	{"8 MiB from the guest", 8u << 20, false},
};

/* Bytes each way arrive whole and in order, and are counted. */
static void test_copies(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(dir_cases); i++) {
		const struct dir_case *c = &dir_cases[i];
		g_autofree guint8 *src = g_malloc(c->bytes);
		g_autofree guint8 *dst = g_malloc0(c->bytes);
		struct vtb_bridge_stats st;
		struct rig r;

		for (size_t k = 0; k < c->bytes; k++)
			src[k] = (guint8)(k * 2654435761u >> 13);
		rig_up(&r, 0);
		if (c->to_guest)
			move(r.helper, r.vmm, src, dst, c->bytes);
		else
			move(r.vmm, r.helper, src, dst, c->bytes);
		if (memcmp(src, dst, c->bytes))
			fail_msg("%s: bytes differ", c->what);
		/* Counted just after the write the reader saw: a moment. */
		for (int k = 0; k < 200; k++) {
			vtb_bridge_stats(r.b, &st);
			if ((c->to_guest ? st.to_guest : st.from_guest) >=
			    c->bytes)
				break;
			g_usleep(10000);
		}
		assert_int_equal(c->to_guest ? st.to_guest : st.from_guest,
				 c->bytes);
		assert_int_equal(c->to_guest ? st.from_guest : st.to_guest, 0);
		assert_true(vtb_bridge_check(r.b, NULL));
		rig_down(&r);
	}
}

/* Both ways at once: a 9P-like exchange of requests and replies. */
static void test_both_ways(void **state)
{
	struct rig r;
	guint8 req[100], rep[4096], got[4096];

	rig_up(&r, 0);
	for (int i = 0; i < 200; i++) {
		memset(req, i, sizeof(req));
		memset(rep, 255 - i, sizeof(rep));
		move(r.vmm, r.helper, req, got, sizeof(req));
		assert_memory_equal(req, got, sizeof(req));
		move(r.helper, r.vmm, rep, got, sizeof(rep));
		assert_memory_equal(rep, got, sizeof(rep));
	}
	rig_down(&r);
}

/* The helper went away: the bridge stops and says so. */
static void test_helper_closed(void **state)
{
	struct rig r;

	rig_up(&r, 0);
	close(r.helper);
	r.helper = -1;
	stops_saying(&r, 5000, "the helper closed its end");
	rig_down(&r);
}

/* The VMM went away. */
static void test_vmm_closed(void **state)
{
	struct rig r;

	rig_up(&r, 0);
	close(r.vmm);
	r.vmm = -1;
	stops_saying(&r, 5000, "the VMM closed the guest's end");
	rig_down(&r);
}

/* A guest that takes nothing (a deaf line): stalled after stall_ms, with
 * the bytes that wait; not before. */
static void test_stall(void **state)
{
	struct rig r;
	struct pollfd p;
	guint8 buf[4096] = {0};

	rig_up(&r, 300);
	assert_int_equal(write(r.helper, buf, sizeof(buf)), sizeof(buf));
	p = (struct pollfd){.fd = vtb_bridge_fd(r.b), .events = POLLIN};
	assert_int_equal(poll(&p, 1, 150), 0);
	stops_saying(&r, 5000, "bytes for the guest not taken for 0.3 s");
	rig_down(&r);
}

/* A guest that reads slowly but steadily is no stall. */
static void test_slow_is_no_stall(void **state)
{
	struct rig r;
	guint8 buf[1024] = {0};

	rig_up(&r, 300);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(write(r.helper, buf, sizeof(buf)),
				 sizeof(buf));
		g_usleep(100000);
		assert_int_equal(read(r.vmm, buf, sizeof(buf)), sizeof(buf));
	}
	g_usleep(500000);
	assert_true(vtb_bridge_check(r.b, NULL));
	rig_down(&r);
}

/* Freed at once, with bytes in flight or none. */
static void test_free_is_prompt(void **state)
{
	struct rig r;
	guint8 buf[4096] = {0};
	gint64 t0;

	rig_up(&r, 0);
	assert_int_equal(write(r.helper, buf, sizeof(buf)), sizeof(buf));
	t0 = g_get_monotonic_time();
	vtb_bridge_free(r.b);
	r.b = NULL;
	assert_true(g_get_monotonic_time() - t0 < 500000);
	/* The helper's end sees EOF. */
	assert_int_equal(read(r.helper, buf, sizeof(buf)), 0);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_helper_closed),
		cmocka_unit_test(test_vmm_closed),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_slow_is_no_stall),
		cmocka_unit_test(test_free_is_prompt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
