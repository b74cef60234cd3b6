package l0_test

import (
	"fmt"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// The narrow rows sweep: CountNonZeroRows, CountAboveRows and
// CountAbsAboveRows of 4 MiB into two counts at every level, at rows widths
// from one element to wide ones, and L0Norm.Update on [65536, 2, 3]
// (whose rows are three features), each against the count of the same
// bytes by the same rule in one call (CountNonZero, CountAbove,
// CountAbsAbove; CountNonZero for the L0 norm), timed in the same
// moments. MB/s is the rows call's own; vs-flat is its speed over the flat
// count's (1: rows cost nothing over the count of their bytes), which
// internal/benchratio prints per case and as the worst per level:
//
//	go test -run '^$' -bench BenchmarkNarrowRows -count 5 . | go run ./internal/benchratio

// narrowRowsWidths are the rows widths of the sweep, in elements.
var narrowRowsWidths = []int{1, 3, 8, 16, 17, 64, 100, 255, 256, 500}

// narrowRowsBytes is the input of each case: more than L2, within L3.
const narrowRowsBytes = 4 << 20

// rowsCase is one rule on one element type: its rows call and its flat
// count of the same bytes.
type rowsCase struct {
	rule, typ string
	width     int
	rows      func(counts []uint64, x []byte, width int)
	flat      func(x []byte)
}

func nonZeroRowsCase[T kernel.Element](typ string) rowsCase {
	var zero T
	return rowsCase{"nonzero", typ, int(unsafe.Sizeof(zero)),
		func(counts []uint64, x []byte, width int) { _ = kernel.CountNonZeroRows(counts, elems[T](x), width) },
		func(x []byte) { sink += kernel.CountNonZero(elems[T](x)) }}
}

func aboveRowsCase[T kernel.Float](typ string, t float64) rowsCase {
	var zero T
	return rowsCase{"above", typ, int(unsafe.Sizeof(zero)),
		func(counts []uint64, x []byte, width int) { _ = kernel.CountAboveRows(counts, elems[T](x), width, t) },
		func(x []byte) { sink += kernel.CountAbove(elems[T](x), t) }}
}

func absAboveRowsCase[T kernel.Float](typ string, t float64) rowsCase {
	var zero T
	return rowsCase{"abs", typ, int(unsafe.Sizeof(zero)),
		func(counts []uint64, x []byte, width int) {
			_ = kernel.CountAbsAboveRows(counts, elems[T](x), width, t)
		},
		func(x []byte) { sink += kernel.CountAbsAbove(elems[T](x), t) }}
}

// rowsCases: every rule on float32 and bfloat16, x != 0 on the other
// lane widths.
var rowsCases = []rowsCase{
	nonZeroRowsCase[float32]("f32"), aboveRowsCase[float32]("f32", 0), absAboveRowsCase[float32]("f32", 0.5),
	nonZeroRowsCase[kernel.BFloat16]("bf16"), aboveRowsCase[kernel.BFloat16]("bf16", 0), absAboveRowsCase[kernel.BFloat16]("bf16", 0.5),
	nonZeroRowsCase[uint8]("u8"), nonZeroRowsCase[float64]("f64"),
}

// alternating makes b.N calls of call and as many of ref, in alternating
// blocks, and returns the median over pairs of blocks of the speed of call
// over that of ref, and the time of all the calls of call. The two are
// timed in the same moments: a burst of another process's work that lands
// in a pair moves the median little.
func alternating(b *testing.B, call, ref func()) (float64, time.Duration) {
	const blocks = 32
	per := max(1, b.N/blocks)
	var onCall time.Duration
	var ratios []float64
	b.ResetTimer()
	for done, turn := 0, 0; done < b.N; turn++ {
		k := min(per, b.N-done)
		first, second := call, ref
		if turn%2 == 1 {
			first, second = ref, call
		}
		t0 := time.Now()
		for i := 0; i < k; i++ {
			first()
		}
		t1 := time.Now()
		for i := 0; i < k; i++ {
			second()
		}
		t2 := time.Now()
		tc, tr := t1.Sub(t0), t2.Sub(t1)
		if turn%2 == 1 {
			tc, tr = tr, tc
		}
		onCall += tc
		ratios = append(ratios, float64(tr)/float64(max(tc, 1)))
		done += k
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2], onCall
}

// reportVsFlat reports the rows call's speed (ns/op, MB/s from its own
// time) and vs-flat.
func reportVsFlat(b *testing.B, ratio float64, own time.Duration) {
	b.StopTimer()
	b.ReportMetric(ratio, "vs-flat")
	b.ReportMetric(float64(own.Nanoseconds())/float64(b.N), "ns/op")
}

func BenchmarkNarrowRows(b *testing.B) {
	data := map[int][]byte{}
	for _, c := range rowsCases {
		if data[c.width] == nil {
			data[c.width] = benchData(narrowRowsBytes, c.width)
		}
		x := data[c.width]
		for _, width := range narrowRowsWidths {
			// Whole rows, an even number of them.
			n := len(x) / (2 * width * c.width) * 2 * width * c.width
			b.Run(fmt.Sprintf("rule=%s/type=%s/width=%d", c.rule, c.typ, width), func(b *testing.B) {
				eachLevel(b, func(b *testing.B) {
					counts := make([]uint64, 2)
					b.SetBytes(int64(n))
					b.ReportAllocs()
					ratio, own := alternating(b, func() { c.rows(counts, x[:n], width) }, func() { c.flat(x[:n]) })
					reportVsFlat(b, ratio, own)
				})
			})
		}
	}
	shape := []int{65536, 2, 3}
	x := elems[float32](benchData(4*shape[0]*shape[1]*shape[2], 4))
	b.Run("L0Norm/shape=65536x2x3", func(b *testing.B) {
		eachLevel(b, func(b *testing.B) {
			m, err := metric.NewL0Norm[float32](shape[1])
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(4 * len(x)))
			b.ReportAllocs()
			ratio, own := alternating(b, func() {
				if err := m.Update(x, shape...); err != nil {
					b.Fatal(err)
				}
			}, func() { sink += kernel.CountNonZero(x) })
			reportVsFlat(b, ratio, own)
		})
	})
}
