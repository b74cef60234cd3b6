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

func kernelsFor(l Level) *kernelSet {
	switch l {
	case AVX512:
		return &avx512Kernels
	case AVX2:
		return &avx2Kernels
	}
	return &genericKernels
}

// The AVX-512 kernels take any length: they read the last partial vector
// with a masked load.
var avx512Kernels = kernelSet{
	level:   AVX512,
	bits8:   countNonZeroBits8AVX512,
	bits16:  countNonZeroBits16AVX512,
	float16: countNonZeroFloat16AVX512,
	bits32:  countNonZeroBits32AVX512,
	float32: countNonZeroFloat32AVX512,
	bits64:  countNonZeroBits64AVX512,
	float64: countNonZeroFloat64AVX512,
}

// The AVX2 kernels read whole 32-byte vectors; the generic kernel of the
// same lanes counts the rest.
var avx2Kernels = kernelSet{
	level:   AVX2,
	bits8:   withTail(32, countNonZeroBits8AVX2, genericKernels.bits8),
	bits16:  withTail(32, countNonZeroBits16AVX2, genericKernels.bits16),
	float16: withTail(32, countNonZeroFloat16AVX2, genericKernels.float16),
	bits32:  withTail(32, countNonZeroBits32AVX2, genericKernels.bits32),
	float32: withTail(32, countNonZeroFloat32AVX2, genericKernels.float32),
	bits64:  withTail(32, countNonZeroBits64AVX2, genericKernels.bits64),
	float64: withTail(32, countNonZeroFloat64AVX2, genericKernels.float64),
}
