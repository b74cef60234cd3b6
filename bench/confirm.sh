#!/bin/bash
# A closer look at the cells bench/beforeafter.sh found slower: the same two
# commits' test binaries of one package (root or metric), each -bench
# PATTERN run alternately old, new, PASSES times at BENCHTIME, then
# bench/beforeafter.py on the outputs.
#
#   bench/confirm.sh OLD NEW PKG OUTDIR PASSES BENCHTIME PATTERN...
#   bench/confirm.sh 9fd5e0f 02186f7 metric bench/beforeafter/confirm 7 200ms 'SmallBatch/op=FeatureActivity.Update/8x16$'
set -euo pipefail
old=${1:?old commit} new=${2:?new commit} pkg=${3:?root or metric} out=${4:?output directory}
passes=${5:?passes} benchtime=${6:?benchtime}
shift 6
sub=
[ "$pkg" = metric ] && sub=/metric
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
for side in old new; do
	commit=${!side}
	mkdir -p "$work/$side"
	git archive "$commit" | tar -x -C "$work/$side"
	(cd "$work/$side$sub" && go test -c -o "$work/$side.test" .)
	: >"$out/$side-$pkg.txt"
done
for pass in $(seq "$passes"); do
	for pattern in "$@"; do
		for side in old new; do
			echo "pass $pass $pattern $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/$side-$pkg.txt"
			(cd "$work/$side$sub" && "$work/$side.test" -test.run '^$' -test.bench "$pattern" -test.benchtime "$benchtime" -test.count 1) >>"$out/$side-$pkg.txt"
		done
	done
done
python3 "$(dirname "$0")/beforeafter.py" "$out/old-$pkg.txt" "$out/new-$pkg.txt" | tee "$out/beforeafter.txt"
