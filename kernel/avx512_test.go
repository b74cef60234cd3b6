//go:build amd64 && gc && !purego

package kernel

import "testing"

// TestAVX512LaneBound: the AVX-512 count kernels of 16-bit lanes keep no
// widening: their counters hold, as their docs say, up to 65535*32 lanes of
// which every one counts, called directly (CountNonZero never gives a call
// more than ChunkBytes, a quarter of that).
func TestAVX512LaneBound(t *testing.T) {
	if !Supported(AVX512) {
		t.Skip("no AVX-512")
	}
	if testing.Short() {
		t.Skip("4 MiB inputs")
	}
	const n = 65535 * 32
	x := elementsOf[uint16](alignedBytes(2*n, 0))
	for i := range x {
		x[i] = 0x7c00 // +Inf: not zero, above every finite threshold, |x| too
	}
	r := aboveRange(float16Floor(0))
	for name, got := range map[string]int{
		"countNonZeroBits16AVX512":    countNonZeroBits16AVX512(x),
		"countNonZeroFloat16AVX512":   countNonZeroFloat16AVX512(x),
		"countAboveBitsFloat16AVX512": countAboveBitsFloat16AVX512(x, r.lo, r.span),
		"countAboveKeysFloat16AVX512": countAboveKeysFloat16AVX512(x, r.lo, r.span),
		"countAbsAboveFloat16AVX512":  countAbsAboveFloat16AVX512(x, r.lo, r.span),
	} {
		if got != n {
			t.Errorf("%s of %d lanes that count: %d", name, n, got)
		}
	}
}
