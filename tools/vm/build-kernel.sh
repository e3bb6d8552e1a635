#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# build-kernel.sh VARIANT - build (or reuse) the test kernel VARIANT
# (kasan | kcsan) from Debian's linux-source-6.1, and print its build
# directory on the last line of stdout.
#
# Builds live outside the tree, in $MPOOL_KCACHE (default
# /var/cache/mempool-kernel): the source is unpacked once per package
# version, and each variant is built with O= in a directory keyed by a hash
# of the source version, the config fragments and the recipe number below.  A stamp
# written last marks a complete build, which is reused as it is.
set -euo pipefail

variant=${1:?usage: build-kernel.sh kasan|kcsan}
here=$(cd "$(dirname "$0")" && pwd)
kconf=$here/../kconfig
cache=${MPOOL_KCACHE:-/var/cache/mempool-kernel}
tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$kconf/$variant.config" ] || { echo "no variant $variant" >&2; exit 2; }
[ -f "$tarball" ] || { echo "missing $tarball: run tools/deps.sh" >&2; exit 2; }

# Bump when the build steps below change what gets built.
recipe=1
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$(cat "$kconf/base.config" "$kconf/$variant.config" |
      { cat; echo "$srcver recipe $recipe"; } | sha256sum | cut -c1-16)
src=$cache/src-$srcver
out=$cache/$variant-$key
log() { echo "build-kernel: $*" >&2; }

if [ -f "$out/.mpool-complete" ]; then
	log "reusing $out"
	echo "$out"
	exit 0
fi
mkdir -p "$cache"
# Unpack once, under a lock, so two variants can build side by side.
exec 9>"$cache/.unpack.lock"
flock 9
if [ ! -f "$src/.mpool-unpacked" ]; then
	log "unpacking $tarball"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.mpool-unpacked"
	mv "$src.tmp" "$src"
fi
flock -u 9

# Other builds of this variant are stale: their inputs changed.
rm -rf "$cache/$variant"-*
mkdir -p "$out"
log "configuring $variant in $out"
make -s -C "$src" O="$out" tinyconfig >/dev/null 2>&1
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"$kconf/base.config" "$kconf/$variant.config" >/dev/null
make -s -C "$src" O="$out" olddefconfig >&2

# Every option the fragments ask for must have stuck.
missing=0
for opt in $(grep -h '^CONFIG_.*=y' "$kconf/base.config" \
		"$kconf/$variant.config" | cut -d= -f1); do
	if ! grep -q "^$opt=y" "$out/.config"; then
		log "option did not stick: $opt"
		missing=1
	fi
done
[ $missing -eq 0 ] || exit 1

log "building $variant (a few minutes on 2 cores; progress below)"
start=$(date +%s)
make -C "$src" O="$out" -j"$(nproc)" bzImage modules_prepare 2>&1 |
	awk '/^  (CC|LD|AR|AS)/ { n++; if (n % 200 == 0) {
		printf "build-kernel: %d objects...\n", n; fflush() } }
	     /error:|Error [0-9]/ { print; fflush() }' >&2
test -f "$out/arch/x86/boot/bzImage"
# Module.symvers for out-of-tree modules: the vmlinux exports.
make -C "$src" O="$out" -j"$(nproc)" modules >/dev/null 2>&1 || true
test -f "$out/Module.symvers" || touch "$out/Module.symvers"
log "built $variant in $(( $(date +%s) - start )) s"
touch "$out/.mpool-complete"
echo "$out"
