// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * bench_dpdk.c - DPDK's rte_mempool for tools/bench/bench.c, through its
 * public API only.  See bench_dpdk.h for why this is a file of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "bench_dpdk.h"

static __thread bool registered;

/*
 * "--lcores=0@(a,b,...)": lcore 0, the main thread, may run on every CPU
 * this process may use.  By default the EAL pins the main thread to one
 * CPU, and the bench's threads, created by the main thread, would inherit
 * the pin: a two-thread cell would run on one CPU while every other peer's
 * threads have two.
 */
static int lcores_arg(char *buf, size_t len)
{
	cpu_set_t set;
	size_t at;
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	at = snprintf(buf, len, "--lcores=0@(");
	for (cpu = 0; cpu < RTE_MAX_LCORE && at < len; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		at += snprintf(buf + at, len - at, "%s%d", n++ ? "," : "", cpu);
	}
	if (!n || at + 2 > len)
		return -1;
	strcpy(buf + at, ")");
	return 0;
}

int bdpdk_init(size_t bytes)
{
	char lcores[1024], mem[32];
	char *argv[] = {
		"bench",
		/* Plain anonymous memory: no hugepages to set up. */
		"--no-huge", "-m", mem,
		/* No devices: only the mempool library is wanted. */
		"--no-pci",
		/* No telemetry thread and socket. */
		"--no-telemetry",
		/*
		 * No files under /var/run/dpdk shared with other processes:
		 * cells run one after another and must not find a previous
		 * cell's state.  It also turns off multi-process support,
		 * which rte_thread_register() requires.
		 */
		"--no-shconf",
		"--log-level=warning",
		lcores,
	};
	int argc = sizeof(argv) / sizeof(argv[0]), out, ret;

	if (lcores_arg(lcores, sizeof(lcores))) {
		fprintf(stderr, "dpdk: cannot read this process's CPU set\n");
		return -1;
	}
	/* Headroom for the objects' headers and padding, and the EAL's own. */
	snprintf(mem, sizeof(mem), "%zu", bytes * 2 / (1 << 20) + 64);
	/*
	 * stdout carries the CSV line.  EAL logs go to stderr, and so does
	 * whatever the EAL prints with printf() (its usage text on a bad
	 * option) while it comes up.
	 */
	rte_openlog_stream(stderr);
	fflush(stdout);
	out = dup(STDOUT_FILENO);
	if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		perror("dpdk: dup");
		return -1;
	}
	ret = rte_eal_init(argc, argv);
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	close(out);
	if (ret < 0) {
		fprintf(stderr, "dpdk: rte_eal_init: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

struct rte_mempool *bdpdk_create(size_t size, size_t n)
{
	/*
	 * The pool's cells get a cache as large as the batch; DPDK caps its
	 * cache at RTE_MEMPOOL_CACHE_MAX_SIZE, which is also what its guide
	 * recommends for bursts.  A cache may hold 1.5 times its size before
	 * it flushes, so the pool must hold at least that many objects; and
	 * DPDK advises n to be a multiple of the cache size, or the remainder
	 * never leaves the ring.
	 */
	unsigned int cache = RTE_MEMPOOL_CACHE_MAX_SIZE;
	struct rte_mempool *mp;

	if (n < cache * 3 / 2)
		n = cache * 3 / 2;
	n = (n + cache - 1) / cache * cache;
	mp = rte_mempool_create("bench", n, size, cache, 0, NULL, NULL, NULL,
				NULL, SOCKET_ID_ANY, 0);
	if (!mp)
		fprintf(stderr, "dpdk: rte_mempool_create(%zu x %zu B): %s\n",
			n, size, rte_strerror(rte_errno));
	return mp;
}

int bdpdk_thread_enter(void)
{
	if (rte_lcore_id() == LCORE_ID_ANY) {
		if (rte_thread_register()) {
			fprintf(stderr, "dpdk: rte_thread_register: %s\n",
				rte_strerror(rte_errno));
			return -1;
		}
		registered = true;
	}
	/* Without an lcore id every get and put would bypass the cache. */
	if (rte_lcore_id() == LCORE_ID_ANY) {
		fprintf(stderr, "dpdk: this thread has no lcore id\n");
		return -1;
	}
	return 0;
}

void bdpdk_thread_leave(void)
{
	if (registered)
		rte_thread_unregister();
	registered = false;
}

void *bdpdk_get(struct rte_mempool *mp)
{
	void *obj;

	return rte_mempool_get(mp, &obj) ? NULL : obj;
}

void bdpdk_put(struct rte_mempool *mp, void *obj)
{
	rte_mempool_put(mp, obj);
}

int bdpdk_get_bulk(struct rte_mempool *mp, void **objs, unsigned int n)
{
	return rte_mempool_get_bulk(mp, objs, n);
}

void bdpdk_put_bulk(struct rte_mempool *mp, void *const *objs,
		    unsigned int n)
{
	rte_mempool_put_bulk(mp, objs, n);
}
