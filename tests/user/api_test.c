// SPDX-License-Identifier: GPL-2.0
/*
 * api_test.c - libmempool's userspace-only surface: NULL arguments, the
 * error hook and its default line, aborting on misuse, out-of-memory at
 * every create-time allocation, and the registry limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mempool.h"
#include "mpool_testing.h"
#include "kselftest_harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
int __lsan_do_recoverable_leak_check(void);
#endif
#if defined(__SANITIZE_THREAD__)
#define HAVE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HAVE_TSAN 1
#endif
#endif

TEST(null_allocators)
{
	struct mempool_stats st;
	int x;

	errno = 0;
	EXPECT_EQ(NULL, slab_alloc(NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, pool_alloc(NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, arena_alloc(NULL, 64));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, slab_free(NULL, &x));
	EXPECT_EQ(-EINVAL, pool_free(NULL, &x));
	EXPECT_EQ(-EINVAL, slab_stats(NULL, &st));
	EXPECT_EQ(-EINVAL, pool_stats(NULL, &st));
	EXPECT_EQ(-EINVAL, arena_stats(NULL, &st));
	EXPECT_EQ(-EINVAL, pool_cache_flush(NULL));
	slab_destroy(NULL);
	pool_destroy(NULL);
	arena_destroy(NULL);
	arena_reset(NULL);
}

TEST(errno_on_exhaustion)
{
	slab_allocator_t *s = slab_create(64, 1);
	mempool_t *p = pool_create(64, 1, 1);
	arena_allocator_t *a = arena_create(64);
	struct mempool_stats st;
	void *b;

	ASSERT_NE(NULL, s);
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, a);
	b = slab_alloc(s);
	ASSERT_NE(NULL, b);
	errno = 0;
	EXPECT_EQ(NULL, slab_alloc(s));
	EXPECT_EQ(ENOMEM, errno);
	ASSERT_NE(NULL, pool_alloc(p));
	errno = 0;
	EXPECT_EQ(NULL, pool_alloc(p));
	EXPECT_EQ(ENOMEM, errno);
	ASSERT_NE(NULL, arena_alloc(a, 64));
	errno = 0;
	EXPECT_EQ(NULL, arena_alloc(a, 1));
	EXPECT_EQ(ENOMEM, errno);
	errno = 0;
	EXPECT_EQ(NULL, arena_alloc(a, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, pool_create(64, 3, 2));	/* cache larger than pool */
	EXPECT_EQ(EINVAL, errno);
	/* Running out is not a misuse: none was counted. */
	ASSERT_EQ(0, slab_stats(s, &st));
	EXPECT_EQ(0, st.invalid + st.double_free + st.corrupt);
	ASSERT_EQ(0, pool_stats(p, &st));
	EXPECT_EQ(0, st.invalid + st.double_free + st.corrupt);
	slab_destroy(s);
	pool_destroy(p);
	arena_destroy(a);
}

struct seen {
	int n;
	struct mempool_error last;
};

static void record(const struct mempool_error *e, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->last = *e;
}

TEST(custom_hook_sees_each_misuse)
{
	mempool_t *p = pool_create(64, 4, 8);
	slab_allocator_t *s = slab_create(64, 8);
	struct mempool_stats st;
	struct seen seen = { 0 };
	void *a, *b;
	int x;

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, s);
	mempool_set_error_hook(record, &seen);
	a = pool_alloc(p);
	ASSERT_EQ(0, pool_free(p, a));
	EXPECT_EQ(-EALREADY, pool_free(p, a));
	EXPECT_EQ(1, seen.n);
	EXPECT_STREQ("pool", seen.last.kind);
	EXPECT_EQ(p, seen.last.allocator);
	EXPECT_EQ(a, seen.last.ptr);
	EXPECT_EQ(-EALREADY, seen.last.err);
	EXPECT_STREQ("double free", seen.last.what);
	EXPECT_EQ(-EINVAL, pool_free(p, &x));
	EXPECT_EQ(2, seen.n);
	EXPECT_EQ(-EINVAL, seen.last.err);
	b = slab_alloc(s);
	EXPECT_EQ(-EINVAL, slab_free(s, (char *)b + 1));
	EXPECT_EQ(3, seen.n);
	EXPECT_STREQ("slab", seen.last.kind);
	EXPECT_EQ(s, seen.last.allocator);
	EXPECT_EQ(0, slab_free(s, b));
	EXPECT_EQ(0, pool_free(p, NULL));	/* not a misuse */
	EXPECT_EQ(3, seen.n);
	EXPECT_TRUE(record == mempool_set_error_hook(NULL, NULL));
	ASSERT_EQ(0, pool_stats(p, &st));
	EXPECT_EQ(1, st.double_free);
	EXPECT_EQ(1, st.invalid);
	pool_destroy(p);
	slab_destroy(s);
}

/*
 * The cache's fast allocation checks a block's state word: a cached block
 * whose word was overwritten (here through the testing hook; in life a
 * stray write into the allocator's metadata) is reported and never handed
 * out, in a pool without debug mode too, where only the fast path looks
 * (tools/mutants.sh: alloc-fast-any-state).
 */
TEST(cached_block_with_corrupt_word_not_handed_out)
{
	mempool_t *p = pool_create(64, 4, 8);
	struct mempool_stats st;
	struct seen seen = { 0 };
	uint64_t *word;
	void *a, *b;

	ASSERT_NE(NULL, p);
	mempool_set_error_hook(record, &seen);
	a = pool_alloc(p);
	ASSERT_NE(NULL, a);
	/* Into this thread's cache, on top: the next allocation's pick. */
	ASSERT_EQ(0, pool_free(p, a));
	word = mpool_testing_state_word(p, a);
	ASSERT_NE(NULL, word);
	__atomic_store_n(word, __atomic_load_n(word, __ATOMIC_RELAXED) ^ 1,
			 __ATOMIC_RELAXED);
	b = pool_alloc(p);
	EXPECT_NE(NULL, b);
	EXPECT_NE(a, b);
	EXPECT_EQ(1, seen.n);
	EXPECT_EQ(-EUCLEAN, seen.last.err);
	EXPECT_EQ(a, seen.last.ptr);
	ASSERT_EQ(0, pool_stats(p, &st));
	EXPECT_EQ(1, st.corrupt);
	mempool_set_error_hook(NULL, NULL);
	EXPECT_EQ(0, pool_free(p, b));
	pool_destroy(p);
}

/* The default hook writes one line naming kind, misuse and pointer. */
TEST(default_hook_writes_one_line)
{
	mempool_t *p = pool_create(64, 4, 8);
	char buf[512], want[64];
	int fds[2], saved;
	ssize_t n;
	void *a;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, pipe(fds));
	a = pool_alloc(p);
	ASSERT_EQ(0, pool_free(p, a));
	fflush(stderr);
	saved = dup(2);
	ASSERT_EQ(2, dup2(fds[1], 2));
	EXPECT_EQ(-EALREADY, pool_free(p, a));
	fflush(stderr);
	ASSERT_EQ(2, dup2(saved, 2));
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = 0;
	snprintf(want, sizeof(want), "%p", a);
	EXPECT_NE(NULL, strstr(buf, "mempool: pool"));
	EXPECT_NE(NULL, strstr(buf, "double free"));
	EXPECT_NE(NULL, strstr(buf, want));
	EXPECT_NE(NULL, strstr(buf, "EALREADY"));
	EXPECT_EQ(strlen(buf) - 1, (size_t)(strchr(buf, '\n') - buf));
	pool_destroy(p);
}

/* Hardened deployments: the abort hook ends the process. */
TEST(abort_hook_aborts)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		slab_allocator_t *s = slab_create(64, 8);
		void *a = slab_alloc(s);

		close(2);	/* keep the expected line out of the log */
		mempool_set_error_hook(mempool_error_abort, NULL);
		slab_free(s, a);
		slab_free(s, a);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGABRT, WTERMSIG(status));
}

/* ... and so does MEMPOOL_ABORT_ON_ERROR=1, read at load time. */
TEST(abort_on_error_environment)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		setenv("MPT_DOUBLE_FREE_AND_EXIT", "1", 1);
		setenv("MEMPOOL_ABORT_ON_ERROR", "1", 1);
		execl("/proc/self/exe", "api_test", (char *)NULL);
		_exit(3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGABRT, WTERMSIG(status));
}

/* The re-executed child of abort_on_error_environment. */
__attribute__((constructor)) static void double_free_and_exit(void)
{
	slab_allocator_t *s;
	void *a;

	if (!getenv("MPT_DOUBLE_FREE_AND_EXIT"))
		return;
	s = slab_create(64, 8);
	a = slab_alloc(s);
	slab_free(s, a);
	slab_free(s, a);
	_exit(0);	/* reached only if the misuse did not abort */
}

/*
 * Make each allocation and mapping of a create fail in turn: each gives
 * NULL with ENOMEM, and nothing leaks.
 */
static void *make(int kind)
{
	switch (kind) {
	case 0:
		return slab_create(256, 100);
	case 1:
		return pool_create(256, 16, 100);
	default:
		return arena_create(4096);
	}
}

static void unmake(int kind, void *a)
{
	if (kind == 0)
		slab_destroy(a);
	else if (kind == 1)
		pool_destroy(a);
	else
		arena_destroy(a);
}

TEST(create_fails_cleanly_at_each_allocation)
{
	long before, after;
	int kind, faults;
	long n;
	void *a;

	for (kind = 0; kind < 3; kind++) {
		unmake(kind, make(kind));	/* warm up one-time setup */
		before = mpool_env_outstanding();
		faults = 0;
		for (n = 0; n < 64; n++) {
			mpool_env_fail_after(n);
			errno = 0;
			a = make(kind);
			mpool_env_fail_after(-1);
			if (a) {
				unmake(kind, a);
				break;
			}
			EXPECT_EQ(ENOMEM, errno);
			faults++;
		}
		EXPECT_LT(0, faults);
		EXPECT_GT(64, n);
		after = mpool_env_outstanding();
		EXPECT_EQ(before, after);
		TH_LOG("kind %d: %d create-time allocations failed in turn",
		       kind, faults);
	}
#ifdef HAVE_LSAN
	EXPECT_EQ(0, __lsan_do_recoverable_leak_check());
#endif
}

/* MEMPOOL_MAX_ALLOCATORS slabs and pools at once, then EMFILE. */
TEST(registry_limit)
{
	slab_allocator_t **v = calloc(MEMPOOL_MAX_ALLOCATORS + 1, sizeof(*v));
	size_t n = 0, i;

	ASSERT_NE(NULL, v);
	while (n <= MEMPOOL_MAX_ALLOCATORS && (v[n] = slab_create(64, 1)))
		n++;
	EXPECT_EQ(MEMPOOL_MAX_ALLOCATORS, n);
	EXPECT_EQ(EMFILE, errno);
	errno = 0;
	EXPECT_EQ(NULL, pool_create(64, 1, 1));
	EXPECT_EQ(EMFILE, errno);
	slab_destroy(v[0]);
	v[0] = slab_create(64, 1);
	EXPECT_NE(NULL, v[0]);
	for (i = 0; i < n; i++)
		slab_destroy(v[i]);
	free(v);
}

/*
 * A create whose segment cannot be mapped fails before it touches its
 * metadata: a slab of 2^24 blocks of 64 bytes (a 1 GiB segment, 128 MiB of
 * metadata) in a process limited to 512 MiB of address space gets ENOMEM
 * and leaves its peak resident size where it was.
 */
TEST(create_maps_before_touching_metadata)
{
	int status;
	pid_t pid;

#if defined(HAVE_LSAN) || defined(HAVE_TSAN)
	SKIP(return, "a sanitizer's shadow memory needs more address space than the limit under test");
#endif
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct rlimit lim = { 512ul << 20, 512ul << 20 };
		struct rusage before, after;
		slab_allocator_t *s;

		if (setrlimit(RLIMIT_AS, &lim) || getrusage(RUSAGE_SELF, &before))
			_exit(10);
		errno = 0;
		s = slab_create(64, (size_t)1 << 24);
		if (s || errno != ENOMEM)
			_exit(11);
		if (getrusage(RUSAGE_SELF, &after))
			_exit(10);
		/* ru_maxrss is in KiB: 16 MiB of slack, 128 MiB if touched. */
		_exit(after.ru_maxrss - before.ru_maxrss > 16 * 1024 ? 12 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
