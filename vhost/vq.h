/* The split virtqueue as the device sees it: rings and buffers in guest
 * memory mapped from the front-end, every index and address checked. */
#ifndef VTB_VQ_H
#define VTB_VQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/vu.h"

/* The largest queue we accept; virtio_uml offers 256. */
#define VQ_MAX_NUM 1024u

/* A region of the front-end's memory table and where we mapped it. */
struct vq_region {
	uint64_t gpa;  /* guest physical start */
	uint64_t size; /* bytes */
	uint64_t uva;  /* front-end virtual start */
	uint8_t *host; /* our mapping of gpa, NULL when not mapped */
};

struct vq_mem {
	unsigned n;
	struct vq_region r[VU_MAX_REGIONS];
};

/*
 * Our pointer to [@addr, @addr + @len) of guest physical (vq_mem_gpa) or
 * front-end virtual (vq_mem_uva) memory, or NULL when that range is not
 * entirely inside one mapped region.
 */
void *vq_mem_gpa(const struct vq_mem *mem, uint64_t addr, uint64_t len);
void *vq_mem_uva(const struct vq_mem *mem, uint64_t addr, uint64_t len);

struct vq {
	unsigned num; /* queue size, a power of 2 */
	/* The rings, in our mapping (the layout of linux/virtio_ring.h). */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail; /* next avail entry we pop */
	uint16_t used_idx;   /* next used entry we push */
	const struct vq_mem *mem;
};

/* One popped chain: its readable then its writable buffers. */
struct vq_chain {
	uint16_t head;
	unsigned nout, nin;	  /* readable (out), writable (in) */
	uint64_t out_len, in_len; /* bytes of each */
	struct iovec out[VQ_MAX_NUM], in[VQ_MAX_NUM];
};

/*
 * Point @q at rings of @num entries whose front-end virtual addresses
 * are @desc, @avail and @used, inside @mem (kept by pointer: a new table
 * means a new vq_setup), starting at avail and used index @base.  0, or
 * -1 with the reason in @why (VU_WHY_MAX bytes): a bad size, a ring
 * misaligned or outside every region.
 */
int vq_setup(struct vq *q, const struct vq_mem *mem, unsigned num,
	     uint64_t desc, uint64_t avail, uint64_t used, uint16_t base,
	     char *why);

/*
 * Pop the next available chain into @c.  1 when popped, 0 when the
 * driver has made none available, -1 with the reason in @why: the avail
 * index jumped more than the queue size, a head or next index out of
 * range, a chain longer than the queue (a loop), an indirect descriptor,
 * a readable buffer after a writable one, a buffer outside every region.
 * After -1 the queue is broken: @q stays as it was.
 */
int vq_pop(struct vq *q, struct vq_chain *c, char *why);

/* Put back the chain last popped (it is popped again next time). */
void vq_unpop(struct vq *q);

/* Mark chain @head used with @len bytes written into its writable
 * buffers; visible to the driver at once (release ordering). */
void vq_push(struct vq *q, uint16_t head, uint32_t len);

/* Whether the driver wants a call now (VRING_AVAIL_F_NO_INTERRUPT clear),
 * after a full barrier against the pushes before it. */
int vq_should_call(const struct vq *q);

/* Chains available and not yet popped (0 when the index is broken). */
unsigned vq_pending(const struct vq *q);

#endif
