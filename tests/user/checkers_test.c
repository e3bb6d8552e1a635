// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * checkers_test.c - the memory checkers see inside the pools.
 *
 * Each case runs tests/user/victim.c (built beside this binary, with the
 * same flags) with one deliberate bug and checks that the checker reports
 * it at the victim's line: AddressSanitizer in the ASan build (make
 * sanitize), valgrind's memcheck in the plain build.  A case for the other
 * checker skips, saying why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TSAN_BUILD 1
#endif

#define OUT_MAX 65536

/*
 * Run the victim with @scenario (under valgrind when @vg), stderr into
 * @out.  Return: its exit status, or -1 if it could not run.
 */
static int run_victim(const char *scenario, bool vg, char *out)
{
	char exe[PATH_MAX], victim[PATH_MAX + 16];
	ssize_t n, got = 0;
	int fds[2], status;
	pid_t pid;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0 || pipe(fds))
		return -1;
	exe[n] = 0;
	snprintf(victim, sizeof(victim), "%s/victim", dirname(exe));
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(fds[1], 2);
		dup2(open("/dev/null", O_WRONLY), 1);
		close(fds[0]);
		if (vg)
			execlp("valgrind", "valgrind", "--leak-check=full",
			       "--error-exitcode=99", victim, scenario, NULL);
		else
			execl(victim, victim, scenario, NULL);
		_exit(127);
	}
	close(fds[1]);
	while (got < OUT_MAX - 1 &&
	       (n = read(fds[0], out + got, OUT_MAX - 1 - got)) > 0)
		got += n;
	out[got] = 0;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool have_valgrind(void)
{
	return !system("valgrind --version >/dev/null 2>&1");
}

FIXTURE(checker)
{
	char *out;
};

FIXTURE_SETUP(checker)
{
	self->out = malloc(OUT_MAX);
	ASSERT_NE(NULL, self->out);
}

FIXTURE_TEARDOWN(checker)
{
	free(self->out);
}

#define SKIP_UNLESS_ASAN()						\
	do {								\
		if (!IS_ASAN)						\
			SKIP(return, "not an ASan build (make sanitize runs this)"); \
	} while (0)

#define SKIP_UNLESS_VALGRIND()						\
	do {								\
		if (IS_ASAN || IS_TSAN)					\
			SKIP(return, "sanitizer build: valgrind runs on the plain build"); \
		if (!have_valgrind())					\
			SKIP(return, "valgrind is not installed (tools/deps.sh bench)"); \
	} while (0)

#ifdef ASAN_BUILD
#define IS_ASAN 1
#else
#define IS_ASAN 0
#endif
#ifdef TSAN_BUILD
#define IS_TSAN 1
#else
#define IS_TSAN 0
#endif

/* ASan: the bad access, at the victim's line, with the block named. */
static void expect_asan(struct __test_metadata *_metadata, const char *out,
			int rc, const char *access, const char *line,
			const char *mempool_says)
{
	EXPECT_NE(0, rc);
	EXPECT_NE(NULL, strstr(out, "AddressSanitizer: use-after-poison"));
	EXPECT_NE(NULL, strstr(out, access));
	EXPECT_NE(NULL, strstr(out, line));
	if (mempool_says)
		EXPECT_NE(NULL, strstr(out, mempool_says));
	if (_metadata->passed == 0)
		fprintf(stderr, "%s\n", out);
}

TEST_F(checker, asan_pool_use_after_free)
{
	int rc;

	SKIP_UNLESS_ASAN();
	rc = run_victim("pool-uaf", false, self->out);
	expect_asan(_metadata, self->out, rc, "WRITE of size 1", "victim.c:29",
		    "of pool");
	EXPECT_NE(NULL, strstr(self->out, "(use after free)"));
}

TEST_F(checker, asan_pool_overflow)
{
	int rc;

	SKIP_UNLESS_ASAN();
	rc = run_victim("pool-overflow", false, self->out);
	expect_asan(_metadata, self->out, rc, "WRITE of size 1", "victim.c:32",
		    "byte 100 of block");
	EXPECT_NE(NULL, strstr(self->out, "(overflow)"));
}

TEST_F(checker, asan_slab_use_after_free)
{
	int rc;

	SKIP_UNLESS_ASAN();
	rc = run_victim("slab-uaf", false, self->out);
	expect_asan(_metadata, self->out, rc, "READ of size 1", "victim.c:44",
		    "of slab");
}

TEST_F(checker, asan_arena_overflow_and_reset)
{
	int rc;

	SKIP_UNLESS_ASAN();
	rc = run_victim("arena-overflow", false, self->out);
	expect_asan(_metadata, self->out, rc, "WRITE of size 1", "victim.c:47",
		    NULL);
	rc = run_victim("arena-reset", false, self->out);
	expect_asan(_metadata, self->out, rc, "READ of size 1", "victim.c:50",
		    NULL);
}

TEST_F(checker, asan_clean_run)
{
	SKIP_UNLESS_ASAN();
	EXPECT_EQ(0, run_victim("clean", false, self->out));
	EXPECT_EQ(NULL, strstr(self->out, "AddressSanitizer"));
	/* Nor did mempool report a misuse (its default hook's line). */
	EXPECT_EQ(NULL, strstr(self->out, "mempool: "));
}

/* memcheck: the bad access, where it was, and the block's history. */
TEST_F(checker, valgrind_pool_use_after_free)
{
	SKIP_UNLESS_VALGRIND();
	EXPECT_EQ(99, run_victim("pool-uaf", true, self->out));
	EXPECT_NE(NULL, strstr(self->out, "Invalid write of size 1"));
	EXPECT_NE(NULL, strstr(self->out, "victim.c:29"));
	/* memcheck remembers where the pool block was freed. */
	EXPECT_NE(NULL, strstr(self->out, "inside a block of size 100 free'd"));
	EXPECT_NE(NULL, strstr(self->out, "pool_free"));
}

TEST_F(checker, valgrind_pool_overflow)
{
	SKIP_UNLESS_VALGRIND();
	EXPECT_EQ(99, run_victim("pool-overflow", true, self->out));
	EXPECT_NE(NULL, strstr(self->out, "Invalid write of size 1"));
	EXPECT_NE(NULL, strstr(self->out, "victim.c:32"));
}

TEST_F(checker, valgrind_pool_uninitialised)
{
	SKIP_UNLESS_VALGRIND();
	EXPECT_EQ(99, run_victim("pool-uninit", true, self->out));
	EXPECT_NE(NULL, strstr(self->out,
			       "depends on uninitialised value"));
	EXPECT_NE(NULL, strstr(self->out, "victim.c:36"));
}

TEST_F(checker, valgrind_pool_leak)
{
	SKIP_UNLESS_VALGRIND();
	EXPECT_EQ(99, run_victim("pool-leak", true, self->out));
	EXPECT_NE(NULL, strstr(self->out,
			       "100 bytes in 1 blocks are definitely lost"));
	EXPECT_NE(NULL, strstr(self->out, "pool_alloc"));
}

TEST_F(checker, valgrind_slab_and_arena)
{
	SKIP_UNLESS_VALGRIND();
	EXPECT_EQ(99, run_victim("slab-uaf", true, self->out));
	EXPECT_NE(NULL, strstr(self->out, "Invalid read of size 1"));
	EXPECT_NE(NULL, strstr(self->out, "victim.c:44"));
	EXPECT_EQ(99, run_victim("arena-overflow", true, self->out));
	EXPECT_NE(NULL, strstr(self->out, "Invalid write of size 1"));
	EXPECT_NE(NULL, strstr(self->out, "victim.c:47"));
	EXPECT_EQ(99, run_victim("arena-reset", true, self->out));
	EXPECT_NE(NULL, strstr(self->out, "Invalid read of size 1"));
	EXPECT_NE(NULL, strstr(self->out, "victim.c:50"));
}

TEST_F(checker, valgrind_clean_run)
{
	SKIP_UNLESS_VALGRIND();
	EXPECT_EQ(0, run_victim("clean", true, self->out));
	EXPECT_NE(NULL, strstr(self->out, "ERROR SUMMARY: 0 errors"));
	EXPECT_EQ(NULL, strstr(self->out, "mempool: "));
}

TEST_HARNESS_MAIN
