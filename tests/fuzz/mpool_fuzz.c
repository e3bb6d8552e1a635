// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * mpool_fuzz.c - libFuzzer harness for libmempool, one thread.
 *
 * The input is a program.  Each operation is one byte, the opcode in its
 * low four bits and one of NSLOTS allocator slots in bits 4-5, followed by
 * the operation's argument bytes (a byte past the end reads as 0).  A slot
 * holds a slab, an arena, a pool or nothing.
 *
 * Beside every slot the harness keeps a reference model: the live blocks
 * with the pattern written into each, the range of block addresses the
 * allocator ever handed out, the library allocations its create took, and
 * every statistic.  For a pool the model follows this thread's cache too:
 * with one thread a pool's blocks are either live, in this thread's cache
 * (at most 2 * M, M = ceil(cache_size / 2), refilled with min(M, backing)
 * blocks when empty, spilling M when full) or in the shared backing, so all
 * @capacity blocks are allocatable and the statistics are exact.
 *
 * Every return value, errno, error-hook report and statistic is checked
 * against the model after every operation; the first difference traps.
 * Misuse (double free, foreign, interior, out-of-segment or another
 * allocator's pointer) is expected to return -EALREADY or -EINVAL, to be
 * reported exactly once through the hook and counted, and to change
 * nothing.
 *
 * In debug mode the harness also plays the buggy user the red zones and
 * free-block poison are for: it overwrites a live block's red zone or
 * writes into a free block (opening just that granule to ASan).  Then a
 * free of the live block must fail with -EUCLEAN and withdraw it, an
 * allocation must report and withdraw each written free block it meets
 * instead of handing it out, the audit must count exactly the corrupt
 * blocks, and a withdrawn block must stay out for good (-EUCLEAN when
 * freed again), counted as quarantined and neither in use nor free.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mempool.h"
#include "mpool_testing.h"

#define NSLOTS		4
#define MAX_BLOCKS	96		/* a slab's or pool's most blocks */
#define MAX_ARENA	(128 * 64)	/* an arena's most bytes */
#define MAX_LIVE	128		/* MAX_ARENA / 64 */
#define ALIGN		64u
#define REDZONE		8u		/* debug mode: at least */
#define MAX_EVENTS	256

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#else
#define __asan_poison_memory_region(p, n)	do { } while (0)
#define __asan_unpoison_memory_region(p, n)	do { } while (0)
#endif

enum op {
	OP_ALLOC,	/* 0-2: alloc (arena: size byte) */
	OP_FREE = 3,	/* free a live block */
	OP_CORRUPT,	/* debug mode: write a red zone or a free block */
	OP_FREE_ADDR,	/* free a block address: live or double free */
	OP_FREE_BAD,	/* free a pointer that is no block of the slot */
	OP_FREE_NULL,
	OP_CREATE,
	OP_CREATE_FAULT,	/* create under fault injection */
	OP_CREATE_BAD,	/* create with invalid arguments */
	OP_RESET,	/* arena_reset, pool_cache_flush */
	OP_STATS,	/* check every block's pattern, audit */
	OP_DESTROY,
	OP_NULL_ARGS,	/* NULL allocator and NULL statistics arguments */
	OP_BURST,	/* many allocs, or many frees */
};

enum kind { K_NONE, K_SLAB, K_ARENA, K_POOL };

struct blk {
	uint8_t *ptr;
	size_t len;	/* bytes the pattern covers */
	size_t ext;	/* bytes reserved: stride, arena: up to the next */
	uint8_t tag;
	bool red;	/* its red zone was overwritten */
};

struct slot {
	enum kind kind;
	void *h;
	long mem;		/* library allocations the create took */
	size_t bsize;
	size_t stride;
	size_t cap;		/* blocks; arena: bytes */
	size_t mag;		/* pool: magazine size, 0 without caches */
	size_t cached;		/* pool: blocks in this thread's cache */
	size_t hw;
	uint64_t failed;
	uint64_t invalid;
	uint64_t dbl;
	uint64_t corrupt;
	bool debug;		/* red zones and free-block poison */
	size_t nbad;		/* quarantined blocks */
	uintptr_t bad[MAX_BLOCKS];
	size_t nwritten;	/* free blocks written, not yet quarantined */
	uintptr_t written[MAX_BLOCKS];
	uintptr_t lo, hi;	/* lowest, highest block ever handed out */
	size_t off;		/* arena: bytes handed out */
	uintptr_t base;		/* arena: first block, 0 until known */
	size_t nlive;
	struct blk live[MAX_LIVE];
};

struct input {
	const uint8_t *p;
	size_t n;
};

static struct slot slots[NSLOTS];
static uint8_t serial;
static bool debug_env;		/* MEMPOOL_DEBUG set: every allocator */
static uint8_t *heap_buf;
static uint8_t static_buf[4096] __attribute__((aligned(4096)));

/* What the error hook saw since the last check. */
static struct {
	int n;
	struct mempool_error e[MAX_EVENTS];
} hook;

static __attribute__((noreturn)) void fail(int line, const char *what)
{
	fprintf(stderr, "mpool_fuzz.c:%d: model mismatch: %s\n", line, what);
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
	if (hook.n < MAX_EVENTS)
		hook.e[hook.n] = *e;
	hook.n++;
}

static uint8_t in_byte(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static unsigned int in_u16(struct input *in)
{
	unsigned int v = in_byte(in);

	return v | (unsigned int)in_byte(in) << 8;
}

static const char *kind_name(const struct slot *s)
{
	return s->kind == K_SLAB ? "slab" : "pool";
}

static long outstanding(void)
{
	return mpool_env_outstanding();
}

/* --- the allocator of a slot, whatever its kind ------------------------ */

static void *do_alloc(struct slot *s)
{
	if (s->kind == K_SLAB)
		return slab_alloc(s->h);
	return pool_alloc(s->h);
}

static int do_free(struct slot *s, void *ptr)
{
	if (s->kind == K_SLAB)
		return slab_free(s->h, ptr);
	return pool_free(s->h, ptr);
}

static int do_stats(struct slot *s, struct mempool_stats *st)
{
	switch (s->kind) {
	case K_SLAB:
		return slab_stats(s->h, st);
	case K_ARENA:
		return arena_stats(s->h, st);
	default:
		return pool_stats(s->h, st);
	}
}

/* --- the model --------------------------------------------------------- */

static void check_blk(const struct blk *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		CHECK(b->ptr[i] == b->tag);
}

/* Report @i must be about @s, as @err. */
static const void *report(struct slot *s, int i, int err)
{
	const struct mempool_error *e = &hook.e[i];

	CHECK(i < hook.n && i < MAX_EVENTS);
	CHECK(e->allocator == s->h);
	CHECK(e->err == err);
	CHECK(e->kind && !strcmp(e->kind, kind_name(s)));
	CHECK(e->what && *e->what);
	return e->ptr;
}

/* The misuse just made must have been reported once, as @err on @ptr. */
static void expect_report(struct slot *s, const void *ptr, int err)
{
	CHECK(hook.n == 1);
	CHECK(report(s, 0, err) == ptr);
	hook.n = 0;
}

/* Remove @p from the set @v of @n addresses; whether it was there. */
static bool set_del(uintptr_t *v, size_t *n, uintptr_t p)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (v[i] == p) {
			v[i] = v[--*n];
			return true;
		}
	}
	return false;
}

static bool set_has(const uintptr_t *v, size_t n, uintptr_t p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

static void set_add(uintptr_t *v, size_t *n, uintptr_t p)
{
	if (set_has(v, *n, p))
		return;
	CHECK(*n < MAX_BLOCKS);
	v[(*n)++] = p;
}

/* A corrupt block was withdrawn for good. */
static void quarantine(struct slot *s, uintptr_t p)
{
	set_add(s->bad, &s->nbad, p);
	s->corrupt++;
}

static void check_stats(struct slot *s)
{
	struct mempool_stats st;

	memset(&st, 0xa5, sizeof(st));
	CHECK(do_stats(s, &st) == 0);
	CHECK(st.capacity == s->cap);
	CHECK(st.high_water == s->hw);
	CHECK(st.failed == s->failed);
	CHECK(st.invalid == s->invalid);
	CHECK(st.double_free == s->dbl);
	CHECK(st.corrupt == s->corrupt);
	CHECK(st.quarantined == s->nbad);
	if (s->kind == K_ARENA) {
		CHECK(st.block_size == 0);
		CHECK(st.stride == ALIGN);
		CHECK(st.in_use == s->off);
		CHECK(st.free == s->cap - s->off);
		CHECK(st.cached == 0);
		return;
	}
	CHECK(st.block_size == s->bsize);
	CHECK(st.stride == s->stride);
	CHECK(st.in_use == s->nlive);
	CHECK(st.cached == s->cached);
	CHECK(st.free == s->cap - s->nlive - s->cached - s->nbad);
}

/*
 * A new block [ptr, ptr + ext) of @s: aligned, overlapping no live block
 * of any slot, and for a slab or pool in the allocator's one segment
 * (a multiple of the stride from every block it handed out before, all
 * within @cap strides).  Fill it with a fresh pattern.
 */
static void add_blk(struct slot *s, uint8_t *ptr, size_t len, size_t ext)
{
	uintptr_t a = (uintptr_t)ptr;
	struct blk *b;
	size_t i, j;

	CHECK(ptr);
	CHECK(a % ALIGN == 0);
	CHECK(s->nlive < MAX_LIVE);
	for (i = 0; i < NSLOTS; i++) {
		for (j = 0; j < slots[i].nlive; j++) {
			b = &slots[i].live[j];
			CHECK(a + ext <= (uintptr_t)b->ptr ||
			      (uintptr_t)b->ptr + b->ext <= a);
		}
	}
	if (s->kind != K_ARENA) {
		if (!s->lo) {
			s->lo = a;
			s->hi = a;
		}
		CHECK((a > s->lo ? a - s->lo : s->lo - a) % s->stride == 0);
		if (a < s->lo)
			s->lo = a;
		if (a > s->hi)
			s->hi = a;
		CHECK(s->hi - s->lo < s->cap * s->stride);
	}
	b = &s->live[s->nlive++];
	b->ptr = ptr;
	b->len = len;
	b->ext = ext;
	b->tag = ++serial ? serial : ++serial;
	b->red = false;
	memset(ptr, b->tag, len);
}

/* A block of a pool went into this thread's cache. */
static void model_freed(struct slot *s)
{
	if (s->kind != K_POOL || !s->mag)
		return;
	if (s->cached == 2 * s->mag)
		s->cached = s->mag;
	s->cached++;
}

static void free_live(struct slot *s, size_t i)
{
	struct blk b = s->live[i];

	check_blk(&b);
	s->live[i] = s->live[--s->nlive];
	if (b.red) {
		CHECK(do_free(s, b.ptr) == -EUCLEAN);
		expect_report(s, b.ptr, -EUCLEAN);
		quarantine(s, (uintptr_t)b.ptr);
		return;
	}
	CHECK(do_free(s, b.ptr) == 0);
	model_freed(s);
}

static void check_all(struct slot *s)
{
	size_t i;

	for (i = 0; i < s->nlive; i++)
		check_blk(&s->live[i]);
}

/* --- operations -------------------------------------------------------- */

static void arena_alloc_op(struct slot *s, size_t size)
{
	size_t end;
	void *p;

	errno = 0;
	p = arena_alloc(s->h, size);
	if (!size) {
		CHECK(!p && errno == EINVAL);
		return;
	}
	if (size > s->cap - s->off) {
		CHECK(!p && errno == ENOMEM);
		s->failed++;
		return;
	}
	CHECK(p);
	if (!s->off && !s->base)
		s->base = (uintptr_t)p;
	CHECK((uintptr_t)p == s->base + s->off);
	end = (s->off + size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (end > s->cap)
		end = s->cap;
	add_blk(s, p, size, end - s->off);
	s->off = end;
	if (end > s->hw)
		s->hw = end;
}

static size_t arena_size(struct slot *s, uint8_t v)
{
	if (v < 0x80)
		return 1 + v;
	if (v < 0xf0)
		return 1 + (size_t)(v & 0x7f) * 37;
	switch (v & 3) {
	case 0:
		return 0;
	case 1:
		return s->cap - s->off;
	case 2:
		return s->cap - s->off + 1;
	default:
		return SIZE_MAX;
	}
}

/*
 * One block leaves the backing (through this thread's cache for a pool)
 * for the caller; false when there is none.
 */
static bool model_take(struct slot *s)
{
	size_t b = s->cap - s->nlive - s->cached - s->nbad, n;

	if (s->kind == K_POOL && s->mag) {
		if (!s->cached) {
			n = b < s->mag ? b : s->mag;
			if (!n)
				return false;
			s->cached = n;
			if (s->cap - (b - n) > s->hw)
				s->hw = s->cap - (b - n);
		}
		s->cached--;
		return true;
	}
	if (!b)
		return false;
	if (s->cap - b + 1 > s->hw)
		s->hw = s->cap - b + 1;
	return true;
}

static void op_alloc(struct slot *s, struct input *in)
{
	uintptr_t q;
	void *p;
	int i;

	if (s->kind == K_ARENA) {
		arena_alloc_op(s, arena_size(s, in_byte(in)));
		return;
	}
	errno = 0;
	p = do_alloc(s);
	/* Each written free block met on the way is withdrawn, in turn. */
	for (i = 0; i < hook.n; i++) {
		q = (uintptr_t)report(s, i, -EUCLEAN);
		CHECK(set_del(s->written, &s->nwritten, q));
		CHECK(model_take(s));
		quarantine(s, q);
	}
	hook.n = 0;
	if (!p) {
		CHECK(!model_take(s));
		CHECK(errno == ENOMEM);
		s->failed++;
		return;
	}
	CHECK(model_take(s));
	CHECK(!set_has(s->written, s->nwritten, (uintptr_t)p));
	CHECK(!set_has(s->bad, s->nbad, (uintptr_t)p));
	add_blk(s, p, s->bsize, s->stride);
}

/* Free an address in the range of blocks handed out: live or free. */
static void op_free_addr(struct slot *s, struct input *in)
{
	unsigned int k = in_u16(in);
	uint8_t *p;
	size_t i;

	if (s->kind == K_ARENA || !s->lo)
		return;
	p = (uint8_t *)(s->lo + k % ((s->hi - s->lo) / s->stride + 1) *
			s->stride);
	for (i = 0; i < s->nlive; i++) {
		if (s->live[i].ptr == p) {
			free_live(s, i);
			return;
		}
	}
	if (set_has(s->bad, s->nbad, (uintptr_t)p)) {
		/* Withdrawn: its state word is neither in use nor free. */
		CHECK(do_free(s, p) == -EUCLEAN);
		expect_report(s, p, -EUCLEAN);
		s->corrupt++;
		return;
	}
	CHECK(do_free(s, p) == -EALREADY);
	expect_report(s, p, -EALREADY);
	s->dbl++;
}

/*
 * Debug mode: overwrite one byte of a live block's red zone, or of a free
 * block (its body or red zone), as an overflow or a use after free would.
 * The allocator keeps those bytes poisoned for ASan: open the 8-byte
 * granule around the byte, and close it again unless it holds bytes of
 * the live block's body.
 */
static void op_corrupt(struct slot *s, struct input *in)
{
	uint8_t sel = in_byte(in);
	unsigned int k = in_u16(in);
	size_t off, from;
	struct blk *b;
	uint8_t *p;
	size_t i;

	if (s->kind == K_ARENA || !s->debug || !s->lo)
		return;
	if (!(sel & 1) && s->nlive) {
		b = &s->live[sel / 2 % s->nlive];
		p = b->ptr;
		from = (s->bsize + 7) & ~(size_t)7;
		b->red = true;
	} else {
		p = (uint8_t *)(s->lo + k % ((s->hi - s->lo) / s->stride + 1) *
				s->stride);
		for (i = 0; i < s->nlive; i++)
			if (s->live[i].ptr == p)
				return;
		if (set_has(s->bad, s->nbad, (uintptr_t)p))
			return;
		from = 0;
		set_add(s->written, &s->nwritten, (uintptr_t)p);
	}
	off = from + (k >> 4) % (s->stride - from);
	off &= ~(size_t)7;
	__asan_unpoison_memory_region(p + off, 8);
	/* Neither the red zone's nor a free block's fill. */
	p[off + (k & 7)] = 0;
	__asan_poison_memory_region(p + off, 8);
}

/* Every corrupt block not yet withdrawn is reported, once; none changes. */
static void op_audit(struct slot *s)
{
	uintptr_t q, seen[MAX_BLOCKS];
	size_t i, nseen = 0, want = s->nwritten;
	long r;
	int j;

	for (i = 0; i < s->nlive; i++)
		want += s->live[i].red;
	r = s->kind == K_SLAB ? slab_audit(s->h) : pool_audit(s->h);
	CHECK(r == (long)want);
	CHECK(hook.n == (int)want);
	for (j = 0; j < hook.n; j++) {
		q = (uintptr_t)report(s, j, -EUCLEAN);
		CHECK(!set_has(seen, nseen, q));
		set_add(seen, &nseen, q);
		if (set_has(s->written, s->nwritten, q))
			continue;
		for (i = 0; i < s->nlive; i++)
			if ((uintptr_t)s->live[i].ptr == q)
				break;
		CHECK(i < s->nlive && s->live[i].red);
	}
	hook.n = 0;
	s->corrupt += want;
}

/* A pointer into another slot's memory, or 0 if it has none. */
static uintptr_t other_ptr(struct slot *s, struct input *in)
{
	struct slot *t = &slots[in_byte(in) % NSLOTS];
	unsigned int k = in_u16(in);

	if (t == s || t->kind == K_NONE)
		return 0;
	if (t->kind == K_ARENA)
		return t->base ? t->base + k % t->cap : 0;
	if (!t->lo)
		return 0;
	return t->lo + k % ((t->hi - t->lo) / t->stride + 1) * t->stride +
	       (k & 0x8000 ? k % t->stride : 0);
}

static void op_free_bad(struct slot *s, struct input *in)
{
	uint8_t sel = in_byte(in);
	unsigned int k = in_u16(in);
	uintptr_t p = 0, blk;
	uint8_t on_stack[64];
	size_t span;

	if (s->kind == K_ARENA)
		return;
	span = s->cap * s->stride;
	blk = s->lo ? s->lo + k % ((s->hi - s->lo) / s->stride + 1) *
		      s->stride : 0;
	switch (sel % 8) {
	case 0:
		p = (uintptr_t)&static_buf[k % sizeof(static_buf)];
		break;
	case 1:
		p = (uintptr_t)&on_stack[k % sizeof(on_stack)];
		break;
	case 2:
		p = 1 + k;	/* never mapped */
		break;
	case 3:
		p = other_ptr(s, in);
		break;
	case 4:		/* interior */
		if (blk)
			p = blk + 1 + (k >> 8) % (s->stride - 1);
		break;
	case 5:		/* a cache line inside a block, or half of one */
		if (blk && s->stride > ALIGN)
			p = blk + ALIGN *
				  (1 + (k >> 8) % (s->stride / ALIGN - 1));
		else if (blk)
			p = blk + ALIGN / 2;
		break;
	case 6:		/* a stride past either end of the segment */
		if (blk)
			p = k & 1 ? s->lo + span : s->hi - span;
		break;
	default:
		p = (uintptr_t)&heap_buf[k % 4096];
		break;
	}
	if (!p)
		p = (uintptr_t)heap_buf;
	CHECK(do_free(s, (void *)p) == -EINVAL);
	expect_report(s, (void *)p, -EINVAL);
	s->invalid++;
}

static void op_destroy(struct slot *s)
{
	long before, freed;

	if (s->kind == K_NONE)
		return;
	check_all(s);
	check_stats(s);
	before = outstanding();
	if (s->kind == K_SLAB)
		slab_destroy(s->h);
	else if (s->kind == K_ARENA)
		arena_destroy(s->h);
	else
		pool_destroy(s->h);
	freed = before - outstanding();
	/*
	 * Everything the create took comes back; a pool may also free this
	 * thread's cache now (or leave it parked in TLS until reused).
	 */
	CHECK(freed == s->mem || (s->kind == K_POOL && freed == s->mem + 1));
	memset(s, 0, sizeof(*s));
}

static size_t in_bsize(struct input *in)
{
	uint8_t a = in_byte(in);

	if (a >= 0xf8)
		return (size_t)ALIGN << (a & 3);
	return 1 + (size_t)a * 2;
}

/* Create an allocator in @s; with @fault >= 0, under fault injection. */
static void op_create(struct slot *s, struct input *in, long fault)
{
	uint8_t kind = in_byte(in) % 3, fl;
	size_t bsize = 0, count = 0, cache = 0, cap = 0;
	struct mempool_stats st;
	unsigned int flags;
	long before;
	void *h;

	op_destroy(s);
	if (kind == 1) {
		cap = 1 + in_u16(in) % MAX_ARENA;
	} else {
		bsize = in_bsize(in);
		count = 1 + in_byte(in) % MAX_BLOCKS;
		if (kind == 2)
			cache = in_byte(in) % (count + 1);
	}
	fl = in_byte(in);
	flags = fl & 1 ? MEMPOOL_DEBUG : 0;
	before = outstanding();
	mpool_env_fail_after(fault);
	errno = 0;
	if (kind == 0)
		h = fl & 2 ? slab_create(bsize, count) :
		    slab_create_flags(bsize, count, flags);
	else if (kind == 1)
		h = arena_create(cap);
	else
		h = fl & 2 ? pool_create(bsize, cache, count) :
		    pool_create_flags(bsize, cache, count, flags);
	mpool_env_fail_after(-1);
	if (!h) {
		CHECK(fault >= 0);
		CHECK(errno == ENOMEM);
		CHECK(outstanding() == before);
		return;
	}
	s->h = h;
	s->mem = outstanding() - before;
	CHECK(s->mem > 0);
	if (kind == 1) {
		s->kind = K_ARENA;
		s->cap = cap;
		return;
	}
	s->kind = kind == 0 ? K_SLAB : K_POOL;
	s->bsize = bsize;
	s->cap = count;
	s->mag = (cache + 1) / 2;
	s->debug = (flags && !(fl & 2)) || debug_env;
	/* Debug mode adds a red zone: the stride is the allocator's. */
	CHECK(do_stats(s, &st) == 0);
	s->stride = (bsize + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (s->debug)
		CHECK(st.stride >= bsize + REDZONE && st.stride % ALIGN == 0);
	else
		CHECK(st.stride == s->stride);
	s->stride = st.stride;
}

/* Arguments every create must refuse with EINVAL, taking nothing. */
static void op_create_bad(struct input *in)
{
	static const size_t big[] = {
		0, SIZE_MAX, SIZE_MAX - 63, SIZE_MAX - 64, SIZE_MAX / 2 + 1,
		(size_t)1 << 31, (size_t)1 << 32, (size_t)1 << 40,
	};
	uint8_t sel = in_byte(in), a = in_byte(in);
	size_t bs = 1 + a, n = 1 + in_byte(in) % MAX_BLOCKS;
	size_t x = big[(a >> 5) % 8];
	long before = outstanding();
	void *h;

	errno = 0;
	switch (sel % 16) {
	case 0:
		h = slab_create(0, n);
		break;
	case 1:
		h = slab_create(bs, 0);
		break;
	case 2:		/* more than 2^31 - 1 blocks */
		h = slab_create(bs, x ? x : (size_t)1 << 31);
		break;
	case 3:		/* block size near SIZE_MAX */
		h = slab_create(SIZE_MAX - (a & 63), 1);
		break;
	case 4:		/* stride * count overflows */
		h = slab_create((SIZE_MAX >> 4) + bs, 16 + a);
		break;
	case 5:
		h = slab_create_flags(bs, n, 2u << (a % 31));
		break;
	case 6:
		h = pool_create(0, 0, n);
		break;
	case 7:
		h = pool_create(bs, 0, 0);
		break;
	case 8:		/* cache larger than the pool */
		h = pool_create(bs, n + 1 + (a & 7), n);
		break;
	case 9:
		h = pool_create(bs, SIZE_MAX - a, n);
		break;
	case 10:
		h = pool_create(bs, 0, x ? x : (size_t)1 << 31);
		break;
	case 11:
		h = pool_create((SIZE_MAX >> 4) + bs, 1, 16 + a);
		break;
	case 12:
		h = pool_create_flags(bs, 1, n, 2u << (a % 31));
		break;
	case 13:
		h = arena_create(0);
		break;
	case 14:	/* rounding up to a page overflows */
		h = arena_create(SIZE_MAX - a);
		break;
	default:
		h = slab_create(SIZE_MAX - (a & 63), SIZE_MAX);
		break;
	}
	CHECK(!h);
	CHECK(errno == EINVAL);
	CHECK(outstanding() == before);
}

static void op_reset(struct slot *s)
{
	if (s->kind == K_ARENA) {
		check_all(s);
		arena_reset(s->h);
		s->nlive = 0;
		s->off = 0;
	} else if (s->kind == K_POOL) {
		CHECK(pool_cache_flush(s->h) == (long)s->cached);
		s->cached = 0;
	}
}

static void op_null_args(struct slot *s)
{
	struct mempool_stats st;

	errno = 0;
	CHECK(!slab_alloc(NULL) && errno == EINVAL);
	errno = 0;
	CHECK(!pool_alloc(NULL) && errno == EINVAL);
	errno = 0;
	CHECK(!arena_alloc(NULL, 64) && errno == EINVAL);
	CHECK(slab_free(NULL, heap_buf) == -EINVAL);
	CHECK(pool_free(NULL, heap_buf) == -EINVAL);
	CHECK(slab_stats(NULL, &st) == -EINVAL);
	CHECK(pool_stats(NULL, &st) == -EINVAL);
	CHECK(arena_stats(NULL, &st) == -EINVAL);
	CHECK(pool_cache_flush(NULL) == -EINVAL);
	CHECK(slab_audit(NULL) == -EINVAL);
	CHECK(pool_audit(NULL) == -EINVAL);
	slab_destroy(NULL);
	arena_destroy(NULL);
	pool_destroy(NULL);
	arena_reset(NULL);
	CHECK(mempool_set_error_hook(count_hook, NULL) == count_hook);
	if (s->kind != K_NONE)
		CHECK(do_stats(s, NULL) == -EINVAL);
	if (s->kind == K_ARENA) {
		errno = 0;
		CHECK(!arena_alloc(s->h, 0) && errno == EINVAL);
	}
}

static void op_burst(struct slot *s, struct input *in)
{
	uint8_t n = in_byte(in), v;
	int i;

	if (n & 0x80) {
		for (n &= 0x7f; n && s->nlive && s->kind != K_ARENA; n--)
			free_live(s, s->nlive - 1);
		return;
	}
	v = in_byte(in);
	for (i = 0; i <= n; i++) {
		if (s->kind == K_ARENA)
			arena_alloc_op(s, arena_size(s, v));
		else
			op_alloc(s, in);
	}
}

static void run_op(uint8_t op, struct input *in)
{
	struct slot *s = &slots[(op >> 4) % NSLOTS];
	uint8_t code = op & 15;

	if (s->kind == K_NONE && code != OP_CREATE && code != OP_CREATE_FAULT &&
	    code != OP_CREATE_BAD && code != OP_NULL_ARGS)
		return;
	switch (code) {
	case OP_ALLOC:
	case OP_ALLOC + 1:
	case OP_ALLOC + 2:
		op_alloc(s, in);
		break;
	case OP_FREE:
		if (s->kind != K_ARENA && s->nlive)
			free_live(s, in_byte(in) % s->nlive);
		break;
	case OP_CORRUPT:
		op_corrupt(s, in);
		break;
	case OP_FREE_ADDR:
		op_free_addr(s, in);
		break;
	case OP_FREE_BAD:
		op_free_bad(s, in);
		break;
	case OP_FREE_NULL:
		if (s->kind != K_ARENA)
			CHECK(do_free(s, NULL) == 0);
		break;
	case OP_CREATE:
		op_create(s, in, -1);
		break;
	case OP_CREATE_FAULT:
		op_create(s, in, in_byte(in) % 8);
		break;
	case OP_CREATE_BAD:
		op_create_bad(in);
		break;
	case OP_RESET:
		op_reset(s);
		break;
	case OP_STATS:
		check_all(s);
		if (s->kind != K_ARENA)
			op_audit(s);
		break;
	case OP_DESTROY:
		op_destroy(s);
		break;
	case OP_NULL_ARGS:
		op_null_args(s);
		break;
	default:
		op_burst(s, in);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	debug_env = getenv("MEMPOOL_DEBUG") && *getenv("MEMPOOL_DEBUG") &&
		    *getenv("MEMPOOL_DEBUG") != '0';
	heap_buf = aligned_alloc(4096, 4096);
	if (!heap_buf)
		abort();
	mempool_set_error_hook(count_hook, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	size_t i;

	memset(slots, 0, sizeof(slots));
	hook.n = 0;
	while (in.n) {
		run_op(in_byte(&in), &in);
		/* Nothing may report but the misuse each operation expects. */
		CHECK(hook.n == 0);
		for (i = 0; i < NSLOTS; i++)
			if (slots[i].kind != K_NONE)
				check_stats(&slots[i]);
	}
	for (i = 0; i < NSLOTS; i++)
		op_destroy(&slots[i]);
	CHECK(hook.n == 0);
	return 0;
}
