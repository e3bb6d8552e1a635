// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * api.c - mempool.ko's allocators for other modules: naming, debugfs, the
 * list the hotplug callback walks, and the per-CPU caches of pools.
 *
 * The only thing that differs from the userspace build is where a context's
 * cache lives: here this_cpu_ptr() of a pool's per-CPU caches, under a
 * local lock with interrupts off, so alloc and free are safe in any context
 * but NMI.  What to do with the cache is common/pool.c's business.
 */
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

/*
 * With PREEMPT_RT a local lock sleeps and leaves interrupts on: a CPU's
 * fast path could then be interrupted by the drain IPI, which the remote
 * queues' design (common/pool.c) rules out.  Not supported there.
 */
static_assert(!IS_ENABLED(CONFIG_PREEMPT_RT),
	      "mempool.ko does not support PREEMPT_RT kernels");
/*
 * A CPU's cache is one per-CPU allocation, struct mpool_pcp: the lock and
 * the drain IPI's data, then struct mpool_cache with room for
 * 2 * ceil(cache_size / 2) <= cache_size + 1 rounds, rounded up to a line
 * (mpool_cache_bytes()).  pcpu_alloc() refuses more than
 * PCPU_MIN_UNIT_SIZE (32 KiB), with a WARN unless __GFP_NOWARN.
 * MPOOL_CACHE_MAX keeps every cache below that on every configuration, so
 * that the limit callers see is one number: the lock grows with lockdep
 * and PREEMPT_RT, and a cache of 4000 blocks (32128 bytes) leaves it and
 * the IPI's data 640.
 */
static_assert(offsetof(struct mpool_pcp, c) + sizeof(struct mpool_cache) +
	      (MPOOL_CACHE_MAX + 1) * sizeof(struct mpool_round) +
	      MPOOL_ALIGN - 1 <= PCPU_MIN_UNIT_SIZE);

/* Every live allocator; the hotplug callback and unload walk it. */
DEFINE_MUTEX(mpool_lock);
LIST_HEAD(mpool_objects);
struct dentry *mpool_debugfs_root;

/* --- statistics in debugfs -------------------------------------------- */

static void mpool_obj_stats(struct mpool_obj *obj, struct mpool_stats *st)
{
	switch (obj->kind) {
	case MPOOL_KIND_SLAB:
		mpool_slab_stats(&container_of(obj, struct mpool_kslab, obj)->core,
				 st);
		break;
	case MPOOL_KIND_ARENA:
		mpool_arena_stats(&container_of(obj, struct mpool_karena,
						obj)->core, st);
		break;
	default:
		mpool_pool_stats(&container_of(obj, struct mpool_kpool,
					       obj)->core, st);
	}
}

/* One "key value" per line, like /proc/meminfo; easy for scripts. */
static int mpool_stats_show(struct seq_file *m, void *unused)
{
	struct mpool_obj *obj = m->private;
	struct mpool_stats st;

	mpool_obj_stats(obj, &st);
	seq_printf(m, "name %s\nkind %s\n", obj->name, mpool_kind_name(obj->kind));
	seq_printf(m, "block_size %zu\nstride %zu\ncapacity %zu\n",
		   st.block_size, st.stride, st.capacity);
	seq_printf(m, "in_use %zu\nfree %zu\ncached %zu\nhigh_water %zu\n",
		   st.in_use, st.free, st.cached, st.high_water);
	seq_printf(m, "failed %llu\ninvalid %llu\ndouble_free %llu\ncorrupt %llu\n",
		   st.failed, st.invalid, st.double_free, st.corrupt);
	seq_printf(m, "quarantined %llu\n", st.quarantined);
	if (obj->kind == MPOOL_KIND_POOL)
		seq_printf(m, "magazine %u\n",
			   container_of(obj, struct mpool_kpool, obj)->core.mag_size);
	if (obj->kind == MPOOL_KIND_POOL)
		seq_printf(m, "rcu_pending %zu\n",
			   mpool_rcu_pending(&container_of(obj, struct mpool_kpool,
							   obj)->core));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mpool_stats);

/* Writing "1" to a pool's flush file empties every CPU's cache. */
static ssize_t mpool_flush_write(struct file *file, const char __user *buf,
				 size_t len, loff_t *ppos)
{
	struct mpool_obj *obj = file->private_data;
	unsigned int v;
	int err;

	err = kstrtouint_from_user(buf, len, 10, &v);
	if (err)
		return err;
	if (v != 1)
		return -EINVAL;
	mpool_pool_flush(&container_of(obj, struct mpool_kpool, obj)->core);
	return len;
}

static const struct file_operations mpool_flush_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = mpool_flush_write,
	.llseek = no_llseek,
};

static void mpool_debugfs_add(struct mpool_obj *obj)
{
	if (IS_ERR_OR_NULL(mpool_debugfs_root))
		return;
	obj->dir = debugfs_create_dir(obj->name, mpool_debugfs_root);
	if (IS_ERR(obj->dir)) {
		obj->dir = NULL;
		return;
	}
	debugfs_create_file("stats", 0400, obj->dir, obj, &mpool_stats_fops);
	if (obj->kind == MPOOL_KIND_POOL)
		debugfs_create_file("flush", 0200, obj->dir, obj,
				    &mpool_flush_fops);
}

/* --- the list of allocators ------------------------------------------- */

static bool mpool_name_ok(const char *name)
{
	size_t len = name ? strnlen(name, MPOOL_NAME_MAX) : 0;

	return len && len < MPOOL_NAME_MAX && !strchr(name, '/');
}

static struct mpool_obj *mpool_find(const char *name)
{
	struct mpool_obj *obj;

	lockdep_assert_held(&mpool_lock);
	list_for_each_entry(obj, &mpool_objects, node)
		if (!strcmp(obj->name, name))
			return obj;
	return NULL;
}

/* Publish a built allocator under a unique name; -EEXIST if taken. */
static int mpool_publish(struct mpool_obj *obj, const char *name,
			 enum mpool_kind kind)
{
	int err = 0;

	obj->kind = kind;
	strscpy(obj->name, name, sizeof(obj->name));
	mutex_lock(&mpool_lock);
	if (mpool_find(name)) {
		err = -EEXIST;
	} else {
		list_add_tail(&obj->node, &mpool_objects);
		mpool_debugfs_add(obj);
	}
	mutex_unlock(&mpool_lock);
	return err;
}

static void mpool_unpublish(struct mpool_obj *obj)
{
	mutex_lock(&mpool_lock);
	list_del(&obj->node);
	debugfs_remove_recursive(obj->dir);
	mutex_unlock(&mpool_lock);
}

/* --- slab ------------------------------------------------------------- */

/* Documented in mpool_api.h. */
struct mpool_slab *mpool_slab_create(const char *name, size_t block_size,
				     size_t count, unsigned int flags)
{
	struct mpool_kslab *ks;
	int err;

	if (!mpool_name_ok(name))
		return ERR_PTR(-EINVAL);
	ks = mpool_env_zalloc(sizeof(*ks));
	if (!ks)
		return ERR_PTR(-ENOMEM);
	err = mpool_slab_init(&ks->core, block_size, count, flags);
	if (!err) {
		ks->core.name = ks->obj.name;
		err = mpool_publish(&ks->obj, name, MPOOL_KIND_SLAB);
		if (err)
			mpool_slab_fini(&ks->core);
	}
	if (err) {
		mpool_env_free(ks);
		return ERR_PTR(err);
	}
	return &ks->core;
}
EXPORT_SYMBOL_NS_GPL(mpool_slab_create, MPOOL);

/* Documented in mpool_api.h. */
void mpool_slab_destroy(struct mpool_slab *s)
{
	struct mpool_kslab *ks;

	if (IS_ERR_OR_NULL(s))
		return;
	ks = container_of(s, struct mpool_kslab, core);
	mpool_unpublish(&ks->obj);
	mpool_slab_fini(s);
	mpool_env_free(ks);
}
EXPORT_SYMBOL_NS_GPL(mpool_slab_destroy, MPOOL);

/* --- arena ------------------------------------------------------------ */

/* Documented in mpool_api.h. */
struct mpool_arena *mpool_arena_create(const char *name, size_t capacity)
{
	struct mpool_karena *ka;
	int err;

	if (!mpool_name_ok(name))
		return ERR_PTR(-EINVAL);
	ka = mpool_env_zalloc(sizeof(*ka));
	if (!ka)
		return ERR_PTR(-ENOMEM);
	err = mpool_arena_init(&ka->core, capacity);
	if (!err) {
		ka->core.name = ka->obj.name;
		err = mpool_publish(&ka->obj, name, MPOOL_KIND_ARENA);
		if (err)
			mpool_arena_fini(&ka->core);
	}
	if (err) {
		mpool_env_free(ka);
		return ERR_PTR(err);
	}
	return &ka->core;
}
EXPORT_SYMBOL_NS_GPL(mpool_arena_create, MPOOL);

/* Documented in mpool_api.h. */
void mpool_arena_destroy(struct mpool_arena *a)
{
	struct mpool_karena *ka;

	if (IS_ERR_OR_NULL(a))
		return;
	ka = container_of(a, struct mpool_karena, core);
	mpool_unpublish(&ka->obj);
	mpool_arena_fini(a);
	mpool_env_free(ka);
}
EXPORT_SYMBOL_NS_GPL(mpool_arena_destroy, MPOOL);

/* --- pool ------------------------------------------------------------- */

static void mpool_drain_ipi(void *info);

/* Documented in mpool_api.h. */
struct mpool_pool *mpool_pool_create(const char *name, size_t block_size,
				     size_t cache_size, size_t capacity,
				     unsigned int flags)
{
	struct mpool_kpool *kp;
	unsigned int cpu;
	int err;

	if (!mpool_name_ok(name))
		return ERR_PTR(-EINVAL);
	if (cache_size > MPOOL_CACHE_MAX)
		return ERR_PTR(-E2BIG);
	kp = mpool_env_zalloc(sizeof(*kp));
	if (!kp)
		return ERR_PTR(-ENOMEM);
	err = mpool_pool_init(&kp->core, block_size, cache_size, capacity,
			      flags, nr_cpu_ids);
	if (err)
		goto free;
	kp->core.slab.name = kp->obj.name;
	if (kp->core.mag_size) {
		/* Out of memory is -ENOMEM to the caller, not a dump. */
		kp->pcp = __alloc_percpu_gfp(offsetof(struct mpool_pcp, c) +
					     mpool_cache_bytes(&kp->core),
					     __alignof__(struct mpool_pcp),
					     GFP_KERNEL | __GFP_NOWARN);
		err = -ENOMEM;
		if (!kp->pcp)
			goto fini;
		for_each_possible_cpu(cpu) {
			struct mpool_pcp *pcp = per_cpu_ptr(kp->pcp, cpu);

			local_lock_init(&pcp->lock);
			INIT_CSD(&pcp->drain, mpool_drain_ipi, pcp);
			pcp->kp = kp;
			/* The CPU number is the cache's owner id. */
			mpool_cache_init(&kp->core, &pcp->c, cpu);
		}
	}
	/* The kernel's RCU is always there: bound at create, per CPU. */
	err = mpool_rcu_bind(&kp->core, NULL);
	if (!err)
		err = mpool_publish(&kp->obj, name, MPOOL_KIND_POOL);
	if (!err)
		return &kp->core;
	mpool_rcu_fini(&kp->core);
	free_percpu(kp->pcp);
fini:
	mpool_pool_fini(&kp->core);
free:
	mpool_env_free(kp);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_create, MPOOL);

/*
 * The pool is empty here: blocks other CPUs freed may wait on remote
 * queues, or in other CPUs' outboxes.  An online CPU that has either is
 * asked, by an IPI, to send its outbox, collect its queues and give its
 * cache back to the depot, since only an interrupt on that
 * CPU is sure not to be inside one of its fast paths.  A dead CPU's queue
 * is left to mpool_pool_flush(), which holds the hotplug lock: here, with
 * interrupts off, the CPU could come back online under a collection.
 * Context: the local lock of the calling CPU held.
 */
static void mpool_pool_reclaim(struct mpool_kpool *kp)
{
	unsigned int cpu, me = smp_processor_id();
	struct mpool_pcp *pcp;

	/* Our own unsent remote frees go to their owners' queues now. */
	mpool_outbox_flush(&kp->core, &this_cpu_ptr(kp->pcp)->c, NULL);
	for_each_online_cpu(cpu) {
		pcp = per_cpu_ptr(kp->pcp, cpu);
		if (cpu == me || (!mpool_cache_has_remote(&pcp->c) &&
				  MPOOL_READ(pcp->c.ob_mag) == MPOOL_NIL))
			continue;
		/* -EBUSY: one is on its way already. */
		atomic_inc(&kp->drains);
		if (smp_call_function_single_async(cpu, &pcp->drain))
			atomic_dec(&kp->drains);
	}
}

/* The @drain IPI of struct mpool_pcp, on its own CPU, in hardirq context. */
static void mpool_drain_ipi(void *info)
{
	struct mpool_pcp *pcp = info;
	struct mpool_kpool *kp = pcp->kp;
	unsigned long flags;

	local_lock_irqsave(&kp->pcp->lock, flags);
	mpool_cache_drain(&kp->core, &this_cpu_ptr(kp->pcp)->c);
	local_unlock_irqrestore(&kp->pcp->lock, flags);
	/* Pairs with destroy's acquire: we are done with @kp. */
	atomic_dec_return_release(&kp->drains);
}

/* Documented in mpool_api.h. */
void *mpool_pool_alloc(struct mpool_pool *p)
{
	struct mpool_kpool *kp = mpool_kpool(p);
	struct mpool_cache *c;
	unsigned long flags;
	void *ptr;

	if (unlikely(!kp->pcp))
		return mpool_slab_alloc(&p->slab);
	local_lock_irqsave(&kp->pcp->lock, flags);
	c = &this_cpu_ptr(kp->pcp)->c;
	if (unlikely(p->slab.flags & MPOOL_F_SLOW) ||
	    !mpool_cache_alloc_fast(p, c, &ptr)) {
		ptr = mpool_cache_alloc(p, c);
		if (unlikely(!ptr))
			mpool_pool_reclaim(kp);
	}
	local_unlock_irqrestore(&kp->pcp->lock, flags);
	return ptr;
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_alloc, MPOOL);

/* Documented in mpool_api.h. */
int mpool_pool_free(struct mpool_pool *p, void *ptr)
{
	struct mpool_kpool *kp = mpool_kpool(p);
	struct mpool_cache *c;
	unsigned long flags;
	int ret;

	if (unlikely(!kp->pcp))
		return mpool_pool_free_nocache(p, ptr);
	local_lock_irqsave(&kp->pcp->lock, flags);
	c = &this_cpu_ptr(kp->pcp)->c;
	if (likely(!(p->slab.flags & MPOOL_F_SLOW)) &&
	    mpool_cache_free_fast(p, c, ptr))
		ret = 0;
	else
		ret = mpool_cache_free(p, c, ptr);
	local_unlock_irqrestore(&kp->pcp->lock, flags);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_free, MPOOL);

/* Documented in mpool_api.h. */
int mpool_pool_free_rcu(struct mpool_pool *p, void *ptr)
{
	struct mpool_kpool *kp = mpool_kpool(p);
	unsigned long flags;
	int ret;

	if (unlikely(!kp->pcp))
		return mpool_rcu_free(p, MPOOL_NIL, ptr);
	/* The CPU's slot: the CPU number, as its cache's owner id. */
	local_lock_irqsave(&kp->pcp->lock, flags);
	ret = mpool_rcu_free(p, smp_processor_id(), ptr);
	local_unlock_irqrestore(&kp->pcp->lock, flags);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_free_rcu, MPOOL);

/* Documented in mpool_api.h. */
void mpool_pool_rcu_barrier(struct mpool_pool *p)
{
	might_sleep();
	mpool_rcu_barrier(p);
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_rcu_barrier, MPOOL);

/* Documented in mpool_api.h. */
size_t mpool_pool_rcu_pending(struct mpool_pool *p)
{
	return mpool_rcu_pending(p);
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_rcu_pending, MPOOL);

static void mpool_outbox_flush_local(void *arg)
{
	struct mpool_kpool *kp = arg;
	unsigned long flags;

	local_lock_irqsave(&kp->pcp->lock, flags);
	mpool_outbox_flush(&kp->core, &this_cpu_ptr(kp->pcp)->c, NULL);
	local_unlock_irqrestore(&kp->pcp->lock, flags);
}

static void mpool_flush_local(void *arg)
{
	struct mpool_kpool *kp = arg;
	unsigned long flags;

	local_lock_irqsave(&kp->pcp->lock, flags);
	mpool_cache_drain(&kp->core, &this_cpu_ptr(kp->pcp)->c);
	local_unlock_irqrestore(&kp->pcp->lock, flags);
}

/* Documented in mpool_api.h. */
void mpool_pool_flush(struct mpool_pool *p)
{
	struct mpool_kpool *kp = mpool_kpool(p);
	unsigned int cpu;

	if (!kp->pcp)
		return;
	cpus_read_lock();
	/*
	 * Every CPU's unsent remote frees to their owners' queues first, so
	 * that each owner's drain below finds them there.
	 */
	on_each_cpu(mpool_outbox_flush_local, kp, 1);
	on_each_cpu(mpool_flush_local, kp, 1);
	/*
	 * A dead CPU's queue gathers frees of blocks it handed out.  Its cache
	 * was drained when it died; its queue is taken whole by each caller
	 * (two flushes take disjoint parts) and goes to the slab's stack.
	 */
	for_each_possible_cpu(cpu)
		if (!cpu_online(cpu))
			mpool_cache_collect(&kp->core,
					    &per_cpu_ptr(kp->pcp, cpu)->c, NULL);
	cpus_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_flush, MPOOL);

/* Documented in mpool_api.h. */
int mpool_pool_alloc_bulk(struct mpool_pool *p, void **ptrs, size_t n)
{
	struct mpool_kpool *kp = mpool_kpool(p);
	struct mpool_cache *c;
	unsigned long flags;
	int err;

	if (unlikely(!ptrs && n))
		return -EINVAL;
	if (unlikely(!kp->pcp))
		return mpool_slab_alloc_bulk(&p->slab, ptrs, n);
	local_lock_irqsave(&kp->pcp->lock, flags);
	c = &this_cpu_ptr(kp->pcp)->c;
	err = mpool_cache_alloc_bulk(p, c, ptrs, n);
	if (unlikely(err))
		mpool_pool_reclaim(kp);
	local_unlock_irqrestore(&kp->pcp->lock, flags);
	return err;
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_alloc_bulk, MPOOL);

/* Documented in mpool_api.h. */
int mpool_pool_free_bulk(struct mpool_pool *p, void *const *ptrs, size_t n)
{
	struct mpool_kpool *kp = mpool_kpool(p);
	unsigned long flags;
	int first = 0, err;
	size_t i;

	if (unlikely(!ptrs && n))
		return -EINVAL;
	if (unlikely(!kp->pcp)) {
		for (i = 0; i < n; i++) {
			err = mpool_pool_free_nocache(p, ptrs[i]);
			if (err && !first)
				first = err;
		}
		return first;
	}
	local_lock_irqsave(&kp->pcp->lock, flags);
	err = mpool_cache_free_bulk(p, &this_cpu_ptr(kp->pcp)->c, ptrs, n);
	local_unlock_irqrestore(&kp->pcp->lock, flags);
	return err;
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_free_bulk, MPOOL);

/* Documented in mpool_api.h. */
void mpool_pool_stats(struct mpool_pool *p, struct mpool_stats *st)
{
	struct mpool_kpool *kp = mpool_kpool(p);
	size_t cached = 0, pending;
	unsigned int cpu;

	if (kp->pcp)
		for_each_possible_cpu(cpu)
			cached += mpool_cache_held(&per_cpu_ptr(kp->pcp,
								cpu)->c);
	mpool_pool_fill_stats(p, st, cached);
	/* Blocks waiting for a grace period are not in use. */
	pending = mpool_rcu_pending(p);
	st->in_use = st->in_use > pending ? st->in_use - pending : 0;
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_stats, MPOOL);

/* Documented in mpool_api.h. */
long mpool_pool_audit(struct mpool_pool *p)
{
	return mpool_slab_audit(&p->slab);
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_audit, MPOOL);

/* Documented in mpool_api.h. */
void mpool_pool_destroy(struct mpool_pool *p)
{
	struct mpool_kpool *kp;

	if (IS_ERR_OR_NULL(p))
		return;
	kp = mpool_kpool(p);
	/* Deferred frees first: their callbacks write the pool. */
	mpool_rcu_barrier(p);
	mpool_unpublish(&kp->obj);
	/* A drain IPI sent by the last allocations may still be on its way. */
	while (atomic_read_acquire(&kp->drains))
		cpu_relax();
	free_percpu(kp->pcp);
	mpool_rcu_fini(p);
	mpool_pool_fini(p);
	mpool_env_free(kp);
}
EXPORT_SYMBOL_NS_GPL(mpool_pool_destroy, MPOOL);

/* --- hotplug and unload ----------------------------------------------- */

/**
 * mpool_drain_cpu() - give a dead CPU's cached blocks back to every pool.
 * @cpu: a CPU that is offline; nothing runs on it.
 *
 * Context: the CPU hotplug thread; takes mpool_lock.
 */
void mpool_drain_cpu(unsigned int cpu)
{
	struct mpool_kpool *kp;
	struct mpool_obj *obj;

	mutex_lock(&mpool_lock);
	list_for_each_entry(obj, &mpool_objects, node) {
		if (obj->kind != MPOOL_KIND_POOL)
			continue;
		kp = container_of(obj, struct mpool_kpool, obj);
		if (!kp->pcp)
			continue;
		mpool_cache_drain(&kp->core, &per_cpu_ptr(kp->pcp, cpu)->c);
		/* Its open batch of deferred frees: handed over, submitted. */
		mpool_rcu_handover(&kp->core, cpu);
		mpool_rcu_submit(&kp->core, mpool_rcu_shared_slot(&kp->core));
	}
	mutex_unlock(&mpool_lock);
}

/**
 * mpool_destroy_obj() - destroy an allocator its creator left behind.
 * @obj: the allocator.
 *
 * Context: module unload; its creator is gone (it held a reference on this
 * module while loaded), so nothing can touch it any more.
 */
void mpool_destroy_obj(struct mpool_obj *obj)
{
	struct mpool_stats st;

	mpool_obj_stats(obj, &st);
	pr_err("mempool: %s %s was never destroyed (%zu in use); destroying it\n",
	       mpool_kind_name(obj->kind), obj->name, st.in_use);
	switch (obj->kind) {
	case MPOOL_KIND_SLAB:
		mpool_slab_destroy(&container_of(obj, struct mpool_kslab,
						 obj)->core);
		break;
	case MPOOL_KIND_ARENA:
		mpool_arena_destroy(&container_of(obj, struct mpool_karena,
						  obj)->core);
		break;
	default:
		mpool_pool_destroy(&container_of(obj, struct mpool_kpool,
						 obj)->core);
	}
}
