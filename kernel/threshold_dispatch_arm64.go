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
// rest.
var neonThreshold = thresholdKernels{
	level:   NEON,
	float16: withNEONAboveTail(countAboveFloat16NEON, genericThreshold.float16),
	float32: withNEONAboveTail(countAboveFloat32NEON, genericThreshold.float32),
	float64: withNEONAboveTail(countAboveFloat64NEON, genericThreshold.float64),
}

// withNEONAboveTail completes a CountAbove kernel that reads whole 16-byte
// vectors only: the lanes after the last whole vector go to tail.
func withNEONAboveTail[W word](vectors, tail func(x []W, lo, span W) int) func(x []W, lo, span W) int {
	lanes := 16 / int(unsafe.Sizeof(W(0)))
	return func(x []W, lo, span W) int {
		whole := len(x) - len(x)%lanes
		return vectors(x, lo, span) + tail(x[whole:], lo, span)
	}
}
