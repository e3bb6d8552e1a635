/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * stack.h - the bottom layer of the core: a lock-free LIFO of 32-bit
 * indices (a Treiber stack).  The slab keeps its free blocks on one, and a
 * pool's depot keeps its full and empty magazines on two more.
 */
#ifndef MPOOL_STACK_H
#define MPOOL_STACK_H

#include "env.h"

/* The index that ends a chain, and that an empty stack's head holds. */
#define MPOOL_NIL		0xffffffffu

/**
 * struct mpool_stack - a lock-free LIFO of 32-bit indices.
 * @head: {tag:32 (high), index:32 (low)}, swapped whole by compare-and-swap.
 * @next: per-index link; owned by the stack while the index is on it.
 *
 * Invariant: following @next from the index in @head reaches MPOOL_NIL after
 * exactly the number of indices pushed and not popped, and no index is on
 * the stack twice (pushing an index that is already on it is the caller's
 * bug; every caller guards its pushes with a state word changed by
 * compare-and-swap).  The tag changes on every successful swap, so a pop
 * that read index i and then i's next cannot succeed if i was popped and
 * pushed back in between (ABA).  The tag has 32 bits: the guarantee holds
 * as long as no pop stalls between its read of @head and its swap while
 * 2^32 other swaps succeed (about 47 s of back-to-back slab pairs on the
 * machines this was measured on); a pop stalled that long could install a
 * stale link.  Reading a stale next[] is otherwise harmless: the array
 * lives as long as the stack, and the swap that would use it fails.
 *
 * Both words have the environment's shared-word types: the plain u64 and
 * u32 in the kernel and in userspace, variables of the memory model under
 * tests/relacy/, which runs stack.c against the invariant above.
 */
struct mpool_stack {
	mpool_atomic_u64 head;
	mpool_atomic_u32 *next;
};

void mpool_stack_init(struct mpool_stack *st, mpool_atomic_u32 *next);
u32 mpool_stack_pop(struct mpool_stack *st);
u32 mpool_stack_pop_chain(struct mpool_stack *st, u32 max, u32 *n);
void mpool_stack_push_chain(struct mpool_stack *st, u32 first, u32 last);
void mpool_stack_reset(struct mpool_stack *st, u32 top);

#endif /* MPOOL_STACK_H */
