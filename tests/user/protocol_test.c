// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * protocol_test.c - interleavings of the pool's ownership protocol that
 * real threads cannot be made to run, driven step by step on the core's
 * own functions (common/pool.c) from one thread: each context's steps are
 * the calls its build makes, in the order a scheduler could give them.
 * The fast-path free is split where a stopped thread could be stopped
 * (after its load, before its store), as the SIGSEGV tests of
 * threads_test.c stop it for real.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "mpool.h"

static struct mpool_cache *cache_new(struct mpool_pool *p, u32 owner)
{
	struct mpool_cache *c = aligned_alloc(MPOOL_ALIGN,
					      mpool_cache_bytes(p));

	if (c) {
		memset(c, 0, mpool_cache_bytes(p));
		mpool_cache_init(p, c, owner);
	}
	return c;
}

/* mpool_cache_free_fast() up to its load: the owner stops there. */
static u64 fast_free_load(struct mpool_pool *p, struct mpool_cache *c,
			  void *ptr)
{
	u32 idx = mpool_slab_index_unchecked(&p->slab, ptr);

	mpool_env_owner_enter(&c->busy);
	return MPOOL_READ(p->slab.state[idx]);
}

/* The rest of it: the store of the word it loaded, and the cache's push. */
static void fast_free_store(struct mpool_pool *p, struct mpool_cache *c,
			    void *ptr, u64 w)
{
	u32 idx = mpool_slab_index_unchecked(&p->slab, ptr), n = c->count;

	MPOOL_WRITE(p->slab.state[idx], w + c->free_delta);
	mpool_env_owner_exit(&c->busy);
	c->objs[n].ptr = ptr;
	MPOOL_WRITE(c->count, n + 1);
}

static unsigned int in_cache(const struct mpool_cache *c, const void *ptr)
{
	unsigned int i, n = 0;

	for (i = 0; i < c->count; i++)
		n += c->objs[i].ptr == ptr;
	return n;
}

/*
 * Two thieves on one victim.  Owner O's fast free of b stops after its
 * load; X frees b too (a racing double free: X's batch entry for O is left
 * stale once O's store lands).  Thief T1 takes O's queues (X's entry: b is
 * FREE, so it marks nothing), passes its handshake, and stops.  O hands b
 * out again and stops in a second fast free of it; Y frees b (a second
 * racing double free, a live entry for O).  Thief T2 now tries O: with a
 * second thief at work it could mark b through Y's entry, fail its own
 * handshake and give the list back, marks left; T1, resuming, would take
 * b through X's entry by T2's mark while O's late store puts b in O's
 * cache: one block in two caches.  One thief per victim: T2 stays out, T1
 * passes b back to O, and O's store and collection leave b in one cache,
 * with the two double frees reported once each.
 */
TEST(two_thieves_one_victim)
{
	struct mpool_pool p;
	struct mpool_cache *o, *x, *y, *t1, *t2;
	struct mpool_remote_list rl1, rl2;
	void *b, *again;
	u64 w;

	ASSERT_EQ(0, mpool_pool_init(&p, 64, 8, 64, 0, 5));
	o = cache_new(&p, 0);
	x = cache_new(&p, 1);
	y = cache_new(&p, 2);
	t1 = cache_new(&p, 3);
	t2 = cache_new(&p, 4);
	ASSERT_TRUE(o && x && y && t1 && t2);

	b = mpool_cache_alloc(&p, o);
	ASSERT_NE(NULL, b);
	w = fast_free_load(&p, o, b);
	EXPECT_EQ(0, mpool_cache_free(&p, x, b));
	mpool_outbox_flush(&p, x, x);
	fast_free_store(&p, o, b, w);

	/* T1: begin, mark; its membarrier and its look at busy (clear). */
	ASSERT_TRUE(mpool_cache_steal_begin(o, &rl1));
	mpool_cache_steal_mark(&p, o, &rl1);
	EXPECT_EQ(0, MPOOL_READ(o->busy));

	again = mpool_cache_alloc(&p, o);
	ASSERT_EQ(b, again);
	w = fast_free_load(&p, o, b);
	EXPECT_EQ(0, mpool_cache_free(&p, y, b));
	mpool_outbox_flush(&p, y, y);

	/* T2, while T1 is at work: it must not get O's queues. */
	if (mpool_cache_steal_begin(o, &rl2)) {
		mpool_cache_steal_mark(&p, o, &rl2);
		/* O's busy is set: T2 gives the list back, marks left. */
		mpool_cache_give_remote(&p, o, &rl2);
		mpool_cache_steal_end(o);
	}

	/* T1 takes; then O's late store lands; O collects at its refill. */
	mpool_cache_steal_take(&p, o, t1, &rl1);
	mpool_cache_steal_end(o);
	fast_free_store(&p, o, b, w);
	mpool_cache_collect(&p, o, o);

	EXPECT_EQ(1, in_cache(o, b) + in_cache(t1, b));
	EXPECT_EQ(2, mpool_counter_read(&p.slab.misuse[MPOOL_MISUSE_DOUBLE]));
	EXPECT_EQ(0, MPOOL_READ(o->thief));

	free(t2);
	free(t1);
	free(y);
	free(x);
	free(o);
	mpool_pool_fini(&p);
}

TEST_HARNESS_MAIN
