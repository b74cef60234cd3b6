package input

import (
	"math"
	"slices"
	"testing"
)

// TestExcludeSet checks has against the list of ids, with the bitmap (the
// largest id below maxExcludeBits) and without: each id, its neighbours,
// the bitmap's edges, negative ids and ids past it.
func TestExcludeSet(t *testing.T) {
	t.Parallel()
	for _, ids := range [][]int64{
		{0}, {63}, {64}, {1, 0}, {50256, 0, 1}, {maxExcludeBits - 1},
		{maxExcludeBits}, {math.MaxInt64}, {0, math.MaxInt64},
		{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}, // more than 8: a binary search without the bitmap
		{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, maxExcludeBits + 5},
	} {
		s := newExcludeSet(ids)
		if bitmap := s.bits != nil; bitmap != (slices.Max(ids) < maxExcludeBits) {
			t.Errorf("%v: bitmap %v", ids, bitmap)
		}
		probes := []int64{math.MinInt64, -64, -1, 0, 1, 62, 63, 64, 65, 127, 128, maxExcludeBits - 1, maxExcludeBits, maxExcludeBits + 64, math.MaxInt64}
		for _, id := range ids {
			probes = append(probes, id-1, id, id+1)
		}
		for _, p := range probes {
			if got, want := s.has(p), slices.Contains(ids, p); got != want {
				t.Errorf("%v: has(%d) = %v", ids, p, got)
			}
		}
	}
}
