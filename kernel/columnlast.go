package kernel

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// The column counts into byte counters that also mark, per column, the
// last row in which it counts: AddNonZeroColumnBytes and its rules fused
// with the search of a metric that keeps the position of the last vector
// in which each feature fired. The count already tests every lane; the
// mark is one more (masked) store per vector of the row, of the row's
// number, so the batch is read once.

type (
	// streamLastKernel is streamKernel that also sets lastb[j] = row + r
	// for each row r < rows whose lane x[r*stride+j] counts (lastb as
	// long as counts, padding included, read and written back unchanged
	// where no lane counts). cols is a multiple of 64; row + rows - 1 is
	// at most 255.
	streamLastKernel[W word] func(counts, lastb []uint8, x []W, cols, stride, rows, row int)
	// rangeStreamLastKernel is streamLastKernel for a range test.
	rangeStreamLastKernel[W word] func(counts, lastb []uint8, x []W, cols, stride, rows, row int, lo, span W)
)

// MaxLastRow is the largest row number a byte of AddNonZeroColumnBytesLast's
// lastb holds.
const MaxLastRow = 255

// AddNonZeroColumnBytesLast is AddNonZeroColumnBytes that also marks, for
// each row r of x (0-based) and each column j whose element in row r
// counts, lastb[j] = rowBase + r + 1: after the call, lastb[j] is the
// 1-based position, past rowBase, of the last row in which column j
// counts, or is unchanged where it counts in none. rowBase plus the rows
// of x must be at most MaxLastRow (so that a caller that keeps byte counts
// of at most 255 rows between widenings can keep positions in the same
// block of rows). It returns an error wrapping ErrShape, and changes
// nothing, if len(lastb) != len(counts), if x is not whole rows of
// len(counts) columns, or if rowBase is negative or the rows do not fit.
// It reads no byte outside x, counts and lastb, and allocates nothing.
func AddNonZeroColumnBytesLast[T Element](counts, lastb []uint8, x []T, rowBase int) error {
	if err := checkColumnsLast(len(counts), len(lastb), len(x), rowBase); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 1:
		addNonZeroColumnBytesLast[T, uint8](counts, lastb, x, rowBase)
	case 2:
		addNonZeroColumnBytesLast[T, uint16](counts, lastb, x, rowBase)
	case 4:
		addNonZeroColumnBytesLast[T, uint32](counts, lastb, x, rowBase)
	default:
		addNonZeroColumnBytesLast[T, uint64](counts, lastb, x, rowBase)
	}
	return nil
}

// checkColumnsLast checks the shapes of a call of the Last functions.
func checkColumnsLast(cols, marks, n, rowBase int) error {
	if err := checkColumns(cols, n); err != nil {
		return err
	}
	if marks != cols {
		return fmt.Errorf("%w: %d last rows for %d byte counters", ErrShape, marks, cols)
	}
	rows := 0
	if cols > 0 {
		rows = n / cols
	}
	if rowBase < 0 || rowBase > MaxLastRow || rows > MaxLastRow-rowBase {
		return fmt.Errorf("%w: %d rows after row %d pass row %d, the most a byte marks", ErrShape, rows, rowBase, MaxLastRow)
	}
	return nil
}

func addNonZeroColumnBytesLast[T Element, W word](counts, lastb []uint8, x []T, rowBase int) {
	f := formatOf[T]()
	s := nonZeroOf[W](&active.Load().nonZero, f)
	addStreamBytesLast(counts, lastb, words[W](x), rowBase, s.streamLast, nonZeroTest(s))
}

// AddAboveColumnBytesLast is AddNonZeroColumnBytesLast with CountAbove's
// meaning: an element counts when it is greater than threshold, compared
// exactly.
func AddAboveColumnBytesLast[T Float](counts, lastb []uint8, x []T, threshold float64, rowBase int) error {
	if err := checkColumnsLast(len(counts), len(lastb), len(x), rowBase); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 2:
		addAboveColumnBytesLast[T, uint16](counts, lastb, x, threshold, rowBase)
	case 4:
		addAboveColumnBytesLast[T, uint32](counts, lastb, x, threshold, rowBase)
	default:
		addAboveColumnBytesLast[T, uint64](counts, lastb, x, threshold, rowBase)
	}
	return nil
}

func addAboveColumnBytesLast[T Float, W floatWord](counts, lastb []uint8, x []T, threshold float64, rowBase int) {
	r, s := aboveOf[T, W](active.Load(), threshold)
	addRangeStreamBytesLast(counts, lastb, words[W](x), rowBase, r, s)
}

// AddAbsAboveColumnBytesLast is AddNonZeroColumnBytesLast with
// CountAbsAbove's meaning: an element counts when its magnitude is greater
// than threshold, compared exactly.
func AddAbsAboveColumnBytesLast[T Float](counts, lastb []uint8, x []T, threshold float64, rowBase int) error {
	if err := checkColumnsLast(len(counts), len(lastb), len(x), rowBase); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 2:
		addAbsAboveColumnBytesLast[T, uint16](counts, lastb, x, threshold, rowBase)
	case 4:
		addAbsAboveColumnBytesLast[T, uint32](counts, lastb, x, threshold, rowBase)
	default:
		addAbsAboveColumnBytesLast[T, uint64](counts, lastb, x, threshold, rowBase)
	}
	return nil
}

func addAbsAboveColumnBytesLast[T Float, W floatWord](counts, lastb []uint8, x []T, threshold float64, rowBase int) {
	r, s := absAboveOf[T, W](active.Load(), threshold)
	addRangeStreamBytesLast(counts, lastb, words[W](x), rowBase, r, s)
}

// addRangeStreamBytesLast is addStreamBytesLast of the range r with the
// level's kernels s, bound to r once per call.
func addRangeStreamBytesLast[W word](counts, lastb []uint8, x []W, rowBase int, r keyRange[W], s *rangeShapes[W]) {
	if !r.ok {
		return
	}
	var bound streamLastKernel[W]
	if stream := s.streamLast; stream != nil {
		bound = func(counts, lastb []uint8, x []W, cols, stride, rows, row int) {
			stream(counts, lastb, x, cols, stride, rows, row, r.lo, r.span)
		}
	}
	addStreamBytesLast(counts, lastb, x, rowBase, bound, rangeTest(r, s))
}

// HasColumnBytesLastKernels reports whether the active level marks the
// last rows of AddNonZeroColumnBytesLast and its rules for elements of
// type T with assembly (the level's stream kernels, fused), rather than
// with portable Go: a caller that can find the last rows another way may
// prefer that without them. The generic level's SWAR marking (of x != 0)
// does not count: at 1 to 4 rows per call of its own, it measured 0.5x
// the generic stream's speed on dense float32 rows (BenchmarkSinceFired
// in package metric), slower than a walk back from the last row.
func HasColumnBytesLastKernels[T Element]() bool {
	t := active.Load()
	if t.level == Generic {
		return false
	}
	f, n := formatOf[T](), &t.nonZero
	switch unsafe.Sizeof(T(0)) {
	case 1:
		return nonZeroOf[uint8](n, f).streamLast != nil
	case 2:
		return nonZeroOf[uint16](n, f).streamLast != nil
	case 4:
		return nonZeroOf[uint32](n, f).streamLast != nil
	}
	return nonZeroOf[uint64](n, f).streamLast != nil
}

// addStreamBytesLast is addStreamBytes with the marks of the last rows:
// the runs of streamPad columns by stream where the level has one, in the
// pieces of streamPieces (each band's first row numbered from rowBase),
// the other columns, or all of them without a stream, by the generic Go
// of the lane test t.
func addStreamBytesLast[W word](counts, lastb []uint8, x []W, rowBase int, stream streamLastKernel[W], t valueTest[W]) {
	cols := len(counts)
	width := int(unsafe.Sizeof(x[0]))
	rows := len(x) / cols
	whole := cols &^ (streamPad - 1)
	if stream == nil {
		whole = 0
	}
	forStreamPieces(cols, width, rows, whole, func(r0, b, c0, n, start, end int) {
		addStreamLastChunk(counts[c0:c0+n:c0+n], lastb[c0:c0+n:c0+n], x[start:end:end], n, cols, b, rowBase+r0+1, stream)
	})
	if whole == cols {
		return
	}
	streamLastGeneric(counts[whole:], lastb[whole:], x[whole:], cols-whole, cols, rows, rowBase+1, t)
}

// addStreamLastChunk streams one band or segment; never inlined, it is
// the preemption point between two assembly calls.
//
//go:noinline
func addStreamLastChunk[W word](counts, lastb []uint8, x []W, cols, stride, rows, row int, stream streamLastKernel[W]) {
	stream(counts, lastb, x, cols, stride, rows, row)
}

// streamLastGeneric is streamTestGeneric that also sets lastb[j] = row + r
// for each row r whose lane of column j passes t, branch-free: the test
// as a byte mask selects the row's number or the mark kept.
func streamLastGeneric[W word](counts, lastb []uint8, x []W, cols, stride, rows, row int, t valueTest[W]) {
	counts, lastb = counts[:cols], lastb[:cols]
	s := uint64(t.span)
	for r := 0; r < rows; r++ {
		line := x[r*stride:][:cols]
		at := uint8(row + r)
		for j, e := range line {
			_, borrow := bits.Sub64(s, uint64(laneValueOf(e, t.keep, t.flip)-t.lo), 0)
			hit := uint8(1 - borrow)
			counts[j] += hit
			m := -hit
			lastb[j] = lastb[j]&^m | at&m
		}
	}
}
