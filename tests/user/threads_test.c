// SPDX-License-Identifier: GPL-2.0
/*
 * threads_test.c - what only userspace has: threads that come and go,
 * cross-thread frees, destroy under live threads, fork().
 */
#define _GNU_SOURCE	/* pthread_setaffinity_np() */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/membarrier.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mempool.h"
#include "mpool_testing.h"
#include "stepper.h"
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
	bool bulk;		/* every other round through the bulk calls */
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

static int s_alloc_bulk(struct stress *s, void **v, size_t n)
{
	return s->pool ? pool_alloc_bulk(s->pool, v, n) :
			 slab_alloc_bulk(s->slab, v, n);
}

static int s_free_bulk(struct stress *s, void *const *v, size_t n)
{
	return s->pool ? pool_free_bulk(s->pool, v, n) :
			 slab_free_bulk(s->slab, v, n);
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
	unsigned int seed = w->id, r, i, n, nb;
	void *mine[64], *p, *back[128];
	bool bulk;

	for (r = 0; (s->deadline ? time(NULL) < s->deadline : r < s->rounds) &&
	     !stress_failed(s); r++) {
		n = (rand_r(&seed) % 64) + 1;
		/*
		 * A bulk round takes all n at once (or, when the pool is
		 * short, none: then one by one), and gives back with one
		 * bulk free the blocks it keeps and one for those others
		 * left it, NULL entries and all.
		 */
		bulk = s->bulk && (r & 1);
		if (bulk && s_alloc_bulk(s, mine, n))
			bulk = false;
		for (i = 0; i < n; i++) {
			if (!bulk)
				mine[i] = s_alloc(s);
			if (!mine[i])
				break;
			ledger_take(&s->ledger, mine[i], w->id);
			memset(mine[i], (int)w->id, BLOCK);
			__atomic_add_fetch(&s->allocs, 1, __ATOMIC_RELAXED);
		}
		n = i;
		nb = 0;
		for (i = 0; i < n; i++) {
			p = mine[i];
			if (((unsigned char *)p)[BLOCK - 1] != (unsigned char)w->id)
				__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
			/* Half go to other threads to free. */
			if ((i & 1) && xchg_put(&s->xchg, p))
				continue;
			ledger_drop(&s->ledger, p);
			if (bulk) {
				back[nb++] = p;
				back[nb++] = NULL;
			} else if (s_free(s, p)) {
				__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
			}
		}
		if (nb && s_free_bulk(s, back, nb))
			__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
		nb = 0;
		while (nb < 64 && (p = xchg_get(&s->xchg))) {
			ledger_drop(&s->ledger, p);
			if (bulk)
				back[nb++] = p;
			else if (s_free(s, p))
				__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
		}
		if (nb && s_free_bulk(s, back, nb))
			__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
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
	bool bulk;
};

FIXTURE_VARIANT_ADD(stress, pool) { .slab = false, .flags = 0, .cache = 32 };
FIXTURE_VARIANT_ADD(stress, pool_debug) {
	.slab = false, .flags = MEMPOOL_DEBUG, .cache = 32 };
FIXTURE_VARIANT_ADD(stress, pool_tiny_cache) {
	.slab = false, .flags = 0, .cache = 2 };
FIXTURE_VARIANT_ADD(stress, slab) { .slab = true, .flags = 0, .cache = 0 };
FIXTURE_VARIANT_ADD(stress, pool_bulk) {
	.slab = false, .flags = 0, .cache = 32, .bulk = true };
FIXTURE_VARIANT_ADD(stress, pool_debug_bulk) {
	.slab = false, .flags = MEMPOOL_DEBUG, .cache = 32, .bulk = true };
FIXTURE_VARIANT_ADD(stress, slab_bulk) {
	.slab = true, .flags = 0, .cache = 0, .bulk = true };

FIXTURE_SETUP(stress)
{
	struct mempool_stats st;

	memset(&self->s, 0, sizeof(self->s));
	pthread_mutex_init(&self->s.xchg.lock, NULL);
	/* No misuse here: the first report is the failure. */
	reports_fatal = 1;
	self->s.rounds = 10000;
	self->s.bulk = variant->bulk;
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
/*
 * An exited owner's blocks freed by two threads at once: while one of them
 * holds the claim on the orphan cache (collecting its queue), the other
 * pushes on that queue and finds the claim taken; the holder must look
 * again as it lets go.  Before it did, about one round in a hundred here
 * ended with blocks stranded on the queue of a cache nobody owns (counted
 * as cached with every thread gone).  The threads spin rather than yield
 * while they wait, so that the two freers start together.
 */
#define ORPHAN_BLOCKS	2000
#define ORPHAN_ROUNDS	500

struct orphan_race {
	mempool_t *pool;
	void *blk[ORPHAN_BLOCKS];
	int ready, go, gone, pos, errors;
};

static void *orphan_owner(void *arg)
{
	struct orphan_race *o = arg;
	int i;

	for (i = 0; i < ORPHAN_BLOCKS; i++) {
		o->blk[i] = pool_alloc(o->pool);
		if (!o->blk[i])
			__atomic_add_fetch(&o->errors, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&o->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&o->go, __ATOMIC_ACQUIRE))
		;
	return NULL;	/* exit: drain, orphan, drain */
}

static void *orphan_freer(void *arg)
{
	struct orphan_race *o = arg;
	int i;

	/* A cache of our own first, so that the frees are remote. */
	pool_free(o->pool, pool_alloc(o->pool));
	while (!__atomic_load_n(&o->ready, __ATOMIC_ACQUIRE))
		;
	__atomic_store_n(&o->go, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&o->gone, __ATOMIC_ACQUIRE))
		;
	while ((i = __atomic_fetch_add(&o->pos, 1, __ATOMIC_RELAXED)) <
	       ORPHAN_BLOCKS)
		if (pool_free(o->pool, o->blk[i]))
			__atomic_add_fetch(&o->errors, 1, __ATOMIC_RELAXED);
	return NULL;
}

TEST(orphan_queue_not_stranded)
{
	struct orphan_race *o = calloc(1, sizeof(*o));
	struct mempool_stats st;
	pthread_t a, b[2];
	int r, i, stranded = 0;

	ASSERT_NE(NULL, o);
	o->pool = pool_create(64, 64, 20000);
	ASSERT_NE(NULL, o->pool);
	for (r = 0; r < ORPHAN_ROUNDS && !stranded && !o->errors; r++) {
		o->ready = o->go = o->gone = o->pos = 0;
		ASSERT_EQ(0, pthread_create(&a, NULL, orphan_owner, o));
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, pthread_create(&b[i], NULL, orphan_freer,
						    o));
		ASSERT_EQ(0, pthread_join(a, NULL));
		__atomic_store_n(&o->gone, 1, __ATOMIC_RELEASE);
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, pthread_join(b[i], NULL));
		/* Every thread that used the pool has exited. */
		ASSERT_EQ(0, pool_stats(o->pool, &st));
		if (st.cached || st.in_use) {
			TH_LOG("round %d: cached %zu in_use %zu free %zu", r,
			       st.cached, st.in_use, st.free);
			stranded++;
		}
	}
	EXPECT_EQ(0, o->errors);
	EXPECT_EQ(0, stranded);
	EXPECT_EQ(0, reports());
	pool_destroy(o->pool);
	free(o);
}

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
FIXTURE(forker) {
	int unused;
};

FIXTURE_SETUP(forker)
{
}

FIXTURE_TEARDOWN(forker)
{
}

/* Each fork copies the parent: 200 of them take a while on a busy machine. */
TEST_F_TIMEOUT(forker, debug_no_false_reports, 300)
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

/* --- racing double frees, fast path ------------------------------------ */

#define RACE_ROUNDS	20000

/*
 * Two threads free the same block at the same instant, then both allocate.
 * @owner_races: the block was handed out by racer 0 (its owner), so one
 * free is the owner's fast path and the other a remote free; otherwise a
 * third thread handed it out and both frees are remote.
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
 * Debug mode: exactly one free of each pair succeeds.  Without it, both
 * frees may succeed (the owner's store landed after the other's swap); the
 * block is then held once, by its owner, and the stale remote entry is
 * reported when collected.  The two allocations race too: before block
 * ownership, racing them handed one block to both within 6000 rounds.  On a machine where
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
	/* Racing allocations too: ownership leaves one copy to hand out. */
	self->w.serial_allocs = false;
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
struct race {
	mempool_t *pool;
	pthread_barrier_t bar;
	void *volatile target;
	void *volatile got[2];
	bool owner_races;
	long dup;		/* rounds in which both got the same block */
	long zero[2], already[2], other[2];
};

struct racer_arg {
	struct race *r;
	int id;
};

static void *race_thread(void *arg)
{
	struct racer_arg *a = arg;
	struct race *r = a->r;
	int i, ret;
	void *mine;

	for (i = 0; i < RACE_ROUNDS; i++) {
		if (r->owner_races && a->id == 0)
			r->target = pool_alloc(r->pool);
		pthread_barrier_wait(&r->bar);	/* target is set */
		ret = pool_free(r->pool, r->target);
		if (!ret)
			r->zero[a->id]++;
		else if (ret == -EALREADY)
			r->already[a->id]++;
		else
			r->other[a->id]++;
		mine = pool_alloc(r->pool);
		r->got[a->id] = mine;
		pthread_barrier_wait(&r->bar);	/* both allocated */
		if (a->id == 0 && r->got[0] && r->got[0] == r->got[1])
			r->dup++;
		pthread_barrier_wait(&r->bar);	/* compared */
		if (mine)
			pool_free(r->pool, mine);
	}
	/* Collect this thread's remote queue: stale entries are reported. */
	pool_cache_flush(r->pool);
	return NULL;
}

FIXTURE(race) {
	struct race r;
};

FIXTURE_VARIANT(race) {
	bool owner_races;
	unsigned int flags;
};

FIXTURE_VARIANT_ADD(race, owner_vs_remote) { .owner_races = true };
FIXTURE_VARIANT_ADD(race, remote_vs_remote) { .owner_races = false };
FIXTURE_VARIANT_ADD(race, debug_owner_vs_remote) {
	.owner_races = true, .flags = MEMPOOL_DEBUG };

FIXTURE_SETUP(race)
{
	memset(&self->r, 0, sizeof(self->r));
	self->r.owner_races = variant->owner_races;
	self->r.pool = pool_create_flags(64, 8, 64, variant->flags);
	ASSERT_NE(NULL, self->r.pool);
	ASSERT_EQ(0, pthread_barrier_init(&self->r.bar, NULL,
					  variant->owner_races ? 2 : 3));
}

FIXTURE_TEARDOWN(race)
{
	pool_destroy(self->r.pool);
	pthread_barrier_destroy(&self->r.bar);
}

/*
 * Never two owners, and every race answered: no round hands one block to
 * both threads, no free gets anything but 0 or -EALREADY, and each round's
 * double free is counted exactly once, either at once (-EALREADY) or, when
 * both frees returned 0, when the loser's remote free is collected.
 * Afterwards every block comes out exactly once.
 */
TEST_F_TIMEOUT(race, double_free_then_allocate, 300)
{
	struct race *r = &self->r;
	struct racer_arg a[2] = { { r, 0 }, { r, 1 } };
	struct mempool_stats st;
	pthread_t t[2];
	int i;

	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_thread, &a[i]));
	if (!r->owner_races) {
		for (i = 0; i < RACE_ROUNDS; i++) {
			r->target = pool_alloc(r->pool);
			pthread_barrier_wait(&r->bar);
			pthread_barrier_wait(&r->bar);
			pthread_barrier_wait(&r->bar);
		}
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	pool_cache_flush(r->pool);
	EXPECT_EQ(0, r->dup);
	EXPECT_EQ(0, r->other[0] + r->other[1]);
	/* At least one free of each round succeeds; the rest are -EALREADY. */
	EXPECT_EQ(2 * RACE_ROUNDS, r->zero[0] + r->zero[1] + r->already[0] +
		  r->already[1]);
	EXPECT_LE(RACE_ROUNDS, r->zero[0] + r->zero[1]);
	TH_LOG("%ld of %d rounds: both frees returned 0, the second found later",
	       r->zero[0] + r->zero[1] - RACE_ROUNDS, RACE_ROUNDS);
	ASSERT_EQ(0, pool_stats(r->pool, &st));
	/* One double free per round, answered at once or found later. */
	EXPECT_EQ(RACE_ROUNDS, st.double_free);
	EXPECT_EQ(0, st.invalid + st.corrupt);
	EXPECT_EQ(st.double_free,
		  (uint64_t)__atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	EXPECT_EQ(0, st.in_use);
	EXPECT_EQ(64, drain_count(pool_alloc_fn, r->pool, 64));
	mempool_set_error_hook(NULL, NULL);
}

/* --- stranding: blocks freed for an idle or gone owner ----------------- */

/*
 * Not a whole number of remote-free batches (a batch is a magazine, 128
 * here): the consumer goes idle with 127 blocks in its outbox, unsent.
 */
#define STRAND	255

struct strand {
	mempool_t *pool;
	void *v[STRAND];
	pthread_barrier_t bar;
	bool producer_exits;
};

/* Take every block, hand them over, then idle (or exit). */
static void *strand_producer(void *arg)
{
	struct strand *st = arg;
	int i;

	for (i = 0; i < STRAND; i++)
		st->v[i] = pool_alloc(st->pool);
	pthread_barrier_wait(&st->bar);		/* consumer may free */
	if (!st->producer_exits)
		pthread_barrier_wait(&st->bar);	/* asleep until the end */
	return NULL;
}

/* Free every block the producer took, then go idle. */
static void *strand_consumer(void *arg)
{
	struct strand *st = arg;
	long bad = 0;
	int i;

	pthread_barrier_wait(&st->bar);
	for (i = 0; i < STRAND; i++)
		bad += pool_free(st->pool, st->v[i]) != 0;
	return (void *)bad;
}

FIXTURE(strand) {
	struct strand st;
};

FIXTURE_VARIANT(strand) {
	bool producer_exits;
};

FIXTURE_VARIANT_ADD(strand, producer_idle) { .producer_exits = false };
FIXTURE_VARIANT_ADD(strand, producer_exited) { .producer_exits = true };

FIXTURE_SETUP(strand)
{
	memset(&self->st, 0, sizeof(self->st));
	self->st.producer_exits = variant->producer_exits;
	/* A cache as large as the pool: everything can sit in one thread. */
	self->st.pool = pool_create(64, STRAND, STRAND);
	ASSERT_NE(NULL, self->st.pool);
	ASSERT_EQ(0, pthread_barrier_init(&self->st.bar, NULL, 2));
}

FIXTURE_TEARDOWN(strand)
{
	pool_destroy(self->st.pool);
	pthread_barrier_destroy(&self->st.bar);
}

/*
 * No block is stranded: a producer takes the whole pool and goes idle (or
 * exits); a consumer frees everything and goes idle; a third thread (this
 * one) must then get the whole pool, at once.  The bound: a block freed by
 * any thread is allocatable by any other thread whose allocation would
 * otherwise fail, unless its owner is stopped inside a fast-path free.
 */
TEST_F(strand, third_thread_gets_everything)
{
	struct strand *st = &self->st;
	struct mempool_stats s;
	pthread_t p, c;
	void *ret, *v[STRAND];
	int i;

	ASSERT_EQ(0, pthread_create(&p, NULL, strand_producer, st));
	ASSERT_EQ(0, pthread_create(&c, NULL, strand_consumer, st));
	ASSERT_EQ(0, pthread_join(c, &ret));
	EXPECT_EQ(NULL, ret);
	if (st->producer_exits)
		ASSERT_EQ(0, pthread_join(p, NULL));
	for (i = 0; i < STRAND; i++) {
		v[i] = pool_alloc(st->pool);
		ASSERT_NE(NULL, v[i]) TH_LOG("block %d of %d stranded", i,
					     STRAND);
	}
	EXPECT_EQ(NULL, pool_alloc(st->pool));
	ASSERT_EQ(0, pool_stats(st->pool, &s));
	EXPECT_EQ(STRAND, s.in_use);
	EXPECT_EQ(0, s.invalid + s.double_free + s.corrupt);
	for (i = 0; i < STRAND; i++)
		EXPECT_EQ(0, pool_free(st->pool, v[i]));
	if (!st->producer_exits) {
		pthread_barrier_wait(&st->bar);
		ASSERT_EQ(0, pthread_join(p, NULL));
	}
}

/* --- a free stopped between its load and its store ----------------------- */

/*
 * The owner's fast-path free of block B loads B's word, then its store
 * faults on the write-protected page.  In the SIGSEGV handler, still
 * between the two instructions, another thread frees B too (a remote
 * free: it must win, B becomes REMOTE), then tries to take every block of
 * the pool, stealing from the owner.  Only then does the handler unprotect
 * the page, and the owner's late store lands.  B must never be handed to
 * the other thread while the owner holds it, and the double free must be
 * reported once the owner collects its queue.
 */
static struct {
	mempool_t *pool;
	void *block;
	void *page;
	int stage;	/* 1: owner stopped, 2: other thread done */
	int remote_ret;
	int got;
	bool got_block;
} delay;

static void *delay_other(void *arg)
{
	void *v[64];
	int i;

	(void)arg;
	while (__atomic_load_n(&delay.stage, __ATOMIC_ACQUIRE) != 1)
		sched_yield();
	delay.remote_ret = pool_free(delay.pool, delay.block);
	for (i = 0; i < 64; i++) {
		v[i] = pool_alloc(delay.pool);
		if (!v[i])
			break;
		if (v[i] == delay.block)
			delay.got_block = true;
	}
	delay.got = i;
	while (i--)
		pool_free(delay.pool, v[i]);
	__atomic_store_n(&delay.stage, 2, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The owner is stopped at its store.  The page is writable again at once
 * (the other thread's compare-and-swap needs it), but the faulting store
 * only runs again when this handler returns, after the other thread is
 * done: until then the owner stays between its load and its store.
 */
static void delay_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	mprotect(delay.page, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
	__atomic_store_n(&delay.stage, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&delay.stage, __ATOMIC_ACQUIRE) != 2)
		;
}

TEST(free_stopped_between_load_and_store)
{
	struct sigaction sa = { 0 }, old;
	struct mempool_stats st;
	pthread_t t;
	void *b, *again;
	long pg = sysconf(_SC_PAGESIZE);

	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	/* Magazines of one block: the owner's cache holds nothing but B. */
	delay.pool = pool_create(64, 2, 64);
	ASSERT_NE(NULL, delay.pool);
	b = pool_alloc(delay.pool);
	ASSERT_NE(NULL, b);
	delay.block = b;
	delay.page = state_word_page(delay.pool, b);
	ASSERT_NE(NULL, delay.page);
	sa.sa_sigaction = delay_segv;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old));
	ASSERT_EQ(0, pthread_create(&t, NULL, delay_other, NULL));
	ASSERT_EQ(0, mprotect(delay.page, pg, PROT_READ));
	/* The fast path: its store faults, the handler runs the other thread. */
	EXPECT_EQ(0, pool_free(delay.pool, b));
	ASSERT_EQ(0, pthread_join(t, NULL));
	sigaction(SIGSEGV, &old, NULL);
	EXPECT_EQ(2, delay.stage);
	/* The remote free came second in time but won: the block was ours. */
	EXPECT_EQ(0, delay.remote_ret);
	EXPECT_FALSE(delay.got_block);
	EXPECT_EQ(63, delay.got);
	/* The owner's late store put B in its cache: it holds it once. */
	again = pool_alloc(delay.pool);
	EXPECT_EQ(b, again);
	EXPECT_EQ(0, pool_free(delay.pool, again));
	/* Collecting the owner's queue finds the stale entry: one report. */
	pool_cache_flush(delay.pool);
	ASSERT_EQ(0, pool_stats(delay.pool, &st));
	EXPECT_EQ(1, st.double_free);
	EXPECT_EQ(0, st.invalid + st.corrupt);
	EXPECT_EQ(1, __atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	EXPECT_EQ(0, st.in_use);
	EXPECT_EQ(64, drain_count(pool_alloc_fn, delay.pool, 64));
	pool_destroy(delay.pool);
	mempool_set_error_hook(NULL, NULL);
}

/*
 * The other way round: a remote free of block B loads B's word (ALLOC of
 * the owner), then its compare-and-swap faults on the write-protected
 * page.  In the handler, still between the two, the owner frees B (fast
 * path) and allocates it again: a new allocation of B.  The remote free's
 * swap then runs against the word it loaded, whose sequence number is the
 * old allocation's: it must fail (-EALREADY, one report), and the owner's
 * new allocation must stay allocated.  Without the sequence number the
 * late swap would free the owner's new allocation behind its back
 * (tools/mutants.sh: free-delta-no-seq).
 */
static struct {
	mempool_t *pool;
	void *block;
	void *page;
	int stage;	/* 1: remote cache made, 2: stopped, 3: owner done */
	int ret;
} rdelay;

static void *rdelay_remote(void *arg)
{
	void *c;

	(void)arg;
	/* This thread's cache first: its making touches no protected page. */
	c = pool_alloc(rdelay.pool);
	if (c)
		pool_free(rdelay.pool, c);
	__atomic_store_n(&rdelay.stage, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&rdelay.stage, __ATOMIC_ACQUIRE) != 2)
		sched_yield();
	rdelay.ret = pool_free(rdelay.pool, rdelay.block);
	return NULL;
}

/* The remote free is stopped at its swap until the owner is done. */
static void rdelay_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	mprotect(rdelay.page, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
	__atomic_store_n(&rdelay.stage, 3, __ATOMIC_RELEASE);
	while (__atomic_load_n(&rdelay.stage, __ATOMIC_ACQUIRE) != 4)
		;
}

TEST(remote_free_stopped_before_its_swap)
{
	struct sigaction sa = { 0 }, old;
	struct mempool_stats st;
	pthread_t t;
	void *b, *again;
	long pg = sysconf(_SC_PAGESIZE);

	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	rdelay.pool = pool_create(64, 2, 64);
	ASSERT_NE(NULL, rdelay.pool);
	b = pool_alloc(rdelay.pool);
	ASSERT_NE(NULL, b);
	rdelay.block = b;
	rdelay.page = state_word_page(rdelay.pool, b);
	sa.sa_sigaction = rdelay_segv;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old));
	ASSERT_EQ(0, pthread_create(&t, NULL, rdelay_remote, NULL));
	while (__atomic_load_n(&rdelay.stage, __ATOMIC_ACQUIRE) != 1)
		sched_yield();
	ASSERT_EQ(0, mprotect(rdelay.page, pg, PROT_READ));
	__atomic_store_n(&rdelay.stage, 2, __ATOMIC_RELEASE);
	while (__atomic_load_n(&rdelay.stage, __ATOMIC_ACQUIRE) != 3)
		sched_yield();
	/* The remote free is between its load and its swap. */
	EXPECT_EQ(0, pool_free(rdelay.pool, b));
	again = pool_alloc(rdelay.pool);
	EXPECT_EQ(b, again);
	__atomic_store_n(&rdelay.stage, 4, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, NULL));
	sigaction(SIGSEGV, &old, NULL);
	/* Its swap lost: the allocation it saw had ended. */
	EXPECT_EQ(-EALREADY, rdelay.ret);
	/* The owner's new allocation was never freed behind its back. */
	EXPECT_EQ(0, pool_free(rdelay.pool, again));
	pool_cache_flush(rdelay.pool);
	ASSERT_EQ(0, pool_stats(rdelay.pool, &st));
	EXPECT_EQ(1, st.double_free);
	EXPECT_EQ(0, st.invalid + st.corrupt);
	EXPECT_EQ(1, __atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	EXPECT_EQ(0, st.in_use);
	EXPECT_EQ(64, drain_count(pool_alloc_fn, rdelay.pool, 64));
	pool_destroy(rdelay.pool);
	mempool_set_error_hook(NULL, NULL);
}

/*
 * A block whose owner thread has exited, freed by another thread, goes
 * straight into the freer's cache (the freer claims the orphan cache and
 * frees directly): the freer's next allocation is that block, with no
 * steal and no report (tools/mutants.sh: no-orphan-collect).
 */
static void *orphan_alloc(void *arg)
{
	return pool_alloc(arg);
}

TEST(free_for_exited_owner_lands_in_freers_cache)
{
	struct mempool_stats st;
	mempool_t *p;
	pthread_t t;
	void *b, *again;

	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	p = pool_create(64, 4, 64);
	ASSERT_NE(NULL, p);
	/* This thread's cache exists, and is empty. */
	again = pool_alloc(p);
	ASSERT_NE(NULL, again);
	ASSERT_EQ(0, pthread_create(&t, NULL, orphan_alloc, p));
	ASSERT_EQ(0, pthread_join(t, &b));
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, pool_free(p, again));
	pool_cache_flush(p);
	EXPECT_EQ(0, pool_free(p, b));
	again = pool_alloc(p);
	EXPECT_EQ(b, again);
	EXPECT_EQ(0, pool_free(p, again));
	ASSERT_EQ(0, pool_stats(p, &st));
	EXPECT_EQ(0, st.in_use);
	EXPECT_EQ(0, __atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	EXPECT_EQ(64, drain_count(pool_alloc_fn, p, 64));
	pool_destroy(p);
	mempool_set_error_hook(NULL, NULL);
}

static void *stale_memo_alloc(void *arg)
{
	return pool_alloc(arg);
}

/*
 * An error hook that calls a pool from inside a thread's exit: the exit
 * drains the thread's caches, finds cached blocks whose words were
 * overwritten (reported, kept out), and the hook allocates from pool B in
 * the exiting thread.  That call must never be served from a cache being
 * given back (its drain would then give back the block the hook holds,
 * and count the cache below zero).  Pool A (the lower registry slot) goes
 * first: the hook's call on B then uses B's cache, still live, and
 * memoises it.  B's drain, later in the same pass, reports its own bad
 * block, at the bottom under two good ones: the hook's call must not find
 * B's cache through the memo, and has no cache of B any more (it uses B's
 * backing).  Every block of B ends up in one place.
 */
static struct {
	mempool_t *a, *b;
	void *held[8];
	int nheld, hook_calls;
	void *keep_a, *keep_b;
} xhook;

static void xhook_hook(const struct mempool_error *e, void *arg)
{
	void *blk;

	(void)e;
	(void)arg;
	xhook.hook_calls++;
	blk = pool_alloc(xhook.b);
	if (blk && xhook.nheld < 8)
		xhook.held[xhook.nheld++] = blk;	/* the hook's now */
}

static void *xhook_thread(void *arg)
{
	void *a1, *b1, *b2, *b3;

	(void)arg;
	/* Magazines of 4: A's cache keeps 3 (2 + a1), B's 3 (b3 at the bottom). */
	a1 = pool_alloc(xhook.a);
	xhook.keep_a = pool_alloc(xhook.a);
	xhook.keep_b = pool_alloc(xhook.b);
	b1 = pool_alloc(xhook.b);
	b2 = pool_alloc(xhook.b);
	b3 = pool_alloc(xhook.b);
	if (!a1 || !xhook.keep_a || !xhook.keep_b || !b1 || !b2 || !b3 ||
	    pool_free(xhook.a, a1) || pool_free(xhook.b, b3) ||
	    pool_free(xhook.b, b2) || pool_free(xhook.b, b1))
		return (void *)1;
	/* The cached blocks' words, overwritten. */
	*(uint64_t *)mpool_testing_state_word(xhook.a, a1) ^= 0x5a5a;
	*(uint64_t *)mpool_testing_state_word(xhook.b, b3) ^= 0x5a5a;
	return NULL;		/* exit: drain A, report, hook; drain B, ... */
}

TEST(thread_exit_hook_calls_pool)
{
	struct mempool_stats st;
	void *all[65], *ret;
	pthread_t t;
	int n, i, j;

	memset(&xhook, 0, sizeof(xhook));
	xhook.a = pool_create(64, 8, 64);
	xhook.b = pool_create(64, 8, 64);
	ASSERT_NE(NULL, xhook.a);
	ASSERT_NE(NULL, xhook.b);
	mempool_set_error_hook(xhook_hook, NULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, xhook_thread, NULL));
	ASSERT_EQ(0, pthread_join(t, &ret));
	mempool_set_error_hook(NULL, NULL);
	ASSERT_EQ(NULL, ret);
	EXPECT_EQ(2, xhook.hook_calls);
	EXPECT_EQ(2, xhook.nheld);
	ASSERT_EQ(0, pool_stats(xhook.b, &st));
	EXPECT_EQ(1, st.corrupt);
	EXPECT_EQ(0, st.cached);	/* every cache of the thread given back */
	/* Kept: keep_b, the hook's two, and b3 kept out. */
	EXPECT_EQ(4, st.in_use);
	/* Every other block of B, each once, none the hook holds. */
	for (n = 0; n < 65 && (all[n] = pool_alloc(xhook.b)); n++)
		;
	EXPECT_EQ(64 - 4, n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < xhook.nheld; j++)
			EXPECT_NE(xhook.held[j], all[i]);
		for (j = i + 1; j < n; j++)
			EXPECT_NE(all[j], all[i]);
		EXPECT_NE(xhook.keep_b, all[i]);
	}
	while (n--)
		EXPECT_EQ(0, pool_free(xhook.b, all[n]));
	for (j = 0; j < xhook.nheld; j++)
		EXPECT_EQ(0, pool_free(xhook.b, xhook.held[j]));
	EXPECT_EQ(0, pool_free(xhook.b, xhook.keep_b));
	EXPECT_EQ(0, pool_free(xhook.a, xhook.keep_a));
	ASSERT_EQ(0, pool_stats(xhook.a, &st));
	EXPECT_EQ(1, st.corrupt);
	EXPECT_EQ(1, st.in_use);	/* a1 kept out */
	pool_destroy(xhook.a);
	pool_destroy(xhook.b);
}

/*
 * A memo entry left behind by a destroyed pool, met by a free that the
 * fast path turns down (a block another thread handed out) in a new pool
 * at the same address: the slow path uses a memo hit as it finds it, and
 * must not use the old pool's cache (poisoned at destroy).  Through it,
 * the block would go into a dead cache (here: the owner has exited, so
 * the free takes it in directly), which the next look at the thread's
 * entry frees with whatever it holds.  A pool lands on the memo entry its generation names:
 * the one made four after another, in the same memory, has its address.
 * The three between are not used here (a use of a pool in the same
 * registry slot would clear the entry).
 */
TEST(stale_memo_remote_free)
{
	mempool_t *p, *q;
	pthread_t t;
	void *b;
	int round, i;

	for (round = 0; round < 50; round++) {
		p = pool_create(64, 8, 64);
		ASSERT_NE(NULL, p);
		pool_free(p, pool_alloc(p));	/* sets its memo entry */
		pool_destroy(p);
		for (i = 0; i < 3; i++) {
			q = pool_create(64, 8, 64);
			ASSERT_NE(NULL, q);
			pool_destroy(q);
		}
		q = pool_create(64, 8, 64);
		ASSERT_NE(NULL, q);
		if (q == p)
			break;
		pool_destroy(q);
	}
	if (round == 50)
		SKIP(return, "malloc never gave a destroyed pool's memory to the fourth pool after it (ASan's quarantine holds freed memory back)");
	/* A block of another thread's: this thread's first call on q. */
	ASSERT_EQ(0, pthread_create(&t, NULL, stale_memo_alloc, q));
	ASSERT_EQ(0, pthread_join(t, &b));
	ASSERT_NE(NULL, b);
	EXPECT_EQ(0, pool_free(q, b));
	/* b is in this thread's live cache of q (its owner has exited). */
	EXPECT_EQ(1, pool_cache_flush(q));
	EXPECT_EQ(64, drain_count(pool_alloc_fn, q, 64));
	EXPECT_EQ(0, reports());
	pool_destroy(q);
}

/*
 * A thread that cycles through four pools finds each one's cache from the
 * memo every time (no misuse, every block accounted), and a pool destroyed
 * and made again at the same address is never served from the old cache.
 */
TEST(four_pools_one_thread)
{
	struct mempool_stats st;
	mempool_t *p[4], *old;
	void *a;
	int i, r;

	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	for (i = 0; i < 4; i++)
		ASSERT_NE(NULL, p[i] = pool_create(64, 8, 32));
	for (r = 0; r < 1000; r++) {
		for (i = 0; i < 4; i++) {
			a = pool_alloc(p[i]);
			ASSERT_NE(NULL, a);
			ASSERT_EQ(0, pool_free(p[i], a));
		}
		if (r % 100 == 50) {
			old = p[r % 4];
			pool_destroy(old);
			p[r % 4] = pool_create(64, 8, 32);
			ASSERT_NE(NULL, p[r % 4]);
		}
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pool_stats(p[i], &st));
		EXPECT_EQ(0, st.in_use);
		EXPECT_EQ(32, drain_count(pool_alloc_fn, p[i], 32));
		pool_destroy(p[i]);
	}
	EXPECT_EQ(0, __atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	mempool_set_error_hook(NULL, NULL);
}

/*
 * A thief never takes a block through a stale entry (found by review, with
 * the program this test is made of).  O's fast free of B races X's remote
 * free (both succeed: entry E on O's queue is stale).  O allocates B
 * again.  T exhausts the pool and steals O's queue, and is stopped (state
 * page unreadable) in the middle of it; meanwhile O starts another fast
 * free of B and is stopped before its store, and X frees B again (REMOTE,
 * pushed).  Then everyone goes on.  T must not come out holding B while O
 * holds it too.
 */
#define TCAP	32768
static struct {
	mempool_t *pool;
	void *b, *page, *t_got;
	int stage, x_ret1, x_ret2;
	long pg;
} th;
static __thread int th_role;	/* 1: O, 2: T */

static void th_set(int v)
{
	__atomic_store_n(&th.stage, v, __ATOMIC_SEQ_CST);
}

static void th_wait(int v)
{
	while (__atomic_load_n(&th.stage, __ATOMIC_SEQ_CST) < v)
		;
}

static void th_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	if (th_role == 1) {	/* O, stopped at its store */
		mprotect(th.page, th.pg, PROT_READ | PROT_WRITE);
		if (__atomic_load_n(&th.stage, __ATOMIC_SEQ_CST) < 10) {
			th_set(1);
			th_wait(2);
		} else {
			th_set(12);
			th_wait(14);
		}
	} else {		/* T, stopped at a read of B's page */
		mprotect(th.page, th.pg, PROT_READ);
		th_set(11);
		th_wait(13);
	}
}

static void *th_x(void *a)
{
	(void)a;
	th_wait(1);
	th.x_ret1 = pool_free(th.pool, th.b);
	th_set(2);
	th_wait(12);
	th.x_ret2 = pool_free(th.pool, th.b);
	th_set(13);
	return NULL;
}

static void *th_t(void *a)
{
	static void *v[TCAP];
	int i;

	(void)a;
	th_role = 2;
	th_wait(3);
	for (i = 0; i < TCAP - 1; i++)
		if (!(v[i] = pool_alloc(th.pool)))
			return (void *)1;
	mprotect(th.page, th.pg, PROT_NONE);
	th.t_got = pool_alloc(th.pool);	/* steals O's queue, stops */
	th_set(14);
	return NULL;
}

TEST_F_TIMEOUT(forker, thief_never_takes_through_stale_entry, 120)
{
	struct sigaction sa = { 0 }, old;
	struct mempool_stats st;
	pthread_t x, t;
	void *o_again, *ret;

	th.pg = sysconf(_SC_PAGESIZE);
	th_role = 1;
	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	/* Magazines of one block; the state array on pages of its own. */
	th.pool = pool_create(64, 2, TCAP);
	ASSERT_NE(NULL, th.pool);
	th.b = pool_alloc(th.pool);
	th.page = state_word_page(th.pool, th.b);
	sa.sa_sigaction = th_segv;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old));
	ASSERT_EQ(0, pthread_create(&x, NULL, th_x, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, th_t, NULL));
	ASSERT_EQ(0, mprotect(th.page, th.pg, PROT_READ));
	EXPECT_EQ(0, pool_free(th.pool, th.b));		/* races X */
	ASSERT_EQ(th.b, pool_alloc(th.pool));
	th_set(10);
	th_wait(11);
	ASSERT_EQ(0, mprotect(th.page, th.pg, PROT_READ));
	EXPECT_EQ(0, pool_free(th.pool, th.b));		/* stops at its store */
	ASSERT_EQ(0, pthread_join(x, NULL));
	ASSERT_EQ(0, pthread_join(t, &ret));
	sigaction(SIGSEGV, &old, NULL);
	EXPECT_EQ(NULL, ret);
	EXPECT_EQ(0, th.x_ret1);
	o_again = pool_alloc(th.pool);
	/* Never both: B has one owner. */
	EXPECT_FALSE(th.t_got == th.b && o_again == th.b);
	ASSERT_EQ(0, pool_stats(th.pool, &st));
	EXPECT_EQ(0, st.invalid + st.corrupt);
	/* Every race was answered: X's two frees each met a racing free. */
	EXPECT_LE(1, (long)st.double_free);
	mempool_set_error_hook(NULL, NULL);
	pool_destroy(th.pool);
}

/* --- batches: a stale entry passed on, a thief's own cache ---------------- */

#define PASS_K	20

static struct {
	mempool_t *pool;
	struct stepper o, x, p, w, q1, q2;
	void *block, *page;
	int owner_ret, remote_ret;
	void *held[40];
	int nheld;
	void *q1v[PASS_K], *q2v[PASS_K];
} pass;

static void pass_owner_alloc(void *arg)
{
	(void)arg;
	pass.block = pool_alloc(pass.pool);
}

static void pass_owner_free(void *arg)
{
	(void)arg;
	pass.owner_ret = pool_free(pass.pool, pass.block);
}

static void pass_remote_free(void *arg)
{
	(void)arg;
	pass.remote_ret = pool_free(pass.pool, pass.block);
}

/* The owner is stopped at its store: the remote free runs now. */
static void pass_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	mprotect(pass.page, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
	step(&pass.x, pass_remote_free, NULL);
}

/* Take blocks until the racing free's block comes (P's, from now on). */
static void pass_find_block(void *arg)
{
	(void)arg;
	for (pass.nheld = 0; pass.nheld < 40; ) {
		pass.held[pass.nheld] = pool_alloc(pass.pool);
		if (pass.held[pass.nheld++] == pass.block)
			return;
	}
}

static void pass_alloc_k(void *arg)
{
	void **v = arg;
	int i;

	for (i = 0; i < PASS_K; i++)
		v[i] = pool_alloc(pass.pool);
}

/* Frees for two owners in turn: one-block batches, a magazine each. */
static void pass_free_alternating(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < PASS_K; i++) {
		pool_free(pass.pool, pass.q1v[i]);
		pool_free(pass.pool, pass.q2v[i]);
	}
}

/*
 * A racing double free whose two frees both return 0 leaves a stale entry
 * in the remote freer's batch (it holds no queue link).  The block is
 * handed out again, by another thread, and freed remotely once more when
 * no magazine is left for a batch, so that free's entry takes the block's
 * queue link.  The stale entry, collected, is REMOTE for the new owner: it
 * is passed on, and the pass-on cannot take the link.  The double free
 * must still be reported, exactly once, and the block held once.
 */
TEST(stale_batch_entry_passed_on_is_reported)
{
	struct stepper *all[] = { &pass.o, &pass.x, &pass.p, &pass.w,
				  &pass.q1, &pass.q2 };
	struct sigaction sa, old;
	struct mempool_stats st;
	void *v[64];
	int i, n;

	memset(&pass, 0, sizeof(pass));
	/* Magazines of 4: 18 of them, gone after a few one-block batches. */
	pass.pool = pool_create(64, 8, 64);
	ASSERT_NE(NULL, pass.pool);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, stepper_start(all[i]));
		step(all[i], step_pool_use, pass.pool);
	}
	step(&pass.o, pass_owner_alloc, NULL);
	ASSERT_NE(NULL, pass.block);
	pass.page = state_word_page(pass.pool, pass.block);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = pass_segv;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old));
	ASSERT_EQ(0, mprotect(pass.page, sysconf(_SC_PAGESIZE), PROT_READ));
	step(&pass.o, pass_owner_free, NULL);
	sigaction(SIGSEGV, &old, NULL);
	/* Both frees returned 0: the remote one's entry is stale. */
	ASSERT_EQ(0, pass.owner_ret);
	ASSERT_EQ(0, pass.remote_ret);
	EXPECT_EQ(0, reports());
	step(&pass.o, step_pool_flush, pass.pool);
	step(&pass.p, pass_find_block, NULL);
	ASSERT_EQ(pass.block, pass.held[pass.nheld - 1]);
	step(&pass.q1, pass_alloc_k, pass.q1v);
	step(&pass.q2, pass_alloc_k, pass.q2v);
	step(&pass.w, pass_free_alternating, NULL);
	/* P's block freed by X: its batch for O goes, the block to P's queue. */
	step(&pass.x, pass_remote_free, NULL);
	EXPECT_EQ(0, pass.remote_ret);
	step(&pass.o, step_pool_flush, pass.pool);
	step(&pass.p, step_pool_flush, pass.pool);
	for (i = 0; i < pass.nheld - 1; i++)
		EXPECT_EQ(0, pool_free(pass.pool, pass.held[i]));
	for (i = 5; i >= 0; i--) {
		step(all[i], step_pool_flush, pass.pool);
		stepper_stop(all[i]);
	}
	pool_cache_flush(pass.pool);
	ASSERT_EQ(0, pool_stats(pass.pool, &st));
	EXPECT_EQ(1, st.double_free);
	EXPECT_EQ(1, reports());
	EXPECT_EQ(0, st.in_use);
	EXPECT_EQ(0, st.cached);
	for (n = 0; n < 64 && (v[n] = pool_alloc(pass.pool)); n++)
		;
	EXPECT_EQ(64, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, pool_free(pass.pool, v[i]));
	pool_destroy(pass.pool);
}

#define ORPHAN_SEND	255

static struct {
	mempool_t *pool;
	void *v[ORPHAN_SEND];
	pthread_barrier_t bar, end;
} osend;

static void *osend_producer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < ORPHAN_SEND; i++)
		osend.v[i] = pool_alloc(osend.pool);
	pthread_barrier_wait(&osend.bar);	/* taken */
	pthread_barrier_wait(&osend.bar);	/* freed; then exit */
	return NULL;
}

static void *osend_consumer(void *arg)
{
	long bad = 0;
	int i;

	(void)arg;
	pthread_barrier_wait(&osend.bar);
	for (i = 0; i < ORPHAN_SEND; i++)
		bad += pool_free(osend.pool, osend.v[i]) != 0;
	pthread_barrier_wait(&osend.bar);
	pthread_barrier_wait(&osend.end);	/* idle until the end */
	return (void *)bad;
}

/*
 * A thief that sends another thread's outbox to an owner that has exited
 * collects that owner's queue into its own cache on the way: its
 * allocation must then succeed, not fail with the blocks in its hands.  A
 * producer takes the whole pool and exits; a consumer frees it all and
 * idles with 127 blocks unsent (batches of 128); this thread, with a cache
 * of its own, must get every block without one NULL.
 */
TEST(thief_sends_to_exited_owner)
{
	struct mempool_stats st;
	pthread_t prod, cons;
	void *got[ORPHAN_SEND], *ret;
	int n;

	memset(&osend, 0, sizeof(osend));
	osend.pool = pool_create(64, ORPHAN_SEND, ORPHAN_SEND);
	ASSERT_NE(NULL, osend.pool);
	/* This thread's own cache (not an adopted orphan). */
	pool_free(osend.pool, pool_alloc(osend.pool));
	EXPECT_LT(0, pool_cache_flush(osend.pool));
	ASSERT_EQ(0, pthread_barrier_init(&osend.bar, NULL, 3));
	ASSERT_EQ(0, pthread_barrier_init(&osend.end, NULL, 2));
	ASSERT_EQ(0, pthread_create(&prod, NULL, osend_producer, NULL));
	ASSERT_EQ(0, pthread_create(&cons, NULL, osend_consumer, NULL));
	pthread_barrier_wait(&osend.bar);
	pthread_barrier_wait(&osend.bar);
	ASSERT_EQ(0, pthread_join(prod, NULL));
	for (n = 0; n < ORPHAN_SEND; n++) {
		got[n] = pool_alloc(osend.pool);
		ASSERT_NE(NULL, got[n]) TH_LOG("allocation %d of %d failed",
					       n + 1, ORPHAN_SEND);
	}
	EXPECT_EQ(NULL, pool_alloc(osend.pool));
	ASSERT_EQ(0, pool_stats(osend.pool, &st));
	EXPECT_EQ(1, st.failed);
	EXPECT_EQ(ORPHAN_SEND, st.in_use);
	pthread_barrier_wait(&osend.end);
	ASSERT_EQ(0, pthread_join(cons, &ret));
	EXPECT_EQ(NULL, ret);
	while (n--)
		EXPECT_EQ(0, pool_free(osend.pool, got[n]));
	pthread_barrier_destroy(&osend.bar);
	pthread_barrier_destroy(&osend.end);
	pool_destroy(osend.pool);
}

/* --- a second thief waits for the first ---------------------------------- */

/*
 * Large enough that the state words of sets A and B, taken from the
 * middle, lie on a page of the state array's own (no other data of the
 * heap on it: a store to that would stop the wrong thread).
 */
#define WAIT_CAP	4096
#define WAIT_A		(WAIT_CAP / 2)	/* 8 freed before the first take */
#define WAIT_B		(WAIT_A + 8)	/* 8 freed while it is stopped */
#define WAIT_END	(WAIT_B + 8)

static struct {
	mempool_t *pool;
	struct stepper f, t1, t2;
	void *page;
	void *v[WAIT_CAP];
	void *t1_got, *t2_got;
	int t2_started;
	int hold;		/* keep the first thief stopped until the second is done */
	int t2_done_held;	/* the second finished while the first was stopped */
	void *t2v[WAIT_END - WAIT_A];
	int t2_n;
} twait;

static void twait_free_a(void *arg)
{
	int i;

	(void)arg;
	for (i = WAIT_A; i < WAIT_B; i++)
		pool_free(twait.pool, twait.v[i]);
}

static void twait_free_b(void *arg)
{
	int i;

	(void)arg;
	for (i = WAIT_B; i < WAIT_END; i++)
		pool_free(twait.pool, twait.v[i]);
}

static void twait_t1_alloc(void *arg)
{
	(void)arg;
	twait.t1_got = pool_alloc(twait.pool);
}

static void twait_t2_take_all(void *arg)
{
	(void)arg;
	for (twait.t2_n = 0; twait.t2_n < WAIT_END - WAIT_A; twait.t2_n++) {
		twait.t2v[twait.t2_n] = pool_alloc(twait.pool);
		if (!twait.t2v[twait.t2_n])
			break;
	}
}

static void twait_t2_alloc(void *arg)
{
	(void)arg;
	__atomic_store_n(&twait.t2_started, 1, __ATOMIC_RELEASE);
	twait.t2_got = pool_alloc(twait.pool);
}

/*
 * The first thief is stopped at its first mark, holding the victim: the
 * freer queues B for the victim and the second thief sets out.  Then the
 * first resumes after a millisecond (the second may yield for 20 ms), or,
 * with @hold, only once the second has finished (given up), or after 5 s
 * if it never does.
 */
static void twait_segv(int sig, siginfo_t *si, void *uc)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	(void)sig;
	(void)si;
	(void)uc;
	mprotect(twait.page, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
	step(&twait.f, twait_free_b, NULL);
	twait.t2.fn = twait_t2_alloc;
	twait.t2.arg = NULL;
	__atomic_store_n(&twait.t2.cmd, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&twait.t2_started, __ATOMIC_ACQUIRE))
		sched_yield();
	if (!twait.hold) {
		nanosleep(&ms, NULL);
		return;
	}
	for (i = 0; i < 5000; i++) {
		if (__atomic_load_n(&twait.t2.cmd, __ATOMIC_ACQUIRE) == 2) {
			twait.t2_done_held = 1;
			return;
		}
		nanosleep(&ms, NULL);
	}
}

static int in_range(void *const *v, int from, int to, const void *b)
{
	int i;

	for (i = from; i < to; i++)
		if (v[i] == b)
			return 1;
	return 0;
}

/*
 * Two threads out of blocks steal from one idle owner at once.  The first
 * takes the owner's queue (set A) and is stopped at its first mark; more
 * blocks (set B) are then freed for the owner, and the second thief comes:
 * it finds the first at work on the victim (one thief per victim).  Every
 * other block is held, so B is the second thief's only source.  If the
 * first resumes soon, the second must wait for it and try once more, not
 * give up with B in reach: its allocation succeeds, with a block of B
 * (tools/mutants.sh: thief-no-wait).  If the first stays stopped, the
 * second must give up at its bound (NULL), not wait for ever
 * (thief-wait-unbounded); once the first is done, B is still there for it.
 */
FIXTURE(second_thief) {};
FIXTURE_SETUP(second_thief) {}
FIXTURE_TEARDOWN(second_thief) {}
FIXTURE_VARIANT(second_thief) {
	int hold;
};
FIXTURE_VARIANT_ADD(second_thief, first_resumes) {
	.hold = 0,
};
FIXTURE_VARIANT_ADD(second_thief, first_stays_stopped) {
	.hold = 1,
};

TEST_F(second_thief, waits_for_the_first)
{
	struct sigaction sa = { 0 }, old;
	struct mempool_stats st;
	int i;

	memset(&twait, 0, sizeof(twait));
	twait.hold = variant->hold;
	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	/* Magazines of one block: no outboxes, frees go to queues at once. */
	twait.pool = pool_create(64, 2, WAIT_CAP);
	ASSERT_NE(NULL, twait.pool);
	ASSERT_EQ(0, stepper_start(&twait.f));
	ASSERT_EQ(0, stepper_start(&twait.t1));
	ASSERT_EQ(0, stepper_start(&twait.t2));
	/* Each helper's own cache, empty; then this thread takes it all. */
	step(&twait.f, step_pool_touch, twait.pool);
	step(&twait.t1, step_pool_touch, twait.pool);
	step(&twait.t2, step_pool_touch, twait.pool);
	for (i = 0; i < WAIT_CAP; i++) {
		twait.v[i] = pool_alloc(twait.pool);
		ASSERT_NE(NULL, twait.v[i]);
	}
	step(&twait.f, twait_free_a, NULL);	/* A: queued for us */
	twait.page = state_word_page(twait.pool, twait.v[WAIT_A]);
	sa.sa_sigaction = twait_segv;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old));
	ASSERT_EQ(0, mprotect(twait.page, sysconf(_SC_PAGESIZE), PROT_READ));
	step(&twait.t1, twait_t1_alloc, NULL);
	while (__atomic_load_n(&twait.t2.cmd, __ATOMIC_ACQUIRE) != 2)
		sched_yield();
	__atomic_store_n(&twait.t2.cmd, 0, __ATOMIC_RELEASE);
	sigaction(SIGSEGV, &old, NULL);
	EXPECT_TRUE(in_range(twait.v, WAIT_A, WAIT_B, twait.t1_got));
	if (twait.hold) {
		EXPECT_TRUE(twait.t2_done_held)
			TH_LOG("the second thief still waits after 5 s");
		EXPECT_EQ(NULL, twait.t2_got);
		/*
		 * The first is done: with its cache flushed, every block of
		 * A and B but its one is within the second's reach (A's rest
		 * through the depot, B still queued for the owner).
		 */
		step(&twait.t1, step_pool_flush, twait.pool);
		step(&twait.t2, twait_t2_take_all, NULL);
		EXPECT_EQ(WAIT_END - WAIT_A - 1, twait.t2_n);
		for (i = 0; i < twait.t2_n; i++)
			EXPECT_TRUE(in_range(twait.v, WAIT_A, WAIT_END,
					     twait.t2v[i]));
		for (i = 1; i < twait.t2_n; i++)
			EXPECT_EQ(0, pool_free(twait.pool, twait.t2v[i]));
		twait.t2_got = twait.t2v[0];
	} else {
		ASSERT_NE(NULL, twait.t2_got)
			TH_LOG("the second thief gave up with B queued");
		EXPECT_TRUE(in_range(twait.v, WAIT_B, WAIT_END,
				     twait.t2_got));
	}
	ASSERT_EQ(0, pool_stats(twait.pool, &st));
	EXPECT_EQ(WAIT_CAP - (WAIT_END - WAIT_A) + 2, st.in_use);
	EXPECT_EQ(0, st.double_free + st.invalid + st.corrupt);
	EXPECT_EQ(0, __atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	/* Everything back, and every block once. */
	EXPECT_EQ(0, pool_free(twait.pool, twait.t1_got));
	EXPECT_EQ(0, pool_free(twait.pool, twait.t2_got));
	for (i = 0; i < WAIT_CAP; i++)
		if (i < WAIT_A || i >= WAIT_END)
			EXPECT_EQ(0, pool_free(twait.pool, twait.v[i]));
	step(&twait.t1, step_pool_touch, twait.pool);
	step(&twait.t2, step_pool_touch, twait.pool);
	stepper_stop(&twait.f);
	stepper_stop(&twait.t1);
	stepper_stop(&twait.t2);
	pool_cache_flush(twait.pool);
	EXPECT_EQ(WAIT_CAP, drain_count(pool_alloc_fn, twait.pool, WAIT_CAP));
	mempool_set_error_hook(NULL, NULL);
	pool_destroy(twait.pool);
}

/* --- a freer stopped inside its outbox bracket ---------------------------- */

/*
 * Magazines of 1024 blocks (8 KiB) and 18 of them: the magazines' memory
 * is mapped on its own, so the page of the freer's outbox slot holds
 * nothing else the freer writes (its cache, its bracket) before it.
 */
#define OBX_CAP		16384
#define OBX_CACHE	2048

static struct {
	mempool_t *pool;
	struct stepper o, f, t;
	void **v;
	void *page, *slot, *t_got, *o_got;
	int f_ret1, f_ret2;
} obx;

static void obx_o_take_all(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < OBX_CAP; i++)
		obx.v[i] = pool_alloc(obx.pool);
}

static void obx_f_free1(void *arg)
{
	(void)arg;
	obx.f_ret1 = pool_free(obx.pool, obx.v[0]);
	obx.slot = mpool_testing_outbox_slot(obx.pool);
}

static void obx_f_free2(void *arg)
{
	(void)arg;
	obx.f_ret2 = pool_free(obx.pool, obx.v[1]);
}

static void obx_t_alloc(void *arg)
{
	(void)arg;
	obx.t_got = pool_alloc(obx.pool);
}

static void obx_o_alloc(void *arg)
{
	(void)arg;
	obx.o_got = pool_alloc(obx.pool);
}

static void obx_o_give_back(void *arg)
{
	int i;

	(void)arg;
	for (i = 2; i < OBX_CAP; i++)
		pool_free(obx.pool, obx.v[i]);
	pool_cache_flush(obx.pool);
}

/*
 * The freer is stopped at the store of its second entry, inside its
 * bracket (busy set): a thief comes for its outbox, then the owner looks
 * for what was sent to it.
 */
static void obx_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	mprotect(obx.page, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
	step(&obx.t, obx_t_alloc, NULL);
	step(&obx.o, obx_o_alloc, NULL);
}

/*
 * A thread out of blocks sends other threads' open outboxes only once
 * their freers are outside their brackets (mpool_outbox_steal_begin()).
 * The freer F has one block of O's in its outbox and is stopped inside
 * its bracket, at the store of a second one; thief T, out of blocks, must
 * leave that outbox alone (and fail, after its budget): had it sent it,
 * O's collection would recycle the magazine, and F's store, landing
 * after, would leave the second block in no outbox and on no queue, lost
 * for good (tools/mutants.sh: outbox-steal-no-busy-wait).  Once F is
 * done, its outbox holds both, and every block comes back.
 */
TEST(outbox_thief_waits_for_the_freer)
{
	struct sigaction sa = { 0 }, old;
	struct mempool_stats st;
	int i;

	void **all;
	long n;

	memset(&obx, 0, sizeof(obx));
	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	obx.v = calloc(OBX_CAP, sizeof(*obx.v));
	ASSERT_NE(NULL, obx.v);
	obx.pool = pool_create(64, OBX_CACHE, OBX_CAP);
	ASSERT_NE(NULL, obx.pool);
	ASSERT_EQ(0, stepper_start(&obx.o));
	ASSERT_EQ(0, stepper_start(&obx.f));
	ASSERT_EQ(0, stepper_start(&obx.t));
	step(&obx.f, step_pool_touch, obx.pool);
	step(&obx.t, step_pool_touch, obx.pool);
	step(&obx.o, obx_o_take_all, NULL);
	for (i = 0; i < OBX_CAP; i++)
		ASSERT_NE(NULL, obx.v[i]);
	step(&obx.f, obx_f_free1, NULL);
	ASSERT_EQ(0, obx.f_ret1);
	ASSERT_NE(NULL, obx.slot) TH_LOG("the remote free opened no outbox");
	obx.page = (void *)((uintptr_t)obx.slot &
			    ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1));
	sa.sa_sigaction = obx_segv;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old));
	ASSERT_EQ(0, mprotect(obx.page, sysconf(_SC_PAGESIZE), PROT_READ));
	step(&obx.f, obx_f_free2, NULL);
	sigaction(SIGSEGV, &old, NULL);
	EXPECT_EQ(0, obx.f_ret2);
	EXPECT_EQ(NULL, obx.t_got);	/* the outbox was left alone */
	EXPECT_EQ(NULL, obx.o_got);	/* nothing was sent to O */
	/* F sends its batch; O takes it back with the rest. */
	step(&obx.f, step_pool_flush, obx.pool);
	step(&obx.o, obx_o_give_back, NULL);
	step(&obx.t, step_pool_flush, obx.pool);
	stepper_stop(&obx.o);
	stepper_stop(&obx.f);
	stepper_stop(&obx.t);
	ASSERT_EQ(0, pool_stats(obx.pool, &st));
	EXPECT_EQ(0, st.in_use);
	EXPECT_EQ(0, st.double_free + st.invalid + st.corrupt);
	EXPECT_EQ(0, __atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	/* Every block, here (no duplicate check: 16384 blocks). */
	all = calloc(OBX_CAP + 1, sizeof(*all));
	ASSERT_NE(NULL, all);
	for (n = 0; n <= OBX_CAP && (all[n] = pool_alloc(obx.pool)); n++)
		;
	EXPECT_EQ(OBX_CAP, n);
	while (n--)
		pool_free(obx.pool, all[n]);
	free(all);
	free(obx.v);
	mempool_set_error_hook(NULL, NULL);
	pool_destroy(obx.pool);
}

/* --- without membarrier() ------------------------------------------------ */

#define NOMB_CAP	256	/* magazines, and batches, of 128 */
#define NOMB_FREED	3

static struct {
	mempool_t *pool;
	struct stepper c, o;
	void *v[NOMB_CAP];
	int bad;	/* frees that failed */
} nomb;

static void nomb_free_some(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < NOMB_FREED; i++)
		nomb.bad += pool_free(nomb.pool, nomb.v[i]) != 0;
}

static void nomb_take_all(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < NOMB_CAP; i++)
		nomb.v[i] = pool_alloc(nomb.pool);
}

/*
 * Refuse membarrier() to this process (ENOSYS), as a container's seccomp
 * policy may.  Return 0, or the errno of what could not be done.
 */
static int refuse_membarrier(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return errno;
	return 0;
}

/*
 * Without membarrier() no thread can tell whether another is inside its
 * bracket, so there are no thieves and no outboxes (common/pool.c,
 * "Stranding"): a remote free must go to its owner's queue at once, or a
 * freer gone idle would hold the block for good.  A consumer frees three
 * of this thread's blocks and idles: this thread, out of blocks, must get
 * the three back (tools/mutants.sh: outbox-without-membarrier).  Then the
 * stated limit: a block freed for another owner that idles is out of a
 * third thread's reach until that owner exits, and no longer.  Runs in
 * the test's own process (the harness forks one per test), before its
 * first pool, which is when the library asks for membarrier().
 */
TEST(no_membarrier_no_outbox)
{
	struct mempool_stats st;
	void *got[NOMB_FREED];
	int i, err;

#if !defined(__x86_64__)
	SKIP(return, "the seccomp filter here is written for x86-64");
#endif
	err = refuse_membarrier();
	if (err)
		SKIP(return, "no seccomp filter could be installed: %s",
		     strerror(err));
	ASSERT_EQ(-1, syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0));
	ASSERT_EQ(ENOSYS, errno);
	memset(&nomb, 0, sizeof(nomb));
	quiet_hook_count = 0;
	mempool_set_error_hook(quiet_hook, NULL);
	nomb.pool = pool_create(64, NOMB_CAP, NOMB_CAP);
	ASSERT_NE(NULL, nomb.pool);
	ASSERT_EQ(0, stepper_start(&nomb.c));
	ASSERT_EQ(0, stepper_start(&nomb.o));
	step(&nomb.c, step_pool_touch, nomb.pool);

	/* This thread owns every block; the consumer frees three, idles. */
	nomb_take_all(NULL);
	for (i = 0; i < NOMB_CAP; i++)
		ASSERT_NE(NULL, nomb.v[i]);
	step(&nomb.c, nomb_free_some, NULL);
	for (i = 0; i < NOMB_FREED; i++) {
		got[i] = pool_alloc(nomb.pool);
		ASSERT_NE(NULL, got[i])
			TH_LOG("block %d of %d freed for us is out of reach",
			       i + 1, NOMB_FREED);
	}
	for (i = 0; i < NOMB_FREED; i++)
		EXPECT_TRUE(in_range(nomb.v, 0, NOMB_FREED, got[i]));
	for (i = 0; i < NOMB_CAP; i++)
		EXPECT_EQ(0, pool_free(nomb.pool, nomb.v[i]));
	pool_cache_flush(nomb.pool);

	/* Another owner, idle: out of reach until it exits. */
	step(&nomb.o, nomb_take_all, NULL);
	for (i = 0; i < NOMB_CAP; i++)
		ASSERT_NE(NULL, nomb.v[i]);
	step(&nomb.c, nomb_free_some, NULL);
	EXPECT_EQ(NULL, pool_alloc(nomb.pool));
	stepper_stop(&nomb.o);
	for (i = 0; i < NOMB_FREED; i++) {
		got[i] = pool_alloc(nomb.pool);
		ASSERT_NE(NULL, got[i]);
		EXPECT_TRUE(in_range(nomb.v, 0, NOMB_FREED, got[i]));
	}
	EXPECT_EQ(NULL, pool_alloc(nomb.pool));
	stepper_stop(&nomb.c);
	EXPECT_EQ(0, nomb.bad);
	ASSERT_EQ(0, pool_stats(nomb.pool, &st));
	EXPECT_EQ(NOMB_CAP, st.in_use);
	EXPECT_EQ(0, st.double_free + st.invalid + st.corrupt);
	EXPECT_EQ(0, __atomic_load_n(&quiet_hook_count, __ATOMIC_RELAXED));
	mempool_set_error_hook(NULL, NULL);
	pool_destroy(nomb.pool);
}

TEST_HARNESS_MAIN
