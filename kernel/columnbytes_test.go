package kernel

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// columnBytesOf is AddNonZeroColumnBytes on bytes, per element type (the
// names of typeCases).
var columnBytesOf = map[string]func(counts []uint8, b []byte) error{
	"f32": columnBytes[float32], "f64": columnBytes[float64], "f16": columnBytes[Float16], "bf16": columnBytes[BFloat16],
	"i8": columnBytes[int8], "i16": columnBytes[int16], "i32": columnBytes[int32], "i64": columnBytes[int64],
	"u8": columnBytes[uint8], "u16": columnBytes[uint16], "u32": columnBytes[uint32], "u64": columnBytes[uint64],
}

func columnBytes[T Element](counts []uint8, b []byte) error {
	return AddNonZeroColumnBytes(counts, elements[T](b))
}

// rangeColumnBytesOf is AddAboveColumnBytes and AddAbsAboveColumnBytes on
// bytes, per rule and float type (the names of floatRules and floatCases).
var rangeColumnBytesOf = map[string]func(counts []uint8, b []byte, t float64) error{
	"above f32": aboveColumnBytes[float32], "above f64": aboveColumnBytes[float64],
	"above f16": aboveColumnBytes[Float16], "above bf16": aboveColumnBytes[BFloat16],
	"abs f32": absColumnBytes[float32], "abs f64": absColumnBytes[float64],
	"abs f16": absColumnBytes[Float16], "abs bf16": absColumnBytes[BFloat16],
}

func aboveColumnBytes[T Float](counts []uint8, b []byte, t float64) error {
	return AddAboveColumnBytes(counts, elements[T](b), t)
}

func absColumnBytes[T Float](counts []uint8, b []byte, t float64) error {
	return AddAbsAboveColumnBytes(counts, elements[T](b), t)
}

// columnBytesShapes are the column counts of the byte-counter tests: the
// column sweep (every count up to a vector and a few, a sample of those up
// to three vectors, which each kernel counts the same way, then its
// boundaries), and each side of the runs of 64 columns counted in place.
func columnBytesShapes(width int) []int {
	var cols []int
	for _, c := range columnShapes(width) {
		if c <= 64/width+5 || c%5 == 0 || c > 3*64/width+5 { // every tail of a vector, then a sample
			cols = append(cols, c)
		}
	}
	cols = append(cols, 63, 64, 65, 127, 128, 129, 200)
	slices.Sort(cols)
	return slices.Compact(cols)
}

// maxColumnBytesCase bounds the input of a case of the byte-counter sweep;
// TestAddColumnBytesLong takes longer ones.
const maxColumnBytesCase = 1 << 18

// checkColumnBytes checks add, a count into byte counters from random
// ones, against want64, the same count into 64-bit counters from zero: the
// byte counters must end as their start plus the count, modulo 256.
func checkColumnBytes(t *testing.T, name string, cols, rows int, rng *rand.Rand, add func([]uint8) error, want64 func([]uint64) error) {
	t.Helper()
	start := make([]uint8, cols+8)
	for j := range start {
		start[j] = uint8(rng.Uint32())
	}
	got := slices.Clone(start)
	if err := add(got[:cols]); err != nil {
		t.Fatalf("%s %dx%d: %v", name, rows, cols, err)
	}
	want := make([]uint64, cols)
	if err := want64(want); err != nil {
		t.Fatalf("%s %dx%d reference: %v", name, rows, cols, err)
	}
	for j := range start {
		w := start[j]
		if j < cols {
			w += uint8(want[j])
		}
		if got[j] != w {
			t.Fatalf("%s %dx%d at %s: counter %d: %d from %d, want %d", name, rows, cols, Active(), j, got[j], start[j], w)
		}
	}
}

// TestAddNonZeroColumnBytes: every level, every element type, the column
// sweep, against the generic tiles (which TestAddNonZeroColumnsNaiveOracle
// holds to the naive count); rows past 255 wrap, and no counter past the
// columns changes.
func TestAddNonZeroColumnBytes(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(71, 72))
		for _, c := range typeCases {
			add := columnBytesOf[c.name]
			// One buffer of the type's random elements, each case a copy
			// of its start (filling each case anew cost most of the test).
			random := alignedBytes(maxColumnBytesCase, 0)
			c.random(rng, random)
			for _, cols := range columnBytesShapes(c.width) {
				rowCounts := []int{1, 4, 5} // alone, one group of the kernels', and one more
				if cols%64 <= 1 || cols == 63 {
					rowCounts = append(rowCounts, 255, 300) // full counters, and wrapped
				}
				for _, rows := range rowCounts {
					if rows*cols*c.width > maxColumnBytesCase {
						continue
					}
					b := alignedBytes(rows*cols*c.width, c.width*(cols%3))
					copy(b, random)
					checkColumnBytes(t, c.name, cols, rows, rng,
						func(counts []uint8) error { return add(counts, b) },
						func(counts []uint64) error { return genericTiles(func() error { return c.add(counts, b) }) })
				}
			}
		}
	})
}

// TestAddRangeColumnBytes: the thresholded rules, against their column
// counts at the generic level, at thresholds of both signs.
func TestAddRangeColumnBytes(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(73, 74))
		for _, r := range floatRules {
			for _, c := range floatCases {
				add := rangeColumnBytesOf[r.name+" "+c.name]
				random := alignedBytes(maxColumnBytesCase, 0)
				for i := 0; i < maxColumnBytesCase/c.width; i++ {
					putBits(random, c.width, i, c.edges[rng.IntN(len(c.edges))])
				}
				for _, cols := range []int{1, 7, 31, 32, 33, 63, 64, 65, 64/c.width*4 + 5, 1000} {
					for _, rows := range []int{1, 3, 4, 260} {
						if rows*cols*c.width > maxColumnBytesCase {
							continue
						}
						b := alignedBytes(rows*cols*c.width, 0)
						copy(b, random)
						for _, th := range []float64{0, -0.5, 1e-40, 0.1} {
							checkColumnBytes(t, r.name+" "+c.name, cols, rows, rng,
								func(counts []uint8) error { return add(counts, b, th) },
								func(counts []uint64) error {
									return genericTiles(func() error { return c.funcs[r.name].add(counts, b, th) })
								})
						}
					}
				}
			}
		}
	})
}

// genericTiles runs f at the generic level with its streams and narrow
// columns off: the generic column tiles, the reference of both.
func genericTiles(f func() error) error {
	return atLevel(Generic, func() error {
		defer func(b int, n bool) { streamRowBytes, narrowColumnsOn = b, n }(streamRowBytes, narrowColumnsOn)
		streamRowBytes, narrowColumnsOn = math.MaxInt, false
		return f()
	})
}

// putBits writes the element of bits, width bytes, at index i of b.
func putBits(b []byte, width, i int, bits uint64) {
	for k := range width {
		b[i*width+k] = byte(bits >> (8 * k))
	}
}

// TestAddColumnBytesLong: rows longer than ChunkBytes (counted in
// segments) and bands of many rows, against the generic tiles.
func TestAddColumnBytesLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long inputs")
	}
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(75, 76))
		c := typeCases[0] // float32
		for _, shape := range [][2]int{{2, ChunkBytes/4 + 77}, {1000, 1100}} {
			rows, cols := shape[0], shape[1]
			b := alignedBytes(rows*cols*c.width, 0)
			c.random(rng, b)
			checkColumnBytes(t, "f32 long", cols, rows, rng,
				func(counts []uint8) error { return columnBytesOf["f32"](counts, b) },
				func(counts []uint64) error { return genericTiles(func() error { return c.add(counts, b) }) })
		}
	})
}

// TestColumnBytesErrors: a shape that is not a matrix, and counts of
// another length than the byte counters, are ErrShape and change nothing.
func TestColumnBytesErrors(t *testing.T) {
	counts := []uint8{1, 2, 3}
	x := make([]float32, 7)
	for i := range x {
		x[i] = 1
	}
	for name, err := range map[string]error{
		"non-zero":  AddNonZeroColumnBytes(counts, x),
		"above":     AddAboveColumnBytes(counts, x, 0),
		"abs":       AddAbsAboveColumnBytes(counts, x, 0),
		"no counts": AddNonZeroColumnBytes(nil, x),
		"widen":     WidenByteCounts(make([]uint64, 2), counts),
	} {
		if !errors.Is(err, ErrShape) {
			t.Errorf("%s: %v, want ErrShape", name, err)
		}
	}
	if !slices.Equal(counts, []uint8{1, 2, 3}) {
		t.Errorf("a rejected call changed the counts: %v", counts)
	}
	if err := AddNonZeroColumnBytes(nil, x[:0]); err != nil {
		t.Errorf("no rows: %v", err)
	}
}

// TestWidenByteCounts: every level, every length around the groups of its
// kernel, adds each byte counter to its count and clears it.
func TestWidenByteCounts(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(77, 78))
		for n := 0; n < 300; n++ {
			small := make([]uint8, n)
			counts := make([]uint64, n)
			want := make([]uint64, n)
			for i := range small {
				small[i] = uint8(rng.Uint32())
				counts[i] = rng.Uint64() >> 1
				want[i] = counts[i] + uint64(small[i])
			}
			if err := WidenByteCounts(counts, small); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(counts, want) || slices.ContainsFunc(small, func(v uint8) bool { return v != 0 }) {
				t.Fatalf("%d counters: counts %v, want %v; byte counters left %v", n, counts, want, small)
			}
		}
	})
}

// TestColumnBytesAllocs: no allocation per call, at every level.
func TestColumnBytesAllocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		x := make([]float32, 3*1000)
		counts := make([]uint8, 1000)
		wide := make([]uint64, 1000)
		if n := testing.AllocsPerRun(10, func() {
			_ = AddNonZeroColumnBytes(counts, x)
			_ = AddAboveColumnBytes(counts, x, 0.5)
			_ = AddAbsAboveColumnBytes(counts, x, 0.5)
			_ = WidenByteCounts(wide, counts)
		}); n != 0 {
			t.Errorf("%v allocations per call", n)
		}
	})
}

// TestByteSpread: the table of the generic stream spreads each bit of a
// mask to its byte.
func TestByteSpread(t *testing.T) {
	for m := range 256 {
		for j := range 8 {
			if got := byteSpread[m] >> (8 * j) & 0xff; got != uint64(m>>j&1) {
				t.Fatalf("byteSpread[%#x] byte %d is %d", m, j, got)
			}
		}
	}
}
