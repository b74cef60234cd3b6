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

// The element table. The kernels know two things of an element type: its
// width, which gives the unsigned lanes its bits are read as (a width
// switch on unsafe.Sizeof, which the compiler resolves for each
// instantiation), and its format, below. A new element type that an
// existing kernel counts is a term of Element (and of Float) and a row of
// formatOf; nothing else in the package lists the element types.
//
//	element type            lanes                      format
//	int8, uint8             uint8                      integer
//	int16, uint16           uint16                     integer
//	int32, uint32           uint32                     integer
//	int64, uint64           uint64                     integer
//	Float16                 uint16                     binary16
//	BFloat16                uint16                     bfloat16
//	float32                 uint32                     binary32
//	float64                 uint64                     binary64
//
// Each function of the API is therefore a width switch: one arm per lane
// type W, calling the code of its rule and shape for W (count.go, above.go,
// abs.go, index.go). CountNonZero, CountAbove and CountAbsAbove do that
// code in the arm itself rather than in a function of its own: a short
// call costs what its frames cost (BenchmarkCall16).

// format is how the bits of an element type's lanes are read: as an
// integer, every bit of which counts for x != 0, or as one of the float
// formats, whose sign bit does not count and whose thresholds round down
// to a pattern of the format (threshold.go's floors).
type format uint8

const (
	integer  format = iota
	binary16        // IEEE 754 half precision
	bfloat16        // the top half of a binary32
	binary32        // IEEE 754 single precision
	binary64        // IEEE 754 double precision
)

// formatOf is the element table's format column. It asks only about the
// float type of T's width (the width switch is resolved at compile time),
// so that the answer costs a compare or two per call.
func formatOf[T Element]() format {
	switch unsafe.Sizeof(T(0)) {
	case 2:
		switch any(T(0)).(type) {
		case Float16:
			return binary16
		case BFloat16:
			return bfloat16
		}
	case 4:
		if _, ok := any(T(0)).(float32); ok {
			return binary32
		}
	case 8:
		if _, ok := any(T(0)).(float64); ok {
			return binary64
		}
	}
	return integer
}

// word is the unsigned lane type of every element width: one type per
// width, so a width names its lane type.
type word interface {
	uint8 | uint16 | uint32 | uint64
}

// floatWord is the lane type of every float width.
type floatWord interface {
	uint16 | uint32 | uint64
}

// words reinterprets x as its lanes' bit patterns, without copying.
func words[W word, E any](x []E) []W {
	return unsafe.Slice((*W)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}
