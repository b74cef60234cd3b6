package kernel

// The index family's part of a level's table (impl.go's impl.index).
//
// Counting entries into per-feature counters is bound by the scattered
// increments, not by vector width, so the work is split where vectors do
// help: a range check of the indices (their unsigned maximum) and a test
// of the values (a bitmap of the entries that count) are vector kernels;
// the increments are a scalar kernel into one narrow counter per feature
// (index_add.go), whose carries are the only branch. A level with vector
// kernels runs these three phases per block of entries (phasedBlocks); the
// generic level runs one fused Go loop per block (generic_index.go), since
// a pass of Go per phase costs more than the phases save.

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
	// each entry i, in 8-bit arithmetic; each time a counter wraps from
	// 255 to 0 it writes the counter's index to carries, in order, and it
	// returns how many it wrote. Every index must be below len(small), and
	// len(carries) at least len(index).
	scatterKernel[I indexWord] func(small []uint8, index []I, bits []uint64, carries []uint32) int
	// blockKernel counts one block of at most indexBlockEntries entries
	// into small, as scatterKernel does, after checking that every index
	// is below limit (at most len(small)): it returns the number of
	// carries it wrote, and the position of the first index not below
	// limit, or -1. When that position is not -1, small and carries may
	// hold part of the block. values is nil, and t zero, for the blocks
	// that count every entry.
	blockKernel[I indexWord, W word] func(small []uint8, carries []uint32, bits []uint64, index []I, limit uint64, values []W, t valueTest[W]) (carried, bad int)
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

// valueBlocks holds the block kernels of one index width: every entry
// (all), and per width of the values.
type valueBlocks[I indexWord] struct {
	all, w8 blockKernel[I, uint8]
	w16     blockKernel[I, uint16]
	w32     blockKernel[I, uint32]
	w64     blockKernel[I, uint64]
}

// indexFamily is the index family's kernels at one level.
type indexFamily struct {
	// max is the range check of the indices.
	max indexLanes[maxKernel[uint16], maxKernel[uint32], maxKernel[uint64]]
	// mask is the value test of every rule.
	mask maskFamily
	// scatter is the increments.
	scatter indexLanes[scatterKernel[uint16], scatterKernel[uint32], scatterKernel[uint64]]
	// add counts a block with the three above, or fused.
	add indexLanes[valueBlocks[uint16], valueBlocks[uint32], valueBlocks[uint64]]
}

// valueTest is the rule of an Add...IndexCounts call on value lanes of
// type W, in both forms the levels use: the lane value (b & keep) ^
// (spread(b) & flip) minus lo at most span, unsigned, for the fused
// generic loop (generic.go's laneValueOf, for every width), and the level's
// mask kernel for the phased blocks: mask, or rangeMask with lo and span.
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

// blocksFor returns the block kernel of index lanes I and value lanes W.
func blocksFor[I indexWord, W word](f *indexFamily, all bool) blockKernel[I, W] {
	var k any
	switch any(I(0)).(type) {
	case uint16:
		k = f.add.u16.of(any(W(0)), all)
	case uint32:
		k = f.add.u32.of(any(W(0)), all)
	case uint64:
		k = f.add.u64.of(any(W(0)), all)
	}
	return k.(blockKernel[I, W])
}

// of returns the block kernel for value lanes of w's type, as an any.
func (b *valueBlocks[I]) of(w any, all bool) any {
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

// allBits is a bitmap of every entry of a block: the phased blocks that
// count every entry scatter with it.
var allBits = func() (b [indexBlockEntries / 64]uint64) {
	for i := range b {
		b[i] = ^uint64(0)
	}
	return b
}()

// phasedBlocks returns the block kernels of a level with vector kernels:
// its range check max, then its mask kernel (the call's, from valueTest),
// then its scatter kernel, each over the whole block.
func phasedBlocks[I indexWord](max maxKernel[I], scatter scatterKernel[I]) valueBlocks[I] {
	return valueBlocks[I]{
		all: func(small []uint8, carries []uint32, _ []uint64, index []I, limit uint64, _ []uint8, _ valueTest[uint8]) (int, int) {
			if uint64(max(index)) >= limit {
				return 0, firstAtOrAbove(index, limit)
			}
			return scatter(small, index, allBits[:], carries), -1
		},
		w8:  phasedBlock[I, uint8](max, scatter),
		w16: phasedBlock[I, uint16](max, scatter),
		w32: phasedBlock[I, uint32](max, scatter),
		w64: phasedBlock[I, uint64](max, scatter),
	}
}

func phasedBlock[I indexWord, W word](max maxKernel[I], scatter scatterKernel[I]) blockKernel[I, W] {
	return func(small []uint8, carries []uint32, bits []uint64, index []I, limit uint64, values []W, t valueTest[W]) (int, int) {
		if uint64(max(index)) >= limit {
			return 0, firstAtOrAbove(index, limit)
		}
		if t.mask != nil {
			t.mask(bits, values)
		} else {
			t.rangeMask(bits, values, t.lo, t.span)
		}
		return scatter(small, index, bits, carries), -1
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

func rangeMaskWithTail[W word](vectors, tail rangeMaskKernel[W]) rangeMaskKernel[W] {
	return func(bits []uint64, x []W, lo, span W) {
		whole := len(x) &^ 63
		vectors(bits, x[:whole], lo, span)
		if whole < len(x) {
			tail(bits[whole/64:], x[whole:], lo, span)
		}
	}
}
