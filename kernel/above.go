package kernel

import "unsafe"

// The rule x > t, for the float types, in every shape.

// CountAbove returns the number of elements of x whose value is greater
// than threshold: x > threshold compared exactly as real numbers, the way
// the sparse_autoencoder library decides that a feature fired.
//
// NaN elements never count, and a NaN threshold counts nothing; -0 and +0
// are equal, so with threshold 0 neither counts; +Inf counts for every
// finite threshold and -Inf for none. Float16 is IEEE 754 half precision,
// BFloat16 the top half of a float32.
//
// The threshold is a float64 and need not be representable in the element
// type: since no element lies strictly between a threshold t and the largest
// value of the type not above it, round-down(t), x > t exactly when
// x > round-down(t), and that is what the kernels compare. For example, with
// float32 elements and t = 0.1 (not a float32), the float32 0.1 (slightly
// above the real 0.1) counts; with t = 1e-50, the smallest subnormal counts.
//
// The comparison is made on the bits (see threshold.go), so it does not
// depend on the FPU's denormal modes. It reads no byte outside x, allocates
// nothing, runs the level that Active reports, and counts long inputs in
// chunks of at most ChunkBytes.
func CountAbove[T Float](x []T, threshold float64) int {
	k := active.Load()
	switch unsafe.Sizeof(x[0]) {
	case 2:
		r, s := aboveOf[T, uint16](k, threshold)
		return countRangeChunks(words[uint16](x), r, s.count)
	case 4:
		r, s := aboveOf[T, uint32](k, threshold)
		return countRangeChunks(words[uint32](x), r, s.count)
	}
	r, s := aboveOf[T, uint64](k, threshold)
	return countRangeChunks(words[uint64](x), r, s.count)
}

// CountAboveRows is CountNonZeroRows with CountAbove's meaning of counting:
// it adds to counts[i % len(counts)] the number of elements of row i that
// are greater than threshold (NaN never counts; a NaN threshold counts
// nothing). The threshold is converted to the element type's keys once per
// call, not once per row.
func CountAboveRows[T Float](counts []uint64, x []T, width int, threshold float64) error {
	if err := checkRows(len(counts), len(x), width); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 2:
		countAboveRows[T, uint16](counts, x, width, threshold)
	case 4:
		countAboveRows[T, uint32](counts, x, width, threshold)
	default:
		countAboveRows[T, uint64](counts, x, width, threshold)
	}
	return nil
}

func countAboveRows[T Float, W floatWord](counts []uint64, x []T, width int, threshold float64) {
	r, s := aboveOf[T, W](active.Load(), threshold)
	countRangeRows(counts, words[W](x), width, r, s.count, s.mask)
}

// AddAboveColumns is AddNonZeroColumns with CountAbove's meaning: it adds
// to counts[j] the number of rows whose element in column j is greater
// than threshold, compared exactly (NaN elements never count, a NaN
// threshold counts nothing, -0 equals +0). It returns the same errors, and
// on error changes nothing.
func AddAboveColumns[T Float](counts []uint64, x []T, threshold float64) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 2:
		addAboveColumns[T, uint16](counts, x, threshold)
	case 4:
		addAboveColumns[T, uint32](counts, x, threshold)
	default:
		addAboveColumns[T, uint64](counts, x, threshold)
	}
	return nil
}

func addAboveColumns[T Float, W floatWord](counts []uint64, x []T, threshold float64) {
	t := active.Load()
	r, s := aboveOf[T, W](t, threshold)
	if u := narrowColumns[W](t, len(counts), len(x), true, false); u != 0 {
		addRangeNarrow(t, counts, words[W](x), r, s, u)
		return
	}
	addRangeColumns(counts, words[W](x), r, s.columns, s.stream)
}

// AddAboveIndexCounts is AddNonZeroIndexCounts for the entries whose value
// is greater than threshold, compared exactly as CountAbove compares: NaN
// values never count, a NaN threshold counts nothing (every index is still
// checked), -0 equals +0, and the threshold need not be representable in
// the element type.
func AddAboveIndexCounts[I Index, T Float](counts []uint64, features int, index []I, values []T, k int, threshold float64) error {
	g, err := checkIndexShape(len(counts), features, len(index), len(values), k)
	if err != nil || len(index) == 0 {
		return err
	}
	switch unsafe.Sizeof(values[0]) {
	case 2:
		return addAboveIndexCounts[I, T, uint16](counts, g, index, values, threshold)
	case 4:
		return addAboveIndexCounts[I, T, uint32](counts, g, index, values, threshold)
	}
	return addAboveIndexCounts[I, T, uint64](counts, g, index, values, threshold)
}

func addAboveIndexCounts[I Index, T Float, W floatWord](counts []uint64, g indexShape, index []I, values []T, threshold float64) error {
	k := active.Load()
	r, s := aboveOf[T, W](k, threshold)
	return addIndexValues(counts, g, index, words[W](values), rangeTest(r, s), k)
}

// aboveOf returns the range of lane values of the elements above
// threshold, and the kernels of k that count it: those that compare the
// order keys, or, for a threshold at or above +0, the shorter ones that
// compare the bits. The choice is made here, once per call, for every
// level.
func aboveOf[T Float, W floatWord](k *impl, threshold float64) (keyRange[W], *rangeShapes[W]) {
	r := aboveRange(floorOf[T, W](threshold))
	if r.keys {
		return r, rangeOf[W](&k.above.keyInRange)
	}
	return r, rangeOf[W](&k.above.bitsInRange)
}
