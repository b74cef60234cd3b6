package metric

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/require"
)

// randomKeep returns a keep mask of n vectors of one of several patterns:
// all kept, none, alternating, runs, one dropped at each end, random.
func randomKeep(rng *rand.Rand, n int) []bool {
	keep := make([]bool, n)
	pattern := rng.IntN(7)
	for i := range keep {
		switch pattern {
		case 0:
			keep[i] = true
		case 1:
			keep[i] = false
		case 2:
			keep[i] = i%2 == 0
		case 3:
			keep[i] = i/5%2 == 1
		case 4:
			keep[i] = i != 0 && i != n-1
		default:
			keep[i] = rng.IntN(4) != 0
		}
	}
	return keep
}

// keptRows returns the rows of x (of width elements each) that keep keeps:
// the batch a caller without masks would build, and the oracle's input.
func keptRows[T any](x []T, keep []bool, width int) []T {
	var out []T
	for i, k := range keep {
		if k {
			out = append(out, x[i*width:(i+1)*width]...)
		}
	}
	return out
}

func count(keep []bool) int {
	n := 0
	for _, k := range keep {
		if k {
			n++
		}
	}
	return n
}

// TestMaskedUpdate checks, on every kernel level, that each masked update
// leaves a metric as the update of the kept vectors alone, copied out,
// does (the same binary state), and that its counts are those of an
// oracle walking the kept vectors one by one.
func TestMaskedUpdate(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		testMasked[float32](t)
		testMasked[kernel.BFloat16](t)
		testMasked[float64](t)
		testMasked[int8](t)
		testMasked[uint16](t)
	})
}

func testMasked[T kernel.Element](t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2))
	for _, c := range sparseCases[T]() {
		for trial := range trials(40) {
			components := []int{0, 2, 3}[trial%3]
			shape := randomLayout(rng, components, -1)
			l := layoutOf(shape)
			x := randomData[T](rng, product(shape))
			keep := randomKeep(rng, l.batch)
			width := l.slots * l.features
			kept := keptRows(x, keep, width)
			keptShape := slices.Clone(shape)
			keptShape[0] = count(keep)

			norm, err := NewL0Norm[T](components, c.rule)
			require.NoError(t, err)
			want, _ := NewL0Norm[T](components, c.rule)
			require.NoError(t, norm.UpdateMasked(x, keep, shape...))
			require.NoError(t, want.Update(kept, keptShape...))
			require.Equal(t, stateOf(t, want), stateOf(t, norm), "L0Norm %v %v", shape, keep)

			act, _ := NewFeatureActivity[T](components, l.features, c.rule)
			wantAct, _ := NewFeatureActivity[T](components, l.features, c.rule)
			require.NoError(t, act.UpdateMasked(x, keep, shape...))
			require.NoError(t, wantAct.Update(kept, keptShape...))
			require.Equal(t, stateOf(t, wantAct), stateOf(t, act), "FeatureActivity %v %v", shape, keep)

			// The oracle, one vector at a time.
			oracle := make([]uint64, l.slots*l.features)
			for v, k := range keep {
				if !k {
					continue
				}
				for i, e := range x[v*width : (v+1)*width] {
					if c.counts(e) {
						oracle[i]++
					}
				}
			}
			require.Equal(t, oracle, act.Counts())
			require.Equal(t, int64(count(keep)), act.Vectors())

			// The top-k form of the same batch.
			index, values, k := topKForm[T, int32](rng, x, l, c, trial%3)
			topKShape := append(slices.Clone(shape[:len(shape)-1]), k)
			b := TopK[T, int32]{Index: index, Values: values, Batch: l.batch, Components: components, K: k}
			if trial%4 == 0 {
				b.Values = nil // every entry counts: the count is k a vector
			}
			sparseNorm, _ := NewL0Norm[T](components, c.rule)
			sparseAct, _ := NewFeatureActivity[T](components, l.features, c.rule)
			require.NoError(t, UpdateSparseMasked(sparseNorm, b, keep))
			require.NoError(t, UpdateSparseMasked(sparseAct, b, keep))
			keptB := b
			keptB.Index = keptRows(index, keep, max(len(index)/max(l.batch, 1), 0))
			if b.Values != nil {
				keptB.Values = keptRows(values, keep, max(len(values)/max(l.batch, 1), 0))
			}
			keptB.Batch = count(keep)
			wantNorm, _ := NewL0Norm[T](components, c.rule)
			wantSparse, _ := NewFeatureActivity[T](components, l.features, c.rule)
			require.NoError(t, UpdateSparse(wantNorm, keptB))
			require.NoError(t, UpdateSparse(wantSparse, keptB))
			require.Equal(t, stateOf(t, wantNorm), stateOf(t, sparseNorm), "sparse L0Norm %v", topKShape)
			require.Equal(t, stateOf(t, wantSparse), stateOf(t, sparseAct), "sparse FeatureActivity %v", topKShape)
			if b.Values != nil {
				require.Equal(t, stateOf(t, act), stateOf(t, sparseAct))
			}
		}
	}
}

// TestMaskedRejects checks the calls a user can get wrong: each is an
// error of the right kind and leaves the metric as it was.
func TestMaskedRejects(t *testing.T) {
	norm, _ := NewL0Norm[float32](0)
	act, _ := NewFeatureActivity[float32](0, 3)
	x := []float32{1, 0, 2, 0, 0, 3}
	require.NoError(t, norm.UpdateMasked(x, []bool{true, false}, 2, 3))
	require.NoError(t, act.UpdateMasked(x, []bool{false, true}, 2, 3))
	normState, actState := stateOf(t, norm), stateOf(t, act)
	for _, keep := range [][]bool{{}, {true}, {true, true, true}} {
		require.ErrorIs(t, norm.UpdateMasked(x, keep, 2, 3), ErrShape)
		require.ErrorIs(t, act.UpdateMasked(x, keep, 2, 3), ErrShape)
		require.ErrorIs(t, UpdateSparseMasked(act, TopK[float32, int32]{Index: []int32{0, 1}, Batch: 2, K: 1}, keep), ErrShape)
	}
	require.ErrorIs(t, act.UpdateMasked(x, []bool{true, true}, 3, 2), ErrShape)
	// An index past the features in an excluded vector is still an error.
	require.ErrorIs(t, UpdateSparseMasked(act, TopK[float32, int32]{Index: []int32{0, 3}, Batch: 2, K: 1}, []bool{true, false}), kernel.ErrIndex)
	require.ErrorIs(t, UpdateSparseMasked(norm, TopK[float32, int32]{Index: []int32{0, -1}, Batch: 2, K: 1}, []bool{true, false}), kernel.ErrIndex)
	require.Equal(t, normState, stateOf(t, norm))
	require.Equal(t, actState, stateOf(t, act))
	// Nothing kept changes nothing.
	require.NoError(t, norm.UpdateMasked(x, []bool{false, false}, 2, 3))
	require.NoError(t, act.UpdateMasked(x, []bool{false, false}, 2, 3))
	require.Equal(t, normState, stateOf(t, norm))
	require.Equal(t, actState, stateOf(t, act))
	var nilNorm *L0Norm[float32]
	var nilAct *FeatureActivity[float32]
	require.ErrorIs(t, nilNorm.UpdateMasked(x, nil, 2, 3), ErrConfig)
	require.ErrorIs(t, nilAct.UpdateMasked(x, nil, 2, 3), ErrConfig)
	require.ErrorIs(t, UpdateSparseMasked[float32, int32](nil, TopK[float32, int32]{}, nil), ErrConfig)
}

func TestTokenMask(t *testing.T) {
	require.Equal(t, []bool{false, true, true, false, true}, TokenMask(nil, []int64{50256, 1, 2, 0, 7}, []int64{0, 50256}))
	require.Equal(t, []bool{true, true}, TokenMask(make([]bool, 0, 8), []int32{1, 2}, nil))
	require.Empty(t, TokenMask[int64](nil, nil, []int64{1}))
}

// seqOracle is the per-sequence statistics walked vector by vector, from
// the definitions: firings and sequences fired per (component, feature),
// and with positions the counted elements and kept vectors per position.
type seqOracle struct {
	sequences  int64
	vectors    int64
	firings    []uint64
	fired      []uint64
	posCounts  []uint64
	posVectors []int64
}

func oracleSequences[T kernel.Element](x []T, keep []bool, sequences, positions, slots, features int, counts func(T) bool) seqOracle {
	o := seqOracle{
		sequences: int64(sequences),
		firings:   make([]uint64, slots*features), fired: make([]uint64, slots*features),
		posCounts: make([]uint64, positions*slots), posVectors: make([]int64, positions),
	}
	width := slots * features
	for q := range sequences {
		seen := make([]bool, width)
		for p := range positions {
			v := q*positions + p
			if keep != nil && !keep[v] {
				continue
			}
			o.vectors++
			o.posVectors[p]++
			for i, e := range x[v*width : (v+1)*width] {
				if counts(e) {
					o.firings[i]++
					seen[i] = true
					o.posCounts[p*slots+i/max(features, 1)]++
				}
			}
		}
		for i, s := range seen {
			if s {
				o.fired[i]++
			}
		}
	}
	return o
}

func TestSequenceActivity(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		testSequences[float32](t)
		testSequences[kernel.Float16](t)
		testSequences[int16](t)
	})
}

func testSequences[T kernel.Element](t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 3))
	for _, c := range sparseCases[T]() {
		for trial := range trials(30) {
			components := []int{0, 0, 2}[trial%3]
			slots := max(components, 1)
			sequences := []int{0, 1, 2, 5, 9}[rng.IntN(5)]
			positions := []int{1, 2, 7, 16}[rng.IntN(4)]
			features := []int{1, 3, 17, 64, 300, 600}[rng.IntN(6)]
			shape := []int{sequences, positions, features}
			if components > 0 {
				shape = []int{sequences, positions, components, features}
			}
			x := randomData[T](rng, product(shape))
			var keep []bool
			if trial%5 != 0 {
				keep = randomKeep(rng, sequences*positions)
			}
			o := oracleSequences(x, keep, sequences, positions, slots, features, c.counts)

			fixed := positions
			if trial%2 == 0 {
				fixed = 0
			}
			s, err := NewSequenceActivity[T](fixed, components, features, c.rule, SinceFired())
			require.NoError(t, err)
			require.NoError(t, s.UpdateMasked(x, keep, shape...))
			checkSequences(t, s, o, fixed)

			// The top-k form, per sequence.
			l := layout{batch: sequences * positions, slots: slots, features: features}
			index, values, k := topKForm[T, int64](rng, x, l, c, trial%3)
			topKShape := slices.Clone(shape)
			topKShape[len(topKShape)-1] = k
			sparse, _ := NewSequenceActivity[T](fixed, components, features, c.rule, SinceFired())
			require.NoError(t, UpdateSequencesTopK(sparse, index, values, keep, topKShape...))
			checkSequences(t, sparse, o, fixed)
			// Twice, across the stamps of the first batch.
			require.NoError(t, UpdateSequencesTopK(sparse, index, values, keep, topKShape...))
			require.NoError(t, s.Merge(s))
			checkSame(t, s, sparse)

			// The counts made elsewhere (a latent cache's), added.
			counted, _ := NewSequenceActivity[T](fixed, components, features, c.rule, SinceFired())
			sc := SequenceCounts{Sequences: o.sequences, Firings: o.firings, Fired: o.fired, Vectors: o.vectors}
			if fixed > 0 {
				sc.PositionVectors, sc.PositionCounts = o.posVectors, o.posCounts
			}
			require.NoError(t, counted.AddCounts(sc))
			checkSequences(t, counted, o, fixed)
			require.NoError(t, counted.AddCounts(sc))
			// Counts made elsewhere have no vector each: a feature that
			// fired in them counts as fired in their last vector
			// (VectorsSinceFired); the rest is the dense batch's.
			require.Equal(t, s.Activity().Counts(), counted.Activity().Counts())
			require.Equal(t, s.Activity().Vectors(), counted.Activity().Vectors())
			for i, n := range sinceOf(t, counted.Activity()) {
				if s.Activity().Counts()[i] > 0 {
					require.Zero(t, n)
				}
			}
			require.Equal(t, s.SequencesFired(), counted.SequencesFired())
			require.Equal(t, s.PositionVectors(), counted.PositionVectors())

			// Merge of halves is the whole.
			if sequences >= 2 {
				half := sequences / 2
				a, _ := NewSequenceActivity[T](fixed, components, features, c.rule, SinceFired())
				b, _ := NewSequenceActivity[T](fixed, components, features, c.rule, SinceFired())
				split := half * positions * slots * features
				var ka, kb []bool
				if keep != nil {
					ka, kb = keep[:half*positions], keep[half*positions:]
				}
				sa, sb := slices.Clone(shape), slices.Clone(shape)
				sa[0], sb[0] = half, sequences-half
				require.NoError(t, a.UpdateMasked(x[:split], ka, sa...))
				require.NoError(t, b.UpdateMasked(x[split:], kb, sb...))
				require.NoError(t, a.Merge(b))
				checkSequences(t, a, o, fixed)
			}
		}
	}
}

func checkSequences[T kernel.Element](t *testing.T, s *SequenceActivity[T], o seqOracle, fixed int) {
	t.Helper()
	require.Equal(t, o.sequences, s.Sequences())
	require.Equal(t, o.vectors, s.Vectors())
	require.Equal(t, o.firings, s.Activity().Counts())
	require.Equal(t, o.fired, s.SequencesFired())
	cah := s.ConsistentActivation()
	for i, n := range o.fired {
		if n == 0 {
			require.True(t, math.IsNaN(cah[i]))
		} else {
			require.Equal(t, float64(o.firings[i])/float64(n), cah[i])
		}
	}
	if fixed == 0 {
		_, err := s.L0ByPosition()
		require.ErrorIs(t, err, ErrConfig)
		return
	}
	require.Equal(t, o.posVectors, s.PositionVectors())
	l0, err := s.L0ByPosition()
	require.NoError(t, err)
	slots := len(o.posCounts) / len(o.posVectors)
	for i, n := range o.posCounts {
		want := float64(n) / float64(o.posVectors[i/slots])
		if math.IsNaN(want) {
			require.True(t, math.IsNaN(l0[i]))
		} else {
			require.Equal(t, want, l0[i])
		}
	}
}

func checkSame[T kernel.Element](t *testing.T, a, b *SequenceActivity[T]) {
	t.Helper()
	require.Equal(t, a.Sequences(), b.Sequences())
	require.Equal(t, stateOf(t, a.Activity()), stateOf(t, b.Activity()))
	require.Equal(t, a.SequencesFired(), b.SequencesFired())
	require.Equal(t, a.PositionVectors(), b.PositionVectors())
}

func TestSequenceActivityRejects(t *testing.T) {
	_, err := NewSequenceActivity[float32](-1, 0, 4)
	require.ErrorIs(t, err, ErrConfig)
	_, err = NewSequenceActivity[float32](0, 0, -4)
	require.ErrorIs(t, err, ErrConfig)
	_, err = NewSequenceActivity[int8](0, 0, 4, Above(1))
	require.ErrorIs(t, err, ErrConfig)
	s, err := NewSequenceActivity[float32](2, 0, 3)
	require.NoError(t, err)
	x := []float32{1, 0, 0, 0, 2, 0, 0, 0, 3, 4, 0, 0}
	require.NoError(t, s.UpdateMasked(x, []bool{false, true, true, true}, 2, 2, 3))
	before := s.SequencesFired()
	state := stateOf(t, s.Activity())
	for _, shape := range [][]int{{4, 3}, {2, 2, 2, 3}, {1, 4, 3}, {2, 2, 4}, {-2, -2, 3}, {math.MaxInt, 2, 3}} {
		require.ErrorIs(t, s.UpdateMasked(x, nil, shape...), ErrShape, "%v", shape)
	}
	require.ErrorIs(t, s.UpdateMasked(x, []bool{true}, 2, 2, 3), ErrShape)
	require.ErrorIs(t, UpdateSequencesTopK(s, []int32{0, 3, 1, 1}, nil, nil, 2, 2, 1), kernel.ErrIndex)
	require.ErrorIs(t, UpdateSequencesTopK(s, []int32{0, 1, 1, 1}, []float32{1}, nil, 2, 2, 1), ErrShape)
	require.ErrorIs(t, UpdateSequencesTopK(s, []int32{0, 1, 1, 1}, nil, []bool{true}, 2, 2, 1), ErrShape)
	require.ErrorIs(t, UpdateSequencesTopK[float32, int32](nil, nil, nil, nil, 0, 2, 1), ErrConfig)
	require.Equal(t, before, s.SequencesFired())
	require.Equal(t, state, stateOf(t, s.Activity()))
	require.Equal(t, int64(2), s.Sequences())
	// Counts no dense batch could give: each refused, nothing changed.
	good := func() SequenceCounts {
		return SequenceCounts{Sequences: 2, Firings: []uint64{1, 2, 0}, Fired: []uint64{1, 2, 0}, Vectors: 3,
			PositionVectors: []int64{1, 2}, PositionCounts: []uint64{1, 2}}
	}
	for _, spoil := range []func(*SequenceCounts){
		func(c *SequenceCounts) { c.Firings = c.Firings[:2] },
		func(c *SequenceCounts) { c.Fired = nil },
		func(c *SequenceCounts) { c.PositionVectors = nil },
		func(c *SequenceCounts) { c.PositionCounts = []uint64{1} },
		func(c *SequenceCounts) { c.Sequences = -1 },
		func(c *SequenceCounts) { c.Vectors = -1 },
		func(c *SequenceCounts) { c.Vectors = 5 },                                     // more than 2 × 2
		func(c *SequenceCounts) { c.Vectors = 4 },                                     // not the positions' sum
		func(c *SequenceCounts) { c.PositionVectors = []int64{3, 0} },                 // past the sequences
		func(c *SequenceCounts) { c.PositionVectors = []int64{-1, 4} },                // negative
		func(c *SequenceCounts) { c.PositionCounts = []uint64{4, 0} },                 // past 1 vector × 3 features
		func(c *SequenceCounts) { c.Firings[0] = 4 },                                  // past the vectors
		func(c *SequenceCounts) { c.Fired[1] = 3 },                                    // past the sequences
		func(c *SequenceCounts) { c.Fired[0] = 2 },                                    // past the firings
		func(c *SequenceCounts) { c.Fired[0] = 0 },                                    // fired in no sequence
		func(c *SequenceCounts) { c.PositionVectors = []int64{1<<63 - 1, 1<<63 - 1} }, // a sum past 2^63
	} {
		c := good()
		spoil(&c)
		require.ErrorIs(t, s.AddCounts(c), ErrShape, "%+v", c)
	}
	require.ErrorIs(t, (*SequenceActivity[float32])(nil).AddCounts(good()), ErrConfig)
	huge, _ := NewSequenceActivity[float32](0, 0, 1)
	most := SequenceCounts{Sequences: math.MaxInt64, Firings: []uint64{0}, Fired: []uint64{0}}
	require.NoError(t, huge.AddCounts(most))
	most.Sequences = 1
	require.ErrorIs(t, huge.AddCounts(most), ErrOverflow)
	require.Equal(t, int64(math.MaxInt64), huge.Sequences())
	require.Equal(t, before, s.SequencesFired())
	require.Equal(t, state, stateOf(t, s.Activity()))
	require.Equal(t, int64(2), s.Sequences())
	other, _ := NewSequenceActivity[float32](3, 0, 3)
	require.ErrorIs(t, s.Merge(other), ErrMismatch)
	require.ErrorIs(t, s.Merge(nil), ErrConfig)
	s.Reset()
	require.Equal(t, int64(0), s.Sequences())
	require.Equal(t, []uint64{0, 0, 0}, s.SequencesFired())
}

// TestSequencesOfNoElements: a batch whose vectors have no elements costs
// the work of its mask or its positions, never of the sequences its shape
// claims.
func TestSequencesOfNoElements(t *testing.T) {
	if math.MaxInt == math.MaxInt32 {
		t.Skip("sizes past a 32-bit int")
	}
	shift := 50 // not a constant: a 32-bit build compiles this too
	n, m := 1<<shift, 1<<(shift+10)
	s, _ := NewSequenceActivity[float32](4, 0, 0)
	require.NoError(t, s.Update(nil, n, 4, 0))
	require.Equal(t, int64(n), s.Sequences())
	require.Equal(t, int64(4*n), s.Vectors())
	require.Equal(t, []int64{int64(n), int64(n), int64(n), int64(n)}, s.PositionVectors())
	sparse, _ := NewSequenceActivity[float32](0, 0, 7)
	require.NoError(t, UpdateSequencesTopK[float32, int32](sparse, nil, nil, nil, n, 1<<10, 0))
	require.Equal(t, int64(n), sparse.Sequences())
	require.Equal(t, make([]uint64, 7), sparse.SequencesFired())
	require.ErrorIs(t, s.Update(nil, 4*m, 4, 0), ErrShape)
	require.NoError(t, s.Update(nil, m, 4, 0))
	require.ErrorIs(t, s.Update(nil, m, 4, 0), ErrOverflow)
	require.Equal(t, int64(n+m), s.Sequences())
	require.Equal(t, int64(4*n+4*m), s.Vectors())
}

// TestSequenceActivityConcurrent: updates of one SequenceActivity from
// many goroutines, dense and top-k, with reads and merges among them, end
// as the same updates made one after another.
func TestSequenceActivityConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 9))
	const sequences, positions, features = 3, 5, 40
	x := randomData[float32](rng, sequences*positions*features)
	keep := randomKeep(rng, sequences*positions)
	c := sparseCases[float32]()[0]
	index, values, k := topKForm[float32, int32](rng, x, layout{batch: sequences * positions, slots: 1, features: features}, c, 1)
	shared, _ := NewSequenceActivity[float32](positions, 0, features)
	serial, _ := NewSequenceActivity[float32](positions, 0, features)
	other, _ := NewSequenceActivity[float32](positions, 0, features)
	require.NoError(t, other.UpdateMasked(x, keep, sequences, positions, features))
	const goroutines, rounds = 4, 20
	done := make(chan error, goroutines)
	for g := range goroutines {
		go func() {
			for range rounds {
				var err error
				switch g % 3 {
				case 0:
					err = shared.UpdateMasked(x, keep, sequences, positions, features)
				case 1:
					err = UpdateSequencesTopK(shared, index, values, keep, sequences, positions, k)
				default:
					_ = shared.ConsistentActivation()
					_, _ = shared.L0ByPosition()
					err = shared.Merge(other)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range goroutines {
		require.NoError(t, <-done)
	}
	for g := range goroutines {
		for range rounds {
			switch g % 3 {
			case 0:
				require.NoError(t, serial.UpdateMasked(x, keep, sequences, positions, features))
			case 1:
				require.NoError(t, UpdateSequencesTopK(serial, index, values, keep, sequences, positions, k))
			default:
				require.NoError(t, serial.Merge(other))
			}
		}
	}
	checkSame(t, shared, serial)
}
