/* Walking split virtqueues the guest writes while we read them: each
 * index and descriptor is read once, checked, then used. */
#include "vhost/vq.h"

#include <endian.h>
#include <inttypes.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>

#define WHY(...) (snprintf(why, VU_WHY_MAX, __VA_ARGS__), -1)

static void *lookup(const struct vq_mem *mem, int uva, uint64_t addr,
		    uint64_t len)
{
	for (unsigned i = 0; i < mem->n; i++) {
		const struct vq_region *r = &mem->r[i];
		uint64_t start = uva ? r->uva : r->gpa, off;

		if (!r->host || addr < start)
			continue;
		off = addr - start;
		if (off >= r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

void *vq_mem_gpa(const struct vq_mem *mem, uint64_t addr, uint64_t len)
{
	return lookup(mem, 0, addr, len);
}

void *vq_mem_uva(const struct vq_mem *mem, uint64_t addr, uint64_t len)
{
	return lookup(mem, 1, addr, len);
}

static int ring(const struct vq_mem *mem, const char *what, uint64_t addr,
		uint64_t len, uint64_t align, void **out, char *why)
{
	if (addr % align)
		return WHY("%s ring at 0x%" PRIx64 " is not %" PRIu64
			   "-byte aligned",
			   what, addr, align);
	*out = vq_mem_uva(mem, addr, len);
	if (!*out)
		return WHY("%s ring 0x%" PRIx64 "+0x%" PRIx64
			   " is outside the memory table",
			   what, addr, len);
	return 0;
}

int vq_setup(struct vq *q, const struct vq_mem *mem, unsigned num,
	     uint64_t desc, uint64_t avail, uint64_t used, uint16_t base,
	     char *why)
{
	void *d, *a, *u;

	if (num == 0 || num > VQ_MAX_NUM || (num & (num - 1)))
		return WHY("queue size %u is not a power of 2 up to %u", num,
			   VQ_MAX_NUM);
	if (ring(mem, "descriptor", desc, 16ull * num, 16, &d, why) < 0 ||
	    ring(mem, "available", avail, 6ull + 2ull * num, 2, &a, why) < 0 ||
	    ring(mem, "used", used, 6ull + 8ull * num, 4, &u, why) < 0)
		return -1;
	q->num = num;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->last_avail = base;
	q->used_idx = base;
	q->mem = mem;
	return 0;
}

static uint16_t avail_idx(const struct vq *q)
{
	/* Acquire: the ring entries and descriptors the driver wrote before
	 * it published the index are read after it. */
	return le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));
}

unsigned vq_pending(const struct vq *q)
{
	uint16_t n = (uint16_t)(avail_idx(q) - q->last_avail);

	return n > q->num ? 0 : n;
}

int vq_pop(struct vq *q, struct vq_chain *c, char *why)
{
	uint16_t idx = avail_idx(q), n = (uint16_t)(idx - q->last_avail);
	uint16_t head, i;
	unsigned count = 0;

	if (n == 0)
		return 0;
	if (n > q->num)
		return WHY("avail index %u is %u ahead of %u, more than the "
			   "queue size %u",
			   idx, n, q->last_avail, q->num);
	head = le16toh(__atomic_load_n(&q->avail->ring[q->last_avail % q->num],
				       __ATOMIC_RELAXED));
	if (head >= q->num)
		return WHY("avail entry %u: head %u out of range (size %u)",
			   q->last_avail, head, q->num);
	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	for (i = head;;) {
		struct vring_desc d;
		uint16_t flags;
		uint32_t len;
		uint64_t addr;
		void *p;

		if (++count > q->num)
			return WHY("chain at head %u is longer than the queue "
				   "size %u (a loop)",
				   head, q->num);
		/* One read of the descriptor: the guest may rewrite it. */
		memcpy(&d, (const void *)&q->desc[i], sizeof(d));
		flags = le16toh(d.flags);
		len = le32toh(d.len);
		addr = le64toh(d.addr);
		if (flags & VRING_DESC_F_INDIRECT)
			return WHY("descriptor %u: indirect, not negotiated",
				   i);
		p = vq_mem_gpa(q->mem, addr, len);
		if (!p)
			return WHY("descriptor %u: 0x%" PRIx64 "+0x%" PRIx32
				   " is outside guest memory",
				   i, addr, len);
		if (flags & VRING_DESC_F_WRITE) {
			c->in[c->nin].iov_base = p;
			c->in[c->nin++].iov_len = len;
			c->in_len += len;
		} else {
			if (c->nin)
				return WHY("descriptor %u: readable after a "
					   "writable one",
					   i);
			c->out[c->nout].iov_base = p;
			c->out[c->nout++].iov_len = len;
			c->out_len += len;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		if (le16toh(d.next) >= q->num)
			return WHY(
				"descriptor %u: next %u out of range (size %u)",
				i, le16toh(d.next), q->num);
		i = le16toh(d.next);
	}
	q->last_avail++;
	return 1;
}

void vq_unpop(struct vq *q)
{
	q->last_avail--;
}

void vq_push(struct vq *q, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &q->used->ring[q->used_idx % q->num];

	e->id = htole32(head);
	e->len = htole32(len);
	q->used_idx++;
	/* Release: the element (and the bytes written into the buffers)
	 * before the index the driver polls. */
	__atomic_store_n(&q->used->idx, htole16(q->used_idx), __ATOMIC_RELEASE);
}

int vq_should_call(const struct vq *q)
{
	/* Full barrier: our used index store before the driver's flags
	 * load, or a driver that just re-enabled calls is missed. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(le16toh(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED)) &
		 VRING_AVAIL_F_NO_INTERRUPT);
}
