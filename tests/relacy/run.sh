#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# run.sh - make relacy: the litmus cases on the core's own files, then the
# harness's self-test: each planted bug must make its case fail.
#
# Usage: tests/relacy/run.sh LOG BIN... -- [PLANT...]
#   LOG    Relacy's own output (histories of failing executions) goes here
#   BIN    a litmus binary (build/relacy/*_litmus) built from common/ as it is
#   PLANT  NAME:LITMUS:CASE:WHAT, with build/relacy/NAME/LITMUS built from a
#          planted variant; CASE is the litmus case that exists to catch
#          it, and only that case is run on the plant
#
# Prints one TAP stream: a line per litmus case on the real code (each
# binary's lines renumbered into one plan), then a line per planted bug
# ("ok" when the checker caught it in CASE).
# Exit status: 0 when every line is "ok".
set -uo pipefail

log=$1
shift
: > "$log"
bins=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	bins+=("$1")
	shift
done
[ $# -gt 0 ] && shift

rc=0 n=0 lines=()
for bin in "${bins[@]}"; do
	out=$("$bin" -l "$log" 2>&1) || rc=1
	ncases=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' <<<"$out")
	if [ -z "$ncases" ]; then
		n=$((n + 1))
		lines+=("not ok $n - $bin did not run: $(head -c 300 <<<"$out")")
		rc=1
		continue
	fi
	# A crash after the plan leaves results missing: counted as failures.
	got=0
	while IFS= read -r l; do
		n=$((n + 1)) got=$((got + 1))
		lines+=("$(sed 's/^\(not \)\?ok [0-9]* - /\1ok '"$n"' - '"${bin##*/}"' /' <<<"$l")")
	done < <(grep '^\(not \)\?ok ' <<<"$out")
	while [ "$got" -lt "$ncases" ]; do
		n=$((n + 1)) got=$((got + 1))
		lines+=("not ok $n - ${bin##*/}: a case did not report (crash?)")
		rc=1
	done
done

echo "TAP version 13"
echo "1..$((n + $#))"
printf '%s\n' "${lines[@]}"

for plant in "$@"; do
	IFS=: read -r name litmus case what <<<"$plant"
	n=$((n + 1))
	out=$("build/relacy/$name/$litmus" -l "$log" "$case" 2>&1)
	line=$(grep "^not ok [0-9]* - $case:" <<<"$out" |
	       sed 's/^not ok [0-9]* - //')
	if [ -n "$line" ]; then
		echo "ok $n - self-test $name: $what: caught by $litmus $line"
	else
		echo "not ok $n - self-test $name: $what: $litmus $case did not catch it"
		rc=1
	fi
done
exit $rc
