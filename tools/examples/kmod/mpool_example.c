// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * mpool_example.c - a kernel module that uses mempool.ko the documented way.
 *
 * It includes the one API header (mpool_api.h), imports the MPOOL symbol
 * namespace, and is linked against mempool.ko's Module.symvers (see
 * ./Kbuild), so that it loads only after mempool.ko and holds a reference
 * on it while loaded.
 *
 * On load it creates a pool, takes every block, writes a pattern into each,
 * checks the patterns, gives every block back, reads the pool's statistics
 * and prints one line, which tests/kselftest/mpool_example.sh looks for:
 *
 *   mpool_example: 64 blocks of 256 bytes: 64 allocated, 64 freed, in use 0
 *
 * Anything else fails the load.  The pool lives until the module is
 * unloaded (/sys/kernel/debug/mempool/mpool_example/stats meanwhile).
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mpool_api.h"

MODULE_IMPORT_NS(MPOOL);

#define EXAMPLE_BLOCKS	64
#define EXAMPLE_SIZE	256
#define EXAMPLE_CACHE	16

static struct mpool_pool *pool;

/* Take up to @n blocks into @blocks, each filled with its index. */
static unsigned int example_fill(void **blocks, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		blocks[i] = mpool_pool_alloc(pool);
		if (!blocks[i])
			break;
		memset(blocks[i], i & 0xff, EXAMPLE_SIZE);
	}
	return i;
}

/* Check each block's pattern and give it back; return how many went back. */
static unsigned int example_drain(void **blocks, unsigned int n)
{
	unsigned int i, freed = 0;

	for (i = 0; i < n; i++) {
		const u8 *b = blocks[i];

		if (b[0] != (i & 0xff) || b[EXAMPLE_SIZE - 1] != (i & 0xff))
			continue;
		if (mpool_pool_free(pool, blocks[i]) == 0)
			freed++;
	}
	return freed;
}

static int __init mpool_example_init(void)
{
	struct mpool_stats st;
	unsigned int got, freed;
	void **blocks;

	pool = mpool_pool_create("mpool_example", EXAMPLE_SIZE, EXAMPLE_CACHE,
				 EXAMPLE_BLOCKS, 0);
	if (IS_ERR(pool))
		return PTR_ERR(pool);

	blocks = kcalloc(EXAMPLE_BLOCKS, sizeof(*blocks), GFP_KERNEL);
	if (!blocks) {
		mpool_pool_destroy(pool);
		return -ENOMEM;
	}
	got = example_fill(blocks, EXAMPLE_BLOCKS);
	freed = example_drain(blocks, got);
	kfree(blocks);

	mpool_pool_stats(pool, &st);
	pr_info("mpool_example: %u blocks of %zu bytes: %u allocated, %u freed, in use %zu\n",
		EXAMPLE_BLOCKS, st.block_size, got, freed, st.in_use);
	if (got != EXAMPLE_BLOCKS || freed != got || st.in_use) {
		mpool_pool_destroy(pool);
		return -EIO;
	}
	return 0;
}

static void __exit mpool_example_exit(void)
{
	mpool_pool_destroy(pool);
}

module_init(mpool_example_init);
module_exit(mpool_example_exit);

MODULE_DESCRIPTION("An example user of mempool.ko's pool");
MODULE_AUTHOR("the mempool authors");
MODULE_LICENSE("Dual MIT/GPL");
