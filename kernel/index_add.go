package kernel

import (
	"sync"
	"unsafe"
)

// How the index family counts.
//
// Counting entries into per-feature counters is bound by the scattered
// increments, not by vector width, so the work is split where vectors do
// help: the test of the values, a stream, is a vector kernel that writes a
// bitmap of the entries that count (the mask of the call's rule, impl.go);
// the increments are a scalar kernel (scatter) that range-checks each index
// as it goes and adds the entry's bit to a narrow counter, its carries the
// only other branch. A level with vector kernels runs a mask over a span of
// entries, then the scatter over it (phasedRuns); the generic level runs
// one fused Go loop (generic_index.go), since a pass of Go per phase costs
// more than the phases save. The max kernel, the unsigned maximum of the
// index lanes, is the range check of every index on its own: CheckIndex,
// and the calls that must check every index before they count.
//
// The counters are narrow scratch counters, then the caller's.
//
// A batch of entries large enough against its counters goes into scratch
// counters of one byte each (scratch mode): eight times denser than the
// counts, four times the uint32 counters of a plain loop, so that 16,384 of
// them sit in L1 and 2^20 fill about an L2, where the random increments are
// cheapest. An increment that wraps a byte from 255 to 0 records a carry,
// worth 256, in a list. Each index is range-checked as it is counted (a
// compare and a branch never taken, which cost almost nothing), and the
// caller's counts are touched only at the end, once every index has
// passed: the scratch counters are then added in (widened) and the carries
// with them; a bad index clears the scratch instead. The carries of a call
// are at most its entries / 256, and the list holds maxPendingCarries: a
// call with more entries checks every index first, in a pass of its own,
// and then adds its carries to the counts as they come.
//
// A small batch (fewer entries than counters / scratchRatio) or one whose
// counters are more than maxScratchCounters goes straight into the counts
// (direct mode) after a check of every index: widening the scratch would
// cost more than it saves.

// indexWord is the unsigned lane type of every index type: uint16, uint32
// (int32 and uint32), uint64 (int64); one per width, as word.
type indexWord interface {
	uint16 | uint32 | uint64
}

// valueTest is the rule of an Add...IndexCounts call on value lanes of
// type W, in both forms the levels use: the lane value (b & keep) ^
// (spread(b) & flip) minus lo at most span, unsigned, for the fused
// generic loop (generic.go's laneValueOf, for every width), and the level's
// mask kernel for the phased runs: mask, or rangeMask with lo and span.
// none says that no value can count (a NaN threshold).
type valueTest[W word] struct {
	keep, flip, lo, span W
	none                 bool
	mask                 maskKernel[W]
	rangeMask            rangeMaskKernel[W]
}

// nonZeroTest is x != 0 with the kernels s: the lane value, at least 1.
func nonZeroTest[W word](s *shapes[W]) valueTest[W] {
	keep, _ := valueMasks[W](s.value)
	return valueTest[W]{keep: keep, lo: 1, span: keep - 1, mask: s.mask}
}

// rangeTest is the range r of lane values with the kernels s.
func rangeTest[W word](r keyRange[W], s *rangeShapes[W]) valueTest[W] {
	keep, flip := valueMasks[W](s.value)
	return valueTest[W]{keep: keep, flip: flip, lo: r.lo, span: r.span, none: !r.ok, rangeMask: s.mask}
}

const (
	// indexBlockEntries is the entries of one call of a scatter kernel:
	// its carries fit the scratch's buffer.
	indexBlockEntries = 2048
	// indexSpanEntries is the entries of one call of a mask kernel, a
	// bitmap of 8 KiB: the values stream through a vector loop, then the
	// indices through the scatter, each a long run that the hardware
	// prefetchers follow. Measured on Zen 5, spans of 2,048, 16,384,
	// 65,536 and 131,072 entries: 1.93, 1.94, 2.05, 2.09 G entries/s at
	// 16,384 features, 0.87, 0.93, 0.97, 0.98 at 2^20.
	indexSpanEntries = 65536
	// scratchRatio: scratch mode needs at least counters/scratchRatio
	// entries.
	scratchRatio = 8
	// maxScratchCounters bounds the scratch counters of a call, one byte
	// each: larger counts are counted in direct mode.
	maxScratchCounters = 1 << 26
)

// maxPendingCarries bounds the carries a scratch holds for a call whose
// indices are not all checked yet (4 bytes each); a variable for the tests.
var maxPendingCarries = 1 << 16

// indexScratch is the scratch of one call: a byte counter per count, the
// carries waiting for the end of the call, the run in progress, and the
// buffers of the kernels. Its counters are all zero between calls.
type indexScratch struct {
	small   []uint8
	pending []uint32
	// small2 is a second byte counter per count, for the levels that
	// count into two sub-histograms (the generic one); used2 says that
	// this call did.
	small2 []uint8
	used2  bool

	// The run in progress: the call's counts, the offset of the run's
	// component in them, the counters of that component up to the limit
	// of the indices, and whether every index of the call is checked.
	counts    []uint64
	base      int
	part      []uint8
	validated bool

	carries [indexBlockEntries]uint32
	bits    [indexSpanEntries / 64]uint64
}

var indexScratches sync.Pool

// IndexScratchBytes returns the most scratch memory that a call of the
// Add...IndexCounts functions with counters counts may take, for as long
// as the pool keeps it, per call running at the same time: a byte per
// counter at the amd64 levels and two at the others (whose Go loop counts
// into two sub-histograms), at most 256 KiB of pending carries, and 16 KiB
// of buffers; 0 for counts counted in direct mode whatever the batch.
func IndexScratchBytes(counters int) int {
	if counters > maxScratchCounters {
		return 0
	}
	return 2*counters + 4*maxPendingCarries + int(unsafe.Sizeof(indexScratch{}))
}

func getIndexScratch(n int) *indexScratch {
	s, _ := indexScratches.Get().(*indexScratch)
	if s == nil {
		s = new(indexScratch)
	}
	if cap(s.small) < n {
		s.small = make([]uint8, n)
	}
	s.small = s.small[:n]
	return s
}

func putIndexScratch(s *indexScratch) {
	s.counts, s.part = nil, nil // the pool keeps no caller's memory
	indexScratches.Put(s)
}

// useScratch says whether entries into counters go through the scratch.
func useScratch(counters, entries int) bool {
	return counters <= maxScratchCounters && entries >= counters/scratchRatio
}

// addIndexAll counts every entry of index with the kernels of k.
func addIndexAll[I Index](counts []uint64, g indexShape, index []I, k *impl) error {
	var bad int
	switch unsafe.Sizeof(index[0]) {
	case 2:
		bad = addIndexWords[I, uint16, uint8](counts, g, index, nil, valueTest[uint8]{}, k, true)
	case 4:
		bad = addIndexWords[I, uint32, uint8](counts, g, index, nil, valueTest[uint8]{}, k, true)
	default:
		bad = addIndexWords[I, uint64, uint8](counts, g, index, nil, valueTest[uint8]{}, k, true)
	}
	if bad >= 0 {
		return indexError(index, bad, g.features)
	}
	return nil
}

// addIndexValues counts the entries of index whose value passes t, with
// the kernels of k.
func addIndexValues[I Index, W word](counts []uint64, g indexShape, index []I, values []W, t valueTest[W], k *impl) error {
	if t.none {
		return CheckIndex(index, g.features)
	}
	var bad int
	switch unsafe.Sizeof(index[0]) {
	case 2:
		bad = addIndexWords[I, uint16](counts, g, index, values, t, k, false)
	case 4:
		bad = addIndexWords[I, uint32](counts, g, index, values, t, k, false)
	default:
		bad = addIndexWords[I, uint64](counts, g, index, values, t, k, false)
	}
	if bad >= 0 {
		return indexError(index, bad, g.features)
	}
	return nil
}

// addIndexWords counts the entries of index, read as lanes of U, whose
// values pass t, or all of them (values nil), and returns -1, or the
// position of the first index outside [0, g.features) with counts
// unchanged.
func addIndexWords[I Index, U indexWord, W word](counts []uint64, g indexShape, index []I, values []W, t valueTest[W], k *impl, all bool) int {
	x, limit := words[U](index), indexLimit[I](g.features)
	f := indexOf[U](&k.allEntries)
	if !useScratch(len(counts), len(x)) {
		if bad := firstOutside(x, limit, f.max); bad >= 0 {
			return bad
		}
		addIndexDirect(counts, g, x, values, t)
		return -1
	}
	s := getIndexScratch(len(counts))
	defer putIndexScratch(s)
	validated := len(x)/256 > maxPendingCarries
	if validated {
		if bad := firstOutside(x, limit, f.max); bad >= 0 {
			return bad
		}
	} else if cap(s.pending) < len(x)/256 {
		s.pending = make([]uint32, 0, len(x)/256) // once, not a growth per append
	}
	s.counts, s.validated = counts, validated
	if bad := addIndexScratch(s, g, x, limit, values, t, *runOf[U, W](&f.runs, all)); bad >= 0 {
		clear(s.small)
		if s.used2 {
			clear(s.small2)
			s.used2 = false
		}
		s.pending = s.pending[:0]
		return bad
	}
	s.widen(counts, k.widen)
	return -1
}

// pieceEntries is the entries of one piece, at most ChunkBytes of index
// and values, whole rows of k when there are components (at least one).
func pieceEntries[I indexWord, W word](g indexShape) int {
	n := ChunkBytes / int(unsafe.Sizeof(I(0))+unsafe.Sizeof(W(0)))
	if g.components > 1 {
		n = max(1, n/g.k) * g.k
	}
	return n
}

// addIndexScratch counts x into the scratch, one piece at a time through
// addIndexPiece, and returns the position of the first index out of range,
// or -1.
func addIndexScratch[I indexWord, W word](s *indexScratch, g indexShape, x []I, limit uint64, values []W, t valueTest[W], run runKernel[I, W]) int {
	piece := pieceEntries[I, W](g)
	for start := 0; start < len(x); start += piece {
		end := min(start+piece, len(x))
		var v []W
		if values != nil {
			v = values[start:end:end]
		}
		if bad := addIndexPiece(s, g, x[start:end:end], limit, v, t, run, start/g.k); bad >= 0 {
			return start + bad
		}
	}
	return -1
}

// addIndexPiece counts one piece into the scratch, run by run (a row of
// one component, or the whole piece without components; the piece begins
// with row row0), and returns the position of the first index out of
// range, or -1. Never inlined, it is the preemption point between pieces.
//
//go:noinline
func addIndexPiece[I indexWord, W word](s *indexScratch, g indexShape, x []I, limit uint64, values []W, t valueTest[W], run runKernel[I, W], row0 int) int {
	length := len(x)
	if g.components > 1 {
		length = g.k
	}
	c := row0 % g.components
	for start := 0; start < len(x); start += length {
		s.base = c * g.features
		s.part = s.small[s.base : s.base+int(limit)]
		var v []W
		if values != nil {
			v = values[start : start+length]
		}
		if bad := run(s, x[start:start+length], v, t); bad >= 0 {
			return start + bad
		}
		if c++; c == g.components {
			c = 0
		}
	}
	return -1
}

// second returns the second sub-histogram of the run in progress: the
// counters of s.part's component and indices in small2.
func (s *indexScratch) second() []uint8 {
	if !s.used2 {
		if cap(s.small2) < len(s.small) {
			s.small2 = make([]uint8, len(s.small))
		}
		s.small2 = s.small2[:len(s.small)]
		s.used2 = true
	}
	return s.small2[s.base : s.base+len(s.part)]
}

// carry takes the n carries of a block of the run in progress, counter
// indices in its component: into the counts if every index of the call is
// known to be in range, else into the pending list.
func (s *indexScratch) carry(n int) {
	if s.validated {
		for _, j := range s.carries[:n] {
			s.counts[s.base+int(j)] += 256
		}
		return
	}
	for _, j := range s.carries[:n] {
		s.pending = append(s.pending, uint32(s.base)+j)
	}
}

// widen adds the scratch counters (both sub-histograms, if the call used
// two) and the pending carries to counts and clears them, with the level's
// widen kernel, a chunk of counts at a time.
func (s *indexScratch) widen(counts []uint64, widen widenKernel) {
	counts = counts[:len(s.small)]
	chunk := ChunkBytes / 8
	for start := 0; start < len(counts); start += chunk {
		end := min(start+chunk, len(counts))
		widenChunk(counts[start:end:end], s.small[start:end:end], widen)
		if s.used2 {
			widenChunk(counts[start:end:end], s.small2[start:end:end], widen)
		}
	}
	s.used2 = false
	for _, j := range s.pending {
		counts[j] += 256
	}
	s.pending = s.pending[:0]
}

// widenChunk widens one chunk; never inlined, it is the preemption point.
//
//go:noinline
func widenChunk(counts []uint64, small []uint8, widen widenKernel) { widen(counts, small) }

// firstOutside returns the position of the first lane of x not below limit,
// or -1, from x's maximum with maxk, one chunk at a time.
func firstOutside[I indexWord](x []I, limit uint64, maxk maxKernel[I]) int {
	chunk := ChunkBytes / int(unsafe.Sizeof(I(0)))
	for start := 0; start < len(x); start += chunk {
		end := min(start+chunk, len(x))
		if uint64(maxChunk(x[start:end:end], maxk)) >= limit {
			return start + firstAtOrAbove(x[start:end], limit)
		}
	}
	return -1
}

// maxChunk is the maximum of one chunk; never inlined, it is the
// preemption point.
//
//go:noinline
func maxChunk[I indexWord](x []I, maxk maxKernel[I]) I { return maxk(x) }

// addIndexDirect adds the entries of x whose values pass t (all of them if
// values is nil) straight to counts, every index already checked, a piece at a
// time.
func addIndexDirect[I indexWord, W word](counts []uint64, g indexShape, x []I, values []W, t valueTest[W]) {
	piece := pieceEntries[I, W](g)
	for start := 0; start < len(x); start += piece {
		end := min(start+piece, len(x))
		var v []W
		if values != nil {
			v = values[start:end:end]
		}
		addDirectPiece(counts, g, x[start:end:end], v, t, start/g.k)
	}
}

// addDirectPiece adds one piece, beginning with row row0; never inlined, it
// is the preemption point between pieces.
//
//go:noinline
func addDirectPiece[I indexWord, W word](counts []uint64, g indexShape, x []I, values []W, t valueTest[W], row0 int) {
	run := len(x)
	if g.components > 1 {
		run = g.k
	}
	c := row0 % g.components
	for start := 0; start < len(x); start += run {
		base := c * g.features
		row := counts[base : base+g.features]
		lanes := x[start : start+run]
		if values == nil {
			for _, j := range lanes {
				row[j]++
			}
		} else {
			keep, flip, lo, span := t.keep, t.flip, t.lo, t.span
			v := values[start : start+run]
			for i, j := range lanes {
				row[j] += laneInRange(v[i], keep, flip, lo, span)
			}
		}
		if c++; c == g.components {
			c = 0
		}
	}
}

// allBits is a bitmap of every entry of a span: the phased runs that count
// every entry scatter with it.
var allBits = func() (b [indexSpanEntries / 64]uint64) {
	for i := range b {
		b[i] = ^uint64(0)
	}
	return b
}()

// phasedRuns returns the run kernels of a level with vector kernels: per
// span of indexSpanEntries, the mask kernel of the call's rule (from
// valueTest) over the span's values, then its scatter kernel over the
// span, a block of indexBlockEntries at a time (the carries of a block fit
// s.carries).
func phasedRuns[I indexWord](scatter scatterKernel[I]) valueRuns[I] {
	return valueRuns[I]{
		all: phasedRun[I, uint8](scatter, true),
		w8:  phasedRun[I, uint8](scatter, false),
		w16: phasedRun[I, uint16](scatter, false),
		w32: phasedRun[I, uint32](scatter, false),
		w64: phasedRun[I, uint64](scatter, false),
	}
}

func phasedRun[I indexWord, W word](scatter scatterKernel[I], all bool) runKernel[I, W] {
	return func(s *indexScratch, index []I, values []W, t valueTest[W]) int {
		for span := 0; span < len(index); span += indexSpanEntries {
			end := min(span+indexSpanEntries, len(index))
			bits := allBits[:]
			if !all {
				bits = s.bits[:]
				if t.mask != nil {
					t.mask(bits, values[span:end])
				} else {
					t.rangeMask(bits, values[span:end], t.lo, t.span)
				}
			}
			for b := span; b < end; b += indexBlockEntries {
				n, bad := scatter(s.part, index[b:min(b+indexBlockEntries, end)], bits[(b-span)/64:], s.carries[:])
				if bad >= 0 {
					return b + bad
				}
				s.carry(n)
			}
		}
		return -1
	}
}

// firstAtOrAbove returns the position of the first lane of x not below
// limit, or -1.
func firstAtOrAbove[I indexWord](x []I, limit uint64) int {
	for i, v := range x {
		if uint64(v) >= limit {
			return i
		}
	}
	return -1
}
