package l0_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/sparsekit/l0/internal/readlimit"
	"github.com/sparsekit/l0/kernel"
)

// benchSizes are the input sizes in bytes, from L1 to DRAM.
var benchSizes = []int{16, 64, 16 << 10, 256 << 10, 4 << 20, 256 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}

// benchData returns n random bytes laid out as elements of width bytes,
// each zero with probability 1/2 and random bits otherwise: a branchy loop
// mispredicts half the time on it.
func benchData(n, width int) []byte {
	backing := make([]uint64, (n+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(backing))), n)
	rng := rand.New(rand.NewPCG(uint64(n), uint64(width)))
	for i := 0; i+width <= n; i += width {
		if rng.Uint64()&1 == 0 {
			continue
		}
		v := rng.Uint64() | 1 // non-zero in every element type
		for k := 0; k < width; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

var (
	dataMu    sync.Mutex
	dataWidth int
	dataCache []byte
)

// sharedData returns a prefix of one cached random buffer per element
// width, so that the 256 MiB inputs are made once, not once per level.
func sharedData(n, width int) []byte {
	dataMu.Lock()
	defer dataMu.Unlock()
	if dataWidth != width || len(dataCache) < n {
		dataCache = nil
		runtime.GC()
		dataCache = benchData(slices.Max(benchSizes), width)
		dataWidth = width
	}
	return dataCache[:n]
}

type benchType struct {
	name  string
	width int
	count func(b []byte) int
}

func benchCase[T kernel.Element](name string) benchType {
	var zero T
	w := int(unsafe.Sizeof(zero))
	return benchType{name, w, func(b []byte) int {
		return kernel.CountNonZero(unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/w))
	}}
}

var benchTypes = []benchType{
	benchCase[float32]("f32"), benchCase[float64]("f64"),
	benchCase[kernel.Float16]("f16"), benchCase[kernel.BFloat16]("bf16"),
	benchCase[int8]("i8"), benchCase[int16]("i16"), benchCase[int32]("i32"), benchCase[int64]("i64"),
	benchCase[uint8]("u8"), benchCase[uint16]("u16"), benchCase[uint32]("u32"), benchCase[uint64]("u64"),
}

var sink int

// elems reinterprets the bytes b as elements of T.
func elems[T kernel.Element](b []byte) []T {
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

// BenchmarkCountNonZero: every type, every level the CPU has, every size.
// n is the input size in bytes; MB/s is input bytes per second;
// read-limit the kernel's speed as a fraction of readlimit.Read's on the
// same bytes, measured right after it (bench_columns_test.go).
func BenchmarkCountNonZero(b *testing.B) {
	for _, t := range benchTypes {
		sweepLevelsSizes(b, t.name, t.width, func(b *testing.B, data []byte) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				sink += t.count(data)
			}
			reportReadLimit(b, data, time.Since(start))
		})
	}
}

// sweepLevelsSizes runs body as the sub-benchmarks type=name/impl=LEVEL/n=SIZE,
// for every level the CPU has (pinned) and every size of benchSizes, on
// shared random data of elements of width bytes, with SetBytes, ReportAllocs
// and the timer reset.
func sweepLevelsSizes(b *testing.B, name string, width int, body func(b *testing.B, data []byte)) {
	b.Run("type="+name, func(b *testing.B) {
		for _, level := range kernel.Levels() {
			b.Run("impl="+level.String(), func(b *testing.B) {
				for _, n := range benchSizes {
					b.Run("n="+sizeName(n), func(b *testing.B) {
						data := sharedData(n, width)
						restore := kernel.SetLevel(level)
						defer restore()
						b.SetBytes(int64(n))
						b.ReportAllocs()
						b.ResetTimer()
						body(b, data)
					})
				}
			})
		}
	})
}

// BenchmarkReadLimit is the roofline: the same sizes, read with one load and
// one OR per vector. Divide a kernel's MB/s by this one's at the same n.
func BenchmarkReadLimit(b *testing.B) {
	b.Run("impl="+readlimit.Impl(), func(b *testing.B) {
		for _, n := range benchSizes {
			b.Run("n="+sizeName(n), func(b *testing.B) {
				data := sharedData(n, 4)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					sink += int(readlimit.Read(data))
				}
			})
		}
	})
}

// naiveCount is the loop a newcomer writes: one branch per element.
func naiveCount(x []float32) int {
	n := 0
	for _, v := range x {
		if v != 0 {
			n++
		}
	}
	return n
}

// BenchmarkCountNonZeroOffset4 is BenchmarkCountNonZero of float32 on a
// slice that starts 4 bytes past a cache line, as a row of a matrix or a
// sub-slice may: without the kernels' aligned head, every other 64-byte
// load of the main loop would split a line. Compare it with the read limit
// of the same n (measured aligned) by benchratio.
func BenchmarkCountNonZeroOffset4(b *testing.B) {
	b.Run("type=f32", func(b *testing.B) {
		for _, level := range kernel.Levels() {
			b.Run("impl="+level.String(), func(b *testing.B) {
				for _, n := range []int{16 << 10, 256 << 10} {
					b.Run("n="+sizeName(n), func(b *testing.B) {
						data := sharedData(n+64, 4)[4 : 4+n]
						x := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(data))), n/4)
						restore := kernel.SetLevel(level)
						defer restore()
						b.SetBytes(int64(n))
						b.ReportAllocs()
						b.ResetTimer()
						start := time.Now()
						for i := 0; i < b.N; i++ {
							sink += kernel.CountNonZero(x)
						}
						reportReadLimit(b, sharedData(n, 4), time.Since(start))
					})
				}
			})
		}
	})
}

// eachLevel runs body as the sub-benchmark impl=LEVEL of every level the
// CPU offers, with that level set.
func eachLevel(b *testing.B, body func(b *testing.B)) {
	for _, level := range kernel.Levels() {
		b.Run("impl="+level.String(), func(b *testing.B) {
			defer kernel.SetLevel(level)()
			body(b)
		})
	}
}

// BenchmarkCall16: CountNonZero of 16 float32 (64 bytes), a call's fixed
// cost, at every level, against the naive loop on the same 16.
func BenchmarkCall16(b *testing.B) {
	data := sharedData(64, 4)
	x := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(data))), 16)
	b.Run("impl=naive", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sink += naiveCount(x)
		}
	})
	eachLevel(b, func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sink += kernel.CountNonZero(x)
		}
	})
}

// BenchmarkGenericVsNaive: the generic path against the naive loop on the
// same 16 KiB of float32 at half density.
func BenchmarkGenericVsNaive(b *testing.B) {
	data := sharedData(16<<10, 4)
	x := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(data))), len(data)/4)
	b.Run("impl=naive", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			sink += naiveCount(x)
		}
	})
	b.Run("impl=generic", func(b *testing.B) {
		restore := kernel.SetLevel(kernel.Generic)
		defer restore()
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			sink += kernel.CountNonZero(x)
		}
	})
}

// BenchmarkStopTheWorld measures how long the garbage collector waits to
// stop the world while 1 GiB of float32 is counted back to back on another
// goroutine, by each kernel family at each level: runtime.ReadMemStats
// stops the world, so its latency is the pause a program would see.
// Reports the largest, the 99th percentile and the median, in milliseconds;
// the GoLoop family, a plain Go loop the runtime can preempt anywhere, is
// the noise floor of the machine.
func BenchmarkStopTheWorld(b *testing.B) {
	x := make([]float32, 1<<28)
	for i := range x {
		if i%3 == 0 {
			x[i] = 1
		}
	}
	counts := make([]uint64, 16384)
	families := []struct {
		name  string
		count func()
	}{
		// The noise floor: a plain Go loop over the same bytes, which the
		// runtime can preempt anywhere.
		{"GoLoop", func() { sink += naiveCount(x) }},
		{"CountNonZero", func() { sink += kernel.CountNonZero(x) }},
		{"CountAbove", func() { sink += kernel.CountAbove(x, 0.5) }},
		{"CountAbsAbove", func() { sink += kernel.CountAbsAbove(x, 0.5) }},
		{"AddNonZeroColumns", func() { _ = kernel.AddNonZeroColumns(counts, x) }},
		{"CountNonZeroRows", func() { _ = kernel.CountNonZeroRows(counts[:4], x, 512) }},
	}
	for _, f := range families {
		for _, level := range kernel.Levels() {
			b.Run("family="+f.name+"/impl="+level.String(), func(b *testing.B) {
				restore := kernel.SetLevel(level)
				defer restore()
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					for {
						select {
						case <-stop:
							return
						default:
							f.count()
						}
					}
				}()
				var pauses []time.Duration
				var ms runtime.MemStats
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for j := 0; j < 50; j++ {
						start := time.Now()
						runtime.ReadMemStats(&ms)
						pauses = append(pauses, time.Since(start))
						time.Sleep(100 * time.Microsecond)
					}
				}
				b.StopTimer()
				close(stop)
				<-done
				slices.Sort(pauses)
				b.ReportMetric(float64(pauses[len(pauses)-1])/1e6, "max-ms")
				b.ReportMetric(float64(pauses[len(pauses)*99/100])/1e6, "p99-ms")
				b.ReportMetric(float64(pauses[len(pauses)/2])/1e6, "p50-ms")
			})
		}
	}
}
