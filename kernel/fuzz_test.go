package kernel

import (
	"testing"
)

// The differential fuzz targets, one per element width: the fuzzer's bytes,
// at a start offset it also chooses, are counted as every element type of
// that width at every level, and each count must equal the naive oracle's.

func FuzzCountNonZero8(f *testing.F)  { fuzzCountNonZero(f, 1) }
func FuzzCountNonZero16(f *testing.F) { fuzzCountNonZero(f, 2) }
func FuzzCountNonZero32(f *testing.F) { fuzzCountNonZero(f, 4) }
func FuzzCountNonZero64(f *testing.F) { fuzzCountNonZero(f, 8) }

func fuzzCountNonZero(f *testing.F, width int) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{0, 0x80, 0, 0x80, 0, 0, 0, 0x80}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, offset uint8) {
		start := int(offset) % 64 / width * width
		n := len(data) / width * width
		b := alignedBytes(n, start)
		copy(b, data)
		for _, c := range typeCases {
			if c.width != width {
				continue
			}
			want := c.naive(b)
			for _, l := range Levels() {
				restore := SetLevel(l)
				got := c.count(b)
				restore()
				if got != want {
					t.Fatalf("%s at %s, %d elements at offset %d: got %d, want %d", c.name, l, n/width, start, got, want)
				}
			}
		}
	})
}
