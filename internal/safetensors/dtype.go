package safetensors

import (
	"fmt"
	"strings"
)

// DType is an element type a safetensors file can name.
//
// The constants follow the order of the reference implementation's Dtype
// enum, which is the order its writer sorts tensors by (descending), so the
// writer here sorts by the constants' values. Only the dtypes for which
// Supported reports true can be read row by row; the others are known by
// name and bit size, so that a file holding them is still validated and its
// other tensors can be read.
type DType uint8

// The dtypes of the format.
const (
	Invalid    DType = iota
	Bool             // BOOL: one byte, 0 or 1
	F4               // F4: MXFP4, 4 bits (not readable here)
	F6E2M3           // F6_E2M3: MXFP6, 6 bits (not readable here)
	F6E3M2           // F6_E3M2: MXFP6, 6 bits (not readable here)
	Uint8            // U8
	Int8             // I8
	F8E5M2           // F8_E5M2 (not readable here)
	F8E4M3           // F8_E4M3 (not readable here)
	F8E8M0           // F8_E8M0 (not readable here)
	F8E4M3FNUZ       // F8_E4M3FNUZ (not readable here)
	F8E5M2FNUZ       // F8_E5M2FNUZ (not readable here)
	Int16            // I16
	Uint16           // U16
	Float16          // F16: IEEE 754 half precision
	BFloat16         // BF16: the upper half of a float32
	Int32            // I32
	Uint32           // U32
	Float32          // F32
	Complex64        // C64: two float32 (not readable here)
	Float64          // F64
	Int64            // I64
	Uint64           // U64
)

// dtypes describes each DType: the name the file spells, its size in bits,
// whether this package reads its elements, and whether they are floats.
var dtypes = [...]struct {
	name      string
	bits      int
	supported bool
	float     bool
}{
	Bool:       {"BOOL", 8, true, false},
	F4:         {"F4", 4, false, true},
	F6E2M3:     {"F6_E2M3", 6, false, true},
	F6E3M2:     {"F6_E3M2", 6, false, true},
	Uint8:      {"U8", 8, true, false},
	Int8:       {"I8", 8, true, false},
	F8E5M2:     {"F8_E5M2", 8, false, true},
	F8E4M3:     {"F8_E4M3", 8, false, true},
	F8E8M0:     {"F8_E8M0", 8, false, true},
	F8E4M3FNUZ: {"F8_E4M3FNUZ", 8, false, true},
	F8E5M2FNUZ: {"F8_E5M2FNUZ", 8, false, true},
	Int16:      {"I16", 16, true, false},
	Uint16:     {"U16", 16, true, false},
	Float16:    {"F16", 16, true, true},
	BFloat16:   {"BF16", 16, true, true},
	Int32:      {"I32", 32, true, false},
	Uint32:     {"U32", 32, true, false},
	Float32:    {"F32", 32, true, true},
	Complex64:  {"C64", 64, false, true},
	Float64:    {"F64", 64, true, true},
	Int64:      {"I64", 64, true, false},
	Uint64:     {"U64", 64, true, false},
}

// DTypes returns every dtype of the format, in the order of the constants.
func DTypes() []DType {
	all := make([]DType, 0, len(dtypes)-1)
	for d := Bool; int(d) < len(dtypes); d++ {
		all = append(all, d)
	}
	return all
}

// Valid reports whether d is one of the format's dtypes.
func (d DType) Valid() bool { return d != Invalid && int(d) < len(dtypes) }

// String returns the name the file spells: F32, BF16, BOOL.
func (d DType) String() string {
	if !d.Valid() {
		return fmt.Sprintf("DType(%d)", uint8(d))
	}
	return dtypes[d].name
}

// Bits returns the size of an element in bits (4 and 6 for the sub-byte
// floats), 0 for an invalid DType.
func (d DType) Bits() int {
	if !d.Valid() {
		return 0
	}
	return dtypes[d].bits
}

// Size returns the size of an element in whole bytes, 0 for the sub-byte
// dtypes and an invalid DType.
func (d DType) Size() int {
	if d.Bits()%8 != 0 {
		return 0
	}
	return d.Bits() / 8
}

// Supported reports whether this package reads the elements of d row by
// row: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL.
func (d DType) Supported() bool { return d.Valid() && dtypes[d].supported }

// IsFloat reports whether d is a floating-point type (zero is +0 and -0).
func (d DType) IsFloat() bool { return d.Valid() && dtypes[d].float }

// supportedNames lists the readable dtypes for error messages.
var supportedNames = func() string {
	var names []string
	for d := Uint64; d > Invalid; d-- {
		if d.Supported() {
			names = append(names, d.String())
		}
	}
	return strings.Join(names, " ")
}()

// parseDType returns the dtype a header names.
func parseDType(name string) (DType, bool) {
	for d := Bool; int(d) < len(dtypes); d++ {
		if dtypes[d].name == name {
			return d, true
		}
	}
	return Invalid, false
}
