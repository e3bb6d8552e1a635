// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * module.c - mempool.ko: load, unload, CPU hotplug.
 */
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/mutex.h>

#include "internal.h"

static enum cpuhp_state mpool_hp_state;

/* A dead CPU's caches go back to their pools (nothing runs there now). */
static int mpool_cpu_dead(unsigned int cpu)
{
	mpool_drain_cpu(cpu);
	return 0;
}

static int __init mpool_init(void)
{
	int ret;

	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "mempool:dead",
					NULL, mpool_cpu_dead);
	if (ret < 0)
		return ret;
	mpool_hp_state = ret;
	/* Statistics are a debugging aid: the module works without them. */
	mpool_debugfs_root = debugfs_create_dir("mempool", NULL);
	return 0;
}

static void __exit mpool_exit(void)
{
	struct mpool_obj *obj;

	cpuhp_remove_state_nocalls(mpool_hp_state);
	for (;;) {
		mutex_lock(&mpool_lock);
		obj = list_first_entry_or_null(&mpool_objects, struct mpool_obj,
					       node);
		mutex_unlock(&mpool_lock);
		if (!obj)
			break;
		mpool_destroy_obj(obj);
	}
	debugfs_remove_recursive(mpool_debugfs_root);
}

module_init(mpool_init);
module_exit(mpool_exit);

MODULE_DESCRIPTION("Slab, arena and per-CPU pool allocators with misuse detection");
MODULE_AUTHOR("the mempool authors");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_VERSION(MPOOL_VERSION);
