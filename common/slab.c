// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * slab.c - fixed-size blocks over a lock-free stack of block indices.
 *
 * Purpose: the slab allocator of the spec, and the shared backing of a pool.
 * Best use: a fixed population of equal objects shared by many threads, with
 * a moderate allocation rate (each operation is one compare-and-swap on a
 * shared word; a pool puts per-thread caches in front of it).
 * Limits: @count is fixed at create (at most MPOOL_MAX_COUNT); the segment
 * is mapped whole at create time, so memory is committed as it is touched.
 *
 * A block's life: STACKED (on the free stack) -> ALLOC (slab_alloc popped it
 * and marked it) -> STACKED (slab_free won the compare-and-swap ALLOC ->
 * STACKED and pushed it).  The compare-and-swap on free is what makes a
 * double free, even two racing ones, unable to put an index on the stack
 * twice.
 */
#include "mpool.h"

static const char *const mpool_kind_names[] = {
	[MPOOL_KIND_SLAB] = "slab",
	[MPOOL_KIND_ARENA] = "arena",
	[MPOOL_KIND_POOL] = "pool",
};

static const char *const mpool_misuse_names[] = {
	[MPOOL_MISUSE_INVALID] = "pointer is not a block of this allocator",
	[MPOOL_MISUSE_DOUBLE] = "double free",
	[MPOOL_MISUSE_CORRUPT] = "block metadata corrupt",
};

/* --- the lock-free stack ----------------------------------------------
 *
 * head = {tag:32 (high), index:32 (low)}.  Every successful swap adds one to
 * the tag.  Memory orders: a push's successful compare-and-swap is a
 * release (it is fully ordered), publishing the pusher's writes of next[]
 * and of the blocks' state words; a pop reads head with acquire (the
 * initial load, and the refreshed value on a failed swap), pairing with that
 * release before it reads next[].  next[] itself is accessed with relaxed
 * atomics because a pop may read it while a new owner rewrites it; such a
 * pop's swap then fails on the tag.
 */

static inline u64 mpool_head(u64 old, u32 idx)
{
	return (((old >> 32) + 1) << 32) | idx;
}

/*
 * After a lost compare-and-swap, wait a little before trying again, twice
 * as long each time (up to 64 pauses): under contention the winner gets to
 * finish and the head's cache line stops bouncing between the losers.
 */
static inline void mpool_backoff(u32 *wait)
{
	u32 i;

	for (i = 0; i < *wait; i++)
		mpool_cpu_relax();
	if (*wait < 64)
		*wait <<= 1;
}

/**
 * mpool_stack_init() - make an empty stack.
 * @st: the stack.
 * @next: its link array, one u32 per index that may ever be pushed.
 */
void mpool_stack_init(struct mpool_stack *st, u32 *next)
{
	st->next = next;
	st->head = MPOOL_NIL;
}

/**
 * mpool_stack_pop() - take the top index.
 * @st: the stack.
 *
 * Context: any; lock-free.
 * Return: the index, or MPOOL_NIL when the stack is empty.
 */
u32 mpool_stack_pop(struct mpool_stack *st)
{
	u64 old = mpool_load_acquire(&st->head);
	u32 idx, wait = 1;

	for (;;) {
		idx = (u32)old;
		if (idx == MPOOL_NIL)
			return MPOOL_NIL;
		if (mpool_try_cmpxchg(&st->head, &old,
				      mpool_head(old, MPOOL_READ(st->next[idx]))))
			return idx;
		mpool_backoff(&wait);
	}
}

/**
 * mpool_stack_push_chain() - push a chain linked first -> ... -> last.
 * @st: the stack.
 * @first: the chain's first index (the new top).
 * @last: its last index; its link is overwritten here.
 *
 * The caller owns the chain and has linked it through @st->next.
 * Context: any; lock-free.
 */
void mpool_stack_push_chain(struct mpool_stack *st, u32 first, u32 last)
{
	u64 old = MPOOL_READ(st->head);
	u32 wait = 1;

	for (;;) {
		MPOOL_WRITE(st->next[last], (u32)old);
		if (mpool_try_cmpxchg(&st->head, &old, mpool_head(old, first)))
			return;
		mpool_backoff(&wait);
	}
}

/* --- reports ---------------------------------------------------------- */

/*
 * Count and report a misuse of @s at @ptr, described by @desc (NULL: the
 * usual words for @err); return @err.
 */
static int mpool_report(struct mpool_slab *s, const void *ptr, int err,
			const char *desc)
{
	struct mpool_event ev;
	int what;

	if (err == -EINVAL)
		what = MPOOL_MISUSE_INVALID;
	else if (err == -EALREADY)
		what = MPOOL_MISUSE_DOUBLE;
	else
		what = MPOOL_MISUSE_CORRUPT;
	mpool_counter_inc(&s->misuse[what]);
	ev.kind = mpool_kind_names[s->kind];
	ev.name = s->name;
	ev.allocator = s->owner ? s->owner : s;
	ev.ptr = ptr;
	ev.err = err;
	ev.what = desc ? desc : mpool_misuse_names[what];
	mpool_env_report(&ev);
	return err;
}

/**
 * __mpool_misuse() - count and report a misuse; return its errno.
 * @s: the slab (or a pool's slab) the call was made on.
 * @ptr: the pointer the caller passed.
 * @err: -EINVAL, -EALREADY or -EUCLEAN.
 *
 * Return: @err.
 */
int __mpool_misuse(struct mpool_slab *s, const void *ptr, int err)
{
	return mpool_report(s, ptr, err, NULL);
}

/* --- debug mode: red zones and free-block poison ---------------------- */

/* Whether @n bytes at @p all equal @c. */
static bool mpool_all(const u8 *p, size_t n, u8 c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

/*
 * Check block @idx: its red zone always, its body too when it is free.
 * The allocator opens the memory to the checkers around its own accesses.
 */
static bool mpool_debug_intact(struct mpool_slab *s, u32 idx, bool free)
{
	u8 *p = mpool_slab_block(s, idx);
	size_t from = free ? 0 : s->block_size;
	bool ok;

	/* Open what is read: a live block's body stays the user's. */
	mpool_env_open(s->flags, p + from, s->stride - from);
	ok = mpool_all(p + s->block_size, s->stride - s->block_size,
		       MPOOL_POISON_RED) &&
	     (!free || mpool_all(p, s->block_size, MPOOL_POISON_FREE));
	mpool_env_close(s->flags, p + from, s->stride - from);
	return ok;
}

/* Withdraw block @idx for good and report it. */
static int mpool_quarantine(struct mpool_slab *s, u32 idx, const char *desc)
{
	MPOOL_WRITE(s->state[idx], MPOOL_BLK_BAD);
	mpool_counter_inc(&s->quarantined);
	return mpool_report(s, mpool_slab_block(s, idx), -EUCLEAN, desc);
}

/**
 * __mpool_debug_alloc() - check a block being handed out (debug mode).
 * @s: the slab.
 * @idx: a block the caller just moved to ALLOC and holds alone.
 *
 * Return: 0, or -EUCLEAN when the block was written while free (its
 * poison or red zone changed): it is quarantined and reported.
 */
int __mpool_debug_alloc(struct mpool_slab *s, u32 idx)
{
	if (likely(mpool_debug_intact(s, idx, true)))
		return 0;
	return mpool_quarantine(s, idx,
				"free block written (use after free or overflow)");
}
EXPORT_SYMBOL_MPOOL(__mpool_debug_alloc);

/**
 * __mpool_debug_free() - check and poison a block being freed (debug mode).
 * @s: the slab.
 * @idx: a block the caller just moved out of ALLOC, not yet published.
 *
 * Return: 0 (the block is filled with MPOOL_POISON_FREE), or -EUCLEAN when
 * its red zone was overwritten: it is quarantined and reported.
 */
int __mpool_debug_free(struct mpool_slab *s, u32 idx)
{
	u8 *p = mpool_slab_block(s, idx);

	if (unlikely(!mpool_debug_intact(s, idx, false)))
		return mpool_quarantine(s, idx,
					"red zone overwritten (buffer overflow)");
	/* Still the user's to the checkers: block_free() closes it. */
	memset(p, MPOOL_POISON_FREE, s->block_size);
	return 0;
}
EXPORT_SYMBOL_MPOOL(__mpool_debug_free);

/**
 * mpool_slab_audit() - check every block of a slab or pool.
 * @s: the slab (or a pool's slab).
 *
 * Every state word must be one a block can hold.  In debug mode, every red
 * zone must be intact, and every free block's poison too.  Each problem is
 * reported (as -EUCLEAN); nothing is changed: a corrupt free block is
 * quarantined when it is next handed out.
 *
 * Context: no allocation or free on @s may run concurrently.
 * Return: the number of corrupt blocks found.
 */
long mpool_slab_audit(struct mpool_slab *s)
{
	bool debug = s->flags & MPOOL_F_DEBUG;
	long bad = 0;
	const char *desc;
	u32 i, st;

	for (i = 0; i < s->count; i++) {
		st = MPOOL_READ(s->state[i]);
		desc = NULL;
		if (st == MPOOL_BLK_BAD)
			continue;
		if (st != MPOOL_BLK_ALLOC && st != MPOOL_BLK_FREE &&
		    st != MPOOL_BLK_STACKED)
			desc = "block state word corrupt";
		else if (debug &&
			 !mpool_debug_intact(s, i, st != MPOOL_BLK_ALLOC))
			desc = st == MPOOL_BLK_ALLOC ?
			       "red zone overwritten (buffer overflow)" :
			       "free block written (use after free or overflow)";
		if (!desc)
			continue;
		bad++;
		mpool_report(s, mpool_slab_block(s, i), -EUCLEAN, desc);
	}
	return bad;
}
EXPORT_SYMBOL_MPOOL(mpool_slab_audit);

/* --- the slab --------------------------------------------------------- */

/* Account @n blocks leaving the backing; keep the high-water mark. */
void __mpool_took(struct mpool_slab *s, long n)
{
	long left = mpool_counter_add_return(&s->nfree, -n);

	mpool_counter_max(&s->high_water, (long)s->count - left);
}

/**
 * __mpool_stack_block() - put one free block on the free stack.
 * @s: the slab.
 * @idx: a block whose state is FREE (held in a cache or magazine).
 *
 * Return: true if pushed; false (reported as -EUCLEAN) if the block was not
 * FREE, that is, a duplicate left by a racing double free.
 */
bool __mpool_stack_block(struct mpool_slab *s, u32 idx)
{
	int err = __mpool_transition(s, idx, MPOOL_BLK_FREE, MPOOL_BLK_STACKED,
				     true);

	if (unlikely(err)) {
		__mpool_misuse(s, mpool_slab_block(s, idx), err);
		return false;
	}
	/* Count first: the figure never runs below the truth. */
	mpool_counter_add_return(&s->nfree, 1);
	mpool_stack_push_chain(&s->free, idx, idx);
	return true;
}

/*
 * The inverse of odd @m modulo 2^64, by Newton's iteration: m * m == 1
 * (mod 8), and each step doubles the number of correct low bits.
 */
static u64 mpool_inverse(u64 m)
{
	u64 x = m;
	int i;

	for (i = 0; i < 5; i++)
		x *= 2 - m * x;
	return x;
}

/**
 * mpool_slab_init() - set up @count blocks of @block_size bytes.
 * @s: the slab to initialise.
 * @block_size: bytes per block (> 0).
 * @count: blocks (> 0, at most MPOOL_MAX_COUNT).
 * @flags: MPOOL_F_* flags.
 *
 * Return: 0; -EINVAL for a zero or overflowing size or count, or unknown
 * flags; -ENOMEM when memory could not be had (nothing is leaked).
 */
int mpool_slab_init(struct mpool_slab *s, size_t block_size, size_t count,
		    u32 flags)
{
	size_t stride, i;
	u32 *next;

	memset(s, 0, sizeof(*s));
	if (!block_size || !count || count > MPOOL_MAX_COUNT ||
	    (flags & ~MPOOL_F_VALID) || block_size > SIZE_MAX - MPOOL_ALIGN)
		return -EINVAL;
	stride = block_size + ((flags & MPOOL_F_DEBUG) ? MPOOL_REDZONE : 0);
	if (stride < block_size)
		return -EINVAL;
	stride = (stride + MPOOL_ALIGN - 1) & ~(size_t)(MPOOL_ALIGN - 1);
	if (stride > SIZE_MAX / count)
		return -EINVAL;
	s->stride = stride;
	s->span = stride * count;
	s->block_size = block_size;
	s->count = (u32)count;
	s->flags = flags;
	s->shift = (u32)__builtin_ctzll(stride);
	s->inv = mpool_inverse(stride >> s->shift);

	s->state = mpool_env_zalloc(count * sizeof(u32));
	next = mpool_env_zalloc(count * sizeof(u32));
	s->base = s->state && next ? mpool_env_map(s->span) : NULL;
	if (!s->base) {
		mpool_env_free(next);
		mpool_env_free(s->state);
		s->state = NULL;
		return -ENOMEM;
	}
	mpool_stack_init(&s->free, next);
	if (flags & MPOOL_F_DEBUG)
		for (i = 0; i < count; i++) {
			u8 *p = mpool_slab_block(s, (u32)i);

			memset(p, MPOOL_POISON_FREE, block_size);
			memset(p + block_size, MPOOL_POISON_RED,
			       stride - block_size);
		}
	mpool_env_region_init(s, flags, s->base, s->span);
	mpool_slab_rebuild(s);
	return 0;
}

/**
 * mpool_slab_rebuild() - put every block that is not ALLOC on the stack.
 * @s: the slab.
 *
 * Used at init, and after fork() in the child, where other threads' caches
 * and in-flight operations are gone.  Context: nobody else uses @s.
 */
void mpool_slab_rebuild(struct mpool_slab *s)
{
	u32 top = MPOOL_NIL, nfree = 0, i;

	for (i = s->count; i-- > 0; ) {
		if (MPOOL_READ(s->state[i]) == MPOOL_BLK_ALLOC ||
		    MPOOL_READ(s->state[i]) == MPOOL_BLK_BAD)
			continue;
		MPOOL_WRITE(s->state[i], MPOOL_BLK_STACKED);
		MPOOL_WRITE(s->free.next[i], top);
		top = i;
		nfree++;
	}
	mpool_store_release(&s->free.head,
			    mpool_head(MPOOL_READ(s->free.head), top));
	mpool_counter_set(&s->nfree, nfree);
	mpool_counter_max(&s->high_water, (long)(s->count - nfree));
}

/**
 * mpool_slab_fini() - release what mpool_slab_init() took.
 * @s: the slab; no block may be used afterwards.
 */
void mpool_slab_fini(struct mpool_slab *s)
{
	if (!s->base)
		return;
	mpool_env_region_fini(s, s->flags, s->base, s->span);
	mpool_env_unmap(s->base, s->span);
	mpool_env_free(s->free.next);
	mpool_env_free(s->state);
	s->base = NULL;
}

/**
 * mpool_slab_alloc() - take a block.
 * @s: the slab.
 *
 * Context: any; lock-free, never sleeps.
 * Return: a 64-byte aligned block, or NULL when all are out (counted).
 */
void *mpool_slab_alloc(struct mpool_slab *s)
{
	void *ptr;
	u32 idx;
	int err;

	for (;;) {
		idx = mpool_stack_pop(&s->free);
		if (unlikely(idx == MPOOL_NIL)) {
			mpool_counter_inc(&s->failed);
			return NULL;
		}
		__mpool_took(s, 1);
		/* The pop made us the index's only holder. */
		err = __mpool_transition(s, idx, MPOOL_BLK_STACKED,
					 MPOOL_BLK_ALLOC, __mpool_debug(s));
		if (unlikely(err)) {
			/* Impossible metadata: never hand the block out. */
			__mpool_misuse(s, mpool_slab_block(s, idx), err);
			continue;
		}
		ptr = __mpool_handout(s, idx);
		if (likely(ptr))
			return ptr;
	}
}
EXPORT_SYMBOL_MPOOL(mpool_slab_alloc);

/**
 * mpool_slab_free() - give a block back.
 * @s: the slab.
 * @ptr: a block from mpool_slab_alloc(), or NULL.
 *
 * Context: any; lock-free, never sleeps.
 * Return: 0; -EINVAL (not a block of @s), -EALREADY (already free) or
 * -EUCLEAN (corrupt metadata), with nothing changed.
 */
int mpool_slab_free(struct mpool_slab *s, void *ptr)
{
	u32 idx;
	int err;

	if (!ptr)
		return 0;
	err = mpool_slab_index(s, ptr, &idx);
	if (likely(!err))
		err = __mpool_transition(s, idx, MPOOL_BLK_ALLOC,
					 MPOOL_BLK_STACKED, true);
	if (unlikely(err))
		return __mpool_misuse(s, ptr, err);
	err = __mpool_takeback(s, idx);
	if (unlikely(err))
		return err;
	mpool_counter_add_return(&s->nfree, 1);
	mpool_stack_push_chain(&s->free, idx, idx);
	return 0;
}
EXPORT_SYMBOL_MPOOL(mpool_slab_free);

/* Fill the fields every block allocator shares. */
static void mpool_fill_stats(struct mpool_slab *s, struct mpool_stats *st)
{
	long nfree = mpool_counter_read(&s->nfree);

	memset(st, 0, sizeof(*st));
	st->block_size = s->block_size;
	st->stride = s->stride;
	st->capacity = s->count;
	st->free = nfree < 0 ? 0 : (size_t)nfree;
	st->high_water = (size_t)mpool_counter_read(&s->high_water);
	st->failed = (u64)mpool_counter_read(&s->failed);
	st->invalid = (u64)mpool_counter_read(&s->misuse[MPOOL_MISUSE_INVALID]);
	st->double_free = (u64)mpool_counter_read(&s->misuse[MPOOL_MISUSE_DOUBLE]);
	st->corrupt = (u64)mpool_counter_read(&s->misuse[MPOOL_MISUSE_CORRUPT]);
	st->quarantined = (u64)mpool_counter_read(&s->quarantined);
}

/**
 * mpool_slab_stats() - report what a slab is doing.
 * @s: the slab.
 * @st: filled in.
 */
void mpool_slab_stats(struct mpool_slab *s, struct mpool_stats *st)
{
	size_t out;

	mpool_fill_stats(s, st);
	out = st->free + st->quarantined;
	st->in_use = st->capacity > out ? st->capacity - out : 0;
}
EXPORT_SYMBOL_MPOOL(mpool_slab_stats);

/**
 * mpool_pool_fill_stats() - report what a pool is doing.
 * @p: the pool.
 * @st: filled in.
 * @cached: the blocks its build counted in the caches it keeps.
 */
void mpool_pool_fill_stats(struct mpool_pool *p, struct mpool_stats *st,
			   size_t cached)
{
	size_t out;

	mpool_fill_stats(&p->slab, st);
	st->cached = cached;
	out = st->free + cached + st->quarantined;
	st->in_use = st->capacity > out ? st->capacity - out : 0;
}
