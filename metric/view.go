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
		floors := histogramFloors(vectors)
		dense, some := denseFloor(threshold, vectors)
		var at [places]int
		var byCount []int // few vectors: the features of each count
		if vectors <= maxPlaceTable && vectors < int64(len(counts)) {
			byCount = make([]int, 2*(vectors+2))
		}
		for c := range components {
			row := counts[c*features : (c+1)*features]
			l0 := func(hi, lo uint64) float64 { return (float64(hi)*(1<<64) + float64(lo)) / float64(vectors) }
			if byCount == nil {
				s.L0[c] = l0(sum128(row))
				// Many vectors: each feature's place on its own.
				for _, v := range row {
					p := binOf(v, &floors)
					at[p]++
					if p == placeDead {
						s.Dead[c]++
					} else if some && v >= dense {
						s.Dense[c]++
					}
				}
				continue
			}
			// Few vectors: the features of each count from 0 to vectors,
			// and above, then each count's place and density once.
			clear(byCount)
			countsOf(row, byCount)
			above := uint64(vectors) + 1 // byCount's last count: every count above vectors
			if byCount[above]+byCount[2*above+1] == 0 {
				// The sum from the features of each count: no pass.
				var hi, lo uint64
				for v := range above {
					h, l := bits.Mul64(v, uint64(byCount[v]+byCount[above+1+v]))
					var carry uint64
					lo, carry = bits.Add64(lo, l, 0)
					hi += h + carry
				}
				s.L0[c] = l0(hi, lo)
			} else {
				s.L0[c] = l0(sum128(row))
			}
			for v := range above + 1 {
				n := byCount[v] + byCount[above+1+v]
				if n == 0 {
					continue
				}
				p := binOf(v, &floors)
				at[p] += n
				switch {
				case p == placeDead:
					s.Dead[c] += n
				case !some || v < dense && v < above:
				case v < above || dense <= above:
					s.Dense[c] += n
				default:
					// Counts above vectors, some of them below the
					// floor: each on its own.
					for _, x := range row {
						if x >= dense {
							s.Dense[c]++
						}
					}
				}
			}
		}
		s.Histogram.add(&at)
	})
	if err != nil {
		return ActivitySummary{}, err
	}
	return s, nil
}

// sum128 returns the sum of row in 128 bits: features × 2^63 can exceed
// 2^64.
func sum128(row []uint64) (hi, lo uint64) {
	var hi1, lo1 uint64
	i := 0
	for ; i+2 <= len(row); i += 2 {
		var c0, c1 uint64
		lo, c0 = bits.Add64(lo, row[i], 0)
		lo1, c1 = bits.Add64(lo1, row[i+1], 0)
		hi += c0
		hi1 += c1
	}
	if i < len(row) {
		var c0 uint64
		lo, c0 = bits.Add64(lo, row[i], 0)
		hi += c0
	}
	lo, c := bits.Add64(lo, lo1, 0)
	return hi + hi1 + c, lo
}

// countsOf adds to byCount[v] the features of row of count v, up to
// len(byCount)/2-1, which holds every count above: in two halves, even and
// odd features, so that two features in a row of one count do not wait
// on each other's increment.
func countsOf(row []uint64, byCount []int) {
	half := len(byCount) / 2
	top := uint64(half - 1)
	even, odd := byCount[:half], byCount[half:2*half]
	i := 0
	for ; i+2 <= len(row); i += 2 {
		even[min(row[i], top)]++
		odd[min(row[i+1], top)]++
	}
	if i < len(row) {
		even[min(row[i], top)]++
	}
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
