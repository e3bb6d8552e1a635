/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * internal.h - mempool.ko's own objects around the core's allocators.
 */
#ifndef MPOOL_INTERNAL_H
#define MPOOL_INTERNAL_H

#include <linux/smp.h>
#include <linux/list.h>
#include <linux/local_lock.h>
#include <linux/percpu.h>

#include "mpool.h"
#include "mpool_api.h"

/**
 * struct mpool_obj - what the module keeps of every allocator.
 * @node: on mpool_objects; under mpool_lock.
 * @dir: its debugfs directory, or NULL when debugfs is absent.
 * @kind: MPOOL_KIND_*.
 * @name: unique among live allocators; also the debugfs directory's name.
 */
struct mpool_obj {
	struct list_head node;
	struct dentry *dir;
	enum mpool_kind kind;
	char name[MPOOL_NAME_MAX];
};

struct mpool_kslab {
	struct mpool_obj obj;
	struct mpool_slab core;
};

struct mpool_karena {
	struct mpool_obj obj;
	struct mpool_arena core;
};

struct mpool_kpool;

/**
 * struct mpool_pcp - one CPU's cache of a pool.
 * @lock: taken with interrupts off around every use on the owning CPU.
 * @drain: sent to the owning CPU (an IPI, smp_call_function_single_async())
 *	by an allocation that found the pool empty while this CPU has
 *	remote-freed blocks waiting: it collects them and gives the cache
 *	back to the depot (an interrupt on this CPU is never inside one of
 *	its fast paths: the thief of common/pool.c).
 * @kp: the pool, for @drain.
 * @c: the cache; its objs[] follow (2 * magazine size).
 *
 * Only the owning CPU touches @c, under @lock, with one exception: once the
 * CPU is dead, the hotplug callback drains it.
 */
struct mpool_pcp {
	local_lock_t lock;
	call_single_data_t drain;
	struct mpool_kpool *kp;
	struct mpool_cache c;
};

struct mpool_kpool {
	struct mpool_obj obj;
	struct mpool_pcp __percpu *pcp;
	atomic_t drains;		/* @drain IPIs sent, not yet done */
	struct mpool_pool core;
};

static inline struct mpool_kpool *mpool_kpool(struct mpool_pool *p)
{
	return container_of(p, struct mpool_kpool, core);
}

/* kernel/api.c */
extern struct mutex mpool_lock;
extern struct list_head mpool_objects;
extern struct dentry *mpool_debugfs_root;
void mpool_destroy_obj(struct mpool_obj *obj);
void mpool_drain_cpu(unsigned int cpu);

#endif /* MPOOL_INTERNAL_H */
