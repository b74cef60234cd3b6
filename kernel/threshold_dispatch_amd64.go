//go:build gc && !purego

package kernel

// thresholdKernelsFor returns level l's CountAbove kernels.
func thresholdKernelsFor(l Level) *thresholdKernels { return &genericThreshold }
