package kernel

import "unsafe"

// Float16 is an IEEE 754 half-precision number held as its bit pattern.
type Float16 uint16

// BFloat16 is a bfloat16 (brain floating point) number held as its bit
// pattern: the top half of a float32.
type BFloat16 uint16

// Element is the set of types the kernels count.
type Element interface {
	float32 | float64 | Float16 | BFloat16 |
		int8 | int16 | int32 | int64 |
		uint8 | uint16 | uint32 | uint64
}

// Float is the set of floating-point element types.
type Float interface {
	float32 | float64 | Float16 | BFloat16
}

// word is the unsigned lane type of every element width.
type word interface {
	uint8 | uint16 | uint32 | uint64
}

// words reinterprets x as its lanes' bit patterns, without copying.
func words[W word, E any](x []E) []W {
	return unsafe.Slice((*W)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}
