package rows

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
)

var errShort = errors.New("short")

// testErrors are Errors that say which rule fired.
func testErrors(r io.Reader) Errors {
	return Errors{
		Short: func(read int64, err error) error {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return fmt.Errorf("%w: %d bytes in", errShort, read)
			}
			return err
		},
		TooLarge: func(rowBytes int64) error { return fmt.Errorf("a row of %d bytes", rowBytes) },
		End:      func() error { return EndsHere(r, func() error { return errors.New("trailing") }) },
	}
}

func TestSwap(t *testing.T) {
	t.Parallel()
	p := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	swap(p, 4)
	if !bytes.Equal(p, []byte{4, 3, 2, 1, 8, 7, 6, 5}) {
		t.Errorf("%v", p)
	}
	swap(p, 1)
	if !bytes.Equal(p, []byte{4, 3, 2, 1, 8, 7, 6, 5}) {
		t.Errorf("%v", p)
	}
	swap(p, 8)
	if !bytes.Equal(p, []byte{5, 6, 7, 8, 1, 2, 3, 4}) {
		t.Errorf("%v", p)
	}
}

// native returns little-endian elements in the machine's order.
func native(p []byte, size int) []byte {
	p = bytes.Clone(p)
	ToHost(p, size)
	return p
}

// TestReadRows reads 5 rows of 3 uint16 every way: ReadRows with buffers
// of one row to all, ReadRow, both mixed; the end is checked once.
func TestReadRows(t *testing.T) {
	t.Parallel()
	data := make([]byte, 5*6)
	for i := range data {
		data[i] = byte(i)
	}
	for _, words := range []int{1, 2, 4} { // rows of 6 bytes: 1, 2 and 5 rows a call
		r := bytes.NewReader(data)
		rd := NewReader(r, 5, 6, 2, testErrors(r))
		if rd.RowBytes() != 6 || rd.RowsLeft() != 5 {
			t.Fatalf("%d bytes, %d rows", rd.RowBytes(), rd.RowsLeft())
		}
		if _, err := rd.ReadRows(make([]byte, 5)); err == nil {
			t.Error("less than a row accepted")
		}
		first, err := rd.ReadRow(nil)
		if err != nil {
			t.Fatal(err)
		}
		got := bytes.Clone(Bytes(first)[:6])
		buf := make([]byte, 8*words)
		for {
			n, err := rd.ReadRows(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:n*6]...)
		}
		if !bytes.Equal(got, native(data, 2)) {
			t.Errorf("%d words: %v", words, got)
		}
		if n, err := rd.ReadRows(buf); n != 0 || err != io.EOF {
			t.Errorf("after the end: %d, %v", n, err)
		}
		if _, err := rd.ReadRow(nil); err != io.EOF {
			t.Errorf("ReadRow after the end: %v", err)
		}
	}
}

// TestEnds checks the format's words: an early end says how far it got, a
// stream that goes on is the format's error, asked once.
func TestEnds(t *testing.T) {
	t.Parallel()
	data := make([]byte, 4*8)
	short := bytes.NewReader(data[:29])
	rd := NewReader(short, 4, 8, 4, testErrors(short))
	var err error
	buf := make([]byte, 16)
	for err == nil {
		_, err = rd.ReadRows(buf)
	}
	if !errors.Is(err, errShort) || !strings.Contains(err.Error(), "29 bytes in") {
		t.Errorf("short: %v", err)
	}
	long := bytes.NewReader(make([]byte, 4*8+2))
	rd = NewReader(long, 4, 8, 4, testErrors(long))
	for err = nil; err == nil; {
		_, err = rd.ReadRows(buf)
	}
	if err == nil || err.Error() != "trailing" {
		t.Errorf("long: %v", err)
	}
	if _, again := rd.ReadRows(buf); again != err {
		t.Errorf("asked twice: %v", again)
	}
}

// TestReadRowGrows: a row claimed enormous costs the bytes that arrive, not
// its claim, and a row past an int is the format's error.
func TestReadRowGrows(t *testing.T) {
	t.Parallel()
	given := bytes.NewReader(make([]byte, 100_000))
	rd := NewReader(given, 1, math.MaxInt/2, 1, testErrors(given)) // 2^62 bytes, or 2^30 on 32-bit machines
	buf, err := rd.ReadRow(nil)
	if !errors.Is(err, errShort) || len(buf) > 2*100_000/8+1<<12 {
		t.Errorf("%v, a buffer of %d words", err, len(buf))
	}
	if math.MaxInt > math.MaxInt32 {
		rd = NewReader(given, 1, math.MaxInt64, 1, testErrors(given))
		if _, err := rd.ReadRow(nil); err == nil || !strings.Contains(err.Error(), "a row of") {
			t.Errorf("a row past an int: %v", err)
		}
	}
}

// TestEmptyRows: rows of no bytes, however many, come in one call.
func TestEmptyRows(t *testing.T) {
	t.Parallel()
	r := bytes.NewReader(nil)
	rd := NewReader(r, math.MaxInt64, 0, 4, testErrors(r))
	n, err := rd.ReadRows(nil)
	if n != math.MaxInt64 || err != nil {
		t.Errorf("%d, %v", n, err)
	}
	if _, err := rd.ReadRows(nil); err != io.EOF {
		t.Errorf("%v", err)
	}
}

func TestViews(t *testing.T) {
	t.Parallel()
	w := []uint64{0x0102030405060708, 0}
	b := Bytes(w)
	if len(b) != 16 || len(As[uint32](b)) != 4 || len(As[uint32](b[:7])) != 1 || As[uint16](nil) != nil || Bytes(nil) != nil {
		t.Errorf("views: %d %d", len(b), len(As[uint32](b)))
	}
	if g := Grow(w, 17); len(g) != 3 {
		t.Errorf("Grow 17 bytes: %d words", len(g))
	}
	if g := Grow(w, 16); &g[0] != &w[0] {
		t.Error("Grow made a new buffer of the same size")
	}
}
