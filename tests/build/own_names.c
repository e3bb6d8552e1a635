// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * own_names.c - a program with its own pool_create() and slab_alloc(),
 * of other types than libmempool's: with MEMPOOL_NO_SHORT_NAMES the header
 * declares neither, and the program uses the library by its mempool_
 * names.  Linked against the static and against the shared library, each
 * call must reach the right function: exit 0 only if it does.
 */
#define MEMPOOL_NO_SHORT_NAMES
#include <mempool.h>
#include <stdio.h>
#include <string.h>

static int own_calls;

/* The program's own, with a signature of its own. */
const char *pool_create(const char *what)
{
	own_calls++;
	return what;
}

int slab_alloc(int x)
{
	own_calls++;
	return x + 1;
}

int main(void)
{
	struct mempool_stats st;
	mempool_t *p;
	slab_allocator_t *s;
	void *b, *c;

	if (strcmp(pool_create("mine"), "mine") || slab_alloc(41) != 42 ||
	    own_calls != 2) {
		fprintf(stderr, "own_names: the program's own calls failed\n");
		return 1;
	}
	p = mempool_pool_create(64, 4, 16);
	s = mempool_slab_create(64, 16);
	b = p ? mempool_pool_alloc(p) : NULL;
	c = s ? mempool_slab_alloc(s) : NULL;
	if (!b || !c || mempool_pool_stats(p, &st) || st.in_use != 1 ||
	    mempool_pool_free(p, b) || mempool_slab_free(s, c)) {
		fprintf(stderr, "own_names: the library's calls failed\n");
		return 2;
	}
	mempool_pool_destroy(p);
	mempool_slab_destroy(s);
	if (own_calls != 2) {
		fprintf(stderr, "own_names: the library called the program's\n");
		return 3;
	}
	printf("own_names: ok, libmempool %s\n", mempool_version());
	return 0;
}
