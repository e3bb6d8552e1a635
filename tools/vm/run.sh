#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# run.sh - boot a kernel in QEMU with a busybox initramfs that carries the
# modules and test scripts, run one job script as root, and capture the
# serial console.  The one way to run mempool's kernel tests, on CI and on a
# laptop alike.
#
#   run.sh -k BZIMAGE -j JOB.sh -l LOG [-f FILE]... [-c CPUS] [-m MEM] [-t SECS]
#          [-a KERNEL-ARGS]
#
# Every -f FILE (modules, scripts) lands in /mpool inside the guest, and
# JOB.sh runs there as /mpool/job.sh.  The console shows "MPOOL-VM: begin"
# before the job and "MPOOL-VM: end rc=N" after it; a missing end marker
# (timeout, panic) is a failure.  -a adds to the kernel command line.  QEMU
# runs under TCG: /dev/kvm exists on these machines but nested KVM hangs.
# MPOOL_VM_ACCEL=kvm forces KVM.
set -euo pipefail

kernel= job= log= cpus=4 mem=1G secs=900 files=() args=
while getopts "k:j:l:f:c:m:t:a:" o; do
	case $o in
	k) kernel=$OPTARG ;;
	j) job=$OPTARG ;;
	l) log=$OPTARG ;;
	f) files+=("$OPTARG") ;;
	c) cpus=$OPTARG ;;
	m) mem=$OPTARG ;;
	t) secs=$OPTARG ;;
	a) args=$OPTARG ;;
	*) exit 2 ;;
	esac
done
[ -n "$kernel" ] && [ -n "$job" ] && [ -n "$log" ] ||
	{ echo "usage: run.sh -k BZIMAGE -j JOB.sh -l LOG [-f FILE]..." >&2; exit 2; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,mpool}
cp /bin/busybox "$root/bin/busybox"
for f in "${files[@]}"; do
	cp "$f" "$root/mpool/"
done
cp "$job" "$root/mpool/job.sh"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
echo "MPOOL-VM: begin $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
cd /mpool
MPOOL_MODDIR=/mpool sh /mpool/job.sh
echo "MPOOL-VM: end rc=$?"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$root.cpio.gz"
trap 'rm -rf "$root" "$root.cpio.gz"' EXIT

accel=tcg
[ "${MPOOL_VM_ACCEL:-}" = kvm ] && accel=kvm
echo "vm: booting $(basename "$kernel") on $cpus vCPUs ($accel), log $log" >&2
set +e
# i8042.noaux: no PS/2 mouse; its driver races with its own interrupt
# handler (KCSAN reports it at boot, now and then), which is not ours.
timeout --foreground -k 10 "$secs" qemu-system-x86_64 -accel "$accel" \
	-smp "$cpus" -m "$mem" -kernel "$kernel" -initrd "$root.cpio.gz" \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=7 kmemleak=on i8042.noaux $args" \
	-nographic -no-reboot -monitor none -serial stdio </dev/null \
	> "$log" 2>&1
rc=$?
set -e
if ! grep -q "MPOOL-VM: end rc=" "$log"; then
	echo "vm: no end marker (qemu rc=$rc; 124 is a timeout)" >&2
	exit 1
fi
exit 0
