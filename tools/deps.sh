#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# deps.sh - install the Debian 12 packages mempool needs, if any are missing.
#
# Quiet when everything is present.  As root it installs what is missing
# (one 'apt-get update', then 'apt-get install'); otherwise it prints the
# exact command to run and fails.  With --check it never installs: it names
# what is missing and fails (the Makefile's deps targets run this; installing
# stays a step of its own).
#
# Building and installing the library needs only make, a C compiler and
# liburcu's headers; the lists below are what the tests, checks and
# benchmarks need as well.
#
# Usage: tools/deps.sh [--check] [user|kernel|bench|all]   (default: all)
set -euo pipefail

check_only=0
if [ "${1:-}" = --check ]; then
	check_only=1
	shift
fi

user_pkgs=(make gcc libc6-dev pkg-config liburcu-dev linux-source-6.1 xz-utils
	   clang libclang-rt-14-dev python3 abigail-tools man-db g++
	   relacy-dev)
kernel_pkgs=(linux-source-6.1 linux-headers-amd64 linux-image-amd64
	     qemu-system-x86 busybox-static sparse flex bison bc libelf-dev
	     libssl-dev cpio kmod perl)
bench_pkgs=(libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 gnuplot-nox dpdk-dev
	    valgrind)
# "tools/deps.sh pkg", and part of all: building and trying the Debian
# packages (make deb, make check-pkg).  dpkg-buildpackage is in dpkg-dev;
# the rest is debian/control's Build-Depends, lintian, and DKMS with the
# stock headers to build the module for.
pkg_pkgs=(dpkg-dev debhelper dh-dkms dkms lintian liburcu-dev pkg-config make
	  gcc libc6-dev linux-headers-amd64)

case "${1:-all}" in
user) want=("${user_pkgs[@]}") ;;
kernel) want=("${kernel_pkgs[@]}") ;;
bench) want=("${bench_pkgs[@]}") ;;
pkg) want=("${pkg_pkgs[@]}") ;;
all) want=("${user_pkgs[@]}" "${kernel_pkgs[@]}" "${bench_pkgs[@]}") ;;
*) echo "usage: $0 [--check] [user|kernel|bench|all]" >&2; exit 2 ;;
esac
[ "${1:-all}" = all ] && want+=("${pkg_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	# triggers-pending: installed, a trigger (man-db's index) still due.
	case "$status" in
	installed | triggers-pending | triggers-awaited) ;;
	*) missing+=("$p") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

# Drop duplicates, keep order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ $check_only = 1 ]; then
	echo "mempool: missing Debian packages: ${missing[*]}" >&2
	echo "mempool: install them with:  tools/deps.sh ${1:-all}   (as root)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "mempool: missing Debian packages: ${missing[*]}" >&2
	echo "mempool: run as root:  $cmd" >&2
	exit 1
fi
echo "mempool: installing ${missing[*]}" >&2
apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >&2
