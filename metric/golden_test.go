package metric

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden.txt from the code as it is")

// TestGolden checks every result the metrics give over a fixed set of
// inputs (every element type, rule, shape strategy, dense and sparse
// batches, merges, round trips) against testdata/golden.txt: the binary
// states byte for byte, the values as %v prints them, and the message of
// every rejected call. The file was written by the code before the metrics
// shared one core; with -update-golden the test rewrites it.
func TestGolden(t *testing.T) {
	var out strings.Builder
	record := func(key string, v any) {
		var s string
		switch v := v.(type) {
		case []byte:
			s = fmt.Sprintf("%x", v)
		case error:
			s = "error: " + v.Error()
			if strconv.IntSize == 32 {
				// The file was written on a 64-bit machine: the sizes
				// that depend on int are written as there.
				s = strings.NewReplacer(strconv.Itoa(math.MaxInt), "9223372036854775807",
					strconv.Itoa(MaxCounters), "4294967296").Replace(s)
			}
		default:
			s = fmt.Sprintf("%v", v)
		}
		if len(s) > 160 {
			s = fmt.Sprintf("sha256:%x len:%d", sha256.Sum256([]byte(s)), len(s))
		}
		fmt.Fprintf(&out, "%s = %s\n", key, s)
	}
	goldenMetrics[float32](record, "float32")
	goldenMetrics[float64](record, "float64")
	goldenMetrics[kernel.Float16](record, "float16")
	goldenMetrics[kernel.BFloat16](record, "bfloat16")
	goldenMetrics[int8](record, "int8")
	goldenMetrics[int16](record, "int16")
	goldenMetrics[int32](record, "int32")
	goldenMetrics[int64](record, "int64")
	goldenMetrics[uint8](record, "uint8")
	goldenMetrics[uint16](record, "uint16")
	goldenMetrics[uint32](record, "uint32")
	goldenMetrics[uint64](record, "uint64")
	goldenRejects(record)

	path := filepath.Join("testdata", "golden.txt")
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, []byte(out.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	got := out.String()
	if got == string(want) {
		return
	}
	wantLines, gotLines := strings.Split(string(want), "\n"), strings.Split(got, "\n")
	for i := range max(len(wantLines), len(gotLines)) {
		var w, g string
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if w != g {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, g, w)
		}
	}
}

// goldenRules returns the rules T can count by.
func goldenRules[T kernel.Element]() []Rule {
	if _, ok := nanOf[T](); !ok {
		return []Rule{NonZero()}
	}
	return []Rule{NonZero(), Above(0.25), AbsAbove(0.25), Above(-1), AbsAbove(-1)}
}

// goldenMetrics records, for element type T, every rule and a few shapes
// (short rows and long, with components and without), the results of dense
// and sparse batches, merges and round trips.
func goldenMetrics[T kernel.Element](record func(string, any), name string) {
	rng := rand.New(rand.NewPCG(71, uint64(len(name))))
	for _, rule := range goldenRules[T]() {
		for _, components := range []int{0, 3} {
			for _, features := range []int{5, 600} {
				key := fmt.Sprintf("%s/%s/c=%d/f=%d", name, rule, components, features)
				norm, err := NewL0Norm[T](components, rule)
				if err != nil {
					record(key+"/new", err)
					continue
				}
				act, _ := NewFeatureActivity[T](components, features, rule)
				topNorm, _ := NewL0Norm[T](components, rule)
				topAct, _ := NewFeatureActivity[T](components, features, rule)
				entries, _ := NewFeatureActivity[T](components, features, rule)
				for i, batch := range []int{0, 1, 9, 20} {
					shape := shapeOf(batch, components, features)
					l := layoutOf(shape)
					x := randomData[T](rng, product(shape))
					bk := fmt.Sprintf("%s/batch%d=%d", key, i, batch)
					v, err := norm.Forward(x, shape...)
					record(bk+"/forward", v)
					record(bk+"/forward-err", err)
					record(bk+"/update", act.Update(x, shape...))
					c := sparseCase[T]{rule: rule, counts: goldenCounts[T](rule)}
					c.filler, _ = nanOf[T]()
					if rule == NonZero() {
						c.filler = fromBits[T](0)
					}
					index, values, k := topKForm[T, int32](rng, x, l, c, i%3)
					topShape := append(append([]int{}, shape[:len(shape)-1]...), k)
					tv, err := ForwardTopK(topNorm, index, values, topShape...)
					record(bk+"/forward-topk", tv)
					record(bk+"/forward-topk-err", err)
					record(bk+"/topk", UpdateTopK(topAct, index, values, topShape...))
					record(bk+"/entries", UpdateEntries(entries, batch, entriesForm(index, l, k), values))
				}
				for _, m := range []struct {
					name string
					m    interface {
						MarshalBinary() ([]byte, error)
					}
				}{{"norm", norm}, {"topnorm", topNorm}, {"act", act}, {"topact", topAct}, {"entries", entries}} {
					b, err := m.m.MarshalBinary()
					record(key+"/"+m.name+"/state", b)
					record(key+"/"+m.name+"/state-err", err)
				}
				l0, err := norm.Compute()
				record(key+"/compute", l0)
				record(key+"/compute-err", err)
				record(key+"/counts", norm.Counts())
				record(key+"/vectors", norm.Vectors())
				record(key+"/act-counts", act.Counts())
				d, err := act.Density()
				record(key+"/density", d)
				record(key+"/density-err", err)
				record(key+"/dead", act.Dead())
				dense, err := act.Dense(0.3)
				record(key+"/dense", dense)
				record(key+"/dense-err", err)
				al0, err := act.L0()
				record(key+"/l0", al0)
				record(key+"/l0-err", err)
				h, err := act.Histogram()
				record(key+"/histogram", h)
				record(key+"/histogram-err", err)
				th, ok := act.Threshold()
				record(key+"/threshold", fmt.Sprint(th, ok, act.Rule(), norm.Rule()))

				// Merges, self-merges and round trips.
				record(key+"/merge-norm", norm.Merge(topNorm))
				record(key+"/merge-self", act.Merge(act))
				record(key+"/merge-act", act.Merge(topAct))
				for _, m := range []interface {
					MarshalBinary() ([]byte, error)
				}{norm, act} {
					b, _ := m.MarshalBinary()
					record(key+"/merged", b)
				}
				b, _ := act.MarshalBinary()
				fresh, _ := NewFeatureActivity[T](components, features, rule)
				n, err := fresh.ReadFrom(bytes.NewReader(b))
				record(key+"/readfrom", fmt.Sprint(n, err))
				b2, _ := fresh.MarshalBinary()
				record(key+"/readfrom-same", bytes.Equal(b, b2))
				nb, _ := norm.MarshalBinary()
				freshNorm, _ := NewL0Norm[T](components, rule)
				record(key+"/unmarshal-norm", freshNorm.UnmarshalBinary(nb))
				nb2, _ := freshNorm.MarshalBinary()
				record(key+"/unmarshal-norm-same", bytes.Equal(nb, nb2))
				norm.Reset()
				act.Reset()
				record(key+"/reset-norm", stateBytes(norm))
				record(key+"/reset-act", stateBytes(act))
			}
		}
	}
	// The zero values.
	var zn L0Norm[T]
	var za FeatureActivity[T]
	record(name+"/zero/norm", stateBytes(&zn))
	record(name+"/zero/act", stateBytes(&za))
	record(name+"/zero/norm-update", zn.Update(randomData[T](rng, 6), 2, 3))
	record(name+"/zero/norm-after", stateBytes(&zn))
	record(name+"/zero/act-update", za.Update(nil, 2, 0))
	record(name+"/zero/act-after", stateBytes(&za))
}

// goldenCounts is the oracle of a rule on T's elements.
func goldenCounts[T kernel.Element](r Rule) func(T) bool {
	th, ok := r.Threshold()
	switch {
	case !ok:
		return isNonZero[T]
	case r.Abs():
		return func(v T) bool { return math.Abs(floatValue(v)) > th }
	}
	return func(v T) bool { return floatValue(v) > th }
}

func stateBytes(m interface{ MarshalBinary() ([]byte, error) }) string {
	b, err := m.MarshalBinary()
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%x", b)
}

// goldenRejects records the error of every kind of rejected call.
func goldenRejects(record func(string, any)) {
	norm, _ := NewL0Norm[float32](2)
	act, _ := NewFeatureActivity[float32](2, 3, Above(0.5))
	other, _ := NewFeatureActivity[float32](2, 4)
	otherNorm, _ := NewL0Norm[float32](3, AbsAbove(1))
	var nilNorm *L0Norm[float32]
	var nilAct *FeatureActivity[float32]
	x := []float32{1, 0, 2, 0, 3, 0}
	_, e1 := NewL0Norm[float32](-1)
	_, e2 := NewFeatureActivity[float32](1, -3)
	_, e3 := NewL0Norm[int8](0, Above(0))
	_, e4 := NewFeatureActivity[float32](0, 3, Above(math.NaN()))
	_, e5 := NewL0Norm[float32](0, Above(1), AbsAbove(1))
	_, e6 := NewL0Norm[float32](MaxComponents + 1)
	_, e7 := NewFeatureActivity[float32](2, MaxCounters)
	_, e8 := NewFeatureActivityAbove[float64](0, 3, math.NaN())
	_, e9 := NewL0NormAbove[kernel.Float16](-2, 1)
	for i, err := range []error{e1, e2, e3, e4, e5, e6, e7, e8, e9} {
		record(fmt.Sprintf("reject/new%d", i+1), err)
	}
	_, fe := norm.Forward(x, 3, 2)
	_, ce := norm.Compute()
	_, de := act.Density()
	_, he := act.Histogram()
	_, le := act.L0()
	_, ne := act.Dense(math.NaN())
	_, ne2 := act.Dense(0.5)
	_, nf := norm.Forward(nil, 0, 2, 1)
	_, tf := ForwardTopK(norm, []int32{}, nil, 0, 2, 1)
	state, _ := act.MarshalBinary()
	normState, _ := norm.MarshalBinary()
	_, rf := other.ReadFrom(bytes.NewReader(state))
	_, rf2 := act.ReadFrom(bytes.NewReader(state[:10]))
	for _, r := range []struct {
		name string
		err  error
	}{
		{"update-rank", norm.Update(x, 6)},
		{"update-components", norm.Update(x, 1, 3, 2)},
		{"update-negative", norm.Update(x, -1, 2, 3)},
		{"update-length", norm.Update(x, 2, 2, 2)},
		{"update-overflow-shape", norm.Update(x, math.MaxInt, 2, 4)},
		{"update-features", act.Update(x, 1, 2, 2)},
		{"forward-shape", fe},
		{"forward-none", nf},
		{"forward-topk-none", tf},
		{"compute-none", ce},
		{"density-none", de},
		{"histogram-none", he},
		{"l0-none", le},
		{"dense-nan", ne},
		{"dense-none", ne2},
		{"merge-nil-norm", norm.Merge(nil)},
		{"merge-nil-act", act.Merge(nil)},
		{"merge-norm-mismatch", norm.Merge(otherNorm)},
		{"merge-act-mismatch", act.Merge(other)},
		{"unmarshal-norm-into-act", act.UnmarshalBinary(normState)},
		{"unmarshal-act-into-other", other.UnmarshalBinary(state)},
		{"unmarshal-short", act.UnmarshalBinary(state[:12])},
		{"unmarshal-norm-mismatch", otherNorm.UnmarshalBinary(normState)},
		{"readfrom-mismatch", rf},
		{"readfrom-short", rf2},
		{"topk-index", UpdateTopK(act, []int32{0, 3}, nil, 1, 2, 1)},
		{"topk-negative", UpdateTopK(norm, []int64{0, -3}, nil, 1, 2, 1)},
		{"topk-values", UpdateTopK(act, []int32{0, 1}, []float32{1}, 1, 2, 1)},
		{"topk-rank", UpdateTopK(act, []int32{0, 1}, nil, 2, 1)},
		{"entries-vectors", UpdateEntries(act, -1, []int32{0}, nil)},
		{"entries-zero", UpdateEntries(act, 0, []int32{0}, nil)},
		{"entries-values", UpdateEntries(act, 1, []int32{0}, []float32{})},
		{"entries-components", UpdateEntries(norm, 1, []int32{0}, nil)},
		{"entries-index", UpdateEntries(act, 1, []uint16{6}, nil)},
		{"nil-update", nilNorm.Update(x, 3, 2)},
		{"nil-act-update", nilAct.Update(x, 3, 2)},
		{"nil-merge", nilAct.Merge(act)},
		{"nil-unmarshal", nilNorm.UnmarshalBinary(normState)},
		{"nil-topk", UpdateTopK(nilAct, []int32{0}, nil, 1, 1)},
		{"nil-entries", UpdateEntries(nilNorm, 1, []int32{0}, nil)},
	} {
		record("reject/"+r.name, r.err)
	}
	// Overflows, from crafted states.
	huge := func(b []byte, at int, v uint64) []byte {
		b = append([]byte(nil), b...)
		binary.LittleEndian.PutUint64(b[at:], v)
		return withChecksum(b)
	}
	flat, _ := NewL0Norm[float32](0)
	_ = flat.Update([]float32{1, 1}, 1, 2)
	flatState, _ := flat.MarshalBinary()
	full, _ := NewL0Norm[float32](0)
	record("reject/overflow-load", full.UnmarshalBinary(huge(flatState, headerSize, math.MaxUint64-1)))
	record("reject/overflow-norm-update", full.Update([]float32{1, 1}, 1, 2))
	record("reject/overflow-norm-merge", full.Merge(flat))
	many, _ := NewL0Norm[float32](0)
	record("reject/overflow-load-vectors", many.UnmarshalBinary(huge(flatState, 32, math.MaxInt64)))
	record("reject/overflow-norm-vectors", many.Update([]float32{1, 1}, 1, 2))
	a1, _ := NewFeatureActivity[float32](0, 2)
	_ = a1.Update([]float32{1, 1}, 1, 2)
	a1State, _ := a1.MarshalBinary()
	fullAct, _ := NewFeatureActivity[float32](0, 2)
	record("reject/overflow-act-load", fullAct.UnmarshalBinary(huge(a1State, headerSize+8, math.MaxUint64)))
	record("reject/overflow-act-update", fullAct.Update([]float32{1, 1}, 1, 2))
	record("reject/overflow-act-merge", fullAct.Merge(a1))
	record("reject/overflow-act-topk", UpdateTopK(fullAct, []int32{1}, nil, 1, 1))
	record("reject/overflow-act-after", stateBytes(fullAct)+" "+stateBytes(full)+" "+stateBytes(many))
	record("reject/nil-values", fmt.Sprint(nilNorm.Components(), nilNorm.Vectors(), nilNorm.Counts() == nil,
		nilAct.Features(), nilAct.Counts() == nil, nilNorm.Rule(), nilAct.Rule()))
	record("reject/after", stateBytes(norm)+" "+stateBytes(act)+" "+stateBytes(other))
}
