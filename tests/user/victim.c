// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * victim.c - a program with one deliberate memory bug, for checkers_test:
 * the memory checkers (ASan, valgrind memcheck) must report it, naming the
 * line here.  "victim SCENARIO"; "clean" has no bug at all.
 */
#include <stdio.h>
#include <string.h>

#include "mempool.h"

static volatile char sink;

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	mempool_t *p = pool_create(100, 8, 64);
	slab_allocator_t *s = slab_create(100, 64);
	arena_allocator_t *a = arena_create(4096);
	char *b = pool_alloc(p), *c = slab_alloc(s), *d = arena_alloc(a, 100);

	if (!p || !s || !a || !b || !c || !d)
		return 2;
	memset(b, 1, 100);
	memset(c, 1, 100);
	memset(d, 1, 100);
	if (!strcmp(what, "pool-uaf")) {
		pool_free(p, b);
		b[3] = 7;			/* BUG: write after free */
		b = pool_alloc(p);
	} else if (!strcmp(what, "pool-overflow")) {
		b[100] = 7;			/* BUG: one past the block */
	} else if (!strcmp(what, "pool-uninit")) {
		char *u = pool_alloc(p);

		if (u[7] == 42)			/* BUG: never written */
			sink = 1;
		pool_free(p, u);
	} else if (!strcmp(what, "pool-leak")) {
		b = NULL;			/* BUG: the block is lost */
		return 0;
	} else if (!strcmp(what, "slab-uaf")) {
		slab_free(s, c);
		sink = c[10];			/* BUG: read after free */
		c = slab_alloc(s);
	} else if (!strcmp(what, "arena-overflow")) {
		d[100] = 7;			/* BUG: past the allocation */
	} else if (!strcmp(what, "arena-reset")) {
		arena_reset(a);
		sink = d[0];			/* BUG: used after reset */
		d = arena_alloc(a, 100);
	} else if (strcmp(what, "clean")) {
		fprintf(stderr, "victim: unknown scenario '%s'\n", what);
		return 2;
	}
	pool_free(p, b);
	slab_free(s, c);
	pool_destroy(p);
	slab_destroy(s);
	arena_destroy(a);
	return 0;
}
