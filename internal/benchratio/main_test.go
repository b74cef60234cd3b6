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
	require.Len(t, lines, 4, out.String())
	// The reference itself: 300 GB/s median, its own size's ratio 1.
	require.Regexp(t, `^BenchmarkReadLimit/impl=avx512/n=16K\s+300\.0\s+3 1\.00$`, lines[1])
	// Its own read-limit metric wins over the reference: the median 0.80.
	require.Regexp(t, `^BenchmarkCountNonZero/type=f32/impl=avx512/n=16K\s+300\.0\s+3 0\.80$`, lines[2])
	// No metric: speed over the reference's median.
	require.Regexp(t, `^BenchmarkCountAbove/type=f32/impl=avx512/n=16K\s+150\.0\s+1 0\.50$`, lines[3])
}

// TestSummarizeOtherReference: a ratio to another reference (x-REF) is
// the benchmark's own, and the worst cells are per unit and level (none
// for the read limit).
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
	require.Len(t, lines, 7, out.String())
	require.Regexp(t, `^BenchmarkFeatureActivityUpdate/shape=1x1x1048576/impl=generic\s+5\.0\s+3 0\.51 x-l0norm$`, lines[1])
	require.Equal(t, []string{
		"worst x-l0norm at generic: 0.51 BenchmarkFeatureActivityUpdate/shape=1x1x1048576/impl=generic",
		"worst x-l0norm at avx512: 0.95 BenchmarkFeatureActivityUpdate/shape=64x1x1048576/impl=avx512",
	}, lines[5:])
}

func TestSummarizePlacement(t *testing.T) {
	in := `BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx512/n=16K/placement=touched-2 	 100	 50.0 ns/op	300000.00 MB/s	 0.9000 read-limit
BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx512/n=16K/placement=page-end-2 	 100	 50.0 ns/op	120000.00 MB/s	 0.4000 read-limit
BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx512/n=16K/placement=touched-2 	 100	 50.0 ns/op	200000.00 MB/s	 0.9000 read-limit
BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx512/n=16K/placement=page-end-2 	 100	 50.0 ns/op	200000.00 MB/s	 0.4000 read-limit
BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx512/n=40/placement=page-end-guard-2 	 100	 50.0 ns/op	100000.00 MB/s	 0.4000 read-limit
BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx512/n=40/placement=touched-2 	 100	 50.0 ns/op	100000.00 MB/s	 0.4000 read-limit
BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx2/n=40/placement=touched-2 	 100	 50.0 ns/op	100000.00 MB/s
BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx2/n=40/placement=page-end-2 	 100	 50.0 ns/op	110000.00 MB/s
`
	var out strings.Builder
	require.NoError(t, summarize(strings.NewReader(in), &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 9, out.String())
	// Medians: 160 GB/s at page-end against 250 touched.
	require.Regexp(t, `/n=16K/placement=page-end\s+160\.0\s+2 0\.40  0\.64 vs touched$`, lines[2])
	require.Regexp(t, `/n=16K/placement=touched\s+250\.0\s+2 0\.90$`, lines[1])
	// A twin later in the output still pairs.
	require.Regexp(t, `/n=40/placement=page-end-guard\s+100\.0\s+1 0\.40  1\.00 vs touched$`, lines[3])
	require.Regexp(t, `/impl=avx2/n=40/placement=page-end\s+110\.0\s+1   1\.10 vs touched$`, lines[6])
	require.Equal(t, "worst placement vs touched, impl=avx512: 0.64 BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx512/n=16K/placement=page-end", lines[7])
	require.Equal(t, "worst placement vs touched, impl=avx2: 1.10 BenchmarkPlacement/family=CountNonZero/type=f32/impl=avx2/n=40/placement=page-end", lines[8])
}

func TestSummarizePlacementMetric(t *testing.T) {
	in := `BenchmarkPlacement/family=CountAbove/type=f32/impl=avx512/n=4K/placement=touched-2 	 100	 50.0 ns/op	300000.00 MB/s	 0.9000 read-limit
BenchmarkPlacement/family=CountAbove/type=f32/impl=avx512/n=4K/placement=page-end-2 	 100	 50.0 ns/op	100000.00 MB/s	 0.3000 read-limit	 0.5000 vs-touched
BenchmarkPlacement/family=CountAbove/type=f32/impl=avx512/n=4K/placement=page-end-2 	 100	 50.0 ns/op	100000.00 MB/s	 0.3000 read-limit	 0.9000 vs-touched
BenchmarkPlacement/family=CountAbove/type=f32/impl=avx512/n=4K/placement=page-end-2 	 100	 50.0 ns/op	100000.00 MB/s	 0.3000 read-limit	 0.8000 vs-touched
`
	var out strings.Builder
	require.NoError(t, summarize(strings.NewReader(in), &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4, out.String())
	// The case's own same-moment ratio, not the speeds' (0.33).
	require.Regexp(t, `/placement=page-end\s+100\.0\s+3 0\.30  0\.80 vs touched$`, lines[2])
	require.Regexp(t, `impl=avx512: 0\.80 `, lines[3])
}

func TestSummarizeVsFlat(t *testing.T) {
	in := `BenchmarkNarrowRows/rule=nonzero/type=f32/width=3/impl=avx512-2 	 100	 50.0 ns/op	30000.00 MB/s	 0.7000 vs-flat	 0 B/op
BenchmarkNarrowRows/rule=nonzero/type=f32/width=3/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.6000 vs-flat	 0 B/op
BenchmarkNarrowRows/rule=nonzero/type=f32/width=3/impl=avx512-2 	 100	 50.0 ns/op	30000.00 MB/s	 0.9000 vs-flat	 0 B/op
BenchmarkNarrowRows/rule=nonzero/type=f32/width=3/impl=avx512-2 	 100	 50.0 ns/op	30000.00 MB/s	 0.8000 vs-flat	 0 B/op
BenchmarkNarrowRows/rule=abs/type=f32/width=8/impl=avx512-2 	 100	 50.0 ns/op	30000.00 MB/s	 0.6000 vs-flat	 0 B/op
BenchmarkNarrowRows/rule=abs/type=f32/width=8/impl=avx512-2 	 100	 50.0 ns/op	30000.00 MB/s	 0.9000 vs-flat	 0 B/op
`
	var out strings.Builder
	require.NoError(t, summarize(strings.NewReader(in), &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 6, out.String())
	require.Regexp(t, `/width=3/impl=avx512\s+30\.0\s+3   0\.80 x flat$`, lines[1])
	require.Regexp(t, `/width=8/impl=avx512\s+30\.0\s+2   0\.75 x flat$`, lines[3])
	require.Equal(t, "worst vs flat, impl=avx512: 0.75 BenchmarkNarrowRows/rule=abs/type=f32/width=8/impl=avx512", lines[4])
	require.Equal(t, "worst vs flat, impl=avx2: 0.60 BenchmarkNarrowRows/rule=nonzero/type=f32/width=3/impl=avx2", lines[5])
}

// TestSummarizeSweep: BenchmarkSweep's parts as tables of their rows by
// level (the worst case of a row, the median of its runs, bold below the
// part's target), the worst cell per level and part, and the cells below
// target.
func TestSummarizeSweep(t *testing.T) {
	in := `BenchmarkSweep/part=placement/family=CountNonZero/type=f32/n=4K/impl=avx2/placement=page-end-2 	 100	 50.0 ns/op	80000.00 MB/s	 0.9900 vs-touched
BenchmarkSweep/part=placement/family=CountNonZero/type=f32/n=4K/impl=avx512/placement=page-end-2 	 100	 50.0 ns/op	80000.00 MB/s	 0.4000 vs-touched
BenchmarkSweep/part=placement/family=CountNonZero/type=u8/n=40/impl=avx512/placement=page-end-2 	 100	 50.0 ns/op	800.00 MB/s	 0.9700 vs-touched
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=f32/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.6000 vs-flat	 0 B/op
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=u8/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.3000 vs-flat	 0 B/op
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=u8/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.4000 vs-flat	 0 B/op
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=u8/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.9000 vs-flat	 0 B/op
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=f32/impl=avx512-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.7000 vs-flat	 0 B/op
BenchmarkSweep/part=rows/width=500/rule=nonzero/type=f32/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.5500 vs-flat	 0 B/op
BenchmarkSweep/part=l0norm/shape=65536x2x3/impl=avx2-2 	 10	 900 ns/op	6000.00 MB/s	 0.4500 x-countnonzero	 0 B/op
BenchmarkSweep/part=activity/shape=65536x2x3/impl=generic-2 	 10	 900 ns/op	6000.00 MB/s	 0.6000 x-l0norm	 0 B/op
BenchmarkSweep/part=activity/shape=65536x2x3/impl=avx2-2 	 10	 900 ns/op	6000.00 MB/s	 0.6000 x-l0norm	 0 B/op
BenchmarkSweep/part=activity/shape=1x1x1048576/impl=avx2-2 	 10	 900 ns/op	6000.00 MB/s	 0.9500 x-l0norm	 0 B/op
`
	var out strings.Builder
	require.NoError(t, summarize(strings.NewReader(in), &out))
	text := out.String()
	// The rows part: width 3 at avx2 is the worst of f32 (0.60) and u8
	// (the median of 0.3, 0.4, 0.9: 0.40), bold below 0.5.
	require.Contains(t, text, "sweep part=rows (x flat; the worst case of each row, bold below target):\n\n"+
		"| width | avx2 | avx512 |\n| --- | --- | --- |\n| 3 | **0.40** | 0.70 |\n| 500 | 0.55 | – |\n")
	require.Contains(t, text, "| family | avx2 | avx512 |\n| --- | --- | --- |\n| CountNonZero | 0.99 | **0.40** |\n")
	require.Contains(t, text, "| shape | avx2 |\n| --- | --- |\n| 65536x2x3 | **0.45** |\n")
	// FeatureActivity: 0.60 meets the generic target (0.5), not the vector
	// levels' (0.9).
	require.Contains(t, text, "| shape | generic | avx2 |\n| --- | --- | --- |\n| 65536x2x3 | 0.60 | **0.60** |\n| 1x1x1048576 | – | 0.95 |\n")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	var tail []string
	for i, l := range lines {
		if strings.HasPrefix(l, "sweep worst at ") {
			tail = lines[i:]
			break
		}
	}
	require.Equal(t, []string{
		"sweep worst at avx2: placement 0.99 vs touched family=CountNonZero/type=f32/n=4K/placement=page-end; rows 0.40 x flat width=3/rule=nonzero/type=u8; l0norm 0.45 x-countnonzero shape=65536x2x3; activity 0.60 x-l0norm shape=65536x2x3",
		"sweep worst at avx512: placement 0.40 vs touched family=CountNonZero/type=f32/n=4K/placement=page-end; rows 0.70 x flat width=3/rule=nonzero/type=f32",
		"sweep worst at generic: activity 0.60 x-l0norm shape=65536x2x3",
		"sweep below target: 4 of 11 cells",
		"placement family=CountNonZero/type=f32/n=4K/placement=page-end at avx512: 0.40 vs touched (target 0.95)",
		"rows width=3/rule=nonzero/type=u8 at avx2: 0.40 x flat (target 0.50)",
		"l0norm shape=65536x2x3 at avx2: 0.45 x-countnonzero (target 0.50)",
		"activity shape=65536x2x3 at avx2: 0.60 x-l0norm (target 0.90)",
	}, trimAll(tail))
}

// TestSummarizeNoSweep: without BenchmarkSweep lines, no sweep section.
func TestSummarizeNoSweep(t *testing.T) {
	in := "BenchmarkNarrowRows/rule=nonzero/type=f32/width=3/impl=avx512-2 	 100	 50.0 ns/op	30000.00 MB/s	 0.2000 vs-flat\n"
	var out strings.Builder
	require.NoError(t, summarize(strings.NewReader(in), &out))
	require.NotContains(t, out.String(), "sweep")
}

func trimAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}
