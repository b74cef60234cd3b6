package metric

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/require"
)

// FuzzMasked checks that a masked update of any bytes leaves each metric
// as the update of the kept vectors alone does, dense and top-k, and that
// SequenceActivity's counts are the oracle's, dense and top-k.
func FuzzMasked(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xc0, 0x7f}, uint8(2), uint8(2), uint8(1), uint8(0), uint64(0b01))
	f.Add(bytes.Repeat([]byte{1, 0, 0, 0x80, 0, 0, 0, 0}, 64), uint8(8), uint8(4), uint8(8), uint8(5), uint64(0xf0f0))
	f.Fuzz(func(t *testing.T, data []byte, sequences, positions, features, rule uint8, keepBits uint64) {
		fuzzMasked(t, elementsOf[float32](data), int(sequences%9), int(positions%9)+1, int(features%40)+1, rule, keepBits)
	})
}

func fuzzMasked[T kernel.Float](t *testing.T, x []T, sequences, positions, features int, rule uint8, keepBits uint64) {
	cases := sparseCases[T]()
	c := cases[int(rule)%len(cases)]
	vectors := sequences * positions
	if len(x) < vectors*features {
		return
	}
	x = x[:vectors*features]
	keep := make([]bool, vectors)
	for i := range keep {
		keep[i] = keepBits>>(i%64)&1 == 1
	}
	kept := keptRows(x, keep, features)
	n := count(keep)

	act, _ := NewFeatureActivity[T](0, features, c.rule)
	want, _ := NewFeatureActivity[T](0, features, c.rule)
	require.NoError(t, act.UpdateMasked(x, keep, vectors, features))
	require.NoError(t, want.Update(kept, n, features))
	require.Equal(t, stateOf(t, want), stateOf(t, act))
	norm, _ := NewL0Norm[T](0, c.rule)
	wantNorm, _ := NewL0Norm[T](0, c.rule)
	require.NoError(t, norm.UpdateMasked(x, keep, vectors, features))
	require.NoError(t, wantNorm.Update(kept, n, features))
	require.Equal(t, stateOf(t, wantNorm), stateOf(t, norm))

	rng := rand.New(rand.NewPCG(keepBits, uint64(rule)))
	index, values, k := topKForm[T, int32](rng, x, layout{batch: vectors, slots: 1, features: features}, c, int(rule)%3)
	sparse, _ := NewFeatureActivity[T](0, features, c.rule)
	require.NoError(t, UpdateSparseMasked(sparse, TopK[T, int32]{Index: index, Values: values, Batch: vectors, K: k}, keep))
	require.Equal(t, stateOf(t, want), stateOf(t, sparse))

	o := oracleSequences(x, keep, sequences, positions, 1, features, c.counts)
	s, _ := NewSequenceActivity[T](positions, 0, features, c.rule)
	require.NoError(t, s.UpdateMasked(x, keep, sequences, positions, features))
	checkSequences(t, s, o, positions)
	st, _ := NewSequenceActivity[T](positions, 0, features, c.rule)
	require.NoError(t, UpdateSequencesTopK(st, index, values, keep, sequences, positions, k))
	checkSequences(t, st, o, positions)

	// A bad index anywhere, kept or not, changes nothing.
	if len(index) > 0 {
		bad := slices.Clone(index)
		bad[int(keepBits%uint64(len(bad)))] = int32(features)
		before := stateOf(t, sparse)
		require.ErrorIs(t, UpdateSparseMasked(sparse, TopK[T, int32]{Index: bad, Values: values, Batch: vectors, K: k}, keep), kernel.ErrIndex)
		require.Equal(t, before, stateOf(t, sparse))
		fired := st.SequencesFired()
		require.ErrorIs(t, UpdateSequencesTopK(st, bad, values, keep, sequences, positions, k), kernel.ErrIndex)
		require.Equal(t, fired, st.SequencesFired())
	}
}
