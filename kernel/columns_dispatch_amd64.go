//go:build gc && !purego

package kernel

import "unsafe"

// columnKernelsFor returns level l's column-counting kernels; detectLevels
// (dispatch_amd64.go) decided which levels this CPU can run.
func columnKernelsFor(l Level) *columnKernels {
	switch l {
	case AVX512:
		return &avx512Columns
	case AVX2:
		return &avx2Columns
	}
	return &genericColumns
}

// The AVX-512 kernels take any number of columns: the columns after the
// last whole vector are read with masked loads.
var avx512Columns = columnKernels{
	level:        AVX512,
	bits8:        addNonZeroColumnsBits8AVX512,
	bits16:       addNonZeroColumnsBits16AVX512,
	float16:      addNonZeroColumnsFloat16AVX512,
	bits32:       addNonZeroColumnsBits32AVX512,
	float32:      addNonZeroColumnsFloat32AVX512,
	bits64:       addNonZeroColumnsBits64AVX512,
	float64:      addNonZeroColumnsFloat64AVX512,
	aboveFloat16: addAboveColumnsFloat16AVX512,
	aboveFloat32: addAboveColumnsFloat32AVX512,
	aboveFloat64: addAboveColumnsFloat64AVX512,
}

// The AVX2 kernels read whole 32-byte vectors of each row; the generic
// kernel counts the last columns.
var avx2Columns = columnKernels{
	level:        AVX2,
	bits8:        withColumnTail(addNonZeroColumnsBits8AVX2, genericColumns.bits8),
	bits16:       withColumnTail(addNonZeroColumnsBits16AVX2, genericColumns.bits16),
	float16:      withColumnTail(addNonZeroColumnsFloat16AVX2, genericColumns.float16),
	bits32:       withColumnTail(addNonZeroColumnsBits32AVX2, genericColumns.bits32),
	float32:      withColumnTail(addNonZeroColumnsFloat32AVX2, genericColumns.float32),
	bits64:       withColumnTail(addNonZeroColumnsBits64AVX2, genericColumns.bits64),
	float64:      withColumnTail(addNonZeroColumnsFloat64AVX2, genericColumns.float64),
	aboveFloat16: withAboveColumnTail(addAboveColumnsFloat16AVX2, genericColumns.aboveFloat16),
	aboveFloat32: withAboveColumnTail(addAboveColumnsFloat32AVX2, genericColumns.aboveFloat32),
	aboveFloat64: withAboveColumnTail(addAboveColumnsFloat64AVX2, genericColumns.aboveFloat64),
}

// withColumnTail completes a column kernel that reads whole 32-byte vectors
// of each row only: the columns after the last whole vector go to tail.
func withColumnTail[W word](vectors, tail columnTile[W]) columnTile[W] {
	lanes := 32 / int(unsafe.Sizeof(W(0)))
	return func(counts []uint64, x []W, stride, rows int) {
		whole := len(counts) - len(counts)%lanes
		vectors(counts, x, stride, rows)
		if whole < len(counts) {
			tail(counts[whole:], x[whole:], stride, rows)
		}
	}
}

// withAboveColumnTail is withColumnTail for the threshold kernels.
func withAboveColumnTail[W word](vectors, tail aboveTile[W]) aboveTile[W] {
	lanes := 32 / int(unsafe.Sizeof(W(0)))
	return func(counts []uint64, x []W, stride, rows int, lo, span W) {
		whole := len(counts) - len(counts)%lanes
		vectors(counts, x, stride, rows, lo, span)
		if whole < len(counts) {
			tail(counts[whole:], x[whole:], stride, rows, lo, span)
		}
	}
}
