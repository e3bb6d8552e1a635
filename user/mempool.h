/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * mempool.h - libmempool: slab, arena and pool allocators for userspace.
 *
 * Three allocators, each handing out 64-byte aligned blocks that never share
 * a cache line:
 *
 *   slab_allocator_t *s = slab_create(256, 1000);   fixed-size blocks,
 *   void *p = slab_alloc(s);                         lock-free (one CAS on a
 *   slab_free(s, p);                                 shared stack per call)
 *   slab_destroy(s);
 *
 *   arena_allocator_t *a = arena_create(64 * 1024);  bump allocation,
 *   void *x = arena_alloc(a, 256);                   freed only as a whole
 *   arena_reset(a);
 *   arena_destroy(a);
 *
 *   mempool_t *m = pool_create(256, 100, 10000);     fixed-size blocks with a
 *   void *q = pool_alloc(m);                         per-thread cache of up
 *   pool_free(m, q);                                 to 100 free blocks over
 *   pool_destroy(m);                                 a shared lock-free depot
 *
 * Errors.  Create calls return NULL and set errno: EINVAL for a zero size,
 * count or capacity, a cache larger than the pool, or sizes beyond the
 * limits below; ENOMEM when memory could not be had (nothing is leaked);
 * EMFILE when MEMPOOL_MAX_ALLOCATORS slabs and pools are alive.
 *
 * Limits.  A slab or pool holds at most 2^31 - 1 blocks.  Its stride is the
 * block size (plus an 8-byte red zone in debug mode) rounded up to 64, and
 * count * stride, the segment mapped at create, must not exceed half the
 * address space (SIZE_MAX / 2): anything larger is EINVAL.  A segment the
 * system cannot map is ENOMEM, found before any metadata is touched.  An
 * arena holds at most SIZE_MAX / 2 bytes.  Alloc calls
 * return NULL and set errno (ENOMEM: all blocks are out or the arena is
 * full; EINVAL: a zero arena size or a NULL allocator).  Free calls return
 * 0, or a negative errno and change nothing:
 *
 *   -EINVAL    the pointer is not a block of this allocator (foreign memory,
 *              another allocator's block, an interior or misaligned pointer)
 *   -EALREADY  the block is already free (double free), wherever it sits:
 *              this thread's cache, another thread's, or the shared backing
 *   -EUCLEAN   the block or the allocator's metadata for it is corrupt:
 *              an impossible state word, or (debug mode) an overwritten
 *              red zone; the block is withdrawn for good (quarantined)
 *
 * Freeing NULL is a no-op returning 0.  Every misuse is counted in the
 * allocator's statistics and reported through the error hook (see
 * mempool_set_error_hook()); the default hook writes one line to stderr,
 * naming the allocator (and the name given it with slab_set_name(),
 * pool_set_name() or arena_set_name()), the misuse, the pointer and the
 * application's call that made it:
 *
 *   mempool: pool "msgs" (0x55..): double free: 0x7f.. by the call at
 *   ./app+0x1234 (-EALREADY)
 *
 * Hardened deployments make misuse fatal: call
 * mempool_set_error_hook(mempool_error_abort, NULL) at start-up, or run with
 * MEMPOOL_ABORT_ON_ERROR=1 in the environment.
 *
 * Environment.  MEMPOOL_DEBUG and MEMPOOL_ABORT_ON_ERROR are booleans:
 * 1, true, yes or on turn them on and 0, false, no or off turn them off,
 * in any case; unset or empty is off.  Any other value is off, with one
 * warning line on stderr.
 *
 * Debug mode (MEMPOOL_DEBUG as a create flag, or MEMPOOL_DEBUG=1 in the
 * environment for every slab and pool) costs speed for checks, like SLUB's
 * red zoning and poisoning:
 *  - each block state change is a compare-and-swap, so that two threads
 *    freeing one block at the same time are told apart: one gets 0, the
 *    other -EALREADY;
 *  - every block is followed by a red zone of at least 8 bytes (the stride
 *    grows by 64 bytes when the block size leaves less than 8), filled with
 *    0xbb and checked when the block is freed and by slab_audit() and
 *    pool_audit();
 *  - a freed block is filled with 0x6b, checked when it is handed out
 *    again, so a write after free is caught.
 * A block found corrupt is reported (-EUCLEAN to the error hook, and to the
 * caller of a free) and quarantined: never handed out again.  Without
 * debug mode a sequential double free is still always caught, and a racing
 * one when the block's second copy would be handed out (see
 * common/mpool.h).
 *
 * Memory checkers.  Built with AddressSanitizer, free blocks, red zones
 * and an arena's unused tail are poisoned, so ASan reports a use after
 * free or an overflow inside a pool.  Run under valgrind, every allocator
 * announces its blocks with memcheck's mempool client requests (when the
 * library was built with <valgrind/memcheck.h> installed), so memcheck
 * reports use after free, reads of uninitialised block memory and leaked
 * blocks; outside valgrind this costs nothing on the fast path.
 *
 * Threads.  Every call may be made from any thread, on any block, with
 * these exceptions: arena_reset() must not race with arena_alloc() on the
 * same arena, and a *_destroy() must not race with any other call on the
 * same allocator.  A pool's per-thread cache goes back to the pool when the
 * thread exits (through a pthread key's destructor: if the application has
 * taken every key before the library's first create, pools run with no
 * per-thread caches at all, so that nothing can be stranded); pool_destroy()
 * is safe while threads that used the pool are still alive.  After fork()
 * the child may go on using every allocator created before it; blocks the
 * parent's other threads held allocated stay allocated, and blocks that sat
 * in their caches are free again.
 *
 * Names.  The calls above are the documented API.  The library exports
 * each as mempool_<call> (mempool_pool_create(), mempool_slab_free(), ...:
 * every symbol of libmempool starts with mempool_), and this header makes
 * the short names inline wrappers around them.  A program with names of
 * its own that collide (its own pool_create(), say) defines
 * MEMPOOL_NO_SHORT_NAMES before including this header and calls the
 * mempool_ names.
 *
 * Versions.  MEMPOOL_VERSION_MAJOR, _MINOR and _PATCH are the version of
 * this header, mempool_version() that of the library a program runs with.
 * Within one major version (the soname, libmempool.so.1) the ABI only
 * grows: calls are added, under a new symbol version (MEMPOOL_1.1, then
 * MEMPOOL_1.2, ...), and none is removed or changed.  CHANGELOG.md says
 * what each version added.
 */
#ifndef MEMPOOL_H
#define MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; mempool_version() gives the library's. */
#define MEMPOOL_VERSION_MAJOR	1
#define MEMPOOL_VERSION_MINOR	2
#define MEMPOOL_VERSION_PATCH	0
#define MEMPOOL__STR(x)		#x
#define MEMPOOL__XSTR(x)	MEMPOOL__STR(x)
#define MEMPOOL_VERSION_STRING	MEMPOOL__XSTR(MEMPOOL_VERSION_MAJOR) "." \
				MEMPOOL__XSTR(MEMPOOL_VERSION_MINOR) "." \
				MEMPOOL__XSTR(MEMPOOL_VERSION_PATCH)

#define MEMPOOL_API __attribute__((visibility("default")))

/* The most slabs and pools alive at once in one process. */
#define MEMPOOL_MAX_ALLOCATORS	65536

/* The bytes of an allocator's name that are kept, its final NUL included. */
#define MEMPOOL_NAME_MAX	32

/* Create flags. */
#define MEMPOOL_DEBUG		0x1u	/* red zones, poison, CAS; see above */

typedef struct slab_allocator slab_allocator_t;
typedef struct arena_allocator arena_allocator_t;
typedef struct mempool mempool_t;

/**
 * struct mempool_stats - what an allocator is doing.
 * @block_size: bytes per block as asked (arena: 0).
 * @stride: bytes between blocks, a multiple of 64 (arena: 64).
 * @capacity: blocks (arena: bytes).
 * @in_use: blocks handed out and not freed (arena: bytes handed out).
 * @free: blocks in the shared backing (arena: bytes left).
 * @cached: free blocks held in threads' caches (pool only).
 * @high_water: the most blocks (arena: bytes) ever out of the shared
 *	backing at once; for a pool this includes blocks held in caches.
 * @failed: allocations that returned NULL because everything was out.
 * @invalid: frees of pointers that are not blocks of this allocator.
 * @double_free: frees of blocks that were already free.
 * @corrupt: blocks or metadata found corrupt (debug mode: a red zone or a
 *	free block's poison overwritten; any mode: impossible metadata).
 * @quarantined: blocks withdrawn for good because they were found corrupt
 *	(counted neither in use nor free).
 *
 * Exact when the allocator is quiescent; a near snapshot while it runs.
 */
struct mempool_stats {
	size_t block_size;
	size_t stride;
	size_t capacity;
	size_t in_use;
	size_t free;
	size_t cached;
	size_t high_water;
	uint64_t failed;
	uint64_t invalid;
	uint64_t double_free;
	uint64_t corrupt;
	uint64_t quarantined;
};

/**
 * struct mempool_error - one detected misuse, as given to the error hook.
 * @kind: "slab", "arena" or "pool".
 * @allocator: the allocator the call was made on.
 * @ptr: the pointer the caller passed.
 * @err: the negative errno the caller gets back.
 * @what: a short description ("double free", ...).
 * @name: the allocator's name (see pool_set_name()), or NULL.
 * @caller: the return address of the application's call into the library
 *	that found the misuse (a pointer into the application's code: give
 *	it to dladdr() or addr2line), or NULL when the misuse was found
 *	outside such a call (a thread's cache given back at thread exit).
 */
struct mempool_error {
	const char *kind;
	const void *allocator;
	const void *ptr;
	int err;
	const char *what;
	const char *name;
	const void *caller;
};

typedef void (*mempool_error_hook_t)(const struct mempool_error *e,
				     void *arg);

/*
 * The library's symbols.  Each is documented below under its short name:
 * mempool_slab_create() is slab_create(), and so on.
 */
MEMPOOL_API slab_allocator_t *mempool_slab_create(size_t block_size,
						  size_t count);
MEMPOOL_API slab_allocator_t *mempool_slab_create_flags(size_t block_size,
							size_t count,
							unsigned int flags);
MEMPOOL_API void *mempool_slab_alloc(slab_allocator_t *s);
MEMPOOL_API int mempool_slab_free(slab_allocator_t *s, void *ptr);
MEMPOOL_API int mempool_slab_alloc_bulk(slab_allocator_t *s, void **ptrs,
					size_t n);
MEMPOOL_API int mempool_slab_free_bulk(slab_allocator_t *s, void *const *ptrs,
				       size_t n);
MEMPOOL_API void mempool_slab_destroy(slab_allocator_t *s);
MEMPOOL_API int mempool_slab_stats(slab_allocator_t *s,
				   struct mempool_stats *st);
MEMPOOL_API long mempool_slab_audit(slab_allocator_t *s);
MEMPOOL_API int mempool_slab_set_name(slab_allocator_t *s, const char *name);

MEMPOOL_API arena_allocator_t *mempool_arena_create(size_t capacity);
MEMPOOL_API void *mempool_arena_alloc(arena_allocator_t *a, size_t size);
MEMPOOL_API void mempool_arena_reset(arena_allocator_t *a);
MEMPOOL_API void mempool_arena_destroy(arena_allocator_t *a);
MEMPOOL_API int mempool_arena_stats(arena_allocator_t *a,
				    struct mempool_stats *st);
MEMPOOL_API int mempool_arena_set_name(arena_allocator_t *a,
				       const char *name);

MEMPOOL_API mempool_t *mempool_pool_create(size_t block_size,
					   size_t cache_size, size_t capacity);
MEMPOOL_API mempool_t *mempool_pool_create_flags(size_t block_size,
						 size_t cache_size,
						 size_t capacity,
						 unsigned int flags);
MEMPOOL_API void *mempool_pool_alloc(mempool_t *p);
MEMPOOL_API int mempool_pool_free(mempool_t *p, void *ptr);
/* The bulk calls exist (since 1.1). */
#define MEMPOOL_HAVE_BULK	1
MEMPOOL_API int mempool_pool_alloc_bulk(mempool_t *p, void **ptrs, size_t n);
MEMPOOL_API int mempool_pool_free_bulk(mempool_t *p, void *const *ptrs,
				       size_t n);
MEMPOOL_API long mempool_pool_cache_flush(mempool_t *p);
MEMPOOL_API long mempool_pool_audit(mempool_t *p);
MEMPOOL_API void mempool_pool_destroy(mempool_t *p);
MEMPOOL_API int mempool_pool_stats(mempool_t *p, struct mempool_stats *st);
MEMPOOL_API int mempool_pool_set_name(mempool_t *p, const char *name);
/* The RCU-deferred free exists (since 1.2). */
#define MEMPOOL_HAVE_RCU	1
/* liburcu's flavour (urcu/flavor.h); mempool.h needs no liburcu header. */
struct rcu_flavor_struct;
MEMPOOL_API int mempool_pool_set_rcu(mempool_t *p,
				     const struct rcu_flavor_struct *flavor);
MEMPOOL_API int mempool_pool_free_rcu(mempool_t *p, void *ptr);
MEMPOOL_API void mempool_pool_rcu_barrier(mempool_t *p);
MEMPOOL_API long mempool_pool_rcu_pending(mempool_t *p);

/**
 * mempool_version() - the version of the library the program runs with.
 *
 * Compare it with MEMPOOL_VERSION_STRING, the version of the header the
 * program was built with: the library may be newer (never older, within
 * one soname: the program would not have loaded).
 *
 * Return: "MAJOR.MINOR.PATCH", for example "1.2.0"; a constant string.
 */
MEMPOOL_API const char *mempool_version(void);

/**
 * mempool_set_error_hook() - choose what happens on a detected misuse.
 * @hook: called once per misuse, from the thread that made it; NULL
 *	restores the default (one line on stderr).
 * @arg: passed to @hook.
 *
 * Set it before the allocators are used from several threads.
 *
 * Return: the previous hook.
 */
MEMPOOL_API mempool_error_hook_t
mempool_set_error_hook(mempool_error_hook_t hook, void *arg);

/**
 * mempool_error_stderr() - the default hook: one line on stderr.
 * @e: the misuse.
 * @arg: unused.
 *
 * The line names the allocator's kind, its name in quotes when it has one,
 * its address, the misuse, the pointer, the application's call site and
 * the errno:
 *
 *   mempool: pool "msgs" (0x55..): double free: 0x7f.. by the call at
 *   ./app+0x1234 (-EALREADY)
 *
 * The call site is the object file (program or library) holding the call
 * and the call's offset in it, as addr2line -e FILE takes it, or
 * FILE(symbol+0x1c) when dladdr() finds the function's name (an exported
 * function, or any function of a program linked with -rdynamic).
 */
MEMPOOL_API void mempool_error_stderr(const struct mempool_error *e, void *arg);

/**
 * mempool_error_abort() - a hook for hardened deployments: the stderr line,
 * then abort().
 * @e: the misuse.
 * @arg: unused.
 */
MEMPOOL_API void mempool_error_abort(const struct mempool_error *e, void *arg);

#ifndef MEMPOOL_NO_SHORT_NAMES

/**
 * slab_create() - reserve @count blocks of @block_size bytes.
 * @block_size: bytes per block (> 0).
 * @count: blocks (> 0, at most 2^31 - 1).
 *
 * Return: the slab, or NULL with errno set (EINVAL, ENOMEM, EMFILE).
 */
static inline __attribute__((__always_inline__))
slab_allocator_t *slab_create(size_t block_size, size_t count)
{
	return mempool_slab_create(block_size, count);
}

/**
 * slab_create_flags() - slab_create() with MEMPOOL_* create flags.
 * @block_size: bytes per block (> 0).
 * @count: blocks (> 0).
 * @flags: MEMPOOL_DEBUG or 0; unknown flags are EINVAL.
 *
 * Return: as slab_create().
 */
static inline __attribute__((__always_inline__))
slab_allocator_t *slab_create_flags(size_t block_size, size_t count,
				    unsigned int flags)
{
	return mempool_slab_create_flags(block_size, count, flags);
}

/**
 * slab_alloc() - take a block; lock-free.
 * @s: the slab.
 *
 * Return: a 64-byte aligned block, or NULL with errno ENOMEM when all are
 * out (EINVAL when @s is NULL).
 */
static inline __attribute__((__always_inline__))
void *slab_alloc(slab_allocator_t *s)
{
	return mempool_slab_alloc(s);
}

/**
 * slab_free() - give a block back; lock-free.
 * @s: the slab.
 * @ptr: a block of @s, or NULL.
 *
 * Return: 0, -EINVAL, -EALREADY or -EUCLEAN (see the top of this file).
 */
static inline __attribute__((__always_inline__))
int slab_free(slab_allocator_t *s, void *ptr)
{
	return mempool_slab_free(s, ptr);
}

/**
 * slab_alloc_bulk() - take @n blocks at once, all or none.
 * @s: the slab.
 * @ptrs: where the blocks go (@n entries).
 * @n: how many; 0 is allowed (returns 0).
 *
 * Return: 0 with @n blocks in @ptrs; -ENOMEM with nothing taken when
 * fewer than @n are free; -EINVAL when @s is NULL, or @ptrs is NULL and
 * @n is not 0.
 */
static inline __attribute__((__always_inline__))
int slab_alloc_bulk(slab_allocator_t *s, void **ptrs, size_t n)
{
	return mempool_slab_alloc_bulk(s, ptrs, n);
}

/**
 * slab_free_bulk() - give @n blocks back at once.
 * @s: the slab.
 * @ptrs: the blocks; NULL entries are skipped.
 * @n: how many entries.
 *
 * Each entry is freed, or reported and counted exactly as slab_free()
 * would (foreign, interior, already free, or the same block twice in one
 * call).
 *
 * Return: 0 when every entry was freed, else the error of the first entry
 * that was not; -EINVAL when @s is NULL, or @ptrs is NULL and @n is not 0.
 */
static inline __attribute__((__always_inline__))
int slab_free_bulk(slab_allocator_t *s, void *const *ptrs, size_t n)
{
	return mempool_slab_free_bulk(s, ptrs, n);
}

/**
 * slab_destroy() - release a slab and every block in it.
 * @s: the slab, or NULL.
 */
static inline __attribute__((__always_inline__))
void slab_destroy(slab_allocator_t *s)
{
	mempool_slab_destroy(s);
}

/**
 * slab_stats() - read a slab's statistics.
 * @s: the slab.
 * @st: filled in.
 *
 * Return: 0, or -EINVAL when @s or @st is NULL.
 */
static inline __attribute__((__always_inline__))
int slab_stats(slab_allocator_t *s, struct mempool_stats *st)
{
	return mempool_slab_stats(s, st);
}

/**
 * slab_audit() - check every block of a slab.
 * @s: the slab.
 *
 * Every block's state word, and in debug mode every red zone and every free
 * block's poison, is checked; each corrupt block is reported through the
 * error hook (-EUCLEAN) and counted.  Nothing is changed: a corrupt free
 * block is quarantined when it would next be handed out.  Must not run
 * concurrently with other calls on @s.
 *
 * Return: the number of corrupt blocks found, or -EINVAL when @s is NULL.
 */
static inline __attribute__((__always_inline__))
long slab_audit(slab_allocator_t *s)
{
	return mempool_slab_audit(s);
}

/**
 * slab_set_name() - name a slab in misuse reports.
 * @s: the slab.
 * @name: the name (copied; its first MEMPOOL_NAME_MAX - 1 bytes are kept),
 *	or NULL to drop it.
 *
 * Reports about @s (the default hook's line, struct mempool_error's @name)
 * carry the name from then on.  Context: before other threads use @s, as
 * a report made while the name changes may read a mix of the two.
 *
 * Return: 0, or -EINVAL when @s is NULL.
 */
static inline __attribute__((__always_inline__))
int slab_set_name(slab_allocator_t *s, const char *name)
{
	return mempool_slab_set_name(s, name);
}

/**
 * arena_create() - map an arena of @capacity bytes.
 * @capacity: bytes (> 0).
 *
 * Return: the arena, or NULL with errno set (EINVAL, ENOMEM).
 */
static inline __attribute__((__always_inline__))
arena_allocator_t *arena_create(size_t capacity)
{
	return mempool_arena_create(capacity);
}

/**
 * arena_alloc() - bump-allocate @size bytes, rounded up to 64; lock-free.
 * @a: the arena.
 * @size: bytes (> 0).
 *
 * Return: a 64-byte aligned block, or NULL with errno ENOMEM when it does
 * not fit (nothing is taken) or EINVAL when @size is 0 or @a is NULL.
 */
static inline __attribute__((__always_inline__))
void *arena_alloc(arena_allocator_t *a, size_t size)
{
	return mempool_arena_alloc(a, size);
}

/**
 * arena_reset() - make the whole arena free again.
 * @a: the arena, or NULL.
 *
 * Context: must not run concurrently with arena_alloc() on @a.
 */
static inline __attribute__((__always_inline__))
void arena_reset(arena_allocator_t *a)
{
	mempool_arena_reset(a);
}

/**
 * arena_destroy() - unmap an arena.
 * @a: the arena, or NULL.
 */
static inline __attribute__((__always_inline__))
void arena_destroy(arena_allocator_t *a)
{
	mempool_arena_destroy(a);
}

/**
 * arena_stats() - read an arena's statistics (in bytes).
 * @a: the arena.
 * @st: filled in.
 *
 * Return: 0, or -EINVAL when @a or @st is NULL.
 */
static inline __attribute__((__always_inline__))
int arena_stats(arena_allocator_t *a, struct mempool_stats *st)
{
	return mempool_arena_stats(a, st);
}

/**
 * arena_set_name() - name an arena, as slab_set_name() names a slab.
 * @a: the arena.
 * @name: the name (copied; its first MEMPOOL_NAME_MAX - 1 bytes are kept),
 *	or NULL to drop it.
 *
 * An arena detects no misuse today (its only free is arena_reset()), so
 * no report carries the name yet; AddressSanitizer's reports of accesses
 * past an arena's allocations come from ASan itself.  Context: as for
 * slab_set_name().
 *
 * Return: 0, or -EINVAL when @a is NULL.
 */
static inline __attribute__((__always_inline__))
int arena_set_name(arena_allocator_t *a, const char *name)
{
	return mempool_arena_set_name(a, name);
}

/**
 * pool_create() - a pool of @capacity blocks with per-thread caches.
 * @block_size: bytes per block (> 0).
 * @cache_size: the most free blocks one thread keeps (0: no caches; at most
 *	@capacity).  A thread holds at most 2 * ceil(@cache_size / 2) free
 *	blocks, and trades them with the shared depot in batches of
 *	ceil(@cache_size / 2).
 * @capacity: blocks in all (> 0).
 *
 * Return: the pool, or NULL with errno set (EINVAL, ENOMEM, EMFILE).
 */
static inline __attribute__((__always_inline__))
mempool_t *pool_create(size_t block_size, size_t cache_size, size_t capacity)
{
	return mempool_pool_create(block_size, cache_size, capacity);
}

/**
 * pool_create_flags() - pool_create() with MEMPOOL_* create flags.
 * @block_size: bytes per block (> 0).
 * @cache_size: as for pool_create().
 * @capacity: blocks in all (> 0).
 * @flags: MEMPOOL_DEBUG or 0; unknown flags are EINVAL.
 *
 * Return: as pool_create().
 */
static inline __attribute__((__always_inline__))
mempool_t *pool_create_flags(size_t block_size, size_t cache_size,
			     size_t capacity, unsigned int flags)
{
	return mempool_pool_create_flags(block_size, cache_size, capacity,
					 flags);
}

/**
 * pool_alloc() - take a block, from this thread's cache when it has one.
 * @p: the pool.
 *
 * Return: a 64-byte aligned block, or NULL with errno ENOMEM when the pool
 * and this thread's cache are empty (other threads' caches may still hold
 * free blocks: at most 2 * ceil(cache_size / 2) each; see
 * pool_cache_flush()).
 */
static inline __attribute__((__always_inline__))
void *pool_alloc(mempool_t *p)
{
	return mempool_pool_alloc(p);
}

/**
 * pool_free() - give a block back into this thread's cache.
 * @p: the pool.
 * @ptr: a block of @p allocated by any thread, or NULL.
 *
 * Return: 0, -EINVAL, -EALREADY or -EUCLEAN (see the top of this file).
 */
static inline __attribute__((__always_inline__))
int pool_free(mempool_t *p, void *ptr)
{
	return mempool_pool_free(p, ptr);
}

/**
 * pool_alloc_bulk() - take @n blocks at once, all or none.
 * @p: the pool.
 * @ptrs: where the blocks go (@n entries).
 * @n: how many; 0 is allowed (returns 0).
 *
 * As @n calls of pool_alloc(), through this thread's cache, at a fraction
 * of their cost.
 *
 * Return: 0 with @n blocks in @ptrs; -ENOMEM with nothing taken when
 * fewer than @n can be had; -EINVAL when @p is NULL, or @ptrs is NULL and
 * @n is not 0.
 */
static inline __attribute__((__always_inline__))
int pool_alloc_bulk(mempool_t *p, void **ptrs, size_t n)
{
	return mempool_pool_alloc_bulk(p, ptrs, n);
}

/**
 * pool_free_bulk() - give @n blocks back at once.
 * @p: the pool.
 * @ptrs: the blocks; NULL entries are skipped.
 * @n: how many entries.
 *
 * Each entry is freed, or reported and counted exactly as pool_free()
 * would (foreign, interior, already free, or the same block twice in one
 * call).
 *
 * Return: 0 when every entry was freed, else the error of the first entry
 * that was not; -EINVAL when @p is NULL, or @ptrs is NULL and @n is not 0.
 */
static inline __attribute__((__always_inline__))
int pool_free_bulk(mempool_t *p, void *const *ptrs, size_t n)
{
	return mempool_pool_free_bulk(p, ptrs, n);
}

/**
 * pool_cache_flush() - give this thread's cached blocks back to the pool.
 * @p: the pool.
 *
 * For a thread that goes idle while others need blocks.
 *
 * Return: the number of blocks given back, or -EINVAL when @p is NULL.
 */
static inline __attribute__((__always_inline__))
long pool_cache_flush(mempool_t *p)
{
	return mempool_pool_cache_flush(p);
}

/**
 * pool_audit() - check every block of a pool, as slab_audit() does.
 * @p: the pool.
 *
 * Return: the number of corrupt blocks found, or -EINVAL when @p is NULL.
 */
static inline __attribute__((__always_inline__))
long pool_audit(mempool_t *p)
{
	return mempool_pool_audit(p);
}

/**
 * pool_destroy() - release a pool, its caches and every block in it.
 * @p: the pool, or NULL.
 *
 * Threads that used the pool may still be alive (they must not use it
 * again).  With a flavour bound (pool_set_rcu()), it first waits as
 * pool_rcu_barrier() does, with that call's context rules; a thread that
 * cannot wait (inside a read-side critical section) gets a report, and
 * the pool is left alone.  Context: not concurrent with another call on @p.
 */
static inline __attribute__((__always_inline__))
void pool_destroy(mempool_t *p)
{
	mempool_pool_destroy(p);
}

/**
 * pool_stats() - read a pool's statistics.
 * @p: the pool.
 * @st: filled in.
 *
 * Return: 0, or -EINVAL when @p or @st is NULL.
 */
static inline __attribute__((__always_inline__))
int pool_stats(mempool_t *p, struct mempool_stats *st)
{
	return mempool_pool_stats(p, st);
}

/**
 * pool_set_name() - name a pool in misuse reports, as slab_set_name() does.
 * @p: the pool.
 * @name: the name (copied; its first MEMPOOL_NAME_MAX - 1 bytes are kept),
 *	or NULL to drop it.
 *
 * Context: as for slab_set_name().
 *
 * Return: 0, or -EINVAL when @p is NULL.
 */
static inline __attribute__((__always_inline__))
int pool_set_name(mempool_t *p, const char *name)
{
	return mempool_pool_set_name(p, name);
}

/**
 * pool_set_rcu() - bind a pool to a liburcu flavour, for pool_free_rcu().
 * @p: the pool.
 * @flavor: the application's flavour, as liburcu's cds_lfht_new_flavor()
 *	takes it: &urcu_memb_flavor, &urcu_qsbr_flavor, &urcu_mb_flavor,
 *	&urcu_bp_flavor, ... (urcu/flavor.h).  libmempool links no flavour
 *	library: the application links the one it uses.
 *
 * Binding is once for the life of the pool; binding the same flavour again
 * is harmless.  It allocates the deferred frees' bookkeeping (a few
 * hundred bytes per thread that may hold a cache of @p, and 4 bytes per
 * block).
 *
 * Return: 0; -EINVAL when @p or @flavor is NULL; -EBUSY when another
 * flavour is bound; -ENOMEM.
 */
static inline __attribute__((__always_inline__))
int pool_set_rcu(mempool_t *p, const struct rcu_flavor_struct *flavor)
{
	return mempool_pool_set_rcu(p, flavor);
}

/**
 * pool_free_rcu() - free a block once no RCU reader can hold it.
 * @p: the pool, bound to a flavour with pool_set_rcu().
 * @ptr: a block of @p, or NULL (a no-op returning 0).
 *
 * @ptr is checked as pool_free() checks it, now.  On success the block is
 * no longer allocated (another pool_free() or pool_free_rcu() of it is a
 * double free), and it is handed out again only after a grace period of
 * the bound flavour that started after this call: a reader that found the
 * block in a read-side critical section may keep using it until that
 * critical section ends.  Blocks wait in batches, one call_rcu() per batch
 * of up to 64 (more while every batch of the thread waits); the batch's
 * callback gives them back on the flavour's call_rcu thread.
 *
 * Never allocates, never blocks; callable inside a read-side critical
 * section.  Context: a thread registered with the flavour (QSBR: online),
 * as liburcu's call_rcu() requires.
 *
 * Return: 0; -EINVAL (no flavour bound, @p NULL, or @ptr not a block of
 * @p), -EALREADY (already free, or already waiting for a grace period) or
 * -EUCLEAN (corrupt metadata); on error nothing changed, and the misuse is
 * counted and reported through the error hook.
 */
static inline __attribute__((__always_inline__))
int pool_free_rcu(mempool_t *p, void *ptr)
{
	return mempool_pool_free_rcu(p, ptr);
}

/**
 * pool_rcu_barrier() - wait for every deferred free issued before it.
 * @p: the pool, or NULL (nothing to do).
 *
 * Returns once every pool_free_rcu() of @p that returned before this call
 * has given its block back to the pool, open batches of every thread
 * included (those of threads that exited too).  pool_destroy() does this
 * itself.  A no-op when no flavour is bound.
 *
 * Context: may block; a thread registered with the flavour, outside any
 * read-side critical section, never a call_rcu callback (liburcu's
 * rcu_barrier() rules).
 */
static inline __attribute__((__always_inline__))
void pool_rcu_barrier(mempool_t *p)
{
	mempool_pool_rcu_barrier(p);
}

/**
 * pool_rcu_pending() - blocks of a pool waiting for a grace period.
 * @p: the pool.
 *
 * pool_stats() counts these blocks neither as in use nor as free nor as
 * cached: when the pool is quiescent, in_use + free + cached +
 * quarantined + pool_rcu_pending() == capacity.  (A call of its own
 * rather than a field of struct mempool_stats, whose size programs built
 * against 1.1 have compiled in.)
 *
 * Return: the count (exact when quiescent), or -EINVAL when @p is NULL.
 */
static inline __attribute__((__always_inline__))
long pool_rcu_pending(mempool_t *p)
{
	return mempool_pool_rcu_pending(p);
}

#endif /* MEMPOOL_NO_SHORT_NAMES */

#ifdef __cplusplus
}
#endif

#endif /* MEMPOOL_H */
