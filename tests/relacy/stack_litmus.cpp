// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * stack_litmus.cpp - the core's Treiber stack (common/stack.c, the very
 * file the kernel and userspace builds compile) under Relacy's model of
 * C++11 atomics.
 *
 * common/stack.c is #included below, after this directory's mpool_env.h,
 * so its head and next[] are rl::atomic and every access it makes is a
 * step of the model with the memory order the core wrote.  Each case is a
 * few threads doing a few stack operations; Relacy runs every
 * interleaving of them (or a bounded or random sample of them, per case),
 * and in each lets every relaxed or acquire load return any value the
 * C++11 model allows.  A case checks:
 *
 *  - the stack's invariant at the end (struct mpool_stack): every index is
 *    exactly once either on the stack or held by the thread that popped
 *    it, and the chain from head ends in MPOOL_NIL;
 *  - ownership: whoever pops an index writes the block it stands for
 *    (block[], plain rl::var memory, as a user writes a block) and checks
 *    what the previous holder wrote.  Two holders at once, or a holder
 *    whose pop did not synchronise with the push that published the
 *    block, is a data race Relacy reports.
 *
 * Cases (each names the bug it exists to catch):
 *
 *   publish_chain  a pushed chain's links are seen by the pop that takes
 *                  it: pop's acquire load of head pairs with push's
 *                  release (a relaxed head load installs a stale link)
 *   push_pop_2t    two threads pop two and push them back, in full
 *   aba            a pop stalls between reading head = i and next[i]
 *                  and its swap, while the other thread pops i, pops
 *                  i's successor and pushes i back: the tag must fail
 *                  the stalled swap (without the tag bump it succeeds
 *                  and the successor is both held and on the stack)
 *   push_pop_3t    three threads pop one and push it back
 *   pop_chain      a bulk pop of two (mpool_stack_pop_chain()) against a
 *                  thread that pops one, pops another and pushes the first
 *                  back: the walk down the chain may read a stale link,
 *                  and then the tag must fail its swap
 *   depot          the pool's magazine depot: two stacks over one next[];
 *                  a spill pops a magazine from @empty, fills it with
 *                  plain stores and pushes it on @full; a refill pops it
 *                  from @full, reads the rounds and returns it to @empty
 *
 * Adding a case: write a struct deriving from rl::test_suite<name, N>
 * with before() (set up, single-threaded), thread(idx) and after()
 * (checks, single-threaded), and add one line to the cases[] table at the
 * bottom with the scheduler that keeps it well under a second or two
 * (docs/testing.md, "Model checking").  Another core file can join the
 * same way: #include it after mpool_env.h, with its shared words declared
 * with the mpool_atomic_* types.
 *
 * Usage: stack_litmus [-l LOG] [CASE...]   TAP on stdout; Relacy's own
 * output (a failing execution's full history) appended to LOG.
 */
/* Before mpool_env.h: relacy.hpp redefines new and delete. */
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "mpool_env.h"

/* The core's file, or a planted variant of it (make relacy's self-test). */
#ifndef MPOOL_STACK_C
#define MPOOL_STACK_C "../../common/stack.c"
#endif
#include MPOOL_STACK_C

#define MAX_IDX		8

/*
 * What a case's threads share besides the stack: the link array, one
 * block per index (the memory an index stands for) and what each thread
 * holds at the end.  Threads write only their own @held row; after() reads
 * it once every thread is done.
 */
struct world {
	mpool_atomic_u32 next[MAX_IDX];
	rl::var<int> block[MAX_IDX];
	u32 held[4][MAX_IDX];
	u32 nheld[4];
	u32 nidx;
};

/*
 * Indices 0..@n-1, of which 0 -> 1 -> ... -> @pushed-1 on @st and the rest
 * held by thread 0; next[] starts zeroed, as mpool_env_zalloc() gives it.
 */
static void world_init(struct world *w, struct mpool_stack *st, u32 n,
		       u32 pushed)
{
	u32 i;

	w->nidx = n;
	for (i = 0; i < MAX_IDX; i++) {
		MPOOL_WRITE(w->next[i], 0u);
		w->block[i]($) = -1;
	}
	for (i = 0; i < 4; i++)
		w->nheld[i] = 0;
	for (i = pushed; i < n; i++)
		w->held[0][w->nheld[0]++] = i;
	mpool_stack_init(st, w->next);
	for (i = pushed; i-- > 0; )
		mpool_stack_push_chain(st, i, i);
}

/* Pop for thread @tid: take the block over (a racing holder is a race). */
static u32 take(struct world *w, struct mpool_stack *st, unsigned int tid)
{
	u32 idx = mpool_stack_pop(st);

	if (idx == MPOOL_NIL)
		return idx;
	RL_ASSERT(idx < w->nidx);
	if (idx >= w->nidx)
		return MPOOL_NIL;
	/* The last holder's write, published by its push. */
	RL_ASSERT(w->block[idx]($) == -1);
	w->block[idx]($) = (int)(100 + tid);
	w->held[tid][w->nheld[tid]++] = idx;
	return idx;
}

/* Push back an index thread @tid holds. */
static void give(struct world *w, struct mpool_stack *st, unsigned int tid,
		 u32 idx)
{
	u32 i, n = w->nheld[tid];

	if (idx == MPOOL_NIL)
		return;
	for (i = 0; i < n && w->held[tid][i] != idx; i++)
		;
	RL_ASSERT(i < n);
	if (i < n)
		w->held[tid][i] = w->held[tid][--w->nheld[tid]];
	w->block[idx]($) = -1;
	mpool_stack_push_chain(st, idx, idx);
}

/*
 * Count the indices in @seen: each one on @st and, when @threads, each
 * one a thread still holds.  Return false (and fail the case) on an index
 * out of range or a chain longer than there are indices (a cycle).
 */
static bool count_stack(struct world *w, struct mpool_stack *st,
			u32 *seen)
{
	u32 idx = (u32)MPOOL_READ(st->head), steps = 0;

	while (idx != MPOOL_NIL) {
		RL_ASSERT(idx < w->nidx && steps < w->nidx);
		if (idx >= w->nidx || steps++ >= w->nidx)
			return false;
		seen[idx]++;
		idx = MPOOL_READ(st->next[idx]);
	}
	return true;
}

/* The invariant: every index exactly once, on @st or held by a thread. */
static void check_world(struct world *w, struct mpool_stack *st,
			unsigned int nthreads)
{
	u32 seen[MAX_IDX] = { 0 }, i, t;

	if (!count_stack(w, st, seen))
		return;
	for (t = 0; t < nthreads; t++)
		for (i = 0; i < w->nheld[t]; i++)
			seen[w->held[t][i]]++;
	for (i = 0; i < w->nidx; i++)
		RL_ASSERT(seen[i] == 1);
}

/* --- the cases ---------------------------------------------------------- */

/*
 * Thread 0 links 1 -> 2 and pushes the chain on a stack holding 0; thread
 * 1 pops twice.  Its pops must follow the links thread 0 wrote before its
 * push.
 */
struct publish_chain : rl::test_suite<publish_chain, 2> {
	struct world w;
	struct mpool_stack st;

	void before()
	{
		/* 0 on the stack; 1 and 2 held by thread 0. */
		world_init(&w, &st, 3, 1);
	}

	void thread(unsigned int tid)
	{
		if (tid == 0) {
			MPOOL_WRITE(w.next[1], 2u);
			w.nheld[0] = 0;
			mpool_stack_push_chain(&st, 1, 2);
		} else {
			take(&w, &st, 1);
			take(&w, &st, 1);
		}
	}

	void after()
	{
		check_world(&w, &st, 2);
	}
};

/* Each thread pops two indices and pushes them back, in either order. */
struct push_pop_2t : rl::test_suite<push_pop_2t, 2> {
	struct world w;
	struct mpool_stack st;

	void before()
	{
		world_init(&w, &st, 4, 4);
	}

	void thread(unsigned int tid)
	{
		u32 a = take(&w, &st, tid), b = take(&w, &st, tid);

		RL_ASSERT(a != MPOOL_NIL && b != MPOOL_NIL && a != b);
		give(&w, &st, tid, tid ? b : a);
		give(&w, &st, tid, tid ? a : b);
	}

	void after()
	{
		check_world(&w, &st, 2);
		RL_ASSERT(w.nheld[0] + w.nheld[1] == 0);
	}
};

/*
 * Thread 0 pops once.  Thread 1 pops x, pops y and pushes x back, so x
 * returns to the top with a different successor: thread 0's swap, if it
 * read head = x and next[x] = y before all that, must fail on the tag.
 */
struct aba : rl::test_suite<aba, 2> {
	struct world w;
	struct mpool_stack st;

	void before()
	{
		world_init(&w, &st, 3, 3);
	}

	void thread(unsigned int tid)
	{
		u32 x;

		if (tid == 0) {
			take(&w, &st, 0);
			return;
		}
		x = take(&w, &st, 1);
		take(&w, &st, 1);
		give(&w, &st, 1, x);
	}

	void after()
	{
		check_world(&w, &st, 2);
	}
};

/* Three threads each pop one index and push it back. */
struct push_pop_3t : rl::test_suite<push_pop_3t, 3> {
	struct world w;
	struct mpool_stack st;

	void before()
	{
		world_init(&w, &st, 3, 3);
	}

	void thread(unsigned int tid)
	{
		u32 a = take(&w, &st, tid);

		RL_ASSERT(a != MPOOL_NIL);
		give(&w, &st, tid, a);
	}

	void after()
	{
		check_world(&w, &st, 3);
		RL_ASSERT(w.nheld[0] + w.nheld[1] + w.nheld[2] == 0);
	}
};

/*
 * Thread 0 takes two indices with one mpool_stack_pop_chain() and pushes
 * them back one by one; thread 1 pops x, pops y and pushes x back (x on
 * top again, with a new successor), as in aba.  The bulk pop's walk reads
 * next[] of indices thread 1 may hold meanwhile: only a swap against an
 * unchanged head (tag included) may succeed, and the chain it takes must
 * be exactly the two indices that were on top.
 */
struct pop_chain : rl::test_suite<pop_chain, 2> {
	struct world w;
	struct mpool_stack st;

	void before()
	{
		world_init(&w, &st, 4, 4);
	}

	void thread(unsigned int tid)
	{
		u32 first, second, n, x;

		if (tid == 1) {
			x = take(&w, &st, 1);
			take(&w, &st, 1);
			give(&w, &st, 1, x);
			return;
		}
		first = mpool_stack_pop_chain(&st, 2, &n);
		RL_ASSERT(first != MPOOL_NIL && n == 2);
		if (first == MPOOL_NIL || n != 2 || first >= w.nidx)
			return;
		second = MPOOL_READ(w.next[first]);
		RL_ASSERT(second < w.nidx && second != first);
		if (second >= w.nidx || second == first)
			return;
		/* Take both over, as take() does for one. */
		RL_ASSERT(w.block[first]($) == -1);
		RL_ASSERT(w.block[second]($) == -1);
		w.block[first]($) = 100;
		w.block[second]($) = 100;
		w.held[0][w.nheld[0]++] = first;
		w.held[0][w.nheld[0]++] = second;
		give(&w, &st, 0, second);
		give(&w, &st, 0, first);
	}

	void after()
	{
		check_world(&w, &st, 2);
	}
};

/*
 * The depot of common/pool.c in miniature: two magazines of two rounds,
 * stacks @full and @empty over one next[] (as mpool_pool_init() sets them
 * up).  Thread 0 spills twice: pop @empty, store the rounds (plain
 * stores), push @full.  Thread 1 refills twice: pop @full, load the
 * rounds, push @empty.  A refill must see the rounds of the spill that
 * pushed the magazine, and a spill must not write rounds a refill is
 * still reading: both are data races on @rounds unless each push
 * publishes and each pop acquires.
 */
#define NMAGS	2
#define ROUNDS	2

struct depot : rl::test_suite<depot, 2> {
	mpool_atomic_u32 next[NMAGS];
	struct mpool_stack full, empty;
	rl::var<int> rounds[NMAGS][ROUNDS];

	void before()
	{
		u32 m, k;

		for (m = 0; m < NMAGS; m++) {
			MPOOL_WRITE(next[m], 0u);
			for (k = 0; k < ROUNDS; k++)
				rounds[m][k]($) = 0;
		}
		mpool_stack_init(&full, next);
		mpool_stack_init(&empty, next);
		for (m = 0; m < NMAGS; m++)
			mpool_stack_push_chain(&empty, m, m);
	}

	void spill(int round)
	{
		u32 m = mpool_stack_pop(&empty), k;

		if (m == MPOOL_NIL)
			return;
		RL_ASSERT(m < NMAGS);
		for (k = 0; k < ROUNDS; k++)
			rounds[m][k]($) = 10 * round + (int)k;
		mpool_stack_push_chain(&full, m, m);
	}

	void refill()
	{
		u32 m = mpool_stack_pop(&full), k;
		int r;

		if (m == MPOOL_NIL)
			return;
		RL_ASSERT(m < NMAGS);
		for (k = 0; k < ROUNDS; k++) {
			r = rounds[m][k]($);
			/* A round of spill 1 or 2, in its place. */
			RL_ASSERT(r >= 10 && r % 10 == (int)k);
		}
		mpool_stack_push_chain(&empty, m, m);
	}

	void thread(unsigned int tid)
	{
		if (tid == 0) {
			spill(1);
			spill(2);
		} else {
			refill();
			refill();
		}
	}

	/* Each magazine on exactly one of the stacks. */
	void after()
	{
		u32 seen[NMAGS] = { 0 }, m, steps;
		struct mpool_stack *st[2] = { &full, &empty };
		int i;

		for (i = 0; i < 2; i++) {
			steps = 0;
			for (m = (u32)MPOOL_READ(st[i]->head); m != MPOOL_NIL;
			     m = MPOOL_READ(next[m])) {
				RL_ASSERT(m < NMAGS && steps < NMAGS);
				if (m >= NMAGS || steps++ >= NMAGS)
					return;
				seen[m]++;
			}
		}
		for (m = 0; m < NMAGS; m++)
			RL_ASSERT(seen[m] == 1);
	}
};

/* --- the runner ----------------------------------------------------------- */

#define LITMUS_SOURCE	MPOOL_STACK_C
#include "litmus_main.h"

/*
 * The search for each case: the full search where every execution can be
 * visited in about a second, else a context bound (every execution with at
 * most that many preemptions) or a seeded random sample.  docs/testing.md
 * has the counts and times.
 */
static const struct litmus cases[] = {
	{ "publish_chain", run_case<publish_chain>, rl::sched_full, 0, 0 },
	{ "push_pop_2t", run_case<push_pop_2t>, rl::sched_bound, 4, 0 },
	{ "aba", run_case<aba>, rl::sched_full, 0, 0 },
	{ "push_pop_3t", run_case<push_pop_3t>, rl::sched_bound, 3, 0 },
	{ "pop_chain", run_case<pop_chain>, rl::sched_bound, 5, 0 },
	{ "depot", run_case<depot>, rl::sched_bound, 6, 0 },
};

int main(int argc, char **argv)
{
	return litmus_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
