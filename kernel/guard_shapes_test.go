package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// The guard-page tests of the shapes whose pieces are shorter than a
// vector: rows (each row a count of its own) and columns (tiles and
// streams), of every rule, at every row width up to three vectors and a
// bit. x lies flush against a PROT_NONE page after its end, and separately
// against one before its start. The AVX-512 kernels read such pieces as
// the vector that ends at the piece's end, or at x's end, when the 64 bytes
// from its start would pass x's end: a lane of those loads misplaced, or
// unmasked before x's start, faults here or miscounts. (A masked-off lane
// in the guard page does not fault, so these tests prove exactness and
// bounds; BenchmarkPlacement at the root shows the cost of a masked-off
// lane in a page that is not present.)

// guardedPlacements returns size bytes of mem at its end and at its start:
// x ending at a page that faults, and x starting right after one.
func guardedPlacements(mem []byte, size int) map[string][]byte {
	return map[string][]byte{"page-end": mem[len(mem)-size:], "page-start": mem[:size:size]}
}

// guardRowCounts are the row counts the column and row sweeps try: one
// row, a few, and rows enough that narrow rows pass a vector.
var guardRowCounts = []int{1, 2, 3, 7, 70}

// TestRowsGuardPages: CountNonZeroRows of every type and the threshold
// rows of every float type and rule, every width up to three vectors and a
// bit, against the naive count of each row.
func TestRowsGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mem := guardedPages(t, 64<<10)
		rng := rand.New(rand.NewPCG(41, 42))
		typeCases[0].random(rng, mem[:len(mem)/4*4])
		for _, c := range typeCases {
			for width := 1; width <= 3*64/c.width+5; width++ {
				for _, rows := range guardRowCounts {
					for place, b := range guardedPlacements(mem, rows*width*c.width) {
						got := make([]uint64, 2)
						if err := catchFault(func() { _ = c.rows(got, b, width) }); err != nil {
							t.Fatalf("%s %dx%d at the %s: read outside the slice: %v", c.name, rows, width, place, err)
						}
						want := make([]uint64, 2)
						for r := 0; r < rows; r++ {
							want[r%2] += uint64(c.naive(b[r*width*c.width : (r+1)*width*c.width]))
						}
						if !slices.Equal(got, want) {
							t.Fatalf("%s %dx%d at the %s: got %v, want %v", c.name, rows, width, place, got, want)
						}
					}
				}
			}
		}
		floatCases[0].random(rng, mem[:len(mem)/4*4])
		for _, c := range floatCases {
			for _, r := range floatRules {
				for width := 1; width <= 3*64/c.width+5; width++ {
					for _, rows := range guardRowCounts {
						for place, b := range guardedPlacements(mem, rows*width*c.width) {
							for _, th := range []float64{-0.25, 0.25} {
								got := make([]uint64, 2)
								if err := catchFault(func() { _ = c.rows(r, got, b, width, th) }); err != nil {
									t.Fatalf("%s %s %dx%d at the %s: read outside the slice: %v", c.name, r.name, rows, width, place, err)
								}
								want := make([]uint64, 2)
								for i := 0; i < rows; i++ {
									want[i%2] += uint64(c.naive(r, b[i*width*c.width:(i+1)*width*c.width], th))
								}
								if !slices.Equal(got, want) {
									t.Fatalf("%s %s %dx%d t=%v at the %s: got %v, want %v", c.name, r.name, rows, width, th, place, got, want)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestColumnsGuardPagesEveryWidth: AddNonZeroColumns of every type and the
// threshold columns of every float type and rule, every column count up to
// three vectors and a bit, in tiles and (at the levels that have them) in
// streams, with counts flush against guard pages too.
func TestColumnsGuardPagesEveryWidth(t *testing.T) {
	defer func(b, r int) { streamRowBytes, streamRows = b, r }(streamRowBytes, streamRows)
	for _, mode := range []struct {
		name           string
		rowBytes, rows int
	}{{"tiles", math.MaxInt, math.MaxInt}, {"streams", 1, 1}} {
		streamRowBytes, streamRows = mode.rowBytes, mode.rows
		t.Run(mode.name, func(t *testing.T) {
			forEachLevel(t, func(t *testing.T) { columnsGuardSweep(t) })
		})
	}
}

func columnsGuardSweep(t *testing.T) {
	mem := guardedPages(t, 64<<10)
	countsMem := guardedPages(t, 8<<10)
	rng := rand.New(rand.NewPCG(43, 44))
	// check runs add on b, counts at the end of countsMem for x at the end
	// of a page and at its start for x at the start of one, against want.
	check := func(name, place string, cols, rows int, b []byte, add func(counts []uint64) error, want func() []uint64) {
		t.Helper()
		counts := uint64s(countsMem[len(countsMem)-8*cols:])
		if place == "page-start" {
			counts = uint64s(countsMem[:8*cols])
		}
		clear(counts)
		if err := catchFault(func() { _ = add(counts) }); err != nil {
			t.Fatalf("%s %dx%d at the %s: access outside the slices: %v", name, rows, cols, place, err)
		}
		if w := want(); !slices.Equal(counts, w) {
			t.Fatalf("%s %dx%d at the %s: got %v, want %v", name, rows, cols, place, counts, w)
		}
	}
	typeCases[0].random(rng, mem[:len(mem)/4*4])
	for _, c := range columnCases {
		for cols := 1; cols <= 3*64/c.width+5; cols++ {
			for _, rows := range guardRowCounts {
				for place, b := range guardedPlacements(mem, rows*cols*c.width) {
					check(c.name, place, cols, rows, b, func(counts []uint64) error { return c.add(counts, b) },
						func() []uint64 { return naiveColumns(c.width, cols, b, c.naive) })
				}
			}
		}
	}
	floatCases[0].random(rng, mem[:len(mem)/4*4])
	for _, f := range floatCases {
		for _, r := range floatRules {
			for cols := 1; cols <= 3*64/f.width+5; cols++ {
				for _, rows := range guardRowCounts {
					for place, b := range guardedPlacements(mem, rows*cols*f.width) {
						for _, th := range []float64{-0.25, 0.25} {
							name := fmt.Sprintf("%s %s t=%v", f.name, r.name, th)
							check(name, place, cols, rows, b, func(counts []uint64) error { return f.add(r, counts, b, th) },
								func() []uint64 {
									return naiveColumns(f.width, cols, b, func(col []byte) int { return f.naive(r, col, th) })
								})
						}
					}
				}
			}
		}
	}
}

// TestStreamKernelsGuardPages calls each level's nonzero stream kernels
// directly, x flush against guard pages and rows apart by more than their
// width too, against the generic stream: the counters of the columns, and
// the padding after them that the kernel's contract keeps unchanged.
func TestStreamKernelsGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mem := guardedPages(t, 64<<10)
		typeCases[0].random(rand.New(rand.NewPCG(45, 46)), mem[:len(mem)/4*4])
		s := &active.Load().nonZero
		streamGuardSweep(t, "bits8", mem, s.bits8.stream, 0xff)
		streamGuardSweep(t, "bits16", mem, s.bits16.stream, 0xffff)
		streamGuardSweep(t, "magnitude16", mem, s.magnitude16.stream, 0x7fff)
		streamGuardSweep(t, "bits32", mem, s.bits32.stream, 0xffffffff)
		streamGuardSweep(t, "magnitude32", mem, s.magnitude32.stream, 0x7fffffff)
		streamGuardSweep(t, "bits64", mem, s.bits64.stream, ^uint64(0))
		streamGuardSweep(t, "magnitude64", mem, s.magnitude64.stream, ^uint64(0)>>1)
	})
}

func streamGuardSweep[W word](t *testing.T, name string, mem []byte, stream streamKernel[W], mask W) {
	t.Helper()
	if stream == nil {
		return
	}
	width := int(unsafe.Sizeof(W(0)))
	for cols := 1; cols <= 3*64/width+5; cols++ {
		for _, gap := range []int{0, 3} {
			stride := cols + gap
			for _, rows := range guardRowCounts {
				n := (rows-1)*stride + cols
				for place, b := range guardedPlacements(mem, n*width) {
					x := elementsOf[W](b)
					padded := (cols + 63) &^ 63
					got, want := make([]uint8, padded), make([]uint8, padded)
					for j := range got {
						got[j], want[j] = uint8(j%7+1), uint8(j%7+1)
					}
					if err := catchFault(func() { stream(got, x, cols, stride, rows) }); err != nil {
						t.Fatalf("%s %dx%d stride %d at the %s: read outside the slice: %v", name, rows, cols, stride, place, err)
					}
					nonZeroStreamGeneric(mask)(want, x, cols, stride, rows)
					if !slices.Equal(got, want) {
						t.Fatalf("%s %dx%d stride %d at the %s: got %v, want %v", name, rows, cols, stride, place, got, want)
					}
				}
			}
		}
	}
}
