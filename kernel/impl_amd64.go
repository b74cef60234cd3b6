//go:build gc && !purego

package kernel

import "golang.org/x/sys/cpu"

// detectLevels checks every CPU feature the generated kernels use: AVX and
// AVX2 (with the operating system's YMM support) for the AVX2 level, and in
// addition AVX512F and AVX512BW (with ZMM and mask register support) for the
// AVX512 level. golang.org/x/sys/cpu applies GODEBUG=cpu.X=off before this.
func detectLevels() []Level {
	levels := []Level{Generic}
	if !cpu.X86.HasAVX || !cpu.X86.HasAVX2 {
		return levels
	}
	levels = append(levels, AVX2)
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW {
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

// The AVX-512 kernels take any length: they read the last partial vector
// (of each row) with a masked, zeroing load.
var avx512Impl = func() impl {
	t := genericImpl
	t.level = AVX512
	t.nonZero = laneFamily{
		count: lanes[countKernel[uint8], countKernel[uint16], countKernel[uint32], countKernel[uint64]]{
			countNonZeroBits8AVX512, countNonZeroBits16AVX512, countNonZeroFloat16AVX512,
			countNonZeroBits32AVX512, countNonZeroFloat32AVX512, countNonZeroBits64AVX512, countNonZeroFloat64AVX512,
		},
		columns: lanes[columnKernel[uint8], columnKernel[uint16], columnKernel[uint32], columnKernel[uint64]]{
			addNonZeroColumnsBits8AVX512, addNonZeroColumnsBits16AVX512, addNonZeroColumnsFloat16AVX512,
			addNonZeroColumnsBits32AVX512, addNonZeroColumnsFloat32AVX512, addNonZeroColumnsBits64AVX512, addNonZeroColumnsFloat64AVX512,
		},
	}
	t.aboveBits = rangeFamilyOf(countAboveBitsFloat16AVX512, countAboveBitsFloat32AVX512, countAboveBitsFloat64AVX512, addAboveBitsColumnsFloat16AVX512, addAboveBitsColumnsFloat32AVX512, addAboveBitsColumnsFloat64AVX512)
	t.aboveKeys = rangeFamilyOf(countAboveKeysFloat16AVX512, countAboveKeysFloat32AVX512, countAboveKeysFloat64AVX512, addAboveKeysColumnsFloat16AVX512, addAboveKeysColumnsFloat32AVX512, addAboveKeysColumnsFloat64AVX512)
	t.absAbove = rangeFamilyOf(countAbsAboveFloat16AVX512, countAbsAboveFloat32AVX512, countAbsAboveFloat64AVX512, addAbsAboveColumnsFloat16AVX512, addAbsAboveColumnsFloat32AVX512, addAbsAboveColumnsFloat64AVX512)
	t.index = indexFamilyAVX512()
	return t
}()

// The AVX2 kernels read whole 32-byte vectors (of each row); the generic
// kernels count the rest.
var avx2Impl = func() impl {
	t, g := genericImpl, &genericImpl
	t.level = AVX2
	t.nonZero = laneFamily{
		count: lanes[countKernel[uint8], countKernel[uint16], countKernel[uint32], countKernel[uint64]]{
			countNonZeroBits8AVX2, countNonZeroBits16AVX2, countNonZeroFloat16AVX2,
			countNonZeroBits32AVX2, countNonZeroFloat32AVX2, countNonZeroBits64AVX2, countNonZeroFloat64AVX2,
		},
		columns: lanes[columnKernel[uint8], columnKernel[uint16], columnKernel[uint32], columnKernel[uint64]]{
			addNonZeroColumnsBits8AVX2, addNonZeroColumnsBits16AVX2, addNonZeroColumnsFloat16AVX2,
			addNonZeroColumnsBits32AVX2, addNonZeroColumnsFloat32AVX2, addNonZeroColumnsBits64AVX2, addNonZeroColumnsFloat64AVX2,
		},
	}.withTail(32, g.nonZero)
	t.aboveBits = rangeFamilyOf(countAboveBitsFloat16AVX2, countAboveBitsFloat32AVX2, countAboveBitsFloat64AVX2, addAboveBitsColumnsFloat16AVX2, addAboveBitsColumnsFloat32AVX2, addAboveBitsColumnsFloat64AVX2).withTail(32, g.aboveBits)
	t.aboveKeys = rangeFamilyOf(countAboveKeysFloat16AVX2, countAboveKeysFloat32AVX2, countAboveKeysFloat64AVX2, addAboveKeysColumnsFloat16AVX2, addAboveKeysColumnsFloat32AVX2, addAboveKeysColumnsFloat64AVX2).withTail(32, g.aboveKeys)
	t.absAbove = rangeFamilyOf(countAbsAboveFloat16AVX2, countAbsAboveFloat32AVX2, countAbsAboveFloat64AVX2, addAbsAboveColumnsFloat16AVX2, addAbsAboveColumnsFloat32AVX2, addAbsAboveColumnsFloat64AVX2).withTail(32, g.absAbove)
	t.index = indexFamilyAVX2()
	return t
}()
