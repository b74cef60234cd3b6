package npy

import (
	"fmt"
	"io"
	"math"

	"github.com/sparsekit/l0/internal/rows"
)

// Reader streams the data of a .npy file in whole rows: a row is one index
// of the first dimension, the product of the others elements. Its
// ReadRows, ReadRow, RowsLeft and RowBytes are those of the one row reader
// of l0's formats, rows.Reader.
type Reader struct {
	Header
	*rows.Reader
}

// Open reads the header from r and checks it describes a file Reader can
// stream: rank at least 1 (a row needs a first dimension), C order. size
// is the number of bytes r holds from the magic on, or -1 when it is not
// known (a pipe); when it is known, a file too short or too long for its
// header is an error now, before anything is allocated from the shape.
func Open(r io.Reader, size int64) (*Reader, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	if len(h.Shape) == 0 {
		return nil, fmt.Errorf("%w: a scalar (shape ())", ErrUnsupported)
	}
	rowBytes, ok := spanBytes(h.DType.Size(), h.Shape[1:])
	if !ok { // ReadHeader checked a larger product
		return nil, fmt.Errorf("%w: the rows of the shape %s of %s are more than 2^63 bytes", ErrFormat, h.ShapeString(), h.Descr)
	}
	if size >= 0 {
		switch have, want := size-h.DataOffset, h.DataBytes(); {
		case have < want:
			return nil, fmt.Errorf("%w: the shape %s of %s needs %d bytes of data, the file has %d", ErrTruncated, h.ShapeString(), h.Descr, want, have)
		case have > want:
			return nil, fmt.Errorf("%w: %d bytes follow the %d bytes of data the shape %s of %s needs", ErrTrailing, have-want, want, h.ShapeString(), h.Descr)
		}
	}
	// Rows are counted in ints (ReadRows returns them all at once when
	// they hold no bytes), and a caller sizes slices by the dimensions.
	for _, d := range h.Shape {
		if int64(int(d)) != d {
			return nil, fmt.Errorf("%w: the shape %s is too large for this machine (a dimension above %d)", ErrUnsupported, h.ShapeString(), math.MaxInt)
		}
	}
	return &Reader{Header: h, Reader: rows.NewReader(r, h.Shape[0], rowBytes, h.DType.Size(), h.rowErrors(r, size >= 0))}, nil
}

// rowErrors says, in this format's words, that a file ends early, or goes
// on after its data when its size was not known (and checked by Open).
func (h Header) rowErrors(r io.Reader, sized bool) rows.Errors {
	return rows.Errors{
		Short: func(read int64, err error) error {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return fmt.Errorf("%w: the file ends %d bytes into the %d bytes of data of the shape %s of %s",
					ErrTruncated, read, h.DataBytes(), h.ShapeString(), h.Descr)
			}
			return err
		},
		TooLarge: func(rowBytes int64) error {
			return fmt.Errorf("%w: a row of %d bytes is too large for this machine", ErrUnsupported, rowBytes)
		},
		End: func() error {
			if sized {
				return io.EOF
			}
			return rows.EndsHere(r, func() error {
				return fmt.Errorf("%w: the file goes on after the %d bytes of data of the shape %s of %s", ErrTrailing, h.DataBytes(), h.ShapeString(), h.Descr)
			})
		},
	}
}
