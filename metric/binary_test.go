package metric

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stateful is what the binary tests need of both metrics.
type stateful interface {
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// testRoundTrip checks that a state restored into a fresh metric of the
// same configuration marshals to the same bytes, and that AppendBinary
// appends exactly MarshalBinary's bytes.
func testRoundTrip(t *testing.T, filled, fresh stateful, appendBinary func([]byte) ([]byte, error)) {
	t.Helper()
	b := stateOf(t, filled)
	require.NoError(t, fresh.UnmarshalBinary(b))
	require.Equal(t, b, stateOf(t, fresh))
	prefix := []byte("prefix")
	appended, err := appendBinary(prefix)
	require.NoError(t, err)
	require.Equal(t, append([]byte("prefix"), b...), appended)
}

func TestBinaryRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, components := range []int{0, 1, 4} {
		m, _ := NewL0Norm[float32](components)
		a, _ := NewFeatureActivity[float32](components, 9)
		shape := []int{6, 9}
		if components > 0 {
			shape = []int{6, components, 9}
		}
		x := randomData[float32](rng, product(shape))
		require.NoError(t, m.Update(x, shape...))
		require.NoError(t, a.Update(x, shape...))
		freshM, _ := NewL0Norm[float32](components)
		testRoundTrip(t, m, freshM, m.AppendBinary)
		freshA, _ := NewFeatureActivity[float32](components, 9)
		testRoundTrip(t, a, freshA, a.AppendBinary)
		require.Equal(t, m.Counts(), freshM.Counts())
		require.Equal(t, a.Counts(), freshA.Counts())
	}
	m, _ := NewL0NormAbove[kernel.Float16](2, 0.5)
	require.NoError(t, m.Update([]kernel.Float16{0x3c00, 0, 0x3800, 0x3e00}, 2, 2, 1))
	fresh, _ := NewL0NormAbove[kernel.Float16](2, 0.5)
	testRoundTrip(t, m, fresh, m.AppendBinary)
	assert.Equal(t, []uint64{1, 1}, fresh.Counts())

	a, _ := NewFeatureActivityAbove[float64](0, 2, -1)
	require.NoError(t, a.Update([]float64{-2, 0}, 1, 2))
	freshA, _ := NewFeatureActivityAbove[float64](0, 2, -1)
	testRoundTrip(t, a, freshA, a.AppendBinary)
}

// testRejects checks that every corruption of a valid state is rejected
// with the wanted error and leaves target unchanged.
func testRejects(t *testing.T, target stateful, valid []byte, cases map[string]struct {
	b    []byte
	want error
}) {
	t.Helper()
	before := stateOf(t, target)
	for name, c := range cases {
		err := target.UnmarshalBinary(c.b)
		require.ErrorIs(t, err, c.want, name)
		require.Equal(t, before, stateOf(t, target), name)
	}
	// Every truncation, and every single-bit flip, is caught.
	for n := range len(valid) {
		require.ErrorIs(t, target.UnmarshalBinary(valid[:n]), ErrFormat, "truncated to %d bytes", n)
	}
	for i := range 8 * len(valid) {
		b := append([]byte(nil), valid...)
		b[i/8] ^= 1 << (i % 8)
		require.Error(t, target.UnmarshalBinary(b), "bit %d flipped", i)
	}
	require.Equal(t, before, stateOf(t, target))
}

// edit returns a checksummed copy of b with f applied.
func edit(b []byte, f func(b []byte)) []byte {
	b = append([]byte(nil), b...)
	f(b)
	return withChecksum(b)
}

func TestL0NormUnmarshalRejects(t *testing.T) {
	m, _ := NewL0Norm[float32](2)
	require.NoError(t, m.Update([]float32{1, 0, 3, 0, 1, 1}, 1, 2, 3))
	valid := stateOf(t, m)
	require.Equal(t, headerSize+2*8+checksumSize, len(valid))

	target, _ := NewL0Norm[float32](2)
	require.NoError(t, target.Update([]float32{1, 1, 1, 1, 1, 1}, 1, 2, 3))
	activity, _ := NewFeatureActivity[float32](2, 3)
	float64s, _ := NewL0Norm[float64](2)
	above, _ := NewL0NormAbove[float32](2, 0)
	testRejects(t, target, valid, map[string]struct {
		b    []byte
		want error
	}{
		"empty":               {nil, ErrFormat},
		"trailing byte":       {append(append([]byte(nil), valid...), 0), ErrFormat},
		"trailing count":      {edit(append(valid[:len(valid):len(valid)], make([]byte, 8)...), func([]byte) {}), ErrFormat},
		"activity state":      {stateOf(t, activity), ErrFormat},
		"version 2":           {edit(valid, func(b []byte) { b[4] = 2 }), ErrFormat},
		"version 0":           {edit(valid, func(b []byte) { b[4] = 0 }), ErrFormat},
		"element type 0":      {edit(valid, func(b []byte) { b[5] = 0 }), ErrFormat},
		"element type 13":     {edit(valid, func(b []byte) { b[5] = 13 }), ErrFormat},
		"unknown flag":        {edit(valid, func(b []byte) { b[6] = 2 }), ErrFormat},
		"reserved":            {edit(valid, func(b []byte) { b[7] = 1 }), ErrFormat},
		"features":            {edit(valid, func(b []byte) { b[16] = 1 }), ErrFormat},
		"threshold, no flag":  {edit(valid, func(b []byte) { b[24] = 1 }), ErrFormat},
		"NaN threshold":       {edit(valid, func(b []byte) { b[6] = 1; binary.LittleEndian.PutUint64(b[24:], math.Float64bits(math.NaN())) }), ErrFormat},
		"negative vectors":    {edit(valid, func(b []byte) { b[39] = 0x80 }), ErrFormat},
		"counts, no vectors":  {edit(valid, func(b []byte) { binary.LittleEndian.PutUint64(b[32:], 0) }), ErrFormat},
		"huge components":     {edit(valid, func(b []byte) { binary.LittleEndian.PutUint64(b[8:], 1<<40) }), ErrFormat},
		"more components":     {edit(valid, func(b []byte) { b[8] = 3 }), ErrFormat},
		"float64 state":       {stateOf(t, float64s), ErrMismatch},
		"thresholded state":   {stateOf(t, above), ErrMismatch},
		"other components":    {withComponents(t, 3), ErrMismatch},
		"no components state": {withComponents(t, 0), ErrMismatch},
	})
}

// withComponents returns the state of a fresh float32 L0Norm of the given
// components.
func withComponents(t *testing.T, components int) []byte {
	m, err := NewL0Norm[float32](components)
	require.NoError(t, err)
	return stateOf(t, m)
}

func TestFeatureActivityUnmarshalRejects(t *testing.T) {
	a, _ := NewFeatureActivityAbove[kernel.BFloat16](0, 4, 0.5)
	require.NoError(t, a.Update([]kernel.BFloat16{0x3f80, 0, 0x3f80, 0x3f00}, 1, 4))
	valid := stateOf(t, a)
	require.Equal(t, headerSize+4*8+checksumSize, len(valid))

	target, _ := NewFeatureActivityAbove[kernel.BFloat16](0, 4, 0.5)
	other := func(components, features int, threshold float64) []byte {
		o, err := NewFeatureActivityAbove[kernel.BFloat16](components, features, threshold)
		require.NoError(t, err)
		return stateOf(t, o)
	}
	norm, _ := NewL0NormAbove[kernel.BFloat16](0, 0.5)
	plain, _ := NewFeatureActivity[kernel.BFloat16](0, 4)
	f16, _ := NewFeatureActivityAbove[kernel.Float16](0, 4, 0.5)
	testRejects(t, target, valid, map[string]struct {
		b    []byte
		want error
	}{
		"L0Norm state":           {stateOf(t, norm), ErrFormat},
		"counts without vectors": {edit(valid, func(b []byte) { binary.LittleEndian.PutUint64(b[32:], 0) }), ErrFormat},
		"features overflow":      {edit(valid, func(b []byte) { binary.LittleEndian.PutUint64(b[16:], 1<<61+4) }), ErrFormat},
		"huge features":          {edit(valid, func(b []byte) { binary.LittleEndian.PutUint64(b[16:], math.MaxInt64) }), ErrFormat},
		"components, same size":  {edit(valid, func(b []byte) { b[8] = 2; b[16] = 2 }), ErrMismatch},
		"other features":         {other(0, 5, 0.5), ErrMismatch},
		"other threshold":        {other(0, 4, 0.25), ErrMismatch},
		"no threshold":           {stateOf(t, plain), ErrMismatch},
		"float16 state":          {stateOf(t, f16), ErrMismatch},
	})
}
