//go:build !(amd64 || arm64) || !gc || purego

package kernel

// thresholdKernelsFor: without assembly for this platform or build, only
// the generic kernels run.
func thresholdKernelsFor(Level) *thresholdKernels { return &genericThreshold }
