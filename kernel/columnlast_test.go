package kernel

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// columnBytesLastOf is AddNonZeroColumnBytesLast on bytes, per element
// type (the names of typeCases).
var columnBytesLastOf = map[string]func(counts, lastb []uint8, b []byte, rowBase int) error{
	"f32": columnBytesLast[float32], "f64": columnBytesLast[float64], "f16": columnBytesLast[Float16], "bf16": columnBytesLast[BFloat16],
	"i8": columnBytesLast[int8], "i16": columnBytesLast[int16], "i32": columnBytesLast[int32], "i64": columnBytesLast[int64],
	"u8": columnBytesLast[uint8], "u16": columnBytesLast[uint16], "u32": columnBytesLast[uint32], "u64": columnBytesLast[uint64],
}

func columnBytesLast[T Element](counts, lastb []uint8, b []byte, rowBase int) error {
	return AddNonZeroColumnBytesLast(counts, lastb, elements[T](b), rowBase)
}

// rangeColumnBytesLastOf is AddAboveColumnBytesLast and
// AddAbsAboveColumnBytesLast on bytes, per rule and float type.
var rangeColumnBytesLastOf = map[string]func(counts, lastb []uint8, b []byte, t float64, rowBase int) error{
	"above f32": aboveColumnBytesLast[float32], "above f64": aboveColumnBytesLast[float64],
	"above f16": aboveColumnBytesLast[Float16], "above bf16": aboveColumnBytesLast[BFloat16],
	"abs f32": absColumnBytesLast[float32], "abs f64": absColumnBytesLast[float64],
	"abs f16": absColumnBytesLast[Float16], "abs bf16": absColumnBytesLast[BFloat16],
}

func aboveColumnBytesLast[T Float](counts, lastb []uint8, b []byte, t float64, rowBase int) error {
	return AddAboveColumnBytesLast(counts, lastb, elements[T](b), t, rowBase)
}

func absColumnBytesLast[T Float](counts, lastb []uint8, b []byte, t float64, rowBase int) error {
	return AddAbsAboveColumnBytesLast(counts, lastb, elements[T](b), t, rowBase)
}

// checkColumnBytesLast checks add, a count into byte counters and marks of
// the last rows, both from random bytes (and 8 more past the columns,
// which must not change), against the plain Go of counts(i), whether
// element i of the row-major matrix counts: each counter gains the rows in
// which its column counts, modulo 256, and each mark becomes rowBase + 1 +
// the last of them, or stays.
func checkColumnBytesLast(t *testing.T, name string, cols, rows, rowBase int, rng *rand.Rand, add func(counts, lastb []uint8) error, counts func(i int) bool) {
	t.Helper()
	start, startLast := make([]uint8, cols+8), make([]uint8, cols+8)
	for j := range start {
		start[j], startLast[j] = uint8(rng.Uint32()), uint8(rng.Uint32())
	}
	got, gotLast := slices.Clone(start), slices.Clone(startLast)
	if err := add(got[:cols], gotLast[:cols]); err != nil {
		t.Fatalf("%s %dx%d from row %d: %v", name, rows, cols, rowBase, err)
	}
	want, wantLast := slices.Clone(start), slices.Clone(startLast)
	for r := range rows {
		for j := range cols {
			if counts(r*cols + j) {
				want[j]++
				wantLast[j] = uint8(rowBase + r + 1)
			}
		}
	}
	for j := range want {
		if got[j] != want[j] || gotLast[j] != wantLast[j] {
			t.Fatalf("%s %dx%d from row %d at %s: column %d: count %d last %d from %d and %d, want %d and %d",
				name, rows, cols, rowBase, Active(), j, got[j], gotLast[j], start[j], startLast[j], want[j], wantLast[j])
		}
	}
}

// lastRowShapes are the rows and row bases of the marks' tests: alone, a
// group of the kernels' and one more, and up to the last row a byte marks.
var lastRowShapes = [][2]int{{1, 0}, {4, 0}, {5, 7}, {9, 100}, {1, 254}, {3, 252}, {255, 0}}

// sparsify zeroes most elements of b (width bytes each): a column then
// counts in few rows, or none, as a feature that rarely fires.
func sparsify(rng *rand.Rand, b []byte, width int) {
	for i := 0; i+width <= len(b); i += width {
		if rng.IntN(8) != 0 {
			clear(b[i : i+width])
		}
	}
}

// TestAddNonZeroColumnBytesLast: every level, every element type, the
// column sweep, dense and sparse, against the naive test of each element.
func TestAddNonZeroColumnBytesLast(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(81, 82))
		for _, c := range typeCases {
			add := columnBytesLastOf[c.name]
			random := alignedBytes(maxColumnBytesCase, 0)
			c.random(rng, random)
			rare := slices.Clone(random)
			sparsify(rng, rare, c.width)
			for _, cols := range columnBytesShapes(c.width) {
				for i, shape := range lastRowShapes {
					rows, rowBase := shape[0], shape[1]
					if rows*cols*c.width > maxColumnBytesCase || rows >= 9 && cols%64 > 1 {
						continue
					}
					src := [][]byte{random, rare}[(i+cols)%2] // dense and sparse, in turn
					b := alignedBytes(rows*cols*c.width, c.width*(cols%3))
					copy(b, src)
					checkColumnBytesLast(t, c.name, cols, rows, rowBase, rng,
						func(counts, lastb []uint8) error { return add(counts, lastb, b, rowBase) },
						func(i int) bool { return c.naive(b[i*c.width:(i+1)*c.width]) != 0 })
				}
			}
		}
	})
}

// TestAddRangeColumnBytesLast: the thresholded rules on the edge values of
// each float type (NaN, ±0, subnormals, ±Inf, ...), at thresholds of both
// signs, against the comparison in float64.
func TestAddRangeColumnBytesLast(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(83, 84))
		for _, r := range floatRules {
			for _, c := range floatCases {
				add := rangeColumnBytesLastOf[r.name+" "+c.name]
				random := alignedBytes(maxColumnBytesCase, 0)
				for i := 0; i < maxColumnBytesCase/c.width; i++ {
					putBits(random, c.width, i, c.edges[rng.IntN(len(c.edges))])
				}
				sparsify(rng, random[:len(random)/2], c.width)
				for _, cols := range []int{1, 31, 33, 64, 65, 64/c.width*4 + 5, 1000} {
					for i, shape := range lastRowShapes {
						rows, rowBase := shape[0], shape[1]
						if rows*cols*c.width > maxColumnBytesCase/2 {
							continue
						}
						{
							half := (i + cols) % 2 * maxColumnBytesCase / 2 // sparse and dense, in turn
							b := alignedBytes(rows*cols*c.width, 0)
							copy(b, random[half:])
							for _, th := range []float64{0, math.Copysign(0, -1), -0.5, 1e-40, math.NaN(), math.Inf(-1)} {
								value := func(i int) float64 {
									var bits uint64
									for k := range c.width {
										bits |= uint64(b[i*c.width+k]) << (8 * k)
									}
									return c.value(bits)
								}
								checkColumnBytesLast(t, r.name+" "+c.name, cols, rows, rowBase, rng,
									func(counts, lastb []uint8) error { return add(counts, lastb, b, th, rowBase) },
									func(i int) bool {
										if r.name == "abs" {
											return math.Abs(value(i)) > th
										}
										return value(i) > th
									})
							}
						}
					}
				}
			}
		}
	})
}

// TestAddColumnBytesLastLong: rows longer than ChunkBytes (counted in
// segments), against the naive test.
func TestAddColumnBytesLastLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long inputs")
	}
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(85, 86))
		c := typeCases[0] // float32
		for _, shape := range [][2]int{{2, ChunkBytes/4 + 77}, {9, 4096 + 64}} {
			rows, cols := shape[0], shape[1]
			b := alignedBytes(rows*cols*c.width, 0)
			c.random(rng, b)
			sparsify(rng, b, c.width)
			checkColumnBytesLast(t, "f32 long", cols, rows, 3, rng,
				func(counts, lastb []uint8) error { return columnBytesLastOf["f32"](counts, lastb, b, 3) },
				func(i int) bool { return c.naive(b[i*c.width:(i+1)*c.width]) != 0 })
		}
	})
}

// TestColumnBytesLastErrors: a shape that is not a matrix, marks of
// another length than the counters, and rows past the last a byte marks
// are ErrShape and change nothing.
func TestColumnBytesLastErrors(t *testing.T) {
	x := make([]float32, 6)
	for i := range x {
		x[i] = 1
	}
	for name, call := range map[string]func(counts, lastb []uint8) error{
		"not rows":     func(c, l []uint8) error { return AddNonZeroColumnBytesLast(c, l, x[:5], 0) },
		"short marks":  func(c, l []uint8) error { return AddNonZeroColumnBytesLast(c, l[:2], x, 0) },
		"past 255":     func(c, l []uint8) error { return AddAboveColumnBytesLast(c, l, x, 0, 254) },
		"negative":     func(c, l []uint8) error { return AddAbsAboveColumnBytesLast(c, l, x, 0, -1) },
		"base too far": func(c, l []uint8) error { return AddNonZeroColumnBytesLast(c, l, x[:0], 256) },
		"huge base":    func(c, l []uint8) error { return AddNonZeroColumnBytesLast(c, l, x, math.MaxInt) },
	} {
		counts, lastb := []uint8{1, 2, 3}, []uint8{4, 5, 6}
		if err := call(counts, lastb); !errors.Is(err, ErrShape) {
			t.Errorf("%s: %v, want ErrShape", name, err)
		}
		if !slices.Equal(counts, []uint8{1, 2, 3}) || !slices.Equal(lastb, []uint8{4, 5, 6}) {
			t.Errorf("%s: changed to %v %v", name, counts, lastb)
		}
	}
	counts, lastb := make([]uint8, 3), make([]uint8, 3)
	if err := AddNonZeroColumnBytesLast(counts, lastb, x, 253); err != nil || !slices.Equal(lastb, []uint8{255, 255, 255}) {
		t.Errorf("rows up to 255: %v, marks %v", err, lastb)
	}
}

// TestColumnBytesLastAllocs: no allocation.
func TestColumnBytesLastAllocs(t *testing.T) {
	counts, lastb := make([]uint8, 300), make([]uint8, 300)
	x := make([]float32, 300*5)
	if n := testing.AllocsPerRun(10, func() {
		_ = AddNonZeroColumnBytesLast(counts, lastb, x, 0)
		_ = AddAboveColumnBytesLast(counts, lastb, x, 0.5, 5)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
