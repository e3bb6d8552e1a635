// SPDX-License-Identifier: GPL-2.0
/*
 * mpool_limits_kunit.c - KUnit suite mpool_limits: create sizes at the edges
 * of what mempool.ko can serve, just below and just above each limit that
 * kernel/mpool_api.h documents (its Errors, Limits and Sizes paragraphs).
 *
 * Every create here works, or fails with the documented errno, with no
 * kernel warning of any kind, no misuse report, and nothing left
 * allocated.  The VM runner boots the kernel for this module alone with
 * panic_on_warn=1 (tools/vm/kernel-tests.sh, suite "limits"): a WARN is a
 * panic, and any other report (a warn_alloc() dump, an OOM kill) fails
 * the run in tools/vm/check-log.py.  mpool_kunit.ko provokes misuse
 * warnings on purpose, so it never shares that boot.
 *
 * The limits are written as the literal numbers the API documents, so
 * that the code and its documentation cannot drift apart unnoticed.
 *
 * A size that is within the limits but needs more memory than the VM has
 * (1 GiB) must fail with -ENOMEM, at once and quietly; on a machine with
 * the memory it may succeed, which is right too, and is then destroyed.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "../../kernel/mpool_api.h"

MODULE_IMPORT_NS(MPOOL);

/* The documented limits (kernel/mpool_api.h, Limits). */
#define LIM_CACHE	4000ul		/* MPOOL_CACHE_MAX */
#define LIM_COUNT	268435455ul	/* 2^28 - 1 */

static atomic_t lim_serial = ATOMIC_INIT(0);

/*
 * The errno of one create, and its footprint: after a failure, or after a
 * success and the destroy, the module holds what it held before, and no
 * misuse was reported.
 */
struct lim_mark {
	struct kunit *test;
	char name[MPOOL_NAME_MAX];
	long outstanding;
	long reports;
};

static void lim_begin(struct kunit *test, struct lim_mark *m)
{
	m->test = test;
	snprintf(m->name, sizeof(m->name), "limits-%d",
		 atomic_inc_return(&lim_serial));
	m->outstanding = mpool_env_outstanding();
	m->reports = mpool_report_count();
}

static int lim_end(struct lim_mark *m, void *obj, void (*destroy)(void *))
{
	int err = IS_ERR(obj) ? (int)PTR_ERR(obj) : 0;

	if (!err)
		destroy(obj);
	KUNIT_EXPECT_EQ_MSG(m->test, mpool_env_outstanding(), m->outstanding,
			    "%s left memory allocated (errno %d)", m->name, err);
	KUNIT_EXPECT_EQ_MSG(m->test, mpool_report_count(), m->reports,
			    "%s made a misuse report", m->name);
	return err;
}

static void lim_slab_destroy(void *s)
{
	mpool_slab_destroy(s);
}

static void lim_pool_destroy(void *p)
{
	mpool_pool_destroy(p);
}

static void lim_arena_destroy(void *a)
{
	mpool_arena_destroy(a);
}

static int lim_slab(struct kunit *test, size_t size, size_t count,
		    unsigned int flags)
{
	struct lim_mark m;

	lim_begin(test, &m);
	return lim_end(&m, mpool_slab_create(m.name, size, count, flags),
		       lim_slab_destroy);
}

static int lim_pool(struct kunit *test, size_t size, size_t cache,
		    size_t capacity, unsigned int flags)
{
	struct lim_mark m;

	lim_begin(test, &m);
	return lim_end(&m, mpool_pool_create(m.name, size, cache, capacity,
					     flags), lim_pool_destroy);
}

static int lim_arena(struct kunit *test, size_t capacity)
{
	struct lim_mark m;

	lim_begin(test, &m);
	return lim_end(&m, mpool_arena_create(m.name, capacity),
		       lim_arena_destroy);
}

/* Within the limits: it works, or the memory is not there. */
static void lim_fits(struct kunit *test, int err, const char *what)
{
	KUNIT_EXPECT_TRUE_MSG(test, err == 0 || err == -ENOMEM,
			      "%s: errno %d, not 0 or -ENOMEM", what, err);
}

/* A pool's per-CPU cache: MPOOL_CACHE_MAX works, full; above is -E2BIG. */
static void mpool_limits_cache_size(struct kunit *test)
{
	void **v = kunit_kcalloc(test, LIM_CACHE, sizeof(*v), GFP_KERNEL);
	struct mpool_pool *p;
	struct mpool_stats st;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_EQ(test, MPOOL_CACHE_MAX, LIM_CACHE);
	p = mpool_pool_create("limits-cache", 64, LIM_CACHE, LIM_CACHE, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(p), "errno %ld", PTR_ERR(p));
	/* One CPU's cache, filled to its last slot by frees. */
	set_cpus_allowed_ptr(current, cpumask_of(raw_smp_processor_id()));
	for (i = 0; i < LIM_CACHE; i++) {
		v[i] = mpool_pool_alloc(p);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	KUNIT_EXPECT_NULL(test, mpool_pool_alloc(p));
	for (i = 0; i < LIM_CACHE; i++)
		KUNIT_EXPECT_EQ(test, mpool_pool_free(p, v[i]), 0);
	mpool_pool_stats(p, &st);
	KUNIT_EXPECT_EQ(test, st.cached, LIM_CACHE);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	mpool_pool_flush(p);
	mpool_pool_stats(p, &st);
	KUNIT_EXPECT_EQ(test, st.free, LIM_CACHE);
	mpool_pool_destroy(p);

	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, LIM_CACHE, 8192, 0), 0);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, LIM_CACHE, 8192,
				       MPOOL_F_DEBUG), 0);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, LIM_CACHE + 1, 8192, 0),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, LIM_CACHE + 1, 8192,
				       MPOOL_F_DEBUG), -E2BIG);
	/* Where a cache stopped fitting in a per-CPU allocation (32 KiB). */
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, 4094, 8192, 0), -E2BIG);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, 4095, 8192, 0), -E2BIG);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, 4096, 8192, 0), -E2BIG);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, 1u << 20, 1u << 20, 0),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, 0x7fffffff, 0x7fffffff, 0),
			-E2BIG);
}

/* A slab's count and a pool's capacity: 2^28 - 1 fits, 2^28 is -E2BIG. */
static void mpool_limits_count(struct kunit *test)
{
	int err;

	err = lim_slab(test, 64, LIM_COUNT, 0);
	lim_fits(test, err, "slab of 2^28 - 1 blocks");
	err = lim_slab(test, 64, LIM_COUNT, MPOOL_F_DEBUG);
	lim_fits(test, err, "debug slab of 2^28 - 1 blocks");
	err = lim_pool(test, 64, 0, LIM_COUNT, 0);
	lim_fits(test, err, "pool of 2^28 - 1 blocks, no caches");

	KUNIT_EXPECT_EQ(test, lim_slab(test, 64, LIM_COUNT + 1, 0), -E2BIG);
	KUNIT_EXPECT_EQ(test, lim_slab(test, 64, LIM_COUNT + 1, MPOOL_F_DEBUG),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, 0, LIM_COUNT + 1, 0), -E2BIG);
	KUNIT_EXPECT_EQ(test, lim_slab(test, 64, 536870911, 0), -E2BIG);
	KUNIT_EXPECT_EQ(test, lim_slab(test, 64, 0x7fffffff, 0), -E2BIG);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, 0, 0x7fffffff, 0), -E2BIG);
	/* Past 32-bit block numbers it is malformed, whatever the limits. */
	KUNIT_EXPECT_EQ(test, lim_slab(test, 64, 0x80000000ul, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 64, 0, 0x80000000ul, 0), -EINVAL);
}

/*
 * A pool's depot: (capacity / M + 2) * M rounds, M = ceil(cache_size / 2),
 * at most 268435455 (INT_MAX bytes of 8-byte rounds).
 */
static void mpool_limits_depot(struct kunit *test)
{
	static const struct {
		size_t cache, largest;
	} edge[] = {
		{ 1, 268435453 },		/* M = 1 */
		{ 2, 268435453 },		/* M = 1 */
		{ 3, 268435451 },		/* M = 2 */
		{ 64, 268435391 },		/* M = 32 */
		{ LIM_CACHE, 268431999 },	/* M = 2000 */
	};
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(edge); i++) {
		err = lim_pool(test, 64, edge[i].cache, edge[i].largest, 0);
		KUNIT_EXPECT_TRUE_MSG(test, err == 0 || err == -ENOMEM,
				      "cache %zu capacity %zu: errno %d",
				      edge[i].cache, edge[i].largest, err);
		err = lim_pool(test, 64, edge[i].cache, edge[i].largest + 1, 0);
		KUNIT_EXPECT_EQ_MSG(test, err, -E2BIG, "cache %zu capacity %zu",
				    edge[i].cache, edge[i].largest + 1);
	}
	/* capacity + cache_size <= 268435454 always fits. */
	err = lim_pool(test, 64, LIM_CACHE, 268435454 - LIM_CACHE, 0);
	lim_fits(test, err, "capacity + cache_size = 268435454");
}

/*
 * Block sizes within 80 bytes of SIZE_MAX, with and without the red zone
 * of debug mode: the stride (size, red zone, rounding to 64) wraps, or the
 * segment is past SIZE_MAX / 2; -EINVAL either way, never a wrapped
 * stride handed to vmalloc().
 */
static void mpool_limits_stride(struct kunit *test)
{
	unsigned int d, f;
	size_t size;
	int err[4];

	for (f = 0; f <= MPOOL_F_DEBUG; f += MPOOL_F_DEBUG) {
		for (d = 0; d <= 80; d++) {
			size = SIZE_MAX - d;
			err[0] = lim_slab(test, size, 1, f);
			err[1] = lim_slab(test, size, 2, f);
			err[2] = lim_pool(test, size, 0, 1, f);
			err[3] = lim_pool(test, size, 1, 2, f);
			KUNIT_EXPECT_TRUE_MSG(test, err[0] == -EINVAL &&
					      err[1] == -EINVAL &&
					      err[2] == -EINVAL &&
					      err[3] == -EINVAL,
					      "SIZE_MAX - %u, flags %u: slab x 1 %d, slab x 2 %d, pool %d, cached pool %d",
					      d, f, err[0], err[1], err[2], err[3]);
		}
	}
	/* An arena: SIZE_MAX / 2 is allowed (and not there), above is not. */
	KUNIT_EXPECT_EQ(test, lim_arena(test, SIZE_MAX / 2), -ENOMEM);
	KUNIT_EXPECT_EQ(test, lim_arena(test, SIZE_MAX / 2 + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, lim_arena(test, SIZE_MAX), -EINVAL);
}

/* Segments larger than the machine: -ENOMEM, at once and quietly. */
static void mpool_limits_span(struct kunit *test)
{
	size_t ram = totalram_pages() << PAGE_SHIFT;

	KUNIT_ASSERT_LT_MSG(test, ram, (size_t)4 << 30,
			    "the VM has more memory than these sizes assume");
	/* 64 KiB x 2^21 = 128 GiB */
	KUNIT_EXPECT_EQ(test, lim_slab(test, 1 << 16, 1 << 21, 0), -ENOMEM);
	KUNIT_EXPECT_EQ(test, lim_slab(test, 1 << 16, 1 << 21, MPOOL_F_DEBUG),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, lim_slab(test, PAGE_SIZE, 1 << 20, 0), -ENOMEM);
	KUNIT_EXPECT_EQ(test, lim_slab(test, (size_t)1 << 40, 1, 0), -ENOMEM);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 1 << 20, 16, 4096, 0), -ENOMEM);
	KUNIT_EXPECT_EQ(test, lim_pool(test, 1 << 20, LIM_CACHE, 8192, 0),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, lim_arena(test, (size_t)1 << 40), -ENOMEM);
}

/*
 * A segment of all but one page of RAM: vmalloc() takes every free page
 * and still falls short.  The create must answer -ENOMEM, without
 * warn_alloc()'s dump and without the OOM killer (which, with no process
 * worth killing, ends in a panic), and give every page back.
 */
static void mpool_limits_most_of_ram(struct kunit *test)
{
	size_t pages = totalram_pages();

	KUNIT_EXPECT_EQ(test, lim_slab(test, PAGE_SIZE, pages - 1, 0), -ENOMEM);
}

/*
 * mpool_limits_span first: warn_alloc() prints at most once in 10 s, so
 * only the first case to reach it is sure to be seen if one regresses.
 */
static struct kunit_case mpool_limits_cases[] = {
	KUNIT_CASE(mpool_limits_span),
	KUNIT_CASE(mpool_limits_cache_size),
	KUNIT_CASE(mpool_limits_count),
	KUNIT_CASE(mpool_limits_depot),
	KUNIT_CASE(mpool_limits_stride),
	KUNIT_CASE(mpool_limits_most_of_ram),
	{}
};

static struct kunit_suite mpool_limits_suite = {
	.name = "mpool_limits",
	.test_cases = mpool_limits_cases,
};

kunit_test_suites(&mpool_limits_suite);

MODULE_DESCRIPTION("KUnit tests of mempool.ko's size limits");
MODULE_LICENSE("GPL");
