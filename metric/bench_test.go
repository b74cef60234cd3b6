package metric

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sparsekit/l0/kernel"
)

// benchShapes are the Update shapes the benchmarks measure: one component
// of long rows, a few components of medium rows, and tiny rows.
var benchShapes = [][]int{
	{4096, 1, 16384},
	{4096, 4, 512},
	{65536, 2, 3},
}

func shapeName(shape []int) string {
	return fmt.Sprintf("%dx%dx%d", shape[0], shape[1], shape[2])
}

// benchData returns n float32 activations, about half of them zero, at
// random, so that no branch is predictable.
func benchData(n int) []float32 {
	rng := rand.New(rand.NewPCG(10, 10))
	x := make([]float32, n)
	for i := range x {
		if rng.IntN(2) == 0 {
			x[i] = rng.Float32() + 0.5
		}
	}
	return x
}

// BenchmarkL0NormUpdate measures Update, as GB/s of input; compare it with
// BenchmarkCountNonZero at the same shape (the kernel's own speed on the
// same bytes): benchstat -col /op.
func BenchmarkL0NormUpdate(b *testing.B) {
	for _, shape := range benchShapes {
		x := benchData(product(shape))
		b.Run("shape="+shapeName(shape)+"/op=update", func(b *testing.B) {
			m, _ := NewL0Norm[float32](shape[1])
			b.SetBytes(int64(4 * len(x)))
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Update(x, shape...); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("shape="+shapeName(shape)+"/op=above", func(b *testing.B) {
			m, _ := NewL0NormAbove[float32](shape[1], 0.75)
			b.SetBytes(int64(4 * len(x)))
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Update(x, shape...); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("shape="+shapeName(shape)+"/op=kernel", func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			b.ReportAllocs()
			for b.Loop() {
				kernel.CountNonZero(x)
			}
		})
	}
}

// activityShapes are the Update shapes of the FeatureActivity sweep: the
// seed shapes, few rows of many features (wide rows), down to one
// vector of 2^20 features, and many vectors of few features (narrow
// columns).
var activityShapes = append(benchShapes[:len(benchShapes):len(benchShapes)],
	[]int{256, 1, 131072},
	[]int{64, 1, 1 << 20},
	[]int{1, 1, 1 << 20},
	[]int{65536, 1, 3},
	[]int{16384, 1, 16},
)

// BenchmarkFeatureActivityUpdate measures FeatureActivity.Update at every
// level the CPU has, as GB/s of input, and reports "x-l0norm": its speed
// as a fraction of L0Norm.Update's over the same batch (each call paired
// with one of L0Norm's, in the same run, at the same level; 1 = as fast).
// The worst cell per level:
//
//	go test -run '^$' -bench FeatureActivityUpdate -benchtime 200ms -count 5 ./metric/ | go run ./internal/benchratio
//
// It uses only API that every release since the rules has, so that it
// compiles against an older tree for a before/after comparison.
func BenchmarkFeatureActivityUpdate(b *testing.B) {
	for _, shape := range activityShapes {
		x := benchData(product(shape))
		b.Run("shape="+shapeName(shape), func(b *testing.B) {
			for _, level := range kernel.Levels() {
				b.Run("impl="+level.String(), func(b *testing.B) {
					defer kernel.SetLevel(level)()
					a, _ := NewFeatureActivity[float32](shape[1], shape[2])
					m, _ := NewL0Norm[float32](shape[1])
					benchRatio(b, len(x)*4, "x-l0norm",
						func() error { return a.Update(x, shape...) },
						func() error { return m.Update(x, shape...) })
				})
			}
		})
	}
}

// benchRatio times op and ref, calls over bytes of input, alternately,
// b.N times each, and reports op's own ns/op and MB/s and its speed as a
// fraction of ref's under the name unit (ref's time over op's: 1 = as
// fast). Each pair of calls is adjacent, so that the machine's drift (a
// shared, loaded one) moves both alike. Two calls of each come first,
// untimed, so that what a metric makes once (its pending counters, the
// pools' scratch) is not counted as allocations per call.
func benchRatio(b *testing.B, bytes int, unit string, op, ref func() error) {
	for range 2 {
		if err := op(); err != nil {
			b.Fatal(err)
		}
		if err := ref(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var opTime, refTime time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := ref(); err != nil {
			b.Fatal(err)
		}
		refTime += time.Since(t1)
		opTime += t1.Sub(t0)
	}
	perOp := float64(opTime.Nanoseconds()) / float64(b.N)
	if perOp > 0 {
		b.ReportMetric(perOp, "ns/op")
		b.ReportMetric(float64(bytes)/perOp*1e3, "MB/s")
		b.ReportMetric(float64(refTime)/float64(opTime), unit)
	}
}

// BenchmarkRowsOrColumns measures the two ways of counting a batch with
// components, a kernel call per row or one column count over the batch, at
// row lengths around minRowFeatures, over 4 MiB of float32.
func BenchmarkRowsOrColumns(b *testing.B) {
	defer func(saved, narrow int) { minRowFeatures, narrowBatchRowBytes = saved, narrow }(minRowFeatures, narrowBatchRowBytes)
	for _, features := range []int{4, 16, 64, 256, 1024, 4096, 16384} {
		shape := []int{1 << 20 / (4 * features), 4, features}
		x := benchData(product(shape))
		for _, way := range []string{"rows", "columns"} {
			b.Run(fmt.Sprintf("features=%d/way=%s", features, way), func(b *testing.B) {
				minRowFeatures, narrowBatchRowBytes = 1<<30, 0
				if way == "rows" {
					minRowFeatures = 0
				}
				m, _ := NewL0Norm[float32](4)
				b.SetBytes(int64(4 * len(x)))
				b.ReportAllocs()
				for b.Loop() {
					if err := m.Update(x, shape...); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkParallelUpdate measures many goroutines updating one metric.
func BenchmarkParallelUpdate(b *testing.B) {
	shape := []int{256, 4, 512}
	x := benchData(product(shape))
	m, _ := NewL0Norm[float32](4)
	b.SetBytes(int64(4 * len(x)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := m.Update(x, shape...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRowsOrColumnsAt measures both ways, and the kernel over the same
// bytes, at shapes of 32 MiB with rows around minRowFeatures.
func BenchmarkRowsOrColumnsAt(b *testing.B) {
	defer func(saved, narrow int) { minRowFeatures, narrowBatchRowBytes = saved, narrow }(minRowFeatures, narrowBatchRowBytes)
	for _, shape := range [][]int{{4096, 4, 512}, {2048, 4, 1024}, {1024, 4, 2048}, {8192, 4, 256}} {
		x := benchData(product(shape))
		for _, way := range []string{"rows", "columns"} {
			b.Run(fmt.Sprintf("shape=%s/way=%s", shapeName(shape), way), func(b *testing.B) {
				minRowFeatures, narrowBatchRowBytes = 1<<30, 0
				if way == "rows" {
					minRowFeatures = 0
				}
				m, _ := NewL0Norm[float32](shape[1])
				b.SetBytes(int64(4 * len(x)))
				for b.Loop() {
					if err := m.Update(x, shape...); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("shape=%s/way=kernel", shapeName(shape)), func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				kernel.CountNonZero(x)
			}
		})
	}
}

// BenchmarkScratch measures the memory an Update takes beyond the metric's
// state, for many components of short rows: cold-B is what one Update
// allocates when the scratch pools are empty (after two collections), and
// B/op the average over the run, in which the pools are warm. The scratch
// must stay in proportion to the batch: at most its bytes (int8 here) and
// the per-component counts.
func BenchmarkScratch(b *testing.B) {
	for _, shape := range [][]int{{1, 100_000, 100}, {4, 100_000, 100}, {64, 10_000, 100}} {
		x := make([]int8, product(shape))
		for i := range x {
			x[i] = int8(i % 3)
		}
		b.Run("metric=l0norm/shape="+shapeName(shape), func(b *testing.B) {
			m, _ := NewL0Norm[int8](shape[1])
			benchScratch(b, len(x), func() error { return m.Update(x, shape...) })
		})
		b.Run("metric=activity/shape="+shapeName(shape), func(b *testing.B) {
			a, _ := NewFeatureActivity[int8](shape[1], shape[2])
			benchScratch(b, len(x), func() error { return a.Update(x, shape...) })
		})
	}
}

func benchScratch(b *testing.B, bytes int, update func() error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // a pool's buffers survive one collection
	runtime.ReadMemStats(&before)
	if err := update(); err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	for b.Loop() {
		if err := update(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc), "cold-B")
}

// BenchmarkSmallBatch measures the metric layer around batches so small
// that the kernels cost least (shape parsing, locks, overflow bounds,
// scratch, dispatch), with the kernels alone beside it. It uses only the
// API of every release since sparse updates, so that the same function
// compiles against an older tree to compare the two (run under callgrind for
// instruction counts that the machine's load does not move).
func BenchmarkSmallBatch(b *testing.B) {
	x16 := []float32{1, 0, 2, 0, 0, 3, 0, 0, 1, 1, 0, 0, 0, 0, 2, 0}
	x128 := make([]float32, 8*16)
	for i := range x128 {
		x128[i] = x16[i%16]
	}
	index := []int32{1, 5, 7, 9, 2, 3, 4, 15}
	values := []float32{1, 0, 2, 3, 1, 1, 0, 2}
	norm, _ := NewL0Norm[float32](0)
	norm4, _ := NewL0Norm[float32](4)
	otherNorm, _ := NewL0Norm[float32](0)
	act, _ := NewFeatureActivity[float32](0, 16)
	actAbove, _ := NewFeatureActivity[float32](0, 16, Above(0.5))
	otherAct, _ := NewFeatureActivity[float32](0, 16)
	counts := make([]uint64, 16)
	for _, c := range []struct {
		name string
		op   func() error
	}{
		{"L0Norm.Update/1x16", func() error { return norm.Update(x16, 1, 16) }},
		{"L0Norm.Update/1x4x4", func() error { return norm4.Update(x16, 1, 4, 4) }},
		{"FeatureActivity.Update/1x16", func() error { return act.Update(x16, 1, 16) }},
		{"FeatureActivity.Update/8x16", func() error { return act.Update(x128, 8, 16) }},
		{"FeatureActivity.UpdateTopK/2x4", func() error { return UpdateTopK(act, index, values, 2, 4) }},
		{"FeatureActivity.UpdateTopK.Above/2x4", func() error { return UpdateTopK(actAbove, index, values, 2, 4) }},
		{"L0Norm.UpdateTopK/2x4", func() error { return UpdateTopK(norm, index, values, 2, 4) }},
		{"L0Norm.Merge", func() error { return norm.Merge(otherNorm) }},
		{"FeatureActivity.Merge/16", func() error { return act.Merge(otherAct) }},
		{"kernel.AddNonZeroColumns/1x16", func() error { return kernel.AddNonZeroColumns(counts, x16) }},
		{"kernel.AddNonZeroIndexCounts/2x4", func() error { return kernel.AddNonZeroIndexCounts(counts, 16, index, values, 4) }},
	} {
		b.Run("op="+c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSinceFired measures FeatureActivity.Update with SinceFired
// against Update without it, paired call by call in one run at every
// level the CPU has (benchRatio: "x-untracked", 1 = as fast; the target is
// ≥ 0.9), on the benchmark shapes and one batch of 64 vectors of 2^20
// features, on two densities: data=half, benchData's (an element is
// non-zero in half the vectors), and data=rare, one element in 100 (the
// walk back from a batch's end for the last row each feature fired in then
// goes far). The worst cell:
//
//	go test -run '^$' -bench SinceFired -count 5 ./metric/ | go run ./internal/benchratio
func BenchmarkSinceFired(b *testing.B) {
	shapes := append(append([][]int{}, benchShapes...), []int{64, 1, 1 << 20})
	for _, shape := range shapes {
		half := benchData(product(shape))
		rare := make([]float32, len(half))
		rng := rand.New(rand.NewPCG(3, 3))
		for i := range rare {
			if rng.IntN(100) == 0 {
				rare[i] = 1
			}
		}
		for _, d := range []struct {
			name string
			x    []float32
		}{{"half", half}, {"rare", rare}} {
			b.Run("shape="+shapeName(shape)+"/data="+d.name, func(b *testing.B) {
				for _, level := range kernel.Levels() {
					b.Run("impl="+level.String(), func(b *testing.B) {
						defer kernel.SetLevel(level)()
						tracked, _ := NewFeatureActivity[float32](shape[1], shape[2], SinceFired())
						plain, _ := NewFeatureActivity[float32](shape[1], shape[2])
						benchRatio(b, len(d.x)*4, "x-untracked",
							func() error { return tracked.Update(d.x, shape...) },
							func() error { return plain.Update(d.x, shape...) })
					})
				}
			})
		}
	}
}
