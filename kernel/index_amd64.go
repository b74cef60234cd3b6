//go:build gc && !purego

package kernel

// The index family at the amd64 levels: the vector kernels of
// zindex_amd64.s (max and mask, completed by the generic kernels for the
// last lanes of fewer than 64), the scalar scatter kernels, and the runs of
// mask and scatter.

func indexFamilyAVX512() indexFamily {
	g := &genericIndexFamily
	return vectorIndexFamily(widenWithTail(widenIndexAVX512, g.widen),
		indexLanes[maxKernel[uint16], maxKernel[uint32], maxKernel[uint64]]{
			maxWithTail(maxIndex16AVX512, g.max.u16), maxWithTail(maxIndex32AVX512, g.max.u32), maxWithTail(maxIndex64AVX512, g.max.u64)},
		maskFamily{
			nonZero: lanes[maskKernel[uint8], maskKernel[uint16], maskKernel[uint32], maskKernel[uint64]]{
				maskWithTail(maskNonZeroBits8AVX512, g.mask.nonZero.bits8),
				maskWithTail(maskNonZeroBits16AVX512, g.mask.nonZero.bits16),
				maskWithTail(maskNonZeroFloat16AVX512, g.mask.nonZero.float16),
				maskWithTail(maskNonZeroBits32AVX512, g.mask.nonZero.bits32),
				maskWithTail(maskNonZeroFloat32AVX512, g.mask.nonZero.float32),
				maskWithTail(maskNonZeroBits64AVX512, g.mask.nonZero.bits64),
				maskWithTail(maskNonZeroFloat64AVX512, g.mask.nonZero.float64),
			},
			aboveBits: rangeMasksWithTail(maskAboveBitsFloat16AVX512, maskAboveBitsFloat32AVX512, maskAboveBitsFloat64AVX512, &g.mask.aboveBits),
			aboveKeys: rangeMasksWithTail(maskAboveKeysFloat16AVX512, maskAboveKeysFloat32AVX512, maskAboveKeysFloat64AVX512, &g.mask.aboveKeys),
			absAbove:  rangeMasksWithTail(maskAbsAboveFloat16AVX512, maskAbsAboveFloat32AVX512, maskAbsAboveFloat64AVX512, &g.mask.absAbove),
		})
}

func indexFamilyAVX2() indexFamily {
	g := &genericIndexFamily
	return vectorIndexFamily(widenWithTail(widenIndexAVX2, g.widen),
		indexLanes[maxKernel[uint16], maxKernel[uint32], maxKernel[uint64]]{
			maxWithTail(maxIndex16AVX2, g.max.u16), maxWithTail(maxIndex32AVX2, g.max.u32), maxWithTail(maxIndex64AVX2, g.max.u64)},
		maskFamily{
			nonZero: lanes[maskKernel[uint8], maskKernel[uint16], maskKernel[uint32], maskKernel[uint64]]{
				maskWithTail(maskNonZeroBits8AVX2, g.mask.nonZero.bits8),
				maskWithTail(maskNonZeroBits16AVX2, g.mask.nonZero.bits16),
				maskWithTail(maskNonZeroFloat16AVX2, g.mask.nonZero.float16),
				maskWithTail(maskNonZeroBits32AVX2, g.mask.nonZero.bits32),
				maskWithTail(maskNonZeroFloat32AVX2, g.mask.nonZero.float32),
				maskWithTail(maskNonZeroBits64AVX2, g.mask.nonZero.bits64),
				maskWithTail(maskNonZeroFloat64AVX2, g.mask.nonZero.float64),
			},
			aboveBits: rangeMasksWithTail(maskAboveBitsFloat16AVX2, maskAboveBitsFloat32AVX2, maskAboveBitsFloat64AVX2, &g.mask.aboveBits),
			aboveKeys: rangeMasksWithTail(maskAboveKeysFloat16AVX2, maskAboveKeysFloat32AVX2, maskAboveKeysFloat64AVX2, &g.mask.aboveKeys),
			absAbove:  rangeMasksWithTail(maskAbsAboveFloat16AVX2, maskAbsAboveFloat32AVX2, maskAbsAboveFloat64AVX2, &g.mask.absAbove),
		})
}

// vectorIndexFamily is the family of a level with vector widen, max and
// mask kernels: with the scalar scatter kernels, and the phased runs of
// them.
func vectorIndexFamily(widen widenKernel, max indexLanes[maxKernel[uint16], maxKernel[uint32], maxKernel[uint64]], mask maskFamily) indexFamily {
	return indexFamily{
		widen:   widen,
		max:     max,
		mask:    mask,
		scatter: indexLanes[scatterKernel[uint16], scatterKernel[uint32], scatterKernel[uint64]]{scatterIndex16, scatterIndex32, scatterIndex64},
		add: indexLanes[valueRuns[uint16], valueRuns[uint32], valueRuns[uint64]]{
			phasedRuns(scatterIndex16), phasedRuns(scatterIndex32), phasedRuns(scatterIndex64)},
	}
}

func rangeMasksWithTail(f16 rangeMaskKernel[uint16], f32 rangeMaskKernel[uint32], f64 rangeMaskKernel[uint64],
	tail *floats[rangeMaskKernel[uint16], rangeMaskKernel[uint32], rangeMaskKernel[uint64]]) floats[rangeMaskKernel[uint16], rangeMaskKernel[uint32], rangeMaskKernel[uint64]] {
	return floats[rangeMaskKernel[uint16], rangeMaskKernel[uint32], rangeMaskKernel[uint64]]{
		rangeMaskWithTail(f16, tail.f16), rangeMaskWithTail(f32, tail.f32), rangeMaskWithTail(f64, tail.f64)}
}
