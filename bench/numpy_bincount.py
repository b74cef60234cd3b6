#!/usr/bin/env python3
"""numpy's side of the index-count benchmarks (bench_sparse_test.go).

Times np.bincount(index[values != 0], minlength=d_sae) on the batch the Go
benchmarks count: top-k outputs of k = 64 entries per vector, 2^22 entries,
int32 indices distinct within each vector, drawn uniformly, and float32
values of which about 5% are zero. It prints entries per second, the median
of --runs runs, per d_sae. Run it in the same session as the Go side, e.g.

    go test -run '^$' -bench 'IndexCounts$' -count 5 .
    /usr/bin/python3 bench/numpy_bincount.py

(Debian's /usr/bin/python3 has numpy once python3-numpy is installed.)
"""

import argparse
import statistics
import time

import numpy as np


def batch(d_sae, entries, k, rng):
    """Returns index, values: entries // k rows of k distinct indices."""
    rows = entries // k
    index = rng.integers(0, d_sae, size=(rows, k), dtype=np.int32)
    while True:  # redraw the rows that repeat an index
        s = np.sort(index, axis=1)
        dup = (s[:, 1:] == s[:, :-1]).any(axis=1)
        if not dup.any():
            break
        index[dup] = rng.integers(0, d_sae, size=(int(dup.sum()), k), dtype=np.int32)
    values = rng.random((rows, k), dtype=np.float32) + np.float32(1e-3)
    values[rng.random((rows, k)) < 0.05] = 0
    return index.ravel(), values.ravel()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d-sae", type=int, nargs="+", default=[16384, 1 << 20])
    p.add_argument("--entries", type=int, default=1 << 22)
    p.add_argument("--k", type=int, default=64)
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    rng = np.random.default_rng(64)
    print(f"numpy {np.__version__}: np.bincount(index[values != 0], minlength=d_sae), "
          f"{args.entries} entries, k = {args.k}, median of {args.runs} runs")
    for d in args.d_sae:
        index, values = batch(d, args.entries, args.k, rng)
        want = np.bincount(index[values != 0], minlength=d)  # warm up
        rates = []
        for _ in range(args.runs):
            t = time.perf_counter()
            counts = np.bincount(index[values != 0], minlength=d)
            rates.append(args.entries / (time.perf_counter() - t))
        assert (counts == want).all()
        print(f"d_sae={d:<8d} {statistics.median(rates) / 1e9:.3f} G entries/s "
              f"(min {min(rates) / 1e9:.3f}, max {max(rates) / 1e9:.3f})")


if __name__ == "__main__":
    main()
