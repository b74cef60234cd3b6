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
// the generic stream test. Two ways count them near a count's speed, per
// rule and level (narrowColumns):
//
//   - Folded: the matrix of cols columns is also one of k*cols columns,
//     k rows to a row, whose column j is part of column j mod cols; with
//     rows of whole vectors, a few hundred bytes (foldBytes), the level's
//     tiles (or the generic streams) count it, and its counts are folded
//     (addFolded).
//   - Split: the column of lane i is i mod cols, so the column counts are
//     the row counts of rows of one lane into cols slots, which rows.go
//     counts as one stream (the mask kernel's bitmap split by slot with
//     rowSplit's periodic masks, a population count per slot but one per
//     64 lanes; for two slots the row pairs, rowpairs.go; for one, a
//     count), when the masks of its phases fit rowSplit's and are no more
//     words than the input has lanes (columnSplitPeriodic). It also
//     counts the rows a fold leaves after its last wide row.
//
// The byte counters (columnbytes.go) take the counts of the same paths
// into 64-bit scratch counters, then add them modulo 256.

// narrowColumnLimit returns the fewest columns of W lanes that level
// counts in tiles or streams rather than as narrow columns: a level's
// tiles win from a vector of columns (AVX2), or from a few columns
// whatever their width (AVX-512's masked rows), where the split costs a
// population count per column per 64 lanes. BenchmarkNarrowColumns
// (x-tiles: the tiles' time over the narrow columns', 1 MiB, 10% dense,
// medians of 5 in one run) chose them: AVX-512, narrow 1.2-47x faster to
// 7 columns of u8/bf16/f32 and 4 of f64, tiles faster from 8 columns of
// bf16/f32 (0.67-0.90x) and from 12 of u8 (0.51x), 6 of f64 (0.73x);
// AVX2, narrow 5-184x faster below 32 bytes of row, tiles faster at a
// vector (f32 8 columns 0.42x, bf16 16 0.25x, f64 4 0.72x); generic,
// narrow 2-49x faster below 64 bytes of row but for f64 (8 columns
// 0.85x).
func narrowColumnLimit[W word](level Level) int {
	size := int(unsafe.Sizeof(W(0)))
	switch level {
	case AVX512:
		return min(8, 40/size)
	case AVX2:
		return 32 / size
	}
	return 64 / size
}

// narrowColumnsOn switches the narrow columns off for the tests, whose
// reference is the generic tiles. A variable only for the tests.
var narrowColumnsOn = true

// maxNarrowColumns bounds the columns of a periodic split: its masks, a
// cycle of at least 64 words per slot but one, fit rowMaskWords.
const maxNarrowColumns = rowMaskWords/64 + 1

// narrowUse is how a matrix of narrow columns is counted: not as narrow
// columns (0), folded, or split (each falls back on the split for the
// rows a fold leaves).
type narrowUse uint8

const (
	narrowSplit narrowUse = iota + 1
	narrowFold
)

// narrowColumns returns how the matrix x of cols columns is counted at
// level t, for a range rule (ranged, else x != 0), into byte counters
// (bytes, else 64-bit counts). At the vector levels every rule folds,
// below foldColumnLimit, else splits below narrowColumnLimit. The generic
// level folds only x != 0 of 32-bit lanes into 64-bit counts (4.3-5.4x
// the tiles, where the split is 2-3.5x; of bytes the split is 4.8-12x and
// the fold 1.6-1.9x; of float64 the split 1.8-4.2x, the fold 1.3-2.3x; a
// range rule's fold 0.9-1.4x and its split 1.35-2.1x); it splits the
// rest but a range rule into byte counters, which its streams count as
// fast (the split 0.5-1.2x of them).
func narrowColumns[W word](t *impl, cols, lanes int, ranged, bytes bool) narrowUse {
	size := int(unsafe.Sizeof(W(0)))
	switch {
	case !narrowColumnsOn || cols > maxNarrowColumns:
		return 0
	case cols == 1:
		return narrowSplit // a count
	case t.level == Generic && ranged && bytes:
		return 0
	}
	fold := t.level != Generic || !ranged && !bytes && size == 4
	if fold && cols < foldColumnLimit(t.level, size) && foldRows(t.level, cols, size, lanes) > 0 {
		return narrowFold
	}
	if cols < narrowColumnLimit[W](t.level) && columnSplitPeriodic(cols, lanes) {
		return narrowSplit
	}
	return 0
}

// foldColumnLimit is the fewest columns of size-byte lanes that level
// does not fold (BenchmarkNarrowColumns, folded against the tiles, one
// run, medians of 5): AVX-512 folds to 64 bytes of row (f32 12-14
// columns 1.0-1.1x, 16 at 0.67x; f64 7 at 1.04x, 8 at 0.90x); AVX2
// every narrow count (1.1-83x, at a vector of row too).
func foldColumnLimit(level Level, size int) int {
	if level == AVX512 {
		return 64 / size
	}
	return maxNarrowColumns + 1
}

// columnSplitPeriodic reports whether rowSplit.init splits lanes lanes of
// rows of one lane into slots slots (at least two) by the periodic masks:
// when they fit, and they are at most a word per lane of input (at a
// shift per slot and phase, makeColumnMasks costs about a word written
// per mask word).
func columnSplitPeriodic(slots, lanes int) bool {
	phases := slots / gcdPow2(slots, 64)
	cycle := phases * ((64 + phases - 1) / phases)
	return cycle <= rowMaskWords/(slots-1) && cycle*(slots-1) <= lanes
}

// makeColumnMasks is makeMasks for rows of one lane: the lanes of slot s
// in a word whose lane 0 is at position q of the period (of slots lanes)
// are those j with (q+j) mod slots = s, the pattern of every slots-th
// lane shifted by (s-q) mod slots.
func (s *rowSplit) makeColumnMasks() {
	slots, phases, stride := len(s.counts), s.phases, s.cycle
	var every uint64 // bits 0, slots, 2*slots, ...
	for j := 0; j < 64; j += slots {
		every |= 1 << j
	}
	for slot := range slots - 1 {
		m := s.masks[slot*stride : (slot+1)*stride]
		for p := range phases {
			q := p * 64 % slots
			m[p] = every << ((slot - q + slots) % slots)
		}
		for p := phases; p < stride; p++ {
			m[p] = m[p-phases]
		}
	}
}

// addNonZeroNarrow adds the column counts of x, len(counts) columns, for
// x != 0 with the kernels s: folded where it can be (addFolded), else as
// the row counts of rows of one lane.
func addNonZeroNarrow[W word](t *impl, counts []uint64, x []W, s *shapes[W], u narrowUse) {
	addFolded(t.level, counts, x, u == narrowFold, func(wide []uint64, x []W) {
		addColumns(wide, x, s.columns, s.stream)
	}, func(counts []uint64, x []W) {
		if !countRowPairs(t, counts, x, 1, s) {
			countRows(counts, x, 1, s.count, s.mask)
		}
	})
}

// addRangeNarrow is addNonZeroNarrow for the range r with the kernels s.
func addRangeNarrow[W word](t *impl, counts []uint64, x []W, r keyRange[W], s *rangeShapes[W], u narrowUse) {
	if !r.ok {
		return
	}
	addFolded(t.level, counts, x, u == narrowFold, func(wide []uint64, x []W) {
		addRangeColumns(wide, x, r, s.columns, s.stream)
	}, func(counts []uint64, x []W) {
		countRangeRows(counts, x, 1, r, s.count, s.mask)
	})
}

// Folded columns: a matrix of cols narrow columns is also a matrix of
// k*cols columns, k rows of it a row, whose column j is a part of column
// j mod cols. Its rows are wide enough for the level's tiles (whole
// vectors, a few of them: foldBytes) or the generic streams, which count
// them near a count's speed where the split of a bitmap costs its store
// and a population count per column; the wide counts are then folded.
// The rows after the last whole wide row go through the split.

// foldBytes returns the row size, in bytes, of the wide matrix of lanes
// of size bytes at level, and the vector its rows are whole multiples of
// (for the generic streams, eight lanes).
func foldBytes(level Level, size int) (target, vector int) {
	switch level {
	case AVX512:
		return foldBytesAVX512, 64
	case AVX2:
		return foldBytesAVX2, 32
	}
	return foldBytesGeneric, 8 * size
}

// The wide rows' sizes: AVX-512 rows of 192 to 1,536 bytes counted
// float32 at 0.75-0.8x of CountNonZero of the same 768 KiB (rows of 96
// bytes at 0.47x); AVX2 rows of 768 and 1,536 at 0.75x (of 384 at
// 0.58x); the generic level streams rows of 1 KiB and more.
const (
	foldBytesAVX512  = 256
	foldBytesAVX2    = 768
	foldBytesGeneric = 1024
	// maxFoldLanes bounds the wide counts (pooled scratch); minFoldRows
	// is the fewest wide rows that pay for folding their counts.
	maxFoldLanes = 4096
	minFoldRows  = 8
)

type foldCounts [maxFoldLanes]uint64

var foldScratch = sync.Pool{New: func() any { return new(foldCounts) }}

// foldRows returns the rows of x in a row of the wide matrix of narrow
// columns cols of size-byte lanes at level, 0 if it does not fold.
func foldRows(level Level, cols, size, lanes int) int {
	if cols < 2 {
		return 0
	}
	target, vector := foldBytes(level, size)
	row := cols * size
	k0 := vector / gcdPow2(row, vector)            // rows to a whole vector
	k := k0 * ((target + k0*row - 1) / (k0 * row)) // rows of target bytes or more
	if k*cols > maxFoldLanes || lanes/(k*cols) < minFoldRows {
		return 0
	}
	return k
}

// addFolded adds the column counts of x, len(counts) columns, by wide
// (the column counts of a wide matrix) where they fold, and by split for
// the rows after the last wide row, or all of them.
func addFolded[W word](level Level, counts []uint64, x []W, fold bool, wide, split func(counts []uint64, x []W)) {
	cols := len(counts)
	if k := foldRows(level, cols, int(unsafe.Sizeof(W(0))), len(x)); fold && k > 0 {
		p := foldScratch.Get().(*foldCounts)
		w := p[:k*cols]
		clear(w)
		n := len(x) / (k * cols) * (k * cols)
		wide(w, x[:n:n])
		for len(w) > 0 {
			for j, c := range w[:cols] {
				counts[j] += c
			}
			w = w[cols:]
		}
		foldScratch.Put(p)
		x = x[n:]
		if len(x) == 0 {
			return
		}
	}
	split(counts, x)
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
func addNonZeroNarrowBytes[W word](t *impl, counts []uint8, x []W, s *shapes[W], u narrowUse) {
	p, wide := getNarrowCounts(len(counts))
	addNonZeroNarrow(t, wide, x, s, u)
	putNarrowCounts(p, counts, wide)
}

// addRangeNarrowBytes is addRangeNarrow into byte counters.
func addRangeNarrowBytes[W word](t *impl, counts []uint8, x []W, r keyRange[W], s *rangeShapes[W], u narrowUse) {
	if !r.ok {
		return
	}
	p, wide := getNarrowCounts(len(counts))
	addRangeNarrow(t, wide, x, r, s, u)
	putNarrowCounts(p, counts, wide)
}
