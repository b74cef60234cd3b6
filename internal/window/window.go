// Package window delivers the rows of an array stored in a file — row-major,
// little-endian elements, from an offset on — a window of whole rows at a
// time, so that a caller counts each window where it lies.
//
// A Reader reads each window with read(2) (pread) into a buffer of its own,
// aligned for every element type, swapping the bytes on big-endian hosts.
// Given a mapped-window size, it maps the windows of a regular file
// instead, where it can: read-only, populated at once, handed to the
// caller in place and unmapped before the next, so that the data is never
// copied and the memory held is one window, whatever the file's size. It
// reads where mapping cannot serve: on big-endian hosts (the elements must
// be swapped), when the data is not aligned for its element type (old
// safetensors writers did not pad their header), for sources that are not
// files (a pipe has no pages to map; bytes.Reader), on platforms without
// mmap, and after the OS refuses a mapping. (Which is faster depends on the
// machine and on how the caller reads a window: cmd/l0 measured read(2)
// faster, its column kernels reading a little of each row in turn.)
//
// A mapped file that shrinks while it is read would raise SIGBUS on the
// first missing page and kill the process; a Reader runs the caller with
// debug.SetPanicOnFault, so that the fault is an ErrChanged error that says
// where, instead. A file that shrinks under the read path is the same
// error, from the short read.
package window

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sparsekit/l0/internal/rows"
)

// ErrChanged: the file no longer holds the rows its header promised: it
// was truncated (or replaced) while it was read.
var ErrChanged = errors.New("the file changed while it was read")

// Layout says where an array's rows lie in a file.
type Layout struct {
	Offset   int64 // the position of the first row in the file
	RowBytes int64 // the size of a row: a multiple of ElemSize, or 0
	Rows     int64 // the number of rows
	ElemSize int   // the size of an element: 1, 2, 4 or 8 bytes
}

// Reader reads windows of rows. It is not safe for concurrent use: each
// goroutine takes its own, though several may read one *os.File.
type Reader struct {
	ra      io.ReaderAt
	fd      int      // the file to map, or -1
	readMax int      // the bytes of a window read into the buffer
	mapMax  int      // the bytes of a mapped window; 0: never map
	buf     []uint64 // words, so that it is aligned for every element type

	// Mapped and Read count the bytes delivered by each path.
	Mapped, Read int64
}

// NewReader returns a Reader of ra that delivers windows of whole rows, at
// least one: of about mapBytes when ra is an *os.File of a regular file
// that can be mapped (mapBytes 0: never), otherwise of about readBytes
// read into a buffer.
func NewReader(ra io.ReaderAt, readBytes, mapBytes int) *Reader {
	r := &Reader{readMax: max(readBytes, 1), mapMax: max(mapBytes, 0)}
	r.Reset(ra)
	return r
}

// SetBudget changes the bytes of the windows to come, as NewReader takes
// them.
func (r *Reader) SetBudget(readBytes, mapBytes int) {
	r.readMax, r.mapMax = max(readBytes, 1), max(mapBytes, 0)
	if r.mapMax == 0 {
		r.fd = -1
	}
}

// Reset makes r a Reader of ra, keeping its buffer (and its counts).
func (r *Reader) Reset(ra io.ReaderAt) {
	r.ra, r.fd = ra, -1
	if r.mapMax > 0 && canMap {
		r.fd = mappableFD(ra)
	}
}

// Rows calls f with consecutive windows of the rows [from, to) of the
// array laid out as l: the number of rows in the window and their bytes,
// the elements in the machine's byte order and the slice aligned for their
// type. The bytes are valid during the call only (they are unmapped, or
// the buffer reused, after it); f must not keep them. Rows of no bytes all
// come in one call, with no bytes, however many. An error from f ends the
// reading and is returned as is; a file that ends or faults before the
// rows do is an ErrChanged error.
func (r *Reader) Rows(l Layout, from, to int64, f func(rows int64, data []byte) error) error {
	if from < 0 || from > to || to > l.Rows || l.RowBytes < 0 || l.ElemSize <= 0 || l.RowBytes%int64(l.ElemSize) != 0 {
		return fmt.Errorf("window: rows [%d, %d) of %d rows of %d bytes (elements of %d): not a range of the array", from, to, l.Rows, l.RowBytes, l.ElemSize)
	}
	if from == to {
		return nil
	}
	if l.RowBytes == 0 {
		return f(to-from, nil)
	}
	if l.RowBytes > math.MaxInt-7 || l.Offset < 0 || (to-from) > (math.MaxInt64-l.Offset)/l.RowBytes {
		return fmt.Errorf("window: rows of %d bytes from byte %d are too large for this machine", l.RowBytes, l.Offset)
	}
	mapping := r.fd >= 0 && !rows.HostBigEndian && l.Offset%int64(l.ElemSize) == 0
	for row := from; row < to; {
		budget := r.readMax
		if mapping {
			budget = r.mapMax
		}
		n := min(max(1, int64(budget)/l.RowBytes), to-row) // whole rows, at least one
		var err error
		if mapping {
			err = r.mapped(l, row, n, f)
			if errors.Is(err, errNoMap) {
				r.fd, mapping = -1, false // read the rest
				continue
			}
		} else {
			err = r.read(l, row, n, f)
		}
		if err != nil {
			return err
		}
		row += n
	}
	return nil
}

// errNoMap: the OS would not map this file; the Reader reads it instead.
var errNoMap = errors.New("window: cannot map")

// read reads rows [row, row+n) into the buffer and calls f with them.
func (r *Reader) read(l Layout, row, n int64, f func(int64, []byte) error) error {
	size := int(n * l.RowBytes)
	if words := (size + 7) / 8; len(r.buf) < words {
		r.buf = make([]uint64, words)
	}
	b := rows.Bytes(r.buf)[:size]
	at := l.Offset + row*l.RowBytes
	got, err := r.ra.ReadAt(b, at)
	if got < size {
		if err == nil || err == io.EOF {
			return fmt.Errorf("%w: it ends at byte %d, in rows its header places up to byte %d", ErrChanged, at+int64(got), l.Offset+l.Rows*l.RowBytes)
		}
		return err
	}
	rows.ToHost(b, l.ElemSize)
	r.Read += int64(size)
	return f(n, b)
}
