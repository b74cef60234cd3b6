package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// Reader streams the data of a .npy file in whole rows: a row is one index
// of the first dimension, the product of the others elements.
type Reader struct {
	Header
	r        io.Reader
	rowBytes int64
	rowsLeft int64
	dataLeft int64 // bytes of data not read yet
	sized    bool  // the file's size was known and checked by Open
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
	rd := &Reader{Header: h, r: r, rowsLeft: h.Shape[0], dataLeft: h.DataBytes()}
	rowBytes, ok := spanBytes(h.DType.Size(), h.Shape[1:])
	if !ok { // ReadHeader checked a larger product
		return nil, fmt.Errorf("%w: the rows of the shape %s of %s are more than 2^63 bytes", ErrFormat, h.ShapeString(), h.Descr)
	}
	rd.rowBytes = rowBytes
	if size >= 0 {
		rd.sized = true
		switch have := size - h.DataOffset; {
		case have < rd.dataLeft:
			return nil, fmt.Errorf("%w: the shape %s of %s needs %d bytes of data, the file has %d", ErrTruncated, h.ShapeString(), h.Descr, rd.dataLeft, have)
		case have > rd.dataLeft:
			return nil, fmt.Errorf("%w: %d bytes follow the %d bytes of data the shape %s of %s needs", ErrTrailing, have-rd.dataLeft, rd.dataLeft, h.ShapeString(), h.Descr)
		}
	}
	// Rows are counted in ints (ReadRows returns them all at once when
	// they hold no bytes), and a caller sizes slices by the dimensions.
	for _, d := range h.Shape {
		if int64(int(d)) != d {
			return nil, fmt.Errorf("%w: the shape %s is too large for this machine (a dimension above %d)", ErrUnsupported, h.ShapeString(), math.MaxInt)
		}
	}
	return rd, nil
}

// RowBytes returns the size of a row in bytes.
func (rd *Reader) RowBytes() int64 { return rd.rowBytes }

// RowsLeft returns the number of rows not read yet.
func (rd *Reader) RowsLeft() int64 { return rd.rowsLeft }

// ReadRows reads as many whole rows as fit in p, at most the rows left, and
// returns how many. Their elements are in the machine's byte order. After
// the last row it returns 0, io.EOF; when the file's size was not known it
// checks then that nothing follows the data (ErrTrailing). A file that ends
// early is an ErrTruncated error. A p shorter than a row is an error, unless
// rows are empty: then all the rows left are returned at once, whatever p,
// so that the calls a file takes grow with its bytes, never with a batch
// size its header claims.
func (rd *Reader) ReadRows(p []byte) (int, error) {
	if rd.rowsLeft == 0 {
		return 0, rd.checkEnd()
	}
	rows := rd.rowsLeft // an int: Open checked every dimension is one
	if rd.rowBytes > 0 {
		rows = min(rows, int64(len(p))/rd.rowBytes)
	}
	if rows == 0 {
		return 0, fmt.Errorf("npy: ReadRows given %d bytes, less than a row of %d", len(p), rd.rowBytes)
	}
	n := rows * rd.rowBytes
	if err := rd.read(p[:n]); err != nil {
		return 0, err
	}
	if hostBigEndian {
		swapBytes(p[:n], rd.DType.Size())
	}
	rd.rowsLeft -= rows
	return int(rows), nil
}

// ReadRow reads the next row into buf, reinterpreted as bytes, and returns
// buf. When buf is shorter than a row it grows, doubling, as the row's
// bytes arrive, so that a header claiming enormous rows costs no more
// memory than the input actually holds. It is meant for inputs of unknown
// size; ReadRows serves the rest (and takes rows of no bytes all at once).
// After the last row it returns io.EOF.
func (rd *Reader) ReadRow(buf []uint64) ([]uint64, error) {
	if rd.rowsLeft == 0 {
		return buf, rd.checkEnd()
	}
	if rd.rowBytes > math.MaxInt-7 {
		return buf, fmt.Errorf("%w: a row of %d bytes is too large for this machine", ErrUnsupported, rd.rowBytes)
	}
	have := int64(0) // bytes of the row in buf
	for {
		end := min(int64(len(buf))*8, rd.rowBytes)
		if err := rd.read(asBytes(buf)[have:end]); err != nil {
			return buf, err
		}
		have = end
		if have == rd.rowBytes {
			break
		}
		grown := make([]uint64, min(max(1<<12, 2*len(buf)), int((rd.rowBytes+7)/8)))
		copy(grown, buf)
		buf = grown
	}
	if hostBigEndian {
		swapBytes(asBytes(buf)[:rd.rowBytes], rd.DType.Size())
	}
	rd.rowsLeft--
	return buf, nil
}

// read reads len(p) bytes of data, calling an early end ErrTruncated.
func (rd *Reader) read(p []byte) error {
	got, err := io.ReadFull(rd.r, p)
	rd.dataLeft -= int64(got)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		total := rd.Header.DataBytes()
		return fmt.Errorf("%w: the file ends %d bytes into the %d bytes of data of the shape %s of %s",
			ErrTruncated, total-rd.dataLeft, total, rd.ShapeString(), rd.Descr)
	}
	return err
}

// asBytes reinterprets words as bytes.
func asBytes(words []uint64) []byte {
	if len(words) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))
}

// checkEnd returns io.EOF if nothing follows the data, ErrTrailing if
// something does.
func (rd *Reader) checkEnd() error {
	if rd.sized {
		return io.EOF
	}
	var b [1]byte
	n, err := io.ReadAtLeast(rd.r, b[:], 1)
	switch {
	case n > 0:
		return fmt.Errorf("%w: the file goes on after the %d bytes of data of the shape %s of %s", ErrTrailing, rd.Header.DataBytes(), rd.ShapeString(), rd.Descr)
	case errors.Is(err, io.EOF):
		return io.EOF
	}
	return err
}

// hostBigEndian is true on the machines whose byte order is not the
// files'.
var hostBigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// swapBytes reverses the bytes of each size-byte element of p.
func swapBytes(p []byte, size int) {
	for i := 0; i+size <= len(p); i += size {
		e := p[i : i+size]
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			e[a], e[b] = e[b], e[a]
		}
	}
}
