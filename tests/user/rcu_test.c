// SPDX-License-Identifier: GPL-2.0
/*
 * rcu_test.c - pool_free_rcu(): a block freed while an RCU reader holds it
 * is not handed out again until the reader has left its critical section
 * and a barrier has passed, with two liburcu flavours (memb and qsbr);
 * misuse; open batches at thread exit and at destroy; statistics; and a
 * stress of readers walking an RCU list while updaters replace its nodes
 * (run under TSan and ASan by make sanitize).
 *
 * The flavours are used through their struct rcu_flavor_struct only, so
 * that one file can use both: liburcu's flavour headers map the same
 * names (rcu_read_lock, ...) onto different symbols.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <urcu/flavor.h>

#include "mempool.h"
#include "mpool_testing.h"
#include "kselftest_harness.h"
#include "stepper.h"

/* Their headers cannot both be included (one include guard). */
extern const struct rcu_flavor_struct urcu_memb_flavor;
extern const struct rcu_flavor_struct urcu_qsbr_flavor;

#define NBLK	128
#define PATTERN	0xa5

/* The reader thread of the holding test and its handshake with main. */
struct holder {
	const struct rcu_flavor_struct *fl;
	unsigned char *block;
	int step;		/* 1: holding; 2: main says let go; 3: let go */
	int intact;		/* the block's bytes were PATTERN throughout */
};

static int step_get(struct holder *h)
{
	return __atomic_load_n(&h->step, __ATOMIC_ACQUIRE);
}

static void step_set(struct holder *h, int v)
{
	__atomic_store_n(&h->step, v, __ATOMIC_RELEASE);
}

static bool all_pattern(const unsigned char *b)
{
	int i;

	for (i = 0; i < 64; i++)
		if (b[i] != PATTERN)
			return false;
	return true;
}

static void *holder_main(void *arg)
{
	struct holder *h = arg;

	h->fl->register_thread();
	h->fl->read_lock();
	h->intact = all_pattern(h->block);
	step_set(h, 1);
	while (step_get(h) != 2)
		usleep(1000);
	/* Freed by now, and maybe reused if the pool is wrong. */
	h->intact &= all_pattern(h->block);
	h->fl->read_unlock();
	/* QSBR: a reader is one until it says it is quiescent. */
	h->fl->thread_offline();
	step_set(h, 3);
	h->fl->unregister_thread();
	return NULL;
}

FIXTURE(rcu) {
	const struct rcu_flavor_struct *fl;
	mempool_t *p;
};

FIXTURE_VARIANT(rcu) {
	const struct rcu_flavor_struct *fl;
};

FIXTURE_VARIANT_ADD(rcu, memb) {
	.fl = &urcu_memb_flavor,
};

FIXTURE_VARIANT_ADD(rcu, qsbr) {
	.fl = &urcu_qsbr_flavor,
};

FIXTURE_SETUP(rcu)
{
	self->fl = variant->fl;
	self->fl->register_thread();
	/* Main waits and calls barriers: offline (QSBR), as liburcu wants. */
	self->fl->thread_offline();
	self->p = pool_create(64, 8, NBLK);
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, pool_set_rcu(self->p, self->fl));
}

FIXTURE_TEARDOWN(rcu)
{
	pool_destroy(self->p);
	self->fl->unregister_thread();
}

/* Allocate every block the pool will give; their number. */
static int take_all(mempool_t *p, void **v)
{
	int n = 0;

	while (n < NBLK + 1 && (v[n] = pool_alloc(p)))
		n++;
	return n;
}

static void expect_balance(struct __test_metadata *_metadata, mempool_t *p)
{
	struct mempool_stats st;
	long pending = pool_rcu_pending(p);

	ASSERT_EQ(0, pool_stats(p, &st));
	EXPECT_EQ(st.capacity,
		  st.in_use + st.free + st.cached + st.quarantined + pending);
}

/*
 * The test: a reader holds a block; the updater frees every block
 * through pool_free_rcu() and then allocates all it can.  None may come
 * back while the reader holds (a grace period cannot end); after the
 * reader lets go and a barrier passes, all of them come back, the held
 * one included.
 */
TEST_F(rcu, held_block_not_reused_until_reader_leaves)
{
	void *v[NBLK + 1], *again[NBLK + 1];
	struct holder h = { .fl = self->fl };
	pthread_t t;
	bool found = false;
	int i, n;

	/* First: blocks freed with no reader come back after a barrier. */
	self->fl->thread_online();
	ASSERT_EQ(NBLK, take_all(self->p, v));
	for (i = 0; i < NBLK; i++)
		ASSERT_EQ(0, pool_free_rcu(self->p, v[i]));
	self->fl->thread_offline();
	/*
	 * Two full batches went to call_rcu: they may be coming back now, so
	 * the figures are only balanced after the barrier.
	 */
	pool_rcu_barrier(self->p);
	EXPECT_EQ(0, pool_rcu_pending(self->p));
	expect_balance(_metadata, self->p);

	ASSERT_EQ(NBLK, take_all(self->p, v));
	for (i = 0; i < NBLK; i++)
		memset(v[i], PATTERN, 64);
	h.block = v[NBLK / 2];
	ASSERT_EQ(0, pthread_create(&t, NULL, holder_main, &h));
	while (step_get(&h) != 1)
		usleep(1000);
	self->fl->thread_online();
	for (i = 0; i < NBLK; i++)
		ASSERT_EQ(0, pool_free_rcu(self->p, v[i]));
	self->fl->thread_offline();
	/* Time for a wrong pool's callbacks to run. */
	usleep(100000);
	self->fl->thread_online();
	n = take_all(self->p, again);
	self->fl->thread_offline();
	EXPECT_EQ(0, n);
	for (i = 0; i < n; i++)
		EXPECT_NE(h.block, again[i]);
	EXPECT_EQ(NBLK, pool_rcu_pending(self->p));
	step_set(&h, 2);
	while (step_get(&h) != 3)
		usleep(1000);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_TRUE(h.intact);
	pool_rcu_barrier(self->p);
	EXPECT_EQ(0, pool_rcu_pending(self->p));
	self->fl->thread_online();
	n = take_all(self->p, again);
	self->fl->thread_offline();
	EXPECT_EQ(NBLK, n);
	for (i = 0; i < n; i++)
		found |= again[i] == h.block;
	EXPECT_TRUE(found);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, pool_free(self->p, again[i]));
	expect_balance(_metadata, self->p);
}

struct seen {
	int n;
	int err;
};

static void record(const struct mempool_error *e, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->err = e->err;
}

TEST_F(rcu, misuse)
{
	struct seen seen = { 0 };
	struct mempool_stats st;
	mempool_t *bare;
	void *a, *b, *c;
	char x[64];

	self->fl->thread_online();
	bare = pool_create(64, 8, 16);
	ASSERT_NE(NULL, bare);
	mempool_set_error_hook(record, &seen);
	EXPECT_EQ(-EINVAL, pool_set_rcu(NULL, self->fl));
	EXPECT_EQ(-EINVAL, pool_set_rcu(bare, NULL));
	/* No flavour bound: refused, reported, nothing changed. */
	a = pool_alloc(bare);
	ASSERT_NE(NULL, a);
	EXPECT_EQ(-EINVAL, pool_free_rcu(bare, a));
	EXPECT_EQ(1, seen.n);
	EXPECT_EQ(0, pool_free(bare, a));
	pool_rcu_barrier(bare);		/* nothing to do */
	EXPECT_EQ(0, pool_rcu_pending(bare));
	/* The same flavour again is fine; another one is -EBUSY. */
	EXPECT_EQ(0, pool_set_rcu(self->p, self->fl));
	EXPECT_EQ(-EBUSY, pool_set_rcu(self->p, self->fl == &urcu_memb_flavor ?
				       &urcu_qsbr_flavor : &urcu_memb_flavor));
	EXPECT_EQ(0, pool_free_rcu(self->p, NULL));
	EXPECT_EQ(-EINVAL, pool_free_rcu(NULL, x));
	seen.n = 0;
	EXPECT_EQ(-EINVAL, pool_free_rcu(self->p, x));		/* foreign */
	a = pool_alloc(self->p);
	b = pool_alloc(self->p);
	c = pool_alloc(self->p);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(-EINVAL, pool_free_rcu(self->p, (char *)a + 8)); /* interior */
	EXPECT_EQ(0, pool_free_rcu(self->p, a));
	EXPECT_EQ(-EALREADY, pool_free_rcu(self->p, a));	/* twice */
	EXPECT_EQ(-EALREADY, pool_free(self->p, a));	/* pending, then free */
	EXPECT_EQ(0, pool_free(self->p, b));
	EXPECT_EQ(-EALREADY, pool_free_rcu(self->p, b));	/* after free */
	EXPECT_EQ(5, seen.n);
	EXPECT_EQ(-EALREADY, seen.err);
	EXPECT_EQ(1, pool_rcu_pending(self->p));
	ASSERT_EQ(0, pool_stats(self->p, &st));
	EXPECT_EQ(3, st.double_free);
	EXPECT_EQ(2, st.invalid);
	EXPECT_EQ(1, st.in_use);			/* c */
	self->fl->thread_offline();
	pool_rcu_barrier(self->p);
	EXPECT_EQ(0, pool_rcu_pending(self->p));
	EXPECT_EQ(5, seen.n);		/* the barrier found nothing wrong */
	EXPECT_EQ(0, pool_free(self->p, c));
	expect_balance(_metadata, self->p);
	mempool_set_error_hook(NULL, NULL);
	pool_destroy(bare);
}

/*
 * A barrier from a QSBR thread that is online goes offline to wait; one
 * inside a read-side critical section of memb cannot wait for itself:
 * reported, and it returns without waiting.
 */
TEST_F(rcu, barrier_from_a_reader)
{
	struct seen seen = { 0 };
	void *a;

	self->fl->thread_online();
	a = pool_alloc(self->p);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, pool_free_rcu(self->p, a));
	mempool_set_error_hook(record, &seen);
	self->fl->read_lock();
	pool_rcu_barrier(self->p);
	self->fl->read_unlock();
	if (self->fl == &urcu_qsbr_flavor) {
		EXPECT_EQ(0, seen.n);
		EXPECT_EQ(0, pool_rcu_pending(self->p));
	} else {
		EXPECT_EQ(1, seen.n);
		EXPECT_EQ(-EINVAL, seen.err);
		EXPECT_EQ(1, pool_rcu_pending(self->p));
	}
	mempool_set_error_hook(NULL, NULL);
	pool_rcu_barrier(self->p);
	EXPECT_EQ(0, pool_rcu_pending(self->p));
	self->fl->thread_offline();
	expect_balance(_metadata, self->p);
}

struct exiter {
	const struct rcu_flavor_struct *fl;
	mempool_t *p;
	int n;
	int ok;
};

static void *exiter_main(void *arg)
{
	struct exiter *e = arg;
	void *v[NBLK];
	int i;

	e->fl->register_thread();
	e->ok = 1;
	for (i = 0; i < e->n; i++) {
		v[i] = pool_alloc(e->p);
		e->ok &= !!v[i];
	}
	for (i = 0; i < e->n; i++)
		e->ok &= !pool_free_rcu(e->p, v[i]);
	e->fl->unregister_thread();
	return NULL;
}

/*
 * A thread exits with an open batch (fewer than a batch's worth): the
 * batch is handed over, counted as pending, and given back by the next
 * deferred free of another thread (its submit) or a barrier.
 */
TEST_F(rcu, thread_exit_hands_open_batch_over)
{
	struct exiter e = { .fl = self->fl, .p = self->p, .n = 10 };
	struct mempool_stats st;
	pthread_t t;
	void *a;
	int i;

	ASSERT_EQ(0, pthread_create(&t, NULL, exiter_main, &e));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_TRUE(e.ok);
	EXPECT_EQ(10, pool_rcu_pending(self->p));
	expect_balance(_metadata, self->p);
	/* Another thread's deferred free submits the handed-over batch. */
	self->fl->thread_online();
	a = pool_alloc(self->p);
	ASSERT_NE(NULL, a);
	EXPECT_EQ(0, pool_free_rcu(self->p, a));
	self->fl->thread_offline();
	/*
	 * Submitted: it comes back with no barrier of ours (polled; not
	 * liburcu's rcu_barrier(), which TSan builds cannot use, see
	 * user/mpool_env.h), while our own open batch stays.
	 */
	for (i = 0; i < 5000 && pool_rcu_pending(self->p) > 1; i++)
		usleep(1000);
	EXPECT_EQ(1, pool_rcu_pending(self->p));
	pool_rcu_barrier(self->p);
	EXPECT_EQ(0, pool_rcu_pending(self->p));
	ASSERT_EQ(0, pool_stats(self->p, &st));
	EXPECT_EQ(0, st.in_use);
	expect_balance(_metadata, self->p);
}

/* A thread that allocates blocks for main, then idles until told. */
struct giver {
	mempool_t *p;
	void *v[NBLK];
	int n;
	int go;		/* 1: blocks handed out; 2: main is done */
};

static void *giver_main(void *arg)
{
	struct giver *g = arg;

	while (g->n < NBLK && (g->v[g->n] = pool_alloc(g->p)))
		g->n++;
	__atomic_store_n(&g->go, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&g->go, __ATOMIC_ACQUIRE) != 2)
		usleep(1000);
	return NULL;
}

/*
 * Blocks another (live, idle) thread's cache handed out, freed with the
 * deferred free by main: after the grace period they go back through
 * their owner's remote queue, as a remote free's would, and main gets
 * every one of them (taking the idle owner's queue).
 */
TEST_F(rcu, deferred_free_of_another_threads_blocks)
{
	struct giver g = { .p = self->p };
	struct seen seen = { 0 };
	void *again[NBLK + 1];
	struct mempool_stats st;
	pthread_t t;
	int i, n;

	ASSERT_EQ(0, pthread_create(&t, NULL, giver_main, &g));
	while (__atomic_load_n(&g.go, __ATOMIC_ACQUIRE) != 1)
		usleep(1000);
	ASSERT_EQ(NBLK, g.n);
	self->fl->thread_online();
	for (i = 0; i < NBLK; i++)
		ASSERT_EQ(0, pool_free_rcu(self->p, g.v[i]));
	mempool_set_error_hook(record, &seen);
	EXPECT_EQ(-EALREADY, pool_free(self->p, g.v[0]));
	mempool_set_error_hook(NULL, NULL);
	EXPECT_EQ(1, seen.n);
	self->fl->thread_offline();
	pool_rcu_barrier(self->p);
	EXPECT_EQ(0, pool_rcu_pending(self->p));
	ASSERT_EQ(0, pool_stats(self->p, &st));
	EXPECT_EQ(0, st.in_use);
	EXPECT_EQ(1, st.double_free);
	expect_balance(_metadata, self->p);
	self->fl->thread_online();
	n = take_all(self->p, again);
	self->fl->thread_offline();
	EXPECT_EQ(NBLK, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, pool_free(self->p, again[i]));
	__atomic_store_n(&g.go, 2, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, pool_stats(self->p, &st));
	EXPECT_EQ(1, st.double_free);
	expect_balance(_metadata, self->p);
}

/* Destroy with open batches of a live and an exited thread: no leak. */
TEST_F(rcu, destroy_with_open_batches)
{
	struct exiter e = { .fl = self->fl, .p = self->p, .n = 20 };
	pthread_t t;
	void *a;

	ASSERT_EQ(0, pthread_create(&t, NULL, exiter_main, &e));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_TRUE(e.ok);
	EXPECT_EQ(20, pool_rcu_pending(self->p));
	self->fl->thread_online();
	a = pool_alloc(self->p);
	ASSERT_NE(NULL, a);
	/* Ours stays open; the handed-over batch goes to call_rcu. */
	EXPECT_EQ(0, pool_free_rcu(self->p, a));
	self->fl->thread_offline();
	EXPECT_LE(1, pool_rcu_pending(self->p));
	pool_destroy(self->p);
	/* The teardown's destroy must not find it again. */
	self->p = pool_create(64, 8, NBLK);
	ASSERT_NE(NULL, self->p);
}

/* --- stress: readers walk an RCU list, updaters replace its nodes ----- */

#define LIST_LEN	32
#define STRESS_OPS	20000

struct node {
	struct node *next;
	unsigned long key;
	unsigned long check;	/* key * 3 + 1 while the node is live */
};

struct stress {
	const struct rcu_flavor_struct *fl;
	mempool_t *p;
	struct node *head;
	pthread_mutex_t lock;	/* updaters only */
	int stop;
	long bad;		/* nodes seen torn or reused */
	long walks;
	long failed;		/* updaters' errors */
};

/* Node fields are atomic: readers and updaters race on them by design. */
static unsigned long ld(unsigned long *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void st_ul(unsigned long *p, unsigned long v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static struct node *deref(struct node **pp)
{
	return __atomic_load_n(pp, __ATOMIC_ACQUIRE);
}

static void assign(struct node **pp, struct node *n)
{
	__atomic_store_n(pp, n, __ATOMIC_RELEASE);
}

static void *reader_main(void *arg)
{
	struct stress *s = arg;
	struct node *n;
	long bad = 0, walks = 0;
	int len;

	s->fl->register_thread();
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		s->fl->read_lock();
		len = 0;
		for (n = deref(&s->head); n; n = deref(&n->next)) {
			if (ld(&n->check) != ld(&n->key) * 3 + 1)
				bad++;
			len++;
		}
		s->fl->read_unlock();
		s->fl->read_quiescent_state();
		bad += len != LIST_LEN;
		walks++;
	}
	s->fl->unregister_thread();
	__atomic_fetch_add(&s->bad, bad, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->walks, walks, __ATOMIC_RELAXED);
	return NULL;
}

static void *updater_main(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;
	struct node **pp, *old, *new;
	long failed = 0;
	int i, k, pos;

	s->fl->register_thread();
	for (i = 0; i < STRESS_OPS; i++) {
		new = pool_alloc(s->p);
		if (!new) {
			/* All out: wait for the deferred frees to come back. */
			s->fl->thread_offline();
			usleep(100);
			s->fl->thread_online();
			i--;
			continue;
		}
		st_ul(&new->key, (unsigned long)rand_r(&seed));
		st_ul(&new->check, ld(&new->key) * 3 + 1);
		pos = rand_r(&seed) % LIST_LEN;
		pthread_mutex_lock(&s->lock);
		pp = &s->head;
		for (k = 0; k < pos; k++)
			pp = &(*pp)->next;
		old = *pp;
		assign(&new->next, old->next);
		assign(pp, new);
		pthread_mutex_unlock(&s->lock);
		failed += pool_free_rcu(s->p, old) != 0;
		s->fl->read_quiescent_state();
	}
	s->fl->unregister_thread();
	__atomic_fetch_add(&s->failed, failed, __ATOMIC_RELAXED);
	return NULL;
}

TEST(stress_rcu_list)
{
	struct stress s = { .fl = &urcu_memb_flavor };
	pthread_t r[2], u[2];
	struct mempool_stats st;
	struct node *n, *next;
	int i;

	s.fl->register_thread();
	pthread_mutex_init(&s.lock, NULL);
	/* Small: updaters run out and must wait for grace periods. */
	s.p = pool_create(sizeof(struct node), 16, 512);
	ASSERT_NE(NULL, s.p);
	ASSERT_EQ(0, pool_set_rcu(s.p, s.fl));
	for (i = 0; i < LIST_LEN; i++) {
		n = pool_alloc(s.p);
		ASSERT_NE(NULL, n);
		st_ul(&n->key, i);
		st_ul(&n->check, i * 3 + 1);
		n->next = s.head;
		s.head = n;
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&r[i], NULL, reader_main, &s));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&u[i], NULL, updater_main, &s));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(u[i], NULL));
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(r[i], NULL));
	EXPECT_EQ(0, s.bad);
	EXPECT_EQ(0, s.failed);
	EXPECT_LT(0, s.walks);
	pool_rcu_barrier(s.p);
	EXPECT_EQ(0, pool_rcu_pending(s.p));
	ASSERT_EQ(0, pool_stats(s.p, &st));
	EXPECT_EQ(LIST_LEN, st.in_use);
	EXPECT_EQ(0, st.double_free);
	EXPECT_EQ(st.capacity, st.in_use + st.free + st.cached);
	for (n = s.head; n; n = next) {
		next = n->next;
		EXPECT_EQ(0, pool_free(s.p, n));
	}
	pool_destroy(s.p);
	s.fl->unregister_thread();
}

/* --- a deferred free racing a free, stopped between two instructions ---- */

/* Blocks enough that the state words have a mapping of their own. */
#define RACE_CAP	16384

#if defined(__SANITIZE_THREAD__)
#define RACE_TSAN	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RACE_TSAN	1
#endif
#endif

static struct {
	mempool_t *pool;
	struct stepper o, x, y;
	void *block, *page;
	int owner_ret, remote_ret, rcu_ret;
	unsigned long reports;
} rr;

static void rr_hook(const struct mempool_error *e, void *arg)
{
	(void)e;
	(void)arg;
	__atomic_add_fetch(&rr.reports, 1, __ATOMIC_RELAXED);
}

static void rr_register(void *arg)
{
	(void)arg;
	urcu_memb_flavor.register_thread();
}

static void rr_unregister(void *arg)
{
	(void)arg;
	pool_cache_flush(rr.pool);
	urcu_memb_flavor.unregister_thread();
}

static void rr_owner_alloc(void *arg)
{
	(void)arg;
	rr.block = pool_alloc(rr.pool);
}

static void rr_owner_free(void *arg)
{
	(void)arg;
	rr.owner_ret = pool_free(rr.pool, rr.block);
}

static void rr_remote_free(void *arg)
{
	(void)arg;
	rr.remote_ret = pool_free(rr.pool, rr.block);
}

static void rr_rcu_free(void *arg)
{
	(void)arg;
	rr.rcu_ret = pool_free_rcu(rr.pool, rr.block);
}

/* The stopped thread is between its load and its store: X frees now. */
static void rr_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	mprotect(rr.page, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
	step(&rr.x, rr_remote_free, NULL);
}

/*
 * Owner O holds a block of a pool with caches of two (remote frees are
 * pushed one by one, each claiming the block's queue link).  @deferred_first:
 * Y's pool_free_rcu() of it stops before its compare-and-swap and X's
 * pool_free() wins.  Else: O's own free stops before its store, X's free
 * lands (both return 0), O hands the block out again and Y defers the free
 * of that new allocation.  Either way one racing double free, reported
 * exactly once; a correct deferred free succeeds; and in the end every
 * block can be allocated.
 */
static void rcu_race(struct __test_metadata *_metadata, bool deferred_first)
{
	struct stepper *all[] = { &rr.o, &rr.x, &rr.y };
	struct sigaction sa, old;
	struct mempool_stats st;
	void *first;
	int i, n;

	memset(&rr, 0, sizeof(rr));
	mempool_set_error_hook(rr_hook, NULL);
	rr.pool = pool_create(64, 2, RACE_CAP);
	ASSERT_NE(NULL, rr.pool);
	ASSERT_EQ(0, pool_set_rcu(rr.pool, &urcu_memb_flavor));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, stepper_start(all[i]));
		step(all[i], rr_register, NULL);
	}
	step(&rr.o, rr_owner_alloc, NULL);
	ASSERT_NE(NULL, rr.block);
	rr.page = state_word_page(rr.pool, rr.block);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = rr_segv;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &old));
	ASSERT_EQ(0, mprotect(rr.page, sysconf(_SC_PAGESIZE), PROT_READ));
	if (deferred_first) {
		step(&rr.y, rr_rcu_free, NULL);
		sigaction(SIGSEGV, &old, NULL);
		/* X's free won; the deferred one is the double free. */
		EXPECT_EQ(0, rr.remote_ret);
		EXPECT_EQ(-EALREADY, rr.rcu_ret);
	} else {
		step(&rr.o, rr_owner_free, NULL);
		sigaction(SIGSEGV, &old, NULL);
		EXPECT_EQ(0, rr.owner_ret);
		EXPECT_EQ(0, rr.remote_ret);
		first = rr.block;
		step(&rr.o, rr_owner_alloc, NULL);
		ASSERT_EQ(first, rr.block);
		/* A correct deferred free of the new allocation. */
		step(&rr.y, rr_rcu_free, NULL);
		EXPECT_EQ(0, rr.rcu_ret);
	}
	pool_rcu_barrier(rr.pool);
	for (i = 2; i >= 0; i--) {
		step(all[i], rr_unregister, NULL);
		stepper_stop(all[i]);
	}
	pool_cache_flush(rr.pool);
	ASSERT_EQ(0, pool_stats(rr.pool, &st));
	EXPECT_EQ(1, st.double_free);
	EXPECT_EQ(1, rr.reports);
	EXPECT_EQ(0, st.in_use);
	for (n = 0; n < RACE_CAP && pool_alloc(rr.pool); n++)
		;
	EXPECT_EQ(RACE_CAP, n);
	mempool_set_error_hook(NULL, NULL);
	pool_destroy(rr.pool);
}

TEST(deferred_free_stopped_before_its_swap)
{
#ifdef RACE_TSAN
	SKIP(return, "TSan holds its lock on the word through the faulting compare-and-swap, which the handler's free of that word then waits for (make test runs this)");
#endif
	rcu_race(_metadata, true);
}

TEST(deferred_free_after_racing_double_free)
{
	rcu_race(_metadata, false);
}

TEST_HARNESS_MAIN
