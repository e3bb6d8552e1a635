#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# post-build.sh DIR - DKMS's POST_BUILD step for mempool (dkms.conf): keep
# the Module.symvers of the mempool.ko just built in DIR, DKMS's directory
# for this module, version, kernel and machine, which holds the built
# module too and goes away with "dkms remove".  A module that uses
# mempool.ko names that file in KBUILD_EXTRA_SYMBOLS.  DKMS runs this in
# its build directory, before its clean step removes Module.symvers.
set -eu
dir=${1:?usage: post-build.sh DIR}
[ -d "$dir" ] || { echo "post-build.sh: no directory $dir" >&2; exit 1; }
cp Module.symvers "$dir/Module.symvers"
