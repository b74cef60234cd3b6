package metric

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRuleString(t *testing.T) {
	assert.Equal(t, "x != 0", NonZero().String())
	assert.Equal(t, "x != 0", Rule{}.String())
	assert.Equal(t, "x > 0.5", Above(0.5).String())
	assert.Equal(t, "x > 0", Above(math.Copysign(0, -1)).String(), "-0 is +0")
	assert.Equal(t, "|x| > 1e-05", AbsAbove(1e-5).String())
	assert.Equal(t, "|x| > -Inf", AbsAbove(math.Inf(-1)).String())
	th, ok := AbsAbove(2).Threshold()
	assert.True(t, ok)
	assert.Equal(t, 2.0, th)
	_, ok = NonZero().Threshold()
	assert.False(t, ok)
	assert.True(t, AbsAbove(2).Abs())
	assert.False(t, Above(2).Abs())
}

// TestRuleConfigErrors: a thresholded rule of an integer type, a NaN
// threshold and more than one rule are ErrConfig errors, for both metrics.
func TestRuleConfigErrors(t *testing.T) {
	for name, err := range map[string]error{
		"L0Norm int8 Above":               second(NewL0Norm[int8](0, Above(0))),
		"L0Norm uint64 AbsAbove":          second(NewL0Norm[uint64](2, AbsAbove(1))),
		"FeatureActivity int32 Above":     second(NewFeatureActivity[int32](0, 3, Above(0))),
		"L0Norm NaN Above":                second(NewL0Norm[float32](0, Above(math.NaN()))),
		"FeatureActivity NaN AbsAbove":    second(NewFeatureActivity[kernel.BFloat16](0, 3, AbsAbove(math.NaN()))),
		"L0Norm two rules":                second(NewL0Norm[float32](0, Above(0), AbsAbove(0))),
		"FeatureActivity two rules":       second(NewFeatureActivity[float64](0, 1, NonZero(), NonZero())),
		"L0Norm unknown rule":             second(NewL0Norm[float32](0, Rule{kind: 7})),
		"FeatureActivityAbove NaN":        second(NewFeatureActivityAbove[float32](0, 1, math.NaN())),
		"L0NormAbove negative components": second(NewL0NormAbove[float32](-1, 0)),
	} {
		assert.ErrorIs(t, err, ErrConfig, name)
	}
	m, err := NewL0Norm[int8](0, NonZero())
	require.NoError(t, err)
	assert.Equal(t, NonZero(), m.Rule())
	a, err := NewFeatureActivity[kernel.Float16](2, 3, AbsAbove(0.25))
	require.NoError(t, err)
	assert.Equal(t, AbsAbove(0.25), a.Rule())
}

func second[A any](_ A, err error) error { return err }

// TestRuleBinary: the rule travels in the binary state (flags 3 for
// AbsAbove), a state of another rule or threshold is an ErrMismatch, flags
// no rule has are an ErrFormat, and Merge refuses another rule.
func TestRuleBinary(t *testing.T) {
	x := []float32{1, -2, 0, 0.25, -0.75, 3}
	abs, _ := NewFeatureActivity[float32](0, 3, AbsAbove(0.5))
	require.NoError(t, abs.Update(x, 2, 3))
	assert.Equal(t, []uint64{1, 2, 1}, abs.Counts())
	state := stateOf(t, abs)
	assert.Equal(t, byte(3), state[6], "flags of AbsAbove")

	fresh, _ := NewFeatureActivity[float32](0, 3, AbsAbove(0.5))
	require.NoError(t, fresh.UnmarshalBinary(state))
	assert.Equal(t, state, stateOf(t, fresh))

	above, _ := NewFeatureActivity[float32](0, 3, Above(0.5))
	assert.ErrorIs(t, above.UnmarshalBinary(state), ErrMismatch)
	assert.ErrorIs(t, fresh.UnmarshalBinary(stateOf(t, above)), ErrMismatch)
	other, _ := NewFeatureActivity[float32](0, 3, AbsAbove(0.25))
	assert.ErrorIs(t, other.UnmarshalBinary(state), ErrMismatch)
	assert.ErrorIs(t, above.Merge(abs), ErrMismatch)
	assert.ErrorIs(t, abs.Merge(other), ErrMismatch)
	require.NoError(t, fresh.Merge(abs))
	assert.Equal(t, []uint64{2, 4, 2}, fresh.Counts())

	norm, _ := NewL0Norm[float32](0, AbsAbove(0.5))
	require.NoError(t, norm.Update(x, 2, 3))
	l0, err := norm.Compute()
	require.NoError(t, err)
	assert.Equal(t, []float64{2}, l0)
	normState := stateOf(t, norm)
	for _, flags := range []byte{2, 4, 7, 0x80} {
		b := edit(normState, func(b []byte) { b[6] = flags })
		assert.ErrorIs(t, norm.UnmarshalBinary(b), ErrFormat, "flags %d", flags)
	}
	assert.ErrorIs(t, norm.UnmarshalBinary(edit(normState, func(b []byte) {
		binary.LittleEndian.PutUint64(b[24:], math.Float64bits(math.NaN()))
	})), ErrFormat)
}

// TestOldStates: states written by the release before rules became values
// (flags 0 and 1) still load, unchanged.
func TestOldStates(t *testing.T) {
	// NewL0NormAbove[float32](2, 0.5) after Update({1, 0, 3, 0.25, 1, 1}, 1, 2, 3),
	// and NewFeatureActivity[int8](0, 3) after Update({1, 0, 3, 0, 0, -1}, 2, 3).
	old := map[string]string{
		"L0NM": "4c304e4d0101010002000000000000000000000000000000000000000000e03f010000000000000002000000000000000200000000000000058871b5",
		"L0FA": "4c304641010500000000000000000000030000000000000000000000000000000200000000000000010000000000000000000000000000000200000000000000642cd552",
	}
	b, err := hex.DecodeString(old["L0NM"])
	require.NoError(t, err)
	m, _ := NewL0Norm[float32](2, Above(0.5))
	require.NoError(t, m.UnmarshalBinary(b))
	assert.Equal(t, []uint64{2, 2}, m.Counts())
	assert.Equal(t, b, stateOf(t, m))

	b, err = hex.DecodeString(old["L0FA"])
	require.NoError(t, err)
	plain, _ := NewFeatureActivity[int8](0, 3)
	require.NoError(t, plain.UnmarshalBinary(b))
	assert.Equal(t, []uint64{1, 0, 2}, plain.Counts())
	assert.Equal(t, b, stateOf(t, plain), "without SinceFired: version 1, unchanged")
	a, _ := NewFeatureActivity[int8](0, 3, SinceFired())
	require.NoError(t, a.UnmarshalBinary(b))
	assert.Equal(t, []uint64{1, 0, 2}, a.Counts())
	// A version 1 state does not say when a feature fired: one that never
	// did has seen every vector since, one that did reads as fired in the
	// state's last vector. It is written back as version 2, with them.
	assert.Equal(t, []int64{0, 2, 0}, sinceOf(t, a))
	v2 := stateOf(t, a)
	assert.Equal(t, byte(2), v2[4])
	assert.Equal(t, b[5:headerSize+3*8], v2[5:headerSize+3*8])
	assert.Equal(t, []byte{0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, v2[headerSize+3*8:len(v2)-checksumSize])
	fresh, _ := NewFeatureActivity[int8](0, 3, SinceFired())
	_, err = fresh.ReadFrom(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, v2, stateOf(t, fresh), "ReadFrom reads a version 1 state as UnmarshalBinary does")
}

// TestNegativeZeroThreshold: a state whose threshold has the bits of -0
// (written by hand or by another writer) counts what +0 counts: it loads
// into, and merges with, a metric of threshold 0, and is written back as
// +0.
func TestNegativeZeroThreshold(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, rule := range []func(float64) Rule{Above, AbsAbove} {
		a, _ := NewFeatureActivity[float32](0, 3, rule(0))
		require.NoError(t, a.Update([]float32{1, -1, 0}, 1, 3))
		state := stateOf(t, a)
		neg := edit(state, func(b []byte) { binary.LittleEndian.PutUint64(b[24:], math.Float64bits(negZero)) })
		require.NotEqual(t, state, neg)

		fresh, _ := NewFeatureActivity[float32](0, 3, rule(negZero))
		require.NoError(t, fresh.UnmarshalBinary(neg), "a -0 state into a metric of %s", rule(negZero))
		assert.Equal(t, state, stateOf(t, fresh), "written back with +0")
		th, _ := fresh.Threshold()
		assert.False(t, math.Signbit(th))

		norm, _ := NewL0Norm[float32](0, rule(0))
		require.NoError(t, norm.Update([]float32{1, -1, 0}, 1, 3))
		normNeg := edit(stateOf(t, norm), func(b []byte) { binary.LittleEndian.PutUint64(b[24:], math.Float64bits(negZero)) })
		freshNorm, _ := NewL0Norm[float32](0, rule(0))
		require.NoError(t, freshNorm.UnmarshalBinary(normNeg))
		assert.Equal(t, stateOf(t, norm), stateOf(t, freshNorm))

		// Rules compare by value: one built with a -0 field merges too.
		b, _ := NewFeatureActivity[float32](0, 3, rule(0))
		b.core().counter.rule.threshold = negZero
		require.NoError(t, a.Merge(b))
		assert.True(t, rule(negZero).same(Rule{rule(0).kind, negZero}))
	}
}

// TestOptions: a Rule is an Option; no rule is NonZero; more than one rule
// (even the same twice) and a nil Option are ErrConfig errors.
func TestOptions(t *testing.T) {
	m, err := NewL0Norm[float32](0)
	require.NoError(t, err)
	assert.Equal(t, NonZero(), m.Rule())
	options := []Option{AbsAbove(0.5)}
	a, err := NewFeatureActivity[float32](2, 3, options...)
	require.NoError(t, err)
	assert.Equal(t, AbsAbove(0.5), a.Rule())
	for name, options := range map[string][]Option{
		"two rules":      {Above(1), AbsAbove(1)},
		"one rule twice": {NonZero(), NonZero()},
		"nil":            {nil},
		"rule and nil":   {Above(1), nil},
		"NaN":            {Above(math.NaN())},
	} {
		_, err := NewL0Norm[float32](0, options...)
		assert.ErrorIs(t, err, ErrConfig, "L0Norm, %s", name)
		_, err = NewFeatureActivity[float32](0, 4, options...)
		assert.ErrorIs(t, err, ErrConfig, "FeatureActivity, %s", name)
	}
}
