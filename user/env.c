// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * env.c - the userspace world behind mpool_env.h: memory, fault injection,
 * the environment variables and the misuse report hook.
 */
#define _GNU_SOURCE		/* dladdr1() */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/mman.h>

#include "mpool.h"
#define MEMPOOL_NO_SHORT_NAMES
#include "mempool.h"
#include "mpool_testing.h"

/*
 * Fault injection: the number of environment allocations still allowed to
 * succeed, or -1 for all of them.  Tests set it to 0, 1, 2, ... to make
 * each allocation of a create call fail in turn.
 */
static long mpool_fault_budget = -1;
/* Allocations and mappings not yet given back, for leak tests. */
static long mpool_outstanding;

long mpool_env_outstanding(void)
{
	return __atomic_load_n(&mpool_outstanding, __ATOMIC_RELAXED);
}

static void mpool_env_count(long n)
{
	__atomic_add_fetch(&mpool_outstanding, n, __ATOMIC_RELAXED);
}

void mpool_env_fail_after(long n)
{
	__atomic_store_n(&mpool_fault_budget, n, __ATOMIC_RELAXED);
}

/* Whether this allocation is made to fail. */
static bool mpool_env_fault(void)
{
	long left = __atomic_load_n(&mpool_fault_budget, __ATOMIC_RELAXED);

	while (left >= 0) {
		if (!left)
			return true;
		if (__atomic_compare_exchange_n(&mpool_fault_budget, &left,
						left - 1, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return false;
	}
	return false;
}

void *mpool_env_zalloc(size_t size)
{
	void *p;

	if (mpool_env_fault() || posix_memalign(&p, MPOOL_ALIGN, size))
		return NULL;
	memset(p, 0, size);
	mpool_env_count(1);
	return p;
}

void mpool_env_free(void *p)
{
	if (p)
		mpool_env_count(-1);
	free(p);
}

void *mpool_env_map(size_t size)
{
	void *p;

	if (mpool_env_fault())
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	mpool_env_count(1);
	return p;
}

void mpool_env_unmap(void *p, size_t size)
{
	mpool_env_count(-1);
	munmap(p, size);
}

/* --- environment variables -------------------------------------------- */

/*
 * A boolean environment variable: 1, true, yes, on or 0, false, no, off in
 * any case; unset or empty gives @def.  Anything else gives @def too, with
 * one warning line per variable (*@warned) for the life of the process.
 * Read at each use, so a program may change it as it runs.
 */
static bool mpool_env_bool(const char *var, bool def, bool *warned)
{
	static const struct {
		const char *word;
		bool value;
	} words[] = {
		{ "1", true }, { "true", true }, { "yes", true }, { "on", true },
		{ "0", false }, { "false", false }, { "no", false },
		{ "off", false }, { NULL, false },
	};
	const char *v = getenv(var);
	int i;

	if (!v || !*v)
		return def;
	for (i = 0; words[i].word; i++)
		if (!strcasecmp(v, words[i].word))
			return words[i].value;
	if (!__atomic_exchange_n(warned, true, __ATOMIC_RELAXED))
		fprintf(stderr,
			"mempool: %s=\"%s\" is not 1/true/yes/on or 0/false/no/off; taken as %s\n",
			var, v, def ? "on" : "off");
	return def;
}

/* MEMPOOL_DEBUG=1 in the environment: every slab and pool in debug mode. */
bool mpool_env_debug_all(void)
{
	static bool warned;

	return mpool_env_bool("MEMPOOL_DEBUG", false, &warned);
}

/* --- misuse reports --------------------------------------------------- */

struct mpool_hook {
	mempool_error_hook_t fn;
	void *arg;
};

/* Replaced whole, by pointer, so that a report never sees a torn pair. */
static struct mpool_hook mpool_hooks[2];
static struct mpool_hook *mpool_hook_cur;
static int mpool_hook_next;
/* MEMPOOL_ABORT_ON_ERROR=1: misuse is fatal unless a hook is set. */
static bool mpool_abort_on_error(void)
{
	static bool warned;

	return mpool_env_bool("MEMPOOL_ABORT_ON_ERROR", false, &warned);
}

__thread const void *mpool_env_caller
	__attribute__((tls_model("initial-exec")));

static const char *mpool_errno_name(int err)
{
	switch (err) {
	case -EINVAL:
		return "EINVAL";
	case -EALREADY:
		return "EALREADY";
	case -EUCLEAN:
		return "EUCLEAN";
	default:
		return "?";
	}
}

/*
 * Where @addr is, for a report: "FILE(symbol+0x1c)" when dladdr() knows the
 * function, else "FILE+0x1234", the offset addr2line -e FILE takes (from
 * the object's load bias, so it is right for programs with and without
 * PIE and for libraries alike), else the bare address.
 */
static void mpool_describe_site(char *buf, size_t len, const void *addr)
{
	struct link_map *map = NULL;
	const char *file;
	Dl_info info;

	if (!dladdr1(addr, &info, (void **)&map, RTLD_DL_LINKMAP) || !map) {
		snprintf(buf, len, "%p", addr);
		return;
	}
	file = info.dli_fname && *info.dli_fname ? info.dli_fname : "?";
	if (info.dli_sname && info.dli_saddr)
		snprintf(buf, len, "%s(%s+%#zx)", file, info.dli_sname,
			 (size_t)((const char *)addr -
				  (const char *)info.dli_saddr));
	else
		snprintf(buf, len, "%s+%#zx", file,
			 (size_t)((uintptr_t)addr - map->l_addr));
}

void mempool_error_stderr(const struct mempool_error *e, void *arg)
{
	char who[MEMPOOL_NAME_MAX + 32], site[512] = "";
	size_t n;

	(void)arg;
	if (e->name)
		snprintf(who, sizeof(who), "\"%s\" (%p)", e->name,
			 e->allocator);
	else
		snprintf(who, sizeof(who), "%p", e->allocator);
	if (e->caller) {
		n = (size_t)snprintf(site, sizeof(site), " by the call at ");
		mpool_describe_site(site + n, sizeof(site) - n, e->caller);
	}
	fprintf(stderr, "mempool: %s %s: %s: %p%s (-%s)\n", e->kind, who,
		e->what, e->ptr, site, mpool_errno_name(e->err));
}

void mempool_error_abort(const struct mempool_error *e, void *arg)
{
	mempool_error_stderr(e, arg);
	abort();
}

mempool_error_hook_t mempool_set_error_hook(mempool_error_hook_t hook,
					    void *arg)
{
	struct mpool_hook *cur = mpool_load_acquire(&mpool_hook_cur);
	struct mpool_hook *h = &mpool_hooks[mpool_hook_next];
	mempool_error_hook_t old = cur ? cur->fn : mempool_error_stderr;

	mpool_hook_next ^= 1;
	h->fn = hook ? hook : mempool_error_stderr;
	h->arg = arg;
	/* Pairs with the acquire in mpool_env_report(). */
	mpool_store_release(&mpool_hook_cur, h);
	return old;
}

void mpool_env_report(const struct mpool_event *ev)
{
	struct mpool_hook *h = mpool_load_acquire(&mpool_hook_cur);
	struct mempool_error e = {
		.kind = ev->kind,
		.allocator = ev->allocator,
		.ptr = ev->ptr,
		.err = ev->err,
		.what = ev->what,
		.name = ev->name,
		.caller = mpool_env_caller,
	};

	if (h)
		h->fn(&e, h->arg);
	else if (mpool_abort_on_error())
		mempool_error_abort(&e, NULL);
	else
		mempool_error_stderr(&e, NULL);
}
