/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * stepper.h - a thread that runs steps for a test's main thread, one at a
 * time: step() hands it a function and waits until it has run.  With the
 * state-word page write-protected, a step can stop a thread inside a call
 * (its SIGSEGV handler runs other threads' steps) to force an interleaving.
 */
#ifndef MPOOL_TEST_STEPPER_H
#define MPOOL_TEST_STEPPER_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <unistd.h>

#include "mempool.h"
#include "mpool_testing.h"

struct stepper {
	pthread_t tid;
	void (*fn)(void *arg);
	void *arg;
	int cmd;	/* 0 idle, 1 run, 2 done, 3 quit */
};

static void *stepper_main(void *arg)
{
	struct stepper *st = arg;
	int c;

	for (;;) {
		c = __atomic_load_n(&st->cmd, __ATOMIC_ACQUIRE);
		if (c == 3)
			return NULL;
		if (c != 1) {
			sched_yield();
			continue;
		}
		st->fn(st->arg);
		__atomic_store_n(&st->cmd, 2, __ATOMIC_RELEASE);
	}
}

static inline int stepper_start(struct stepper *st)
{
	st->cmd = 0;
	return pthread_create(&st->tid, NULL, stepper_main, st);
}

static inline void step(struct stepper *st, void (*fn)(void *), void *arg)
{
	st->fn = fn;
	st->arg = arg;
	__atomic_store_n(&st->cmd, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&st->cmd, __ATOMIC_ACQUIRE) != 2)
		sched_yield();
	__atomic_store_n(&st->cmd, 0, __ATOMIC_RELEASE);
}

/* Steps on the pool passed as the step's argument. */
static inline void step_pool_use(void *pool)	/* this thread's cache made */
{
	pool_free(pool, pool_alloc(pool));
}

static inline void step_pool_flush(void *pool)
{
	pool_cache_flush(pool);
}

static inline void step_pool_touch(void *pool)	/* made, and empty */
{
	step_pool_use(pool);
	step_pool_flush(pool);
}

static inline void stepper_stop(struct stepper *st)
{
	__atomic_store_n(&st->cmd, 3, __ATOMIC_RELEASE);
	pthread_join(st->tid, NULL);
}

/*
 * The page that holds @block's state word: write-protected, it stops the
 * next thread that stores to the word (its SIGSEGV handler runs then).
 */
static inline void *state_word_page(mempool_t *p, const void *block)
{
	uintptr_t w = (uintptr_t)mpool_testing_state_word(p, block);

	return (void *)(w & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1));
}

#endif /* MPOOL_TEST_STEPPER_H */
