// SPDX-License-Identifier: GPL-2.0
/*
 * report_test.c - what a misuse report says: the allocator's name
 * (slab_set_name() and friends), the application's call site (each entry
 * point that can report hands the hook the return address of the call),
 * the default hook's line, and the boolean environment variables.
 *
 * Built with -rdynamic (see the Makefile), so dladdr() finds this file's
 * global functions by name: each misuse below is made from a global
 * noinline function, and the hook's caller must resolve to it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mempool.h"
#include "mpool_env.h"
#include "kselftest_harness.h"

#define CALLER_FN __attribute__((noinline, used, visibility("default")))

struct seen {
	int n;
	struct mempool_error last;
	char name[MEMPOOL_NAME_MAX + 1];
	char fn[64];
};

static struct seen seen;

/* The hook: keep the report, and the name of the function it points at. */
static void record(const struct mempool_error *e, void *arg)
{
	Dl_info info;

	(void)arg;
	seen.n++;
	seen.last = *e;
	snprintf(seen.name, sizeof(seen.name), "%s", e->name ? e->name : "");
	seen.fn[0] = 0;
	if (e->caller && dladdr(e->caller, &info) && info.dli_sname)
		snprintf(seen.fn, sizeof(seen.fn), "%s", info.dli_sname);
}

/* A stray write: ASan must not stop it, the allocator must catch it. */
__attribute__((no_sanitize_address, noinline))
static void poke(void *p, size_t n, int c)
{
	volatile unsigned char *q = p;

	while (n--)
		*q++ = (unsigned char)c;
}

/*
 * Each makes one call into the library, which finds a misuse; the barrier
 * keeps it a call (a tail call would return straight to our caller).
 */
static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

CALLER_FN int rt_pool_free(mempool_t *p, void *ptr)
{
	int ret = pool_free(p, ptr);

	barrier();
	return ret;
}

CALLER_FN void *rt_pool_alloc(mempool_t *p)
{
	void *ret = pool_alloc(p);

	barrier();
	return ret;
}

CALLER_FN int rt_slab_free(slab_allocator_t *s, void *ptr)
{
	int ret = slab_free(s, ptr);

	barrier();
	return ret;
}

CALLER_FN void *rt_slab_alloc(slab_allocator_t *s)
{
	void *ret = slab_alloc(s);

	barrier();
	return ret;
}

CALLER_FN long rt_slab_audit(slab_allocator_t *s)
{
	long ret = slab_audit(s);

	barrier();
	return ret;
}

CALLER_FN long rt_pool_audit(mempool_t *p)
{
	long ret = pool_audit(p);

	barrier();
	return ret;
}

/* The report of the last call names @fn as the caller, and the hook ran. */
#define EXPECT_REPORT(n_before, err_, fn_)				\
	do {								\
		EXPECT_EQ((n_before) + 1, seen.n);			\
		EXPECT_EQ(err_, seen.last.err);				\
		EXPECT_NE(NULL, seen.last.caller);			\
		EXPECT_STREQ(fn_, seen.fn);				\
		EXPECT_EQ(NULL, mpool_env_caller);			\
	} while (0)

TEST(names_are_copied_and_bounded)
{
	char longname[100], buf[16];
	slab_allocator_t *s = slab_create(64, 4);
	mempool_t *p = pool_create(64, 2, 8);
	arena_allocator_t *a = arena_create(4096);
	void *b;

	ASSERT_NE(NULL, s);
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, a);
	mempool_set_error_hook(record, NULL);

	/* Unnamed: the report has no name. */
	b = slab_alloc(s);
	EXPECT_EQ(-EINVAL, slab_free(s, (char *)b + 1));
	EXPECT_EQ(NULL, seen.last.name);

	/* The name is copied: the caller's buffer may change. */
	strcpy(buf, "frames");
	EXPECT_EQ(0, slab_set_name(s, buf));
	strcpy(buf, "changed");
	EXPECT_EQ(-EINVAL, slab_free(s, (char *)b + 1));
	EXPECT_STREQ("frames", seen.name);
	EXPECT_STREQ("slab", seen.last.kind);

	/* At most MEMPOOL_NAME_MAX - 1 bytes are kept. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	EXPECT_EQ(0, pool_set_name(p, longname));
	EXPECT_EQ(0, pool_free(p, pool_alloc(p)));
	EXPECT_EQ(-EINVAL, pool_free(p, &buf));
	EXPECT_EQ(MEMPOOL_NAME_MAX - 1, strlen(seen.name));
	EXPECT_EQ(0, strncmp(seen.name, longname, MEMPOOL_NAME_MAX - 1));
	EXPECT_STREQ("pool", seen.last.kind);

	/* Renamed, then unnamed again. */
	EXPECT_EQ(0, pool_set_name(p, "msgs"));
	EXPECT_EQ(-EINVAL, pool_free(p, &buf));
	EXPECT_STREQ("msgs", seen.name);
	EXPECT_EQ(0, pool_set_name(p, NULL));
	EXPECT_EQ(-EINVAL, pool_free(p, &buf));
	EXPECT_EQ(NULL, seen.last.name);

	EXPECT_EQ(0, arena_set_name(a, "scratch"));
	EXPECT_EQ(0, arena_set_name(a, NULL));
	EXPECT_EQ(-EINVAL, slab_set_name(NULL, "x"));
	EXPECT_EQ(-EINVAL, pool_set_name(NULL, "x"));
	EXPECT_EQ(-EINVAL, arena_set_name(NULL, "x"));

	EXPECT_EQ(0, slab_free(s, b));
	slab_destroy(s);
	pool_destroy(p);
	arena_destroy(a);
}

/* Every entry point that can report names the application's call. */
TEST(caller_is_the_applications_call)
{
	slab_allocator_t *s = slab_create_flags(64, 4, MEMPOOL_DEBUG);
	mempool_t *p = pool_create(64, 2, 8);
	mempool_t *d = pool_create_flags(64, 2, 8, MEMPOOL_DEBUG);
	void *b, *c;
	int n;

	ASSERT_NE(NULL, s);
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, d);
	mempool_set_error_hook(record, NULL);

	/* pool_free: a double free, found past the fast path. */
	b = pool_alloc(p);
	ASSERT_EQ(0, pool_free(p, b));
	n = seen.n;
	EXPECT_EQ(-EALREADY, rt_pool_free(p, b));
	EXPECT_REPORT(n, -EALREADY, "rt_pool_free");
	EXPECT_EQ(p, seen.last.allocator);
	EXPECT_EQ(b, seen.last.ptr);

	/* pool_free: a pointer that is no block of the pool. */
	n = seen.n;
	EXPECT_EQ(-EINVAL, rt_pool_free(p, &n));
	EXPECT_REPORT(n, -EINVAL, "rt_pool_free");

	/* pool_alloc: a cached free block written after its free. */
	b = pool_alloc(d);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, pool_free(d, b));
	poke(b, 1, 0);
	n = seen.n;
	c = rt_pool_alloc(d);
	EXPECT_NE(NULL, c);
	EXPECT_NE(b, c);
	EXPECT_REPORT(n, -EUCLEAN, "rt_pool_alloc");

	/* pool_audit: an allocated block's red zone overwritten. */
	poke((char *)c + 64, 1, 0);
	n = seen.n;
	EXPECT_EQ(1, rt_pool_audit(d));
	EXPECT_REPORT(n, -EUCLEAN, "rt_pool_audit");

	/* slab_free: a double free; an interior pointer. */
	b = slab_alloc(s);
	ASSERT_EQ(0, slab_free(s, b));
	n = seen.n;
	EXPECT_EQ(-EALREADY, rt_slab_free(s, b));
	EXPECT_REPORT(n, -EALREADY, "rt_slab_free");
	n = seen.n;
	EXPECT_EQ(-EINVAL, rt_slab_free(s, (char *)b + 8));
	EXPECT_REPORT(n, -EINVAL, "rt_slab_free");

	/* slab_audit, then slab_alloc: a free block written after its free. */
	poke(b, 1, 0);
	n = seen.n;
	EXPECT_EQ(1, rt_slab_audit(s));
	EXPECT_REPORT(n, -EUCLEAN, "rt_slab_audit");
	n = seen.n;
	while ((c = rt_slab_alloc(s)))
		;
	EXPECT_REPORT(n, -EUCLEAN, "rt_slab_alloc");

	slab_destroy(s);
	pool_destroy(p);
	pool_destroy(d);
}

/* The default hook's line, with a name and a call site. */
typedef int free_fn(mempool_t *p, void *b);

static int stderr_of_double_free(mempool_t *p, void *b, free_fn *fn,
				 char *buf, size_t len)
{
	int fds[2], saved;
	ssize_t n;

	if (pipe(fds))
		return -1;
	fflush(stderr);
	saved = dup(2);
	dup2(fds[1], 2);
	fn(p, b);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, len - 1);
	close(fds[0]);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* Not in the dynamic symbol table: reported as FILE+OFFSET. */
static __attribute__((noinline)) int static_free(mempool_t *p, void *b)
{
	int ret = pool_free(p, b);

	barrier();
	return ret;
}

TEST(default_line)
{
	char buf[1024], want[512], exe[256];
	struct link_map *map = NULL;
	mempool_t *p = pool_create(64, 2, 8);
	const void *site;
	Dl_info info;
	void *b;

	ASSERT_NE(NULL, p);
	b = pool_alloc(p);
	ASSERT_EQ(0, pool_free(p, b));
	ASSERT_EQ(0, pool_set_name(p, "msgs"));

	/* A function dladdr() knows: FILE(function+0xOFF). */
	ASSERT_EQ(0, stderr_of_double_free(p, b, rt_pool_free, buf,
					   sizeof(buf)));
	ASSERT_NE(0, dladdr((void *)rt_pool_free, &info));
	snprintf(exe, sizeof(exe), "%s", info.dli_fname);
	snprintf(want, sizeof(want),
		 "mempool: pool \"msgs\" (%p): double free: %p by the call at %s(rt_pool_free+0x",
		 (void *)p, b, exe);
	EXPECT_EQ(0, strncmp(buf, want, strlen(want)));
	EXPECT_NE(NULL, strstr(buf, ") (-EALREADY)\n"));
	EXPECT_EQ(strlen(buf) - 1, (size_t)(strchr(buf, '\n') - buf));
	if (_metadata->passed == 0)
		TH_LOG("line: %s want: %s", buf, want);

	/*
	 * A static function: FILE+0xOFF, OFF as addr2line takes it.  The
	 * hook gives the exact address to compare with.
	 */
	mempool_set_error_hook(record, NULL);
	EXPECT_EQ(-EALREADY, static_free(p, b));
	site = seen.last.caller;
	ASSERT_NE(NULL, site);
	EXPECT_STREQ("", seen.fn);
	ASSERT_NE(0, dladdr1(site, &info, (void **)&map, RTLD_DL_LINKMAP));
	mempool_set_error_hook(NULL, NULL);
	ASSERT_EQ(0, pool_set_name(p, NULL));
	ASSERT_EQ(0, stderr_of_double_free(p, b, static_free, buf,
					   sizeof(buf)));
	snprintf(want, sizeof(want),
		 "mempool: pool %p: double free: %p by the call at %s+%#zx (-EALREADY)\n",
		 (void *)p, b, exe, (size_t)((uintptr_t)site - map->l_addr));
	EXPECT_STREQ(want, buf);
	pool_destroy(p);
}

/*
 * Run @fn in a child with @var=@val in its environment and stderr into a
 * pipe; return its wait status and, in @warnings, how many of its stderr
 * lines mention @var.
 */
static int in_child(const char *var, const char *val, int (*fn)(void),
		    int *warnings)
{
	char buf[4096], *q;
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(fds[1], 2);
		close(fds[0]);
		setenv(var, val, 1);
		_exit(fn());
	}
	close(fds[1]);
	while (got < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	*warnings = 0;
	for (q = buf; (q = strstr(q, var)); q += strlen(var))
		(*warnings)++;
	return status;
}

/* Exit 1 if three slabs are made in debug mode, 0 if none, else 2. */
static int debug_mode(void)
{
	struct mempool_stats st;
	int i, on = 0;

	for (i = 0; i < 3; i++) {
		slab_allocator_t *s = slab_create(64, 1);

		if (!s || slab_stats(s, &st))
			return 3;
		on += st.stride > 64;	/* a red zone */
		slab_destroy(s);
	}
	return on == 3 ? 1 : on == 0 ? 0 : 2;
}

/* A double free and two more misuses: aborts or exits 0. */
static int misuse(void)
{
	slab_allocator_t *s = slab_create(64, 1);
	void *b = slab_alloc(s);

	slab_free(s, b);
	slab_free(s, b);
	slab_free(s, (char *)b + 1);
	slab_free(s, b);
	return 0;
}

static const char *const on_values[] = { "1", "true", "TRUE", "Yes", "on",
					 "ON", "oN" };
static const char *const off_values[] = { "0", "false", "False", "no",
					  "NO", "off", "Off", "" };
static const char *const bad_values[] = { "2", "maybe", "yes please", "01",
					  "onn", " 1", "-1" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

TEST(env_debug_boolean)
{
	int status, warnings;
	size_t i;

	for (i = 0; i < N(on_values); i++) {
		status = in_child("MEMPOOL_DEBUG", on_values[i], debug_mode,
				  &warnings);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1)
			TH_LOG("MEMPOOL_DEBUG=\"%s\": status %#x", on_values[i],
			       status);
		EXPECT_EQ(0, warnings);
	}
	for (i = 0; i < N(off_values); i++) {
		status = in_child("MEMPOOL_DEBUG", off_values[i], debug_mode,
				  &warnings);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("MEMPOOL_DEBUG=\"%s\": status %#x",
			       off_values[i], status);
		EXPECT_EQ(0, warnings);
	}
	/* Anything else: the default (off), and one warning for three reads. */
	for (i = 0; i < N(bad_values); i++) {
		status = in_child("MEMPOOL_DEBUG", bad_values[i], debug_mode,
				  &warnings);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("MEMPOOL_DEBUG=\"%s\": status %#x",
			       bad_values[i], status);
		EXPECT_EQ(1, warnings)
			TH_LOG("MEMPOOL_DEBUG=\"%s\"", bad_values[i]);
	}
}

TEST(env_abort_on_error_boolean)
{
	int status, warnings;
	size_t i;

	for (i = 0; i < N(on_values); i++) {
		status = in_child("MEMPOOL_ABORT_ON_ERROR", on_values[i],
				  misuse, &warnings);
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT)
			TH_LOG("MEMPOOL_ABORT_ON_ERROR=\"%s\": status %#x",
			       on_values[i], status);
		EXPECT_EQ(0, warnings);
	}
	for (i = 0; i < N(off_values); i++) {
		status = in_child("MEMPOOL_ABORT_ON_ERROR", off_values[i],
				  misuse, &warnings);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("MEMPOOL_ABORT_ON_ERROR=\"%s\": status %#x",
			       off_values[i], status);
		EXPECT_EQ(0, warnings);
	}
	for (i = 0; i < N(bad_values); i++) {
		status = in_child("MEMPOOL_ABORT_ON_ERROR", bad_values[i],
				  misuse, &warnings);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("MEMPOOL_ABORT_ON_ERROR=\"%s\": status %#x",
			       bad_values[i], status);
		EXPECT_EQ(1, warnings)
			TH_LOG("MEMPOOL_ABORT_ON_ERROR=\"%s\"", bad_values[i]);
	}
}

TEST(version)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", MEMPOOL_VERSION_MAJOR,
		 MEMPOOL_VERSION_MINOR, MEMPOOL_VERSION_PATCH);
	EXPECT_STREQ(want, MEMPOOL_VERSION_STRING);
	EXPECT_STREQ(MEMPOOL_VERSION_STRING, mempool_version());
}

TEST_HARNESS_MAIN
