#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# check-abi.sh - libmempool.so against its ABI baseline, as DPDK's CI
# checks its libraries: TAP on stdout, abidiff's reports in $LOG.
#
#   check-abi.sh dump SO OUT.abi     write SO's ABI (what make abi-baseline
#                                    commits as abi/libmempool.abi)
#   check-abi.sh check SO BASELINE   compare, TAP
#
# abidiff's exit status is a bit mask (man abidiff): 1 error, 2 usage
# error, 4 the ABI changed, 8 an incompatible change.  abidiff sets 8 only
# where it is sure (a call removed); a public struct whose layout changed
# sets only 4.  So the gate is DPDK's (devtools/check-abi.sh): any change
# fails except added calls, which are compatible; that is, 1, 2 or 8
# fail, and 4 fails unless abidiff --no-added-syms finds nothing.  The
# comparison looks only at what mempool.h declares (--header-file, with
# private types dropped), so internal types (the allocators' structs,
# opaque in the header) may change freely.  Three more lines prove the
# gate on doctored copies of the library's ABI: a call lost and a public
# struct's layout changed must fail, a call gained must pass.
set -u

hdr=user/mempool.h

dump() {	# dump SO OUT
	# The licence goes inside the root element: abidiff tells the
	# format by the file's first bytes.
	abidw --header-file "$hdr" --drop-private-types --no-corpus-path \
		--no-comp-dir-path --no-show-locs "$1" |
	sed '1a\
  <!-- SPDX-License-Identifier: MIT OR GPL-2.0 -->\
  <!-- libmempool.so as abidw sees it; make abi-baseline rewrites it -->' \
		> "$2.tmp" && mv "$2.tmp" "$2"
}

# Drop function $2 (its symbol and declaration) from ABI dump $1, to $3.
drop_fn() {
	sed -e "/<elf-symbol name='$2'/d" \
	    -e "/<function-decl name='$2'/,/<\\/function-decl>/d" "$1" > "$3"
}

# Grow public struct $2 of ABI dump $1 by 64 bits, its last member moved
# to the end, to $3: the layout change of a field inserted before it.
grow_struct() {
	python3 - "$1" "$2" "$3" <<'EOF'
import re
import sys

src, name, dst = sys.argv[1:]
text = open(src).read()
block = re.search(r"<class-decl name='%s' size-in-bits='\d+'.*?</class-decl>"
		  % name, text, re.S).group(0)
size = re.search(r"size-in-bits='(\d+)'", block).group(1)
last = re.findall(r"layout-offset-in-bits='\d+'", block)[-1]
i = block.rindex(last)
moved = "layout-offset-in-bits='%d'" % (int(last.split("'")[1]) + 64)
new = block[:i] + moved + block[i + len(last):]
new = new.replace("size-in-bits='%s'" % size,
		  "size-in-bits='%d'" % (int(size) + 64), 1)
open(dst, "w").write(text.replace(block, new))
EOF
}

# The gate on OLD NEW, abidiff's reports into the log: echo "pass",
# "fail" or "error" (abidiff could not compare), then abidiff's exit status.
gate() {
	local rc rc2

	echo "# abidiff $1 $2" >> "$LOG"
	abidiff --no-show-locs "$1" "$2" >> "$LOG" 2>&1
	rc=$?
	echo "# exit status $rc" >> "$LOG"
	if [ $((rc & 3)) -ne 0 ]; then
		echo "error $rc"
	elif [ $((rc & 8)) -ne 0 ]; then
		echo "fail $rc"
	elif [ $((rc & 4)) -ne 0 ]; then
		echo "# abidiff --no-added-syms $1 $2" >> "$LOG"
		abidiff --no-show-locs --no-added-syms "$1" "$2" >> "$LOG" 2>&1
		rc2=$?
		echo "# exit status $rc2" >> "$LOG"
		if [ $rc2 -eq 0 ]; then
			echo "pass $rc, added calls only"
		else
			echo "fail $rc, changes other than added calls"
		fi
	else
		echo "pass $rc"
	fi
}

case "${1:-}" in
dump)
	dump "$2" "$3"
	exit $?
	;;
check)
	so=$2
	base=$3
	;;
*)
	echo "usage: $0 dump SO OUT | check SO BASELINE" >&2
	exit 2
	;;
esac

: "${LOG:?}"
: > "$LOG"
dir=$(dirname "$LOG")/abi
mkdir -p "$dir"
echo "TAP version 13"
echo "1..4"
fails=0

if ! command -v abidiff > /dev/null; then
	for i in 1 2 3 4; do
		echo "not ok $i abidiff is not installed (tools/deps.sh user installs abigail-tools)"
	done
	exit 1
fi

# expect N WANT DESCRIPTION OLD NEW
expect() {
	local v

	v=$(gate "$4" "$5")
	if [ "${v%% *}" = "$2" ]; then
		echo "ok $1 $3: abidiff exit ${v#* }"
	else
		echo "not ok $1 $3: abidiff exit ${v#* } (see $LOG)"
		fails=1
	fi
}

if ! dump "$so" "$dir/current.abi" >> "$LOG" 2>&1; then
	echo "not ok 1 abidw could not read $so (see $LOG)"
	exit 1
fi
expect 1 pass "the ABI of libmempool.so is compatible with $base (after an intended change: make abi-baseline)" \
	"$base" "$dir/current.abi"

# The gate itself.
drop_fn "$dir/current.abi" mempool_pool_free "$dir/lost.abi"
grow_struct "$dir/current.abi" mempool_stats "$dir/grown.abi"
expect 2 fail "the gate fails a library that lost mempool_pool_free" \
	"$dir/current.abi" "$dir/lost.abi"
expect 3 fail "the gate fails a library whose struct mempool_stats changed layout" \
	"$dir/current.abi" "$dir/grown.abi"
expect 4 pass "the gate passes a library that gained a call" \
	"$dir/lost.abi" "$dir/current.abi"
exit $fails
