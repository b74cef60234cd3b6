package kernel

// The above family: x > t, for the float types.

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
	switch s := any(x).(type) {
	case []float32:
		r := aboveRange(float32Floor(threshold))
		return countRangeChunks(words[uint32](s), r, k.above(r.keys).count.f32)
	case []float64:
		r := aboveRange(float64Floor(threshold))
		return countRangeChunks(words[uint64](s), r, k.above(r.keys).count.f64)
	case []Float16:
		r := aboveRange(float16Floor(threshold))
		return countRangeChunks(words[uint16](s), r, k.above(r.keys).count.f16)
	case []BFloat16:
		r := aboveRange(bfloat16Floor(threshold))
		return countRangeChunks(words[uint16](s), r, k.above(r.keys).count.f16)
	}
	panic("unreachable: Float has no other types")
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
	k := active.Load()
	switch s := any(x).(type) {
	case []float32:
		r := aboveRange(float32Floor(threshold))
		countRangeRows(counts, words[uint32](s), width, r, k.above(r.keys).count.f32)
	case []float64:
		r := aboveRange(float64Floor(threshold))
		countRangeRows(counts, words[uint64](s), width, r, k.above(r.keys).count.f64)
	case []Float16:
		r := aboveRange(float16Floor(threshold))
		countRangeRows(counts, words[uint16](s), width, r, k.above(r.keys).count.f16)
	case []BFloat16:
		r := aboveRange(bfloat16Floor(threshold))
		countRangeRows(counts, words[uint16](s), width, r, k.above(r.keys).count.f16)
	default:
		panic("unreachable: Float has no other types")
	}
	return nil
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
	k := active.Load()
	switch s := any(x).(type) {
	case []float32:
		r := aboveRange(float32Floor(threshold))
		f := k.above(r.keys)
		addRangeColumns(counts, words[uint32](s), r, f.columns.f32, f.stream.f32)
	case []float64:
		r := aboveRange(float64Floor(threshold))
		f := k.above(r.keys)
		addRangeColumns(counts, words[uint64](s), r, f.columns.f64, f.stream.f64)
	case []Float16:
		r := aboveRange(float16Floor(threshold))
		f := k.above(r.keys)
		addRangeColumns(counts, words[uint16](s), r, f.columns.f16, f.stream.f16)
	case []BFloat16:
		r := aboveRange(bfloat16Floor(threshold))
		f := k.above(r.keys)
		addRangeColumns(counts, words[uint16](s), r, f.columns.f16, f.stream.f16)
	default:
		panic("unreachable: Float has no other types")
	}
	return nil
}

// above returns the above family's kernels for a threshold: the ones that
// compare keys, or, for a threshold at or above +0, the shorter ones that
// compare the bits. The choice is made here, once per call, for every
// level.
func (k *impl) above(keys bool) *rangeFamily {
	if keys {
		return &k.aboveKeys
	}
	return &k.aboveBits
}
