// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * stack.c - a lock-free LIFO of 32-bit indices (a Treiber stack).
 *
 * The bottom layer of the core: it knows nothing of blocks, only indices
 * and their links.  Its invariant is stated at struct mpool_stack.
 *
 * head = {tag:32 (high), index:32 (low)}.  Every successful swap adds one to
 * the tag.  Memory orders: a push's successful compare-and-swap is a
 * release (it is fully ordered), publishing the pusher's writes of next[]
 * and of whatever the indices stand for; a pop reads head with acquire (the
 * initial load, and the refreshed value on a failed swap), pairing with that
 * release before it reads next[].  next[] itself is accessed with relaxed
 * atomics because a pop may read it while a new owner rewrites it; such a
 * pop's swap then fails on the tag.
 */
#include "stack.h"

/* The head that replaces @old once its top becomes @idx. */
static inline u64 mpool_head(u64 old, u32 idx)
{
	return (((old >> 32) + 1) << 32) | idx;
}

/*
 * After a lost compare-and-swap, wait a little before trying again, twice
 * as long each time (up to 64 pauses): under contention the winner gets to
 * finish and the head's cache line stops bouncing between the losers.
 */
static inline void mpool_backoff(u32 *wait)
{
	u32 i;

	for (i = 0; i < *wait; i++)
		mpool_cpu_relax();
	if (*wait < 64)
		*wait <<= 1;
}

/**
 * mpool_stack_init() - make an empty stack.
 * @st: the stack.
 * @next: its link array, one word per index that may ever be pushed.
 */
void mpool_stack_init(struct mpool_stack *st, mpool_atomic_u32 *next)
{
	st->next = next;
	MPOOL_WRITE(st->head, MPOOL_NIL);
}

/**
 * mpool_stack_reset() - make @top the stack's content, tag bumped.
 * @st: the stack.
 * @top: the first index of a chain the caller linked through @st->next
 *	(MPOOL_NIL for an empty stack).
 *
 * Context: nobody else uses @st (init, or the child after fork()).
 */
void mpool_stack_reset(struct mpool_stack *st, u32 top)
{
	/* Pairs with the acquire of a later pop in another thread. */
	mpool_store_release(&st->head, mpool_head(MPOOL_READ(st->head), top));
}

/**
 * mpool_stack_pop() - take the top index.
 * @st: the stack.
 *
 * Context: any; lock-free.
 * Return: the index, or MPOOL_NIL when the stack is empty.
 */
u32 mpool_stack_pop(struct mpool_stack *st)
{
	u64 old = mpool_load_acquire(&st->head);
	u32 idx, wait = 1;

	for (;;) {
		idx = (u32)old;
		if (idx == MPOOL_NIL)
			return MPOOL_NIL;
		if (mpool_try_cmpxchg(&st->head, &old,
				      mpool_head(old, MPOOL_READ(st->next[idx]))))
			return idx;
		mpool_backoff(&wait);
	}
}

/**
 * mpool_stack_pop_chain() - take up to @max indices off the top at once.
 * @st: the stack.
 * @max: the most to take (> 0).
 * @n: set to how many were taken.
 *
 * One swap takes the top *@n indices, linked first -> ... through
 * @st->next as they were on the stack (the last one's link is not
 * meaningful).  The walk down the chain reads links of indices that other
 * contexts may pop meanwhile; such a read can be stale, but then the head
 * has changed, its tag with it, and the swap fails: a swap that succeeds
 * proves that nothing was pushed or popped since the head was read, so the
 * chain walked is the top of the stack.
 *
 * Context: any; lock-free.
 * Return: the first index, or MPOOL_NIL (and *@n = 0) when the stack is
 * empty.
 */
u32 mpool_stack_pop_chain(struct mpool_stack *st, u32 max, u32 *n)
{
	u64 old = mpool_load_acquire(&st->head);
	u32 first, last, next, k, wait = 1;

	for (;;) {
		first = (u32)old;
		k = 0;
		if (first == MPOOL_NIL)
			break;
		last = first;
		next = MPOOL_READ(st->next[last]);
		for (k = 1; k < max && next != MPOOL_NIL; k++) {
			last = next;
			next = MPOOL_READ(st->next[last]);
		}
		if (mpool_try_cmpxchg(&st->head, &old, mpool_head(old, next)))
			break;
		mpool_backoff(&wait);
	}
	*n = k;
	return first;
}

/**
 * mpool_stack_push_chain() - push a chain linked first -> ... -> last.
 * @st: the stack.
 * @first: the chain's first index (the new top).
 * @last: its last index; its link is overwritten here.
 *
 * The caller owns the chain and has linked it through @st->next.
 * Context: any; lock-free.
 */
void mpool_stack_push_chain(struct mpool_stack *st, u32 first, u32 last)
{
	u64 old = MPOOL_READ(st->head);
	u32 wait = 1;

	for (;;) {
		MPOOL_WRITE(st->next[last], (u32)old);
		if (mpool_try_cmpxchg(&st->head, &old, mpool_head(old, first)))
			return;
		mpool_backoff(&wait);
	}
}
