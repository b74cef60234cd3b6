package npy

import (
	"fmt"
)

// DType is a numeric element type a .npy file can hold.
type DType uint8

// The dtypes this package reads.
const (
	Invalid DType = iota
	Float16
	Float32
	Float64
	Int8
	Int16
	Int32
	Int64
	Uint8
	Uint16
	Uint32
	Uint64
	Bool
)

// dtypes describes each DType: numpy's type code and item size (together
// the descr without its byte order) and numpy's name.
var dtypes = [...]struct {
	code, name string
	size       int
}{
	Float16: {"f2", "float16", 2},
	Float32: {"f4", "float32", 4},
	Float64: {"f8", "float64", 8},
	Int8:    {"i1", "int8", 1},
	Int16:   {"i2", "int16", 2},
	Int32:   {"i4", "int32", 4},
	Int64:   {"i8", "int64", 8},
	Uint8:   {"u1", "uint8", 1},
	Uint16:  {"u2", "uint16", 2},
	Uint32:  {"u4", "uint32", 4},
	Uint64:  {"u8", "uint64", 8},
	Bool:    {"b1", "bool", 1},
}

// DTypes returns every dtype this package reads.
func DTypes() []DType {
	all := make([]DType, 0, len(dtypes)-1)
	for d := Float16; int(d) < len(dtypes); d++ {
		all = append(all, d)
	}
	return all
}

// Size returns the size of an element in bytes.
func (d DType) Size() int { return d.info().size }

// Name returns numpy's name of the dtype: float32, int8, bool.
func (d DType) Name() string { return d.info().name }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d == Float16 || d == Float32 || d == Float64 }

// String returns the descr numpy writes for d: <f4, |i1, |b1.
func (d DType) String() string {
	i := d.info()
	if i.size == 0 {
		return fmt.Sprintf("DType(%d)", uint8(d))
	}
	if i.size == 1 {
		return "|" + i.code
	}
	return "<" + i.code
}

func (d DType) info() struct {
	code, name string
	size       int
} {
	if d != Invalid && int(d) < len(dtypes) {
		return dtypes[d]
	}
	return dtypes[Invalid]
}

// parseDescr returns the dtype a header's descr names. The byte order may
// be '<' (little-endian), '=' or absent (native, which numpy reading the
// file on a little-endian machine takes as little-endian) or '|' (not
// applicable); for one-byte types it does not matter, so '>' is accepted
// there too, as numpy itself normalizes '<i1' and '>u1' to '|i1' and '|u1'.
func parseDescr(descr string) (DType, error) {
	order, code := byte('='), descr
	if len(descr) > 0 && (descr[0] == '<' || descr[0] == '>' || descr[0] == '=' || descr[0] == '|') {
		order, code = descr[0], descr[1:]
	}
	for d := Float16; int(d) < len(dtypes); d++ {
		if dtypes[d].code != code {
			continue
		}
		if order == '>' && dtypes[d].size > 1 {
			return Invalid, fmt.Errorf("%w: big-endian dtype %q; save it little-endian, e.g. np.save(f, a.astype(a.dtype.newbyteorder('<')))", ErrUnsupported, descr)
		}
		return d, nil
	}
	return Invalid, fmt.Errorf("%w: dtype %q (supported: <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1)", ErrUnsupported, descr)
}
