package metric

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// exactBin is the oracle of a feature's histogram bin: -1 dead, -2
// underflow, else the k of the last edge 10^Edges[k] that count/vectors
// reaches, decided by comparing count² · 10^(-2·edge) with vectors² in
// integers, one edge at a time.
func exactBin(count uint64, vectors int64) int {
	if count == 0 {
		return -1
	}
	c2 := new(big.Int).SetUint64(count)
	c2.Mul(c2, c2)
	n2 := big.NewInt(vectors)
	n2.Mul(n2, n2)
	bin := -2
	edges := histogramEdges()
	for k, e := range edges[:HistogramBins] {
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-2*e)), nil)
		if new(big.Int).Mul(c2, scale).Cmp(n2) >= 0 {
			bin = k
		}
	}
	return bin
}

// histogramOf returns the histogram of a FeatureActivity whose state is
// vectors and counts, set through UnmarshalBinary as another process's
// state would be.
func histogramOf(t *testing.T, vectors int64, counts []uint64) Histogram {
	t.Helper()
	a, err := NewFeatureActivity[float32](0, len(counts))
	require.NoError(t, err)
	require.NoError(t, a.UnmarshalBinary(withVectors(t, a, uint64(vectors), counts)))
	h, err := a.Histogram()
	require.NoError(t, err)
	return h
}

// checkBins compares a histogram of the given counts with the oracle's
// bins.
func checkBins(t *testing.T, vectors int64, counts []uint64) {
	t.Helper()
	want := Histogram{Edges: histogramEdges()}
	for _, c := range counts {
		switch k := exactBin(c, vectors); k {
		case -1:
			want.Dead++
		case -2:
			want.Underflow++
		default:
			want.Counts[k]++
		}
	}
	got := histogramOf(t, vectors, counts)
	require.Equal(t, want, got, "vectors %d, counts %v", vectors, counts)
}

// TestHistogramIssueEdges checks the counts the review found in the wrong
// bin: c/N just below 10^-3.5, 10^-2.5 and 10^-0.5, which float64 put one
// bin high.
func TestHistogramIssueEdges(t *testing.T) {
	for _, c := range []struct {
		count   uint64
		vectors int64
		bin     int
	}{
		{981_592, 3_104_066_453, 8},      // [-4, -3.5)
		{15_886_391, 5_023_717_936, 10},  // [-3, -2.5)
		{474_094_764, 1_499_219_281, 14}, // [-1, -0.5)
		{981_593, 3_104_066_453, 9},      // just above: [-3.5, -3)
		{15_886_392, 5_023_717_936, 11},
		{474_094_765, 1_499_219_281, 15},
		{1, 100_000_000, 0},                // exactly 10^-8
		{1, 100_000_001, -2},               // just below it
		{math.MaxInt64, math.MaxInt64, 15}, // density 1
	} {
		require.Equal(t, c.bin, exactBin(c.count, c.vectors), "the oracle, %d of %d", c.count, c.vectors)
		h := histogramOf(t, c.vectors, []uint64{c.count})
		if c.bin == -2 {
			require.Equal(t, 1, h.Underflow, "%d of %d: %+v", c.count, c.vectors, h)
			continue
		}
		require.Equal(t, 1, h.Counts[c.bin], "%d of %d: bins %v", c.count, c.vectors, h.Counts)
	}
}

// TestHistogramEveryEdge checks the counts around every edge, for vector
// counts small and large, random and at the limits: each count within 3 of
// vectors · 10^edge lands where the integer comparison says.
func TestHistogramEveryEdge(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	vectorCounts := []int64{1, 2, 3, 7, 10, 99, 100, 101, 1e8 - 1, 1e8, 1e8 + 1, 1e9, 1e16, 3_104_066_453,
		5_023_717_936, 1_499_219_281, 1 << 53, 1<<53 + 1, 1 << 62, math.MaxInt64 - 1, math.MaxInt64}
	for range 40 {
		vectorCounts = append(vectorCounts, rng.Int64N(math.MaxInt64)+1, rng.Int64N(1<<40)+1)
	}
	for _, vectors := range vectorCounts {
		var counts []uint64
		for _, e := range histogramEdges() {
			near := edgeCount(vectors, e)
			for d := -3; d <= 3; d++ {
				if c := int64(near) + int64(d); c >= 0 && c <= vectors {
					counts = append(counts, uint64(c))
				}
			}
		}
		checkBins(t, vectors, counts)
	}
}

// edgeCount returns vectors · 10^edge, truncated, in 256-bit floating point:
// within one of the exact value for any vectors < 2^63.
func edgeCount(vectors int64, edge float64) uint64 {
	const prec = 256
	x := new(big.Float).SetPrec(prec).SetInt64(vectors)
	tenth := new(big.Float).SetPrec(prec).Quo(big.NewFloat(1).SetPrec(prec), big.NewFloat(10).SetPrec(prec))
	for range int(-edge) {
		x.Mul(x, tenth)
	}
	if -edge != math.Trunc(-edge) {
		x.Mul(x, new(big.Float).SetPrec(prec).Sqrt(tenth))
	}
	c, _ := x.Uint64()
	return c
}

// TestHistogramAboveOne: a feature counted in more vectors than there are
// (sparse entries that repeat a feature within a vector, which
// UpdateEntries and UpdateTopK count twice) has a density above 1: it is
// counted in AboveOne, not in the last bin, whose upper edge is density 1.
func TestHistogramAboveOne(t *testing.T) {
	h := histogramOf(t, 4, []uint64{0, 4, 5, 9, 1})
	require.Equal(t, 1, h.Dead)
	require.Equal(t, 2, h.AboveOne, "5 and 9 of 4 vectors")
	require.Equal(t, 1, h.Counts[HistogramBins-1], "4 of 4: density 1")
	require.Equal(t, 1, h.Counts[HistogramBins-2], "1 of 4: log10 -0.6")

	a, _ := NewFeatureActivity[float32](0, 3)
	require.NoError(t, UpdateEntries(a, 1, []int32{2, 2}, nil))
	h, err := a.Histogram()
	require.NoError(t, err)
	require.Equal(t, Histogram{Edges: histogramEdges(), Dead: 2, AboveOne: 1}, h)
	h = histogramOf(t, math.MaxInt64, []uint64{math.MaxUint64, math.MaxInt64, math.MaxInt64 + 1})
	require.Equal(t, 2, h.AboveOne)
	require.Equal(t, 1, h.Counts[HistogramBins-1])
}
