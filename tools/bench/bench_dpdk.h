/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * bench_dpdk.h - DPDK's rte_mempool as a benchmark peer, behind calls that
 * do not need DPDK's headers.
 *
 * Built only when pkg-config finds libdpdk (BENCH_HAVE_DPDK).  The calls
 * live in their own file, compiled with DPDK's flags, so that DPDK's
 * -march and forced includes do not change how bench.c (and with it every
 * other peer's loop) is compiled, and so that rte_mempool_get/put, inline
 * in DPDK's headers, cost one call like pool_alloc/pool_free do: the pool
 * is a static library that bench.c cannot inline either.
 */
#ifndef BENCH_DPDK_H
#define BENCH_DPDK_H

#include <stddef.h>

struct rte_mempool;

/*
 * Bring up the EAL once per process, with room for pools of @bytes in all;
 * 0, or -1 with the reason on stderr.
 */
int bdpdk_init(size_t bytes);

/*
 * A pool of at least @n objects of @size bytes with the largest per-lcore
 * cache DPDK allows; NULL with the reason on stderr.
 */
struct rte_mempool *bdpdk_create(size_t size, size_t n);

/*
 * Give the calling thread an lcore id, so that it has a per-lcore cache in
 * every mempool: an EAL thread has one already, any other thread registers.
 * 0, or -1 with the reason on stderr when it gets no lcore id.
 */
int bdpdk_thread_enter(void);

/* Give back the lcore id bdpdk_thread_enter() registered, if it did. */
void bdpdk_thread_leave(void);

void *bdpdk_get(struct rte_mempool *mp);
void bdpdk_put(struct rte_mempool *mp, void *obj);

/* All or nothing, as rte_mempool_get_bulk(): 0 or -ENOENT. */
int bdpdk_get_bulk(struct rte_mempool *mp, void **objs, unsigned int n);
void bdpdk_put_bulk(struct rte_mempool *mp, void *const *objs,
		    unsigned int n);

#endif /* BENCH_DPDK_H */
