// SPDX-License-Identifier: GPL-2.0
/*
 * keys_test.c - libmempool when the application has taken every pthread
 * key before the library's first create: no thread cache may then be made
 * whose blocks a thread exit could strand.  A binary of its own, because
 * the library claims its key once per process (the harness runs each test
 * in a fresh child of this one, before any create).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include "mempool.h"
#include "kselftest_harness.h"

#define THREADS	10
#define EACH	4

static mempool_t *the_pool;

/* Take a few blocks, give them back, and exit. */
static void *use_and_exit(void *arg)
{
	void *v[EACH];
	int i;

	(void)arg;
	for (i = 0; i < EACH; i++)
		v[i] = pool_alloc(the_pool);
	for (i = 0; i < EACH; i++)
		if (!v[i] || pool_free(the_pool, v[i]))
			return (void *)1;
	return NULL;
}

/* Create keys until the system refuses one; return how many. */
static int take_every_key(void)
{
	pthread_key_t k;
	int n = 0;

	while (!pthread_key_create(&k, NULL))
		n++;
	return n;
}

TEST(no_keys_left_nothing_stranded)
{
	struct mempool_stats st;
	void *v[THREADS * EACH];
	pthread_t t[THREADS];
	void *ret;
	int i;

	ASSERT_LT(0, take_every_key());
	the_pool = pool_create(64, 8, THREADS * EACH);
	ASSERT_NE(NULL, the_pool);
	for (i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_create(&t[i], NULL, use_and_exit, NULL));
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		EXPECT_EQ(NULL, ret);
	}
	/* Every block is allocatable again, from this thread. */
	for (i = 0; i < THREADS * EACH; i++) {
		v[i] = pool_alloc(the_pool);
		ASSERT_NE(NULL, v[i]);
	}
	ASSERT_EQ(0, pool_stats(the_pool, &st));
	EXPECT_EQ(THREADS * EACH, st.in_use);
	EXPECT_EQ(0, st.cached);
	EXPECT_EQ(0, st.invalid + st.double_free + st.corrupt);
	for (i = 0; i < THREADS * EACH; i++)
		EXPECT_EQ(0, pool_free(the_pool, v[i]));
	pool_destroy(the_pool);
}

TEST_HARNESS_MAIN
