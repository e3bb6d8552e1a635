// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * seed_usage.c - the spec's usage example, exactly as the README and the
 * seed show it, inside main(): it must compile unchanged against the
 * installed header and run against the static and the shared library.
 */
#include <mempool.h>

int main(void)
{
	slab_allocator_t *alloc = slab_create(256, 1000);
	void *ptr = slab_alloc(alloc);
	slab_free(alloc, ptr);
	slab_destroy(alloc);

	arena_allocator_t *arena = arena_create(64 * 1024);
	void *ptr1 = arena_alloc(arena, 256);
	void *ptr2 = arena_alloc(arena, 512);
	arena_reset(arena);
	arena_destroy(arena);

	mempool_t *pool = pool_create(256, 100, 10000);   /* block, per-thread cache, capacity */
	void *p = pool_alloc(pool);
	pool_free(pool, p);
	pool_destroy(pool);

	return !(ptr && ptr1 && ptr2 && p);
}
