package metric

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sparsekit/l0/kernel"
)

// sinceOf returns a's VectorsSinceFired, failing t on an error.
func sinceOf[T kernel.Element](t testing.TB, a *FeatureActivity[T]) []int64 {
	t.Helper()
	since, err := a.VectorsSinceFired()
	require.NoError(t, err)
	return since
}

// sinceOracle is the definition of VectorsSinceFired, one vector at a
// time: every vector raises every counter by one, and sets those that
// fired in it to 0. A counter that never fired has seen every vector.
type sinceOracle struct {
	since   []int64
	vectors int64
}

func newSinceOracle(counters int) *sinceOracle {
	return &sinceOracle{since: make([]int64, counters)}
}

// vector adds one vector, in which the counters fired says fired.
func (o *sinceOracle) vector(fired func(i int) bool) {
	o.vectors++
	for i := range o.since {
		o.since[i]++
		if fired(i) {
			o.since[i] = 0
		}
	}
}

// dense adds the vectors of x, rows of len(o.since), one at a time.
func denseOracle[T kernel.Element](o *sinceOracle, x []T, counts func(T) bool) {
	n := len(o.since)
	for r := 0; n > 0 && r < len(x)/n; r++ {
		o.vector(func(i int) bool { return counts(x[r*n+i]) })
	}
}

// deadAfter is the features with more than n vectors since they fired.
func (o *sinceOracle) deadAfter(n int64) []int {
	dead := []int{}
	for i, s := range o.since {
		if s > n {
			dead = append(dead, i)
		}
	}
	return dead
}

// sinceData returns a batch of rows of width counters in which counter i
// fires with a probability of its own (some never, some rarely, some
// often), the rest +0, -0 or a value that does not count above 0.5.
func sinceData[T kernel.Element](rng *rand.Rand, rows, width int, p []float64) []T {
	edges := interesting[T]()
	x := make([]T, rows*width)
	for i := range x {
		if rng.Float64() < p[i%width] {
			x[i] = fromBits[T](edges[rng.IntN(len(edges))])
			if rng.IntN(2) == 0 {
				x[i] = fromBits[T](rng.Uint64())
			}
		} else {
			x[i] = fromBits[T](edges[rng.IntN(2)])
		}
	}
	return x
}

// firingOdds gives each counter its odds of firing: 0 for a tenth of them.
func firingOdds(rng *rand.Rand, n int) []float64 {
	p := make([]float64, n)
	for i := range p {
		switch rng.IntN(10) {
		case 0:
			p[i] = 0
		case 1, 2:
			p[i] = 0.01
		case 3, 4:
			p[i] = 0.1
		default:
			p[i] = rng.Float64()
		}
	}
	return p
}

// ruleCase is a rule and its definition for T.
type ruleCase[T kernel.Element] struct {
	name   string
	option []Option
	counts func(T) bool
}

func rulesOf[T kernel.Element]() []ruleCase[T] {
	rules := []ruleCase[T]{{"nonzero", nil, isNonZero[T]}}
	var zero T
	switch any(zero).(type) {
	case float32, float64, kernel.Float16, kernel.BFloat16:
		rules = append(rules,
			ruleCase[T]{"above", []Option{Above(0.5)}, func(v T) bool { return floatValue(v) > 0.5 }},
			ruleCase[T]{"absabove", []Option{AbsAbove(1)}, func(v T) bool { return math.Abs(floatValue(v)) > 1 }})
	}
	return rules
}

// checkSince checks a's VectorsSinceFired and DeadAfter against o.
func checkSince[T kernel.Element](t *testing.T, a *FeatureActivity[T], o *sinceOracle, msg string) {
	t.Helper()
	require.Equal(t, o.vectors, a.Vectors(), msg)
	require.Equal(t, o.since, sinceOf(t, a), msg)
	for _, n := range []int64{0, 1, 7, 100, math.MaxInt64} {
		dead, err := a.DeadAfter(n)
		require.NoError(t, err)
		require.Equal(t, o.deadAfter(n), dead, "%s: DeadAfter(%d)", msg, n)
	}
}

// TestVectorsSinceFired feeds random batches (of fewer vectors than
// minColumnBatch, counted in place, and more; of more columns than a
// tile) to one metric, and each to a metric of its own merged in order,
// at every kernel level, and checks both against the oracle after each.
func TestVectorsSinceFired(t *testing.T) {
	pendingAtEverySize(t)
	forEachLevel(t, func(t *testing.T) {
		t.Run("float32", testSinceTypes[float32])
		t.Run("float64", testSinceTypes[float64])
		t.Run("float16", testSinceTypes[kernel.Float16])
		t.Run("bfloat16", testSinceTypes[kernel.BFloat16])
		t.Run("int8", testSinceTypes[int8])
		t.Run("uint16", testSinceTypes[uint16])
		t.Run("int64", testSinceTypes[int64])
	})
}

func testSinceTypes[T kernel.Element](t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 19))
	for _, rule := range rulesOf[T]() {
		for _, size := range [][2]int{{0, 1}, {0, 5}, {3, 4}, {0, sinceTile + 77}, {2, sinceTile - 1}} {
			components, features := size[0], size[1]
			width := max(components, 1) * features
			a, err := NewFeatureActivity[T](components, features, withSince(rule.option)...)
			require.NoError(t, err)
			merged, err := NewFeatureActivity[T](components, features, withSince(rule.option)...)
			require.NoError(t, err)
			fused, err := NewFeatureActivity[T](components, features, withSince(rule.option)...)
			require.NoError(t, err)
			o := newSinceOracle(width)
			checkSince(t, a, o, "empty")
			p := firingOdds(rng, width)
			for step := range trials(12) {
				batch := []int{0, 1, 3, 7, 8, 9, 33, 100}[rng.IntN(8)]
				if width > 100 {
					batch = min(batch, 20)
				}
				x := sinceData[T](rng, batch, width, p)
				shape := shapeOf(batch, components, features)
				require.NoError(t, a.Update(x, shape...))
				b, err := NewFeatureActivity[T](components, features, withSince(rule.option)...)
				require.NoError(t, err)
				require.NoError(t, b.Update(x, shape...))
				require.NoError(t, merged.Merge(b))
				require.NoError(t, updateFused(fused, x, shape...))
				denseOracle(o, x, rule.counts)
				msg := rule.name + " " + shapeName(append(shape, 0)[:3]) + " step " + string(rune('0'+step%10))
				checkSince(t, a, o, msg)
				checkSince(t, merged, o, msg+" (merged)")
				checkSince(t, fused, o, msg+" (fused)")
			}
		}
	}
}

// TestSinceFiredMergeOrder checks that Merge is "the other's vectors come
// after mine", and associative: a sequence cut into pieces, each counted
// by a metric of its own, gives the one metric's counts whether the pieces
// are merged from the left, from the right, or into themselves.
func TestSinceFiredMergeOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	const features = 40
	p := firingOdds(rng, features)
	var pieces []*FeatureActivity[float32]
	whole, _ := NewFeatureActivity[float32](0, features, SinceFired())
	o := newSinceOracle(features)
	for range 7 {
		batch := rng.IntN(30)
		x := sinceData[float32](rng, batch, features, p)
		m, _ := NewFeatureActivity[float32](0, features, SinceFired())
		require.NoError(t, m.Update(x, batch, features))
		require.NoError(t, whole.Update(x, batch, features))
		denseOracle(o, x, isNonZero[float32])
		pieces = append(pieces, m)
	}
	checkSince(t, whole, o, "whole")
	clone := func(m *FeatureActivity[float32]) *FeatureActivity[float32] {
		c, _ := NewFeatureActivity[float32](0, features, SinceFired())
		require.NoError(t, c.Merge(m))
		return c
	}
	left := clone(pieces[0])
	for _, m := range pieces[1:] {
		require.NoError(t, left.Merge(m))
	}
	checkSince(t, left, o, "merged from the left")
	right := clone(pieces[len(pieces)-1])
	for i := len(pieces) - 2; i >= 0; i-- {
		c := clone(pieces[i])
		require.NoError(t, c.Merge(right))
		right = c
	}
	checkSince(t, right, o, "merged from the right")

	// a.Merge(a) is a's vectors twice, the second run after the first.
	twice := newSinceOracle(features)
	x := sinceData[float32](rng, 20, features, p)
	denseOracle(twice, x, isNonZero[float32])
	denseOracle(twice, x, isNonZero[float32])
	self, _ := NewFeatureActivity[float32](0, features, SinceFired())
	require.NoError(t, self.Update(x, 20, features))
	require.NoError(t, self.Merge(self))
	checkSince(t, self, twice, "merged into itself")

	// The order matters: b after a is not a after b.
	a, _ := NewFeatureActivity[float32](0, 2, SinceFired())
	b, _ := NewFeatureActivity[float32](0, 2, SinceFired())
	require.NoError(t, a.Update([]float32{1, 0, 0, 0, 0, 0}, 3, 2))
	require.NoError(t, b.Update([]float32{0, 1}, 1, 2))
	ab, ba := clone2(t, a), clone2(t, b)
	require.NoError(t, ab.Merge(b))
	require.NoError(t, ba.Merge(a))
	assert.Equal(t, []int64{3, 0}, sinceOf(t, ab))
	assert.Equal(t, []int64{2, 3}, sinceOf(t, ba))
}

func clone2(t *testing.T, m *FeatureActivity[float32]) *FeatureActivity[float32] {
	c, err := NewFeatureActivity[float32](m.Components(), m.Features(), SinceFired())
	require.NoError(t, err)
	require.NoError(t, c.Merge(m))
	return c
}

// TestSinceFiredSparse checks the top-k updates against the oracle fed
// each vector's entries, and UpdateEntries against sparsify's count of a
// batch: a feature that fired in it is at 0 after it.
func TestSinceFiredSparse(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 19))
		for _, components := range []int{0, 3} {
			for _, rule := range rulesOf[float32]() {
				const features, k = 50, 4
				slots := max(components, 1)
				a, err := NewFeatureActivity[float32](components, features, withSince(rule.option)...)
				require.NoError(t, err)
				o := newSinceOracle(slots * features)
				for step := range trials(20) {
					batch := []int{0, 1, 5, 9, 300}[rng.IntN(5)]
					index := make([]int64, batch*slots*k)
					for i := range index {
						index[i] = int64(rng.IntN(features / (1 + step%3)))
					}
					var values []float32
					if step%2 == 0 {
						values = sinceData[float32](rng, 1, len(index), firingOdds(rng, len(index)))
					}
					shape := []int{batch, k}
					if components > 0 {
						shape = []int{batch, components, k}
					}
					require.NoError(t, UpdateTopK(a, index, values, shape...))
					for v := range batch {
						fired := make(map[int]bool)
						for j := range slots * k {
							e := v*slots*k + j
							if values == nil || rule.counts(values[e]) {
								fired[j/k*features+int(index[e])] = true
							}
						}
						o.vector(func(i int) bool { return fired[i] })
					}
					checkSince(t, a, o, rule.name)
				}
			}
		}

		// Entries: no vector per entry; the batch is the unit.
		a, err := NewFeatureActivity[float32](2, 10, Above(0.5), SinceFired())
		require.NoError(t, err)
		o := newSinceOracle(20)
		for range trials(20) {
			vectors := 1 + rng.IntN(40)
			index := make([]int32, rng.IntN(30))
			values := make([]float32, len(index))
			fired := make(map[int]bool)
			for i := range index {
				index[i] = int32(rng.IntN(20))
				values[i] = float32(rng.IntN(3)) / 2
				if values[i] > 0.5 {
					fired[int(index[i])] = true
				}
			}
			require.NoError(t, UpdateEntries(a, vectors, index, values))
			for v := range vectors {
				o.vector(func(i int) bool { return v == vectors-1 && fired[i] })
			}
			checkSince(t, a, o, "entries")
		}
	})
}

// TestSinceFiredRejected checks that a rejected update changes nothing of
// the since-fired counts, that Reset clears them, and DeadAfter's errors.
func TestSinceFiredRejected(t *testing.T) {
	a, err := NewFeatureActivity[float32](0, 3, SinceFired())
	require.NoError(t, err)
	require.NoError(t, a.Update([]float32{1, 0, 0, 0, 1, 0}, 2, 3))
	want := []int64{1, 0, 2}
	assert.Equal(t, want, sinceOf(t, a))
	assert.Error(t, a.Update([]float32{1, 1}, 1, 2))
	assert.Error(t, UpdateTopK(a, []int32{1, 7}, nil, 2, 1))
	assert.Error(t, UpdateEntries(a, 1, []int32{-1}, nil))
	other, _ := NewFeatureActivity[float32](0, 4, SinceFired())
	assert.Error(t, a.Merge((*FeatureActivity[float32])(other)))
	// an overflowing merge: the other's vectors cannot be added.
	full, _ := NewFeatureActivity[float32](0, 3, SinceFired())
	require.NoError(t, full.UnmarshalBinary(stateWithVectors(t, math.MaxInt64)))
	assert.ErrorIs(t, a.Merge(full), ErrOverflow)
	assert.Equal(t, want, sinceOf(t, a))

	_, err = a.DeadAfter(-1)
	assert.ErrorIs(t, err, ErrConfig)
	dead, err := a.DeadAfter(1)
	require.NoError(t, err)
	assert.Equal(t, []int{2}, dead)

	a.Reset()
	assert.Equal(t, []int64{0, 0, 0}, sinceOf(t, a))
	dead, err = a.DeadAfter(0)
	require.NoError(t, err)
	assert.Empty(t, dead, "before any vector no feature is dead after 0")
	assert.Equal(t, []int{0, 1, 2}, a.Dead(), "but none has fired")

	var nilMetric *FeatureActivity[float32]
	_, err = nilMetric.VectorsSinceFired()
	assert.EqualError(t, err, "metric: bad configuration: a nil *FeatureActivity (did its constructor return an error?)")
	_, err = nilMetric.DeadAfter(0)
	assert.EqualError(t, err, "metric: bad configuration: a nil *FeatureActivity (did its constructor return an error?)")
	// The zero value is a metric made without SinceFired.
	var zero FeatureActivity[float32]
	require.NoError(t, zero.Update(nil, 5, 0))
	_, err = zero.VectorsSinceFired()
	assert.ErrorIs(t, err, ErrConfig)
}

// stateWithVectors returns the state of a FeatureActivity[float32] of 3
// features that counted vectors vectors in which nothing fired.
func stateWithVectors(t *testing.T, vectors int64) []byte {
	m, err := NewFeatureActivity[float32](0, 3, SinceFired())
	require.NoError(t, err)
	require.NoError(t, m.Update(make([]float32, 3), 1, 3))
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	for i := range 8 {
		b[32+i] = byte(uint64(vectors) >> (8 * i))
	}
	consistentSince(b)
	return withChecksum(b)
}

// TestSinceFiredAllocs checks that the updates that track since-fired
// allocate nothing once warm.
func TestSinceFiredAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	a, _ := NewFeatureActivity[float32](2, 3000, SinceFired())
	x := benchData(16 * 2 * 3000)
	small := x[:3*2*3000]
	index := []int32{1, 2, 3, 4}
	values := []float32{1, 0, 2, 0}
	for name, f := range map[string]func(){
		"dense":   func() { require.NoError(t, a.Update(x, 16, 2, 3000)) },
		"small":   func() { require.NoError(t, a.Update(small, 3, 2, 3000)) },
		"topk":    func() { require.NoError(t, UpdateTopK(a, index, values, 1, 2, 2)) },
		"entries": func() { require.NoError(t, UpdateEntries(a, 2, index, values)) },
	} {
		f()
		assert.Zero(t, testing.AllocsPerRun(20, f), name)
	}
}

// TestSinceFiredMasked: the masked updates count the kept vectors alone,
// in order, as the oracle fed only them.
func TestSinceFiredMasked(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 19))
		for _, rule := range rulesOf[float32]() {
			const components, features = 2, 600
			width := components * features
			dense, _ := NewFeatureActivity[float32](components, features, withSince(rule.option)...)
			topk, _ := NewFeatureActivity[float32](components, features, withSince(rule.option)...)
			o, ot := newSinceOracle(width), newSinceOracle(width)
			p := firingOdds(rng, width)
			for range trials(10) {
				batch := []int{1, 3, 9, 40, 300}[rng.IntN(5)]
				x := sinceData[float32](rng, batch, width, p)
				keep := make([]bool, batch)
				for i := range keep {
					keep[i] = rng.IntN(3) > 0
				}
				require.NoError(t, dense.UpdateMasked(x, keep, batch, components, features))
				const k = 3
				index := make([]int32, batch*components*k)
				for i := range index {
					index[i] = int32(rng.IntN(features))
				}
				values := sinceData[float32](rng, 1, len(index), firingOdds(rng, len(index)))
				require.NoError(t, UpdateSparseMasked(topk, TopK[float32, int32]{Index: index, Values: values, Batch: batch, Components: components, K: k}, keep))
				for v := range batch {
					if !keep[v] {
						continue
					}
					o.vector(func(i int) bool { return rule.counts(x[v*width+i]) })
					fired := map[int]bool{}
					for j := range components * k {
						if e := v*components*k + j; rule.counts(values[e]) {
							fired[j/k*features+int(index[e])] = true
						}
					}
					ot.vector(func(i int) bool { return fired[i] })
				}
				checkSince(t, dense, o, "masked "+rule.name)
				checkSince(t, topk, ot, "masked top-k "+rule.name)
			}
		}
	})
}

// withSince returns the options with SinceFired.
func withSince(options []Option) []Option {
	return append([]Option{SinceFired()}, options...)
}

// TestSinceFiredOption: without SinceFired a FeatureActivity keeps no
// positions and writes version 1; the since-fired reads are ErrConfig
// errors; a metric with it refuses to merge one without it (ErrMismatch,
// unchanged) but the other way the counts merge; an L0Norm refuses it.
func TestSinceFiredOption(t *testing.T) {
	x := []float32{1, 0, 0, 0, 2, 0}
	plain, err := NewFeatureActivity[float32](0, 3)
	require.NoError(t, err)
	tracked, _ := NewFeatureActivity[float32](0, 3, SinceFired())
	require.NoError(t, plain.Update(x, 2, 3))
	require.NoError(t, tracked.Update(x, 2, 3))
	assert.Nil(t, plain.core().last, "no positions without SinceFired")
	assert.Equal(t, byte(1), stateOf(t, plain)[4])
	assert.Equal(t, byte(2), stateOf(t, tracked)[4])
	_, err = plain.VectorsSinceFired()
	assert.ErrorIs(t, err, ErrConfig)
	_, err = plain.DeadAfter(0)
	assert.ErrorIs(t, err, ErrConfig)

	before := stateOf(t, tracked)
	assert.ErrorIs(t, tracked.Merge(plain), ErrMismatch)
	assert.Equal(t, before, stateOf(t, tracked), "a refused merge changes nothing")
	require.NoError(t, plain.Merge(tracked))
	assert.Equal(t, []uint64{2, 2, 0}, plain.Counts())
	assert.Equal(t, []int64{1, 0, 2}, sinceOf(t, tracked))

	_, err = NewL0Norm[float32](2, SinceFired())
	assert.ErrorIs(t, err, ErrConfig)
	_, err = NewSequenceActivity[float32](2, 0, 3, SinceFired())
	require.NoError(t, err)
}

// updateFused is a.Update with every batch of minColumnBatch vectors or
// more through the fused path (updateMarked), whatever the level and the
// width.
func updateFused[T kernel.Element](a *FeatureActivity[T], x []T, shape ...int) error {
	forceFusedLast.Store(true)
	defer forceFusedLast.Store(false)
	return a.Update(x, shape...)
}

// TestSinceFiredFusedBlocks: batches of more than maxPendingRows vectors
// through the fused path (blocks of at most maxPendingRows rows, their
// marks moved between), and the widths the fused path takes on its own,
// at every level, against the oracle.
func TestSinceFiredFusedBlocks(t *testing.T) {
	pendingAtEverySize(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 23))
		for _, rule := range rulesOf[float32]() {
			for _, width := range []int{3, 64, 300} {
				a, err := NewFeatureActivity[float32](0, width, withSince(rule.option)...)
				require.NoError(t, err)
				forced, err := NewFeatureActivity[float32](0, width, withSince(rule.option)...)
				require.NoError(t, err)
				o := newSinceOracle(width)
				p := firingOdds(rng, width)
				for _, batch := range []int{256, 8, 510, 511, 255, 700} {
					x := sinceData[float32](rng, batch, width, p)
					require.NoError(t, a.Update(x, batch, width))
					require.NoError(t, updateFused(forced, x, batch, width))
					denseOracle(o, x, rule.counts)
					msg := fmt.Sprintf("%s width %d batch %d", rule.name, width, batch)
					checkSince(t, a, o, msg)
					checkSince(t, forced, o, msg+" (fused)")
					require.Equal(t, a.Counts(), forced.Counts(), msg)
				}
			}
		}
	})
}
