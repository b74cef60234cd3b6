package tally

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// native returns the bytes of values in the machine's order, as Add takes
// them.
func native[T any](values []T) []byte {
	var b bytes.Buffer
	if err := binary.Write(&b, binary.NativeEndian, values); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// TestElems: the table is whole, and a tally of every type counts.
func TestElems(t *testing.T) {
	t.Parallel()
	all := Elems()
	if len(all) != 12 || all[0] != Float32 || all[11] != Uint64 {
		t.Fatalf("%v", all)
	}
	floats := 0
	for _, e := range all {
		if e.String() == "invalid" || e.Size() == 0 || !e.Valid() {
			t.Errorf("%d: %s of %d bytes", e, e, e.Size())
		}
		if e.IsFloat() {
			floats++
		}
		tl, err := New(Config{Elem: e, Features: 4}, metric.NonZero(), true)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		row := make([]byte, 4*e.Size())
		row[0], row[len(row)-1] = 1, 1 // a byte of the first element and of the last: both non-zero, in either byte order
		if err := tl.Add(row, 1); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		s, err := tl.Summarize(0.5)
		if err != nil || s.Vectors != 1 || s.L0[0] != 2 || s.Dead[0] != 2 || s.Dense[0] != 2 {
			t.Errorf("%s: %+v, %v", e, s, err)
		}
	}
	if floats != 4 || Invalid.Valid() || Elem(13).Valid() || Invalid.Size() != 0 || Elem(200).String() != "invalid" {
		t.Errorf("%d floats; invalid %v", floats, Invalid.Valid())
	}
	if _, err := New(Config{Elem: Invalid}, metric.NonZero(), true); err == nil {
		t.Error("a tally of no element type")
	}
}

// TestAddMatchesMetric: Add of [batch, component, feature] rows counts as
// the metric does, in one batch or row by row.
func TestAddMatchesMetric(t *testing.T) {
	t.Parallel()
	x := []float32{1, 0, 2, 0, 0, 0, -1, 3, 0.25, 0, 0, 7}
	c := Config{Elem: Float32, Components: 2, Features: 3}
	want, _ := metric.NewFeatureActivity[float32](2, 3, metric.Above(0.5))
	if err := want.Update(x, 2, 2, 3); err != nil {
		t.Fatal(err)
	}
	whole, _ := New(c, metric.Above(0.5), true)
	byRow, _ := New(c, metric.Above(0.5), true)
	if err := whole.Add(native(x), 2); err != nil {
		t.Fatal(err)
	}
	for r := range 2 {
		if err := byRow.Add(native(x[6*r:6*(r+1)]), 1); err != nil {
			t.Fatal(err)
		}
	}
	l0, _ := want.L0()
	for _, tl := range []Tally{whole, byRow} {
		s, err := tl.Summarize(0.1)
		if err != nil || !slices.Equal(s.L0, l0) || s.Vectors != 2 || s.Rows != 2 || !slices.Equal(s.Dead, []int{0, 2}) {
			t.Errorf("%+v, %v; want l0 %v", s, err, l0)
		}
	}
	if s, _ := whole.Summarize(0.1); s.Batches != 1 {
		t.Errorf("%d Updates for one batch", s.Batches)
	}
}

// TestPositions: rows of [position, feature], the first Skip positions of
// each left out of every statistic, against a count by hand.
func TestPositions(t *testing.T) {
	t.Parallel()
	// 2 rows of 3 positions of 2 features; position 0 is left out.
	x := []uint8{9, 9, 1, 0, 0, 1, 9, 9, 1, 1, 0, 0}
	for _, skip := range []int{0, 1} {
		c := Config{Elem: Uint8, Features: 2, Positions: 3 - skip, Skip: skip}
		tl, _ := New(c, metric.NonZero(), true)
		if err := tl.Add(native(x), 2); err != nil {
			t.Fatal(err)
		}
		s, err := tl.Summarize(0.1)
		if err != nil {
			t.Fatal(err)
		}
		// Per position, the non-zero features of both rows over the rows.
		want := []float64{(2 + 2) / 2.0, (1 + 2) / 2.0, (1 + 0) / 2.0}[skip:]
		vectors := int64(2 * (3 - skip))
		if s.Vectors != vectors || s.Rows != 2 || !slices.Equal(s.L0ByPosition, want) {
			t.Errorf("skip %d: %+v, want %v", skip, s, want)
		}
	}
	tl, _ := New(Config{Elem: Uint8, Positions: 3}, metric.NonZero(), true)
	if err := tl.Add(nil, math.MaxInt64/2); !errors.Is(err, ErrTooManyVectors) {
		t.Errorf("rows × positions past an int: %v", err)
	}
}

// TestTopK: a top-k batch leaves the counts its dense twin leaves, for
// each index type; a bad index adds nothing.
func TestTopK(t *testing.T) {
	t.Parallel()
	dense := []float32{0, 2, 0, 0, 0, 0, 3, 1}
	c := Config{Elem: Float32, Features: 4}
	want, _ := New(c, metric.NonZero(), true)
	if err := want.Add(native(dense), 2); err != nil {
		t.Fatal(err)
	}
	ws, _ := want.Summarize(0.1)
	values := native([]float32{2, 0, 3, 1})
	for _, index := range []any{[]int32{1, 0, 2, 3}, []int64{1, 0, 2, 3}, []uint16{1, 0, 2, 3}, []uint32{1, 0, 2, 3}} {
		tl, _ := New(c, metric.NonZero(), true)
		if err := tl.AddTopK(index, values, 2, 2); err != nil {
			t.Fatalf("%T: %v", index, err)
		}
		s, _ := tl.Summarize(0.1)
		if !slices.Equal(s.L0, ws.L0) || !slices.Equal(s.Dead, ws.Dead) || s.Histogram != ws.Histogram {
			t.Errorf("%T: %+v, dense %+v", index, s, ws)
		}
	}
	tl, _ := New(c, metric.NonZero(), true)
	if err := tl.AddTopK([]int32{1, 4, 2, 3}, values, 2, 2); !errors.Is(err, kernel.ErrIndex) {
		t.Errorf("an index past the features: %v", err)
	}
	if s, _ := tl.Summarize(0.1); s.Vectors != 0 {
		t.Errorf("a refused batch counted %d vectors", s.Vectors)
	}
	if err := tl.AddTopK([]int8{1}, nil, 1, 1); err == nil {
		t.Error("indices of type []int8 taken")
	}
}

// TestMergeLoad: a state saved and loaded, into an empty tally or one that
// has counted, merges as the tallies do; tallies of other configs do not.
func TestMergeLoad(t *testing.T) {
	t.Parallel()
	c := Config{Elem: Int16, Components: 2, Features: 2}
	a, _ := New(c, metric.NonZero(), true)
	b, _ := New(c, metric.NonZero(), true)
	a.Add(native([]int16{1, 0, 0, 1}), 1)
	b.Add(native([]int16{1, 1, 0, 0, 0, 0, 5, 5}), 2)
	state, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	empty, _ := New(c, metric.NonZero(), true)
	if err := empty.Load(bytes.NewReader(state)); err != nil {
		t.Fatal(err)
	}
	loaded, _ := New(c, metric.NonZero(), true)
	loaded.Add(native([]int16{1, 0, 0, 1}), 1)
	if err := loaded.Load(bytes.NewReader(state)); err != nil {
		t.Fatal(err)
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	sa, _ := a.Summarize(0.1)
	sl, _ := loaded.Summarize(0.1)
	se, _ := empty.Summarize(0.1)
	sb, _ := b.Summarize(0.1)
	if !slices.Equal(sa.L0, sl.L0) || sa.Vectors != 3 || sl.Vectors != 3 || !slices.Equal(se.L0, sb.L0) {
		t.Errorf("merged %+v, loaded %+v", sa, sl)
	}
	other, _ := New(Config{Elem: Int32, Components: 2, Features: 2}, metric.NonZero(), true)
	if err := a.Merge(other); !errors.Is(err, metric.ErrMismatch) {
		t.Errorf("tallies of two configs merged: %v", err)
	}
	f := Config{Elem: Float32, Features: 2}
	nonZero, _ := New(f, metric.NonZero(), true)
	nonZero.Add(native([]float32{1, 0}), 1)
	floats, _ := nonZero.MarshalBinary()
	above, _ := New(f, metric.Above(1), true)
	if err := above.Load(bytes.NewReader(floats)); !errors.Is(err, metric.ErrMismatch) {
		t.Errorf("a state of another rule loaded: %v", err)
	}
	a.Reset()
	if s, _ := a.Summarize(0.1); s.Vectors != 0 || s.L0 != nil || s.Batches != 0 {
		t.Errorf("after Reset: %+v", s)
	}
}

// TestSparsity: log10(density + 1e-10) per feature, little-endian float32.
func TestSparsity(t *testing.T) {
	t.Parallel()
	tl, _ := New(Config{Elem: Uint8, Features: 3}, metric.NonZero(), true)
	tl.Add([]byte{1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0}, 4)
	b, err := tl.Sparsity()
	if err != nil || len(b) != 12 {
		t.Fatal(len(b), err)
	}
	for i, d := range []float64{1, 0, 0.25} {
		got := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if want := float32(math.Log10(d + 1e-10)); got != want {
			t.Errorf("feature %d: %v, want %v", i, got, want)
		}
	}
	empty, _ := New(Config{Elem: Uint8, Features: 3}, metric.NonZero(), true)
	if _, err := empty.Sparsity(); err == nil {
		t.Error("the sparsity of no vectors")
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for c, want := range map[Config]string{
		{Elem: Float32, Features: 5}:                          "float32, 5 features",
		{Elem: Uint8, Components: 2, Features: 5}:             "uint8, 2 components × 5 features",
		{Elem: BFloat16, Positions: 8, Skip: 1, Features: 20}: "bfloat16, 8 positions (after 1 skipped) × 20 features",
	} {
		if got := c.Describe(); got != want {
			t.Errorf("%+v: %q, want %q", c, got, want)
		}
	}
	if c := (Config{Components: 3, Features: 4}); c.Slots() != 3 || c.Counters() != 12 {
		t.Errorf("%d slots, %d counters", c.Slots(), c.Counters())
	}
}

// TestElemsAreMetricTags: the table's order is metric's: the state a tally
// of each element type saves carries that type's Elem as its element tag
// (the byte after the magic and the format version), so that a state read
// back is counted as the type it was written from.
func TestElemsAreMetricTags(t *testing.T) {
	t.Parallel()
	for _, e := range Elems() {
		tl, err := New(Config{Elem: e, Features: 2}, metric.NonZero(), true)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		b, err := tl.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if len(b) < 6 || Elem(b[5]) != e {
			t.Errorf("%s (%d): the state's element tag is %v", e, e, b[:min(len(b), 6)])
		}
	}
}
