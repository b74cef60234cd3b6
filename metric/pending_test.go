package metric

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sparsekit/l0/kernel"
	"github.com/stretchr/testify/require"
)

// testPendingCounters drives a FeatureActivity through batches of every
// path (in place into the pending byte counters, byte scratch, 64-bit
// scratch) across the widenings of its byte counters (255 vectors), and
// checks every read, Merge (of and into a metric with pending counts, and
// with itself), the binary state and Reset against the oracle, at every
// step.
func testPendingCounters[T kernel.Element](t *testing.T, options []Option, counts func(T) bool) {
	rng := rand.New(rand.NewPCG(91, uint64(elementTag[T]())))
	for _, size := range [][2]int{{0, 70}, {3, 21}, {1, 64}, {2, 5}} {
		components, features := size[0], size[1]
		a, err := NewFeatureActivity[T](components, features, options...)
		require.NoError(t, err)
		b, err := NewFeatureActivity[T](components, features, options...)
		require.NoError(t, err)
		want := make([]uint64, max(components, 1)*features)
		wantB := make([]uint64, len(want))
		var vectors, vectorsB int64
		update := func(m *FeatureActivity[T], want []uint64, vectors *int64, batch int) {
			shape := shapeOf(batch, components, features)
			x := randomData[T](rng, product(shape))
			require.NoError(t, m.Update(x, shape...), "shape %v", shape)
			for i, c := range oracleColumns(x, layoutOf(shape), counts) {
				want[i] += c
			}
			*vectors += int64(batch)
		}
		batches := []int{1, 7, 100, 140, 8, 1, 254, 3, 255, 256, 2, 300, 5, 250, 9}
		for step, batch := range batches {
			update(a, want, &vectors, batch)
			update(b, wantB, &vectorsB, []int{1, 3, 8, 200}[rng.IntN(4)])
			switch step % 5 {
			case 0:
				require.Equal(t, want, a.Counts(), "step %d", step)
			case 1:
				dead := []int{}
				for i, c := range want {
					if c == 0 {
						dead = append(dead, i)
					}
				}
				require.Equal(t, dead, a.Dead(), "step %d", step)
			case 2:
				// The state of a metric with pending counts, restored
				// into a fresh one and into one with pending counts of
				// its own, and read from a stream.
				state := stateOf(t, a)
				c, _ := NewFeatureActivity[T](components, features, options...)
				require.NoError(t, c.UnmarshalBinary(state))
				require.Equal(t, want, c.Counts())
				d, _ := NewFeatureActivity[T](components, features, options...)
				update(d, make([]uint64, len(want)), new(int64), 3)
				require.NoError(t, d.UnmarshalBinary(state))
				require.Equal(t, want, d.Counts())
				require.Equal(t, vectors, d.Vectors())
				update(d, make([]uint64, len(want)), new(int64), 2)
				require.Equal(t, vectors+2, d.Vectors())
			case 3:
				require.NoError(t, a.Merge(b), "step %d", step)
				for i := range want {
					want[i] += wantB[i]
				}
				vectors += vectorsB
				require.Equal(t, wantB, b.Counts(), "step %d: the merged metric", step)
			case 4:
				l0, err := a.L0()
				require.NoError(t, err)
				require.Len(t, l0, max(components, 1))
			}
			require.Equal(t, vectors, a.Vectors(), "step %d", step)
		}
		require.NoError(t, a.Merge(a))
		for i := range want {
			want[i] *= 2
		}
		require.Equal(t, want, a.Counts())
		update(a, want, &vectors, 4)
		a.Reset()
		clear(want)
		update(a, want, new(int64), 6)
		require.Equal(t, want, a.Counts(), "after Reset")
		require.Equal(t, int64(6), a.Vectors())
	}
}

// pendingAtEverySize makes the pending byte counters of every metric of
// the test, whatever its counters (minPendingCounters), until it ends.
func pendingAtEverySize(t testing.TB) {
	old := minPendingCounters
	minPendingCounters = 0
	t.Cleanup(func() { minPendingCounters = old })
}

// TestPendingCounters runs testPendingCounters at every level, for float
// types of each width under NonZero and a threshold, and an integer type.
func TestPendingCounters(t *testing.T) {
	pendingAtEverySize(t)
	forEachLevel(t, func(t *testing.T) {
		testPendingCounters[float32](t, nil, isNonZero[float32])
		testPendingCounters[float64](t, nil, isNonZero[float64])
		testPendingCounters[kernel.BFloat16](t, nil, isNonZero[kernel.BFloat16])
		testPendingCounters[int8](t, nil, isNonZero[int8])
		testPendingCounters[uint64](t, nil, isNonZero[uint64])
		testPendingCounters[float32](t, []Option{Above(0.5)}, func(v float32) bool { return v > 0.5 })
		testPendingCounters[kernel.Float16](t, []Option{AbsAbove(0.5)}, func(v kernel.Float16) bool { return math.Abs(value(v)) > 0.5 })
	})
}

// TestPendingNearOverflow: with counts near 2^64, batches of few vectors
// take the checked way (the bounds no longer tell at once), and an
// addition that would overflow is refused and changes nothing, pending
// counts or not.
func TestPendingNearOverflow(t *testing.T) {
	a, err := NewFeatureActivity[float32](0, 3)
	require.NoError(t, err)
	require.NoError(t, a.Update([]float32{1, 0, 1, 1, 0, 0}, 2, 3)) // pending [2 0 1]
	c := a.core()
	c.mu.Lock()
	c.countsLocked()
	c.counts[1] = math.MaxUint64 - 1
	c.limit = math.MaxUint64 - 1
	c.mu.Unlock()
	require.NoError(t, a.Update([]float32{0, 1, 0}, 1, 3))
	require.Equal(t, []uint64{2, math.MaxUint64, 1}, a.Counts())
	require.ErrorIs(t, a.Update([]float32{0, 1, 0}, 1, 3), ErrOverflow)
	require.NoError(t, a.Update([]float32{1, 0, 0}, 1, 3))
	x := make([]float32, 3*20)
	for i := range 20 {
		x[3*i+1] = 1
	}
	require.ErrorIs(t, a.Update(x, 20, 3), ErrOverflow)
	require.Equal(t, []uint64{3, math.MaxUint64, 1}, a.Counts())
	require.Equal(t, int64(4), a.Vectors())
}
