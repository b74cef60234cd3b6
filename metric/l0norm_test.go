package metric

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedCases are the sparse_autoencoder doctests, as 0/1 patterns that every
// element type can hold.
var seedCases = []struct {
	components int
	shape      []int
	ones       []uint64
	want       []float64
}{
	{0, []int{2, 3}, []uint64{1, 0, 1, 0, 1, 0}, []float64{1.5}},
	{2, []int{2, 2, 3}, []uint64{1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1}, []float64{1.5, 2}},
}

func testSeed[T kernel.Element](t *testing.T) {
	for _, c := range seedCases {
		x := make([]T, len(c.ones))
		for i, v := range c.ones {
			x[i] = fromBits[T](v)
		}
		m, err := NewL0Norm[T](c.components)
		require.NoError(t, err)
		require.NoError(t, m.Update(x, c.shape...))
		got, err := m.Compute()
		require.NoError(t, err)
		assert.Equal(t, c.want, got)

		a, err := NewFeatureActivity[T](c.components, c.shape[len(c.shape)-1])
		require.NoError(t, err)
		require.NoError(t, a.Update(x, c.shape...))
		got, err = a.L0()
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}
}

func TestSeedExamples(t *testing.T) { forEachElement(t, elementTests.seed, nil) }

// testL0NormOracle updates metrics of random configurations with random
// batches and checks every count against the element-by-element oracle.
func testL0NormOracle[T kernel.Element](t *testing.T, newMetric func(components int) (*L0Norm[T], error), counts func(T) bool) {
	rng := rand.New(rand.NewPCG(1, uint64(elementTag[T]())))
	for trial := range trials(40) {
		components := []int{0, 1, 2, 3, 5, 9}[trial%6]
		m, err := newMetric(components)
		require.NoError(t, err)
		want := make([]uint64, max(components, 1))
		var vectors int64
		for range 1 + rng.IntN(4) {
			shape := randomLayout(rng, components, -1)
			l := layoutOf(shape)
			x := randomData[T](rng, product(shape))
			slots := oracleSlots(x, l, counts)
			if rng.IntN(2) == 0 || l.batch == 0 {
				require.NoError(t, m.Update(x, shape...), "shape %v", shape)
			} else {
				batch, err := m.Forward(x, shape...)
				require.NoError(t, err, "shape %v", shape)
				for i, c := range slots {
					assert.Equal(t, float64(c)/float64(l.batch), batch[i], "Forward, shape %v, slot %d", shape, i)
				}
			}
			for i, c := range slots {
				want[i] += c
			}
			vectors += int64(l.batch)
			require.Equal(t, want, m.Counts(), "shape %v", shape)
			require.Equal(t, vectors, m.Vectors())
		}
		got, err := m.Compute()
		if vectors == 0 {
			require.ErrorIs(t, err, ErrNoVectors)
			continue
		}
		require.NoError(t, err)
		for i, c := range want {
			assert.Equal(t, float64(c)/float64(vectors), got[i])
		}
	}
}

// thresholds are the thresholds the thresholded metrics are tested with.
var thresholds = []float64{0, -0.5, 0.5, 1, 1.25, -1, math.Inf(-1), math.Inf(1), 5e-324, 1e30}

func testL0NormTypes[T kernel.Element](t *testing.T) {
	testL0NormOracle(t, func(c int) (*L0Norm[T], error) { return NewL0Norm[T](c) }, isNonZero[T])
}

// thresholdRule is a thresholded rule with its oracle on float64 values.
type thresholdRule struct {
	rule  Rule
	holds func(v float64) bool
}

// thresholdRules returns Above(t) and AbsAbove(t) with their oracles.
func thresholdRules(t float64) []thresholdRule {
	return []thresholdRule{
		{Above(t), func(v float64) bool { return v > t }},
		{AbsAbove(t), func(v float64) bool { return math.Abs(v) > t }},
	}
}

// testL0NormAboveTypes tests the thresholded rules, Above and AbsAbove,
// and NewL0NormAbove, against the float64 comparison of each element.
func testL0NormAboveTypes[T kernel.Float](t *testing.T) {
	for _, threshold := range thresholds {
		for _, r := range thresholdRules(threshold) {
			t.Run(r.rule.String(), func(t *testing.T) {
				testL0NormOracle(t,
					func(c int) (*L0Norm[T], error) { return NewL0Norm[T](c, r.rule) },
					func(v T) bool { return r.holds(value(v)) })
			})
		}
		t.Run(fmt.Sprint("NewL0NormAbove=", threshold), func(t *testing.T) {
			testL0NormOracle(t,
				func(c int) (*L0Norm[T], error) { return NewL0NormAbove[T](c, threshold) },
				func(v T) bool { return value(v) > threshold })
		})
	}
}

func TestL0NormOracle(t *testing.T) {
	forEachElement(t, elementTests.l0NormOracle, floatTests.l0NormAbove)
}

func TestL0NormZeroValue(t *testing.T) {
	var m L0Norm[float32]
	_, err := m.Compute()
	require.ErrorIs(t, err, ErrNoVectors)
	require.NoError(t, m.Update([]float32{1, 0, 1, 0, 1, 0}, 2, 3))
	got, err := m.Compute()
	require.NoError(t, err)
	assert.Equal(t, []float64{1.5}, got)

	var fresh L0Norm[float32]
	require.NoError(t, fresh.UnmarshalBinary(stateOf(t, &m)))
	assert.Equal(t, []uint64{3}, fresh.Counts())
	require.NoError(t, fresh.Merge(&m))
	assert.Equal(t, int64(4), fresh.Vectors())
}

func TestL0NormConstructors(t *testing.T) {
	_, err := NewL0Norm[float32](-1)
	require.ErrorIs(t, err, ErrConfig)
	_, err = NewL0NormAbove[float32](-2, 0)
	require.ErrorIs(t, err, ErrConfig)
	_, err = NewL0NormAbove[kernel.BFloat16](0, math.NaN())
	require.ErrorIs(t, err, ErrConfig)
	m, err := NewL0NormAbove[float64](3, 0.25)
	require.NoError(t, err)
	assert.Equal(t, 3, m.Components())
	threshold, ok := m.Threshold()
	assert.True(t, ok)
	assert.Equal(t, 0.25, threshold)
	_, ok = (&L0Norm[int8]{}).Threshold()
	assert.False(t, ok)
}

func TestL0NormZeroSizes(t *testing.T) {
	m, err := NewL0Norm[float32](2)
	require.NoError(t, err)
	require.NoError(t, m.Update(nil, 0, 2, 5)) // no vectors: nothing changes
	_, err = m.Compute()
	require.ErrorIs(t, err, ErrNoVectors)
	_, err = m.Forward(nil, 0, 2, 5)
	require.ErrorIs(t, err, ErrNoVectors)
	assert.Equal(t, int64(0), m.Vectors())

	require.NoError(t, m.Update(nil, 4, 2, 0)) // vectors of no features: L0 0
	got, err := m.Compute()
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0}, got)
	assert.Equal(t, int64(4), m.Vectors())
}

// badShapes are calls every metric of 2 components and 3 features rejects
// with ErrShape.
var badShapes = []struct {
	name  string
	n     int
	shape []int
}{
	{"no shape", 12, nil},
	{"rank 1", 12, []int{12}},
	{"rank 2", 12, []int{2, 6}},
	{"rank 4", 12, []int{2, 2, 3, 1}},
	{"components", 12, []int{2, 3, 2}},
	{"components 0", 0, []int{2, 0, 3}},
	{"length short", 11, []int{2, 2, 3}},
	{"length long", 13, []int{2, 2, 3}},
	{"negative batch", 12, []int{-2, 2, -3}},
	{"negative feature", 0, []int{0, 2, -3}},
	{"negative components", 12, []int{-2, -2, 3}},
	{"overflow", 12, []int{math.MaxInt/2 + 1, 2, 3}},
	{"overflow wraps to zero", 0, []int{math.MaxInt/2 + 1, 2, 6}},
	{"features", 12, []int{3, 2, 2}},
}

func TestL0NormRejectsBadShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	m, err := NewL0Norm[float32](2)
	require.NoError(t, err)
	require.NoError(t, m.Update(randomData[float32](rng, 5*2*3), 5, 2, 3))
	for _, c := range badShapes {
		if c.name == "features" {
			continue // L0Norm takes any number of features
		}
		t.Run(c.name, func(t *testing.T) {
			before := stateOf(t, m)
			x := randomData[float32](rng, c.n)
			require.ErrorIs(t, m.Update(x, c.shape...), ErrShape)
			_, err := m.Forward(x, c.shape...)
			require.ErrorIs(t, err, ErrShape)
			require.Equal(t, before, stateOf(t, m))
		})
	}
	flat, err := NewL0Norm[float32](0)
	require.NoError(t, err)
	require.ErrorIs(t, flat.Update(make([]float32, 6), 1, 2, 3), ErrShape)
	require.ErrorIs(t, flat.Update(make([]float32, 6), 6), ErrShape)
	require.ErrorIs(t, flat.Update(make([]float32, 6), 2, 2), ErrShape)
	require.Equal(t, int64(0), flat.Vectors())
}

func TestL0NormOverflow(t *testing.T) {
	m, err := NewL0Norm[uint8](0)
	require.NoError(t, err)
	full := withVectors(t, m, math.MaxInt64, []uint64{5})
	require.NoError(t, m.UnmarshalBinary(full))
	require.ErrorIs(t, m.Update([]uint8{1}, 1, 1), ErrOverflow)
	value, err := m.Forward([]uint8{1}, 1, 1)
	require.ErrorIs(t, err, ErrOverflow)
	require.True(t, value == nil, "Forward returned a value with its error")
	require.Equal(t, full, stateOf(t, m))

	other, err := NewL0Norm[uint8](0)
	require.NoError(t, err)
	require.NoError(t, other.UnmarshalBinary(withVectors(t, other, 1, []uint64{math.MaxUint64})))
	m.Reset()
	require.NoError(t, m.Update([]uint8{1}, 1, 1))
	before := stateOf(t, m)
	require.ErrorIs(t, m.Merge(other), ErrOverflow) // the counts would wrap
	require.Equal(t, before, stateOf(t, m))
}

// withVectors returns m's binary state with the given vector count and
// counts, checksummed.
func withVectors(t *testing.T, m marshaler, vectors uint64, counts []uint64) []byte {
	b := stateOf(t, m)
	binary.LittleEndian.PutUint64(b[32:], vectors)
	for i, c := range counts {
		binary.LittleEndian.PutUint64(b[headerSize+8*i:], c)
	}
	consistentSince(b)
	return withChecksum(b)
}

// consistentSince sets, in a FeatureActivity's state (version 2) whose
// counts or vectors were edited, each counter's vectors since fired to
// what its count and the vectors allow: 0 for a counter that fired (as in
// the state's last vector), every vector for one that did not.
func consistentSince(b []byte) {
	if string(b[:4]) != magicActivity || b[4] < activityVersion {
		return
	}
	vectors := binary.LittleEndian.Uint64(b[32:])
	n := (len(b) - headerSize - checksumSize) / 16
	for i := range n {
		since := vectors
		if binary.LittleEndian.Uint64(b[headerSize+8*i:]) > 0 {
			since = 0
		}
		binary.LittleEndian.PutUint64(b[headerSize+8*(n+i):], since)
	}
}

func TestL0NormMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a, _ := NewL0Norm[float32](3)
	b, _ := NewL0Norm[float32](3)
	both, _ := NewL0Norm[float32](3)
	for range 5 {
		x := randomData[float32](rng, 7*3*10)
		y := randomData[float32](rng, 2*3*70)
		require.NoError(t, a.Update(x, 7, 3, 10))
		require.NoError(t, b.Update(y, 2, 3, 70))
		require.NoError(t, both.Update(x, 7, 3, 10))
		require.NoError(t, both.Update(y, 2, 3, 70))
	}
	bState := stateOf(t, b)
	require.NoError(t, a.Merge(b))
	assert.Equal(t, stateOf(t, both), stateOf(t, a))
	assert.Equal(t, bState, stateOf(t, b), "Merge changed its argument")

	counts, vectors := a.Counts(), a.Vectors()
	require.NoError(t, a.Merge(a)) // doubles, without deadlock
	for i := range counts {
		counts[i] *= 2
	}
	assert.Equal(t, counts, a.Counts())
	assert.Equal(t, 2*vectors, a.Vectors())

	before := stateOf(t, a)
	require.ErrorIs(t, a.Merge(nil), ErrConfig)
	other, _ := NewL0Norm[float32](2)
	require.ErrorIs(t, a.Merge(other), ErrMismatch)
	above, _ := NewL0NormAbove[float32](3, 0)
	require.ErrorIs(t, a.Merge(above), ErrMismatch)
	require.ErrorIs(t, above.Merge(a), ErrMismatch)
	above2, _ := NewL0NormAbove[float32](3, 0.5)
	require.ErrorIs(t, above.Merge(above2), ErrMismatch)
	require.Equal(t, before, stateOf(t, a))

	above3, _ := NewL0NormAbove[float32](3, 0)
	require.NoError(t, above3.Update([]float32{1, -1, 0}, 1, 3, 1))
	require.NoError(t, above.Merge(above3))
	assert.Equal(t, []uint64{1, 0, 0}, above.Counts())
}

func TestL0NormReset(t *testing.T) {
	m, _ := NewL0Norm[int32](2)
	fresh := stateOf(t, m)
	require.NoError(t, m.Update([]int32{1, 2, 3, 4}, 1, 2, 2))
	m.Reset()
	assert.Equal(t, fresh, stateOf(t, m))
	_, err := m.Compute()
	require.ErrorIs(t, err, ErrNoVectors)
}
