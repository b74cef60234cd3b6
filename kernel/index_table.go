package kernel

// The index family's part of a level's table (impl.go's impl.index).
//
// Counting entries into per-feature counters is bound by the scattered
// increments, not by vector width, so the work is split where vectors do
// help: the test of the values, a stream, is a vector kernel that writes a
// bitmap of the entries that count (mask); the increments are a scalar
// kernel (scatter) that range-checks each index as it goes and adds the
// entry's bit to a narrow counter (index_add.go), its carries the only
// other branch. A level with vector kernels runs a mask over a span of
// entries, then the scatter over it (phasedRuns); the generic level runs
// one fused Go loop (generic_index.go), since a pass of Go per phase costs
// more than the phases save. The max kernel, the unsigned maximum of the
// index lanes, is the range check of every index on its own: CheckIndex,
// and the calls that must check every index before they count.

// indexWord is the unsigned lane type of every index type: uint16, uint32
// (int32 and uint32), uint64 (int64).
type indexWord interface {
	uint16 | uint32 | uint64
}

// The shapes of the index family's kernels.
type (
	// maxKernel returns the largest lane of x, unsigned, or 0 for none.
	maxKernel[I indexWord] func(x []I) I
	// maskKernel sets bit i%64 of bits[i/64], for each lane i of x, to
	// whether the lane counts, and clears the bits past len(x) in the last
	// word it writes; it writes (len(x)+63)/64 words.
	maskKernel[W word] func(bits []uint64, x []W)
	// rangeMaskKernel is maskKernel for a range rule (rangeKernel's lo and
	// span).
	rangeMaskKernel[W word] func(bits []uint64, x []W, lo, span W)
	// scatterKernel adds bit i%64 of bits[i/64] to small[index[i]], for
	// each entry i in order, in 8-bit arithmetic, until an index is not
	// below len(small): it returns the position of that entry, or -1. Each
	// time a counter wraps from 255 to 0 it writes the counter's index to
	// carries, in the order of the entries, and it returns how many it
	// wrote. len(carries) must be at least len(index). After an index out
	// of range, small and carries hold part of the entries before it.
	scatterKernel[I indexWord] func(small []uint8, index []I, bits []uint64, carries []uint32) (carried, bad int)
	// widenKernel adds small[i] to counts[i] and clears small[i], for
	// each counter i of small (len(counts) at least len(small)).
	widenKernel func(counts []uint64, small []uint8)
	// runKernel counts a run of entries of one component into the scratch
	// counters of s.part, after checking that each index is below s.limit,
	// takes the carries through s.carry, and returns the position of the
	// first index not below s.limit, or -1 (s.part then holds part of the
	// run). values is nil, and t zero, for the runs that count every entry.
	runKernel[I indexWord, W word] func(s *indexScratch, index []I, values []W, t valueTest[W]) (bad int)
)

// indexLanes holds one kernel per index lane width.
type indexLanes[K16, K32, K64 any] struct {
	u16 K16
	u32 K32
	u64 K64
}

// maskFamily holds the value tests of every rule, as bitmaps: one kernel
// per kind of lane for x != 0, one per float width for the thresholds.
type maskFamily struct {
	nonZero                        lanes[maskKernel[uint8], maskKernel[uint16], maskKernel[uint32], maskKernel[uint64]]
	aboveBits, aboveKeys, absAbove floats[rangeMaskKernel[uint16], rangeMaskKernel[uint32], rangeMaskKernel[uint64]]
}

// above returns the x > t masks for a threshold, as impl.above does.
func (m *maskFamily) above(keys bool) *floats[rangeMaskKernel[uint16], rangeMaskKernel[uint32], rangeMaskKernel[uint64]] {
	if keys {
		return &m.aboveKeys
	}
	return &m.aboveBits
}

// valueRuns holds the run kernels of one index width: every entry (all),
// and per width of the values.
type valueRuns[I indexWord] struct {
	all, w8 runKernel[I, uint8]
	w16     runKernel[I, uint16]
	w32     runKernel[I, uint32]
	w64     runKernel[I, uint64]
}

// indexFamily is the index family's kernels at one level.
type indexFamily struct {
	// max is the range check of every index on its own.
	max indexLanes[maxKernel[uint16], maxKernel[uint32], maxKernel[uint64]]
	// mask is the value test of every rule.
	mask maskFamily
	// scatter is the range check and the increments.
	scatter indexLanes[scatterKernel[uint16], scatterKernel[uint32], scatterKernel[uint64]]
	// add counts a run with mask and scatter, or fused.
	add indexLanes[valueRuns[uint16], valueRuns[uint32], valueRuns[uint64]]
	// widen adds the scratch counters to the counts at the end of a call.
	widen widenKernel
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

// nonZeroTest is x != 0 on the bits of keep: value b & keep, at least 1.
func nonZeroTest[W word](keep W, mask maskKernel[W]) valueTest[W] {
	return valueTest[W]{keep: keep, lo: 1, span: keep - 1, mask: mask}
}

// aboveTest is CountAbove's rule for the range r: its keys, or its bits.
func aboveTest[W uint16 | uint32 | uint64](r keyRange[W], mask rangeMaskKernel[W]) valueTest[W] {
	keep, flip := valueMasks[W](bitsValue)
	if r.keys {
		keep, flip = valueMasks[W](keyValue)
	}
	return valueTest[W]{keep: keep, flip: flip, lo: r.lo, span: r.span, none: !r.ok, rangeMask: mask}
}

// absTest is CountAbsAbove's rule for the range r: the bits without the
// sign.
func absTest[W uint16 | uint32 | uint64](r keyRange[W], mask rangeMaskKernel[W]) valueTest[W] {
	keep, flip := valueMasks[W](absValue)
	return valueTest[W]{keep: keep, flip: flip, lo: r.lo, span: r.span, none: !r.ok, rangeMask: mask}
}

// runsFor returns the run kernel of index lanes I and value lanes W.
func runsFor[I indexWord, W word](f *indexFamily, all bool) runKernel[I, W] {
	var k any
	switch any(I(0)).(type) {
	case uint16:
		k = f.add.u16.of(any(W(0)), all)
	case uint32:
		k = f.add.u32.of(any(W(0)), all)
	case uint64:
		k = f.add.u64.of(any(W(0)), all)
	}
	return k.(runKernel[I, W])
}

// of returns the run kernel for value lanes of w's type, as an any.
func (b *valueRuns[I]) of(w any, all bool) any {
	if all {
		return b.all
	}
	switch w.(type) {
	case uint8:
		return b.w8
	case uint16:
		return b.w16
	case uint32:
		return b.w32
	}
	return b.w64
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

// The vector kernels of the index family read whole groups of 64 lanes (a
// word of the bitmap) only; these adapters complete them with the generic
// kernels for the rest.

func maxWithTail[I indexWord](vectors, tail maxKernel[I]) maxKernel[I] {
	return func(x []I) I {
		whole := len(x) &^ 63
		return max(vectors(x[:whole]), tail(x[whole:]))
	}
}

func maskWithTail[W word](vectors, tail maskKernel[W]) maskKernel[W] {
	return func(bits []uint64, x []W) {
		whole := len(x) &^ 63
		vectors(bits, x[:whole])
		if whole < len(x) {
			tail(bits[whole/64:], x[whole:])
		}
	}
}

func widenWithTail(vectors, tail widenKernel) widenKernel {
	return func(counts []uint64, small []uint8) {
		whole := len(small) &^ 63
		vectors(counts, small[:whole])
		if whole < len(small) {
			tail(counts[whole:], small[whole:])
		}
	}
}

func rangeMaskWithTail[W word](vectors, tail rangeMaskKernel[W]) rangeMaskKernel[W] {
	return func(bits []uint64, x []W, lo, span W) {
		whole := len(x) &^ 63
		vectors(bits, x[:whole], lo, span)
		if whole < len(x) {
			tail(bits[whole/64:], x[whole:], lo, span)
		}
	}
}
