#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# kernel-tests.sh VARIANT SUITE - build mempool.ko for a kernel, boot that
# kernel in QEMU, run a suite there, and judge the log.
#
#   VARIANT  kasan | kcsan: the test kernels of tools/kconfig (KUnit,
#            lockdep, debug checkers), built by build-kernel.sh;
#            debian: Debian's own linux-image-amd64 with linux-headers-amd64.
#   SUITE    kunit: load mempool.ko and mpool_kunit.ko (the suites run on
#            insmod); limits: load mempool.ko and mpool_limits_kunit.ko on
#            a kernel booted with panic_on_warn=1, so that any WARN is a
#            panic and fails the run (mpool_kunit.ko warns on purpose, so
#            it is not loaded there); kselftest: run
#            tests/kselftest/mpool_*.sh as root;
#            soak: the stress-with-hotplug script for MPOOL_SOAK_SECONDS
#            (default 300).
#
# Writes build/logs/kernel-VARIANT-SUITE.{log,tap}; the last line is
# "N passed, N failed, N skipped".
set -euo pipefail

usage="usage: kernel-tests.sh kasan|kcsan|debian kunit|limits|kselftest|soak"
variant=${1:?$usage}
suite=${2:?$usage}
top=$(cd "$(dirname "$0")/../.." && pwd)
logs=$top/build/logs
mods=$top/build/kmod/$variant
mkdir -p "$logs" "$mods"
name=kernel-$variant-$suite
log=$logs/$name.log
tap=$logs/$name.tap

fail() { # record a failure before the VM could run
	echo "not ok 1 $name: $*" | tee /dev/stderr |
		{ echo "TAP version 13"; echo "1..1"; cat; } > "$tap"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

if [ "$variant" = debian ]; then
	kver=$(ls /lib/modules | sort -V | tail -1)
	kdir=/lib/modules/$kver/build
	bzimage=/boot/vmlinuz-$kver
	kunit_py=
else
	kdir=$("$top/tools/vm/build-kernel.sh" "$variant" | tail -1) ||
		fail "test kernel $variant did not build"
	bzimage=$kdir/arch/x86/boot/bzImage
	kunit_py=$(readlink -f "$kdir/source")/tools/testing/kunit/kunit.py
fi
[ -f "$bzimage" ] || fail "no kernel image $bzimage"

# The module tree is built in place, so one kernel at a time.  MPOOL_TESTS=1
# adds the test modules to mempool.ko (Kbuild).  The example user module is
# built out of tree against this build's Module.symvers, as a module
# author's would be.
exec 9>"$top/build/.kmod.lock"
flock 9
rm -f "$mods"/*.ko
make -s -C "$kdir" M="$top" MPOOL_TESTS=1 modules >"$logs/$name.build" 2>&1 ||
	{ cat "$logs/$name.build" >&2; fail "modules did not build for $variant"; }
make -s -C "$kdir" M="$top/tools/examples/kmod" modules \
	>>"$logs/$name.build" 2>&1 ||
	{ cat "$logs/$name.build" >&2; fail "the example module did not build for $variant"; }
cp "$top/mempool.ko" "$top/tests/kselftest/mpool_stress.ko" \
	"$top/tools/examples/kmod/mpool_example.ko" "$mods/"
for k in mpool_kunit mpool_limits_kunit; do
	[ -f "$top/tests/kunit/$k.ko" ] && cp "$top/tests/kunit/$k.ko" "$mods/"
done
flock -u 9
# The release mempool.ko must report (tests/kselftest/mpool_example.sh).
version=$(sed -n 's/^#define MPOOL_VERSION[[:space:]]*"\(.*\)"/\1/p' \
	"$top/kernel/mpool_api.h")

job=$(mktemp)
trap 'rm -f "$job"' EXIT
files=("$mods"/*.ko)
checks=()
# The module's own misuse report is a warning the tests provoke on purpose.
allow=(--allow 'mpool_env_report')
kargs=
case $suite in
kunit)
	[ -f "$mods/mpool_kunit.ko" ] || fail "no KUnit in kernel $variant"
	cat > "$job" <<'JOB'
insmod ./mempool.ko || exit 1
insmod ./mpool_kunit.ko	# the suites run here
rmmod mpool_kunit
rmmod mempool
JOB
	checks=(--suite mpool_shared --suite mpool_kernel)
	[ -n "$kunit_py" ] && checks+=(--kunit-py "$kunit_py")
	;;
limits)
	# Sizes near the limits must fail cleanly: no warning is expected,
	# and with panic_on_warn one would end the boot before the end marker.
	[ -f "$mods/mpool_limits_kunit.ko" ] || fail "no KUnit in kernel $variant"
	cat > "$job" <<'JOB'
insmod ./mempool.ko || exit 1
insmod ./mpool_limits_kunit.ko	# the suite runs here
rmmod mpool_limits_kunit
rmmod mempool
JOB
	checks=(--suite mpool_limits)
	[ -n "$kunit_py" ] && checks+=(--kunit-py "$kunit_py")
	allow=()
	kargs=panic_on_warn=1
	;;
kselftest)
	files+=("$top"/tests/kselftest/*.sh)
	echo "export MPOOL_VERSION=$version" > "$job"
	cat >> "$job" <<'JOB'
for t in ./mpool_*.sh; do
	n=$(basename "$t" .sh)
	echo "MPOOL-TAP-BEGIN $n"
	sh "$t"
	echo "MPOOL-TAP-END $n rc=$?"
done
JOB
	checks=(--scripts "$(ls "$top"/tests/kselftest/mpool_*.sh | wc -l)")
	;;
soak)
	# The stress-with-hotplug script for MPOOL_SOAK_SECONDS (make soak).
	files+=("$top"/tests/kselftest/lib.sh \
		"$top"/tests/kselftest/mpool_stress_hotplug.sh)
	{
		echo "export MPOOL_SOAK_SECONDS=${MPOOL_SOAK_SECONDS:-300}"
		cat <<'JOB'
echo "MPOOL-TAP-BEGIN mpool_stress_hotplug"
sh ./mpool_stress_hotplug.sh
echo "MPOOL-TAP-END mpool_stress_hotplug rc=$?"
JOB
	} > "$job"
	checks=(--scripts 1)
	;;
*)
	fail "unknown suite $suite"
	;;
esac

fargs=()
for f in "${files[@]}"; do
	fargs+=(-f "$f")
done
# KASAN prints only its first report unless told otherwise; the KUnit
# suite makes several on purpose, each expected in a window of its own.
[ "$variant" = kasan ] && kargs="$kargs kasan_multi_shot"
start=$(date +%s)
"$top/tools/vm/run.sh" -k "$bzimage" -j "$job" -l "$log" -c 4 -a "$kargs" \
	"${fargs[@]}" || true
echo "vm: $name took $(( $(date +%s) - start )) s" >&2
python3 "$top/tools/vm/check-log.py" "$log" --name "$name" --tap "$tap" \
	"${allow[@]}" "${checks[@]}"
