#!/usr/bin/env python3
"""Measures how steadily this machine runs plain CPU work, to put latency figures in context.

Runs fixed chunks of pure CPU work (no I/O, no allocation, no syscalls) pinned to each CPU in
parallel for SECONDS and reports chunks that took more than 3x the median, grouped into stall
windows. On an idle VM any such window is the host's (CPU bandwidth throttling, co-tenants), not the
software under test: a latency benchmark cannot be steadier than this probe.

  scripts/vm-stall-probe.py [SECONDS]     # default 5
"""
import multiprocessing as mp
import os
import sys
import time


def probe(cpu, seconds, out):
    os.sched_setaffinity(0, {cpu})
    chunks = []
    t0 = time.perf_counter()
    end = t0 + seconds
    while True:
        a = time.perf_counter()
        x = 0
        for i in range(2000):
            x += i * i
        b = time.perf_counter()
        chunks.append((a - t0, b - a))
        if b > end:
            break
    out.put((cpu, chunks))


def windows(chunks, median):
    slow = [(a, d) for a, d in chunks if d > 3 * median]
    wins = []
    for a, d in slow:
        if wins and a - wins[-1][1] < 0.02:
            wins[-1][1] = a + d
            wins[-1][2] += d
        else:
            wins.append([a, a + d, d])
    return wins


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    cpus = sorted(os.sched_getaffinity(0))
    q = mp.Queue()
    procs = [mp.Process(target=probe, args=(c, seconds, q)) for c in cpus]
    for p in procs:
        p.start()
    results = sorted(q.get() for _ in procs)
    for p in procs:
        p.join()
    for cpu, chunks in results:
        d = sorted(x[1] for x in chunks)
        med = d[len(d) // 2]
        wins = [w for w in windows(chunks, med) if w[1] - w[0] >= 0.005]
        stalled = sum(w[1] - w[0] for w in wins)
        print(
            f"cpu{cpu}: chunk median {med * 1e6:.0f} us, max {d[-1] * 1e6:.0f} us; "
            f"{len(wins)} slow windows >= 5 ms covering {stalled * 1e3:.0f} ms of {seconds:.0f} s "
            f"({100 * stalled / seconds:.1f}%): "
            + ", ".join(f"{w[0]:.2f}s+{(w[1] - w[0]) * 1e3:.0f}ms" for w in wins[:12])
        )


if __name__ == "__main__":
    main()
