// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * lib.c - libmempool: the spec's API over the common core, with per-thread
 * caches in TLS.
 *
 * What lives here and nowhere else: where a thread's cache for a pool is
 * found (a TLS vector indexed by the pool's registry slot, checked against
 * the pool's generation), what happens to it when the thread exits or the
 * pool is destroyed, and how a child repairs the allocators after fork().
 * What to do with a cache (hit, miss, full) is common/pool.c's business.
 *
 * The registry.  Every live slab and pool holds one slot of mpool_registry;
 * the slot indexes threads' TLS vectors, and the child of a fork walks the
 * registry to rebuild each allocator.  A slot is claimed by compare-and-swap
 * once the object is fully built, and cleared first thing in destroy.  The
 * generation, unique per create, tells a TLS entry of a destroyed pool from
 * one of a new pool in the same slot (or at the same address): a stale
 * entry's cache is never used as a cache of the new pool.
 *
 * A thread's cache (struct mpool_ucache) is in one of four states:
 *
 *   OWNED      a live thread uses it.  Only that thread touches its blocks.
 *   DETACHING  its thread is draining it into the pool (thread exit, or a
 *              stale TLS entry being dropped).  destroy waits for this.
 *   ORPHAN     empty and ownerless; the pool frees it at destroy, and a new
 *              thread may adopt it (so memory is bounded by the most
 *              threads that used the pool at once).
 *   POOL_DEAD  the pool was destroyed under a live thread; the thread frees
 *              the struct when it next looks at it or when it exits.
 *
 * The transitions out of OWNED are compare-and-swaps, so a thread leaving
 * and a pool dying agree on who frees the struct, and a thread only drains
 * into a pool that destroy is waiting on.  Caches are linked on a push-only
 * list per pool, freed only by destroy.
 *
 * Names.  Each call of mempool.h is defined here under its exported name,
 * mempool_<call>; the header's short names are inline wrappers, so a
 * program's call lands directly in the function below.  That is what
 * makes __builtin_return_address(0) here the application's call site:
 * the entry points that can reach a report (slab alloc, free and audit,
 * the pool's slow paths, flush and audit) put it in mpool_env_caller for
 * the duration of the call (MPOOL_CALLER_SET/CLEAR), for user/env.c to put
 * in the report.  The pool's fast paths never report and never touch it:
 * their slow paths are handed the address as an argument.
 */
#include <assert.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mpool.h"
#define MEMPOOL_NO_SHORT_NAMES	/* this file defines the mempool_ names */
#include "mempool.h"
#include "mpool_testing.h"

enum mpool_ucache_state {
	MPOOL_UC_OWNED,
	MPOOL_UC_DETACHING,
	MPOOL_UC_ORPHAN,
	MPOOL_UC_POOL_DEAD,
	MPOOL_UC_DYING,		/* destroy is poisoning it, then POOL_DEAD */
};

/* What the registry knows of each slab and pool. */
struct mpool_reg {
	u32 kind;
	u32 slot;
	u64 gen;
};

struct slab_allocator {
	struct mpool_reg reg;
	struct mpool_slab core;
	char name[MEMPOOL_NAME_MAX];	/* core.name points here once set */
};

struct arena_allocator {
	struct mpool_arena core;
	char name[MEMPOOL_NAME_MAX];	/* core.name points here once set */
};

struct mpool_ucache {
	struct mpool_ucache *next;	/* immutable once published */
	struct mempool *pool;
	u32 state;			/* enum mpool_ucache_state */
	struct mpool_cache c;		/* last: its objs[] follow */
};

/*
 * The most threads that may have a cache of one pool at once (owner ids);
 * a thread beyond them uses the pool with no cache of its own.
 */
#define MPOOL_USER_OWNERS	1024

struct mempool {
	struct mpool_reg reg;
	struct mpool_ucache *caches;	/* push-only list */
	u32 next_owner;			/* owner ids handed out so far */
	void *mem;			/* what mpool_env_zalloc() gave */
	struct mpool_pool core;
	char name[MEMPOOL_NAME_MAX];	/* core.slab.name points here once set */
};

/* One thread's view of one registry slot. */
struct mpool_tls_ent {
	u64 gen;
	struct mpool_ucache *cache;
};

static struct mpool_reg *mpool_registry[MEMPOOL_MAX_ALLOCATORS];
static u64 mpool_next_gen = 1;
static pthread_key_t mpool_tls_key;
static pthread_once_t mpool_once = PTHREAD_ONCE_INIT;

/*
 * The memo: the fast paths find this thread's cache of a pool in one of
 * MPOOL_MEMO entries, chosen by two bits of the pool's address, with one
 * compare of the pool pointer.  Pools are placed (mpool_pool_place()) so
 * that those bits follow their generation: pools made one after another
 * never share an entry, so a thread that cycles through up to MPOOL_MEMO
 * pools always hits.  An entry is only a shortcut: it is set by the slow
 * path once it has found the pool's current cache through @vec (checked
 * against the generation), and a pool_destroy() makes every cache of the
 * pool fail both fast paths (mpool_ucache_poison()), so an entry left
 * behind by a destroyed pool, even one whose address a new pool reuses,
 * only ever sends a call to the slow path.  Only pools on the fast path
 * (no MPOOL_F_SLOW) are memoised.
 */
#define MPOOL_MEMO		4
#define MPOOL_MEMO_SHIFT	6	/* MPOOL_ALIGN: the bits above a line */
/* An entry that no pool pointer (nor NULL) can match. */
#define MPOOL_MEMO_NONE		((struct mempool *)(uintptr_t)1)

/* One entry a cache line: an entry's offset is two bits of the pointer. */
struct mpool_memo {
	struct mempool *pool;
	struct mpool_ucache *uc;
} __aligned(1 << MPOOL_MEMO_SHIFT);

/* This thread's entries, indexed by registry slot, and the memo. */
struct mpool_tls {
	struct mpool_memo memo[MPOOL_MEMO];
	struct mpool_tls_ent *vec;
	u32 len;
};

/*
 * The static library's objects only ever end up in an executable, where
 * the thread pointer plus a link-time offset finds the memo (local-exec);
 * the shared library's need the offset from the GOT (initial-exec).
 */
#ifdef MPOOL_STATIC_LIB
#define MPOOL_TLS_MODEL	"local-exec"
#else
#define MPOOL_TLS_MODEL	"initial-exec"
#endif

static __thread struct mpool_tls mpool_tls
	__attribute__((tls_model(MPOOL_TLS_MODEL))) = {
	.memo = { [0 ... MPOOL_MEMO - 1] = { .pool = MPOOL_MEMO_NONE } },
};

/* The memo entry for pool pointer @p (any value, NULL included). */
static inline struct mpool_memo *mpool_memo_of(const struct mempool *p)
{
	/* Indexed, not offset: x86-64 then folds %fs into the address. */
	return &mpool_tls.memo[((uintptr_t)p >> MPOOL_MEMO_SHIFT) &
			       (MPOOL_MEMO - 1)];
}

static void mpool_thread_exit(void *unused);
static void mpool_atfork_child(void);

/*
 * Passes of mpool_thread_exit() over the thread's caches: the first gives
 * them back, a second those an error hook made meanwhile; a hook that
 * allocates from a new cache at every pass has the last one kept (it
 * stays OWNED: its blocks are lost to the pool, as a leak).
 */
#define MPOOL_EXIT_PASSES	4

/*
 * Whether threads may have caches: only when the key whose destructor
 * gives a cache back at thread exit could be had.  If the application took
 * every key (PTHREAD_KEYS_MAX), pools run with no per-thread caches at
 * all, straight on their shared backing: slower, but nothing can be
 * stranded in the cache of a thread that exits.
 */
static bool mpool_tls_ok;

static bool mpool_membarrier_ok;

static void mpool_setup(void)
{
	mpool_tls_ok = !pthread_key_create(&mpool_tls_key, mpool_thread_exit);
	pthread_atfork(NULL, NULL, mpool_atfork_child);
	/* Without it no thread steals: blocks wait for their owner. */
	mpool_membarrier_ok = !syscall(__NR_membarrier,
				       MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
				       0);
}

/*
 * Where the next slot search starts: after the last slot claimed, or at
 * the lowest slot freed since.  Low slots are reused first, which keeps
 * threads' TLS vectors (indexed by slot) short.
 */
static u32 mpool_registry_hint;

/* Claim a registry slot for @reg; its object is fully built. */
static int mpool_register(struct mpool_reg *reg, u32 kind)
{
	u32 start = MPOOL_READ(mpool_registry_hint), i, n;
	struct mpool_reg *none;

	reg->kind = kind;
	reg->gen = __atomic_fetch_add(&mpool_next_gen, 1, __ATOMIC_RELAXED);
	for (n = 0; n < MEMPOOL_MAX_ALLOCATORS; n++) {
		i = (start + n) % MEMPOOL_MAX_ALLOCATORS;
		none = NULL;
		if (MPOOL_READ(mpool_registry[i]))
			continue;
		reg->slot = i;
		/* Publishes the built object to the fork handler. */
		if (mpool_try_cmpxchg(&mpool_registry[i], &none, reg)) {
			MPOOL_WRITE(mpool_registry_hint, i + 1);
			return 0;
		}
	}
	return -EMFILE;
}

static void mpool_unregister(struct mpool_reg *reg)
{
	u32 hint = MPOOL_READ(mpool_registry_hint);

	mpool_store_release(&mpool_registry[reg->slot], NULL);
	while (reg->slot < hint &&
	       !mpool_try_cmpxchg(&mpool_registry_hint, &hint, reg->slot))
		;
}

static void *mpool_fail(int err)
{
	errno = err;
	return NULL;
}

/*
 * The application's call site, for the reports of the call in progress:
 * only in the exported function itself (not in a helper it calls), which
 * the application called directly.
 */
#define MPOOL_CALLER		__builtin_return_address(0)
#define MPOOL_CALLER_SET(ra)	(mpool_env_caller = (ra))
#define MPOOL_CALLER_CLEAR()	(mpool_env_caller = NULL)

/*
 * Copy @name into @buf (NULL drops it) and point @slot at the copy.  The
 * buffer is the allocator's own, so the name lives as long as it does.
 */
static void mpool_set_name(char *buf, const char **slot, const char *name)
{
	if (!name) {
		MPOOL_WRITE(*slot, NULL);
		return;
	}
	strncpy(buf, name, MEMPOOL_NAME_MAX - 1);
	buf[MEMPOOL_NAME_MAX - 1] = 0;
	MPOOL_WRITE(*slot, buf);
}

const char *mempool_version(void)
{
	return MEMPOOL_VERSION_STRING;
}

/* --- slab ------------------------------------------------------------- */

slab_allocator_t *mempool_slab_create_flags(size_t block_size, size_t count,
					    unsigned int flags)
{
	slab_allocator_t *s;
	int err;

	pthread_once(&mpool_once, mpool_setup);
	s = mpool_env_zalloc(sizeof(*s));
	if (!s)
		return mpool_fail(ENOMEM);
	err = mpool_slab_init(&s->core, block_size, count, flags);
	s->core.owner = s;
	if (!err) {
		err = mpool_register(&s->reg, MPOOL_KIND_SLAB);
		if (err)
			mpool_slab_fini(&s->core);
	}
	if (err) {
		mpool_env_free(s);
		return mpool_fail(-err);
	}
	return s;
}

slab_allocator_t *mempool_slab_create(size_t block_size, size_t count)
{
	return mempool_slab_create_flags(block_size, count, 0);
}

void *mempool_slab_alloc(slab_allocator_t *s)
{
	void *p;

	if (unlikely(!s))
		return mpool_fail(EINVAL);
	MPOOL_CALLER_SET(MPOOL_CALLER);
	p = mpool_slab_alloc(&s->core);
	MPOOL_CALLER_CLEAR();
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

int mempool_slab_free(slab_allocator_t *s, void *ptr)
{
	int ret;

	if (unlikely(!s))
		return -EINVAL;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	ret = mpool_slab_free(&s->core, ptr);
	MPOOL_CALLER_CLEAR();
	return ret;
}

int mempool_slab_alloc_bulk(slab_allocator_t *s, void **ptrs, size_t n)
{
	int ret;

	if (unlikely(!s || (!ptrs && n)))
		return -EINVAL;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	ret = mpool_slab_alloc_bulk(&s->core, ptrs, n);
	MPOOL_CALLER_CLEAR();
	return ret;
}

int mempool_slab_free_bulk(slab_allocator_t *s, void *const *ptrs, size_t n)
{
	int ret;

	if (unlikely(!s || (!ptrs && n)))
		return -EINVAL;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	ret = mpool_slab_free_bulk(&s->core, ptrs, n);
	MPOOL_CALLER_CLEAR();
	return ret;
}

void mempool_slab_destroy(slab_allocator_t *s)
{
	if (!s)
		return;
	mpool_unregister(&s->reg);
	mpool_slab_fini(&s->core);
	mpool_env_free(s);
}

int mempool_slab_stats(slab_allocator_t *s, struct mempool_stats *st)
{
	struct mpool_stats cs;

	if (!s || !st)
		return -EINVAL;
	mpool_slab_stats(&s->core, &cs);
	memcpy(st, &cs, sizeof(*st));
	return 0;
}

long mempool_slab_audit(slab_allocator_t *s)
{
	long n;

	if (!s)
		return -EINVAL;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	n = mpool_slab_audit(&s->core);
	MPOOL_CALLER_CLEAR();
	return n;
}

int mempool_slab_set_name(slab_allocator_t *s, const char *name)
{
	if (!s)
		return -EINVAL;
	mpool_set_name(s->name, &s->core.name, name);
	return 0;
}

/* --- arena ------------------------------------------------------------ */

arena_allocator_t *mempool_arena_create(size_t capacity)
{
	arena_allocator_t *a = mpool_env_zalloc(sizeof(*a));
	int err;

	if (!a)
		return mpool_fail(ENOMEM);
	err = mpool_arena_init(&a->core, capacity);
	if (err) {
		mpool_env_free(a);
		return mpool_fail(-err);
	}
	return a;
}

void *mempool_arena_alloc(arena_allocator_t *a, size_t size)
{
	void *p;

	if (unlikely(!a || !size))
		return mpool_fail(EINVAL);
	p = mpool_arena_alloc(&a->core, size);
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

void mempool_arena_reset(arena_allocator_t *a)
{
	if (a)
		mpool_arena_reset(&a->core);
}

void mempool_arena_destroy(arena_allocator_t *a)
{
	if (!a)
		return;
	mpool_arena_fini(&a->core);
	mpool_env_free(a);
}

int mempool_arena_stats(arena_allocator_t *a, struct mempool_stats *st)
{
	struct mpool_stats cs;

	if (!a || !st)
		return -EINVAL;
	mpool_arena_stats(&a->core, &cs);
	memcpy(st, &cs, sizeof(*st));
	return 0;
}

int mempool_arena_set_name(arena_allocator_t *a, const char *name)
{
	if (!a)
		return -EINVAL;
	mpool_set_name(a->name, &a->core.name, name);
	return 0;
}

/* --- per-thread caches ------------------------------------------------ */

/*
 * Let go of a cache this thread owned: drain it into its pool if the pool
 * is alive, else free it (the pool left it to us).
 */
static void mpool_ucache_release(struct mpool_ucache *uc)
{
	u32 old = MPOOL_UC_OWNED;

	if (mpool_try_cmpxchg(&uc->state, &old, MPOOL_UC_DETACHING)) {
		/* Our open batch of deferred frees goes to the shared slot. */
		if (mpool_load_acquire(&uc->pool->core.rcu))
			mpool_rcu_handover(&uc->pool->core, uc->c.owner);
		/* destroy waits while we are DETACHING: the pool lives. */
		mpool_cache_drain(&uc->pool->core, &uc->c);
		mpool_cache_orphan(&uc->c);
		/*
		 * A remote free that still saw us alive may have queued a
		 * block after the drain: take it too.  One that sees us gone
		 * collects after its push (mpool_remote_free()).
		 */
		mpool_cache_drain(&uc->pool->core, &uc->c);
		/* Pairs with the acquire in pool_destroy()/adoption. */
		mpool_store_release(&uc->state, MPOOL_UC_ORPHAN);
	} else {
		/* destroy may still be poisoning it: wait for POOL_DEAD. */
		while (old == MPOOL_UC_DYING) {
			mpool_cpu_relax();
			old = mpool_load_acquire(&uc->state);
		}
		mpool_env_free(uc);
	}
}

/*
 * Adopt an orphan cache of @p (with its owner id: the blocks it handed out
 * are now this thread's to free locally), or make a new one with the next
 * owner id.  NULL when memory is short or MPOOL_USER_OWNERS threads hold
 * caches of @p: the caller then uses the pool with no cache.
 */
static struct mpool_ucache *mpool_ucache_get(mempool_t *p)
{
	struct mpool_ucache *uc, *head;
	u32 old, id;

	for (uc = mpool_load_acquire(&p->caches); uc; uc = uc->next) {
		old = MPOOL_UC_ORPHAN;
		if (mpool_try_cmpxchg(&uc->state, &old, MPOOL_UC_OWNED)) {
			mpool_cache_adopt(&uc->c);
			return uc;
		}
	}
	id = MPOOL_READ(p->next_owner);
	do {
		if (id >= p->core.nowners)
			return NULL;
	} while (!mpool_try_cmpxchg(&p->next_owner, &id, id + 1));
	uc = mpool_env_zalloc(offsetof(struct mpool_ucache, c) +
			      mpool_cache_bytes(&p->core));
	if (!uc)
		return NULL;	/* the id is lost: one fewer thread cached */
	uc->pool = p;
	uc->state = MPOOL_UC_OWNED;
	mpool_cache_init(&p->core, &uc->c, id);
	head = MPOOL_READ(p->caches);
	do {
		uc->next = head;
	} while (!mpool_try_cmpxchg(&p->caches, &head, uc));
	return uc;
}

/* Forget the memo entries of cache @uc, which is about to go. */
static void mpool_memo_forget(const struct mpool_ucache *uc)
{
	u32 i;

	for (i = 0; i < MPOOL_MEMO; i++)
		if (mpool_tls.memo[i].uc == uc)
			mpool_tls.memo[i].pool = MPOOL_MEMO_NONE;
}

/* Make this thread's TLS vector hold at least @len entries. */
static int mpool_tls_grow(u32 len)
{
	struct mpool_tls_ent *v;
	u32 n = mpool_tls.len ? mpool_tls.len : 8;

	while (n < len)
		n *= 2;
	v = realloc(mpool_tls.vec, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(v + mpool_tls.len, 0, (n - mpool_tls.len) * sizeof(*v));
	if (!mpool_tls.vec)
		pthread_setspecific(mpool_tls_key, v);
	mpool_tls.vec = v;
	mpool_tls.len = n;
	return 0;
}

/*
 * This thread's current cache of @p, never a new one: NULL when it has
 * none (no entry for the slot, or the entry of an older pool there).
 */
static struct mpool_ucache *mpool_tls_find(const mempool_t *p)
{
	return p->reg.slot < mpool_tls.len &&
	       mpool_tls.vec[p->reg.slot].gen == p->reg.gen ?
	       mpool_tls.vec[p->reg.slot].cache : NULL;
}

/*
 * Give back the cache of this thread's entry @slot, which holds one: out
 * of the entry and the memo first, so that an error hook run by its drain
 * (and calling a pool) never finds it half given back.
 */
static void mpool_tls_drop(u32 slot)
{
	struct mpool_ucache *uc = mpool_tls.vec[slot].cache;

	mpool_tls.vec[slot].cache = NULL;
	mpool_memo_forget(uc);
	mpool_ucache_release(uc);
}

/*
 * The slow path of the cache lookup: no entry for this slot yet, or a stale
 * one.  Return NULL when the pool has no caches or memory is short; the
 * caller then goes to the shared backing directly.
 */
static struct mpool_ucache *mpool_tls_cache_slow(mempool_t *p)
{
	struct mpool_tls_ent *e;
	struct mpool_ucache *uc;

	if (!p->core.mag_size || !mpool_tls_ok)
		return NULL;
	if (p->reg.slot >= mpool_tls.len && mpool_tls_grow(p->reg.slot + 1))
		return NULL;
	if (mpool_tls.vec[p->reg.slot].cache)
		mpool_tls_drop(p->reg.slot);
	uc = mpool_ucache_get(p);
	if (!uc)
		return NULL;
	e = &mpool_tls.vec[p->reg.slot];	/* a hook may have grown vec */
	e->gen = p->reg.gen;
	e->cache = uc;
	return uc;
}

/*
 * This thread's cache for @p, made on first use; NULL if none.  Found
 * through @vec and checked against the generation, never through the memo
 * alone; the memo entry of @p is set for the fast paths.
 */
static struct mpool_ucache *mpool_tls_cache(mempool_t *p)
{
	struct mpool_tls_ent *e;
	struct mpool_ucache *uc;
	struct mpool_memo *m;

	e = p->reg.slot < mpool_tls.len ? &mpool_tls.vec[p->reg.slot] : NULL;
	if (e && e->gen == p->reg.gen)
		uc = e->cache;
	else
		uc = mpool_tls_cache_slow(p);
	if (uc && !(p->core.slab.flags & MPOOL_F_SLOW)) {
		m = mpool_memo_of(p);
		m->pool = p;
		m->uc = uc;
	}
	return uc;
}

/* Forget every memo entry (thread exit, or a cache about to go). */
static void mpool_memo_clear(void)
{
	u32 i;

	for (i = 0; i < MPOOL_MEMO; i++)
		mpool_tls.memo[i].pool = MPOOL_MEMO_NONE;
}

/*
 * pthread key destructor: give every cache of this thread back.  A drain
 * may report (a cached block whose word was overwritten), and the error
 * hook may call a pool again from here: each cache leaves its entry and
 * the memo before it goes, so that such a call never finds a cache of
 * ours half given back.  A call on that pool then has no cache (the entry
 * is empty, its generation current): it uses the pool's backing.  A call
 * on a pool whose cache has not gone yet uses it (it goes later in the
 * pass, memoised or not); one on a pool the thread never used makes a
 * cache, which the next pass gives back.
 */
static void mpool_thread_exit(void *unused)
{
	u32 i, pass;
	bool more = true;

	(void)unused;
	for (pass = 0; more && pass < MPOOL_EXIT_PASSES; pass++) {
		more = false;
		mpool_memo_clear();
		/* vec may grow under a hook: indexed afresh each time. */
		for (i = 0; i < mpool_tls.len; i++) {
			if (mpool_tls.vec[i].cache) {
				mpool_tls_drop(i);
				more = true;
			}
		}
	}
	mpool_memo_clear();
	free(mpool_tls.vec);
	mpool_tls.vec = NULL;
	mpool_tls.len = 0;
}

/*
 * In the child of fork() only the forking thread lives on.  Every other
 * thread's cache becomes an empty orphan, this thread's cache is emptied,
 * and each allocator's backing is rebuilt from its state words, so blocks
 * that sat in caches, on remote queues, or were in flight in another thread
 * are free again.
 */
static void mpool_atfork_child(void)
{
	struct mpool_ucache *uc, *mine;
	struct mpool_reg *reg;
	mempool_t *p;
	u32 i;

	for (i = 0; i < MEMPOOL_MAX_ALLOCATORS; i++) {
		reg = MPOOL_READ(mpool_registry[i]);
		if (!reg)
			continue;
		if (reg->kind == MPOOL_KIND_SLAB) {
			mpool_slab_rebuild(&((slab_allocator_t *)reg)->core);
			continue;
		}
		p = (mempool_t *)reg;
		mine = i < mpool_tls.len && mpool_tls.vec[i].gen == reg->gen ?
		       mpool_tls.vec[i].cache : NULL;
		for (uc = p->caches; uc; uc = uc->next) {
			MPOOL_WRITE(uc->c.count, 0);
			MPOOL_WRITE(uc->c.busy, 0);
			if (uc != mine) {
				MPOOL_WRITE(uc->state, MPOOL_UC_ORPHAN);
				mpool_cache_orphan(&uc->c);
			}
		}
		mpool_pool_rebuild(&p->core);
		mpool_rcu_rebuild(&p->core);
	}
}

/* --- stealing: collecting the remote queue of another thread's cache --- */

/*
 * The waits of a thief.  A context waited for may have been preempted (a
 * loaded machine, a descheduled vCPU): a waiter pauses a little, then
 * yields, so that the other gets a CPU.  Every wait of one allocation that
 * ran dry (mpool_steal_all(): for freers and owners inside their brackets,
 * for another thief at work on a victim) draws on one budget of
 * MPOOL_WAIT_NS of yielding, then gives up: a context may be stopped for
 * good, and an allocation must fail in bounded time.  A clock that cannot
 * be read spends the budget at once.
 */
#define MPOOL_WAIT_SPINS	1000
#define MPOOL_WAIT_NS		(20 * 1000 * 1000ull)

struct mpool_wait {
	u64 end;	/* 0 until the first yield */
	bool spent;
};

/*
 * Turn @spins of a wait: pause, or (past MPOOL_WAIT_SPINS) yield while
 * @wt lasts.  Return false, having done nothing, once it is spent.
 */
static bool mpool_wait_turn(struct mpool_wait *wt, u32 spins)
{
	struct timespec ts;
	u64 now;

	if (spins < MPOOL_WAIT_SPINS) {
		mpool_cpu_relax();
		return true;
	}
	if (wt->spent || clock_gettime(CLOCK_MONOTONIC, &ts)) {
		wt->spent = true;
		return false;
	}
	now = (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
	if (!wt->end) {
		wt->end = now + MPOOL_WAIT_NS;
	} else if (now >= wt->end) {
		wt->spent = true;
		return false;
	}
	sched_yield();
	return true;
}

/* Wait until @c's owner is outside its bracket; false if it stays in. */
static bool mpool_wait_busy(struct mpool_cache *c, struct mpool_wait *wt)
{
	u32 spins;

	/* Pairs with the owner's release store of busy = 0. */
	for (spins = 0; mpool_load_acquire(&c->busy); spins++)
		if (!mpool_wait_turn(wt, spins))
			return false;
	return true;
}

/*
 * Wait while another thief works on @c and @c has blocks queued that it
 * did not take (its take came before them), while @wt lasts.
 */
static void mpool_wait_thief(struct mpool_cache *c, struct mpool_wait *wt)
{
	u32 spins;

	for (spins = 0; mpool_cache_has_remote(c) &&
	     mpool_load_acquire(&c->thief); spins++)
		if (!mpool_wait_turn(wt, spins))
			return;
}

/*
 * Collect @victim's remote queue into @mine, on behalf of @victim's owner,
 * who may be alive and idle (asleep, or busy elsewhere), or gone.  The
 * handshake is at the top of common/pool.c: take the whole queue, run
 * membarrier(), then wait for the owner to be outside any fast-path free.
 * If it stays inside one (it was stopped there), give the list back: its
 * blocks come back when the owner resumes.
 *
 * Return: whether any block was collected.
 */
static bool mpool_steal(mempool_t *p, struct mpool_ucache *victim,
			struct mpool_cache *mine, struct mpool_wait *wt)
{
	struct mpool_cache *c = &victim->c;
	struct mpool_remote_list rl;
	bool got = false;

	/* An orphan has no owner to handshake with. */
	if (mpool_cache_collect_orphan(&p->core, c, mine))
		return true;
	if (!mpool_membarrier_ok)
		return false;
	/*
	 * One thief per victim.  If another one is at work, what was queued
	 * after its take would be out of our reach: wait for it while our
	 * budget lasts (it waits on no thief), then try once more.
	 */
	if (!mpool_cache_steal_begin(c, &rl)) {
		mpool_wait_thief(c, wt);
		if (!mpool_cache_steal_begin(c, &rl))
			return false;
	}
	mpool_cache_steal_mark(&p->core, c, &rl);
	if (!syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) &&
	    mpool_wait_busy(c, wt)) {
		got = mpool_cache_steal_take(&p->core, c, mine, &rl);
		goto out;
	}
	/*
	 * The owner stays inside a free: give everything back.  Marked blocks
	 * keep their STEALING word: the owner's collection takes them (it
	 * accepts its own marks), and its late store, if any, beats them.
	 */
	mpool_cache_give_remote(&p->core, c, &rl);
out:
	mpool_cache_steal_end(c);
	return got;
}

/*
 * Send the open outbox of every other cache of @p (remote frees a thread
 * gathered and has not sent: it may be idle) to the blocks' owners.  The
 * handshake is mpool_outbox_steal_begin()'s: raise a request on each, one
 * membarrier() for all, then take each outbox whose freer is outside its
 * bracket, polling those inside while @wt lasts; one that stays inside
 * keeps its outbox.
 */
static void mpool_steal_outboxes(mempool_t *p, struct mpool_ucache *mine,
				 struct mpool_wait *wt)
{
	u32 ours = mine->c.owner + 1, spins;
	struct mpool_ucache *uc;
	bool any = false, ok, waiting;

	for (uc = mpool_load_acquire(&p->caches); uc; uc = uc->next)
		if (uc != mine && mpool_outbox_steal_begin(&uc->c,
							   mine->c.owner))
			any = true;
	if (!any)
		return;
	ok = !syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0);
	for (spins = 0; ; spins++) {
		waiting = false;
		for (uc = mpool_load_acquire(&p->caches); uc; uc = uc->next) {
			if (uc == mine || MPOOL_READ(uc->c.ob_req) != ours)
				continue;
			/* Pairs with the owner's release store of busy = 0. */
			if (ok && mpool_load_acquire(&uc->c.busy)) {
				waiting = true;
				continue;
			}
			mpool_outbox_steal_end(&p->core, &uc->c, &mine->c, ok);
		}
		if (!waiting)
			return;
		/* Spent: one more pass, and the freers still inside keep theirs. */
		if (!mpool_wait_turn(wt, spins))
			ok = false;
	}
}

/*
 * Collect every other cache's remote queues of @p into @mine, after
 * sending every cache's outbox to the queues.
 */
static bool mpool_steal_all(mempool_t *p, struct mpool_ucache *mine)
{
	struct mpool_wait wt = { 0, false };
	struct mpool_ucache *uc;
	bool got = false;

	mpool_outbox_flush(&p->core, &mine->c, &mine->c);
	if (mpool_membarrier_ok)
		mpool_steal_outboxes(p, mine, &wt);
	/* What came to our own queues: no handshake needed. */
	got = mpool_cache_collect(&p->core, &mine->c, &mine->c);
	for (uc = mpool_load_acquire(&p->caches); uc; uc = uc->next)
		if (uc != mine)
			got |= mpool_steal(p, uc, &mine->c, &wt);
	/*
	 * A batch sent on the way to an owner that has exited is collected
	 * into @mine at once (mpool_outbox_send()): that counts too.
	 */
	return got || MPOOL_READ(mine->c.count) != 0;
}

/* --- pool ------------------------------------------------------------- */

/*
 * Place a pool in the memory @mem (MPOOL_MEMO lines larger than the pool)
 * so that its memo entry follows its generation: consecutive pools get
 * distinct entries.
 */
static mempool_t *mpool_pool_place(void *mem, u64 gen)
{
	uintptr_t a = (uintptr_t)mem, want = gen & (MPOOL_MEMO - 1);

	while (((a >> MPOOL_MEMO_SHIFT) & (MPOOL_MEMO - 1)) != want)
		a += MPOOL_ALIGN;
	return (mempool_t *)a;
}

mempool_t *mempool_pool_create_flags(size_t block_size, size_t cache_size,
				     size_t capacity, unsigned int flags)
{
	mempool_t *p;
	void *mem;
	int err;

	pthread_once(&mpool_once, mpool_setup);
	mem = mpool_env_zalloc(sizeof(*p) + MPOOL_MEMO * MPOOL_ALIGN);
	if (!mem)
		return mpool_fail(ENOMEM);
	p = mpool_pool_place(mem, MPOOL_READ(mpool_next_gen));
	p->mem = mem;
	err = mpool_pool_init(&p->core, block_size, cache_size, capacity,
			      flags, MPOOL_USER_OWNERS);
	p->core.slab.owner = p;
	/* Without membarrier() nobody could send an idle thread's outbox. */
	if (!mpool_membarrier_ok)
		p->core.outbox_batch = 0;
	if (!err) {
		err = mpool_register(&p->reg, MPOOL_KIND_POOL);
		if (err)
			mpool_pool_fini(&p->core);
	}
	if (err) {
		mpool_env_free(mem);
		return mpool_fail(-err);
	}
	return p;
}

mempool_t *mempool_pool_create(size_t block_size, size_t cache_size,
			       size_t capacity)
{
	return mempool_pool_create_flags(block_size, cache_size, capacity, 0);
}

/*
 * Everything pool_alloc()'s fast path leaves: first use, refill, misuse.
 * @caller: the application's call site, for reports.
 */
static __attribute__((noinline)) void *pool_alloc_slow(mempool_t *p,
						       const void *caller)
{
	struct mpool_ucache *uc;
	void *ptr;

	if (unlikely(!p))
		return mpool_fail(EINVAL);
	MPOOL_CALLER_SET(caller);
	uc = mpool_tls_cache(p);
	if (likely(uc)) {
		ptr = mpool_cache_alloc(&p->core, &uc->c);
		/* Out: take back what other threads freed for idle owners. */
		if (unlikely(!ptr) && mpool_steal_all(p, uc)) {
			/* The retry counts its own failure, if it fails. */
			mpool_counter_add_return(&p->core.slab.failed, -1);
			ptr = mpool_cache_alloc(&p->core, &uc->c);
		}
	} else {
		ptr = mpool_slab_alloc(&p->core.slab);
	}
	MPOOL_CALLER_CLEAR();
	if (unlikely(!ptr))
		errno = ENOMEM;
	return ptr;
}

/*
 * The fast paths below are leaves: a memo hit and a cache hit, checks
 * included.  Anything else (no cache yet, empty or full cache, debug mode,
 * a bad pointer, a block another thread handed out, NULL) goes to the slow
 * path, which starts over and does the whole job.
 */
void *mempool_pool_alloc(mempool_t *p)
{
	struct mpool_memo *m = mpool_memo_of(p);
	void *ptr;

	if (likely(m->pool == p) &&
	    mpool_cache_alloc_fast(&p->core, &m->uc->c, &ptr))
		return ptr;
	return pool_alloc_slow(p, MPOOL_CALLER);
}

static __attribute__((noinline)) int pool_free_slow(mempool_t *p, void *ptr,
						    const void *caller)
{
	struct mpool_memo *m = mpool_memo_of(p);
	struct mpool_ucache *uc;
	int ret;

	if (unlikely(!p))
		return -EINVAL;
	MPOOL_CALLER_SET(caller);
	/*
	 * A memo hit whose fast path said no (a block another thread handed
	 * out, a full cache, a bad pointer): the entry is as good here as
	 * there, which frees into the same cache, so the lookup is not made
	 * again; except for a cache of a destroyed pool, whose entry may
	 * outlive it (mpool_ucache_poison()).
	 */
	if (m->pool == p && MPOOL_READ(m->uc->c.alloc_tag) != MPOOL_BLK_NO_TAG)
		uc = m->uc;
	else
		uc = mpool_tls_cache(p);
	if (likely(uc))
		ret = mpool_cache_free(&p->core, &uc->c, ptr);
	else
		ret = mpool_pool_free_nocache(&p->core, ptr);
	MPOOL_CALLER_CLEAR();
	/*
	 * Not a tail call: the stack a checker records for the free (memcheck's
	 * "free'd at") then names pool_free_slow(), the library's entry.
	 */
	cmm_barrier();
	return ret;
}

int mempool_pool_free(mempool_t *p, void *ptr)
{
	struct mpool_memo *m = mpool_memo_of(p);

	if (likely(m->pool == p) &&
	    mpool_cache_free_fast(&p->core, &m->uc->c, ptr))
		return 0;
	return pool_free_slow(p, ptr, MPOOL_CALLER);
}

int mempool_pool_alloc_bulk(mempool_t *p, void **ptrs, size_t n)
{
	struct mpool_ucache *uc;
	size_t i;
	int err;

	if (!p || (!ptrs && n))
		return -EINVAL;
	if (!n)
		return 0;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	uc = mpool_tls_cache(p);
	if (!uc) {
		for (i = 0; i < n; i++) {
			ptrs[i] = mpool_slab_alloc(&p->core.slab);
			if (!ptrs[i])
				break;
		}
		err = 0;
		if (i < n) {
			while (i--)
				mpool_pool_free_nocache(&p->core, ptrs[i]);
			err = -ENOMEM;
		}
	} else {
		err = mpool_cache_alloc_bulk(&p->core, &uc->c, ptrs, n);
		if (err && mpool_steal_all(p, uc)) {
			/* The retry counts its own failure, if it fails. */
			mpool_counter_add_return(&p->core.slab.failed, -1);
			err = mpool_cache_alloc_bulk(&p->core, &uc->c, ptrs, n);
		}
	}
	MPOOL_CALLER_CLEAR();
	return err;
}

int mempool_pool_free_bulk(mempool_t *p, void *const *ptrs, size_t n)
{
	struct mpool_ucache *uc;
	int first = 0, err;
	size_t i;

	if (!p || (!ptrs && n))
		return -EINVAL;
	if (!n)
		return 0;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	uc = mpool_tls_cache(p);
	if (uc) {
		first = mpool_cache_free_bulk(&p->core, &uc->c, ptrs, n);
	} else {
		for (i = 0; i < n; i++) {
			err = mpool_pool_free_nocache(&p->core, ptrs[i]);
			if (err && !first)
				first = err;
		}
	}
	MPOOL_CALLER_CLEAR();
	return first;
}

long mempool_pool_cache_flush(mempool_t *p)
{
	struct mpool_ucache *uc;
	long n;

	if (!p)
		return -EINVAL;
	uc = mpool_tls_find(p);
	if (!uc)
		return 0;
	n = uc->c.count;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	mpool_cache_drain(&p->core, &uc->c);
	MPOOL_CALLER_CLEAR();
	return n;
}

/*
 * Make a cache of a destroyed pool fail both fast paths of its owner (no
 * block to hand out, and an alloc tag no block's state ever equals): a
 * memo entry may still point at it,
 * and a new pool may come to live at the old pool's address.  Nobody uses
 * the destroyed pool (destroy must not race with any call on it), so these
 * words are not in use.
 */
static void mpool_ucache_poison(struct mpool_ucache *uc)
{
	MPOOL_WRITE(uc->c.count, 0);
	MPOOL_WRITE(uc->c.alloc_tag, MPOOL_BLK_NO_TAG);
}

static bool mpool_rcu_may_wait(mempool_t *p, bool *was);
static void mpool_rcu_waited(mempool_t *p, bool was);

void mempool_pool_destroy(mempool_t *p)
{
	struct mpool_ucache *uc, *next;
	bool was;
	u32 old;

	if (!p)
		return;
	/*
	 * Deferred frees first: their callbacks write the pool.  A thread
	 * that cannot wait for them gets a report, and the pool is left
	 * alone (a leak, never a use after free).
	 */
	MPOOL_CALLER_SET(MPOOL_CALLER);
	if (!mpool_rcu_may_wait(p, &was)) {
		MPOOL_CALLER_CLEAR();
		return;
	}
	mpool_rcu_barrier(&p->core);
	mpool_rcu_waited(p, was);
	MPOOL_CALLER_CLEAR();
	mpool_unregister(&p->reg);
	for (uc = mpool_load_acquire(&p->caches); uc; uc = next) {
		next = uc->next;
		old = MPOOL_UC_OWNED;
		/* A live thread owns it: it frees the struct itself. */
		if (mpool_try_cmpxchg(&uc->state, &old, MPOOL_UC_DYING)) {
			mpool_ucache_poison(uc);
			/* Pairs with the acquire in mpool_ucache_release(). */
			mpool_store_release(&uc->state, MPOOL_UC_POOL_DEAD);
			continue;
		}
		/* An exiting thread is draining it into us: wait. */
		while (old == MPOOL_UC_DETACHING) {
			mpool_cpu_relax();
			old = mpool_load_acquire(&uc->state);
		}
		mpool_env_free(uc);
	}
	mpool_rcu_fini(&p->core);
	mpool_pool_fini(&p->core);
	mpool_env_free(p->mem);
}

/* See mpool_testing.h. */
void *mpool_testing_state_word(struct mempool *p, const void *block)
{
	u32 idx;

	if (!p || mpool_slab_index_checked(&p->core.slab, block, &idx))
		return NULL;
	return &p->core.slab.state[idx];
}

/* See mpool_testing.h. */
void *mpool_testing_outbox_slot(struct mempool *p)
{
	struct mpool_ucache *uc;
	u32 m;

	uc = p ? mpool_tls_find(p) : NULL;
	m = uc ? MPOOL_READ(uc->c.ob_mag) : MPOOL_NIL;
	if (m == MPOOL_NIL)
		return NULL;
	return p->core.rounds + (size_t)m * p->core.mag_size +
	       MPOOL_READ(uc->c.ob_n);
}

long mempool_pool_audit(mempool_t *p)
{
	long n;

	if (!p)
		return -EINVAL;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	n = mpool_slab_audit(&p->core.slab);
	MPOOL_CALLER_CLEAR();
	return n;
}

int mempool_pool_set_name(mempool_t *p, const char *name)
{
	if (!p)
		return -EINVAL;
	mpool_set_name(p->name, &p->core.slab.name, name);
	return 0;
}

int mempool_pool_stats(mempool_t *p, struct mempool_stats *st)
{
	struct mpool_ucache *uc;
	struct mpool_stats cs;
	size_t cached = 0, pending;

	if (!p || !st)
		return -EINVAL;
	for (uc = mpool_load_acquire(&p->caches); uc; uc = uc->next)
		cached += mpool_cache_held(&uc->c);
	mpool_pool_fill_stats(&p->core, &cs, cached);
	/* Blocks waiting for a grace period are not in use. */
	pending = mpool_rcu_pending(&p->core);
	cs.in_use = cs.in_use > pending ? cs.in_use - pending : 0;
	memcpy(st, &cs, sizeof(*st));
	return 0;
}

/* --- deferred frees (common/rcu.c) ------------------------------------ */

int mempool_pool_set_rcu(mempool_t *p, const struct rcu_flavor_struct *flavor)
{
	if (!p || !flavor)
		return -EINVAL;
	return mpool_rcu_bind(&p->core, flavor);
}

int mempool_pool_free_rcu(mempool_t *p, void *ptr)
{
	struct mpool_ucache *uc;
	int ret;

	if (unlikely(!p))
		return -EINVAL;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	/*
	 * The thread's cache if it has one, never a new one (that would
	 * allocate): a thread without one uses the shared slot.
	 */
	uc = mpool_tls_find(p);
	ret = mpool_rcu_free(&p->core, uc ? uc->c.owner : MPOOL_NIL, ptr);
	MPOOL_CALLER_CLEAR();
	return ret;
}

/*
 * Whether the calling thread may wait for grace periods of @p's flavour.
 * liburcu's rcu_barrier() returns at once, with a warning, when called in
 * a read-side critical section, which for QSBR means while the thread is
 * online: such a thread goes offline for the wait (*@was set; the caller
 * puts it back online), as liburcu's own synchronize_rcu() does.  A thread
 * still inside one (a critical section of another flavour) would wait for
 * itself: reported, and false.
 */
static bool mpool_rcu_may_wait(mempool_t *p, bool *was)
{
	struct mpool_rcu *r = mpool_load_acquire(&p->core.rcu);
	const struct rcu_flavor_struct *fl;

	*was = false;
	if (!r)
		return true;
	fl = r->flavor;
	if (!fl->read_ongoing())
		return true;
	fl->thread_offline();
	*was = true;
	if (!fl->read_ongoing())
		return true;
	fl->thread_online();
	*was = false;
	__mpool_report(&p->core.slab, NULL, -EINVAL,
		       "deferred-free barrier inside an RCU read-side critical section (not waited for)");
	return false;
}

/* Undo what mpool_rcu_may_wait() did. */
static void mpool_rcu_waited(mempool_t *p, bool was)
{
	const struct rcu_flavor_struct *fl;

	if (was) {
		fl = p->core.rcu->flavor;
		fl->thread_online();
	}
}

void mempool_pool_rcu_barrier(mempool_t *p)
{
	bool was;

	if (!p)
		return;
	MPOOL_CALLER_SET(MPOOL_CALLER);
	if (mpool_rcu_may_wait(p, &was)) {
		mpool_rcu_barrier(&p->core);
		mpool_rcu_waited(p, was);
	}
	MPOOL_CALLER_CLEAR();
}

long mempool_pool_rcu_pending(mempool_t *p)
{
	if (!p)
		return -EINVAL;
	return (long)mpool_rcu_pending(&p->core);
}

#ifdef MPOOL_ENV_ASAN
/*
 * ASan calls this when it finds a bad access; if the address is inside a
 * slab or pool, say which block it is and what state it is in, so that
 * ASan's report names the allocator as well as the access.
 */
void *__asan_get_report_address(void);

__attribute__((weak, visibility("default"))) void __asan_on_error(void)
{
	const u8 *addr = __asan_get_report_address();
	struct mpool_slab *s;
	struct mpool_reg *reg;
	size_t off;
	u32 i, idx, st;

	for (i = 0; i < MEMPOOL_MAX_ALLOCATORS; i++) {
		reg = MPOOL_READ(mpool_registry[i]);
		if (!reg)
			continue;
		s = reg->kind == MPOOL_KIND_SLAB ?
		    &((slab_allocator_t *)reg)->core :
		    &((mempool_t *)reg)->core.slab;
		off = (size_t)(addr - s->base);
		if (off >= s->span)
			continue;
		idx = (u32)(off / s->stride);
		off -= (size_t)idx * s->stride;
		st = mpool_blk_state(MPOOL_READ(s->state[idx]));
		fprintf(stderr,
			"mempool: %p is byte %zu of block %u of %s %p (block size %zu, stride %zu): %s\n",
			(const void *)addr, off, idx,
			mpool_kind_name(reg->kind),
			(void *)reg, s->block_size, s->stride,
			mpool_blk_is_alloc(st) ?
			"past the end of an allocated block (overflow)" :
			st == MPOOL_BLK_BAD ? "a quarantined block" :
			"a free block (use after free)");
		return;
	}
}
#endif

/*
 * The public structs mirror the core's field by field, so that statistics
 * are copied whole: a field added, dropped, resized or moved on one side
 * only fails the build here.
 */
#define MPOOL_MIRRORS(a, b, f)						\
	static_assert(offsetof(struct a, f) == offsetof(struct b, f) &&	\
		      sizeof(((struct a *)0)->f) ==			\
		      sizeof(((struct b *)0)->f),			\
		      #b "." #f " mirrors " #a "." #f)
MPOOL_MIRRORS(mpool_stats, mempool_stats, block_size);
MPOOL_MIRRORS(mpool_stats, mempool_stats, stride);
MPOOL_MIRRORS(mpool_stats, mempool_stats, capacity);
MPOOL_MIRRORS(mpool_stats, mempool_stats, in_use);
MPOOL_MIRRORS(mpool_stats, mempool_stats, free);
MPOOL_MIRRORS(mpool_stats, mempool_stats, cached);
MPOOL_MIRRORS(mpool_stats, mempool_stats, high_water);
MPOOL_MIRRORS(mpool_stats, mempool_stats, failed);
MPOOL_MIRRORS(mpool_stats, mempool_stats, invalid);
MPOOL_MIRRORS(mpool_stats, mempool_stats, double_free);
MPOOL_MIRRORS(mpool_stats, mempool_stats, corrupt);
MPOOL_MIRRORS(mpool_stats, mempool_stats, quarantined);
static_assert(sizeof(struct mpool_stats) == sizeof(struct mempool_stats),
	      "mempool_stats has no field mpool_stats lacks");
static_assert(MEMPOOL_DEBUG == MPOOL_F_DEBUG,
	      "the public debug flag is the core's");
