package kernel

import "unsafe"

// The rule |x| > t, for the float types, in every shape.

// CountAbsAbove returns the number of elements of x whose absolute value is
// greater than threshold: |x| > threshold compared exactly as real numbers,
// the rule of pipelines that keep an activation when |x| > eps (EleutherAI's
// delphi keeps |x| > 1e-5).
//
// NaN elements never count, and a NaN threshold counts nothing. A negative
// threshold counts every element but NaN; with threshold 0 (or -0), every
// element that is neither zero nor NaN counts; ±Inf counts for every finite
// threshold. As with CountAbove, the threshold need not be representable in
// the element type: |x| > t exactly when |x| > round-down(t), and the
// kernels compare the bits of |x| (x with its sign bit cleared) with those
// of round-down(t), so the decision is exact and independent of the FPU's
// denormal modes. It reads no byte outside x, allocates nothing, runs the
// level that Active reports, and counts long inputs in chunks of at most
// ChunkBytes.
func CountAbsAbove[T Float](x []T, threshold float64) int {
	k := active.Load()
	switch unsafe.Sizeof(x[0]) {
	case 2:
		r, s := absAboveOf[T, uint16](k, threshold)
		return countRangeChunks(words[uint16](x), r, s.count)
	case 4:
		r, s := absAboveOf[T, uint32](k, threshold)
		return countRangeChunks(words[uint32](x), r, s.count)
	}
	r, s := absAboveOf[T, uint64](k, threshold)
	return countRangeChunks(words[uint64](x), r, s.count)
}

// CountAbsAboveRows is CountNonZeroRows with CountAbsAbove's meaning of
// counting: it adds to counts[i % len(counts)] the number of elements of
// row i with |x| > threshold. It returns CountNonZeroRows' errors, and on
// error changes nothing.
func CountAbsAboveRows[T Float](counts []uint64, x []T, width int, threshold float64) error {
	if err := checkRows(len(counts), len(x), width); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 2:
		countAbsAboveRows[T, uint16](counts, x, width, threshold)
	case 4:
		countAbsAboveRows[T, uint32](counts, x, width, threshold)
	default:
		countAbsAboveRows[T, uint64](counts, x, width, threshold)
	}
	return nil
}

func countAbsAboveRows[T Float, W floatWord](counts []uint64, x []T, width int, threshold float64) {
	r, s := absAboveOf[T, W](active.Load(), threshold)
	countRangeRows(counts, words[W](x), width, r, s.count, s.mask)
}

// AddAbsAboveColumns is AddNonZeroColumns with CountAbsAbove's meaning: it
// adds to counts[j] the number of rows whose element in column j has
// |x| > threshold. It returns AddNonZeroColumns' errors, and on error
// changes nothing.
func AddAbsAboveColumns[T Float](counts []uint64, x []T, threshold float64) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 2:
		addAbsAboveColumns[T, uint16](counts, x, threshold)
	case 4:
		addAbsAboveColumns[T, uint32](counts, x, threshold)
	default:
		addAbsAboveColumns[T, uint64](counts, x, threshold)
	}
	return nil
}

func addAbsAboveColumns[T Float, W floatWord](counts []uint64, x []T, threshold float64) {
	t := active.Load()
	r, s := absAboveOf[T, W](t, threshold)
	if u := narrowColumns[W](t, len(counts), len(x), true, false); u != 0 {
		addRangeNarrow(t, counts, words[W](x), r, s, u)
		return
	}
	addRangeColumns(counts, words[W](x), r, s.columns, s.stream)
}

// AddAbsAboveIndexCounts is AddNonZeroIndexCounts for the entries whose
// absolute value is greater than threshold, compared exactly as
// CountAbsAbove compares: NaN values never count, a NaN threshold counts
// nothing (every index is still checked), a negative threshold counts
// every value but NaN.
func AddAbsAboveIndexCounts[I Index, T Float](counts []uint64, features int, index []I, values []T, k int, threshold float64) error {
	g, err := checkIndexShape(len(counts), features, len(index), len(values), k)
	if err != nil || len(index) == 0 {
		return err
	}
	switch unsafe.Sizeof(values[0]) {
	case 2:
		return addAbsAboveIndexCounts[I, T, uint16](counts, g, index, values, threshold)
	case 4:
		return addAbsAboveIndexCounts[I, T, uint32](counts, g, index, values, threshold)
	}
	return addAbsAboveIndexCounts[I, T, uint64](counts, g, index, values, threshold)
}

func addAbsAboveIndexCounts[I Index, T Float, W floatWord](counts []uint64, g indexShape, index []I, values []T, threshold float64) error {
	k := active.Load()
	r, s := absAboveOf[T, W](k, threshold)
	return addIndexValues(counts, g, index, words[W](values), rangeTest(r, s), k)
}

// absAboveOf returns the range of lane magnitudes of the elements with
// |x| > threshold, and the kernels of k that count it.
func absAboveOf[T Float, W floatWord](k *impl, threshold float64) (keyRange[W], *rangeShapes[W]) {
	return absRange(floorOf[T, W](threshold)), rangeOf[W](&k.absAbove.magnitudeInRange)
}

// absRange is the range of CountAbsAbove for a threshold whose round-down
// in the element type is f: a lane b counts when |b| - lo <= span, |b|
// being b with its sign bit cleared. |x| > t exactly when |x| > f, and |b|
// is its own order key: for f >= +0 the range is (f, +Inf], as for
// CountAbove's bits; below +0 it is [+0, +Inf], every element but NaN.
func absRange[W word](f floatBits[W]) keyRange[W] {
	sign := W(1) << (8*unsafe.Sizeof(f.bits) - 1)
	switch {
	case !f.ok:
		return keyRange[W]{}
	case f.bits&sign != 0 && f.bits != sign: // below -0
		return keyRange[W]{lo: 0, span: f.inf, ok: true}
	}
	return aboveRange(f)
}
