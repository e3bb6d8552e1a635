/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_env.h - the kernel environment of the mempool core.
 *
 * The twin of user/mpool_env.h: the same small vocabulary, mapped onto the
 * kernel's own primitives.  The files of common/ include this header and
 * nothing else of the kernel's.
 */
#ifndef MPOOL_ENV_H
#define MPOOL_ENV_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/processor.h>
#include <linux/string.h>
#include <linux/types.h>

#define MPOOL_PAGE_SIZE		PAGE_SIZE

#define mpool_cpu_relax()	cpu_relax()

#define MPOOL_READ(x)		READ_ONCE(x)
#define MPOOL_WRITE(x, v)	WRITE_ONCE(x, v)
/* Acquire load: each use names the release it pairs with. */
#define mpool_load_acquire(p)	smp_load_acquire(p)
/* Release store: each use names the acquire it pairs with. */
#define mpool_store_release(p, v) smp_store_release(p, v)
/* Fully ordered on success; *oldp refreshed on failure. */
#define mpool_try_cmpxchg(p, oldp, new)	try_cmpxchg(p, oldp, new)
#define mpool_xchg(p, v)	xchg(p, v)

/* A core symbol other modules may call. */
#define EXPORT_SYMBOL_MPOOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, MPOOL)

/* A counter shared between CPUs. */
struct mpool_counter {
	atomic_long_t v;
};

static inline long mpool_counter_read(const struct mpool_counter *c)
{
	return atomic_long_read(&c->v);
}

static inline void mpool_counter_set(struct mpool_counter *c, long i)
{
	atomic_long_set(&c->v, i);
}

/* Relaxed read-modify-write: counters order nothing else. */
static inline long mpool_counter_add_return(struct mpool_counter *c, long i)
{
	return atomic_long_add_return_relaxed(i, &c->v);
}

static inline void mpool_counter_inc(struct mpool_counter *c)
{
	atomic_long_inc(&c->v);
}

/* Raise the counter to at least i (a high-water mark); relaxed. */
static inline void mpool_counter_max(struct mpool_counter *c, long i)
{
	long old = atomic_long_read(&c->v);

	while (old < i && !atomic_long_try_cmpxchg_relaxed(&c->v, &old, i))
		;
}

/*
 * Memory.  mpool_env_zalloc() returns zeroed memory aligned to a cache line
 * or NULL; mpool_env_map() returns a zeroed, page-aligned region or NULL.
 * Both may sleep: they are called from create only.
 */
void *mpool_env_zalloc(size_t size);
void mpool_env_free(void *p);
void *mpool_env_map(size_t size);
void mpool_env_unmap(void *p, size_t size);

/*
 * Memory-checker hooks (see user/mpool_env.h for their meaning).  The
 * module does not poison free blocks for KASAN yet: free blocks are only
 * guarded by the state-word checks and, in debug mode, by poison and red
 * zones.
 */
static inline bool mpool_env_checker(void)
{
	return false;
}

static inline void mpool_env_region_init(const void *id, u32 flags,
					 void *base, size_t size)
{
}

static inline void mpool_env_region_fini(const void *id, u32 flags,
					 void *base, size_t size)
{
}

static inline void mpool_env_block_alloc(const void *id, u32 flags, void *p,
					 size_t size)
{
}

static inline void mpool_env_block_free(const void *id, u32 flags, void *p,
					size_t size)
{
}

static inline void mpool_env_open(u32 flags, void *p, size_t size)
{
}

static inline void mpool_env_close(u32 flags, void *p, size_t size)
{
}

struct mpool_event;
/* Deliver one misuse report: pr_err_ratelimited() and WARN_ONCE(). */
void mpool_env_report(const struct mpool_event *ev);

#endif /* MPOOL_ENV_H */
