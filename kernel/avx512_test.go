//go:build amd64 && gc && !purego

package kernel

import "testing"

// TestAVX512LaneBound: the AVX-512 count kernels of 16-bit lanes keep no
// widening: their counters hold, as their docs say, up to 65535*32 lanes of
// which every one counts, called directly (CountNonZero never gives a call
// more than ChunkBytes, a quarter of that). Every 16-bit count kernel of
// the table, whatever its rule: the range kernels with the range of every
// lane value.
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
		x[i] = 0x7c00 // +Inf: not zero, not zero without its sign either
	}
	tested := 0
	for _, k := range tableKernels(&avx512Impl) {
		var got int
		switch k := k.kernel.(type) {
		case countKernel[uint16]:
			got = k(x)
		case rangeKernel[uint16]:
			got = k(x, 0, 0xffff)
		default:
			continue
		}
		if tested++; got != n {
			t.Errorf("%s of %d lanes that count: %d", k.path, n, got)
		}
	}
	if tested < 5 {
		t.Fatalf("only %d 16-bit count kernels in the AVX-512 table", tested)
	}
}
