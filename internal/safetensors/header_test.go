package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// file returns a safetensors file of the header text, as is, and data.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// padded returns a file of the header text padded with spaces to a
// multiple of 8 bytes, and data.
func padded(header string, data []byte) []byte {
	return file(header+strings.Repeat(" ", -len(header)&7), data)
}

// withLength returns a file whose length field says n, whatever follows.
func withLength(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

func TestReadHeader(t *testing.T) {
	// Entries in any order, empty tensors at the offset of a neighbour, a
	// scalar, white space inside the JSON and after it, escaped names.
	header := `{ "b" : {"data_offsets":[16,24], "shape":[2], "dtype":"F32"},
		"__metadata__": {"format": "pt", "k\u00e9y": "v\n"},
		"a\u0001": {"dtype": "I32", "shape": [2, 2], "data_offsets": [0, 16]},
		"e2": {"dtype": "F64", "shape": [0, 3], "data_offsets": [16, 16]},
		"e1": {"dtype": "U8", "shape": [4, 0], "data_offsets": [16, 16]},
		"s": {"dtype": "BF16", "shape": [], "data_offsets": [24, 26]},
		"z": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [26, 27]},
		"\ud83e\udd80": {"dtype": "BOOL", "shape": [1], "data_offsets": [27, 28]}} ` + "\t\r\n"
	data := padded(header, make([]byte, 28))
	h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tensor := range h.Tensors {
		names = append(names, tensor.Name)
	}
	if want := []string{"a\x01", "e2", "e1", "b", "s", "z", "🦀"}; !slices.Equal(names, want) {
		t.Errorf("order %q, want %q", names, want)
	}
	if h.DataBytes != 28 || h.DataOffset() != int64(len(data)-28) || h.HeaderBytes%8 != 0 {
		t.Errorf("data %d at %d, header %d", h.DataBytes, h.DataOffset(), h.HeaderBytes)
	}
	if len(h.Metadata) != 2 || h.Metadata["format"] != "pt" || h.Metadata["kéy"] != "v\n" {
		t.Errorf("metadata %q", h.Metadata)
	}
	s, ok := h.Lookup("s")
	if !ok || s.DType != BFloat16 || s.Shape == nil || len(s.Shape) != 0 || s.Elements() != 1 || s.Bytes() != 2 || s.ShapeString() != "[]" {
		t.Errorf("scalar %+v", s)
	}
	a, _ := h.Lookup("a\x01")
	if a.DType != Int32 || a.ShapeString() != "[2, 2]" || a.Begin != 0 || a.End != 16 || a.String() != `"a\x01" I32 [2, 2]` {
		t.Errorf("a: %+v", a)
	}
	if _, err := h.Tensor("nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing tensor: %v", err)
	}

	// The same header as a stream of unknown size, one byte at a time: the
	// reader stops at the first byte of the data.
	r := bytes.NewReader(data)
	h2, err := ReadHeader(struct{ io.Reader }{r}, -1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 28 || len(h2.Tensors) != len(h.Tensors) {
		t.Errorf("the stream is left %d bytes before its end", r.Len())
	}

	// No tensors, no metadata: the reference writer's empty file.
	h, err = ReadHeader(bytes.NewReader(padded("{}", nil)), 16)
	if err != nil || len(h.Tensors) != 0 || h.Metadata != nil || h.DataBytes != 0 {
		t.Errorf("empty file: %+v, %v", h, err)
	}
}

// TestReadHeaderErrors checks each rule of the reader with a file made
// here; testdata/bad has a fixture for each too.
func TestReadHeaderErrors(t *testing.T) {
	f32 := func(shape, offsets string) string {
		return `{"x":{"dtype":"F32","shape":` + shape + `,"data_offsets":` + offsets + `}}`
	}
	for _, c := range []struct {
		data []byte
		err  error
		text string
	}{
		{nil, ErrTruncated, "header length (0 of 8"},
		{[]byte{1, 0, 0}, ErrTruncated, "header length (3 of 8"},
		{withLength(100, "{}"), ErrTruncated, "header length 100 is past the end of the file (2 bytes follow it)"},
		{withLength(MaxHeaderBytes+1, "{}"), ErrFormat, "a header of 100000001 bytes (this reader takes at most 100000000)"},
		{withLength(1<<63, "{}"), ErrFormat, "at most 100000000"},
		{file("", nil), ErrFormat, "does not start with '{'"},
		{padded(" {}", nil), ErrFormat, `does not start with '{' (it starts " {}`},
		{padded("\n{}", nil), ErrFormat, "does not start with '{'"},
		{padded(`["x"]`, nil), ErrFormat, "does not start with '{'"},
		{padded("{\"\xff\":1}", nil), ErrFormat, "not valid UTF-8 (byte 0xff at 2)"},
		{padded("{\"\xed\xa0\x80\":1}", nil), ErrFormat, "not valid UTF-8"}, // an encoded surrogate
		{padded(`{"\ud800":1}`, nil), ErrFormat, `not valid JSON: a lone UTF-16 surrogate (\ud800), which is no character (at byte 2)`},
		{padded(`{"\udc00\ud800":1}`, nil), ErrFormat, `lone UTF-16 surrogate (\udc00`},
		{padded(`{"\ud800\u0041":1}`, nil), ErrFormat, `lone UTF-16 surrogate (\ud800`},
		{padded(`{"a":`, nil), ErrFormat, "not valid JSON: the text ends where a value belongs (at byte 8)"},
		{padded(`{"a" 1}`, nil), ErrFormat, "not valid JSON: unexpected '1' after a key (want ':') (at byte 5)"},
		{padded(`{,}`, nil), ErrFormat, "not valid JSON"},
		{padded(`{"a":{"dtype":"F32",}}`, nil), ErrFormat, "not valid JSON"},
		{padded(`{} x`, nil), ErrFormat, `goes on after its object ("x    " at byte 3)`},
		{file("{}\x00\x00", nil), ErrFormat, "goes on after its object"},
		{padded(`{}{}`, nil), ErrFormat, "goes on after its object"},
		{padded(`{"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), ErrFormat, `the key "x" appears twice in the header`},
		{padded(`{"__metadata__":{},"__metadata__":{}}`, nil), ErrFormat, `the key "__metadata__" appears twice`},
		{padded(`{"__metadata__":{"a":"","a":""}}`, nil), ErrFormat, `__metadata__: the key "a" appears twice`},
		{padded(`{"__metadata__":"pt"}`, nil), ErrFormat, `__metadata__ is the string "pt", not an object of strings`},
		{padded(`{"__metadata__":null}`, nil), ErrFormat, `__metadata__ is null, not an object`},
		{padded(`{"__metadata__":{"a":1}}`, nil), ErrFormat, `__metadata__: the value of "a" is the number 1, not a string`},
		{padded(`{"__metadata__":{"a":["b"]}}`, nil), ErrFormat, `the value of "a" is a list, not a string`},
		{padded(`{"__metadata__":{"a":false}}`, nil), ErrFormat, `the value of "a" is false, not a string`},
		{padded(`{"x":[]}`, nil), ErrFormat, `tensor "x": its entry is a list, not an object`},
		{padded(`{"x":{"dtype":"F32","dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), ErrFormat, `tensor "x": the key "dtype" appears twice in its entry`},
		{padded(`{"x":{"shape":[0],"data_offsets":[0,0],"shape":[0]}}`, nil), ErrFormat, `the key "shape" appears twice in its entry`},
		{padded(`{"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"data_offsets":[0,0]}}`, nil), ErrFormat, `"data_offsets" appears twice`},
		{padded(`{"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"offset":0}}`, nil), ErrFormat, `tensor "x": unknown key "offset" in its entry`},
		{padded(`{"x":{"dtype":"F32","shape":[0]}}`, nil), ErrFormat, `tensor "x": its entry has no "data_offsets"`},
		{padded(`{"x":{"shape":[0],"data_offsets":[0,0]}}`, nil), ErrFormat, `its entry has no "dtype"`},
		{padded(`{"x":{"dtype":"F32","data_offsets":[0,0]}}`, nil), ErrFormat, `its entry has no "shape"`},
		{padded(`{"x":{"dtype":"F128","shape":[0],"data_offsets":[0,0]}}`, nil), ErrFormat, `tensor "x": unknown dtype "F128"`},
		{padded(`{"x":{"dtype":"bf16","shape":[0],"data_offsets":[0,0]}}`, nil), ErrFormat, `unknown dtype "bf16"`},
		{padded(`{"x":{"dtype":null,"shape":[0],"data_offsets":[0,0]}}`, nil), ErrFormat, `tensor "x": dtype is null, not a string`},
		{padded(f32(`[-1,4]`, `[0,0]`), nil), ErrFormat, `tensor "x": dimension 0 of the shape is negative (-1)`},
		{padded(f32(`[2,-0]`, `[0,0]`), nil), ErrFormat, `dimension 1 of the shape is negative (-0)`},
		{padded(f32(`[2.0]`, `[0,8]`), nil), ErrFormat, `dimension 0 of the shape is the number 2.0, not an integer`},
		{padded(f32(`[2E0]`, `[0,8]`), nil), ErrFormat, `not an integer`},
		{padded(f32(`["2"]`, `[0,8]`), nil), ErrFormat, `dimension 0 of the shape is the string "2", not an integer`},
		{padded(f32(`[[2]]`, `[0,8]`), nil), ErrFormat, `is a list, not an integer`},
		{padded(f32(`[9223372036854775808]`, `[0,0]`), nil), ErrFormat, `dimension 0 of the shape is 9223372036854775808, 2^63 or more`},
		{padded(f32(`[2,18446744073709551614]`, `[0,16]`), nil), ErrFormat, `2^63 or more`},
		{padded(f32(`4`, `[0,16]`), nil), ErrFormat, `tensor "x": the shape is the number 4, not a list of integers`},
		{padded(f32(`[4611686018427387904,2]`, `[0,0]`), nil), ErrFormat, `tensor "x": the shape [4611686018427387904, 2] of F32 is 2^63 bytes or more`},
		{padded(f32(`[2,2305843009213693952]`, `[0,16]`), nil), ErrFormat, `2^63 bytes or more`},
		{padded(f32(`[4611686018427387904,4611686018427387904,0]`, `[0,0]`), nil), ErrFormat, `2^63 bytes or more`},
		{padded(f32(`[0,4611686018427387904,4611686018427387904]`, `[0,0]`), nil), ErrFormat, `2^63 bytes or more`},
		{padded(f32(`[`+strings.Repeat("2,", 63)+`2]`, `[0,0]`), nil), ErrFormat, `2, 2, ...] (64 dimensions) of F32 are 2^63 bytes or more`},
		{padded(f32(`[`+strings.Repeat("1,", 64)+`1]`, `[0,4]`), make([]byte, 4)), ErrFormat, `tensor "x": the shape has more than 64 dimensions (MaxRank)`},
		{padded(f32(`[`+strings.Repeat("1,", 64)+`"x"]`, `[0,4]`), make([]byte, 4)), ErrFormat, `the shape has more than 64 dimensions`},
		{padded(`{"x":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, []byte{0, 0}), ErrFormat, `tensor "x": the 3 elements of F4 (4 bits each) do not fill whole bytes`},
		{padded(`{"x":{"dtype":"F6_E2M3","shape":[2],"data_offsets":[0,2]}}`, []byte{0, 0}), ErrFormat, `do not fill whole bytes`},
		{padded(f32(`[2,2]`, `[0,12]`), make([]byte, 12)), ErrFormat, `tensor "x": data_offsets [0, 12] hold 12 bytes, the shape [2, 2] of F32 needs 16`},
		{padded(f32(`[1]`, `[8,0]`), make([]byte, 8)), ErrFormat, `tensor "x": data_offsets [8, 0] begin after they end`},
		{padded(f32(`[1]`, `[0]`), nil), ErrFormat, `tensor "x": data_offsets has 1 values, not two`},
		{padded(f32(`[1]`, `[0,4,8]`), nil), ErrFormat, `tensor "x": data_offsets has more than two values`},
		{padded(f32(`[1]`, `[0,4,"8"]`), nil), ErrFormat, `tensor "x": data_offsets has more than two values`},
		{padded(f32(`[1]`, `[0,"4"]`), nil), ErrFormat, `tensor "x": end of data_offsets is the string "4", not an integer`},
		{padded(f32(`[1]`, `[-4,0]`), nil), ErrFormat, `tensor "x": begin of data_offsets is negative (-4)`},
		{padded(f32(`[1]`, `[0,4.0]`), nil), ErrFormat, `tensor "x": end of data_offsets is the number 4.0, not an integer`},
		{padded(f32(`[0]`, `[9223372036854775808,9223372036854775808]`), nil), ErrFormat, `begin of data_offsets is 9223372036854775808, 2^63 or more`},
		{padded(f32(`[1]`, `{"begin":0}`), nil), ErrFormat, `tensor "x": data_offsets is an object, not a list`},
		{padded(f32(`[4]`, `[8,24]`), make([]byte, 24)), ErrFormat, `the data buffer has a hole: its first tensor, "x", begins at 8, not 0`},
		{padded(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}}`, make([]byte, 10)), ErrFormat, `hole: bytes [4, 6) belong to no tensor ("a" ends at 4, "b" begins at 6)`},
		{padded(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)), ErrFormat, `tensors overlap: "b" (data_offsets [2, 6]) begins before "a" ends at 4`},
		{padded(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}`, make([]byte, 4)), ErrFormat, `overlap`},
		{padded(`{"x":{"dtype":"U8","shape":[9223372036854775807],"data_offsets":[0,9223372036854775807]}}`, nil), ErrFormat, `makes a file of 2^63 bytes or more`},
		{padded(f32(`[4]`, `[0,16]`), make([]byte, 15)), ErrTruncated, `the header describes 16 bytes of data, the file holds 15`},
		{padded(f32(`[4]`, `[0,16]`), make([]byte, 17)), ErrTrailing, `1 bytes follow the 16 bytes of data the header describes`},
		{padded(`{}`, []byte{0}), ErrTrailing, `1 bytes follow the 0 bytes`},
	} {
		_, err := ReadHeader(bytes.NewReader(c.data), int64(len(c.data)))
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.text) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q:\n got %v\nwant %v containing %q", c.data, err, c.err, c.text)
		}
	}
}

// TestReadHeaderLongNames checks that error messages repeat at most a
// little of what the file holds.
func TestReadHeaderLongNames(t *testing.T) {
	long := strings.Repeat("é", 1000)
	for _, header := range []string{
		`{"` + long + `":{},"` + long + `":{}}`,
		`{"` + long + `":1}`,
		`{"x":{"dtype":"` + long + `"}}`,
		`{"x":{"dtype":"F32","shape":[` + strings.Repeat("1", 500) + `]}}`,
		`{"__metadata__":{"a":"` + long + `","a":""}}`,
	} {
		_, err := ReadHeader(bytes.NewReader(padded(header, nil)), -1)
		if err == nil || len(err.Error()) > 300 {
			t.Errorf("%d-byte error: %.400v", len(err.Error()), err)
		}
	}
}

func TestDTypes(t *testing.T) {
	// The reference's Dtype enum, in its order, and the bits of each.
	want := "BOOL:8 F4:4 F6_E2M3:6 F6_E3M2:6 U8:8 I8:8 F8_E5M2:8 F8_E4M3:8 F8_E8M0:8 F8_E4M3FNUZ:8 F8_E5M2FNUZ:8 " +
		"I16:16 U16:16 F16:16 BF16:16 I32:32 U32:32 F32:32 C64:64 F64:64 I64:64 U64:64"
	var got []string
	for _, d := range DTypes() {
		got = append(got, fmt.Sprintf("%s:%d", d, d.Bits()))
		if p, ok := parseDType(d.String()); !ok || p != d {
			t.Errorf("%v parses as %v", d, p)
		}
	}
	if g := strings.Join(got, " "); g != want {
		t.Errorf("DTypes\n %s\nwant\n %s", g, want)
	}
	if supportedNames != "U64 I64 F64 F32 U32 I32 BF16 F16 U16 I16 I8 U8 BOOL" {
		t.Errorf("supported: %s", supportedNames)
	}
	for _, c := range []struct {
		d           DType
		size        int
		float, read bool
	}{
		{BFloat16, 2, true, true}, {Float16, 2, true, true}, {Float32, 4, true, true}, {Float64, 8, true, true},
		{Bool, 1, false, true}, {Uint8, 1, false, true}, {Int64, 8, false, true},
		{F4, 0, true, false}, {F6E3M2, 0, true, false}, {F8E4M3, 1, true, false}, {Complex64, 8, true, false},
		{Invalid, 0, false, false}, {DType(200), 0, false, false},
	} {
		if c.d.Size() != c.size || c.d.IsFloat() != c.float || c.d.Supported() != c.read {
			t.Errorf("%v: size %d float %v supported %v", c.d, c.d.Size(), c.d.IsFloat(), c.d.Supported())
		}
	}
	if DType(200).String() != "DType(200)" || Invalid.Valid() {
		t.Error("invalid dtypes")
	}
}

// TestMaxRank: a shape of MaxRank dimensions is valid; one more is an
// error found while the header is parsed, and a header of a million
// dimensions costs its own bytes to read, not a slice of them, nor an
// error message of them. Shapes in messages show 16 dimensions.
func TestMaxRank(t *testing.T) {
	ones := func(n int) string { return "[" + strings.Repeat("1,", n-1) + "1]" }
	data := padded(`{"x":{"dtype":"U8","shape":`+ones(MaxRank)+`,"data_offsets":[0,1]}}`, []byte{7})
	h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	x := h.Tensors[0]
	if want := "[" + strings.Repeat("1, ", 15) + "1, ...] (64 dimensions)"; x.ShapeString() != want || x.String() != `"x" U8 `+want {
		t.Errorf("ShapeString %q, String %q", x.ShapeString(), x.String())
	}
	if s := (Tensor{Shape: []int64{1, 2, 3}}).ShapeString(); s != "[1, 2, 3]" {
		t.Errorf("ShapeString %q", s)
	}

	const n = 1_000_000
	data = padded(`{"x":{"dtype":"U8","shape":`+ones(n)+`,"data_offsets":[0,1]}}`, []byte{7})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = ReadHeader(bytes.NewReader(data), int64(len(data)))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "more than 64 dimensions") || len(err.Error()) > 200 {
		t.Errorf("%.300v", err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > uint64(len(data))+1<<20 {
		t.Errorf("a header of %d bytes allocated %d", len(data), allocated)
	}
}
