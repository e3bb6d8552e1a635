/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_api.h - the mempool.ko API for other kernel modules.
 *
 * Three allocators over the core in common/mpool.h, every block 64-byte
 * aligned and never sharing a cache line:
 *
 *   struct mpool_slab   fixed-size blocks over a lock-free stack
 *   struct mpool_arena  an atomic bump pointer, freed only by a reset
 *   struct mpool_pool   a slab with a depot of magazines and a cache per CPU
 *
 * Symbols are exported GPL-only in the MPOOL namespace: a user module says
 * MODULE_IMPORT_NS(MPOOL), and holds a reference on mempool.ko while it is
 * loaded, so mempool.ko cannot be unloaded under it.
 *
 * Contexts.  create and destroy may sleep (process context only).  alloc,
 * free and stats never sleep and are safe in process, softirq and hardirq
 * context (a pool's per-CPU cache is taken under a local lock with
 * interrupts off); they are not NMI-safe.  destroy must not race with any
 * other call on the same allocator; arena reset must not race with arena
 * alloc.
 *
 * Errors.  create returns ERR_PTR(-EINVAL) for a zero size, count or
 * capacity, a cache larger than the pool, unknown flags, overflowing sizes,
 * or a name that is NULL, empty, longer than MPOOL_NAME_MAX - 1 or holds a
 * '/'; ERR_PTR(-EEXIST) when an allocator of that name exists;
 * ERR_PTR(-ENOMEM).  alloc returns NULL when everything is out.  free
 * returns 0, -EINVAL (not a block of this allocator), -EALREADY (double
 * free) or -EUCLEAN (corrupt metadata), and changes nothing on error; each
 * misuse is counted, reported with pr_err_ratelimited() and a WARN_ONCE(),
 * never by crashing.
 */
#ifndef MPOOL_API_H
#define MPOOL_API_H

#include "mpool.h"

#define MPOOL_NAME_MAX	32

struct mpool_slab *mpool_slab_create(const char *name, size_t block_size,
				     size_t count, unsigned int flags);
void mpool_slab_destroy(struct mpool_slab *s);
/* mpool_slab_alloc(), mpool_slab_free(), mpool_slab_stats(): common/. */

struct mpool_arena *mpool_arena_create(const char *name, size_t capacity);
void mpool_arena_destroy(struct mpool_arena *a);
/* mpool_arena_alloc(), mpool_arena_reset(), mpool_arena_stats(): common/. */

struct mpool_pool *mpool_pool_create(const char *name, size_t block_size,
				     size_t cache_size, size_t capacity,
				     unsigned int flags);
void *mpool_pool_alloc(struct mpool_pool *p);
int mpool_pool_free(struct mpool_pool *p, void *ptr);
void mpool_pool_flush(struct mpool_pool *p);
void mpool_pool_stats(struct mpool_pool *p, struct mpool_stats *st);
void mpool_pool_destroy(struct mpool_pool *p);

/*
 * mpool_slab_audit(): common/; a pool is audited through its slab.
 * Context: no other call on the allocator may run concurrently.
 */
static inline long mpool_pool_audit(struct mpool_pool *p)
{
	return mpool_slab_audit(&p->slab);
}

/* For the module's own tests. */
long mpool_report_count(void);
long mpool_env_outstanding(void);

#endif /* MPOOL_API_H */
