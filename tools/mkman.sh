#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# mkman.sh - the section 3 man pages of libmempool, from the kernel-doc
# comments of user/mempool.h.
#
# Usage: tools/mkman.sh KERNEL_DOC OUTDIR
#
# One page per documented call (OUTDIR/pool_create.3, ...) and per public
# struct (mempool_stats.3, mempool_error.3), made by the kernel's
# "kernel-doc -man" and turned from section 9 into section 3: the .TH line
# names the library and its version, SYNOPSIS starts with the #include,
# a LIBRARY section says how to link.  A call the header documents under
# its short name (pool_create) gets a NOTES section naming the symbol the
# library exports (mempool_pool_create), and that name gets a page of its
# own that sources the short one (.so man3/pool_create.3), so that
# "man mempool_pool_create" works too.
#
# The output depends on nothing but the header and the kernel-doc script:
# the date is the release date of the header's version in CHANGELOG.md.
# The pages are committed (man/man3, by "make man"); "make check-man"
# makes them again and fails if they differ.
set -euo pipefail

kdoc=$1
out=$2
hdr=user/mempool.h

ver=$(sed -n 's/^#define MEMPOOL_VERSION_\(MAJOR\|MINOR\|PATCH\)[[:space:]]*\([0-9]*\)$/\2/p' \
	"$hdr" | paste -sd.)
date=$(sed -n "s/^## \[\?$ver\]\? - \([0-9-]*\)\$/\1/p" CHANGELOG.md)
if [ -z "$date" ]; then
	echo "mkman.sh: CHANGELOG.md has no '## $ver - YYYY-MM-DD' heading" >&2
	exit 1
fi

# The documented calls (" * name() - purpose") and structs, in header order.
calls=$(sed -n 's/^ \* \([a-z_][a-z0-9_]*\)() - .*/\1/p' "$hdr")
structs=$(sed -n 's/^ \* struct \([a-z_][a-z0-9_]*\) - .*/\1/p' "$hdr")

# Calls the header wraps: "static inline ... NAME(" over "mempool_NAME(".
wrapped() {
	grep -q "^MEMPOOL_API .*\bmempool_$1(" "$hdr" &&
		grep -q "^[a-z_].* \**$1(" "$hdr"
}

head='.\" SPDX-License-Identifier: MIT OR GPL-2.0
.\" Made by tools/mkman.sh from user/mempool.h: edit those, then make man.'

# kernel-doc's page of $1, made a section 3 page titled $2.
page() {
	echo "$head"
	KBUILD_BUILD_TIMESTAMP=$date perl "$kdoc" -man -function "$1" "$hdr" |
	sed -e "s/^\.TH .*/.TH \"$2\" 3 \"$date\" \"libmempool $ver\" \"libmempool Manual\"/" \
	    -e '/^\.SH NAME$/,/^\.SH/s/@\([a-z_][a-z0-9_]*\)/\\fI\1\\fP/g' \
	    -e 's/^\.SH SYNOPSIS$/.SH LIBRARY\
libmempool (\\fIpkg-config \\-\\-cflags \\-\\-libs mempool\\fP, \\fI\\-lmempool\\fP)\
.SH SYNOPSIS\
.B #include <mempool.h>\
.sp/'
}

mkdir -p "$out"
rm -f "$out"/*.3
for c in $calls; do
	page "$c" "$c" > "$out/$c.3"
	if wrapped "$c"; then
		cat >> "$out/$c.3" <<EOF
.SH NOTES
The library exports this call as
.BR mempool_$c ();
.BR $c ()
is an inline wrapper in
.IR <mempool.h> ,
left out when a program defines
.B MEMPOOL_NO_SHORT_NAMES
before it includes the header (to keep a
.BR $c ()
of its own), and then calls
.BR mempool_$c ()
by that name.
EOF
		printf '%s\n.so man3/%s.3\n' "$head" "$c" > "$out/mempool_$c.3"
	fi
done
for s in $structs; do
	page "$s" "$s" > "$out/$s.3"
done
