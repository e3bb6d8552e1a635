// SPDX-License-Identifier: GPL-2.0
/*
 * threads_test.c - what only userspace has: threads that come and go,
 * cross-thread frees, destroy under live threads, fork().
 */
#define _GNU_SOURCE	/* pthread_setaffinity_np() */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mempool.h"
#include "kselftest_harness.h"

#define NTHREADS	6
#define CAPACITY	4096
#define BLOCK		256

/*
 * Misuse reports.  Every test here starts with count_report() as the
 * error hook (installed before the harness forks the tests): it counts
 * each report and prints only the first REPORTS_SHOWN, so that a broken
 * allocator fails a test in a few lines rather than flooding the log;
 * at @reports_fatal reports it ends the test there and then, so that an
 * allocator caught in a loop of reports fails at once, not at the
 * harness's timeout.  A test whose scenario holds no misuse ends with
 * EXPECT_EQ(0, reports()): a report it did not ask for (a block dropped
 * as corrupt, say) is a failure even when everything it checks for
 * itself came out right.
 */
#define REPORTS_SHOWN	5

static unsigned long nreports;
/* More than any test here makes on purpose; the stress sets it to 1. */
static unsigned long reports_fatal = 10000;

static void count_report(const struct mempool_error *e, void *arg)
{
	unsigned long n = __atomic_add_fetch(&nreports, 1, __ATOMIC_RELAXED);

	(void)arg;
	if (n <= REPORTS_SHOWN)
		fprintf(stderr, "# report %lu: %s %p: %s: %p (%d)\n", n,
			e->kind, e->allocator, e->what, e->ptr, e->err);
	else if (n == REPORTS_SHOWN + 1)
		fprintf(stderr, "# more reports: counted, not shown\n");
	if (n >= reports_fatal) {
		fprintf(stderr, "# %lu report(s): the test ends here\n", n);
		_exit(1);
	}
}

static unsigned long reports(void)
{
	return __atomic_load_n(&nreports, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void count_reports_from_start(void)
{
	mempool_set_error_hook(count_report, NULL);
}

/*
 * Ownership ledger: one word per block, 0 when free, else the owner's id.
 * Taking a block is a compare-and-swap 0 -> id that must succeed: a block
 * handed to two owners at once fails it.
 */
struct ledger {
	uintptr_t base;
	size_t stride;
	size_t count;
	unsigned int *owner;
	unsigned long twice;	/* blocks seen owned twice */
	unsigned long stray;	/* pointers outside the pool */
};

/* Learn the pool's block addresses by taking every block once. */
static int ledger_init(struct ledger *l, void *(*alloc)(void *), int (*release)(void *, void *),
		       void *a, size_t count, size_t stride)
{
	void **v = calloc(count, sizeof(*v));
	uintptr_t lo = UINTPTR_MAX;
	size_t i;

	if (!v)
		return -1;
	for (i = 0; i < count; i++) {
		v[i] = alloc(a);
		if (!v[i])
			return -1;
		if ((uintptr_t)v[i] < lo)
			lo = (uintptr_t)v[i];
	}
	for (i = 0; i < count; i++)
		if (release(a, v[i]))
			return -1;
	free(v);
	memset(l, 0, sizeof(*l));
	l->base = lo;
	l->stride = stride;
	l->count = count;
	l->owner = calloc(count, sizeof(*l->owner));
	return l->owner ? 0 : -1;
}

static unsigned int *ledger_slot(struct ledger *l, void *p)
{
	uintptr_t off = (uintptr_t)p - l->base;

	if (off % l->stride || off / l->stride >= l->count) {
		__atomic_add_fetch(&l->stray, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return &l->owner[off / l->stride];
}

static void ledger_take(struct ledger *l, void *p, unsigned int id)
{
	unsigned int *o = ledger_slot(l, p), none = 0;

	if (o && !__atomic_compare_exchange_n(o, &none, id, false,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE))
		__atomic_add_fetch(&l->twice, 1, __ATOMIC_RELAXED);
}

static void ledger_drop(struct ledger *l, void *p)
{
	unsigned int *o = ledger_slot(l, p);

	if (o)
		__atomic_store_n(o, 0, __ATOMIC_RELEASE);
}

/* A bounded exchange where threads leave blocks for others to free. */
struct exchange {
	pthread_mutex_t lock;
	void *slot[1024];
	unsigned int n;
};

static bool xchg_put(struct exchange *x, void *p)
{
	bool ok;

	pthread_mutex_lock(&x->lock);
	ok = x->n < 1024;
	if (ok)
		x->slot[x->n++] = p;
	pthread_mutex_unlock(&x->lock);
	return ok;
}

static void *xchg_get(struct exchange *x)
{
	void *p = NULL;

	pthread_mutex_lock(&x->lock);
	if (x->n)
		p = x->slot[--x->n];
	pthread_mutex_unlock(&x->lock);
	return p;
}

struct stress {
	mempool_t *pool;
	slab_allocator_t *slab;
	struct ledger ledger;
	struct exchange xchg;
	unsigned long errors;
	unsigned long allocs;
	unsigned int rounds;
	time_t deadline;	/* soak: run until then instead of @rounds */
};

struct worker {
	struct stress *s;
	unsigned int id;
};

static void *s_alloc(struct stress *s)
{
	return s->pool ? pool_alloc(s->pool) : slab_alloc(s->slab);
}

static int s_free(struct stress *s, void *p)
{
	return s->pool ? pool_free(s->pool, p) : slab_free(s->slab, p);
}

/*
 * Whether anything went wrong yet: every worker stops at the first
 * failure, so that a broken allocator ends the stress at once.
 */
static bool stress_failed(struct stress *s)
{
	return __atomic_load_n(&s->errors, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&s->ledger.twice, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&s->ledger.stray, __ATOMIC_RELAXED) ||
	       reports();
}

/* Each block carries its owner's id in its first word while it is owned. */
static void *stress_worker(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	unsigned int seed = w->id, r, i, n;
	void *mine[64], *p;

	for (r = 0; (s->deadline ? time(NULL) < s->deadline : r < s->rounds) &&
	     !stress_failed(s); r++) {
		n = (rand_r(&seed) % 64) + 1;
		for (i = 0; i < n; i++) {
			mine[i] = s_alloc(s);
			if (!mine[i])
				break;
			ledger_take(&s->ledger, mine[i], w->id);
			memset(mine[i], (int)w->id, BLOCK);
			__atomic_add_fetch(&s->allocs, 1, __ATOMIC_RELAXED);
		}
		n = i;
		for (i = 0; i < n; i++) {
			p = mine[i];
			if (((unsigned char *)p)[BLOCK - 1] != (unsigned char)w->id)
				__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
			/* Half go to other threads to free. */
			if ((i & 1) && xchg_put(&s->xchg, p))
				continue;
			ledger_drop(&s->ledger, p);
			if (s_free(s, p))
				__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
		}
		while ((p = xchg_get(&s->xchg))) {
			ledger_drop(&s->ledger, p);
			if (s_free(s, p))
				__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void *pool_alloc_fn(void *a)
{
	return pool_alloc(a);
}

static int pool_free_fn(void *a, void *p)
{
	return pool_free(a, p);
}

static void *slab_alloc_fn(void *a)
{
	return slab_alloc(a);
}

static int slab_free_fn(void *a, void *p)
{
	return slab_free(a, p);
}

FIXTURE(stress) {
	struct stress s;
};

FIXTURE_VARIANT(stress) {
	bool slab;
	unsigned int flags;
	size_t cache;
};

FIXTURE_VARIANT_ADD(stress, pool) { .slab = false, .flags = 0, .cache = 32 };
FIXTURE_VARIANT_ADD(stress, pool_debug) {
	.slab = false, .flags = MEMPOOL_DEBUG, .cache = 32 };
FIXTURE_VARIANT_ADD(stress, pool_tiny_cache) {
	.slab = false, .flags = 0, .cache = 2 };
FIXTURE_VARIANT_ADD(stress, slab) { .slab = true, .flags = 0, .cache = 0 };

FIXTURE_SETUP(stress)
{
	struct mempool_stats st;

	memset(&self->s, 0, sizeof(self->s));
	pthread_mutex_init(&self->s.xchg.lock, NULL);
	/* No misuse here: the first report is the failure. */
	reports_fatal = 1;
	self->s.rounds = 10000;
	/* make soak: MEMPOOL_SOAK_SECONDS per variant instead of rounds. */
	if (getenv("MEMPOOL_SOAK_SECONDS"))
		self->s.deadline = time(NULL) +
				   atol(getenv("MEMPOOL_SOAK_SECONDS"));
	if (variant->slab) {
		self->s.slab = slab_create_flags(BLOCK, CAPACITY, variant->flags);
		ASSERT_NE(NULL, self->s.slab);
		/* Debug mode's red zones may widen the stride. */
		ASSERT_EQ(0, slab_stats(self->s.slab, &st));
		ASSERT_EQ(0, ledger_init(&self->s.ledger, slab_alloc_fn,
					 slab_free_fn, self->s.slab, CAPACITY,
					 st.stride));
	} else {
		self->s.pool = pool_create_flags(BLOCK, variant->cache,
						 CAPACITY, variant->flags);
		ASSERT_NE(NULL, self->s.pool);
		ASSERT_EQ(0, pool_stats(self->s.pool, &st));
		ASSERT_EQ(0, ledger_init(&self->s.ledger, pool_alloc_fn,
					 pool_free_fn, self->s.pool, CAPACITY,
					 st.stride));
	}
}

FIXTURE_TEARDOWN(stress)
{
	pool_destroy(self->s.pool);
	slab_destroy(self->s.slab);
	free(self->s.ledger.owner);
}

/*
 * NTHREADS threads allocate, hand half their blocks to others and free
 * what others left; no block is ever owned twice, no pointer is outside the
 * pool, no free fails; after the threads exit everything is free and the
 * whole capacity can be allocated again by one thread.
 */
TEST_F_TIMEOUT(stress, cross_thread, 900)
{
	struct worker w[NTHREADS];
	pthread_t tid[NTHREADS];
	struct mempool_stats st;
	void **v;
	size_t i;

	for (i = 0; i < NTHREADS; i++) {
		w[i].s = &self->s;
		w[i].id = (unsigned int)i + 1;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, stress_worker, &w[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_join(tid[i], NULL));
	EXPECT_EQ(0, self->s.ledger.twice);
	EXPECT_EQ(0, self->s.ledger.stray);
	EXPECT_EQ(0, self->s.errors);
	EXPECT_EQ(0, reports());
	/* The workers stopped at the first failure: so does the test. */
	ASSERT_FALSE(stress_failed(&self->s));
	EXPECT_LT(NTHREADS * 1000UL, self->s.allocs);

	if (self->s.pool) {
		/* The setup filled this thread's cache: give it back. */
		EXPECT_LT(0, pool_cache_flush(self->s.pool));
		pool_stats(self->s.pool, &st);
	} else {
		slab_stats(self->s.slab, &st);
	}
	EXPECT_EQ(0, st.in_use);
	EXPECT_EQ(0, st.cached);	/* exited threads gave their caches back */
	EXPECT_EQ(CAPACITY, st.free);
	EXPECT_EQ(0, st.invalid + st.double_free + st.corrupt);

	v = calloc(CAPACITY, sizeof(*v));
	ASSERT_NE(NULL, v);
	for (i = 0; i < CAPACITY; i++) {
		v[i] = s_alloc(&self->s);
		ASSERT_NE(NULL, v[i]);
		ledger_take(&self->s.ledger, v[i], 99);
	}
	EXPECT_EQ(NULL, s_alloc(&self->s));
	EXPECT_EQ(0, self->s.ledger.twice);
	EXPECT_EQ(0, self->s.ledger.stray);
	for (i = 0; i < CAPACITY; i++)
		ASSERT_EQ(0, s_free(&self->s, v[i]));
	free(v);
	EXPECT_EQ(0, reports());
}

/* --- thread exit and destroy ------------------------------------------ */

struct user {
	mempool_t *pool;
	pthread_barrier_t *bar;
	int result;
	int *done;
};

static void *use_and_exit(void *arg)
{
	struct user *u = arg;
	void *v[40];
	int i;

	for (i = 0; i < 40; i++)
		v[i] = pool_alloc(u->pool);
	for (i = 0; i < 40; i++)
		u->result |= pool_free(u->pool, v[i]) != 0 || !v[i];
	if (u->done)	/* the last use: the exit handler still runs */
		__atomic_add_fetch(u->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A thread's cached blocks go back to the pool when it exits. */
TEST(thread_exit_returns_cache)
{
	struct user u = { pool_create(64, 64, 1000), NULL, 0, NULL };
	struct mempool_stats st;
	pthread_t t;
	int i;

	ASSERT_NE(NULL, u.pool);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, pthread_create(&t, NULL, use_and_exit, &u));
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, pool_stats(u.pool, &st));
		ASSERT_EQ(0, st.cached);
		ASSERT_EQ(1000, st.free);
	}
	EXPECT_EQ(0, u.result);
	EXPECT_EQ(0, reports());
	pool_destroy(u.pool);
}

static void *use_then_wait(void *arg)
{
	struct user *u = arg;
	mempool_t *again;
	void *v[200];
	int i;

	for (i = 0; i < 20; i++)
		v[i] = pool_alloc(u->pool);
	for (i = 0; i < 20; i++)
		u->result |= pool_free(u->pool, v[i]) != 0;
	pthread_barrier_wait(u->bar);	/* main destroys the pool */
	pthread_barrier_wait(u->bar);
	/* A new pool, quite likely in the same slot and at the same address. */
	again = pool_create(64, 16, 200);
	if (!again)
		return (void *)1;
	for (i = 0; i < 200; i++) {
		v[i] = pool_alloc(again);
		u->result |= !v[i];
	}
	u->result |= pool_alloc(again) != NULL;
	for (i = 0; i < 200; i++)
		u->result |= pool_free(again, v[i]) != 0;
	pool_destroy(again);
	return NULL;
}

/*
 * pool_destroy() while threads that used the pool live; the threads then
 * use a new pool (same registry slot, often the same address) and exit.
 * ASan checks nothing is touched after it is freed, LSan that nothing
 * leaks.
 */
TEST(destroy_while_threads_live)
{
	pthread_barrier_t bar;
	struct user u[4];
	pthread_t t[4];
	mempool_t *p = pool_create(64, 16, 200);
	int i;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, 5));
	for (i = 0; i < 4; i++) {
		u[i] = (struct user){ p, &bar, 0, NULL };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, use_then_wait, &u[i]));
	}
	pthread_barrier_wait(&bar);
	pool_destroy(p);
	pthread_barrier_wait(&bar);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, u[i].result);
	}
	pthread_barrier_destroy(&bar);
	EXPECT_EQ(0, reports());
}

/* Destroy racing with threads exiting (whose caches drain into the pool). */
TEST(destroy_races_thread_exit)
{
	struct user u[4];
	pthread_t t[4];
	mempool_t *p;
	int round, i, done;

	for (round = 0; round < 200; round++) {
		p = pool_create(64, 8, 400);
		ASSERT_NE(NULL, p);
		done = 0;
		for (i = 0; i < 4; i++) {
			u[i] = (struct user){ p, NULL, 0, &done };
			ASSERT_EQ(0, pthread_create(&t[i], NULL, use_and_exit,
						    &u[i]));
		}
		/* Wait for the last use, not for exit: destroy meets exits. */
		while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) < 4)
			sched_yield();
		pool_destroy(p);
		for (i = 0; i < 4; i++) {
			ASSERT_EQ(0, pthread_join(t[i], NULL));
			EXPECT_EQ(0, u[i].result);
		}
		ASSERT_EQ(0, reports());
	}
}

/* A stale TLS entry of a destroyed pool is never used for a new pool. */
TEST(stale_cache_same_address)
{
	mempool_t *p, *q;
	void *v[100], *a;
	int round, i;

	for (round = 0; round < 20; round++) {
		p = pool_create(128, 32, 100);
		ASSERT_NE(NULL, p);
		a = pool_alloc(p);
		ASSERT_EQ(0, pool_free(p, a));	/* a sits in our cache */
		pool_destroy(p);
		q = pool_create(128, 32, 100);
		ASSERT_NE(NULL, q);
		for (i = 0; i < 100; i++) {
			v[i] = pool_alloc(q);
			ASSERT_NE(NULL, v[i]);
		}
		EXPECT_EQ(NULL, pool_alloc(q));
		for (i = 0; i < 100; i++)
			ASSERT_EQ(0, pool_free(q, v[i]));
		pool_destroy(q);
		/* A stale block met and dropped is a failure too. */
		ASSERT_EQ(0, reports());
	}
}

/* One thread with caches in many pools at once (the TLS vector grows). */
TEST(many_pools_one_thread)
{
	mempool_t *p[300];
	void *a;
	int i;

	for (i = 0; i < 300; i++) {
		p[i] = pool_create(64, 4, 8);
		ASSERT_NE(NULL, p[i]);
		a = pool_alloc(p[i]);
		ASSERT_NE(NULL, a);
		ASSERT_EQ(0, pool_free(p[i], a));
	}
	for (i = 0; i < 300; i++) {
		a = pool_alloc(p[i]);
		ASSERT_NE(NULL, a);
		EXPECT_EQ(-EINVAL, pool_free(p[(i + 1) % 300], a));
		ASSERT_EQ(0, pool_free(p[i], a));
	}
	for (i = 0; i < 300; i++)
		pool_destroy(p[i]);
	/* The 300 foreign frees above, and nothing else. */
	EXPECT_EQ(300, reports());
}

/* --- fork ------------------------------------------------------------- */

struct holder {
	mempool_t *pool;
	slab_allocator_t *slab;
	pthread_barrier_t bar;
};

static void *hold_cached(void *arg)
{
	struct holder *h = arg;
	void *v[30];
	int i;

	for (i = 0; i < 30; i++)
		v[i] = pool_alloc(h->pool);
	for (i = 0; i < 30; i++)
		pool_free(h->pool, v[i]);	/* now cached by this thread */
	pthread_barrier_wait(&h->bar);	/* main forks */
	pthread_barrier_wait(&h->bar);
	return NULL;
}

/* Allocate until empty; return how many, or -1 on a duplicate. */
static long drain_count(void *(*alloc)(void *), void *a, size_t max)
{
	void **v = calloc(max + 1, sizeof(*v));
	size_t n, i;
	long ret;

	for (n = 0; n <= max; n++) {
		v[n] = alloc(a);
		if (!v[n])
			break;
		for (i = 0; i < n; i++)
			if (v[i] == v[n])
				break;
		if (i < n)
			break;
	}
	ret = n <= max && v[n] ? -1 : (long)n;
	free(v);
	return ret;
}

/*
 * The child of fork() keeps allocating from pools and slabs made before
 * it: blocks cached by another parent thread are free again in the child,
 * blocks the parent held allocated stay allocated.
 */
TEST(fork_child_allocates)
{
	struct holder h;
	pthread_t t;
	void *held[10];
	int status, i;
	pid_t pid;

	h.pool = pool_create(64, 32, 100);
	h.slab = slab_create(64, 50);
	ASSERT_NE(NULL, h.pool);
	ASSERT_NE(NULL, h.slab);
	ASSERT_EQ(0, pthread_barrier_init(&h.bar, NULL, 2));
	ASSERT_EQ(0, pthread_create(&t, NULL, hold_cached, &h));
	for (i = 0; i < 10; i++) {
		held[i] = pool_alloc(h.pool);
		ASSERT_NE(NULL, held[i]);
		ASSERT_NE(NULL, slab_alloc(h.slab));
	}
	pthread_barrier_wait(&h.bar);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		long np = drain_count(pool_alloc_fn, h.pool, 100);
		long ns = drain_count(slab_alloc_fn, h.slab, 50);

		_exit(np == 90 && ns == 40 && !reports() ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	pthread_barrier_wait(&h.bar);
	ASSERT_EQ(0, pthread_join(t, NULL));
	/* The parent goes on as before. */
	for (i = 0; i < 10; i++)
		EXPECT_EQ(0, pool_free(h.pool, held[i]));
	EXPECT_EQ(100, drain_count(pool_alloc_fn, h.pool, 100));
	EXPECT_EQ(0, reports());
	pool_destroy(h.pool);
	slab_destroy(h.slab);
	pthread_barrier_destroy(&h.bar);
}

/* A stray write: ASan must not stop it, the allocator must catch it. */
__attribute__((no_sanitize_address, noinline))
static void poke(void *p, int off, int c)
{
	((volatile unsigned char *)p)[off] = (unsigned char)c;
}

/* Count reports in a process (a forked child installs it). */
static int child_reports;

static void child_hook(const struct mempool_error *e, void *arg)
{
	(void)e;
	(void)arg;
	__atomic_add_fetch(&child_reports, 1, __ATOMIC_RELAXED);
}

#define BIG	(256 * 1024)

struct churner {
	mempool_t *pool;
	slab_allocator_t *slab;
	int stop;
};

/* Allocate, write and free big debug blocks, so frees are often mid-poison. */
static void *churn(void *arg)
{
	struct churner *c = arg;
	void *p, *q;

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		p = pool_alloc(c->pool);
		q = slab_alloc(c->slab);
		if (p)
			memset(p, 0x33, BIG);
		if (q)
			memset(q, 0x44, BIG);
		pool_free(c->pool, p);
		slab_free(c->slab, q);
	}
	return NULL;
}

/*
 * Debug mode: a child forked while another thread is in the middle of
 * poisoning a block it frees (its state word already says free) must not
 * report a use after free that never happened: each child takes every
 * block of the pool and the slab, all checked, and must see no report.
 */
/*
 * For a test that needs more than the harness's default 30 s (a plain
 * TEST() cannot say so in 6.1's kselftest_harness.h).
 */
FIXTURE(slow) {
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

/* 200 forks touching 4 MiB each: slow on a loaded machine, hence 120 s. */
TEST_F_TIMEOUT(slow, fork_debug_no_false_reports, 120)
{
	struct churner c = { 0 };
	int i, status, bad = 0, forks = 200;
	pthread_t t;
	pid_t pid;

	c.pool = pool_create_flags(BIG, 4, 8, MEMPOOL_DEBUG);
	c.slab = slab_create_flags(BIG, 8, MEMPOOL_DEBUG);
	ASSERT_NE(NULL, c.pool);
	ASSERT_NE(NULL, c.slab);
	ASSERT_EQ(0, pthread_create(&t, NULL, churn, &c));
	for (i = 0; i < forks; i++) {
		usleep(50);
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			long np, ns;

			mempool_set_error_hook(child_hook, NULL);
			np = drain_count(pool_alloc_fn, c.pool, 8);
			ns = drain_count(slab_alloc_fn, c.slab, 8);
			/* The churner's blocks in flight are free here too. */
			_exit(child_reports ? 1 : np < 7 || ns < 7 ? 2 : 0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, reports());
	pool_destroy(c.pool);
	slab_destroy(c.slab);
}

/*
 * A block quarantined before fork() stays out in the child: the rebuild
 * does not free it again, the counts are the parent's, and no new report
 * is made.
 */
TEST(fork_keeps_quarantine)
{
	struct mempool_stats st;
	void *v[16];
	int i, status;
	mempool_t *p;
	pid_t pid;

	p = pool_create_flags(128, 4, 16, MEMPOOL_DEBUG);
	ASSERT_NE(NULL, p);
	mempool_set_error_hook(child_hook, NULL);
	for (i = 0; i < 16; i++)
		ASSERT_NE(NULL, v[i] = pool_alloc(p));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, pool_free(p, v[i]));
	poke(v[5], 3, 1);	/* a write after free */
	EXPECT_EQ(15, drain_count(pool_alloc_fn, p, 16));
	ASSERT_EQ(0, pool_stats(p, &st));
	EXPECT_EQ(1, st.quarantined);
	EXPECT_EQ(1, st.corrupt);
	EXPECT_EQ(1, child_reports);
	EXPECT_EQ(15, st.in_use);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct mempool_stats cs;
		int before = child_reports;

		/* Every block the parent holds is still allocated here. */
		pool_stats(p, &cs);
		if (cs.quarantined != 1 || cs.corrupt != 1 || cs.in_use != 15 ||
		    cs.free + cs.cached != 0)
			_exit(1);
		if (drain_count(pool_alloc_fn, p, 16) != 0)
			_exit(2);
		_exit(child_reports != before ? 3 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	mempool_set_error_hook(NULL, NULL);
	pool_destroy(p);
}

/* --- racing double frees ---------------------------------------------- */

struct racer {
	mempool_t *pool;
	pthread_barrier_t *bar;
	void *volatile *target;
	int rounds;
	int zero, already, other;
};

static void *race_free(void *arg)
{
	struct racer *r = arg;
	int i, ret;

	for (i = 0; i < r->rounds; i++) {
		pthread_barrier_wait(r->bar);
		ret = pool_free(r->pool, *r->target);
		if (!ret)
			r->zero++;
		else if (ret == -EALREADY)
			r->already++;
		else
			r->other++;
		pthread_barrier_wait(r->bar);
	}
	return NULL;
}

static int quiet_hook_count;

static void quiet_hook(const struct mempool_error *e, void *arg)
{
	(void)e;
	(void)arg;
	__atomic_add_fetch(&quiet_hook_count, 1, __ATOMIC_RELAXED);
}

/*
 * Debug mode: two threads free the same block at the same instant; exactly
 * one succeeds and the other gets -EALREADY, every time.
 */
TEST(racing_double_free_debug)
{
	pthread_barrier_t bar;
	struct racer r[2];
	pthread_t t[2];
	void *volatile target;
	mempool_t *p = pool_create_flags(64, 8, 64, MEMPOOL_DEBUG);
	int i;

	ASSERT_NE(NULL, p);
	mempool_set_error_hook(quiet_hook, NULL);
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, 3));
	for (i = 0; i < 2; i++) {
		r[i] = (struct racer){ p, &bar, &target, 2000, 0, 0, 0 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_free, &r[i]));
	}
	for (i = 0; i < 2000; i++) {
		target = pool_alloc(p);
		ASSERT_NE(NULL, target);
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	EXPECT_EQ(2000, r[0].zero + r[1].zero);
	EXPECT_EQ(2000, r[0].already + r[1].already);
	EXPECT_EQ(0, r[0].other + r[1].other);
	pool_destroy(p);
}

/*
 * Two frees of one block that really meet.  The barriers of the racing
 * tests above release the two threads microseconds apart, while the
 * window in which a free's check and its state change can interleave with
 * another's is a few instructions: measured here, one round in 20000 had
 * both frees succeed without debug mode.  This test pins the two threads
 * to two CPUs, starts them with a spin on a shared word, and delays one of
 * them by 0..4095 turns of an empty loop, a different delay each round and
 * each side in turn, so that over the rounds the two frees are swept
 * across each other: on this project's two-core machine, loaded, about
 * 600 rounds in 100000 had both frees succeed without debug mode (a range
 * of 512 turns met none: the delay must cover the time the start signal
 * takes to reach the other CPU).  Each round both threads then allocate
 * one block: the two live blocks must differ.
 *
 * Debug mode: exactly one free of each pair succeeds, and the two
 * allocations race too (each is a compare-and-swap).  Without it, both
 * frees may succeed, and the block then sits in both caches; the second
 * copy must be dropped (reported) when it is met, never handed out while
 * the first is live.  The two allocations then go one after the other:
 * two allocations racing on the two copies within a few instructions can
 * both hand the block out (the limit __mpool_transition() states), which
 * this test, racing them, showed within 6000 rounds.  On a machine where
 * the two threads do not run at once the frees rarely meet and the test
 * proves little, but it cannot fail falsely.
 */
#define SWEEP_ROUNDS	100000
#define SWEEP_SECONDS	20

struct sweep {
	mempool_t *pool;
	void *volatile target;
	void *got[2];
	int ret[2];
	unsigned long go, done[2];
	unsigned int rounds;
	bool serial_allocs;	/* side 1 allocates after side 0 */
	time_t deadline;
};

/* @n turns of a loop the compiler keeps: the finest delay there is. */
static void sweep_delay(unsigned int n)
{
	while (n--)
		__asm__ __volatile__("" ::: "memory");
}

static inline void sweep_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Spin until *@word reaches @want; yield now and then on a busy machine. */
static void sweep_wait(unsigned long *word, unsigned long want)
{
	unsigned int n = 0;

	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < want)
		if (++n % 1024)
			sweep_relax();
		else
			sched_yield();
}

static void sweep_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * Round @r for side @me, in three steps each side finishes before either
 * starts the next: free the target; take a block; give it back.  (Were a
 * side to take a block before the other had freed, it could be given the
 * target again, and the other's free would then free a live block.)
 */
static void sweep_round(struct sweep *w, int me, unsigned long r)
{
	if ((int)(r & 1) == me)
		sweep_delay((r >> 1) % 4096);
	w->ret[me] = pool_free(w->pool, w->target);
	__atomic_store_n(&w->done[me], 3 * r, __ATOMIC_RELEASE);
	sweep_wait(&w->done[!me], 3 * r);
	if (me && w->serial_allocs)
		sweep_wait(&w->done[0], 3 * r + 1);
	w->got[me] = pool_alloc(w->pool);
	__atomic_store_n(&w->done[me], 3 * r + 1, __ATOMIC_RELEASE);
	sweep_wait(&w->done[!me], 3 * r + 1);
	pool_free(w->pool, w->got[me]);
	__atomic_store_n(&w->done[me], 3 * r + 2, __ATOMIC_RELEASE);
}

static void *sweep_other(void *arg)
{
	struct sweep *w = arg;
	unsigned long r;

	sweep_pin(1);
	for (r = 1; r <= w->rounds; r++) {
		sweep_wait(&w->go, r);
		if (!w->target)
			break;
		sweep_round(w, 1, r);
	}
	return NULL;
}

FIXTURE(sweep) {
	struct sweep w;
};

FIXTURE_VARIANT(sweep) {
	unsigned int flags;
};

FIXTURE_VARIANT_ADD(sweep, debug) { .flags = MEMPOOL_DEBUG };
FIXTURE_VARIANT_ADD(sweep, fast) { .flags = 0 };

FIXTURE_SETUP(sweep)
{
	memset(&self->w, 0, sizeof(self->w));
	self->w.pool = pool_create_flags(64, 8, 64, variant->flags);
	ASSERT_NE(NULL, self->w.pool);
	self->w.rounds = SWEEP_ROUNDS;
	self->w.deadline = time(NULL) + SWEEP_SECONDS;
	self->w.serial_allocs = !(variant->flags & MEMPOOL_DEBUG);
}

FIXTURE_TEARDOWN(sweep)
{
	pool_destroy(self->w.pool);
}

TEST_F_TIMEOUT(sweep, racing_double_free_meets, 2 * SWEEP_SECONDS + 30)
{
	struct sweep *w = &self->w;
	unsigned long r, both = 0, same = 0, odd = 0;
	pthread_t t;

	mempool_set_error_hook(quiet_hook, NULL);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
		sweep_pin(0);
	ASSERT_EQ(0, pthread_create(&t, NULL, sweep_other, w));
	for (r = 1; r <= w->rounds; r++) {
		w->target = time(NULL) < w->deadline ? pool_alloc(w->pool) :
			    NULL;
		__atomic_store_n(&w->go, r, __ATOMIC_RELEASE);
		if (!w->target)
			break;
		sweep_round(w, 0, r);
		sweep_wait(&w->done[1], 3 * r + 2);
		both += !w->ret[0] && !w->ret[1];
		same += w->got[0] == w->got[1];
		odd += (w->ret[0] && w->ret[0] != -EALREADY) ||
		       (w->ret[1] && w->ret[1] != -EALREADY) ||
		       (variant->flags && !w->ret[0] == !w->ret[1]) ||
		       !w->got[0] || !w->got[1];
		if (same || odd) {
			TH_LOG("round %lu: frees %d %d, blocks %p %p", r,
			       w->ret[0], w->ret[1], w->got[0], w->got[1]);
			/* Let the other thread go: no target. */
			w->target = NULL;
			__atomic_store_n(&w->go, r + 1, __ATOMIC_RELEASE);
			break;
		}
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("%lu rounds, %lu with both frees succeeding", r - 1, both);
	/* Never one block in two hands. */
	EXPECT_EQ(0, same);
	/* Debug mode: exactly one free of each pair succeeds. */
	EXPECT_EQ(0, odd);
	EXPECT_LT(1000, r);
}

/*
 * Without debug mode a racing double free may succeed twice; the promise
 * is that nothing shared is corrupted: afterwards every block is handed out
 * at most once and every pointer is a block of the pool.
 */
TEST(racing_double_free_fast)
{
	pthread_barrier_t bar;
	struct racer r[2];
	pthread_t t[2];
	void *volatile target;
	mempool_t *p = pool_create(64, 8, 64);
	struct mempool_stats st;
	int i;

	ASSERT_NE(NULL, p);
	mempool_set_error_hook(quiet_hook, NULL);
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, 3));
	for (i = 0; i < 2; i++) {
		r[i] = (struct racer){ p, &bar, &target, 2000, 0, 0, 0 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_free, &r[i]));
	}
	for (i = 0; i < 2000; i++) {
		target = pool_alloc(p);
		if (!target)
			break;	/* blocks went into the racers' caches */
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
	}
	/* Release the racers if the loop ended early. */
	if (i < 2000) {
		for (; i < 2000; i++) {
			target = NULL;
			pthread_barrier_wait(&bar);
			pthread_barrier_wait(&bar);
		}
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	EXPECT_EQ(0, r[0].other + r[1].other);
	/* Every block comes out at most once, and duplicates were dropped. */
	EXPECT_LE(0, drain_count(pool_alloc_fn, p, 64));
	ASSERT_EQ(0, pool_stats(p, &st));
	EXPECT_EQ(st.double_free + st.corrupt,
		  (uint64_t)__atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	pool_destroy(p);
}

TEST_HARNESS_MAIN
