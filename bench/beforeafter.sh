#!/bin/bash
# Before/after of every benchmark of the root and metric packages: the test
# binaries of two commits, built from `git archive` copies, run alternating
# (old, new) one top-level benchmark at a time, in PASSES passes over all of
# them, so that each run of one binary is measured beside a run of the other
# on a shared machine, then compared by bench/beforeafter.py (median over
# passes of new speed / old speed, per benchmark present in both).
#
#   bench/beforeafter.sh OLD NEW OUTDIR [PASSES] [BENCHTIME]
#   bench/beforeafter.sh 9fd5e0f 02186f7 bench/beforeafter 5 5ms
#
# Left out: BenchmarkRoofline (the CountNonZero and column kernels again, up
# to 1 GiB: BenchmarkCountNonZero and the column benchmarks measure the same
# calls) and BenchmarkStopTheWorld (pause times of the garbage collector, not
# a speed). Run from the repository root; OUTDIR gets old-PKG.txt,
# new-PKG.txt (every run, after a line "pass N BENCH TIME load ...") and
# beforeafter.txt.
#
# A closer look at some cells: with PKG (root or metric) and -bench
# patterns after BENCHTIME, only those, each alternating old, new:
#
#   bench/beforeafter.sh 9fd5e0f 02186f7 DIR 7 200ms metric 'SmallBatch/op=FeatureActivity.Update/'
set -euo pipefail
old=${1:?old commit} new=${2:?new commit} out=${3:?output directory}
passes=${4:-5} benchtime=${5:-5ms}
shift $(($# < 5 ? $# : 5))
only=${1:-}
[ $# -gt 0 ] && shift
skip='^Benchmark(Roofline|StopTheWorld)$'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
for side in old new; do
	commit=${!side}
	mkdir -p "$work/$side"
	git archive "$commit" | tar -x -C "$work/$side"
	(cd "$work/$side" && go test -c -o "$work/$side-root.test" . && go test -c -o "$work/$side-metric.test" ./metric/)
done
files=()
for pkg in root metric; do
	[ -n "$only" ] && [ "$pkg" != "$only" ] && continue
	sub=
	[ "$pkg" = metric ] && sub=/metric
	if [ -n "$only" ]; then
		patterns=("$@")
	else
		# The benchmarks both binaries have, minus the skipped ones.
		mapfile -t patterns < <(comm -12 <("$work/old-$pkg.test" -test.list '^Benchmark' | sort) <("$work/new-$pkg.test" -test.list '^Benchmark' | sort) | grep -Ev "$skip" | sed 's/.*/^&$/')
	fi
	echo "$pkg:" "${patterns[@]}" | tee -a "$out/benchmarks.txt"
	: >"$out/old-$pkg.txt"
	: >"$out/new-$pkg.txt"
	for pass in $(seq "$passes"); do
		for bench in "${patterns[@]}"; do
			for side in old new; do
				echo "pass $pass $bench $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/$side-$pkg.txt"
				# Each binary in its package's directory (testdata), as go test would.
				(cd "$work/$side$sub" && "$work/$side-$pkg.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.count 1 -test.timeout 60m) >>"$out/$side-$pkg.txt"
			done
		done
	done
	files+=("$out/old-$pkg.txt" "$out/new-$pkg.txt")
done
python3 "$(dirname "$0")/beforeafter.py" "${files[@]}" | tee "$out/beforeafter.txt"
