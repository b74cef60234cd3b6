package metric

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/require"
)

// fuzzTargets returns fresh metrics of the configurations FuzzUnmarshal
// decodes into; the seed corpus in testdata/fuzz/FuzzUnmarshal holds valid
// states of each.
func fuzzTargets(t testing.TB) []stateful {
	m0, err := NewL0Norm[float32](0)
	require.NoError(t, err)
	m2, _ := NewL0Norm[float32](2)
	mAbove, _ := NewL0NormAbove[float32](2, 0.5)
	mInt, _ := NewL0Norm[int64](3)
	a0, _ := NewFeatureActivity[float32](0, 4)
	a2, _ := NewFeatureActivity[float32](2, 3)
	aAbove, _ := NewFeatureActivityAbove[kernel.BFloat16](0, 4, 0.5)
	mAbs, _ := NewL0Norm[float64](2, AbsAbove(1e-5))
	aAbs, _ := NewFeatureActivity[kernel.Float16](1, 3, AbsAbove(0.25))
	// With SinceFired: version 2 states.
	s0, _ := NewFeatureActivity[float32](0, 4, SinceFired())
	s2, _ := NewFeatureActivity[float32](2, 3, SinceFired())
	return []stateful{m0, m2, mAbove, mInt, a0, a2, aAbove, mAbs, aAbs, s0, s2}
}

// FuzzUnmarshal decodes arbitrary bytes, as they are and with their
// checksum repaired (to reach the checks behind it), into metrics of
// several configurations. It must never panic; a rejected state must leave
// the metric unchanged; an accepted one must marshal back to the same
// bytes (the format is canonical).
func FuzzUnmarshal(f *testing.F) {
	for _, target := range fuzzTargets(f) {
		b := stateOf(f, target)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, input := range [][]byte{b, withChecksum(b)} {
			for _, target := range fuzzTargets(t) {
				before := stateOf(t, target)
				if err := target.UnmarshalBinary(input); err != nil {
					require.Equal(t, before, stateOf(t, target), "rejected (%v) but changed", err)
					continue
				}
				requireCanonical(t, input, stateOf(t, target))
			}
		}
	})
}

// requireCanonical checks that an accepted state marshals back to its own
// bytes (the format is canonical), where the metric's version is the
// state's; else, a FeatureActivity state of version 1 read by a metric
// with SinceFired, to its version 2 form (the same header and counts, and
// the since-fired counts its counts allow: consistentSince), and one of
// version 2 read by a metric without it, to its version 1 form (the
// since-fired counts dropped).
func requireCanonical(t *testing.T, input, got []byte) {
	t.Helper()
	if string(input[:4]) == magicActivity && len(got) > 4 && input[4] != got[4] {
		body := input[:len(input)-checksumSize]
		var want []byte
		if input[4] == 1 {
			want = append(append([]byte(nil), body...), make([]byte, len(body)-headerSize+checksumSize)...)
			want[4] = activityVersion
			consistentSince(want)
		} else {
			want = append([]byte(nil), body[:headerSize+(len(body)-headerSize)/2]...)
			want = append(want, make([]byte, checksumSize)...)
			want[4] = 1
		}
		input = withChecksum(want)
	}
	require.Equal(t, input, got, "accepted but marshals differently")
}

// FuzzUpdate feeds arbitrary bytes, as float32 or as bfloat16, with an
// arbitrary shape, to both metrics and checks them against the oracle, or
// that a rejected shape changed nothing.
func FuzzUpdate(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xc0, 0x7f}, uint8(2), uint8(1), uint8(2), false)
	f.Add(bytes.Repeat([]byte{1, 0, 0, 0}, 64), uint8(4), uint8(2), uint8(8), true)
	f.Add([]byte{}, uint8(0), uint8(0), uint8(7), false)
	f.Fuzz(func(t *testing.T, data []byte, batch, components, features uint8, half bool) {
		if components/5%2 == 1 {
			pendingAtEverySize(t) // its features are too few to take them otherwise
		}
		if half {
			fuzzUpdate(t, elementsOf[kernel.BFloat16](data), int(batch), int(components%5), int(features))
		} else {
			fuzzUpdate(t, elementsOf[float32](data), int(batch), int(components%5), int(features))
		}
	})
}

// elementsOf reinterprets the whole elements of b as T.
func elementsOf[T kernel.Element](b []byte) []T {
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	x := make([]T, n)
	for i := range x {
		var u uint64
		for j := range int(unsafe.Sizeof(zero)) {
			u |= uint64(b[i*int(unsafe.Sizeof(zero))+j]) << (8 * j)
		}
		x[i] = fromBits[T](u)
	}
	return x
}

func fuzzUpdate[T kernel.Float](t *testing.T, x []T, batch, components, features int) {
	shape := shapeOf(batch, components, features)
	m, _ := NewL0Norm[T](components)
	above, _ := NewL0NormAbove[T](components, 0.5)
	abs, _ := NewL0Norm[T](components, AbsAbove(0.5))
	a, _ := NewFeatureActivity[T](components, features, SinceFired())
	aAbs, _ := NewFeatureActivity[T](components, features, AbsAbove(-0.5), SinceFired())
	plain, _ := NewFeatureActivity[T](components, features)
	errs := []error{m.Update(x, shape...), above.Update(x, shape...), abs.Update(x, shape...), a.Update(x, shape...), aAbs.Update(x, shape...), plain.Update(x, shape...)}
	if len(x) != product(shape) {
		for _, err := range errs {
			require.ErrorIs(t, err, ErrShape)
		}
		require.Equal(t, int64(0), m.Vectors()+above.Vectors()+abs.Vectors()+a.Vectors()+aAbs.Vectors()+plain.Vectors())
		return
	}
	for _, err := range errs {
		require.NoError(t, err)
	}
	l := layoutOf(shape)
	require.Equal(t, oracleSlots(x, l, isNonZero[T]), m.Counts())
	require.Equal(t, oracleSlots(x, l, func(v T) bool { return value(v) > 0.5 }), above.Counts())
	require.Equal(t, oracleSlots(x, l, func(v T) bool { return math.Abs(value(v)) > 0.5 }), abs.Counts())
	require.Equal(t, oracleColumns(x, l, isNonZero[T]), a.Counts())
	require.Equal(t, a.Counts(), plain.Counts())
	o := newSinceOracle(len(a.Counts()))
	denseOracle(o, x, isNonZero[T])
	require.Equal(t, o.since, sinceOf(t, a))
	oAbs := newSinceOracle(len(aAbs.Counts()))
	denseOracle(oAbs, x, func(v T) bool { return math.Abs(value(v)) > -0.5 })
	require.Equal(t, oAbs.since, sinceOf(t, aAbs))
	require.Equal(t, oracleColumns(x, l, func(v T) bool { return math.Abs(value(v)) > -0.5 }), aAbs.Counts())
	fused, _ := NewFeatureActivity[T](components, features, SinceFired())
	require.NoError(t, updateFused(fused, x, shape...))
	require.Equal(t, a.Counts(), fused.Counts())
	require.Equal(t, o.since, sinceOf(t, fused))
	fuzzSinceOrder(t, x, shape, a)
}

// fuzzSinceOrder cuts the batch x (of shape) into pieces at rows its own
// bits choose, counts each into a metric with SinceFired of its own, and
// checks that merging them in order, from the left and from the right,
// gives whole's state (the batch counted at once); and that UpdateMasked
// with a mask its bits choose gives the oracle's since-fired counts of the
// kept vectors alone.
func fuzzSinceOrder[T kernel.Float](t *testing.T, x []T, shape []int, whole *FeatureActivity[T]) {
	l := layoutOf(shape)
	width := l.slots * l.features
	if width == 0 {
		return
	}
	components := 0
	if len(shape) == 3 {
		components = l.slots
	}
	bit := func(i int) bool { return i < len(x) && math.Float64bits(value(x[i]))&8 != 0 }
	var pieces []*FeatureActivity[T]
	for from := 0; from < l.batch; {
		to := from + 1
		for to < l.batch && !bit(to*width) {
			to++
		}
		p, _ := NewFeatureActivity[T](components, l.features, SinceFired())
		piece := append([]int{to - from}, shape[1:]...)
		require.NoError(t, p.Update(x[from*width:to*width], piece...))
		pieces = append(pieces, p)
		from = to
	}
	if len(pieces) == 0 {
		return
	}
	left, _ := NewFeatureActivity[T](components, l.features, SinceFired())
	for _, p := range pieces {
		require.NoError(t, left.Merge(p))
	}
	require.Equal(t, stateOf(t, whole), stateOf(t, left), "pieces merged from the left")
	right := pieces[len(pieces)-1]
	for i := len(pieces) - 2; i >= 0; i-- {
		require.NoError(t, pieces[i].Merge(right))
		right = pieces[i]
	}
	require.Equal(t, stateOf(t, whole), stateOf(t, right), "pieces merged from the right")

	keep := make([]bool, l.batch)
	for r := range keep {
		keep[r] = !bit(r*width + width - 1)
	}
	masked, _ := NewFeatureActivity[T](components, l.features, SinceFired())
	require.NoError(t, masked.UpdateMasked(x, keep, shape...))
	o := newSinceOracle(width)
	for r, k := range keep {
		if k {
			denseOracle(o, x[r*width:(r+1)*width], isNonZero[T])
		}
	}
	require.Equal(t, o.vectors, masked.Vectors())
	require.Equal(t, o.since, sinceOf(t, masked), "masked")
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the FuzzUnmarshal seed corpus in testdata/fuzz")

// TestSeedCorpus checks that the committed seed corpus of FuzzUnmarshal
// holds, for each fuzz target, a valid state, so that the fuzzer starts
// past the checksum and the header checks. With -update-corpus it writes
// the corpus first.
func TestSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzUnmarshal")
	if *updateCorpus {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for i, target := range fuzzTargets(t) {
			b := stateOf(t, target)
			if i%2 == 1 { // a state with vectors and counts
				binary.LittleEndian.PutUint64(b[32:], 7)
				for j := headerSize; j+8 <= len(b)-checksumSize; j += 8 {
					b[j] = byte(j % 7)
				}
				consistentSince(b)
				b = withChecksum(b)
			}
			file := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
			require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("valid-%d", i)), []byte(file), 0o644))
		}
	}
	for i, target := range fuzzTargets(t) {
		file, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("valid-%d", i)))
		require.NoError(t, err)
		_, literal, _ := strings.Cut(strings.TrimSpace(string(file)), "[]byte(")
		s, err := strconv.Unquote(strings.TrimSuffix(literal, ")"))
		require.NoError(t, err, "valid-%d", i)
		require.NoError(t, target.UnmarshalBinary([]byte(s)), "valid-%d", i)
	}
}

// TestThresholdZeroSign checks that -0 and +0 thresholds are one threshold,
// with one binary state.
func TestThresholdZeroSign(t *testing.T) {
	neg, _ := NewL0NormAbove[float32](0, math.Copysign(0, -1))
	pos, _ := NewL0NormAbove[float32](0, 0)
	require.NoError(t, neg.Merge(pos))
	require.NoError(t, pos.UnmarshalBinary(stateOf(t, neg)))
	require.Equal(t, uint64(0), binary.LittleEndian.Uint64(stateOf(t, neg)[24:]))
}

// FuzzSparse builds a dense batch from the fuzzer's bytes (float32 or
// bfloat16, a shape and a rule it chooses), its top-k and entries forms, and
// checks that every form leaves both metrics in the same binary state; and
// that an index past the features is rejected with the state unchanged.
func FuzzSparse(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xc0, 0x7f}, uint8(2), uint8(1), uint8(2), uint8(0), false)
	f.Add(bytes.Repeat([]byte{1, 0, 0, 0x80, 0, 0, 0, 0}, 40), uint8(10), uint8(2), uint8(8), uint8(5), true)
	f.Fuzz(func(t *testing.T, data []byte, batch, components, features, rule uint8, half bool) {
		if half {
			fuzzSparse(t, elementsOf[kernel.BFloat16](data), int(batch%32), int(components%4), int(features%40)+1, rule, data)
		} else {
			fuzzSparse(t, elementsOf[float32](data), int(batch%32), int(components%4), int(features%40)+1, rule, data)
		}
	})
}

func fuzzSparse[T kernel.Float](t *testing.T, x []T, batch, components, features int, rule uint8, seed []byte) {
	cases := sparseCases[T]()
	c := cases[int(rule)%len(cases)]
	shape := shapeOf(batch, components, features)
	n := product(shape)
	if len(x) < n {
		return
	}
	x = x[:n]
	l := layoutOf(shape)
	rng := rand.New(rand.NewPCG(uint64(len(seed)), uint64(rule)))
	index, values, k := topKForm[T, int32](rng, x, l, c, int(rule)%3)
	topKShape := append(append([]int{}, shape[:len(shape)-1]...), k)
	dense, _ := NewFeatureActivity[T](components, features, c.rule, SinceFired())
	sparse, _ := NewFeatureActivity[T](components, features, c.rule, SinceFired())
	entries, _ := NewFeatureActivity[T](components, features, c.rule, SinceFired())
	norm, _ := NewL0Norm[T](components, c.rule)
	sparseNorm, _ := NewL0Norm[T](components, c.rule)
	require.NoError(t, dense.Update(x, shape...))
	require.NoError(t, UpdateTopK(sparse, index, values, topKShape...))
	require.NoError(t, UpdateEntries(entries, batch, entriesForm(index, l, k), values))
	require.NoError(t, norm.Update(x, shape...))
	require.NoError(t, UpdateTopK(sparseNorm, index, values, topKShape...))
	require.Equal(t, stateOf(t, dense), stateOf(t, sparse))
	// Entries have no vector: the batch is the unit of their since-fired
	// counts, the rest is the dense batch's.
	require.Equal(t, dense.Counts(), entries.Counts())
	require.Equal(t, dense.Vectors(), entries.Vectors())
	o := newSinceOracle(len(dense.Counts()))
	denseOracle(o, x, c.counts)
	require.Equal(t, o.since, sinceOf(t, dense))
	require.Equal(t, stateOf(t, norm), stateOf(t, sparseNorm))
	if len(index) > 0 {
		bad := slices.Clone(index)
		bad[int(rule)%len(bad)] = int32(features)
		before := stateOf(t, sparse)
		require.ErrorIs(t, UpdateTopK(sparse, bad, values, topKShape...), kernel.ErrIndex)
		require.Equal(t, before, stateOf(t, sparse))
	}
}

// readFromTargets returns empty FeatureActivity metrics of the
// configurations FuzzReadFrom reads into, and one that has counted.
func readFromTargets(t testing.TB) []*FeatureActivity[float32] {
	a0, err := NewFeatureActivity[float32](0, 4)
	require.NoError(t, err)
	a2, _ := NewFeatureActivity[float32](2, 3)
	aAbs, _ := NewFeatureActivity[float32](1, 3, AbsAbove(0.25))
	none, _ := NewFeatureActivity[float32](3, 0)
	return []*FeatureActivity[float32]{a0, a2, aAbs, none}
}

// FuzzReadFrom reads arbitrary bytes, as they are and with their checksum
// repaired, with ReadFrom, in pieces of any size, into empty metrics of
// several configurations, and checks it against UnmarshalBinary: it must
// never panic, accept exactly what UnmarshalBinary accepts (with the same
// state), refuse the rest with the same sentinel and leave the metric
// empty, and read at most one byte past the state. A long campaign:
//
//	go test -run '^$' -fuzz '^FuzzReadFrom$' -fuzztime 30m -fuzzminimizetime 0 ./metric/
func FuzzReadFrom(f *testing.F) {
	for _, target := range readFromTargets(f) {
		x := make([]float32, 6*max(target.Components(), 1)*target.Features())
		for i := range x {
			x[i] = float32(i % 3)
		}
		shape := []int{6, target.Features()}
		if target.Components() > 0 {
			shape = []int{6, target.Components(), target.Features()}
		}
		require.NoError(f, target.Update(x, shape...))
		b := stateOf(f, target)
		f.Add(b, uint8(0))
		f.Add(b[:len(b)-3], uint8(5))
		f.Add(append(b, 0), uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, piece uint8) {
		for _, input := range [][]byte{b, withChecksum(b)} {
			for i, target := range readFromTargets(t) {
				unmarshaled := readFromTargets(t)[i]
				want := unmarshaled.UnmarshalBinary(input)
				empty := stateOf(t, target)
				var r io.Reader = bytes.NewReader(input)
				if piece > 0 {
					r = &pieces{r: r, n: int(piece)}
				}
				n, got := target.ReadFrom(r)
				require.Equal(t, want == nil, got == nil, "UnmarshalBinary %v, ReadFrom %v", want, got)
				require.LessOrEqual(t, n, int64(len(input)))
				if got != nil {
					for _, sentinel := range []error{ErrFormat, ErrMismatch} {
						require.Equal(t, errors.Is(want, sentinel), errors.Is(got, sentinel), "UnmarshalBinary %v, ReadFrom %v", want, got)
					}
					require.Equal(t, empty, stateOf(t, target), "rejected (%v) but changed", got)
					continue
				}
				require.Equal(t, int64(len(input)), n)
				requireCanonical(t, input, stateOf(t, target))
				require.Equal(t, stateOf(t, unmarshaled), stateOf(t, target))
			}
		}
	})
}

// pieces reads at most n bytes a call.
type pieces struct {
	r io.Reader
	n int
}

func (p *pieces) Read(b []byte) (int, error) { return p.r.Read(b[:min(len(b), p.n)]) }
