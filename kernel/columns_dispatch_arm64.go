//go:build gc && !purego

package kernel

import "unsafe"

// columnKernelsFor returns level l's column-counting kernels; detectLevels
// (dispatch_arm64.go) decided which levels this CPU can run.
func columnKernelsFor(l Level) *columnKernels {
	if l == NEON {
		return &neonColumns
	}
	return &genericColumns
}

// The NEON kernels read whole 16-byte vectors of each row; the generic
// kernel counts the last columns.
var neonColumns = columnKernels{
	level:        NEON,
	bits8:        withNEONColumnTail(addNonZeroColumnsBits8NEON, genericColumns.bits8),
	bits16:       withNEONColumnTail(addNonZeroColumnsBits16NEON, genericColumns.bits16),
	float16:      withNEONColumnTail(addNonZeroColumnsFloat16NEON, genericColumns.float16),
	bits32:       withNEONColumnTail(addNonZeroColumnsBits32NEON, genericColumns.bits32),
	float32:      withNEONColumnTail(addNonZeroColumnsFloat32NEON, genericColumns.float32),
	bits64:       withNEONColumnTail(addNonZeroColumnsBits64NEON, genericColumns.bits64),
	float64:      withNEONColumnTail(addNonZeroColumnsFloat64NEON, genericColumns.float64),
	aboveFloat16: withNEONAboveColumnTail(addAboveColumnsFloat16NEON, addAboveColumnsNonNegativeFloat16NEON, genericColumns.aboveFloat16),
	aboveFloat32: withNEONAboveColumnTail(addAboveColumnsFloat32NEON, addAboveColumnsNonNegativeFloat32NEON, genericColumns.aboveFloat32),
	aboveFloat64: withNEONAboveColumnTail(addAboveColumnsFloat64NEON, addAboveColumnsNonNegativeFloat64NEON, genericColumns.aboveFloat64),
}

// withNEONColumnTail completes a column kernel that reads whole 16-byte
// vectors of each row only: the columns after the last whole vector go to
// tail.
func withNEONColumnTail[W word](vectors, tail columnTile[W]) columnTile[W] {
	lanes := 16 / int(unsafe.Sizeof(W(0)))
	return func(counts []uint64, x []W, stride, rows int) {
		whole := len(counts) - len(counts)%lanes
		vectors(counts, x, stride, rows)
		if whole < len(counts) {
			tail(counts[whole:], x[whole:], stride, rows)
		}
	}
}

// withNEONAboveColumnTail is withNEONColumnTail for the threshold tiles of
// one width: it runs nonNegative when lo has its sign bit clear (a
// threshold >= 0), else general.
func withNEONAboveColumnTail[W word](general, nonNegative, tail aboveTile[W]) aboveTile[W] {
	lanes := 16 / int(unsafe.Sizeof(W(0)))
	sign := W(1) << (8*unsafe.Sizeof(W(0)) - 1)
	return func(counts []uint64, x []W, stride, rows int, lo, span W) {
		whole := len(counts) - len(counts)%lanes
		vectors := general
		if lo&sign == 0 {
			vectors = nonNegative
		}
		vectors(counts, x, stride, rows, lo, span)
		if whole < len(counts) {
			tail(counts[whole:], x[whole:], stride, rows, lo, span)
		}
	}
}
