// Package npy reads the header of NumPy .npy files and streams their data
// in whole rows, without ever allocating from what the header claims.
//
// It reads format versions 1.0, 2.0 and 3.0 of
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// and the numeric dtypes numpy writes as <f2 <f4 <f8, |i1 <i2 <i4 <i8,
// |u1 <u2 <u4 <u8 and |b1, in C order and little-endian; anything else is a
// clear error.
//
// It is l0's own rather than codeberg.org/sbinet/npyio: npyio's npy package
// would bring gonum, gopickle and x/text into the root module's dependencies,
// and its header reader panics on malformed headers (no newline, keys in
// another order, an early '}'), rejects format 3.0, and allocates whatever
// header length and shape a file claims. This one caps the header at 64 KiB
// and the shape at 64 dimensions (MaxRank, numpy's own bound), checks the
// file's size against the shape before it allocates anything sized
// by it, and is fuzzed (FuzzReadHeader here, FuzzAnalyze in cmd/l0).
package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
)

// The errors of this package wrap one of these, with the details.
var (
	// ErrFormat: the file is not a well-formed .npy file.
	ErrFormat = errors.New("malformed .npy file")
	// ErrUnsupported: a well-formed file this package does not read: another
	// dtype, big-endian data, Fortran order, a scalar.
	ErrUnsupported = errors.New("unsupported array")
	// ErrTruncated: the file ends before the data its header describes.
	ErrTruncated = errors.New("truncated data")
	// ErrTrailing: bytes follow the data the header describes, so the
	// header does not describe the file.
	ErrTrailing = errors.New("bytes after the array data")
)

// magic starts every .npy file.
const magic = "\x93NUMPY"

// MaxHeaderBytes bounds the header text this package reads. numpy writes
// a few hundred bytes for any array of a numeric dtype (and itself refuses
// headers above 10000 bytes unless told otherwise), so a larger header is
// not a file worth reading, and the bound keeps a hostile length field
// from making the reader allocate gigabytes.
const MaxHeaderBytes = 1 << 16

// Header is what a .npy file says about its array.
type Header struct {
	Major, Minor int     // format version: 1.0, 2.0 or 3.0
	Descr        string  // the dtype as the file spells it, e.g. "<f4"
	DType        DType   // the dtype it names
	FortranOrder bool    // column-major data, which this package rejects
	Shape        []int64 // the array's dimensions
	DataOffset   int64   // bytes before the data: magic, version, length, header
}

// Elements returns the number of elements of the array. ReadHeader checks
// that their byte size fits in an int64.
func (h Header) Elements() int64 {
	n := int64(1)
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

// DataBytes returns the size of the array data in bytes.
func (h Header) DataBytes() int64 { return h.Elements() * int64(h.DType.Size()) }

// MaxRank bounds the dimensions of a shape: numpy's own bound
// (NPY_MAXDIMS, 64 since numpy 2.0, 32 before it), which no file numpy
// writes passes. A longer shape is an error.
const MaxRank = 64

// maxShownDims bounds the dimensions a shape shows in a message.
const maxShownDims = 16

// ShapeString returns the shape as Python prints it: (2, 3), (5,), (). A
// shape of more than 16 dimensions shows its first 16 and their number:
// (1, 1, ..., 1, ...) (64 dimensions), so that no message grows with a
// hostile shape.
func (h Header) ShapeString() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range h.Shape[:min(len(h.Shape), maxShownDims)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	switch {
	case len(h.Shape) > maxShownDims:
		fmt.Fprintf(&b, ", ...) (%d dimensions)", len(h.Shape))
		return b.String()
	case len(h.Shape) == 1:
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// ReadHeader reads the magic, version and header of a .npy file from r,
// leaving r at the first byte of the data. It returns an error wrapping
// ErrFormat for a malformed file, ErrUnsupported for a dtype, byte order or
// memory order this package does not read, and ErrTruncated when r ends
// inside the header.
func ReadHeader(r io.Reader) (Header, error) {
	var h Header
	var prefix [10]byte
	if err := readFull(r, prefix[:8], "the magic and version"); err != nil {
		return h, err
	}
	if string(prefix[:6]) != magic {
		return h, fmt.Errorf("%w: no .npy magic string (the file starts %q)", ErrFormat, prefix[:6])
	}
	h.Major, h.Minor = int(prefix[6]), int(prefix[7])
	var length int64
	switch {
	case h.Minor != 0 || h.Major < 1 || h.Major > 3:
		return h, fmt.Errorf("%w: format version %d.%d (want 1.0, 2.0 or 3.0)", ErrUnsupported, h.Major, h.Minor)
	case h.Major == 1:
		if err := readFull(r, prefix[8:10], "the header length"); err != nil {
			return h, err
		}
		length = int64(binary.LittleEndian.Uint16(prefix[8:10]))
		h.DataOffset = 10 + length
	default:
		var n [4]byte
		if err := readFull(r, n[:], "the header length"); err != nil {
			return h, err
		}
		length = int64(binary.LittleEndian.Uint32(n[:]))
		h.DataOffset = 12 + length
	}
	if length > MaxHeaderBytes {
		return h, fmt.Errorf("%w: a header of %d bytes (this reader takes at most %d)", ErrFormat, length, MaxHeaderBytes)
	}
	text := make([]byte, length)
	if err := readFull(r, text, "the header"); err != nil {
		return h, err
	}
	if err := h.parse(text); err != nil {
		return h, err
	}
	return h, nil
}

// readFull reads len(p) bytes, calling an early end ErrTruncated.
func readFull(r io.Reader, p []byte, what string) error {
	n, err := io.ReadFull(r, p)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: the file ends in %s (%d of %d bytes)", ErrTruncated, what, n, len(p))
	}
	return err
}

// parse fills h from the header text.
func (h *Header) parse(text []byte) error {
	// Versions 1 and 2 are latin-1, 3 is UTF-8; every header numpy writes for
	// a numeric dtype is ASCII, and no other byte is meaningful here.
	for i, c := range text {
		if c >= 0x80 || (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
			return fmt.Errorf("%w: header: byte %#x at %d is not printable ASCII", ErrFormat, c, i)
		}
	}
	d, err := parseDict(string(text))
	if err != nil {
		return err
	}
	for _, key := range [...]string{"descr", "fortran_order", "shape"} {
		if _, ok := d[key]; !ok {
			return fmt.Errorf("%w: header: no %q key", ErrFormat, key)
		}
	}
	if len(d) != 3 {
		for key := range d {
			if key != "descr" && key != "fortran_order" && key != "shape" {
				return fmt.Errorf("%w: header: unexpected key %q", ErrFormat, key)
			}
		}
	}
	fortran, ok := d["fortran_order"].(bool)
	if !ok {
		return fmt.Errorf("%w: header: fortran_order is %s, not True or False", ErrFormat, describe(d["fortran_order"]))
	}
	h.FortranOrder = fortran
	if err := h.parseShape(d["shape"]); err != nil {
		return err
	}
	switch descr := d["descr"].(type) {
	case string:
		h.Descr = descr
	case list:
		return fmt.Errorf("%w: a structured dtype (descr is a list)", ErrUnsupported)
	default:
		return fmt.Errorf("%w: header: descr is %s, not a string", ErrFormat, describe(descr))
	}
	if h.DType, err = parseDescr(h.Descr); err != nil {
		return err
	}
	if h.FortranOrder && len(h.Shape) > 1 {
		return fmt.Errorf("%w: Fortran (column-major) order; save the array in C order, e.g. np.save(f, np.ascontiguousarray(a))", ErrUnsupported)
	}
	return h.checkSize()
}

func (h *Header) parseShape(v any) error {
	dims, ok := v.(tuple)
	if !ok {
		return fmt.Errorf("%w: header: shape is %s, not a tuple", ErrFormat, describe(v))
	}
	if len(dims) > MaxRank {
		return fmt.Errorf("%w: header: the shape has %d dimensions, more than %d (MaxRank)", ErrFormat, len(dims), MaxRank)
	}
	h.Shape = make([]int64, len(dims))
	for i, d := range dims {
		n, ok := d.(int64)
		if !ok {
			return fmt.Errorf("%w: header: dimension %d of the shape is %s, not an integer", ErrFormat, i, describe(d))
		}
		if n < 0 {
			return fmt.Errorf("%w: header: dimension %d of the shape is negative (%d)", ErrFormat, i, n)
		}
		h.Shape[i] = n
	}
	return nil
}

// checkSize checks that a row (an index of the first dimension), counting
// its non-zero dimensions, spans less than 2^63 bytes, and that the data
// ends before byte 2^63 of the file. A row of no bytes is valid whatever
// its other dimensions and the batch size: (2^62, 3, 0) is 2^62 vectors of
// 3 components of no features. (numpy refuses that one, as it refuses any
// shape whose non-zero dimensions multiply past 2^63 elements; the rows
// of the arrays it does load are within the rule.)
func (h *Header) checkSize() error {
	rowBytes, batch := int64(h.DType.Size()), int64(1)
	if len(h.Shape) > 0 {
		var ok bool
		if rowBytes, ok = spanBytes(h.DType.Size(), h.Shape[1:]); !ok {
			return fmt.Errorf("%w: the rows of the shape %s of %s elements are more than 2^63 bytes, counting their non-zero dimensions", ErrFormat, h.ShapeString(), h.Descr)
		}
		batch = h.Shape[0]
	}
	hi, data := bits.Mul64(uint64(batch), uint64(rowBytes))
	if hi != 0 || data > math.MaxInt64-uint64(h.DataOffset) {
		return fmt.Errorf("%w: the shape %s of %s elements is more than 2^63 bytes", ErrFormat, h.ShapeString(), h.Descr)
	}
	return nil
}

// spanBytes returns the bytes of an array of dims of size-byte elements, 0
// if a dimension is 0. It reports false when the product of size and the
// non-zero dimensions does not fit in an int64, even if a zero dimension
// makes the array empty.
func spanBytes(size int, dims []int64) (int64, bool) {
	product, empty := uint64(size), false
	for _, d := range dims {
		if d == 0 {
			empty = true
			continue
		}
		hi, lo := bits.Mul64(product, uint64(d))
		if d < 0 || hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		product = lo
	}
	if empty {
		return 0, true
	}
	return int64(product), true
}

// describe names a literal's type in an error message.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case int64:
		return fmt.Sprintf("the integer %d", v)
	case bool:
		if v {
			return "True"
		}
		return "False"
	case tuple:
		return "a tuple"
	case list:
		return "a list"
	case map[string]any:
		return "a dict"
	}
	return fmt.Sprintf("%T", v)
}
