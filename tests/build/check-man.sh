#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# check-man.sh - the committed man pages (man/man3) against mempool.h:
# TAP on stdout, details in $LOG.
#
# They must be exactly what tools/mkman.sh makes from the header now (so a
# doc comment changed without "make man" fails), there must be one for
# every call the header declares, under its short name and its mempool_
# name, and each must render without a groff warning.
#
# Usage: LOG=build/logs/man.out tests/build/check-man.sh KERNEL_DOC OUTDIR
set -u

kdoc=$1
out=$2
: "${LOG:?}"
: > "$LOG"
hdr=user/mempool.h
fails=0

echo "TAP version 13"
echo "1..3"

rm -rf "$out"
if bash tools/mkman.sh "$kdoc" "$out" >> "$LOG" 2>&1 &&
	diff -r man/man3 "$out" >> "$LOG" 2>&1; then
	echo "ok 1 man/man3 is what make man makes from mempool.h now"
else
	echo "not ok 1 man/man3 is what make man makes from mempool.h now (stale: run make man; see $LOG)"
	fails=1
fi

# Every MEMPOOL_API call, and the short name of each wrapped one.
api=$(perl -0ne 'print "$1\n" while /MEMPOOL_API\s+[^;{]*?\b(mempool_\w+)\s*\(/g' "$hdr")
missing=
for f in $api; do
	short=${f#mempool_}
	want=$f
	grep -q "^[a-z_].* \**$short(" "$hdr" && want="$f $short"
	for p in $want; do
		[ -f "man/man3/$p.3" ] || missing="$missing $p"
	done
done
if [ -n "$api" ] && [ -z "$missing" ]; then
	echo "ok 2 a page for every call of mempool.h, by both its names"
else
	echo "not ok 2 a page for every call of mempool.h, by both its names: missing$missing"
	fails=1
fi

# groff -s follows the .so of a mempool_ page from the top of the tree.
warn=$(cd man && for p in man3/*.3; do
	LC_ALL=C groff -s -man -ww -z -Tutf8 "$p" 2>&1 | sed "s|^|$p: |"
done)
echo "$warn" >> "$LOG"
if [ -z "$warn" ] && ls man/man3/*.3 > /dev/null 2>&1; then
	echo "ok 3 every page renders without a groff warning"
else
	echo "not ok 3 every page renders without a groff warning (see $LOG)"
	fails=1
fi
exit $fails
