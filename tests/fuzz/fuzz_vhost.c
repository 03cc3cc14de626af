/* libFuzzer harness: the vhost-user decoder, the virtqueue walker and the
 * virtio-fs front's rewriting must survive anything a front-end (UML's
 * guest kernel), a back-end or a guest can write. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/fsmsg.h"
#include "vhost/vq.h"
#include "vhost/vu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Messages as a stream reader would see them, with 0..9 fds each. */
static void fuzz_decoder(const uint8_t *data, size_t size)
{
	int fds[VU_MAX_FDS + 1] = {10, 11, 12, 13, 14, 15, 16, 17, 18};

	while (size > 1) {
		unsigned nfds = data[0] % (VU_MAX_FDS + 2);
		uint8_t out[VU_HDR_SIZE + VU_PAYLOAD_MAX + VU_CONFIG_MAX];
		char why[VU_WHY_MAX];
		struct vu_msg m;
		uint8_t *copy;
		int n;

		data++;
		size--;
		/* Exactly the remaining bytes, so ASan sees an overread. */
		copy = malloc(size);
		if (!copy)
			abort();
		memcpy(copy, data, size);
		why[0] = 0;
		n = vu_decode(copy, size, fds, nfds, &m, why);
		free(copy);
		if (n < 0) {
			if (!why[0] || !memchr(why, 0, sizeof(why)))
				abort();
			return;
		}
		if (n == 0)
			return;
		if ((size_t)n > size || n < (int)VU_HDR_SIZE ||
		    m.size != (uint32_t)n - VU_HDR_SIZE || m.nfds != nfds)
			abort();
		if (m.request == VU_SET_MEM_TABLE &&
		    (m.u.mem.num == 0 || m.u.mem.num > VU_MAX_REGIONS))
			abort();
		if ((m.request == VU_GET_CONFIG ||
		     m.request == VU_SET_CONFIG) &&
		    m.u.config.offset + m.u.config.size > VU_CONFIG_MAX)
			abort();
		vu_encode_reply(&m, out, sizeof(out));
		data += n;
		size -= (size_t)n;
	}
}

#define MEM 0x10000u
#define GPA 0x40000000ull
#define UVA 0x1000ull

/* A guest memory made of the input; rings at fixed places in its first
 * kilobyte, where libFuzzer's inputs reach. */
static void fuzz_walker(const uint8_t *data, size_t size)
{
	static struct vq_chain c;
	uint8_t *m = calloc(1, MEM);
	struct vq_mem mem = {1, {{GPA, MEM, UVA, m}}};
	unsigned num = 1u << (data[0] % 6); /* 1..32 */
	char why[VU_WHY_MAX];
	struct vq q;

	if (!m)
		abort();
	memcpy(m, data + 1, size - 1 < MEM ? size - 1 : MEM);
	if (vq_setup(&q, &mem, num, UVA, UVA + 0x200, UVA + 0x300,
		     (uint16_t)(data[0] << 8), why) < 0)
		abort();
	for (int i = 0; i < 300; i++) {
		int r = vq_pop(&q, &c, why);

		if (r <= 0)
			break;
		if (c.nout + c.nin > num || c.head >= num)
			abort();
		for (unsigned k = 0; k < c.nout + c.nin; k++) {
			const struct iovec *v =
				k < c.nout ? &c.out[k] : &c.in[k - c.nout];
			const uint8_t *p = v->iov_base;

			if (p < m || p + v->iov_len > m + MEM)
				abort();
			/* Touch the ends: ASan checks the bounds too. */
			if (v->iov_len)
				((volatile uint8_t *)p)[v->iov_len - 1] ^= 0;
		}
		vq_push(&q, c.head, (uint32_t)c.in_len);
		(void)vq_should_call(&q);
	}
	free(m);
}

/*
 * The front's conversation: each step a byte (bit 0: the back-end's reply,
 * else a VMM request; bits 1-4: fds) and a message as the relay reads it,
 * the header first, then the payload it announces.
 */
static void fuzz_front(const uint8_t *data, size_t size)
{
	static const int fds[VU_MAX_FDS] = {10, 11, 12, 13, 14, 15, 16, 17};
	struct vtb_fsfront_core c;

	vtb_fsfront_core_init(&c, "vtbfs", 1);
	while (size > 1 + VU_HDR_SIZE) {
		uint8_t buf[VU_HDR_SIZE + VU_PAYLOAD_MAX + VU_CONFIG_MAX];
		uint8_t out[VU_HDR_SIZE + 12 + VU_CONFIG_MAX];
		unsigned nfds = (data[0] >> 1) % (VU_MAX_FDS + 1);
		bool reply = data[0] & 1;
		char why[VU_WHY_MAX] = "";
		uint32_t psize, due = vtb_fsfront_due(&c);
		unsigned np = c.npending;
		struct vu_msg m;
		size_t len;
		int r, out_len = -1;

		data++;
		size--;
		memcpy(buf, data, VU_HDR_SIZE);
		if (reply) {
			if (!due || vu_check_reply(buf, due, &psize, why) < 0)
				return;
		} else if (due || vu_check_header(buf, &psize, why) < 0) {
			return; /* the relay reads no request while one is due
				 */
		}
		if (psize > sizeof(buf) - VU_HDR_SIZE ||
		    size < VU_HDR_SIZE + psize)
			return;
		len = VU_HDR_SIZE + psize;
		memcpy(buf, data, len);
		data += len;
		size -= len;
		if (reply) {
			r = vtb_fsfront_reply(&c, buf, len, why);
			if (r < 0 && (!why[0] || !memchr(why, 0, sizeof(why))))
				abort();
			if (r == 0 && c.npending != np - 1)
				abort();
			if (r < 0)
				return;
			continue;
		}
		if (vu_decode(buf, len, fds, nfds, &m, why) != (int)len)
			return;
		r = vtb_fsfront_request(&c, buf, len, &m, out, sizeof(out),
					&out_len, why);
		if (r == VTB_FSF_ANSWER &&
		    (out_len < 0 || (size_t)out_len > sizeof(out) ||
		     (out_len && out_len < (int)VU_HDR_SIZE + 8)))
			abort();
		if (r == VTB_FSF_FORWARD &&
		    (out_len != 0 || c.npending > VTB_FSFRONT_PENDING_MAX))
			abort();
		if (r < 0)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] & 1)
		fuzz_walker(data + 1, size - 1);
	else if (data[0] & 2)
		fuzz_front(data + 1, size - 1);
	else
		fuzz_decoder(data + 1, size - 1);
	return 0;
}
