// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * pool.c - magazines and a depot between per-context caches and a slab.
 *
 * Purpose: the pool of the spec: per-thread (userspace) or per-CPU (kernel)
 * caches of free blocks over a shared lock-free backing, after Bonwick and
 * Adams, "Magazines and Vmem" (USENIX 2001).
 *
 * Shape.  A cache is a stack of up to 2 * M free blocks' addresses, M being
 * the magazine size (cache_size / 2, rounded up).  An allocation that finds the
 * cache empty refills it with one full magazine from the depot (M blocks,
 * two compare-and-swaps), or failing that with up to M blocks from the
 * slab's free stack.  A free that finds the cache full spills its top M
 * blocks into an empty magazine pushed on the depot's full stack, or
 * failing that (no empty magazine at hand) onto the slab's free stack.  So
 * a context touches shared words once per M operations at most, and a
 * context never holds more than 2 * M free blocks: that is the bound on
 * blocks stranded in an idle context.
 *
 * Magazines are plain arrays of addresses: a duplicate in one (left by two
 * racing double frees, see __mpool_transition()) cannot corrupt anything,
 * and is dropped when its allocation finds the block not FREE.
 *
 * Calls go down: a cache spills into the depot or onto the slab's stack
 * (mpool_pool_stack_block() -> mpool_stack_push_chain()), and refills from
 * them; nothing below calls back up.
 *
 * Depot invariant: every magazine index is on exactly one of @full and
 * @empty, or held by one context between its pop and its push; a magazine
 * on @full holds exactly M FREE blocks.  nmags = capacity / M + 2, so with
 * no racing double free an empty magazine can be missing only while other
 * contexts hold them in flight; the slab's stack is the fallback then.
 *
 * Which cache a call uses, and what protects it, is the build's business
 * (TLS, or a per-CPU cache under its local lock); this file only says what
 * to do with it.
 */
#include "mpool.h"

/* Rounds per magazine for caches of @cache_size (> 0) blocks. */
static u32 mpool_mag_size(size_t cache_size)
{
	return (u32)((cache_size + 1) / 2);
}

/* Magazines in the depot (see the depot invariant above). */
static size_t mpool_nmags(size_t capacity, u32 mag_size)
{
	return capacity / mag_size + 2;
}

/*
 * Whether the depot's two arrays, nmags indices and nmags * @mag_size
 * addresses, each fit in one allocation of the world (divisions: no
 * product can overflow).
 */
static bool mpool_depot_fits(size_t capacity, u32 mag_size)
{
	size_t nmags = mpool_nmags(capacity, mag_size);

	return nmags <= MPOOL_ENV_ZALLOC_MAX / sizeof(u32) &&
	       nmags <= MPOOL_ENV_ZALLOC_MAX / sizeof(void *) / mag_size;
}

/**
 * mpool_pool_init() - set up a pool.
 * @p: the pool.
 * @block_size: bytes per block (> 0).
 * @cache_size: the most free blocks a context keeps (0: no caches); at
 *	most @capacity.
 * @capacity: blocks in all (> 0).
 * @flags: the caller's create flags: MPOOL_F_DEBUG or 0.
 *
 * Return: 0, -EINVAL, -E2BIG (the depot's or the slab's metadata would
 * exceed MPOOL_ENV_ZALLOC_MAX bytes in one array; refused before anything
 * is allocated) or -ENOMEM; on error nothing is left allocated.
 */
int mpool_pool_init(struct mpool_pool *p, size_t block_size,
		    size_t cache_size, size_t capacity, unsigned int flags)
{
	u32 *next, i;
	int err;

	memset(p, 0, sizeof(*p));
	if (cache_size > capacity || cache_size > MPOOL_MAX_COUNT)
		return -EINVAL;
	if (cache_size &&
	    !mpool_depot_fits(capacity, mpool_mag_size(cache_size)))
		return -E2BIG;
	err = mpool_slab_init(&p->slab, block_size, capacity, flags);
	if (err)
		return err;
	p->slab.kind = MPOOL_KIND_POOL;
	if (!cache_size)
		return 0;
	p->mag_size = mpool_mag_size(cache_size);
	p->slab.cache_max = 2 * p->mag_size;
	p->nmags = (u32)mpool_nmags(capacity, p->mag_size);
	next = mpool_env_zalloc((size_t)p->nmags * sizeof(u32));
	p->rounds = next ? mpool_env_zalloc((size_t)p->nmags * p->mag_size *
					    sizeof(void *)) : NULL;
	if (!p->rounds) {
		mpool_env_free(next);
		mpool_slab_fini(&p->slab);
		return -ENOMEM;
	}
	mpool_stack_init(&p->full, next);
	mpool_stack_init(&p->empty, next);
	for (i = 0; i < p->nmags; i++)
		mpool_stack_push_chain(&p->empty, i, i);
	return 0;
}

/**
 * mpool_pool_fini() - release what mpool_pool_init() took.
 * @p: the pool; caches must have been drained or discarded.
 */
void mpool_pool_fini(struct mpool_pool *p)
{
	mpool_env_free(p->rounds);
	mpool_env_free(p->full.next);
	p->rounds = NULL;
	p->full.next = NULL;
	p->empty.next = NULL;
	mpool_slab_fini(&p->slab);
}

/**
 * mpool_cache_bytes() - the size of one struct mpool_cache for @p.
 * @p: the pool.
 *
 * Return: bytes, rounded up to a cache line so that neighbouring caches
 * never share one.
 */
size_t mpool_cache_bytes(const struct mpool_pool *p)
{
	size_t n = sizeof(struct mpool_cache) + 2 * (size_t)p->mag_size *
		   sizeof(void *);

	return (n + MPOOL_ALIGN - 1) & ~(size_t)(MPOOL_ALIGN - 1);
}

static inline void **mpool_mag(struct mpool_pool *p, u32 m)
{
	return p->rounds + (size_t)m * p->mag_size;
}

/*
 * mpool_cache_refill() - fill an empty cache from the backing.
 * @p: the pool; its magazine size is not 0.
 * @c: the caller's cache, empty.
 *
 * Return: true if @c now holds at least one block; false (counted as a
 * failed allocation) when the backing is empty.  Blocks held by other
 * contexts' caches are not reclaimed: a caller that must not fail while
 * others hold cached blocks asks them to flush.
 */
static bool mpool_cache_refill(struct mpool_pool *p, struct mpool_cache *c)
{
	u32 m = mpool_stack_pop(&p->full), n = 0, idx;
	int err;

	if (m != MPOOL_NIL) {
		/* The pop's acquire pairs with the spill's push. */
		memcpy(c->objs, mpool_mag(p, m), p->mag_size * sizeof(void *));
		mpool_stack_push_chain(&p->empty, m, m);
		n = p->mag_size;
	} else {
		while (n < p->mag_size) {
			idx = mpool_stack_pop(&p->slab.free);
			if (idx == MPOOL_NIL)
				break;
			/* The pop made us the index's only holder. */
			err = __mpool_transition(&p->slab, idx,
						 MPOOL_BLK_STACKED,
						 MPOOL_BLK_FREE, false);
			if (unlikely(err))
				__mpool_report(&p->slab,
					       mpool_slab_block(&p->slab, idx),
					       err, NULL);
			else
				c->objs[n++] = mpool_slab_block(&p->slab, idx);
		}
	}
	if (!n) {
		mpool_counter_inc(&p->slab.failed);
		return false;
	}
	__mpool_took(&p->slab, n);
	MPOOL_WRITE(c->count, n);
	return true;
}

/*
 * Put one free block on the slab's free stack.  @idx is a block whose state
 * is FREE (it was held in a cache or magazine).  Return: true if pushed;
 * false (reported as -EUCLEAN) if the block was not FREE, that is, a
 * duplicate left by a racing double free.
 */
static bool mpool_pool_stack_block(struct mpool_pool *p, u32 idx)
{
	struct mpool_slab *s = &p->slab;
	int err = __mpool_transition(s, idx, MPOOL_BLK_FREE, MPOOL_BLK_STACKED,
				     true);

	if (unlikely(err)) {
		__mpool_report(s, mpool_slab_block(s, idx), err, NULL);
		return false;
	}
	/* Count first: the figure never runs below the truth. */
	mpool_counter_add_return(&s->nfree, 1);
	mpool_stack_push_chain(&s->free, idx, idx);
	return true;
}

/*
 * mpool_cache_spill() - give @n blocks from the top of @c to the backing:
 * as one full magazine when @n is a magazine's worth and an empty one is at
 * hand, else one by one onto the slab's stack.
 */
static void mpool_cache_spill(struct mpool_pool *p, struct mpool_cache *c,
			      u32 n)
{
	struct mpool_slab *s = &p->slab;
	void **top = c->objs + c->count - n;
	u32 m = MPOOL_NIL, i, idx;

	if (n == p->mag_size)
		m = mpool_stack_pop(&p->empty);
	if (m != MPOOL_NIL) {
		memcpy(mpool_mag(p, m), top, n * sizeof(void *));
		/* Count first: the figure never runs below the truth. */
		mpool_counter_add_return(&s->nfree, n);
		/* Publishes the rounds to the refill that pops it. */
		mpool_stack_push_chain(&p->full, m, m);
	} else {
		for (i = 0; i < n; i++) {
			idx = mpool_slab_index_unchecked(s, top[i]);
			mpool_pool_stack_block(p, idx);
		}
	}
	MPOOL_WRITE(c->count, c->count - n);
}

/**
 * mpool_cache_drain() - give every block of a cache back to the backing.
 * @p: the pool.
 * @c: a cache the caller owns (its context is gone, or it is the caller's).
 */
void mpool_cache_drain(struct mpool_pool *p, struct mpool_cache *c)
{
	if (!p->mag_size)
		return;
	while (c->count >= p->mag_size)
		mpool_cache_spill(p, c, p->mag_size);
	if (c->count)
		mpool_cache_spill(p, c, c->count);
}

/**
 * mpool_cache_alloc() - take a block through a cache.
 * @p: the pool.
 * @c: the calling context's cache (the caller owns it).
 *
 * Every case: a hit, an empty cache (refilled from the backing), a debug
 * or checker pool.  A cached block whose state word is not FREE (a
 * duplicate left by a racing double free, or an overwritten word), or that
 * debug mode finds corrupt, is reported and dropped, never handed out, and
 * the next one is tried: a loop, so that any number of them costs no stack.
 *
 * Context: whatever protects @c (TLS, or the CPU's local lock).
 * Return: a block, or NULL when the pool is out of blocks (counted).
 */
void *mpool_cache_alloc(struct mpool_pool *p, struct mpool_cache *c)
{
	struct mpool_slab *s = &p->slab;
	void *ptr;
	u32 n, idx;
	int err;

	for (;;) {
		n = c->count;
		if (unlikely(!n)) {
			if (!mpool_cache_refill(p, c))
				return NULL;
			n = c->count;
		}
		ptr = c->objs[--n];
		idx = mpool_slab_index_unchecked(s, ptr);
		/* No stale address left behind: memcheck's leak check looks. */
		c->objs[n] = NULL;
		MPOOL_WRITE(c->count, n);
		err = __mpool_transition(s, idx, MPOOL_BLK_FREE,
					 MPOOL_BLK_ALLOC, __mpool_debug(s));
		if (unlikely(err)) {
			__mpool_report(s, ptr, err, NULL);
			continue;
		}
		ptr = __mpool_handout(s, idx);
		if (likely(ptr))
			return ptr;
	}
}

/**
 * mpool_cache_free() - return a block through a cache.
 * @p: the pool.
 * @c: the calling context's cache (the caller owns it).
 * @ptr: a block of @p allocated by any thread or CPU, or NULL.
 *
 * Every case, as mpool_cache_alloc() is for allocations.
 *
 * Context: whatever protects @c (TLS, or the CPU's local lock).
 * Return: 0, -EINVAL (not a block of @p), -EALREADY (already free) or
 * -EUCLEAN (corrupt metadata); on error nothing changed.
 */
int mpool_cache_free(struct mpool_pool *p, struct mpool_cache *c, void *ptr)
{
	struct mpool_slab *s = &p->slab;
	u32 idx;
	int err;

	if (unlikely(!ptr))
		return 0;
	err = mpool_slab_index_checked(s, ptr, &idx);
	if (likely(!err))
		err = __mpool_transition(s, idx, MPOOL_BLK_ALLOC,
					 MPOOL_BLK_FREE, __mpool_debug(s));
	if (unlikely(err))
		return __mpool_report(s, ptr, err, NULL);
	err = __mpool_takeback(s, idx);
	if (unlikely(err))
		return err;
	if (unlikely(c->count == s->cache_max))
		mpool_cache_spill(p, c, p->mag_size);
	c->objs[c->count] = ptr;
	MPOOL_WRITE(c->count, c->count + 1);
	return 0;
}

/**
 * mpool_pool_fill_stats() - report what a pool is doing.
 * @p: the pool.
 * @st: filled in.
 * @cached: the blocks its build counted in the caches it keeps.
 */
void mpool_pool_fill_stats(struct mpool_pool *p, struct mpool_stats *st,
			   size_t cached)
{
	size_t out;

	mpool_slab_stats(&p->slab, st);
	st->cached = cached;
	out = st->free + cached + st->quarantined;
	st->in_use = st->capacity > out ? st->capacity - out : 0;
}

/**
 * mpool_pool_rebuild() - rebuild the backing from the state words.
 * @p: the pool.
 *
 * After fork() the child has one thread; magazines in flight and blocks in
 * other threads' caches would be lost.  The build empties every cache it
 * knows of first; this empties the depot and puts every block that is not
 * ALLOC on the slab's free stack.  Context: nobody else uses @p.
 */
void mpool_pool_rebuild(struct mpool_pool *p)
{
	u32 i;

	if (p->mag_size) {
		for (i = 0; i < p->nmags; i++)
			MPOOL_WRITE(p->empty.next[i], i + 1 < p->nmags ?
				    i + 1 : MPOOL_NIL);
		mpool_stack_reset(&p->full, MPOOL_NIL);
		mpool_stack_reset(&p->empty, 0);
	}
	mpool_slab_rebuild(&p->slab);
}
