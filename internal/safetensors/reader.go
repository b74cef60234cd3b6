package safetensors

import (
	"errors"
	"fmt"
	"io"

	"github.com/sparsekit/l0/internal/rows"
)

// Reader delivers the rows of one tensor, or of a range of its rows: a row
// is one index of the first dimension, the product of the others elements,
// in the machine's byte order. Its ReadRows, ReadRow, RowsLeft and RowBytes
// are those of the one row reader of l0's formats, rows.Reader, once the
// bytes before the tensor are skipped.
type Reader struct {
	Tensor
	rows  *rows.Reader
	r     io.Reader
	first int64 // the index of the first row this Reader delivers
	skip  int64 // bytes to discard before the first row (streams)
}

// NewReader returns a Reader of every row of the named tensor from r, a
// stream that ReadHeader has left at the first byte of the data buffer.
// The bytes before the tensor are discarded as the first row is read; when
// the size given to ReadHeader was -1, the bytes after it are discarded
// after the last row, and the stream must end exactly at the end of the
// data buffer (else ErrTruncated or ErrTrailing). The work done is
// proportional to the bytes the stream holds, whatever the header claims.
//
// One Reader per stream: it counts its offsets from where ReadHeader left
// the stream, so a second would read the wrong bytes. Reading several
// tensors of one file takes NewRangeReader.
func (h *Header) NewReader(r io.Reader, name string) (*Reader, error) {
	t, rowBytes, err := h.rowsOf(name)
	if err != nil {
		return nil, err
	}
	rd := &Reader{Tensor: t, r: r, skip: t.Begin}
	tail, checkEnd := h.DataBytes-t.End, h.size < 0
	rd.rows = rows.NewReader(r, t.Shape[0], rowBytes, t.DType.Size(), rd.rowErrors(rowBytes, t.Bytes(), func() error {
		if !checkEnd {
			return io.EOF
		}
		if n, err := io.CopyN(io.Discard, r, tail); err != nil {
			return truncated(err, "the file ends %d bytes before the end of the data buffer, %d bytes after tensor %s", tail-n, tail, quote(t.Name))
		}
		return rows.EndsHere(r, func() error {
			return fmt.Errorf("%w: the file goes on after the data buffer the header describes", ErrTrailing)
		})
	}))
	return rd, nil
}

// NewRangeReader returns a Reader of the rows [from, to) of the named
// tensor, read at offsets from ra. The Header must come from ReadHeader
// with the file's size. Readers of one file may read at once from
// different goroutines, when ra allows it (an *os.File does): so several
// workers read one large tensor, each its own range.
func (h *Header) NewRangeReader(ra io.ReaderAt, name string, from, to int64) (*Reader, error) {
	if h.size < 0 {
		return nil, errors.New("safetensors: NewRangeReader needs a Header read with the file's size")
	}
	t, rowBytes, err := h.rowsOf(name)
	if err != nil {
		return nil, err
	}
	if from < 0 || from > to || to > t.Shape[0] {
		return nil, fmt.Errorf("safetensors: tensor %s: rows [%d, %d) are not a range of its %d rows", quote(name), from, to, t.Shape[0])
	}
	r := io.NewSectionReader(ra, h.DataOffset()+t.Begin+from*rowBytes, (to-from)*rowBytes)
	rd := &Reader{Tensor: t, r: r, first: from}
	rd.rows = rows.NewReader(r, to-from, rowBytes, t.DType.Size(), rd.rowErrors(rowBytes, (to-from)*rowBytes, func() error { return io.EOF }))
	return rd, nil
}

// rowsOf checks the named tensor can be read in rows, and returns it and
// the size of its rows.
func (h *Header) rowsOf(name string) (Tensor, int64, error) {
	t, err := h.Tensor(name)
	if err != nil {
		return t, 0, err
	}
	if !t.DType.Supported() {
		return t, 0, fmt.Errorf("%w: tensor %s: unsupported dtype %s (this reader reads %s)", ErrUnsupported, quote(name), t.DType, supportedNames)
	}
	if len(t.Shape) == 0 {
		return t, 0, fmt.Errorf("%w: tensor %s is a scalar (shape []), it has no rows", ErrUnsupported, quote(name))
	}
	// ReadHeader checked that the non-zero dimensions times the element
	// size fit in an int64, so no partial product overflows.
	rowBytes := int64(t.DType.Size())
	for _, d := range t.Shape[1:] {
		rowBytes *= d
	}
	return t, rowBytes, nil
}

// rowErrors says, in this format's words, that the total bytes of rows
// end early; end checks the end of the stream.
func (rd *Reader) rowErrors(rowBytes, total int64, end func() error) rows.Errors {
	return rows.Errors{
		Short: func(read int64, err error) error {
			return truncated(err, "tensor %s: the file ends %d bytes into the %d bytes of rows %d to %d",
				quote(rd.Name), read, total, rd.first, rd.first+total/max(rowBytes, 1))
		},
		TooLarge: func(rowBytes int64) error {
			return fmt.Errorf("%w: tensor %s: a row of %d bytes is too large for this machine", ErrUnsupported, quote(rd.Name), rowBytes)
		},
		End: end,
	}
}

// RowBytes returns the size of a row in bytes.
func (rd *Reader) RowBytes() int64 { return rd.rows.RowBytes() }

// RowsLeft returns the number of rows not read yet.
func (rd *Reader) RowsLeft() int64 { return rd.rows.RowsLeft() }

// FirstRow returns the index in the tensor of the first row the Reader
// delivers: 0, or the start of its range.
func (rd *Reader) FirstRow() int64 { return rd.first }

// ReadRows reads as many whole rows as fit in p, at most the rows left,
// and returns how many. Their elements are in the machine's byte order.
// When rows have no bytes (a dimension after the first is 0), all the rows
// left come in one call, however many, so that a header claiming 2^62 empty
// rows costs one call: the count is therefore an int64 (with rows of bytes
// it is at most len(p)/RowBytes()). After the last row it returns 0,
// io.EOF, having checked the end of a stream of unknown size (ErrTrailing,
// ErrTruncated). A stream that ends early is an ErrTruncated error. A p
// shorter than a row is an error.
func (rd *Reader) ReadRows(p []byte) (int64, error) {
	if err := rd.start(); err != nil {
		return 0, err
	}
	return rd.rows.ReadRows(p)
}

// ReadRow reads the next row into buf, reinterpreted as bytes (so that it
// is aligned for every element type), and returns buf. When buf is
// shorter than a row it grows, doubling, as the row's bytes arrive, so that
// a header claiming enormous rows costs no more memory than the input
// actually holds. It is meant for the first row of a stream of unknown
// size; ReadRows serves the rest. After the last row it returns io.EOF,
// as ReadRows does.
func (rd *Reader) ReadRow(buf []uint64) ([]uint64, error) {
	if err := rd.start(); err != nil {
		return buf, err
	}
	return rd.rows.ReadRow(buf)
}

// start discards the bytes of a stream before the tensor, once.
func (rd *Reader) start() error {
	if rd.skip == 0 {
		return nil
	}
	n, err := io.CopyN(io.Discard, rd.r, rd.skip)
	if err != nil {
		return truncated(err, "tensor %s: the file ends %d bytes into the data buffer, before the tensor, which begins at %d", quote(rd.Name), n, rd.Begin)
	}
	rd.skip = 0
	return nil
}
