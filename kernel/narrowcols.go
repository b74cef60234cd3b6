package kernel

import (
	"sync"
	"unsafe"
)

// Narrow columns: the column counts of a matrix of a few columns.
//
// A column tile reads whole vectors of each row, so a row narrower than a
// vector went to the generic tile, an element at a time (AVX2 counted
// float32 rows of 6 columns at 1 GB/s), and the byte streams' tails to
// the generic stream test. Yet the column of lane i of a matrix of cols
// columns is i mod cols: the column counts are the row counts of rows of
// one lane into cols slots, which rows.go counts as one stream (the mask
// kernel's bitmap split by slot with the periodic masks of rowSplit, a
// population count per slot but one per 64 lanes; for two slots the row
// pairs, rowpairs.go; for one, a count). So a matrix of fewer columns than
// narrowColumnLimit goes that way, when its split is periodic: the masks
// of its phases fit rowSplit's (with rowMaskWords of 1,024, every count
// up to 14, and 16), and the input has enough words that making them pays
// (rowSplit.init); otherwise it keeps the tiles and streams. The byte
// counters (columnbytes.go) take the counts of the same path into 64-bit
// scratch counters, then add them modulo 256.

// narrowColumnLimit returns the fewest columns of W lanes that level
// counts in tiles or streams rather than as narrow columns. Measured by
// BenchmarkNarrowColumns (narrow over tiles, same run, medians of 5).
func narrowColumnLimit[W word](level Level) int {
	size := int(unsafe.Sizeof(W(0)))
	switch level {
	case AVX512:
		return narrowColumnBytesAVX512 / size
	case AVX2:
		return narrowColumnBytesAVX2 / size
	}
	return narrowColumnBytesGeneric / size
}

// The row size, in bytes, from which a level's column tiles beat the
// narrow columns (narrowColumnLimit).
const (
	narrowColumnBytesAVX512  = 64
	narrowColumnBytesAVX2    = 64
	narrowColumnBytesGeneric = 64
)

// narrowColumnsOn switches the narrow columns off for the tests, whose
// reference is the generic tiles. A variable only for the tests.
var narrowColumnsOn = true

// maxNarrowColumns bounds the columns of a periodic split: its masks, a
// cycle of at least 64 words per slot but one, fit rowMaskWords.
const maxNarrowColumns = rowMaskWords/64 + 1

// narrowColumns reports whether the matrix x of cols columns is counted
// as narrow columns at level t.
func narrowColumns[W word](t *impl, cols, lanes int) bool {
	if !narrowColumnsOn || cols >= narrowColumnLimit[W](t.level) || cols > maxNarrowColumns {
		return false
	}
	if cols == 1 {
		return true
	}
	// rowSplit.init's test of the periodic split, for rows of one lane.
	phases := cols / gcdPow2(cols, 64)
	cycle := phases * ((64 + phases - 1) / phases)
	return cycle <= rowMaskWords/(cols-1) && phases*64 <= lanes/4
}

// addNonZeroNarrow adds the column counts of x, len(counts) columns, for
// x != 0 with the kernels s, as the row counts of rows of one lane.
func addNonZeroNarrow[W word](t *impl, counts []uint64, x []W, s *shapes[W]) {
	if !countRowPairs(t, counts, x, 1, s) {
		countRows(counts, x, 1, s.count, s.mask)
	}
}

// narrowCounts is the 64-bit scratch counters of the byte counters' narrow
// columns, pooled: the split keeps them in its own pooled state, so
// counters on the stack would escape to the heap at every call.
type narrowCounts [maxNarrowColumns]uint64

var narrowScratch = sync.Pool{New: func() any { return new(narrowCounts) }}

// getNarrowCounts returns zeroed scratch counters, cols of them.
func getNarrowCounts(cols int) (*narrowCounts, []uint64) {
	p := narrowScratch.Get().(*narrowCounts)
	wide := p[:cols:cols]
	clear(wide)
	return p, wide
}

// putNarrowCounts adds the scratch counters wide to the byte counters
// counts (as many), modulo 256, and returns them to the pool.
func putNarrowCounts(p *narrowCounts, counts []uint8, wide []uint64) {
	counts = counts[:len(wide)]
	for j, n := range wide {
		counts[j] += uint8(n)
	}
	narrowScratch.Put(p)
}

// addNonZeroNarrowBytes is addNonZeroNarrow into byte counters.
func addNonZeroNarrowBytes[W word](t *impl, counts []uint8, x []W, s *shapes[W]) {
	p, wide := getNarrowCounts(len(counts))
	addNonZeroNarrow(t, wide, x, s)
	putNarrowCounts(p, counts, wide)
}

// addRangeNarrowBytes is the narrow columns of the range r, with the
// kernels s, into byte counters.
func addRangeNarrowBytes[W word](counts []uint8, x []W, r keyRange[W], s *rangeShapes[W]) {
	if !r.ok {
		return
	}
	p, wide := getNarrowCounts(len(counts))
	countRangeRows(wide, x, 1, r, s.count, s.mask)
	putNarrowCounts(p, counts, wide)
}
