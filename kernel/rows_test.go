package kernel

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCountNonZeroRows: every level, every type, shapes from one element to
// rows past the chunk size, against the naive oracle row by row.
func TestCountNonZeroRows(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, c := range typeCases {
			// 127 and 500 lanes: each side of the lane and misaligned
			// limits of narrowRows (rowLimits).
			shapes := [][3]int{{1, 1, 1}, {3, 2, 5}, {7, 3, 17}, {64, 4, 33}, {5, 1, 129}, {9, 5, 64 / c.width * 3}, {6, 3, 127}, {6, 3, 500}}
			if !testing.Short() {
				shapes = append(shapes, [3]int{3, 2, ChunkBytes/c.width + 7}, [3]int{ChunkBytes / c.width / 100, 3, 101})
			}
			for _, s := range shapes {
				rows, slots, width := s[0]*s[1], s[1], s[2]
				b := alignedBytes(rows*width*c.width, 0)
				c.random(rng, b)
				want := make([]uint64, slots)
				for r := 0; r < rows; r++ {
					want[r%slots] += uint64(c.naive(b[r*width*c.width : (r+1)*width*c.width]))
				}
				got := []uint64{}
				for range slots {
					got = append(got, 1000)
				}
				for i := range want {
					want[i] += 1000
				}
				if err := c.rows(got, b, width); err != nil {
					t.Fatalf("%s %v: %v", c.name, s, err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s rows=%d slots=%d width=%d: got %v, want %v", c.name, rows, slots, width, got, want)
				}
			}
		}
	})
}

func TestCountNonZeroRowsErrors(t *testing.T) {
	x := make([]float32, 12)
	x[3] = 1
	for _, tc := range []struct {
		counts []uint64
		width  int
	}{
		{nil, 3}, {[]uint64{5}, 0}, {[]uint64{5}, -3}, {[]uint64{5, 6}, 5}, {[]uint64{5}, 24},
	} {
		before := slices.Clone(tc.counts)
		err := CountNonZeroRows(tc.counts, x, tc.width)
		if !errors.Is(err, ErrShape) {
			t.Fatalf("counts %v width %d: err %v, want ErrShape", tc.counts, tc.width, err)
		}
		if !slices.Equal(before, tc.counts) {
			t.Fatalf("a rejected call changed counts: %v -> %v", before, tc.counts)
		}
	}
	if err := CountNonZeroRows(nil, []float32{}, 0); err != nil {
		t.Fatalf("an empty input is valid: %v", err)
	}
}

// TestCountAboveRows: CountAboveRows and CountAbsAboveRows at every level,
// every float type, thresholds below, at and above zero and NaN, against
// the rule's count row by row at the generic level (itself checked against
// a float64 oracle by the threshold tests).
func TestCountAboveRows(t *testing.T) {
	thresholds := []float64{-1, 0, 0.5, 1e-40, math.Inf(1), math.NaN()}
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			rng := rand.New(rand.NewPCG(13, 14))
			for _, c := range floatCases {
				for _, s := range [][3]int{{1, 1, 1}, {3, 2, 5}, {7, 3, 17}, {64, 4, 33}, {5, 1, 129}} {
					rows, slots, width := s[0]*s[1], s[1], s[2]
					b := alignedBytes(rows*width*c.width, 0)
					c.random(rng, b)
					for _, th := range thresholds {
						want := make([]uint64, slots)
						for i := 0; i < rows; i++ {
							row := b[i*width*c.width : (i+1)*width*c.width]
							want[i%slots] += uint64(atLevel(Generic, func() int { return c.count(r, row, th) }))
						}
						got := make([]uint64, slots)
						if err := c.rows(r, got, b, width, th); err != nil {
							t.Fatalf("%s %v t=%v: %v", c.name, s, th, err)
						}
						if !slices.Equal(got, want) {
							t.Fatalf("%s rows=%d slots=%d width=%d t=%v: got %v, want %v", c.name, rows, slots, width, th, got, want)
						}
					}
				}
				if err := c.rows(r, []uint64{1}, alignedBytes(3*c.width, 0), 2, 0); !errors.Is(err, ErrShape) {
					t.Fatalf("%s: 3 elements in rows of 2: err %v, want ErrShape", c.name, err)
				}
			}
		})
	})
}
