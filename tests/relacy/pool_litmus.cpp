// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * pool_litmus.cpp - the pool's block-ownership and remote-free protocol
 * (the top of common/pool.c) under Relacy's model of C++11 atomics, run on
 * the core's own code: common/stack.c, common/slab.c and common/pool.c are
 * #included below after this directory's mpool_env.h, so the state words,
 * rnext[], the owners' table and a cache's count, busy, gone and rhead are
 * variables of the model, and every access the core makes to them is a
 * step of the model with the order the core wrote.  What is not core code
 * here: the set-up of a pool in before() (mpool_pool_init() allocates,
 * which a model cannot), the thief's ten lines of glue from user/lib.c
 * (mpool_steal(), a static function of the userspace build) and the model
 * of membarrier() in mpool_env.h.
 *
 * A thread "stopped between two instructions" needs no forced delay here:
 * the scheduler preempts at every access to a shared word, so every such
 * stop (within the search of the case) is one of the executions visited.
 *
 * Each case ends by collecting every cache's remote queue as its owner
 * would at its next refill, then checks the invariant of common/pool.c:
 * every block exactly once in one cache (FREE), the slab's stack
 * (STACKED), a full magazine (FREE) or a user's hands (ALLOC of the cache
 * that handed it out); no remote queue left, rnext[] all NOT_QUEUED; and
 * the misuse the case expects counted exactly (a racing double free is
 * answered once: -EALREADY, or a report when a stale entry is collected).
 * A block two users hold is also a data race on @user[] that Relacy
 * reports itself.
 *
 * Cases:
 *
 *   owner_remote    the owner's free (fast path) and a remote free race on
 *                   one block, then both allocate (after both frees: an
 *                   allocation between them would make the late free one
 *                   of the new allocation, see pw_rendezvous())
 *   remote_remote   two remote frees race on one block while its owner
 *                   collects its queue; exactly
 *                   one of the two frees returns 0, the other -EALREADY
 *   collect         a remote freer frees two blocks while the owner
 *                   allocates twice: nothing lost, nothing reported
 *   stale_unlink    the owner collects a stale entry of a block while the
 *                   block's new allocation is freed remotely (the claim of
 *                   rnext[] against mpool_remote_unlink_run(): the two full
 *                   barriers of the store-buffering pair)
 *   steal           the owner's fast free races a remote free followed by
 *                   a thief's collection of the owner's queue (mark,
 *                   membarrier, wait for @busy, take)
 *   outbox_steal    a remote freer fills and sends a batch while the
 *                   blocks' owner sends the freer's open batch for it
 *                   (request, membarrier, wait for @busy, take)
 *
 * Usage: pool_litmus [-l LOG] [-s SCHED] [CASE...]   (as stack_litmus)
 */
/* Before mpool_env.h: relacy.hpp redefines new and delete. */
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "mpool_env.h"

/* The core's files, or planted variants of them (make relacy). */
#ifndef MPOOL_POOL_C
#define MPOOL_POOL_C "../../common/pool.c"
#endif
/*
 * slab.c and pool.c convert void * to typed pointers (C, not C++) in
 * paths that never run here (init, debug checks): the Makefile compiles
 * this file with -fpermissive -w (RELACY_FLAGS_pool_litmus), as GCC has
 * no switch for those diagnostics alone.
 */
#include "../../common/stack.c"
#include "../../common/slab.c"
#include MPOOL_POOL_C

#define LITMUS_SOURCE	MPOOL_POOL_C

/* The world functions of common/env.h: a model allocates nothing. */
void *mpool_env_zalloc(size_t size)
{
	return NULL;
}

void mpool_env_free(void *p)
{
}

void *mpool_env_map(size_t size)
{
	return NULL;
}

void mpool_env_unmap(void *p, size_t size)
{
}

bool mpool_env_debug_all(void)
{
	return false;
}

/* Reports are counted by the core itself (slab.misuse[]); nothing to do. */
void mpool_env_report(const struct mpool_event *ev)
{
}

#define NB	3	/* blocks */
#define NOWN	3	/* owners, one per thread */
#define MAGMAX	2	/* rounds per magazine, at most (pw_init()'s @mag) */
#define NMAGS	2

/*
 * A cache and the room for its rounds, as mpool_cache_bytes() sizes it
 * (C++ allows no member after a flexible array, so the cache is built in
 * raw storage and taken down with its box).
 */
#undef new
struct cache_box {
	alignas(64) unsigned char raw[sizeof(struct mpool_cache) +
				      2 * MAGMAX * sizeof(struct mpool_round)];

	cache_box()
	{
		::new (raw) mpool_cache;
	}

	~cache_box()
	{
		reinterpret_cast<struct mpool_cache *>(raw)->~mpool_cache();
	}
};
#define new RL_NEW_PROXY

/*
 * A pool of NB blocks of 64 bytes with a cache per thread, laid out as
 * mpool_pool_init() lays it out, plus what the users hold.
 */
struct pworld {
	struct mpool_pool p;
	mpool_atomic_u64 state[NB];
	mpool_atomic_u32 next[NB];
	mpool_atomic_u32 rnext[NB];
	mpool_atomic_u32 magnext[NMAGS];
	mpool_atomic_ptr owners[NOWN];
	struct mpool_round rounds[NMAGS * MAGMAX];
	u8 mem[NB * 64] __aligned(64);
	struct cache_box box[NOWN];
	/* Written by whoever allocates a block: two holders race. */
	rl::var<int> user[NB];
	/* Blocks each thread holds at the end; thread @t's row only. */
	u32 held[NOWN][NB];
	u32 nheld[NOWN];
	u32 nb;			/* blocks the case uses: 0 .. nb - 1 */
	/* Threads past their free (pw_rendezvous()). */
	rl::atomic<u32> freed;
	struct mpool_rl_membarrier mb;
};

static struct mpool_cache *cache(struct pworld *w, u32 o)
{
	return reinterpret_cast<struct mpool_cache *>(w->box[o].raw);
}

static void *block(struct pworld *w, u32 idx)
{
	return w->mem + idx * 64;
}

/*
 * Every block STACKED but not pushed yet, @nb of them used by the case;
 * @ncaches caches attached; magazines of @mag rounds (caches hold 2 * @mag),
 * remote frees sent in batches of @batch (0: each pushed at once).
 */
static void pw_init(struct pworld *w, u32 ncaches, u32 nb, u32 mag = 1,
		    u32 batch = 0)
{
	struct mpool_slab *s = &w->p.slab;
	u32 i;

	s->base = w->mem;
	s->state = w->state;
	s->inv = 1;			/* the stride's odd factor is 1 */
	s->shift = 6;
	s->count = NB;
	w->nb = nb;
	w->freed.store(0, rl::mo_relaxed, $);
	s->flags = 0;
	s->cache_max = 2 * mag;
	s->stride = 64;
	s->span = NB * 64;
	s->block_size = 64;
	s->kind = MPOOL_KIND_POOL;
	s->name = NULL;
	s->owner = NULL;
	mpool_stack_init(&s->free, w->next);
	mpool_counter_set(&s->nfree, 0);
	mpool_counter_set(&s->high_water, 0);
	mpool_counter_set(&s->failed, 0);
	mpool_counter_set(&s->quarantined, 0);
	for (i = 0; i < MPOOL_MISUSE_NR; i++)
		mpool_counter_set(&s->misuse[i], 0);
	w->p.mag_size = mag;
	w->p.outbox_batch = batch;
	w->p.nmags = NMAGS;
	w->p.rounds = w->rounds;
	w->p.rnext = w->rnext;
	w->p.owners = w->owners;
	w->p.nowners = NOWN;
	for (i = 0; i < NMAGS; i++)
		MPOOL_WRITE(w->magnext[i], 0u);
	mpool_stack_init(&w->p.full, w->magnext);
	mpool_stack_init(&w->p.empty, w->magnext);
	for (i = 0; i < NMAGS; i++)
		mpool_stack_push_chain(&w->p.empty, i, i);
	for (i = 0; i < NB; i++) {
		MPOOL_WRITE(w->next[i], 0u);
		MPOOL_WRITE(w->rnext[i], MPOOL_NOT_QUEUED);
		MPOOL_WRITE(w->state[i], (u64)MPOOL_BLK_STACKED);
		w->user[i]($) = -1;
	}
	for (i = 0; i < NOWN; i++) {
		w->owners[i].store(NULL, rl::mo_relaxed, $);
		w->nheld[i] = 0;
	}
	for (i = 0; i < ncaches; i++)
		mpool_cache_init(&w->p, cache(w, i), i);
	w->mb.armed = false;
	w->mb.req.store(0, rl::mo_relaxed, $);
	for (i = 0; i < 4; i++) {
		w->mb.ack[i].store(0, rl::mo_relaxed, $);
		w->mb.done[i].store(0, rl::mo_relaxed, $);
	}
	mpool_rl_mb = &w->mb;
}

/* Block @idx on the slab's free stack. */
static void pw_stack(struct pworld *w, u32 idx)
{
	mpool_counter_add_return(&w->p.slab.nfree, 1);
	mpool_stack_push_chain(&w->p.slab.free, idx, idx);
}

/* Block @idx handed out by owner @o's cache (sequence @seq), to a user. */
static void pw_alloc(struct pworld *w, u32 idx, u32 o, u64 seq)
{
	MPOOL_WRITE(w->state[idx], seq * MPOOL_SEQ_ONE |
		    (MPOOL_BLK_ALLOC_TAG | o));
	w->user[idx]($) = (int)o;
}

/* A user's free through cache @o, as a build calls it: fast, then slow. */
static int pw_free(struct pworld *w, u32 o, u32 idx)
{
	void *ptr = block(w, idx);

	if (mpool_cache_free_fast(&w->p, cache(w, o), ptr))
		return 0;
	return mpool_cache_free(&w->p, cache(w, o), ptr);
}

/* A user's allocation through cache @t (thread @t): the block is its own. */
static u32 pw_take(struct pworld *w, u32 t)
{
	void *ptr;
	u32 idx;

	if (!mpool_cache_alloc_fast(&w->p, cache(w, t), &ptr))
		ptr = mpool_cache_alloc(&w->p, cache(w, t));
	if (!ptr)
		return MPOOL_NIL;
	idx = mpool_slab_index_unchecked(&w->p.slab, ptr);
	RL_ASSERT(idx < NB);
	if (idx >= NB)
		return MPOOL_NIL;
	/* A second holder of the block races with the first here. */
	w->user[idx]($) = (int)(100 + t);
	w->held[t][w->nheld[t]++] = idx;
	return idx;
}

/*
 * Wait until @n threads have called this: the allocations after a racing
 * double free start once both frees are done.  (An allocation between them
 * would make the late free one of the new allocation through a stale
 * pointer: linearised there, see common/pool.c, not a race of two frees.)
 */
static void pw_rendezvous(struct pworld *w, u32 n)
{
	w->freed.fetch_add(1, rl::mo_acq_rel, $);
	while (w->freed.load(rl::mo_acquire, $) < n)
		rl::yield(1, $);
}

/* Count @idx in @seen, checking its word holds state @st. */
static void seen_as(struct pworld *w, u32 *seen, u32 idx, u32 st)
{
	RL_ASSERT(idx < NB);
	if (idx >= NB)
		return;
	RL_ASSERT(mpool_blk_state(MPOOL_READ(w->state[idx])) == st);
	seen[idx]++;
}

/*
 * The end of a case, single-threaded: each owner collects its queue (as
 * its next refill would), then every block must be exactly once where its
 * word says, and @doubles double frees must have been answered.
 */
static void pw_check(struct pworld *w, u32 ncaches, long doubles)
{
	struct mpool_slab *s = &w->p.slab;
	u32 seen[NB] = { 0 }, mags[NMAGS] = { 0 }, i, o, m, idx, steps;
	struct mpool_cache *c;

	/* Each remote queue a chain of distinct blocks: collecting walks it. */
	for (o = 0; o < ncaches; o++) {
		steps = 0;
		for (idx = MPOOL_READ(cache(w, o)->rhead); idx != MPOOL_NIL;
		     idx = MPOOL_READ(w->rnext[idx])) {
			RL_ASSERT(idx < NB && steps < NB);
			if (idx >= NB || steps++ >= NB)
				return;
			seen[idx]++;
		}
	}
	for (i = 0; i < NB; i++) {
		RL_ASSERT(seen[i] <= 1);
		if (seen[i] > 1)
			return;
		seen[i] = 0;
	}
	/* Each owner sends its outbox, then collects, as at a refill. */
	for (o = 0; o < ncaches; o++)
		mpool_outbox_flush(&w->p, cache(w, o), cache(w, o));
	for (o = 0; o < ncaches; o++)
		mpool_cache_collect(&w->p, cache(w, o), cache(w, o));
	for (o = 0; o < ncaches; o++) {
		c = cache(w, o);
		RL_ASSERT(MPOOL_READ(c->rhead) == MPOOL_NIL);
		RL_ASSERT(MPOOL_READ(c->rmags) == MPOOL_NIL);
		RL_ASSERT(MPOOL_READ(c->ob_mag) == MPOOL_NIL);
		RL_ASSERT(MPOOL_READ(c->ob_req) == 0);
		RL_ASSERT(MPOOL_READ(c->thief) == 0);
		RL_ASSERT(c->count <= 2 * w->p.mag_size);
		for (i = 0; i < c->count && i < 2 * w->p.mag_size; i++)
			seen_as(w, seen, mpool_slab_index_unchecked(s,
							c->objs[i].ptr),
				MPOOL_BLK_FREE);
		for (i = 0; i < w->nheld[o]; i++)
			seen_as(w, seen, w->held[o][i], c->alloc_tag);
	}
	steps = 0;
	for (idx = (u32)MPOOL_READ(s->free.head); idx != MPOOL_NIL && idx < NB &&
	     steps++ < NB; idx = MPOOL_READ(w->next[idx]))
		seen_as(w, seen, idx, MPOOL_BLK_STACKED);
	steps = 0;
	for (m = (u32)MPOOL_READ(w->p.full.head); m != MPOOL_NIL && m < NMAGS &&
	     steps++ < NMAGS; m = MPOOL_READ(w->magnext[m])) {
		mags[m]++;
		for (i = 0; i < w->p.mag_size; i++)
			seen_as(w, seen, mpool_slab_index_unchecked(s,
					w->rounds[m * w->p.mag_size + i].ptr),
				MPOOL_BLK_FREE);
	}
	/* Every magazine back on exactly one of the depot's stacks. */
	steps = 0;
	for (m = (u32)MPOOL_READ(w->p.empty.head); m != MPOOL_NIL &&
	     m < NMAGS && steps++ < NMAGS; m = MPOOL_READ(w->magnext[m]))
		mags[m]++;
	for (m = 0; m < NMAGS; m++)
		RL_ASSERT(mags[m] == 1);
	for (i = 0; i < w->nb; i++) {
		RL_ASSERT(seen[i] == 1);
		RL_ASSERT(MPOOL_READ(w->rnext[i]) == MPOOL_NOT_QUEUED);
	}
	RL_ASSERT(mpool_counter_read(&s->misuse[MPOOL_MISUSE_DOUBLE]) ==
		  doubles);
	RL_ASSERT(mpool_counter_read(&s->misuse[MPOOL_MISUSE_CORRUPT]) == 0);
	RL_ASSERT(mpool_counter_read(&s->misuse[MPOOL_MISUSE_INVALID]) == 0);
}

/*
 * Two frees of one allocation: at least one returned 0, any other
 * -EALREADY; with @exact, exactly one returned 0.
 */
static void check_pair(int r0, int r1, bool exact)
{
	RL_ASSERT(r0 == 0 || r0 == -EALREADY);
	RL_ASSERT(r1 == 0 || r1 == -EALREADY);
	RL_ASSERT(r0 == 0 || r1 == 0);
	if (exact)
		RL_ASSERT(r0 != r1);
}

/* --- the cases ---------------------------------------------------------- */

/*
 * Block 0 handed out by owner 0; block 1 on the stack.  Thread 0 (the
 * owner) frees block 0 (fast path), thread 1 frees it too (a remote free);
 * then each allocates.  Both frees may return 0 (the remote one's entry is
 * then stale and reported at collection): one report either way.
 */
struct owner_remote : rl::test_suite<owner_remote, 2> {
	struct pworld w;
	int r[2];

	void before()
	{
		pw_init(&w, 2, 2);
		pw_alloc(&w, 0, 0, 0);
		pw_stack(&w, 1);
	}

	void thread(unsigned int t)
	{
		r[t] = pw_free(&w, t, 0);
		pw_rendezvous(&w, 2);
		pw_take(&w, t);
	}

	void after()
	{
		check_pair(r[0], r[1], false);
		pw_check(&w, 2, 1);
	}
};

/*
 * Block 0 handed out by owner 0, block 1 on the stack.  Threads 1 and 2
 * both free block 0 (two remote frees) while thread 0, its owner,
 * collects its queue.  (Allocations after the race: owner_remote; with a
 * third thread here they would cost a minute of search.)
 */
struct remote_remote : rl::test_suite<remote_remote, 3> {
	struct pworld w;
	int r[3];

	void before()
	{
		pw_init(&w, 3, 2);
		pw_alloc(&w, 0, 0, 0);
		pw_stack(&w, 1);
	}

	void thread(unsigned int t)
	{
		if (t == 0)
			mpool_cache_collect(&w.p, cache(&w, 0), cache(&w, 0));
		else
			r[t] = pw_free(&w, t, 0);
	}

	void after()
	{
		check_pair(r[1], r[2], true);
		pw_check(&w, 3, 1);
	}
};

/*
 * Blocks 0 and 1 handed out by owner 0, block 2 on the stack.  Thread 1
 * frees both (remote frees); thread 0 allocates twice.  No misuse.
 */
struct collect : rl::test_suite<collect, 2> {
	struct pworld w;

	void before()
	{
		pw_init(&w, 2, 3);
		pw_alloc(&w, 0, 0, 0);
		pw_alloc(&w, 1, 0, 0);
		pw_stack(&w, 2);
	}

	void thread(unsigned int t)
	{
		if (t == 0) {
			pw_take(&w, 0);
			pw_take(&w, 0);
		} else {
			RL_ASSERT(pw_free(&w, 1, 0) == 0);
			RL_ASSERT(pw_free(&w, 1, 1) == 0);
		}
	}

	void after()
	{
		pw_check(&w, 2, 0);
	}
};

/*
 * The state owner_remote leaves when both frees returned 0, one step on:
 * block 0 is handed out again by owner 0 (sequence 1) and a user on
 * thread 1 holds it, while owner 0's queue still holds the stale entry of
 * the earlier remote free.  Thread 0 collects its queue; thread 1 frees
 * the block (a remote free, whose claim of rnext[0] meets the entry being
 * unlinked).  The block must end up on exactly one queue or in the cache,
 * never on none: the barrier in mpool_remote_unlink_run() against the one in
 * mpool_remote_push().  The stale entry is one double free, answered once.
 */
struct stale_unlink : rl::test_suite<stale_unlink, 2> {
	struct pworld w;

	void before()
	{
		pw_init(&w, 2, 2);
		pw_alloc(&w, 0, 0, 1);
		MPOOL_WRITE(w.rnext[0], MPOOL_NIL);
		MPOOL_WRITE(cache(&w, 0)->rhead, 0u);
		mpool_counter_set(&cache(&w, 0)->rpending, 1);
		pw_stack(&w, 1);
	}

	void thread(unsigned int t)
	{
		if (t == 0)
			mpool_cache_collect(&w.p, cache(&w, 0), cache(&w, 0));
		else
			RL_ASSERT(pw_free(&w, 1, 0) == 0);
	}

	void after()
	{
		pw_check(&w, 2, 1);
	}
};

/* membarrier() as mpool_env.h models it; thread @me runs it. */
static void pw_membarrier(struct pworld *w, u32 me, u32 nthreads)
{
	u32 t, want;

	rl::atomic_thread_fence(rl::mo_seq_cst, $);
	want = w->mb.req.load(rl::mo_relaxed, $) + 1;
	w->mb.req.store(want, rl::mo_release, $);
	for (t = 0; t < nthreads; t++) {
		if (t == me)
			continue;
		while (w->mb.ack[t].load(rl::mo_acquire, $) < want &&
		       !w->mb.done[t].load(rl::mo_acquire, $))
			rl::yield(1, $);
	}
	rl::atomic_thread_fence(rl::mo_seq_cst, $);
}

/* A thread that ends: a context switch, so a barrier for membarrier(). */
static void pw_thread_end(struct pworld *w)
{
	u32 me = (u32)rl::ctx().current_thread();

	mpool_rl_mb_answer($);
	w->mb.done[me].store(1, rl::mo_release, $);
}

/*
 * The thief of user/lib.c (mpool_steal(), less its orphan case and with
 * a bounded wait): cache @t collects owner @v's queue.  Return: whether
 * any block was taken.
 */
static bool pw_steal(struct pworld *w, u32 t, u32 v, u32 nthreads)
{
	struct mpool_cache *c = cache(w, v);
	struct mpool_remote_list rl;
	bool got = false;
	u32 spins;

	if (!mpool_cache_steal_begin(c, &rl))
		return false;
	mpool_cache_steal_mark(&w->p, c, &rl);
#ifndef PLANT_STEAL_NO_MEMBARRIER
	pw_membarrier(w, t, nthreads);
#endif
#ifndef PLANT_STEAL_NO_WAIT
	for (spins = 0; spins < 3; spins++) {
		if (!mpool_load_acquire(&c->busy)) {
			got = mpool_cache_steal_take(&w->p, c, cache(w, t),
						     &rl);
			goto out;
		}
		rl::yield(1, $);
	}
#else
	(void)spins;
	got = mpool_cache_steal_take(&w->p, c, cache(w, t), &rl);
	goto out;
#endif
	mpool_cache_give_remote(&w->p, c, &rl);
out:
	mpool_cache_steal_end(c);
	return got;
}

/*
 * Block 0 handed out by owner 0.  Thread 0 (the owner) frees it on its
 * fast path; thread 1 frees it too (a remote free) and then steals owner
 * 0's queue.  The thief must never take the block while the owner's
 * free can still land on it: the block in two caches.
 */
struct steal : rl::test_suite<steal, 2> {
	struct pworld w;
	int r[2];

	void before()
	{
		pw_init(&w, 2, 2);
		pw_alloc(&w, 0, 0, 0);
		pw_stack(&w, 1);
		w.mb.armed = true;
	}

	void thread(unsigned int t)
	{
		r[t] = pw_free(&w, t, 0);
		if (t == 1)
			pw_steal(&w, 1, 0, 2);
		pw_thread_end(&w);
	}

	void after()
	{
		w.mb.armed = false;
		check_pair(r[0], r[1], false);
		pw_check(&w, 2, 1);
	}
};

/*
 * The outbox thief of user/lib.c (mpool_steal_outboxes() for one victim,
 * with a bounded wait): cache @t sends owner @v's open batch.
 */
static void pw_steal_outbox(struct pworld *w, u32 t, u32 v, u32 nthreads)
{
	struct mpool_cache *c = cache(w, v);
	bool ok = false;
	u32 spins;

	if (!mpool_outbox_steal_begin(c, t))
		return;
#ifndef PLANT_OUTBOX_NO_MEMBARRIER
	pw_membarrier(w, t, nthreads);
#endif
	for (spins = 0; spins < 3 && !ok; spins++) {
		ok = !mpool_load_acquire(&c->busy);
		if (!ok)
			rl::yield(1, $);
	}
	mpool_outbox_steal_end(&w->p, c, cache(w, t), ok);
}

/*
 * Blocks 0 and 1 handed out by owner 0, magazines of 2, batches of 2.
 * Thread 1 frees both (remote frees: the first waits in its outbox, the
 * second fills the batch, which it sends); thread 0, their owner, runs
 * out meanwhile and sends thread 1's outbox for it, then collects.  The
 * batch must be sent once: never by both (a magazine on two lists, its
 * blocks collected twice), never by neither, and no block lost.
 */
struct outbox_steal : rl::test_suite<outbox_steal, 2> {
	struct pworld w;

	void before()
	{
		pw_init(&w, 2, 2, 2, 2);
		pw_alloc(&w, 0, 0, 0);
		pw_alloc(&w, 1, 0, 0);
		w.mb.armed = true;
	}

	void thread(unsigned int t)
	{
		if (t == 0) {
			pw_steal_outbox(&w, 0, 1, 2);
			mpool_cache_collect(&w.p, cache(&w, 0), cache(&w, 0));
		} else {
			RL_ASSERT(pw_free(&w, 1, 0) == 0);
			RL_ASSERT(pw_free(&w, 1, 1) == 0);
		}
		pw_thread_end(&w);
	}

	void after()
	{
		w.mb.armed = false;
		pw_check(&w, 2, 0);
	}
};

/* --- the runner ----------------------------------------------------------- */

#include "litmus_main.h"

/*
 * The search for each case: a context bound (every execution with at most
 * that many preemptions); a full search of these does not end in minutes
 * (the retry loops of the core's compare-and-swaps).  docs/testing.md has
 * the counts and times.
 */
static const struct litmus cases[] = {
	{ "owner_remote", run_case<owner_remote>, rl::sched_bound, 3, 0 },
	{ "remote_remote", run_case<remote_remote>, rl::sched_bound, 3, 0 },
	{ "collect", run_case<collect>, rl::sched_bound, 3, 0 },
	{ "stale_unlink", run_case<stale_unlink>, rl::sched_bound, 6, 0 },
	{ "steal", run_case<steal>, rl::sched_bound, 3, 0 },
	{ "outbox_steal", run_case<outbox_steal>, rl::sched_bound, 3, 0 },
};

int main(int argc, char **argv)
{
	return litmus_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
