/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool.h - the allocator core shared by mempool.ko and libmempool.
 *
 * Read this first.  The core is three layers, one file each, every one
 * compiled unchanged into both builds:
 *
 *   common/stack.c  a lock-free stack of 32-bit indices (Treiber, tagged head)
 *   common/slab.c   fixed-size blocks over one such stack: block states,
 *                   pointer checks, debug checks, reports, statistics
 *   common/pool.c   per-context caches and a depot of magazines over a slab
 *
 * beside them common/arena.c, a bump allocator that stands alone.  Calls go
 * down the layers only (pool -> slab -> stack).
 *
 * What a world must supply is written once, in common/env.h: each world's
 * mpool_env.h (user/: liburcu, C11 atomics, mmap; kernel/: READ_ONCE,
 * try_cmpxchg, vmalloc, KASAN) and its env.c.  What the worlds' APIs show of
 * the core is common/mpool_public.h.  The one thing that truly differs in
 * the pool is where the calling context's cache lives and what protects it:
 * TLS in user/lib.c, a per-CPU cache under a local lock in kernel/api.c.
 * docs/design.md says the same at more length.
 *
 *  - struct mpool_slab: @count fixed-size blocks in one page-aligned segment,
 *    handed out through a lock-free stack of block indices.  It is both the
 *    slab allocator and the shared backing of a pool.
 *  - struct mpool_arena: an atomic bump pointer over one segment, freed only
 *    as a whole by a reset.
 *  - struct mpool_pool: a slab plus a depot of magazines; each thread or CPU
 *    owns a struct mpool_cache and trades whole magazines with the depot, so
 *    the shared state is touched once per cache_size/2 operations.
 *
 * Memory layout.  Blocks are laid out with stride round_up(size, 64), so
 * every block starts on a cache line and no two blocks share one.  Metadata
 * lives out of band, beside the segment: a state word and a next index per
 * block.  A user's overflow therefore cannot reach the free list, and a free
 * block's bytes are never touched by the allocator (memory checkers may
 * poison them whole).
 *
 * Checks.  A pointer is validated by arithmetic: inside the segment, a
 * multiple of the stride from its start, then by its state word
 * (MPOOL_BLK_ALLOC or MPOOL_BLK_FREE).  Misuse returns -EINVAL (not a block
 * of this allocator), -EALREADY (already free) or -EUCLEAN (metadata in a
 * state it can never legally hold), is counted, and is reported through
 * mpool_env_report(); the allocator's state is left unchanged.  Create
 * arguments are checked here too, once for both worlds, against the
 * stride that results, not just the size asked for.
 *
 * Coding conventions in this file: functions and types take the mpool_
 * prefix, internal helpers __mpool_; shared words are only touched through
 * MPOOL_READ/MPOOL_WRITE or the atomic verbs of mpool_env.h.
 */
#ifndef MPOOL_CORE_H
#define MPOOL_CORE_H

#include "mpool_public.h"
#include "stack.h"

#define MPOOL_REDZONE		8
#define MPOOL_POISON_FREE	0x6b
#define MPOOL_POISON_RED	0xbb

#define MPOOL_ALIGN		64u
#define MPOOL_ALIGN_SHIFT	6
/* Blocks are numbered with 32 bits; MPOOL_NIL is reserved. */
#define MPOOL_MAX_COUNT		0x7fffffffu

/* Block state words.  Anything else in a state word is corruption. */
#define MPOOL_BLK_FREE		0xf4ee0b1cu
#define MPOOL_BLK_ALLOC		0xa110c8edu
#define MPOOL_BLK_STACKED	0x57acced0u
#define MPOOL_BLK_BAD		0xbad0b10cu	/* quarantined, never reused */

enum mpool_misuse {
	MPOOL_MISUSE_INVALID,	/* -EINVAL: not a block of this allocator */
	MPOOL_MISUSE_DOUBLE,	/* -EALREADY: block already free */
	MPOOL_MISUSE_CORRUPT,	/* -EUCLEAN: impossible metadata */
	MPOOL_MISUSE_NR,
};

/**
 * struct mpool_slab - fixed-size blocks over a lock-free stack.
 * @base: first block; page aligned.
 * @state: one MPOOL_BLK_* word per block.
 * @inv: the inverse of @stride's odd factor modulo 2^64 (see
 *	mpool_slab_index_checked()).
 * @count: number of blocks.
 * @shift: log2 of the largest power of two dividing @stride (at least 6).
 * @flags: MPOOL_F_* flags in force (the caller's, and the core's choice of
 *	debug mode and checker).
 * @cache_max: for a pool, the most blocks one cache may hold (twice the
 *	magazine size); 0 for a plain slab.  Here because the cache fast
 *	path reads it beside the geometry.
 * @stride: distance between blocks, a multiple of MPOOL_ALIGN.
 * @span: @count * @stride, the segment's size.
 * @block_size: the size the user asked for.
 * @kind: MPOOL_KIND_SLAB or MPOOL_KIND_POOL (who reports through this slab).
 * @name: the name reports carry, or NULL.
 * @owner: the handle reports name as the allocator (the build's object
 *	around this slab); this slab itself when NULL.
 * @free: the stack of free block indices.
 * @nfree: blocks in the shared backing (@free, and a pool's depot).
 * @high_water: the most blocks that were out of the backing at once.
 * @failed: allocations that found the backing empty.
 * @quarantined: blocks found corrupt and withdrawn for good.
 * @misuse: detected misuse, by enum mpool_misuse.
 *
 * The fields every alloc and free reads come first and fill one cache
 * line; @free.head, the hot shared word, starts its own line so that it
 * does not bounce the geometry with it.
 */
struct mpool_slab {
	u8 *base;
	u32 *state;
	u64 inv;
	u32 count;
	u32 shift;
	u32 flags;
	u32 cache_max;
	size_t stride;
	/* Below: read on slow paths only. */
	size_t span;
	size_t block_size;
	u32 kind;
	const char *name;
	const void *owner;
	struct mpool_stack free __aligned(MPOOL_ALIGN);
	struct mpool_counter nfree;
	struct mpool_counter high_water;
	struct mpool_counter failed;
	struct mpool_counter quarantined;
	struct mpool_counter misuse[MPOOL_MISUSE_NR];
};

/* --- the slab (common/slab.c) ---------------------------------------- */

int mpool_slab_init(struct mpool_slab *s, size_t block_size, size_t count,
		    unsigned int flags);
void mpool_slab_fini(struct mpool_slab *s);
void mpool_slab_rebuild(struct mpool_slab *s);
int __mpool_create_flags(unsigned int flags, unsigned int allowed, u32 *out);
void __mpool_took(struct mpool_slab *s, long n);
int __mpool_report(struct mpool_slab *s, const void *ptr, int err,
		   const char *desc);
int __mpool_debug_alloc(struct mpool_slab *s, u32 idx);
int __mpool_debug_free(struct mpool_slab *s, u32 idx);

/* Address of block @idx. */
static inline void *mpool_slab_block(const struct mpool_slab *s, u32 idx)
{
	return s->base + (size_t)idx * s->stride;
}

/* Rotate @x right by @n (0 < @n < 64). */
static inline u64 mpool_ror64(u64 x, u32 n)
{
	return (x >> n) | (x << (64 - n));
}

/*
 * mpool_slab_index_unchecked() - the index of @ptr, which the caller knows
 * to be the start of a block of @s (it took @ptr from a cache or magazine
 * of @s).  Any other pointer gives a meaningless index: a pointer from a
 * caller goes through mpool_slab_index_checked().
 */
static inline u32 mpool_slab_index_unchecked(const struct mpool_slab *s,
					     const void *ptr)
{
	u64 off = (u64)((const u8 *)ptr - s->base);

	return (u32)mpool_ror64(off * s->inv, s->shift);
}

/**
 * mpool_slab_index_checked() - map any pointer to its block index, or refuse.
 * @s: the slab.
 * @ptr: any pointer.
 * @idx: where to store the index.
 *
 * Write the stride as 2^@shift * m with m odd, and let off be @ptr's
 * offset from @base (below @base it wraps to a huge value).  Then
 * q = ror(off * m^-1 mod 2^64, @shift) equals off / stride when the stride
 * divides off, and is larger than (2^64 - 1) / stride >= @count otherwise
 * (Granlund and Montgomery's divisibility test): the rotation brings any
 * low bits of off that a multiple of 2^@shift cannot have to the top.  So
 * one multiply, one rotate and one compare against @count reject every
 * pointer outside the segment and every interior or misaligned pointer,
 * with no division.
 *
 * Return: 0, or -EINVAL when @ptr is not the start of a block of @s.
 */
static inline int mpool_slab_index_checked(const struct mpool_slab *s,
					   const void *ptr, u32 *idx)
{
	u64 off = (u64)((const u8 *)ptr - s->base);
	u64 q = mpool_ror64(off * s->inv, s->shift);

	if (unlikely(q >= s->count))
		return -EINVAL;
	*idx = (u32)q;
	return 0;
}

/*
 * __mpool_transition() - move block @idx from state @from to state @to.
 *
 * A block is MPOOL_BLK_ALLOC (a user owns it), MPOOL_BLK_FREE (in a cache or
 * a magazine, both plain arrays) or MPOOL_BLK_STACKED (linked on a lock-free
 * stack through next[]).  Entering a linked stack is always a
 * compare-and-swap, so an index is on a stack at most once: a duplicate
 * could otherwise close a cycle in next[] and corrupt the free list.
 *
 * Cache frees and allocations (FREE <-> ALLOC) are the fast path.  Without
 * MPOOL_F_DEBUG they are a relaxed load, a compare and a relaxed store.
 * That always catches a sequential double free, wherever the free block
 * sits, because its word says FREE or STACKED from the moment it is freed
 * until it is handed out again.  Two threads freeing the same block at the
 * same instant can both read ALLOC and both succeed: the block then sits in
 * two caches.  Nothing shared is corrupted by that: a later allocation of
 * the second copy finds ALLOC (or STACKED) where FREE must be, reports
 * -EUCLEAN and drops the copy, and a spill of the second copy onto a stack
 * loses its compare-and-swap and is dropped the same way.  Only two
 * allocations of the two copies racing within a few instructions could
 * hand the block out twice.  With MPOOL_F_DEBUG every transition is a
 * compare-and-swap: one of two racing frees wins, the other gets
 * -EALREADY.
 *
 * Return: 0, -EALREADY (@from was ALLOC and the block is free) or -EUCLEAN.
 */
static inline int __mpool_transition(struct mpool_slab *s, u32 idx, u32 from,
				     u32 to, bool cas)
{
	u32 old;

	if (unlikely(cas)) {
		old = from;
		if (mpool_try_cmpxchg(&s->state[idx], &old, to))
			return 0;
	} else {
		old = MPOOL_READ(s->state[idx]);
		if (likely(old == from)) {
			MPOOL_WRITE(s->state[idx], to);
			return 0;
		}
	}
	if (from == MPOOL_BLK_ALLOC &&
	    (old == MPOOL_BLK_FREE || old == MPOOL_BLK_STACKED))
		return -EALREADY;
	return -EUCLEAN;
}

/* Whether fast-path transitions of @s must be compare-and-swap. */
static inline bool __mpool_debug(const struct mpool_slab *s)
{
	return s->flags & MPOOL_F_DEBUG;
}

/*
 * __mpool_handout() - the last step of every allocation of block @idx, now
 * ALLOC and held by the caller alone: debug checks, then the memory
 * checker's view.  Return: the block, or NULL when debug mode found it
 * corrupt (quarantined and reported; the caller tries another).
 */
static inline void *__mpool_handout(struct mpool_slab *s, u32 idx)
{
	void *ptr = mpool_slab_block(s, idx);

	if (unlikely(s->flags & MPOOL_F_DEBUG) && __mpool_debug_alloc(s, idx))
		return NULL;
	mpool_env_block_alloc(s, s->flags & MPOOL_F_CHECKER, ptr, s->block_size,
			      s->stride);
	return ptr;
}

/*
 * __mpool_takeback() - the first step after block @idx left ALLOC on a
 * free, before it is published to any cache or stack: debug checks, then
 * the memory checker's view.  Return: 0, or -EUCLEAN when debug mode found
 * its red zone overwritten (quarantined and reported; the free fails).
 */
static inline int __mpool_takeback(struct mpool_slab *s, u32 idx)
{
	if (unlikely(s->flags & MPOOL_F_DEBUG) && __mpool_debug_free(s, idx))
		return -EUCLEAN;
	mpool_env_block_free(s, s->flags & MPOOL_F_CHECKER,
			     mpool_slab_block(s, idx), s->stride);
	return 0;
}

/* --- the arena (common/arena.c) -------------------------------------- */

/**
 * struct mpool_arena - a bump allocator.
 * @offset: bytes handed out since the last reset; only grows between
 *	resets, by compare-and-swap so that it never passes @capacity.  The
 *	one hot word: the rest of the arena sits on the next cache line.
 * @high_water: the largest @offset at a reset or a statistics call; as
 *	@offset only grows between resets, this is its true peak.
 * @failed: allocations that did not fit.
 * @base: the segment; page aligned.
 * @capacity: usable bytes.
 * @map_size: bytes mapped (@capacity rounded up to a page).
 * @flags: 0 or MPOOL_F_CHECKER (the core's choice).
 * @name: the name reports carry, or NULL.
 */
struct mpool_arena {
	size_t offset;
	/* Below: rarely written, on a line of their own. */
	struct mpool_counter high_water __aligned(MPOOL_ALIGN);
	struct mpool_counter failed;
	u8 *base;
	size_t capacity;
	size_t map_size;
	u32 flags;
	const char *name;
};

int mpool_arena_init(struct mpool_arena *a, size_t capacity);
void mpool_arena_fini(struct mpool_arena *a);

/* --- the pool (common/pool.c) ---------------------------------------- */

/**
 * struct mpool_cache - one thread's or one CPU's free blocks.
 * @count: blocks in @objs; written only by the owner, read by statistics.
 * @objs: a stack of free blocks' addresses, room for 2 * magazine size.
 *	Addresses rather than indices: an allocation returns what it pops
 *	with no arithmetic, so a free followed by an allocation does not
 *	wait on a multiply.
 *
 * The owner is the one context that may use the cache: a thread (TLS) or a
 * CPU with its local lock held.  Whoever drains a cache of a context that is
 * gone (thread exit, CPU offline, destroy, fork) owns it for that time.
 */
struct mpool_cache {
	u32 count;
	void *objs[];
};

/**
 * struct mpool_pool - a slab with a depot of magazines and caches above it.
 * @slab: the blocks, and the stack of free blocks not in magazines.
 * @mag_size: rounds per magazine (cache_size / 2 rounded up; 0: no cache).
 * @nmags: magazines in the depot.
 * @rounds: @nmags * @mag_size block addresses, the magazines' contents.
 * @full: stack of magazine indices holding @mag_size free blocks each.
 * @empty: stack of magazine indices holding nothing.
 */
struct mpool_pool {
	struct mpool_slab slab;
	u32 mag_size;
	u32 nmags;
	void **rounds;
	struct mpool_stack full __aligned(MPOOL_ALIGN);
	struct mpool_stack empty __aligned(MPOOL_ALIGN);
};

int mpool_pool_init(struct mpool_pool *p, size_t block_size,
		    size_t cache_size, size_t capacity, unsigned int flags);
void mpool_pool_fini(struct mpool_pool *p);
size_t mpool_cache_bytes(const struct mpool_pool *p);
void *mpool_cache_alloc(struct mpool_pool *p, struct mpool_cache *c);
int mpool_cache_free(struct mpool_pool *p, struct mpool_cache *c, void *ptr);
void mpool_cache_drain(struct mpool_pool *p, struct mpool_cache *c);
void mpool_pool_fill_stats(struct mpool_pool *p, struct mpool_stats *st,
			   size_t cached);
void mpool_pool_rebuild(struct mpool_pool *p);

/**
 * mpool_cache_alloc_fast() - the common case of mpool_cache_alloc() alone.
 * @p: the pool.
 * @c: the calling context's cache (the caller owns it).
 *
 * A build calls this first and, when it returns false, calls
 * mpool_cache_alloc(), which handles every other case (an empty cache, a
 * state word that is not FREE).  Kept free of calls so that the compiler
 * can make the caller's fast path a leaf.
 *
 * Only for a pool without MPOOL_F_SLOW (debug mode, a memory checker): the
 * caller checks the flag, once per pool if it can, and sends such a pool
 * to mpool_cache_alloc() always.
 *
 * @out: where the block goes.
 *
 * Return: true with a block in *@out, or false with nothing changed.
 */
static inline bool mpool_cache_alloc_fast(struct mpool_pool *p,
					  struct mpool_cache *c, void **out)
{
	struct mpool_slab *s = &p->slab;
	u32 n = c->count, idx;
	void *ptr;

	if (unlikely(!n))
		return false;
	ptr = c->objs[n - 1];
	idx = mpool_slab_index_unchecked(s, ptr);
	if (unlikely(MPOOL_READ(s->state[idx]) != MPOOL_BLK_FREE))
		return false;
	MPOOL_WRITE(s->state[idx], MPOOL_BLK_ALLOC);
	MPOOL_WRITE(c->count, n - 1);
	/* No MPOOL_F_CHECKER here: only ASan's poisoning can remain. */
	mpool_env_block_alloc(s, false, ptr, s->block_size, s->stride);
	*out = ptr;
	return true;
}

/**
 * mpool_cache_free_fast() - the common case of mpool_cache_free() alone.
 * @p: the pool.
 * @c: the calling context's cache (the caller owns it).
 * @ptr: any pointer.
 *
 * Frees @ptr when it is an allocated block of @p and the cache has room;
 * otherwise the caller calls mpool_cache_free(), which handles (and
 * reports) everything else.  Only for a pool without MPOOL_F_SLOW, as for
 * mpool_cache_alloc_fast().
 *
 * Return: true if @ptr was freed; false with nothing changed.
 */
static inline bool mpool_cache_free_fast(struct mpool_pool *p,
					 struct mpool_cache *c, void *ptr)
{
	struct mpool_slab *s = &p->slab;
	u32 n = c->count, idx;

	if (unlikely(mpool_slab_index_checked(s, ptr, &idx) ||
		     n == s->cache_max))
		return false;
	if (unlikely(MPOOL_READ(s->state[idx]) != MPOOL_BLK_ALLOC))
		return false;
	MPOOL_WRITE(s->state[idx], MPOOL_BLK_FREE);
	mpool_env_block_free(s, false, ptr, s->stride);
	c->objs[n] = ptr;
	MPOOL_WRITE(c->count, n + 1);
	return true;
}

#endif /* MPOOL_CORE_H */
