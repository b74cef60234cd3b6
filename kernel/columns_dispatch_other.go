//go:build !(amd64 || arm64) || !gc || purego

package kernel

// columnKernelsFor: without assembly for this platform or build, only the
// generic kernels run.
func columnKernelsFor(Level) *columnKernels { return &genericColumns }
