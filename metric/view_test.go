package metric

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestSummary: Summary equals L0, Histogram, Dead and Dense (as the
// report counts them: per component, a dead feature never dense) on
// states of few vectors (the place table) and many, with components,
// duplicate sparse entries (densities above one), and thresholds at the
// edges: every density's own value, 0, negative, ±Inf, NaN.
func TestSummary(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for _, tc := range []struct{ components, features, batch, batches int }{
		{0, 1000, 7, 3}, {3, 333, 64, 1}, {0, 50, 100, 2}, {2, 10, 200, 400}, {0, 1 << 12, 1, 1},
	} {
		a, err := NewFeatureActivity[float32](tc.components, tc.features)
		if err != nil {
			t.Fatal(err)
		}
		slots := max(tc.components, 1)
		x := make([]float32, tc.batch*slots*tc.features)
		for range tc.batches {
			for i := range x {
				x[i] = 0
				if rng.IntN(4) == 0 {
					x[i] = rng.Float32() + 0.5
				}
			}
			shape := []int{tc.batch, tc.features}
			if tc.components > 0 {
				shape = []int{tc.batch, tc.components, tc.features}
			}
			if err := a.Update(x, shape...); err != nil {
				t.Fatal(err)
			}
		}
		// Duplicate entries: a few features fire more often than there are vectors.
		index := make([]uint32, 3*tc.batch)
		values := make([]float32, len(index))
		for i := range index {
			index[i], values[i] = uint32(i%3), 1
		}
		if err := UpdateEntries(Sparse[float32](a), 1, index, values); err != nil {
			t.Fatal(err)
		}
		vectors := a.Vectors()
		counts := a.Counts()
		thresholds := []float64{0, -1, 0.1, 0.5, 1, math.Inf(1), math.Inf(-1), math.NaN()}
		for _, c := range counts[:20] {
			thresholds = append(thresholds, float64(c)/float64(vectors), math.Nextafter(float64(c)/float64(vectors), -1))
		}
		for _, th := range thresholds {
			got, err := a.Summary(th)
			if err != nil {
				t.Fatal(err)
			}
			l0, err := a.L0()
			if err != nil {
				t.Fatal(err)
			}
			h, err := a.Histogram()
			if err != nil {
				t.Fatal(err)
			}
			dead, dense := make([]int, slots), make([]int, slots)
			for i, c := range counts {
				if c == 0 {
					dead[i/tc.features]++
				} else if float64(c)/float64(vectors) > th {
					dense[i/tc.features]++
				}
			}
			want := ActivitySummary{L0: l0, Histogram: h, Dead: dead, Dense: dense}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%+v threshold %v: got %+v, want %+v", tc, th, got, want)
			}
		}
	}
	var a FeatureActivity[float32]
	if _, err := a.Summary(0.1); err == nil {
		t.Fatal("Summary of no vectors: no error")
	}
}
