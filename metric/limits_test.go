package metric

import (
	"encoding/binary"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sizes far past the limits that an int holds on any machine.
const (
	hugeInt  = math.MaxInt/2 + 1   // 2^62 on 64-bit machines, 2^30 on 32-bit ones
	largeInt = math.MaxInt>>13 + 1 // 2^50, 2^18
)

// TestLimits checks the sizes the constructors refuse: the ones that used
// to panic (NewL0Norm(1<<62) and NewFeatureActivity(0, MaxInt/8) in the
// constructor, NewFeatureActivity(1<<62, 0) in L0) and those just past
// MaxComponents and MaxCounters.
func TestLimits(t *testing.T) {
	for _, components := range []int{MaxComponents + 1, math.MaxInt32, hugeInt, math.MaxInt} {
		_, err := NewL0Norm[float32](components)
		require.ErrorIs(t, err, ErrConfig, "NewL0Norm(%d)", components)
		_, err = NewL0NormAbove[float32](components, 0.5)
		require.ErrorIs(t, err, ErrConfig, "NewL0NormAbove(%d)", components)
		for _, features := range []int{0, 1} {
			_, err = NewFeatureActivity[float32](components, features)
			require.ErrorIs(t, err, ErrConfig, "NewFeatureActivity(%d, %d)", components, features)
			_, err = NewFeatureActivityAbove[float32](components, features, 0.5)
			require.ErrorIs(t, err, ErrConfig, "NewFeatureActivityAbove(%d, %d)", components, features)
		}
	}
	for _, c := range [][2]int{
		{0, MaxCounters + 1}, {1, MaxCounters + 1}, {2, MaxCounters/2 + 1},
		{MaxComponents, MaxCounters/MaxComponents + 1}, {0, math.MaxInt / 8}, {0, math.MaxInt}, {3, math.MaxInt / 2},
	} {
		_, err := NewFeatureActivity[int8](c[0], c[1])
		require.ErrorIs(t, err, ErrConfig, "NewFeatureActivity(%d, %d)", c[0], c[1])
	}

	// At the limit: the per-component results of vectors of no features.
	if !testing.Short() {
		a, err := NewFeatureActivity[float32](MaxComponents, 0)
		require.NoError(t, err)
		require.NoError(t, a.Update(nil, largeInt, MaxComponents, 0))
		l0, err := a.L0()
		require.NoError(t, err)
		assert.Len(t, l0, MaxComponents)
		h, err := a.Histogram()
		require.NoError(t, err)
		assert.Equal(t, Histogram{Edges: histogramEdges()}, h)
	}
	m, err := NewL0Norm[uint8](1 << 20)
	require.NoError(t, err)
	require.NoError(t, m.Update(nil, hugeInt, 1<<20, 0))
	l0, err := m.Compute()
	require.NoError(t, err)
	assert.Len(t, l0, 1<<20)
}

// TestLimitsUnmarshal checks a serialized state past the limits is an
// ErrFormat error, whatever its length, and changes nothing.
func TestLimitsUnmarshal(t *testing.T) {
	a, err := NewFeatureActivity[float32](3, 0)
	require.NoError(t, err)
	require.NoError(t, a.Update(nil, 5, 3, 0))
	before := stateOf(t, a)
	for _, c := range [][2]uint64{{MaxComponents + 1, 0}, {hugeInt, 0}, {0, MaxCounters + 1}, {2, MaxCounters/2 + 1}} {
		b := append([]byte(nil), before...)
		binary.LittleEndian.PutUint64(b[8:], c[0])
		binary.LittleEndian.PutUint64(b[16:], c[1])
		require.ErrorIs(t, a.UnmarshalBinary(withChecksum(b)), ErrFormat, "components %d, features %d", c[0], c[1])
		require.Equal(t, before, stateOf(t, a))
	}
	m, err := NewL0Norm[float32](0)
	require.NoError(t, err)
	b := stateOf(t, m)
	binary.LittleEndian.PutUint64(b[8:], MaxComponents+1)
	require.ErrorIs(t, m.UnmarshalBinary(withChecksum(b)), ErrFormat)
}

// TestNoPanics calls every method of metrics of hostile sizes, the
// accepted ones with vectors of no features, and requires errors, never
// a panic.
func TestNoPanics(t *testing.T) {
	sizes := []int{-hugeInt, -1, 0, 1, 3, 1 << 16, MaxComponents, MaxComponents + 1, MaxCounters, MaxCounters + 1, math.MaxInt32, math.MaxInt / 8, math.MaxInt/8 + 1, hugeInt, math.MaxInt}
	for _, components := range sizes {
		for _, features := range sizes {
			// Only the sizes that allocate little: an accepted metric takes the
			// memory its sizes ask for.
			small := components <= 1<<16 && (features == 0 || features <= 1<<16 && components*features <= 1<<16)
			valid := components >= 0 && features >= 0 && checkSizes(components, features) == nil
			if valid && !small {
				continue
			}
			a, err := NewFeatureActivity[float32](components, features)
			if err != nil {
				require.ErrorIs(t, err, ErrConfig)
			} else {
				shape := []int{largeInt, components, features}
				if components == 0 {
					shape = []int{largeInt, features}
				}
				x := make([]float32, max(components, 1)*features)
				_ = a.Update(x, shape...)
				_ = a.Update(x, 1, components+1, features)
				_, _ = a.L0()
				_, _ = a.Histogram()
				_, _ = a.Dense(0.5)
				_ = a.Dead()
				_, _ = a.Density()
				require.NoError(t, a.UnmarshalBinary(stateOf(t, a)))
			}
			if features != 0 {
				continue
			}
			m, err := NewL0Norm[float32](components)
			if err != nil {
				require.ErrorIs(t, err, ErrConfig)
				continue
			}
			if components <= 1<<16 {
				_ = m.Update(nil, largeInt, components, 0)
				_, _ = m.Forward(nil, largeInt, components, 0)
				_, _ = m.Compute()
				require.NoError(t, m.UnmarshalBinary(stateOf(t, m)))
			}
		}
	}
}

// TestScratchFollowsTheBatch checks the memory an Update takes beyond the
// state, from empty pools, for many components of short rows: at most the
// batch's own bytes. An L0Norm used to take a column scratch of 8 bytes
// per (component, feature), 8 times an int8 batch of one vector, and keep
// it alive beside the per-component one; a FeatureActivity a scratch the
// size of its state for a single vector.
func TestScratchFollowsTheBatch(t *testing.T) {
	const components, features = 5_000, 100
	for _, batch := range []int{1, 3, 7, 8, 16} {
		shape := []int{batch, components, features}
		x := make([]int8, batch*components*features)
		for i := range x {
			x[i] = int8(i % 3)
		}
		m, err := NewL0Norm[int8](components)
		require.NoError(t, err)
		a, err := NewFeatureActivity[int8](components, features, SinceFired()) // its walk's scratch too
		require.NoError(t, err)
		for _, c := range []struct {
			name   string
			update func() error
			limit  int // bytes a cold Update may allocate
		}{
			{"L0Norm", func() error { return m.Update(x, shape...) }, len(x) + 8*components + 64<<10},
			// 8 bytes a counter of its own scratch, and the kernel's byte
			// per column when it streams the batch (kernel/chunk.go), and a
			// bit per counter for the since-fired walk.
			{"FeatureActivity", func() error { return a.Update(x, shape...) }, 9*components*features + components*features/8 + 64<<10},
		} {
			if c.name == "FeatureActivity" && batch < minColumnBatch {
				// Counted in place, into the state's pending byte
				// counters, made by the second such batch: a byte per
				// counter, at most the batch's own bytes; and a bit per
				// counter for the since-fired walk.
				c.limit = components*features + components*features/8 + 64<<10
			}
			for round := range 2 {
				grew := allocated(func() { require.NoError(t, c.update()) })
				assert.LessOrEqual(t, grew, uint64(c.limit), "%s, batch %d, round %d: allocated %d bytes for a batch of %d", c.name, batch, round, grew, len(x))
			}
		}
		want := make([]uint64, components)
		for s := range want {
			for v := range batch {
				for _, e := range x[(v*components+s)*features : (v*components+s+1)*features] {
					if e != 0 {
						want[s]++
					}
				}
			}
			want[s] *= 2
		}
		assert.Equal(t, want, m.Counts(), "batch %d", batch)
	}
}

// allocated returns the bytes f allocates, from empty pools.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // a pool's buffers survive one collection
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestNilMetric: every method of a nil metric (what a constructor returns
// with its error, when the error is ignored) returns ErrConfig or a zero
// value; none panics.
func TestNilMetric(t *testing.T) {
	x := []float32{1, 0}
	var m *L0Norm[float32]
	good, _ := NewL0Norm[float32](0)
	for _, err := range []error{
		m.Update(x, 1, 2),
		func() error { _, err := m.Forward(x, 1, 2); return err }(),
		func() error { _, err := m.Compute(); return err }(),
		func() error { _, err := m.MarshalBinary(); return err }(),
		func() error { _, err := m.AppendBinary(nil); return err }(),
		m.UnmarshalBinary(nil),
		m.Merge(good),
		UpdateTopK(m, []int32{0}, nil, 1, 1),
		UpdateSparse(m, TopK[float32, int32]{Index: []int32{0}, Batch: 1, K: 1}),
		UpdateEntries(m, 1, []int32{0}, nil),
		func() error { _, err := ForwardTopK(m, []int32{0}, nil, 1, 1); return err }(),
		func() error {
			_, err := ForwardSparse(m, TopK[float32, int32]{Index: []int32{0}, Batch: 1, K: 1})
			return err
		}(),
	} {
		// Every method of a nil metric answers alike, naming its type.
		assert.EqualError(t, err, "metric: bad configuration: a nil *L0Norm (did its constructor return an error?)")
	}
	assert.ErrorIs(t, good.Merge(m), ErrConfig)
	assert.Zero(t, m.Components())
	assert.Zero(t, m.Vectors())
	assert.Nil(t, m.Counts())
	_, ok := m.Threshold()
	assert.False(t, ok)
	assert.Equal(t, NonZero().String(), m.Rule().String())
	m.Reset()

	var a *FeatureActivity[float32]
	assert.ErrorIs(t, a.Update(x, 1, 2), ErrConfig)
	for _, err := range []error{
		func() error { _, err := a.Density(); return err }(),
		func() error { _, err := a.Dense(0.1); return err }(),
		func() error { _, err := a.L0(); return err }(),
		func() error { _, err := a.Histogram(); return err }(),
		func() error { _, err := a.MarshalBinary(); return err }(),
		func() error { _, err := a.AppendBinary(nil); return err }(),
		a.UnmarshalBinary(nil),
		a.Merge(nil),
		UpdateTopK(a, []int32{0}, nil, 1, 1),
		UpdateSparse(a, TopK[float32, int32]{Index: []int32{0}, Batch: 1, K: 1}),
		UpdateEntries(a, 1, []int32{0}, nil),
		func() error { _, err := a.ReadFrom(nil); return err }(),
	} {
		assert.EqualError(t, err, "metric: bad configuration: a nil *FeatureActivity (did its constructor return an error?)")
	}
	assert.Zero(t, a.Components())
	assert.Zero(t, a.Features())
	assert.Zero(t, a.Vectors())
	assert.Nil(t, a.Counts())
	assert.Nil(t, a.Dead())
	a.Reset()
}
