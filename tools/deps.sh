#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# deps.sh - install the Debian 12 packages mempool needs, if any are missing.
#
# Quiet when everything is present.  As root it installs what is missing
# (one 'apt-get update', then 'apt-get install'); otherwise it prints the
# exact command to run and fails.
#
# Usage: tools/deps.sh [user|kernel|bench|all]   (default: all)
set -euo pipefail

user_pkgs=(make gcc g++ libc6-dev pkg-config liburcu-dev linux-source-6.1 xz-utils
	   clang libclang-rt-14-dev python3 relacy-dev)
kernel_pkgs=(linux-source-6.1 linux-headers-amd64 linux-image-amd64
	     qemu-system-x86 busybox-static sparse flex bison bc libelf-dev
	     libssl-dev cpio kmod perl)
bench_pkgs=(libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 gnuplot-nox dpdk-dev
	    valgrind)

case "${1:-all}" in
user) want=("${user_pkgs[@]}") ;;
kernel) want=("${kernel_pkgs[@]}") ;;
bench) want=("${bench_pkgs[@]}") ;;
all) want=("${user_pkgs[@]}" "${kernel_pkgs[@]}" "${bench_pkgs[@]}") ;;
*) echo "usage: $0 [user|kernel|bench|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# Drop duplicates, keep order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "mempool: missing Debian packages: ${missing[*]}" >&2
	echo "mempool: run as root:  $cmd" >&2
	exit 1
fi
echo "mempool: installing ${missing[*]}" >&2
apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >&2
