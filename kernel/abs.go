package kernel

import "unsafe"

// The abs family: |x| > t, for the float types.

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
	k := &active.Load().absAbove.count
	switch s := any(x).(type) {
	case []float32:
		return countRangeChunks(words[uint32](s), absRange(float32Floor(threshold)), k.f32)
	case []float64:
		return countRangeChunks(words[uint64](s), absRange(float64Floor(threshold)), k.f64)
	case []Float16:
		return countRangeChunks(words[uint16](s), absRange(float16Floor(threshold)), k.f16)
	case []BFloat16:
		return countRangeChunks(words[uint16](s), absRange(bfloat16Floor(threshold)), k.f16)
	}
	panic("unreachable: Float has no other types")
}

// CountAbsAboveRows is CountNonZeroRows with CountAbsAbove's meaning of
// counting: it adds to counts[i % len(counts)] the number of elements of
// row i with |x| > threshold. It returns CountNonZeroRows' errors, and on
// error changes nothing.
func CountAbsAboveRows[T Float](counts []uint64, x []T, width int, threshold float64) error {
	if err := checkRows(len(counts), len(x), width); err != nil || len(x) == 0 {
		return err
	}
	k := &active.Load().absAbove.count
	switch s := any(x).(type) {
	case []float32:
		countRangeRows(counts, words[uint32](s), width, absRange(float32Floor(threshold)), k.f32)
	case []float64:
		countRangeRows(counts, words[uint64](s), width, absRange(float64Floor(threshold)), k.f64)
	case []Float16:
		countRangeRows(counts, words[uint16](s), width, absRange(float16Floor(threshold)), k.f16)
	case []BFloat16:
		countRangeRows(counts, words[uint16](s), width, absRange(bfloat16Floor(threshold)), k.f16)
	default:
		panic("unreachable: Float has no other types")
	}
	return nil
}

// AddAbsAboveColumns is AddNonZeroColumns with CountAbsAbove's meaning: it
// adds to counts[j] the number of rows whose element in column j has
// |x| > threshold. It returns AddNonZeroColumns' errors, and on error
// changes nothing.
func AddAbsAboveColumns[T Float](counts []uint64, x []T, threshold float64) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	f := &active.Load().absAbove
	switch s := any(x).(type) {
	case []float32:
		addRangeColumns(counts, words[uint32](s), absRange(float32Floor(threshold)), f.columns.f32, f.stream.f32)
	case []float64:
		addRangeColumns(counts, words[uint64](s), absRange(float64Floor(threshold)), f.columns.f64, f.stream.f64)
	case []Float16:
		addRangeColumns(counts, words[uint16](s), absRange(float16Floor(threshold)), f.columns.f16, f.stream.f16)
	case []BFloat16:
		addRangeColumns(counts, words[uint16](s), absRange(bfloat16Floor(threshold)), f.columns.f16, f.stream.f16)
	default:
		panic("unreachable: Float has no other types")
	}
	return nil
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
