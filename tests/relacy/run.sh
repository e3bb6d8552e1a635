#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# run.sh - make relacy: the litmus cases on the core's stack.c, then the
# harness's self-test: each planted bug must make its case fail.
#
# Usage: tests/relacy/run.sh LOG BIN [PLANT...]
#   LOG    Relacy's own output (histories of failing executions) goes here
#   BIN    stack_litmus built from common/stack.c as it is
#   PLANT  NAME:CASE:WHAT, with build/relacy/NAME/stack_litmus built from a
#          planted variant; CASE is the litmus case that exists to catch it
#
# Prints one TAP stream: a line per litmus case on the real code, then a
# line per planted bug ("ok" when the checker caught it in CASE).
# Exit status: 0 when every line is "ok".
set -uo pipefail

log=$1 bin=$2
shift 2
: > "$log"

real=$("$bin" -l "$log" 2>&1)
rc=$?
# The binary's own plan: a crash after it leaves results missing, counted
# as failures by tools/tap-summary.sh.
ncases=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' <<<"$real")
echo "TAP version 13"
echo "1..$((${ncases:-1} + $#))"
grep '^\(not \)\?ok ' <<<"$real"
[ -n "$ncases" ] || { echo "not ok 1 - $bin did not run: $real"; ncases=1; rc=1; }

n=$ncases
for plant in "$@"; do
	IFS=: read -r name case what <<<"$plant"
	n=$((n + 1))
	out=$("build/relacy/$name/stack_litmus" -l "$log" 2>&1)
	caught=$(sed -n 's/^not ok [0-9]* - \([a-z0-9_]*\):.*/\1/p' <<<"$out" |
		 paste -sd, -)
	line=$(grep "^not ok [0-9]* - $case:" <<<"$out" |
	       sed 's/^not ok [0-9]* - //')
	if [ -n "$line" ]; then
		echo "ok $n - self-test $name: $what: caught by $line (all that caught it: $caught)"
	else
		echo "not ok $n - self-test $name: $what: $case did not catch it (caught by: ${caught:-none})"
		rc=1
	fi
done
exit $rc
