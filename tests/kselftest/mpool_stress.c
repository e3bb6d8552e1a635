// SPDX-License-Identifier: GPL-2.0
/*
 * mpool_stress.c - an in-kernel stress of mempool.ko for the kselftest
 * scripts: one kthread per online CPU allocating from one pool and freeing
 * blocks other CPUs allocated, while the scripts take CPUs offline and back.
 *
 * debugfs, /sys/kernel/debug/mpool_stress/:
 *   run      write "OPS HOLD": each thread does OPS allocations (and as many
 *            frees), then HOLD blocks in all stay allocated; -EBUSY while a
 *            run is going, -EINVAL for anything else.
 *   release  write "1": free the held blocks; -EBUSY while running.
 *   create   write "slab SIZE COUNT DEBUG", "pool SIZE CACHE CAPACITY
 *            DEBUG" or "arena CAPACITY" (DEBUG: 0 or 1): create such an
 *            allocator, fill one block and give it back, destroy it; the
 *            write fails with the create's error.  mpool_fault_inject.sh
 *            runs it while the kernel's fault injection fails allocations.
 *   status   state, the stress's own counts: allocs, frees, held, errors
 *            (a free that failed, a block seen owned twice, a pattern
 *            overwritten); create, the last create's result (0 or a
 *            negative errno); outstanding, mempool.ko's allocations now
 *            (mpool_env_outstanding()).
 * The pool is "mpool_stress" in /sys/kernel/debug/mempool/; the scripts
 * check that its statistics agree with these counts.
 */
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

/* A test: it reads the pool's geometry to index its blocks. */
#include "../../kernel/internal.h"

MODULE_IMPORT_NS(MPOOL);

#define BLOCK		256
#define CAPACITY	8192
#define RING		512
#define MAX_OPS		10000000u

static struct mpool_pool *pool;
static struct dentry *dir;
static DEFINE_MUTEX(control);		/* run and release */
static DECLARE_WAIT_QUEUE_HEAD(idle);
static atomic_t running = ATOMIC_INIT(0);
static atomic_long_t allocs, frees, errors;
static unsigned int ops_per_thread;
static int last_create;

/* Blocks in flight between CPUs. */
static DEFINE_SPINLOCK(ring_lock);
static void *ring[RING];
static unsigned int ring_n;

/* Blocks kept allocated at the end of a run. */
static void **held;
static unsigned int nheld, want_held;

/* One byte per block: set while owned; a second owner is an error. */
static u8 *owned;

static unsigned int block_index(void *p)
{
	return (unsigned int)(((u8 *)p - pool->slab.base) / pool->slab.stride);
}

static void take(void *p)
{
	if (cmpxchg(&owned[block_index(p)], 0, 1) != 0)
		atomic_long_inc(&errors);
	memset(p, 0x5a, BLOCK);
	atomic_long_inc(&allocs);
}

static void give(void *p)
{
	if (memchr_inv(p, 0x5a, BLOCK))
		atomic_long_inc(&errors);
	WRITE_ONCE(owned[block_index(p)], 0);
	if (mpool_pool_free(pool, p))
		atomic_long_inc(&errors);
	else
		atomic_long_inc(&frees);
}

/* give() for @n blocks at once, through one mpool_pool_free_bulk(). */
static void give_bulk(void **v, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		if (memchr_inv(v[k], 0x5a, BLOCK))
			atomic_long_inc(&errors);
		WRITE_ONCE(owned[block_index(v[k])], 0);
	}
	if (mpool_pool_free_bulk(pool, v, n))
		atomic_long_inc(&errors);
	else
		atomic_long_add(n, &frees);
}

/*
 * Every other group of 16 goes through the bulk calls: one all-or-nothing
 * allocation of 16 (one by one when the pool is short), and one bulk free
 * of the blocks this CPU keeps.
 */
static int stress_thread(void *unused)
{
	unsigned int i, k, n = 0, nb;
	void *mine[16], *back[16], *p;
	bool bulk;

	for (i = 0; i < ops_per_thread; i++) {
		bulk = (i / ARRAY_SIZE(mine)) & 1;
		if (bulk && !n && i + ARRAY_SIZE(mine) <= ops_per_thread &&
		    !mpool_pool_alloc_bulk(pool, mine, ARRAY_SIZE(mine))) {
			for (k = 0; k < ARRAY_SIZE(mine); k++)
				take(mine[k]);
			n = ARRAY_SIZE(mine);
			i += n - 1;
			p = mine[0];
		} else {
			p = mpool_pool_alloc(pool);
			if (p) {
				take(p);
				mine[n++] = p;
			}
		}
		if (n == ARRAY_SIZE(mine) || (!p && n)) {
			/* Every other block goes to another CPU. */
			nb = 0;
			while (n) {
				p = mine[--n];
				spin_lock(&ring_lock);
				if ((n & 1) && ring_n < RING) {
					ring[ring_n++] = p;
					p = NULL;
				}
				spin_unlock(&ring_lock);
				if (p && bulk)
					back[nb++] = p;
				else if (p)
					give(p);
			}
			if (nb)
				give_bulk(back, nb);
			spin_lock(&ring_lock);
			p = ring_n ? ring[--ring_n] : NULL;
			spin_unlock(&ring_lock);
			if (p)
				give(p);
		}
		if (!(i & 255))
			cond_resched();
	}
	while (n)
		give(mine[--n]);
	if (atomic_dec_and_test(&running))
		wake_up_all(&idle);
	return 0;
}

/* The last thread is done: drain the ring, keep HOLD blocks. */
static void finish_run(void)
{
	void *p;

	wait_event(idle, !atomic_read(&running));
	while (ring_n) {
		p = ring[--ring_n];
		give(p);
	}
	while (nheld < want_held && (p = mpool_pool_alloc(pool))) {
		take(p);
		held[nheld++] = p;
	}
}

static ssize_t run_write(struct file *f, const char __user *ubuf, size_t len,
			 loff_t *ppos)
{
	unsigned int ops, hold, cpu;
	struct task_struct *t;
	char buf[32];
	int ret = -EINVAL, end = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	/* Exactly two numbers, then at most a newline. */
	if (sscanf(buf, "%u %u%n", &ops, &hold, &end) != 2 ||
	    strspn(buf + end, "\n") != strlen(buf + end) || !ops ||
	    ops > MAX_OPS || hold > CAPACITY / 2)
		return -EINVAL;
	if (!mutex_trylock(&control))
		return -EBUSY;
	if (nheld) {
		ret = -EBUSY;
		goto out;
	}
	ops_per_thread = ops;
	want_held = hold;
	atomic_long_set(&allocs, 0);
	atomic_long_set(&frees, 0);
	atomic_long_set(&errors, 0);
	cpus_read_lock();
	atomic_set(&running, 1);	/* ours, dropped below */
	for_each_online_cpu(cpu) {
		t = kthread_create_on_cpu(stress_thread, NULL, cpu,
					  "mpool_stress/%u");
		if (IS_ERR(t))
			continue;
		atomic_inc(&running);
		wake_up_process(t);
	}
	cpus_read_unlock();
	if (atomic_dec_and_test(&running))
		wake_up_all(&idle);
	finish_run();
	ret = len;
out:
	mutex_unlock(&control);
	return ret;
}

static ssize_t release_write(struct file *f, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	unsigned int v;
	int ret = kstrtouint_from_user(ubuf, len, 10, &v);

	if (ret)
		return ret;
	if (v != 1)
		return -EINVAL;
	if (!mutex_trylock(&control))
		return -EBUSY;
	while (nheld)
		give(held[--nheld]);
	mutex_unlock(&control);
	return len;
}

/* Use one block of @size bytes: fill it, give it back. */
static int use_block(void *p, size_t size)
{
	if (!p)
		return -ENOSPC;
	memset(p, 0x5a, size);
	return 0;
}

static int create_slab(size_t size, size_t count, unsigned int flags)
{
	struct mpool_slab *s = mpool_slab_create("mpool_stress_fi", size,
						 count, flags);
	void *p;
	int ret;

	if (IS_ERR(s))
		return PTR_ERR(s);
	p = mpool_slab_alloc(s);
	ret = use_block(p, size);
	if (!ret)
		ret = mpool_slab_free(s, p);
	mpool_slab_destroy(s);
	return ret;
}

static int create_pool(size_t size, size_t cache, size_t capacity,
		       unsigned int flags)
{
	struct mpool_pool *pl = mpool_pool_create("mpool_stress_fi", size,
						  cache, capacity, flags);
	void *p;
	int ret;

	if (IS_ERR(pl))
		return PTR_ERR(pl);
	p = mpool_pool_alloc(pl);
	ret = use_block(p, size);
	if (!ret)
		ret = mpool_pool_free(pl, p);
	mpool_pool_destroy(pl);
	return ret;
}

static int create_arena(size_t capacity)
{
	struct mpool_arena *a = mpool_arena_create("mpool_stress_fi",
						   capacity);
	int ret;

	if (IS_ERR(a))
		return PTR_ERR(a);
	ret = use_block(mpool_arena_alloc(a, 1), 1);
	mpool_arena_destroy(a);
	return ret;
}

/* "KIND N N ...": the kind, then how many numbers; -EINVAL for junk. */
static int parse_create(char *buf, char *kind, size_t kind_len,
			unsigned long *v, int max)
{
	char *tok, *s = strim(buf);
	int n = 0;

	tok = strsep(&s, " ");
	if (strscpy(kind, tok, kind_len) < 0)
		return -EINVAL;
	while ((tok = strsep(&s, " "))) {
		if (n == max || kstrtoul(tok, 10, &v[n]))
			return -EINVAL;
		n++;
	}
	return n;
}

static ssize_t create_write(struct file *f, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	unsigned long v[4];
	char buf[96], kind[8];
	int n, ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	n = parse_create(buf, kind, sizeof(kind), v, ARRAY_SIZE(v));
	if (!strcmp(kind, "slab") && n == 3 && v[2] < 2)
		ret = create_slab(v[0], v[1], v[2] ? MPOOL_F_DEBUG : 0);
	else if (!strcmp(kind, "pool") && n == 4 && v[3] < 2)
		ret = create_pool(v[0], v[1], v[2], v[3] ? MPOOL_F_DEBUG : 0);
	else if (!strcmp(kind, "arena") && n == 1)
		ret = create_arena(v[0]);
	else
		return -EINVAL;
	WRITE_ONCE(last_create, ret);
	return ret ? ret : len;
}

static int status_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "state %s\nallocs %ld\nfrees %ld\nheld %u\nerrors %ld\n",
		   atomic_read(&running) ? "running" : "idle",
		   atomic_long_read(&allocs), atomic_long_read(&frees),
		   READ_ONCE(nheld), atomic_long_read(&errors));
	seq_printf(m, "create %d\noutstanding %ld\n", READ_ONCE(last_create),
		   mpool_env_outstanding());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(status);

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = run_write,
	.llseek = no_llseek,
};

static const struct file_operations create_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = create_write,
	.llseek = no_llseek,
};

static const struct file_operations release_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = release_write,
	.llseek = no_llseek,
};

static int __init stress_init(void)
{
	held = kcalloc(CAPACITY, sizeof(*held), GFP_KERNEL);
	owned = kzalloc(CAPACITY, GFP_KERNEL);
	pool = mpool_pool_create("mpool_stress", BLOCK, 32, CAPACITY, 0);
	if (!held || !owned || IS_ERR(pool)) {
		if (!IS_ERR(pool))
			mpool_pool_destroy(pool);
		kfree(owned);
		kfree(held);
		return IS_ERR(pool) ? PTR_ERR(pool) : -ENOMEM;
	}
	dir = debugfs_create_dir("mpool_stress", NULL);
	debugfs_create_file("run", 0200, dir, NULL, &run_fops);
	debugfs_create_file("release", 0200, dir, NULL, &release_fops);
	debugfs_create_file("create", 0200, dir, NULL, &create_fops);
	debugfs_create_file("status", 0400, dir, NULL, &status_fops);
	return 0;
}

static void __exit stress_exit(void)
{
	debugfs_remove_recursive(dir);
	while (nheld)
		give(held[--nheld]);
	mpool_pool_destroy(pool);
	kfree(owned);
	kfree(held);
}

module_init(stress_init);
module_exit(stress_exit);

MODULE_DESCRIPTION("mempool.ko stress driver for kselftest");
MODULE_LICENSE("GPL");
