#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# mkseeds.sh - write the hand-made seeds of tests/fuzz/corpus/.
#
# Each seed is a short program in the harness's byte code (see the top of
# mpool_fuzz.c and mpool_fuzz_mt.c); the comments say what it does.  The
# seeds are committed; run this only to change them.
set -eu
cd "$(dirname "$0")"
mkdir -p corpus && cd corpus
mkdir -p mpool_fuzz mpool_fuzz_mt

seed() {	# seed FILE HEX...: write the bytes
	f=$1
	shift
	for h; do printf '\\0%03o' "0x$h"; done > "$f.tmp"
	printf '%b' "$(cat "$f.tmp")" > "$f"
	rm -f "$f.tmp"
}

# mpool_fuzz: op = slot << 4 | opcode.
# A slab of 8 blocks of 127 bytes: alloc 11 (3 fail), free, free by
# address (live or double free), interior, out-of-segment and static
# pointers, free(NULL), stats, destroy.
seed mpool_fuzz/slab 08 00 3f 07 00  0f 0a 00  03 02  05 03 00  05 02 00 \
	06 04 05 00  06 06 01 00  06 00 10 00  07  0c  0d
# A debug pool of 34 blocks of 65 bytes, cache 9: drain it, free 16,
# flush, double free, free 5, alloc 17, flush, a line inside a block.
seed mpool_fuzz/pool 18 02 20 21 09 01  1f 28 00  1f 90  1b  15 05 00 \
	1f 85  1f 10 00  1b  16 05 00 01  1d
# An arena of 1025 bytes: allocs, an exact fit, full, size 0, SIZE_MAX,
# reset, alloc again, NULL arguments.
seed mpool_fuzz/arena 28 01 00 04 00  20 10  21 7f  22 f1  20 00  20 f0 \
	20 f3  2b  20 05  2e  2d
# Four allocators at once; pointers of one freed to another; creates under
# fault injection that fail and that succeed; invalid creates.
seed mpool_fuzz/mixed 08 00 00 03 02  18 02 ff 05 00 00  28 01 40 00 00 \
	38 02 01 0f 03 00  00 10 20 3f 30 31 32 \
	06 03 00 00 01 00 00  16 03 00 00 00 00 00  36 03 00 00 02 00 00 \
	3b 3c  09 02 00 10 04 00  19 07 02 10 20 05 00 \
	0a 02 40 00  0a 0e 10 00  0a 0c 00 00  0a 04 00 00  0e
# A pool with magazines of 2: take all 65 blocks, free all, then double
# frees of blocks in the cache, in magazines and on the free stack.
seed mpool_fuzz/pool_double 18 02 00 40 04 00  1f 41 00  1f ff \
	15 00 00  15 01 00  15 40 00  1b  15 02 00  1d
# Debug mode: a slab and a pool; overflow into red zones and writes into
# free blocks, audits, allocations that withdraw the written blocks, frees
# that withdraw the overflowed ones, frees of withdrawn blocks.
seed mpool_fuzz/debug 08 00 20 08 01  0f 03 00  03 01  04 00 00 00 \
	04 01 01 00  04 01 02 00  04 01 03 00  0c  03 00  0f 0a 00 \
	05 00 00  05 01 00  0c  0d \
	18 02 20 10 04 01  1f 05 00  1f 82  14 01 00 00  14 01 01 00 \
	14 01 02 00  14 00 00 00  1c  1f 10 00  13 00  15 00 00  15 01 00 \
	1c  1b  1d

# mpool_fuzz_mt: 7 header bytes (threads - 2, pool block size, capacity,
# cache, slab block size, count, debug flags), then the threads' bytes
# dealt round-robin: each thread reads op, argument, op, argument...
rep() {		# rep N HEX...: the bytes N times
	n=$1
	shift
	i=0
	while [ "$i" -lt "$n" ]; do
		echo "$@"
		i=$((i + 1))
	done
}
# Four threads, pool of 64 (cache 8), slab of 32: alloc, hand off, free.
seed mpool_fuzz_mt/handoff 02 3f 3f 08 10 1f 00 \
	$(rep 8 00 00 00 00 00 00 00 00  03 03 03 03 00 00 00 00 \
		06 06 06 06 01 02 03 04  04 04 04 04 00 01 02 03 \
		86 86 86 86 05 06 07 00  84 84 84 84 00 00 00 00)
# Three threads, debug pool of 16 (cache 16), debug slab of 4: run dry,
# misuse, statistics and flushes while the others work.
seed mpool_fuzz_mt/dry 01 00 0f 10 40 03 03 \
	$(rep 8 00 00 00 00 00 00  08 08 18 00 01 02  09 09 09 00 00 00 \
		04 04 04 01 01 01  38 38 28 07 09 0b  06 06 06 00 01 02)
# Two threads, pool without caches: cross-thread frees only.
seed mpool_fuzz_mt/nocache 00 10 07 00 01 07 00 \
	$(rep 12 00 03 00 00  06 06 00 00  05 05 01 01)
