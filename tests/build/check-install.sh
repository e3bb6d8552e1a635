#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# check-install.sh - make install and make uninstall into a staging root:
# TAP on stdout, details in $LOG.
#
# Installs with PREFIX=/usr and a LIBDIR of its own (/usr/lib64) beside
# files that are not ours (another version's libmempool.so.0, a header, a
# man page); checks what was written, builds and runs tools/example.c with
# pkg-config against the installed shared library, reads the installed
# man pages with man(1), then uninstalls and checks that exactly the
# installed files are gone and the others are still there.
#
# Usage (from the Makefile): MAKE=make CC=cc VERSION=1.1.0 SOVER=1 \
#	LOG=build/logs/install.out tests/build/check-install.sh
set -u

: "${MAKE:?}" "${CC:?}" "${VERSION:?}" "${SOVER:?}" "${LOG:?}"
: > "$LOG"
stage=$(pwd)/build/stage
prefix=/usr
libdir=/usr/lib64
root=$stage$prefix
fails=0

echo "TAP version 13"
echo "1..4"

rm -rf "$stage"
mkdir -p "$stage$libdir" "$root/include" "$root/share/man/man3"
echo other > "$stage$libdir/libmempool.so.0"
echo other > "$root/include/other.h"
echo other > "$root/share/man/man3/other.3"
files() { (cd "$stage" && find . ! -type d | sort); }
before=$(files)

# 1: what install wrote.
$MAKE --no-print-directory -s install DESTDIR="$stage" PREFIX=$prefix \
	LIBDIR=$libdir >> "$LOG" 2>&1
written=$(comm -13 <(echo "$before") <(files))
want=$( (echo ./usr/include/mempool.h
	for f in libmempool.a libmempool.so.$VERSION libmempool.so.$SOVER \
		libmempool.so pkgconfig/mempool.pc; do
		echo ".$libdir/$f"
	done
	for f in man/man3/*.3; do
		echo ./usr/share/man/man3/${f#man/man3/}
	done) | sort)
echo "# written:" >> "$LOG"
echo "$written" >> "$LOG"
if [ "$written" = "$want" ]; then
	echo "ok 1 install wrote the header, the libraries, mempool.pc and $(ls man/man3/*.3 | wc -l) man pages, at PREFIX=$prefix LIBDIR=$libdir"
else
	echo "not ok 1 install wrote the header, the libraries, mempool.pc and the man pages, at PREFIX=$prefix LIBDIR=$libdir (see $LOG)"
	diff <(echo "$want") <(echo "$written") >> "$LOG"
	fails=1
fi

# 2: an application built with pkg-config, run against the shared library.
if PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$stage$libdir/pkgconfig \
	sh -c "$CC tools/example.c -o '$stage/example' \
		\$(pkg-config --cflags --libs mempool)" >> "$LOG" 2>&1 &&
	LD_LIBRARY_PATH=$stage$libdir "$stage/example" >> "$LOG" 2>&1 &&
	LD_LIBRARY_PATH=$stage$libdir ldd "$stage/example" |
		grep -q "libmempool.so.$SOVER => $stage$libdir/" &&
	readelf -d "$stage$libdir/libmempool.so.$VERSION" |
		grep -q "SONAME.*libmempool.so.$SOVER"; then
	echo "ok 2 install, pkg-config build and run against libmempool.so"
else
	echo "not ok 2 install, pkg-config build and run against libmempool.so (see $LOG)"
	fails=1
fi

# 3: man pool_create, man mempool_pool_create.
page() { MANWIDTH=80 man -P cat -M "$root/share/man" 3 "$1" 2>> "$LOG"; }
if page pool_create | grep -q '^ *pool_create - a pool of' &&
	page mempool_pool_create | grep -q '^ *pool_create - a pool of' &&
	page mempool_pool_create | grep -q 'exports this call as mempool_pool_create()'; then
	echo "ok 3 the installed man pages: man pool_create, man mempool_pool_create"
else
	echo "not ok 3 the installed man pages: man pool_create, man mempool_pool_create (man(1) installed? see $LOG)"
	fails=1
fi

# 4: uninstall, with the same variables, leaves what was there before.
$MAKE --no-print-directory -s uninstall DESTDIR="$stage" PREFIX=$prefix \
	LIBDIR=$libdir >> "$LOG" 2>&1
rm -f "$stage/example"
after=$(files)
if [ "$after" = "$before" ]; then
	echo "ok 4 uninstall removed exactly the files install wrote"
else
	echo "not ok 4 uninstall removed exactly the files install wrote (see $LOG)"
	echo "# before install (<) and after uninstall (>):" >> "$LOG"
	diff <(echo "$before") <(echo "$after") >> "$LOG"
	fails=1
fi
exit $fails
