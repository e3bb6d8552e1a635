/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_public.h - what the core shows the worlds' APIs: create flags, the
 * statistics and misuse-report structs, and the calls on an allocator that
 * both builds offer as they are (kernel/mpool_api.h exports them; user/lib.c
 * wraps them).  The allocators themselves are opaque here: their layout is
 * the core's business (common/mpool.h).
 */
#ifndef MPOOL_PUBLIC_H
#define MPOOL_PUBLIC_H

#include "env.h"

/*
 * Create flags.  MPOOL_F_DEBUG is the only one a caller may pass; anything
 * else is refused with -EINVAL.
 *
 * MPOOL_F_DEBUG: every state change is a compare-and-swap; each block gets a
 * red zone after it (at least MPOOL_REDZONE bytes, so the stride may grow by
 * a line); free blocks are filled with MPOOL_POISON_FREE, checked when
 * handed out, and red zones are checked on free.  A block found corrupt is
 * quarantined (never handed out again) and reported as -EUCLEAN.
 *
 * MPOOL_F_CHECKER: a memory checker (valgrind's memcheck, KASAN) is told of
 * every block handed out and given back.  Set by the core at create when
 * the world says a checker watches (mpool_env_checker()), never by callers.
 *
 * MPOOL_F_SLOW: either of the two; it sends every operation down the slow
 * path.
 */
#define MPOOL_F_DEBUG		0x1u
#define MPOOL_F_CHECKER		0x2u
#define MPOOL_F_SLOW		(MPOOL_F_DEBUG | MPOOL_F_CHECKER)

struct mpool_slab;
struct mpool_arena;
struct mpool_pool;

enum mpool_kind {
	MPOOL_KIND_SLAB,
	MPOOL_KIND_ARENA,
	MPOOL_KIND_POOL,
	MPOOL_KIND_NR,
};

/**
 * struct mpool_stats - what an allocator is doing, for humans and tests.
 * @block_size: bytes per block as asked (arena: 0).
 * @stride: bytes between blocks (arena: the allocation granule).
 * @capacity: blocks (arena: bytes).
 * @in_use: blocks handed out and not freed (arena: bytes handed out).
 * @free: blocks in the shared backing (arena: bytes left).
 * @cached: free blocks held in per-thread/per-CPU caches (pool only).
 * @high_water: the most blocks (arena: bytes) ever out of the backing at
 *	once; for a pool this counts blocks held in caches too.
 * @failed: allocations that returned NULL because everything was out.
 * @invalid: frees of pointers that are not blocks of this allocator.
 * @double_free: frees of blocks that were already free.
 * @corrupt: blocks or metadata found corrupt (debug mode: red zone or
 *	free-block poison overwritten; any mode: impossible metadata).
 * @quarantined: blocks withdrawn for good because they were found corrupt;
 *	they count neither as in use nor as free.
 *
 * The figures are read without stopping the world: each is exact when the
 * allocator is quiescent, and a near snapshot while it runs.
 */
struct mpool_stats {
	size_t block_size;
	size_t stride;
	size_t capacity;
	size_t in_use;
	size_t free;
	size_t cached;
	size_t high_water;
	u64 failed;
	u64 invalid;
	u64 double_free;
	u64 corrupt;
	u64 quarantined;
};

/**
 * struct mpool_event - one detected misuse, as handed to the report hook.
 * @kind: "slab", "arena" or "pool".
 * @name: the allocator's name, or NULL when it has none.
 * @allocator: the allocator the call was made on.
 * @ptr: the pointer the caller passed.
 * @err: the negative errno the caller gets back.
 * @what: a short description of the misuse.
 */
struct mpool_event {
	const char *kind;
	const char *name;
	const void *allocator;
	const void *ptr;
	int err;
	const char *what;
};

/**
 * mpool_kind_name() - the name reports and statistics give a kind.
 * @kind: an enum mpool_kind.
 *
 * Return: "slab", "arena" or "pool".
 */
const char *mpool_kind_name(enum mpool_kind kind);

/**
 * mpool_slab_alloc() - take a block from a slab.
 * @s: the slab.
 *
 * Context: any but NMI; lock-free, never sleeps.
 * Return: a 64-byte aligned block, or NULL when all are out (counted).
 */
void *mpool_slab_alloc(struct mpool_slab *s);

/**
 * mpool_slab_free() - give a block back to its slab.
 * @s: the slab.
 * @ptr: a block from mpool_slab_alloc(), or NULL.
 *
 * Context: any but NMI; lock-free, never sleeps.
 * Return: 0; -EINVAL (not a block of @s), -EALREADY (already free) or
 * -EUCLEAN (corrupt metadata, or a red zone overwritten in debug mode),
 * with nothing changed.  Each misuse is counted and reported.
 */
int mpool_slab_free(struct mpool_slab *s, void *ptr);

/**
 * mpool_slab_alloc_bulk() - take @n blocks from a slab, all or none.
 * @s: the slab.
 * @ptrs: where the blocks go (@n entries).
 * @n: how many; 0 is allowed.
 *
 * Context: as mpool_slab_alloc().
 * Return: 0 with @n blocks in @ptrs, or -ENOMEM with none taken (the
 * shortage is counted once as a failed allocation); -EINVAL when @ptrs is
 * NULL and @n is not 0.
 */
int mpool_slab_alloc_bulk(struct mpool_slab *s, void **ptrs, size_t n);

/**
 * mpool_slab_free_bulk() - give @n blocks back to a slab.
 * @s: the slab.
 * @ptrs: the blocks; NULL entries are skipped.
 * @n: how many entries.
 *
 * Every entry is freed, or reported and counted exactly as one
 * mpool_slab_free() of it would be (the same block twice in @ptrs is a
 * double free the second time).
 *
 * Context: as mpool_slab_free().
 * Return: 0 when every entry was freed, else the error of the first one
 * that was not; -EINVAL when @ptrs is NULL and @n is not 0.
 */
int mpool_slab_free_bulk(struct mpool_slab *s, void *const *ptrs, size_t n);

/**
 * mpool_slab_stats() - read a slab's statistics.
 * @s: the slab.
 * @st: filled in.
 *
 * Context: any but NMI.
 */
void mpool_slab_stats(struct mpool_slab *s, struct mpool_stats *st);

/**
 * mpool_slab_audit() - check every block of a slab (or of a pool's slab).
 * @s: the slab.
 *
 * Every state word must be one a block can hold.  In debug mode, every red
 * zone must be intact, and every free block's poison too.  Each problem is
 * reported (as -EUCLEAN); nothing is changed: a corrupt free block is
 * quarantined when it is next handed out.
 *
 * Context: no allocation or free on @s may run concurrently.
 * Return: the number of corrupt blocks found.
 */
long mpool_slab_audit(struct mpool_slab *s);

/**
 * mpool_arena_alloc() - bump-allocate @size bytes.
 * @a: the arena.
 * @size: bytes (> 0); the next block starts on the next 64-byte line.
 *
 * Context: any but NMI; lock-free, never sleeps.
 * Return: a 64-byte aligned block, or NULL when @size is 0 or @size bytes
 * do not fit in what is left (the latter counted as failed).
 */
void *mpool_arena_alloc(struct mpool_arena *a, size_t size);

/**
 * mpool_arena_reset() - make the whole arena free again.
 * @a: the arena.
 *
 * Context: no allocation from @a may run concurrently.
 */
void mpool_arena_reset(struct mpool_arena *a);

/**
 * mpool_arena_stats() - read an arena's statistics, in bytes.
 * @a: the arena.
 * @st: filled in.
 *
 * Context: any but NMI.
 */
void mpool_arena_stats(struct mpool_arena *a, struct mpool_stats *st);

#endif /* MPOOL_PUBLIC_H */
