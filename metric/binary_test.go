package metric

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"

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
		shape := shapeOf(6, components, 9)
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
	a, _ := NewFeatureActivity[kernel.BFloat16](0, 4, Above(0.5), SinceFired())
	require.NoError(t, a.Update([]kernel.BFloat16{0x3f80, 0, 0x3f80, 0x3f00}, 1, 4))
	valid := stateOf(t, a)
	require.Equal(t, headerSize+2*4*8+checksumSize, len(valid))
	since := headerSize + 4*8 // counts [1 0 1 0], since fired [0 1 0 1] of 1 vector

	target, _ := NewFeatureActivity[kernel.BFloat16](0, 4, Above(0.5), SinceFired())
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
		"since above vectors":    {edit(valid, func(b []byte) { b[since+8] = 2 }), ErrFormat},
		"since negative":         {edit(valid, func(b []byte) { binary.LittleEndian.PutUint64(b[since+8:], math.MaxUint64) }), ErrFormat},
		"fired, since all":       {edit(valid, func(b []byte) { b[since] = 1 }), ErrFormat},
		"never fired, since 0":   {edit(valid, func(b []byte) { b[since+8] = 0 }), ErrFormat},
		"version 3":              {edit(valid, func(b []byte) { b[4] = 3 }), ErrFormat},
		"version 0":              {edit(valid, func(b []byte) { b[4] = 0 }), ErrFormat},
		"version 1, with since":  {edit(valid, func(b []byte) { b[4] = 1 }), ErrFormat},
		"version 2, no since":    {withChecksum(append(append([]byte(nil), valid[:since]...), 0, 0, 0, 0)), ErrFormat},
	})
	// The version 1 state of the same counts loads, since fired as the
	// counts allow.
	v1 := withChecksum(append(append([]byte(nil), valid[:since]...), 0, 0, 0, 0))
	v1[4] = 1
	v1 = withChecksum(v1)
	require.NoError(t, target.UnmarshalBinary(v1))
	assert.Equal(t, []int64{0, 1, 0, 1}, sinceOf(t, target))
	assert.Equal(t, valid, stateOf(t, target))
	// A metric without SinceFired reads the version 2 state (its
	// since-fired counts checked, and dropped) and writes version 1.
	untracked, _ := NewFeatureActivityAbove[kernel.BFloat16](0, 4, 0.5)
	require.NoError(t, untracked.UnmarshalBinary(valid))
	assert.Equal(t, v1, stateOf(t, untracked))
	_, err := untracked.VectorsSinceFired()
	assert.ErrorIs(t, err, ErrConfig)
	_, err = untracked.ReadFrom(bytes.NewReader(valid))
	assert.ErrorIs(t, err, ErrConfig, "ReadFrom into a metric that has counted")
	fresh, _ := NewFeatureActivityAbove[kernel.BFloat16](0, 4, 0.5)
	_, err = fresh.ReadFrom(bytes.NewReader(valid))
	require.NoError(t, err)
	assert.Equal(t, v1, stateOf(t, fresh))
	broken := edit(valid, func(b []byte) { b[since] = 1 })
	assert.ErrorIs(t, fresh.UnmarshalBinary(broken), ErrFormat, "checked without SinceFired too")
	assert.Equal(t, v1, stateOf(t, fresh))
}

// TestUnmarshalAllocates: UnmarshalBinary decodes the counts straight into
// the metric's, with no copy of them (a state of 8 MiB cost 8 MiB more
// before); a hostile 44-byte state of 2^24 components × 0 features, within
// the metric's bounds but not the receiver's configuration, is refused
// before anything is sized by it.
func TestUnmarshalAllocates(t *testing.T) {
	a, _ := NewFeatureActivity[float32](0, 1<<20)
	require.NoError(t, a.Update(make([]float32, 3<<20), 3, 1<<20))
	state := stateOf(t, a)
	fresh, _ := NewFeatureActivity[float32](0, 1<<20)
	assert.Zero(t, testing.AllocsPerRun(5, func() { require.NoError(t, fresh.UnmarshalBinary(state)) }))
	assert.Equal(t, state, stateOf(t, fresh))

	m, _ := NewL0Norm[float32](1 << 16)
	normState := stateOf(t, m)
	freshNorm, _ := NewL0Norm[float32](1 << 16)
	assert.Zero(t, testing.AllocsPerRun(5, func() { require.NoError(t, freshNorm.UnmarshalBinary(normState)) }))

	hostile, err := hex.DecodeString("4c304641010100000000000100000000000000000000000000000000000000000500000000000000a1c5061b")
	require.NoError(t, err)
	small, _ := NewFeatureActivity[float32](2, 3)
	allocated := allocatedBytes(func() {
		require.ErrorIs(t, small.UnmarshalBinary(hostile), ErrMismatch)
	})
	assert.Less(t, allocated, uint64(1<<10), "UnmarshalBinary of a 44-byte state: its error message")
	allocated = allocatedBytes(func() {
		_, err := small.ReadFrom(bytes.NewReader(hostile))
		require.ErrorIs(t, err, ErrMismatch)
	})
	assert.Less(t, allocated, uint64(4<<10), "ReadFrom of a 44-byte state")
}

// allocatedBytes returns the bytes f allocates on the heap.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadFrom: ReadFrom restores what UnmarshalBinary restores, from a
// stream read a piece at a time, with a piece of memory whatever the
// state's size; it refuses what UnmarshalBinary refuses, with the same
// sentinel, leaving the metric empty; a metric that has counted is an
// ErrConfig; it reads nothing past the state but a byte.
func TestReadFrom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range []struct{ components, features int }{{0, 1}, {0, 9}, {3, 7}, {0, 40_000}, {2, 1 << 20}, {5, 0}} {
		a, _ := NewFeatureActivity[kernel.BFloat16](c.components, c.features, AbsAbove(0.5))
		shape := []int{9, c.features}
		if c.components > 0 {
			shape = []int{9, c.components, c.features}
		}
		require.NoError(t, a.Update(randomData[kernel.BFloat16](rng, product(shape)), shape...))
		state := stateOf(t, a)
		fresh, _ := NewFeatureActivity[kernel.BFloat16](c.components, c.features, AbsAbove(0.5))
		var n int64
		allocated := allocatedBytes(func() {
			var err error
			n, err = fresh.ReadFrom(iotest.HalfReader(bytes.NewReader(state)))
			require.NoError(t, err)
		})
		require.Equal(t, int64(len(state)), n)
		require.Equal(t, state, stateOf(t, fresh), "%+v", c)
		require.Less(t, allocated, uint64(readPieceBytes+16<<10), "%+v: a state of %d bytes", c, len(state))

		// Not empty: refused, unchanged.
		_, err := fresh.ReadFrom(bytes.NewReader(state))
		require.ErrorIs(t, err, ErrConfig)
		require.Equal(t, state, stateOf(t, fresh))
		// Reset, or of no vectors: empty.
		fresh.Reset()
		_, err = fresh.ReadFrom(bytes.NewReader(state))
		require.NoError(t, err)
	}

	// Every corruption UnmarshalBinary refuses, ReadFrom refuses with the
	// same sentinel, and leaves the metric empty.
	a, _ := NewFeatureActivity[float32](2, 3)
	require.NoError(t, a.Update([]float32{1, 0, 3, 0, 1, 1, 0, 0, 1, 1, 1, 0}, 2, 2, 3))
	valid := stateOf(t, a)
	empty, _ := NewFeatureActivity[float32](2, 3)
	emptyState := stateOf(t, empty)
	other, _ := NewFeatureActivity[float32](0, 6)
	cases := map[string][]byte{
		"trailing byte":        append(append([]byte(nil), valid...), 0),
		"trailing count":       edit(append(valid[:len(valid):len(valid)], make([]byte, 8)...), func([]byte) {}),
		"other config":         stateOf(t, other),
		"components corrupted": func() []byte { b := append([]byte(nil), valid...); b[8] = 3; return b }(),
		"counts, no vectors":   edit(valid, func(b []byte) { binary.LittleEndian.PutUint64(b[32:], 0) }),
		"hostile":              must(hex.DecodeString("4c304641010100000000000100000000000000000000000000000000000000000500000000000000a1c5061b")),
	}
	for n := range len(valid) {
		cases[fmt.Sprintf("truncated to %d", n)] = valid[:n]
	}
	for i := range 8 * len(valid) {
		b := append([]byte(nil), valid...)
		b[i/8] ^= 1 << (i % 8)
		cases[fmt.Sprintf("bit %d", i)] = b
		cases[fmt.Sprintf("bit %d, checksummed", i)] = withChecksum(b)
	}
	for name, b := range cases {
		unmarshaled, _ := NewFeatureActivity[float32](2, 3)
		want := unmarshaled.UnmarshalBinary(b)
		target, _ := NewFeatureActivity[float32](2, 3)
		_, got := target.ReadFrom(bytes.NewReader(b))
		require.Equal(t, want == nil, got == nil, "%s: UnmarshalBinary %v, ReadFrom %v", name, want, got)
		for _, sentinel := range []error{ErrFormat, ErrMismatch} {
			require.Equal(t, errors.Is(want, sentinel), errors.Is(got, sentinel), "%s: UnmarshalBinary %v, ReadFrom %v", name, want, got)
		}
		if got != nil {
			require.Equal(t, emptyState, stateOf(t, target), name)
		} else {
			require.Equal(t, stateOf(t, unmarshaled), stateOf(t, target), name)
		}
	}

	// A state followed by a stream that never ends: one byte past it.
	target, _ := NewFeatureActivity[float32](2, 3)
	n, err := target.ReadFrom(io.MultiReader(bytes.NewReader(valid), endless{}))
	require.ErrorIs(t, err, ErrFormat)
	require.Equal(t, int64(len(valid)+1), n)
	require.Equal(t, emptyState, stateOf(t, target))
	// A read error is r's, and leaves the metric empty.
	_, err = target.ReadFrom(io.MultiReader(bytes.NewReader(valid[:50]), iotest.ErrReader(io.ErrClosedPipe)))
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.Equal(t, emptyState, stateOf(t, target))
	var nilMetric *FeatureActivity[float32]
	_, err = nilMetric.ReadFrom(bytes.NewReader(valid))
	require.ErrorIs(t, err, ErrConfig)
}

// endless is a stream of zeros that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
