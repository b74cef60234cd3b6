package metric

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentUse updates, forwards, computes, merges, marshals and
// resets metrics from many goroutines at once (run it with -race) and
// checks that the totals are exact.
func TestConcurrentUse(t *testing.T) {
	const (
		goroutines = 8
		batches    = 40
		components = 3
	)
	features := minRowFeatures + 6 // L0Norm counts row by row
	rng := rand.New(rand.NewPCG(9, 9))
	data := make([][]float32, goroutines)
	for g := range data {
		data[g] = randomData[float32](rng, 5*components*features)
	}
	shape := []int{5, components, features}

	m, _ := NewL0Norm[float32](components)
	a, _ := NewFeatureActivity[float32](components, features, SinceFired())
	short, _ := NewL0Norm[float32](components) // short rows: column counts
	// other is merged in once per goroutine.
	other, _ := NewL0Norm[float32](components)
	otherA, _ := NewFeatureActivity[float32](components, features, SinceFired())
	require.NoError(t, other.Update(data[0], shape...))
	require.NoError(t, otherA.Update(data[0], shape...))

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range batches {
				switch i % 4 {
				case 0:
					_, err := m.Forward(data[g], shape...)
					assert.NoError(t, err)
				case 1:
					_, err := m.Compute()
					assert.NoError(t, err)
					_, err = m.MarshalBinary()
					assert.NoError(t, err)
					_, err = a.Histogram()
					assert.NoError(t, err)
					fallthrough
				default:
					assert.NoError(t, m.Update(data[g], shape...))
				}
				assert.NoError(t, a.Update(data[g], shape...))
				assert.NoError(t, short.Update(data[g], 5*features, components, 1))
			}
			assert.NoError(t, m.Merge(other))
			assert.NoError(t, a.Merge(otherA))
		})
	}
	wg.Wait()

	want, _ := NewL0Norm[float32](components)
	wantA, _ := NewFeatureActivity[float32](components, features, SinceFired())
	wantShort, _ := NewL0Norm[float32](components)
	for g := range goroutines {
		for range batches {
			require.NoError(t, want.Update(data[g], shape...))
			require.NoError(t, wantA.Update(data[g], shape...))
			require.NoError(t, wantShort.Update(data[g], 5*features, components, 1))
		}
		require.NoError(t, want.Merge(other))
		require.NoError(t, wantA.Merge(otherA))
	}
	assert.Equal(t, stateOf(t, want), stateOf(t, m))
	// The since-fired counts depend on the order in which the batches
	// took the lock: the counts do not.
	assert.Equal(t, wantA.Counts(), a.Counts())
	assert.Equal(t, wantA.Vectors(), a.Vectors())
	checkSinceOfSomeOrder(t, a, append(data, data[0]), 5, components*features)
	assert.Equal(t, stateOf(t, wantShort), stateOf(t, short))
}

// TestConcurrentMergeNoDeadlock merges two metrics into each other, and
// each into itself, from many goroutines at once.
func TestConcurrentMergeNoDeadlock(t *testing.T) {
	a, _ := NewL0Norm[int8](0)
	b, _ := NewL0Norm[int8](0)
	fa, _ := NewFeatureActivity[int8](0, 2)
	fb, _ := NewFeatureActivity[int8](0, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 200 {
					assert.NoError(t, a.Merge(b))
					assert.NoError(t, b.Merge(a))
					assert.NoError(t, a.Merge(a))
					assert.NoError(t, fa.Merge(fb))
					assert.NoError(t, fb.Merge(fa))
					assert.NoError(t, fb.Merge(fb))
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("merges deadlocked")
	}
}

// checkSinceOfSomeOrder checks a's since-fired counts against what some
// order of whole batches, each one of batches (of rows vectors of width
// counters), can leave: a counter that never fired has seen every vector;
// one that did, last in some batch b, has seen the rows of b after its
// last row there, plus whole batches after b.
func checkSinceOfSomeOrder(t *testing.T, a *FeatureActivity[float32], batches [][]float32, rows, width int) {
	t.Helper()
	since, counts, vectors := sinceOf(t, a), a.Counts(), a.Vectors()
	for f := range width {
		if counts[f] == 0 {
			require.Equal(t, vectors, since[f], "counter %d never fired", f)
			continue
		}
		ok := false
		for _, x := range batches {
			for r := rows - 1; r >= 0; r-- {
				if isNonZero(x[r*width+f]) {
					after := int64(rows - 1 - r)
					ok = ok || (since[f] >= after && (since[f]-after)%int64(rows) == 0)
					break
				}
			}
		}
		require.True(t, ok, "counter %d: %d vectors since it fired, of no order of the batches", f, since[f])
	}
}
