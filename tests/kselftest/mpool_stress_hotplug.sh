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

# Take every CPU but the boot CPU offline and back, once.
toggle_all() {
	for c in /sys/devices/system/cpu/cpu[1-9]*; do
		[ -w $c/online ] || continue
		echo 0 > $c/online || togfail=$((togfail + 1))
		echo 1 > $c/online || togfail=$((togfail + 1))
		toggles=$((toggles + 1))
	done
}

# Stress rounds while CPUs come and go, until enough hotplug cycles were
# seen (at most 10 rounds), or for MPOOL_SOAK_SECONDS when set (make
# soak); the last round keeps $HOLD blocks.
toggles=0 togfail=0 errs=0 round=0 rc=0 soak_start=$(date +%s)
can_hotplug=0
[ -w /sys/devices/system/cpu/cpu1/online ] && can_hotplug=1
while :; do
	round=$((round + 1))
	last=0
	if [ -n "$MPOOL_SOAK_SECONDS" ]; then
		[ $(($(date +%s) - soak_start)) -ge $MPOOL_SOAK_SECONDS ] && last=1
	else
		[ $can_hotplug -eq 0 -o $toggles -ge 12 -o $round -ge 10 ] &&
			last=1
	fi
	hold=0
	[ $last -eq 1 ] && hold=$HOLD
	echo "100000 $hold" > $DBG/mpool_stress/run &
	run=$!
	while [ $can_hotplug -eq 1 ] && kill -0 $run 2>/dev/null; do
		toggle_all
	done
	wait $run || rc=1
	errs=$((errs + $(stat $ST errors)))
	[ $last -eq 1 ] && break
done
echo "# $round stress rounds, $toggles CPU offline/online cycles"
check "every stress round completed" [ $rc -eq 0 ]
if [ $can_hotplug -eq 1 ]; then
	check "$toggles CPU offline/online cycles during the rounds" \
		[ $togfail -eq 0 -a $toggles -gt 0 ]
else
	skip "CPU hotplug not available here"
fi

cat $ST | sed 's/^/# /'
cat $S | sed 's/^/# /'
allocs=$(stat $ST allocs) frees=$(stat $ST frees) held=$(stat $ST held)
check "no block owned twice, no failed free, no overwritten pattern" \
	[ $errs -eq 0 ]
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
