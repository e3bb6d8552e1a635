/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_env.h - the kernel environment of the mempool core.
 *
 * The twin of user/mpool_env.h: the same small vocabulary (common/env.h lists
 * it), mapped onto the kernel's own primitives.  The files of common/ see
 * the kernel only through this header.
 */
#ifndef MPOOL_ENV_H
#define MPOOL_ENV_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/kasan.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/prefetch.h>
#include <linux/processor.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/types.h>

#define MPOOL_PAGE_SIZE		PAGE_SIZE
/*
 * The most bytes one mpool_env_zalloc() can give: kvmalloc() refuses more
 * than INT_MAX (kernel/env.c).  The core refuses a create whose metadata
 * would need more with -E2BIG, before it allocates anything.
 */
#define MPOOL_ENV_ZALLOC_MAX	((size_t)INT_MAX)

#define mpool_cpu_relax()	cpu_relax()
#define mpool_prefetchw(p)	prefetchw(p)

/* Shared words are plain words, accessed through the verbs below. */
#define mpool_atomic_u32	u32
#define mpool_atomic_u64	u64
#define mpool_atomic_ptr	void *
#define MPOOL_READ(x)		READ_ONCE(x)
#define MPOOL_WRITE(x, v)	WRITE_ONCE(x, v)
/* Acquire load: each use names the release it pairs with. */
#define mpool_load_acquire(p)	smp_load_acquire(p)
/* Release store: each use names the acquire it pairs with. */
#define mpool_store_release(p, v) smp_store_release(p, v)
/* Fully ordered on success; *oldp refreshed on failure. */
#define mpool_try_cmpxchg(p, oldp, new)	try_cmpxchg(p, oldp, new)

/*
 * The owner's half of the handshake with a thief: nothing.  A CPU's cache
 * is used with interrupts off, and its thief is an interrupt on that CPU
 * (an IPI) or the hotplug thread after the CPU died, so the owner is
 * never inside a fast path when it runs.
 */
#define mpool_env_owner_enter(busy)	((void)(busy))
#define mpool_env_owner_exit(busy)	((void)(busy))

/* A full barrier; each use in common/ names the barrier it pairs with. */
#define mpool_smp_mb()		smp_mb()

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
 * Memory-checker hooks (their meaning is in common/env.h): KASAN.
 *
 * With generic KASAN (and KASAN_VMALLOC, as segments are vmalloc memory)
 * every allocator gets MPOOL_F_CHECKER at create (common/slab.c), which sends
 * each of its operations down the slow path, and these hooks keep KASAN's
 * shadow of its segments: a region starts as a red zone, a block handed out
 * is accessible up to its exact size (the rest of its stride a red zone), a
 * block given back is freed memory.  So a use after free of a block, an
 * overflow past its end, and an access to the unused part of an arena are
 * KASAN reports, as they are for kmalloc().  Without MPOOL_F_CHECKER (the
 * fast paths), or without KASAN, the hooks compile to nothing.  Tag-based
 * KASAN (arm64) is left out: its shadow holds pointer tags, not these
 * values.
 *
 * The interface.  Linux 6.1 exports no public call that poisons memory a
 * module manages itself: kasan_unpoison_range(), __kasan_poison_object_data(),
 * kasan_poison_pages() and kasan_record_aux_stack() are not exported.  It
 * exports kasan_poison() (mm/kasan/shadow.c, for KASAN's own test modules),
 * whose prototype lives in mm/kasan/kasan.h, outside include/; it is
 * declared below exactly as 6.1 has it (unchanged since 5.12; a kernel
 * that stops exporting it fails at modpost, loudly).  It sets the shadow of
 * a granule-aligned range to one value.  The allocator's own reads of free
 * memory (debug mode) run between kasan_disable_current() and
 * kasan_enable_current(), as kmemleak's scans do, so they are not reported.
 * KASAN keeps no allocation or free stack for a pool block (that needs
 * kasan_record_aux_stack()): a report shows the faulting access and "The
 * buggy address belongs to a N-page vmalloc region starting at ...
 * allocated at mpool_env_map".
 */
#define MPOOL_ENV_KASAN		(IS_ENABLED(CONFIG_KASAN_GENERIC) &&	\
				 IS_ENABLED(CONFIG_KASAN_VMALLOC))

/* mm/kasan/kasan.h (6.1); exported by mm/kasan/shadow.c. */
void kasan_poison(const void *addr, size_t size, u8 value, bool init);

/* kernel/env.c */
void mpool_kasan_region(void *base, size_t size, bool live);
void mpool_kasan_block_alloc(void *p, size_t size, size_t span);
void mpool_kasan_block_free(void *p, size_t size);

/* Whether KASAN watches the kernel and the pools can tell it about blocks. */
static inline bool mpool_env_checker(void)
{
	return MPOOL_ENV_KASAN;
}

/* Whether the hooks act for an allocator (@on: it has MPOOL_F_CHECKER). */
static inline bool mpool_kasan_on(bool on)
{
	return MPOOL_ENV_KASAN && on;
}

static inline void mpool_env_region_init(const void *id, bool on,
					 void *base, size_t size)
{
	if (mpool_kasan_on(on))
		mpool_kasan_region(base, size, false);
}

static inline void mpool_env_region_fini(const void *id, bool on,
					 void *base, size_t size)
{
	if (mpool_kasan_on(on))
		mpool_kasan_region(base, size, true);
}

static inline void mpool_env_block_alloc(const void *id, bool on, void *p,
					 size_t size, size_t span)
{
	if (mpool_kasan_on(on))
		mpool_kasan_block_alloc(p, size, span);
}

/* Only an allocator with MPOOL_F_CHECKER has its blocks poisoned. */
#define MPOOL_ENV_POISONS_ALWAYS	0

static inline void mpool_env_block_free(const void *id, bool on, void *p,
					size_t size)
{
	if (mpool_kasan_on(on))
		mpool_kasan_block_free(p, size);
}

/* The allocator reads free memory: KASAN must not report it. */
static inline void mpool_env_open(bool on, void *p, size_t size)
{
	if (mpool_kasan_on(on))
		kasan_disable_current();
}

static inline void mpool_env_close(bool on, void *p, size_t size)
{
	if (mpool_kasan_on(on))
		kasan_enable_current();
}

/*
 * Deferred frees (common/rcu.c): the kernel's RCU; the flavour the core
 * passes is NULL.  call_rcu() may be called from any context but NMI.
 */
static inline void mpool_env_call_rcu(const void *flavor, struct rcu_head *h,
				      rcu_callback_t fn)
{
	call_rcu(h, fn);
}

static inline void mpool_env_synchronize_rcu(const void *flavor)
{
	synchronize_rcu();
}

static inline void mpool_env_rcu_barrier(const void *flavor)
{
	rcu_barrier();
}

#endif /* MPOOL_ENV_H */
