//go:build gc && !purego

package kernel

import "unsafe"

// thresholdKernelsFor returns level l's CountAbove kernels; detectLevels
// (dispatch_arm64.go) decided which levels this CPU can run.
func thresholdKernelsFor(l Level) *thresholdKernels {
	if l == NEON {
		return &neonThreshold
	}
	return &genericThreshold
}

// The NEON kernels read whole 16-byte vectors; the generic kernel counts the
// rest. Each width has a kernel for any threshold and a shorter one for
// thresholds >= 0.
var neonThreshold = thresholdKernels{
	level:   NEON,
	float16: withNEONAboveTail(countAboveFloat16NEON, countAboveNonNegativeFloat16NEON, genericThreshold.float16),
	float32: withNEONAboveTail(countAboveFloat32NEON, countAboveNonNegativeFloat32NEON, genericThreshold.float32),
	float64: withNEONAboveTail(countAboveFloat64NEON, countAboveNonNegativeFloat64NEON, genericThreshold.float64),
}

// withNEONAboveTail completes the CountAbove kernels of one width, which
// read whole 16-byte vectors only: it runs nonNegative when lo has its sign
// bit clear (a threshold >= 0, see thresholdKeys), else general, and the
// lanes after the last whole vector go to tail.
func withNEONAboveTail[W word](general, nonNegative, tail func(x []W, lo, span W) int) func(x []W, lo, span W) int {
	lanes := 16 / int(unsafe.Sizeof(W(0)))
	sign := W(1) << (8*unsafe.Sizeof(W(0)) - 1)
	return func(x []W, lo, span W) int {
		whole := len(x) - len(x)%lanes
		vectors := general
		if lo&sign == 0 {
			vectors = nonNegative
		}
		return vectors(x, lo, span) + tail(x[whole:], lo, span)
	}
}
