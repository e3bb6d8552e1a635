#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# kernel-bench.sh - the kernel half of the benchmark: mempool.ko's per-CPU
# pool against kmem_cache, the kernel's mempool and a bare per-CPU free
# list, measured in Debian's stock kernel under QEMU.
#
# Builds mempool.ko and tools/bench/kernel/mpool_kbench.ko against the newest
# installed linux-headers, boots /boot/vmlinuz-<that version> with
# tools/vm/run.sh, loads both modules there (the benchmark runs on insmod),
# and writes
#
#   build/bench/kernel.csv   size,allocator,round,ns_per_pair
#   build/bench/kernel.log   the VM's console
#
# then prints one row per size with the medians over rounds.  The knobs are
# environment variables:
#
#   KBENCH_PAIRS   alloc+free pairs per thread per phase  (default 200000)
#   KBENCH_ROUNDS  timed rounds                             (default 7)
#   KBENCH_SIZES   block sizes, comma separated      (default 64,256,4096)
#   KBENCH_CPUS    vCPUs, one thread on each                (default 4)
#   KBENCH_KARGS   kernel command line for the VM          (default none;
#                  e.g. init_on_alloc=0: Debian's kernel zeroes every
#                  kmem_cache object on allocation, which the pool does not)
#
# QEMU runs under TCG (run.sh), so the figures are those of an emulated CPU:
# compare the columns with each other, not with native numbers.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench
mods=$out/kmod
pairs=${KBENCH_PAIRS:-200000}
rounds=${KBENCH_ROUNDS:-7}
sizes=${KBENCH_SIZES:-64,256,4096}
cpus=${KBENCH_CPUS:-4}
kargs=${KBENCH_KARGS:-}

kver=$(ls /lib/modules | sort -V | tail -1)
kdir=/lib/modules/$kver/build
bzimage=/boot/vmlinuz-$kver
[ -d "$kdir" ] || { echo "kernel-bench: no headers in $kdir" >&2; exit 1; }
[ -f "$bzimage" ] || { echo "kernel-bench: no kernel $bzimage" >&2; exit 1; }
mkdir -p "$mods"
rm -f "$mods"/*.ko "$mods/Module.symvers"

# mempool.ko is built in place in the top directory, which the kernel test
# jobs share: hold their lock, and keep a copy of the module and its
# Module.symvers for the rest of the run.
exec 9>"$top/build/.kmod.lock"
flock 9
make -s -C "$kdir" M="$top" modules >"$mods/build.log" 2>&1 ||
	{ cat "$mods/build.log" >&2; exit 1; }
cp "$top/mempool.ko" "$top/Module.symvers" "$mods/"
flock -u 9
exec 9>&-

make -s -C "$kdir" M="$top/tools/bench/kernel" \
	KBUILD_EXTRA_SYMBOLS="$mods/Module.symvers" modules \
	>>"$mods/build.log" 2>&1 ||
	{ cat "$mods/build.log" >&2; exit 1; }
cp "$top/tools/bench/kernel/mpool_kbench.ko" "$mods/"

job=$(mktemp)
trap 'rm -f "$job"' EXIT
# pr_info() stays off the (slow, emulated) serial console while the
# benchmark runs; the job prints the module's lines from dmesg afterwards,
# between markers.
cat > "$job" <<JOB
echo 4 > /proc/sys/kernel/printk
insmod ./mempool.ko || exit 1
insmod ./mpool_kbench.ko pairs=$pairs rounds=$rounds sizes=$sizes ||
	echo "insmod mpool_kbench.ko failed"
echo "MPOOL-KBENCH-BEGIN"
dmesg | grep 'mpool_kbench: '
echo "MPOOL-KBENCH-END"
rmmod mpool_kbench
rmmod mempool
JOB

log=$out/kernel.log
csv=$out/kernel.csv
start=$(date +%s)
"$top/tools/vm/run.sh" -k "$bzimage" -j "$job" -l "$log" -c "$cpus" -t 900 \
	-a "$kargs" \
	-f "$mods/mempool.ko" -f "$mods/mpool_kbench.ko" ||
	{ echo "kernel-bench: the VM did not finish; see $log" >&2; exit 1; }
echo "kernel-bench: VM run took $(( $(date +%s) - start )) s, log $log" >&2

python3 - "$log" "$csv" <<'PY'
import re
import sys

log, csv = sys.argv[1], sys.argv[2]
rows, summaries, rcus, inside = [], [], [], False
for line in open(log, errors="replace"):
    line = line.rstrip("\r\n")
    if "MPOOL-KBENCH-BEGIN" in line:
        inside = True
        continue
    if "MPOOL-KBENCH-END" in line:
        inside = False
        continue
    if not inside:
        continue
    m = re.search(r"mpool_kbench: (\w+) (.*)$", line)
    if not m:
        continue
    kv = dict(f.split("=", 1) for f in m.group(2).split() if "=" in f)
    if m.group(1) == "result":
        rows.append((int(kv["size"]), kv["alloc"], int(kv["round"]),
                     kv["ns_per_pair"]))
    elif m.group(1) == "summary":
        summaries.append(kv)
    elif m.group(1) == "rcu":
        rcus.append(kv)
    elif m.group(1) == "start":
        print("kernel-bench: " + m.group(2), file=sys.stderr)
if not summaries:
    sys.exit("kernel-bench: no summary in %s" % log)

with open(csv, "w") as f:
    f.write("size,allocator,round,ns_per_pair\n")
    for r in rows:
        f.write("%d,%s,%d,%s\n" % r)

s0 = summaries[0]
print("medians over %s rounds of %s alloc+free pairs per thread, %s threads"
      " (ns per pair)" % (s0["rounds"], s0["pairs"], s0["threads"]))
cols = ["size", "pool", "kmem_cache", "kernel mempool", "floor",
        "pool/kmem_cache", "pool/floor", "pool bulk32", "kmem bulk32",
        "bulk pool/kmem"]
keys = ["size", "pool", "kmem_cache", "mempool", "floor",
        "pool/kmem_cache", "pool/floor", "pool_bulk", "kmem_bulk",
        "pool_bulk/kmem_bulk"]
widths = [max([len(c)] + [len(s[k]) for s in summaries])
          for c, k in zip(cols, keys)]
print(" | ".join(c.rjust(w) for c, w in zip(cols, widths)))
print("-|-".join("-" * w for w in widths))
for s in summaries:
    print(" | ".join(s[k].rjust(w) for k, w in zip(keys, widths)))
    if s.get("errors", "0") != "0":
        print("  (size %s: %s failed allocations or frees)"
              % (s["size"], s["errors"]))
if rcus:
    print("deferred frees, one CPU, medians over %s rounds of %s pairs"
          " (ns per alloc + deferred free)" % (rcus[0]["rounds"],
                                                rcus[0]["pairs"]))
    keys = ["size", "pool_free_rcu", "kfree_rcu", "pool_free_rcu/kfree_rcu",
            "waits"]
    widths = [max([len(k)] + [len(r[k]) for r in rcus]) for k in keys]
    print(" | ".join(k.rjust(w) for k, w in zip(keys, widths)))
    print("-|-".join("-" * w for w in widths))
    for r in rcus:
        print(" | ".join(r[k].rjust(w) for k, w in zip(keys, widths)))
print("csv: %s (%d rows)" % (csv, len(rows)))
PY
