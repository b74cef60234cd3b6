//go:build gc && !purego

package kernel

import "unsafe"

// thresholdKernelsFor returns level l's CountAbove kernels; detectLevels
// (dispatch_amd64.go) decided which levels this CPU can run.
func thresholdKernelsFor(l Level) *thresholdKernels {
	switch l {
	case AVX512:
		return &avx512Threshold
	case AVX2:
		return &avx2Threshold
	}
	return &genericThreshold
}

// The AVX-512 kernels take any length: they read the last partial vector
// with a masked load.
var avx512Threshold = thresholdKernels{
	level:   AVX512,
	float16: countAboveFloat16AVX512,
	float32: countAboveFloat32AVX512,
	float64: countAboveFloat64AVX512,
}

// The AVX2 kernels read whole 32-byte vectors; the generic kernel counts the
// rest.
var avx2Threshold = thresholdKernels{
	level:   AVX2,
	float16: withAboveTail(countAboveFloat16AVX2, genericThreshold.float16),
	float32: withAboveTail(countAboveFloat32AVX2, genericThreshold.float32),
	float64: withAboveTail(countAboveFloat64AVX2, genericThreshold.float64),
}

// withAboveTail completes a CountAbove kernel that reads whole 32-byte
// vectors only: the lanes after the last whole vector go to tail.
func withAboveTail[W word](vectors, tail func(x []W, lo, span W) int) func(x []W, lo, span W) int {
	lanes := 32 / int(unsafe.Sizeof(W(0)))
	return func(x []W, lo, span W) int {
		whole := len(x) - len(x)%lanes
		return vectors(x, lo, span) + tail(x[whole:], lo, span)
	}
}
