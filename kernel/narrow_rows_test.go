package kernel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// narrowSlots are the counts lengths of the narrow rows tests: one (the
// count of x), two (the L0 norm of two components), few, a word's worth,
// and more than any periodic split holds.
var narrowSlots = []int{1, 2, 3, 5, 64, 1000}

// narrowRowsCounts returns the row counts the narrow rows tests check per
// width and slots: a few rows (the boundary split), and some thousands of
// lanes over more than one bitmap block (the periodic split where it fits).
func narrowRowsCounts(width, slots int) []int {
	return []int{1, slots + 1, max(3, 9000/width)}
}

// narrowLanes is the most lanes a narrow rows test reads, with its offset.
const narrowLanes = 70*(1000+1) + 64

// prefixCounts returns p with p[i] the count of the first i elements of b,
// elements of size bytes, by count of each element.
func prefixCounts(b []byte, size int, count func(e []byte) int) []int {
	p := make([]int, len(b)/size+1)
	for i := range len(b) / size {
		p[i+1] = p[i] + count(b[i*size:(i+1)*size])
	}
	return p
}

// checkNarrowRows runs rows over every width 1..70, every counts length of
// narrowSlots and narrowRowsCounts, at lane offsets into b, against the
// prefix counts p of b, from counts that are not zero.
func checkNarrowRows(t *testing.T, name string, b []byte, size int, p []int, rows func(counts []uint64, b []byte, width int) error) {
	t.Helper()
	offset := 0
	for width := 1; width <= 70; width++ {
		for _, slots := range narrowSlots {
			for _, n := range narrowRowsCounts(width, slots) {
				offset = (offset + 7) % 64
				x := b[offset*size : (offset+n*width)*size]
				want, got := make([]uint64, slots), make([]uint64, slots)
				for i := range want {
					want[i], got[i] = uint64(i)<<40, uint64(i)<<40
				}
				for r := range n {
					lo := offset + r*width
					want[r%slots] += uint64(p[lo+width] - p[lo])
				}
				if err := rows(got, x, width); err != nil {
					t.Fatalf("%s rows=%d slots=%d width=%d: %v", name, n, slots, width, err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s rows=%d slots=%d width=%d offset=%d: got %v, want %v", name, n, slots, width, offset, got[:min(8, slots)], want[:min(8, slots)])
				}
			}
		}
	}
}

// TestNarrowRows: CountNonZeroRows of every type at every width 1..70 into
// every counts length of narrowSlots, at every level, against the naive
// count of each element.
func TestNarrowRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range typeCases {
		b := alignedBytes(narrowLanes*c.width, 0)
		c.random(rng, b)
		p := prefixCounts(b, c.width, c.naive)
		forEachLevel(t, func(t *testing.T) {
			checkNarrowRows(t, c.name, b, c.width, p, c.rows)
		})
	}
}

// TestNarrowAboveRows: CountAboveRows and CountAbsAboveRows as
// TestNarrowRows, for every float type, against the rule's count of each
// element at the generic level.
func TestNarrowAboveRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, c := range floatCases {
		b := alignedBytes(narrowLanes*c.width, 0)
		c.random(rng, b)
		for _, r := range floatRules {
			// Below zero (order keys) and above (bits); NaN and the
			// edges are TestCountAboveRows'.
			for _, th := range []float64{-1, 0.5} {
				restore := SetLevel(Generic)
				p := prefixCounts(b, c.width, func(e []byte) int { return c.count(r, e, th) })
				restore()
				forEachLevel(t, func(t *testing.T) {
					checkNarrowRows(t, fmt.Sprintf("%s %s t=%v", c.name, r.name, th), b, c.width, p, func(counts []uint64, b []byte, width int) error {
						return c.rows(r, counts, b, width, th)
					})
				})
			}
		}
	}
}

// TestNarrowRowsLong: narrow rows over more than one chunk, whose bitmap
// blocks and periods do not line up with the chunks' ends.
func TestNarrowRowsLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long input")
	}
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(25, 26))
		c := typeCases[0]
		for _, tc := range []struct{ width, slots int }{{3, 2}, {7, 5}, {64, 2}, {17, 1000}} {
			rows := (2*ChunkBytes/c.width + 4099) / tc.width
			b := alignedBytes(rows*tc.width*c.width, 0)
			c.random(rng, b)
			want, got := make([]uint64, tc.slots), make([]uint64, tc.slots)
			rowBytes := tc.width * c.width
			for r := 0; r < rows; r++ {
				want[r%tc.slots] += uint64(c.naive(b[r*rowBytes : (r+1)*rowBytes]))
			}
			if err := c.rows(got, b, tc.width); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s width=%d slots=%d: got %v, want %v", c.name, tc.width, tc.slots, got[:min(8, len(got))], want[:min(8, len(want))])
			}
		}
	})
}

// TestNarrowRowsAllocs: narrow rows allocate nothing, at any level, for
// every rule and both splits.
func TestNarrowRowsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops the split's state at random")
	}
	x := make([]float32, 3*2*4096)
	for i := range x {
		x[i] = float32(i % 3)
	}
	forEachLevel(t, func(t *testing.T) {
		for _, slots := range []int{2, 1000} {
			counts := make([]uint64, slots)
			if allocs := testing.AllocsPerRun(20, func() {
				_ = CountNonZeroRows(counts, x, 3)
				_ = CountAboveRows(counts, x, 3, 0.5)
				_ = CountAbsAboveRows(counts, x, 3, 0.5)
			}); allocs != 0 {
				t.Fatalf("slots %d: narrow rows allocate %v times per call", slots, allocs)
			}
		}
	})
}

// FuzzCountRows: the fuzzer's bytes as rows of a width and into a number of
// counts it chooses, of every element type and every rule, at every level,
// against the naive count (x != 0) and the generic count of each row (the
// thresholds), from counts that are not zero.
func FuzzCountRows(f *testing.F) {
	f.Add([]byte{}, uint8(3), uint16(2), uint8(0), int8(0))
	f.Add([]byte{0, 0x80, 0, 0x80, 0, 0, 0, 0x80, 1, 2, 3, 0, 0, 0, 0, 0}, uint8(1), uint16(5), uint8(4), int8(-1))
	f.Fuzz(func(t *testing.T, data []byte, width8 uint8, slots16 uint16, offset uint8, threshold int8) {
		width, slots := int(width8)%70+1, int(slots16)%1100+1
		th := float64(threshold) / 16
		for _, c := range typeCases {
			rowBytes := width * c.width
			b := alignedBytes(len(data)/rowBytes*rowBytes, int(offset)%64/c.width*c.width)
			copy(b, data)
			want := make([]uint64, slots)
			for r := 0; r < len(b)/rowBytes; r++ {
				want[r%slots] += uint64(c.naive(b[r*rowBytes : (r+1)*rowBytes]))
			}
			for _, l := range Levels() {
				got := make([]uint64, slots)
				if err := atLevel(l, func() error { return c.rows(got, b, width) }); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s at %s, width %d, %d counts, %d bytes: got %v, want %v", c.name, l, width, slots, len(b), got, want)
				}
			}
		}
		for _, c := range floatCases {
			rowBytes := width * c.width
			b := alignedBytes(len(data)/rowBytes*rowBytes, int(offset)%64/c.width*c.width)
			copy(b, data)
			for _, r := range floatRules {
				want := make([]uint64, slots)
				for i := 0; i < len(b)/rowBytes; i++ {
					row := b[i*rowBytes : (i+1)*rowBytes]
					want[i%slots] += uint64(atLevel(Generic, func() int { return c.count(r, row, th) }))
				}
				for _, l := range Levels() {
					got := make([]uint64, slots)
					if err := atLevel(l, func() error { return c.rows(r, got, b, width, th) }); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%s %s at %s, width %d, %d counts, %d bytes, t=%v: got %v, want %v", c.name, r.name, l, width, slots, len(b), th, got, want)
					}
				}
			}
		}
	})
}
