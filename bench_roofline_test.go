package l0_test

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"unsafe"

	"github.com/sparsekit/l0/internal/readlimit"
	"github.com/sparsekit/l0/kernel"
)

// BenchmarkRoofline is the data of the roofline picture (see roofline/):
// float32 CountNonZero at every level, the read limit, and the float32
// column kernels at every level, on inputs from 4 KiB (L1) to 1 GiB (DRAM)
// in steps of 2, n being the input size in bytes and MB/s input bytes per
// second. A pass takes about a minute at -benchtime 100ms; it is run on its
// own, after a line that records the cache sizes, as roofline/README.md
// says. -short stops at 256 MiB.
//
//	kind=count/type=f32/impl=LEVEL/n=SIZE
//	kind=read/impl=read/n=SIZE
//	kind=columns/func=AddNonZeroColumns/type=f32/impl=LEVEL/shape=ROWSxCOLS/n=SIZE
//	kind=columns/func=AddAboveColumns/type=f32/impl=LEVEL/shape=ROWSxCOLS/n=SIZE
//
// benchstat -filter '/kind:(count OR read)' -col /impl -row /n pivots the counts
// and the read limit into one table.
func BenchmarkRoofline(b *testing.B) {
	sizes := rooflineSizes()
	b.Run("kind=count", func(b *testing.B) {
		b.Run("type=f32", func(b *testing.B) {
			for _, level := range kernel.Levels() {
				b.Run("impl="+level.String(), func(b *testing.B) {
					for _, n := range sizes {
						b.Run("n="+sizeName(n), func(b *testing.B) {
							x := rooflineFloats(n)
							restore := kernel.SetLevel(level)
							defer restore()
							b.SetBytes(int64(n))
							b.ReportAllocs()
							b.ResetTimer()
							for i := 0; i < b.N; i++ {
								sink += kernel.CountNonZero(x)
							}
						})
					}
				})
			}
		})
	})
	b.Run("kind=read", func(b *testing.B) {
		b.Run("impl=read", func(b *testing.B) {
			for _, n := range sizes {
				b.Run("n="+sizeName(n), func(b *testing.B) {
					data := rooflineData()[:n]
					b.SetBytes(int64(n))
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						sink += int(readlimit.Read(data))
					}
				})
			}
		})
	})
	families := []struct {
		name string
		add  func(counts []uint64, x []float32) error
	}{
		{"AddNonZeroColumns", kernel.AddNonZeroColumns[float32]},
		{"AddAboveColumns", func(counts []uint64, x []float32) error { return kernel.AddAboveColumns(counts, x, 0) }},
	}
	b.Run("kind=columns", func(b *testing.B) {
		for _, f := range families {
			b.Run("func="+f.name, func(b *testing.B) {
				b.Run("type=f32", func(b *testing.B) {
					for _, level := range kernel.Levels() {
						b.Run("impl="+level.String(), func(b *testing.B) {
							benchColumnSizes(b, sizes, level, f.add)
						})
					}
				})
			})
		}
	})
}

// benchColumnSizes runs add at level on SAE batches of 16384 features, as
// many rows as make each size, from one row (64 KiB) up.
func benchColumnSizes(b *testing.B, sizes []int, level kernel.Level, add func(counts []uint64, x []float32) error) {
	const cols = 16384
	for _, n := range sizes {
		rows := n / (cols * 4)
		if rows == 0 {
			continue
		}
		b.Run(fmt.Sprintf("shape=%dx%d", rows, cols), func(b *testing.B) {
			b.Run("n="+sizeName(n), func(b *testing.B) {
				x := rooflineFloats(n)
				counts := make([]uint64, cols)
				restore := kernel.SetLevel(level)
				defer restore()
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := add(counts, x); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// rooflineSizes are the input sizes in bytes: 4 KiB to 1 GiB by powers of
// 2, or to 256 MiB with -short or on 32-bit platforms.
func rooflineSizes() []int {
	largest := 1 << 30
	if testing.Short() || math.MaxInt == math.MaxInt32 {
		largest = 256 << 20
	}
	sizes := []int{4 << 10}
	for sizes[len(sizes)-1] < largest {
		sizes = append(sizes, 2*sizes[len(sizes)-1])
	}
	return sizes
}

// rooflineData is one buffer of random float32 at half density for the
// whole sweep, made once at its largest size (sharedData stops at 256 MiB).
var rooflineData = sync.OnceValue(func() []byte {
	sizes := rooflineSizes()
	return benchData(sizes[len(sizes)-1], 4)
})

func rooflineFloats(n int) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(rooflineData()))), n/4)
}
