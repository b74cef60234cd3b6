package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/rows"
)

// file returns a .npy file of the given version and header text, and
// payload.
func file(major byte, header string, payload []byte) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	return append(append(b, header...), payload...)
}

func TestReadHeader(t *testing.T) {
	for _, c := range []struct {
		header string
		major  byte
		dtype  DType
		shape  []int64
	}{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }        \n", 1, Float32, []int64{2, 3}},
		{`{"shape":(2,3,4),"descr":"<f2","fortran_order":False}`, 2, Float16, []int64{2, 3, 4}},
		{"{'descr': '|b1', 'fortran_order': True, 'shape': (5,), }\n", 3, Bool, []int64{5}},
		{"  {'descr':'<u8','fortran_order':False,'shape':()}\t\r\n", 1, Uint64, []int64{}},
		{"{'descr': '=i4', 'fortran_order': False, 'shape': ((7), 0,),}", 1, Int32, []int64{7, 0}},
		{"{'descr': 'i8', 'fortran_order': False, 'shape': (+1, 9223372036854775807 ), }", 1, Int64, nil},
		{"{'descr': '>i1', 'fortran_order': False, 'shape': (1, 1)}", 1, Int8, []int64{1, 1}},
		{"{'descr': '<u1', 'fortran_order': False, 'shape': (1, 1)}", 1, Uint8, []int64{1, 1}},
		// Zeros alone are Python's zero, as numpy reads them.
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (00, 3, -000)}", 1, Float32, []int64{0, 3, 0}},
		// Rows of no bytes: any batch, any other dimension.
		{"{'descr': '|i1', 'fortran_order': False, 'shape': (4611686018427387904, 0)}", 1, Int8, []int64{1 << 62, 0}},
		{"{'descr': '|i1', 'fortran_order': False, 'shape': (4611686018427387904, 3, 0)}", 1, Int8, []int64{1 << 62, 3, 0}},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 0, 1152921504606846975)}", 1, Float64, []int64{1<<63 - 1, 0, 1<<60 - 1}},
		// Rows of more than 2^63 bytes, though the array is empty.
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2305843009213693953, 4)}", 1, Float32, nil},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 0, 1152921504606846976)}", 1, Float64, nil},
	} {
		h, err := ReadHeader(bytes.NewReader(file(c.major, c.header, nil)))
		if c.shape == nil { // more than 2^63 bytes
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "2^63") {
				t.Errorf("%q: %v", c.header, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.header, err)
			continue
		}
		if h.DType != c.dtype || h.Major != int(c.major) || len(h.Shape) != len(c.shape) ||
			h.DataOffset != int64(len(file(c.major, c.header, nil))) {
			t.Errorf("%q: %+v", c.header, h)
		}
		for i := range c.shape {
			if h.Shape[i] != c.shape[i] {
				t.Errorf("%q: shape %v", c.header, h.Shape)
			}
		}
	}
}

func TestReadHeaderErrors(t *testing.T) {
	good := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n"
	for _, c := range []struct {
		data []byte
		err  error
		text string
	}{
		{nil, ErrTruncated, "magic"},
		{[]byte("\x93NUMP"), ErrTruncated, "magic"},
		{[]byte("\x93NUMPX\x01\x00"), ErrFormat, "magic"},
		{file(1, good, nil)[:9], ErrTruncated, "header length"},
		{file(2, good, nil)[:11], ErrTruncated, "header length"},
		{file(1, good, nil)[:20], ErrTruncated, "the header (10 of"},
		{append([]byte(magic), 1, 1, 0, 0), ErrUnsupported, "version 1.1"},
		{append([]byte(magic), 0, 0, 0, 0), ErrUnsupported, "version 0.0"},
		{append([]byte(magic), 2, 0, 1, 0, 1, 0), ErrFormat, "65537 bytes"},
		{file(1, "", nil), ErrFormat, "not a dict"},
		{file(1, "[]", nil), ErrFormat, "not a dict"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x", nil), ErrFormat, "after the dict"},
		{file(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", nil), ErrFormat, "twice"},
		{file(1, "{1: '<f4'}", nil), ErrFormat, "not a string"},
		{file(1, "{'descr' '<f4'}", nil), ErrFormat, "expected ':'"},
		{file(1, "{'descr': '<f4' 'x'}", nil), ErrFormat, "expected ','"},
		{file(1, "{'descr': '<f4\\n', 'fortran_order': False, 'shape': (2, 3)}", nil), ErrFormat, "escape"},
		{file(1, "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", nil), ErrFormat, "expected ','"},
		{file(1, "{'descr': '<f4", nil), ErrFormat, "unterminated"},
		{file(1, "{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3)}", nil), ErrFormat, `name "false"`},
		{file(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}", nil), ErrFormat, "not True or False"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", nil), ErrFormat, "not a tuple"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3.0)}", nil), ErrFormat, "decimal"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0x3)}", nil), ErrFormat, "decimal"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, '3')}", nil), ErrFormat, "not an integer"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", nil), ErrFormat, "negative"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, - )}", nil), ErrFormat, "digits"},
		{file(1, "{'descr': 4, 'fortran_order': False, 'shape': (2, 3)}", nil), ErrFormat, "not a string"},
		{file(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2, 3)}", nil), ErrUnsupported, "structured"},
		{file(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}", nil), ErrUnsupported, "Fortran"},
		{file(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3)}", nil), ErrUnsupported, "big-endian"},
		{file(1, "{'descr': '<f16', 'fortran_order': False, 'shape': (2, 3)}", nil), ErrUnsupported, `dtype "<f16"`},
		{file(1, "{'descr': '', 'fortran_order': False, 'shape': (2, 3)}", nil), ErrUnsupported, `dtype ""`},
		{file(1, "{'fortran_order': False, 'shape': (2, 3)}", nil), ErrFormat, `no "descr"`},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", nil), ErrFormat, `unexpected key "x"`},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\x00", nil), ErrFormat, "printable"},
		{file(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\xc3\xa9", nil), ErrFormat, "printable"},
		{file(1, "{'a': "+strings.Repeat("[", 9)+"}", nil), ErrFormat, "nested"},
		{file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976, 2)}", nil), ErrFormat, "2^63"},
		// Python (and so numpy) refuses leading zeros: "Cannot parse header".
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (02, 3)}", nil), ErrFormat, "the integer 02 has a leading zero"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (00002, 0003)}", nil), ErrFormat, "00002 has a leading zero"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -03)}", nil), ErrFormat, "leading zero"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 010}", nil), ErrFormat, "leading zero"},
		{file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ("+strings.Repeat("1, ", 65)+")}", nil), ErrFormat, "the shape has 65 dimensions, more than 64 (MaxRank)"},
		{file(2, "{'descr': '<f4', 'fortran_order': False, 'shape': ("+strings.Repeat("1,", 30000)+")}", nil), ErrFormat, "the shape has 30000 dimensions"},
		{file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': ("+strings.Repeat("1024, ", 64)+")}", nil), ErrFormat, "(1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, ...) (64 dimensions) of <f8 elements are more than 2^63 bytes"},
	} {
		_, err := ReadHeader(bytes.NewReader(c.data))
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.text) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v; want %v containing %q", c.data, err, c.err, c.text)
		}
	}
}

func TestDTypes(t *testing.T) {
	want := "<f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1"
	var got []string
	for _, d := range DTypes() {
		got = append(got, d.String())
		parsed, err := parseDescr(d.String())
		if err != nil || parsed != d || d.Size() == 0 || d.Name() == "" {
			t.Errorf("%v: %v %v size %d name %q", d, parsed, err, d.Size(), d.Name())
		}
	}
	if strings.Join(got, " ") != want {
		t.Errorf("DTypes %v, want %s", got, want)
	}
	if Invalid.Size() != 0 || DType(200).String() != "DType(200)" || !Float16.IsFloat() || Int8.IsFloat() {
		t.Error("Invalid, out-of-range or IsFloat wrong")
	}
}

// TestReader streams the rows of a file of known and of unknown size.
func TestReader(t *testing.T) {
	payload := make([]byte, 5*3*4)
	for i := range payload {
		payload[i] = byte(i)
	}
	data := file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 3), }\n", payload)
	for _, size := range []int64{int64(len(data)), -1} {
		rd, err := Open(struct{ io.Reader }{bytes.NewReader(data)}, size)
		if err != nil {
			t.Fatal(err)
		}
		if rd.RowBytes() != 12 || rd.RowsLeft() != 5 {
			t.Fatalf("row bytes %d, rows %d", rd.RowBytes(), rd.RowsLeft())
		}
		var got []byte
		buf := make([]byte, 25) // two rows and a bit
		if _, err := rd.ReadRows(buf[:11]); err == nil {
			t.Error("a buffer shorter than a row was accepted")
		}
		for {
			n, err := rd.ReadRows(buf)
			if err == io.EOF {
				break
			}
			if err != nil || n < 1 || n > 2 {
				t.Fatalf("ReadRows: %d, %v", n, err)
			}
			got = append(got, buf[:n*12]...)
		}
		if !bytes.Equal(got, native(payload, 4)) {
			t.Errorf("size %d: read %v", size, got)
		}
		if _, err := rd.ReadRows(buf); err != io.EOF {
			t.Errorf("after the end: %v", err)
		}
	}
	for _, c := range []struct {
		data []byte
		err  error
	}{
		{data[:len(data)-1], ErrTruncated},
		{append(data[:len(data):len(data)], 0), ErrTrailing},
	} {
		if _, err := Open(bytes.NewReader(c.data), int64(len(c.data))); !errors.Is(err, c.err) {
			t.Errorf("Open, %d bytes: %v, want %v", len(c.data), err, c.err)
		}
		rd, err := Open(bytes.NewReader(c.data), -1)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		for err == nil {
			_, err = rd.ReadRows(buf)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("ReadRows, %d bytes: %v, want %v", len(c.data), err, c.err)
		}
	}
}

// TestReadRow checks the growing one-row read of streams.
func TestReadRow(t *testing.T) {
	const features = 20000 // 80 kB rows, more than the first buffer
	payload := make([]byte, 2*features*4)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	data := file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 20000), }\n", payload)
	rd, err := Open(bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	var buf []uint64
	var got []byte
	for {
		buf, err = rd.ReadRow(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rows.Bytes(buf)[:features*4]...)
	}
	if !bytes.Equal(got, native(payload, 4)) {
		t.Error("ReadRow read other bytes")
	}
	rd, err = Open(bytes.NewReader(data[:len(data)-5]), -1)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		buf, err = rd.ReadRow(buf)
	}
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "ends 159995 bytes into the 160000") {
		t.Errorf("truncated: %v", err)
	}
}

// native returns the little-endian elements of p in the machine's order,
// as the reader delivers them.
func native(p []byte, size int) []byte {
	p = bytes.Clone(p)
	rows.ToHost(p, size)
	return p
}

// TestShapeString: Python's spelling, and no more than 16 dimensions.
func TestShapeString(t *testing.T) {
	for _, c := range []struct {
		shape []int64
		want  string
	}{
		{nil, "()"},
		{[]int64{5}, "(5,)"},
		{[]int64{2, 3}, "(2, 3)"},
		{make([]int64, 16), "(" + strings.Repeat("0, ", 15) + "0)"},
		{make([]int64, 17), "(" + strings.Repeat("0, ", 15) + "0, ...) (17 dimensions)"},
	} {
		if got := (Header{Shape: c.shape}).ShapeString(); got != c.want {
			t.Errorf("%v: %q, want %q", c.shape, got, c.want)
		}
	}
	data := file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ("+strings.Repeat("1, ", 64)+")}", []byte{0, 0, 0, 0})
	if h, err := ReadHeader(bytes.NewReader(data)); err != nil || len(h.Shape) != MaxRank {
		t.Errorf("%d dimensions: %v", len(h.Shape), err)
	}
}

// FuzzReadHeader checks ReadHeader never panics, consumes exactly the
// header it reports, and returns one-line errors.
func FuzzReadHeader(f *testing.F) {
	f.Add(file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", nil))
	f.Add(file(2, "{'descr': [('x', '<f4')], 'fortran_order': True, 'shape': ((1), 2,), }", nil))
	f.Add(file(3, "{\"descr\": \"|b1\", \"fortran_order\": False, \"shape\": (-0,)}", nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		h, err := ReadHeader(r)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		if consumed := int64(len(data)) - int64(r.Len()); consumed != h.DataOffset {
			t.Fatalf("consumed %d bytes, DataOffset %d", consumed, h.DataOffset)
		}
		if h.DType == Invalid || h.DataBytes() < 0 || (h.FortranOrder && len(h.Shape) > 1) {
			t.Fatalf("accepted %+v", h)
		}
	})
}
