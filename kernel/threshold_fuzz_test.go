package kernel

import (
	"math"
	"testing"
)

// FuzzCountAbove is the differential fuzz target of CountAbove: the
// fuzzer's bytes, at a start offset it chooses, are counted as every float
// type against the fuzzer's threshold at every level, and each count must
// equal the naive float64 comparison's. FuzzCountAbsAbove is the same for
// CountAbsAbove.
func FuzzCountAbove(f *testing.F)    { fuzzRangeCount(f, ruleAbove) }
func FuzzCountAbsAbove(f *testing.F) { fuzzRangeCount(f, ruleAbsAbove) }

func fuzzRangeCount(f *testing.F, r floatRule) {
	f.Add([]byte{}, 0.0, uint8(0))
	f.Add([]byte{0, 0, 0, 0x80, 1, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f}, math.Copysign(0, -1), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, threshold float64, offset uint8) {
		for _, c := range floatCases {
			start := int(offset) % 64 / c.width * c.width
			n := len(data) / c.width * c.width
			b := alignedBytes(n, start)
			copy(b, data)
			want := c.naive(r, b, threshold)
			for _, l := range Levels() {
				if got := atLevel(l, func() int { return c.count(r, b, threshold) }); got != want {
					t.Fatalf("%s at %s, %d elements at offset %d, threshold %v (%#x): got %d, want %d",
						c.name, l, n/c.width, start, threshold, math.Float64bits(threshold), got, want)
				}
			}
		}
	})
}
