// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * rculfhash.c - liburcu's lock-free hash table (rculfhash, liburcu-cds)
 * over pool blocks freed with pool_free_rcu(): readers look keys up with
 * no lock while updaters replace and delete nodes, and a node's memory is
 * never reused while a reader may hold it.
 *
 *   rculfhash [-m] [-s SECONDS] [-r READERS] [-u UPDATERS]
 *
 * Every node's value is a function of its key; a reader that found a node
 * whose value does not match (memory reused under it) counts an error, and
 * the program fails.  With -m the nodes come from malloc() and are freed
 * by call_rcu() + free() one by one, the idiomatic alternative: the two
 * lines it prints (updates and lookups per second) are the benchmark of
 * `make bench-rcu`.  Built and run by `make run-rcu-example`.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu.h>		/* the memb flavour */
#include <urcu/rculfhash.h>

#include "mempool.h"

#define NKEYS	4096

struct item {
	struct cds_lfht_node node;
	unsigned long key;
	unsigned long val;	/* key * 7 + 1 while the node is live */
	struct rcu_head rcu;	/* -m only: call_rcu() per node */
};

static struct cds_lfht *ht;
static mempool_t *pool;		/* NULL with -m */
static int stop;
static long errors;

static unsigned long hash_key(unsigned long key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdul;
	return key ^ (key >> 33);
}

static int match(struct cds_lfht_node *node, const void *key)
{
	const struct item *it = caa_container_of(node, struct item, node);

	return it->key == *(const unsigned long *)key;
}

static struct item *item_new(unsigned long key)
{
	struct item *it = pool ? pool_alloc(pool) : malloc(sizeof(*it));

	if (!it)
		return NULL;
	cds_lfht_node_init(&it->node);
	it->key = key;
	it->val = key * 7 + 1;
	return it;
}

static void item_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct item, rcu));
}

/* Unlinked: free once no reader can hold it. */
static void item_retire(struct item *it)
{
	if (pool) {
		if (pool_free_rcu(pool, it))
			__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
	} else {
		call_rcu(&it->rcu, item_free_cb);
	}
}

struct worker {
	pthread_t t;
	unsigned int seed;
	long ops;
};

static void *reader(void *arg)
{
	struct worker *w = arg;
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	struct item *it;
	unsigned long key;

	rcu_register_thread();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		key = (unsigned long)rand_r(&w->seed) % NKEYS;
		rcu_read_lock();
		cds_lfht_lookup(ht, hash_key(key), match, &key, &iter);
		node = cds_lfht_iter_get_node(&iter);
		if (node) {
			it = caa_container_of(node, struct item, node);
			if (CMM_LOAD_SHARED(it->val) != key * 7 + 1 ||
			    CMM_LOAD_SHARED(it->key) != key)
				__atomic_fetch_add(&errors, 1,
						   __ATOMIC_RELAXED);
		}
		rcu_read_unlock();
		w->ops++;
	}
	rcu_unregister_thread();
	return NULL;
}

static void *updater(void *arg)
{
	struct worker *w = arg;
	struct cds_lfht_node *old;
	struct cds_lfht_iter iter;
	struct item *it;
	unsigned long key;

	rcu_register_thread();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		key = (unsigned long)rand_r(&w->seed) % NKEYS;
		if (rand_r(&w->seed) % 4) {
			it = item_new(key);
			if (!it) {	/* the pool is out: wait for frees */
				synchronize_rcu();
				continue;
			}
			rcu_read_lock();
			old = cds_lfht_add_replace(ht, hash_key(key), match,
						   &key, &it->node);
			rcu_read_unlock();
		} else {
			rcu_read_lock();
			cds_lfht_lookup(ht, hash_key(key), match, &key, &iter);
			old = cds_lfht_iter_get_node(&iter);
			if (old && cds_lfht_del(ht, old))
				old = NULL;	/* another updater won */
			rcu_read_unlock();
		}
		if (old)
			item_retire(caa_container_of(old, struct item, node));
		w->ops++;
	}
	rcu_unregister_thread();
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Empty the table, checking every node on the way. */
static long drain(void)
{
	struct cds_lfht_iter iter;
	struct item *it;
	long n = 0;

	rcu_read_lock();
	cds_lfht_for_each_entry(ht, &iter, it, node) {
		if (it->val != it->key * 7 + 1)
			errors++;
		if (!cds_lfht_del(ht, &it->node))
			item_retire(it);
		n++;
	}
	rcu_read_unlock();
	return n;
}

int main(int argc, char **argv)
{
	int nr = 2, nu = 2, secs = 1, i, opt;
	struct mempool_stats st;
	struct worker *w;
	long reads = 0, updates = 0, left;
	double t0, t;

	while ((opt = getopt(argc, argv, "ms:r:u:")) != -1) {
		switch (opt) {
		case 'm':
			pool = (mempool_t *)-1;
			break;
		case 's':
			secs = atoi(optarg);
			break;
		case 'r':
			nr = atoi(optarg);
			break;
		case 'u':
			nu = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-m] [-s SECONDS] [-r READERS] [-u UPDATERS]\n",
				argv[0]);
			return 2;
		}
	}
	if (pool) {
		pool = NULL;
	} else {
		/* Room for the table plus what waits for grace periods. */
		pool = pool_create(sizeof(struct item), 64, 64 * NKEYS);
		if (!pool || pool_set_rcu(pool, &urcu_memb_flavor)) {
			perror("pool_create");
			return 1;
		}
	}
	rcu_register_thread();
	ht = cds_lfht_new(NKEYS, NKEYS, 0, CDS_LFHT_AUTO_RESIZE, NULL);
	if (!ht)
		return 1;
	w = calloc(nr + nu, sizeof(*w));
	for (i = 0; i < nr + nu; i++) {
		w[i].seed = i * 7919 + 1;
		pthread_create(&w[i].t, NULL, i < nr ? reader : updater, &w[i]);
	}
	t0 = now();
	sleep(secs);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nr + nu; i++) {
		pthread_join(w[i].t, NULL);
		if (i < nr)
			reads += w[i].ops;
		else
			updates += w[i].ops;
	}
	t = now() - t0;
	left = drain();
	printf("%s: %d readers, %d updaters, %.2f s: %.0f updates/s, %.0f lookups/s, %ld nodes at the end\n",
	       pool ? "pool_free_rcu" : "malloc+call_rcu", nr, nu, t,
	       updates / t, reads / t, left);
	if (pool) {
		pool_rcu_barrier(pool);
		pool_stats(pool, &st);
		if (getenv("RCU_EXAMPLE_VERBOSE"))
			printf("pool: %llu failed allocations, high water %zu of %zu\n",
			       (unsigned long long)st.failed, st.high_water,
			       st.capacity);
		if (st.in_use || pool_rcu_pending(pool) || st.double_free ||
		    st.invalid)
			errors++;
		pool_destroy(pool);
	} else {
		rcu_barrier();
	}
	cds_lfht_destroy(ht, NULL);
	rcu_unregister_thread();
	free(w);
	if (errors) {
		fprintf(stderr, "rculfhash: %ld errors\n", errors);
		return 1;
	}
	return 0;
}
