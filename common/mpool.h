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
 * multiple of the stride from its start, then by its state word (see the
 * block states below).  Misuse returns -EINVAL (not a block of this
 * allocator), -EALREADY (already free) or -EUCLEAN (metadata in a state it
 * can never legally hold), is counted, and is reported through
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

/*
 * Block state words.  Anything else in a state word is corruption.
 *
 * An allocated block carries the id of its owner, the cache (thread or CPU)
 * that handed it out, in its low 16 bits; MPOOL_OWNER_NONE when it came
 * from a slab's stack directly.  A block freed by a context other than its
 * owner waits as REMOTE(owner) on the owner's remote queue.  FREE, STACKED
 * and BAD carry no owner: a FREE block belongs to whoever holds it in a
 * cache or magazine.  The protocol is at the top of common/pool.c.
 *
 * A block's word is 64 bits: this state in the low half, and in the high
 * half a sequence number that goes up by one each time an allocation of the
 * block ends (it is freed).  A compare-and-swap on the whole word therefore
 * fails when the allocation its caller saw has ended, even if the block was
 * handed out again and holds the same state: a remote free stopped for any
 * time between its load and its swap cannot free a later allocation.
 */
#define MPOOL_BLK_FREE		0xf4ee0b1cu
#define MPOOL_BLK_STACKED	0x57acced0u
#define MPOOL_BLK_BAD		0xbad0b10cu	/* quarantined, never reused */
#define MPOOL_BLK_ALLOC_TAG	0xa1100000u	/* | owner */
#define MPOOL_BLK_REMOTE_TAG	0x9e4d0000u	/* | owner */
#define MPOOL_BLK_FREEING_TAG	0xf5ee0000u	/* | owner: a remote free */
#define MPOOL_BLK_STEALING_TAG	0x57ea0000u	/* | owner: a thief takes it */
#define MPOOL_BLK_RCU_TAG	0x7c0d0000u	/* | owner: waits for a grace period */
#define MPOOL_BLK_TAG_MASK	0xffff0000u
#define MPOOL_OWNER_NONE	0xffffu
/* Owner ids are 0 .. MPOOL_MAX_OWNERS - 1. */
#define MPOOL_MAX_OWNERS	0xffffu
#define MPOOL_BLK_ALLOC_NONE	(MPOOL_BLK_ALLOC_TAG | MPOOL_OWNER_NONE)
/* No block's state is ever this: the tag of a cache that must not free. */
#define MPOOL_BLK_NO_TAG	0xdeadca5eu

#define MPOOL_SEQ_ONE		0x100000000ull

/* The state half of a block's word. */
static inline u32 mpool_blk_state(u64 w)
{
	return (u32)w;
}

/* Word @w with its state replaced by @st, same sequence number. */
static inline u64 mpool_blk_word(u64 w, u32 st)
{
	return (w & ~(u64)0xffffffffu) | st;
}

/* The word after the allocation in @w ends: state @st, next sequence. */
static inline u64 mpool_blk_ended(u64 w, u32 st)
{
	return mpool_blk_word(w, st) + MPOOL_SEQ_ONE;
}

static inline bool mpool_blk_is_alloc(u32 st)
{
	return (st & MPOOL_BLK_TAG_MASK) == MPOOL_BLK_ALLOC_TAG;
}

static inline bool mpool_blk_is_remote(u32 st)
{
	return (st & MPOOL_BLK_TAG_MASK) == MPOOL_BLK_REMOTE_TAG;
}

/* REMOTE, or marked by a thief that then gave it back: on an owner's queue. */
static inline bool mpool_blk_is_queued(u32 st)
{
	return mpool_blk_is_remote(st) ||
	       (st & MPOOL_BLK_TAG_MASK) == MPOOL_BLK_STEALING_TAG;
}

static inline u32 mpool_blk_owner(u32 st)
{
	return st & ~MPOOL_BLK_TAG_MASK;
}

/* Whether block state @st is RCU(owner): freed by a deferred free (rcu.c). */
static inline bool mpool_blk_is_rcu(u32 st)
{
	return (st & MPOOL_BLK_TAG_MASK) == MPOOL_BLK_RCU_TAG;
}

/* Whether a block in state @st has been freed (and not handed out since). */
static inline bool mpool_blk_is_freed(u32 st)
{
	return st == MPOOL_BLK_FREE || st == MPOOL_BLK_STACKED ||
	       mpool_blk_is_remote(st) ||
	       (st & MPOOL_BLK_TAG_MASK) == MPOOL_BLK_FREEING_TAG ||
	       (st & MPOOL_BLK_TAG_MASK) == MPOOL_BLK_STEALING_TAG ||
	       mpool_blk_is_rcu(st);
}

enum mpool_misuse {
	MPOOL_MISUSE_INVALID,	/* -EINVAL: not a block of this allocator */
	MPOOL_MISUSE_DOUBLE,	/* -EALREADY: block already free */
	MPOOL_MISUSE_CORRUPT,	/* -EUCLEAN: impossible metadata */
	MPOOL_MISUSE_NR,
};

/**
 * struct mpool_slab - fixed-size blocks over a lock-free stack.
 * @base: first block; page aligned.
 * @state: one word per block: {sequence:32, MPOOL_BLK_* state:32}.
 * @inv: the inverse of @stride's odd factor modulo 2^64 (see
 *	mpool_slab_index_checked()).
 * @count: number of blocks (below 2^32; 64 bits wide so that the free
 *	fast path compares a 64-bit index against it as it is).
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
	mpool_atomic_u64 *state;
	u64 inv;
	u64 count;
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
 * __mpool_cas_state() - move block @idx from word @from to word @to by
 * compare-and-swap: the only way any slow path changes a block's word, so
 * that of two contexts racing on one block exactly one wins.  (The fast
 * paths of a cache's owner use plain stores; common/pool.c says why that
 * is safe.)
 *
 * Return: 0, or the error a caller that expected @from reports: -EALREADY
 * when @from was an allocation (it has ended: the block was freed, and
 * maybe handed out again since), -EUCLEAN for anything else; *@seen holds
 * the word found.
 */
static inline int __mpool_cas_state(struct mpool_slab *s, u32 idx, u64 from,
				    u64 to, u64 *seen)
{
	u64 old = from;

	if (likely(mpool_try_cmpxchg(&s->state[idx], &old, to)))
		return 0;
	*seen = old;
	if (mpool_blk_is_alloc(mpool_blk_state(from)))
		return -EALREADY;
	return -EUCLEAN;
}

/*
 * __mpool_handout() - every allocation of free block @idx, held by the
 * caller alone (popped from a stack or a cache) in word @w: debug checks
 * while it is still free (so that nobody can free it under them), then the
 * compare-and-swap to @alloc, then the memory checker's view.  Return: the
 * block, or NULL when it was found corrupt (quarantined or reported; the
 * caller tries another).
 */
static inline void *__mpool_handout(struct mpool_slab *s, u32 idx, u64 w,
				    u32 alloc)
{
	void *ptr = mpool_slab_block(s, idx);
	u64 seen;

	if (unlikely(s->flags & MPOOL_F_DEBUG) && __mpool_debug_alloc(s, idx))
		return NULL;
	if (unlikely(__mpool_cas_state(s, idx, w, mpool_blk_word(w, alloc),
				       &seen))) {
		/* Impossible metadata: never hand the block out. */
		__mpool_report(s, ptr, -EUCLEAN, NULL);
		return NULL;
	}
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

/* A free block as caches and magazines hold it: its address. */
struct mpool_round {
	void *ptr;
};

/**
 * struct mpool_cache - one thread's or one CPU's free blocks, and the
 *	queue of blocks it owns that other contexts have freed.
 * @count: blocks in @objs; written only by the owner, read by statistics.
 * @busy: 1 while the owner is inside a fast-path free (userspace: the
 *	owner's half of the handshake with a thief; the kernel never sets it).
 * @alloc_tag: MPOOL_BLK_ALLOC_TAG | @owner, the state of the blocks this
 *	cache hands out.
 * @alloc_delta: what the fast alloc adds to a FREE word to make it
 *	ALLOC(@owner), sequence kept.
 * @free_delta: what the fast free adds to an ALLOC(@owner) word to make it
 *	FREE with the next sequence number.
 * @owner: this cache's owner id (a CPU, or a thread's slot in its pool).
 * @ob_req: 0, or the owner id + 1 of a thief that holds this cache's outbox
 *	(userspace; see mpool_outbox_put()).  The kernel never sets it.
 * @ob_mag: the outbox: a magazine this context fills with blocks it freed
 *	for another owner, all REMOTE for @ob_owner, and sends whole to that
 *	owner's @rmags; MPOOL_NIL when none is open.
 * @ob_n: blocks in @ob_mag.
 * @ob_owner: the owner of the blocks in @ob_mag.
 * @gone: MPOOL_OWNER_LIVE while a context owns the cache; MPOOL_OWNER_GONE
 *	when none does (its thread exited): a remote freer may then claim it
 *	(MPOOL_OWNER_CLAIMED) and free the blocks it handed out directly.
 * @rpending: blocks on @rhead and @rmags (a statistics figure: remote-freed
 *	blocks count as cached until collected).
 * @rhead: the remote queue: a lock-free LIFO of block indices linked
 *	through the pool's @rnext, pushed by any context, taken whole by the
 *	owner (or a thief).  On its own cache line: other contexts write it.
 * @thief: 1 while a thief works on this cache's queues (userspace; see
 *	mpool_cache_steal_begin()), else 0.
 * @rmags: the batched remote queue: a LIFO of magazines linked through the
 *	depot's links, each holding up to a magazine of blocks REMOTE for this
 *	owner (a NULL round ends a short one), pushed by the contexts that
 *	filled them, taken whole by the owner (or a thief).
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
	mpool_atomic_u32 count;
	mpool_atomic_u32 busy;
	u32 alloc_tag;
	u32 owner;
	u64 alloc_delta;
	u64 free_delta;
	mpool_atomic_u32 ob_req;
	mpool_atomic_u32 ob_mag;
	mpool_atomic_u32 ob_n;
	mpool_atomic_u32 ob_owner;
	/*
	 * Written by other contexts: on a line of its own, away from the
	 * words the owner writes on every call.  @gone lives here because
	 * every remote free reads it beside the queue it pushes on.
	 */
	mpool_atomic_u32 __aligned(MPOOL_ALIGN) rhead;
	mpool_atomic_u32 rmags;
	mpool_atomic_u32 gone;
	mpool_atomic_u32 thief;
	struct mpool_counter rpending;
	struct mpool_round objs[] __aligned(MPOOL_ALIGN);
};

/**
 * struct mpool_pool - a slab with a depot of magazines and caches above it.
 * @slab: the blocks, and the stack of free blocks not in magazines.
 * @mag_size: rounds per magazine (cache_size / 2 rounded up; 0: no cache).
 * @nmags: magazines in the depot.
 * @rounds: @nmags * @mag_size blocks, the magazines' contents.
 * @rnext: per-block link of the remote queues; MPOOL_NOT_QUEUED when the
 *	block is on none.  A block is on at most one remote queue at a time.
 * @owners: the cache of each owner id, or NULL (@nowners entries); set by
 *	the build when it makes a cache, cleared when the cache goes away.
 * @nowners: how many owner ids the build may hand out.
 * @outbox_batch: remote frees a context gathers in its outbox for one owner
 *	before it sends them (at most MPOOL_OUTBOX_BATCH and @mag_size); 0:
 *	no outbox, each is pushed on the owner's @rhead at once.
 * @full: stack of magazine indices holding @mag_size free blocks each.
 * @empty: stack of magazine indices holding nothing.
 * @rcu: the deferred frees' state (common/rcu.c), or NULL while no RCU
 *	flavour is bound; set once, by mpool_rcu_bind().
 */
struct mpool_pool {
	struct mpool_slab slab;
	u32 mag_size;
	u32 nmags;
	struct mpool_round *rounds;
	mpool_atomic_u32 *rnext;
	mpool_atomic_ptr *owners;
	u32 nowners;
	u32 outbox_batch;
	struct mpool_stack full __aligned(MPOOL_ALIGN);
	struct mpool_stack empty __aligned(MPOOL_ALIGN);
	struct mpool_rcu *rcu;
};

#define MPOOL_OWNER_LIVE	0u
#define MPOOL_OWNER_GONE	1u
#define MPOOL_OWNER_CLAIMED	2u

/* rnext[] of a block that is on no remote queue. */
#define MPOOL_NOT_QUEUED	0xfffffffeu

int mpool_pool_init(struct mpool_pool *p, size_t block_size,
		    size_t cache_size, size_t capacity, unsigned int flags,
		    u32 nowners);
void mpool_pool_fini(struct mpool_pool *p);
size_t mpool_cache_bytes(const struct mpool_pool *p);
void mpool_cache_init(struct mpool_pool *p, struct mpool_cache *c, u32 owner);
void mpool_cache_orphan(struct mpool_cache *c);
void mpool_cache_adopt(struct mpool_cache *c);
void mpool_cache_fini(struct mpool_pool *p, struct mpool_cache *c);
void *mpool_cache_alloc(struct mpool_pool *p, struct mpool_cache *c);
int mpool_cache_free(struct mpool_pool *p, struct mpool_cache *c, void *ptr);
int mpool_cache_alloc_bulk(struct mpool_pool *p, struct mpool_cache *c,
			   void **ptrs, size_t n);
int mpool_cache_free_bulk(struct mpool_pool *p, struct mpool_cache *c,
			  void *const *ptrs, size_t n);
void mpool_cache_drain(struct mpool_pool *p, struct mpool_cache *c);
bool mpool_outbox_flush(struct mpool_pool *p, struct mpool_cache *c,
			struct mpool_cache *into);
bool mpool_outbox_steal_begin(struct mpool_cache *c, u32 thief);
void mpool_outbox_steal_end(struct mpool_pool *p, struct mpool_cache *c,
			    struct mpool_cache *into, bool take);

/**
 * struct mpool_remote_list - a cache's remote queues, taken whole.
 * @list: the first block of the @rhead list (linked through @rnext), or
 *	MPOOL_NIL.
 * @mags: the first magazine of the @rmags list (linked through the depot's
 *	links), or MPOOL_NIL.
 */
struct mpool_remote_list {
	u32 list;
	u32 mags;
};

bool mpool_cache_collect(struct mpool_pool *p, struct mpool_cache *from,
			 struct mpool_cache *into);
bool mpool_cache_take_remote(struct mpool_cache *c,
			     struct mpool_remote_list *rl);
void mpool_cache_give_remote(struct mpool_pool *p, struct mpool_cache *c,
			     const struct mpool_remote_list *rl);
bool __mpool_cache_collect_list(struct mpool_pool *p, struct mpool_cache *from,
				struct mpool_cache *into,
				const struct mpool_remote_list *rl);
void mpool_cache_steal_mark(struct mpool_pool *p, struct mpool_cache *from,
			    const struct mpool_remote_list *rl);
bool mpool_cache_steal_take(struct mpool_pool *p, struct mpool_cache *from,
			    struct mpool_cache *into,
			    const struct mpool_remote_list *rl);
bool mpool_cache_steal_begin(struct mpool_cache *c,
			     struct mpool_remote_list *rl);
void mpool_cache_steal_end(struct mpool_cache *c);
bool mpool_cache_collect_orphan(struct mpool_pool *p, struct mpool_cache *c,
				struct mpool_cache *into);
int mpool_pool_free_nocache(struct mpool_pool *p, void *ptr);
void mpool_pool_fill_stats(struct mpool_pool *p, struct mpool_stats *st,
			   size_t cached);
void mpool_pool_rebuild(struct mpool_pool *p);

/*
 * The most blocks a context gathers in its outbox for one owner before it
 * sends them (the pool's @outbox_batch is this or its magazine size,
 * whichever is smaller).
 */
#define MPOOL_OUTBOX_BATCH	4096

/*
 * Free blocks @c holds: in its stack, waiting on its remote queue, and
 * freed by its context for other owners but not yet sent.
 */
static inline size_t mpool_cache_held(const struct mpool_cache *c)
{
	long q = mpool_counter_read(&c->rpending);

	return MPOOL_READ(c->count) + (q > 0 ? (size_t)q : 0) +
	       MPOOL_READ(c->ob_n);
}

/* Whether @c's remote queue holds anything (a hint: it may change). */
static inline bool mpool_cache_has_remote(const struct mpool_cache *c)
{
	return MPOOL_READ(c->rhead) != MPOOL_NIL ||
	       MPOOL_READ(c->rmags) != MPOOL_NIL;
}

/**
 * mpool_cache_alloc_fast() - the common case of mpool_cache_alloc() alone.
 * @p: the pool.
 * @c: the calling context's cache (the caller owns it).
 * @out: where the block goes.
 *
 * A build calls this first and, when it returns false, calls
 * mpool_cache_alloc(), which handles every other case (an empty cache, a
 * state word that is not FREE).  Kept free of calls so that the compiler
 * can make the caller's fast path a leaf.  Plain loads and stores only:
 * the blocks in @c are FREE, and nobody but the owner writes a FREE
 * block's word while it sits in a cache.
 *
 * Only for a pool without MPOOL_F_SLOW (debug mode, a memory checker): the
 * caller checks the flag, once per pool if it can, and sends such a pool
 * to mpool_cache_alloc() always.
 *
 * Return: true with a block in *@out, or false with nothing changed.
 */
static inline bool mpool_cache_alloc_fast(struct mpool_pool *p,
					  struct mpool_cache *c, void **out)
{
	struct mpool_slab *s = &p->slab;
	u32 n = c->count;
	u64 idx, w;
	void *ptr;

	/* One subtraction both takes the top and finds the cache empty. */
	if (unlikely(check_sub_overflow(n, 1u, &n)))
		return false;
	ptr = c->objs[n].ptr;
	idx = mpool_ror64((u64)((u8 *)ptr - s->base) * s->inv, s->shift);
	w = MPOOL_READ(s->state[idx]);
	if (unlikely(mpool_blk_state(w) != MPOOL_BLK_FREE))
		return false;
	MPOOL_WRITE(s->state[idx], w + c->alloc_delta);
	MPOOL_WRITE(c->count, n);
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
 * Frees @ptr when it is a block this cache handed out (its word is
 * @c->alloc_tag), and the cache has room; otherwise the caller calls
 * mpool_cache_free(), which handles (and reports) everything else,
 * remote frees included.  The owner is the only context that writes an
 * ALLOC(owner) word with a plain store; others compare-and-swap it, so a
 * racing remote free either wins before the load below (the load sees
 * REMOTE: this free is the double one) or is found stale later (see
 * common/pool.c).  @c->busy brackets the load and the store for a thief
 * (userspace), which needs to know the owner is not between them.  Only
 * for a pool without MPOOL_F_SLOW, as for mpool_cache_alloc_fast().
 *
 * Return: true if @ptr was freed; false with nothing changed.
 */
static inline bool mpool_cache_free_fast(struct mpool_pool *p,
					 struct mpool_cache *c, void *ptr)
{
	struct mpool_slab *s = &p->slab;
	u32 n = c->count;
	bool ok = false;
	u64 idx, w;

	idx = mpool_ror64((u64)((u8 *)ptr - s->base) * s->inv, s->shift);
	mpool_env_owner_enter(&c->busy);
	if (likely(idx < s->count && n < s->cache_max)) {
		w = MPOOL_READ(s->state[idx]);
		if (likely(mpool_blk_state(w) == c->alloc_tag)) {
			MPOOL_WRITE(s->state[idx], w + c->free_delta);
			ok = true;
		}
	}
	mpool_env_owner_exit(&c->busy);
	if (unlikely(!ok))
		return false;
	mpool_env_block_free(s, false, ptr, s->stride);
	c->objs[n].ptr = ptr;
	MPOOL_WRITE(c->count, n + 1);
	return true;
}

/* --- deferred frees (common/rcu.c) ----------------------------------- */

/* Blocks in a batch at which its owner hands it to call_rcu. */
#define MPOOL_RCU_BATCH		64
/* Batch heads per slot: batches of one slot waiting at once. */
#define MPOOL_RCU_HEADS		4
/* An empty open batch: {count 0, first MPOOL_NIL}. */
#define MPOOL_RCU_EMPTY		((u64)MPOOL_NIL)

/**
 * struct mpool_rcu_head - one batch handed to call_rcu, preallocated.
 * @rh: the world's rcu_head; the callback finds this struct from it.
 * @pool: the pool, for the callback.
 * @first: the batch's first block, linked through the pool's links.
 * @n: blocks in the batch while it waits (0 otherwise); statistics.
 * @seq: odd from the moment a context reserves this head until its
 *	callback has returned every block (release); even when free.
 */
struct mpool_rcu_head {
	struct rcu_head rh;
	struct mpool_pool *pool;
	mpool_atomic_u32 first;
	mpool_atomic_u32 n;
	mpool_atomic_u32 seq;
};

/**
 * struct mpool_rcu_slot - the open batch of one owner (a thread's cache or
 *	a CPU), or of every context with no cache (the last slot).
 * @batch: {count:32, first:32} of the open batch, pushed by compare-and-swap
 *	(by the slot's owner alone, except the shared slot), taken whole by
 *	exchange (a submit, a barrier, a handover).
 * @heads: this slot's batch heads.
 */
struct mpool_rcu_slot {
	mpool_atomic_u64 batch;
	struct mpool_rcu_head heads[MPOOL_RCU_HEADS];
} __aligned(MPOOL_ALIGN);	/* each slot's @batch starts a line */

/**
 * struct mpool_rcu - what a pool bound to an RCU flavour keeps.
 * @flavor: the flavour (userspace: a struct rcu_flavor_struct; the
 *	kernel's RCU when NULL), handed to the mpool_env_*rcu*() calls.
 * @links: per-block link of the batches (@own_links): a block is on at
 *	most one batch at a time.
 * @own_links: the batches' links, one per block, apart from the remote
 *	queues' (see common/rcu.c).
 * @nslots: slots: one per owner id, then the shared one.
 * @transit: handovers in progress (mpool_rcu_handover()).
 * @slots: @nslots slots.
 */
struct mpool_rcu {
	const void *flavor;
	mpool_atomic_u32 *links;
	mpool_atomic_u32 *own_links;
	u32 nslots;
	mpool_atomic_u32 transit;
	struct mpool_rcu_slot slots[];
};

int mpool_rcu_bind(struct mpool_pool *p, const void *flavor);
void mpool_rcu_fini(struct mpool_pool *p);
int mpool_rcu_free(struct mpool_pool *p, u32 slot, void *ptr);
void mpool_rcu_barrier(struct mpool_pool *p);
void mpool_rcu_handover(struct mpool_pool *p, u32 slot);
bool mpool_rcu_submit(struct mpool_pool *p, u32 slot);
size_t mpool_rcu_pending(struct mpool_pool *p);
void mpool_rcu_rebuild(struct mpool_pool *p);
u64 __mpool_rcu_unlink(struct mpool_pool *p, mpool_atomic_u32 *links,
		       u32 idx);
void __mpool_rcu_release(struct mpool_pool *p, mpool_atomic_u32 *links,
			 u32 idx);
void __mpool_rcu_release_chain(struct mpool_pool *p, mpool_atomic_u32 *links,
			       u32 first);

/* The slot of contexts with no cache of @p (its RCU state bound). */
static inline u32 mpool_rcu_shared_slot(const struct mpool_pool *p)
{
	return p->rcu->nslots - 1;
}

#endif /* MPOOL_CORE_H */
