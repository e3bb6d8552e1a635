/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * env.h - the contract between the core and the world it is compiled into.
 *
 * common/ is compiled unchanged into mempool.ko and into libmempool.  All it
 * knows of its world comes through this header: the world's mpool_env.h
 * (kernel/ or user/, first on the include path) supplies the macros, types
 * and inline functions listed here, and the world's env.c supplies the
 * out-of-line functions declared below.  Neither world declares anything
 * of the contract a second time.  A third world, tests/relacy/, compiles
 * the lock-free layer (stack.c) and the pool's ownership protocol
 * (slab.c, pool.c) as C++ inside a model checker; its mpool_env.h supplies
 * the list below, and each litmus file the functions declared here.
 *
 * From mpool_env.h, each with the meaning the core relies on:
 *
 *   u8, u32, u64, size_t, bool       fixed-width and standard types
 *   SIZE_MAX, EINVAL, ENOMEM,        limits and errnos (EUCLEAN where libc
 *   EALREADY, EUCLEAN, E2BIG         lacks it)
 *   memset(), memcpy()               as in the C library
 *   likely(x), unlikely(x)           branch hints
 *   check_sub_overflow(a, b, d)      *d = a - b; true if that wrapped
 *   __aligned(n)                     object alignment
 *   MPOOL_PAGE_SIZE                  the granule of mpool_env_map()
 *   MPOOL_ENV_ZALLOC_MAX             the most bytes one mpool_env_zalloc()
 *                                    can give (a size_t); a create whose
 *                                    metadata needs more fails with -E2BIG
 *                                    before anything is allocated
 *   mpool_cpu_relax()                a pause inside a spin loop
 *   mpool_prefetchw(p)               a hint: the line at @p is about to be
 *                                    written (no effect on correctness)
 *   mpool_atomic_u32, mpool_atomic_u64  the type of a shared u32 or u64
 *                                    word that only the verbs below touch:
 *                                    the plain type in the kernel and in
 *                                    userspace, rl::atomic<> in the model
 *                                    checker's world (tests/relacy/).  A
 *                                    type name, not a macro taking the
 *                                    type: checkpatch reads "M(u32) x" as
 *                                    a cast
 *   mpool_atomic_ptr                 the same for a shared pointer (void *
 *                                    in the kernel and userspace): what it
 *                                    holds converts to the pointer type it
 *                                    is loaded into
 *   MPOOL_READ(x), MPOOL_WRITE(x, v) relaxed, single-copy-atomic access to a
 *                                    shared word (READ_ONCE()/WRITE_ONCE())
 *   mpool_load_acquire(p)            acquire load (smp_load_acquire())
 *   mpool_store_release(p, v)        release store (smp_store_release())
 *   mpool_smp_mb()                   a full memory barrier (smp_mb())
 *   mpool_try_cmpxchg(p, oldp, new)  compare-and-swap, fully ordered when
 *                                    it succeeds (a full barrier before and
 *                                    after: the core puts no barrier of its
 *                                    own between a successful swap and a
 *                                    load that must not pass it); when it
 *                                    fails, *oldp is refreshed (acquire in
 *                                    userspace; in the kernel unordered,
 *                                    but a load whose address depends on
 *                                    the value is ordered after it, which
 *                                    is all a retry reads)
 *   struct mpool_counter             a statistics counter shared between
 *                                    contexts, with mpool_counter_read(),
 *                                    _set(), _inc(), _add_return() and
 *                                    _max() (raise to at least); relaxed:
 *                                    counters order nothing else
 *   EXPORT_SYMBOL_MPOOL(sym)         export a core function to the world's
 *                                    users (a GPL symbol in namespace MPOOL
 *                                    in the kernel; nothing in userspace)
 *   mpool_env_checker()              whether a memory checker (valgrind's
 *                                    memcheck, KASAN) watches this process
 *                                    or kernel, so that creates turn on
 *                                    MPOOL_F_CHECKER
 *   mpool_env_region_init(id, on, base, size)   a segment comes into use,
 *   mpool_env_region_fini(id, on, base, size)   all free / goes away
 *   mpool_env_block_alloc(id, on, p, size, span) a block is handed out:
 *                                    @span bytes, of which only the first
 *                                    @size may be touched
 *   mpool_env_block_free(id, on, p, span)       a block is given back
 *   MPOOL_ENV_POISONS_ALWAYS         1 when mpool_env_block_free() acts
 *                                    even with @on false (an ASan build),
 *                                    else 0
 *   mpool_env_owner_enter(busy)      a cache's owner enters / leaves a
 *   mpool_env_owner_exit(busy)       fast-path free: what a thief of its
 *                                    remote queue needs to see (userspace:
 *                                    *busy = 1 / 0 with compiler barriers;
 *                                    kernel: nothing, see common/pool.c)
 *   mpool_env_open(on, p, size)      the allocator itself reads free memory
 *   mpool_env_close(on, p, size)     (debug checks), and is done
 *   struct rcu_head                  the world's RCU callback head, and
 *   mpool_env_call_rcu(fl, h, fn)    call_rcu() and synchronize_rcu() of
 *   mpool_env_synchronize_rcu(fl)    RCU flavour @fl (userspace: the
 *                                    liburcu flavour the application bound;
 *                                    kernel: its RCU, @fl NULL);
 *   mpool_env_rcu_barrier(fl)        a wait for callbacks queued so far, or
 *                                    at least for a grace period (the core
 *                                    polls around it).  Only common/rcu.c
 *                                    calls them; the model checker's world
 *                                    (stack.c, slab.c and pool.c, never
 *                                    rcu.c) supplies struct rcu_head alone
 *
 * The memory-checker hooks tell the world's checker (ASan, memcheck,
 * KASAN) what the allocator does with its memory.  @on is whether the
 * allocator has MPOOL_F_CHECKER: memcheck and KASAN are told only then;
 * ASan's poisoning (compiled into an ASan build) is kept either way.
 * @id names the allocator to the checker.
 */
#ifndef MPOOL_ENV_CONTRACT_H
#define MPOOL_ENV_CONTRACT_H

#include "mpool_env.h"

/*
 * Memory, from create and destroy only.  mpool_env_zalloc() returns zeroed
 * memory aligned to a cache line, or NULL; mpool_env_map() a zeroed,
 * page-aligned region of @size bytes, or NULL.  Either may sleep; either
 * may fail on purpose under a world's fault injection.  A failure is an
 * expected answer: it must not warn.
 */
void *mpool_env_zalloc(size_t size);
void mpool_env_free(void *p);
void *mpool_env_map(size_t size);
void mpool_env_unmap(void *p, size_t size);

/*
 * Whether every slab and pool is to be made in debug mode, whatever its
 * create flags say (userspace: MEMPOOL_DEBUG=1; kernel: mempool.debug=1).
 */
bool mpool_env_debug_all(void);

struct mpool_event;
/*
 * Deliver one misuse report: the application's hook in userspace,
 * pr_err_ratelimited() and WARN_ONCE() in the kernel.  Callable in any
 * context an allocation or a free is.
 */
void mpool_env_report(const struct mpool_event *ev);

#endif /* MPOOL_ENV_CONTRACT_H */
