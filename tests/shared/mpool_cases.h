/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_cases.h - test cases both worlds run: KUnit in the kernel
 * (tests/kunit/mpool_kunit.c) and kselftest_harness.h in userspace
 * (tests/user/cases_test.c).  Each body is written once here, so the two
 * harnesses cannot drift.
 *
 * The harness defines, before including this file:
 *
 *   struct mpt                  its per-case context
 *   MPT_EXPECT(t, cond)         record a failure of @cond, go on
 *   MPT_ASSERT(t, cond)         record a failure of @cond, end the case
 *   MPT_EQ(t, a, b)             MPT_EXPECT(t, (a) == (b)), printing both
 *
 * and the adapter below, mapping each call onto its world's public API
 * (slab_create() and friends in userspace, mpool_slab_create() and friends
 * in the kernel).  Creates return 0 or a negative errno.  MPT_F_DEBUG is
 * the world's debug-mode create flag, MPT_MANY_CORRUPT how many corrupt
 * blocks one allocation may have to walk past (as many as the world's stack
 * would never hold frames for), and mpt_poke() writes memory behind
 * the back of the world's memory checker (ASan, KASAN), as a stray write
 * from a buggy program would.
 *
 * The list of cases is MPT_CASES(X): a harness expands it into its own
 * table (TEST() functions, or a kunit_case array).
 */
#ifndef MPOOL_CASES_H
#define MPOOL_CASES_H

struct mpt_slab;
struct mpt_pool;
struct mpt_arena;

static int mpt_slab_create(size_t size, size_t count, unsigned int flags,
			   struct mpt_slab **out);
static void *mpt_slab_alloc(struct mpt_slab *s);
static int mpt_slab_free(struct mpt_slab *s, void *p);
static void mpt_slab_destroy(struct mpt_slab *s);
static void mpt_slab_stats(struct mpt_slab *s, struct mpool_stats *st);
static long mpt_slab_audit(struct mpt_slab *s);

static int mpt_pool_create(size_t size, size_t cache, size_t capacity,
			   unsigned int flags, struct mpt_pool **out);
static void *mpt_pool_alloc(struct mpt_pool *p);
static int mpt_pool_free(struct mpt_pool *p, void *ptr);
static void mpt_pool_flush(struct mpt_pool *p);
static void mpt_pool_destroy(struct mpt_pool *p);
static void mpt_pool_stats(struct mpt_pool *p, struct mpool_stats *st);
static int mpt_pool_alloc_bulk(struct mpt_pool *p, void **ptrs, size_t n);
static int mpt_pool_free_bulk(struct mpt_pool *p, void *const *ptrs,
			      size_t n);
static int mpt_slab_alloc_bulk(struct mpt_slab *s, void **ptrs, size_t n);
static int mpt_slab_free_bulk(struct mpt_slab *s, void *const *ptrs,
			      size_t n);
static long mpt_pool_audit(struct mpt_pool *p);
/*
 * Deferred frees: bind the pool to the world's RCU (userspace: the memb
 * flavour, the calling thread registered with it; the kernel's pools are
 * bound at create), free, wait, count; and a read-side critical section.
 */
static int mpt_pool_rcu_bind(struct mpt_pool *p);
static int mpt_pool_free_rcu(struct mpt_pool *p, void *ptr);
static void mpt_pool_rcu_barrier(struct mpt_pool *p);
static long mpt_pool_rcu_pending(struct mpt_pool *p);
static void mpt_rcu_read_lock(void);
static void mpt_rcu_read_unlock(void);

static int mpt_arena_create(size_t capacity, struct mpt_arena **out);
static void *mpt_arena_alloc(struct mpt_arena *a, size_t size);
static void mpt_arena_reset(struct mpt_arena *a);
static void mpt_arena_destroy(struct mpt_arena *a);
static void mpt_arena_stats(struct mpt_arena *a, struct mpool_stats *st);

/* Zeroed scratch memory for a case, and its release. */
static void *mpt_zalloc(size_t size);
static void mpt_free(void *p);

/* Set @n bytes at @p to @c, unseen by ASan/KASAN. */
static void mpt_poke(void *p, size_t n, int c);

/*
 * Misuse reports, counted by the harness (it installs its own report
 * hook): a case with misuse in it checks each report was made, and a case
 * with none checks that none was (mpt_expect_clean()).
 */
static unsigned long mpt_reports(void);

/* --- helpers ---------------------------------------------------------- */

/* A block of either kind, behind one interface for the shared bodies. */
struct mpt_blocks {
	struct mpt_slab *slab;
	struct mpt_pool *pool;
};

static void *mpt_alloc(struct mpt_blocks *b)
{
	return b->slab ? mpt_slab_alloc(b->slab) : mpt_pool_alloc(b->pool);
}

static int mpt_release(struct mpt_blocks *b, void *p)
{
	return b->slab ? mpt_slab_free(b->slab, p) : mpt_pool_free(b->pool, p);
}

static long mpt_audit(struct mpt_blocks *b)
{
	return b->slab ? mpt_slab_audit(b->slab) : mpt_pool_audit(b->pool);
}

static void mpt_destroy(struct mpt_blocks *b)
{
	if (b->slab)
		mpt_slab_destroy(b->slab);
	else
		mpt_pool_destroy(b->pool);
	b->slab = NULL;
	b->pool = NULL;
}

/* Make a slab (@cache == 0) or a pool. */
static int mpt_make(struct mpt_blocks *b, size_t size, size_t cache,
		    size_t count, unsigned int flags)
{
	b->slab = NULL;
	b->pool = NULL;
	if (!cache)
		return mpt_slab_create(size, count, flags, &b->slab);
	return mpt_pool_create(size, cache, count, flags, &b->pool);
}

/* Move cached blocks back to the backing (a pool's; a slab has none). */
static void mpt_flush(struct mpt_blocks *b)
{
	if (b->pool)
		mpt_pool_flush(b->pool);
}

static void mpt_stats(struct mpt_blocks *b, struct mpool_stats *st)
{
	if (b->slab)
		mpt_slab_stats(b->slab, st);
	else
		mpt_pool_stats(b->pool, st);
}

/*
 * A scenario with no misuse in it: nothing reported since @before, and
 * nothing counted as misuse in @st.  Without it a case passes when the
 * allocator quietly drops a block it wrongly finds corrupt.
 */
static void mpt_expect_clean(struct mpt *t, unsigned long before,
			     const struct mpool_stats *st)
{
	MPT_EQ(t, mpt_reports(), before);
	MPT_EQ(t, st->invalid + st->double_free + st->corrupt, 0ull);
}

static u32 mpt_rand(u32 *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* Fill a block with a pattern derived from @tag; check it later. */
static void mpt_fill(void *p, size_t size, u32 tag)
{
	u8 *b = p;
	size_t i;

	for (i = 0; i < size; i++)
		b[i] = (u8)(tag * 31 + i);
}

static bool mpt_check(const void *p, size_t size, u32 tag)
{
	const u8 *b = p;
	size_t i;

	for (i = 0; i < size; i++)
		if (b[i] != (u8)(tag * 31 + i))
			return false;
	return true;
}

/*
 * Allocate every block; check alignment, distinctness and that no block's
 * bytes overlap another's (each is filled, then all are re-checked); check
 * exhaustion; free all in a shuffled order; allocate all again (reuse).
 */
static void mpt_exhaust_reuse(struct mpt *t, struct mpt_blocks *b,
			      size_t size, size_t count)
{
	unsigned long before = mpt_reports();
	void **v = mpt_zalloc(count * sizeof(*v));
	struct mpool_stats st;
	u32 seed = 7;
	size_t i, j, round;
	void *tmp;

	MPT_ASSERT(t, v);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < count; i++) {
			v[i] = mpt_alloc(b);
			MPT_ASSERT(t, v[i]);
			MPT_EQ(t, (unsigned long)v[i] & 63, 0ul);
			mpt_fill(v[i], size, (u32)i);
		}
		for (i = 0; i < count; i++)
			MPT_ASSERT(t, mpt_check(v[i], size, (u32)i));
		MPT_EXPECT(t, !mpt_alloc(b));
		mpt_stats(b, &st);
		MPT_EQ(t, st.in_use, count);
		MPT_EQ(t, st.free, 0ul);
		MPT_EQ(t, st.high_water, count);
		MPT_EQ(t, st.failed, round + 1);
		for (i = count; i > 1; i--) {
			j = mpt_rand(&seed) % i;
			tmp = v[i - 1];
			v[i - 1] = v[j];
			v[j] = tmp;
		}
		for (i = 0; i < count; i++)
			MPT_ASSERT(t, mpt_release(b, v[i]) == 0);
		mpt_stats(b, &st);
		MPT_EQ(t, st.in_use, 0ul);
		MPT_EQ(t, st.free + st.cached, count);
	}
	mpt_expect_clean(t, before, &st);
	mpt_free(v);
}

/* Every kind of bad pointer gets -EINVAL and changes nothing. */
static void mpt_bad_pointers(struct mpt *t, struct mpt_blocks *b,
			     struct mpt_blocks *other, size_t stride)
{
	unsigned long before = mpt_reports();
	struct mpool_stats st0, st;
	void *p = mpt_alloc(b), *q = mpt_alloc(other);
	u8 *c = p;
	int on_stack;

	MPT_ASSERT(t, p && q);
	mpt_stats(b, &st0);
	MPT_EQ(t, mpt_release(b, NULL), 0);
	MPT_EQ(t, mpt_release(b, &on_stack), -EINVAL);
	MPT_EQ(t, mpt_release(b, q), -EINVAL);
	MPT_EQ(t, mpt_release(b, c + 1), -EINVAL);
	MPT_EQ(t, mpt_release(b, c + 8), -EINVAL);
	MPT_EQ(t, mpt_release(b, c + stride - 1), -EINVAL);
	MPT_EQ(t, mpt_release(b, c - 64), -EINVAL);
	if (stride > 64)
		MPT_EQ(t, mpt_release(b, c + 64), -EINVAL);
	mpt_stats(b, &st);
	MPT_EQ(t, st.invalid, st0.invalid + (stride > 64 ? 7 : 6));
	MPT_EQ(t, st.in_use, st0.in_use);
	MPT_EQ(t, st.free, st0.free);
	MPT_EQ(t, mpt_reports(), before + (stride > 64 ? 7 : 6));
	/* The block is still the caller's. */
	MPT_EQ(t, mpt_release(b, p), 0);
	MPT_EQ(t, mpt_release(other, q), 0);
}

/* A double free gets -EALREADY and changes nothing. */
static void mpt_double_free(struct mpt *t, struct mpt_blocks *b, size_t count)
{
	unsigned long before = mpt_reports();
	void **v = mpt_zalloc(count * sizeof(*v));
	struct mpool_stats st0, st;
	size_t i, j;

	MPT_ASSERT(t, v);
	v[0] = mpt_alloc(b);
	MPT_ASSERT(t, v[0]);
	MPT_EQ(t, mpt_release(b, v[0]), 0);
	mpt_stats(b, &st0);
	MPT_EQ(t, mpt_release(b, v[0]), -EALREADY);
	mpt_stats(b, &st);
	MPT_EQ(t, st.double_free, st0.double_free + 1);
	MPT_EQ(t, st.free, st0.free);
	MPT_EQ(t, st.cached, st0.cached);
	/* After it, every block is still handed out exactly once. */
	for (i = 0; i < count; i++) {
		v[i] = mpt_alloc(b);
		MPT_ASSERT(t, v[i]);
		for (j = 0; j < i; j++)
			MPT_ASSERT(t, v[j] != v[i]);
	}
	MPT_EXPECT(t, !mpt_alloc(b));
	/* Freed blocks spread over cache and backing: each double free is
	 * caught wherever the block sits.
	 */
	for (i = 0; i < count; i++)
		MPT_EQ(t, mpt_release(b, v[i]), 0);
	for (i = 0; i < count; i++)
		MPT_EQ(t, mpt_release(b, v[i]), -EALREADY);
	mpt_stats(b, &st);
	MPT_EQ(t, st.double_free, st0.double_free + 1 + count);
	MPT_EQ(t, st.in_use, 0ul);
	MPT_EQ(t, st.free + st.cached, count);
	/* The double frees, and nothing else. */
	MPT_EQ(t, mpt_reports(), before + 1 + count);
	MPT_EQ(t, st.invalid + st.corrupt, 0ull);
	mpt_free(v);
}

/* --- slab cases ------------------------------------------------------- */

static void mpt_case_slab_exhaust_reuse(struct mpt *t)
{
	static const size_t sizes[] = { 1, 64, 100, 256, 3000, 4096 };
	struct mpt_blocks b = { NULL, NULL };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		MPT_ASSERT(t, !mpt_slab_create(sizes[i], 300, 0, &b.slab));
		mpt_exhaust_reuse(t, &b, sizes[i], 300);
		mpt_slab_destroy(b.slab);
	}
}

static void mpt_case_slab_bad_pointers(struct mpt *t)
{
	struct mpt_blocks a = { NULL, NULL }, o = { NULL, NULL };

	MPT_ASSERT(t, !mpt_slab_create(192, 16, 0, &a.slab));
	MPT_ASSERT(t, !mpt_slab_create(192, 16, 0, &o.slab));
	mpt_bad_pointers(t, &a, &o, 192);
	mpt_slab_destroy(o.slab);
	mpt_slab_destroy(a.slab);
	MPT_ASSERT(t, !mpt_slab_create(64, 16, 0, &a.slab));
	MPT_ASSERT(t, !mpt_slab_create(64, 16, 0, &o.slab));
	mpt_bad_pointers(t, &a, &o, 64);
	mpt_slab_destroy(o.slab);
	mpt_slab_destroy(a.slab);
}

/*
 * Pointer checks are arithmetic on the stride's power-of-two and odd
 * factors: try every 8th byte (and every byte of the first block) from two
 * strides below the segment to two past it, for strides that are powers of
 * two and strides that are not.  Only block starts may be accepted.
 */
static void mpt_every_offset(struct mpt *t, struct mpt_blocks *b,
			     size_t stride, size_t count)
{
	void **v = mpt_zalloc(count * sizeof(*v));
	struct mpool_stats st0, st;
	unsigned long tried = 0, before = mpt_reports();
	u8 *base = NULL;
	long off, span = (long)(stride * count);
	size_t i;

	MPT_ASSERT(t, v);
	for (i = 0; i < count; i++) {
		v[i] = mpt_alloc(b);
		MPT_ASSERT(t, v[i]);
		if (!base || (u8 *)v[i] < base)
			base = v[i];
	}
	mpt_stats(b, &st0);
	for (off = -2 * (long)stride; off < span + 2 * (long)stride; off++) {
		u8 *p = base + off;

		if (off >= (long)stride && off % 8)
			continue;
		if (off >= 0 && off < span && !(off % (long)stride))
			continue;	/* a live block: not ours to free */
		MPT_EQ(t, mpt_release(b, p), -EINVAL);
		tried++;
	}
	mpt_stats(b, &st);
	MPT_EQ(t, st.invalid, st0.invalid + tried);
	MPT_EQ(t, mpt_reports(), before + tried);
	MPT_EQ(t, st.double_free + st.corrupt, 0ull);
	MPT_EQ(t, st.in_use, st0.in_use);
	for (i = 0; i < count; i++)
		MPT_EQ(t, mpt_release(b, v[i]), 0);
	mpt_stats(b, &st);
	MPT_EQ(t, st.in_use, 0ul);
	mpt_free(v);
}

static void mpt_case_every_offset(struct mpt *t)
{
	static const size_t sizes[] = { 64, 128, 129, 300, 448, 4096, 4097 };
	struct mpt_blocks b = { NULL, NULL };
	size_t i, stride;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		stride = (sizes[i] + 63) & ~(size_t)63;
		MPT_ASSERT(t, !mpt_slab_create(sizes[i], 7, 0, &b.slab));
		mpt_every_offset(t, &b, stride, 7);
		mpt_slab_destroy(b.slab);
		b.slab = NULL;
		MPT_ASSERT(t, !mpt_pool_create(sizes[i], 4, 7, 0, &b.pool));
		mpt_every_offset(t, &b, stride, 7);
		mpt_pool_destroy(b.pool);
		b.pool = NULL;
	}
}

static void mpt_case_slab_double_free(struct mpt *t)
{
	struct mpt_blocks b = { NULL, NULL };
	unsigned int flags;

	for (flags = 0; flags < 2; flags++) {
		MPT_ASSERT(t, !mpt_slab_create(256, 200, flags, &b.slab));
		mpt_double_free(t, &b, 200);
		mpt_slab_destroy(b.slab);
	}
}

static void mpt_case_slab_create_errors(struct mpt *t)
{
	struct mpt_slab *s = NULL;

	MPT_EQ(t, mpt_slab_create(0, 10, 0, &s), -EINVAL);
	MPT_EQ(t, mpt_slab_create(64, 0, 0, &s), -EINVAL);
	MPT_EQ(t, mpt_slab_create(SIZE_MAX, 1, 0, &s), -EINVAL);
	MPT_EQ(t, mpt_slab_create(SIZE_MAX / 4, 8, 0, &s), -EINVAL);
	MPT_EQ(t, mpt_slab_create(64, (size_t)1 << 40, 0, &s), -EINVAL);
	MPT_EQ(t, mpt_slab_create(64, 10, 0x80, &s), -EINVAL);
	MPT_EXPECT(t, !s);
}

/*
 * Sizes near SIZE_MAX: the stride is the size plus the red zone (debug
 * mode) rounded up to a line, and it is that stride that must fit, not the
 * size asked for.  Every one of these is -EINVAL, with nothing allocated.
 */
static void mpt_case_create_near_size_max(struct mpt *t)
{
	static const unsigned int flags[] = { 0, MPT_F_DEBUG };
	struct mpt_slab *s = NULL;
	struct mpt_pool *p = NULL;
	size_t size, k;

	for (k = 0; k < 2; k++) {
		for (size = SIZE_MAX - 80; size; size++) {
			MPT_EQ(t, mpt_slab_create(size, 1, flags[k], &s),
			       -EINVAL);
			MPT_EQ(t, mpt_pool_create(size, 1, 1, flags[k], &p),
			       -EINVAL);
		}
		/* A stride that fits still needs a span that does. */
		MPT_EQ(t, mpt_slab_create(SIZE_MAX - 127, 2, flags[k], &s),
		       -EINVAL);
		/* No segment is larger than half the address space. */
		MPT_EQ(t, mpt_slab_create(SIZE_MAX / 2, 1, flags[k], &s),
		       -EINVAL);
	}
	MPT_EXPECT(t, !s);
	MPT_EXPECT(t, !p);
}

/*
 * Debug mode: a run of many corrupt free blocks met by one allocation is
 * reported block by block, each quarantined, and the allocation still gets
 * the good block behind them; it takes no stack per corrupt block (the
 * sanitizer builds run with -O1, where a recursive walk would overflow).
 * The good block is freed first, so it ends below most corrupt ones; if it
 * comes out earlier, the next allocation walks the rest.
 */
static void mpt_case_many_corrupt_cached(struct mpt *t)
{
	const size_t n = MPT_MANY_CORRUPT;
	struct mpool_stats st;
	struct mpt_blocks b;
	unsigned long before;
	void **v, *p;
	size_t i;

	v = mpt_zalloc(2 * n * sizeof(*v));
	MPT_ASSERT(t, v);
	/* The walk crosses many refills: magazines of 128, depot, stack. */
	MPT_ASSERT(t, !mpt_make(&b, 64, 256, 2 * n, MPT_F_DEBUG));
	for (i = 0; i < 2 * n; i++) {
		v[i] = mpt_alloc(&b);
		MPT_ASSERT(t, v[i]);
	}
	/* v[0] is the good one; v[1..n] go bad; the rest stay in use. */
	for (i = 0; i <= n; i++)
		MPT_EQ(t, mpt_release(&b, v[i]), 0);
	for (i = 1; i <= n; i++)
		mpt_poke(v[i], 1, 0);
	mpt_flush(&b);
	before = mpt_reports();
	p = mpt_alloc(&b);
	MPT_EXPECT(t, p == v[0]);
	/* Nothing else is left to hand out. */
	MPT_EXPECT(t, !mpt_alloc(&b));
	MPT_EQ(t, mpt_reports(), before + n);
	mpt_stats(&b, &st);
	MPT_EQ(t, st.quarantined, (u64)n);
	MPT_EQ(t, st.corrupt, (u64)n);
	MPT_EQ(t, st.in_use, n);
	MPT_EQ(t, mpt_release(&b, p), 0);
	for (i = n + 1; i < 2 * n; i++)
		MPT_EQ(t, mpt_release(&b, v[i]), 0);
	mpt_destroy(&b);
	mpt_free(v);
}

/* Bulk calls of either kind, behind one interface. */
static int mpt_alloc_bulk(struct mpt_blocks *b, void **v, size_t n)
{
	return b->slab ? mpt_slab_alloc_bulk(b->slab, v, n) :
			 mpt_pool_alloc_bulk(b->pool, v, n);
}

static int mpt_free_bulk(struct mpt_blocks *b, void *const *v, size_t n)
{
	return b->slab ? mpt_slab_free_bulk(b->slab, v, n) :
			 mpt_pool_free_bulk(b->pool, v, n);
}

/*
 * Bulk calls: allocation is all or nothing; a free frees every good entry,
 * skips NULL, and reports each bad one (foreign, interior, already free,
 * the same block twice in one call) exactly as a single free would,
 * returning the first entry's error.
 */
static void mpt_case_bulk(struct mpt *t)
{
	static const size_t caches[] = { 0, 8 };
	const size_t count = 40;
	struct mpool_stats st;
	struct mpt_blocks b;
	unsigned long before;
	void *v[41], *w[8];
	size_t k, i;
	u8 *x;

	for (k = 0; k < 2; k++) {
		MPT_ASSERT(t, !mpt_make(&b, 100, caches[k], count, 0));
		before = mpt_reports();
		MPT_EQ(t, mpt_alloc_bulk(&b, v, 0), 0);
		MPT_EQ(t, mpt_alloc_bulk(&b, NULL, 0), 0);
		MPT_EQ(t, mpt_alloc_bulk(&b, NULL, 3), -EINVAL);
		MPT_EQ(t, mpt_free_bulk(&b, NULL, 3), -EINVAL);
		MPT_EQ(t, mpt_alloc_bulk(&b, v, 30), 0);
		for (i = 0; i < 30; i++)
			MPT_EXPECT(t, v[i] != NULL);
		/* 10 are left: 11 is refused, and nothing is taken. */
		MPT_EQ(t, mpt_alloc_bulk(&b, v + 30, 11), -ENOMEM);
		mpt_stats(&b, &st);
		MPT_EQ(t, st.in_use, 30ul);
		/* One shortage, counted once, whatever the call did inside. */
		MPT_EQ(t, st.failed, 1ull);
		MPT_EQ(t, st.free + st.cached, 10ul);
		MPT_EQ(t, mpt_alloc_bulk(&b, v + 30, 10), 0);
		MPT_EXPECT(t, !mpt_alloc(&b));
		MPT_EQ(t, mpt_reports(), before);
		/* Every block exactly once. */
		for (i = 1; i < count; i++)
			MPT_EXPECT(t, v[i] != v[i - 1]);
		/* A free of good entries, NULLs skipped. */
		v[40] = NULL;
		MPT_EQ(t, mpt_free_bulk(&b, v + 30, 11), 0);
		MPT_EQ(t, mpt_reports(), before);
		/* Bad entries: interior, a duplicate, already free, NULL. */
		x = v[0];
		w[0] = x + 1;
		w[1] = v[1];
		w[2] = v[1];
		w[3] = v[30];
		w[4] = NULL;
		w[5] = v[2];
		MPT_EQ(t, mpt_free_bulk(&b, w, 6), -EINVAL);
		MPT_EQ(t, mpt_reports(), before + 3);
		mpt_stats(&b, &st);
		MPT_EQ(t, st.invalid, 1ull);
		MPT_EQ(t, st.double_free, 2ull);
		MPT_EQ(t, st.in_use, 28ul);
		/* The good ones were freed: the rest go back cleanly. */
		MPT_EQ(t, mpt_free_bulk(&b, v + 3, 27), 0);
		MPT_EQ(t, mpt_release(&b, v[0]), 0);
		mpt_stats(&b, &st);
		MPT_EQ(t, st.in_use, 0ul);
		MPT_EQ(t, mpt_reports(), before + 3);
		mpt_destroy(&b);
	}
}

static void mpt_case_slab_stats(struct mpt *t)
{
	unsigned long before = mpt_reports();
	struct mpt_slab *s;
	struct mpool_stats st;
	void *p[3];

	MPT_ASSERT(t, !mpt_slab_create(100, 10, 0, &s));
	mpt_slab_stats(s, &st);
	MPT_EQ(t, st.block_size, 100ul);
	MPT_EQ(t, st.stride, 128ul);
	MPT_EQ(t, st.capacity, 10ul);
	MPT_EQ(t, st.in_use, 0ul);
	MPT_EQ(t, st.free, 10ul);
	MPT_EQ(t, st.high_water, 0ul);
	p[0] = mpt_slab_alloc(s);
	p[1] = mpt_slab_alloc(s);
	p[2] = mpt_slab_alloc(s);
	MPT_EQ(t, mpt_slab_free(s, p[1]), 0);
	mpt_slab_stats(s, &st);
	MPT_EQ(t, st.in_use, 2ul);
	MPT_EQ(t, st.free, 8ul);
	MPT_EQ(t, st.high_water, 3ul);
	MPT_EQ(t, st.failed, 0ul);
	MPT_EQ(t, mpt_slab_free(s, p[0]), 0);
	MPT_EQ(t, mpt_slab_free(s, p[2]), 0);
	mpt_slab_stats(s, &st);
	mpt_expect_clean(t, before, &st);
	mpt_slab_destroy(s);
}

/* --- pool cases ------------------------------------------------------- */

static void mpt_case_pool_exhaust_reuse(struct mpt *t)
{
	static const size_t caches[] = { 0, 1, 2, 16, 100, 300 };
	struct mpt_blocks b = { NULL, NULL };
	size_t i;

	for (i = 0; i < sizeof(caches) / sizeof(caches[0]); i++) {
		MPT_ASSERT(t, !mpt_pool_create(256, caches[i], 300, 0,
					       &b.pool));
		mpt_exhaust_reuse(t, &b, 256, 300);
		mpt_pool_destroy(b.pool);
	}
	MPT_ASSERT(t, !mpt_pool_create(3000, 10, 100, 1, &b.pool));
	mpt_exhaust_reuse(t, &b, 3000, 100);
	mpt_pool_destroy(b.pool);
}

static void mpt_case_pool_bad_pointers(struct mpt *t)
{
	struct mpt_blocks a = { NULL, NULL }, o = { NULL, NULL };

	MPT_ASSERT(t, !mpt_pool_create(200, 8, 64, 0, &a.pool));
	MPT_ASSERT(t, !mpt_pool_create(200, 8, 64, 0, &o.pool));
	mpt_bad_pointers(t, &a, &o, 256);
	mpt_pool_destroy(a.pool);
	/* A slab's block is not a pool's, and the other way round. */
	MPT_ASSERT(t, !mpt_slab_create(200, 8, 0, &a.slab));
	mpt_bad_pointers(t, &a, &o, 256);
	mpt_bad_pointers(t, &o, &a, 256);
	mpt_slab_destroy(a.slab);
	mpt_pool_destroy(o.pool);
}

static void mpt_case_pool_double_free(struct mpt *t)
{
	struct mpt_blocks b = { NULL, NULL };
	unsigned int flags;

	for (flags = 0; flags < 2; flags++) {
		/* Small cache: frees spill to the depot and the stack. */
		MPT_ASSERT(t, !mpt_pool_create(64, 8, 200, flags, &b.pool));
		mpt_double_free(t, &b, 200);
		mpt_pool_destroy(b.pool);
		MPT_ASSERT(t, !mpt_pool_create(64, 0, 50, flags, &b.pool));
		mpt_double_free(t, &b, 50);
		mpt_pool_destroy(b.pool);
	}
}

static void mpt_case_pool_create_errors(struct mpt *t)
{
	struct mpt_pool *p = NULL;

	MPT_EQ(t, mpt_pool_create(0, 10, 100, 0, &p), -EINVAL);
	MPT_EQ(t, mpt_pool_create(64, 10, 0, 0, &p), -EINVAL);
	MPT_EQ(t, mpt_pool_create(64, 101, 100, 0, &p), -EINVAL);
	MPT_EQ(t, mpt_pool_create(SIZE_MAX / 2, 1, 4, 0, &p), -EINVAL);
	MPT_EQ(t, mpt_pool_create(64, 1, 100, 0x80, &p), -EINVAL);
	MPT_EXPECT(t, !p);
}

/* The cache is bounded, and a flush gives it all back. */
static void mpt_case_pool_cache_bound(struct mpt *t)
{
	unsigned long before = mpt_reports();
	struct mpt_pool *p;
	struct mpool_stats st;
	void *v[64];
	size_t i;

	MPT_ASSERT(t, !mpt_pool_create(128, 10, 64, 0, &p));
	for (i = 0; i < 64; i++) {
		v[i] = mpt_pool_alloc(p);
		MPT_ASSERT(t, v[i]);
	}
	for (i = 0; i < 64; i++) {
		MPT_ASSERT(t, !mpt_pool_free(p, v[i]));
		mpt_pool_stats(p, &st);
		MPT_EXPECT(t, st.cached <= 10);
	}
	mpt_pool_stats(p, &st);
	MPT_EQ(t, st.in_use, 0ul);
	MPT_EQ(t, st.free + st.cached, 64ul);
	MPT_EXPECT(t, st.cached > 0);
	mpt_pool_flush(p);
	mpt_pool_stats(p, &st);
	MPT_EQ(t, st.cached, 0ul);
	MPT_EQ(t, st.free, 64ul);
	MPT_EQ(t, st.high_water, 64ul);
	mpt_expect_clean(t, before, &st);
	mpt_pool_destroy(p);
}

/* --- arena cases ------------------------------------------------------ */

static void mpt_case_arena_basic(struct mpt *t)
{
	struct mpt_arena *a;
	struct mpool_stats st;
	u8 *p, *q, *r;

	MPT_ASSERT(t, !mpt_arena_create(4096, &a));
	MPT_EXPECT(t, !mpt_arena_alloc(a, 0));
	p = mpt_arena_alloc(a, 1);
	q = mpt_arena_alloc(a, 100);
	r = mpt_arena_alloc(a, 64);
	MPT_ASSERT(t, p && q && r);
	MPT_EQ(t, (unsigned long)p & 63, 0ul);
	MPT_EQ(t, (unsigned long)q & 63, 0ul);
	MPT_EQ(t, (unsigned long)r & 63, 0ul);
	MPT_EQ(t, q - p, 64l);
	MPT_EQ(t, r - q, 128l);
	mpt_fill(p, 1, 1);
	mpt_fill(q, 100, 2);
	mpt_fill(r, 64, 3);
	MPT_EXPECT(t, mpt_check(p, 1, 1) && mpt_check(q, 100, 2) &&
		      mpt_check(r, 64, 3));
	/* Too big: NULL, and nothing is taken. */
	MPT_EXPECT(t, !mpt_arena_alloc(a, 4096));
	MPT_EXPECT(t, !mpt_arena_alloc(a, SIZE_MAX));
	mpt_arena_stats(a, &st);
	MPT_EQ(t, st.in_use, 256ul);
	MPT_EQ(t, st.free, 4096ul - 256);
	MPT_EQ(t, st.failed, 2ul);
	/* Exactly the rest fits. */
	MPT_EXPECT(t, mpt_arena_alloc(a, 4096 - 256) == r + 64);
	MPT_EXPECT(t, !mpt_arena_alloc(a, 1));
	mpt_arena_reset(a);
	MPT_EXPECT(t, mpt_arena_alloc(a, 4096) == p);
	mpt_arena_stats(a, &st);
	MPT_EQ(t, st.in_use, 4096ul);
	MPT_EQ(t, st.high_water, 4096ul);
	MPT_EQ(t, st.capacity, 4096ul);
	mpt_arena_destroy(a);
}

static void mpt_case_arena_odd_capacity(struct mpt *t)
{
	struct mpt_arena *a;
	u8 *p;

	MPT_EQ(t, mpt_arena_create(0, &a), -EINVAL);
	MPT_EQ(t, mpt_arena_create(SIZE_MAX, &a), -EINVAL);
	MPT_ASSERT(t, !mpt_arena_create(100, &a));
	p = mpt_arena_alloc(a, 100);
	MPT_ASSERT(t, p);
	mpt_fill(p, 100, 9);
	/* All 100 bytes are taken: nothing is left. */
	MPT_EXPECT(t, !mpt_arena_alloc(a, 1));
	mpt_arena_reset(a);
	MPT_EXPECT(t, !mpt_arena_alloc(a, 101));
	MPT_EXPECT(t, mpt_arena_alloc(a, 64) == p);
	MPT_EXPECT(t, !mpt_arena_alloc(a, 64));
	mpt_arena_destroy(a);
}

/* --- hardening: debug mode, audit, overflows ------------------------- */

/*
 * Allocate until NULL; check every block is a distinct block start of the
 * segment [@base, @base + @span) (when @base is known) and is not @avoid.
 * Return: how many were allocated; they are in @v.
 */
static size_t mpt_drain(struct mpt *t, struct mpt_blocks *b, void **v,
			size_t max, const u8 *base, size_t stride,
			size_t span, const void *avoid)
{
	size_t n = 0, j;
	void *p;

	while (n < max && (p = mpt_alloc(b))) {
		MPT_EXPECT(t, p != avoid);
		if (base) {
			MPT_EXPECT(t, (const u8 *)p >= base &&
				   (const u8 *)p < base + span);
			MPT_EXPECT(t, !(((const u8 *)p - base) % stride));
		}
		for (j = 0; j < n; j++)
			MPT_EXPECT(t, v[j] != p);
		v[n++] = p;
	}
	MPT_EXPECT(t, n < max || !mpt_alloc(b));
	return n;
}

/* Debug mode: a one-byte overflow into the red zone is caught. */
static void mpt_case_debug_redzone(struct mpt *t)
{
	static const size_t sizes[] = { 100, 128, 4096 };
	static const size_t caches[] = { 0, 4 };
	const size_t count = 8;
	struct mpt_blocks b;
	struct mpool_stats st;
	unsigned long before;
	size_t i, k, n;
	void *v[8], *p;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (k = 0; k < 2; k++) {
			MPT_ASSERT(t, !mpt_make(&b, sizes[i], caches[k], count,
						MPT_F_DEBUG));
			mpt_stats(&b, &st);
			MPT_EXPECT(t, st.stride >= sizes[i] + 8);
			MPT_EQ(t, st.stride % 64, 0ul);
			MPT_EQ(t, mpt_audit(&b), 0l);
			/* The whole block is the user's. */
			p = mpt_alloc(&b);
			MPT_ASSERT(t, p);
			memset(p, 0x11, sizes[i]);
			MPT_EQ(t, mpt_release(&b, p), 0);
			/* One byte past it is not. */
			p = mpt_alloc(&b);
			MPT_ASSERT(t, p);
			before = mpt_reports();
			mpt_poke((u8 *)p + sizes[i], 1, 0);
			MPT_EQ(t, mpt_audit(&b), 1l);
			MPT_EQ(t, mpt_release(&b, p), -EUCLEAN);
			MPT_EQ(t, mpt_reports(), before + 2);
			mpt_stats(&b, &st);
			MPT_EQ(t, st.corrupt, 2ull);
			MPT_EQ(t, st.quarantined, 1ull);
			MPT_EQ(t, st.in_use, 0ul);
			/* It is never handed out again. */
			mpt_flush(&b);
			n = mpt_drain(t, &b, v, count, NULL, 0, 0, p);
			MPT_EQ(t, n, count - 1);
			while (n)
				MPT_EQ(t, mpt_release(&b, v[--n]), 0);
			mpt_stats(&b, &st);
			MPT_EQ(t, st.in_use, 0ul);
			MPT_EQ(t, st.free + st.cached, count - 1);
			MPT_EQ(t, mpt_audit(&b), 0l);
			mpt_destroy(&b);
		}
	}
}

/* Debug mode: a write to a free block is caught before reuse. */
static void mpt_case_debug_use_after_free(struct mpt *t)
{
	static const size_t caches[] = { 0, 4 };
	const size_t count = 8;
	struct mpt_blocks b;
	struct mpool_stats st;
	unsigned long before;
	size_t k, n;
	void *v[8], *p;

	for (k = 0; k < 2; k++) {
		before = mpt_reports();
		MPT_ASSERT(t, !mpt_make(&b, 200, caches[k], count,
					MPT_F_DEBUG));
		n = mpt_drain(t, &b, v, count, NULL, 0, 0, NULL);
		MPT_EQ(t, n, count);
		while (n)
			MPT_EQ(t, mpt_release(&b, v[--n]), 0);
		p = v[3];
		mpt_poke((u8 *)p + 5, 1, 0);
		MPT_EQ(t, mpt_audit(&b), 1l);
		mpt_flush(&b);
		n = mpt_drain(t, &b, v, count, NULL, 0, 0, p);
		MPT_EQ(t, n, count - 1);
		mpt_stats(&b, &st);
		MPT_EQ(t, st.quarantined, 1ull);
		MPT_EQ(t, st.corrupt, 2ull);
		MPT_EQ(t, mpt_reports(), before + 2);
		MPT_EQ(t, st.invalid + st.double_free, 0ull);
		MPT_EQ(t, st.in_use, count - 1);
		while (n)
			MPT_EQ(t, mpt_release(&b, v[--n]), 0);
		mpt_destroy(&b);
	}
}

/*
 * In every mode, an overflow of any length over the whole segment (live
 * and free blocks, red zones) never makes the allocator hand out a pointer
 * outside its blocks or one block twice: its metadata lives elsewhere.
 * Debug mode quarantines what it finds overwritten; what is left is still
 * sound.
 */
static void mpt_case_overflow_scribble(struct mpt *t)
{
	static const size_t caches[] = { 0, 8 };
	const size_t count = 32, size = 100;
	struct mpt_blocks b;
	struct mpool_stats st;
	size_t k, f, i, n, stride, span;
	unsigned long before;
	u32 seed = 12345;
	void **v = mpt_zalloc(count * sizeof(*v));
	u8 *base;

	MPT_ASSERT(t, v);
	for (f = 0; f < 2; f++) {
		for (k = 0; k < 2; k++) {
			before = mpt_reports();
			MPT_ASSERT(t, !mpt_make(&b, size, caches[k], count,
						f ? MPT_F_DEBUG : 0));
			mpt_stats(&b, &st);
			stride = st.stride;
			span = stride * count;
			n = mpt_drain(t, &b, v, count, NULL, 0, 0, NULL);
			MPT_ASSERT(t, n == count);
			base = v[0];
			for (i = 1; i < n; i++)
				if ((u8 *)v[i] < base)
					base = v[i];
			/* Free every other block, then overwrite it all. */
			for (i = 0; i < n; i += 2)
				MPT_EQ(t, mpt_release(&b, v[i]), 0);
			for (i = 0; i < span; i++)
				mpt_poke(base + i, 1, (int)(mpt_rand(&seed) & 0xff));
			/* Debug mode sees the red zones; others see nothing. */
			for (i = 1; i < n; i += 2)
				MPT_EQ(t, mpt_release(&b, v[i]),
				       f ? -EUCLEAN : 0);
			mpt_flush(&b);
			n = mpt_drain(t, &b, v, count, base, stride, span,
				      NULL);
			mpt_stats(&b, &st);
			MPT_EQ(t, st.in_use, n);
			if (f) {
				MPT_EQ(t, n + st.quarantined, count);
			} else {
				/* Its metadata is out of reach: no report. */
				MPT_EQ(t, n, count);
				mpt_expect_clean(t, before, &st);
			}
			while (n)
				MPT_EQ(t, mpt_release(&b, v[--n]), 0);
			mpt_destroy(&b);
		}
	}
	mpt_free(v);
}

/*
 * pool_free_rcu(): the checks of a free at call time (foreign, interior,
 * twice, after a free, a free of a waiting block), each reported and
 * counted with nothing changed; a block freed inside a read-side critical
 * section keeps its bytes until the section ends (in debug mode a free
 * would poison them at once); the figures balance with the waiting blocks
 * counted apart; after a barrier every block is allocatable again.  In
 * both modes.
 */
static void mpt_case_pool_free_rcu(struct mpt *t)
{
	enum { N = 32 };
	unsigned long before;
	struct mpool_stats st;
	unsigned int f, i, n;
	struct mpt_pool *p;
	unsigned char *a, *b;
	void *v[N + 1];
	char x[64];

	for (f = 0; f < 2; f++) {
		MPT_ASSERT(t, !mpt_pool_create(64, 8, N, f ? MPT_F_DEBUG : 0,
					       &p));
		MPT_ASSERT(t, !mpt_pool_rcu_bind(p));
		before = mpt_reports();
		a = mpt_pool_alloc(p);
		b = mpt_pool_alloc(p);
		MPT_ASSERT(t, a && b);
		memset(a, 0x3c, 64);
		MPT_EQ(t, mpt_pool_free_rcu(p, NULL), 0);
		MPT_EQ(t, mpt_reports(), before);
		MPT_EQ(t, mpt_pool_free_rcu(p, x), -EINVAL);
		MPT_EQ(t, mpt_pool_free_rcu(p, a + 64 - 1), -EINVAL);
		mpt_rcu_read_lock();
		MPT_EQ(t, mpt_pool_free_rcu(p, a), 0);
		for (i = 0; i < 64; i++)
			if (a[i] != 0x3c)
				break;
		MPT_EQ(t, i, 64);
		mpt_rcu_read_unlock();
		MPT_EQ(t, mpt_pool_free_rcu(p, a), -EALREADY);
		MPT_EQ(t, mpt_pool_free(p, a), -EALREADY);
		MPT_EQ(t, mpt_pool_free(p, b), 0);
		MPT_EQ(t, mpt_pool_free_rcu(p, b), -EALREADY);
		MPT_EQ(t, mpt_reports(), before + 5);
		MPT_EQ(t, mpt_pool_rcu_pending(p), 1);
		mpt_pool_stats(p, &st);
		MPT_EQ(t, st.invalid, 2);
		MPT_EQ(t, st.double_free, 3);
		MPT_EQ(t, st.in_use, 0);
		MPT_EQ(t, st.in_use + st.free + st.cached + st.quarantined +
		       mpt_pool_rcu_pending(p), N);
		mpt_pool_rcu_barrier(p);
		MPT_EQ(t, mpt_pool_rcu_pending(p), 0);
		/* The barrier found nothing wrong (debug: red zone intact). */
		MPT_EQ(t, mpt_reports(), before + 5);
		mpt_pool_flush(p);
		for (n = 0; n <= N && (v[n] = mpt_pool_alloc(p)); n++)
			;
		MPT_EQ(t, n, N);
		for (i = 0; i < n; i++)
			MPT_EQ(t, mpt_pool_free(p, v[i]), 0);
		mpt_pool_stats(p, &st);
		MPT_EQ(t, st.in_use, 0);
		MPT_EQ(t, st.quarantined, 0);
		mpt_pool_destroy(p);
	}
}

#define MPT_CASES(X)					\
	X(slab_exhaust_reuse)				\
	X(slab_bad_pointers)				\
	X(every_offset)					\
	X(slab_double_free)				\
	X(slab_create_errors)				\
	X(create_near_size_max)				\
	X(many_corrupt_cached)				\
	X(bulk)						\
	X(slab_stats)					\
	X(pool_exhaust_reuse)				\
	X(pool_bad_pointers)				\
	X(pool_double_free)				\
	X(pool_create_errors)				\
	X(pool_cache_bound)				\
	X(arena_basic)					\
	X(arena_odd_capacity)				\
	X(debug_redzone)				\
	X(debug_use_after_free)				\
	X(overflow_scribble)				\
	X(pool_free_rcu)

#endif /* MPOOL_CASES_H */
