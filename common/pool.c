// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * pool.c - caches, remote queues and a depot of magazines over a slab.
 *
 * Purpose: the pool of the spec: per-thread (userspace) or per-CPU (kernel)
 * caches of free blocks over a shared lock-free backing, after Bonwick and
 * Adams, "Magazines and Vmem" (USENIX 2001), with frees from other contexts
 * sent back to the block's owner as messages, as mimalloc's thread-free
 * lists and snmalloc's remote queues do.
 *
 * Shape.  A cache is a stack of up to 2 * M free blocks' addresses, M being
 * the magazine size (cache_size / 2, rounded up).  An allocation that finds
 * the cache empty first takes back what other contexts freed for it (its
 * remote queue), then one full magazine from the depot (M blocks, two
 * compare-and-swaps), then up to M blocks from the slab's free stack.  A
 * free that finds the cache full spills its top M blocks into an empty
 * magazine pushed on the depot's full stack, or failing that onto the slab's
 * free stack.  So a context touches shared words once per M operations at
 * most, and never holds more than 2 * M free blocks.  Calls go down only:
 * the pool uses the slab's stack and its reports; nothing below calls up.
 *
 * Ownership (the safe-and-fast design).  Every cache has an owner id, and
 * a block it hands out is marked ALLOC(owner).  The one rule:
 *
 *   a state word that holds ALLOC(o) is written with a plain store only by
 *   the owner o, only on o's fast path (mpool_cache_free_fast()); every
 *   other change of any state word is a compare-and-swap.
 *
 * The state machine of one block (owner o, other context x):
 *
 *   STACKED --pop--> FREE (in a cache) --o's fast alloc (plain)--> ALLOC(o)
 *   ALLOC(o) --o frees it (plain on the fast path, CAS on the slow)--> FREE
 *   ALLOC(o) --x frees it (CAS)--> FREEING(o) --x's checks, poison (CAS)-->
 *	REMOTE(o), put in x's outbox (or pushed on o's remote queue); with
 *	nothing to check or poison, ALLOC(o) --x (CAS)--> REMOTE(o) at once
 *   REMOTE(o) --o collects it (CAS)--> FREE (in o's cache)
 *   FREE --spill (CAS)--> STACKED, or into a magazine (FREE, in the depot)
 *   ALLOC(NONE) (from the slab directly) --anyone frees it (CAS)--> FREE
 *   ALLOC(o) --a deferred free (CAS), common/rcu.c--> RCU(o), or RCU(NONE)
 *	when o itself frees it; after a grace period, RCU(o) is freed as x's
 *	free of ALLOC(o) above, RCU(NONE) goes FREE into a magazine (CAS)
 *
 * Invariant: a block is held by exactly one of: a user (ALLOC), one cache
 * or magazine (FREE), the slab's stack (STACKED), one remote queue or
 * outbox (REMOTE; an entry elsewhere is stale, below), one deferred-free
 * batch (RCU), or quarantine (BAD).  Entries of the per-block remote queue
 * (@rhead) are tracked apart from the state word, in rnext[]: a remote
 * freer claims it with a compare-and-swap NOT_QUEUED -> NIL before it
 * pushes, and the collector gives it back, so a block is never on two
 * such queues, nor on one twice, whatever the state word says.
 *
 * Batches (remote frees at the cost of one atomic each).  A context with
 * a cache puts the blocks it frees for owner o, once REMOTE(o), in its
 * outbox: a depot magazine it fills with plain stores and sends whole,
 * with one swap, to o's batched queue (@rmags) when it is full, when a
 * free for another owner comes, or at its own next refill or drain.  A
 * batch holds blocks by address only, with no claim: the state word alone
 * decides which entry takes a block, so an entry is a hint, and a block
 * may have two (a stale one and a live one) with no harm; the only swap
 * per block is the one that made it REMOTE.  With no empty magazine at
 * hand (or no cache, or a thief holding the outbox) a remote free pushes
 * the block on @rhead instead.
 *
 * Why a racing double free never gives a block two owners (item 1), and
 * is always answered (item 2).  Two frees of one ALLOC(o) block:
 *  - x and y, neither the owner: both compare-and-swap ALLOC(o) ->
 *    REMOTE(o); one wins, the other sees REMOTE and gets -EALREADY.
 *  - o and x: o's plain load either sees REMOTE(o) (x won first; o gets
 *    -EALREADY) or ALLOC(o).  In the second case x's compare-and-swap may
 *    still land before o's plain store of FREE, and both calls return 0.
 *    The block is then in o's cache (FREE) and x's entry (in x's outbox,
 *    or on o's queue) is stale.  Only o collects o's queues, and o cannot
 *    collect while it is between its load and its store (it is one
 *    thread, or one CPU with interrupts off), so whenever the entry is
 *    collected the word no longer holds the REMOTE(o) that x wrote: if it
 *    is not REMOTE(o) at all, the collector's compare-and-swap REMOTE(o) ->
 *    FREE fails, and the entry is reported as a double free (counted) and
 *    dropped; the block stays where o's free put it, held once.  If a later
 *    free made it REMOTE(o) again, the stale entry takes it (that free is
 *    done: the block is free), and the later free's own entry, found
 *    after, is the one reported.  Either way every REMOTE(o) word is taken
 *    once, and every stale entry, one per racing double free, is reported
 *    once.
 *  - o and o: one thread, so one after the other: the second sees FREE.
 * A free stopped for any time between its load and its store therefore
 * leaves no duplicate: nobody else can move the block out of REMOTE(o)
 * while o is stopped, except a thief, and a thief first makes sure that o
 * is not inside a fast free (below).  A compare-and-swap that lands after
 * the block was freed and handed out again by o frees the new allocation:
 * it is linearised there, exactly like a sequential free through a stale
 * pointer, which no allocator can tell from a correct one.
 *
 * Stranding (item 5).  A remote-freed block waits in its freer's outbox
 * until the freer fills or sends it (at most @outbox_batch - 1 more remote
 * frees, or its next refill, drain or exit), then on its owner's queue
 * until the owner next refills, spills, flushes or exits; or, whenever a
 * context runs out, a thief sends the outbox and collects the queue: the
 * build's job, because only the build knows when a context is not inside
 * its bracket.  Userspace (user/lib.c, mpool_steal_outboxes()): the thief
 * raises the outbox's request, runs membarrier(), waits until the freer's
 * @busy is clear, and sends the outbox itself (mpool_outbox_steal_begin());
 * a freer looks for the request inside its bracket and, finding it, leaves
 * its outbox alone.  Then the queues (mpool_steal()): the thief takes the
 * victim's queues whole, marks every block of them that is REMOTE(o) as
 * STEALING(o) (mpool_cache_steal_mark()),
 * runs membarrier(), waits until the victim's @busy is clear, and then
 * takes only the blocks whose word is still exactly the one it marked,
 * sequence number included (mpool_cache_steal_take()).  A marked block was
 * REMOTE before the membarrier: an owner's fast free that loaded its word
 * before that had set @busy before the load, so the thief waits until its
 * store has landed, and the word has changed; one that loads it after sees
 * STEALING and leaves it.  An entry whose block was not REMOTE(o) when
 * marked (a stale entry, whose block may be handed out and freed again
 * meanwhile) is never taken: it goes back to its owner's queue, or is
 * reported as stale.  If @busy stays set (the owner is stopped inside a
 * free; userspace spends at most 20 ms of yielding on all the waits of
 * one allocation), the thief gives the whole list back; the owner's own
 * collection accepts its STEALING marks.  One thief per victim: a second
 * one waits for the first (on the same budget) and tries once more, so
 * that blocks queued after the first one's take stay within reach.  A
 * thief stopped between raising an outbox's request and ending it keeps
 * that outbox from being sent (up to @outbox_batch - 1 blocks, even past
 * the freer's exit) until it resumes, as any context stopped while it
 * holds blocks keeps them.
 * Without membarrier() (userspace: a seccomp filter may refuse it) there
 * are no thieves and no outboxes: every remote free goes to its owner's
 * queue at once, and waits there for the owner's next refill, spill,
 * flush or exit.  An orphan cache (its thread exited) has no owner to wait
 * for: a remote freer or a thief claims it and collects it directly.
 * Kernel: an owner is a CPU and its fast paths run with interrupts off, so
 * the drain IPI on that CPU is never inside one (and sends its outbox); a
 * dead CPU's queue is collected by mpool_pool_flush() under the hotplug
 * lock.
 *
 * Magazines are plain arrays of block addresses.  Depot invariant: every
 * magazine index is on exactly one of @full, @empty and the caches'
 * @rmags, or is one cache's open outbox, or is held by one context between
 * its pop and its push; a magazine on @full holds exactly M FREE blocks, one
 * on @rmags or in an outbox up to M blocks sent as REMOTE.  nmags =
 * capacity / M + 2: full magazines and full batches hold distinct blocks,
 * so there are capacity / M of them at most, and the two more serve the
 * magazines in flight.  An empty magazine can be missing while contexts
 * hold open outboxes or short batches (one per owner switch) wait: the
 * slab's stack (for a spill) or @rhead (for a remote free) is the fallback
 * then, slower but as correct.
 *
 * Which cache a call uses, and what protects it, is the build's business
 * (TLS, or a per-CPU cache under its local lock); this file only says what
 * to do with it.
 */
#include "mpool.h"

/* Queue entries a collection takes off with one full barrier. */
#define MPOOL_COLLECT_CHUNK	32
/* Batch entries whose state words a collection asks for ahead. */
#define MPOOL_COLLECT_AHEAD	8

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
 * rounds, each fit in one allocation of the world (divisions: no product
 * can overflow).  The pool's other arrays are one word per block (the
 * slab's limit covers them) or one pointer per owner.
 */
static bool mpool_depot_fits(size_t capacity, u32 mag_size)
{
	size_t nmags = mpool_nmags(capacity, mag_size);

	return nmags <= MPOOL_ENV_ZALLOC_MAX / sizeof(u32) &&
	       nmags <= MPOOL_ENV_ZALLOC_MAX / sizeof(struct mpool_round) /
			mag_size;
}

/**
 * mpool_pool_init() - set up a pool.
 * @p: the pool.
 * @block_size: bytes per block (> 0).
 * @cache_size: the most free blocks a context keeps (0: no caches); at
 *	most @capacity.
 * @capacity: blocks in all (> 0).
 * @flags: the caller's create flags: MPOOL_F_DEBUG or 0.
 * @nowners: how many caches (owner ids) the build may attach, at most
 *	MPOOL_MAX_OWNERS.
 *
 * Return: 0, -EINVAL, -E2BIG (the depot's or the slab's metadata would
 * exceed MPOOL_ENV_ZALLOC_MAX bytes in one array; refused before anything
 * is allocated) or -ENOMEM; on error nothing is left allocated.
 */
int mpool_pool_init(struct mpool_pool *p, size_t block_size,
		    size_t cache_size, size_t capacity, unsigned int flags,
		    u32 nowners)
{
	mpool_atomic_u32 *next;
	u32 i;
	int err;

	memset(p, 0, sizeof(*p));
	if (cache_size > capacity || cache_size > MPOOL_MAX_COUNT ||
	    nowners > MPOOL_MAX_OWNERS)
		return -EINVAL;
	if (cache_size &&
	    !mpool_depot_fits(capacity, mpool_mag_size(cache_size)))
		return -E2BIG;
	err = mpool_slab_init(&p->slab, block_size, capacity, flags);
	if (err)
		return err;
	p->slab.kind = MPOOL_KIND_POOL;
	if (!cache_size || !nowners)
		return 0;
	p->mag_size = mpool_mag_size(cache_size);
	p->slab.cache_max = 2 * p->mag_size;
	p->nmags = (u32)mpool_nmags(capacity, p->mag_size);
	p->nowners = nowners;
	/* A magazine of one is no batch: each remote free goes at once. */
	p->outbox_batch = p->mag_size > 1 ? p->mag_size : 0;
	if (p->outbox_batch > MPOOL_OUTBOX_BATCH)
		p->outbox_batch = MPOOL_OUTBOX_BATCH;
	next = mpool_env_zalloc((size_t)p->nmags * sizeof(u32));
	p->rounds = next ? mpool_env_zalloc((size_t)p->nmags * p->mag_size *
					    sizeof(*p->rounds)) : NULL;
	p->rnext = p->rounds ? mpool_env_zalloc(capacity * sizeof(u32)) : NULL;
	p->owners = p->rnext ? mpool_env_zalloc(nowners * sizeof(void *)) :
		    NULL;
	if (!p->owners) {
		mpool_env_free(p->rnext);
		mpool_env_free(p->rounds);
		mpool_env_free(next);
		mpool_slab_fini(&p->slab);
		p->rnext = NULL;
		p->rounds = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < capacity; i++)
		MPOOL_WRITE(p->rnext[i], MPOOL_NOT_QUEUED);
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
	mpool_env_free(p->owners);
	mpool_env_free(p->rnext);
	mpool_env_free(p->rounds);
	mpool_env_free(p->full.next);
	p->owners = NULL;
	p->rnext = NULL;
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
		   sizeof(struct mpool_round);

	return (n + MPOOL_ALIGN - 1) & ~(size_t)(MPOOL_ALIGN - 1);
}

/**
 * mpool_cache_init() - make a cache for owner id @owner and attach it.
 * @p: the pool; it has caches (a magazine size).
 * @c: zeroed memory of mpool_cache_bytes(@p) bytes.
 * @owner: an id below @p->nowners that no live cache of @p has.
 *
 * From here on remote frees of blocks @c hands out are queued to @c, so
 * @c must live as long as @p (userspace keeps an exited thread's cache as
 * an orphan; the kernel's per-CPU caches live with the pool).
 */
void mpool_cache_init(struct mpool_pool *p, struct mpool_cache *c, u32 owner)
{
	c->count = 0;
	c->busy = 0;
	c->alloc_tag = MPOOL_BLK_ALLOC_TAG | owner;
	c->alloc_delta = (u64)c->alloc_tag - MPOOL_BLK_FREE;
	c->free_delta = MPOOL_SEQ_ONE + MPOOL_BLK_FREE - c->alloc_tag;
	c->owner = owner;
	c->gone = MPOOL_OWNER_LIVE;
	c->rhead = MPOOL_NIL;
	c->rmags = MPOOL_NIL;
	c->thief = 0;
	c->ob_req = 0;
	c->ob_mag = MPOOL_NIL;
	c->ob_n = 0;
	mpool_counter_set(&c->rpending, 0);
	/* Publishes the cache to remote freers, who read it with acquire. */
	mpool_store_release(&p->owners[owner], c);
}

/**
 * mpool_cache_orphan() - a cache's owner leaves for good (thread exit).
 * @c: the cache; its owner has drained it and will not touch it again.
 *
 * From here on a context that frees a block @c handed out, instead of
 * queueing it, claims @c and frees the block directly (nobody can be inside
 * a fast free of @c), collecting @c's queue as well.
 */
void mpool_cache_orphan(struct mpool_cache *c)
{
	/* Pairs with the claim's acquire: the owner's stores are done. */
	mpool_store_release(&c->gone, MPOOL_OWNER_GONE);
	/*
	 * Our store of @gone before the caller's last look at the queue,
	 * against a remote freer's push before its load of @gone (see
	 * mpool_remote_free()): one of the two sees the other's store, so a
	 * block queued as we leave is collected by us or by its freer.  A
	 * release store alone lets that look run ahead of the store.
	 */
	mpool_smp_mb();
}

/**
 * mpool_cache_adopt() - a context takes an orphan cache as its own.
 * @c: the cache, made an orphan by mpool_cache_orphan(), now the caller's
 *	(the build decides who adopts).
 *
 * Waits for a remote freer that has claimed it to let go.
 */
void mpool_cache_adopt(struct mpool_cache *c)
{
	u32 old = MPOOL_OWNER_GONE;

	while (!mpool_try_cmpxchg(&c->gone, &old, MPOOL_OWNER_LIVE)) {
		if (old == MPOOL_OWNER_LIVE)
			return;
		old = MPOOL_OWNER_GONE;
		mpool_cpu_relax();
	}
}

static inline struct mpool_round *mpool_mag(struct mpool_pool *p, u32 m)
{
	return p->rounds + (size_t)m * p->mag_size;
}

/*
 * Put one FREE block on the slab's free stack.  Return: true if pushed;
 * false (reported) if the block was not FREE.
 */
static bool mpool_pool_stack_block(struct mpool_pool *p, u32 idx)
{
	struct mpool_slab *s = &p->slab;
	u64 w = mpool_blk_word(MPOOL_READ(s->state[idx]), MPOOL_BLK_FREE), seen;
	int err = __mpool_cas_state(s, idx, w,
				    mpool_blk_word(w, MPOOL_BLK_STACKED), &seen);

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
	struct mpool_round *top = c->objs + c->count - n;
	u32 m = MPOOL_NIL, i, idx;

	if (n == p->mag_size)
		m = mpool_stack_pop(&p->empty);
	if (m != MPOOL_NIL) {
		memcpy(mpool_mag(p, m), top, n * sizeof(*top));
		/* Count first: the figure never runs below the truth. */
		mpool_counter_add_return(&s->nfree, n);
		/* Publishes the rounds to the refill that pops it. */
		mpool_stack_push_chain(&p->full, m, m);
	} else {
		for (i = 0; i < n; i++) {
			idx = mpool_slab_index_unchecked(s, top[i].ptr);
			mpool_pool_stack_block(p, idx);
		}
	}
	MPOOL_WRITE(c->count, c->count - n);
}

/*
 * Give FREE block @idx to cache @c (spilling first if it is full), or to
 * the slab's stack when there is no cache.
 */
static void mpool_cache_put(struct mpool_pool *p, struct mpool_cache *c,
			    u32 idx)
{
	if (!c) {
		mpool_pool_stack_block(p, idx);
		return;
	}
	if (unlikely(c->count == p->slab.cache_max))
		mpool_cache_spill(p, c, p->mag_size);
	c->objs[c->count].ptr = mpool_slab_block(&p->slab, idx);
	MPOOL_WRITE(c->count, c->count + 1);
}

/*
 * Push block @idx, now REMOTE(owner of @c), on @c's remote queue.  Return
 * false, pushing nothing, when it is on a remote queue already: that entry
 * is stale (it was left by a remote free of an earlier allocation of the
 * block, which a racing free beat; see the top of this file), and its
 * collector will find the block REMOTE and take it.
 */
static bool mpool_remote_push(struct mpool_pool *p, struct mpool_cache *c,
			      u32 idx)
{
	u32 old = MPOOL_NOT_QUEUED;

	/*
	 * The block's REMOTE word was stored before the claim's load below,
	 * against the collector's release of rnext[] before its load of the
	 * word: one of the two sees the other's store (store buffering), so
	 * the block is not left off every queue.  No barrier here: a remote
	 * freer stored REMOTE with a successful, fully ordered compare-and-
	 * swap, and a collector that passes an entry on loaded the word after
	 * its release of rnext[] and a full barrier (mpool_remote_unlink_run()).
	 */
	if (!mpool_try_cmpxchg(&p->rnext[idx], &old, MPOOL_NIL))
		return false;
	/* Counted before it can be collected: never below the truth. */
	mpool_counter_inc(&c->rpending);
	old = MPOOL_READ(c->rhead);
	do {
		MPOOL_WRITE(p->rnext[idx], old);
		/* Release: publishes the block's REMOTE word to the collector. */
	} while (!mpool_try_cmpxchg(&c->rhead, &old, idx));
	return true;
}

/*
 * Pass block @idx, REMOTE for owner @o, found through an entry that is not
 * o's own (or an entry that must go back), on to o's queue.  If another
 * entry holds the block's link already, that one takes the block, and this
 * one is the extra entry a racing double free left: every REMOTE word has
 * one entry of its own, so a second one for it is reported here, once.
 * (A batch entry holds no link, so the free that made the block REMOTE
 * again did not meet this one, and reported nothing.)
 */
static void mpool_pass_on(struct mpool_pool *p, u32 idx, u32 o)
{
	struct mpool_slab *s = &p->slab;

	if (!mpool_remote_push(p, MPOOL_READ(p->owners[o]), idx))
		__mpool_report(s, mpool_slab_block(s, idx), -EALREADY,
			       "double free (a racing free of the block won; found when its remote free was passed on)");
}

/**
 * mpool_cache_collect() - take back the blocks other contexts freed for a
 *	cache's owner.
 * @p: the pool.
 * @from: the cache whose remote queues are taken: the caller's own, or one
 *	whose owner cannot be inside a fast-path free (it is gone, or a thief
 *	made sure; see the top of this file).
 * @into: where the blocks go: a cache the caller owns (it may be @from),
 *	or NULL for the slab's stack.
 *
 * Each entry whose block is still REMOTE(owner of @from) is moved to FREE
 * and given to @into.  An entry whose block is REMOTE for another owner
 * (the block changed hands while the entry waited) is passed on to that
 * owner's queue.  Any other entry is stale: a racing free of the block won,
 * so the remote free was the double one; it is reported (-EALREADY) and
 * dropped, and the block stays where it is.
 *
 * Return: whether any block was taken back.
 */
bool mpool_cache_collect(struct mpool_pool *p, struct mpool_cache *from,
			 struct mpool_cache *into)
{
	struct mpool_remote_list rl;

	if (!mpool_cache_take_remote(from, &rl))
		return false;
	return __mpool_cache_collect_list(p, from, into, &rl);
}

/*
 * Take up to MPOOL_COLLECT_CHUNK entries of the list at *@i, already taken
 * off a queue, off it for good, into @idx; *@i moves past them.  From here
 * a new remote free of a block may queue it again.  Every release of a
 * link is ordered before the caller's loads of the words by one full
 * barrier: a remote free whose claim of rnext[] failed because of one of
 * these entries made the block REMOTE before that claim, so the load sees
 * it, and the block is not left off every queue (see mpool_remote_push()).
 * Return: how many entries are in @idx.
 */
static u32 mpool_remote_unlink_run(struct mpool_pool *p, u32 *i, u32 *idx)
{
	u32 n;

	for (n = 0; n < MPOOL_COLLECT_CHUNK && *i != MPOOL_NIL; n++) {
		idx[n] = *i;
		*i = MPOOL_READ(p->rnext[*i]);
		mpool_store_release(&p->rnext[idx[n]], MPOOL_NOT_QUEUED);
	}
	mpool_smp_mb();
	return n;
}

/* Take the whole list in *@head (a remote queue's head), or MPOOL_NIL. */
static u32 mpool_take_all(mpool_atomic_u32 *head)
{
	u32 i = MPOOL_READ(*head);

	/* The swap's acquire pairs with the pushes' release. */
	while (i != MPOOL_NIL && !mpool_try_cmpxchg(head, &i, MPOOL_NIL))
		;
	return i;
}

/**
 * mpool_cache_take_remote() - take a cache's remote queues whole.
 * @c: the cache.
 * @rl: filled in: the @rhead list and the @rmags list.  The caller
 *	collects them with __mpool_cache_collect_list() or gives them back
 *	with mpool_cache_give_remote().
 *
 * Return: whether anything was taken.
 */
bool mpool_cache_take_remote(struct mpool_cache *c,
			     struct mpool_remote_list *rl)
{
	rl->list = mpool_take_all(&c->rhead);
	rl->mags = mpool_take_all(&c->rmags);
	return rl->list != MPOOL_NIL || rl->mags != MPOOL_NIL;
}

/*
 * Push the chain @first .. @last, linked through @links, on the list whose
 * head is *@head, with one swap (release: publishes the chain).
 */
static void mpool_push_all(mpool_atomic_u32 *head, mpool_atomic_u32 *links,
			   u32 first, u32 last)
{
	u32 old = MPOOL_READ(*head);

	do {
		MPOOL_WRITE(links[last], old);
	} while (!mpool_try_cmpxchg(head, &old, first));
}

/* The last of the chain from @first (not MPOOL_NIL) through @links. */
static u32 mpool_chain_last(mpool_atomic_u32 *links, u32 first)
{
	u32 next;

	while ((next = MPOOL_READ(links[first])) != MPOOL_NIL)
		first = next;
	return first;
}

/**
 * mpool_cache_give_remote() - put lists taken by mpool_cache_take_remote()
 *	back on the cache's remote queues, untouched.
 * @p: the pool.
 * @c: the cache they were taken from.
 * @rl: the lists.
 */
void mpool_cache_give_remote(struct mpool_pool *p, struct mpool_cache *c,
			     const struct mpool_remote_list *rl)
{
	if (rl->list != MPOOL_NIL)
		mpool_push_all(&c->rhead, p->rnext, rl->list,
			       mpool_chain_last(p->rnext, rl->list));
	if (rl->mags != MPOOL_NIL)
		mpool_push_all(&c->rmags, p->full.next, rl->mags,
			       mpool_chain_last(p->full.next, rl->mags));
}

/*
 * Collect entry @idx of @from's queues, its block's word @w read after the
 * entry was taken off for good: take the block into @into if it is still
 * REMOTE for @from's owner (or marked by a thief that gave the list back),
 * pass it on if it is REMOTE for another owner, report it as stale
 * otherwise.  Return: whether the block was taken.
 */
static bool mpool_collect_entry(struct mpool_pool *p, struct mpool_cache *from,
				struct mpool_cache *into, u32 idx, u64 w)
{
	struct mpool_slab *s = &p->slab;
	u32 st = mpool_blk_state(w), owner;

	if ((st == (MPOOL_BLK_REMOTE_TAG | from->owner) ||
	     st == (MPOOL_BLK_STEALING_TAG | from->owner)) &&
	    !__mpool_cas_state(s, idx, w, mpool_blk_ended(w, MPOOL_BLK_FREE),
			       &w)) {
		mpool_cache_put(p, into, idx);
		return true;
	}
	st = mpool_blk_state(w);
	owner = mpool_blk_owner(st);
	if (mpool_blk_is_queued(st) && owner != from->owner)
		mpool_pass_on(p, idx, owner);
	else
		__mpool_report(s, mpool_slab_block(s, idx), -EALREADY,
			       "double free (a racing free of the block won; found when its remote free was collected)");
	return false;
}

/* Ask for the line of block @ptr's state word, for writing. */
static inline void mpool_collect_ahead(struct mpool_slab *s, const void *ptr)
{
	mpool_prefetchw(&s->state[mpool_slab_index_unchecked(s, ptr)]);
}

/* The rounds of batch magazine @m: a NULL round ends a short one. */
static u32 mpool_batch_len(struct mpool_pool *p, u32 m)
{
	struct mpool_round *r = mpool_mag(p, m);
	u32 n = 0;

	while (n < p->mag_size && r[n].ptr)
		n++;
	return n;
}

/* What a walk over taken lists does with each entry and its block's word. */
typedef bool (*mpool_take_fn)(struct mpool_pool *p, struct mpool_cache *from,
			      struct mpool_cache *into, u32 idx, u64 w);

/*
 * Walk lists taken from @from's queues (@rl), calling @take on each entry
 * with its block's word read once the entry is off its list for good;
 * empty batches go back to the depot, and the entries come off @from's
 * count once.  Return: whether any @take took its block.
 */
static bool mpool_take_lists(struct mpool_pool *p, struct mpool_cache *from,
			     struct mpool_cache *into,
			     const struct mpool_remote_list *rl,
			     mpool_take_fn take)
{
	struct mpool_slab *s = &p->slab;
	u32 idx[MPOOL_COLLECT_CHUNK], i = rl->list, m, next, n, k;
	struct mpool_round *r;
	bool got = false;
	long taken = 0;

	while (i != MPOOL_NIL) {
		n = mpool_remote_unlink_run(p, &i, idx);
		taken += n;
		for (k = 0; k < n; k++)
			got |= take(p, from, into, idx[k],
				    MPOOL_READ(s->state[idx[k]]));
	}
	/*
	 * A batch holds its blocks by address alone, with no link: a block
	 * may sit in two (a stale entry, left by a racing double free, and a
	 * later free's), and the word decides which one takes it.
	 */
	for (m = rl->mags; m != MPOOL_NIL; m = next) {
		next = MPOOL_READ(p->full.next[m]);
		r = mpool_mag(p, m);
		n = mpool_batch_len(p, m);
		/*
		 * The words were written last by their freers: ask for their
		 * lines for writing, a few entries ahead, so that the misses
		 * overlap and each line comes once, not shared then owned.
		 */
		for (k = 0; k < n && k < MPOOL_COLLECT_AHEAD; k++)
			mpool_collect_ahead(s, r[k].ptr);
		for (k = 0; k < n; k++) {
			if (k + MPOOL_COLLECT_AHEAD < n)
				mpool_collect_ahead(s,
						    r[k + MPOOL_COLLECT_AHEAD].ptr);
			i = mpool_slab_index_unchecked(s, r[k].ptr);
			got |= take(p, from, into, i, MPOOL_READ(s->state[i]));
		}
		taken += n;
		mpool_stack_push_chain(&p->empty, m, m);
	}
	if (taken)
		mpool_counter_add_return(&from->rpending, -taken);
	return got;
}

/**
 * __mpool_cache_collect_list() - mpool_cache_collect() of lists already
 *	taken from @from's queues.
 * @p: the pool.
 * @from: the cache they were taken from.
 * @into: where the blocks go (a cache the caller owns, or NULL).
 * @rl: the lists.
 *
 * Return: whether any block was taken back.
 */
bool __mpool_cache_collect_list(struct mpool_pool *p, struct mpool_cache *from,
				struct mpool_cache *into,
				const struct mpool_remote_list *rl)
{
	return mpool_take_lists(p, from, into, rl, mpool_collect_entry);
}

/* Claim an orphan cache @c for one remote free; false if it has an owner. */
static bool mpool_cache_claim(struct mpool_cache *c)
{
	u32 old = MPOOL_OWNER_GONE;

	if (MPOOL_READ(c->gone) != MPOOL_OWNER_GONE)
		return false;
	return mpool_try_cmpxchg(&c->gone, &old, MPOOL_OWNER_CLAIMED);
}

/**
 * mpool_cache_steal_begin() - a thief's first step: become the one thief of
 *	a cache, and take its remote queues.
 * @c: the victim cache.
 * @rl: filled in as by mpool_cache_take_remote().
 *
 * One thief at a time per victim: a block may have two entries (a stale
 * one and a live one, see the top of this file), and a thief that found a
 * STEALING mark made by another thief after its own membarrier() could
 * take a block whose owner is inside a fast free of it, unseen.  With one
 * thief, every mark a thief meets was made before its membarrier(): its
 * own, or one a thief before it left when it gave its lists back.
 *
 * Return: true with the lists taken (call mpool_cache_steal_end() after
 * mpool_cache_steal_take() or mpool_cache_give_remote()); false, holding
 * nothing, when another thief works on @c or its queues are empty.
 */
bool mpool_cache_steal_begin(struct mpool_cache *c,
			     struct mpool_remote_list *rl)
{
	u32 old = 0;

	if (!mpool_cache_has_remote(c) ||
	    !mpool_try_cmpxchg(&c->thief, &old, 1))
		return false;
	if (mpool_cache_take_remote(c, rl))
		return true;
	mpool_store_release(&c->thief, 0);
	return false;
}

/**
 * mpool_cache_steal_end() - a thief is done with a cache.
 * @c: the cache, held by mpool_cache_steal_begin().
 */
void mpool_cache_steal_end(struct mpool_cache *c)
{
	/* Pairs with the next thief's swap: our marks and takes are done. */
	mpool_store_release(&c->thief, 0);
}

/* Mark block @idx STEALING(@owner) if it is REMOTE(@owner). */
static void mpool_steal_mark_one(struct mpool_slab *s, u32 idx, u32 owner)
{
	u64 w = MPOOL_READ(s->state[idx]), seen;

	if (mpool_blk_state(w) == (MPOOL_BLK_REMOTE_TAG | owner))
		__mpool_cas_state(s, idx, w,
				  mpool_blk_word(w, MPOOL_BLK_STEALING_TAG |
						 owner), &seen);
}

/**
 * mpool_cache_steal_mark() - a thief's first step, before its membarrier():
 *	mark every block of taken lists that is REMOTE(owner of @from)
 *	STEALING(owner), sequence kept.
 * @p: the pool.
 * @from: the victim cache.
 * @rl: what mpool_cache_take_remote(@from) took.
 *
 * Only the blocks marked here may be taken, and only if their word is still
 * the marked one after the handshake (mpool_cache_steal_take()): a block
 * was REMOTE before the membarrier, so an owner's fast free that could
 * still land on it had set @busy before the barrier.  An entry whose block
 * is not REMOTE now (a stale entry; its block may become REMOTE again
 * later, for the owner) is left for mpool_cache_steal_take() to pass back.
 */
void mpool_cache_steal_mark(struct mpool_pool *p, struct mpool_cache *from,
			    const struct mpool_remote_list *rl)
{
	struct mpool_slab *s = &p->slab;
	u32 i, m, n, k;

	for (i = rl->list; i != MPOOL_NIL; i = MPOOL_READ(p->rnext[i]))
		mpool_steal_mark_one(s, i, from->owner);
	for (m = rl->mags; m != MPOOL_NIL; m = MPOOL_READ(p->full.next[m])) {
		n = mpool_batch_len(p, m);
		for (k = 0; k < n; k++) {
			i = mpool_slab_index_unchecked(s,
						       mpool_mag(p, m)[k].ptr);
			mpool_steal_mark_one(s, i, from->owner);
		}
	}
}

/*
 * The thief's take of entry @idx, its word @w read after the entry left
 * its list: a block still marked goes into @into, anything else is given
 * back or reported (see mpool_cache_steal_take()).  Return: whether taken.
 */
static bool mpool_steal_take_one(struct mpool_pool *p, struct mpool_cache *from,
				 struct mpool_cache *into, u32 idx, u64 w)
{
	struct mpool_slab *s = &p->slab;
	u32 st = mpool_blk_state(w);

	if (st == (MPOOL_BLK_STEALING_TAG | from->owner) &&
	    !__mpool_cas_state(s, idx, w, mpool_blk_ended(w, MPOOL_BLK_FREE),
			       &w)) {
		mpool_cache_put(p, into, idx);
		return true;
	}
	st = mpool_blk_state(w);
	if (mpool_blk_is_queued(st))
		/* Not ours to take: back to its owner's queue. */
		mpool_pass_on(p, idx, mpool_blk_owner(st));
	else
		__mpool_report(s, mpool_slab_block(s, idx), -EALREADY,
			       "double free (a racing free of the block won; found when its remote free was collected)");
	return false;
}

/**
 * mpool_cache_steal_take() - a thief's last step, once the owner of @from
 *	is known to be outside any fast-path free: take what
 *	mpool_cache_steal_mark() marked, give the rest back.
 * @p: the pool.
 * @from: the victim cache.
 * @into: the thief's cache (or NULL: the slab's stack).
 * @rl: the marked lists.
 *
 * A marked block whose word has changed since (the owner's racing free
 * landed on it) is a stale entry: reported and dropped.  An entry that was
 * not marked goes back on the owner's queue if its block is REMOTE for the
 * owner now, on to another owner's if REMOTE for that one, and is reported
 * as stale otherwise.
 *
 * Return: whether any block was taken.
 */
bool mpool_cache_steal_take(struct mpool_pool *p, struct mpool_cache *from,
			    struct mpool_cache *into,
			    const struct mpool_remote_list *rl)
{
	return mpool_take_lists(p, from, into, rl, mpool_steal_take_one);
}

/*
 * Let go of orphan cache @c, claimed by the caller, and look at its queue
 * once more, collecting into @into whatever came meanwhile.  A remote freer
 * that pushed while we held the claim found @gone CLAIMED and left its
 * block to us: our store of GONE before our look at the queue, against its
 * push before its load of @gone (store buffering, a barrier on each side),
 * so one of the two sees the other and the block is never left on a queue
 * nobody owns.  Return: whether that last look collected anything.
 */
static bool mpool_cache_unclaim(struct mpool_pool *p, struct mpool_cache *c,
				struct mpool_cache *into)
{
	bool got = false;

	for (;;) {
		/* Pairs with the acquire of the next claim or adoption. */
		mpool_store_release(&c->gone, MPOOL_OWNER_GONE);
		mpool_smp_mb();
		if (!mpool_cache_has_remote(c) || !mpool_cache_claim(c))
			return got;
		got = mpool_cache_collect(p, c, into) || got;
	}
}

/**
 * mpool_cache_collect_orphan() - collect the remote queue of a cache whose
 *	owner is gone (mpool_cache_orphan()), with no handshake.
 * @p: the pool.
 * @c: the cache.
 * @into: a cache the caller owns, or NULL.
 *
 * Return: whether any block was collected (false if @c has an owner, or
 * another context holds its claim).
 */
bool mpool_cache_collect_orphan(struct mpool_pool *p, struct mpool_cache *c,
				struct mpool_cache *into)
{
	bool got;

	if (!mpool_cache_has_remote(c) || !mpool_cache_claim(c))
		return false;
	got = mpool_cache_collect(p, c, into);
	return mpool_cache_unclaim(p, c, into) || got;
}

/*
 * Free block @idx, seen allocated in word @w, straight into @into (or the
 * slab's stack): for a block nobody else may store to plainly (no owner, or
 * an owner that is gone and claimed, or the caller's own).  Return: 0,
 * -EALREADY (reported) when the allocation in @w has ended, or -EUCLEAN
 * when debug mode found the red zone overwritten.
 */
static int mpool_free_direct(struct mpool_pool *p, struct mpool_cache *into,
			     u32 idx, u64 w, const void *ptr)
{
	struct mpool_slab *s = &p->slab;
	u64 seen;
	int err;

	err = __mpool_cas_state(s, idx, w, mpool_blk_ended(w, MPOOL_BLK_FREE),
				&seen);
	if (err)
		return __mpool_report(s, ptr, err, NULL);
	err = __mpool_takeback(s, idx);
	if (!err)
		mpool_cache_put(p, into, idx);
	return err;
}

/*
 * mpool_outbox_send() - push batch magazine @m, @n blocks REMOTE for owner
 * @o, on that owner's @rmags.  The caller took @m out of its outbox (or
 * holds it as a thief) and counted the blocks on the owner's queue.
 * @into: a cache the caller owns, or NULL, for mpool_cache_collect_orphan().
 */
static void mpool_outbox_send(struct mpool_pool *p, u32 m, u32 n, u32 o,
			      struct mpool_cache *into)
{
	struct mpool_cache *oc = mpool_load_acquire(&p->owners[o]);

	if (n < p->mag_size)
		mpool_mag(p, m)[n].ptr = NULL;
	/* Release: publishes the rounds (and their REMOTE words). */
	mpool_push_all(&oc->rmags, p->full.next, m, m);
	/*
	 * The owner may have left after these blocks went into the outbox,
	 * and after its last collection: then nobody would collect them.  Our
	 * push (a fully ordered swap) before the load of @gone, against its
	 * store of @gone before its last collection (mpool_cache_orphan()):
	 * one of us sees the other.  If another context holds the claim, it
	 * looks at the queue again as it lets go (mpool_cache_unclaim()).
	 */
	if (MPOOL_READ(oc->gone) == MPOOL_OWNER_GONE)
		mpool_cache_collect_orphan(p, oc, into);
}

/*
 * Take the open batch out of @c's outbox, counting its blocks on their
 * owner's queue first (the figure never runs below the truth).  The caller
 * is @c's owner inside its bracket having seen no thief, or a thief after
 * the handshake.  Return: the magazine, or MPOOL_NIL; *@n and *@o are set.
 */
static u32 mpool_outbox_detach(struct mpool_pool *p, struct mpool_cache *c,
			       u32 *n, u32 *o)
{
	u32 m = MPOOL_READ(c->ob_mag);
	struct mpool_cache *oc;

	if (m == MPOOL_NIL)
		return MPOOL_NIL;
	*n = MPOOL_READ(c->ob_n);
	*o = MPOOL_READ(c->ob_owner);
	oc = mpool_load_acquire(&p->owners[*o]);
	mpool_counter_add_return(&oc->rpending, *n);
	MPOOL_WRITE(c->ob_mag, MPOOL_NIL);
	MPOOL_WRITE(c->ob_n, 0);
	return m;
}

/**
 * mpool_outbox_flush() - send a cache's open batch of remote frees.
 * @p: the pool.
 * @c: the caller's own cache.
 * @into: a cache the caller owns (@c), or NULL: where the blocks go if
 *	their owner turns out to be gone (its queue is collected at once).
 *
 * A thief may hold the outbox (userspace): then it sends it.
 *
 * Return: whether anything was sent.
 */
bool mpool_outbox_flush(struct mpool_pool *p, struct mpool_cache *c,
			struct mpool_cache *into)
{
	u32 m = MPOOL_NIL, n = 0, o = 0;

	if (!p->outbox_batch || MPOOL_READ(c->ob_mag) == MPOOL_NIL)
		return false;
	mpool_env_owner_enter(&c->busy);
	if (!mpool_load_acquire(&c->ob_req))
		m = mpool_outbox_detach(p, c, &n, &o);
	mpool_env_owner_exit(&c->busy);
	if (m == MPOOL_NIL)
		return false;
	mpool_outbox_send(p, m, n, o, into);
	return true;
}

/**
 * mpool_outbox_steal_begin() - a thief's first step on another context's
 *	outbox (userspace): raise its request.
 * @c: the cache.
 * @thief: the thief's owner id.
 *
 * Then the thief runs membarrier(), waits until @c->busy is clear, and
 * calls mpool_outbox_steal_end().  The owner reads the request inside its
 * bracket (mpool_outbox_put()): after the membarrier, either the owner's
 * store of @busy is seen by the thief, which waits for it to end, or the
 * owner's load of the request sees it, and it leaves the outbox alone.
 *
 * Return: whether the request was raised (false: no open batch, or another
 * thief has it).
 */
bool mpool_outbox_steal_begin(struct mpool_cache *c, u32 thief)
{
	u32 old = 0;

	if (MPOOL_READ(c->ob_mag) == MPOOL_NIL)
		return false;
	return mpool_try_cmpxchg(&c->ob_req, &old, thief + 1);
}

/**
 * mpool_outbox_steal_end() - a thief's last step: send the outbox if the
 *	handshake succeeded, and drop the request.
 * @p: the pool.
 * @c: the cache, its request raised by mpool_outbox_steal_begin().
 * @into: the thief's cache.
 * @take: whether the owner was seen outside its bracket after membarrier().
 */
void mpool_outbox_steal_end(struct mpool_pool *p, struct mpool_cache *c,
			    struct mpool_cache *into, bool take)
{
	u32 m = MPOOL_NIL, n = 0, o = 0;

	if (take)
		m = mpool_outbox_detach(p, c, &n, &o);
	/* Pairs with the owner's acquire of the request. */
	mpool_store_release(&c->ob_req, 0);
	if (m != MPOOL_NIL)
		mpool_outbox_send(p, m, n, o, into);
}

/*
 * mpool_outbox_put() - put block @idx, now REMOTE(@o), in the outbox of @c,
 * the caller's cache: plain stores into a magazine only @c's context
 * fills, inside @c's bracket, so that a thief can take the outbox of an
 * idle context (see mpool_outbox_steal_begin()).  A batch for another
 * owner is sent first, a full one after.  Return false, doing nothing,
 * when a thief holds the outbox or no empty magazine is at hand: the
 * caller then pushes the block on its owner's queue itself.
 */
static bool mpool_outbox_put(struct mpool_pool *p, struct mpool_cache *c,
			     u32 idx, u32 o)
{
	u32 m, n = 0, sm = MPOOL_NIL, sn = 0, so = 0;
	bool ok = false;

	mpool_env_owner_enter(&c->busy);
	if (unlikely(mpool_load_acquire(&c->ob_req)))
		goto out;
	m = MPOOL_READ(c->ob_mag);
	if (m != MPOOL_NIL && MPOOL_READ(c->ob_owner) != o) {
		sm = mpool_outbox_detach(p, c, &sn, &so);
		m = MPOOL_NIL;
	}
	if (m == MPOOL_NIL) {
		m = mpool_stack_pop(&p->empty);
		if (m == MPOOL_NIL)
			goto out;
		MPOOL_WRITE(c->ob_owner, o);
		MPOOL_WRITE(c->ob_mag, m);
	} else {
		n = MPOOL_READ(c->ob_n);
	}
	mpool_mag(p, m)[n++].ptr = mpool_slab_block(&p->slab, idx);
	MPOOL_WRITE(c->ob_n, n);
	ok = true;
	/* A batch of at least 2: a new one is never full at once. */
	if (n == p->outbox_batch)
		sm = mpool_outbox_detach(p, c, &sn, &so);
out:
	mpool_env_owner_exit(&c->busy);
	if (sm != MPOOL_NIL)
		mpool_outbox_send(p, sm, sn, so, c);
	return ok;
}

/*
 * mpool_remote_free() - free block @idx, whose word @w says ALLOC(o), on
 * behalf of a context that is not o; @into is the caller's cache (or NULL).
 * A block of no owner (or of an owner with no cache) is taken into @into at
 * once; otherwise it is marked REMOTE(o) and sent to o: through @into's
 * outbox, which goes to o's queue in batches, or, with no @into, pushed on
 * that queue at once.  The swap is against @w, sequence number included:
 * if the allocation seen in @w has ended since (a racing free won, even if
 * the block was handed out again), this free is the double one.
 *
 * Return: 0; -EALREADY (reported) when the swap lost; -EUCLEAN when debug
 * mode found the red zone overwritten.
 */
static int mpool_remote_free(struct mpool_pool *p, struct mpool_cache *into,
			     u32 idx, u64 w, const void *ptr)
{
	struct mpool_slab *s = &p->slab;
	u32 o = mpool_blk_owner(mpool_blk_state(w));
	struct mpool_cache *oc = NULL;
	u64 seen;
	int err;

	if (o < p->nowners)
		oc = mpool_load_acquire(&p->owners[o]);
	if (oc && mpool_cache_claim(oc)) {
		/* The owner is gone: nobody else may free for it now. */
		mpool_cache_collect(p, oc, into);
		err = mpool_free_direct(p, into, idx, w, ptr);
		mpool_cache_unclaim(p, oc, into);
		return err;
	}
	if (!oc)
		return mpool_free_direct(p, into, idx, w, ptr);
	if (!(s->flags & (MPOOL_F_DEBUG | MPOOL_F_CHECKER)) &&
	    !MPOOL_ENV_POISONS_ALWAYS) {
		/* Nothing to check or poison: REMOTE at once. */
		err = __mpool_cas_state(s, idx, w,
					mpool_blk_word(w, MPOOL_BLK_REMOTE_TAG |
						       o), &seen);
		if (err)
			return __mpool_report(s, ptr, err, NULL);
	} else {
		/*
		 * FREEING while this context checks and poisons the block:
		 * nobody takes it before that is done (a collector takes
		 * REMOTE only).
		 */
		err = __mpool_cas_state(s, idx, w,
					mpool_blk_word(w, MPOOL_BLK_FREEING_TAG |
						       o), &seen);
		if (err)
			return __mpool_report(s, ptr, err, NULL);
		err = __mpool_takeback(s, idx);
		if (err)
			return err;
		w = mpool_blk_word(w, MPOOL_BLK_FREEING_TAG | o);
		/* Fails only if the owner's racing fast free landed. */
		err = __mpool_cas_state(s, idx, w,
					mpool_blk_word(w, MPOOL_BLK_REMOTE_TAG |
						       o), &seen);
		if (err)
			return __mpool_report(s, ptr, -EALREADY, NULL);
	}
	if (into && p->outbox_batch && mpool_outbox_put(p, into, idx, o))
		return 0;
	if (mpool_remote_push(p, oc, idx)) {
		/* See mpool_outbox_send(): the same pairing with @gone. */
		if (MPOOL_READ(oc->gone) == MPOOL_OWNER_GONE)
			mpool_cache_collect_orphan(p, oc, into);
		return 0;
	}
	__mpool_report(s, ptr, -EALREADY,
		       "double free (an earlier racing free of the block, found when it was freed again)");
	/*
	 * The stale entry that holds the block may be on the queue of an
	 * owner that has left: see mpool_outbox_send().  A failed claim is not
	 * ordered, so the barrier.
	 */
	mpool_smp_mb();
	if (MPOOL_READ(oc->gone) == MPOOL_OWNER_GONE)
		mpool_cache_collect_orphan(p, oc, into);
	return 0;
}

/*
 * The free of @ptr by the owner of @c (NULL: a context with no cache),
 * every case.  Return: what mpool_cache_free() returns.
 */
static int mpool_pool_free_any(struct mpool_pool *p, struct mpool_cache *c,
			       void *ptr)
{
	struct mpool_slab *s = &p->slab;
	u64 w;
	u32 idx, st;
	int err;

	if (unlikely(!ptr))
		return 0;
	err = mpool_slab_index_checked(s, ptr, &idx);
	if (unlikely(err))
		return __mpool_report(s, ptr, err, NULL);
	w = MPOOL_READ(s->state[idx]);
	st = mpool_blk_state(w);
	if (!mpool_blk_is_alloc(st))
		return __mpool_report(s, ptr, mpool_blk_is_freed(st) ?
				      -EALREADY : -EUCLEAN, NULL);
	if (!c || st != c->alloc_tag)
		return mpool_remote_free(p, c, idx, w, ptr);
	return mpool_free_direct(p, c, idx, w, ptr);
}

/*
 * mpool_cache_refill() - fill an empty cache: first from its own remote
 * queue, then from the depot, then from the slab's stack.
 * @p: the pool; its magazine size is not 0.
 * @c: the caller's cache, empty.
 *
 * Return: true if @c now holds at least one block; false (counted as a
 * failed allocation) when all of these are empty.  Blocks held by other
 * contexts' caches and queues are not reclaimed here: the build decides
 * whether to steal (see the top of this file).
 */
static bool mpool_cache_refill(struct mpool_pool *p, struct mpool_cache *c)
{
	struct mpool_slab *s = &p->slab;
	u32 m, n = 0, idx;
	u64 w, seen;

	/*
	 * Ours for others first: an owner that runs dry waits for them.  If
	 * one of them is gone, its queue comes into @c on the way.
	 */
	mpool_outbox_flush(p, c, c);
	if (mpool_cache_has_remote(c))
		mpool_cache_collect(p, c, c);
	if (c->count)
		return true;
	m = mpool_stack_pop(&p->full);
	if (m != MPOOL_NIL) {
		/* The pop's acquire pairs with the spill's push. */
		memcpy(c->objs, mpool_mag(p, m),
		       p->mag_size * sizeof(*c->objs));
		mpool_stack_push_chain(&p->empty, m, m);
		n = p->mag_size;
	} else {
		while (n < p->mag_size) {
			idx = mpool_stack_pop(&s->free);
			if (idx == MPOOL_NIL)
				break;
			/* The pop made us the index's only holder. */
			w = mpool_blk_word(MPOOL_READ(s->state[idx]),
					   MPOOL_BLK_STACKED);
			if (__mpool_cas_state(s, idx, w,
					      mpool_blk_word(w, MPOOL_BLK_FREE),
					      &seen))
				__mpool_report(s, mpool_slab_block(s, idx),
					       -EUCLEAN, NULL);
			else
				c->objs[n++].ptr = mpool_slab_block(s, idx);
		}
	}
	if (!n) {
		mpool_counter_inc(&s->failed);
		return false;
	}
	__mpool_took(s, n);
	MPOOL_WRITE(c->count, n);
	return true;
}

/**
 * mpool_cache_drain() - give every block of a cache back to the backing,
 *	remote queue included.
 * @p: the pool.
 * @c: a cache the caller owns (its context is gone, or it is the caller's).
 */
void mpool_cache_drain(struct mpool_pool *p, struct mpool_cache *c)
{
	if (!p->mag_size)
		return;
	mpool_outbox_flush(p, c, c);
	mpool_cache_collect(p, c, c);
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
 * Every case: a hit, an empty cache (refilled), a debug or checker pool.
 * A cached block whose state word is not FREE (an overwritten word), or
 * that debug mode finds corrupt, is reported and dropped, never handed out,
 * and the next one is tried: a loop, so that any number of them costs no
 * stack.
 *
 * Context: whatever protects @c (TLS, or the CPU's local lock).
 * Return: a block, or NULL when the pool is out of blocks (counted).
 */
void *mpool_cache_alloc(struct mpool_pool *p, struct mpool_cache *c)
{
	struct mpool_slab *s = &p->slab;
	void *ptr;
	u32 n, idx;
	u64 w;

	for (;;) {
		n = c->count;
		if (unlikely(!n)) {
			if (!mpool_cache_refill(p, c))
				return NULL;
			n = c->count;
		}
		ptr = c->objs[--n].ptr;
		idx = mpool_slab_index_unchecked(s, ptr);
		/* No stale address left behind: memcheck's leak check looks. */
		c->objs[n].ptr = NULL;
		MPOOL_WRITE(c->count, n);
		w = mpool_blk_word(MPOOL_READ(s->state[idx]), MPOOL_BLK_FREE);
		ptr = __mpool_handout(s, idx, w, c->alloc_tag);
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
 * Every case: a block this cache handed out goes into it; a block another
 * cache handed out is queued to that cache's owner (a remote free); a
 * block the slab handed out directly comes into this cache.
 *
 * Context: whatever protects @c (TLS, or the CPU's local lock).
 * Return: 0, -EINVAL (not a block of @p), -EALREADY (already free) or
 * -EUCLEAN (corrupt metadata); on error nothing changed.
 */
int mpool_cache_free(struct mpool_pool *p, struct mpool_cache *c, void *ptr)
{
	return mpool_pool_free_any(p, c, ptr);
}

/**
 * mpool_pool_free_nocache() - free a block of a pool from a context that
 *	has no cache of it (a pool without caches, or a thread that could not
 *	have one).
 * @p: the pool.
 * @ptr: a block of @p, or NULL.
 *
 * Return: as mpool_cache_free().
 */
int mpool_pool_free_nocache(struct mpool_pool *p, void *ptr)
{
	return mpool_pool_free_any(p, NULL, ptr);
}

/*
 * mpool_cache_alloc_run() - the bulk twin of mpool_cache_alloc_fast():
 * take up to @n blocks off the top of @c into @ptrs, one pass over the
 * cache's stack with its count written once, stopping early at an empty
 * cache or a block whose word is not FREE (left where it is, for
 * mpool_cache_alloc() to report).  Same rules as the single fast path:
 * plain loads and stores, not for an MPOOL_F_SLOW pool.  Return: how many
 * blocks are in @ptrs.
 */
static size_t mpool_cache_alloc_run(struct mpool_pool *p,
				    struct mpool_cache *c, void **ptrs,
				    size_t n)
{
	struct mpool_slab *s = &p->slab;
	u32 top = c->count;
	u64 delta = c->alloc_delta, idx, w;
	size_t i;
	void *ptr;

	if (n > top)
		n = top;
	for (i = 0; i < n; i++) {
		ptr = c->objs[top - 1 - i].ptr;
		idx = mpool_ror64((u64)((u8 *)ptr - s->base) * s->inv,
				  s->shift);
		w = MPOOL_READ(s->state[idx]);
		if (unlikely(mpool_blk_state(w) != MPOOL_BLK_FREE))
			break;
		MPOOL_WRITE(s->state[idx], w + delta);
		mpool_env_block_alloc(s, false, ptr, s->block_size, s->stride);
		ptrs[i] = ptr;
	}
	MPOOL_WRITE(c->count, top - (u32)i);
	return i;
}

/*
 * mpool_cache_free_run() - the bulk twin of mpool_cache_free_fast(): free
 * the leading entries of @ptrs that are blocks @c handed out (NULL entries
 * skipped), while @c has room, inside one bracket of @c->busy, with the
 * count written once.  Stops at the first entry that needs the slow path
 * (a bad pointer, another owner's block, a full cache), unchanged.  Return:
 * how many entries were done.
 */
static size_t mpool_cache_free_run(struct mpool_pool *p,
				   struct mpool_cache *c, void *const *ptrs,
				   size_t n)
{
	struct mpool_slab *s = &p->slab;
	u32 top = c->count, tag = c->alloc_tag;
	u64 delta = c->free_delta, idx, w;
	size_t i;
	void *ptr;

	mpool_env_owner_enter(&c->busy);
	for (i = 0; i < n; i++) {
		ptr = ptrs[i];
		if (!ptr)
			continue;
		idx = mpool_ror64((u64)((u8 *)ptr - s->base) * s->inv,
				  s->shift);
		if (unlikely(idx >= s->count || top >= s->cache_max))
			break;
		w = MPOOL_READ(s->state[idx]);
		if (unlikely(mpool_blk_state(w) != tag))
			break;
		MPOOL_WRITE(s->state[idx], w + delta);
		mpool_env_block_free(s, false, ptr, s->stride);
		c->objs[top++].ptr = ptr;
	}
	mpool_env_owner_exit(&c->busy);
	MPOOL_WRITE(c->count, top);
	return i;
}

/**
 * mpool_cache_alloc_bulk() - take @n blocks through a cache, all or none.
 * @p: the pool.
 * @c: the calling context's cache (the caller owns it).
 * @ptrs: where the blocks go.
 * @n: how many.
 *
 * Return: 0 with @n blocks in @ptrs, or -ENOMEM with none taken (the ones
 * already taken are given back; the shortage is counted once).
 */
int mpool_cache_alloc_bulk(struct mpool_pool *p, struct mpool_cache *c,
			   void **ptrs, size_t n)
{
	size_t i = 0;

	if (!(p->slab.flags & MPOOL_F_SLOW))
		i = mpool_cache_alloc_run(p, c, ptrs, n);
	for (; i < n; i++) {
		ptrs[i] = mpool_cache_alloc(p, c);
		if (unlikely(!ptrs[i]))
			break;
	}
	if (likely(i == n))
		return 0;
	while (i--)
		mpool_cache_free(p, c, ptrs[i]);
	return -ENOMEM;
}

/**
 * mpool_cache_free_bulk() - free @n blocks through a cache.
 * @p: the pool.
 * @c: the calling context's cache (the caller owns it).
 * @ptrs: the blocks; NULL entries are skipped.
 * @n: how many entries.
 *
 * Each entry is freed, or reported and counted, exactly as one
 * mpool_cache_free() would (the same block twice in @ptrs is a double
 * free the second time).
 *
 * Return: 0 when every entry was freed, else the error of the first entry
 * that was not.
 */
int mpool_cache_free_bulk(struct mpool_pool *p, struct mpool_cache *c,
			  void *const *ptrs, size_t n)
{
	bool fast = !(p->slab.flags & MPOOL_F_SLOW);
	int first = 0, err;
	size_t i = 0;

	while (i < n) {
		if (fast) {
			i += mpool_cache_free_run(p, c, ptrs + i, n - i);
			if (i == n)
				break;
		}
		err = mpool_cache_free(p, c, ptrs[i++]);
		if (err && !first)
			first = err;
	}
	return first;
}

/**
 * mpool_pool_fill_stats() - report what a pool is doing.
 * @p: the pool.
 * @st: filled in.
 * @cached: the blocks its build counted in the caches it keeps.
 *
 * @cached includes the blocks freed by one context for another and not
 * yet collected (mpool_cache_held()).
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
 * After fork() the child has one thread; magazines in flight, blocks in
 * other threads' caches and blocks waiting on remote queues would be lost.
 * The build empties every cache it knows of first; this empties the depot
 * and the remote queues and puts every block that is not allocated on the
 * slab's free stack.  Context: nobody else uses @p.
 */
void mpool_pool_rebuild(struct mpool_pool *p)
{
	struct mpool_cache *c;
	u32 i;

	if (p->mag_size) {
		for (i = 0; i < p->nmags; i++)
			MPOOL_WRITE(p->empty.next[i], i + 1 < p->nmags ?
				    i + 1 : MPOOL_NIL);
		mpool_stack_reset(&p->full, MPOOL_NIL);
		mpool_stack_reset(&p->empty, 0);
		for (i = 0; i < p->slab.count; i++)
			MPOOL_WRITE(p->rnext[i], MPOOL_NOT_QUEUED);
		for (i = 0; i < p->nowners; i++) {
			c = MPOOL_READ(p->owners[i]);
			if (c) {
				MPOOL_WRITE(c->rhead, MPOOL_NIL);
				MPOOL_WRITE(c->rmags, MPOOL_NIL);
				MPOOL_WRITE(c->thief, 0);
				MPOOL_WRITE(c->ob_req, 0);
				MPOOL_WRITE(c->ob_mag, MPOOL_NIL);
				MPOOL_WRITE(c->ob_n, 0);
				mpool_counter_set(&c->rpending, 0);
			}
		}
	}
	mpool_slab_rebuild(&p->slab);
}

/**
 * __mpool_rcu_unlink() - take block @idx off the deferred-free batch that
 *	held it, for good, and return its word.
 * @p: the pool.
 * @links: the batches' links (see struct mpool_rcu).
 * @idx: the block; the caller holds its link (a batch it took whole, or
 *	its own claim).
 *
 * The word is read while the link is still held: a deferred free makes a
 * block RCU only after it claims the link, so an RCU word read here is the
 * one the holder's own deferred free wrote (with a racing double free, the
 * block may meanwhile have been freed, handed out and deferred again; its
 * new deferred free then failed to claim the link, see common/rcu.c).
 *
 * Return: the block's word, read before the link was released.
 */
u64 __mpool_rcu_unlink(struct mpool_pool *p, mpool_atomic_u32 *links,
		       u32 idx)
{
	u64 w = MPOOL_READ(p->slab.state[idx]);

	/* Release: a later deferred free of the block starts after this. */
	mpool_store_release(&links[idx], MPOOL_NOT_QUEUED);
	return w;
}

/**
 * __mpool_rcu_release() - a grace period has passed since block @idx was
 *	freed by mpool_rcu_free(): give it back.
 * @p: the pool.
 * @links: the batches' links.
 * @idx: a block of a batch the caller took whole (its link read already).
 *
 * A block still RCU(o) is freed exactly as a remote free of ALLOC(o)
 * would free it, with the caller as a context that has no cache: queued to
 * its owner o if o lives (so that an owner stopped inside a fast-path free
 * of the block, a racing double free, is found stale by o's own
 * collection, see the top of this file), taken directly if it has no owner
 * or its owner is gone.  Debug checks and the memory checker's poisoning
 * happen here, not at the deferred free: readers may use the block until
 * now.  A block in any other state was freed again by a racing free that
 * won (a double free): reported, and left where that free put it.
 */
void __mpool_rcu_release(struct mpool_pool *p, mpool_atomic_u32 *links,
			 u32 idx)
{
	struct mpool_slab *s = &p->slab;
	void *ptr = mpool_slab_block(s, idx);
	u64 w = __mpool_rcu_unlink(p, links, idx);
	u32 st = mpool_blk_state(w);

	if (mpool_blk_is_rcu(st)) {
		mpool_remote_free(p, NULL, idx, w, ptr);
		return;
	}
	/* Not RCU: wherever the block is, a racing free put it there. */
	__mpool_report(s, ptr, -EALREADY,
		       "double free (a racing free of the block won; found when its deferred free's grace period ended)");
}

/*
 * Put FREE block @idx, held by the caller alone, into magazine *@m (@n
 * rounds so far), taking an empty one from the depot when *@m is NIL, and
 * pushing it on @full when it is full; with no empty magazine at hand, on
 * the slab's stack.
 */
static void mpool_rcu_mag_put(struct mpool_pool *p, u32 *m, u32 *n, u32 idx)
{
	if (*m == MPOOL_NIL) {
		*m = mpool_stack_pop(&p->empty);
		*n = 0;
		if (*m == MPOOL_NIL) {
			mpool_pool_stack_block(p, idx);
			return;
		}
	}
	mpool_mag(p, *m)[(*n)++].ptr = mpool_slab_block(&p->slab, idx);
	if (*n < p->mag_size)
		return;
	/* Count first: the figure never runs below the truth. */
	mpool_counter_add_return(&p->slab.nfree, *n);
	/* Publishes the rounds to the refill that pops it. */
	mpool_stack_push_chain(&p->full, *m, *m);
	*m = MPOOL_NIL;
}

/**
 * __mpool_rcu_release_chain() - a batch's grace period is over: give all
 *	its blocks back.
 * @p: the pool.
 * @links: the batches' links.
 * @first: the batch's first block (a batch the caller took whole).
 *
 * A block freed by its owner (or one with none) waits as RCU(NONE): no
 * owner can be inside a fast-path free of it (the owner made the deferred
 * free itself, see mpool_rcu_free()), so it is freed here directly, into
 * full magazines on the depot, as a cache's spill would: a later refill
 * takes a magazine's worth at once.  Any other block goes through
 * __mpool_rcu_release().
 */
void __mpool_rcu_release_chain(struct mpool_pool *p, mpool_atomic_u32 *links,
			       u32 first)
{
	struct mpool_slab *s = &p->slab;
	u32 i, next, m = MPOOL_NIL, n = 0, k;
	u64 w, seen;

	for (i = first; i != MPOOL_NIL; i = next) {
		next = MPOOL_READ(links[i]);
		w = MPOOL_READ(s->state[i]);
		if (!p->mag_size ||
		    mpool_blk_state(w) != (MPOOL_BLK_RCU_TAG | MPOOL_OWNER_NONE)) {
			__mpool_rcu_release(p, links, i);
			continue;
		}
		/*
		 * Only this callback moves an RCU(NONE) word (no free can:
		 * it is not ALLOC), and only a deferred free claims the link
		 * (of an ALLOC word), so the link is released after the swap
		 * with no barrier: from FREE and held here, the block cannot
		 * be freed again before it is handed out, which the magazine's
		 * push (release) orders after this.
		 */
		if (__mpool_cas_state(s, i, w, mpool_blk_ended(w, MPOOL_BLK_FREE),
				      &seen)) {
			__mpool_rcu_release(p, links, i);
			continue;
		}
		mpool_store_release(&links[i], MPOOL_NOT_QUEUED);
		if (!__mpool_takeback(s, i))
			mpool_rcu_mag_put(p, &m, &n, i);
	}
	if (m == MPOOL_NIL)
		return;
	/* A magazine part full: its blocks to the stack, it back empty. */
	for (k = 0; k < n; k++) {
		i = mpool_slab_index_unchecked(s, mpool_mag(p, m)[k].ptr);
		mpool_pool_stack_block(p, i);
	}
	mpool_stack_push_chain(&p->empty, m, m);
}
