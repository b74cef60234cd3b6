// Package readlimit is the benchmarks' yardstick: the fastest way this
// machine can read memory, measured in the same run as the kernels so that
// each kernel's speed is a fraction of the read limit rather than a number
// that depends on the day's noise.
package readlimit

// Read reads every byte of b, ORs them together with the widest vectors the
// CPU has and returns a word of the result (so that no read can be dropped).
// Its throughput is the read limit that the counting kernels are held to.
func Read(b []byte) uint64 {
	var acc uint64
	if readVectors != nil {
		whole := len(b) &^ (readBlock - 1)
		acc = readVectors(b[:whole])
		b = b[whole:]
	}
	for _, v := range b {
		acc |= uint64(v)
	}
	return acc
}

// Impl names the implementation Read uses: avx512, avx2 or generic.
func Impl() string { return impl }
