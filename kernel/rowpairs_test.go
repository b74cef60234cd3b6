package kernel

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The row pairs (rowpairs.go): narrow rows into two counts without the
// bitmap. TestNarrowRows checks them at every width up to 70 on a few
// thousand lanes; these check them past a chunk (phases that do not start
// at zero), at the widths whose masks take each kernel (the byte masks,
// the word masks, the generic masks over top bits), and against guard
// pages.

// rowPairsWidths: the byte masks (1, 3, 17, 100, 500), the word masks
// (255: its byte masks pass pairBytesTable), rows of 64 bytes, and rows
// of 128 to 256 bytes of 2-byte lanes at the generic level.
var rowPairsWidths = []int{1, 3, 17, 64, 100, 255, 500}

// rowPairsTypes are the lane widths the row pairs take: bytes at every
// level, and 2- and 4-byte lanes at the generic level.
var rowPairsTypes = []string{"u8", "i8", "bf16", "f32"}

func rowPairsCase(t *testing.T, name string) typeCase {
	for _, c := range typeCases {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no type case %s", name)
	return typeCase{}
}

// naiveRowPairs returns the counts of rows of width elements of b, even
// rows first, each row counted by naive.
func naiveRowPairs(c typeCase, b []byte, width int) []uint64 {
	want := make([]uint64, 2)
	row := width * c.width
	for r := 0; r < len(b)/row; r++ {
		want[r%2] += uint64(c.naive(b[r*row : (r+1)*row]))
	}
	return want
}

// TestRowPairsLong: rows into two counts over a chunk and a bit, the bit
// not a whole group of 64 lanes, at every level, from counts not zero.
func TestRowPairsLong(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, name := range rowPairsTypes {
		c := rowPairsCase(t, name)
		b := alignedBytes(ChunkBytes+4097*c.width, 0)
		c.random(rng, b)
		forEachLevel(t, func(t *testing.T) {
			for _, width := range rowPairsWidths {
				x := b[:len(b)/(width*c.width)*width*c.width]
				want := naiveRowPairs(c, x, width)
				got := []uint64{1 << 40, 2 << 40}
				want[0], want[1] = want[0]+1<<40, want[1]+2<<40
				if err := c.rows(got, x, width); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s width=%d: got %v, want %v", c.name, width, got, want)
				}
			}
		})
	}
}

// TestRowPairsGuardPages: rows into two counts of x flush against a
// PROT_NONE page after its end, and one before its start, 32 KiB and a
// few lanes short of a group, at every level.
func TestRowPairsGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mem := guardedPages(t, 40<<10)
		rng := rand.New(rand.NewPCG(63, 64))
		for _, name := range rowPairsTypes {
			c := rowPairsCase(t, name)
			c.random(rng, mem[:len(mem)/4*4])
			for _, width := range rowPairsWidths {
				for _, short := range []int{0, 1, 63} {
					rows := ((32<<10)/c.width - short) / width
					for place, b := range guardedPlacements(mem, rows*width*c.width) {
						got := make([]uint64, 2)
						if err := catchFault(func() { _ = c.rows(got, b, width) }); err != nil {
							t.Fatalf("%s %dx%d at the %s: read outside the slice: %v", c.name, rows, width, place, err)
						}
						if want := naiveRowPairs(c, b, width); !slices.Equal(got, want) {
							t.Fatalf("%s %dx%d at the %s: got %v, want %v", c.name, rows, width, place, got, want)
						}
					}
				}
			}
		}
	})
}

// TestRowPairsAllocs: the row pairs allocate nothing, at any level: bytes
// through the byte masks (width 3) and the word masks (255), 16- and
// 32-bit lanes at the generic level.
func TestRowPairsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops the masks at random")
	}
	b := make([]uint8, 1<<18)
	for i := range b {
		b[i] = uint8(i % 3)
	}
	h := make([]BFloat16, 1<<16)
	f := make([]float32, 1<<16)
	for i := range h {
		h[i], f[i] = BFloat16(i%3), float32(i%3)
	}
	forEachLevel(t, func(t *testing.T) {
		counts := make([]uint64, 2)
		for _, width := range []int{3, 255} {
			if allocs := testing.AllocsPerRun(20, func() {
				_ = CountNonZeroRows(counts, b[:len(b)/width*width], width)
				_ = CountNonZeroRows(counts, h[:len(h)/width*width], width)
				_ = CountNonZeroRows(counts, f[:len(f)/width*width], width)
			}); allocs != 0 {
				t.Fatalf("width %d: row pairs allocate %v times per call", width, allocs)
			}
		}
	})
}
