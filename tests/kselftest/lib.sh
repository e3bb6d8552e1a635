#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - TAP helpers for mempool's kselftest scripts (busybox sh).
# Kernel selftest conventions: TAP on stdout, exit 4 to skip.

ksft_skip=4
MPOOL_MODDIR=${MPOOL_MODDIR:-/lib/mpool}
DBG=/sys/kernel/debug
tap_n=0
tap_fail=0

tap_plan() { echo "TAP version 13"; echo "1..$1"; }
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_fail=$((tap_fail + 1)); echo "not ok $tap_n $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
check() { # check "description" command...
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
tap_done() { [ "$tap_fail" -eq 0 ]; exit $?; }

require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "# SKIP: must be root"
		exit $ksft_skip
	fi
}

require_module() { # the .ko files must be where the VM put them
	for m in "$@"; do
		if [ ! -f "$MPOOL_MODDIR/$m.ko" ]; then
			echo "# SKIP: $MPOOL_MODDIR/$m.ko not found"
			exit $ksft_skip
		fi
	done
}

loaded() { grep -q "^$1 " /proc/modules; }
load() { loaded "$1" || insmod "$MPOOL_MODDIR/$1.ko"; }
unload() { ! loaded "$1" || rmmod "$1"; }

# stat FILE KEY: the value of "KEY value" in a debugfs stats file.
stat() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
