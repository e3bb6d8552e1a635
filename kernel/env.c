// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * env.c - the kernel world behind mpool_env.h: memory, what KASAN sees of
 * it, and misuse reports.
 */
#include <linux/bug.h>
#include <linux/math.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "mpool_api.h"

/* Allocations and mappings not yet given back, for leak tests. */
static atomic_long_t mpool_outstanding = ATOMIC_LONG_INIT(0);
static atomic_long_t mpool_reports = ATOMIC_LONG_INIT(0);

/**
 * mpool_env_outstanding() - allocations the module holds now.
 *
 * Return: zallocs and maps not yet freed; a failed create leaves it as it
 * found it, and a destroy brings it back to its value before the create.
 */
long mpool_env_outstanding(void)
{
	return atomic_long_read(&mpool_outstanding);
}
EXPORT_SYMBOL_NS_GPL(mpool_env_outstanding, MPOOL);

/**
 * mpool_report_count() - misuse reports made since the module loaded.
 *
 * Return: the count.
 */
long mpool_report_count(void)
{
	return atomic_long_read(&mpool_reports);
}
EXPORT_SYMBOL_NS_GPL(mpool_report_count, MPOOL);

static bool mpool_debug;
module_param_named(debug, mpool_debug, bool, 0444);
MODULE_PARM_DESC(debug, "make every slab and pool in debug mode (red zones, poison)");

/* mempool.debug=1: every slab and pool in debug mode. */
bool mpool_env_debug_all(void)
{
	return READ_ONCE(mpool_debug);
}

/*
 * Metadata: kvzalloc() aligns to a cache line for these sizes or a page.
 * A failure is an answer to the caller, not a kernel problem: no warning.
 * kvmalloc() refuses more than INT_MAX bytes (MPOOL_ENV_ZALLOC_MAX), with
 * a WARN unless __GFP_NOWARN; the core never asks for more.
 */
void *mpool_env_zalloc(size_t size)
{
	void *p = kvzalloc(size, GFP_KERNEL | __GFP_NOWARN);

	if (p)
		atomic_long_inc(&mpool_outstanding);
	return p;
}

void mpool_env_free(void *p)
{
	if (p)
		atomic_long_dec(&mpool_outstanding);
	kvfree(p);
}

/*
 * Segments: virtually contiguous, page aligned, zeroed.  A segment larger
 * than the memory the kernel can give is -ENOMEM to the caller, quietly
 * (__GFP_NOWARN: no warn_alloc() dump), and never at the price of an OOM
 * kill (__GFP_RETRY_MAYFAIL: vmalloc() reclaims, then gives up, instead of
 * killing processes to serve one create).
 */
void *mpool_env_map(size_t size)
{
	void *p = __vmalloc(size, GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
			    __GFP_RETRY_MAYFAIL);

	if (p)
		atomic_long_inc(&mpool_outstanding);
	return p;
}

void mpool_env_unmap(void *p, size_t size)
{
	atomic_long_dec(&mpool_outstanding);
	vfree(p);
}

/*
 * KASAN's view of the segments (see mpool_env.h).  Shadow values are
 * generic KASAN's (mm/kasan/kasan.h), so that reports name the bug: a
 * freed block reads as a freed slab object ("use-after-free"), everything
 * never handed out (the rest of a block's stride, an arena's unused part,
 * a block not yet allocated) as a slab red zone ("slab-out-of-bounds").
 * A shadow byte covers one 8-byte granule; 1..7 make that many of its first
 * bytes accessible.  Blocks start on 64-byte lines, so every range below
 * starts on a granule, and different blocks never share a shadow byte:
 * concurrent hooks on different blocks touch different shadow.
 */
#define MPOOL_KASAN_GRANULE	8	/* KASAN_GRANULE_SIZE, generic mode */
#define MPOOL_KASAN_FREE	0xfb	/* KASAN_SLAB_FREE */
#define MPOOL_KASAN_REDZONE	0xfc	/* KASAN_SLAB_REDZONE */

/* Set the shadow of [@p, @p + @n), granule aligned, to @v. */
static void mpool_kasan_set(void *p, size_t n, u8 v)
{
	/* Without KASAN the call folds away: nothing refers to the symbol. */
	if (MPOOL_ENV_KASAN && n)
		kasan_poison(p, n, v, false);
}

/* A segment comes into use (all red zone) or goes away (accessible). */
void mpool_kasan_region(void *base, size_t size, bool live)
{
	mpool_kasan_set(base, round_up(size, MPOOL_KASAN_GRANULE),
			live ? 0 : MPOOL_KASAN_REDZONE);
}

/*
 * Block @p, occupying @span bytes, is handed out: its @size bytes become
 * accessible, to the byte, and the rest of the span is a red zone.
 */
void mpool_kasan_block_alloc(void *p, size_t size, size_t span)
{
	size_t whole = round_down(size, MPOOL_KASAN_GRANULE);
	size_t end = round_up(span, MPOOL_KASAN_GRANULE);
	u8 *q = p;

	mpool_kasan_set(q, whole, 0);
	if (whole < size) {
		mpool_kasan_set(q + whole, MPOOL_KASAN_GRANULE, size - whole);
		whole += MPOOL_KASAN_GRANULE;
	}
	mpool_kasan_set(q + whole, end - whole, MPOOL_KASAN_REDZONE);
}

/* Block @p, a whole stride of @size bytes, is given back. */
void mpool_kasan_block_free(void *p, size_t size)
{
	mpool_kasan_set(p, size, MPOOL_KASAN_FREE);
}

/*
 * One misuse: counted, one rate-limited line naming the allocator, the
 * pointer (hashed, as %p prints) and the errno, and a warning with a stack
 * trace the first time, so that the caller can be found.  Never BUG().
 */
void mpool_env_report(const struct mpool_event *ev)
{
	atomic_long_inc(&mpool_reports);
	pr_err_ratelimited("mempool: %s %s: %s: %p (%d)\n", ev->kind,
			   ev->name ? ev->name : "?", ev->what, ev->ptr,
			   ev->err);
	WARN_ONCE(1, "mempool: misuse of %s %s: %s\n", ev->kind,
		  ev->name ? ev->name : "?", ev->what);
}
