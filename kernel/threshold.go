package kernel

import (
	"math"
	"unsafe"
)

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
// integer operations for every float type, which is why the kernels use it
// for float32 and float64 too rather than a native compare. When
// round-down(t) >= +0 (lo >= 1) the key is not even needed: a negative
// pattern b, read unsigned, is at least 2^(n-1) > infBits, so b-lo > span
// as for its key, and the kernels then compare the bits themselves
// (impl.go's above.bitsInRange); below +0 they compare keys (keyInRange).

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

// keyRange is the range of lane values that count for one threshold: a
// lane's value v (its bits, its key, or its magnitude, depending on the
// kernels: laneValue) counts when v - lo <= span, in the lanes'
// unsigned arithmetic. ok is false when no lane can count; keys is true
// when CountAbove must compare keys rather than bits (a threshold below
// +0).
type keyRange[W word] struct {
	lo, span W
	ok, keys bool
}

// aboveRange is the range of CountAbove for a threshold whose round-down
// in the element type is f: key(b) - lo <= span exactly when b > t (see
// above). Its keys are not needed when lo > 0 as a signed lane: then the
// bits themselves compare as their keys do.
func aboveRange[W word](f floatBits[W]) keyRange[W] {
	if !f.ok || f.bits == f.inf {
		return keyRange[W]{} // nothing is above a NaN threshold, or above +Inf
	}
	sign := W(1) << (8*unsafe.Sizeof(f.bits) - 1)
	b := f.bits
	if b == sign { // -0 is +0
		b = 0
	}
	lo := key(b) + 1
	return keyRange[W]{lo: lo, span: f.inf - lo, ok: true, keys: lo == 0 || lo&sign != 0}
}

// floorOf is round-down(t) in the element type T, by its format (the
// element table, kernel.go), as lanes of W, T's width.
func floorOf[T Float, W floatWord](t float64) floatBits[W] {
	switch formatOf[T]() {
	case binary16:
		return floorAs[W](float16Floor(t))
	case bfloat16:
		return floorAs[W](bfloat16Floor(t))
	case binary32:
		return floorAs[W](float32Floor(t))
	}
	return floorAs[W](float64Floor(t))
}

// floorAs is f as lanes of W, which has f's width.
func floorAs[W, V word](f floatBits[V]) floatBits[W] {
	return floatBits[W]{W(f.bits), W(f.inf), f.ok}
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

// float16Floor is round-down(t) for Float16 elements. Half values are
// float32 values, so it is round-down of round-down(t) in float32: that
// float32's magnitude truncated to half precision (the largest finite half
// if it is larger), which rounds toward zero, so an inexact negative value
// steps one pattern further from zero (to -Inf past the largest).
func float16Floor(t float64) floatBits[uint16] {
	f := float32Floor(t)
	if !f.ok {
		return floatBits[uint16]{}
	}
	sign := uint16(f.bits>>16) & 0x8000
	exp, mant := int(f.bits>>23&0xff), f.bits&0x7fffff
	var mag uint16
	exact := true
	switch {
	case exp == 0xff: // ±Inf: round-down(t) in float32 is never NaN
		mag = 0x7c00
	case exp >= 127+16: // |f| >= 2^16: beyond the largest finite half
		mag, exact = 0x7bff, false
	case exp >= 127-14: // a normal half: 10 of the 23 mantissa bits
		mag = uint16(exp-127+15)<<10 | uint16(mant>>13)
		exact = mant&(1<<13-1) == 0
	case exp == 0: // a float32 subnormal, below half the smallest half
		exact = mant == 0
	default: // a subnormal half or zero: |f| in units of 2^-24, truncated
		full, shift := 1<<23|mant, uint(126-exp)
		if shift < 32 {
			mag = uint16(full >> shift)
		}
		exact = shift < 32 && full&(1<<shift-1) == 0
	}
	if sign != 0 && !exact {
		mag++
	}
	return floatBits[uint16]{sign | mag, 0x7c00, true}
}

// bfloat16Floor is round-down(t) for BFloat16 elements: as float16Floor,
// from round-down(t) in float32, whose top half is the truncation.
func bfloat16Floor(t float64) floatBits[uint16] {
	f := float32Floor(t)
	if !f.ok {
		return floatBits[uint16]{}
	}
	h := uint16(f.bits >> 16)
	if f.bits&0x80000000 != 0 && f.bits&0xffff != 0 {
		h++
	}
	return floatBits[uint16]{h, 0x7f80, true}
}
