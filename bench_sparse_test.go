package l0_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// The index-count benchmarks: top-k outputs of k = 64 entries per vector,
// 2^22 entries, int32 indices, float32 values of which about 5% are zero
// (a ReLU leaves zeros among the top k), d_sae features. Each row's indices
// are distinct, drawn uniformly. bench/numpy_bincount.py measures numpy's
// np.bincount(index[values != 0], minlength=d_sae) on the same shapes:
// run both in one session to compare, e.g.
//
//	go test -run '^$' -bench 'IndexCounts$' -count 5 . ; /usr/bin/python3 bench/numpy_bincount.py
//
// entries/s is the figure to compare (the script prints it per d_sae);
// benchstat -col /impl pivots the levels.
const (
	sparseK       = 64
	sparseEntries = 1 << 22
)

var sparseFeatures = []int{16384, 1 << 20}

type sparseBatch struct {
	index  []int32
	values []float32
}

var (
	sparseMu    sync.Mutex
	sparseCache = map[int]sparseBatch{}
)

// sparseData returns the benchmark's batch for d features, made once.
func sparseData(d int) sparseBatch {
	sparseMu.Lock()
	defer sparseMu.Unlock()
	if b, ok := sparseCache[d]; ok {
		return b
	}
	rng := rand.New(rand.NewPCG(uint64(d), 64))
	b := sparseBatch{make([]int32, sparseEntries), make([]float32, sparseEntries)}
	for r := 0; r < sparseEntries; r += sparseK {
		row := b.index[r : r+sparseK]
		for j := range row {
		draw:
			f := int32(rng.IntN(d))
			for _, g := range row[:j] {
				if g == f {
					goto draw
				}
			}
			row[j] = f
		}
	}
	for i := range b.values {
		if rng.IntN(20) != 0 {
			b.values[i] = rng.Float32() + 1e-3
		}
	}
	sparseCache[d] = b
	return b
}

// reportEntries reports entries per second, the figure numpy's script
// prints.
func reportEntries(b *testing.B, entries int) {
	b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkIndexCounts: AddNonZeroIndexCounts on the top-k batch, at every
// level, for each d_sae.
func BenchmarkIndexCounts(b *testing.B) {
	for _, d := range sparseFeatures {
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
			data := sparseData(d)
			eachLevel(b, func(b *testing.B) {
				counts := make([]uint64, d)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := kernel.AddNonZeroIndexCounts(counts, d, data.index, data.values, sparseK); err != nil {
						b.Fatal(err)
					}
				}
				reportEntries(b, sparseEntries)
			})
		})
	}
}

// BenchmarkIndexCountsAll: AddIndexCounts (every entry counts) on the same
// indices.
func BenchmarkIndexCountsAll(b *testing.B) {
	for _, d := range sparseFeatures {
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
			data := sparseData(d)
			eachLevel(b, func(b *testing.B) {
				counts := make([]uint64, d)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := kernel.AddIndexCounts(counts, d, data.index, sparseK); err != nil {
						b.Fatal(err)
					}
				}
				reportEntries(b, sparseEntries)
			})
		})
	}
}

// BenchmarkIndexCountsSorted: AddNonZeroIndexCounts on the same entries
// sorted by feature, as a cache ordered by feature holds them: long runs
// of one index, the case that stalls a loop whose increments wait on each
// other through memory.
func BenchmarkIndexCountsSorted(b *testing.B) {
	for _, d := range sparseFeatures {
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
			data := sparseData(d)
			index := slices.Clone(data.index)
			slices.Sort(index)
			eachLevel(b, func(b *testing.B) {
				counts := make([]uint64, d)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := kernel.AddNonZeroIndexCounts(counts, d, index, data.values, sparseK); err != nil {
						b.Fatal(err)
					}
				}
				reportEntries(b, sparseEntries)
			})
		})
	}
}

// BenchmarkCheckIndex: the range check alone (CheckIndex), which the L0
// norm of top-k outputs needs without counts per feature.
func BenchmarkCheckIndex(b *testing.B) {
	data := sparseData(sparseFeatures[0])
	eachLevel(b, func(b *testing.B) {
		b.SetBytes(int64(4 * len(data.index)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := kernel.CheckIndex(data.index, sparseFeatures[0]); err != nil {
				b.Fatal(err)
			}
		}
		reportEntries(b, sparseEntries)
	})
}

// BenchmarkIndexCountsPlainLoop is the reference of the issue: a plain
// branch-free Go loop into uint32 counters, with the range check Go's
// bounds check makes (a panic, not an error: it leaves the counts half
// done).
func BenchmarkIndexCountsPlainLoop(b *testing.B) {
	for _, d := range sparseFeatures {
		b.Run(fmt.Sprintf("d=%d/impl=plain", d), func(b *testing.B) {
			data := sparseData(d)
			counts := make([]uint32, d)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				plainIndexLoop(counts, data.index, data.values)
			}
			reportEntries(b, sparseEntries)
		})
	}
}

func plainIndexLoop(counts []uint32, index []int32, values []float32) {
	values = values[:len(index)]
	for i, j := range index {
		bits := math.Float32bits(values[i]) & 0x7fffffff
		counts[j] += (bits + 0x7fffffff) >> 31
	}
}

// BenchmarkUpdateTopK: the same top-k batch through the metric, as a user
// calls it: metric.UpdateTopK on a FeatureActivity of d_sae features (shape
// [2^22/64, 64]), and on an L0Norm, at every level. The FeatureActivity's
// entries/s is the figure issue 11 holds against numpy's bincount.
func BenchmarkUpdateTopK(b *testing.B) {
	for _, d := range sparseFeatures {
		batch := sparseData(d)
		rows := sparseEntries / sparseK
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
			for _, level := range kernel.Levels() {
				b.Run("metric=FeatureActivity/impl="+level.String(), func(b *testing.B) {
					defer kernel.SetLevel(level)()
					a, err := metric.NewFeatureActivity[float32](0, d)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for b.Loop() {
						if err := metric.UpdateTopK(a, batch.index, batch.values, rows, sparseK); err != nil {
							b.Fatal(err)
						}
					}
					reportEntries(b, sparseEntries)
				})
				b.Run("metric=L0Norm/impl="+level.String(), func(b *testing.B) {
					defer kernel.SetLevel(level)()
					m, _ := metric.NewL0Norm[float32](0)
					b.ReportAllocs()
					for b.Loop() {
						if err := metric.UpdateTopK(m, batch.index, batch.values, rows, sparseK); err != nil {
							b.Fatal(err)
						}
					}
					reportEntries(b, sparseEntries)
				})
			}
		})
	}
}
