// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * example.c - libmempool's three allocators used the way the spec shows,
 * with a few threads sharing a pool, and the statistics each keeps.
 *
 * Build against an installed library:
 *   cc example.c $(pkg-config --cflags --libs mempool)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <mempool.h>

#define NTHREADS 4
#define PER_THREAD 2000

static mempool_t *pool;
static void *handoff[NTHREADS][64];

static void print_stats(const char *what, const struct mempool_stats *st)
{
	printf("%-6s block %5zu stride %5zu capacity %6zu in_use %6zu free %6zu "
	       "cached %4zu high_water %6zu failed %llu invalid %llu "
	       "double_free %llu\n",
	       what, st->block_size, st->stride, st->capacity, st->in_use,
	       st->free, st->cached, st->high_water,
	       (unsigned long long)st->failed,
	       (unsigned long long)st->invalid,
	       (unsigned long long)st->double_free);
}

/* Each thread allocates, and frees blocks its neighbour allocated. */
static void *worker(void *arg)
{
	long id = (long)arg;
	int i, j;

	for (i = 0; i < PER_THREAD; i++) {
		void *v[16];

		for (j = 0; j < 16; j++) {
			v[j] = pool_alloc(pool);
			if (v[j])
				memset(v[j], (int)id, 256);
		}
		for (j = 0; j < 16; j++)
			pool_free(pool, v[j]);
	}
	for (j = 0; j < 64; j++)
		handoff[id][j] = pool_alloc(pool);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	struct mempool_stats st;
	long i;
	int j;

	/* Slab: fixed-size blocks, lock-free. */
	slab_allocator_t *alloc = slab_create(256, 1000);
	void *ptr = slab_alloc(alloc);

	printf("slab block at %p (64-byte aligned: %s)\n", ptr,
	       ((unsigned long)ptr & 63) ? "no" : "yes");
	slab_free(alloc, ptr);
	fflush(stdout);
	printf("double free returns %d (-EALREADY is %d); the report above "
	       "is the default error hook\n", slab_free(alloc, ptr),
	       -EALREADY);
	slab_stats(alloc, &st);
	print_stats("slab", &st);
	slab_destroy(alloc);

	/* Arena: bump allocation, freed as a whole. */
	arena_allocator_t *arena = arena_create(64 * 1024);
	void *ptr1 = arena_alloc(arena, 256);
	void *ptr2 = arena_alloc(arena, 512);

	printf("arena blocks at %p and %p\n", ptr1, ptr2);
	arena_stats(arena, &st);
	print_stats("arena", &st);
	arena_reset(arena);
	arena_destroy(arena);

	/* Pool: per-thread caches over a shared lock-free depot. */
	pool = pool_create(256, 100, 10000);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pool_stats(pool, &st);
	print_stats("pool", &st);
	/* Blocks allocated by the threads, freed here. */
	for (i = 0; i < NTHREADS; i++)
		for (j = 0; j < 64; j++)
			pool_free(pool, handoff[i][j]);
	pool_cache_flush(pool);
	pool_stats(pool, &st);
	print_stats("pool", &st);
	pool_destroy(pool);
	return st.in_use == 0 && st.cached == 0 ? 0 : 1;
}
