package kernel

import (
	"fmt"
	"unsafe"
)

// CountNonZeroRows treats x as a row-major matrix of rows of width elements
// and adds to counts[i % len(counts)] the number of non-zero elements of row
// i (CountNonZero's meaning of zero). With x the activations of a batch
// [batch, component, feature] and len(counts) the number of components,
// width the number of features, counts[c] gains the active features of
// component c summed over the batch: the L0 norm's state.
//
// It is CountNonZero row by row, without the dispatch of a call per row,
// which matters for rows of a few KiB. It returns an error wrapping
// ErrShape, and changes nothing, if x is not empty and len(counts) == 0,
// width <= 0, or len(x) is not a multiple of width. It reads no byte
// outside x, allocates nothing, and counts long inputs in pieces of at most
// ChunkBytes per assembly call.
func CountNonZeroRows[T Element](counts []uint64, x []T, width int) error {
	if err := checkRows(len(counts), len(x), width); err != nil || len(x) == 0 {
		return err
	}
	k := active.Load()
	switch s := any(x).(type) {
	case []float32:
		countRows(counts, words[uint32](s), width, k.float32)
	case []float64:
		countRows(counts, words[uint64](s), width, k.float64)
	case []Float16:
		countRows(counts, words[uint16](s), width, k.float16)
	case []BFloat16:
		countRows(counts, words[uint16](s), width, k.float16)
	case []int8:
		countRows(counts, words[uint8](s), width, k.bits8)
	case []uint8:
		countRows(counts, s, width, k.bits8)
	case []int16:
		countRows(counts, words[uint16](s), width, k.bits16)
	case []uint16:
		countRows(counts, s, width, k.bits16)
	case []int32:
		countRows(counts, words[uint32](s), width, k.bits32)
	case []uint32:
		countRows(counts, s, width, k.bits32)
	case []int64:
		countRows(counts, words[uint64](s), width, k.bits64)
	case []uint64:
		countRows(counts, s, width, k.bits64)
	default:
		panic("unreachable: Element has no other types")
	}
	return nil
}

func checkRows(slots, n, width int) error {
	switch {
	case n == 0:
		return nil
	case slots == 0:
		return fmt.Errorf("%w: %d elements to count into no counts", ErrShape, n)
	case width <= 0:
		return fmt.Errorf("%w: rows of %d elements", ErrShape, width)
	case n%width != 0:
		return fmt.Errorf("%w: %d elements are not whole rows of %d", ErrShape, n, width)
	}
	return nil
}

// countRows counts whole rows, as many per countRowsChunk call as fit in
// ChunkBytes (at least one).
func countRows[W word](counts []uint64, x []W, width int, count func([]W) int) {
	rowsPerCall := max(1, ChunkBytes/int(unsafe.Sizeof(x[0]))/width)
	slot := 0
	for len(x) > 0 {
		rows := min(rowsPerCall, len(x)/width)
		slot = countRowsChunk(counts, x[:rows*width], width, slot, count)
		x = x[rows*width:]
	}
}

// countRowsChunk adds the count of each row of x to counts, starting at
// slot, and returns the slot of the next row. Like countChunk it is never
// inlined, so its prologue honours a pending preemption between pieces.
//
//go:noinline
func countRowsChunk[W word](counts []uint64, x []W, width, slot int, count func([]W) int) int {
	for len(x) > 0 {
		counts[slot] += uint64(countChunks(x[:width:width], count))
		x = x[width:]
		if slot++; slot == len(counts) {
			slot = 0
		}
	}
	return slot
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
	k := thresholdKernelsFor(Active())
	switch s := any(x).(type) {
	case []float32:
		countAboveRows(counts, words[uint32](s), width, float32Floor(threshold), k.float32)
	case []float64:
		countAboveRows(counts, words[uint64](s), width, float64Floor(threshold), k.float64)
	case []Float16:
		countAboveRows(counts, words[uint16](s), width, float16Floor(threshold), k.float16)
	case []BFloat16:
		countAboveRows(counts, words[uint16](s), width, bfloat16Floor(threshold), k.float16)
	default:
		panic("unreachable: Float has no other types")
	}
	return nil
}

// countAboveRows counts the rows of x with the threshold kernel count, its
// keys made once from floor, the threshold rounded down to the type.
func countAboveRows[W word](counts []uint64, x []W, width int, floor floatBits[W], count func(x []W, lo, span W) int) {
	lo, span, ok := thresholdKeys[W](floor)
	if !ok {
		return // nothing is above a NaN threshold, or above the largest value
	}
	countRows(counts, x, width, func(x []W) int { return count(x, lo, span) })
}
