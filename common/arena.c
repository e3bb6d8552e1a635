// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * arena.c - an atomic bump allocator freed only as a whole.
 *
 * Purpose: batch workloads (parse a request, build a frame) whose objects
 * all die together.  Best use: many small allocations, one reset.
 * Limits: no individual free; a reset must not race with allocations (the
 * caller orders them, as with any "free everything" call).
 *
 * Invariant: 0 <= offset <= capacity, offset is a multiple of 64 or equal
 * to capacity, and [base, base + offset) holds every live allocation since
 * the last reset, each starting on a 64-byte line.
 * offset moves by compare-and-swap only when the whole request fits, so a
 * request that does not fit changes nothing (no wrapped or partial block,
 * and no later allocation is starved by a failed one).  Relaxed ordering
 * suffices: the swap hands out disjoint ranges, and nothing else is
 * published through it.
 */
#include "mpool.h"

/**
 * mpool_arena_init() - map an arena of @capacity bytes.
 * @a: the arena.
 * @capacity: bytes (> 0).
 *
 * An arena takes no create flags; the core adds MPOOL_F_CHECKER when a
 * memory checker watches.
 *
 * Return: 0, -EINVAL (zero or absurd capacity) or -ENOMEM.
 */
int mpool_arena_init(struct mpool_arena *a, size_t capacity)
{
	memset(a, 0, sizeof(*a));
	if (!capacity || capacity > SIZE_MAX / 2)
		return -EINVAL;
	__mpool_create_flags(0, 0, &a->flags);
	a->capacity = capacity;
	a->map_size = (capacity + MPOOL_PAGE_SIZE - 1) &
		      ~(size_t)(MPOOL_PAGE_SIZE - 1);
	a->base = mpool_env_map(a->map_size);
	if (!a->base)
		return -ENOMEM;
	mpool_env_region_init(a, a->flags & MPOOL_F_CHECKER, a->base,
			      a->map_size);
	return 0;
}

/**
 * mpool_arena_fini() - unmap an arena.
 * @a: the arena; nothing it handed out may be used afterwards.
 */
void mpool_arena_fini(struct mpool_arena *a)
{
	if (!a->base)
		return;
	mpool_env_region_fini(a, a->flags & MPOOL_F_CHECKER, a->base,
			      a->map_size);
	mpool_env_unmap(a->base, a->map_size);
	a->base = NULL;
}

/* Documented in mpool_public.h. */
void *mpool_arena_alloc(struct mpool_arena *a, size_t size)
{
	size_t old, end;

	if (unlikely(!size))
		return NULL;
	old = MPOOL_READ(a->offset);
	do {
		if (unlikely(size > a->capacity - old)) {
			mpool_counter_inc(&a->failed);
			return NULL;
		}
		/* The next block starts on a line, or the arena is full. */
		end = (old + size + MPOOL_ALIGN - 1) &
		      ~(size_t)(MPOOL_ALIGN - 1);
		if (end > a->capacity)
			end = a->capacity;
	} while (!mpool_try_cmpxchg(&a->offset, &old, end));
	mpool_env_block_alloc(a, a->flags & MPOOL_F_CHECKER, a->base + old, size,
			      end - old);
	return a->base + old;
}
EXPORT_SYMBOL_MPOOL(mpool_arena_alloc);

/* Documented in mpool_public.h. */
void mpool_arena_reset(struct mpool_arena *a)
{
	bool on = a->flags & MPOOL_F_CHECKER;

	/* offset only grows between resets: its peak is its value now. */
	mpool_counter_max(&a->high_water, (long)MPOOL_READ(a->offset));
	mpool_env_region_fini(a, on, a->base, a->map_size);
	mpool_env_region_init(a, on, a->base, a->map_size);
	mpool_store_release(&a->offset, 0);
}
EXPORT_SYMBOL_MPOOL(mpool_arena_reset);

/* Documented in mpool_public.h. */
void mpool_arena_stats(struct mpool_arena *a, struct mpool_stats *st)
{
	size_t used = MPOOL_READ(a->offset);

	mpool_counter_max(&a->high_water, (long)used);
	memset(st, 0, sizeof(*st));
	st->stride = MPOOL_ALIGN;
	st->capacity = a->capacity;
	st->in_use = used;
	st->free = a->capacity - used;
	st->high_water = (size_t)mpool_counter_read(&a->high_water);
	st->failed = (u64)mpool_counter_read(&a->failed);
}
EXPORT_SYMBOL_MPOOL(mpool_arena_stats);
