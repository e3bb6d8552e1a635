#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload mempool.ko many times; its debugfs directory comes and
# goes with it; it cannot be unloaded while a module using it is loaded.
. "$(dirname "$0")/lib.sh"

require_root
require_module mempool mpool_stress
tap_plan 5

unload mpool_stress
unload mempool
fails=0
for i in $(seq 1 25); do
	insmod "$MPOOL_MODDIR/mempool.ko" || fails=$((fails + 1))
	[ -d $DBG/mempool ] || fails=$((fails + 1))
	rmmod mempool || fails=$((fails + 1))
	[ ! -e $DBG/mempool ] || fails=$((fails + 1))
done
check "25 load/unload cycles, debugfs follows" [ $fails -eq 0 ]

load mempool
load mpool_stress
check "a user module's pool appears in debugfs" \
	[ -f $DBG/mempool/mpool_stress/stats ]
if rmmod mempool 2>/dev/null; then
	not_ok "mempool.ko cannot be unloaded under a user module"
else
	ok "mempool.ko cannot be unloaded under a user module"
fi
check "the user module's pool still works" \
	sh -c "echo '1000 0' > $DBG/mpool_stress/run"
rmmod mpool_stress && rmmod mempool
check "both unload in order" sh -c "! grep -q '^mempool ' /proc/modules"
tap_done
