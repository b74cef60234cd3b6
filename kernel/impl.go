package kernel

import "unsafe"

// The table of a level's kernels, organised by rule.
//
// Each rule of counting (x != 0, x > t, |x| > t, and every entry of the
// index family) is one struct of the table, holding the rule's kernels:
// per kind of lane, one kernel of each shape (a count of a run of lanes,
// a column tile, a column stream, the mask of the index family). The
// generic table (below) is complete; each architecture's file
// (impl_amd64.go, impl_arm64.go) builds its levels' tables as the generic
// one plus overrides: one line per kind of lane of each rule it has
// assembly for, naming the kernels it has. A rule without assembly at a
// level has no line there, a shape without assembly is a field left out of
// its line, and both keep the generic kernels. The active table is one
// atomic pointer (level.go), read once per call.
//
// Which level has assembly for which shape (the generated z*_<arch>.s, for
// every rule and lane width; the generic kernels count what a level's
// kernels leave, see reads):
//
//	shape                          avx512           avx2                       neon
//	a run of elements, per row     any length       whole 32-byte vectors      whole 16-byte vectors
//	per column, in tiles           any length       whole 32-byte vectors      whole 16-byte vectors
//	per column, streams            any length       8-, 16-, 32-bit lanes:     none: tiles
//	  (wide matrices)                               whole runs of 32 columns
//	sparse entries: value masks,   whole groups     whole groups of 64         none: generic Go
//	  index check, widening        of 64
//	sparse entries: increments     scalar amd64 assembly, at both levels       generic Go
//	narrow rows (under 1 KiB,      value masks,     value masks,               generic masks,
//	  two counts or more)            split by row     split by row               split by row
//	                                 (POPCNT)         (POPCNT)
//	narrow rows of bytes into      one pass, no     one pass, no               generic Go (SWAR,
//	  two counts (rowpairs.go)       bitmap           bitmap                     any lane up to 32
//	                                                                             bits, rows < 256 B)
//
// (The generic level streams wide matrices in portable Go: byte counters,
// eight columns of SWAR tests at a time.)

// The shapes of the kernels: every rule's kernels take one of these
// signatures, at every level, for each lane type W.
type (
	// countKernel returns the number of lanes of x that count.
	countKernel[W word] func(x []W) int
	// rangeKernel returns the number of lanes of x whose value (the
	// lane's bits, its order key or its magnitude: laneValue) minus lo is
	// at most span, in W's unsigned arithmetic.
	rangeKernel[W word] func(x []W, lo, span W) int
	// columnKernel adds to counts[j], for j < len(counts), the number of
	// rows r < rows whose lane x[r*stride+j] counts. A tile always has
	// len(x) = (rows-1)*stride + len(counts), rows >= 1, and rows at most
	// maxTileRows of the lane width (chunk.go).
	columnKernel[W word] func(counts []uint64, x []W, stride, rows int)
	// rangeColumnKernel is columnKernel for a range test.
	rangeColumnKernel[W word] func(counts []uint64, x []W, stride, rows int, lo, span W)
	// streamKernel adds to the byte counts[j], j < cols, the number of
	// rows r < rows whose lane x[r*stride+j] counts, reading the rows in
	// order (chunk.go). rows is at most 255 less the largest count, and
	// len(counts) at least cols rounded up to 64.
	streamKernel[W word] func(counts []uint8, x []W, cols, stride, rows int)
	// rangeStreamKernel is streamKernel for a range test.
	rangeStreamKernel[W word] func(counts []uint8, x []W, cols, stride, rows int, lo, span W)
	// maskKernel sets bit i%64 of bits[i/64], for each lane i of x, to
	// whether the lane counts, and clears the bits past len(x) in the last
	// word it writes; it writes (len(x)+63)/64 words. It is the value test
	// of the index family (index_add.go).
	maskKernel[W word] func(bits []uint64, x []W)
	// rangeMaskKernel is maskKernel for a range test.
	rangeMaskKernel[W word] func(bits []uint64, x []W, lo, span W)
)

// The shapes of the index family's kernels that test no value, for each
// index lane type I (index_add.go).
type (
	// maxKernel returns the largest lane of x, unsigned, or 0 for none.
	maxKernel[I indexWord] func(x []I) I
	// scatterKernel adds bit i%64 of bits[i/64] to small[index[i]], for
	// each entry i in order, in 8-bit arithmetic, until an index is not
	// below len(small): it returns the position of that entry, or -1. Each
	// time a counter wraps from 255 to 0 it writes the counter's index to
	// carries, in the order of the entries, and it returns how many it
	// wrote. len(carries) must be at least len(index). After an index out
	// of range, small and carries hold part of the entries before it.
	scatterKernel[I indexWord] func(small []uint8, index []I, bits []uint64, carries []uint32) (carried, bad int)
	// runKernel counts a run of entries of one component into the scratch
	// counters of s.part, after checking that each index is below s.limit,
	// takes the carries through s.carry, and returns the position of the
	// first index not below s.limit, or -1 (s.part then holds part of the
	// run). values is nil, and t zero, for the runs that count every entry.
	runKernel[I indexWord, W word] func(s *indexScratch, index []I, values []W, t valueTest[W]) (bad int)
	// widenKernel adds small[i] to counts[i] and clears small[i], for
	// each counter i of small (len(counts) at least len(small)).
	widenKernel func(counts []uint64, small []uint8)
)

// shapes is a rule's kernels for lanes of type W, one per shape, and what
// of a lane they test: a lane counts when its value is not zero.
type shapes[W word] struct {
	value   laneValue // the lane's bits, or its magnitude (generic.go)
	count   countKernel[W]
	columns columnKernel[W]
	// stream is nil where a level counts every matrix in tiles
	// (chunk.go's addColumns).
	stream streamKernel[W]
	mask   maskKernel[W]
	// streamLast is stream that also marks the last row each column
	// counts in (columnlast.go); nil where the level has none.
	streamLast streamLastKernel[W]
}

// rangeShapes is shapes for a range test: a lane counts when its value
// minus lo is at most span, for the lo and span of a call's threshold.
type rangeShapes[W word] struct {
	value   laneValue // the lane's bits, its order key, or its magnitude
	count   rangeKernel[W]
	columns rangeColumnKernel[W]
	stream  rangeStreamKernel[W] // as shapes.stream
	mask    rangeMaskKernel[W]
	// streamLast is as shapes.streamLast.
	streamLast rangeStreamLastKernel[W]
}

// inRange is the kernels of one range test of float lanes, per width:
// Float16 and BFloat16 (16 bits), float32, float64.
type inRange struct {
	w16 rangeShapes[uint16]
	w32 rangeShapes[uint32]
	w64 rangeShapes[uint64]
}

// nonZeroRule is x != 0 (count.go), for every element type: per width, the
// kernels that test every bit of a lane (the integer types), and at the
// widths of the float types those that test every bit but the sign bit,
// its magnitude.
type nonZeroRule struct {
	bits8               shapes[uint8]
	bits16, magnitude16 shapes[uint16]
	bits32, magnitude32 shapes[uint32]
	bits64, magnitude64 shapes[uint64]
}

// aboveRule is x > t (above.go), for the float types: with the round-down
// f of t in the element type, the lanes whose order key is in (key(f),
// key(+Inf)]; for f at or above +0, the lanes whose bits are, since then
// a negative lane's bits, read unsigned, are out of the range as its key
// is (threshold.go).
type aboveRule struct {
	bitsInRange, keyInRange inRange
}

// absAboveRule is |x| > t (abs.go), for the float types: the lanes whose
// magnitude (the bits without the sign) is in a range.
type absAboveRule struct {
	magnitudeInRange inRange
}

// indexShapes is the index family's kernels for index lanes of type I
// that test no value: the range check of every index on its own (max, and
// CheckIndex), the increments (scatter), and the runs of a span of
// entries: every entry, or those whose value passes the value test of the
// call's rule (its mask), per width of the values.
type indexShapes[I indexWord] struct {
	max     maxKernel[I]
	scatter scatterKernel[I]
	runs    valueRuns[I]
}

// valueRuns is the run kernels of one index width: every entry (all),
// and the entries whose values pass a test, per value width.
type valueRuns[I indexWord] struct {
	all, w8 runKernel[I, uint8]
	w16     runKernel[I, uint16]
	w32     runKernel[I, uint32]
	w64     runKernel[I, uint64]
}

// allEntriesRule is the index family's rule that counts every entry
// (AddIndexCounts, index.go), per index width; the other rules' index
// counts run the same kernels with their own masks (index_add.go).
type allEntriesRule struct {
	w16 indexShapes[uint16]
	w32 indexShapes[uint32]
	w64 indexShapes[uint64]
}

// impl is one level's kernels: every rule's, in one table.
type impl struct {
	level      Level
	nonZero    nonZeroRule
	above      aboveRule
	absAbove   absAboveRule
	allEntries allEntriesRule
	// widen adds byte counters to the counts: the end of a column stream
	// (chunk.go) and of an index count (index_add.go).
	widen widenKernel
	// popcounts splits the bitmaps of narrow rows (rows.go), the rows
	// that narrowRows says are narrow.
	popcounts  rowPopcounts
	narrowRows rowLimits
	// pairs8 counts narrow rows of bytes into two counts in one pass (and
	// pairBytes too, where the level has it and its masks fit), and
	// swarPairs says that the level counts narrow rows of up to 32-bit
	// lanes into two counts by countRowPairsSWAR (rowpairs.go).
	pairs8    pairKernel
	pairBytes pairBytesKernel
	swarPairs bool
}

// genericImpl is the table of the generic kernels (generic.go,
// generic_index.go): the fallback everywhere, the oracle of every test,
// and the base of every other level's table.
var genericImpl = impl{
	level: Generic,
	nonZero: nonZeroRule{
		bits8:  genericShapes[uint8](bitsValue),
		bits16: genericShapes[uint16](bitsValue), magnitude16: genericShapes[uint16](magnitudeValue),
		bits32: genericShapes[uint32](bitsValue), magnitude32: genericShapes[uint32](magnitudeValue),
		bits64: genericShapes[uint64](bitsValue), magnitude64: genericShapes[uint64](magnitudeValue),
	},
	above:      aboveRule{bitsInRange: genericInRange(bitsValue), keyInRange: genericInRange(keyValue)},
	absAbove:   absAboveRule{magnitudeInRange: genericInRange(magnitudeValue)},
	allEntries: allEntriesRule{genericIndexShapes[uint16](), genericIndexShapes[uint32](), genericIndexShapes[uint64]()},
	widen:      widenGeneric,
	popcounts:  genericPopcounts,
	narrowRows: genericNarrowRows,
	swarPairs:  true,
}

// The accessors: the member of a rule for a lane type. Each width has one
// lane type (word, indexWord), so the member of W's width is a member for
// W: the pointer conversions only restate that to the compiler, at no cost
// (a checked type assertion would load and compare a type per call), and
// the width switch is resolved when the function is compiled for W.
// TestTableMembers checks each.

// nonZeroOf returns x != 0's kernels for lanes W of a type of format f.
func nonZeroOf[W word](r *nonZeroRule, f format) *shapes[W] {
	m := unsafe.Pointer(&r.bits8)
	switch unsafe.Sizeof(W(0)) {
	case 2:
		m = unsafe.Pointer(&r.bits16)
		if f != integer {
			m = unsafe.Pointer(&r.magnitude16)
		}
	case 4:
		m = unsafe.Pointer(&r.bits32)
		if f != integer {
			m = unsafe.Pointer(&r.magnitude32)
		}
	case 8:
		m = unsafe.Pointer(&r.bits64)
		if f != integer {
			m = unsafe.Pointer(&r.magnitude64)
		}
	}
	return (*shapes[W])(m)
}

// rangeOf returns the range test's kernels for float lanes W.
func rangeOf[W floatWord](r *inRange) *rangeShapes[W] {
	m := unsafe.Pointer(&r.w64)
	switch unsafe.Sizeof(W(0)) {
	case 2:
		m = unsafe.Pointer(&r.w16)
	case 4:
		m = unsafe.Pointer(&r.w32)
	}
	return (*rangeShapes[W])(m)
}

// indexOf returns the index kernels for index lanes I.
func indexOf[I indexWord](r *allEntriesRule) *indexShapes[I] {
	m := unsafe.Pointer(&r.w64)
	switch unsafe.Sizeof(I(0)) {
	case 2:
		m = unsafe.Pointer(&r.w16)
	case 4:
		m = unsafe.Pointer(&r.w32)
	}
	return (*indexShapes[I])(m)
}

// runOf returns the run kernel of value lanes W: every entry's if all (W
// is then uint8), else the one that tests the values.
func runOf[I indexWord, W word](r *valueRuns[I], all bool) *runKernel[I, W] {
	m := unsafe.Pointer(&r.all)
	switch {
	case all:
	case unsafe.Sizeof(W(0)) == 1:
		m = unsafe.Pointer(&r.w8)
	case unsafe.Sizeof(W(0)) == 2:
		m = unsafe.Pointer(&r.w16)
	case unsafe.Sizeof(W(0)) == 4:
		m = unsafe.Pointer(&r.w32)
	default:
		m = unsafe.Pointer(&r.w64)
	}
	return (*runKernel[I, W])(m)
}

// How a level's table is made from the generic one: the level names the
// kernels it has, and over completes each with the generic kernel of the
// same rule, lane and shape (tail.go): for the lanes its kernels leave
// (reads), and in place of the kernels it does not have.

// reads is what a level's kernels read of their input, per shape: whole
// vectors of vectorBytes (of each row, for the column tiles), whole runs
// of streamColumns columns of each row, and for the index masks, max and
// widen whole groups of groupLanes lanes (a word of a bitmap). 0 means any
// length.
type reads struct {
	vectorBytes, streamColumns, groupLanes int
}

func (s shapes[W]) over(g *shapes[W], r reads) shapes[W] {
	lanes := r.vectorBytes / int(unsafe.Sizeof(W(0)))
	keep, _ := valueMasks[W](g.value)
	return shapes[W]{
		value:   g.value,
		count:   countOver(lanes, s.count, g.count),
		columns: columnsOver(lanes, s.columns, g.columns),
		stream:  streamOver(r.streamColumns, s.stream, nonZeroStreamGeneric(keep)),
		mask:    maskOver(r.groupLanes, s.mask, g.mask),
	}
}

func (s rangeShapes[W]) over(g *rangeShapes[W], r reads) rangeShapes[W] {
	lanes := r.vectorBytes / int(unsafe.Sizeof(W(0)))
	return rangeShapes[W]{
		value:   g.value,
		count:   rangeOver(lanes, s.count, g.count),
		columns: rangeColumnsOver(lanes, s.columns, g.columns),
		stream:  rangeStreamOver(r.streamColumns, s.stream, rangeStreamGeneric[W](g.value)),
		mask:    rangeMaskOver(r.groupLanes, s.mask, g.mask),
	}
}

func (s inRange) over(g *inRange, r reads) inRange {
	return inRange{s.w16.over(&g.w16, r), s.w32.over(&g.w32, r), s.w64.over(&g.w64, r)}
}

func (s nonZeroRule) over(g *nonZeroRule, r reads) nonZeroRule {
	return nonZeroRule{
		bits8:  s.bits8.over(&g.bits8, r),
		bits16: s.bits16.over(&g.bits16, r), magnitude16: s.magnitude16.over(&g.magnitude16, r),
		bits32: s.bits32.over(&g.bits32, r), magnitude32: s.magnitude32.over(&g.magnitude32, r),
		bits64: s.bits64.over(&g.bits64, r), magnitude64: s.magnitude64.over(&g.magnitude64, r),
	}
}

func (s aboveRule) over(g *aboveRule, r reads) aboveRule {
	return aboveRule{s.bitsInRange.over(&g.bitsInRange, r), s.keyInRange.over(&g.keyInRange, r)}
}

func (s absAboveRule) over(g *absAboveRule, r reads) absAboveRule {
	return absAboveRule{s.magnitudeInRange.over(&g.magnitudeInRange, r)}
}

// over for the index kernels: a level with a scatter kernel runs its
// spans phased, a mask then the scatter (index_add.go).
func (s indexShapes[I]) over(g *indexShapes[I], r reads) indexShapes[I] {
	t := *g
	t.max = maxOver(r.groupLanes, s.max, g.max)
	if s.scatter != nil {
		t.scatter, t.runs = s.scatter, phasedRuns(s.scatter)
	}
	return t
}

func (s allEntriesRule) over(g *allEntriesRule, r reads) allEntriesRule {
	return allEntriesRule{s.w16.over(&g.w16, r), s.w32.over(&g.w32, r), s.w64.over(&g.w64, r)}
}
