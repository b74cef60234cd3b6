package l0_test

import (
	"fmt"
	"testing"

	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// BenchmarkSweep is the one command over the input space of SPEC §7: every
// level the CPU has, each cell a ratio to its reference measured in the
// same moments (alternating blocks of calls, the median over the blocks):
//
//   - part=placement: each placement case (every family, 40 B to 16 KiB)
//     and CountNonZeroRows of 16 KiB float32 at every sweep width, with x
//     ending on a page boundary before a page never touched, against the
//     same call on the same bytes before a touched page (vs-touched; target:
//     1 within noise). Linux only (mmap).
//   - part=rows: CountNonZeroRows, CountAboveRows and CountAbsAboveRows of 4
//     MiB into two counts (every rule on float32 and bfloat16, x != 0 on
//     uint8 and float64) at every sweep width, against the flat count of
//     the same bytes by the same rule (vs-flat; target 0.5).
//   - part=l0norm: L0Norm.Update of float32 batches of the metric shapes,
//     against CountNonZero of the batch (x-countnonzero; target 0.5).
//   - part=activity: FeatureActivity.Update of the same batches, against
//     L0Norm.Update of the batch (x-l0norm; target 0.9 at the vector
//     levels, 0.5 generic).
//
// The element after part= is the row of its part's table: internal/benchratio
// prints each part as a table of that row by level, every cell the worst
// of the row's cases, then the worst cell per part and level and the cells
// below target:
//
//	go test -run '^$' -bench BenchmarkSweep -benchtime 50ms -count 5 . | go run ./internal/benchratio
//
// Each run of a cell is already a paired median, so -count 5 gives five
// paired ratios and benchratio their median (3.5-4.5 minutes on the 2-vCPU
// machine of the README; CI runs it at -benchtime 2ms, 12 s, as a table to
// read). MB/s and ns/op are the swept call's own.
func BenchmarkSweep(b *testing.B) {
	if sweepPlacement != nil {
		b.Run("part=placement", sweepPlacement)
	}
	b.Run("part=rows", sweepRows)
	for _, part := range []string{"l0norm", "activity"} {
		b.Run("part="+part, func(b *testing.B) { sweepMetric(b, part) })
	}
}

// sweepWidths are the rows widths of the sweep, in elements.
var sweepWidths = []int{1, 3, 8, 16, 17, 64, 100, 500}

// sweepShapes are the metric shapes of the sweep, [batch, components,
// features]: the seed shapes, then few rows of many features down to one
// vector of 2^20.
var sweepShapes = [][]int{
	{4096, 1, 16384}, {4096, 4, 512}, {65536, 2, 3},
	{256, 1, 131072}, {64, 1, 1 << 20}, {1, 1, 1 << 20},
}

// sweepPlacement is the placement part, where the platform can place x
// (bench_sweep_linux_test.go).
var sweepPlacement func(b *testing.B)

func sweepRows(b *testing.B) {
	data := map[int][]byte{} // 4 MiB per element width, made once
	for _, c := range rowsCases {
		if data[c.width] == nil {
			data[c.width] = benchData(narrowRowsBytes, c.width)
		}
		for _, width := range sweepWidths {
			// Whole rows, an even number of them.
			n := narrowRowsBytes / (2 * width * c.width) * 2 * width * c.width
			x := data[c.width][:n]
			b.Run(fmt.Sprintf("width=%d/rule=%s/type=%s", width, c.rule, c.typ), func(b *testing.B) {
				eachLevel(b, func(b *testing.B) {
					counts := make([]uint64, 2)
					rows, flat := func() { c.rows(counts, x, width) }, func() { c.flat(x) }
					rows() // once each, untimed, as in sweepMetric
					flat()
					b.SetBytes(int64(n))
					b.ReportAllocs()
					ratio, own := alternating(b, rows, flat)
					reportVsFlat(b, ratio, own)
				})
			})
		}
	}
}

// sweepMetric is part l0norm (L0Norm.Update against CountNonZero of the
// batch) or activity (FeatureActivity.Update against L0Norm.Update), on
// float32 batches, half of the elements non-zero, of every sweep shape.
func sweepMetric(b *testing.B, part string) {
	for _, shape := range sweepShapes {
		size := 4 * shape[0] * shape[1] * shape[2]
		b.Run(fmt.Sprintf("shape=%dx%dx%d", shape[0], shape[1], shape[2]), func(b *testing.B) {
			eachLevel(b, func(b *testing.B) {
				x := elems[float32](sharedData(size, 4))
				norm, err := metric.NewL0Norm[float32](shape[1])
				if err != nil {
					b.Fatal(err)
				}
				update := func(m interface {
					Update([]float32, ...int) error
				}) func() {
					return func() {
						if err := m.Update(x, shape...); err != nil {
							b.Fatal(err)
						}
					}
				}
				call, ref, unit := update(norm), func() { sink += kernel.CountNonZero(x) }, "x-countnonzero"
				if part == "activity" {
					a, err := metric.NewFeatureActivity[float32](shape[1], shape[2])
					if err != nil {
						b.Fatal(err)
					}
					call, ref, unit = update(a), update(norm), "x-l0norm"
				}
				// Twice each, untimed: what a metric makes once (pending
				// counters, the pools' scratch) is not a cost per call.
				for range 2 {
					call()
					ref()
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				ratio, own := alternating(b, call, ref)
				b.StopTimer()
				b.ReportMetric(ratio, unit)
				b.ReportMetric(float64(own.Nanoseconds())/float64(b.N), "ns/op")
			})
		})
	}
}
