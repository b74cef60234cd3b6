// Package safetensors reads and writes Hugging Face safetensors files,
// strictly, streaming their tensors in whole rows without ever allocating
// from what the header claims.
//
// # The format
//
// A file (https://github.com/huggingface/safetensors) is 8 bytes holding a
// little-endian uint64 N, then N bytes of UTF-8 JSON, the header: an object
// whose keys are tensor names, each
//
//	{"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}
//
// with the offsets relative to the first byte after the header, and an
// optional "__metadata__" object of string values; then the data buffer,
// each tensor row-major and little-endian.
//
// # Reading
//
// ReadHeader(r, size) reads and validates the header, leaving r at the
// first byte of the data buffer; size is the file's size, or -1 for a
// stream of unknown size. The Header's Tensors (Name, DType, Shape, and
// Begin and End in the data buffer, which starts at DataOffset) are in the
// order of their data; Lookup and Tensor find one by name; Metadata holds
// "__metadata__". A Header is not modified after ReadHeader, and may be
// shared by goroutines.
//
// A Reader delivers one tensor's rows (a row is one index of the first
// dimension, RowBytes bytes), in the machine's byte order, from one of two
// sources:
//
//   - Header.NewReader(r, name): a sequential stream, r where ReadHeader left
//     it. The bytes before the tensor are discarded; when the size was -1,
//     those after it are too, after its last row, and the stream must end
//     exactly there. The work is proportional to the bytes the stream holds.
//   - Header.NewRangeReader(ra, name, from, to): the rows [from, to) of a file
//     of known size, read at offsets from an io.ReaderAt, so that several
//     goroutines can each read a range of one large tensor.
//
// ReadRows(p) reads as many whole rows as fit in p and returns how many, as
// an int64: rows of no bytes (a shape such as [2^62, 0]) all come in one
// call. ReadRow(buf) reads one row into a buffer that grows as the row's
// bytes arrive, for the first row of a stream whose header is not yet
// proven by its bytes. RowsLeft and FirstRow say where a Reader is. Data
// need not be aligned in the file.
//
// Rows are read for the dtypes F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16
// U8 BOOL. The other dtypes of the format (C64, the F8, F6 and F4 variants)
// are known by name and size, so a file holding them is validated like any
// other and its other tensors are read; asking for their rows is an
// ErrUnsupported error that names the dtype, as is asking for the rows of
// a rank-0 tensor.
//
// # What the reader rejects
//
// Every error wraps one of the package's sentinel errors (ErrFormat unless
// another is named here) and names the rule that failed. ReadHeader
// rejects:
//
//   - a header length N above MaxHeaderBytes (ErrFormat) or past the end of
//     the file (ErrTruncated); the header is then read into memory that
//     grows with the bytes actually present, never N bytes up front;
//   - a header that is not valid UTF-8, holds an escaped lone surrogate,
//     does not start with '{' (the format's rule; the reference reader also
//     takes leading white space, this one does not), is not valid JSON, or has
//     anything but JSON white space after the object (writers pad with
//     spaces);
//   - a key that appears twice anywhere: a tensor name, "__metadata__", a
//     key of an entry or of the metadata (encoding/json would silently keep
//     the last);
//   - a "__metadata__" that is not an object of string values (null
//     included);
//   - a tensor entry that is not an object of exactly the keys dtype, shape
//     and data_offsets (the reference reader ignores unknown keys, and its
//     writer writes none; a key this reader does not understand may change
//     what the bytes mean, so it is an error here);
//   - an unknown dtype;
//   - a shape of more than MaxRank (64) dimensions, as soon as the parser
//     reaches the 65th;
//   - a shape that is not a list of non-negative integers below 2^63, or
//     whose rows (the dimensions after the first, zeros aside, times the
//     element size) or whole are 2^63 bytes or more: so [2^62, 0] and
//     [2^62, 3, 0] are valid (rows of no bytes), and [0, 2^62, 2^62] is
//     not, where the reference takes the product from the left and accepts
//     it;
//   - data_offsets that are not two non-negative integers below 2^63, with
//     begin after end, or holding other than the bytes the shape and dtype
//     need (sub-byte dtypes must fill whole bytes);
//   - offsets that, sorted, do not tile the data buffer from 0 with no hole
//     and no overlap;
//   - when the file's size is known, data that does not end exactly at the
//     end of the file (ErrTruncated, ErrTrailing); for a stream, a Reader
//     checks this when it reaches the end.
//
// Rank-0 tensors (shape []), empty tensors and files of no tensors are
// valid.
//
// # Writing
//
// Write(w, tensors, metadata) lays a file out exactly as the reference
// writer does: the header JSON without spaces, __metadata__ first, tensors
// sorted by dtype (descending, in the order of the DType constants) then by
// name, the header padded with spaces to a multiple of 8 bytes, and the
// data in the same order. With Float32Tensor it writes SAELens'
// sparsity.safetensors.
package safetensors

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// The errors of this package wrap one of these, with the details.
var (
	// ErrFormat: the file is not a well-formed safetensors file.
	ErrFormat = errors.New("malformed safetensors file")
	// ErrUnsupported: a well-formed tensor this package does not read: a
	// dtype such as F8_E4M3 or C64, or a scalar.
	ErrUnsupported = errors.New("unsupported tensor")
	// ErrTruncated: the file ends before the data its header describes.
	ErrTruncated = errors.New("truncated data")
	// ErrTrailing: bytes follow the data buffer the header describes, so
	// the header does not describe the file.
	ErrTrailing = errors.New("bytes after the tensor data")
	// ErrNotFound: the file holds no tensor of the name asked for.
	ErrNotFound = errors.New("no such tensor")
)

// MaxHeaderBytes bounds the header length this package reads: the
// reference implementation's own limit (its MAX_HEADER_SIZE), far above the
// few hundred kilobytes the header of a checkpoint of thousands of tensors
// takes. The writer refuses to write a longer header.
const MaxHeaderBytes = 100_000_000

// MaxRank bounds the dimensions of a tensor's shape: numpy's own bound
// (NPY_MAXDIMS, 64 since numpy 2.0, 32 before it), far past any tensor a
// model holds. A longer shape is an error as soon as the parser reaches its
// 65th dimension, before it is held: a header of 10^7 dimensions cost half
// a gigabyte to hold, and as much again to print in an error.
const MaxRank = 64

// maxShownDims bounds the dimensions a shape shows in a message: a longer
// shape shows its first maxShownDims and says how many it has.
const maxShownDims = 16

// lengthBytes is the size of the header length field.
const lengthBytes = 8

// Tensor is one tensor's entry in the header.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64 // empty, not nil, for a rank-0 tensor
	// Begin and End are the data_offsets: the tensor's bytes are [Begin,
	// End) of the data buffer, which starts at Header.DataOffset.
	Begin, End int64
}

// Elements returns the number of elements: the product of the shape, 1 for
// a rank-0 tensor. ReadHeader checks that it fits in an int64.
func (t Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		if d == 0 {
			return 0 // before a product of the others could wrap
		}
		n *= d
	}
	return n
}

// Bytes returns the size of the tensor's data in bytes.
func (t Tensor) Bytes() int64 { return t.End - t.Begin }

// ShapeString returns the shape as the header spells it: [2, 3], []. A
// shape of more than 16 dimensions (a file's header may hold up to
// MaxRank) shows its first 16 and their number: [1, 1, ..., 1, ...] (64
// dimensions), so that no message grows with a hostile shape.
func (t Tensor) ShapeString() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range t.Shape[:min(len(t.Shape), maxShownDims)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	if len(t.Shape) > maxShownDims {
		fmt.Fprintf(&b, ", ...] (%d dimensions)", len(t.Shape))
		return b.String()
	}
	b.WriteByte(']')
	return b.String()
}

// String describes the tensor as a listing of a file's tensors would: its
// name (quoted, and cut after 64 bytes: a name may be megabytes), dtype and
// shape.
func (t Tensor) String() string {
	return fmt.Sprintf("%s %s %s", quote(t.Name), t.DType, t.ShapeString())
}

// Header is what a safetensors file's header says.
type Header struct {
	// Tensors are in the order of their data: by Begin, then End (empty
	// tensors first), then in the order of the header.
	Tensors []Tensor
	// Metadata is the __metadata__ object, nil when the header has none.
	Metadata map[string]string
	// HeaderBytes is N, the length of the header text, padding included.
	HeaderBytes int64
	// DataBytes is the size of the data buffer: the End of the last tensor.
	DataBytes int64

	size  int64 // the file's size as given to ReadHeader, -1 if unknown
	index map[string]int
}

// DataOffset returns the position of the data buffer in the file.
func (h *Header) DataOffset() int64 { return lengthBytes + h.HeaderBytes }

// Lookup returns the tensor of the given name.
func (h *Header) Lookup(name string) (Tensor, bool) {
	i, ok := h.index[name]
	if !ok {
		return Tensor{}, false
	}
	return h.Tensors[i], true
}

// Tensor returns the tensor of the given name, or an ErrNotFound error.
func (h *Header) Tensor(name string) (Tensor, error) {
	t, ok := h.Lookup(name)
	if !ok {
		return t, fmt.Errorf("%w: the file holds no tensor %s (it holds %d)", ErrNotFound, quote(name), len(h.Tensors))
	}
	return t, nil
}

// ReadHeader reads the header of a safetensors file from r and validates
// it, leaving r at the first byte of the data buffer. size is the number of
// bytes r holds from the start of the file, or -1 when it is not known (a
// pipe). When it is known, a header length past it is an error before
// anything is allocated, and a file whose data buffer does not end exactly
// at size is an error now; when it is not, the header is read into a buffer
// that grows as its bytes arrive, and a Reader checks the end of the data.
func ReadHeader(r io.Reader, size int64) (*Header, error) {
	var length [lengthBytes]byte
	if n, err := io.ReadFull(r, length[:]); err != nil {
		return nil, truncated(err, "the file ends in the header length (%d of %d bytes)", n, lengthBytes)
	}
	n := binary.LittleEndian.Uint64(length[:])
	if n > MaxHeaderBytes {
		return nil, fmt.Errorf("%w: a header of %d bytes (this reader takes at most %d)", ErrFormat, n, MaxHeaderBytes)
	}
	h := &Header{HeaderBytes: int64(n), size: size}
	if size >= 0 && h.HeaderBytes > size-lengthBytes {
		return nil, fmt.Errorf("%w: the header length %d is past the end of the file (%d bytes follow it)", ErrTruncated, n, max(size-lengthBytes, 0))
	}
	text, err := readText(r, h.HeaderBytes, size >= 0)
	if err != nil {
		return nil, err
	}
	if h.Tensors, h.Metadata, err = parseHeader(text); err != nil {
		return nil, err
	}
	if err := h.layout(); err != nil {
		return nil, err
	}
	return h, nil
}

// readText reads the n bytes of the header. When the file's size was not
// known, n is only a claim: the buffer then grows with the bytes read.
func readText(r io.Reader, n int64, sized bool) ([]byte, error) {
	if sized {
		text := make([]byte, n)
		got, err := io.ReadFull(r, text)
		if err != nil {
			return nil, truncated(err, "the file ends in the header (%d of %d bytes)", got, n)
		}
		return text, nil
	}
	text, err := io.ReadAll(io.LimitReader(r, n))
	if err != nil {
		return nil, err
	}
	if int64(len(text)) < n {
		return nil, fmt.Errorf("%w: the file ends in the header (%d of %d bytes)", ErrTruncated, len(text), n)
	}
	return text, nil
}

// truncated calls an early end of the file ErrTruncated, and returns other
// errors as they are.
func truncated(err error, format string, args ...any) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: "+format, append([]any{ErrTruncated}, args...)...)
	}
	return err
}

// layout checks each tensor's size against its offsets, sorts the tensors
// by offset, checks they tile the data buffer, and, when the file's size
// is known, that the buffer ends with the file.
func (h *Header) layout() error {
	h.index = make(map[string]int, len(h.Tensors))
	for i, t := range h.Tensors {
		if _, dup := h.index[t.Name]; dup {
			return fmt.Errorf("%w: the key %s appears twice in the header", ErrFormat, quote(t.Name))
		}
		h.index[t.Name] = i
	}
	for i := range h.Tensors {
		if err := h.Tensors[i].checkSize(); err != nil {
			return err
		}
	}
	slices.SortStableFunc(h.Tensors, func(a, b Tensor) int {
		return cmp.Or(cmp.Compare(a.Begin, b.Begin), cmp.Compare(a.End, b.End))
	})
	end := int64(0)
	for i, t := range h.Tensors {
		switch {
		case t.Begin > end && i == 0:
			return fmt.Errorf("%w: the data buffer has a hole: its first tensor, %s, begins at %d, not 0", ErrFormat, quote(t.Name), t.Begin)
		case t.Begin > end:
			return fmt.Errorf("%w: the data buffer has a hole: bytes [%d, %d) belong to no tensor (%s ends at %d, %s begins at %d)",
				ErrFormat, end, t.Begin, quote(h.Tensors[i-1].Name), end, quote(t.Name), t.Begin)
		case t.Begin < end:
			return fmt.Errorf("%w: tensors overlap: %s (data_offsets [%d, %d]) begins before %s ends at %d",
				ErrFormat, quote(t.Name), t.Begin, t.End, quote(h.Tensors[i-1].Name), end)
		}
		end = t.End
	}
	h.DataBytes = end
	if end > math.MaxInt64-h.DataOffset() {
		return fmt.Errorf("%w: a data buffer of %d bytes after a header of %d makes a file of 2^63 bytes or more", ErrFormat, end, h.HeaderBytes)
	}
	for i, t := range h.Tensors {
		h.index[t.Name] = i // in the sorted order
	}
	if h.size < 0 {
		return nil
	}
	switch have := h.size - h.DataOffset(); {
	case have < h.DataBytes:
		return fmt.Errorf("%w: the header describes %d bytes of data, the file holds %d", ErrTruncated, h.DataBytes, have)
	case have > h.DataBytes:
		return fmt.Errorf("%w: %d bytes follow the %d bytes of data the header describes", ErrTrailing, have-h.DataBytes, h.DataBytes)
	}
	return nil
}

// checkSize checks that the tensor's size in bytes fits in an int64, and
// is End - Begin.
func (t *Tensor) checkSize() error {
	size, err := t.size()
	if err != nil {
		return err
	}
	switch {
	case t.Begin > t.End:
		return fmt.Errorf("%w: tensor %s: data_offsets [%d, %d] begin after they end", ErrFormat, quote(t.Name), t.Begin, t.End)
	case t.End-t.Begin != size:
		return fmt.Errorf("%w: tensor %s: data_offsets [%d, %d] hold %d bytes, the shape %s of %s needs %d",
			ErrFormat, quote(t.Name), t.Begin, t.End, t.End-t.Begin, t.shapeText(), t.DType, size)
	}
	return nil
}

// size returns the size in bytes the shape and dtype need, or an error
// when a row (the dimensions after the first, zeros aside, times the
// element size) or the whole tensor is 2^63 bytes or more, or when the
// elements of a sub-byte dtype do not fill whole bytes. Bounding a row with
// its zeros aside bounds every partial product the Reader computes, while
// 2^62 empty rows, [1<<62, 0], stay valid.
func (t *Tensor) size() (int64, error) {
	mul := func(a, b uint64) (uint64, bool) {
		hi, lo := bits.Mul64(a, b)
		return lo, hi == 0 && lo <= math.MaxInt64
	}
	// Sizes are in bytes, or in bits for the sub-byte dtypes.
	unit, subByte := uint64(t.DType.Bits()/8), t.DType.Bits()%8 != 0
	if subByte {
		unit = uint64(t.DType.Bits())
	}
	rows, rest := uint64(1), t.Shape
	if len(t.Shape) > 0 {
		rows, rest = uint64(t.Shape[0]), t.Shape[1:]
	}
	row, empty, ok := unit, false, true
	for _, d := range rest {
		if d == 0 {
			empty = true
			continue
		}
		if row, ok = mul(row, uint64(d)); !ok {
			return 0, fmt.Errorf("%w: tensor %s: the rows of the shape %s of %s are 2^63 bytes or more", ErrFormat, quote(t.Name), t.shapeText(), t.DType)
		}
	}
	if empty {
		row = 0
	}
	size, ok := mul(rows, row)
	if !ok {
		return 0, fmt.Errorf("%w: tensor %s: the shape %s of %s is 2^63 bytes or more", ErrFormat, quote(t.Name), t.shapeText(), t.DType)
	}
	if subByte {
		if size%8 != 0 {
			return 0, fmt.Errorf("%w: tensor %s: the %d elements of %s (%d bits each) do not fill whole bytes", ErrFormat, quote(t.Name), t.Elements(), t.DType, unit)
		}
		size /= 8
	}
	return int64(size), nil
}

// shapeText is the shape in an error message: at most 16 dimensions.
func (t *Tensor) shapeText() string { return t.ShapeString() }
