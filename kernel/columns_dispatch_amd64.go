//go:build gc && !purego

package kernel

// columnKernelsFor returns level l's column-counting kernels.
func columnKernelsFor(l Level) *columnKernels { return &genericColumns }
