//go:build gc && !purego

package kernel

import "golang.org/x/sys/cpu"

// detectLevels checks every CPU feature the generated kernels use: AVX and
// AVX2 (with the operating system's YMM support) for the AVX2 level, and in
// addition AVX512F, AVX512BW and AVX512VL (with ZMM and mask register
// support), BMI2 (BZHI makes the masks of partial vectors) and POPCNT for
// the AVX512 level. golang.org/x/sys/cpu applies GODEBUG=cpu.X=off before this.
func detectLevels() []Level {
	levels := []Level{Generic}
	if !cpu.X86.HasAVX || !cpu.X86.HasAVX2 {
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
// row) with masked, zeroing loads.
var avx512Impl = func() impl {
	t := genericImpl
	t.level = AVX512
	t.nonZero = laneFamily{
		count: laneCounts{
			countNonZeroBits8AVX512, countNonZeroBits16AVX512, countNonZeroFloat16AVX512,
			countNonZeroBits32AVX512, countNonZeroFloat32AVX512, countNonZeroBits64AVX512, countNonZeroFloat64AVX512,
		},
		columns: laneColumns{
			addNonZeroColumnsBits8AVX512, addNonZeroColumnsBits16AVX512, addNonZeroColumnsFloat16AVX512,
			addNonZeroColumnsBits32AVX512, addNonZeroColumnsFloat32AVX512, addNonZeroColumnsBits64AVX512, addNonZeroColumnsFloat64AVX512,
		},
		stream: laneStreams{
			addNonZeroStreamBits8AVX512, addNonZeroStreamBits16AVX512, addNonZeroStreamFloat16AVX512,
			addNonZeroStreamBits32AVX512, addNonZeroStreamFloat32AVX512, addNonZeroStreamBits64AVX512, addNonZeroStreamFloat64AVX512,
		},
	}
	t.aboveBits = rangeFamilyOf(
		countAboveBitsFloat16AVX512, countAboveBitsFloat32AVX512, countAboveBitsFloat64AVX512,
		addAboveBitsColumnsFloat16AVX512, addAboveBitsColumnsFloat32AVX512, addAboveBitsColumnsFloat64AVX512,
		addAboveBitsStreamFloat16AVX512, addAboveBitsStreamFloat32AVX512, addAboveBitsStreamFloat64AVX512)
	t.aboveKeys = rangeFamilyOf(
		countAboveKeysFloat16AVX512, countAboveKeysFloat32AVX512, countAboveKeysFloat64AVX512,
		addAboveKeysColumnsFloat16AVX512, addAboveKeysColumnsFloat32AVX512, addAboveKeysColumnsFloat64AVX512,
		addAboveKeysStreamFloat16AVX512, addAboveKeysStreamFloat32AVX512, addAboveKeysStreamFloat64AVX512)
	t.absAbove = rangeFamilyOf(
		countAbsAboveFloat16AVX512, countAbsAboveFloat32AVX512, countAbsAboveFloat64AVX512,
		addAbsAboveColumnsFloat16AVX512, addAbsAboveColumnsFloat32AVX512, addAbsAboveColumnsFloat64AVX512,
		addAbsAboveStreamFloat16AVX512, addAbsAboveStreamFloat32AVX512, addAbsAboveStreamFloat64AVX512)
	t.index = indexFamilyAVX512()
	return t
}()

// The AVX2 kernels read whole 32-byte vectors (of each row), and their
// streams whole runs of 32 columns; the generic kernels count the rest.
// There is no AVX2 stream of 64-bit lanes: those matrices go in tiles.
var avx2Impl = func() impl {
	t, g := genericImpl, &genericImpl
	t.level = AVX2
	t.nonZero = laneFamily{
		count: laneCounts{
			countNonZeroBits8AVX2, countNonZeroBits16AVX2, countNonZeroFloat16AVX2,
			countNonZeroBits32AVX2, countNonZeroFloat32AVX2, countNonZeroBits64AVX2, countNonZeroFloat64AVX2,
		},
		columns: laneColumns{
			addNonZeroColumnsBits8AVX2, addNonZeroColumnsBits16AVX2, addNonZeroColumnsFloat16AVX2,
			addNonZeroColumnsBits32AVX2, addNonZeroColumnsFloat32AVX2, addNonZeroColumnsBits64AVX2, addNonZeroColumnsFloat64AVX2,
		},
		stream: laneStreams{
			addNonZeroStreamBits8AVX2, addNonZeroStreamBits16AVX2, addNonZeroStreamFloat16AVX2,
			addNonZeroStreamBits32AVX2, addNonZeroStreamFloat32AVX2, nil, nil,
		},
	}.withTail(32, g.nonZero).withStreamTail(32)
	t.aboveBits = rangeFamilyOf(
		countAboveBitsFloat16AVX2, countAboveBitsFloat32AVX2, countAboveBitsFloat64AVX2,
		addAboveBitsColumnsFloat16AVX2, addAboveBitsColumnsFloat32AVX2, addAboveBitsColumnsFloat64AVX2,
		addAboveBitsStreamFloat16AVX2, addAboveBitsStreamFloat32AVX2, nil).withTail(32, g.aboveBits).withStreamTail(32, bitsValue)
	t.aboveKeys = rangeFamilyOf(
		countAboveKeysFloat16AVX2, countAboveKeysFloat32AVX2, countAboveKeysFloat64AVX2,
		addAboveKeysColumnsFloat16AVX2, addAboveKeysColumnsFloat32AVX2, addAboveKeysColumnsFloat64AVX2,
		addAboveKeysStreamFloat16AVX2, addAboveKeysStreamFloat32AVX2, nil).withTail(32, g.aboveKeys).withStreamTail(32, keyValue)
	t.absAbove = rangeFamilyOf(
		countAbsAboveFloat16AVX2, countAbsAboveFloat32AVX2, countAbsAboveFloat64AVX2,
		addAbsAboveColumnsFloat16AVX2, addAbsAboveColumnsFloat32AVX2, addAbsAboveColumnsFloat64AVX2,
		addAbsAboveStreamFloat16AVX2, addAbsAboveStreamFloat32AVX2, nil).withTail(32, g.absAbove).withStreamTail(32, absValue)
	t.index = indexFamilyAVX2()
	return t
}()
