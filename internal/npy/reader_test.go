package npy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
)

// header returns a version 1.0 .npy file of the given descr and shape
// text, followed by payload.
func header(descr, shape string, payload []byte) []byte {
	return file(1, fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }\n", descr, shape), payload)
}

// TestReadRowsEmptyRows checks that rows of no bytes come all at once: the
// calls a file takes grow with its bytes, not with the batch its header
// claims. Before, ReadRows handed out 2^30 rows a call, 2^32 calls for a
// 128-byte file of shape (2^62, 0).
func TestReadRowsEmptyRows(t *testing.T) {
	for _, c := range []struct {
		shape string
		batch int64
	}{
		{"(1, 0)", 1},
		{"(1073741825, 0)", 1<<30 + 1},
		{"(17179869184, 0)", 1 << 34},
		{"(4611686018427387904, 0)", 1 << 62},
		{"(4611686018427387904, 3, 0)", 1 << 62},
		{"(9223372036854775807, 0, 5)", math.MaxInt64},
	} {
		data := header("|i1", c.shape, nil)
		for _, size := range []int64{int64(len(data)), -1} {
			rd, err := Open(bytes.NewReader(data), size)
			if int64(int(c.batch)) != c.batch { // a 32-bit machine
				if !errors.Is(err, ErrUnsupported) || !strings.Contains(fmt.Sprint(err), "too large for this machine") {
					t.Errorf("%s, size %d: %v, want too large for this machine", c.shape, size, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", c.shape, err)
			}
			if rd.RowBytes() != 0 || rd.RowsLeft() != c.batch {
				t.Errorf("%s: RowBytes %d, RowsLeft %d", c.shape, rd.RowBytes(), rd.RowsLeft())
			}
			calls, rows := 0, int64(0)
			for ; calls < 10; calls++ {
				n, err := rd.ReadRows(nil)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", c.shape, err)
				}
				rows += int64(n)
			}
			if calls != 1 || rows != c.batch {
				t.Errorf("%s, size %d: %d rows in %d calls, want %d in 1", c.shape, size, rows, calls, c.batch)
			}
		}
	}
}

// TestRowBytes checks the row size of shapes at the edge of int64, and
// that a header whose rows cannot be held is refused, even with no
// vectors: RowBytes multiplied unchecked, and (0, 2^61+1, 4) gave a
// negative row size.
func TestRowBytes(t *testing.T) {
	for _, c := range []struct {
		descr    string
		shape    []int64
		rowBytes int64 // -1: the header is refused
	}{
		{"<f4", []int64{0, 1<<61 + 1, 4}, -1},
		{"|u1", []int64{0, 1<<61 + 1, 4}, -1},
		{"|u1", []int64{0, 1 << 62, 2}, -1},
		{"<f8", []int64{0, 1 << 60}, -1},
		{"<f4", []int64{0, 2, 0, 1 << 60}, -1},
		{"<f8", []int64{0, 1<<60 - 1}, 1<<63 - 8},
		{"|u1", []int64{0, 1<<62 - 1, 2}, 1<<63 - 2},
		{"<f4", []int64{0, 2, 0, 1<<60 - 1}, 0},
		{"<i2", []int64{5, 3, 7}, 42},
	} {
		text := fmt.Sprint(c.shape)
		text = "(" + strings.ReplaceAll(text[1:len(text)-1], " ", ", ") + ")"
		rd, err := Open(bytes.NewReader(header(c.descr, text, nil)), -1)
		fits := true
		for _, d := range c.shape {
			fits = fits && int64(int(d)) == d
		}
		switch {
		case c.rowBytes < 0:
			if !errors.Is(err, ErrFormat) || !strings.Contains(fmt.Sprint(err), "rows of the shape") || !strings.Contains(fmt.Sprint(err), "2^63") {
				t.Errorf("%s %s: %v, want rows of more than 2^63 bytes", c.descr, text, err)
			}
		case !fits: // a 32-bit machine
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s %s on a 32-bit machine: %v", c.descr, text, err)
			}
		case err != nil:
			t.Errorf("%s %s: %v", c.descr, text, err)
		case rd.RowBytes() != c.rowBytes:
			t.Errorf("%s %s: RowBytes %d, want %d", c.descr, text, rd.RowBytes(), c.rowBytes)
		}
	}
}

// TestStreamMemory checks what ReadRow costs a stream whose header claims
// a row of 2^31 features: an ErrTruncated error at the end of the bytes
// given, and allocations of at most 4 times those bytes plus 64 KiB (the
// buffer doubles as bytes arrive: each size at most twice the bytes read,
// and the sizes before it sum to less), never the claimed size.
func TestStreamMemory(t *testing.T) {
	for _, given := range []int{0, 1000, 100_000, 3 << 20} {
		data := header("|u1", "(1, 2147483648)", make([]byte, given))
		rd, err := Open(bytes.NewReader(data), -1)
		if math.MaxInt == math.MaxInt32 {
			if err == nil {
				t.Fatal("a row of 2^31 bytes on a 32-bit machine")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = rd.ReadRow(nil)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), fmt.Sprintf("ends %d bytes into the 2147483648 bytes", given)) {
			t.Errorf("%d bytes: %v", given, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(4*given+64<<10) {
			t.Errorf("%d bytes of a claimed 2 GiB row: allocated %d bytes", given, grew)
		}
	}
}
