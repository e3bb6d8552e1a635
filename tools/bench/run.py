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
  run.py rcu       [--runs N]               pool_free_rcu against malloc +
                                            call_rcu(free) under rculfhash
                                            (make bench-rcu)
  --patterns LIST  suite: only these patterns, e.g. bulk32,multipool
  --scale F        multiply the work per cell (0.1: a smoke run)

Each cell (allocator, size, pattern, threads) runs in a child process of
its own; for every repetition the allocators of one configuration run back
to back, in an order rotated between repetitions (A B C, B C A, ...), so
that drift on a shared machine hits them alike.  The malloc peers are the
real libraries from Debian's packages, loaded with LD_PRELOAD into the same
binary; "glibc" is the binary with nothing preloaded.  DPDK's rte_mempool
("dpdk") takes part when the binary was built with it ("bench has dpdk").
bulk32 is timed per block; pool and slab run it only when the library has
bulk calls ("bench has bulk").  multipoolK cycles through K pools: the pool
and, over one heap, the malloc peers.

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
MULTIPOOL_K = [1, 2, 4]


def has(feature):
    """Whether the bench binary was built with @feature (dpdk, bulk)."""
    if not os.access(BENCH, os.X_OK):
        sys.exit("bench: %s not built: make %s" %
                 (BENCH, os.path.relpath(BENCH, TOP)))
    return subprocess.run([BENCH, "has", feature],
                          capture_output=True).returncode == 0


# Pool allocators that are not libmempool, as the binary has them: set in
# main() ("dpdk" when built with DPDK).
OTHERS = []
HAS_BULK = False


SCALE = 1.0


def pairs_for(pattern, size, short):
    """Work per cell: enough to last ~50-200 ms for the slowest peer."""
    if pattern.startswith("multipool"):
        pattern = "multipool"
    n = {"pairs": 2000000, "fifo": 200000, "random": 200000,
         "prodcons": 400000, "threads": 200000, "bulk32": 2000000,
         "multipool": 2000000}[pattern]
    if size >= 4096 and pattern not in ("pairs", "bulk32", "multipool"):
        n //= 2
    if short:
        n //= 2
    return max(int(n * SCALE), 1000)


def allocators(pattern, threads, others=True):
    # Several pools: the pool, and malloc's one heap for comparison.
    if pattern.startswith("multipool"):
        return ["pool"] + list(PEERS)
    names = ["pool", "slab"] if pattern != "bulk32" or HAS_BULK else []
    # An arena has no free: it takes part where one thread allocates only.
    if pattern in ("pairs", "fifo", "random") and threads == 1:
        names.append("arena")
    names += list(PEERS)
    # A bare thread-local free list cannot take a remote free.
    if pattern != "prodcons":
        names.append(FLOOR)
    if others:
        names += OTHERS
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
    if out.returncode == 3:  # this allocator does not run this cell
        print("bench: skipped: %s" % out.stderr.strip(), file=sys.stderr)
        return None
    if out.returncode != 0:
        sys.exit("bench: %s failed (%d): %s" %
                 (" ".join(cmd), out.returncode, out.stderr.strip()))
    vals = [float(x) for x in out.stdout.strip().split(",")]
    return dict(zip(FIELDS, vals))


def configs(short, patterns=None):
    """(size, pattern, threads) to measure; @patterns, if given, keeps only
    those ("multipool" stands for every multipoolK)."""
    ncpu = os.cpu_count() or 1
    for size in SIZES:
        cfg = [(p, 1) for p in ("pairs", "fifo", "random", "prodcons")]
        if not short:
            cfg.append(("bulk32", 1))
            cfg += [("multipool%d" % k, 1) for k in MULTIPOOL_K]
            cfg += [("threads", t) for t in range(1, max(2, ncpu) + 1)]
        for pattern, threads in cfg:
            if (not patterns or pattern in patterns or
                    pattern.rstrip("0123456789") in patterns):
                yield size, pattern, threads


def measure(runs, short, rows_out, patterns=None):
    """Run every configuration; return {(size, pattern, threads): {alloc: [rows]}}."""
    res = {}
    cfgs = list(configs(short, patterns))
    if not cfgs:
        sys.exit("bench: no cell has a pattern in %s" % ",".join(patterns))
    t0 = time.time()
    for i, (size, pattern, threads) in enumerate(cfgs):
        # The head-to-head table is against malloc: no other pools there.
        names = allocators(pattern, threads, others=not short)
        cell = res.setdefault((size, pattern, threads), {})
        pairs = pairs_for(pattern, size, short)
        for r in range(runs):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                row = run_cell(name, size, pattern, threads, pairs)
                if row is None:
                    continue
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


def best_peer(cell, field="ns_per_pair", others=True):
    peers = list(PEERS) + (OTHERS if others else [])
    return min(((med(cell[p], field), p) for p in peers if p in cell))


def ratio(cell, name, other):
    """"%.2f" of @name's median over @other's; "-" when either is absent."""
    if name not in cell or other not in cell:
        return "-"
    return "%.2f" % (med(cell[name], "ns_per_pair") /
                     med(cell[other], "ns_per_pair"))


def table_ns(res, runs):
    """ns per pair by size and pattern: median [min-max], one row per cell."""
    names = OURS + list(PEERS) + [FLOOR] + OTHERS
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
        bp, bpn = best_peer(cell)
        lines.append("| %d | %s | %d | %s | %s (%s) | %s |" %
                     (size, pattern, threads, " | ".join(cols),
                      ratio(cell, "pool", bpn), bpn,
                      ratio(cell, "pool", FLOOR)))
    return "\n".join(lines) + (
        "\n\nbulk32: ns per block, 32 blocks taken and given back per call "
        "(malloc peers and floor: 32 single calls; pool and slab only with "
        "their bulk calls); multipoolK: one pair in each of K pools in turn "
        "(malloc peers: the same loop over one heap)")


def table_multipool(res):
    """multipoolK: the pool's ns per pair by K, and against K = 1."""
    names = ["pool"] + list(PEERS)
    lines = ["| size | pools | " + " | ".join(names) + " | pool vs 1 pool |",
             "|---" * (len(names) + 3) + "|"]
    for (size, pattern, threads), cell in sorted(res.items()):
        if not pattern.startswith("multipool"):
            continue
        one = res.get((size, "multipool1", threads), {})
        vs1 = "-"
        if "pool" in cell and "pool" in one:
            vs1 = "%.2f" % (med(cell["pool"], "ns_per_pair") /
                            med(one["pool"], "ns_per_pair"))
        lines.append("| %d | %s | %s | %s |" % (
            size, pattern[len("multipool"):], " | ".join(
                fmt_ns(med(cell[n], "ns_per_pair")) if n in cell else "-"
                for n in names), vs1))
    return "\n".join(lines)


def table_latency(res):
    lines = ["| size | allocator | p50 | p99 | p99.9 | max |",
             "|---|---|---|---|---|---|"]
    for (size, pattern, threads), cell in sorted(res.items()):
        if pattern != "pairs" or threads != 1:
            continue
        for n in OURS + list(PEERS) + [FLOOR] + OTHERS:
            if n in cell:
                lines.append("| %d | %s | %s |" % (size, n, " | ".join(
                    fmt_ns(med(cell[n], f)) for f in
                    ("p50", "p99", "p999", "max"))))
    return "\n".join(lines)


def table_threads(res):
    names = ["pool", "slab"] + list(PEERS) + [FLOOR] + OTHERS
    lines = ["| size | threads | " + " | ".join(names) + " |",
             "|---" * (len(names) + 2) + "|"]
    for (size, pattern, threads), cell in sorted(res.items()):
        if pattern != "threads":
            continue
        lines.append("| %d | %d | %s |" % (size, threads, " | ".join(
            "%.1f M" % (med(cell[n], "ops_per_s") / 1e6) if n in cell
            else "-" for n in names)))
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
    # Only allocators with a figure in some row: gnuplot fails on a
    # column with no valid point (--patterns prodcons has no slab, arena).
    # Charts of an earlier run in the same directory go first.
    for f in ("ns_per_pair.png", "threads.png"):
        if os.path.exists(os.path.join(out, f)):
            os.remove(os.path.join(out, f))
    names = [n for n in OURS + list(PEERS) + [FLOOR] + OTHERS
             if any(n in cell for (s, pat, thr), cell in res.items()
                    if thr == 1 and pat != "threads")]
    dat = os.path.join(out, "ns_per_pair.dat")
    nrows = 0
    with open(dat, "w") as f:
        f.write("cell " + " ".join(names) + "\n")
        for (size, pattern, threads), cell in sorted(res.items()):
            if threads != 1 or pattern == "threads":
                continue
            nrows += 1
            f.write("%s/%d " % (pattern, size) + " ".join(
                "%.3f" % med(cell[n], "ns_per_pair") if n in cell else "NaN"
                for n in names) + "\n")
    thr = os.path.join(out, "threads.dat")
    tnames = [n for n in ["pool", "slab"] + list(PEERS) + [FLOOR] + OTHERS
              if any(n in cell for (s, pat, thr), cell in res.items()
                     if pat == "threads")]
    trows = 0
    with open(thr, "w") as f:
        f.write("cell " + " ".join(tnames) + "\n")
        for (size, pattern, threads), cell in sorted(res.items()):
            if pattern == "threads":
                trows += 1
                f.write("%dB/%dthr " % (size, threads) + " ".join(
                    "%.3f" % (med(cell[n], "ops_per_s") / 1e6)
                    if n in cell else "NaN" for n in tnames) + "\n")
    gp = """
set terminal pngcairo size 1400,600 noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right
set grid ytics
set xtics rotate by -30
"""
    # gnuplot fails on a file with no rows (--patterns may leave one empty).
    if nrows:
        gp += """
set logscale y
set output '%(out)s/ns_per_pair.png'
set title 'ns per alloc+free pair (median, lower is better, log scale)'
plot for [i=2:%(n1)d] '%(dat)s' using i:xtic(1) title columnheader(i)
unset logscale y
"""
    if trows:
        gp += """
set output '%(out)s/threads.png'
set title 'throughput, every thread running batches of 1000 (M ops/s, higher is better)'
plot for [i=2:%(n2)d] '%(thr)s' using i:xtic(1) title columnheader(i)
"""
    gp %= dict(out=out, dat=dat, thr=thr, n1=len(names) + 1,
               n2=len(tnames) + 1)
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)


def icount(out):
    """Instructions per alloc+free pair (64 B, pairs, one thread) under
    callgrind, counted inside the benchmark loop only: two runs of
    different lengths, differenced, so warm-up and set-up cancel."""
    if not shutil.which("valgrind"):
        return "valgrind not found: no instruction counts"
    res = {}
    for name in OURS + list(PEERS) + [FLOOR] + OTHERS:
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


def race(rounds=100000):
    """The racing-double-free cell (bench race): not a timing.  Two pinned
    threads free one block at once and then both allocate, the start of one
    swept across the other's; duplicates must be 0 and the reports must
    equal the rounds (every double free answered once)."""
    out = subprocess.run([BENCH, "race", str(int(rounds * SCALE) or 1)],
                         check=True, capture_output=True, text=True).stdout
    n, both, dups, reports = (int(x) for x in out.strip().split(","))
    ok = dups == 0 and reports == n
    return ("| rounds | both frees returned 0 | duplicates | reports | |\n"
            "|---|---|---|---|---|\n| %d | %d | **%d** | %d | %s |" %
            (n, both, dups, reports,
             "ok" if ok else "FAILED: a duplicate, or a race not answered"))


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
        bp, bpn = best_peer(cell, others=False)
        lines.append("| %s %d B | %s | %s | %.1fx | %.2fx (%s) |" % (
            pattern, size, fmt_ns(pool), " | ".join(
                fmt_ns(med(cell[p], "ns_per_pair")) for p in PEERS),
            med(cell["glibc"], "ns_per_pair") / pool, bp / pool, bpn))
    return "\n".join(lines)


RCU_EXE = os.path.join(TOP, "build", "rculfhash")


def rcu(runs, secs):
    """The RCU cell: tools/examples/rculfhash.c with 2 readers and 2
    updaters, nodes from a pool freed with pool_free_rcu() against malloc()
    + call_rcu(free) per node (-m); the two interleaved, medians."""
    names = {"": "pool_free_rcu", "-m": "malloc+call_rcu"}
    res = {n: {"upd": [], "look": []} for n in names.values()}
    for r in range(runs):
        order = ["", "-m"] if r % 2 == 0 else ["-m", ""]
        for flag in order:
            cmd = [RCU_EXE, "-s", str(secs)] + ([flag] if flag else [])
            out = subprocess.run(cmd, check=True, capture_output=True,
                                 text=True).stdout
            words = out.replace(",", "").split()
            res[names[flag]]["upd"].append(
                float(words[words.index("updates/s") - 1]))
            res[names[flag]]["look"].append(
                float(words[words.index("lookups/s") - 1]))
    lines = ["# rculfhash, 2 readers + 2 updaters, %d s a run: median "
             "(min-max) of %d interleaved runs" % (secs, runs),
             "%-16s %28s %30s" % ("free", "updates/s", "readers' lookups/s")]
    for n in names.values():
        u, k = res[n]["upd"], res[n]["look"]
        lines.append("%-16s %10.0f (%7.0f-%7.0f) %12.0f (%7.0f-%7.0f)" %
                     (n, statistics.median(u), min(u), max(u),
                      statistics.median(k), min(k), max(k)))
    p, m = res["pool_free_rcu"], res["malloc+call_rcu"]
    lines.append("pool_free_rcu / malloc+call_rcu: updates x%.2f, "
                 "lookups x%.2f" %
                 (statistics.median(p["upd"]) / statistics.median(m["upd"]),
                  statistics.median(p["look"]) /
                  statistics.median(m["look"])))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["suite", "vs-malloc", "icount", "rcu"])
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench"))
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the work per cell (e.g. 0.1 for a smoke run)")
    ap.add_argument("--patterns", default=None,
                    help="suite: only these patterns, comma-separated "
                    "(pairs,fifo,random,prodcons,bulk32,multipool,threads)")
    a = ap.parse_args()
    if a.mode == "rcu":
        if not os.access(RCU_EXE, os.X_OK):
            sys.exit("bench: %s not built: make build/rculfhash" % RCU_EXE)
        print("# %s" % machine())
        print(rcu(a.runs or 5, max(1, int(2 * a.scale))))
        return
    global SCALE, OTHERS, HAS_BULK
    SCALE = a.scale
    OTHERS = ["dpdk"] if has("dpdk") else []
    if not OTHERS:
        print("bench: built without DPDK (pkg-config libdpdk): no dpdk "
              "column", file=sys.stderr)
    HAS_BULK = has("bulk")
    patterns = a.patterns.split(",") if a.patterns else None
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
    res = measure(runs, short, rows, patterns)
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
    print("\n# multipool: ns per pair, one pair in each of K pools in turn")
    print(table_multipool(res))
    charts(res, a.out)
    print("\n# instructions per alloc+free pair, callgrind")
    print(icount(a.out))
    print("\n# correctness: racing double frees on the pool's fast path")
    print(race())
    if os.access(RCU_EXE, os.X_OK):
        print("")
        print(rcu(runs, max(1, int(2 * SCALE))))
    pngs = [os.path.join(a.out, f) for f in ("ns_per_pair.png", "threads.png")
            if os.path.exists(os.path.join(a.out, f))]
    print("\nCSV: %s; charts: %s" % (os.path.join(a.out, "results.csv"),
                                     ", ".join(pngs) or "none"))


if __name__ == "__main__":
    main()
