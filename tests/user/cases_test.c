// SPDX-License-Identifier: GPL-2.0
/*
 * cases_test.c - the shared cases (tests/shared/mpool_cases.h) run by the
 * kernel's userspace harness, kselftest_harness.h, against libmempool's
 * public API.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <urcu/flavor.h>

#include "mpool.h"
#include "mempool.h"
#include "kselftest_harness.h"

struct mpt {
	struct __test_metadata *_metadata;
};

#define MPT_EXPECT(t, cond)						\
	do {								\
		struct __test_metadata *_metadata = (t)->_metadata;	\
		EXPECT_TRUE(!!(cond));					\
	} while (0)
#define MPT_ASSERT(t, cond)						\
	do {								\
		struct __test_metadata *_metadata = (t)->_metadata;	\
		if (!(cond)) {						\
			EXPECT_TRUE(!!(cond));				\
			return;						\
		}							\
	} while (0)
#define MPT_EQ(t, a, b)							\
	do {								\
		struct __test_metadata *_metadata = (t)->_metadata;	\
		EXPECT_EQ((long long)(b), (long long)(a));		\
	} while (0)

#define MPT_F_DEBUG	MEMPOOL_DEBUG
/* More than any thread stack would hold frames for. */
#define MPT_MANY_CORRUPT	100000

#include "../shared/mpool_cases.h"

static unsigned long mpt_nreports;

/*
 * Ten times the most reports a case makes on purpose: an allocator caught
 * in a loop of reports (a cycle in a free list, say) ends the case at
 * once instead of at the harness's timeout.
 */
#define MPT_REPORTS_FATAL	(10ul * MPT_MANY_CORRUPT)

static void mpt_hook(const struct mempool_error *e, void *arg)
{
	(void)arg;
	if (__atomic_add_fetch(&mpt_nreports, 1, __ATOMIC_RELAXED) ==
	    MPT_REPORTS_FATAL) {
		fprintf(stderr, "# %lu reports, the last: %s %p: %s: the case ends here\n",
			MPT_REPORTS_FATAL, e->kind, e->allocator, e->what);
		_exit(1);
	}
}

static unsigned long mpt_reports(void)
{
	return __atomic_load_n(&mpt_nreports, __ATOMIC_RELAXED);
}

static void *mpt_zalloc(size_t size)
{
	return calloc(1, size);
}

static void mpt_free(void *p)
{
	free(p);
}

/* Creates: NULL and errno become a negative errno. */
#define MPT_CREATE(expr, out)						\
	({								\
		errno = 0;						\
		*(out) = (void *)(expr);				\
		*(out) ? 0 : -errno;					\
	})

static int mpt_slab_create(size_t size, size_t count, unsigned int flags,
			   struct mpt_slab **out)
{
	return MPT_CREATE(slab_create_flags(size, count, flags), out);
}

static void *mpt_slab_alloc(struct mpt_slab *s)
{
	return slab_alloc((slab_allocator_t *)s);
}

static int mpt_slab_free(struct mpt_slab *s, void *p)
{
	return slab_free((slab_allocator_t *)s, p);
}

static void mpt_slab_destroy(struct mpt_slab *s)
{
	slab_destroy((slab_allocator_t *)s);
}

static void mpt_slab_stats(struct mpt_slab *s, struct mpool_stats *st)
{
	slab_stats((slab_allocator_t *)s, (struct mempool_stats *)st);
}

static long mpt_slab_audit(struct mpt_slab *s)
{
	return slab_audit((slab_allocator_t *)s);
}

static int mpt_pool_create(size_t size, size_t cache, size_t capacity,
			   unsigned int flags, struct mpt_pool **out)
{
	return MPT_CREATE(pool_create_flags(size, cache, capacity, flags),
			  out);
}

static void *mpt_pool_alloc(struct mpt_pool *p)
{
	return pool_alloc((mempool_t *)p);
}

static int mpt_pool_free(struct mpt_pool *p, void *ptr)
{
	return pool_free((mempool_t *)p, ptr);
}

static int mpt_pool_alloc_bulk(struct mpt_pool *p, void **ptrs, size_t n)
{
	return pool_alloc_bulk((mempool_t *)p, ptrs, n);
}

static int mpt_pool_free_bulk(struct mpt_pool *p, void *const *ptrs, size_t n)
{
	return pool_free_bulk((mempool_t *)p, ptrs, n);
}

static int mpt_slab_alloc_bulk(struct mpt_slab *s, void **ptrs, size_t n)
{
	return slab_alloc_bulk((slab_allocator_t *)s, ptrs, n);
}

static int mpt_slab_free_bulk(struct mpt_slab *s, void *const *ptrs, size_t n)
{
	return slab_free_bulk((slab_allocator_t *)s, ptrs, n);
}

static void mpt_pool_flush(struct mpt_pool *p)
{
	pool_cache_flush((mempool_t *)p);
}

static void mpt_pool_destroy(struct mpt_pool *p)
{
	pool_destroy((mempool_t *)p);
}

static void mpt_pool_stats(struct mpt_pool *p, struct mpool_stats *st)
{
	pool_stats((mempool_t *)p, (struct mempool_stats *)st);
}

static long mpt_pool_audit(struct mpt_pool *p)
{
	return pool_audit((mempool_t *)p);
}

/* Their header maps the RCU names onto the memb flavour's. */
extern const struct rcu_flavor_struct urcu_memb_flavor;
static __thread bool mpt_rcu_registered;

static int mpt_pool_rcu_bind(struct mpt_pool *p)
{
	if (!mpt_rcu_registered) {
		urcu_memb_flavor.register_thread();
		mpt_rcu_registered = true;
	}
	return pool_set_rcu((mempool_t *)p, &urcu_memb_flavor);
}

static int mpt_pool_free_rcu(struct mpt_pool *p, void *ptr)
{
	return pool_free_rcu((mempool_t *)p, ptr);
}

static void mpt_pool_rcu_barrier(struct mpt_pool *p)
{
	pool_rcu_barrier((mempool_t *)p);
}

static long mpt_pool_rcu_pending(struct mpt_pool *p)
{
	return pool_rcu_pending((mempool_t *)p);
}

static void mpt_rcu_read_lock(void)
{
	urcu_memb_flavor.read_lock();
}

static void mpt_rcu_read_unlock(void)
{
	urcu_memb_flavor.read_unlock();
}

/* A stray write: ASan must not stop it, the allocator must catch it. */
__attribute__((no_sanitize_address, noinline))
static void mpt_poke(void *p, size_t n, int c)
{
	volatile unsigned char *q = p;

	while (n--)
		*q++ = (unsigned char)c;
}

static int mpt_arena_create(size_t capacity, struct mpt_arena **out)
{
	return MPT_CREATE(arena_create(capacity), out);
}

static void *mpt_arena_alloc(struct mpt_arena *a, size_t size)
{
	return arena_alloc((arena_allocator_t *)a, size);
}

static void mpt_arena_reset(struct mpt_arena *a)
{
	arena_reset((arena_allocator_t *)a);
}

static void mpt_arena_destroy(struct mpt_arena *a)
{
	arena_destroy((arena_allocator_t *)a);
}

static void mpt_arena_stats(struct mpt_arena *a, struct mpool_stats *st)
{
	arena_stats((arena_allocator_t *)a, (struct mempool_stats *)st);
}

#define MPT_USER_CASE(name)						\
	TEST(case_##name)							\
	{								\
		struct mpt t = { _metadata };				\
									\
		mempool_set_error_hook(mpt_hook, NULL);			\
		mpt_case_##name(&t);					\
	}
MPT_CASES(MPT_USER_CASE)

TEST_HARNESS_MAIN
