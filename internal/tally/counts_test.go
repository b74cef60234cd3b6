package tally

import (
	"bytes"
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
		dense, err := New(c, rule)
		if err != nil {
			t.Fatal(err)
		}
		sparse, _ := New(c, rule)
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
			for i, v := range batch {
				if table[v] {
					f[i%features]++
					p[i/features%positions]++
				}
			}
			if err := sparse.(CountsAdder).AddCounts(rows, f, p); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := dense.MarshalBinary()
		b, _ := sparse.MarshalBinary()
		// Counts made elsewhere carry no vector per entry: their features'
		// vectors since fired, after the counts, are the batch's (0 for
		// one that fired in the last batch), not the dense batch's.
		a, b = a[:40+8*features], b[:40+8*features]
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
	tl, _ := New(Config{Elem: Float16, Features: 2, Positions: 2}, metric.NonZero())
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
		if err := adder.AddCounts(c.rows, c.features, c.positions); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if s, _ := tl.Summarize(0.1); s.Vectors != 0 {
		t.Errorf("%d vectors added by refused counts", s.Vectors)
	}
	flat, _ := New(Config{Elem: Float16, Features: 2}, metric.NonZero())
	if err := flat.(CountsAdder).AddCounts(1, []uint64{0, 0}, nil); err == nil {
		t.Error("a tally without positions took counts")
	}
}
