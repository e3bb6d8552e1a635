// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * env.c - the kernel world behind mpool_env.h: memory and misuse reports.
 */
#include <linux/bug.h>
#include <linux/mm.h>
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

/* Metadata: kvzalloc() aligns to a cache line for these sizes or a page. */
void *mpool_env_zalloc(size_t size)
{
	void *p = kvzalloc(size, GFP_KERNEL);

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

/* Segments: virtually contiguous, page aligned, zeroed. */
void *mpool_env_map(size_t size)
{
	void *p = vzalloc(size);

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
