"""CPU time of l0 on wide files against a square one of the same size.

Writes three float32 .npy fixtures to /tmp (5 % non-zero, once): [4096, 16384]
and [64, 2^20] (256 MiB each) and [8, 2^22] (128 MiB); then runs each given l0
binary on each, alternating binaries run by run, and prints per binary the
median CPU time (user + system of the process, from wait4), the bytes per
CPU-second, and the ratios of the wide files' bytes per
CPU-second to the square one's (the README's "wide rows" figures).

    python3 bench/wide_cpu.py /tmp/l0_before,/tmp/l0_after 11

(Peak RSS is /usr/bin/time -f %M's: a child's ru_maxrss from here counts the
Python process it was forked from.)
"""
import os
import statistics
import subprocess
import sys

import numpy as np

SHAPES = {"sq": (4096, 16384), "w64": (64, 1 << 20), "w8": (8, 1 << 22)}


def fixture(name):
    path = f"/tmp/n8_{name}.npy"
    if not os.path.exists(path):
        rng = np.random.default_rng(1)
        rows, features = SHAPES[name]
        a = np.zeros(rows * features, np.float32)
        m = rng.random(a.size, np.float32) < 0.05
        a[m] = rng.random(m.sum(), np.float32) + 0.1
        np.save(path, a.reshape(rows, features))
    return path


def main():
    bins = sys.argv[1].split(",")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    files = {name: fixture(name) for name in SHAPES}
    for path in files.values():  # into the page cache
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
    cpu = {(b, f): [] for b in bins for f in files}
    for _ in range(runs):
        for f, path in files.items():
            for b in bins:
                p = subprocess.Popen([b, path], stdout=subprocess.DEVNULL)
                _, status, ru = os.wait4(p.pid, 0)
                if status != 0:
                    sys.exit(f"{b} {path}: exit status {status}")
                cpu[(b, f)].append(ru.ru_utime + ru.ru_stime)
    for b in bins:
        rate = {}
        parts = []
        for f, path in files.items():
            med = statistics.median(cpu[(b, f)])
            rate[f] = os.path.getsize(path) / med / 1e9
            parts.append(f"{f} {med * 1000:.1f} ms CPU, {rate[f]:.2f} GB/CPU-s")
        print(f"{b}: " + "; ".join(parts) + f"; w64/sq {rate['w64'] / rate['sq']:.2f}, w8/sq {rate['w8'] / rate['sq']:.2f}")


if __name__ == "__main__":
    main()
