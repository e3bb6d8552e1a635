/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mpool_env.h - the third world: the core's lock-free code inside Relacy.
 *
 * Relacy (Dmitry Vyukov's race detector, Debian's relacy-dev) is a C++
 * header library that runs a test's threads as fibers under a scheduler of
 * its own and simulates the C++11 memory model: at every access to an
 * rl::atomic it chooses which thread runs next, and every relaxed or
 * acquire load may return any value the model allows (an older store in
 * the variable's modification order, when nothing forbids it), not just
 * the last one written.  So it finds what x86-64 and ThreadSanitizer
 * cannot: a load that is too weak for the writes it must see.
 *
 * This header is the twin of user/mpool_env.h and kernel/mpool_env.h for
 * that world: the vocabulary common/env.h lists, mapped onto Relacy.  The
 * shared words a core file declares as mpool_atomic_u32 or mpool_atomic_u64
 * become rl::atomic<>, so that every MPOOL_READ(), MPOOL_WRITE(),
 * mpool_load_acquire(), mpool_store_release() and mpool_try_cmpxchg() of
 * the core is a step of the model with exactly the order the core asked
 * for, and the file position ($) Relacy prints in a failing history.
 * Compiled as C++ (g++ -std=gnu++11), so a core file compiled here must
 * be C that is also C++: stack.c, and slab.c and pool.c with -fpermissive
 * (their allocations assign mpool_env_zalloc()'s void * to typed pointers,
 * which C++ refuses; the litmus never calls those paths).
 *
 * Nothing here allocates, maps or reports: a litmus test declares its
 * stacks and link arrays itself.  The out-of-line functions of common/env.h
 * are declared but not defined; a core file that called one would not
 * link, which is as it should be for the files compiled here.
 */
#ifndef MPOOL_ENV_H
#define MPOOL_ENV_H

/* Standard headers first: relacy.hpp redefines new, delete and malloc. */
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <relacy/relacy.hpp>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#define MPOOL_PAGE_SIZE		4096ul

#define __aligned(x)		__attribute__((aligned(x)))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define check_sub_overflow(a, b, d)	__builtin_sub_overflow(a, b, d)
/*
 * A pause inside a retry loop: nothing.  A lost compare-and-swap already
 * means another thread made progress; a yield here would only multiply
 * the interleavings the scheduler has to visit.
 */
#define mpool_cpu_relax()	do { } while (0)
#define mpool_prefetchw(p)	((void)(p))

#define MPOOL_ENV_ZALLOC_MAX	((size_t)PTRDIFF_MAX)

/*
 * The membarrier() of a thief (user/lib.c), modelled for the litmus cases
 * that arm it (tests/relacy/pool_litmus.cpp, case steal): the thief
 * raises @req; every other thread, at its next access to a shared word
 * (the poll below, run before each one) or when it ends, answers it with
 * a seq_cst fence and a release of @ack, as the IPI's smp_mb() would at
 * that point of its program; the thief's wait acquires every answer.  So
 * the barrier lands between any two shared accesses of the target, at a
 * point the scheduler chooses, and nowhere else: that is membarrier's
 * guarantee, no more (a seq_cst fence run on the thief's side alone would
 * be less, and one after every access of the owner more).  @armed is a
 * plain flag so that cases that do not arm it see no extra step.
 */
struct mpool_rl_membarrier {
	bool armed;
	rl::atomic<u32> req;
	rl::atomic<u32> ack[4];
	rl::atomic<u32> done[4];
};

/* The armed case's membarrier, or NULL (one litmus binary per file). */
static struct mpool_rl_membarrier *mpool_rl_mb;

static inline void mpool_rl_mb_answer(rl::debug_info_param info)
{
	u32 me = (u32)rl::ctx().current_thread();

	if (mpool_rl_mb->req.load(rl::mo_acquire, info) >
	    mpool_rl_mb->ack[me].load(rl::mo_relaxed, info)) {
		rl::atomic_thread_fence(rl::mo_seq_cst, info);
		mpool_rl_mb->ack[me].store(mpool_rl_mb->req.load(rl::mo_relaxed,
								 info),
					   rl::mo_release, info);
	}
}

static inline void mpool_rl_poll(rl::debug_info_param info)
{
	if (mpool_rl_mb && mpool_rl_mb->armed)
		mpool_rl_mb_answer(info);
}

/*
 * A word more than one thread touches: a variable of the model.  The
 * core's rule is that a shared word is touched only through the verbs
 * below, except by its single writer, which may read and write it plainly
 * (a cache's @count, and the initialisation of a cache before it is
 * published); those plain accesses are the conversion and assignment
 * here, relaxed accesses of the model: for a word with a single writer
 * that reads its own stores the two are the same.
 */
template <typename T> struct mpool_rl_atomic : rl::atomic<T> {
	operator T() const
	{
		return this->load(rl::mo_relaxed, $);
	}

	mpool_rl_atomic &operator=(T v)
	{
		this->store(v, rl::mo_relaxed, $);
		return *this;
	}
};

typedef mpool_rl_atomic<u32> mpool_atomic_u32;
typedef mpool_rl_atomic<u64> mpool_atomic_u64;

/*
 * A shared pointer: what a load returns converts to the pointer type it is
 * assigned to, as void * does in C.
 */
struct mpool_rl_anyptr {
	void *p;

	template <typename T> operator T *() const
	{
		return static_cast<T *>(p);
	}
};

struct mpool_atomic_ptr {
	rl::atomic<void *> a;

	mpool_rl_anyptr load(rl::memory_order mo,
			     rl::debug_info_param info) const
	{
		return mpool_rl_anyptr{ a.load(mo, info) };
	}

	void store(void *v, rl::memory_order mo, rl::debug_info_param info)
	{
		a.store(v, mo, info);
	}
};

/*
 * Relaxed access, the twin of READ_ONCE()/WRITE_ONCE().  Each access to a
 * shared word first answers a pending membarrier (above), when armed.
 */
#define MPOOL_READ(x)		(mpool_rl_poll($), (x).load(rl::mo_relaxed, $))
#define MPOOL_WRITE(x, v)	\
	(mpool_rl_poll($), (x).store((v), rl::mo_relaxed, $))
#define mpool_load_acquire(p)	(mpool_rl_poll($), (p)->load(rl::mo_acquire, $))
#define mpool_store_release(p, v) \
	(mpool_rl_poll($), (p)->store((v), rl::mo_release, $))
/* smp_mb(): a seq_cst fence of the model. */
#define mpool_smp_mb()	\
	(mpool_rl_poll($), rl::atomic_thread_fence(rl::mo_seq_cst, $))
/*
 * The owner's half of the handshake with a thief, as user/mpool_env.h
 * has it: a relaxed store of 1 (the compiler barrier after it orders
 * nothing in the model: it only keeps the compiler's order, which the
 * model keeps anyway), a release store of 0.
 */
#define mpool_env_owner_enter(busy)	MPOOL_WRITE(*(busy), 1u)
#define mpool_env_owner_exit(busy)	mpool_store_release((busy), 0u)
/*
 * Sequentially consistent on success, acquire on failure, as try_cmpxchg().
 * The orders are named here so that make relacy's self-test can build a
 * world whose compare-and-swap is too weak (relaxed), and see it caught.
 */
#ifndef MPOOL_RL_CAS_OK
#define MPOOL_RL_CAS_OK		rl::mo_seq_cst
#define MPOOL_RL_CAS_FAIL	rl::mo_acquire
#endif
/*
 * The contract's swap is fully ordered when it succeeds (a locked
 * instruction on x86, the kernel's try_cmpxchg(); user/mpool_env.h adds a
 * seq_cst fence after a successful C11 swap elsewhere), and the core leans
 * on that: it puts no barrier of its own between a successful swap and a
 * load that must not pass it (common/pool.c, the remote queues).  Modelled
 * as userspace does it off x86: the C11 swap, then, on success, a seq_cst
 * fence.  MPOOL_RL_CAS_NOT_FULL (make relacy's self-test) leaves the fence
 * out, a world that breaks the contract.
 */
#ifdef MPOOL_RL_CAS_NOT_FULL
#define mpool_rl_cas_done(ok, info)	(ok)
#else
static inline bool mpool_rl_cas_done(bool ok, rl::debug_info_param info)
{
	if (ok)
		rl::atomic_thread_fence(rl::mo_seq_cst, info);
	return ok;
}
#endif
#define mpool_try_cmpxchg(p, oldp, new)					\
	(mpool_rl_poll($),						\
	 mpool_rl_cas_done((p)->compare_exchange_strong(*(oldp), (new),	\
				MPOOL_RL_CAS_OK, $, MPOOL_RL_CAS_FAIL, $), $))

/*
 * struct mpool_pool embeds batch heads for deferred frees (common/rcu.c,
 * which no litmus compiles): the type must be complete, nothing more.
 */
struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

#define EXPORT_SYMBOL_MPOOL(sym)	extern decltype(sym) sym

/* A statistics counter: relaxed read-modify-writes of the model. */
struct mpool_counter {
	rl::atomic<long> v;
};

static inline long mpool_counter_read(const struct mpool_counter *c)
{
	return c->v.load(rl::mo_relaxed, $);
}

static inline void mpool_counter_set(struct mpool_counter *c, long i)
{
	c->v.store(i, rl::mo_relaxed, $);
}

static inline long mpool_counter_add_return(struct mpool_counter *c, long i)
{
	return c->v.fetch_add(i, rl::mo_relaxed, $) + i;
}

static inline void mpool_counter_inc(struct mpool_counter *c)
{
	c->v.fetch_add(1, rl::mo_relaxed, $);
}

static inline void mpool_counter_max(struct mpool_counter *c, long i)
{
	long old = mpool_counter_read(c);

	while (old < i && !c->v.compare_exchange_weak(old, i, rl::mo_relaxed, $))
		;
}

/* No memory checker watches a model; the hooks do nothing. */
static inline bool mpool_env_checker(void)
{
	return false;
}

static inline void mpool_env_region_init(const void *id, bool on,
					 void *base, size_t size)
{
}

static inline void mpool_env_region_fini(const void *id, bool on,
					 void *base, size_t size)
{
}

static inline void mpool_env_block_alloc(const void *id, bool on, void *p,
					 size_t size, size_t span)
{
}

/* Only an allocator with MPOOL_F_CHECKER has its blocks poisoned. */
#define MPOOL_ENV_POISONS_ALWAYS	0

static inline void mpool_env_block_free(const void *id, bool on, void *p,
					size_t size)
{
}

static inline void mpool_env_open(bool on, void *p, size_t size)
{
}

static inline void mpool_env_close(bool on, void *p, size_t size)
{
}

#endif /* MPOOL_ENV_H */
