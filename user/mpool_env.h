/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_env.h - the userspace environment of the mempool core.
 *
 * The files of common/ see the world only through this header (and its kernel
 * twin, kernel/mpool_env.h); common/env.h lists what each must supply.  It is
 * a table of kernel-flavoured verbs mapped onto liburcu and the compiler:
 *
 *  - compiler hints, barriers and cpu_relax come from liburcu
 *    (caa_likely, cmm_barrier, caa_cpu_relax), as the kernel's come from
 *    <linux/compiler.h> and <asm/processor.h>;
 *  - shared-memory accesses use the C11 __atomic builtins.  liburcu 0.13's
 *    uatomic_* are inline assembly, which ThreadSanitizer cannot see, and the
 *    project promises a TSan run with no suppressions; the builtins compile
 *    to the same instructions on x86-64 (a plain mov for relaxed and
 *    acquire/release accesses, lock cmpxchg for compare-and-swap);
 *  - memory comes from calloc() and mmap(), with a fault-injection hook so
 *    that tests can make every allocation made at create time fail in turn.
 */
#ifndef MPOOL_ENV_H
#define MPOOL_ENV_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <urcu/arch.h>
#include <urcu/call-rcu.h>
#include <urcu/compiler.h>
#include <urcu/flavor.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

/* Errnos the kernel has and libc may lack. */
#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#define MPOOL_PAGE_SIZE	4096ul
/* The most bytes one mpool_env_zalloc() can give: malloc's own limit. */
#define MPOOL_ENV_ZALLOC_MAX	((size_t)PTRDIFF_MAX)

#define __aligned(x)	__attribute__((aligned(x)))
#define likely(x)	caa_likely(x)
#define unlikely(x)	caa_unlikely(x)
#define check_sub_overflow(a, b, d)	__builtin_sub_overflow(a, b, d)
#define mpool_cpu_relax()	caa_cpu_relax()
#define mpool_prefetchw(p)	__builtin_prefetch((p), 1, 3)

/* Shared words are plain words: the builtins below make each access atomic. */
#define mpool_atomic_u32	u32
#define mpool_atomic_u64	u64
#define mpool_atomic_ptr	void *
/* Relaxed atomic access: the twin of READ_ONCE()/WRITE_ONCE(). */
#define MPOOL_READ(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define MPOOL_WRITE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
/* The twins of smp_load_acquire()/smp_store_release(). */
#define mpool_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define mpool_store_release(p, v) \
	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
/*
 * mpool_try_cmpxchg(p, oldp, new): the twin of try_cmpxchg(): fully ordered
 * on success (a full barrier before and after, as the kernel's: the core
 * relies on it to order a store before the swap against a load after it);
 * on failure *oldp is refreshed with an acquire load.  On x86 a locked
 * instruction is that barrier already; elsewhere a C11 seq_cst swap only
 * orders against other seq_cst operations, so a fence follows success.
 */
#if defined(__x86_64__) || defined(__i386__)
#define mpool_try_cmpxchg(p, oldp, new)					\
	__atomic_compare_exchange_n((p), (oldp), (new), false,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE)
#else
#define mpool_try_cmpxchg(p, oldp, new)					\
	({								\
		bool __ok = __atomic_compare_exchange_n((p), (oldp),	\
				(new), false, __ATOMIC_SEQ_CST,		\
				__ATOMIC_ACQUIRE);			\
		if (__ok)						\
			mpool_smp_mb();					\
		__ok;							\
	})
#endif

/*
 * The owner's half of the handshake with a thief (common/pool.c): a plain
 * store and a compiler barrier on entry, a release store (a plain store on
 * x86-64 and a store-release on arm64: no fence) on exit.  The thief's
 * membarrier() is the fence that orders the entry against the owner's
 * loads, so the owner needs none.
 */
#define mpool_env_owner_enter(busy)					\
	do {								\
		MPOOL_WRITE(*(busy), 1);				\
		cmm_barrier();						\
	} while (0)
#define mpool_env_owner_exit(busy)	mpool_store_release((busy), 0)

/*
 * The application's call site of the library call in progress, or NULL:
 * user/lib.c sets it around the core calls that may report, user/env.c's
 * mpool_env_report() hands it to the error hook.  Not part of the core's
 * contract (common/ never reads it).
 */
extern __thread const void *mpool_env_caller
	__attribute__((tls_model("initial-exec")));

/*
 * A full barrier: the twin of smp_mb().  ThreadSanitizer does not model
 * fences (GCC refuses them under -fsanitize=thread): there a seq_cst
 * read-modify-write of a word of the caller's own, which is a full barrier
 * on every target and is an atomic TSan sees, takes its place.
 */
#if defined(__SANITIZE_THREAD__)
#define MPOOL_ENV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MPOOL_ENV_TSAN 1
#endif
#endif
#ifdef MPOOL_ENV_TSAN
#define mpool_smp_mb()							\
	do {								\
		unsigned long __mb = 0;					\
		__atomic_fetch_add(&__mb, 0, __ATOMIC_SEQ_CST);		\
	} while (0)
#else
#define mpool_smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* Exporting a core symbol to other modules means nothing here. */
#define EXPORT_SYMBOL_MPOOL(sym)	extern typeof(sym) sym

/* A counter shared between threads: the twin of atomic_long_t. */
struct mpool_counter {
	long v;
};

static inline long mpool_counter_read(const struct mpool_counter *c)
{
	return __atomic_load_n(&c->v, __ATOMIC_RELAXED);
}

static inline void mpool_counter_set(struct mpool_counter *c, long i)
{
	__atomic_store_n(&c->v, i, __ATOMIC_RELAXED);
}

/* Relaxed read-modify-write: counters order nothing else. */
static inline long mpool_counter_add_return(struct mpool_counter *c, long i)
{
	return __atomic_add_fetch(&c->v, i, __ATOMIC_RELAXED);
}

static inline void mpool_counter_inc(struct mpool_counter *c)
{
	__atomic_add_fetch(&c->v, 1, __ATOMIC_RELAXED);
}

/* Raise the counter to at least i (a high-water mark); relaxed. */
static inline void mpool_counter_max(struct mpool_counter *c, long i)
{
	long old = mpool_counter_read(c);

	while (old < i &&
	       !__atomic_compare_exchange_n(&c->v, &old, i, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/*
 * Memory-checker hooks (their meaning is in common/env.h): AddressSanitizer
 * and valgrind's memcheck.  @id names the allocator to memcheck (its
 * mempool anchor); memcheck is told only when @on (the allocator has
 * MPOOL_F_CHECKER, which the core sets at create when running under
 * valgrind, and which also sends every operation down the slow path).  The
 * fast path, which runs only without it, keeps nothing but ASan's
 * poisoning, and that only in an ASan build.  memcheck's client requests
 * are compiled in when <valgrind/memcheck.h> is installed.
 */
#if defined(__SANITIZE_ADDRESS__)
#define MPOOL_ENV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MPOOL_ENV_ASAN 1
#endif
#endif

#ifdef MPOOL_ENV_ASAN
#define MPOOL_ENV_POISONS_ALWAYS	1
#else
#define MPOOL_ENV_POISONS_ALWAYS	0
#endif

#ifdef MPOOL_ENV_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define mpool_asan_poison(p, n)	__asan_poison_memory_region((p), (n))
#define mpool_asan_unpoison(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define mpool_asan_poison(p, n)	do { (void)(p); (void)(n); } while (0)
#define mpool_asan_unpoison(p, n) do { (void)(p); (void)(n); } while (0)
#endif

#if defined(__has_include) && !defined(MPOOL_NO_VALGRIND)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MPOOL_ENV_VALGRIND 1
#endif
#endif

#ifdef MPOOL_ENV_VALGRIND
#define mpool_vg(on, req)					\
	do {							\
		if (unlikely(on)) {				\
			req;					\
		}						\
	} while (0)
#else
#define mpool_vg(on, req)	do { (void)(on); } while (0)
#endif

/*
 * Whether valgrind's memcheck watches this process.  Other valgrind tools
 * (callgrind, which counts the fast path's instructions) answer memcheck's
 * requests with 0, so they see the allocator as it normally runs.
 */
static inline bool mpool_env_checker(void)
{
#ifdef MPOOL_ENV_VALGRIND
	static u64 probe, vbits;

	return RUNNING_ON_VALGRIND &&
	       VALGRIND_GET_VBITS(&probe, &vbits, sizeof(probe)) == 1;
#else
	return false;
#endif
}

static inline void mpool_env_region_init(const void *id, bool on,
					 void *base, size_t size)
{
	(void)id;
	mpool_asan_poison(base, size);
	mpool_vg(on, VALGRIND_CREATE_MEMPOOL(id, 0, 0));
	mpool_vg(on, VALGRIND_MAKE_MEM_NOACCESS(base, size));
}

static inline void mpool_env_region_fini(const void *id, bool on,
					 void *base, size_t size)
{
	(void)id;
	mpool_asan_unpoison(base, size);
	mpool_vg(on, VALGRIND_DESTROY_MEMPOOL(id));
	mpool_vg(on, VALGRIND_MAKE_MEM_UNDEFINED(base, size));
}

static inline void mpool_env_block_alloc(const void *id, bool on, void *p,
					 size_t size, size_t span)
{
	(void)id;
	(void)span;	/* the rest of the span is still poisoned */
	mpool_asan_unpoison(p, size);
	mpool_vg(on, VALGRIND_MEMPOOL_ALLOC(id, p, size));
}

static inline void mpool_env_block_free(const void *id, bool on, void *p,
					size_t size)
{
	(void)id;
	mpool_asan_poison(p, size);
	mpool_vg(on, VALGRIND_MEMPOOL_FREE(id, p));
}

static inline void mpool_env_open(bool on, void *p, size_t size)
{
	mpool_asan_unpoison(p, size);
	mpool_vg(on, VALGRIND_MAKE_MEM_DEFINED(p, size));
}

static inline void mpool_env_close(bool on, void *p, size_t size)
{
	mpool_asan_poison(p, size);
	mpool_vg(on, VALGRIND_MAKE_MEM_NOACCESS(p, size));
}

/*
 * Deferred frees (common/rcu.c) go through the flavour the application
 * bound, a liburcu struct rcu_flavor_struct: libmempool links no flavour
 * library.  Its call_rcu runs the callback on the flavour's call_rcu
 * thread; liburcu wants call_rcu from a registered (QSBR: online) thread,
 * and synchronize_rcu outside any read-side critical section, never from a
 * call_rcu callback.
 */
static inline void mpool_env_call_rcu(const void *flavor, struct rcu_head *h,
				      void (*fn)(struct rcu_head *h))
{
	((const struct rcu_flavor_struct *)flavor)->update_call_rcu(h, fn);
}

static inline void mpool_env_synchronize_rcu(const void *flavor)
{
	((const struct rcu_flavor_struct *)flavor)->update_synchronize_rcu();
}

/*
 * The core waits for its own callbacks by polling their heads around this
 * call, so a grace period is enough here.  Not the flavour's barrier():
 * liburcu's rcu_barrier() hands a completion it allocates to its call_rcu
 * threads, which free it, through the library's own atomics, which TSan
 * does not see (liburcu is not instrumented): every use reports a race in
 * liburcu.  synchronize_rcu() hands over nothing.
 */
static inline void mpool_env_rcu_barrier(const void *flavor)
{
	((const struct rcu_flavor_struct *)flavor)->update_synchronize_rcu();
}

#endif /* MPOOL_ENV_H */
