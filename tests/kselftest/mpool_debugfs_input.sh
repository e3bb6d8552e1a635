#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Write bad values into every writable debugfs file of mempool.ko and its
# stress driver: each write fails, and the kernel and the module stay
# healthy (the VM runner fails the run on any Oops, BUG or WARNING).
. "$(dirname "$0")/lib.sh"

require_root
require_module mempool mpool_stress
load mempool
load mpool_stress

long=$(head -c 5000 /dev/zero | tr '\0' 'x')
files=$(find $DBG/mempool $DBG/mpool_stress -type f -perm -200)
nfiles=$(echo "$files" | wc -l)
nbad=8
tap_plan $((nfiles * nbad + 2))

for f in $files; do
	for v in "abc" "-1" "0" "2" "99999999999999999999" "1 2 3" \
		 "0 0" "$long"; do
		if printf '%s' "$v" > "$f" 2>/dev/null; then
			not_ok "$f rejects '$(echo "$v" | cut -c1-20)'"
		else
			ok "$f rejects '$(echo "$v" | cut -c1-20)'"
		fi
	done
done
check "the stress still runs after the bad writes" \
	sh -c "echo '2000 0' > $DBG/mpool_stress/run"
check "and leaves nothing in use" \
	[ "$(stat $DBG/mempool/mpool_stress/stats in_use)" -eq 0 ]
rmmod mpool_stress
rmmod mempool
tap_done
