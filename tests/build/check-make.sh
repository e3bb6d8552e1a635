#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# check-make.sh - the Makefile's promises, from what make would run
# (make -n) and its database (make -p): TAP on stdout, details in $LOG.
#
#  - make, make lib and make install run nothing but the compiler, ar,
#    install, ln and sed: no package installs, no kernel source;
#  - CC, CPPFLAGS, CFLAGS and LDFLAGS reach every compile and link;
#  - -Werror only with WERROR=1, which make check passes on;
#  - make help has one line for every target, and target names have one
#    style (words joined by '-'), bench_vs_malloc being the spec's alias.
#
# Usage (from the Makefile): MAKE=make LOG=build/logs/make.out \
#	tests/build/check-make.sh
set -u

: "${MAKE:?}" "${LOG:?}"
: > "$LOG"
fails=0
# Each probe runs a make of its own, as a user would: nothing inherited
# from a make that runs this script (make check passes WERROR=1 down).
m() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u WERROR \
		$MAKE --no-print-directory -f Makefile "$@" 2>&1
}
result() {	# result STATUS DESCRIPTION
	if [ "$1" = 0 ]; then
		echo "ok $2"
	else
		echo "not ok $2 (see $LOG)"
		fails=1
	fi
}

echo "TAP version 13"
echo "1..5"

# 1: nothing but the toolchain, for the default goal, lib and install.
out=$(m -n -B O=build/maketest DESTDIR=/nonexistent)
out="$out
$(m -n -B O=build/maketest DESTDIR=/nonexistent lib install)"
echo "# make -n -B; make -n -B lib install:" >> "$LOG"
echo "$out" >> "$LOG"
bad=$(echo "$out" | grep -E 'deps\.sh|apt-get|dpkg|tar |kernel-doc|linux-source|abidw|kselftest')
! [ -n "$bad" ] && echo "$out" | grep -q -- '-shared' &&
	echo "$out" | grep -q 'install -m 644 user/mempool.h'
result $? "1 make, make lib and make install need only make, a C compiler and liburcu's headers"

# 2: the flags, on every compile and link of the library.
out=$(m -n -B O=build/maketest CC=mpt-cc CPPFLAGS=-DMPT_CPPFLAGS \
	CFLAGS=-DMPT_CFLAGS LDFLAGS=-Wl,--mpt-ldflags lib)
echo "# make -n -B lib CC=mpt-cc CPPFLAGS=... CFLAGS=... LDFLAGS=...:" >> "$LOG"
echo "$out" >> "$LOG"
cc=$(echo "$out" | grep -E '^[^ ]*cc ')
compiles=$(echo "$cc" | grep -e ' -c ')
links=$(echo "$cc" | grep -e '-shared')
[ -n "$compiles" ] && [ -n "$links" ] &&
	! echo "$cc" | grep -qv '^mpt-cc ' &&
	! echo "$compiles" | grep -v -e '-DMPT_CPPFLAGS' | grep -q . &&
	! echo "$compiles" | grep -v -e '-DMPT_CFLAGS' | grep -q . &&
	! echo "$links" | grep -v -e '-Wl,--mpt-ldflags' | grep -q .
result $? "2 CC, CPPFLAGS, CFLAGS and LDFLAGS reach every compile and link"

# 3: -Werror only when asked.
off=$(m -n -B O=build/maketest lib | grep -e ' -c ')
on=$(m -n -B O=build/maketest WERROR=1 lib | grep -e ' -c ')
db=$(m -p -n help)
check=$(echo "$db" | sed -n '/^check:/,/^$/p')
echo "# the recipe of check:" >> "$LOG"
echo "$check" >> "$LOG"
[ -n "$off" ] && ! echo "$off" | grep -q -e '-Werror' &&
	! echo "$on" | grep -v -e '-Werror' | grep -q . &&
	echo "$check" | grep -q 'MAKE.*WERROR=1'
result $? "3 -Werror only with WERROR=1, which make check sets"

# 4: every target in make help, once; names in one style.
phony=$(echo "$db" | sed -n 's/^\.PHONY: //p' | tr ' ' '\n' | grep . | sort -u)
helped=$(m help | awk '{ print $1 }' | sort)
echo "# phony targets (<) and make help (>):" >> "$LOG"
diffs=$(diff <(echo "$phony") <(echo "$helped"))
echo "$diffs" >> "$LOG"
style=$(echo "$phony" | grep -vx '[a-z][a-z0-9]*\(-[a-z0-9]\+\)*' |
	grep -vx bench_vs_malloc)
echo "# names not in style: $style" >> "$LOG"
[ -n "$phony" ] && [ -z "$diffs" ] && [ -z "$style" ]
result $? "4 make help lists every target once, and target names are words joined by '-'"

# 5: the spec's bench_vs_malloc is an alias of bench-vs-malloc.
echo "$db" | grep -qx 'bench_vs_malloc: bench-vs-malloc' &&
	m help | grep -q '^ *bench_vs_malloc .*alias'
result $? "5 bench_vs_malloc, as the spec names it, is an alias of bench-vs-malloc"
exit $fails
