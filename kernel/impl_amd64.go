//go:build gc && !purego

package kernel

import "golang.org/x/sys/cpu"

// detectLevels checks every CPU feature the generated kernels use: AVX and
// AVX2 (with the operating system's YMM support) and POPCNT (the narrow
// rows' bitmaps, rows.go) for the AVX2 level, and in addition AVX512F,
// AVX512BW and AVX512VL (with ZMM and mask register support) and BMI2 (BZHI
// makes the masks of partial vectors) for the AVX512 level. golang.org/x/sys/cpu applies GODEBUG=cpu.X=off before this.
func detectLevels() []Level {
	levels := []Level{Generic}
	if !cpu.X86.HasAVX || !cpu.X86.HasAVX2 || !cpu.X86.HasPOPCNT {
		return levels
	}
	levels = append(levels, AVX2)
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasBMI2 && cpu.X86.HasPOPCNT {
		levels = append(levels, AVX512)
	}
	return levels
}

func implFor(l Level) *impl {
	switch l {
	case AVX512:
		return &avx512Impl
	case AVX2:
		return &avx2Impl
	}
	return &genericImpl
}

// The AVX-512 kernels take any length: they read partial vectors (of each
// row) with masked, zeroing loads. The index masks, max and widen read
// whole groups of 64 lanes.
var avx512Impl = func() impl {
	g, r := &genericImpl, reads{groupLanes: 64}
	t := genericImpl
	t.level = AVX512
	t.nonZero = nonZeroRule{
		bits8:       shapes[uint8]{count: countNonZeroBits8AVX512, columns: addNonZeroColumnsBits8AVX512, stream: addNonZeroStreamBits8AVX512, mask: maskNonZeroBits8AVX512},
		bits16:      shapes[uint16]{count: countNonZeroBits16AVX512, columns: addNonZeroColumnsBits16AVX512, stream: addNonZeroStreamBits16AVX512, mask: maskNonZeroBits16AVX512},
		magnitude16: shapes[uint16]{count: countNonZeroFloat16AVX512, columns: addNonZeroColumnsFloat16AVX512, stream: addNonZeroStreamFloat16AVX512, mask: maskNonZeroFloat16AVX512},
		bits32:      shapes[uint32]{count: countNonZeroBits32AVX512, columns: addNonZeroColumnsBits32AVX512, stream: addNonZeroStreamBits32AVX512, mask: maskNonZeroBits32AVX512},
		magnitude32: shapes[uint32]{count: countNonZeroFloat32AVX512, columns: addNonZeroColumnsFloat32AVX512, stream: addNonZeroStreamFloat32AVX512, mask: maskNonZeroFloat32AVX512},
		bits64:      shapes[uint64]{count: countNonZeroBits64AVX512, columns: addNonZeroColumnsBits64AVX512, stream: addNonZeroStreamBits64AVX512, mask: maskNonZeroBits64AVX512},
		magnitude64: shapes[uint64]{count: countNonZeroFloat64AVX512, columns: addNonZeroColumnsFloat64AVX512, stream: addNonZeroStreamFloat64AVX512, mask: maskNonZeroFloat64AVX512},
	}.over(&g.nonZero, r)
	t.above = aboveRule{
		bitsInRange: inRange{
			w16: rangeShapes[uint16]{count: countAboveBitsFloat16AVX512, columns: addAboveBitsColumnsFloat16AVX512, stream: addAboveBitsStreamFloat16AVX512, mask: maskAboveBitsFloat16AVX512},
			w32: rangeShapes[uint32]{count: countAboveBitsFloat32AVX512, columns: addAboveBitsColumnsFloat32AVX512, stream: addAboveBitsStreamFloat32AVX512, mask: maskAboveBitsFloat32AVX512},
			w64: rangeShapes[uint64]{count: countAboveBitsFloat64AVX512, columns: addAboveBitsColumnsFloat64AVX512, stream: addAboveBitsStreamFloat64AVX512, mask: maskAboveBitsFloat64AVX512},
		},
		keyInRange: inRange{
			w16: rangeShapes[uint16]{count: countAboveKeysFloat16AVX512, columns: addAboveKeysColumnsFloat16AVX512, stream: addAboveKeysStreamFloat16AVX512, mask: maskAboveKeysFloat16AVX512},
			w32: rangeShapes[uint32]{count: countAboveKeysFloat32AVX512, columns: addAboveKeysColumnsFloat32AVX512, stream: addAboveKeysStreamFloat32AVX512, mask: maskAboveKeysFloat32AVX512},
			w64: rangeShapes[uint64]{count: countAboveKeysFloat64AVX512, columns: addAboveKeysColumnsFloat64AVX512, stream: addAboveKeysStreamFloat64AVX512, mask: maskAboveKeysFloat64AVX512},
		},
	}.over(&g.above, r)
	t.absAbove = absAboveRule{
		magnitudeInRange: inRange{
			w16: rangeShapes[uint16]{count: countAbsAboveFloat16AVX512, columns: addAbsAboveColumnsFloat16AVX512, stream: addAbsAboveStreamFloat16AVX512, mask: maskAbsAboveFloat16AVX512},
			w32: rangeShapes[uint32]{count: countAbsAboveFloat32AVX512, columns: addAbsAboveColumnsFloat32AVX512, stream: addAbsAboveStreamFloat32AVX512, mask: maskAbsAboveFloat32AVX512},
			w64: rangeShapes[uint64]{count: countAbsAboveFloat64AVX512, columns: addAbsAboveColumnsFloat64AVX512, stream: addAbsAboveStreamFloat64AVX512, mask: maskAbsAboveFloat64AVX512},
		},
	}.over(&g.absAbove, r)
	t.allEntries = allEntriesRule{
		w16: indexShapes[uint16]{max: maxIndex16AVX512, scatter: scatterIndex16},
		w32: indexShapes[uint32]{max: maxIndex32AVX512, scatter: scatterIndex32},
		w64: indexShapes[uint64]{max: maxIndex64AVX512, scatter: scatterIndex64},
	}.over(&g.allEntries, r)
	t.widen = widenOver(r.groupLanes, widenIndexAVX512, g.widen)
	t.popcounts, t.narrowRows = rowPopcounts{popcountsPOPCNT, popcountsAndPOPCNT}, avx512NarrowRows
	t.pairs8, t.pairBytes, t.swarPairs = rowPairsBits8AVX512, rowPairsBytesAVX2, false
	return t
}()

// The AVX2 kernels read whole 32-byte vectors (of each row), and their
// streams whole runs of 32 columns; the index masks, max and widen whole
// groups of 64 lanes. There is no AVX2 stream of 64-bit lanes: those
// matrices go in tiles.
var avx2Impl = func() impl {
	g, r := &genericImpl, reads{vectorBytes: 32, streamColumns: 32, groupLanes: 64}
	t := genericImpl
	t.level = AVX2
	t.nonZero = nonZeroRule{
		bits8:       shapes[uint8]{count: countNonZeroBits8AVX2, columns: addNonZeroColumnsBits8AVX2, stream: addNonZeroStreamBits8AVX2, mask: maskNonZeroBits8AVX2},
		bits16:      shapes[uint16]{count: countNonZeroBits16AVX2, columns: addNonZeroColumnsBits16AVX2, stream: addNonZeroStreamBits16AVX2, mask: maskNonZeroBits16AVX2},
		magnitude16: shapes[uint16]{count: countNonZeroFloat16AVX2, columns: addNonZeroColumnsFloat16AVX2, stream: addNonZeroStreamFloat16AVX2, mask: maskNonZeroFloat16AVX2},
		bits32:      shapes[uint32]{count: countNonZeroBits32AVX2, columns: addNonZeroColumnsBits32AVX2, stream: addNonZeroStreamBits32AVX2, mask: maskNonZeroBits32AVX2},
		magnitude32: shapes[uint32]{count: countNonZeroFloat32AVX2, columns: addNonZeroColumnsFloat32AVX2, stream: addNonZeroStreamFloat32AVX2, mask: maskNonZeroFloat32AVX2},
		bits64:      shapes[uint64]{count: countNonZeroBits64AVX2, columns: addNonZeroColumnsBits64AVX2, mask: maskNonZeroBits64AVX2},
		magnitude64: shapes[uint64]{count: countNonZeroFloat64AVX2, columns: addNonZeroColumnsFloat64AVX2, mask: maskNonZeroFloat64AVX2},
	}.over(&g.nonZero, r)
	t.above = aboveRule{
		bitsInRange: inRange{
			w16: rangeShapes[uint16]{count: countAboveBitsFloat16AVX2, columns: addAboveBitsColumnsFloat16AVX2, stream: addAboveBitsStreamFloat16AVX2, mask: maskAboveBitsFloat16AVX2},
			w32: rangeShapes[uint32]{count: countAboveBitsFloat32AVX2, columns: addAboveBitsColumnsFloat32AVX2, stream: addAboveBitsStreamFloat32AVX2, mask: maskAboveBitsFloat32AVX2},
			w64: rangeShapes[uint64]{count: countAboveBitsFloat64AVX2, columns: addAboveBitsColumnsFloat64AVX2, mask: maskAboveBitsFloat64AVX2},
		},
		keyInRange: inRange{
			w16: rangeShapes[uint16]{count: countAboveKeysFloat16AVX2, columns: addAboveKeysColumnsFloat16AVX2, stream: addAboveKeysStreamFloat16AVX2, mask: maskAboveKeysFloat16AVX2},
			w32: rangeShapes[uint32]{count: countAboveKeysFloat32AVX2, columns: addAboveKeysColumnsFloat32AVX2, stream: addAboveKeysStreamFloat32AVX2, mask: maskAboveKeysFloat32AVX2},
			w64: rangeShapes[uint64]{count: countAboveKeysFloat64AVX2, columns: addAboveKeysColumnsFloat64AVX2, mask: maskAboveKeysFloat64AVX2},
		},
	}.over(&g.above, r)
	t.absAbove = absAboveRule{
		magnitudeInRange: inRange{
			w16: rangeShapes[uint16]{count: countAbsAboveFloat16AVX2, columns: addAbsAboveColumnsFloat16AVX2, stream: addAbsAboveStreamFloat16AVX2, mask: maskAbsAboveFloat16AVX2},
			w32: rangeShapes[uint32]{count: countAbsAboveFloat32AVX2, columns: addAbsAboveColumnsFloat32AVX2, stream: addAbsAboveStreamFloat32AVX2, mask: maskAbsAboveFloat32AVX2},
			w64: rangeShapes[uint64]{count: countAbsAboveFloat64AVX2, columns: addAbsAboveColumnsFloat64AVX2, mask: maskAbsAboveFloat64AVX2},
		},
	}.over(&g.absAbove, r)
	t.allEntries = allEntriesRule{
		w16: indexShapes[uint16]{max: maxIndex16AVX2, scatter: scatterIndex16},
		w32: indexShapes[uint32]{max: maxIndex32AVX2, scatter: scatterIndex32},
		w64: indexShapes[uint64]{max: maxIndex64AVX2, scatter: scatterIndex64},
	}.over(&g.allEntries, r)
	t.widen = widenOver(r.groupLanes, widenIndexAVX2, g.widen)
	t.popcounts, t.narrowRows = rowPopcounts{popcountsPOPCNT, popcountsAndPOPCNT}, avx2NarrowRows
	t.pairs8, t.pairBytes, t.swarPairs = rowPairsBits8AVX2, rowPairsBytesAVX2, false
	return t
}()
