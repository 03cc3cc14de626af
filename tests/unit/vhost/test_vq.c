/* Unit tests for vhost/vq.c: the walker over a fake guest memory (a malloc'd
 * buffer), a table of chains it must pop or refuse with the reason. */
#include <linux/virtio_ring.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vhost/vq.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MEM_SIZE (1u << 20)
#define GPA 0x100000ull	      /* guest physical start of the region */
#define UVA 0x7f0000000000ull /* front-end virtual start */
#define DESC 0x0000u	      /* ring offsets in the region */
#define AVAIL 0x1000u
#define USED 0x2000u
#define BUF 0x10000u /* buffers from here */
#define NUM 8u

struct fake {
	uint8_t *m;
	struct vq_mem mem;
	struct vq q;
	struct vq_chain *c;
};

static struct vring_desc *desc(struct fake *f)
{
	return (struct vring_desc *)(f->m + DESC);
}

static struct vring_avail *avail(struct fake *f)
{
	return (struct vring_avail *)(f->m + AVAIL);
}

static struct vring_used *used(struct fake *f)
{
	return (struct vring_used *)(f->m + USED);
}

static void set_desc(struct fake *f, unsigned i, uint64_t gpa, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	desc(f)[i] = (struct vring_desc){gpa, len, flags, next};
}

static void offer(struct fake *f, uint16_t head)
{
	struct vring_avail *a = avail(f);

	a->ring[a->idx % NUM] = head;
	a->idx++;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	char why[VU_WHY_MAX];

	f->m = calloc(1, MEM_SIZE);
	f->c = calloc(1, sizeof(*f->c));
	f->mem.n = 1;
	f->mem.r[0] = (struct vq_region){GPA, MEM_SIZE, UVA, f->m};
	assert_int_equal(vq_setup(&f->q, &f->mem, NUM, UVA + DESC, UVA + AVAIL,
				  UVA + USED, 0, why),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	free(f->c);
	free(f->m);
	free(f);
	return 0;
}

/* ---- chains ---- */

static void one_out(struct fake *f)
{
	set_desc(f, 0, GPA + BUF, 100, 0, 0);
	offer(f, 0);
}

static void out_in_in(struct fake *f)
{
	set_desc(f, 3, GPA + BUF, 8, VRING_DESC_F_NEXT, 5);
	set_desc(f, 5, GPA + BUF + 0x1000, 4096,
		 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(f, 1, GPA + BUF + 0x2000, 512, VRING_DESC_F_WRITE, 0);
	offer(f, 3);
}

static void last_byte(struct fake *f)
{
	set_desc(f, 0, GPA + MEM_SIZE - 1, 1, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
}

static void below(struct fake *f)
{
	set_desc(f, 0, GPA - 16, 16, 0, 0);
	offer(f, 0);
}

static void uva_not_gpa(struct fake *f)
{
	/* A front-end virtual address is not a guest physical one. */
	set_desc(f, 0, UVA + BUF, 16, 0, 0);
	offer(f, 0);
}

static void past_end(struct fake *f)
{
	set_desc(f, 0, GPA + MEM_SIZE - 8, 16, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
}

static void huge_len(struct fake *f)
{
	set_desc(f, 0, GPA + BUF, UINT32_MAX, 0, 0);
	offer(f, 0);
}

static void loop2(struct fake *f)
{
	set_desc(f, 0, GPA + BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, GPA + BUF, 16, VRING_DESC_F_NEXT, 0);
	offer(f, 0);
}

static void self_loop(struct fake *f)
{
	set_desc(f, 2, GPA + BUF, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		 2);
	offer(f, 2);
}

static void next_out(struct fake *f)
{
	set_desc(f, 0, GPA + BUF, 16, VRING_DESC_F_NEXT, NUM + 1);
	offer(f, 0);
}

static void head_out(struct fake *f)
{
	offer(f, NUM);
}

static void idx_jump(struct fake *f)
{
	one_out(f);
	avail(f)->idx = NUM + 1;
}

static void idx_back(struct fake *f)
{
	avail(f)->idx = (uint16_t)-1; /* behind ours: a jump of 65535 */
}

static void indirect(struct fake *f)
{
	set_desc(f, 0, GPA + BUF, 32, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
}

static void read_after_write(struct fake *f)
{
	set_desc(f, 0, GPA + BUF, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		 1);
	set_desc(f, 1, GPA + BUF, 16, 0, 0);
	offer(f, 0);
}

static void full_chain(struct fake *f)
{
	/* NUM descriptors in one chain: as long as allowed. */
	for (unsigned i = 0; i < NUM; i++)
		set_desc(f, i, GPA + BUF + i * 64, 64,
			 (i + 1 < NUM ? VRING_DESC_F_NEXT : 0) |
				 VRING_DESC_F_WRITE,
			 (uint16_t)(i + 1));
	offer(f, 0);
}

struct vq_case {
	const char *name;
	void (*make)(struct fake *f);
	int ret;
	const char *why; /* a part of the reason when ret is -1 */
	unsigned nout, nin;
	uint64_t out_len, in_len;
};

static const struct vq_case cases[] = {
	{"nothing available", NULL, 0},
	{"one readable", one_out, 1, NULL, 1, 0, 100, 0},
	{"readable then two writable", out_in_in, 1, NULL, 1, 2, 8, 4608},
	{"last byte of the region", last_byte, 1, NULL, 0, 1, 0, 1},
	{"a chain as long as the queue", full_chain, 1, NULL, 0, NUM, 0,
	 NUM * 64},
	{"below the region", below, -1, "outside guest memory"},
	{"virtual address as physical", uva_not_gpa, -1,
	 "outside guest memory"},
	{"past the region end", past_end, -1,
	 "descriptor 0: 0x1ffff8+0x10 is outside guest memory"},
	{"length 4 GiB", huge_len, -1, "outside guest memory"},
	{"loop of two", loop2, -1, "longer than the queue size 8 (a loop)"},
	{"self loop", self_loop, -1, "(a loop)"},
	{"next out of range", next_out, -1,
	 "descriptor 0: next 9 out of range (size 8)"},
	{"head out of range", head_out, -1, "head 8 out of range"},
	{"avail idx jumps", idx_jump, -1,
	 "avail index 9 is 9 ahead of 0, more than the queue size 8"},
	{"avail idx goes back", idx_back, -1, "ahead of 0"},
	{"indirect", indirect, -1, "indirect, not negotiated"},
	{"readable after writable", read_after_write, -1,
	 "readable after a writable one"},
};

static void test_pop(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct vq_case *k = &cases[i];
		char why[VU_WHY_MAX] = "";
		struct fake *f;
		int r;

		setup((void **)&f);
		if (k->make)
			k->make(f);
		r = vq_pop(&f->q, f->c, why);
		print_message("%-30s -> %d %s\n", k->name, r, why);
		assert_int_equal(r, k->ret);
		if (r < 0) {
			if (!strstr(why, k->why))
				fail_msg("%s: reason '%s' lacks '%s'", k->name,
					 why, k->why);
			assert_int_equal(f->q.last_avail, 0);
		} else if (r > 0) {
			assert_int_equal(f->c->nout, k->nout);
			assert_int_equal(f->c->nin, k->nin);
			assert_int_equal(f->c->out_len, k->out_len);
			assert_int_equal(f->c->in_len, k->in_len);
			assert_int_equal(f->q.last_avail, 1);
		}
		teardown((void **)&f);
	}
}

static void test_split_and_push(void **state)
{
	struct fake *f = *state;
	char why[VU_WHY_MAX];

	out_in_in(f);
	one_out(f);
	assert_int_equal(vq_pending(&f->q), 2);
	assert_int_equal(vq_pop(&f->q, f->c, why), 1);
	assert_int_equal(f->c->head, 3);
	/* Our pointers are the guest's bytes. */
	assert_ptr_equal(f->c->out[0].iov_base, f->m + BUF);
	assert_ptr_equal(f->c->in[0].iov_base, f->m + BUF + 0x1000);
	assert_ptr_equal(f->c->in[1].iov_base, f->m + BUF + 0x2000);
	vq_push(&f->q, f->c->head, 4000);
	assert_int_equal(used(f)->idx, 1);
	assert_int_equal(used(f)->ring[0].id, 3);
	assert_int_equal(used(f)->ring[0].len, 4000);
	assert_int_equal(vq_pop(&f->q, f->c, why), 1);
	assert_int_equal(f->c->head, 0);
	vq_unpop(&f->q);
	assert_int_equal(vq_pop(&f->q, f->c, why), 1);
	assert_int_equal(vq_pop(&f->q, f->c, why), 0);
	assert_int_equal(vq_pending(&f->q), 0);

	assert_true(vq_should_call(&f->q));
	avail(f)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	assert_false(vq_should_call(&f->q));
}

/* Indexes wrap at 2^16 like the driver's. */
static void test_wrap(void **state)
{
	struct fake *f = *state;
	char why[VU_WHY_MAX];

	assert_int_equal(vq_setup(&f->q, &f->mem, NUM, UVA + DESC, UVA + AVAIL,
				  UVA + USED, 65535, why),
			 0);
	avail(f)->idx = 65535;
	one_out(f);
	assert_int_equal(avail(f)->idx, 0);
	assert_int_equal(vq_pop(&f->q, f->c, why), 1);
	assert_int_equal(f->q.last_avail, 0);
	vq_push(&f->q, 0, 0);
	assert_int_equal(used(f)->idx, 0);
}

struct setup_case {
	const char *name;
	unsigned num;
	uint64_t desc, avail, used;
	const char *why;
};

static const struct setup_case setups[] = {
	{"good", NUM, UVA + DESC, UVA + AVAIL, UVA + USED, NULL},
	{"size 0", 0, UVA + DESC, UVA + AVAIL, UVA + USED, "queue size 0"},
	{"size 3", 3, UVA + DESC, UVA + AVAIL, UVA + USED, "not a power of 2"},
	{"size too big", VQ_MAX_NUM * 2, UVA + DESC, UVA + AVAIL, UVA + USED,
	 "up to 1024"},
	{"desc misaligned", NUM, UVA + 8, UVA + AVAIL, UVA + USED,
	 "descriptor ring at 0x7f0000000008 is not 16-byte aligned"},
	{"used misaligned", NUM, UVA, UVA + AVAIL, UVA + USED + 2,
	 "not 4-byte aligned"},
	{"desc at a guest physical address", NUM, GPA, UVA + AVAIL, UVA + USED,
	 "descriptor ring 0x100000+0x80 is outside the memory table"},
	{"avail past the end", NUM, UVA, UVA + MEM_SIZE - 16, UVA + USED,
	 "available ring"},
	{"used past the end", NUM, UVA, UVA + AVAIL, UVA + MEM_SIZE - 32,
	 "used ring"},
};

static void test_setup(void **state)
{
	struct fake *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(setups); i++) {
		const struct setup_case *s = &setups[i];
		char why[VU_WHY_MAX] = "";
		int r = vq_setup(&f->q, &f->mem, s->num, s->desc, s->avail,
				 s->used, 0, why);

		print_message("%-34s -> %d %s\n", s->name, r, why);
		if (!s->why) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, -1);
			if (!strstr(why, s->why))
				fail_msg("%s: reason '%s' lacks '%s'", s->name,
					 why, s->why);
		}
	}
}

static void test_translate(void **state)
{
	struct fake *f = *state;

	assert_ptr_equal(vq_mem_gpa(&f->mem, GPA, MEM_SIZE), f->m);
	assert_null(vq_mem_gpa(&f->mem, GPA, MEM_SIZE + 1ull));
	assert_null(vq_mem_gpa(&f->mem, GPA + MEM_SIZE, 0));
	assert_null(vq_mem_gpa(&f->mem, UINT64_MAX, 2));
	assert_ptr_equal(vq_mem_uva(&f->mem, UVA + 5, 1), f->m + 5);
	assert_null(vq_mem_uva(&f->mem, GPA, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pop),
		cmocka_unit_test_setup_teardown(test_split_and_push, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_translate, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
