package l0_test

import (
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/sparsekit/l0/internal/readlimit"
	"github.com/sparsekit/l0/kernel"
)

// The benchmarks of the threshold and column families. Each reports, next
// to MB/s, "read-limit": the kernel's speed as a fraction of readlimit.Read
// on the same bytes, measured right after it (1 = the read limit).

// reportReadLimit times readlimit.Read over data, as many calls as the
// kernel made (at least 1 MiB of them, at most a second's worth), right
// after the kernel, and reports the kernel's speed relative to it: both
// are averages over runs of the same length, so that neither is a lucky
// best.
func reportReadLimit(b *testing.B, data []byte, elapsed time.Duration) {
	b.StopTimer()
	perOp := float64(elapsed) / float64(b.N)
	calls := max(b.N, (1<<20)/max(len(data), 1))
	if perOp > 0 {
		calls = min(calls, max(1, int(float64(time.Second)/perOp)))
	}
	start := time.Now()
	for j := 0; j < calls; j++ {
		sink += int(readlimit.Read(data))
	}
	read := float64(time.Since(start)) / float64(calls)
	b.ReportMetric(read/perOp, "read-limit")
}

type floatBench struct {
	name    string
	width   int
	above   func(b []byte, t float64) int
	abs     func(b []byte, t float64) int
	addCols func(counts []uint64, b []byte) error
	addAbv  func(counts []uint64, b []byte, t float64) error
}

func newFloatBench[T kernel.Float](name string) floatBench {
	w := int(unsafe.Sizeof(T(0)))
	elems := func(b []byte) []T { return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/w) }
	return floatBench{name, w,
		func(b []byte, t float64) int { return kernel.CountAbove(elems(b), t) },
		func(b []byte, t float64) int { return kernel.CountAbsAbove(elems(b), t) },
		func(c []uint64, b []byte) error { return kernel.AddNonZeroColumns(c, elems(b)) },
		func(c []uint64, b []byte, t float64) error { return kernel.AddAboveColumns(c, elems(b), t) },
	}
}

var floatBenches = []floatBench{
	newFloatBench[float32]("f32"), newFloatBench[float64]("f64"),
	newFloatBench[kernel.Float16]("f16"), newFloatBench[kernel.BFloat16]("bf16"),
}

// BenchmarkCountAbove: every float type, level and size, threshold 0 on the
// half-zero random data (about a quarter of the elements are above).
func BenchmarkCountAbove(b *testing.B) {
	for _, t := range floatBenches {
		sweepLevelsSizes(b, t.name, t.width, func(b *testing.B, data []byte) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				sink += t.above(data, 0)
			}
			reportReadLimit(b, data, time.Since(start))
		})
	}
}

// BenchmarkCountAbsAbove: CountAbsAbove at every float type, level and
// size, threshold 0.5 on the half-zero random data.
func BenchmarkCountAbsAbove(b *testing.B) {
	for _, t := range floatBenches {
		sweepLevelsSizes(b, t.name, t.width, func(b *testing.B, data []byte) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				sink += t.abs(data, 0.5)
			}
			reportReadLimit(b, data, time.Since(start))
		})
	}
}

// matrixShapes are [rows, cols] matrices: an SAE batch of 4096 vectors of
// 16384 features (256 MiB of float32, DRAM), one of 64 vectors (4 MiB,
// L3), a narrow one and a small one in L2.
var matrixShapes = [][2]int{{4096, 16384}, {64, 16384}, {16384, 16}, {256, 1024}}

// BenchmarkAddNonZeroColumns: per-column counts at each level, on the
// half-zero random data; MB/s is matrix bytes per second.
func BenchmarkAddNonZeroColumns(b *testing.B) {
	benchColumns(b, func(t floatBench, counts []uint64, data []byte) error { return t.addCols(counts, data) })
}

// BenchmarkAddAboveColumns: the same with threshold 0.
func BenchmarkAddAboveColumns(b *testing.B) {
	benchColumns(b, func(t floatBench, counts []uint64, data []byte) error { return t.addAbv(counts, data, 0) })
}

func benchColumns(b *testing.B, add func(t floatBench, counts []uint64, data []byte) error) {
	for _, t := range []floatBench{floatBenches[0], floatBenches[3]} {
		b.Run("type="+t.name, func(b *testing.B) {
			for _, level := range kernel.Levels() {
				b.Run("impl="+level.String(), func(b *testing.B) {
					for _, shape := range matrixShapes {
						rows, cols := shape[0], shape[1]
						b.Run(fmt.Sprintf("shape=%dx%d", rows, cols), func(b *testing.B) {
							n := rows * cols * t.width
							data := sharedData(n, t.width)
							counts := make([]uint64, cols)
							restore := kernel.SetLevel(level)
							defer restore()
							b.SetBytes(int64(n))
							b.ReportAllocs()
							b.ResetTimer()
							start := time.Now()
							for i := 0; i < b.N; i++ {
								if err := add(t, counts, data); err != nil {
									b.Fatal(err)
								}
							}
							reportReadLimit(b, data, time.Since(start))
						})
					}
				})
			}
		})
	}
}
