//go:build gc && !purego

package kernel

import "golang.org/x/sys/cpu"

// detectLevels checks the one CPU feature the generated NEON kernels use:
// ASIMD, which every arm64 Linux, macOS and Windows machine has, but which
// golang.org/x/sys/cpu reports (and GODEBUG=cpu.asimd=off clears) rather
// than this package assuming it.
func detectLevels() []Level {
	levels := []Level{Generic}
	if cpu.ARM64.HasASIMD {
		levels = append(levels, NEON)
	}
	return levels
}

func kernelsFor(l Level) *kernelSet {
	if l == NEON {
		return &neonKernels
	}
	return &genericKernels
}

// The NEON kernels read whole 16-byte vectors; the generic kernel of the
// same lanes counts the rest.
var neonKernels = kernelSet{
	level:   NEON,
	bits8:   withTail(16, countNonZeroBits8NEON, genericKernels.bits8),
	bits16:  withTail(16, countNonZeroBits16NEON, genericKernels.bits16),
	float16: withTail(16, countNonZeroFloat16NEON, genericKernels.float16),
	bits32:  withTail(16, countNonZeroBits32NEON, genericKernels.bits32),
	float32: withTail(16, countNonZeroFloat32NEON, genericKernels.float32),
	bits64:  withTail(16, countNonZeroBits64NEON, genericKernels.bits64),
	float64: withTail(16, countNonZeroFloat64NEON, genericKernels.float64),
}
