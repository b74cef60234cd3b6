#!/usr/bin/python3
"""Before/after table from bench/beforeafter.sh's outputs: for every
benchmark in both the old and the new output of a package, the median over
passes of new speed / old speed (old ns/op over new ns/op of the same pass:
above 1 is faster), the benchmarks grouped by their top-level name with the
worst and median of each group, then every cell more than 5% slower, with
how many of its passes were slower (a cell slower in every pass is a
regression worth a closer look; one slower in 3 of 5 is the machine).

    python3 bench/beforeafter.py old-root.txt new-root.txt [old-metric.txt new-metric.txt ...]

(files ending in .gz are read compressed).
"""
import collections
import gzip
import re
import statistics
import sys

LINE = re.compile(r'^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.e+]+) ns/op')


def read(path):
    """{benchmark: {pass: ns/op}} of one file of passes."""
    runs = collections.defaultdict(dict)
    p = 0
    for line in (gzip.open(path, 'rt') if path.endswith('.gz') else open(path)):
        if line.startswith('pass '):
            p = int(line.split()[1])
            continue
        m = LINE.match(line)
        if m:
            runs[m.group(1)][p] = float(m.group(2))
    return runs


def main(paths):
    if len(paths) % 2:
        sys.exit('usage: beforeafter.py OLD NEW [OLD NEW ...]')
    cells = {}  # benchmark: (median ratio, passes)
    for old_path, new_path in zip(paths[::2], paths[1::2]):
        old, new = read(old_path), read(new_path)
        for name in new:
            if name not in old:
                continue
            ratios = [old[name][p] / new[name][p] for p in new[name] if p in old[name] and new[name][p] > 0]
            if ratios:
                cells[name] = (statistics.median(ratios), len(ratios), sum(r < 1 for r in ratios))
    groups = collections.defaultdict(list)
    for name, (r, _, _) in cells.items():
        groups[name.split('/')[0]].append((r, name))
    print(f"{'benchmark':40} {'cells':>5} {'worst':>6} {'median':>6}  worst cell (new speed / old, median of passes)")
    for g in sorted(groups, key=lambda g: min(groups[g])[0]):
        rs = sorted(groups[g])
        print(f"{g:40} {len(rs):5} {rs[0][0]:6.2f} {statistics.median(r for r, _ in rs):6.2f}  {rs[0][1]}")
    allr = [r for r, _, _ in cells.values()]
    if allr:
        print(f"{'all':40} {len(allr):5} {min(allr):6.2f} {statistics.median(allr):6.2f}")
    slow = sorted((r, n) for n, (r, _, _) in cells.items() if r < 0.95)
    print(f"\n{len(slow)} of {len(cells)} cells more than 5% slower (new speed / old; passes slower of passes):")
    for r, n in slow:
        print(f"{r:6.2f} {cells[n][2]}/{cells[n][1]}  {n}")


if __name__ == '__main__':
    main(sys.argv[1:])
