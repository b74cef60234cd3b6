package metric

import "math"

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
//     holds d == 1 (a feature that fired in every vector).
//
// Every feature of every component is counted once, so Dead + Underflow +
// the sum of Counts is max(components, 1) × features.
type Histogram struct {
	Edges     [HistogramBins + 1]float64 // log10 density: -8, -7.5, ..., 0
	Counts    [HistogramBins]int
	Underflow int
	Dead      int
}

// histogramEdges returns the bins' edges, as log10 densities.
func histogramEdges() (edges [HistogramBins + 1]float64) {
	for k := range edges {
		edges[k] = HistogramMinLog10 + float64(k)*HistogramBinWidth
	}
	return edges
}

// histogramLowers holds the densities of the edges, 10^Edges[k], computed
// once: add runs once per feature, tens of thousands of times a report.
var histogramLowers = func() (lowers [HistogramBins + 1]float64) {
	for k, e := range histogramEdges() {
		lowers[k] = math.Pow(10, e)
	}
	return lowers
}()

// add counts a feature of density d, 0 <= d <= 1.
func (h *Histogram) add(d float64) {
	lower := func(k int) float64 { return histogramLowers[k] }
	switch {
	case d <= 0:
		h.Dead++
		return
	case d < lower(0):
		h.Underflow++
		return
	}
	k := int(math.Floor((math.Log10(d) - HistogramMinLog10) / HistogramBinWidth))
	k = min(max(k, 0), HistogramBins-1)
	// The logarithm can round across an edge; the edges' powers decide.
	for k > 0 && d < lower(k) {
		k--
	}
	for k < HistogramBins-1 && d >= lower(k+1) {
		k++
	}
	h.Counts[k]++
}

// Histogram returns the log10 density histogram of every feature of every
// component. Before any vector it returns ErrNoVectors.
func (a *FeatureActivity[T]) Histogram() (Histogram, error) {
	density, err := a.Density()
	if err != nil {
		return Histogram{}, err
	}
	h := Histogram{Edges: histogramEdges()}
	for _, d := range density {
		h.add(d)
	}
	return h, nil
}
