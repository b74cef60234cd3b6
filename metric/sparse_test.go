package metric

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nanOf returns a NaN of a float type (a value no thresholded rule counts),
// and false for the integer types.
func nanOf[T kernel.Element]() (T, bool) {
	var zero T
	switch any(zero).(type) {
	case float32:
		return fromBits[T](0x7fc00000), true
	case float64:
		return fromBits[T](0x7ff8000000000000), true
	case kernel.Float16:
		return fromBits[T](0x7e00), true
	case kernel.BFloat16:
		return fromBits[T](0x7fc0), true
	}
	return zero, false
}

// sparseCase is a rule and its oracle on elements, with an element that
// never counts by it (the fillers of the sparse forms).
type sparseCase[T kernel.Element] struct {
	rule   Rule
	counts func(T) bool
	filler T
}

// sparseCases returns NonZero for T, and Above and AbsAbove at thresholds
// of each sign for the float types.
func sparseCases[T kernel.Element]() []sparseCase[T] {
	var zero T
	cases := []sparseCase[T]{{NonZero(), isNonZero[T], zero}}
	nan, ok := nanOf[T]()
	if !ok {
		return cases
	}
	for _, th := range []float64{0, 0.5, -0.5} {
		cases = append(cases,
			sparseCase[T]{Above(th), func(v T) bool { return floatValue(v) > th }, nan},
			sparseCase[T]{AbsAbove(th), func(v T) bool { return math.Abs(floatValue(v)) > th }, nan})
	}
	return cases
}

// floatValue is value() for a T known to be a float type.
func floatValue[T kernel.Element](v T) float64 {
	switch f := any(v).(type) {
	case float32:
		return value(f)
	case float64:
		return value(f)
	case kernel.Float16:
		return value(f)
	case kernel.BFloat16:
		return value(f)
	}
	panic("not a float type")
}

// topKForm returns a top-k form of the dense batch x of layout l: per row
// (vector and component) the indices of its counted features, in random
// order, then fillers up to k, the most a row counts plus extra: entries at
// random features with a value that does not count.
func topKForm[T kernel.Element, I kernel.Index](rng *rand.Rand, x []T, l layout, c sparseCase[T], extra int) (index []I, values []T, k int) {
	rows := l.batch * l.slots
	for r := 0; r < rows; r++ {
		n := 0
		for _, v := range x[r*l.features : (r+1)*l.features] {
			if c.counts(v) {
				n++
			}
		}
		k = max(k, n)
	}
	if l.features > 0 {
		k += extra
	}
	for r := 0; r < rows; r++ {
		row := x[r*l.features : (r+1)*l.features]
		start := len(index)
		for _, f := range rng.Perm(l.features) {
			if c.counts(row[f]) {
				index = append(index, I(f))
				values = append(values, row[f])
			}
		}
		for len(index)-start < k {
			index = append(index, I(rng.IntN(l.features)))
			values = append(values, c.filler)
		}
		rng.Shuffle(k, func(i, j int) {
			index[start+i], index[start+j] = index[start+j], index[start+i]
			values[start+i], values[start+j] = values[start+j], values[start+i]
		})
	}
	return index, values, k
}

// entriesForm flattens a top-k form of layout l (rows of k) into entries
// over components × features, component-major.
func entriesForm[I kernel.Index](index []I, l layout, k int) []I {
	out := make([]I, len(index))
	for i, f := range index {
		c := i / max(k, 1) % l.slots
		out[i] = I(c*l.features) + f
	}
	return out
}

// testSparseEquivalence checks, for element type T and index type I, that
// a sparse batch leaves both metrics in exactly the state its dense batch
// leaves them: the same binary state, so the same Compute, Density and
// everything else.
func testSparseEquivalence[T kernel.Element, I kernel.Index](t *testing.T) {
	rng := rand.New(rand.NewPCG(51, uint64(len(t.Name()))))
	for _, c := range sparseCases[T]() {
		for _, components := range []int{0, 2, 3} {
			for _, features := range []int{1, 5, 64, 300} {
				denseNorm, err := NewL0Norm[T](components, c.rule)
				require.NoError(t, err)
				topKNorm, _ := NewL0Norm[T](components, c.rule)
				denseAct, _ := NewFeatureActivity[T](components, features, c.rule)
				topKAct, _ := NewFeatureActivity[T](components, features, c.rule)
				namedAct, _ := NewFeatureActivity[T](components, features, c.rule)
				namedNorm, _ := NewL0Norm[T](components, c.rule)
				entriesAct, _ := NewFeatureActivity[T](components, features, c.rule)
				entriesNorm, _ := NewL0Norm[T](0, c.rule)
				denseFlat, _ := NewL0Norm[T](0, c.rule)
				for _, batch := range []int{3, 0, 1, 40} {
					shape := shapeOf(batch, components, features)
					l := layoutOf(shape)
					x := randomData[T](rng, product(shape))
					index, values, k := topKForm[T, I](rng, x, l, c, rng.IntN(3))
					topKShape := append(append([]int{}, shape[:len(shape)-1]...), k)

					require.NoError(t, denseNorm.Update(x, shape...))
					require.NoError(t, UpdateTopK(topKNorm, index, values, topKShape...))
					require.NoError(t, denseAct.Update(x, shape...))
					require.NoError(t, UpdateTopK(topKAct, index, values, topKShape...))
					named := TopK[T, I]{Index: index, Values: values, Batch: batch, Components: components, K: k}
					require.NoError(t, UpdateSparse(namedAct, named))
					require.NoError(t, UpdateSparse(namedNorm, named))
					require.NoError(t, UpdateEntries(entriesAct, batch, entriesForm(index, l, k), values))
					// An L0Norm without components: the batch as vectors of
					// components × features.
					require.NoError(t, denseFlat.Update(x, batch, l.slots*features))
					require.NoError(t, UpdateEntries(entriesNorm, batch, entriesForm(index, l, k), values))
				}
				what := c.rule.String()
				assert.Equal(t, stateOf(t, denseNorm), stateOf(t, topKNorm), "L0Norm top-k %s, %d components, %d features", what, components, features)
				assert.Equal(t, stateOf(t, denseAct), stateOf(t, topKAct), "FeatureActivity top-k %s, %d components, %d features", what, components, features)
				// Entries have no vector: the batch is the unit of their
				// since-fired counts (TestSinceFiredSparse); the rest of
				// the state is the dense batch's.
				assert.Equal(t, denseAct.Counts(), entriesAct.Counts(), "FeatureActivity entries %s, %d components, %d features", what, components, features)
				assert.Equal(t, denseAct.Vectors(), entriesAct.Vectors(), "FeatureActivity entries %s, %d components, %d features", what, components, features)
				assert.Equal(t, stateOf(t, denseAct), stateOf(t, namedAct), "FeatureActivity TopK %s, %d components, %d features", what, components, features)
				assert.Equal(t, stateOf(t, denseNorm), stateOf(t, namedNorm), "L0Norm TopK %s, %d components, %d features", what, components, features)
				assert.Equal(t, stateOf(t, denseFlat), stateOf(t, entriesNorm), "L0Norm entries %s, %d components, %d features", what, components, features)
			}
		}
	}
}

// TestSparseEquivalence: every element type, index type and rule, with and
// without components, at every kernel level.
func TestSparseEquivalence(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		t.Run("float32/int32", testSparseEquivalence[float32, int32])
		t.Run("float32/int64", testSparseEquivalence[float32, int64])
		t.Run("float64/uint32", testSparseEquivalence[float64, uint32])
		t.Run("float16/uint16", testSparseEquivalence[kernel.Float16, uint16])
		t.Run("bfloat16/int64", testSparseEquivalence[kernel.BFloat16, int64])
		t.Run("int8/int32", testSparseEquivalence[int8, int32])
		t.Run("uint16/uint32", testSparseEquivalence[uint16, uint32])
		t.Run("int32/int64", testSparseEquivalence[int32, int64])
		t.Run("uint64/uint16", testSparseEquivalence[uint64, uint16])
	})
}

// TestSparseWithoutValues: values nil counts every entry, the dense batch
// of those entries set to a value that counts.
func TestSparseWithoutValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	for _, components := range []int{0, 4} {
		for _, k := range []int{0, 1, 7, 32} {
			const batch, features = 50, 100
			slots := max(components, 1)
			x := make([]float32, batch*slots*features)
			var index []int32
			for r := 0; r < batch*slots; r++ {
				for _, f := range rng.Perm(features)[:k] {
					index = append(index, int32(f))
					x[r*features+f] = -1.5 // counts for x != 0 and |x| > 1; not for x > 0
				}
			}
			shape, topK := []int{batch, features}, []int{batch, k}
			if components > 0 {
				shape, topK = []int{batch, components, features}, []int{batch, components, k}
			}
			for _, rule := range []Rule{NonZero(), AbsAbove(1)} {
				dense, _ := NewFeatureActivity[float32](components, features, rule)
				sparse, _ := NewFeatureActivity[float32](components, features, rule)
				require.NoError(t, dense.Update(x, shape...))
				require.NoError(t, UpdateTopK(sparse, index, nil, topK...))
				assert.Equal(t, stateOf(t, dense), stateOf(t, sparse), "%s, %d components, k=%d", rule, components, k)
				norm, _ := NewL0Norm[float32](components, rule)
				sparseNorm, _ := NewL0Norm[float32](components, rule)
				require.NoError(t, norm.Update(x, shape...))
				require.NoError(t, UpdateTopK(sparseNorm, index, nil, topK...))
				assert.Equal(t, stateOf(t, norm), stateOf(t, sparseNorm), "L0Norm %s, %d components, k=%d", rule, components, k)
			}
			// x > 0 counts none of them densely; without values every entry
			// counts, as sparsify counts "fired".
			sparse, _ := NewFeatureActivity[float32](components, features, Above(0))
			require.NoError(t, UpdateTopK(sparse, index, nil, topK...))
			if l0, err := sparse.L0(); assert.NoError(t, err) {
				assert.Equal(t, float64(k), l0[0])
			}
		}
	}
}

// TestForwardTopK: the batch's value, as Forward gives it for the dense
// batch.
func TestForwardTopK(t *testing.T) {
	x := []float32{1, 0, 3, 0, 0, -1, 0, 2, 0, 0, 0, 0}
	dense, _ := NewL0Norm[float32](2)
	want, err := dense.Forward(x, 2, 2, 3)
	require.NoError(t, err)
	sparse, _ := NewL0Norm[float32](2)
	got, err := ForwardTopK(sparse, []int64{0, 2, 2, 0, 1, 2, 0, 1}, []float32{1, 3, -1, 0, 2, 0, 0, 0}, 2, 2, 2)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, stateOf(t, dense), stateOf(t, sparse))
	_, err = ForwardTopK(sparse, []int32{}, []float32{}, 0, 2, 2)
	assert.ErrorIs(t, err, ErrNoVectors)
	_, err = ForwardTopK[float32, int32](nil, nil, nil, 0, 2, 2)
	assert.ErrorIs(t, err, ErrConfig)

	named, _ := NewL0Norm[float32](2)
	got, err = ForwardSparse(named, TopK[float32, int64]{
		Index:  []int64{0, 2, 2, 0, 1, 2, 0, 1},
		Values: []float32{1, 3, -1, 0, 2, 0, 0, 0},
		Batch:  2, Components: 2, K: 2,
	})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, stateOf(t, dense), stateOf(t, named))
	_, err = ForwardSparse(named, TopK[float32, int32]{Components: 2, K: 2})
	assert.ErrorIs(t, err, ErrNoVectors)
	_, err = ForwardSparse(nil, TopK[float32, int32]{})
	assert.ErrorIs(t, err, ErrConfig)
}

// TestSparseRejects: every bad sparse batch is an error wrapping the
// package's sentinels, and leaves the metric exactly as it was.
func TestSparseRejects(t *testing.T) {
	act, _ := NewFeatureActivity[float32](2, 10, Above(0))
	norm, _ := NewL0Norm[float32](2)
	flat, _ := NewL0Norm[float32](0)
	require.NoError(t, act.Update([]float32{1, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4}, 1, 2, 10))
	require.NoError(t, norm.Update([]float32{1, 0, 2, 0}, 1, 2, 2))
	require.NoError(t, flat.Update([]float32{1, 0, 2, 0}, 2, 2))
	ok := []int32{1, 2, 3, 4, 5, 6, 7, 8}
	vals := []float32{1, 1, 1, 1, 1, 1, 1, 1}
	type reject struct {
		update func() error
		want   error
	}
	rejects := map[string]reject{
		"index = features, first":    {func() error { return UpdateTopK(act, []int32{10, 1, 2, 3}, vals[:4], 1, 2, 2) }, kernel.ErrIndex},
		"index = features, last":     {func() error { return UpdateTopK(act, []int32{0, 1, 2, 10}, vals[:4], 1, 2, 2) }, kernel.ErrIndex},
		"negative index, middle":     {func() error { return UpdateTopK(act, []int32{0, -1, 2, 3}, vals[:4], 1, 2, 2) }, kernel.ErrIndex},
		"negative int64":             {func() error { return UpdateTopK(act, []int64{0, 1, 2, math.MinInt64}, nil, 1, 2, 2) }, kernel.ErrIndex},
		"uint32 past features":       {func() error { return UpdateTopK(act, []uint32{0, 1, 2, math.MaxUint32}, nil, 2, 2, 1) }, kernel.ErrIndex},
		"values of another length":   {func() error { return UpdateTopK(act, ok[:4], vals[:3], 1, 2, 2) }, ErrShape},
		"shape of another rank":      {func() error { return UpdateTopK(act, ok[:4], vals[:4], 2, 2) }, ErrShape},
		"other components":           {func() error { return UpdateTopK(act, ok[:6], vals[:6], 1, 3, 2) }, ErrShape},
		"shape of other entries":     {func() error { return UpdateTopK(act, ok[:4], vals[:4], 1, 2, 3) }, ErrShape},
		"negative batch":             {func() error { return UpdateTopK(act, ok[:0], vals[:0], -1, 2, 2) }, ErrShape},
		"entries, negative vectors":  {func() error { return UpdateEntries(act, -1, ok, vals) }, ErrShape},
		"entries, zero vectors":      {func() error { return UpdateEntries(act, 0, ok, vals) }, ErrShape},
		"entries, past counters":     {func() error { return UpdateEntries(act, 3, []int32{0, 20}, vals[:2]) }, kernel.ErrIndex},
		"entries, other lengths":     {func() error { return UpdateEntries(act, 3, ok, vals[:7]) }, ErrShape},
		"L0Norm negative index":      {func() error { return UpdateTopK(norm, []int64{0, -5}, nil, 1, 2, 1) }, kernel.ErrIndex},
		"L0Norm entries, components": {func() error { return UpdateEntries(norm, 1, ok, vals) }, ErrConfig},
		"L0Norm entries, negative":   {func() error { return UpdateEntries(flat, 1, []int32{-1}, nil) }, kernel.ErrIndex},
		"L0Norm values length":       {func() error { return UpdateTopK(flat, ok[:4], vals[:2], 2, 2) }, ErrShape},
		"TopK negative K":            {func() error { return UpdateSparse(act, TopK[float32, int32]{Batch: 1, Components: 2, K: -1}) }, ErrShape},
		"TopK negative batch":        {func() error { return UpdateSparse(act, TopK[float32, int32]{Batch: -1, Components: 2}) }, ErrShape},
		"TopK negative components":   {func() error { return UpdateSparse(act, TopK[float32, int32]{Batch: 1, Components: -2, K: 0}) }, ErrShape},
		"TopK without components":    {func() error { return UpdateSparse(act, TopK[float32, int32]{Index: ok[:4], Batch: 2, K: 2}) }, ErrShape},
		"TopK other components": {func() error {
			return UpdateSparse(act, TopK[float32, int32]{Index: ok[:4], Batch: 1, Components: 4, K: 1})
		}, ErrShape},
		"TopK components, L0Norm": {func() error {
			return UpdateSparse(flat, TopK[float32, int32]{Index: ok[:4], Batch: 1, Components: 2, K: 2})
		}, ErrShape},
		"TopK short index": {func() error {
			return UpdateSparse(act, TopK[float32, int32]{Index: ok[:3], Batch: 1, Components: 2, K: 2})
		}, ErrShape},
		"TopK short values": {func() error {
			return UpdateSparse(act, TopK[float32, int32]{Index: ok[:4], Values: vals[:3], Batch: 1, Components: 2, K: 2})
		}, ErrShape},
		"TopK index past features": {func() error {
			return UpdateSparse(act, TopK[float32, uint16]{Index: []uint16{0, 1, 10, 3}, Batch: 1, Components: 2, K: 2})
		}, kernel.ErrIndex},
		"TopK huge sizes": {func() error {
			return UpdateSparse(norm, TopK[float32, int32]{Index: ok[:4], Batch: math.MaxInt, Components: 2, K: math.MaxInt})
		}, ErrShape},
		"TopK nil L0Norm": {func() error {
			var m *L0Norm[float32]
			return UpdateSparse(m, TopK[float32, int32]{Index: ok[:2], Batch: 1, K: 2})
		}, ErrConfig},
		"nil FeatureActivity": {func() error {
			var a *FeatureActivity[float32]
			return UpdateTopK(a, ok[:2], nil, 1, 2)
		}, ErrConfig},
		"nil L0Norm entries": {func() error {
			var m *L0Norm[float32]
			return UpdateEntries(m, 1, ok[:2], nil)
		}, ErrConfig},
	}
	for name, r := range rejects {
		before := [][]byte{stateOf(t, act), stateOf(t, norm), stateOf(t, flat)}
		err := r.update()
		if !errors.Is(err, r.want) {
			t.Errorf("%s: error %v, want %v", name, err, r.want)
		}
		if errors.Is(r.want, kernel.ErrIndex) && !errors.Is(err, ErrShape) {
			t.Errorf("%s: %v does not wrap ErrShape", name, err)
		}
		after := [][]byte{stateOf(t, act), stateOf(t, norm), stateOf(t, flat)}
		assert.Equal(t, before, after, "%s changed a metric", name)
	}
	// Valid edge batches: no vectors, no entries per vector.
	require.NoError(t, UpdateTopK(act, ok[:0], vals[:0], 0, 2, 2))
	require.NoError(t, UpdateEntries(act, 0, ok[:0], nil))
	require.NoError(t, UpdateTopK(act, ok[:0], nil, 5, 2, 0))
	assert.Equal(t, int64(6), act.Vectors())
}

// TestSparseDuplicates: an index twice in a vector counts twice, as the
// docs say, and the state it leaves still round-trips; the counts' limit
// keeps crafted states from overflowing.
func TestSparseDuplicates(t *testing.T) {
	a, _ := NewFeatureActivity[float32](0, 4)
	require.NoError(t, UpdateTopK(a, []int32{2, 2, 2}, nil, 1, 3))
	assert.Equal(t, []uint64{0, 0, 3, 0}, a.Counts())
	d, err := a.Density()
	require.NoError(t, err)
	assert.Equal(t, 3.0, d[2])
	b, _ := NewFeatureActivity[float32](0, 4)
	require.NoError(t, b.UnmarshalBinary(stateOf(t, a)))
	require.NoError(t, b.Merge(a))
	assert.Equal(t, []uint64{0, 0, 6, 0}, b.Counts())

	// A state whose count is a step from 2^64: any addition that would
	// overflow it is refused, and changes nothing (one that only could, by
	// the bound, is decided on the true sums: TestFeatureActivityNoFalseOverflow).
	state := stateOf(t, a)
	binary.LittleEndian.PutUint64(state[headerSize+16:], math.MaxUint64-1)
	huge, _ := NewFeatureActivity[float32](0, 4)
	require.NoError(t, huge.UnmarshalBinary(withChecksum(state)))
	before := stateOf(t, huge)
	assert.ErrorIs(t, UpdateEntries(huge, 1, []int32{2, 2}, nil), ErrOverflow)
	assert.ErrorIs(t, huge.Update([]float32{1, 1, 1, 1, 1, 1, 1, 1}, 2, 4), ErrOverflow)
	assert.ErrorIs(t, huge.Merge(a), ErrOverflow)
	assert.Equal(t, before, stateOf(t, huge))
	require.NoError(t, UpdateEntries(huge, 1, []int32{1}, nil))
}

// TestSparseAllocs: the sparse updates allocate nothing in steady state.
func TestSparseAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops scratch at random")
	}
	const batch, k, features = 64, 32, 4096
	rng := rand.New(rand.NewPCG(55, 56))
	index := make([]int32, batch*k)
	values := make([]float32, batch*k)
	for i := range index {
		index[i], values[i] = int32(rng.IntN(features)), rng.Float32()
	}
	a, _ := NewFeatureActivity[float32](0, features)
	m, _ := NewL0Norm[float32](0)
	for name, f := range map[string]func(){
		"FeatureActivity UpdateTopK":    func() { _ = UpdateTopK(a, index, values, batch, k) },
		"FeatureActivity UpdateEntries": func() { _ = UpdateEntries(a, batch, index, nil) },
		"L0Norm UpdateTopK":             func() { _ = UpdateTopK(m, index, values, batch, k) },
		"L0Norm UpdateEntries":          func() { _ = UpdateEntries(m, batch, index, values) },
		"FeatureActivity UpdateSparse": func() {
			_ = UpdateSparse(a, TopK[float32, int32]{Index: index, Values: values, Batch: batch, K: k})
		},
		"L0Norm UpdateSparse": func() { _ = UpdateSparse(m, TopK[float32, int32]{Index: index, Values: values, Batch: batch, K: k}) },
	} {
		assert.Zero(t, testing.AllocsPerRun(20, f), name)
	}
}
