//go:build gc && !purego

package readlimit

import "golang.org/x/sys/cpu"

// readBlock is the bytes one iteration of the vector kernels reads.
const readBlock = 512

var readVectors, impl = choose()

func choose() (func([]byte) uint64, string) {
	switch {
	case cpu.X86.HasAVX512F:
		return readAVX512, "avx512"
	case cpu.X86.HasAVX2:
		return readAVX2, "avx2"
	}
	return nil, "generic"
}
