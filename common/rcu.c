// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * rcu.c - deferred frees: a block freed with mpool_rcu_free() is handed
 * out again only after a grace period of the pool's RCU flavour that
 * started after the free (userspace: the liburcu flavour the application
 * bound; kernel: the kernel's RCU).
 *
 * Purpose: lock-free readers (an RCU list, liburcu's rculfhash) unlink a
 * node and must not see its memory reused while a reader may still hold
 * it.  The usual answer is call_rcu() per node, then free(), or
 * kfree_rcu(); here one call_rcu() covers a batch of blocks, and a batch
 * allocates nothing: its blocks are linked through per-block links made
 * when the pool is bound (4 bytes a block), and its rcu_head is one of a
 * few preallocated per slot.
 *
 * Shape.  A pool bound to a flavour has one slot per owner id (a thread's
 * cache, or a CPU) and one shared slot for contexts with no cache.  A slot
 * holds its open batch, a lock-free LIFO whose head word is {count,
 * first}, and MPOOL_RCU_HEADS batch heads.  A deferred free checks the
 * block as a free does, moves its word from ALLOC(o) to RCU(o) by
 * compare-and-swap (from then on any other free of it is a double free),
 * and pushes it on the caller's slot.  At MPOOL_RCU_BATCH blocks the
 * caller reserves a free head, takes the whole batch and calls call_rcu()
 * once; when every head of the slot waits, the batch keeps growing.  The
 * callback gives each block back (__mpool_rcu_release(), common/pool.c) and
 * frees the head.
 *
 * Links.  A batch links its blocks through links of its own, one per
 * block, claimed NOT_QUEUED -> NIL by compare-and-swap before the block's
 * word changes: a block is on at most one batch at a time, whatever racing
 * double frees do to its word, so no batch is ever corrupted.  Neither the
 * slab's stack links nor the remote queues' are shared: an owner stopped
 * inside a racing fast-path free can put a block on the slab's stack, or a
 * remote free queue it, while a batch still holds it, and a stale queue
 * entry would make a later, correct deferred free of the block fail.  The
 * one case left: after a deferred free raced the owner's fast free of the
 * block (both returned 0), a deferred free of the block's next allocation
 * that comes before the first one's grace period ends finds the link taken
 * and fails with -EALREADY (reported), the block left allocated.  The
 * callback reads a block's word while it still holds the link, so no later
 * deferred free can have made it RCU: an RCU word it reads is its own.
 *
 * Barrier (mpool_rcu_barrier()).  It must return once every deferred free
 * that returned before it has given its block back:
 *  - blocks still in an open batch: it takes every slot's batch by
 *    exchange.  A push is a compare-and-swap on the same word, so each
 *    push lands before the take (taken) or after it (a later free).
 *  - blocks of a batch an owner took for call_rcu(): the owner reserved
 *    a head (its @seq made odd, fully ordered) before its exchange, so a
 *    barrier whose exchange comes later sees the head reserved, and waits
 *    (mpool_env_rcu_barrier(), again and again) until that head's @seq
 *    moves on,
 *    which its callback does (release) after the last block is back.
 *    Heads reserved after the scan are not waited for: no livelock.
 *  - blocks in a handover (below): counted in @transit from before the
 *    handover's exchange to after its push; the barrier waits for
 *    @transit to be 0 once it has taken every owner's slot, then takes
 *    the shared slot.
 * The blocks it took wait one synchronize_rcu() and are given back by the
 * barrier itself (no head needed, so it never waits for one).
 *
 * Handover (mpool_rcu_handover()).  A thread that exits or a CPU that goes
 * offline moves its open batch to the shared slot: taken by exchange,
 * pushed as one chain.  The shared batch is submitted by the next deferred
 * free of any context (one relaxed load tells it there is one), or by a
 * barrier.
 *
 * Statistics: a block waiting is counted in its slot's open count or in
 * its head's @n until its callback has given it back.
 */
#include "mpool.h"

static struct mpool_rcu_slot *mpool_rcu_slot(struct mpool_rcu *r, u32 slot)
{
	return &r->slots[slot];
}

/* Take slot @sl's whole open batch; its {count, first}. */
static u64 mpool_rcu_take(struct mpool_rcu_slot *sl)
{
	u64 old = MPOOL_READ(sl->batch);

	/* Fully ordered: see "Barrier" above. */
	while (old != MPOOL_RCU_EMPTY &&
	       !mpool_try_cmpxchg(&sl->batch, &old, MPOOL_RCU_EMPTY))
		;
	return old;
}

/* Push chain @first..@last of @n blocks on slot @sl; the new count. */
static u32 mpool_rcu_push(struct mpool_rcu *r, struct mpool_rcu_slot *sl,
			  u32 first, u32 last, u32 n)
{
	u64 old = MPOOL_READ(sl->batch), new;

	do {
		MPOOL_WRITE(r->links[last], (u32)old);
		new = (((old >> 32) + n) << 32) | first;
		/* Release: publishes the links to whoever takes the batch. */
	} while (!mpool_try_cmpxchg(&sl->batch, &old, new));
	return (u32)(new >> 32);
}

/* Give back every block of chain @first (grace period over). */
static void mpool_rcu_release_chain(struct mpool_pool *p, u32 first)
{
	__mpool_rcu_release_chain(p, p->rcu->links, first);
}

/* call_rcu() callback: a batch's grace period is over. */
static void mpool_rcu_callback(struct rcu_head *rh)
{
	struct mpool_rcu_head *h = (struct mpool_rcu_head *)
		((u8 *)rh - offsetof(struct mpool_rcu_head, rh));

	mpool_rcu_release_chain(h->pool, MPOOL_READ(h->first));
	MPOOL_WRITE(h->n, 0);
	/* Pairs with the barrier's acquire: the blocks are back. */
	mpool_store_release(&h->seq, MPOOL_READ(h->seq) + 1);
}

/**
 * mpool_rcu_bind() - bind a pool to an RCU flavour, once.
 * @p: the pool.
 * @flavor: the flavour (the world's; NULL is the kernel's RCU).
 *
 * Allocates the slots (one per owner id and a shared one) and the
 * batches' per-block links.  Racing binds agree: one wins.
 *
 * Return: 0 (also when @flavor is bound already), -EBUSY when another
 * flavour is, -ENOMEM.
 */
int mpool_rcu_bind(struct mpool_pool *p, const void *flavor)
{
	struct mpool_rcu *r = mpool_load_acquire(&p->rcu), *none = NULL;
	u32 n = p->nowners + 1, i, j;

	if (r)
		return r->flavor == flavor ? 0 : -EBUSY;
	r = mpool_env_zalloc(sizeof(*r) + n * sizeof(r->slots[0]));
	if (!r)
		return -ENOMEM;
	r->flavor = flavor;
	r->nslots = n;
	r->own_links = mpool_env_zalloc(p->slab.count * sizeof(u32));
	if (!r->own_links) {
		mpool_env_free(r);
		return -ENOMEM;
	}
	for (i = 0; i < p->slab.count; i++)
		MPOOL_WRITE(r->own_links[i], MPOOL_NOT_QUEUED);
	r->links = r->own_links;
	for (i = 0; i < n; i++) {
		MPOOL_WRITE(r->slots[i].batch, MPOOL_RCU_EMPTY);
		for (j = 0; j < MPOOL_RCU_HEADS; j++)
			r->slots[i].heads[j].pool = p;
	}
	/* Publishes the built state to deferred frees (acquire). */
	if (mpool_try_cmpxchg(&p->rcu, &none, r))
		return 0;
	mpool_env_free(r->own_links);
	mpool_env_free(r);
	return none->flavor == flavor ? 0 : -EBUSY;
}

/**
 * mpool_rcu_fini() - free what mpool_rcu_bind() took.
 * @p: the pool; mpool_rcu_barrier() has run and nobody uses @p.
 */
void mpool_rcu_fini(struct mpool_pool *p)
{
	struct mpool_rcu *r = p->rcu;

	if (!r)
		return;
	mpool_env_free(r->own_links);
	mpool_env_free(r);
	p->rcu = NULL;
}

/* Reserve a free head of @sl; NULL when every one waits. */
static struct mpool_rcu_head *mpool_rcu_reserve(struct mpool_rcu_slot *sl)
{
	struct mpool_rcu_head *h;
	u32 i, seq;

	for (i = 0; i < MPOOL_RCU_HEADS; i++) {
		h = &sl->heads[i];
		seq = MPOOL_READ(h->seq);
		/* Fully ordered: before the take (see "Barrier" above). */
		if (!(seq & 1) && mpool_try_cmpxchg(&h->seq, &seq, seq + 1))
			return h;
	}
	return NULL;
}

/**
 * mpool_rcu_submit() - hand slot @slot's open batch to call_rcu().
 * @p: the pool, bound.
 * @slot: a slot index.
 *
 * Context: a context that may call the flavour's call_rcu (userspace: a
 * registered thread); never blocks.
 * Return: whether a batch was submitted (false: empty, or no free head).
 */
bool mpool_rcu_submit(struct mpool_pool *p, u32 slot)
{
	struct mpool_rcu *r = p->rcu;
	struct mpool_rcu_slot *sl = mpool_rcu_slot(r, slot);
	struct mpool_rcu_head *h = mpool_rcu_reserve(sl);
	u64 batch;

	if (!h)
		return false;
	batch = mpool_rcu_take(sl);
	if (batch == MPOOL_RCU_EMPTY) {
		mpool_store_release(&h->seq, MPOOL_READ(h->seq) + 1);
		return false;
	}
	MPOOL_WRITE(h->first, (u32)batch);
	MPOOL_WRITE(h->n, (u32)(batch >> 32));
	mpool_env_call_rcu(r->flavor, &h->rh, mpool_rcu_callback);
	return true;
}

/**
 * mpool_rcu_free() - free a block once a grace period has passed.
 * @p: the pool.
 * @slot: the caller's slot: its cache's owner id; any larger number (say
 *	MPOOL_NIL) for a context with no cache: the shared slot.
 * @ptr: a block of @p, or NULL (nothing to do).
 *
 * The checks are mpool_cache_free()'s, at call time.  The block is RCU(o)
 * from here on (o: the owner its allocation had), so another free of it
 * is a double free; it is handed out again only after its batch's grace
 * period.  Context: as the world's free, inside a read-side critical
 * section too; never allocates, never blocks.
 *
 * Return: 0; -EINVAL (no flavour bound, or not a block of @p), -EALREADY
 * (already free, or waiting for a grace period) or -EUCLEAN (corrupt
 * metadata); on error nothing changed (reported and counted).
 */
int mpool_rcu_free(struct mpool_pool *p, u32 slot, void *ptr)
{
	struct mpool_rcu *r = mpool_load_acquire(&p->rcu);
	struct mpool_slab *s = &p->slab;
	u32 idx, st, shared, owner, old = MPOOL_NOT_QUEUED;
	u64 w, seen;
	int err;

	if (unlikely(!r))
		return __mpool_report(s, ptr, -EINVAL,
				      "deferred free on a pool with no RCU flavour bound");
	if (unlikely(!ptr))
		return 0;
	shared = mpool_rcu_shared_slot(p);
	if (slot > shared)
		slot = shared;
	err = mpool_slab_index_checked(s, ptr, &idx);
	if (unlikely(err))
		return __mpool_report(s, ptr, err, NULL);
	w = MPOOL_READ(s->state[idx]);
	st = mpool_blk_state(w);
	if (!mpool_blk_is_alloc(st))
		return __mpool_report(s, ptr, mpool_blk_is_freed(st) ?
				      -EALREADY : -EUCLEAN, NULL);
	/*
	 * The link first: while a batch holds it no other deferred free can
	 * make the block RCU (see the top of this file).
	 */
	if (!mpool_try_cmpxchg(&r->links[idx], &old, MPOOL_NIL))
		return __mpool_report(s, ptr, -EALREADY,
				      "double free (an earlier racing deferred free of the block still waits for its grace period)");
	/*
	 * RCU(NONE) when the caller is the block's owner (or it has none):
	 * the owner is not inside a fast-path free of it (it is making this
	 * call), so the callback may free it directly.  RCU(o) otherwise: the
	 * callback sends it to o's remote queue, as a remote free would.
	 */
	owner = mpool_blk_owner(st) == slot ? MPOOL_OWNER_NONE :
		mpool_blk_owner(st);
	err = __mpool_cas_state(s, idx, w,
				mpool_blk_word(w, MPOOL_BLK_RCU_TAG | owner),
				&seen);
	if (unlikely(err)) {
		__mpool_rcu_unlink(p, r->links, idx);
		return __mpool_report(s, ptr, err, NULL);
	}
	if (mpool_rcu_push(r, mpool_rcu_slot(r, slot), idx, idx, 1) >=
	    MPOOL_RCU_BATCH)
		mpool_rcu_submit(p, slot);
	/* A handed-over batch waits there: take it along. */
	if (slot != shared &&
	    MPOOL_READ(r->slots[shared].batch) != MPOOL_RCU_EMPTY)
		mpool_rcu_submit(p, shared);
	return 0;
}

/**
 * mpool_rcu_handover() - move a slot's open batch to the shared slot.
 * @p: the pool, bound.
 * @slot: the slot of an owner that goes away (thread exit, CPU offline);
 *	nothing happens for a number that is no owner's slot.
 *
 * Context: any; needs no registration with the flavour, never blocks.
 * The shared batch is submitted by the next deferred free or barrier.
 */
void mpool_rcu_handover(struct mpool_pool *p, u32 slot)
{
	struct mpool_rcu *r = p->rcu;
	u32 t = MPOOL_READ(r->transit), last;
	u64 batch;

	/* Not an owner's slot (a pool without caches has none). */
	if (slot + 1 >= r->nslots)
		return;
	/* Fully ordered, before the take: see "Barrier" above. */
	while (!mpool_try_cmpxchg(&r->transit, &t, t + 1))
		;
	batch = mpool_rcu_take(mpool_rcu_slot(r, slot));
	if (batch != MPOOL_RCU_EMPTY) {
		for (last = (u32)batch; MPOOL_READ(r->links[last]) != MPOOL_NIL;
		     last = MPOOL_READ(r->links[last]))
			;
		mpool_rcu_push(r, mpool_rcu_slot(r, r->nslots - 1), (u32)batch,
			       last, (u32)(batch >> 32));
	}
	t = MPOOL_READ(r->transit);
	/* Release: the push is seen by a barrier that reads 0 here. */
	while (!mpool_try_cmpxchg(&r->transit, &t, t - 1))
		;
}

/* Append slot @sl's taken batch to chain *@first (ending at *@last). */
static void mpool_rcu_gather(struct mpool_rcu *r, struct mpool_rcu_slot *sl,
			     u32 *first, u32 *last)
{
	u64 batch = mpool_rcu_take(sl);
	u32 i;

	if (batch == MPOOL_RCU_EMPTY)
		return;
	if (*first == MPOOL_NIL)
		*first = (u32)batch;
	else
		MPOOL_WRITE(r->links[*last], (u32)batch);
	for (i = (u32)batch; MPOOL_READ(r->links[i]) != MPOOL_NIL;
	     i = MPOOL_READ(r->links[i]))
		;
	*last = i;
}

/* Wait until head @h, reserved at @seq (odd), has moved on. */
static void mpool_rcu_wait_head(struct mpool_rcu *r, struct mpool_rcu_head *h,
				u32 seq)
{
	/* Its submit may come after one wait: then wait again. */
	while (mpool_load_acquire(&h->seq) == seq)
		mpool_env_rcu_barrier(r->flavor);
}

/**
 * mpool_rcu_barrier() - wait until every deferred free that returned
 *	before this call has given its block back.
 * @p: the pool.
 *
 * Nothing to do when no flavour is bound.  Context: may block; outside
 * any read-side critical section and never in a call_rcu callback
 * (userspace: a thread registered with the flavour, as liburcu's
 * rcu_barrier() wants).
 */
void mpool_rcu_barrier(struct mpool_pool *p)
{
	struct mpool_rcu *r = mpool_load_acquire(&p->rcu);
	u32 first = MPOOL_NIL, last = MPOOL_NIL, i, j, seq;
	struct mpool_rcu_head *h;

	if (!r)
		return;
	for (i = 0; i + 1 < r->nslots; i++)
		mpool_rcu_gather(r, &r->slots[i], &first, &last);
	while (mpool_load_acquire(&r->transit))
		mpool_cpu_relax();
	mpool_rcu_gather(r, &r->slots[r->nslots - 1], &first, &last);
	if (first != MPOOL_NIL) {
		mpool_env_synchronize_rcu(r->flavor);
		mpool_rcu_release_chain(p, first);
	}
	for (i = 0; i < r->nslots; i++) {
		for (j = 0; j < MPOOL_RCU_HEADS; j++) {
			h = &r->slots[i].heads[j];
			seq = mpool_load_acquire(&h->seq);
			if (seq & 1)
				mpool_rcu_wait_head(r, h, seq);
		}
	}
}

/**
 * mpool_rcu_pending() - blocks waiting for a grace period.
 * @p: the pool.
 *
 * Return: the count (exact when the pool is quiescent; 0 when no flavour
 * is bound).
 */
size_t mpool_rcu_pending(struct mpool_pool *p)
{
	struct mpool_rcu *r = mpool_load_acquire(&p->rcu);
	size_t n = 0;
	u32 i, j;

	if (!r)
		return 0;
	for (i = 0; i < r->nslots; i++) {
		n += (size_t)(MPOOL_READ(r->slots[i].batch) >> 32);
		for (j = 0; j < MPOOL_RCU_HEADS; j++)
			n += MPOOL_READ(r->slots[i].heads[j].n);
	}
	return n;
}

/**
 * mpool_rcu_rebuild() - forget every batch (the child after fork()).
 * @p: the pool; mpool_pool_rebuild() gives its RCU blocks back at once.
 *
 * The parent's call_rcu callbacks do not run in the child (liburcu's
 * call_rcu threads are not copied), so its heads are made free.
 */
void mpool_rcu_rebuild(struct mpool_pool *p)
{
	struct mpool_rcu *r = p->rcu;
	u32 i, j;

	if (!r)
		return;
	for (i = 0; i < r->nslots; i++) {
		MPOOL_WRITE(r->slots[i].batch, MPOOL_RCU_EMPTY);
		for (j = 0; j < MPOOL_RCU_HEADS; j++) {
			MPOOL_WRITE(r->slots[i].heads[j].n, 0);
			MPOOL_WRITE(r->slots[i].heads[j].seq, 0);
		}
	}
	MPOOL_WRITE(r->transit, 0);
	for (i = 0; i < p->slab.count; i++)
		MPOOL_WRITE(r->own_links[i], MPOOL_NOT_QUEUED);
}
