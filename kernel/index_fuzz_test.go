package kernel

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzAddIndexCounts is the differential fuzz target of the index family:
// the fuzzer's bytes are entries, an index of each index type then a
// float32 value, in rows of k over the components and features it chooses;
// every level must count them as the naive oracle does (every entry,
// non-zero values, x > t and |x| > t with its threshold), or reject the
// same first entry with ErrIndex and counts unchanged. An index lane keeps
// its bits when its top bit is set (negative, or far out of range), and
// is otherwise taken modulo features+1, so that the index equal to
// features, the first out of range, comes up too.
func FuzzAddIndexCounts(f *testing.F) {
	f.Add([]byte{}, uint16(3), uint8(1), uint8(0), 0.0, uint8(0))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0x80, 0x3f, 2, 0, 0, 0, 0, 0, 0, 0x80}, uint16(2), uint8(1), uint8(1), 0.5, uint8(4))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0x80, 0x3f}, uint16(10), uint8(0), uint8(0), -1.0, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, features16 uint16, k8, components8 uint8, threshold float64, offset uint8) {
		features := int(features16)%300 + 1
		components := int(components8)%3 + 1
		k := int(k8)%9 + 1
		for _, x := range indexTypes {
			n := len(data) / (x.width + 4) / k * k
			ib := alignedBytes(n*x.width, int(offset)%64/x.width*x.width)
			vb := alignedBytes(n*4, int(offset)%16*4)
			for i := 0; i < n; i++ {
				entry := data[i*(x.width+4):]
				copy(ib[i*x.width:], entry[:x.width])
				copy(vb[i*4:], entry[x.width:x.width+4])
				if entry[x.width-1]&0x80 == 0 {
					x.put(ib, i, x.get(ib, i)%int64(features+1))
				}
			}
			for _, r := range indexRules(x, vb, threshold) {
				start := make([]uint64, features*components)
				for i := range start {
					start[i] = uint64(i) * 3
				}
				want := slices.Clone(start)
				bad := naiveIndexCounts(want, features, x, ib, k, r.counted)
				for _, l := range Levels() {
					got := slices.Clone(start)
					err := atLevel(l, func() error { return r.add(got, features, ib, k) })
					what := fmt.Sprintf("%s at %s, %s index, %d entries, rows of %d, %d x %d counts, threshold %v",
						r.name, l, x.name, n, k, components, features, threshold)
					if bad >= 0 {
						if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), fmt.Sprintf("index[%d] =", bad)) || !slices.Equal(got, start) {
							t.Fatalf("%s: index %d at %d: error %v, counts changed: %v", what, x.get(ib, bad), bad, err, !slices.Equal(got, start))
						}
						continue
					}
					if err != nil || !slices.Equal(got, want) {
						t.Fatalf("%s: error %v, counts differ at %d", what, err, firstDiff(got, want))
					}
				}
			}
		}
	})
}
