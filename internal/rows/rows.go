// Package rows reads the rows of a row-major array stored little-endian —
// a row is one index of its first dimension, the product of the others
// elements — in whole rows, in the machine's byte order: the one row reader
// of .npy files (internal/npy) and safetensors tensors
// (internal/safetensors), and the byte views their callers count.
//
// A Reader reads a stream in order. It never sizes anything by what a
// header claims before the stream's bytes bear it out: ReadRow grows its
// buffer as a row's bytes arrive, and rows of no bytes, however many, come
// in one call. What a format says when the stream is short or goes on is
// the format's: a Reader asks its Errors.
package rows

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// HostBigEndian is true on the machines whose byte order is not the
// files'.
var HostBigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// ToHost converts the little-endian elements of size bytes in p to the
// machine's byte order, in place: nothing to do on a little-endian machine.
func ToHost(p []byte, size int) {
	if HostBigEndian {
		swap(p, size)
	}
}

// swap reverses the bytes of each size-byte element of p.
func swap(p []byte, size int) {
	for i := 0; i+size <= len(p); i += size {
		e := p[i : i+size]
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			e[a], e[b] = e[b], e[a]
		}
	}
}

// Bytes reinterprets words as bytes: a buffer of words is aligned for every
// element type.
func Bytes(words []uint64) []byte {
	if len(words) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))
}

// As reinterprets the bytes of whole elements of type T, aligned for T, as
// elements; the bytes after the last whole element are left out.
func As[T any](b []byte) []T {
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// Grow returns words, or a new buffer when it is shorter, of at least n
// bytes.
func Grow(words []uint64, n int64) []uint64 {
	if need := int((n + 7) / 8); len(words) < need {
		return make([]uint64, need)
	}
	return words
}

// Errors are a format's words for what goes wrong in a stream of rows.
type Errors struct {
	// Short is the error of a stream that ends, or fails with err, read
	// bytes into the rows (err is io.EOF or io.ErrUnexpectedEOF when it
	// ends).
	Short func(read int64, err error) error
	// TooLarge is the error of a row too large for this machine's ints.
	TooLarge func(rowBytes int64) error
	// End is called once, after the last row: io.EOF when the stream
	// ends where the format says, else the error that says how it does
	// not.
	End func() error
}

// A Reader reads whole rows from a stream.
type Reader struct {
	r        io.Reader
	rowBytes int64
	elemSize int
	left     int64 // rows not read
	read     int64 // bytes of rows read
	errs     Errors
	ended    bool // End ran, and endErr is its verdict
	endErr   error
}

// NewReader returns a Reader of rows rows of rowBytes bytes each from r,
// their elements of elemSize bytes, little-endian.
func NewReader(r io.Reader, rows, rowBytes int64, elemSize int, errs Errors) *Reader {
	return &Reader{r: r, rowBytes: rowBytes, elemSize: elemSize, left: rows, errs: errs}
}

// RowBytes returns the size of a row in bytes.
func (rd *Reader) RowBytes() int64 { return rd.rowBytes }

// RowsLeft returns the number of rows not read yet.
func (rd *Reader) RowsLeft() int64 { return rd.left }

// ReadRows reads as many whole rows as fit in p, at most the rows left,
// and returns how many, their elements in the machine's byte order. When
// rows have no bytes, all the rows left come in one call, however many, so
// that the calls a stream takes grow with its bytes, never with a batch size
// its header claims. After the last row it returns 0 and the verdict of
// Errors.End (io.EOF). A p shorter than a row is an error.
func (rd *Reader) ReadRows(p []byte) (int64, error) {
	if rd.left == 0 {
		return 0, rd.end()
	}
	rows := rd.left
	if rd.rowBytes > 0 {
		rows = min(rows, int64(len(p))/rd.rowBytes)
	}
	if rows == 0 {
		return 0, fmt.Errorf("rows: ReadRows given %d bytes, less than a row of %d", len(p), rd.rowBytes)
	}
	n := rows * rd.rowBytes
	if err := rd.readFull(p[:n]); err != nil {
		return 0, err
	}
	ToHost(p[:n], rd.elemSize)
	rd.left -= rows
	return rows, nil
}

// ReadRow reads the next row into buf, reinterpreted as bytes, and returns
// buf. When buf is shorter than a row it grows, doubling, as the row's
// bytes arrive, so that a header claiming enormous rows costs no more
// memory than the stream holds. It is meant for the first row of a stream
// of unknown size; ReadRows serves the rest. After the last row it returns
// the verdict of Errors.End, as ReadRows does.
func (rd *Reader) ReadRow(buf []uint64) ([]uint64, error) {
	if rd.left == 0 {
		return buf, rd.end()
	}
	if rd.rowBytes > math.MaxInt-7 {
		return buf, rd.errs.TooLarge(rd.rowBytes)
	}
	have := int64(0) // bytes of the row in buf
	for {
		end := min(int64(len(buf))*8, rd.rowBytes)
		if err := rd.readFull(Bytes(buf)[have:end]); err != nil {
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
	ToHost(Bytes(buf)[:rd.rowBytes], rd.elemSize)
	rd.left--
	return buf, nil
}

// readFull reads len(p) bytes of rows; an early end is Errors.Short's.
func (rd *Reader) readFull(p []byte) error {
	got, err := io.ReadFull(rd.r, p)
	rd.read += int64(got)
	if err != nil {
		return rd.errs.Short(rd.read, err)
	}
	return nil
}

// end returns Errors.End's verdict, asked once.
func (rd *Reader) end() error {
	if !rd.ended {
		rd.ended, rd.endErr = true, rd.errs.End()
	}
	return rd.endErr
}

// EndsHere returns io.EOF if r holds no more bytes, trailing if it does,
// and r's error if reading it fails: the end check of a stream that must end
// with its data.
func EndsHere(r io.Reader, trailing func() error) error {
	var b [1]byte
	n, err := io.ReadAtLeast(r, b[:], 1)
	switch {
	case n > 0:
		return trailing()
	case errors.Is(err, io.EOF):
		return io.EOF
	}
	return err
}
