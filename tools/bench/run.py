#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0
"""run.py - drive tools/bench/bench.c: every cell, interleaved, with medians.

  run.py suite     [--runs N] [--out DIR]   everything: tables, CSV, charts,
                                            instruction counts (make bench)
  run.py vs-malloc [--runs N]               the spec's head-to-head table
                                            from a short run (make
                                            bench_vs_malloc)
  run.py icount    [--out DIR]              instructions per alloc+free pair
                                            under callgrind

Each cell (allocator, size, pattern, threads) runs in a child process of
its own; for every repetition the allocators of one configuration run back
to back, in an order rotated between repetitions (A B C, B C A, ...), so
that drift on a shared machine hits them alike.  The malloc peers are the
real libraries from Debian's packages, loaded with LD_PRELOAD into the same
binary; "glibc" is the binary with nothing preloaded.

Medians are the figures; min and max show the spread.  Nothing here passes
or fails on a time.
"""
import argparse
import csv
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(TOP, "build", "bench", "bench")
LIBDIR = "/usr/lib/x86_64-linux-gnu"
PEERS = {
    "glibc": None,
    "jemalloc": os.path.join(LIBDIR, "libjemalloc.so.2"),
    "mimalloc": os.path.join(LIBDIR, "libmimalloc.so.2"),
    "tcmalloc": os.path.join(LIBDIR, "libtcmalloc_minimal.so.4"),
}
OURS = ["pool", "slab", "arena"]
FLOOR = "floor"
SIZES = [64, 256, 4096]
FIELDS = ["ns_per_pair", "ops_per_s", "p50", "p99", "p999", "max"]


SCALE = 1.0


def pairs_for(pattern, size, short):
    """Work per cell: enough to last ~50-200 ms for the slowest peer."""
    n = {"pairs": 2000000, "fifo": 200000, "random": 200000,
         "prodcons": 400000, "threads": 200000}[pattern]
    if size >= 4096 and pattern != "pairs":
        n //= 2
    if short:
        n //= 2
    return max(int(n * SCALE), 1000)


def allocators(pattern, threads):
    names = ["pool", "slab"]
    # An arena has no free: it takes part where one thread allocates only.
    if pattern in ("pairs", "fifo", "random") and threads == 1:
        names.append("arena")
    names += list(PEERS)
    # A bare thread-local free list cannot take a remote free.
    if pattern != "prodcons":
        names.append(FLOOR)
    return names


def cell_kind_env(name):
    """The bench's allocator kind for @name, and the environment to run it
    in: a peer is "malloc" with its library preloaded (glibc: nothing)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if name not in PEERS:
        return name, env
    if PEERS[name]:
        env["LD_PRELOAD"] = PEERS[name]
    return "malloc", env


def run_cell(name, size, pattern, threads, pairs):
    kind, env = cell_kind_env(name)
    cmd = [BENCH, "cell", kind, str(size), pattern, str(threads), str(pairs)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("bench: %s failed (%d): %s" %
                 (" ".join(cmd), out.returncode, out.stderr.strip()))
    vals = [float(x) for x in out.stdout.strip().split(",")]
    return dict(zip(FIELDS, vals))


def configs(short):
    ncpu = os.cpu_count() or 1
    for size in SIZES:
        for pattern in ("pairs", "fifo", "random", "prodcons"):
            yield size, pattern, 1
        if not short:
            for t in range(1, max(2, ncpu) + 1):
                yield size, "threads", t


def measure(runs, short, rows_out):
    """Run every configuration; return {(size, pattern, threads): {alloc: [rows]}}."""
    res = {}
    cfgs = list(configs(short))
    t0 = time.time()
    for i, (size, pattern, threads) in enumerate(cfgs):
        names = allocators(pattern, threads)
        cell = res.setdefault((size, pattern, threads), {})
        pairs = pairs_for(pattern, size, short)
        for r in range(runs):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                row = run_cell(name, size, pattern, threads, pairs)
                cell.setdefault(name, []).append(row)
                rows_out.append(dict(allocator=name, size=size,
                                     pattern=pattern, threads=threads,
                                     run=r, **row))
        print("  [%d/%d] %s %d B x%d done (%.0f s)" %
              (i + 1, len(cfgs), pattern, size, threads, time.time() - t0),
              file=sys.stderr)
    return res


def med(rows, field):
    return statistics.median(r[field] for r in rows)


def fmt_ns(v):
    return "%.1f" % v if v < 100 else "%.0f" % v


def best_peer(cell, field="ns_per_pair"):
    return min(((med(cell[p], field), p) for p in PEERS if p in cell))


def table_ns(res, runs):
    """ns per pair by size and pattern: median [min-max], one row per cell."""
    names = OURS + list(PEERS) + [FLOOR]
    lines = ["| size | pattern | thr | " + " | ".join(names) +
             " | pool/best peer | pool/floor |",
             "|---" * (len(names) + 5) + "|"]
    for (size, pattern, threads), cell in sorted(res.items(),
                                                 key=lambda kv: kv[0]):
        cols = []
        for n in names:
            if n not in cell:
                cols.append("-")
                continue
            v = [r["ns_per_pair"] for r in cell[n]]
            cols.append("%s (%s-%s)" % (fmt_ns(statistics.median(v)),
                                       fmt_ns(min(v)), fmt_ns(max(v))))
        pool = med(cell["pool"], "ns_per_pair")
        bp, bpn = best_peer(cell)
        lines.append("| %d | %s | %d | %s | %.2f (%s) | %.2f |" %
                     (size, pattern, threads, " | ".join(cols), pool / bp,
                      bpn, pool / med(cell[FLOOR], "ns_per_pair")
                      if FLOOR in cell else float("nan")))
    return "\n".join(lines)


def table_latency(res):
    lines = ["| size | allocator | p50 | p99 | p99.9 | max |",
             "|---|---|---|---|---|---|"]
    for (size, pattern, threads), cell in sorted(res.items()):
        if pattern != "pairs" or threads != 1:
            continue
        for n in OURS + list(PEERS) + [FLOOR]:
            if n in cell:
                lines.append("| %d | %s | %s |" % (size, n, " | ".join(
                    fmt_ns(med(cell[n], f)) for f in
                    ("p50", "p99", "p999", "max"))))
    return "\n".join(lines)


def table_threads(res):
    names = ["pool", "slab"] + list(PEERS) + [FLOOR]
    lines = ["| size | threads | " + " | ".join(names) + " |",
             "|---" * (len(names) + 2) + "|"]
    for (size, pattern, threads), cell in sorted(res.items()):
        if pattern != "threads":
            continue
        lines.append("| %d | %d | %s |" % (size, threads, " | ".join(
            "%.1f M" % (med(cell[n], "ops_per_s") / 1e6) for n in names)))
    return "\n".join(lines)


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["allocator", "size", "pattern",
                                          "threads", "run"] + FIELDS)
        w.writeheader()
        w.writerows(rows)


def charts(res, out):
    """PNG charts with gnuplot: ns/pair by size and pattern; ops/s by threads."""
    if not shutil.which("gnuplot"):
        print("bench: gnuplot not found, no charts", file=sys.stderr)
        return
    names = OURS + list(PEERS) + [FLOOR]
    dat = os.path.join(out, "ns_per_pair.dat")
    with open(dat, "w") as f:
        f.write("cell " + " ".join(names) + "\n")
        for (size, pattern, threads), cell in sorted(res.items()):
            if threads != 1 or pattern == "threads":
                continue
            f.write("%s/%d " % (pattern, size) + " ".join(
                "%.3f" % med(cell[n], "ns_per_pair") if n in cell else "NaN"
                for n in names) + "\n")
    thr = os.path.join(out, "threads.dat")
    tnames = ["pool", "slab"] + list(PEERS) + [FLOOR]
    with open(thr, "w") as f:
        f.write("cell " + " ".join(tnames) + "\n")
        for (size, pattern, threads), cell in sorted(res.items()):
            if pattern == "threads":
                f.write("%dB/%dthr " % (size, threads) + " ".join(
                    "%.3f" % (med(cell[n], "ops_per_s") / 1e6)
                    for n in tnames) + "\n")
    gp = """
set terminal pngcairo size 1400,600 noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right
set grid ytics
set xtics rotate by -30
set logscale y
set output '%(out)s/ns_per_pair.png'
set title 'ns per alloc+free pair (median, lower is better, log scale)'
plot for [i=2:%(n1)d] '%(dat)s' using i:xtic(1) title columnheader(i)
unset logscale y
set output '%(out)s/threads.png'
set title 'throughput, every thread running batches of 1000 (M ops/s, higher is better)'
plot for [i=2:%(n2)d] '%(thr)s' using i:xtic(1) title columnheader(i)
""" % dict(out=out, dat=dat, thr=thr, n1=len(names) + 1, n2=len(tnames) + 1)
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)


def icount(out):
    """Instructions per alloc+free pair (64 B, pairs, one thread) under
    callgrind, counted inside the benchmark loop only: two runs of
    different lengths, differenced, so warm-up and set-up cancel."""
    if not shutil.which("valgrind"):
        return "valgrind not found: no instruction counts"
    res = {}
    for name in OURS + list(PEERS) + [FLOOR]:
        counts = []
        kind, env = cell_kind_env(name)
        for n in (200000, 400000):
            cg = os.path.join(out, "callgrind.%s.%d" % (name, n))
            subprocess.run(["valgrind", "--tool=callgrind",
                            "--toggle-collect=run_pairs",
                            "--callgrind-out-file=" + cg,
                            BENCH, "cell", kind, "64", "pairs", "1", str(n)],
                           env=env, check=True, capture_output=True)
            with open(cg) as f:
                tot = [l for l in f if l.startswith(("totals:", "summary:"))]
            counts.append(int(tot[-1].split()[1]))
        res[name] = (counts[1] - counts[0]) / 200000.0
    loop = res[FLOOR]
    lines = ["| allocator | instructions per pair | vs floor |",
             "|---|---|---|"]
    for name, v in res.items():
        lines.append("| %s | %.1f | %.2fx |" % (name, v, v / loop))
    return "\n".join(lines) + ("\n\n(counted over the whole loop body: "
                               "alloc, one-byte write, free, loop)")


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs, %s, %s" % (cpu, os.cpu_count() or 0,
                                   platform.release(),
                                   time.strftime("%Y-%m-%d"))


def vs_malloc(res):
    lines = ["| scenario | mempool pool | " + " | ".join(PEERS) +
             " | speedup vs glibc | speedup vs best peer |",
             "|---" * (len(PEERS) + 4) + "|"]
    for (size, pattern, threads), cell in sorted(res.items()):
        pool = med(cell["pool"], "ns_per_pair")
        bp, bpn = best_peer(cell)
        lines.append("| %s %d B | %s | %s | %.1fx | %.2fx (%s) |" % (
            pattern, size, fmt_ns(pool), " | ".join(
                fmt_ns(med(cell[p], "ns_per_pair")) for p in PEERS),
            med(cell["glibc"], "ns_per_pair") / pool, bp / pool, bpn))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["suite", "vs-malloc", "icount"])
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench"))
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the work per cell (e.g. 0.1 for a smoke run)")
    a = ap.parse_args()
    global SCALE
    SCALE = a.scale
    os.makedirs(a.out, exist_ok=True)
    for p, lib in PEERS.items():
        if lib and not os.path.exists(lib):
            sys.exit("bench: %s not installed (%s): run tools/deps.sh bench"
                     % (p, lib))
    print("# %s" % machine())
    if a.mode == "icount":
        print(icount(a.out))
        return
    short = a.mode == "vs-malloc"
    runs = a.runs or (3 if short else 5)
    rows = []
    res = measure(runs, short, rows)
    print("# ns per alloc+free pair: median (min-max) of %d interleaved runs"
          % runs)
    if short:
        print(vs_malloc(res))
        return
    write_csv(os.path.join(a.out, "results.csv"), rows)
    print(table_ns(res, runs))
    print("\n# latency of one alloc+free pair, ns (median of %d runs)" % runs)
    print(table_latency(res))
    print("\n# throughput, every thread running batches (ops/s, median)")
    print(table_threads(res))
    charts(res, a.out)
    print("\n# instructions per alloc+free pair, callgrind")
    print(icount(a.out))
    print("\nCSV: %s; charts: %s/ns_per_pair.png, %s/threads.png" %
          (os.path.join(a.out, "results.csv"), a.out, a.out))


if __name__ == "__main__":
    main()
