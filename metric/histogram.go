package metric

import (
	"math/big"
	"sort"
)

// The fixed bins of the log10 feature density histogram: HistogramBins
// bins of HistogramBinWidth from 10^HistogramMinLog10 to 1. Fixed bins make
// histograms of different runs, steps and processes comparable and
// summable.
const (
	HistogramMinLog10 = -8.0
	HistogramBinWidth = 0.5
	HistogramBins     = 16
)

// Histogram is the distribution of the log10 densities of a
// FeatureActivity's features, the plot sparse-autoencoder practitioners
// watch for dead and dense features.
//
// A feature of density d (the fraction of vectors it fired in) is counted
// in exactly one of:
//   - Dead, when d == 0 (log10 d is -Inf);
//   - Underflow, when 0 < d < 10^HistogramMinLog10;
//   - Counts[k], when 10^Edges[k] <= d < 10^Edges[k+1]; the last bin also
//     holds d == 1 (a feature that fired in every vector);
//   - AboveOne, when d > 1: a feature counted more often than there are
//     vectors, which only sparse entries that repeat a feature within a
//     vector can do (UpdateEntries, UpdateTopK count each entry). Such a
//     count is not a density, and is kept out of the bins.
//
// Every feature of every component is counted once, so Dead + Underflow +
// the sum of Counts + AboveOne is max(components, 1) × features. The bin is decided
// exactly, on the feature's count and the number of vectors, never on a
// rounded density: a count just below 10^-3.5 of the vectors is in
// [-4, -3.5), however close.
type Histogram struct {
	Edges     [HistogramBins + 1]float64 // log10 density: -8, -7.5, ..., 0
	Counts    [HistogramBins]int
	Underflow int
	Dead      int
	AboveOne  int // density > 1: duplicate sparse entries
}

// histogramEdges returns the bins' edges, as log10 densities.
func histogramEdges() (edges [HistogramBins + 1]float64) {
	for k := range edges {
		edges[k] = HistogramMinLog10 + float64(k)*HistogramBinWidth
	}
	return edges
}

// histogramFloors returns, for vectors > 0, the smallest count whose
// density reaches each edge: floors[k] is the least c with c/vectors >=
// 10^Edges[k]. The edges are whole or half powers of ten, irrational in
// general, and float64 puts some of them one ulp low (10^-3.5 among them),
// so the floors are decided in integers: with p = -2·Edges[k], a whole
// number,
//
//	c/N >= 10^(-p/2)  <=>  c² · 10^p >= N²
//
// and floors[k] is the ceiling of the square root of ceil(N² / 10^p).
func histogramFloors(vectors int64) (floors [HistogramBins + 1]uint64) {
	n := new(big.Int).SetInt64(vectors)
	n2 := new(big.Int).Mul(n, n)
	ten := big.NewInt(10)
	var q, r, c, c2 big.Int
	for k, e := range histogramEdges() {
		scale := new(big.Int).Exp(ten, big.NewInt(int64(-2*e)), nil) // 10^p
		q.QuoRem(n2, scale, &r)
		if r.Sign() != 0 {
			q.Add(&q, big.NewInt(1))
		}
		c.Sqrt(&q)
		if c2.Mul(&c, &c).Cmp(&q) < 0 {
			c.Add(&c, big.NewInt(1))
		}
		floors[k] = c.Uint64() // at most vectors
	}
	return floors
}

// The places of a feature in a Histogram, as binOf gives them: a bin of
// Counts (0 to HistogramBins-1), or one of these.
const (
	placeDead = HistogramBins + iota
	placeUnderflow
	placeAboveOne
	places
)

// binOf returns the place of a feature that fired in c of the vectors whose
// floors are given.
func binOf(c uint64, floors *[HistogramBins + 1]uint64) int {
	switch {
	case c == 0:
		return placeDead
	case c < floors[0]:
		return placeUnderflow
	case c > floors[HistogramBins]: // floors[HistogramBins] is the vectors
		return placeAboveOne
	}
	// The first bin whose upper edge c does not reach; the last bin also
	// holds c == vectors.
	return sort.Search(HistogramBins-1, func(k int) bool { return c < floors[k+1] })
}

// add counts the features of the places given.
func (h *Histogram) add(at *[places]int) {
	copy(h.Counts[:], at[:HistogramBins])
	h.Dead, h.Underflow, h.AboveOne = at[placeDead], at[placeUnderflow], at[placeAboveOne]
}

// maxPlaceTable bounds the vectors for which Histogram decides each count
// of 0 to vectors once, in a table, rather than each feature's on its own:
// a wide activity over few vectors (2^20 features, 64 vectors) has many
// features of each count.
const maxPlaceTable = 1 << 16

// Histogram returns the log10 density histogram of every feature of every
// component, each feature's bin decided exactly from its count and the
// number of vectors. Before any vector it returns ErrNoVectors.
func (a *FeatureActivity[T]) Histogram() (Histogram, error) {
	h := Histogram{Edges: histogramEdges()}
	err := a.core().read("Histogram", func(counts []uint64, vectors int64) {
		floors := histogramFloors(vectors)
		var at [places]int
		if vectors > maxPlaceTable || vectors >= int64(len(counts)) {
			for _, c := range counts {
				at[binOf(c, &floors)]++
			}
			h.add(&at)
			return
		}
		table := make([]uint8, vectors+1)
		for c := range table {
			table[c] = uint8(binOf(uint64(c), &floors))
		}
		for _, c := range counts {
			if c > uint64(vectors) {
				at[placeAboveOne]++
				continue
			}
			at[table[c]]++
		}
		h.add(&at)
	})
	if err != nil {
		return Histogram{}, err
	}
	return h, nil
}
