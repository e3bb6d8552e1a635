#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# check-names.sh - libmempool's symbols: TAP on stdout, details in $LOG.
#
# Every symbol libmempool.so exports, and every public symbol of
# libmempool.a, starts with mempool_; the .so exports exactly the
# MEMPOOL_API calls of mempool.h, each at a MEMPOOL_ symbol version; the
# seed's examples compile unchanged and run against both libraries; a
# program with its own pool_create() uses MEMPOOL_NO_SHORT_NAMES and links
# against both, each call reaching the right function.
#
# Usage (from the Makefile): O=build CC=cc WARN="..." VERSION=1.1.0 \
#	LOG=build/logs/names.out tests/build/check-names.sh
set -u

: "${O:?}" "${CC:?}" "${VERSION:?}" "${LOG:?}"
WARN=${WARN:--Wall -Wextra}
so=$O/libmempool.so.$VERSION
a=$O/libmempool.a
hdr=user/mempool.h
t=$O/names
mkdir -p "$t"
: > "$LOG"

n=0
fails=0
result() {	# result STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2 (see $LOG)"
		fails=$((fails + 1))
	fi
}
log() { echo "# $*" >> "$LOG"; }

echo "TAP version 13"
echo "1..8"

# 1: the .so's defined dynamic symbols, less the version node's own.
syms=$(readelf --dyn-syms -W "$so" | awk '$7 != "UND" && $8 != "" && NR > 3 { print $8 }' |
	grep -v '^MEMPOOL_[0-9.]*$')
bad=$(echo "$syms" | grep -v '^mempool_[a-z0-9_]*@@\?MEMPOOL_[0-9.]*$')
log "exported by $so:"; echo "$syms" >> "$LOG"
[ -n "$syms" ] && [ -z "$bad" ]
result $? "libmempool.so exports only mempool_ symbols, each at a MEMPOOL_ version${bad:+: $(echo $bad)}"

# 2: global or weak, default visibility, defined: what a static link sees.
pub=$(readelf -sW "$a" | awk '($5 == "GLOBAL" || $5 == "WEAK") &&
	$6 == "DEFAULT" && $7 != "UND" { print $8 }' | sort -u)
bad=$(echo "$pub" | grep -v '^mempool_')
log "public in $a:"; echo "$pub" >> "$LOG"
[ -n "$pub" ] && [ -z "$bad" ]
result $? "libmempool.a's public symbols all start with mempool_${bad:+: $(echo $bad)}"

# 3: the header's MEMPOOL_API calls against the .so's exports.
api=$(perl -0ne 'print "$1\n" while /MEMPOOL_API\s+[^;{]*?\b(mempool_\w+)\s*\(/g' \
	"$hdr" | sort -u)
exp=$(echo "$syms" | sed 's/@.*//' | sort -u)
diffs=$(diff <(echo "$api") <(echo "$exp"))
log "header MEMPOOL_API vs exported (< header only, > library only):"
echo "$diffs" >> "$LOG"
[ -n "$api" ] && [ -z "$diffs" ]
result $? "libmempool.so exports exactly the MEMPOOL_API calls of mempool.h$([ -n "$diffs" ] && echo ": $(echo $diffs)")"

# Build $1 from $2 against the static (s) or shared (d) library.
build() {
	local out=$1 src=$2 how=$3
	shift 3
	if [ "$how" = s ]; then
		$CC $WARN -std=gnu11 -pthread -Iuser "$@" "$src" "$a" -o "$out"
	else
		$CC $WARN -std=gnu11 -pthread -Iuser "$@" "$src" -L"$O" -lmempool \
			-Wl,-rpath,"$(cd "$O" && pwd)" -o "$out"
	fi
}

# Run $1, its output in the log.
run() {
	log "run $1"
	"$1" >> "$LOG" 2>&1
}

# 4, 5: the seed's examples, unchanged, static and shared.
for how in s d; do
	ok=0
	for src in tests/build/seed_usage.c tools/example.c; do
		exe=$t/$(basename "$src" .c)-$how
		build "$exe" "$src" $how -O2 >> "$LOG" 2>&1 && run "$exe" || ok=1
	done
	if [ $how = d ] && [ $ok = 0 ]; then
		# The program binds to the mempool_ names, at their version.
		und=$(readelf --dyn-syms -W "$t/example-d" |
			awk '$7 == "UND" { print $8 }' | grep -i 'mempool\|pool_\|slab_\|arena_')
		log "example-d needs:"; echo "$und" >> "$LOG"
		echo "$und" | grep -qx 'mempool_pool_alloc@MEMPOOL_1\.1' &&
			! echo "$und" | grep -vqx 'mempool_[a-z_]*@MEMPOOL_[0-9.]*' ||
			ok=1
	fi
	[ $how = s ] && what="static library" || what="shared library, bound to mempool_*@MEMPOOL_1.1"
	result $ok "the seed's examples (spec usage, tools/example.c) compile unchanged and run: $what"
done

# 6, 7: a program with its own pool_create(), against both libraries.
for how in s d; do
	exe=$t/own_names-$how
	build "$exe" tests/build/own_names.c $how -O2 >> "$LOG" 2>&1 && run "$exe"
	[ $how = s ] && what="static" || what="shared"
	result $? "MEMPOOL_NO_SHORT_NAMES: a program with its own pool_create() and slab_alloc() links against the $what library; each call reaches the right function"
done

# 8: the short names are inline even at -O0 (no copy of their own), so a
# report's caller is the application's call itself.
exe=$t/seed_usage-O0
build "$exe" tests/build/seed_usage.c s -O0 >> "$LOG" 2>&1 && run "$exe" &&
	! nm "$exe" | grep -qw 'pool_create\|slab_alloc\|pool_free'
result $? "the short names leave no function of their own, even at -O0"

exit $((fails > 0))
