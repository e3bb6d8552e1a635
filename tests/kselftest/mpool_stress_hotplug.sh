#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# An in-kernel stress (one kthread per online CPU, cross-CPU frees) while
# CPUs go offline and come back; then the pool's debugfs statistics must
# agree with the stress's own counts, and return to zero in use.
. "$(dirname "$0")/lib.sh"

require_root
require_module mempool mpool_stress
tap_plan 8

load mempool
load mpool_stress
S=$DBG/mempool/mpool_stress/stats
ST=$DBG/mpool_stress/status
HOLD=100

ncpus=$(grep -c ^processor /proc/cpuinfo)
echo "# $ncpus CPUs online"
echo "200000 $HOLD" > $DBG/mpool_stress/run &
run=$!

toggles=0 togfail=0
if [ -w /sys/devices/system/cpu/cpu1/online ]; then
	while kill -0 $run 2>/dev/null; do
		for c in /sys/devices/system/cpu/cpu[1-9]*; do
			[ -w $c/online ] || continue
			echo 0 > $c/online || togfail=$((togfail + 1))
			echo 1 > $c/online || togfail=$((togfail + 1))
			toggles=$((toggles + 1))
		done
	done
fi
wait $run
rc=$?
check "the stress run completed" [ $rc -eq 0 ]
if [ $toggles -gt 0 ]; then
	check "$toggles CPU offline/online cycles during the run" [ $togfail -eq 0 ]
else
	skip "CPU hotplug not available here"
fi

cat $ST | sed 's/^/# /'
cat $S | sed 's/^/# /'
allocs=$(stat $ST allocs) frees=$(stat $ST frees) held=$(stat $ST held)
check "no block owned twice, no failed free, no overwritten pattern" \
	[ "$(stat $ST errors)" = 0 ]
check "stress counts balance: allocs = frees + held" \
	[ "$allocs" -eq $((frees + held)) -a "$held" -eq $HOLD ]
check "debugfs in_use equals the blocks the stress holds" \
	[ "$(stat $S in_use)" -eq "$held" ]
echo 1 > $DBG/mpool_stress/release
check "in_use returns to zero after release" [ "$(stat $S in_use)" -eq 0 ]
echo 1 > $DBG/mempool/mpool_stress/flush
check "after a flush nothing is cached and everything is free" \
	[ "$(stat $S cached)" -eq 0 -a "$(stat $S free)" -eq "$(stat $S capacity)" ]
check "no misuse was counted" \
	[ "$(stat $S invalid)$(stat $S double_free)$(stat $S corrupt)" = 000 ]
rmmod mpool_stress
rmmod mempool
tap_done
