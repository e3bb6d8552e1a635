#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# tap-summary.sh - count the results in TAP logs and end with the line
# "N passed, N failed, N skipped".
#
# Each argument is a TAP log (kselftest harness output, or a one-line log
# written by the Makefile for a build check).  Top-level "ok"/"not ok" lines
# are results; "# SKIP" marks a skip.  A log whose plan ("1..N") promises
# more results than it holds (a crashed binary) counts the missing ones as
# failed, and so does a log that is missing or holds no result at all.
# Exit status: 0 when nothing failed.
set -uo pipefail

pass=0 fail=0 skip=0
for log in "$@"; do
	if [ ! -s "$log" ]; then
		echo "not ok - $log: no output" >&2
		fail=$((fail + 1))
		continue
	fi
	read -r p f s n plan < <(awk '
		/^ok / && /# *SKIP/ { s++; n++; next }
		/^ok / { p++; n++; next }
		/^not ok / { f++; n++; next }
		/^1\.\.[0-9]+/ { sub(/^1\.\./, ""); plan = $0 + 0 }
		END { print p + 0, f + 0, s + 0, n + 0, plan + 0 }' "$log")
	if [ "$n" -eq 0 ] || [ "$n" -lt "$plan" ]; then
		missing=$(( plan > n ? plan - n : 1 ))
		echo "not ok - $log: $missing result(s) missing" >&2
		f=$((f + missing))
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	grep -h '^not ok ' "$log" | sed "s|^|$(basename "$log"): |" >&2 || true
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
