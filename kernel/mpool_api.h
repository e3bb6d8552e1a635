/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_api.h - the mempool.ko API for other kernel modules.
 *
 * The one header a user module includes, with -I pointing at kernel/ and
 * common/ of a mempool source tree or of the installed copy,
 * /usr/src/mempool-<version>/ (package mempool-dkms, or make
 * dkms-src-install); tools/examples/kmod shows the build.  It declares
 * every call a module may make: the ones below, and through mpool_public.h
 * the calls the core itself implements (mpool_slab_alloc(),
 * mpool_slab_free(), mpool_slab_stats(), mpool_slab_audit(),
 * mpool_arena_alloc(), mpool_arena_reset(), mpool_arena_stats()), with the
 * create flags and struct mpool_stats.  The allocators are opaque: their
 * layout, block states and internal helpers stay in common/mpool.h.
 *
 * Three allocators, every block 64-byte aligned and never sharing a cache
 * line:
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
 * free and stats never sleep and are not NMI-safe; they are safe in
 * process, softirq and hardirq context: a pool's per-CPU cache is taken
 * under a local lock with interrupts off.  PREEMPT_RT kernels are not
 * supported (the module refuses to build): there local_lock_irqsave() is a
 * sleeping lock that leaves interrupts on, and the pool's remote queues
 * rely on an interrupt never finding a CPU inside its fast path.  destroy
 * must not race with
 * any other call on the same allocator; arena reset must not race with
 * arena alloc.
 *
 * Errors.  create returns ERR_PTR(-EINVAL) for a zero size, count or
 * capacity, a cache larger than the pool, unknown flags, overflowing sizes
 * (see Sizes), or a name that is NULL, empty, longer than MPOOL_NAME_MAX - 1
 * or holds a '/'; ERR_PTR(-E2BIG) past a limit below; ERR_PTR(-EEXIST) when
 * an allocator of that name exists; ERR_PTR(-ENOMEM) when the memory could
 * not be had.  A failed create warns of nothing and leaves nothing
 * allocated.  alloc returns NULL when everything is out.  free returns 0,
 * -EINVAL (not a block of this allocator), -EALREADY (double free) or
 * -EUCLEAN (corrupt metadata), and changes nothing on error; each misuse is
 * counted, reported with pr_err_ratelimited() and a WARN_ONCE(), never by
 * crashing.
 *
 * Limits.  E2BIG means: valid arguments, past a fixed limit of this module
 * whatever memory is free; refused before anything is allocated.
 *
 *  - A pool's @cache_size is at most MPOOL_CACHE_MAX (4000): a CPU's cache
 *    is one per-CPU allocation, and the kernel caps those at 32 KiB.
 *  - A slab's @count, and a pool's @capacity, are at most 268435455
 *    (2^28 - 1): the blocks' metadata is arrays of one word per block
 *    (the state word has 8 bytes), one kvmalloc() each, and the kernel
 *    caps those at INT_MAX bytes.
 *  - A pool with caches keeps its magazines in one such array too, of
 *    8-byte rounds: (@capacity / M + 2) * M must be at most 268435455,
 *    where M = ceil(@cache_size / 2) is the magazine size (integer
 *    division).  So @capacity is at most 268435453 with @cache_size 1 or
 *    2, and 268431999 with @cache_size 4000; @capacity + @cache_size at
 *    most 268435454 always fits.
 *
 * Sizes.  A block's stride is @block_size, plus an 8-byte red zone with
 * MPOOL_F_DEBUG, rounded up to 64; a stride past SIZE_MAX (@block_size
 * above SIZE_MAX - 63, or SIZE_MAX - 71 with MPOOL_F_DEBUG) is -EINVAL.  A
 * slab's or pool's segment is @count strides in one vmalloc() area: more
 * than SIZE_MAX / 2 bytes (offsets in it must fit in a ptrdiff_t) is
 * -EINVAL; more than the kernel can give (any segment larger than RAM) is
 * -ENOMEM, without a warning and without an OOM kill.  An arena's
 * @capacity is at most SIZE_MAX / 2 (-EINVAL above), and the same -ENOMEM
 * answers one too large for the memory there is.
 */
#ifndef MPOOL_API_H
#define MPOOL_API_H

#include "mpool_public.h"

/*
 * The release of mempool.ko this header belongs to (its MODULE_VERSION, the
 * DKMS package's version and libmempool's, all one number).
 */
#define MPOOL_VERSION	"1.2.0"

#define MPOOL_NAME_MAX	32
/* The largest cache_size of a pool (see Limits above). */
#define MPOOL_CACHE_MAX	4000

/**
 * mpool_slab_create() - reserve @count blocks of @block_size bytes.
 * @name: unique name, also its debugfs directory.
 * @block_size: bytes per block (> 0; see Sizes above).
 * @count: blocks (> 0, at most 268435455; see Limits above).
 * @flags: MPOOL_F_DEBUG or 0.
 *
 * Context: process context; may sleep.
 * Return: the slab, or ERR_PTR(-EINVAL), ERR_PTR(-E2BIG), ERR_PTR(-EEXIST)
 * or ERR_PTR(-ENOMEM) as Errors above says.
 */
struct mpool_slab *mpool_slab_create(const char *name, size_t block_size,
				     size_t count, unsigned int flags);

/**
 * mpool_slab_destroy() - release a slab and its blocks.
 * @s: the slab, or NULL.
 *
 * Context: process context; no other call on @s may run.
 */
void mpool_slab_destroy(struct mpool_slab *s);

/**
 * mpool_arena_create() - an arena of @capacity bytes.
 * @name: unique name, also its debugfs directory.
 * @capacity: bytes (> 0).
 *
 * Context: process context; may sleep.
 * Return: the arena, or an ERR_PTR().
 */
struct mpool_arena *mpool_arena_create(const char *name, size_t capacity);

/**
 * mpool_arena_destroy() - unmap an arena.
 * @a: the arena, or NULL.
 *
 * Context: process context; no other call on @a may run.
 */
void mpool_arena_destroy(struct mpool_arena *a);

/**
 * mpool_pool_create() - a pool of @capacity blocks with per-CPU caches.
 * @name: unique name, also its debugfs directory.
 * @block_size: bytes per block (> 0; see Sizes above).
 * @cache_size: the most free blocks one CPU keeps (0: no caches); at most
 *	@capacity (else -EINVAL) and MPOOL_CACHE_MAX, 4000 (else -E2BIG).
 *	CPUs trade blocks with the depot in magazines of ceil(@cache_size / 2).
 * @capacity: blocks in all (> 0, at most 268435455, and with caches a
 *	little less: Limits above gives the exact rule).
 * @flags: MPOOL_F_DEBUG or 0.
 *
 * Context: process context; may sleep.
 * Return: the pool, or ERR_PTR(-EINVAL), ERR_PTR(-E2BIG), ERR_PTR(-EEXIST)
 * or ERR_PTR(-ENOMEM) as Errors above says.
 */
struct mpool_pool *mpool_pool_create(const char *name, size_t block_size,
				     size_t cache_size, size_t capacity,
				     unsigned int flags);

/**
 * mpool_pool_alloc() - take a block, from this CPU's cache when it can.
 * @p: the pool.
 *
 * Context: any but NMI.
 * Return: a 64-byte aligned block, or NULL when the pool and this CPU's
 * cache are empty.  Other CPUs' caches may hold free blocks (see
 * mpool_pool_flush()).  Blocks other CPUs freed that this CPU did not hand
 * out go back to the CPU that did; when this call finds the pool empty it
 * asks every online CPU holding such blocks (an IPI) to give them back, so
 * they are allocatable anywhere within one interrupt round trip; a dead
 * CPU's are taken back by mpool_pool_flush().
 */
void *mpool_pool_alloc(struct mpool_pool *p);

/**
 * mpool_pool_free() - give a block back into this CPU's cache.
 * @p: the pool.
 * @ptr: a block of @p allocated on any CPU, or NULL.
 *
 * Context: any but NMI.
 * Return: 0, -EINVAL, -EALREADY or -EUCLEAN; nothing changes on error.
 */
int mpool_pool_free(struct mpool_pool *p, void *ptr);

/**
 * mpool_pool_free_rcu() - free a block once no RCU reader can hold it.
 * @p: the pool.
 * @ptr: a block of @p allocated on any CPU, or NULL (nothing to do).
 *
 * @ptr is checked as mpool_pool_free() checks it, now.  On success the
 * block is no longer allocated (another free of it is a double free) and
 * is handed out again only after an RCU grace period that started after
 * this call: a reader that found the block under rcu_read_lock() may use
 * it until its rcu_read_unlock().  Blocks wait in per-CPU batches, one
 * call_rcu() per batch of up to 64 (more while all of the CPU's batches
 * wait); a CPU that goes offline hands its open batch over.  Never
 * allocates, never sleeps; callable inside an RCU read-side critical
 * section.
 *
 * Context: any but NMI, as mpool_pool_free().
 * Return: 0, -EINVAL, -EALREADY (already free, or already waiting for a
 * grace period) or -EUCLEAN; nothing changes on error.
 */
int mpool_pool_free_rcu(struct mpool_pool *p, void *ptr);

/**
 * mpool_pool_rcu_barrier() - wait for every deferred free issued before it.
 * @p: the pool.
 *
 * Returns once every mpool_pool_free_rcu() of @p that returned before this
 * call has given its block back, open batches of every CPU (online or not)
 * included.  mpool_pool_destroy() does this itself.
 *
 * Context: process context, outside any RCU read-side critical section;
 * sleeps (synchronize_rcu(), rcu_barrier()).
 */
void mpool_pool_rcu_barrier(struct mpool_pool *p);

/**
 * mpool_pool_rcu_pending() - blocks of a pool waiting for a grace period.
 * @p: the pool.
 *
 * mpool_pool_stats() counts them neither as in use nor as free nor as
 * cached: when @p is quiescent, in_use + free + cached + quarantined +
 * this count == capacity.
 *
 * Context: any.
 * Return: the count (exact when @p is quiescent).
 */
size_t mpool_pool_rcu_pending(struct mpool_pool *p);

/**
 * mpool_pool_alloc_bulk() - take @n blocks at once, all or none.
 * @p: the pool.
 * @ptrs: where the blocks go (@n entries).
 * @n: how many; 0 is allowed.
 *
 * Context: as mpool_pool_alloc().
 * Return: 0 with @n blocks in @ptrs; -ENOMEM with none taken; -EINVAL when
 * @ptrs is NULL and @n is not 0.
 */
int mpool_pool_alloc_bulk(struct mpool_pool *p, void **ptrs, size_t n);

/**
 * mpool_pool_free_bulk() - give @n blocks back at once.
 * @p: the pool.
 * @ptrs: the blocks; NULL entries are skipped.
 * @n: how many entries.
 *
 * Each entry is freed, or reported and counted exactly as mpool_pool_free()
 * would (the same block twice in @ptrs is a double free the second time).
 *
 * Context: as mpool_pool_free().
 * Return: 0 when every entry was freed, else the error of the first one
 * that was not; -EINVAL when @ptrs is NULL and @n is not 0.
 */
int mpool_pool_free_bulk(struct mpool_pool *p, void *const *ptrs, size_t n);

/**
 * mpool_pool_flush() - give every CPU's cached blocks back to the pool.
 * @p: the pool.
 *
 * Each online CPU empties its cache and collects the blocks other CPUs
 * freed for it (an IPI); an offline CPU's remote-freed blocks are taken
 * back here.  When it returns, every free block is allocatable from any
 * CPU.
 *
 * Context: process context with interrupts on (it sends IPIs); may sleep.
 */
void mpool_pool_flush(struct mpool_pool *p);

/**
 * mpool_pool_stats() - read a pool's statistics.
 * @p: the pool.
 * @st: filled in; @st->cached sums every CPU's cache.
 *
 * Context: any but NMI.
 */
void mpool_pool_stats(struct mpool_pool *p, struct mpool_stats *st);

/**
 * mpool_pool_audit() - check every block of a pool.
 * @p: the pool.
 *
 * As mpool_slab_audit(), for the blocks of a pool (cached ones included).
 *
 * Context: no other call on @p may run concurrently.
 * Return: the number of corrupt blocks found.
 */
long mpool_pool_audit(struct mpool_pool *p);

/**
 * mpool_pool_destroy() - release a pool, every CPU's cache and its blocks.
 * @p: the pool, or NULL.
 *
 * Context: process context; no other call on @p may run.
 */
void mpool_pool_destroy(struct mpool_pool *p);

/**
 * mpool_report_count() - misuse reports made since the module loaded.
 *
 * For tests: each report also goes to the kernel log.
 * Return: the count.
 */
long mpool_report_count(void);

/**
 * mpool_env_outstanding() - metadata and segments the module holds.
 *
 * For leak tests: 0 when every allocator has been destroyed.
 * Return: the number of live allocations and mappings.
 */
long mpool_env_outstanding(void);

#endif /* MPOOL_API_H */
