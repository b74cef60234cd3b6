package metric

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testActivityOracle checks a FeatureActivity's counts, densities and L0
// against the oracle, and its L0 against an L0Norm fed the same batches.
func testActivityOracle[T kernel.Element](t *testing.T,
	newActivity func(components, features int) (*FeatureActivity[T], error),
	newNorm func(components int) (*L0Norm[T], error), counts func(T) bool) {
	rng := rand.New(rand.NewPCG(4, uint64(elementTag[T]())))
	for trial := range trials(30) {
		components := []int{0, 1, 2, 3, 5}[trial%5]
		features := []int{0, 1, 3, 8, 65, 300}[rng.IntN(6)]
		a, err := newActivity(components, features)
		require.NoError(t, err)
		m, err := newNorm(components)
		require.NoError(t, err)
		want := make([]uint64, max(components, 1)*features)
		var vectors int64
		for range 1 + rng.IntN(4) {
			shape := randomLayout(rng, components, features)
			x := randomData[T](rng, product(shape))
			require.NoError(t, a.Update(x, shape...), "shape %v", shape)
			require.NoError(t, m.Update(x, shape...))
			for i, c := range oracleColumns(x, layoutOf(shape), counts) {
				want[i] += c
			}
			vectors += int64(shape[0])
		}
		require.Equal(t, want, a.Counts())
		require.Equal(t, vectors, a.Vectors())
		density, err := a.Density()
		l0, err2 := a.L0()
		norm, err3 := m.Compute()
		if vectors == 0 {
			require.ErrorIs(t, err, ErrNoVectors)
			require.ErrorIs(t, err2, ErrNoVectors)
			require.ErrorIs(t, err3, ErrNoVectors)
			continue
		}
		require.NoError(t, err)
		require.NoError(t, err2)
		require.NoError(t, err3)
		for i, c := range want {
			assert.Equal(t, float64(c)/float64(vectors), density[i])
		}
		assert.Equal(t, norm, l0, "FeatureActivity.L0 and L0Norm.Compute differ")
	}
}

func testActivityTypes[T kernel.Element](t *testing.T) {
	testActivityOracle(t,
		func(c, f int) (*FeatureActivity[T], error) { return NewFeatureActivity[T](c, f) },
		func(c int) (*L0Norm[T], error) { return NewL0Norm[T](c) },
		isNonZero[T])
}

// testActivityAboveTypes tests the thresholded rules, Above and AbsAbove,
// against the float64 comparison of each element.
func testActivityAboveTypes[T kernel.Float](t *testing.T) {
	for _, threshold := range thresholds {
		for _, r := range thresholdRules(threshold) {
			t.Run(r.rule.String(), func(t *testing.T) {
				testActivityOracle(t,
					func(c, f int) (*FeatureActivity[T], error) { return NewFeatureActivity[T](c, f, r.rule) },
					func(c int) (*L0Norm[T], error) { return NewL0Norm[T](c, r.rule) },
					func(v T) bool { return r.holds(value(v)) })
			})
		}
	}
}

func TestFeatureActivityOracle(t *testing.T) {
	forEachElement(t, elementTests.activityOracle, floatTests.activityAbove)
}

func TestFeatureActivityConstructors(t *testing.T) {
	for _, c := range [][2]int{{-1, 3}, {0, -1}, {-1, -1}, {math.MaxInt32, math.MaxInt32}, {2, math.MaxInt/8 + 1}} {
		_, err := NewFeatureActivity[float32](c[0], c[1])
		require.ErrorIs(t, err, ErrConfig, "components %d, features %d", c[0], c[1])
	}
	_, err := NewFeatureActivityAbove[kernel.Float16](1, 2, math.NaN())
	require.ErrorIs(t, err, ErrConfig)
	a, err := NewFeatureActivityAbove[float32](2, 5, 0.125)
	require.NoError(t, err)
	assert.Equal(t, 2, a.Components())
	assert.Equal(t, 5, a.Features())
	threshold, ok := a.Threshold()
	assert.True(t, ok)
	assert.Equal(t, 0.125, threshold)
}

func TestFeatureActivityRejectsBadShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	a, err := NewFeatureActivity[float32](2, 3)
	require.NoError(t, err)
	require.NoError(t, a.Update(randomData[float32](rng, 4*2*3), 4, 2, 3))
	for _, c := range badShapes {
		t.Run(c.name, func(t *testing.T) {
			before := stateOf(t, a)
			require.ErrorIs(t, a.Update(randomData[float32](rng, c.n), c.shape...), ErrShape)
			require.Equal(t, before, stateOf(t, a))
		})
	}
}

func TestFeatureActivitySignals(t *testing.T) {
	a, err := NewFeatureActivity[int16](2, 3)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, a.Dead(), "before any vector every feature is dead")
	_, err = a.Density()
	require.ErrorIs(t, err, ErrNoVectors)
	_, err = a.Dense(0.5)
	require.ErrorIs(t, err, ErrNoVectors)
	_, err = a.Histogram()
	require.ErrorIs(t, err, ErrNoVectors)
	_, err = a.L0()
	require.ErrorIs(t, err, ErrNoVectors)

	x := []int16{
		1, 0, 0, 1, 1, 0,
		1, 0, 0, 0, 1, 0,
		1, 0, 0, 0, 1, 0,
		1, 0, 5, 0, 1, 0,
	}
	require.NoError(t, a.Update(x, 4, 2, 3))
	assert.Equal(t, []uint64{4, 0, 1, 1, 4, 0}, a.Counts())
	assert.Equal(t, []int{1, 5}, a.Dead())
	dense, err := a.Dense(0.25)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 4}, dense)
	dense, err = a.Dense(-1)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, dense)
	_, err = a.Dense(math.NaN())
	require.ErrorIs(t, err, ErrConfig)
	l0, err := a.L0()
	require.NoError(t, err)
	assert.Equal(t, []float64{1.25, 1.25}, l0)
	h, err := a.Histogram()
	require.NoError(t, err)
	assert.Equal(t, 2, h.Dead)
	assert.Equal(t, 2, h.Counts[HistogramBins-1]) // density 1
	assert.Equal(t, 2, h.Counts[14])              // density 0.25: log10 = -0.60
}

func TestHistogramBins(t *testing.T) {
	h := Histogram{Edges: histogramEdges()}
	assert.Equal(t, -8.0, h.Edges[0])
	assert.Equal(t, -7.5, h.Edges[1])
	assert.Equal(t, 0.0, h.Edges[HistogramBins])
	const vectors = 1_000_000_000
	floors := histogramFloors(vectors)
	cases := []struct {
		count uint64
		bin   int // -1 dead, -2 underflow
	}{
		{0, -1},
		{1, -2},
		{9, -2},
		{10, 0}, // 1e-8
		{31, 0}, // 10^-7.5 is 31.62... vectors in 10^9
		{32, 1},
		{999_999, 9},
		{1_000_000, 10}, // 0.001
		{vectors / 3, 15},
		{99_999_999, 13},
		{100_000_000, 14}, // 0.1
		{vectors, 15},     // density 1: the last bin is closed
	}
	for _, c := range cases {
		h := Histogram{Edges: histogramEdges()}
		var at [places]int
		at[binOf(c.count, &floors)]++
		h.add(&at)
		switch c.bin {
		case -1:
			assert.Equal(t, 1, h.Dead, "count %v", c.count)
		case -2:
			assert.Equal(t, 1, h.Underflow, "count %v", c.count)
		default:
			assert.Equal(t, 1, h.Counts[c.bin], "count %v: bins %v", c.count, h.Counts)
		}
	}

	// Every feature lands in exactly one place.
	rng := rand.New(rand.NewPCG(6, 6))
	a, _ := NewFeatureActivity[uint8](3, 200)
	for range 10 {
		x := make([]uint8, 50*3*200)
		for i := range x {
			if rng.IntN(1+i%200*50) == 0 {
				x[i] = 1
			}
		}
		require.NoError(t, a.Update(x, 50, 3, 200))
	}
	h, err := a.Histogram()
	require.NoError(t, err)
	total := h.Dead + h.Underflow
	for _, n := range h.Counts {
		total += n
	}
	assert.Equal(t, 3*200, total)
	assert.Equal(t, len(a.Dead()), h.Dead)
}

// TestHistogramTable: the histogram of many features over few vectors,
// decided once per count in a table, is the one decided feature by
// feature, counts above the vectors (repeated sparse entries) included.
func TestHistogramTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, vectors := range []int{1, 2, 3, 10, 64, 1000} {
		a, _ := NewFeatureActivity[uint8](0, 5000)
		x := make([]uint8, vectors*5000)
		for i := range x {
			if rng.IntN(1+i%5000) == 0 {
				x[i] = 1
			}
		}
		require.NoError(t, a.Update(x, vectors, 5000))
		index := []int32{7, 7, 7, 9}
		require.NoError(t, UpdateEntries(a, 1, index, nil)) // a count past the vectors
		h, err := a.Histogram()
		require.NoError(t, err)
		floors := histogramFloors(int64(vectors) + 1)
		var at [places]int
		for _, c := range a.Counts() {
			at[binOf(c, &floors)]++
		}
		want := Histogram{Edges: histogramEdges()}
		want.add(&at)
		require.Equal(t, want, h, "%d vectors", vectors)
	}
}

func TestFeatureActivityMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	a, _ := NewFeatureActivity[kernel.BFloat16](2, 40)
	b, _ := NewFeatureActivity[kernel.BFloat16](2, 40)
	both, _ := NewFeatureActivity[kernel.BFloat16](2, 40)
	// b's vectors come after a's (VectorsSinceFired depends on it).
	var ys [][]kernel.BFloat16
	for range 4 {
		x := randomData[kernel.BFloat16](rng, 9*2*40)
		y := randomData[kernel.BFloat16](rng, 3*2*40)
		require.NoError(t, a.Update(x, 9, 2, 40))
		require.NoError(t, b.Update(y, 3, 2, 40))
		require.NoError(t, both.Update(x, 9, 2, 40))
		ys = append(ys, y)
	}
	for _, y := range ys {
		require.NoError(t, both.Update(y, 3, 2, 40))
	}
	require.NoError(t, a.Merge(b))
	assert.Equal(t, stateOf(t, both), stateOf(t, a))
	counts := a.Counts()
	require.NoError(t, a.Merge(a))
	for i := range counts {
		counts[i] *= 2
	}
	assert.Equal(t, counts, a.Counts())

	before := stateOf(t, a)
	require.ErrorIs(t, a.Merge(nil), ErrConfig)
	for _, other := range []func() (*FeatureActivity[kernel.BFloat16], error){
		func() (*FeatureActivity[kernel.BFloat16], error) { return NewFeatureActivity[kernel.BFloat16](2, 41) },
		func() (*FeatureActivity[kernel.BFloat16], error) { return NewFeatureActivity[kernel.BFloat16](3, 40) },
		func() (*FeatureActivity[kernel.BFloat16], error) { return NewFeatureActivity[kernel.BFloat16](0, 40) },
		func() (*FeatureActivity[kernel.BFloat16], error) {
			return NewFeatureActivityAbove[kernel.BFloat16](2, 40, 0)
		},
	} {
		o, err := other()
		require.NoError(t, err)
		require.ErrorIs(t, a.Merge(o), ErrMismatch)
		require.ErrorIs(t, o.Merge(a), ErrMismatch)
	}
	require.Equal(t, before, stateOf(t, a))

	full, _ := NewFeatureActivity[kernel.BFloat16](2, 40)
	require.NoError(t, full.UnmarshalBinary(withVectors(t, full, math.MaxInt64, nil)))
	require.ErrorIs(t, a.Merge(full), ErrOverflow)
	require.ErrorIs(t, full.Update(make([]kernel.BFloat16, 80), 1, 2, 40), ErrOverflow)
	require.Equal(t, before, stateOf(t, a))
}

func TestFeatureActivityZeroValue(t *testing.T) {
	var a FeatureActivity[float64]
	require.NoError(t, a.Update(nil, 3, 0))
	assert.Equal(t, int64(3), a.Vectors())
	l0, err := a.L0()
	require.NoError(t, err)
	assert.Equal(t, []float64{0}, l0)
	require.ErrorIs(t, a.Update([]float64{1}, 1, 1), ErrShape)
	a.Reset()
	assert.Equal(t, int64(0), a.Vectors())
}

// TestFeatureActivityNoFalseOverflow: the overflow checks are decided on
// the true per-feature sums when the quick bound (the largest count plus
// the most an addition adds) would pass 2^64: merging [2^64−1, 0] with
// [0, 1] is [2^64−1, 1], not an overflow; a true one is refused and
// changes nothing, by Merge, Update (in place and through scratch) and the
// sparse updates.
func TestFeatureActivityNoFalseOverflow(t *testing.T) {
	newState := func(vectors uint64, counts ...uint64) *FeatureActivity[float32] {
		a, _ := NewFeatureActivity[float32](0, len(counts))
		require.NoError(t, a.UnmarshalBinary(withVectors(t, a, vectors, counts)))
		return a
	}
	a := newState(1, math.MaxUint64, 0)
	require.NoError(t, a.Merge(newState(1, 0, 1)))
	assert.Equal(t, []uint64{math.MaxUint64, 1}, a.Counts())
	assert.Equal(t, int64(2), a.Vectors())

	before := stateOf(t, a)
	require.ErrorIs(t, a.Merge(newState(1, 1, 0)), ErrOverflow)
	require.ErrorIs(t, a.Update([]float32{1, 0}, 1, 2), ErrOverflow, "in place")
	require.ErrorIs(t, a.Update([]float32{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8, 2), ErrOverflow, "through scratch")
	assert.Equal(t, before, stateOf(t, a))

	// Feature 0 does not fire: no count passes 2^64.
	require.NoError(t, a.Update([]float32{0, 1}, 1, 2), "in place")
	require.NoError(t, a.Update([]float32{0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8, 2), "through scratch")
	require.NoError(t, UpdateEntries(a, 1, []int32{1, 1}, nil))
	require.NoError(t, UpdateTopK(a, []int32{1}, nil, 1, 1))
	assert.Equal(t, []uint64{math.MaxUint64, 7}, a.Counts())
	before = stateOf(t, a)
	require.ErrorIs(t, UpdateEntries(a, 1, []int32{0}, nil), ErrOverflow)
	require.ErrorIs(t, UpdateTopK(a, []int32{1, 0}, nil, 1, 2), ErrOverflow)
	assert.Equal(t, before, stateOf(t, a))
}

// TestMergeAllocates: Merge adds the other metric's counts straight from
// its state: merging 2^20 features takes no 8 MiB copy of them.
func TestMergeAllocates(t *testing.T) {
	a, _ := NewFeatureActivity[uint8](0, 1<<20)
	b, _ := NewFeatureActivity[uint8](0, 1<<20)
	x := make([]uint8, 2<<20)
	x[5], x[1<<20+5], x[7] = 1, 1, 3
	require.NoError(t, b.Update(x, 2, 1<<20))
	var allocated uint64
	for range 3 {
		allocated = allocatedBytes(func() { require.NoError(t, a.Merge(b)) })
	}
	assert.Less(t, allocated, uint64(1<<10))
	require.NoError(t, a.Merge(a))
	counts := a.Counts()
	assert.Equal(t, uint64(12), counts[5])
	assert.Equal(t, uint64(6), counts[7])
	assert.Equal(t, int64(12), a.Vectors())
}
