package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSummarize(t *testing.T) {
	in := `goos: linux
BenchmarkReadLimit/impl=avx512/n=16K-2   	 100	 40.0 ns/op	400000.00 MB/s
BenchmarkReadLimit/impl=avx512/n=16K-2   	 100	 40.0 ns/op	200000.00 MB/s
BenchmarkReadLimit/impl=avx512/n=16K-2   	 100	 40.0 ns/op	300000.00 MB/s
BenchmarkCountNonZero/type=f32/impl=avx512/n=16K-2 	 100	 50.0 ns/op	300000.00 MB/s	 0.8000 read-limit	 0 B/op
BenchmarkCountNonZero/type=f32/impl=avx512/n=16K-2 	 100	 50.0 ns/op	330000.00 MB/s	 0.9000 read-limit	 0 B/op
BenchmarkCountNonZero/type=f32/impl=avx512/n=16K-2 	 100	 50.0 ns/op	100000.00 MB/s	 0.1000 read-limit	 0 B/op
BenchmarkCountAbove/type=f32/impl=avx512/n=16K-2 	 100	 50.0 ns/op	150000.00 MB/s
BenchmarkCall16/impl=naive-2 	 100	 14.0 ns/op
PASS
`
	var out strings.Builder
	require.NoError(t, summarize(strings.NewReader(in), &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5, out.String())
	// The reference itself: 300 GB/s median, its own size's ratio 1.
	require.Regexp(t, `^BenchmarkReadLimit/impl=avx512/n=16K\s+300\.0\s+3 1\.00$`, lines[1])
	// Its own read-limit metric wins over the reference: the median 0.80.
	require.Regexp(t, `^BenchmarkCountNonZero/type=f32/impl=avx512/n=16K\s+300\.0\s+3 0\.80$`, lines[2])
	// No metric: speed over the reference's median.
	require.Regexp(t, `^BenchmarkCountAbove/type=f32/impl=avx512/n=16K\s+150\.0\s+1 0\.50$`, lines[3])
	// The worst cell of the level, the reference left out.
	require.Equal(t, "worst read-limit at avx512: 0.50 BenchmarkCountAbove/type=f32/impl=avx512/n=16K", lines[4])
}

// TestSummarizeOtherReference: a ratio to another reference (x-REF) is
// the benchmark's own, and the worst cells are per unit and level.
func TestSummarizeOtherReference(t *testing.T) {
	in := `BenchmarkFeatureActivityUpdate/shape=1x1x1048576/impl=generic-2 	 10	 900 ns/op	4000.00 MB/s	 0.4100 x-l0norm	 0 B/op
BenchmarkFeatureActivityUpdate/shape=1x1x1048576/impl=generic-2 	 10	 900 ns/op	5000.00 MB/s	 0.6100 x-l0norm	 0 B/op
BenchmarkFeatureActivityUpdate/shape=1x1x1048576/impl=generic-2 	 10	 900 ns/op	6000.00 MB/s	 0.5100 x-l0norm	 0 B/op
BenchmarkFeatureActivityUpdate/shape=64x1x1048576/impl=generic-2 	 10	 900 ns/op	6000.00 MB/s	 0.7000 x-l0norm	 0 B/op
BenchmarkFeatureActivityUpdate/shape=64x1x1048576/impl=avx512-2 	 10	 900 ns/op	6000.00 MB/s	 0.9500 x-l0norm	 0 B/op
BenchmarkCountNonZero/type=f32/impl=avx512/n=16K-2 	 100	 50.0 ns/op	300000.00 MB/s	 0.8000 read-limit	 0 B/op
`
	var out strings.Builder
	require.NoError(t, summarize(strings.NewReader(in), &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 8, out.String())
	require.Regexp(t, `^BenchmarkFeatureActivityUpdate/shape=1x1x1048576/impl=generic\s+5\.0\s+3 0\.51 x-l0norm$`, lines[1])
	require.Equal(t, []string{
		"worst x-l0norm at generic: 0.51 BenchmarkFeatureActivityUpdate/shape=1x1x1048576/impl=generic",
		"worst x-l0norm at avx512: 0.95 BenchmarkFeatureActivityUpdate/shape=64x1x1048576/impl=avx512",
		"worst read-limit at avx512: 0.80 BenchmarkCountNonZero/type=f32/impl=avx512/n=16K",
	}, lines[5:])
}
