// SPDX-License-Identifier: GPL-2.0
/*
 * mpool_kunit.c - KUnit suites for mempool.ko, run when the module loads.
 *
 * mpool_shared: the cases of tests/shared/mpool_cases.h, the same bodies the
 * userspace harness runs, over the module's exported API.
 * mpool_kernel: what only the kernel has: one kthread per online CPU freeing
 * across CPUs, alloc and free in hardirq and softirq context, CPUs going
 * offline and online during use, no leak after destroy, and KASAN seeing a
 * use after free and an overflow of a pool block.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "../../kernel/internal.h"

MODULE_IMPORT_NS(MPOOL);

/* --- the shared cases' adapter ---------------------------------------- */

struct mpt {
	struct kunit *test;
};

#define MPT_EXPECT(t, cond)	KUNIT_EXPECT_TRUE((t)->test, !!(cond))
#define MPT_ASSERT(t, cond)	KUNIT_ASSERT_TRUE((t)->test, !!(cond))
#define MPT_EQ(t, a, b)							\
	KUNIT_EXPECT_EQ((t)->test, (long long)(a), (long long)(b))

#define MPT_F_DEBUG	MPOOL_F_DEBUG
/* Far more than a 16 KiB kernel stack holds frames for. */
#define MPT_MANY_CORRUPT	3000

#include "../shared/mpool_cases.h"

static atomic_t mpt_serial = ATOMIC_INIT(0);

/* Names must be unique among live allocators. */
static void mpt_name(char *buf)
{
	snprintf(buf, MPOOL_NAME_MAX, "kunit-%d", atomic_inc_return(&mpt_serial));
}

static int mpt_err(void *p, void **out)
{
	if (IS_ERR(p)) {
		*out = NULL;
		return PTR_ERR(p);
	}
	*out = p;
	return 0;
}

static int mpt_slab_create(size_t size, size_t count, unsigned int flags,
			   struct mpt_slab **out)
{
	char name[MPOOL_NAME_MAX];

	mpt_name(name);
	return mpt_err(mpool_slab_create(name, size, count, flags),
		       (void **)out);
}

static void *mpt_slab_alloc(struct mpt_slab *s)
{
	return mpool_slab_alloc((struct mpool_slab *)s);
}

static int mpt_slab_free(struct mpt_slab *s, void *p)
{
	return mpool_slab_free((struct mpool_slab *)s, p);
}

static void mpt_slab_destroy(struct mpt_slab *s)
{
	mpool_slab_destroy((struct mpool_slab *)s);
}

static void mpt_slab_stats(struct mpt_slab *s, struct mpool_stats *st)
{
	mpool_slab_stats((struct mpool_slab *)s, st);
}

static int mpt_pool_create(size_t size, size_t cache, size_t capacity,
			   unsigned int flags, struct mpt_pool **out)
{
	char name[MPOOL_NAME_MAX];

	mpt_name(name);
	return mpt_err(mpool_pool_create(name, size, cache, capacity, flags),
		       (void **)out);
}

static void *mpt_pool_alloc(struct mpt_pool *p)
{
	return mpool_pool_alloc((struct mpool_pool *)p);
}

static int mpt_pool_free(struct mpt_pool *p, void *ptr)
{
	return mpool_pool_free((struct mpool_pool *)p, ptr);
}

static int mpt_pool_alloc_bulk(struct mpt_pool *p, void **ptrs, size_t n)
{
	return mpool_pool_alloc_bulk((struct mpool_pool *)p, ptrs, n);
}

static int mpt_pool_free_bulk(struct mpt_pool *p, void *const *ptrs, size_t n)
{
	return mpool_pool_free_bulk((struct mpool_pool *)p, ptrs, n);
}

static int mpt_slab_alloc_bulk(struct mpt_slab *s, void **ptrs, size_t n)
{
	return mpool_slab_alloc_bulk((struct mpool_slab *)s, ptrs, n);
}

static int mpt_slab_free_bulk(struct mpt_slab *s, void *const *ptrs, size_t n)
{
	return mpool_slab_free_bulk((struct mpool_slab *)s, ptrs, n);
}

static void mpt_pool_flush(struct mpt_pool *p)
{
	mpool_pool_flush((struct mpool_pool *)p);
}

static void mpt_pool_destroy(struct mpt_pool *p)
{
	mpool_pool_destroy((struct mpool_pool *)p);
}

static void mpt_pool_stats(struct mpt_pool *p, struct mpool_stats *st)
{
	mpool_pool_stats((struct mpool_pool *)p, st);
}

static long mpt_slab_audit(struct mpt_slab *s)
{
	return mpool_slab_audit((struct mpool_slab *)s);
}

static long mpt_pool_audit(struct mpt_pool *p)
{
	return mpool_pool_audit((struct mpool_pool *)p);
}

/* The kernel's pools are bound to its RCU at create. */
static int mpt_pool_rcu_bind(struct mpt_pool *p)
{
	return 0;
}

static int mpt_pool_free_rcu(struct mpt_pool *p, void *ptr)
{
	return mpool_pool_free_rcu((struct mpool_pool *)p, ptr);
}

static void mpt_pool_rcu_barrier(struct mpt_pool *p)
{
	mpool_pool_rcu_barrier((struct mpool_pool *)p);
}

static long mpt_pool_rcu_pending(struct mpt_pool *p)
{
	return mpool_pool_rcu_pending((struct mpool_pool *)p);
}

static void mpt_rcu_read_lock(void)
{
	rcu_read_lock();
}

static void mpt_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

/* A stray write: KASAN must not stop it, the allocator must catch it. */
static noinline __no_sanitize_address void mpt_poke(void *p, size_t n, int c)
{
	volatile u8 *q = p;

	while (n--)
		*q++ = (u8)c;
}

static int mpt_arena_create(size_t capacity, struct mpt_arena **out)
{
	char name[MPOOL_NAME_MAX];

	mpt_name(name);
	return mpt_err(mpool_arena_create(name, capacity), (void **)out);
}

static void *mpt_arena_alloc(struct mpt_arena *a, size_t size)
{
	return mpool_arena_alloc((struct mpool_arena *)a, size);
}

static void mpt_arena_reset(struct mpt_arena *a)
{
	mpool_arena_reset((struct mpool_arena *)a);
}

static void mpt_arena_destroy(struct mpt_arena *a)
{
	mpool_arena_destroy((struct mpool_arena *)a);
}

static void mpt_arena_stats(struct mpt_arena *a, struct mpool_stats *st)
{
	mpool_arena_stats((struct mpool_arena *)a, st);
}

static void *mpt_zalloc(size_t size)
{
	return kvzalloc(size, GFP_KERNEL);
}

static void mpt_free(void *p)
{
	kvfree(p);
}

static unsigned long mpt_reports(void)
{
	return mpool_report_count();
}

/*
 * Pools are per CPU here: a case that needs one cache for a sequence of
 * calls runs pinned to one CPU, as a thread is in userspace.  Each KUnit
 * case runs in a kthread of its own, which ends with the case.
 */
#define MPT_KUNIT_CASE(name)						\
	static void mpt_kunit_##name(struct kunit *test)		\
	{								\
		struct mpt t = { test };				\
									\
		set_cpus_allowed_ptr(current,				\
				     cpumask_of(raw_smp_processor_id()));\
		mpt_case_##name(&t);					\
	}
MPT_CASES(MPT_KUNIT_CASE)

#define MPT_KUNIT_ENTRY(name) KUNIT_CASE(mpt_kunit_##name),
static struct kunit_case mpool_shared_cases[] = {
	MPT_CASES(MPT_KUNIT_ENTRY)
	{}
};

static struct kunit_suite mpool_shared_suite = {
	.name = "mpool_shared",
	.test_cases = mpool_shared_cases,
};

/* --- kernel-only cases ------------------------------------------------ */

/*
 * An ownership ledger over a pool's blocks: taking a block is a
 * compare-and-swap 0 -> 1 that fails if the block is already owned.
 */
struct ledger {
	struct mpool_pool *pool;
	u8 *owned;
	atomic_long_t twice, stray, failed_free, allocs;
};

static bool ledger_index(struct ledger *l, void *p, size_t *idx)
{
	size_t off = (u8 *)p - l->pool->slab.base;

	if (off >= l->pool->slab.span || off % l->pool->slab.stride) {
		atomic_long_inc(&l->stray);
		return false;
	}
	*idx = off / l->pool->slab.stride;
	return true;
}

static void ledger_take(struct ledger *l, void *p)
{
	size_t i;

	if (ledger_index(l, p, &i) && cmpxchg(&l->owned[i], 0, 1))
		atomic_long_inc(&l->twice);
	atomic_long_inc(&l->allocs);
}

static void ledger_give(struct ledger *l, void *p)
{
	size_t i;

	if (ledger_index(l, p, &i))
		WRITE_ONCE(l->owned[i], 0);
	if (mpool_pool_free(l->pool, p))
		atomic_long_inc(&l->failed_free);
}

/* A small ring where threads leave blocks for other CPUs to free. */
struct xring {
	spinlock_t lock;
	void *slot[256];
	unsigned int n;
};

static bool xring_put(struct xring *r, void *p)
{
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&r->lock, flags);
	ok = r->n < ARRAY_SIZE(r->slot);
	if (ok)
		r->slot[r->n++] = p;
	spin_unlock_irqrestore(&r->lock, flags);
	return ok;
}

static void *xring_get(struct xring *r)
{
	unsigned long flags;
	void *p = NULL;

	spin_lock_irqsave(&r->lock, flags);
	if (r->n)
		p = r->slot[--r->n];
	spin_unlock_irqrestore(&r->lock, flags);
	return p;
}

struct stress {
	struct ledger l;
	struct xring ring;
	atomic_t running;
	struct completion done;
	unsigned int rounds;
	bool stop;
};

static int stress_fn(void *arg)
{
	struct stress *s = arg;
	unsigned int r, i, n;
	void *mine[16], *p;

	for (r = 0; r < s->rounds && !READ_ONCE(s->stop); r++) {
		for (n = 0; n < ARRAY_SIZE(mine); n++) {
			mine[n] = mpool_pool_alloc(s->l.pool);
			if (!mine[n])
				break;
			ledger_take(&s->l, mine[n]);
		}
		for (i = 0; i < n; i++)
			if (!(i & 1) || !xring_put(&s->ring, mine[i]))
				ledger_give(&s->l, mine[i]);
		while ((p = xring_get(&s->ring)))
			ledger_give(&s->l, p);
		if (!(r & 63))
			cond_resched();
	}
	if (atomic_dec_and_test(&s->running))
		complete(&s->done);
	return 0;
}

static int stress_start(struct kunit *test, struct stress *s,
			struct mpool_pool *pool, unsigned int rounds)
{
	struct task_struct *t;
	unsigned int cpu;
	int n = 0;

	memset(s, 0, sizeof(*s));
	s->l.pool = pool;
	s->l.owned = kunit_kzalloc(test, pool->slab.count, GFP_KERNEL);
	if (!s->l.owned)
		return -ENOMEM;
	spin_lock_init(&s->ring.lock);
	init_completion(&s->done);
	s->rounds = rounds;
	atomic_set(&s->running, 1);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		t = kthread_create_on_cpu(stress_fn, s, cpu, "mpool_kunit/%u");
		if (IS_ERR(t))
			continue;
		atomic_inc(&s->running);
		wake_up_process(t);
		n++;
	}
	cpus_read_unlock();
	return n;
}

static void stress_wait(struct stress *s)
{
	void *p;

	if (!atomic_dec_and_test(&s->running))
		wait_for_completion(&s->done);
	while ((p = xring_get(&s->ring)))
		ledger_give(&s->l, p);
}

/* After a stress: nothing owned twice, every block free, all reusable. */
static void stress_check(struct kunit *test, struct stress *s)
{
	struct mpool_pool *pool = s->l.pool;
	struct mpool_stats st;
	void **v;
	u32 i;

	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->l.twice), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->l.stray), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->l.failed_free), 0);
	mpool_pool_flush(pool);
	mpool_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.cached, 0);
	KUNIT_EXPECT_EQ(test, st.free, pool->slab.count);
	KUNIT_EXPECT_EQ(test, st.invalid + st.double_free + st.corrupt, 0);

	v = kvcalloc(pool->slab.count, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	/* One CPU's cache for the whole drain, as one thread in userspace. */
	set_cpus_allowed_ptr(current, cpumask_of(raw_smp_processor_id()));
	memset(s->l.owned, 0, pool->slab.count);
	for (i = 0; i < pool->slab.count; i++) {
		v[i] = mpool_pool_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
		ledger_take(&s->l, v[i]);
	}
	KUNIT_EXPECT_NULL(test, mpool_pool_alloc(pool));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&s->l.twice), 0);
	for (i = 0; i < pool->slab.count; i++)
		KUNIT_EXPECT_EQ(test, mpool_pool_free(pool, v[i]), 0);
	kvfree(v);
}

/* One kthread per online CPU, half of each CPU's blocks freed elsewhere. */
static void mpool_percpu_cross_free(struct kunit *test)
{
	struct mpool_pool *pool = mpool_pool_create("kunit-cross", 256, 32,
						    4096, 0);
	struct stress *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	KUNIT_ASSERT_NOT_NULL(test, s);
	n = stress_start(test, s, pool, 3000);
	KUNIT_EXPECT_EQ(test, n, num_online_cpus());
	stress_wait(s);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->l.allocs), 1000L * n);
	stress_check(test, s);
	mpool_pool_destroy(pool);
}

/*
 * Racing double frees: two kthreads on two CPUs free one block at once (the
 * block was handed out by the first, so one free is its owner's fast path
 * and the other a remote free), then both allocate.  No round may hand one
 * block to both, and each round's double free is counted exactly once:
 * answered at once (-EALREADY) or found when the owner's queue is collected.
 */
#define RACE_ROUNDS	3000

struct krace {
	struct mpool_pool *pool;
	void *target;
	void *got[2];
	atomic_t step[2];
	atomic_long_t zero, already, other;
	long dup;
	struct completion done[2];
};

struct krace_arg {
	struct krace *r;
	int id;
};

/* A two-party spin barrier: @n is this party's count of arrivals. */
static void krace_meet(struct krace *r, int id, int n)
{
	atomic_set_release(&r->step[id], n);
	while (atomic_read_acquire(&r->step[!id]) < n)
		cpu_relax();
}

static int krace_fn(void *arg)
{
	struct krace_arg *a = arg;
	struct krace *r = a->r;
	int id = a->id, i, ret, n = 0;
	void *mine;

	for (i = 0; i < RACE_ROUNDS; i++) {
		if (!id)
			WRITE_ONCE(r->target, mpool_pool_alloc(r->pool));
		krace_meet(r, id, ++n);
		ret = mpool_pool_free(r->pool, READ_ONCE(r->target));
		if (!ret)
			atomic_long_inc(&r->zero);
		else if (ret == -EALREADY)
			atomic_long_inc(&r->already);
		else
			atomic_long_inc(&r->other);
		mine = mpool_pool_alloc(r->pool);
		WRITE_ONCE(r->got[id], mine);
		krace_meet(r, id, ++n);
		if (!id && mine && mine == READ_ONCE(r->got[1]))
			r->dup++;
		krace_meet(r, id, ++n);
		if (mine)
			mpool_pool_free(r->pool, mine);
	}
	complete(&r->done[id]);
	return 0;
}

static void mpool_racing_double_free(struct kunit *test)
{
	struct krace *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct krace_arg a[2];
	struct task_struct *t[2];
	struct mpool_stats st;
	unsigned int cpu[2], i = 0, c;

	KUNIT_ASSERT_NOT_NULL(test, r);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	for_each_online_cpu(c)
		if (i < 2)
			cpu[i++] = c;
	r->pool = mpool_pool_create("kunit-race", 64, 8, 64, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(r->pool));
	for (i = 0; i < 2; i++) {
		a[i] = (struct krace_arg){ r, i };
		init_completion(&r->done[i]);
		t[i] = kthread_create_on_cpu(krace_fn, &a[i], cpu[i],
					     "mpool_race/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t[i]));
	}
	for (i = 0; i < 2; i++)
		wake_up_process(t[i]);
	for (i = 0; i < 2; i++)
		wait_for_completion(&r->done[i]);
	KUNIT_EXPECT_EQ(test, r->dup, 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&r->other), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&r->zero) +
			atomic_long_read(&r->already), 2L * RACE_ROUNDS);
	KUNIT_EXPECT_GE(test, atomic_long_read(&r->zero), (long)RACE_ROUNDS);
	/* Collect every queue: the double frees not answered at once. */
	mpool_pool_flush(r->pool);
	mpool_pool_stats(r->pool, &st);
	KUNIT_EXPECT_EQ(test, st.double_free, RACE_ROUNDS);
	KUNIT_EXPECT_EQ(test, st.invalid + st.corrupt, 0);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	mpool_pool_destroy(r->pool);
}

/*
 * No block is stranded: a kthread on one CPU takes the whole pool and
 * sleeps; another CPU frees every block (remote frees, queued to the first
 * CPU); then this CPU allocates the whole pool.  Its first failing
 * allocation sends the owning CPU an IPI to give its blocks back, so
 * within a few tries (each a few milliseconds apart) everything comes.
 */
struct kstrand {
	struct mpool_pool *pool;
	void **v;
	unsigned int n;
	struct completion taken, freed;
};

static int kstrand_producer(void *arg)
{
	struct kstrand *s = arg;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		s->v[i] = mpool_pool_alloc(s->pool);
	complete(&s->taken);
	/* Idle until the end: the IPI must reach a sleeping CPU's cache. */
	wait_for_completion(&s->freed);
	return 0;
}

static int kstrand_consumer(void *arg)
{
	struct kstrand *s = arg;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		mpool_pool_free(s->pool, s->v[i]);
	/* Both the producer and the test wait for this. */
	complete_all(&s->freed);
	return 0;
}

static void mpool_no_stranding(struct kunit *test)
{
	struct kstrand *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	unsigned int cpu[3], i = 0, c, got, tries;
	struct task_struct *t;
	void **mine;

	KUNIT_ASSERT_NOT_NULL(test, s);
	if (num_online_cpus() < 3)
		kunit_skip(test, "needs three online CPUs");
	for_each_online_cpu(c)
		if (i < 3)
			cpu[i++] = c;
	/*
	 * Not a whole number of remote-free batches (a batch is a magazine,
	 * 128 here): the consumer's CPU keeps 127 blocks in its outbox, unsent.
	 */
	s->n = 255;
	s->v = kunit_kcalloc(test, s->n, sizeof(void *), GFP_KERNEL);
	mine = kunit_kcalloc(test, s->n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s->v);
	KUNIT_ASSERT_NOT_NULL(test, mine);
	s->pool = mpool_pool_create("kunit-strand", 64, s->n, s->n, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s->pool));
	init_completion(&s->taken);
	init_completion(&s->freed);
	t = kthread_create_on_cpu(kstrand_producer, s, cpu[0], "mpool_prod/%u");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wake_up_process(t);
	wait_for_completion(&s->taken);
	for (i = 0; i < s->n; i++)
		KUNIT_ASSERT_NOT_NULL(test, s->v[i]);
	t = kthread_create_on_cpu(kstrand_consumer, s, cpu[1], "mpool_cons/%u");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wake_up_process(t);
	wait_for_completion(&s->freed);
	set_cpus_allowed_ptr(current, cpumask_of(cpu[2]));
	for (got = 0, tries = 0; got < s->n && tries < 100; tries++) {
		while (got < s->n && (mine[got] = mpool_pool_alloc(s->pool)))
			got++;
		if (got < s->n)
			msleep(5);
	}
	KUNIT_EXPECT_EQ(test, got, s->n);
	kunit_info(test, "whole pool taken back after %u tries", tries);
	for (i = 0; i < got; i++)
		KUNIT_EXPECT_EQ(test, mpool_pool_free(s->pool, mine[i]), 0);
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	mpool_pool_destroy(s->pool);
}

/* Alloc and free from hardirq and softirq context: hrtimers. */
struct irq_user {
	struct hrtimer timer;
	struct mpool_pool *pool;
	atomic_t fired, in_irq, errors;
	int target;
	bool rcu;	/* free with mpool_pool_free_rcu() */
};

/* Free @ptr as @u says; a NULL @ptr is an error unless frees are deferred. */
static int irq_user_free(struct irq_user *u, void *ptr)
{
	if (!ptr)
		return u->rcu ? 0 : -ENOMEM;
	return u->rcu ? mpool_pool_free_rcu(u->pool, ptr) :
			mpool_pool_free(u->pool, ptr);
}

static enum hrtimer_restart irq_user_fn(struct hrtimer *h)
{
	struct irq_user *u = container_of(h, struct irq_user, timer);
	void *v[8];
	int i;

	if (in_hardirq() || in_serving_softirq())
		atomic_inc(&u->in_irq);
	for (i = 0; i < 8; i++)
		v[i] = mpool_pool_alloc(u->pool);
	for (i = 0; i < 8; i++)
		if (irq_user_free(u, v[i]))
			atomic_inc(&u->errors);
	if (atomic_inc_return(&u->fired) >= u->target)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(h, ns_to_ktime(20000));
	return HRTIMER_RESTART;
}

static void irq_context_case(struct kunit *test, enum hrtimer_mode mode,
			     bool rcu)
{
	struct mpool_pool *pool = mpool_pool_create("kunit-irq", 128, 16, 256,
						    0);
	struct irq_user *u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	struct mpool_stats st;
	void *v[8];
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	KUNIT_ASSERT_NOT_NULL(test, u);
	u->pool = pool;
	u->target = 200;
	u->rcu = rcu;
	hrtimer_init(&u->timer, CLOCK_MONOTONIC, mode);
	u->timer.function = irq_user_fn;
	hrtimer_start(&u->timer, ns_to_ktime(20000), mode);
	/* Process context uses the same pool (and CPU caches) meanwhile. */
	while (atomic_read(&u->fired) < u->target) {
		for (i = 0; i < 8; i++)
			v[i] = mpool_pool_alloc(pool);
		for (i = 0; i < 8; i++)
			if (irq_user_free(u, v[i]))
				atomic_inc(&u->errors);
		cond_resched();
	}
	hrtimer_cancel(&u->timer);
	if (rcu)
		mpool_pool_rcu_barrier(pool);
	KUNIT_EXPECT_EQ(test, atomic_read(&u->in_irq), u->target);
	KUNIT_EXPECT_EQ(test, atomic_read(&u->errors), 0);
	mpool_pool_flush(pool);
	mpool_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.free, 256);
	mpool_pool_destroy(pool);
}

static void mpool_hardirq_alloc_free(struct kunit *test)
{
	irq_context_case(test, HRTIMER_MODE_REL_HARD, false);
}

static void mpool_softirq_alloc_free(struct kunit *test)
{
	irq_context_case(test, HRTIMER_MODE_REL_SOFT, false);
}

/* --- deferred frees (mpool_pool_free_rcu()) --------------------------- */

static void mpool_rcu_hardirq(struct kunit *test)
{
	irq_context_case(test, HRTIMER_MODE_REL_HARD, true);
}

static void mpool_rcu_softirq(struct kunit *test)
{
	irq_context_case(test, HRTIMER_MODE_REL_SOFT, true);
}

#define RCU_NBLK	128

struct rcu_holder {
	unsigned char *block;
	atomic_t step;		/* 1: holding; 2: let go; 3: gone */
	bool intact;
	struct completion done;
};

static bool rcu_all_pattern(const unsigned char *b)
{
	int i;

	for (i = 0; i < 64; i++)
		if (b[i] != 0xa5)
			return false;
	return true;
}

/* A reader that holds a block inside rcu_read_lock() until told. */
static int rcu_holder_fn(void *arg)
{
	struct rcu_holder *h = arg;

	rcu_read_lock();
	h->intact = rcu_all_pattern(h->block);
	atomic_set_release(&h->step, 1);
	while (atomic_read_acquire(&h->step) != 2)
		cpu_relax();
	h->intact &= rcu_all_pattern(h->block);
	rcu_read_unlock();
	atomic_set_release(&h->step, 3);
	complete(&h->done);
	return 0;
}

static int rcu_take_all(struct mpool_pool *pool, void **v)
{
	int n = 0;

	while (n < RCU_NBLK + 1 && (v[n] = mpool_pool_alloc(pool)))
		n++;
	return n;
}

/*
 * A reader holds a block; the updater frees every block with the deferred
 * free and allocates all it can: nothing comes back while the reader
 * holds; after rcu_read_unlock() and a barrier, everything does, the held
 * block included.
 */
static void mpool_rcu_reader_holds_block(struct kunit *test)
{
	struct mpool_pool *pool = mpool_pool_create("kunit-rcu", 64, 8,
						    RCU_NBLK, 0);
	void **v = kunit_kcalloc(test, RCU_NBLK + 1, sizeof(void *),
				 GFP_KERNEL);
	struct rcu_holder *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct task_struct *t;
	struct mpool_stats st;
	bool found = false;
	int i, n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_EQ(test, rcu_take_all(pool, v), RCU_NBLK);
	for (i = 0; i < RCU_NBLK; i++)
		memset(v[i], 0xa5, 64);
	h->block = v[RCU_NBLK / 2];
	init_completion(&h->done);
	t = kthread_run(rcu_holder_fn, h, "mpool_rcu_reader");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	while (atomic_read_acquire(&h->step) != 1)
		usleep_range(1000, 2000);
	for (i = 0; i < RCU_NBLK; i++)
		KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, v[i]), 0);
	KUNIT_EXPECT_EQ(test, mpool_pool_rcu_pending(pool), RCU_NBLK);
	/* Time for a wrong pool's callbacks to run. */
	msleep(100);
	n = rcu_take_all(pool, v);
	KUNIT_EXPECT_EQ(test, n, 0);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_PTR_NE(test, v[i], (void *)h->block);
	mpool_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, n);
	KUNIT_EXPECT_EQ(test, st.in_use + st.free + st.cached +
			mpool_pool_rcu_pending(pool), RCU_NBLK);
	atomic_set_release(&h->step, 2);
	wait_for_completion(&h->done);
	KUNIT_EXPECT_TRUE(test, h->intact);
	for (i = 0; i < n; i++)
		mpool_pool_free(pool, v[i]);
	mpool_pool_rcu_barrier(pool);
	KUNIT_EXPECT_EQ(test, mpool_pool_rcu_pending(pool), 0);
	/* Every CPU's cache back to the depot, so that this CPU gets all. */
	mpool_pool_flush(pool);
	n = rcu_take_all(pool, v);
	KUNIT_EXPECT_EQ(test, n, RCU_NBLK);
	for (i = 0; i < n; i++)
		found |= v[i] == h->block;
	KUNIT_EXPECT_TRUE(test, found);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, mpool_pool_free(pool, v[i]), 0);
	mpool_pool_destroy(pool);
}

/* Misuse of the deferred free: refused, counted, nothing changed. */
static void mpool_rcu_misuse(struct kunit *test)
{
	struct mpool_pool *pool = mpool_pool_create("kunit-rcu-misuse", 64, 8,
						    16, 0);
	struct mpool_stats st;
	char *a, *b, *c;
	char x[64];

	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	a = mpool_pool_alloc(pool);
	b = mpool_pool_alloc(pool);
	c = mpool_pool_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, NULL), 0);
	KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, x), -EINVAL);
	KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, a + 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, a), 0);
	KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, a), -EALREADY);
	KUNIT_EXPECT_EQ(test, mpool_pool_free(pool, a), -EALREADY);
	KUNIT_EXPECT_EQ(test, mpool_pool_free(pool, b), 0);
	KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, b), -EALREADY);
	KUNIT_EXPECT_EQ(test, mpool_pool_rcu_pending(pool), 1);
	mpool_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.double_free, 3);
	KUNIT_EXPECT_EQ(test, st.invalid, 2);
	KUNIT_EXPECT_EQ(test, st.in_use, 1);
	mpool_pool_rcu_barrier(pool);
	KUNIT_EXPECT_EQ(test, mpool_pool_rcu_pending(pool), 0);
	KUNIT_EXPECT_EQ(test, mpool_pool_free(pool, c), 0);
	mpool_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.double_free, 3);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.free + st.cached, 16);
	mpool_pool_destroy(pool);
}

/*
 * A CPU goes offline with an open batch: handed over and submitted; a
 * barrier gives everything back; destroy with open batches leaks nothing.
 */
static void mpool_rcu_cpu_offline(struct kunit *test)
{
	long before = mpool_env_outstanding();
	struct mpool_pool *pool;
	struct mpool_stats st;
	unsigned int cpu;
	void *v[10];
	int i, err;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU) || num_online_cpus() < 2)
		kunit_skip(test, "needs CONFIG_HOTPLUG_CPU and two CPUs");
	pool = mpool_pool_create("kunit-rcu-offline", 64, 8, 64, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	cpu = cpumask_last(cpu_online_mask);
	set_cpus_allowed_ptr(current, cpumask_of(cpu));
	for (i = 0; i < 10; i++) {
		v[i] = mpool_pool_alloc(pool);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	for (i = 0; i < 10; i++)
		KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, v[i]), 0);
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	KUNIT_EXPECT_EQ(test, mpool_pool_rcu_pending(pool), 10);
	err = remove_cpu(cpu);
	KUNIT_ASSERT_EQ(test, err, 0);
	/*
	 * Handed over and submitted (their grace period may even be over
	 * already): the kernel's barrier alone brings them back; an open
	 * batch left on the dead CPU would still be pending.
	 */
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, mpool_pool_rcu_pending(pool), 0);
	mpool_pool_rcu_barrier(pool);
	err = add_cpu(cpu);
	KUNIT_ASSERT_EQ(test, err, 0);
	mpool_pool_flush(pool);
	mpool_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.free + st.cached, 64);
	/* Destroy with an open batch: waits, and leaks nothing. */
	v[0] = mpool_pool_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, v[0]);
	KUNIT_EXPECT_EQ(test, mpool_pool_free_rcu(pool, v[0]), 0);
	mpool_pool_destroy(pool);
	KUNIT_EXPECT_EQ(test, mpool_env_outstanding(), before);
}

/* CPUs go offline and online while every CPU allocates and frees. */
static void mpool_cpu_hotplug(struct kunit *test)
{
	struct mpool_pool *pool;
	struct mpool_kpool *kp;
	struct stress *s;
	unsigned int cpu, round;
	int err;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU) || num_online_cpus() < 2)
		kunit_skip(test, "needs CONFIG_HOTPLUG_CPU and two CPUs");
	pool = mpool_pool_create("kunit-hotplug", 256, 64, 4096, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	kp = mpool_kpool(pool);
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_GT(test, stress_start(test, s, pool, 1000000), 1);
	for (round = 0; round < 4; round++) {
		cpu = cpumask_last(cpu_online_mask);
		msleep(20);
		err = remove_cpu(cpu);
		KUNIT_ASSERT_EQ(test, err, 0);
		/* A dead CPU holds no cached block: they went back. */
		KUNIT_EXPECT_EQ(test, READ_ONCE(per_cpu_ptr(kp->pcp, cpu)->c.count), 0);
		msleep(20);
		err = add_cpu(cpu);
		KUNIT_ASSERT_EQ(test, err, 0);
	}
	WRITE_ONCE(s->stop, true);
	stress_wait(s);
	stress_check(test, s);
	mpool_pool_destroy(pool);
}

/* Destroy gives back everything create and use took, caches included. */
static void mpool_no_leak_after_destroy(struct kunit *test)
{
	long before = mpool_env_outstanding();
	struct mpool_pool *pool;
	struct mpool_slab *slab;
	struct mpool_arena *arena;
	struct stress *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	pool = mpool_pool_create("kunit-leak", 64, 8, 512, 0);
	slab = mpool_slab_create("kunit-leak-slab", 64, 512, 0);
	arena = mpool_arena_create("kunit-leak-arena", 1 << 20);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pool) || IS_ERR(slab) || IS_ERR(arena));
	KUNIT_EXPECT_LT(test, before, mpool_env_outstanding());
	stress_start(test, s, pool, 500);
	stress_wait(s);
	KUNIT_EXPECT_NOT_NULL(test, mpool_slab_alloc(slab));
	KUNIT_EXPECT_NOT_NULL(test, mpool_arena_alloc(arena, 4096));
	/* Blocks still cached on CPUs and in use: destroy takes all. */
	mpool_pool_destroy(pool);
	mpool_slab_destroy(slab);
	mpool_arena_destroy(arena);
	KUNIT_EXPECT_EQ(test, mpool_env_outstanding(), before);
}

/* Names: NULL, empty, too long, with '/', taken. */
static void mpool_names(struct kunit *test)
{
	char longname[MPOOL_NAME_MAX + 1];
	struct mpool_pool *p;

	memset(longname, 'x', MPOOL_NAME_MAX);
	longname[MPOOL_NAME_MAX] = 0;
	KUNIT_EXPECT_EQ(test, PTR_ERR(mpool_pool_create(NULL, 64, 1, 8, 0)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(mpool_pool_create("", 64, 1, 8, 0)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(mpool_pool_create(longname, 64, 1, 8, 0)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(mpool_slab_create("a/b", 64, 8, 0)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(mpool_arena_create(NULL, 64)), -EINVAL);
	p = mpool_pool_create("kunit-taken", 64, 1, 8, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(p));
	KUNIT_EXPECT_EQ(test, PTR_ERR(mpool_slab_create("kunit-taken", 64, 8, 0)),
			-EEXIST);
	mpool_pool_destroy(p);
	p = mpool_pool_create("kunit-taken", 64, 1, 8, 0);
	KUNIT_EXPECT_FALSE(test, IS_ERR(p));
	mpool_pool_destroy(p);
}

/*
 * KASAN sees inside the pools.  With KASAN, mempool.ko poisons free blocks,
 * the bytes past each block and an arena's unused part (kernel/env.c), so
 * a use after free or an overflow of a block is a KASAN report, as for a
 * kmalloc() object.  Each deliberate bug below runs inside a window the VM
 * runner expects its report in (tools/vm/check-log.py): "MPOOL-EXPECT-BEGIN
 * <regex>" ... "MPOOL-EXPECT-END" in the kernel log; the report must come
 * inside and match, and any other report fails the run.  KASAN prints only
 * its first report unless the kernel is booted with kasan_multi_shot, as
 * the runner boots its KASAN kernel.
 *
 * A KASAN report does not fail the running KUnit case in 6.1 unless the
 * kernel has CONFIG_KASAN_KUNIT_TEST: then mm/kasan/report.c fails the case
 * unless it holds a resource named "kasan_status", and records the report
 * there.  This case holds one on such kernels and checks each report came.
 * It runs last: a KASAN report taints the kernel, which turns lockdep off.
 */

/* mm/kasan/kasan.h's struct kunit_kasan_status, private to mm/kasan. */
struct mpool_kasan_status {
	bool report_found;
	bool sync_fault;
};

struct mpool_kasan_ctx {
	struct kunit_resource res;
	struct mpool_kasan_status st;
};

static noinline void mpool_kasan_read(void *p)
{
	OPTIMIZER_HIDE_VAR(p);
	(void)READ_ONCE(*(u8 *)p);
}

static noinline void mpool_kasan_write(void *p)
{
	OPTIMIZER_HIDE_VAR(p);
	WRITE_ONCE(*(u8 *)p, 0x5a);
}

/* Make one access that KASAN must report as @regex says. */
static void mpool_kasan_expect(struct kunit *test, struct mpool_kasan_ctx *c,
			       const char *regex, void (*access)(void *),
			       void *p)
{
	pr_info("MPOOL-EXPECT-BEGIN %s\n", regex);
	barrier();
	access(p);
	barrier();
	pr_info("MPOOL-EXPECT-END\n");
	if (IS_ENABLED(CONFIG_KASAN_KUNIT_TEST)) {
		KUNIT_EXPECT_TRUE_MSG(test, READ_ONCE(c->st.report_found),
				      "no KASAN report: %s", regex);
		WRITE_ONCE(c->st.report_found, false);
	}
}

static void mpool_kasan_sees_blocks(struct kunit *test)
{
	struct mpool_kasan_ctx *c;
	struct mpool_arena *arena;
	struct mpool_pool *pool;
	struct mpool_slab *slab;
	u8 *p, *q;

	if (!IS_ENABLED(CONFIG_KASAN))
		kunit_skip(test, "the kernel has no KASAN");
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	/* An odd size: the last granule of a block is partly the user's. */
	pool = mpool_pool_create("kunit-kasan", 100, 4, 8, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	if (!(pool->slab.flags & MPOOL_F_CHECKER)) {
		mpool_pool_destroy(pool);
		kunit_skip(test,
			   "no KASAN hooks: they need generic KASAN and KASAN_VMALLOC");
	}
	if (IS_ENABLED(CONFIG_KASAN_KUNIT_TEST))
		kunit_add_named_resource(test, NULL, NULL, &c->res,
					 "kasan_status", &c->st);
	set_cpus_allowed_ptr(current, cpumask_of(raw_smp_processor_id()));

	/* The whole block is the user's, and nothing more. */
	p = mpool_pool_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0xab, 100);
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0xab, 100));
	mpool_kasan_expect(test, c, "KASAN: slab-out-of-bounds in mpool_kasan_write",
			   mpool_kasan_write, p + 100);
	/* Freed, it is KASAN's freed memory ... */
	KUNIT_ASSERT_EQ(test, mpool_pool_free(pool, p), 0);
	mpool_kasan_expect(test, c, "KASAN: use-after-free in mpool_kasan_read",
			   mpool_kasan_read, p);
	/* ... until it is handed out again. */
	q = mpool_pool_alloc(pool);
	KUNIT_ASSERT_NOT_NULL(test, q);
	memset(q, 0, 100);
	KUNIT_EXPECT_EQ(test, mpool_pool_free(pool, q), 0);
	mpool_pool_destroy(pool);

	/* A slab's block, freed. */
	slab = mpool_slab_create("kunit-kasan-slab", 64, 4, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(slab));
	p = mpool_slab_alloc(slab);
	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0, 64);
	KUNIT_EXPECT_EQ(test, mpool_slab_free(slab, p), 0);
	mpool_kasan_expect(test, c, "KASAN: use-after-free in mpool_kasan_read",
			   mpool_kasan_read, p + 63);
	mpool_slab_destroy(slab);

	/* An arena: past an allocation, and its unused part. */
	arena = mpool_arena_create("kunit-kasan-arena", 4096);
	KUNIT_ASSERT_FALSE(test, IS_ERR(arena));
	p = mpool_arena_alloc(arena, 10);
	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0, 10);
	mpool_kasan_expect(test, c, "KASAN: slab-out-of-bounds in mpool_kasan_read",
			   mpool_kasan_read, p + 10);
	mpool_kasan_expect(test, c, "KASAN: slab-out-of-bounds in mpool_kasan_read",
			   mpool_kasan_read, p + 2048);
	mpool_arena_destroy(arena);
}

static struct kunit_case mpool_kernel_cases[] = {
	KUNIT_CASE(mpool_names),
	KUNIT_CASE(mpool_percpu_cross_free),
	KUNIT_CASE(mpool_racing_double_free),
	KUNIT_CASE(mpool_no_stranding),
	KUNIT_CASE(mpool_hardirq_alloc_free),
	KUNIT_CASE(mpool_softirq_alloc_free),
	KUNIT_CASE(mpool_cpu_hotplug),
	KUNIT_CASE(mpool_no_leak_after_destroy),
	KUNIT_CASE(mpool_rcu_reader_holds_block),
	KUNIT_CASE(mpool_rcu_misuse),
	KUNIT_CASE(mpool_rcu_hardirq),
	KUNIT_CASE(mpool_rcu_softirq),
	KUNIT_CASE(mpool_rcu_cpu_offline),
	KUNIT_CASE(mpool_kasan_sees_blocks),	/* last: see above */
	{}
};

static struct kunit_suite mpool_kernel_suite = {
	.name = "mpool_kernel",
	.test_cases = mpool_kernel_cases,
};

kunit_test_suites(&mpool_shared_suite, &mpool_kernel_suite);

MODULE_DESCRIPTION("KUnit tests for mempool.ko");
MODULE_LICENSE("GPL");
