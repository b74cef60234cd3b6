package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkNarrowColumns measures the narrow columns (narrowcols.go)
// against the tiles and streams they replace, AddNonZeroColumns and
// AddAboveColumnBytes of 1 MiB of 10%-dense lanes, calls of each paired in
// one run: "x-tiles" is the tiles' time over the narrow columns' (above 1,
// the narrow columns are faster). It chooses narrowColumnLimit:
//
//	go test -run '^$' -bench NarrowColumns -benchtime 100ms -count 5 ./kernel/
func BenchmarkNarrowColumns(b *testing.B) {
	const n = 1 << 20
	data := alignedBytes(n, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i += 4 {
		if rng.IntN(10) == 0 {
			data[i], data[i+1], data[i+2], data[i+3] = 0, 0, 0x80, 0x3f // 1.0 in float32, and a non-zero lane at every width
		}
	}
	type kind struct {
		name  string
		width int
		add   func(counts []uint64, small []uint8, b []byte) error
	}
	kinds := []kind{
		{"u8", 1, func(c []uint64, _ []uint8, b []byte) error { return AddNonZeroColumns(c, elements[uint8](b)) }},
		{"bf16", 2, func(c []uint64, _ []uint8, b []byte) error { return AddNonZeroColumns(c, elements[BFloat16](b)) }},
		{"f32", 4, func(c []uint64, _ []uint8, b []byte) error { return AddNonZeroColumns(c, elements[float32](b)) }},
		{"f64", 8, func(c []uint64, _ []uint8, b []byte) error { return AddNonZeroColumns(c, elements[float64](b)) }},
		{"f32-above", 4, func(c []uint64, _ []uint8, b []byte) error { return AddAboveColumns(c, elements[float32](b), 0.5) }},
		{"f32-bytes", 4, func(_ []uint64, s []uint8, b []byte) error {
			return AddNonZeroColumnBytes(s, elements[float32](b[:len(s)*4*255]))
		}},
		{"f32-above-bytes", 4, func(_ []uint64, s []uint8, b []byte) error {
			return AddAboveColumnBytes(s, elements[float32](b[:len(s)*4*255]), 0.5)
		}},
	}
	for _, level := range Levels() {
		for _, k := range kinds {
			for _, cols := range []int{1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 16, 17} {
				if cols > maxNarrowColumns {
					continue
				}
				name := fmt.Sprintf("impl=%s/type=%s/cols=%d", level, k.name, cols)
				b.Run(name, func(b *testing.B) {
					defer SetLevel(level)()
					defer func(on bool) { narrowColumnsOn = on }(narrowColumnsOn)
					x := data[:n/(cols*k.width)*(cols*k.width)]
					counts, small := make([]uint64, cols), make([]uint8, cols)
					run := func(on bool) time.Duration {
						narrowColumnsOn = on
						t0 := time.Now()
						if err := k.add(counts, small, x); err != nil {
							b.Fatal(err)
						}
						return time.Since(t0)
					}
					run(true)
					run(false)
					b.ReportAllocs()
					b.ResetTimer()
					var narrow, tiles time.Duration
					for i := 0; i < b.N; i++ {
						narrow += run(true)
						tiles += run(false)
					}
					b.ReportMetric(float64(narrow.Nanoseconds())/float64(b.N), "ns/op")
					b.ReportMetric(float64(tiles)/float64(narrow), "x-tiles")
				})
			}
		}
	}
}
