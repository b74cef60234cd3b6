package kernel

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// columnCases are the element types of the column tests: the harness's
// type cases, which hold AddNonZeroColumns on bytes.
var columnCases = typeCases

// naiveColumns is the naive oracle of a column count: each column's
// elements gathered and counted by the harness's naive loop.
func naiveColumns(width, cols int, b []byte, naive func([]byte) int) []uint64 {
	if cols == 0 {
		return nil
	}
	rows := len(b) / width / cols
	counts := make([]uint64, cols)
	column := make([]byte, rows*width)
	for j := range counts {
		for r := 0; r < rows; r++ {
			copy(column[r*width:(r+1)*width], b[(r*cols+j)*width:])
		}
		counts[j] = uint64(naive(alignedCopy(column, width)))
	}
	return counts
}

// alignedCopy copies b to memory aligned for elements of width bytes.
func alignedCopy(b []byte, width int) []byte {
	c := alignedBytes(len(b), 0)
	copy(c, b)
	return c
}

// columnShapes returns the column counts the tests sweep for elements of
// width bytes: every count up to three ZMM vectors and a bit, and each side
// of the boundaries of a strip, of a strip and a vector, and of a tile.
func columnShapes(width int) []int {
	lanes := 64 / width
	strip := 16 * lanes
	tile := columnTileBytes / width
	var cols []int
	for c := 1; c <= 3*lanes+5; c++ {
		cols = append(cols, c)
	}
	for _, c := range []int{strip - 1, strip, strip + 1, strip + lanes + lanes/2, 2*strip + 3*lanes + lanes - 1, tile - 1, tile, tile + strip + lanes + 3} {
		if c > cols[len(cols)-1] {
			cols = append(cols, c)
		}
	}
	return slices.Compact(cols)
}

// atLevel returns f's result at level l.
func atLevel[R any](l Level, f func() R) R {
	restore := SetLevel(l)
	defer restore()
	return f()
}

// TestAddNonZeroColumnsNaiveOracle checks every level, the generic one
// included, against the naive per-column count, adding to non-zero counts.
func TestAddNonZeroColumnsNaiveOracle(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, c := range columnCases {
			for _, cols := range []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64 / c.width, 64/c.width + 1, 1100 / c.width} {
				for _, rows := range []int{0, 1, 2, 5, 17} {
					b := alignedBytes(rows*cols*c.width, 0)
					c.random(rng, b)
					counts := make([]uint64, cols)
					for j := range counts {
						counts[j] = uint64(rng.IntN(1000))
					}
					want := naiveColumns(c.width, cols, b, c.naive)
					for j := range want {
						want[j] += counts[j]
					}
					if err := c.add(counts, b); err != nil {
						t.Fatalf("%s %dx%d: %v", c.name, rows, cols, err)
					}
					if !slices.Equal(counts, want) {
						t.Fatalf("%s %dx%d: got %v, want %v", c.name, rows, cols, counts, want)
					}
				}
			}
		}
	})
}

// TestAddNonZeroColumnsShapes: every shape of columnShapes, rows up to a
// few and past the lane counters' bound and a tile's rows, start offsets,
// against the generic path.
func TestAddNonZeroColumnsShapes(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, c := range columnCases {
			for _, cols := range columnShapes(c.width) {
				rowsList := []int{0, 1, 2, 3, 4}
				lanes := 64 / c.width
				if cols == 1 || cols == lanes+1 || cols == 16*lanes+1 || cols > columnTileBytes/c.width {
					rowsList = append(rowsList, 257)
					if !testing.Short() {
						rowsList = append(rowsList, ChunkBytes/(min(cols, columnTileBytes/c.width)*c.width)+1)
					}
				}
				for _, rows := range rowsList {
					offset := (cols * c.width) % 64 / c.width * c.width
					b := alignedBytes(rows*cols*c.width, offset)
					c.random(rng, b)
					checkColumnsAgainstGeneric(t, c.name, cols, rows, b, func(counts []uint64) error { return c.add(counts, b) })
				}
			}
		}
	})
}

func checkColumnsAgainstGeneric(t *testing.T, name string, cols, rows int, b []byte, add func([]uint64) error) {
	t.Helper()
	got := make([]uint64, cols)
	for j := range got {
		got[j] = uint64(j) * 1e12
	}
	want := slices.Clone(got)
	if err := add(got); err != nil {
		t.Fatalf("%s %dx%d: %v", name, rows, cols, err)
	}
	// The generic tiles: the generic level streams wide matrices and
	// counts narrow ones as rows too, and both are what is checked.
	if err := genericTiles(func() error { return add(want) }); err != nil {
		t.Fatalf("%s %dx%d generic: %v", name, rows, cols, err)
	}
	if !slices.Equal(got, want) {
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("%s %dx%d at %s: column %d: got %d, generic %d", name, rows, cols, Active(), j, got[j]-uint64(j)*1e12, want[j]-uint64(j)*1e12)
			}
		}
	}
}

// TestAddNonZeroColumnsOffsets: every start offset in a cache line, for a
// few shapes that end in a partial vector.
func TestAddNonZeroColumnsOffsets(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(25, 26))
		for _, c := range columnCases {
			lanes := 64 / c.width
			for offset := 0; offset < 64; offset += offsetStep(c.width) {
				for _, cols := range []int{1, lanes - 1, lanes + 3, 16*lanes + 2*lanes + 1} {
					rows := 3
					b := alignedBytes(rows*cols*c.width, offset)
					c.random(rng, b)
					checkColumnsAgainstGeneric(t, c.name, cols, rows, b, func(counts []uint64) error { return c.add(counts, b) })
				}
			}
		}
	})
}

// TestAddNonZeroColumnsAllNonZero: every element non-zero, rows past the
// lane counters' bound (255 for bytes, 65535 for words) and past a tile:
// each count is exactly rows, so a lane counter that wrapped shows.
func TestAddNonZeroColumnsAllNonZero(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, c := range columnCases {
			if testing.Short() && c.width > 1 {
				continue // the byte lanes' bound, 255 rows, is the cheap one to pass
			}
			lanes := 64 / c.width
			for _, cols := range []int{1, lanes + 1, 17*lanes + 3} {
				rows := maxTileRows(c.width) + 2
				if c.width > 2 {
					rows = ChunkBytes/(min(cols, columnTileBytes/c.width)*c.width) + 3
				}
				if rows*cols*c.width > 64<<20 {
					rows = (64 << 20) / (cols * c.width)
				}
				b := alignedBytes(rows*cols*c.width, 0)
				c.fill(b, c.nonZeros[len(c.nonZeros)-1])
				counts := make([]uint64, cols)
				if err := c.add(counts, b); err != nil {
					t.Fatal(err)
				}
				for j, n := range counts {
					if n != uint64(rows) {
						t.Fatalf("%s %dx%d: column %d counted %d", c.name, rows, cols, j, n)
					}
				}
			}
		}
	})
}

// TestColumnsGuardPages puts x, and counts, flush against a PROT_NONE page
// after their end and before their start.
func TestColumnsGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(27, 28))
		mem := guardedPages(t, 64<<10)
		countsMem := guardedPages(t, 64<<10)
		typeCases[0].random(rng, mem[:len(mem)/4*4])
		for _, c := range columnCases {
			lanes := 64 / c.width
			for _, cols := range []int{1, 3, lanes - 1, lanes + 1, 16*lanes + lanes + 5} {
				for _, rows := range []int{1, 2, 5} {
					size := rows * cols * c.width
					for _, b := range [][]byte{mem[len(mem)-size:], mem[:size:size]} {
						for _, counts := range [][]uint64{uint64s(countsMem[len(countsMem)-8*cols:]), uint64s(countsMem[:8*cols])} {
							clear(counts)
							if err := catchFault(func() { _ = c.add(counts, b) }); err != nil {
								t.Fatalf("%s %dx%d: access outside the slices: %v", c.name, rows, cols, err)
							}
							if want := naiveColumns(c.width, cols, b, c.naive); !slices.Equal(counts, want) {
								t.Fatalf("%s %dx%d: got %v, want %v", c.name, rows, cols, counts, want)
							}
						}
					}
				}
			}
			for _, f := range floatCases {
				if f.width != c.width {
					continue
				}
				for _, cols := range []int{1, lanes - 1, 16*lanes + lanes + 5} {
					size := 3 * cols * c.width
					b := mem[len(mem)-size:]
					counts := uint64s(countsMem[len(countsMem)-8*cols:])
					for _, r := range floatRules {
						clear(counts)
						if err := catchFault(func() { _ = f.add(r, counts, b, -0.5) }); err != nil {
							t.Fatalf("%s %s 3x%d: access outside the slices: %v", f.name, r.name, cols, err)
						}
						if want := naiveColumns(f.width, cols, b, func(col []byte) int { return f.naive(r, col, -0.5) }); !slices.Equal(counts, want) {
							t.Fatalf("%s %s 3x%d: got %v, want %v", f.name, r.name, cols, counts, want)
						}
					}
				}
			}
		}
	})
}

// TestColumnsErrors: shapes that are not matrices are errors that wrap
// ErrShape and leave counts unchanged; empty input is fine.
func TestColumnsErrors(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, tc := range []struct{ cols, n int }{{0, 1}, {0, 7}, {2, 3}, {3, 4}, {5, 11}, {4, 1}} {
			counts := make([]uint64, tc.cols)
			for j := range counts {
				counts[j] = 7
			}
			x := make([]float32, tc.n)
			for i := range x {
				x[i] = 1
			}
			before := slices.Clone(counts)
			if err := AddNonZeroColumns(counts, x); !errors.Is(err, ErrShape) {
				t.Fatalf("AddNonZeroColumns %d cols, %d elements: error %v, want ErrShape", tc.cols, tc.n, err)
			}
			b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x))
			for _, r := range floatRules {
				for _, th := range []float64{0, math.NaN(), -1} {
					if err := floatCases[0].add(r, counts, b, th); !errors.Is(err, ErrShape) {
						t.Fatalf("%s columns, threshold %v, %d cols, %d elements: error %v, want ErrShape", r.name, th, tc.cols, tc.n, err)
					}
				}
			}
			if !slices.Equal(counts, before) {
				t.Fatalf("%d cols, %d elements: counts changed to %v", tc.cols, tc.n, counts)
			}
		}
		for _, cols := range []int{0, 3} {
			counts := make([]uint64, cols)
			if err := AddNonZeroColumns(counts, []int8{}); err != nil {
				t.Fatalf("empty x, %d cols: %v", cols, err)
			}
			for _, r := range floatRules {
				for _, c := range floatCases {
					if err := c.add(r, counts, nil, 0); err != nil {
						t.Fatalf("%s columns of %s, empty x, %d cols: %v", r.name, c.name, cols, err)
					}
				}
			}
		}
	})
}

// TestAddAboveColumnsNaiveOracle: AddAboveColumns and AddAbsAboveColumns,
// every float type, every threshold of the table, against the float64
// comparison per column, at every level.
func TestAddAboveColumnsNaiveOracle(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			rng := rand.New(rand.NewPCG(29, 30))
			for _, c := range floatCases {
				lanes := 64 / c.width
				for _, cols := range []int{1, 5, lanes - 1, lanes + 2, 17*lanes + 3} {
					rows := 7
					b := alignedBytes(rows*cols*c.width, c.width)
					c.random(rng, b)
					for _, th := range c.thresholds() {
						counts := make([]uint64, cols)
						if err := c.add(r, counts, b, th); err != nil {
							t.Fatal(err)
						}
						want := naiveColumns(c.width, cols, b, func(col []byte) int { return c.naive(r, col, th) })
						if !slices.Equal(counts, want) {
							t.Fatalf("%s %dx%d against %v: got %v, want %v", c.name, rows, cols, th, counts, want)
						}
					}
				}
			}
		})
	})
}

// TestAddAboveColumnsShapes: the shapes of the non-zero sweep, thresholds
// of each sign, against the generic path.
func TestAddAboveColumnsShapes(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			rng := rand.New(rand.NewPCG(31, 32))
			for _, c := range floatCases {
				for _, cols := range columnShapes(c.width) {
					for _, rows := range []int{1, 2, 3, 70000 / cols / 8} {
						if rows == 0 {
							continue
						}
						b := alignedBytes(rows*cols*c.width, 0)
						c.random(rng, b)
						th := []float64{0, -0.75, 1.25, math.Inf(-1)}[cols%4]
						checkColumnsAgainstGeneric(t, c.name, cols, rows, b, func(counts []uint64) error { return c.add(r, counts, b, th) })
					}
				}
			}
		})
	})
}

// TestAddAboveColumnsAllAbove: every element counting (the rule's always),
// rows past the lane counters' bound and a tile.
func TestAddAboveColumnsAllAbove(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			for _, c := range floatCases {
				lanes := 64 / c.width
				colsList := []int{3, 17*lanes + 3}
				if c.width == 2 {
					colsList = []int{3, lanes + 1}
				}
				for _, cols := range colsList {
					rows := maxTileRows(c.width) + 2
					if c.width > 2 {
						rows = ChunkBytes/(min(cols, columnTileBytes/c.width)*c.width) + 3
					}
					b := alignedBytes(rows*cols*c.width, 0)
					always := c.edgeOf(r.always)
					for i := 0; i < rows*cols; i++ {
						c.put(b, i, always)
					}
					counts := make([]uint64, cols)
					if err := c.add(r, counts, b, math.MaxFloat64); err != nil {
						t.Fatal(err)
					}
					for j, n := range counts {
						if n != uint64(rows) {
							t.Fatalf("%s %dx%d: column %d counted %d", c.name, rows, cols, j, n)
						}
					}
				}
			}
		})
	})
}

// TestColumnsAllocs: the column counts allocate nothing, at any level.
func TestColumnsAllocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		x := make([]float32, 64*100)
		counts := make([]uint64, 100)
		if allocs := testing.AllocsPerRun(10, func() { _ = AddNonZeroColumns(counts, x) }); allocs != 0 {
			t.Fatalf("AddNonZeroColumns: %v allocations", allocs)
		}
		b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x))
		for _, r := range floatRules {
			if allocs := testing.AllocsPerRun(10, func() { _ = floatCases[0].add(r, counts, b, 0.5) }); allocs != 0 {
				t.Fatalf("%s columns: %v allocations", r.name, allocs)
			}
		}
	})
}

// uint64s reinterprets the bytes b, 8-byte aligned, as uint64s.
func uint64s(b []byte) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
}

// TestColumnStreams counts every shape of the column sweep, for every rule,
// through the streams of the levels that have them (streamRowBytes forced
// to one byte), against the generic tiles; and rows longer than ChunkBytes,
// which stream in segments, and more rows than a byte counter holds.
func TestColumnStreams(t *testing.T) {
	defer func(b, r int) { streamRowBytes, streamRows = b, r }(streamRowBytes, streamRows)
	streamRowBytes, streamRows = 1, 1
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, c := range columnCases {
			for _, cols := range columnShapes(c.width) {
				for _, rows := range []int{1, 2, 3, 300} {
					if rows*cols*c.width > 1<<20 {
						continue
					}
					b := alignedBytes(rows*cols*c.width, c.width*(cols%3))
					c.random(rng, b)
					checkColumnsAgainstGeneric(t, c.name, cols, rows, b, func(counts []uint64) error { return c.add(counts, b) })
				}
			}
		}
		for _, r := range floatRules {
			for _, c := range floatCases {
				for _, cols := range []int{1, 31, 32, 33, 64/c.width*4 + 5, 1000} {
					rows := 260
					b := alignedBytes(rows*cols*c.width, 0)
					c.random(rng, b)
					for _, th := range []float64{0, -0.5, 1e-40} {
						checkColumnsAgainstGeneric(t, c.name+" "+r.name, cols, rows, b, func(counts []uint64) error { return c.add(r, counts, b, th) })
					}
				}
			}
		}
		if testing.Short() {
			return
		}
		for _, c := range columnCases[:1] { // float32
			cols := ChunkBytes/c.width + 77
			b := alignedBytes(3*cols*c.width, 0)
			c.random(rng, b)
			checkColumnsAgainstGeneric(t, c.name+" long rows", cols, 3, b, func(counts []uint64) error { return c.add(counts, b) })
		}
	})
}
