#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# The example user module (tools/examples/kmod), built out of tree against
# mempool.ko's header and Module.symvers, loads after mempool.ko, uses a
# pool, says so in the kernel log, holds mempool.ko while loaded, and
# unloads cleanly.
. "$(dirname "$0")/lib.sh"

require_root
require_module mempool mpool_example
tap_plan 7

LINE='mpool_example: 64 blocks of 256 bytes: 64 allocated, 64 freed, in use 0'

unload mpool_example
load mempool
v=$(cat /sys/module/mempool/version 2>/dev/null)
echo "# mempool.ko version ${v:-none}"
if [ -n "${MPOOL_VERSION:-}" ]; then
	check "mempool.ko's MODULE_VERSION is $MPOOL_VERSION" \
		[ "$v" = "$MPOOL_VERSION" ]
else
	check "mempool.ko has a MODULE_VERSION" [ -n "$v" ]
fi

check "insmod mpool_example.ko after mempool.ko" \
	insmod "$MPOOL_MODDIR/mpool_example.ko"
dmesg | grep 'mpool_example: ' | sed 's/^/# /'
check "its line is in the kernel log" sh -c "dmesg | grep -qF '$LINE'"
S=$DBG/mempool/mpool_example/stats
kind=$(stat "$S" kind)
in_use=$(stat "$S" in_use)
check "its pool is in debugfs with nothing in use" \
	[ "$kind" = pool -a "$in_use" = 0 ]
check "it holds mempool.ko" [ -e /sys/module/mempool/holders/mpool_example ]
if rmmod mempool 2>/dev/null; then
	not_ok "mempool.ko cannot be unloaded under it"
else
	ok "mempool.ko cannot be unloaded under it"
fi
rmmod mpool_example && rmmod mempool
check "both unload in order" sh -c "! grep -q '^mempool ' /proc/modules"
tap_done
