package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// narrowColumnRows returns the row counts the narrow column tests try for
// cols columns: those around the fewest lanes of a periodic split (below
// it the tiles count), a few more, and rows past a block of the bitmap
// (the split's phase carried from block to block), if long.
func narrowColumnRows(cols int, long bool) []int {
	return narrowColumnRowsOf(cols, 0, long)
}

// narrowColumnRowsOf is narrowColumnRows with, for lanes of size bytes
// (if not 0), the rows around the fewest that fold at the active level,
// and those of twice as many wide rows and some (the generic level's
// wide matrix then streams), each with rows past the last wide row.
func narrowColumnRowsOf(cols, size int, long bool) []int {
	rows := narrowSplitRows(cols, long)
	if size == 0 || cols < 2 {
		return rows
	}
	target, vector := foldBytes(Active(), size)
	k0 := vector / gcdPow2(cols*size, vector)
	k := k0 * ((target + k0*cols*size - 1) / (k0 * cols * size))
	if fold := minFoldRows * k; foldRows(Active(), cols, size, fold*cols) == k {
		rows = append(rows, fold+3)
		if !testing.Short() {
			rows = append(rows, 2*fold+k-1)
		}
	}
	return rows
}

func narrowSplitRows(cols int, long bool) []int {
	first := 1 // the fewest rows of a periodic split: columnSplitPeriodic
	for cols > 1 && !columnSplitPeriodic(cols, first*cols) && first < 1<<12 {
		first++
	}
	rows := []int{max(first-1, 1), first, first + 7}
	if long && !testing.Short() {
		rows = append(rows, rowBlockWords*64/cols+5)
	}
	return rows
}

// TestNarrowColumns: every element type, column counts of the narrow
// columns (of every split and fold shape: powers of two, odd, even) and
// one past them, rows around the periodic split's threshold
// and past a block, random start offsets, into 64-bit counts and into
// byte counters, at every level, against the generic tiles (which
// TestAddNonZeroColumnsNaiveOracle holds to the naive count).
func TestNarrowColumns(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(91, 92))
		for _, c := range typeCases {
			random := alignedBytes((rowBlockWords*64+5*17)*c.width, 0)
			c.random(rng, random)
			for _, cols := range []int{1, 2, 3, 5, 6, 7, 8, 13, 16, 17} {
				for _, rows := range narrowColumnRowsOf(cols, c.width, cols == 3 || cols == 13) {
					offset := rng.IntN(64/c.width) * c.width
					b := alignedBytes(rows*cols*c.width, offset)
					copy(b, random)
					checkColumnsAgainstGeneric(t, c.name, cols, rows, b, func(counts []uint64) error { return c.add(counts, b) })
					checkColumnBytes(t, c.name+" bytes", cols, rows, rng,
						func(counts []uint8) error { return columnBytesOf[c.name](counts, b) },
						func(counts []uint64) error { return genericTiles(func() error { return c.add(counts, b) }) })
				}
			}
		}
	})
}

// TestNarrowColumnsThresholds: the thresholded rules on the float types'
// edge patterns (±0, subnormals, ±Inf, NaN of both signs), thresholds of
// both signs, subnormal and NaN, into 64-bit counts and byte counters.
func TestNarrowColumnsThresholds(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(93, 94))
		for _, f := range floatCases {
			random := alignedBytes((rowBlockWords*64+5*17)*f.width, 0)
			for i := 0; i < len(random)/f.width; i++ {
				putBits(random, f.width, i, f.edges[rng.IntN(len(f.edges))])
			}
			for _, r := range floatRules {
				bytes := rangeColumnBytesOf[r.name+" "+f.name]
				for _, cols := range []int{1, 2, 3, 6, 7, 13} {
					for _, rows := range narrowColumnRowsOf(cols, f.width, cols == 6) {
						offset := rng.IntN(64/f.width) * f.width
						b := alignedBytes(rows*cols*f.width, offset)
						copy(b, random)
						for _, th := range []float64{-0.5, 1e-40, 0.1, math.NaN()} {
							name := fmt.Sprintf("%s %s t=%v", f.name, r.name, th)
							checkColumnsAgainstGeneric(t, name, cols, rows, b, func(counts []uint64) error { return f.add(r, counts, b, th) })
							checkColumnBytes(t, name+" bytes", cols, rows, rng,
								func(counts []uint8) error { return bytes(counts, b, th) },
								func(counts []uint64) error { return genericTiles(func() error { return f.add(r, counts, b, th) }) })
						}
					}
				}
			}
		}
	})
}

// TestNarrowColumnsLong: a matrix of narrow columns longer than ChunkBytes
// (the split carried from chunk to chunk), of bytes and of float32.
func TestNarrowColumnsLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long inputs")
	}
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(95, 96))
		for _, c := range []typeCase{typeCases[0], narrowTypeCase(t, "i16")} {
			for _, cols := range []int{6} {
				rows := ChunkBytes/c.width/cols + 5
				b := alignedBytes(rows*cols*c.width, c.width)
				c.random(rng, b)
				checkColumnsAgainstGeneric(t, c.name, cols, rows, b, func(counts []uint64) error { return c.add(counts, b) })
			}
		}
	})
}

// narrowTypeCase returns the type case of the name.
func narrowTypeCase(t *testing.T, name string) typeCase {
	i := slices.IndexFunc(typeCases, func(c typeCase) bool { return c.name == name })
	if i < 0 {
		t.Fatalf("no type case %q", name)
	}
	return typeCases[i]
}

// TestNarrowColumnsGuardPages: the narrow columns of every element type
// and rule flush against a guard page, at its end and at its start, rows
// enough for the periodic split, against the naive count.
func TestNarrowColumnsGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mem := guardedPages(t, 64<<10)
		rng := rand.New(rand.NewPCG(97, 98))
		typeCases[0].random(rng, mem[:len(mem)/4*4])
		for _, c := range typeCases {
			for _, cols := range []int{1, 2, 3, 5, 6, 7, 16} {
				split := narrowColumnRows(cols, false)
				all := narrowColumnRowsOf(cols, c.width, false)
				for _, rows := range []int{split[2], all[len(all)-1]} { // split, and folded
					for place, b := range guardedPlacements(mem, rows*cols*c.width) {
						got := make([]uint64, cols)
						small := make([]uint8, cols)
						if err := catchFault(func() { _ = c.add(got, b); _ = columnBytesOf[c.name](small, b) }); err != nil {
							t.Fatalf("%s %dx%d at the %s: read outside the slice: %v", c.name, rows, cols, place, err)
						}
						want := naiveColumns(c.width, cols, b, c.naive)
						if !slices.Equal(got, want) {
							t.Fatalf("%s %dx%d at the %s: got %v, want %v", c.name, rows, cols, place, got, want)
						}
						for j := range want {
							if small[j] != uint8(want[j]) {
								t.Fatalf("%s %dx%d at the %s: byte counter %d: got %d, want %d", c.name, rows, cols, place, j, small[j], uint8(want[j]))
							}
						}
					}
				}
			}
		}
		for _, f := range floatCases {
			for _, r := range floatRules {
				for _, cols := range []int{1, 3, 6} {
					all := narrowColumnRowsOf(cols, f.width, false)
					rows := all[len(all)-1]
					for place, b := range guardedPlacements(mem, rows*cols*f.width) {
						got := make([]uint64, cols)
						if err := catchFault(func() { _ = f.add(r, got, b, -0.25) }); err != nil {
							t.Fatalf("%s %s %dx%d at the %s: read outside the slice: %v", f.name, r.name, rows, cols, place, err)
						}
						want := naiveColumns(f.width, cols, b, func(col []byte) int { return f.naive(r, col, -0.25) })
						if !slices.Equal(got, want) {
							t.Fatalf("%s %s %dx%d at the %s: got %v, want %v", f.name, r.name, rows, cols, place, got, want)
						}
					}
				}
			}
		}
	})
}

// TestNarrowColumnsAllocs: the narrow columns allocate nothing, into
// 64-bit counts or byte counters, at every level.
func TestNarrowColumnsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops the scratch at random")
	}
	forEachLevel(t, func(t *testing.T) {
		x := make([]float32, 3000*6)
		for i := range x {
			x[i] = float32(i % 3)
		}
		counts, small := make([]uint64, 6), make([]uint8, 6)
		for name, f := range map[string]func(){
			"non-zero":       func() { _ = AddNonZeroColumns(counts, x) },
			"above":          func() { _ = AddAboveColumns(counts, x, 0.5) },
			"abs":            func() { _ = AddAbsAboveColumns(counts, x, 0.5) },
			"non-zero bytes": func() { _ = AddNonZeroColumnBytes(small, x[:255*6]) },
			"above bytes":    func() { _ = AddAboveColumnBytes(small, x[:255*6], 0.5) },
			"abs bytes":      func() { _ = AddAbsAboveColumnBytes(small, x[:255*6], 0.5) },
			"two columns":    func() { _ = AddNonZeroColumns(counts[:2], x) },
		} {
			if narrowColumns[uint32](active.Load(), 6, 255*6, false, true) == 0 {
				t.Fatalf("%s: 255 rows of 6 float32 columns are not narrow", name)
			}
			if n := testing.AllocsPerRun(20, f); n != 0 {
				t.Errorf("%s: %v allocations per call", name, n)
			}
		}
	})
}
