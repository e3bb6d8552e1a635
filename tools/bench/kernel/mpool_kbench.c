// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * mpool_kbench.c - mempool.ko's per-CPU pool against the kernel's own
 * allocators, measured inside the kernel.
 *
 * The whole benchmark runs in the module's init, which then returns 0: the
 * module stays loaded, holding nothing (every allocator and thread is gone),
 * until it is removed.  It does not fail its init to unload itself, because
 * busybox's insmod (the VM's) retries a failed finit_module() with
 * init_module() and would run the whole benchmark twice.
 *
 * For each block size, one kthread per online CPU, bound to that CPU, does
 * alloc+free pairs (alloc, write one byte, free) against six allocators:
 *
 *   pool        mpool_pool_alloc()/mpool_pool_free(): a pool of mempool.ko
 *               with a per-CPU cache of @cache blocks
 *   kmem_cache  kmem_cache_alloc()/kmem_cache_free() on a cache of its own
 *               (SLAB_HWCACHE_ALIGN; SLUB may merge it with a cache of the
 *               same geometry, as it would for any user)
 *   mempool     the kernel's mempool_alloc()/mempool_free() over that cache
 *   floor       a bare per-CPU singly linked free list under
 *               local_irq_save(), no checks: the cost of doing almost
 *               nothing
 *   pool_bulk   mpool_pool_alloc_bulk()/mpool_pool_free_bulk() of 32 blocks
 *               a call on the same pool; figures are per block
 *   kmem_bulk   kmem_cache_alloc_bulk()/kmem_cache_free_bulk() of 32 on the
 *               same kmem_cache; per object
 *
 * Method.  All threads meet at a barrier before every (round, allocator)
 * phase, so they run each phase together; the allocators are interleaved
 * within a round (pool kmem_cache mempool floor, pool kmem_cache ...), so
 * drift on a shared host hits all of them alike.  One untimed warm-up round
 * of @pairs / 8 comes first.  Each thread times its phase with
 * ktime_get_ns(); a round's figure is the mean over the threads of ns per
 * pair; a size's figure is the median over the rounds.
 *
 * Output, through pr_info(), one line per (size, allocator, round):
 *
 *   mpool_kbench: result size=64 alloc=pool round=0 ns_per_pair=21.53
 *
 * then one summary line per size with the medians and two ratios:
 *
 *   mpool_kbench: summary size=64 threads=4 pairs=N rounds=7 errors=0
 *     pool=... kmem_cache=... mempool=... floor=...
 *     pool/kmem_cache=... pool/floor=...    (all on one line)
 *
 * Figures carry two decimals.  An allocation that returned NULL or a free
 * that failed is counted in errors= and ends that thread's phase early; the
 * figures are printed all the same.  Nothing here is a test: no threshold,
 * no pass or fail.
 *
 * Deferred frees, after each size: on one CPU, in process context,
 * @pairs allocations each freed through RCU, mpool_pool_alloc() +
 * mpool_pool_free_rcu() against kmalloc() + kfree_rcu(), each round timed
 * up to the moment the last free has returned (not until the grace period
 * ends), medians over @rounds:
 *
 *   mpool_kbench: rcu size=64 pairs=N rounds=7 pool_free_rcu=...
 *     kfree_rcu=... pool_free_rcu/kfree_rcu=... waits=...   (one line)
 *
 * The pool holds at most 64 MiB of blocks: an allocation that finds it
 * empty (every block waiting for a grace period) waits for one with
 * synchronize_rcu() and tries again, inside the timing; waits= counts
 * them.  No readers run.
 *
 * Known bias: Debian's kernel zeroes slab objects on allocation
 * (init_on_alloc, printed in the start line), which kmem_cache and mempool
 * pay and the pool and the floor do not.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/wait.h>

#include "mpool_api.h"

MODULE_IMPORT_NS(MPOOL);

#define KBENCH_MAX_SIZES	8
#define KBENCH_MAX_ROUNDS	101
#define KBENCH_MAX_PAIRS	100000000u
#define KBENCH_MIN_SIZE		sizeof(void *)
#define KBENCH_MAX_SIZE		65536u
#define KBENCH_MAX_CACHE	65536u
#define KBENCH_FLOOR_SEED	4	/* blocks on each CPU's floor list */
#define KBENCH_MEMPOOL_MIN	4	/* the kernel mempool's reserve */

static unsigned int rounds = 7;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "timed rounds per size (1-101, default 7)");

static unsigned int pairs = 200000;
module_param(pairs, uint, 0444);
MODULE_PARM_DESC(pairs, "alloc+free pairs per thread per phase (default 200000)");

static unsigned int sizes[KBENCH_MAX_SIZES] = { 64, 256, 4096 };
static int nr_sizes = 3;
module_param_array(sizes, uint, &nr_sizes, 0444);
MODULE_PARM_DESC(sizes, "block sizes in bytes (8-65536, default 64,256,4096)");

static unsigned int cache = 256;
module_param(cache, uint, 0444);
MODULE_PARM_DESC(cache, "the pool's per-CPU cache size (default 256)");

enum kbench_alloc {
	KBENCH_POOL,
	KBENCH_KMEM_CACHE,
	KBENCH_MEMPOOL,
	KBENCH_FLOOR,
	KBENCH_POOL_BULK,
	KBENCH_KMEM_BULK,
	KBENCH_NR,
};

static const char *const kbench_names[KBENCH_NR] = {
	[KBENCH_POOL] = "pool",
	[KBENCH_KMEM_CACHE] = "kmem_cache",
	[KBENCH_MEMPOOL] = "mempool",
	[KBENCH_FLOOR] = "floor",
	[KBENCH_POOL_BULK] = "pool_bulk",
	[KBENCH_KMEM_BULK] = "kmem_bulk",
};

/* Objects per bulk call in the two bulk phases. */
#define KBENCH_BULK	32

/**
 * struct kbench_barrier - where the threads meet before each phase.
 * @arrived: arrivals since the start, all phases together; only grows.
 * @parties: threads that must arrive to open a phase.
 * @wq: where early arrivals sleep.
 *
 * Phase k opens when @arrived reaches (k + 1) * @parties.  Counting every
 * arrival instead of resetting a counter means a fast thread that already
 * arrives at the next phase cannot be confused with a slow one of this
 * phase: both only wait for @arrived to pass their own target.
 */
struct kbench_barrier {
	atomic_t arrived;
	unsigned int parties;
	wait_queue_head_t wq;
};

/**
 * struct kbench_run - one block size's run, shared by its threads.
 * @size: bytes per block.
 * @pool: mempool.ko's pool.
 * @cache_name: @cache's name, kept until @cache is destroyed.
 * @cache: a kmem_cache of @size bytes; it also backs @mempool.
 * @mempool: the kernel's mempool over @cache.
 * @nthreads: threads, one per online CPU.
 * @barrier: where the threads meet before each phase.
 * @done: completed once by each thread as it exits.
 * @errors: failed allocations and frees, all threads.
 * @cns: [round][allocator][thread], hundredths of ns per pair; each thread
 *	writes only its own slots, and they are read after @done.
 */
struct kbench_run {
	size_t size;
	struct mpool_pool *pool;
	char *cache_name;
	struct kmem_cache *cache;
	mempool_t *mempool;
	unsigned int nthreads;
	struct kbench_barrier barrier;
	struct completion done;
	atomic_long_t errors;
	u64 *cns;
};

/**
 * struct kbench_thread - one thread of a run.
 * @run: the run.
 * @idx: the thread's index in the run, 0 to @run->nthreads - 1.
 * @task: the kthread, bound to one CPU.
 */
struct kbench_thread {
	struct kbench_run *run;
	unsigned int idx;
	struct task_struct *task;
};

/* The floor: one free list per CPU, only touched with interrupts off. */
static DEFINE_PER_CPU(void *, kbench_floor_head);

static void kbench_barrier_init(struct kbench_barrier *b, unsigned int parties)
{
	atomic_set(&b->arrived, 0);
	b->parties = parties;
	init_waitqueue_head(&b->wq);
}

/**
 * kbench_barrier_wait() - wait until every thread has arrived.
 * @b: the barrier.
 *
 * The last arrival wakes the others.  atomic_inc_return() is fully ordered
 * and wait_event() rechecks after queueing, so no wake-up is lost.
 *
 * Context: process context; sleeps.
 */
static void kbench_barrier_wait(struct kbench_barrier *b)
{
	int arrived = atomic_inc_return(&b->arrived);
	int target = roundup(arrived, (int)b->parties);

	if (arrived == target)
		wake_up_all(&b->wq);
	else
		wait_event(b->wq, atomic_read(&b->arrived) >= target);
}

/**
 * kbench_floor_alloc() - take a block from this CPU's floor list.
 *
 * Context: a thread bound to its CPU.
 * Return: a block, or NULL when the list is empty.
 */
static void *kbench_floor_alloc(void)
{
	unsigned long flags;
	void **p;

	local_irq_save(flags);
	p = this_cpu_read(kbench_floor_head);
	if (likely(p))
		this_cpu_write(kbench_floor_head, *p);
	local_irq_restore(flags);
	return p;
}

/**
 * kbench_floor_free() - put a block on this CPU's floor list.
 * @ptr: a block of at least sizeof(void *) bytes.
 *
 * Context: a thread bound to its CPU.
 */
static void kbench_floor_free(void *ptr)
{
	unsigned long flags;

	local_irq_save(flags);
	*(void **)ptr = this_cpu_read(kbench_floor_head);
	this_cpu_write(kbench_floor_head, ptr);
	local_irq_restore(flags);
}

/**
 * kbench_floor_seed() - give this CPU's floor list a few blocks.
 * @size: bytes per block.
 *
 * Context: a thread bound to its CPU; may sleep.
 * Return: 0 or -ENOMEM (blocks already seeded stay on the list).
 */
static int kbench_floor_seed(size_t size)
{
	void *p;
	int i;

	for (i = 0; i < KBENCH_FLOOR_SEED; i++) {
		p = kmalloc(size, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		kbench_floor_free(p);
	}
	return 0;
}

/**
 * kbench_floor_drain() - free every block on this CPU's floor list.
 *
 * Context: a thread bound to its CPU; may sleep.
 */
static void kbench_floor_drain(void)
{
	void *p;

	while ((p = kbench_floor_alloc()))
		kfree(p);
}

/*
 * The timed loops, one per allocator so that each calls its allocator
 * directly (no indirect call, no retpoline).  Each returns the ns it took.
 */
static u64 kbench_pool_pairs(struct kbench_run *run, unsigned int n)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;
	u8 *p;

	for (i = 0; i < n; i++) {
		p = mpool_pool_alloc(run->pool);
		if (unlikely(!p))
			goto fail;
		WRITE_ONCE(*p, (u8)i);
		if (unlikely(mpool_pool_free(run->pool, p)))
			goto fail;
	}
	return ktime_get_ns() - t0;
fail:
	atomic_long_inc(&run->errors);
	return ktime_get_ns() - t0;
}

static u64 kbench_kmem_cache_pairs(struct kbench_run *run, unsigned int n)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;
	u8 *p;

	for (i = 0; i < n; i++) {
		p = kmem_cache_alloc(run->cache, GFP_KERNEL);
		if (unlikely(!p)) {
			atomic_long_inc(&run->errors);
			break;
		}
		WRITE_ONCE(*p, (u8)i);
		kmem_cache_free(run->cache, p);
	}
	return ktime_get_ns() - t0;
}

static u64 kbench_mempool_pairs(struct kbench_run *run, unsigned int n)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;
	u8 *p;

	for (i = 0; i < n; i++) {
		p = mempool_alloc(run->mempool, GFP_KERNEL);
		if (unlikely(!p)) {
			atomic_long_inc(&run->errors);
			break;
		}
		WRITE_ONCE(*p, (u8)i);
		mempool_free(p, run->mempool);
	}
	return ktime_get_ns() - t0;
}

static u64 kbench_floor_pairs(struct kbench_run *run, unsigned int n)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;
	u8 *p;

	for (i = 0; i < n; i++) {
		p = kbench_floor_alloc();
		if (unlikely(!p)) {
			atomic_long_inc(&run->errors);
			break;
		}
		WRITE_ONCE(*p, (u8)i);
		kbench_floor_free(p);
	}
	return ktime_get_ns() - t0;
}

/*
 * Bulk phases: @n pairs as @n / KBENCH_BULK calls of each kind (at least
 * one), every block written once; the caller divides by @n all the same,
 * so the figure is per block.
 */
static u64 kbench_pool_bulk_pairs(struct kbench_run *run, unsigned int n)
{
	void *v[KBENCH_BULK];
	u64 t0 = ktime_get_ns();
	unsigned int i, k;

	for (i = 0; i < max(n / KBENCH_BULK, 1u); i++) {
		if (unlikely(mpool_pool_alloc_bulk(run->pool, v, KBENCH_BULK)))
			goto fail;
		for (k = 0; k < KBENCH_BULK; k++)
			WRITE_ONCE(*(u8 *)v[k], (u8)i);
		if (unlikely(mpool_pool_free_bulk(run->pool, v, KBENCH_BULK)))
			goto fail;
	}
	return ktime_get_ns() - t0;
fail:
	atomic_long_inc(&run->errors);
	return ktime_get_ns() - t0;
}

static u64 kbench_kmem_bulk_pairs(struct kbench_run *run, unsigned int n)
{
	void *v[KBENCH_BULK];
	u64 t0 = ktime_get_ns();
	unsigned int i, k;

	for (i = 0; i < max(n / KBENCH_BULK, 1u); i++) {
		if (unlikely(!kmem_cache_alloc_bulk(run->cache, GFP_KERNEL,
						    KBENCH_BULK, v))) {
			atomic_long_inc(&run->errors);
			break;
		}
		for (k = 0; k < KBENCH_BULK; k++)
			WRITE_ONCE(*(u8 *)v[k], (u8)i);
		kmem_cache_free_bulk(run->cache, KBENCH_BULK, v);
	}
	return ktime_get_ns() - t0;
}

/**
 * kbench_phase() - meet the other threads, then run one timed phase.
 * @run: the run.
 * @a: the allocator.
 * @n: pairs to do.
 *
 * Context: a thread of @run; may sleep.
 * Return: the ns the pairs took.
 */
static u64 kbench_phase(struct kbench_run *run, enum kbench_alloc a,
			unsigned int n)
{
	kbench_barrier_wait(&run->barrier);
	switch (a) {
	case KBENCH_POOL:
		return kbench_pool_pairs(run, n);
	case KBENCH_KMEM_CACHE:
		return kbench_kmem_cache_pairs(run, n);
	case KBENCH_MEMPOOL:
		return kbench_mempool_pairs(run, n);
	case KBENCH_POOL_BULK:
		return kbench_pool_bulk_pairs(run, n);
	case KBENCH_KMEM_BULK:
		return kbench_kmem_bulk_pairs(run, n);
	default:
		return kbench_floor_pairs(run, n);
	}
}

/**
 * kbench_thread_fn() - one CPU's share of a run.
 * @arg: the thread's struct kbench_thread.
 *
 * Runs the warm-up round and then every timed round, writing its figures
 * into its own slots of @run->cns.  It exits through
 * kthread_complete_and_exit(), so that no code of this module runs after
 * the loader may have freed it.
 *
 * Context: a kthread bound to one CPU.
 * Return: never returns.
 */
static int kbench_thread_fn(void *arg)
{
	struct kbench_thread *t = arg;
	struct kbench_run *run = t->run;
	unsigned int warm = max(pairs / 8, 1u);
	unsigned int r, slot;
	int a;
	u64 ns;

	if (kbench_floor_seed(run->size))
		atomic_long_inc(&run->errors);
	for (a = 0; a < KBENCH_NR; a++)
		kbench_phase(run, a, warm);
	for (r = 0; r < rounds; r++) {
		for (a = 0; a < KBENCH_NR; a++) {
			ns = kbench_phase(run, a, pairs);
			slot = (r * KBENCH_NR + a) * run->nthreads + t->idx;
			run->cns[slot] = div_u64(ns * 100, pairs);
		}
	}
	kbench_floor_drain();
	kthread_complete_and_exit(&run->done, 0);
}

/**
 * kbench_setup() - create the allocators of one size.
 * @run: the run, zeroed, with @size set.
 *
 * Context: process context; may sleep.
 * Return: 0 or a negative errno; kbench_teardown() undoes either.
 */
static int kbench_setup(struct kbench_run *run)
{
	size_t capacity = (size_t)cache * 2 * (num_online_cpus() + 1);
	struct mpool_pool *pool;

	pool = mpool_pool_create(KBUILD_MODNAME, run->size, cache, capacity,
				 0);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	run->pool = pool;
	run->cache_name = kasprintf(GFP_KERNEL, KBUILD_MODNAME "_%zu",
				    run->size);
	if (!run->cache_name)
		return -ENOMEM;
	run->cache = kmem_cache_create(run->cache_name, run->size, 0,
				       SLAB_HWCACHE_ALIGN, NULL);
	if (!run->cache)
		return -ENOMEM;
	run->mempool = mempool_create_slab_pool(KBENCH_MEMPOOL_MIN, run->cache);
	if (!run->mempool)
		return -ENOMEM;
	return 0;
}

/**
 * kbench_teardown() - destroy what kbench_setup() created.
 * @run: the run.
 *
 * Context: process context; may sleep.
 */
static void kbench_teardown(struct kbench_run *run)
{
	mempool_destroy(run->mempool);
	kmem_cache_destroy(run->cache);
	kfree(run->cache_name);
	if (run->pool)
		mpool_pool_destroy(run->pool);
}

/**
 * kbench_start() - start one bound kthread per online CPU and wait for all.
 * @run: the run, set up.
 * @threads: room for num_online_cpus() threads.
 *
 * Every thread is created and bound before any is woken; if one cannot be
 * created, those created are stopped before they ever run.  The wait wakes
 * every few seconds only to keep the hung-task detector quiet.
 *
 * Context: process context, CPU hotplug held off by the caller.
 * Return: 0 or a negative errno.
 */
static int kbench_start(struct kbench_run *run, struct kbench_thread *threads)
{
	unsigned int cpu, i = 0;
	int err;

	for_each_online_cpu(cpu) {
		threads[i].run = run;
		threads[i].idx = i;
		threads[i].task = kthread_create(kbench_thread_fn, &threads[i],
						 KBUILD_MODNAME "/%u", cpu);
		if (IS_ERR(threads[i].task)) {
			err = PTR_ERR(threads[i].task);
			while (i--)
				kthread_stop(threads[i].task);
			return err;
		}
		kthread_bind(threads[i].task, cpu);
		i++;
	}
	for (i = 0; i < run->nthreads; i++)
		wake_up_process(threads[i].task);
	for (i = 0; i < run->nthreads; i++)
		while (!wait_for_completion_timeout(&run->done, 10 * HZ))
			;
	return 0;
}

static int kbench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n figures; sorts @v. */
static u64 kbench_median(u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), kbench_cmp_u64, NULL);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* @c, a figure in hundredths, as "I.FF" in @buf. */
static const char *kbench_fmt(char *buf, size_t len, u64 c)
{
	u32 rem;
	u64 whole = div_u64_rem(c, 100, &rem);

	snprintf(buf, len, "%llu.%02u", whole, rem);
	return buf;
}

/* @x / @y in hundredths, or 0 when @y is 0. */
static u64 kbench_ratio(u64 x, u64 y)
{
	return y ? div64_u64(x * 100, y) : 0;
}

/* Round @r's figure for allocator @a: the mean over the threads. */
static u64 kbench_mean(const struct kbench_run *run, unsigned int r, int a)
{
	const u64 *c = &run->cns[(r * KBENCH_NR + a) * run->nthreads];
	unsigned int i;
	u64 sum = 0;

	for (i = 0; i < run->nthreads; i++)
		sum += c[i];
	return div_u64(sum, run->nthreads);
}

/**
 * kbench_report() - print one run's figures and its summary.
 * @run: the run, finished.
 * @v: room for @rounds figures.
 *
 * Context: process context.
 */
static void kbench_report(struct kbench_run *run, u64 *v)
{
	u64 med[KBENCH_NR];
	char b[9][24];
	unsigned int r;
	int a;

	for (r = 0; r < rounds; r++)
		for (a = 0; a < KBENCH_NR; a++)
			pr_info("result size=%zu alloc=%s round=%u ns_per_pair=%s\n",
				run->size, kbench_names[a], r,
				kbench_fmt(b[0], sizeof(b[0]),
					   kbench_mean(run, r, a)));
	for (a = 0; a < KBENCH_NR; a++) {
		for (r = 0; r < rounds; r++)
			v[r] = kbench_mean(run, r, a);
		med[a] = kbench_median(v, rounds);
	}
	pr_info("summary size=%zu threads=%u pairs=%u rounds=%u errors=%ld pool=%s kmem_cache=%s mempool=%s floor=%s pool/kmem_cache=%s pool/floor=%s pool_bulk=%s kmem_bulk=%s pool_bulk/kmem_bulk=%s\n",
		run->size, run->nthreads, pairs, rounds,
		atomic_long_read(&run->errors),
		kbench_fmt(b[0], sizeof(b[0]), med[KBENCH_POOL]),
		kbench_fmt(b[1], sizeof(b[1]), med[KBENCH_KMEM_CACHE]),
		kbench_fmt(b[2], sizeof(b[2]), med[KBENCH_MEMPOOL]),
		kbench_fmt(b[3], sizeof(b[3]), med[KBENCH_FLOOR]),
		kbench_fmt(b[4], sizeof(b[4]),
			   kbench_ratio(med[KBENCH_POOL],
					med[KBENCH_KMEM_CACHE])),
		kbench_fmt(b[5], sizeof(b[5]),
			   kbench_ratio(med[KBENCH_POOL], med[KBENCH_FLOOR])),
		kbench_fmt(b[6], sizeof(b[6]), med[KBENCH_POOL_BULK]),
		kbench_fmt(b[7], sizeof(b[7]), med[KBENCH_KMEM_BULK]),
		kbench_fmt(b[8], sizeof(b[8]),
			   kbench_ratio(med[KBENCH_POOL_BULK],
					med[KBENCH_KMEM_BULK])));
}

/* What kfree_rcu() needs at the start of each kmalloc()ed object. */
struct kbench_rnode {
	struct rcu_head rh;
};

/* @n pool blocks, each freed with mpool_pool_free_rcu(); ns taken. */
static u64 kbench_pool_rcu_pairs(struct mpool_pool *pool, unsigned int n,
				 unsigned long *waits, long *errors)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;
	u8 *p;

	for (i = 0; i < n; i++) {
		p = mpool_pool_alloc(pool);
		if (unlikely(!p)) {
			/* Every block waits for a grace period: wait too. */
			synchronize_rcu();
			(*waits)++;
			p = mpool_pool_alloc(pool);
			if (!p) {
				(*errors)++;
				break;
			}
		}
		WRITE_ONCE(*p, (u8)i);
		if (unlikely(mpool_pool_free_rcu(pool, p)))
			(*errors)++;
	}
	return ktime_get_ns() - t0;
}

/* @n kmalloc() objects of @size bytes, each freed with kfree_rcu(). */
static u64 kbench_kfree_rcu_pairs(size_t size, unsigned int n, long *errors)
{
	u64 t0 = ktime_get_ns();
	struct kbench_rnode *p;
	unsigned int i;

	for (i = 0; i < n; i++) {
		p = kmalloc(max(size, sizeof(*p)), GFP_KERNEL);
		if (unlikely(!p)) {
			(*errors)++;
			break;
		}
		WRITE_ONCE(*(u8 *)p, (u8)i);
		kfree_rcu(p, rh);
	}
	return ktime_get_ns() - t0;
}

/**
 * kbench_rcu() - deferred frees of one size: the pool against kfree_rcu().
 * @size: bytes per block.
 * @v: room for 2 * @rounds figures.
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno.
 */
static int kbench_rcu(size_t size, u64 *v)
{
	size_t stride = ALIGN(max(size, sizeof(struct kbench_rnode)), 64);
	size_t capacity = clamp_t(size_t, (64u << 20) / stride, 1024, pairs);
	unsigned long waits = 0;
	struct mpool_pool *pool;
	long errors = 0;
	char b[3][24];
	unsigned int r;
	u64 pm, km;

	pool = mpool_pool_create(KBUILD_MODNAME "_rcu", size, cache, capacity,
				 0);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	for (r = 0; r < rounds; r++) {
		v[r] = div_u64(kbench_pool_rcu_pairs(pool, pairs, &waits,
						     &errors) * 100, pairs);
		v[rounds + r] = div_u64(kbench_kfree_rcu_pairs(size, pairs,
							       &errors) * 100,
					pairs);
		/* Each round starts with everything back. */
		mpool_pool_rcu_barrier(pool);
		rcu_barrier();
		cond_resched();
	}
	mpool_pool_destroy(pool);
	pm = kbench_median(v, rounds);
	km = kbench_median(v + rounds, rounds);
	pr_info("rcu size=%zu pairs=%u rounds=%u errors=%ld waits=%lu pool_free_rcu=%s kfree_rcu=%s pool_free_rcu/kfree_rcu=%s\n",
		size, pairs, rounds, errors, waits,
		kbench_fmt(b[0], sizeof(b[0]), pm),
		kbench_fmt(b[1], sizeof(b[1]), km),
		kbench_fmt(b[2], sizeof(b[2]), kbench_ratio(pm, km)));
	return 0;
}

/**
 * kbench_size() - set up, run, report and tear down one block size.
 * @size: bytes per block.
 *
 * CPU hotplug is held off while the threads run, so that there is exactly
 * one thread on each online CPU throughout; the allocators are created
 * outside that section because kmem_cache_create() takes the hotplug lock
 * itself.
 *
 * Context: process context; sleeps for the length of the run.
 * Return: 0 or a negative errno.
 */
static int kbench_size(size_t size)
{
	struct kbench_thread *threads = NULL;
	struct kbench_run *run;
	u64 *v = NULL;
	int err;

	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	run->size = size;
	atomic_long_set(&run->errors, 0);
	init_completion(&run->done);
	err = kbench_setup(run);
	if (err)
		goto out;
	cpus_read_lock();
	run->nthreads = num_online_cpus();
	kbench_barrier_init(&run->barrier, run->nthreads);
	err = -ENOMEM;
	run->cns = kcalloc(rounds * KBENCH_NR * run->nthreads,
			   sizeof(*run->cns), GFP_KERNEL);
	threads = kcalloc(run->nthreads, sizeof(*threads), GFP_KERNEL);
	v = kcalloc(rounds, sizeof(*v), GFP_KERNEL);
	if (run->cns && threads && v)
		err = kbench_start(run, threads);
	cpus_read_unlock();
	if (!err)
		kbench_report(run, v);
	kfree(v);
	v = kcalloc(2 * rounds, sizeof(*v), GFP_KERNEL);
	if (!err)
		err = v ? kbench_rcu(size, v) : -ENOMEM;
out:
	if (err)
		pr_err("size %zu: error %d\n", size, err);
	kfree(v);
	kfree(threads);
	kfree(run->cns);
	kbench_teardown(run);
	kfree(run);
	return err;
}

static bool kbench_params_ok(void)
{
	int i;

	if (!rounds || rounds > KBENCH_MAX_ROUNDS || !pairs ||
	    pairs > KBENCH_MAX_PAIRS || !cache || cache > KBENCH_MAX_CACHE)
		return false;
	for (i = 0; i < nr_sizes; i++)
		if (sizes[i] < KBENCH_MIN_SIZE || sizes[i] > KBENCH_MAX_SIZE)
			return false;
	return nr_sizes > 0;
}

static int __init kbench_init(void)
{
	int i, err;

	if (!kbench_params_ok()) {
		pr_err("bad parameters\n");
		return -EINVAL;
	}
	pr_info("start cpus=%u rounds=%u pairs=%u cache=%u init_on_alloc=%d\n",
		num_online_cpus(), rounds, pairs, cache,
		want_init_on_alloc(GFP_KERNEL));
	for (i = 0; i < nr_sizes; i++) {
		err = kbench_size(sizes[i]);
		if (err)
			return err;
	}
	pr_info("done\n");
	return 0;
}
module_init(kbench_init);

/* Everything was released before kbench_init() returned. */
static void __exit kbench_exit(void)
{
}
module_exit(kbench_exit);

MODULE_DESCRIPTION("mempool.ko's per-CPU pool against kmem_cache, mempool and a bare free list");
MODULE_AUTHOR("the mempool authors");
MODULE_LICENSE("Dual MIT/GPL");
