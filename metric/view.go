package metric

import (
	"math"
	"math/bits"
)

// View calls f with the counts, in the order Counts gives them, and the
// number of vectors, under the metric's lock and without a copy: what a
// caller computes from a state of millions of features then costs the
// memory of its results only. f must not keep counts past its return,
// change them, or call a's methods (the lock is held).
func (a *FeatureActivity[T]) View(f func(counts []uint64, vectors int64)) { a.core().view(f) }

// An ActivitySummary is what Summary computes in one pass over the
// counts.
type ActivitySummary struct {
	L0        []float64 // per component, as L0 returns it
	Histogram Histogram // as Histogram returns it
	// Dead and Dense are per component (one without a component
	// dimension): the features that never fired, and those that fired
	// with a density (count / vectors) greater than Summary's threshold.
	Dead, Dense []int
}

// Summary returns L0, Histogram, and per component the dead features and
// the features denser than threshold, equal to what L0, Histogram and a
// loop over Counts give, from one pass over the counts in place: a wide
// state's report reads its counts once and copies nothing. A NaN threshold
// makes no feature dense. Before any vector it returns ErrNoVectors.
func (a *FeatureActivity[T]) Summary(threshold float64) (ActivitySummary, error) {
	components, features := max(a.Components(), 1), a.Features()
	s := ActivitySummary{
		L0: make([]float64, components), Histogram: Histogram{Edges: histogramEdges()},
		Dead: make([]int, components), Dense: make([]int, components),
	}
	err := a.core().read("Summary", func(counts []uint64, vectors int64) {
		table := placeTable(vectors, len(counts))
		floors := histogramFloors(vectors)
		dense, some := denseFloor(threshold, vectors)
		var at [2][places]int // two sets, so that two features in a row of one place do not wait on each other's count
		for c := range components {
			var hi, lo uint64 // a 128-bit sum: features × 2^63 can exceed 2^64
			n := 0
			dead := at[0][placeDead] + at[1][placeDead]
			add := func(k int, v uint64) {
				var carry uint64
				lo, carry = bits.Add64(lo, v, 0)
				hi += carry
				if v >= dense && v != 0 && some {
					n++
				}
				if table != nil {
					at[k][table[min(v, uint64(len(table)-1))]]++
				} else {
					at[k][binOf(v, &floors)]++
				}
			}
			row := counts[c*features : (c+1)*features]
			i := 0
			for ; i+2 <= len(row); i += 2 {
				add(0, row[i])
				add(1, row[i+1])
			}
			if i < len(row) {
				add(0, row[i])
			}
			s.L0[c] = (float64(hi)*(1<<64) + float64(lo)) / float64(vectors)
			s.Dead[c] = at[0][placeDead] + at[1][placeDead] - dead
			s.Dense[c] = n
		}
		for k := range at[0] {
			at[0][k] += at[1][k]
		}
		s.Histogram.add(&at[0])
	})
	if err != nil {
		return ActivitySummary{}, err
	}
	return s, nil
}

// placeTable returns the place in a Histogram of every count from 0 to
// vectors, and one more for every count above (AboveOne), where the table
// is small beside the counts (Histogram's maxPlaceTable); nil otherwise.
func placeTable(vectors int64, counts int) []uint8 {
	if vectors > maxPlaceTable || vectors >= int64(counts) {
		return nil
	}
	floors := histogramFloors(vectors)
	table := make([]uint8, vectors+2)
	for c := range table {
		table[c] = uint8(binOf(uint64(c), &floors))
	}
	return table
}

// denseFloor returns the least count c with float64(c)/float64(vectors) >
// threshold (vectors > 0), and false where no count is (a threshold
// beyond them all, or NaN): that test is monotone in c, so a binary search
// finds the floor, and each feature is decided by one comparison, exactly
// as the division decides it.
func denseFloor(threshold float64, vectors int64) (uint64, bool) {
	above := func(c uint64) bool { return float64(c)/float64(vectors) > threshold }
	if !above(math.MaxUint64) {
		return 0, false
	}
	lo, hi := uint64(0), uint64(math.MaxUint64) // above(hi), and lo-1 is not
	for lo < hi {
		mid := lo + (hi-lo)/2
		if above(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, true
}
