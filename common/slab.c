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
 * A block's life: STACKED (on the free stack) -> ALLOC(NONE) (slab_alloc
 * popped it and marked it) -> STACKED (slab_free won the compare-and-swap
 * ALLOC(NONE) -> STACKED and pushed it).  The compare-and-swap on free is what makes a
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

/* The names in mpool_public.h; see there. */
const char *mpool_kind_name(enum mpool_kind kind)
{
	return kind < MPOOL_KIND_NR ? mpool_kind_names[kind] : "?";
}
EXPORT_SYMBOL_MPOOL(mpool_kind_name);

/* --- reports ---------------------------------------------------------- */

/**
 * __mpool_report() - count and report a misuse; return its errno.
 * @s: the slab (or a pool's slab) the call was made on.
 * @ptr: the pointer the caller passed, or the block found corrupt.
 * @err: -EINVAL, -EALREADY or -EUCLEAN.
 * @desc: what was found, or NULL for the usual words for @err.
 *
 * Return: @err.
 */
int __mpool_report(struct mpool_slab *s, const void *ptr, int err,
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

	bool on = s->flags & MPOOL_F_CHECKER;

	/* Open what is read: a live block's body stays the user's. */
	mpool_env_open(on, p + from, s->stride - from);
	ok = mpool_all(p + s->block_size, s->stride - s->block_size,
		       MPOOL_POISON_RED) &&
	     (!free || mpool_all(p, s->block_size, MPOOL_POISON_FREE));
	mpool_env_close(on, p + from, s->stride - from);
	return ok;
}

/* Withdraw block @idx for good and report it. */
static int mpool_quarantine(struct mpool_slab *s, u32 idx, const char *desc)
{
	MPOOL_WRITE(s->state[idx],
		    mpool_blk_word(MPOOL_READ(s->state[idx]), MPOOL_BLK_BAD));
	mpool_counter_inc(&s->quarantined);
	return __mpool_report(s, mpool_slab_block(s, idx), -EUCLEAN, desc);
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

/* Documented in mpool_public.h. */
long mpool_slab_audit(struct mpool_slab *s)
{
	bool debug = s->flags & MPOOL_F_DEBUG;
	long bad = 0;
	const char *desc;
	u32 i, st;

	for (i = 0; i < s->count; i++) {
		st = mpool_blk_state(MPOOL_READ(s->state[i]));
		desc = NULL;
		if (st == MPOOL_BLK_BAD)
			continue;
		if (!mpool_blk_is_alloc(st) && !mpool_blk_is_freed(st))
			desc = "block state word corrupt";
		else if (debug &&
			 !mpool_debug_intact(s, i, !mpool_blk_is_alloc(st) &&
					     !mpool_blk_is_rcu(st)))
			desc = mpool_blk_is_alloc(st) ?
			       "red zone overwritten (buffer overflow)" :
			       "free block written (use after free or overflow)";
		if (!desc)
			continue;
		bad++;
		__mpool_report(s, mpool_slab_block(s, i), -EUCLEAN, desc);
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
 * __mpool_create_flags() - the flags an allocator is made with.
 * @flags: the caller's create flags.
 * @allowed: the flags this kind of allocator accepts from a caller.
 * @out: the flags in force: the caller's, MPOOL_F_DEBUG when the world
 *	asks for debug mode everywhere (and @allowed has it), and
 *	MPOOL_F_CHECKER when a memory checker watches.
 *
 * The one place where create flags are checked and completed, for both
 * worlds and every allocator.
 *
 * Return: 0, or -EINVAL for a flag outside @allowed.
 */
int __mpool_create_flags(unsigned int flags, unsigned int allowed, u32 *out)
{
	if (flags & ~allowed)
		return -EINVAL;
	if ((allowed & MPOOL_F_DEBUG) && mpool_env_debug_all())
		flags |= MPOOL_F_DEBUG;
	if (mpool_env_checker())
		flags |= MPOOL_F_CHECKER;
	*out = flags;
	return 0;
}

/*
 * The stride of blocks of @block_size bytes with @flags, or 0 when it
 * cannot be had: the red zone and the rounding up to a line are added
 * before anything is checked, so that no size near SIZE_MAX can wrap.
 */
static size_t mpool_stride(size_t block_size, u32 flags)
{
	size_t extra = ((flags & MPOOL_F_DEBUG) ? MPOOL_REDZONE : 0) +
		       MPOOL_ALIGN - 1;

	if (block_size > SIZE_MAX - extra)
		return 0;
	return (block_size + extra) & ~(size_t)(MPOOL_ALIGN - 1);
}

/**
 * mpool_slab_init() - set up @count blocks of @block_size bytes.
 * @s: the slab to initialise.
 * @block_size: bytes per block (> 0).
 * @count: blocks (> 0, at most MPOOL_MAX_COUNT).
 * @flags: the caller's create flags: MPOOL_F_DEBUG or 0.
 *
 * The segment is mapped before any metadata is touched, so that a request
 * the world cannot map fails before megabytes are zeroed for nothing.
 * A @count whose metadata arrays (a state word and a next index per
 * block) would exceed MPOOL_ENV_ZALLOC_MAX bytes is refused with -E2BIG
 * before anything is allocated.
 *
 * Return: 0; -EINVAL for a zero size or count, unknown flags, a stride
 * (the size plus the red zone in debug mode, rounded up to 64) that does
 * not fit in a size_t, or a segment (@count strides) larger than half the
 * address space; -ENOMEM when memory could not be had (nothing is leaked).
 */
int mpool_slab_init(struct mpool_slab *s, size_t block_size, size_t count,
		    unsigned int flags)
{
	size_t stride, i;
	mpool_atomic_u32 *next;
	int err;

	memset(s, 0, sizeof(*s));
	err = __mpool_create_flags(flags, MPOOL_F_DEBUG, &s->flags);
	if (err)
		return err;
	stride = mpool_stride(block_size, s->flags);
	/* Offsets within a segment must fit in a ptrdiff_t. */
	if (!block_size || !count || count > MPOOL_MAX_COUNT || !stride ||
	    stride > (SIZE_MAX / 2) / count)
		return -EINVAL;
	/* Each metadata array below is one allocation; the state's is larger. */
	if (count > MPOOL_ENV_ZALLOC_MAX / sizeof(*s->state))
		return -E2BIG;
	s->stride = stride;
	s->span = stride * count;
	s->block_size = block_size;
	s->count = (u32)count;
	s->shift = (u32)__builtin_ctzll(stride);
	s->inv = mpool_inverse(stride >> s->shift);

	s->base = mpool_env_map(s->span);
	s->state = s->base ? mpool_env_zalloc(count * sizeof(u64)) : NULL;
	next = s->state ? mpool_env_zalloc(count * sizeof(u32)) : NULL;
	if (!next) {
		mpool_env_free(s->state);
		if (s->base)
			mpool_env_unmap(s->base, s->span);
		s->state = NULL;
		s->base = NULL;
		return -ENOMEM;
	}
	mpool_stack_init(&s->free, next);
	/* Red zones here; free blocks' poison in mpool_slab_rebuild(). */
	if (s->flags & MPOOL_F_DEBUG)
		for (i = 0; i < count; i++)
			memset(mpool_slab_block(s, (u32)i) + block_size,
			       MPOOL_POISON_RED, stride - block_size);
	mpool_env_region_init(s, s->flags & MPOOL_F_CHECKER, s->base, s->span);
	mpool_slab_rebuild(s);
	return 0;
}

/* Debug mode: fill free block @idx's body with poison. */
static void mpool_debug_poison(struct mpool_slab *s, u32 idx)
{
	bool on = s->flags & MPOOL_F_CHECKER;
	u8 *p = mpool_slab_block(s, idx);

	mpool_env_open(on, p, s->block_size);
	memset(p, MPOOL_POISON_FREE, s->block_size);
	mpool_env_close(on, p, s->block_size);
}

/**
 * mpool_slab_rebuild() - put every block that is not ALLOC on the stack.
 * @s: the slab.
 *
 * Used at init, and after fork() in the child, where other threads' caches
 * and in-flight operations are gone.  Quarantined blocks stay out.  In
 * debug mode each block put on the stack is poisoned afresh: in the child
 * of a fork, a block that another thread of the parent was freeing at that
 * instant is FREE (or STACKED) with its poison half written, and must not
 * later be reported as written after free.  (A free block the parent's
 * user really did write is reported in the parent, which keeps it.)
 *
 * Context: nobody else uses @s.
 */
void mpool_slab_rebuild(struct mpool_slab *s)
{
	u32 top = MPOOL_NIL, nfree = 0, i, st;
	u64 w;

	for (i = s->count; i-- > 0; ) {
		w = MPOOL_READ(s->state[i]);
		st = mpool_blk_state(w);
		if (mpool_blk_is_alloc(st) || st == MPOOL_BLK_BAD)
			continue;
		if (s->flags & MPOOL_F_DEBUG)
			mpool_debug_poison(s, i);
		MPOOL_WRITE(s->state[i], mpool_blk_word(w, MPOOL_BLK_STACKED));
		MPOOL_WRITE(s->free.next[i], top);
		top = i;
		nfree++;
	}
	mpool_stack_reset(&s->free, top);
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
	mpool_env_region_fini(s, s->flags & MPOOL_F_CHECKER, s->base, s->span);
	mpool_env_unmap(s->base, s->span);
	mpool_env_free(s->free.next);
	mpool_env_free(s->state);
	s->base = NULL;
}

/* Documented in mpool_public.h. */
void *mpool_slab_alloc(struct mpool_slab *s)
{
	void *ptr;
	u32 idx;
	u64 w;

	for (;;) {
		idx = mpool_stack_pop(&s->free);
		if (unlikely(idx == MPOOL_NIL)) {
			mpool_counter_inc(&s->failed);
			return NULL;
		}
		__mpool_took(s, 1);
		/* The pop made us the index's only holder. */
		w = mpool_blk_word(MPOOL_READ(s->state[idx]), MPOOL_BLK_STACKED);
		ptr = __mpool_handout(s, idx, w, MPOOL_BLK_ALLOC_NONE);
		if (likely(ptr))
			return ptr;
	}
}
EXPORT_SYMBOL_MPOOL(mpool_slab_alloc);

/*
 * Every step of a slab free up to the push: check @ptr, move its block
 * ALLOC(NONE) -> STACKED, take it back; on success the caller owns index
 * *@idx and pushes it (alone or in a chain).  Return: 0, or the error
 * mpool_slab_free() returns (reported, nothing changed).
 */
static int mpool_slab_unhand(struct mpool_slab *s, void *ptr, u32 *idx)
{
	u64 w, seen;
	int err;

	err = mpool_slab_index_checked(s, ptr, idx);
	if (likely(!err)) {
		w = MPOOL_READ(s->state[*idx]);
		if (mpool_blk_state(w) == MPOOL_BLK_ALLOC_NONE)
			err = __mpool_cas_state(s, *idx, w,
						mpool_blk_ended(w,
								MPOOL_BLK_STACKED),
						&seen);
		else
			err = mpool_blk_is_freed(mpool_blk_state(w)) ?
			      -EALREADY : -EUCLEAN;
	}
	if (unlikely(err))
		return __mpool_report(s, ptr, err, NULL);
	return __mpool_takeback(s, *idx);
}

/* Documented in mpool_public.h. */
int mpool_slab_free(struct mpool_slab *s, void *ptr)
{
	u32 idx;
	int err;

	if (!ptr)
		return 0;
	err = mpool_slab_unhand(s, ptr, &idx);
	if (unlikely(err))
		return err;
	mpool_counter_add_return(&s->nfree, 1);
	mpool_stack_push_chain(&s->free, idx, idx);
	return 0;
}
EXPORT_SYMBOL_MPOOL(mpool_slab_free);

/*
 * Bulk calls move a chain of blocks with one swap of the stack's head:
 * per block only its own state word is swapped (which is what makes a
 * racing double free of it lose), and the counters are moved once.  An
 * allocation takes at most MPOOL_BULK_CHAIN blocks per swap: the walk down
 * the chain is the window in which another context's push or pop fails the
 * swap, so a long one could starve under contention.
 */
#define MPOOL_BULK_CHAIN	64u

/* Documented in mpool_public.h. */
int mpool_slab_alloc_bulk(struct mpool_slab *s, void **ptrs, size_t n)
{
	u32 idx, next, got, want;
	size_t i = 0;
	void *ptr;
	u64 w;

	if (unlikely(!ptrs && n))
		return -EINVAL;

	while (i < n) {
		want = n - i < MPOOL_BULK_CHAIN ? (u32)(n - i) :
		       MPOOL_BULK_CHAIN;
		idx = mpool_stack_pop_chain(&s->free, want, &got);
		if (idx == MPOOL_NIL)
			break;
		__mpool_took(s, got);
		for (; got; got--, idx = next) {
			/* The pop made us the chain's only holder. */
			next = MPOOL_READ(s->free.next[idx]);
			w = mpool_blk_word(MPOOL_READ(s->state[idx]),
					   MPOOL_BLK_STACKED);
			ptr = __mpool_handout(s, idx, w, MPOOL_BLK_ALLOC_NONE);
			if (likely(ptr))
				ptrs[i++] = ptr;
		}
	}
	if (likely(i == n))
		return 0;
	/* One shortage, counted once; what was taken goes back. */
	mpool_counter_inc(&s->failed);
	mpool_slab_free_bulk(s, ptrs, i);
	return -ENOMEM;
}
EXPORT_SYMBOL_MPOOL(mpool_slab_alloc_bulk);

/* Documented in mpool_public.h. */
int mpool_slab_free_bulk(struct mpool_slab *s, void *const *ptrs, size_t n)
{
	u32 idx, first = MPOOL_NIL, last = MPOOL_NIL;
	int ret = 0, err;
	long k = 0;
	size_t i;

	if (unlikely(!ptrs && n))
		return -EINVAL;

	for (i = 0; i < n; i++) {
		if (!ptrs[i])
			continue;
		err = mpool_slab_unhand(s, ptrs[i], &idx);
		if (unlikely(err)) {
			if (!ret)
				ret = err;
			continue;
		}
		/* Ours until pushed: STACKED, and on no stack yet. */
		MPOOL_WRITE(s->free.next[idx], first);
		if (first == MPOOL_NIL)
			last = idx;
		first = idx;
		k++;
	}
	if (k) {
		/* Count first: the figure never runs below the truth. */
		mpool_counter_add_return(&s->nfree, k);
		mpool_stack_push_chain(&s->free, first, last);
	}
	return ret;
}
EXPORT_SYMBOL_MPOOL(mpool_slab_free_bulk);

/* Documented in mpool_public.h. */
void mpool_slab_stats(struct mpool_slab *s, struct mpool_stats *st)
{
	long nfree = mpool_counter_read(&s->nfree);
	size_t out;

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
	out = st->free + st->quarantined;
	st->in_use = st->capacity > out ? st->capacity - out : 0;
}
EXPORT_SYMBOL_MPOOL(mpool_slab_stats);
