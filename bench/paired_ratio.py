#!/usr/bin/python3
"""Paired speed ratios of benchmarks whose last path element is op=NAME,
from `go test -bench` output of several runs of -count 1 (so that the ops
of one run are measured side by side, not seconds apart on a shared
machine): per group, each op's median MB/s, and for each BASE=OTHER given
the median over runs of OTHER's speed / BASE's, by wall time and, where the
benchmark reports it, by cpu-ns/op (the CPU time, which another process's
load stretches less).

    cd metric && for i in 1 2 3 4 5; do go test -run '^$' -bench 'BenchmarkSequences' -count 1 .; done > out.txt
    python3 bench/paired_ratio.py out.txt plain=sequences plain-positions=positions
"""
import collections
import re
import statistics
import sys

runs = collections.defaultdict(list)
for l in open(sys.argv[1]):
    m = re.match(r'^(Benchmark\S+?)-\d+\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) MB/s(?:\s+([\d.]+) cpu-ns/op)?', l)
    if m:
        runs[m.group(1)].append((float(m.group(2)), float(m.group(3)), float(m.group(4) or 0)))
pairs = [p.split('=') for p in sys.argv[2:]]
groups = collections.defaultdict(dict)
for name, v in runs.items():
    m = re.match(r'(.*)op=([^/]+)$', name)
    if m:
        groups[m.group(1)][m.group(2)] = v
for g, ops in groups.items():
    line = [g.replace('Benchmark', '')]
    for op, v in ops.items():
        line.append(f"{op} {statistics.median(x[1] for x in v) / 1000:.1f} GB/s")
    for base, other in pairs:
        if base in ops and other in ops:
            n = min(len(ops[base]), len(ops[other]))
            wall = [ops[base][i][0] / ops[other][i][0] for i in range(n)]
            text = f"{other}/{base}: wall {statistics.median(wall):.2f} (min {min(wall):.2f})"
            cpu = [ops[base][i][2] / ops[other][i][2] for i in range(n) if ops[other][i][2]]
            if cpu:
                text += f", cpu {statistics.median(cpu):.2f} (min {min(cpu):.2f})"
            line.append(text + f" n={n}")
    print(" | ".join(line))
