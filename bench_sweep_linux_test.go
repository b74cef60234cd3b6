package l0_test

import (
	"fmt"
	"testing"

	"github.com/sparsekit/l0/kernel"
)

func init() { sweepPlacement = sweepPlacements }

// sweepPlacements is BenchmarkSweep's part=placement: every placement case
// at its sizes, and CountNonZeroRows of 16 KiB float32 into two counts at
// every sweep width, with x ending on a page boundary before a page never
// touched (page-end), against its touched twin in alternating blocks
// (vs-touched).
func sweepPlacements(b *testing.B) {
	cases := placementCases[:len(placementCases):len(placementCases)]
	for _, width := range sweepWidths {
		cases = append(cases, placementCase{fmt.Sprintf("CountNonZeroRows%d", width), "f32", 4, matrixOf(4, width), func(x []byte) {
			_ = kernel.CountNonZeroRows(placementCounts[:2], elems[float32](x), width)
		}, []int{16 << 10}})
	}
	for _, c := range cases {
		for _, n := range c.inputs() {
			size := c.shape(n)
			data := benchData(size, c.width)
			b.Run(fmt.Sprintf("family=%s/type=%s/n=%s", c.family, c.typ, sizeName(n)), func(b *testing.B) {
				eachLevel(b, func(b *testing.B) {
					b.Run("placement=page-end", func(b *testing.B) {
						x := placeAtPageEnd(b, data, "page-end")
						y := placeAtPageEnd(b, data, "touched")
						c.call(x) // once each, untimed: the first call's misses are not the placement's
						c.call(y)
						b.SetBytes(int64(size))
						b.ReportAllocs()
						ratio, elapsed := againstTouched(b, c.call, x, y)
						b.StopTimer()
						b.ReportMetric(float64(elapsed)/float64(b.N), "ns/op")
						b.ReportMetric(float64(size)*float64(b.N)/elapsed.Seconds()/1e6, "MB/s")
						b.ReportMetric(ratio, "vs-touched")
					})
				})
			})
		}
	}
}
