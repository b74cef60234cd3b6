package kernel

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// fuzzShape takes the fuzzer's bytes as a matrix of elements of width
// bytes with cols columns (cols taken modulo the elements, and at least 1),
// the whole rows only, at a start offset in a cache line.
func fuzzShape(data []byte, width int, cols16 uint16, offset uint8) (b []byte, cols int) {
	n := len(data) / width
	cols = int(cols16)%(n+1) + 1
	rows := n / cols
	b = alignedBytes(rows*cols*width, int(offset)%64/width*width)
	copy(b, data)
	return b, cols
}

// FuzzAddNonZeroColumns is the differential fuzz target of AddNonZeroColumns:
// the fuzzer's bytes, as a matrix of each element type with the columns it
// chooses, are counted per column at every level against the naive oracle;
// a shape that is not a matrix must be rejected with counts unchanged.
func FuzzAddNonZeroColumns(f *testing.F) {
	f.Add([]byte{}, uint16(0), uint8(0))
	f.Add([]byte{1, 0, 0, 0x80, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0x80}, uint16(1), uint8(8))
	f.Fuzz(func(t *testing.T, data []byte, cols16 uint16, offset uint8) {
		for _, c := range columnCases {
			b, cols := fuzzShape(data, c.width, cols16, offset)
			want := naiveColumns(c.width, cols, b, c.naive)
			for _, l := range Levels() {
				got := make([]uint64, cols)
				if err := atLevel(l, func() error { return c.add(got, b) }); err != nil {
					t.Fatalf("%s at %s, %d columns: %v", c.name, l, cols, err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s at %s, %d columns, %d elements: got %v, want %v", c.name, l, cols, len(b)/c.width, got, want)
				}
			}
			if len(b) > 0 && cols > 1 {
				counts := make([]uint64, cols)
				if err := c.add(counts, b[:len(b)-c.width]); !errors.Is(err, ErrShape) || slices.ContainsFunc(counts, func(n uint64) bool { return n != 0 }) {
					t.Fatalf("%s: ragged matrix: error %v, counts %v", c.name, err, counts)
				}
			}
		}
	})
}

// FuzzAddAboveColumns is FuzzAddNonZeroColumns for AddAboveColumns, with
// the fuzzer's threshold, against the naive float64 comparison;
// FuzzAddAbsAboveColumns the same for AddAbsAboveColumns.
func FuzzAddAboveColumns(f *testing.F)    { fuzzRangeColumns(f, ruleAbove) }
func FuzzAddAbsAboveColumns(f *testing.F) { fuzzRangeColumns(f, ruleAbsAbove) }

func fuzzRangeColumns(f *testing.F, r floatRule) {
	f.Add([]byte{}, uint16(0), 0.0, uint8(0))
	f.Add([]byte{0, 0, 0, 0x80, 1, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0xbf}, uint16(1), -1.0, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, cols16 uint16, threshold float64, offset uint8) {
		for _, c := range floatCases {
			b, cols := fuzzShape(data, c.width, cols16, offset)
			want := naiveColumns(c.width, cols, b, func(col []byte) int { return c.naive(r, col, threshold) })
			for _, l := range Levels() {
				got := make([]uint64, cols)
				if err := atLevel(l, func() error { return c.add(r, got, b, threshold) }); err != nil {
					t.Fatalf("%s at %s, %d columns: %v", c.name, l, cols, err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s at %s, %d columns, threshold %v (%#x): got %v, want %v",
						c.name, l, cols, threshold, math.Float64bits(threshold), got, want)
				}
			}
		}
	})
}
