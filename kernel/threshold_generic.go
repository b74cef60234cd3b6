package kernel

import "math/bits"

// genericThreshold is the portable CountAbove: the fallback everywhere and
// the oracle of the tests.
var genericThreshold = thresholdKernels{
	level:   Generic,
	float16: countAboveGeneric[uint16],
	float32: countAboveGeneric[uint32],
	float64: countAboveGeneric[uint64],
}

// countAboveGeneric counts the lanes b of x with key(b)-lo <= span. It is
// branch-free: it sums the borrows of span-(key(b)-lo), one per lane that is
// not counted, in four independent sums.
func countAboveGeneric[W uint16 | uint32 | uint64](x []W, lo, span W) int {
	total := len(x)
	s := uint64(span)
	var a, b, c, d uint64
	for len(x) >= 4 {
		_, b0 := bits.Sub64(s, uint64(key(x[0])-lo), 0)
		_, b1 := bits.Sub64(s, uint64(key(x[1])-lo), 0)
		_, b2 := bits.Sub64(s, uint64(key(x[2])-lo), 0)
		_, b3 := bits.Sub64(s, uint64(key(x[3])-lo), 0)
		a, b, c, d = a+b0, b+b1, c+b2, d+b3
		x = x[4:]
	}
	for _, v := range x {
		_, borrow := bits.Sub64(s, uint64(key(v)-lo), 0)
		a += borrow
	}
	return total - int(a+b+c+d)
}
