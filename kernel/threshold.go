package kernel

import (
	"math"
	"unsafe"
)

// Float is the set of floating-point element types.
type Float interface {
	float32 | float64 | Float16 | BFloat16
}

// CountAbove returns the number of elements of x whose value is greater
// than threshold: x > threshold compared exactly as real numbers, the way
// the sparse_autoencoder library decides that a feature fired.
//
// NaN elements never count, and a NaN threshold counts nothing; -0 and +0
// are equal, so with threshold 0 neither counts; +Inf counts for every
// finite threshold and -Inf for none. Float16 is IEEE 754 half precision,
// BFloat16 the top half of a float32.
//
// The threshold is a float64 and need not be representable in the element
// type: since no element lies strictly between a threshold t and the largest
// value of the type not above it, round-down(t), x > t exactly when
// x > round-down(t), and that is what the kernels compare. For example, with
// float32 elements and t = 0.1 (not a float32), the float32 0.1 (slightly
// above the real 0.1) counts; with t = 1e-50, the smallest subnormal counts.
//
// The comparison is made on the bits (see thresholdKeys), so it does not
// depend on the FPU's denormal modes. It reads no byte outside x, allocates
// nothing, runs the level that Active reports, and counts long inputs in
// chunks of at most ChunkBytes.
func CountAbove[T Float](x []T, threshold float64) int {
	k := thresholdKernelsFor(Active())
	switch s := any(x).(type) {
	case []float32:
		lo, span, ok := thresholdKeys[uint32](float32Floor(threshold))
		if !ok {
			return 0
		}
		return countAboveChunks(words[uint32](s), lo, span, k.float32)
	case []float64:
		lo, span, ok := thresholdKeys[uint64](float64Floor(threshold))
		if !ok {
			return 0
		}
		return countAboveChunks(words[uint64](s), lo, span, k.float64)
	case []Float16:
		lo, span, ok := thresholdKeys[uint16](float16Floor(threshold))
		if !ok {
			return 0
		}
		return countAboveChunks(words[uint16](s), lo, span, k.float16)
	case []BFloat16:
		lo, span, ok := thresholdKeys[uint16](bfloat16Floor(threshold))
		if !ok {
			return 0
		}
		return countAboveChunks(words[uint16](s), lo, span, k.float16)
	}
	panic("unreachable: Float has no other types")
}

// thresholdKernels is one level's CountAbove kernel for each float width.
// Each counts the lanes b of x with key(b) - lo <= span, in the lanes'
// unsigned arithmetic (see thresholdKeys), for any length.
type thresholdKernels struct {
	level   Level
	float16 func(x []uint16, lo, span uint16) int
	float32 func(x []uint32, lo, span uint32) int
	float64 func(x []uint64, lo, span uint64) int
}

// countAboveChunks is countChunks for the threshold kernels: ChunkBytes at a
// time, from a Go loop that the scheduler can preempt between chunks.
//
//go:noinline
func countAboveChunks[W word](x []W, lo, span W, count func(x []W, lo, span W) int) int {
	chunk := ChunkBytes / int(unsafe.Sizeof(lo))
	total := 0
	for len(x) > chunk {
		total += count(x[:chunk:chunk], lo, span)
		x = x[chunk:]
	}
	return total + count(x, lo, span)
}

// Threshold comparison on bits.
//
// The four float types are sign-magnitude: a sign bit on top of a magnitude
// whose unsigned order is the order of the absolute values (subnormals,
// normals, then +Inf at infBits, then the NaNs). Read as a two's complement
// integer, the key
//
//	key(b) = b XOR (b >> (n-1), arithmetic) >> 1, logical
//
// leaves the non-negative patterns alone and maps a negative one, of
// magnitude m, to -1-m. It is strictly increasing in the value for every
// non-NaN pattern except that -0 (key -1) sits just below +0 (key 0), and
// it puts the positive NaNs above +Inf and the negative ones below -Inf.
//
// For a threshold t that is not NaN, let f = round-down(t) be the largest
// value of the element type not above t (-Inf if none), with -0 read as +0.
// Then x > t exactly when key(f) < key(x) <= key(+Inf) = infBits: a NaN x
// falls outside, x = -0 is above f exactly when f < 0, and so on. With
// lo = key(f)+1 and span = infBits-lo, that is one unsigned comparison,
// key(x) - lo <= span, in n-bit wrapping arithmetic: the interval [lo,
// infBits] is shorter than 2^n, so no key outside it wraps into it. This is
// exact, independent of the FPU's denormal and rounding modes, and the same
// three operations for every float type, which is why the kernels use it
// for float32 and float64 too rather than a native compare.

// floatBits is a floor threshold: the bit pattern of round-down(t) in the
// element type, the pattern of +Inf, and whether t was a number at all.
type floatBits[W word] struct {
	bits, inf W
	ok        bool
}

// key is the order-preserving integer key of the sign-magnitude pattern b.
func key[W word](b W) W {
	top := 8*unsafe.Sizeof(b) - 1
	negative := -(b >> top) // all ones when the sign bit is set
	return b ^ negative>>1
}

// thresholdKeys returns lo and span such that a pattern b is above the
// threshold exactly when key(b)-lo <= span; ok is false when nothing can be
// above it (a NaN threshold, or round-down(t) = +Inf).
func thresholdKeys[W word](f floatBits[W]) (lo, span W, ok bool) {
	if !f.ok || f.bits == f.inf {
		return 0, 0, false
	}
	sign := W(1) << (8*unsafe.Sizeof(lo) - 1)
	b := f.bits
	if b == sign { // -0 is +0
		b = 0
	}
	lo = key(b) + 1
	return lo, f.inf - lo, true
}

// float64Floor is round-down(t) for float64 elements: t itself.
func float64Floor(t float64) floatBits[uint64] {
	return floatBits[uint64]{math.Float64bits(t), 0x7ff0000000000000, !math.IsNaN(t)}
}

// float32Floor is round-down(t) for float32 elements: t rounded to the
// nearest float32 (which may overflow to ±Inf), stepped down once if that
// rounded up.
func float32Floor(t float64) floatBits[uint32] {
	if math.IsNaN(t) {
		return floatBits[uint32]{}
	}
	f := float32(t)
	if float64(f) > t {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return floatBits[uint32]{math.Float32bits(f), 0x7f800000, true}
}

// float16Floor is round-down(t) for Float16 elements.
func float16Floor(t float64) floatBits[uint16] {
	return halfFloor(t, 0x7c00, float16Value)
}

// bfloat16Floor is round-down(t) for BFloat16 elements.
func bfloat16Floor(t float64) floatBits[uint16] {
	return halfFloor(t, 0x7f80, bfloat16Value)
}

// halfFloor finds round-down(t) among the 16-bit patterns by a binary search
// over their keys, from the key of -Inf to that of +Inf: value is exact in
// float64 and non-decreasing in the key, so this is exact for every t.
func halfFloor(t float64, inf uint16, value func(uint16) float64) floatBits[uint16] {
	if math.IsNaN(t) {
		return floatBits[uint16]{}
	}
	fromKey := func(k int32) uint16 { // the pattern whose key is k
		if k >= 0 {
			return uint16(k)
		}
		return 0x8000 | uint16(-1-k)
	}
	lo, hi := -1-int32(inf), int32(inf) // value(fromKey(lo)) = -Inf <= t
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if value(fromKey(mid)) <= t {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return floatBits[uint16]{fromKey(lo), inf, true}
}

// float16Value is the value of the IEEE 754 half-precision pattern h.
func float16Value(h uint16) float64 {
	sign := uint64(h>>15) << 63
	exp := int(h>>10) & 0x1f
	mant := uint64(h & 0x3ff)
	switch {
	case exp == 0x1f && mant == 0:
		return math.Float64frombits(sign | 0x7ff0000000000000)
	case exp == 0x1f:
		return math.NaN()
	case exp == 0: // zero or subnormal: mant * 2^-24, exact in float64
		v := float64(mant) * 0x1p-24
		if sign != 0 {
			return -v
		}
		return v
	}
	return math.Float64frombits(sign | uint64(exp-15+1023)<<52 | mant<<42)
}

// bfloat16Value is the value of the bfloat16 pattern h: the top half of a
// float32.
func bfloat16Value(h uint16) float64 {
	return float64(math.Float32frombits(uint32(h) << 16))
}
