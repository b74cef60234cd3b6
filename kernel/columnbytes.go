package kernel

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// The column counts into byte counters: AddNonZeroColumns and its rules
// for a caller that keeps narrow pending counters in front of its 64-bit
// counts, and widens them (WidenByteCounts) before any could pass 255. A
// batch of a few wide rows then costs a read of its bytes and a byte of
// counter per column, not the 16 bytes of a 64-bit count's read and write.

// AddNonZeroColumnBytes is AddNonZeroColumns into byte counters: it adds
// to counts[j] the number of rows of the row-major matrix x, len(counts)
// columns wide, whose element in column j is not zero (CountNonZero's
// meaning), in 8-bit arithmetic: a counter that passes 255 wraps, so the
// caller adds them to its wider counts with WidenByteCounts before that
// (at most 255 rows between two widenings). It returns AddNonZeroColumns'
// errors, and on error changes nothing. It reads no byte outside x and
// counts, allocates nothing, and works through long inputs in pieces of
// at most ChunkBytes per assembly call.
func AddNonZeroColumnBytes[T Element](counts []uint8, x []T) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 1:
		addNonZeroColumnBytes[T, uint8](counts, x)
	case 2:
		addNonZeroColumnBytes[T, uint16](counts, x)
	case 4:
		addNonZeroColumnBytes[T, uint32](counts, x)
	default:
		addNonZeroColumnBytes[T, uint64](counts, x)
	}
	return nil
}

func addNonZeroColumnBytes[T Element, W word](counts []uint8, x []T) {
	f := formatOf[T]()
	t := active.Load()
	s := nonZeroOf[W](&t.nonZero, f)
	if u := narrowColumns[W](t, len(counts), len(x), false, true); u != 0 {
		addNonZeroNarrowBytes(t, counts, words[W](x), s, u)
		return
	}
	stream := s.stream
	if stream == nil {
		stream = nonZeroOf[W](&genericImpl.nonZero, f).stream
	}
	addStreamBytes(counts, words[W](x), stream, nonZeroTest(s))
}

// AddAboveColumnBytes is AddNonZeroColumnBytes with CountAbove's meaning:
// an element counts when it is greater than threshold, compared exactly
// (AddAboveColumns).
func AddAboveColumnBytes[T Float](counts []uint8, x []T, threshold float64) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 2:
		addAboveColumnBytes[T, uint16](counts, x, threshold)
	case 4:
		addAboveColumnBytes[T, uint32](counts, x, threshold)
	default:
		addAboveColumnBytes[T, uint64](counts, x, threshold)
	}
	return nil
}

func addAboveColumnBytes[T Float, W floatWord](counts []uint8, x []T, threshold float64) {
	t := active.Load()
	r, s := aboveOf[T, W](t, threshold)
	if u := narrowColumns[W](t, len(counts), len(x), true, true); u != 0 {
		addRangeNarrowBytes(t, counts, words[W](x), r, s, u)
		return
	}
	_, g := aboveOf[T, W](&genericImpl, threshold)
	addRangeStreamBytes(counts, words[W](x), r, s, g)
}

// AddAbsAboveColumnBytes is AddNonZeroColumnBytes with CountAbsAbove's
// meaning: an element counts when its magnitude is greater than threshold,
// compared exactly (AddAbsAboveColumns).
func AddAbsAboveColumnBytes[T Float](counts []uint8, x []T, threshold float64) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	switch unsafe.Sizeof(x[0]) {
	case 2:
		addAbsAboveColumnBytes[T, uint16](counts, x, threshold)
	case 4:
		addAbsAboveColumnBytes[T, uint32](counts, x, threshold)
	default:
		addAbsAboveColumnBytes[T, uint64](counts, x, threshold)
	}
	return nil
}

func addAbsAboveColumnBytes[T Float, W floatWord](counts []uint8, x []T, threshold float64) {
	t := active.Load()
	r, s := absAboveOf[T, W](t, threshold)
	if u := narrowColumns[W](t, len(counts), len(x), true, true); u != 0 {
		addRangeNarrowBytes(t, counts, words[W](x), r, s, u)
		return
	}
	_, g := absAboveOf[T, W](&genericImpl, threshold)
	addRangeStreamBytes(counts, words[W](x), r, s, g)
}

// WidenByteCounts adds small[i] to counts[i], and clears small[i], for
// every i: the byte counters of AddNonZeroColumnBytes into the counts they
// stand in front of. The additions are 64-bit and wrap: the caller keeps
// its counts from passing 2^64. It returns an error wrapping ErrShape, and
// changes nothing, if len(counts) != len(small). It allocates nothing and
// widens ChunkBytes of counts per call of its kernel.
func WidenByteCounts(counts []uint64, small []uint8) error {
	if len(counts) != len(small) {
		return fmt.Errorf("%w: %d counts for %d byte counters", ErrShape, len(counts), len(small))
	}
	widenCounts(counts, small, active.Load().widen)
	return nil
}

// addRangeStreamBytes streams x through the stream of the range r, the
// level's s or where it has none the generic g's, bound to r once per call.
func addRangeStreamBytes[W word](counts []uint8, x []W, r keyRange[W], s, g *rangeShapes[W]) {
	if !r.ok {
		return
	}
	stream := s.stream
	if stream == nil {
		stream = g.stream
	}
	addStreamBytes(counts, x, func(counts []uint8, x []W, cols, stride, rows int) {
		stream(counts, x, cols, stride, rows, r.lo, r.span)
	}, rangeTest(r, s))
}

// streamPad is the padding the streams' counts need past the columns they
// count: they read and write back a whole vector of counters (at most 64
// bytes) over the last columns.
const streamPad = 64

// addStreamBytes adds the column counts of the matrix x, len(counts)
// columns wide, to the byte counters counts, in 8-bit arithmetic, with
// stream: the whole runs of streamPad columns in place, in the pieces of
// streamPieces, each through addStreamChunk; the last columns (fewer than streamPad)
// by the generic Go of the lane test t (the kernels read and write whole
// vectors of counters, past the columns they count).
func addStreamBytes[W word](counts []uint8, x []W, stream streamKernel[W], t valueTest[W]) {
	cols := len(counts)
	width := int(unsafe.Sizeof(x[0]))
	rows := len(x) / cols
	whole := cols &^ (streamPad - 1)
	forStreamPieces(cols, width, rows, whole, func(r0, b, c0, n, start, end int) {
		addStreamChunk(counts[c0:c0+n:c0+n], x[start:end:end], n, cols, b, stream)
	})
	if whole == cols {
		return
	}
	streamTestGeneric(counts[whole:], x[whole:], cols-whole, cols, rows, t)
}

// forStreamPieces calls piece for each piece of streamPieces of the first
// whole columns (a multiple of streamPad) of a matrix of rows rows of cols
// lanes of width bytes: the b rows from r0 of the n columns from c0, which
// are x[start:end].
func forStreamPieces(cols, width, rows, whole int, piece func(r0, b, c0, n, start, end int)) {
	if whole == 0 {
		return
	}
	band, segment := streamPieces(cols, width)
	segment = min(segment, whole) // a multiple of streamPad
	for r0 := 0; r0 < rows; r0 += band {
		b := min(band, rows-r0)
		for c0 := 0; c0 < whole; c0 += segment {
			n := min(segment, whole-c0)
			start := r0*cols + c0
			piece(r0, b, c0, n, start, start+(b-1)*cols+n)
		}
	}
}

// streamTestGeneric adds to the byte counts[j], j < cols, the number of
// rows r < rows whose lane x[r*stride+j] passes t, branch-free: portable
// Go, called directly (preemptible, and with no function value through
// which counts would escape).
func streamTestGeneric[W word](counts []uint8, x []W, cols, stride, rows int, t valueTest[W]) {
	counts = counts[:cols]
	s := uint64(t.span)
	for r := 0; r < rows; r++ {
		row := x[r*stride:][:cols]
		for j, e := range row {
			_, borrow := bits.Sub64(s, uint64(laneValueOf(e, t.keep, t.flip)-t.lo), 0)
			counts[j] += uint8(1 - borrow)
		}
	}
}
