// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * mpool_fuzz_mt.c - libFuzzer harness for libmempool, several threads.
 *
 * The input's first HDR bytes choose the number of threads (2 to 4) and
 * the geometry and flags of one pool and one slab that all of them share;
 * the rest is dealt out byte by byte, round-robin, as each thread's own
 * program.  A thread allocates, frees, hands blocks to other threads
 * through a shared array of handoff slots (atomic exchange, so every block
 * has one owner at a time; whoever takes a block out frees it, often in
 * another thread than the one that allocated it), flushes its cache, reads
 * statistics and makes misuse that is deterministic even under races (a
 * foreign, interior or other allocator's pointer, and a double free of a
 * block it has just put in its own cache).
 *
 * Checked while running: every block handed out is a block of its
 * allocator's segment, and its owner word (one per block index) goes from
 * free to the new owner by compare-and-swap, so a block handed out twice
 * traps at once; a block's pattern is intact whenever its owner changes;
 * every free returns what it must; misuse is reported once, through the
 * hook, in the thread that made it.
 *
 * Checked after the threads are joined (their caches went back to the
 * pool as they exited) and the handoff slots are emptied: nothing in use,
 * nothing cached, every block free; the failed, invalid and double free
 * counters equal the threads' own counts; and the whole capacity can be
 * allocated again by one thread, every block once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mempool.h"

#define MAX_THREADS	4
#define MAX_BLOCKS	128
#define NHAND		8
#define HDR		7
#define ALIGN		64u

#define FREE_W		0		/* owner: the allocator */
#define HANDOFF_W	0xff		/* owner: a handoff slot */

enum { A_POOL, A_SLAB, A_NR };

struct alloc {
	void *h;
	size_t bsize;
	size_t stride;
	size_t cap;
	size_t mag;
	uintptr_t base;
	int owner[MAX_BLOCKS];		/* atomic: FREE_W, id + 1, HANDOFF_W */
	uint8_t tag[MAX_BLOCKS];	/* written by the block's owner */
	long failed;			/* atomic: NULL allocations */
	long invalid;			/* atomic: -EINVAL frees */
	long dbl;			/* atomic: -EALREADY frees */
};

struct own {
	uint8_t a;
	bool mine;		/* this thread allocated it (not handed over) */
	uint32_t idx;
};

struct worker {
	pthread_t tid;
	int id;
	const uint8_t *prog;
	size_t len;
	size_t stride;		/* its bytes: prog[0], prog[stride]... */
	uint8_t seq;
	size_t nown;
	struct own own[2 * MAX_BLOCKS];
};

static struct alloc allocs[A_NR];
static void *handoff[NHAND];
static pthread_barrier_t start;
static int nthreads;

/* What the error hook saw in this thread since the last check. */
static __thread struct {
	int n;
	struct mempool_error e;
} hook;

static __attribute__((noreturn)) void fail(int line, const char *what)
{
	fprintf(stderr, "mpool_fuzz_mt.c:%d: check failed: %s\n", line, what);
	__builtin_trap();
}

#define CHECK(cond)						\
	do {							\
		if (!(cond))					\
			fail(__LINE__, #cond);			\
	} while (0)

static void count_hook(const struct mempool_error *e, void *arg)
{
	(void)arg;
	hook.n++;
	hook.e = *e;
}

static void expect_report(struct alloc *al, const void *ptr, int err)
{
	CHECK(hook.n == 1);
	CHECK(hook.e.allocator == al->h);
	CHECK(hook.e.ptr == ptr);
	CHECK(hook.e.err == err);
	hook.n = 0;
}

static void *a_alloc(int a)
{
	if (a == A_POOL)
		return pool_alloc(allocs[a].h);
	return slab_alloc(allocs[a].h);
}

static int a_free(int a, void *ptr)
{
	if (a == A_POOL)
		return pool_free(allocs[a].h, ptr);
	return slab_free(allocs[a].h, ptr);
}

static int a_stats(int a, struct mempool_stats *st)
{
	if (a == A_POOL)
		return pool_stats(allocs[a].h, st);
	return slab_stats(allocs[a].h, st);
}

static uint8_t *blk_ptr(int a, uint32_t idx)
{
	return (uint8_t *)(allocs[a].base + idx * allocs[a].stride);
}

/* The index of block @ptr of @a; traps unless it is one. */
static uint32_t blk_idx(int a, const void *ptr)
{
	struct alloc *al = &allocs[a];
	uintptr_t off = (uintptr_t)ptr - al->base;

	CHECK((uintptr_t)ptr >= al->base);
	CHECK(off % al->stride == 0);
	CHECK(off / al->stride < al->cap);
	return (uint32_t)(off / al->stride);
}

/* Which allocator @ptr, a block taken from a handoff slot, belongs to. */
static int blk_alloc_of(const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;
	int a;

	for (a = 0; a < A_NR; a++)
		if (p >= allocs[a].base &&
		    p < allocs[a].base + allocs[a].cap * allocs[a].stride)
			return a;
	fail(__LINE__, "a handed-off pointer is no block");
	return 0;
}

static void set_owner(int a, uint32_t idx, int from, int to)
{
	int old = from;

	CHECK(__atomic_compare_exchange_n(&allocs[a].owner[idx], &old, to,
					  false, __ATOMIC_ACQ_REL,
					  __ATOMIC_ACQUIRE));
}

static void check_blk(int a, uint32_t idx)
{
	const uint8_t *p = blk_ptr(a, idx);
	uint8_t tag = allocs[a].tag[idx];
	size_t i;

	for (i = 0; i < allocs[a].bsize; i++)
		CHECK(p[i] == tag);
}

static void fill_blk(struct worker *w, int a, uint32_t idx)
{
	uint8_t tag = (uint8_t)(w->id * 64 + ++w->seq % 64) | 1;

	allocs[a].tag[idx] = tag;
	memset(blk_ptr(a, idx), tag, allocs[a].bsize);
}

static void take(struct worker *w, int a, uint32_t idx, bool mine)
{
	CHECK(w->nown < 2 * MAX_BLOCKS);
	w->own[w->nown].a = (uint8_t)a;
	w->own[w->nown].mine = mine;
	w->own[w->nown].idx = idx;
	w->nown++;
}

static void do_alloc(struct worker *w, int a)
{
	uint32_t idx;
	void *p;

	errno = 0;
	p = a_alloc(a);
	if (!p) {
		CHECK(errno == ENOMEM);
		__atomic_add_fetch(&allocs[a].failed, 1, __ATOMIC_RELAXED);
		return;
	}
	CHECK((uintptr_t)p % ALIGN == 0);
	idx = blk_idx(a, p);
	/* A block handed out while someone owns it fails here. */
	set_owner(a, idx, FREE_W, w->id + 1);
	fill_blk(w, a, idx);
	take(w, a, idx, true);
}

/* Free the block at @i of @w's own; then perhaps free it again at once. */
static void do_free(struct worker *w, size_t i, bool again)
{
	struct own o = w->own[i];
	struct alloc *al = &allocs[o.a];
	void *p = blk_ptr(o.a, o.idx);

	w->own[i] = w->own[--w->nown];
	check_blk(o.a, o.idx);
	set_owner(o.a, o.idx, w->id + 1, FREE_W);
	CHECK(a_free(o.a, p) == 0);
	/*
	 * A pool block this thread allocated, freed with caches on, sits in
	 * this thread's cache, where no other thread can take it: a second
	 * free is a double free whatever the others do.  Not so a block
	 * another thread allocated: its free queues it to that owner, and a
	 * thief may collect it and hand it out again before a second free,
	 * which would then free the new allocation (a free through a stale
	 * pointer, which no allocator can tell from a correct one).
	 */
	if (!again || o.a != A_POOL || !al->mag || !o.mine)
		return;
	CHECK(a_free(o.a, p) == -EALREADY);
	expect_report(al, p, -EALREADY);
	__atomic_add_fetch(&al->dbl, 1, __ATOMIC_RELAXED);
}

/* Swap one of our blocks (or nothing) with handoff slot @k. */
static void do_handoff(struct worker *w, uint8_t k, bool give)
{
	void *in = NULL, *out;
	struct own o;
	int a;

	if (give && w->nown) {
		o = w->own[--w->nown];
		check_blk(o.a, o.idx);
		set_owner(o.a, o.idx, w->id + 1, HANDOFF_W);
		in = blk_ptr(o.a, o.idx);
	}
	out = __atomic_exchange_n(&handoff[k % NHAND], in, __ATOMIC_ACQ_REL);
	if (!out)
		return;
	a = blk_alloc_of(out);
	o.idx = blk_idx(a, out);
	set_owner(a, o.idx, HANDOFF_W, w->id + 1);
	check_blk(a, o.idx);
	take(w, a, o.idx, false);
}

/* Pointers that are no block of the allocator they are freed to. */
static void do_misuse(struct worker *w, uint8_t sel, uint8_t k)
{
	uint8_t on_stack[64];
	struct alloc *al;
	struct own o;
	uint8_t *p;
	int a = sel & 1;

	al = &allocs[a];
	if (sel & 2 && w->nown) {
		o = w->own[k % w->nown];
		if (o.a == a)	/* interior of a block we own */
			p = blk_ptr(o.a, o.idx) + 1 + k % (al->stride - 1);
		else		/* the other allocator's block */
			p = blk_ptr(o.a, o.idx);
	} else {
		p = &on_stack[k % sizeof(on_stack)];
	}
	CHECK(a_free(a, p) == -EINVAL);
	expect_report(al, p, -EINVAL);
	__atomic_add_fetch(&al->invalid, 1, __ATOMIC_RELAXED);
}

/* A snapshot while others run: only what never moves is exact. */
static void do_stats(void)
{
	struct mempool_stats st;
	long n;
	int a;

	n = pool_cache_flush(allocs[A_POOL].h);
	CHECK(n >= 0 && (size_t)n <= 2 * allocs[A_POOL].mag);
	for (a = 0; a < A_NR; a++) {
		CHECK(a_stats(a, &st) == 0);
		CHECK(st.block_size == allocs[a].bsize);
		CHECK(st.stride == allocs[a].stride);
		CHECK(st.capacity == allocs[a].cap);
		CHECK(st.in_use <= st.capacity);
		CHECK(st.corrupt == 0);
		CHECK(st.quarantined == 0);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t pos;
	uint8_t op, b;

	pthread_barrier_wait(&start);
	for (pos = 0; pos < w->len; pos += 2 * w->stride) {
		op = w->prog[pos];
		b = pos + w->stride < w->len ? w->prog[pos + w->stride] : 0;
		switch (op % 10) {
		case 0:
		case 1:
		case 2:
			do_alloc(w, A_POOL);
			break;
		case 3:
			do_alloc(w, A_SLAB);
			break;
		case 4:
		case 5:
			if (w->nown)
				do_free(w, b % w->nown, op & 0x80);
			break;
		case 6:
		case 7:
			do_handoff(w, b, !(op & 0x80));
			break;
		case 8:
			do_misuse(w, op >> 4, b);
			break;
		default:
			do_stats();
			break;
		}
		CHECK(hook.n == 0);
	}
	while (w->nown)
		do_free(w, w->nown - 1, false);
	return NULL;
}

/*
 * One thread takes every block of @a (all are allocatable: no other thread
 * holds a cache), each once, in one segment of @cap strides; one more is
 * refused; then it gives them all back.  Learns the segment's base.
 */
static void take_all(int a)
{
	struct alloc *al = &allocs[a];
	void *p[MAX_BLOCKS];
	uintptr_t lo = UINTPTR_MAX, hi = 0, q;
	bool seen[MAX_BLOCKS];
	size_t i;

	for (i = 0; i < al->cap; i++) {
		p[i] = a_alloc(a);
		CHECK(p[i]);
		q = (uintptr_t)p[i];
		CHECK(q % ALIGN == 0);
		lo = q < lo ? q : lo;
		hi = q > hi ? q : hi;
	}
	errno = 0;
	CHECK(!a_alloc(a) && errno == ENOMEM);
	al->failed++;
	CHECK(hi - lo == (al->cap - 1) * al->stride);
	if (!al->base)
		al->base = lo;
	CHECK(lo == al->base);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < al->cap; i++) {
		q = blk_idx(a, p[i]);
		CHECK(!seen[q]);
		seen[q] = true;
		CHECK(__atomic_load_n(&al->owner[q], __ATOMIC_RELAXED) ==
		      FREE_W);
		memset(p[i], 0x5a, al->bsize);
	}
	for (i = 0; i < al->cap; i++)
		CHECK(a_free(a, p[i]) == 0);
	if (a == A_POOL)
		pool_cache_flush(al->h);
}

/* Quiescent: exact. */
static void check_idle(int a)
{
	struct alloc *al = &allocs[a];
	struct mempool_stats st;

	CHECK(a_stats(a, &st) == 0);
	CHECK(st.capacity == al->cap);
	CHECK(st.in_use == 0);
	CHECK(st.cached == 0);
	CHECK(st.free == al->cap);
	CHECK(st.high_water <= al->cap);
	CHECK(st.failed == (uint64_t)al->failed);
	CHECK(st.invalid == (uint64_t)al->invalid);
	CHECK(st.double_free == (uint64_t)al->dbl);
	CHECK(st.corrupt == 0);
	CHECK(st.quarantined == 0);
}

static size_t hdr_bsize(uint8_t v)
{
	if (v >= 0xf8)
		return (size_t)ALIGN << (v & 3);
	return 1 + (size_t)v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mempool_set_error_hook(count_hook, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct worker workers[MAX_THREADS];
	struct mempool_stats st;
	struct alloc *al;
	size_t cache;
	uint32_t idx;
	void *p;
	int a, t;

	if (size < HDR)
		return 0;
	memset(allocs, 0, sizeof(allocs));
	nthreads = 2 + data[0] % (MAX_THREADS - 1);
	allocs[A_POOL].bsize = hdr_bsize(data[1]);
	allocs[A_POOL].cap = 1 + data[2] % MAX_BLOCKS;
	cache = data[3] % (allocs[A_POOL].cap + 1);
	allocs[A_POOL].mag = (cache + 1) / 2;
	allocs[A_SLAB].bsize = hdr_bsize(data[4]);
	allocs[A_SLAB].cap = 1 + data[5] % MAX_BLOCKS;
	allocs[A_POOL].h = pool_create_flags(allocs[A_POOL].bsize, cache,
					     allocs[A_POOL].cap,
					     data[6] & 1 ? MEMPOOL_DEBUG : 0);
	allocs[A_SLAB].h = slab_create_flags(allocs[A_SLAB].bsize,
					     allocs[A_SLAB].cap,
					     data[6] & 2 ? MEMPOOL_DEBUG : 0);
	CHECK(allocs[A_POOL].h && allocs[A_SLAB].h);
	for (a = 0; a < A_NR; a++) {
		al = &allocs[a];
		/* Debug mode adds a red zone: the stride is the allocator's. */
		CHECK(a_stats(a, &st) == 0);
		CHECK(st.stride % ALIGN == 0 && st.stride >= al->bsize);
		al->stride = st.stride;
		take_all(a);
		check_idle(a);
	}
	data += HDR;
	size -= HDR;

	CHECK(!pthread_barrier_init(&start, NULL, nthreads));
	for (t = 0; t < nthreads; t++) {
		workers[t].id = t;
		workers[t].prog = data + t;
		workers[t].len = size > (size_t)t ? size - t : 0;
		workers[t].stride = nthreads;
		workers[t].seq = 0;
		workers[t].nown = 0;
		CHECK(!pthread_create(&workers[t].tid, NULL, worker_main,
				      &workers[t]));
	}
	for (t = 0; t < nthreads; t++)
		CHECK(!pthread_join(workers[t].tid, NULL));
	pthread_barrier_destroy(&start);

	/* What is left in the handoff slots: freed here, by another thread. */
	for (t = 0; t < NHAND; t++) {
		p = __atomic_exchange_n(&handoff[t], NULL, __ATOMIC_ACQ_REL);
		if (!p)
			continue;
		a = blk_alloc_of(p);
		idx = blk_idx(a, p);
		set_owner(a, idx, HANDOFF_W, FREE_W);
		check_blk(a, idx);
		CHECK(a_free(a, p) == 0);
	}
	pool_cache_flush(allocs[A_POOL].h);
	for (a = 0; a < A_NR; a++) {
		check_idle(a);
		take_all(a);
		check_idle(a);
	}
	CHECK(hook.n == 0);
	pool_destroy(allocs[A_POOL].h);
	slab_destroy(allocs[A_SLAB].h);
	return 0;
}
