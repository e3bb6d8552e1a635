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
 * be C that is also C++; today that is stack.c (docs/testing.md, "Model
 * checking", says what another file needs to join).
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

/* A word more than one thread touches: a variable of the model. */
typedef rl::atomic<u32> mpool_atomic_u32;
typedef rl::atomic<u64> mpool_atomic_u64;

/* Relaxed access, the twin of READ_ONCE()/WRITE_ONCE(). */
#define MPOOL_READ(x)		((x).load(rl::mo_relaxed, $))
#define MPOOL_WRITE(x, v)	((x).store((v), rl::mo_relaxed, $))
#define mpool_load_acquire(p)	((p)->load(rl::mo_acquire, $))
#define mpool_store_release(p, v) ((p)->store((v), rl::mo_release, $))
/*
 * Sequentially consistent on success, acquire on failure, as try_cmpxchg().
 * The orders are named here so that make relacy's self-test can build a
 * world whose compare-and-swap is too weak (relaxed), and see it caught.
 */
#ifndef MPOOL_RL_CAS_OK
#define MPOOL_RL_CAS_OK		rl::mo_seq_cst
#define MPOOL_RL_CAS_FAIL	rl::mo_acquire
#endif
#define mpool_try_cmpxchg(p, oldp, new)					\
	((p)->compare_exchange_strong(*(oldp), (new), MPOOL_RL_CAS_OK, $,	\
				      MPOOL_RL_CAS_FAIL, $))

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
