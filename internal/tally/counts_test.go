package tally

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// TestAddCounts checks that counts made outside a tally, by the table
// Float16Counted gives, leave it exactly as the dense batch does: the same
// state bytes and summary, for every rule, merged over two batches.
func TestAddCounts(t *testing.T) {
	t.Parallel()
	const rows, positions, features = 5, 3, 7
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]kernel.Float16, 2*rows*positions*features)
	for i := range x {
		if rng.IntN(3) == 0 {
			x[i] = kernel.Float16(rng.IntN(1 << 16)) // NaNs, ±Inf, ±0, subnormals among them
		}
	}
	c := Config{Elem: Float16, Features: features, Positions: positions}
	for _, rule := range []metric.Rule{metric.NonZero(), metric.Above(0.5), metric.AbsAbove(0.5), metric.Above(-1)} {
		dense, err := New(c, rule, true)
		if err != nil {
			t.Fatal(err)
		}
		sparse, _ := New(c, rule, true)
		table, err := Float16Counted(rule)
		if err != nil {
			t.Fatal(err)
		}
		half := rows * positions * features
		for _, batch := range [][]kernel.Float16{x[:half], x[half:]} {
			if err := dense.Add(native(batch), rows); err != nil {
				t.Fatal(err)
			}
			f, p := make([]uint64, features), make([]uint64, positions)
			since := slices.Repeat([]int64{rows * positions}, features)
			for i, v := range batch {
				if table[v] {
					f[i%features]++
					p[i/features%positions]++
					since[i%features] = rows*positions - int64(i/features) - 1
				}
			}
			if err := sparse.(CountsAdder).AddCounts(rows, f, p, since); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := dense.MarshalBinary()
		b, _ := sparse.MarshalBinary()
		sa, _ := dense.Summarize(0.1)
		sb, _ := sparse.Summarize(0.1)
		if !bytes.Equal(a, b) || !slices.Equal(sa.L0ByPosition, sb.L0ByPosition) || sa.Rows != sb.Rows || sa.Vectors != sb.Vectors {
			t.Errorf("%s: the counts differ from the dense batch's: %+v, %+v", rule, sa, sb)
		}
	}
}

// TestAddCountsRefused checks the counts no batch could make, and a tally
// without positions, are errors that add nothing.
func TestAddCountsRefused(t *testing.T) {
	t.Parallel()
	tl, _ := New(Config{Elem: Float16, Features: 2, Positions: 2}, metric.NonZero(), true)
	adder := tl.(CountsAdder)
	for _, c := range []struct {
		rows                int64
		features, positions []uint64
	}{
		{1, []uint64{3, 0}, []uint64{0, 0}}, // a feature in 3 of 2 vectors
		{1, []uint64{0, 0}, []uint64{3, 0}}, // a position counted 3 times in 1 row of 2 features
		{0, []uint64{0, 0}, []uint64{0, 0}},
		{1 << 62, []uint64{0, 0}, []uint64{0, 0}},
		{1, []uint64{0}, []uint64{0, 0}},
	} {
		if err := adder.AddCounts(c.rows, c.features, c.positions, nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if s, _ := tl.Summarize(0.1); s.Vectors != 0 {
		t.Errorf("%d vectors added by refused counts", s.Vectors)
	}
	flat, _ := New(Config{Elem: Float16, Features: 2}, metric.NonZero(), true)
	if err := flat.(CountsAdder).AddCounts(1, []uint64{0, 0}, nil, nil); err == nil {
		t.Error("a tally without positions took counts")
	}
}

// TestAddSequenceCounts checks that per-sequence counts made outside a
// tally, with a keep mask and without, leave it as AddMasked of the dense
// batch does: the same state bytes, summary and feature statistics, with
// the first positions skipped or not.
func TestAddSequenceCounts(t *testing.T) {
	t.Parallel()
	const rows, ctx, features = 6, 4, 5
	rng := rand.New(rand.NewPCG(18, 8))
	x := make([]kernel.Float16, rows*ctx*features)
	for i := range x {
		if rng.IntN(3) == 0 {
			x[i] = kernel.Float16(rng.IntN(1 << 16))
		}
	}
	keep := make([]bool, rows*ctx)
	for i := range keep {
		keep[i] = rng.IntN(4) != 0
	}
	keep[0], keep[ctx+1] = false, false
	for _, skip := range []int{0, 1} {
		c := Config{Elem: Float16, Features: features, Positions: ctx - skip, Skip: skip, Sequences: true}
		for _, mask := range [][]bool{nil, keep} {
			rule := metric.AbsAbove(0.5)
			dense, _ := New(c, rule, true)
			sparse, _ := New(c, rule, true)
			table, _ := Float16Counted(rule)
			if err := dense.AddMasked(native(x), rows, mask); err != nil {
				t.Fatal(err)
			}
			f, fired, p := make([]uint64, features), make([]uint64, features), make([]uint64, ctx-skip)
			var kept []int64
			if mask != nil {
				kept = make([]int64, ctx-skip)
			}
			// The kept vectors in order, and the last each feature fired in.
			vectors, last := int64(0), slices.Repeat([]int64{-1}, features)
			for r := range rows {
				seen := make([]bool, features)
				for pos := skip; pos < ctx; pos++ {
					if mask != nil && !mask[r*ctx+pos] {
						continue
					}
					if kept != nil {
						kept[pos-skip]++
					}
					vectors++
					for j, v := range x[(r*ctx+pos)*features : (r*ctx+pos+1)*features] {
						if table[v] {
							last[j] = vectors - 1
							f[j]++
							p[pos-skip]++
							if !seen[j] {
								seen[j] = true
								fired[j]++
							}
						}
					}
				}
			}
			since := make([]int64, features)
			for j, l := range last {
				since[j] = vectors - l - 1 // vectors where it never fired
			}
			if err := sparse.(CountsAdder).AddSequenceCounts(rows, f, fired, p, kept, since); err != nil {
				t.Fatal(err)
			}
			a, _ := dense.MarshalBinary()
			b, _ := sparse.MarshalBinary()
			sa, _ := dense.Summarize(0.1)
			sb, _ := sparse.Summarize(0.1)
			fa, _ := dense.FeatureStats()
			fb, _ := sparse.FeatureStats()
			sa.Batches, sb.Batches = 0, 0 // a row at a time, with skipped positions, or one batch
			what := fmt.Sprintf("skip %d, mask %v", skip, mask != nil)
			if !bytes.Equal(a, b) || fmt.Sprint(sa) != fmt.Sprint(sb) || fmt.Sprint(fa) != fmt.Sprint(fb) {
				t.Errorf("%s: the counts differ from the dense batch's:\n%+v\n%+v\n%+v\n%+v", what, sa, sb, fa, fb)
			}
			// Counts no batch could make: refused, nothing added.
			for _, bad := range []func() error{
				func() error { return sparse.(CountsAdder).AddSequenceCounts(rows, f, fired, p, []int64{1}, nil) },
				func() error { return sparse.(CountsAdder).AddSequenceCounts(0, f, fired, p, nil, nil) },
				func() error {
					return sparse.(CountsAdder).AddSequenceCounts(rows, f, append([]uint64{rows + 1}, fired[1:]...), p, nil, nil)
				},
				func() error {
					return sparse.(CountsAdder).AddSequenceCounts(rows, f, fired, p, slices.Repeat([]int64{rows + 1}, ctx-skip), nil)
				},
				func() error {
					return sparse.(CountsAdder).AddSequenceCounts(rows, f, fired, p, kept, slices.Repeat([]int64{-1}, features))
				},
				func() error { return sparse.(CountsAdder).AddSequenceCounts(rows, f, fired, p, kept, since[1:]) },
			} {
				if err := bad(); err == nil {
					t.Errorf("%s: bad counts taken", what)
				}
			}
			if s, _ := sparse.Summarize(0.1); s.Batches != 1 || s.Vectors != sb.Vectors || s.Sequences != sb.Sequences {
				t.Errorf("%s: refused counts changed the tally", what)
			}
		}
	}
	flat, _ := New(Config{Elem: Float16, Features: 2, Positions: 2}, metric.NonZero(), true)
	if err := flat.(CountsAdder).AddSequenceCounts(1, []uint64{0, 0}, []uint64{0, 0}, []uint64{0, 0}, nil, nil); err == nil {
		t.Error("a tally without sequences took per-sequence counts")
	}
}
