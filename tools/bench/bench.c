// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * bench.c - libmempool against the allocators people use, side by side.
 *
 * One binary, two roles.  "bench cell ALLOC SIZE PATTERN THREADS" measures
 * one configuration in this process and prints one CSV line.  The driver
 * ("bench suite", "bench vs-malloc") runs every cell as a child process,
 * interleaving the allocators (A B C ... A B C ...) for each repetition, so
 * that drift on a shared machine hits all of them alike; malloc peers run
 * as children with LD_PRELOAD set to the real jemalloc, mimalloc or tcmalloc
 * from Debian's packages, so nothing is reimplemented.
 *
 * Allocators: pool, slab, arena (libmempool); malloc (whatever malloc the
 * process has: glibc, or the preloaded peer); floor (a bare thread-local
 * free list with no checks at all: the cost of doing nothing); dpdk (DPDK's
 * rte_mempool with per-lcore caches, when the bench was built with DPDK).
 * Patterns: pairs (alloc, touch, free), fifo and random (allocate 1000, then
 * free them in allocation order or a shuffled order), prodcons (one thread
 * allocates, another frees), threads (every thread runs fifo batches),
 * bulk32 (take 32 blocks, touch them, give them back: one call each way
 * where the allocator has bulk calls, 32 single calls where it has not;
 * timed per block) and multipoolK (one pair in each of K pools in turn,
 * K = 1..16; malloc peers run the same loop over one malloc).
 * A cell an allocator cannot run exits with status 3 and prints nothing.
 *
 * Nothing here is a test: no threshold, no pass or fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "mempool.h"
#ifdef BENCH_HAVE_DPDK
#include "bench_dpdk.h"
#endif

#define BATCH		1000
#define LAT_SAMPLES	200000
#define RING		1024
#define BULK		32
#define MAX_POOLS	16

enum alloc_kind { A_POOL, A_SLAB, A_ARENA, A_MALLOC, A_FLOOR, A_DPDK };
enum pattern {
	P_PAIRS, P_FIFO, P_RANDOM, P_PRODCONS, P_THREADS, P_BULK32,
	P_MULTIPOOL,
};

static const char *const pattern_names[] = {
	"pairs", "fifo", "random", "prodcons", "threads", "bulk32",
	"multipool",	/* followed by the number of pools */
};

struct cell {
	enum alloc_kind kind;
	size_t size;
	enum pattern pat;
	int threads;
	int npools;		/* multipool: pools to cycle through */
	long pairs;		/* alloc+free pairs per thread */
};

static mempool_t *the_pool;
static mempool_t *the_pools[MAX_POOLS];
#ifdef BENCH_HAVE_DPDK
static struct rte_mempool *the_dpdk;
#endif
static slab_allocator_t *the_slab;
static arena_allocator_t *the_arena;
static size_t the_size;

/* --- the floor: a thread-local free list over one big chunk ----------- */

struct floor_node {
	struct floor_node *next;
};

static __thread struct floor_node *floor_head;

static void floor_fill(size_t size, size_t count)
{
	size_t stride = (size + 63) & ~(size_t)63, i;
	char *mem = aligned_alloc(64, stride * count);

	for (i = 0; i < count; i++) {
		struct floor_node *n = (void *)(mem + i * stride);

		n->next = floor_head;
		floor_head = n;
	}
}

static inline void *floor_alloc(void)
{
	struct floor_node *n = floor_head;

	floor_head = n->next;
	return n;
}

static inline void floor_free(void *p)
{
	struct floor_node *n = p;

	n->next = floor_head;
	floor_head = n;
}

/* --- one interface over all of them ------------------------------------ */

static enum alloc_kind the_kind;

static inline void *b_alloc(void)
{
	switch (the_kind) {
	case A_POOL:
		return pool_alloc(the_pool);
	case A_SLAB:
		return slab_alloc(the_slab);
	case A_ARENA:
		return arena_alloc(the_arena, the_size);
	case A_MALLOC:
		return malloc(the_size);
#ifdef BENCH_HAVE_DPDK
	case A_DPDK:
		return bdpdk_get(the_dpdk);
#endif
	default:
		return floor_alloc();
	}
}

static inline void b_free(void *p)
{
	switch (the_kind) {
	case A_POOL:
		pool_free(the_pool, p);
		break;
	case A_SLAB:
		slab_free(the_slab, p);
		break;
	case A_ARENA:
		break;	/* freed by reset */
	case A_MALLOC:
		free(p);
		break;
#ifdef BENCH_HAVE_DPDK
	case A_DPDK:
		bdpdk_put(the_dpdk, p);
		break;
#endif
	default:
		floor_free(p);
	}
}

/*
 * BULK blocks in one call where the allocator has one; malloc and the floor
 * have none and take them one at a time.  All or nothing: 0 or -ENOMEM.
 */
static inline int b_alloc_bulk(void **v)
{
	int i;

	switch (the_kind) {
#ifdef MEMPOOL_HAVE_BULK
	case A_POOL:
		return pool_alloc_bulk(the_pool, v, BULK);
	case A_SLAB:
		return slab_alloc_bulk(the_slab, v, BULK);
#endif
#ifdef BENCH_HAVE_DPDK
	case A_DPDK:
		return bdpdk_get_bulk(the_dpdk, v, BULK) ? -ENOMEM : 0;
#endif
	default:
		for (i = 0; i < BULK; i++) {
			v[i] = b_alloc();
			if (!v[i]) {
				while (i--)
					b_free(v[i]);
				return -ENOMEM;
			}
		}
		return 0;
	}
}

static inline void b_free_bulk(void **v)
{
	int i;

	switch (the_kind) {
#ifdef MEMPOOL_HAVE_BULK
	case A_POOL:
		pool_free_bulk(the_pool, v, BULK);
		break;
	case A_SLAB:
		slab_free_bulk(the_slab, v, BULK);
		break;
#endif
#ifdef BENCH_HAVE_DPDK
	case A_DPDK:
		bdpdk_put_bulk(the_dpdk, v, BULK);
		break;
#endif
	default:
		for (i = 0; i < BULK; i++)
			b_free(v[i]);
	}
}

static inline void touch(void *p)
{
	*(volatile char *)p = 1;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* --- patterns ----------------------------------------------------------- */

struct worker {
	const struct cell *c;
	pthread_barrier_t *bar;
	double ns;
	unsigned int seed;
};

static __attribute__((noinline)) void run_pairs(long n)
{
	long i;

	for (i = 0; i < n; i++) {
		void *p = b_alloc();

		touch(p);
		b_free(p);
		/* An arena frees nothing: start it over now and then. */
		if (the_kind == A_ARENA && !(i % BATCH))
			arena_reset(the_arena);
	}
}

static void run_batches(long pairs, bool shuffled, unsigned int seed)
{
	void *v[BATCH];
	unsigned int order[BATCH];
	long done;
	int i, j, t;

	for (i = 0; i < BATCH; i++)
		order[i] = i;
	if (shuffled) {
		for (i = BATCH - 1; i > 0; i--) {
			j = rand_r(&seed) % (i + 1);
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	}
	for (done = 0; done < pairs; done += BATCH) {
		for (i = 0; i < BATCH; i++) {
			v[i] = b_alloc();
			touch(v[i]);
		}
		for (i = 0; i < BATCH; i++)
			b_free(v[order[i]]);
		if (the_kind == A_ARENA)
			arena_reset(the_arena);
	}
}

/* @n blocks, BULK at a time. */
static __attribute__((noinline)) void run_bulk(long n)
{
	void *v[BULK];
	long done;
	int i;

	for (done = 0; done < n; done += BULK) {
		if (b_alloc_bulk(v)) {
			fprintf(stderr, "bench: bulk allocation failed\n");
			exit(2);
		}
		for (i = 0; i < BULK; i++)
			touch(v[i]);
		b_free_bulk(v);
	}
}

/*
 * @n pairs, one in each of @k pools in turn: what a thread pays when it
 * uses several pools rather than one.  malloc has one heap; it runs the
 * same loop so that a column compares like with like.
 */
static __attribute__((noinline)) void run_multipool(long n, int k)
{
	long i;
	int j;

	for (i = 0; i < n; i += k) {
		for (j = 0; j < k; j++) {
			void *p;

			if (the_kind == A_POOL) {
				p = pool_alloc(the_pools[j]);
				touch(p);
				pool_free(the_pools[j], p);
			} else {
				p = malloc(the_size);
				touch(p);
				free(p);
			}
		}
	}
}

static void run_work(const struct cell *c, long n, bool shuffled,
		     unsigned int seed)
{
	switch (c->pat) {
	case P_PAIRS:
		run_pairs(n);
		break;
	case P_BULK32:
		run_bulk(n);
		break;
	case P_MULTIPOOL:
		run_multipool(n, c->npools);
		break;
	default:
		run_batches(n, shuffled, seed);
	}
}

/*
 * DPDK's caches are per lcore: a thread the EAL did not start registers for
 * an lcore id, or every get and put of it would go to the shared ring.
 */
static void thread_enter(void)
{
#ifdef BENCH_HAVE_DPDK
	if (the_kind == A_DPDK && bdpdk_thread_enter()) {
		fprintf(stderr, "bench: a dpdk thread has no lcore cache\n");
		exit(2);
	}
#endif
}

static void thread_leave(void)
{
#ifdef BENCH_HAVE_DPDK
	if (the_kind == A_DPDK)
		bdpdk_thread_leave();
#endif
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	const struct cell *c = w->c;
	double t0;

	thread_enter();
	if (the_kind == A_FLOOR)
		floor_fill(c->size, BATCH + 16);
	/* Warm caches and page tables before the clock starts. */
	run_work(c, 10 * BATCH, false, w->seed);
	pthread_barrier_wait(w->bar);
	t0 = now_ns();
	run_work(c, c->pairs, c->pat == P_RANDOM, w->seed);
	w->ns = now_ns() - t0;
	thread_leave();
	return NULL;
}

/* Producer/consumer: a single-producer single-consumer ring of blocks. */
static void *ring_slot[RING];
static unsigned long ring_head, ring_tail;

/*
 * Wait for the other side: spin a little, then yield, so that on a machine
 * with fewer free cores than threads the other side gets to run instead of
 * being starved by a spinner for a whole time slice.
 */
static void ring_wait(unsigned int *spins)
{
	if (++*spins < 256) {
		_mm_pause();
		return;
	}
	*spins = 0;
	sched_yield();
}

static void *producer_fn(void *arg)
{
	struct worker *w = arg;
	unsigned int spins = 0;
	unsigned long h;
	long i;

	thread_enter();
	pthread_barrier_wait(w->bar);
	for (i = 0; i < w->c->pairs; i++) {
		void *p = b_alloc();

		while (!p) {	/* everything is in flight: let it drain */
			sched_yield();
			p = b_alloc();
		}
		touch(p);
		h = __atomic_load_n(&ring_head, __ATOMIC_RELAXED);
		while (h - __atomic_load_n(&ring_tail, __ATOMIC_ACQUIRE) >= RING)
			ring_wait(&spins);
		ring_slot[h % RING] = p;
		__atomic_store_n(&ring_head, h + 1, __ATOMIC_RELEASE);
	}
	thread_leave();
	return NULL;
}

static void *consumer_fn(void *arg)
{
	struct worker *w = arg;
	unsigned int spins = 0;
	unsigned long t;
	long i;

	thread_enter();
	pthread_barrier_wait(w->bar);
	for (i = 0; i < w->c->pairs; i++) {
		t = __atomic_load_n(&ring_tail, __ATOMIC_RELAXED);
		while (__atomic_load_n(&ring_head, __ATOMIC_ACQUIRE) == t)
			ring_wait(&spins);
		b_free(ring_slot[t % RING]);
		__atomic_store_n(&ring_tail, t + 1, __ATOMIC_RELEASE);
	}
	thread_leave();
	return NULL;
}

/* --- latency: each operation timed alone with the TSC --------------------- */

static double tsc_per_ns(void)
{
	double t0 = now_ns(), t1;
	unsigned long long c0 = __rdtsc(), c1;

	do {
		t1 = now_ns();
	} while (t1 - t0 < 20e6);
	c1 = __rdtsc();
	return (c1 - c0) / (t1 - t0);
}

static int cmp_u32(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/* p50, p99, p99.9 and max of one alloc+free pair, in ns. */
static void latency(const struct cell *c, double out[4])
{
	unsigned int *lat = malloc(LAT_SAMPLES * sizeof(*lat));
	double per_ns = tsc_per_ns();
	unsigned long long t0, t1, base = ~0ull;
	int i;

	if (the_kind == A_FLOOR)
		floor_fill(c->size, 16);
	for (i = 0; i < 1000; i++) {	/* the cost of reading the TSC */
		t0 = __rdtsc();
		_mm_lfence();
		t1 = __rdtsc();
		if (t1 - t0 < base)
			base = t1 - t0;
	}
	for (i = 0; i < LAT_SAMPLES; i++) {
		void *p;

		t0 = __rdtsc();
		_mm_lfence();
		p = b_alloc();
		touch(p);
		b_free(p);
		_mm_lfence();
		t1 = __rdtsc();
		lat[i] = t1 - t0 > base ? (unsigned int)(t1 - t0 - base) : 0;
		if (the_kind == A_ARENA && !(i % BATCH))
			arena_reset(the_arena);
	}
	qsort(lat, LAT_SAMPLES, sizeof(*lat), cmp_u32);
	out[0] = lat[LAT_SAMPLES / 2] / per_ns;
	out[1] = lat[LAT_SAMPLES * 99 / 100] / per_ns;
	out[2] = lat[LAT_SAMPLES * 999 / 1000] / per_ns;
	out[3] = lat[LAT_SAMPLES - 1] / per_ns;
	free(lat);
}

static const char *kind_name(enum alloc_kind k)
{
	static const char *const names[] = {
		"pool", "slab", "arena", "malloc", "floor", "dpdk",
	};
	return names[k];
}

static int parse_kind(const char *s, enum alloc_kind *k)
{
	int i;

	for (i = A_POOL; i <= A_DPDK; i++)
		if (!strcmp(s, kind_name(i))) {
			*k = i;
			return 0;
		}
	return -1;
}

static int parse_pattern(const char *s, struct cell *c)
{
	size_t len = strlen(pattern_names[P_MULTIPOOL]);
	char *end;
	int i;

	if (!strncmp(s, pattern_names[P_MULTIPOOL], len)) {
		c->pat = P_MULTIPOOL;
		c->npools = strtol(s + len, &end, 10);
		return *end || c->npools < 1 || c->npools > MAX_POOLS ? -1 : 0;
	}
	for (i = P_PAIRS; i < P_MULTIPOOL; i++)
		if (!strcmp(s, pattern_names[i])) {
			c->pat = i;
			return 0;
		}
	return -1;
}

/* What this binary was built with: "dpdk", "bulk" (pool/slab bulk calls). */
static int has(const char *what)
{
	if (!strcmp(what, "dpdk")) {
#ifdef BENCH_HAVE_DPDK
		return 1;
#endif
		return 0;
	}
	if (!strcmp(what, "bulk")) {
#ifdef MEMPOOL_HAVE_BULK
		return 1;
#endif
		return 0;
	}
	return -1;
}

/* Whether @c means anything for its allocator, in this build. */
static bool supported(const struct cell *c)
{
	bool one_thread = c->threads == 1 && c->pat != P_PRODCONS;
	bool bulk = has("bulk") == 1;

	switch (c->kind) {
	case A_POOL:
		return c->pat != P_BULK32 || bulk;
	case A_SLAB:
		return c->pat != P_MULTIPOOL && (c->pat != P_BULK32 || bulk);
	case A_ARENA:
		/* An arena has no free: one thread, one block at a time. */
		return one_thread && c->pat != P_BULK32 &&
		       c->pat != P_MULTIPOOL;
	case A_MALLOC:
		return true;
	case A_FLOOR:
		/* A thread-local free list cannot take a remote free. */
		return c->pat != P_PRODCONS && c->pat != P_MULTIPOOL;
	case A_DPDK:
		return has("dpdk") == 1 && c->pat != P_MULTIPOOL;
	}
	return false;
}

/* --- correctness: racing double frees (bench race ROUNDS) --------------- */

/*
 * Not a timing: the safety claim measured at the speed of the real fast
 * path.  Two threads pinned to two CPUs free one block at once (thread 0
 * allocated it: one free is the owner's fast path, the other a remote
 * free), thread 1 delayed by a sweep of 0..4095 spins so that over the
 * rounds the two frees cross each other; then each allocates one block.
 * A duplicate is the same block handed to both at once.  Every round has
 * exactly one double free, so once both threads flush their caches the
 * error hook must have counted exactly one report per round.  "both_zero"
 * counts the rounds in which both racing frees returned 0: the frees met
 * (the loser is found later, as a stale queue entry), or the owner freed
 * and re-allocated the block before the remote free landed, which then
 * freed that new allocation (a free through a stale pointer: the owner's
 * later free of it is the one reported).  Prints
 * rounds,both_zero,duplicates,reports.
 */
struct race {
	void *volatile target;
	void *got[2];
	int ret[2];
	unsigned long go, done;
	long rounds, meets, dups;
};

static unsigned long race_reports;

static void race_hook(const struct mempool_error *e, void *arg)
{
	(void)e;
	(void)arg;
	__atomic_add_fetch(&race_reports, 1, __ATOMIC_RELAXED);
}

static struct race the_race;

static void race_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void race_wait(unsigned long *word, unsigned long val)
{
	unsigned int spins = 0;

	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < val)
		ring_wait(&spins);
}

static void *race_fn(void *arg)
{
	struct race *r = &the_race;
	int me = (int)(intptr_t)arg;
	volatile unsigned int d;
	unsigned long k;

	race_pin(me);
	for (k = 1; k <= (unsigned long)r->rounds; k++) {
		if (me == 0) {
			r->target = pool_alloc(the_pool);
			__atomic_store_n(&r->go, 2 * k - 1, __ATOMIC_RELEASE);
		}
		race_wait(&r->go, 2 * k - 1);
		for (d = me ? (unsigned int)(k * 7) % 4096 : 0; d; d--)
			;
		r->ret[me] = pool_free(the_pool, r->target);
		r->got[me] = pool_alloc(the_pool);
		__atomic_add_fetch(&r->done, 1, __ATOMIC_ACQ_REL);
		race_wait(&r->done, 2 * k);
		if (me == 0) {
			r->meets += !r->ret[0] && !r->ret[1];
			r->dups += r->got[0] && r->got[0] == r->got[1];
			__atomic_store_n(&r->go, 2 * k, __ATOMIC_RELEASE);
		}
		race_wait(&r->go, 2 * k);
		/* A duplicate is freed once: the other free would be misuse. */
		if (me == 0 || r->got[1] != r->got[0])
			pool_free(the_pool, r->got[me]);
		__atomic_add_fetch(&r->done, 1, __ATOMIC_ACQ_REL);
		race_wait(&r->done, 2 * k + 1);
		if (me == 0)
			__atomic_store_n(&r->done, 2 * k, __ATOMIC_RELEASE);
		race_wait(&r->done, 2 * k);
	}
	pool_cache_flush(the_pool);
	return NULL;
}

static int run_race(long rounds)
{
	pthread_t t[2];
	int i;

	the_pool = pool_create(64, 16, 256);
	if (!the_pool)
		return -ENOMEM;
	mempool_set_error_hook(race_hook, NULL);
	the_race.rounds = rounds;
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, race_fn, (void *)(intptr_t)i);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("%ld,%ld,%ld,%lu\n", rounds, the_race.meets, the_race.dups,
	       __atomic_load_n(&race_reports, __ATOMIC_RELAXED));
	return 0;
}

/*
 * Producer/consumer: touch every block the cell may reach once, untimed,
 * as rte_mempool_create() does to DPDK's objects.  In that pattern blocks
 * in flight (the ring, a consumer's unsent batch) send the producer to
 * memory no other pattern reaches, and a short cell would charge a page
 * fault per fresh 4 KiB to the pairs it times.  Every allocator gets the
 * same: @cap blocks taken from this thread, written, given back.
 */
static void warm_up(size_t cap)
{
	void **v = calloc(cap, sizeof(*v));
	size_t n;

	if (!v)
		return;
	for (n = 0; n < cap && (v[n] = b_alloc()); n++)
		touch(v[n]);
	while (n--)
		b_free(v[n]);
	free(v);
}

/* Measure one cell here; print "ns_per_pair,ops_per_s,p50,p99,p999,max". */
static int run_cell(struct cell *c)
{
	int nthr = c->pat == P_PRODCONS ? 2 : c->threads, i;
	size_t cap = (size_t)(BATCH + 600) * (nthr + 1) + RING;
	struct worker w[64];
	pthread_t tid[64];
	pthread_barrier_t bar;
	double ns = 0, lat[4] = { 0, 0, 0, 0 }, pairs;
	bool made = true;

	if (nthr < 1 || nthr > 64)
		return -EINVAL;
	if (!supported(c))
		return -EOPNOTSUPP;
	/* Whole steps only, so that the pairs counted are the pairs run. */
	if (c->pat == P_BULK32)
		c->pairs -= c->pairs % BULK;
	if (c->pat == P_MULTIPOOL)
		c->pairs -= c->pairs % c->npools;
	the_kind = c->kind;
	the_size = c->size;
	if (c->kind == A_POOL && c->pat == P_MULTIPOOL) {
		for (i = 0; i < c->npools; i++) {
			the_pools[i] = pool_create(c->size, BATCH + 24, cap);
			made = made && the_pools[i];
		}
	} else if (c->kind == A_POOL) {
		/* A cache as large as the batch, as DPDK advises for bursts. */
		the_pool = pool_create(c->size, BATCH + 24, cap);
		made = the_pool;
	}
	if (c->kind == A_SLAB) {
		the_slab = slab_create(c->size, cap);
		made = the_slab;
	}
	if (c->kind == A_ARENA) {
		the_arena = arena_create(((c->size + 63) & ~63ul) *
					 (BATCH + 64) * 2);
		made = the_arena;
	}
	if (!made) {
		perror("bench: create");
		return -ENOMEM;
	}
#ifdef BENCH_HAVE_DPDK
	/*
	 * The main thread is the EAL's lcore 0: it has a cache of its own for
	 * the latency loop, and the workers register for theirs.
	 */
	if (c->kind == A_DPDK) {
		if (bdpdk_init(((c->size + 191) & ~63ul) * cap) ||
		    bdpdk_thread_enter())
			return -EIO;
		the_dpdk = bdpdk_create(c->size, cap);
		if (!the_dpdk)
			return -ENOMEM;
	}
#endif
	if (c->pat == P_PRODCONS)
		warm_up(cap);
	pthread_barrier_init(&bar, NULL, nthr + 1);
	for (i = 0; i < nthr; i++) {
		w[i] = (struct worker){ c, &bar, 0, 17u * (i + 1) };
		pthread_create(&tid[i], NULL,
			       c->pat == P_PRODCONS ? (i ? consumer_fn :
						       producer_fn) : worker_fn,
			       &w[i]);
	}
	pthread_barrier_wait(&bar);
	if (c->pat == P_PRODCONS) {
		double t0 = now_ns();

		for (i = 0; i < nthr; i++)
			pthread_join(tid[i], NULL);
		ns = now_ns() - t0;
	} else {
		for (i = 0; i < nthr; i++) {
			pthread_join(tid[i], NULL);
			if (w[i].ns > ns)
				ns = w[i].ns;	/* the slowest thread ends it */
		}
	}
	/* bulk32: a "pair" is one block's share of a bulk get and put. */
	pairs = (double)c->pairs * (c->pat == P_PRODCONS ? 1 : nthr);
	if (c->pat == P_PAIRS && nthr == 1)
		latency(c, lat);
	printf("%.3f,%.0f,%.1f,%.1f,%.1f,%.1f\n", ns / pairs, pairs * 2 / ns * 1e9,
	       lat[0], lat[1], lat[2], lat[3]);
	return 0;
}

int main(int argc, char **argv)
{
	struct cell c = { .threads = 1, .pairs = 2000000 };
	int ret;

	if (argc == 3 && !strcmp(argv[1], "has")) {
		ret = has(argv[2]);
		if (ret < 0)
			goto usage;
		puts(ret ? "yes" : "no");
		return !ret;
	}
	if (argc == 3 && !strcmp(argv[1], "race"))
		return run_race(atol(argv[2])) ? 2 : 0;
	if (argc >= 5 && !strcmp(argv[1], "cell")) {
		if (parse_kind(argv[2], &c.kind) ||
		    parse_pattern(argv[4], &c) || argc < 6)
			goto usage;
		c.size = strtoul(argv[3], NULL, 0);
		c.threads = atoi(argv[5]);
		if (argc > 6)
			c.pairs = atol(argv[6]);
		if (!c.size || c.pairs < BATCH)
			goto usage;
		ret = run_cell(&c);
		if (ret == -EOPNOTSUPP)
			fprintf(stderr, "bench: %s does not run %s with %d "
				"thread(s) in this build\n", argv[2], argv[4],
				c.threads);
		return ret == -EOPNOTSUPP ? 3 : ret ? 2 : 0;
	}
usage:
	fprintf(stderr,
		"usage: %s cell pool|slab|arena|malloc|floor|dpdk SIZE\n"
		"         pairs|fifo|random|prodcons|threads|bulk32|multipoolK "
		"THREADS [PAIRS]\n"
		"       %s has dpdk|bulk     (exit 0: built with it)\n"
		"       %s race ROUNDS       (racing double frees: "
		"rounds,both_zero,duplicates,reports)\n"
		"(exit 3: that allocator does not run that cell; "
		"the suite driver is tools/bench/run.py)\n", argv[0], argv[0],
		argv[0]);
	return 2;
}
