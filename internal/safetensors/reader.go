package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// Reader delivers the rows of one tensor, or of a range of its rows: a row
// is one index of the first dimension, the product of the others elements,
// in the machine's byte order.
type Reader struct {
	Tensor
	r        io.Reader
	rowBytes int64
	rowsLeft int64
	first    int64 // the index of the first row this Reader delivers
	skip     int64 // bytes to discard before the first row (streams)
	tail     int64 // bytes of the data buffer after the rows (streams)
	checkEnd bool  // the stream's size was not known: check where it ends
	read     int64 // bytes of rows read
	total    int64 // bytes of rows this Reader delivers
	ended    bool  // finish ran, and endErr is its verdict
	endErr   error
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
	rd, err := h.newReader(name)
	if err != nil {
		return nil, err
	}
	rd.r, rd.rowsLeft, rd.total = r, rd.Shape[0], rd.Bytes()
	rd.skip, rd.tail, rd.checkEnd = rd.Begin, h.DataBytes-rd.End, h.size < 0
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
	rd, err := h.newReader(name)
	if err != nil {
		return nil, err
	}
	if from < 0 || from > to || to > rd.Shape[0] {
		return nil, fmt.Errorf("safetensors: tensor %s: rows [%d, %d) are not a range of its %d rows", quote(name), from, to, rd.Shape[0])
	}
	rd.first, rd.rowsLeft, rd.total = from, to-from, (to-from)*rd.rowBytes
	rd.r = io.NewSectionReader(ra, h.DataOffset()+rd.Begin+from*rd.rowBytes, rd.total)
	return rd, nil
}

// newReader checks the named tensor can be read in rows.
func (h *Header) newReader(name string) (*Reader, error) {
	t, err := h.Tensor(name)
	if err != nil {
		return nil, err
	}
	if !t.DType.Supported() {
		return nil, fmt.Errorf("%w: tensor %s: unsupported dtype %s (this reader reads %s)", ErrUnsupported, quote(name), t.DType, supportedNames)
	}
	if len(t.Shape) == 0 {
		return nil, fmt.Errorf("%w: tensor %s is a scalar (shape []), it has no rows", ErrUnsupported, quote(name))
	}
	// ReadHeader checked that the non-zero dimensions times the element
	// size fit in an int64, so no partial product overflows.
	rowBytes := int64(t.DType.Size())
	for _, d := range t.Shape[1:] {
		rowBytes *= d
	}
	return &Reader{Tensor: t, rowBytes: rowBytes}, nil
}

// RowBytes returns the size of a row in bytes.
func (rd *Reader) RowBytes() int64 { return rd.rowBytes }

// RowsLeft returns the number of rows not read yet.
func (rd *Reader) RowsLeft() int64 { return rd.rowsLeft }

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
	if rd.rowsLeft == 0 {
		return 0, rd.finish()
	}
	rows := rd.rowsLeft
	if rd.rowBytes > 0 {
		rows = min(rows, int64(len(p))/rd.rowBytes)
	}
	if rows == 0 {
		return 0, fmt.Errorf("safetensors: ReadRows given %d bytes, less than a row of %d", len(p), rd.rowBytes)
	}
	n := rows * rd.rowBytes
	if err := rd.readFull(p[:n]); err != nil {
		return 0, err
	}
	if hostBigEndian {
		swapBytes(p[:n], rd.DType.Size())
	}
	rd.rowsLeft -= rows
	return rows, nil
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
	if rd.rowsLeft == 0 {
		return buf, rd.finish()
	}
	if rd.rowBytes > math.MaxInt-7 {
		return buf, fmt.Errorf("%w: tensor %s: a row of %d bytes is too large for this machine", ErrUnsupported, quote(rd.Name), rd.rowBytes)
	}
	have := int64(0) // bytes of the row in buf
	for {
		end := min(int64(len(buf))*8, rd.rowBytes)
		if err := rd.readFull(asBytes(buf)[have:end]); err != nil {
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

// readFull reads len(p) bytes of rows, calling an early end ErrTruncated.
func (rd *Reader) readFull(p []byte) error {
	got, err := io.ReadFull(rd.r, p)
	rd.read += int64(got)
	if err != nil {
		return truncated(err, "tensor %s: the file ends %d bytes into the %d bytes of rows %d to %d",
			quote(rd.Name), rd.read, rd.total, rd.first, rd.first+rd.total/max(rd.rowBytes, 1))
	}
	return nil
}

// finish returns io.EOF after the last row, when a stream of unknown size
// ends exactly with the data buffer, and the error saying how it does not
// otherwise.
func (rd *Reader) finish() error {
	if rd.ended {
		return rd.endErr
	}
	rd.ended, rd.endErr = true, io.EOF
	if !rd.checkEnd {
		return io.EOF
	}
	if n, err := io.CopyN(io.Discard, rd.r, rd.tail); err != nil {
		rd.endErr = truncated(err, "the file ends %d bytes before the end of the data buffer, %d bytes after tensor %s",
			rd.tail-n, rd.tail, quote(rd.Name))
		return rd.endErr
	}
	var b [1]byte
	n, err := io.ReadAtLeast(rd.r, b[:], 1)
	switch {
	case n > 0:
		rd.endErr = fmt.Errorf("%w: the file goes on after the data buffer the header describes", ErrTrailing)
	case !errors.Is(err, io.EOF):
		rd.endErr = err
	}
	return rd.endErr
}

// asBytes reinterprets words as bytes.
func asBytes(words []uint64) []byte {
	if len(words) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))
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
