package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestWriteLayout checks the writer's bytes against files laid out by
// hand, as the reference writer lays them out.
func TestWriteLayout(t *testing.T) {
	for _, c := range []struct {
		tensors  []TensorData
		metadata map[string]string
		want     string
	}{
		{
			// SAELens' sparsity.safetensors: a 62-byte header and two spaces;
			// -10, -0.5 and 0 as little-endian float32.
			[]TensorData{Float32Tensor("sparsity", []int64{3}, []float32{-10, -0.5, 0})},
			nil,
			"\x40\x00\x00\x00\x00\x00\x00\x00" +
				`{"sparsity":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}` + "  " +
				"\x00\x00\x20\xc1" + "\x00\x00\x00\xbf" + "\x00\x00\x00\x00",
		},
		{
			// Metadata first, its keys sorted; tensors by dtype (I64, F16,
			// U8), then name; a scalar; 249 bytes padded to 256.
			[]TensorData{
				{"b", Uint8, []int64{2}, []byte{1, 2}},
				{"a", Uint8, []int64{1}, []byte{3}},
				{"w", Float16, []int64{1}, []byte{0x00, 0x3c}},
				{"c", Int64, nil, []byte{8, 0, 0, 0, 0, 0, 0, 0}},
			},
			map[string]string{"zz": "1", "a": "2"},
			"\x00\x01\x00\x00\x00\x00\x00\x00" +
				`{"__metadata__":{"a":"2","zz":"1"},` +
				`"c":{"dtype":"I64","shape":[],"data_offsets":[0,8]},` +
				`"w":{"dtype":"F16","shape":[1],"data_offsets":[8,10]},` +
				`"a":{"dtype":"U8","shape":[1],"data_offsets":[10,11]},` +
				`"b":{"dtype":"U8","shape":[2],"data_offsets":[11,13]}}` + "       " +
				"\x08\x00\x00\x00\x00\x00\x00\x00" + "\x00\x3c" + "\x03" + "\x01\x02",
		},
		// No tensors: {} and six spaces; empty, non-nil metadata is written.
		{nil, nil, "\x08\x00\x00\x00\x00\x00\x00\x00{}      "},
		{nil, map[string]string{}, "\x18\x00\x00\x00\x00\x00\x00\x00" + `{"__metadata__":{}}` + "     "},
	} {
		var b bytes.Buffer
		if err := Write(&b, c.tensors, c.metadata); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("wrote\n%q\nwant\n%q", b.String(), c.want)
		}
		if _, err := ReadHeader(bytes.NewReader(b.Bytes()), int64(b.Len())); err != nil {
			t.Errorf("the reader rejects what the writer wrote: %v", err)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	f32 := Float32Tensor("x", []int64{2}, []float32{1, 2})
	for _, c := range []struct {
		tensors  []TensorData
		metadata map[string]string
		text     string
	}{
		{[]TensorData{f32, f32}, nil, `two tensors are named "x"`},
		{[]TensorData{{Name: "__metadata__", DType: Uint8, Shape: []int64{0}}}, nil, `may not be named "__metadata__"`},
		{[]TensorData{{Name: "\xff", DType: Uint8, Shape: []int64{0}}}, nil, `the tensor name "\xff" is not UTF-8`},
		{[]TensorData{{Name: "x", Shape: []int64{0}}}, nil, `invalid dtype DType(0)`},
		{[]TensorData{{Name: "x", DType: 99, Shape: []int64{0}}}, nil, `invalid dtype DType(99)`},
		{[]TensorData{{Name: "x", DType: Uint8, Shape: []int64{-1}}}, nil, `a negative dimension in the shape [-1]`},
		{[]TensorData{{Name: "x", DType: Float32, Shape: []int64{2}, Data: make([]byte, 7)}}, nil, `7 bytes of data, the shape [2] of F32 needs 8`},
		{[]TensorData{{Name: "x", DType: Float32, Shape: []int64{1 << 62, 2}}}, nil, `2^63 bytes or more`},
		{[]TensorData{{Name: "x", DType: F4, Shape: []int64{3}, Data: make([]byte, 2)}}, nil, `do not fill whole bytes`},
		{nil, map[string]string{"a": "\xff"}, `is not UTF-8`},
	} {
		var b bytes.Buffer
		err := Write(&b, c.tensors, c.metadata)
		if err == nil || !strings.Contains(err.Error(), c.text) || b.Len() != 0 {
			t.Errorf("%v: wrote %d bytes, %v; want an error containing %q", c.tensors, b.Len(), err, c.text)
		}
	}
	if !testing.Short() { // 100 MB of metadata
		err := Write(new(bytes.Buffer), nil, map[string]string{"a": strings.Repeat("x", MaxHeaderBytes)})
		if err == nil || !strings.Contains(err.Error(), "more than the 100000000 bytes readers take") {
			t.Errorf("a header too long: %v", err)
		}
	}
	// The caller's slice is not reordered.
	tensors := []TensorData{Float32Tensor("b", nil, []float32{1}), Float32Tensor("a", nil, []float32{2})}
	if err := Write(new(bytes.Buffer), tensors, nil); err != nil || tensors[0].Name != "b" {
		t.Errorf("Write reordered its input: %v", err)
	}
}

// TestAppendString checks the escapes are serde_json's: the quote, the
// backslash and the control characters, nothing else.
func TestAppendString(t *testing.T) {
	got := string(appendString(nil, "a\"b\\c\x00\x1f\x7f\b\f\n\r\t\x01é✓/<>&\u2028"))
	want := `"a\"b\\c\u0000\u001f` + "\x7f" + `\b\f\n\r\t\u0001é✓/<>&` + "\u2028" + `"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for c := range 0x80 {
		s := fmt.Sprintf("x%cy", c)
		var back string
		if err := json.Unmarshal(appendString(nil, s), &back); err != nil || back != s {
			t.Errorf("%#x: %q reads back as %q, %v", c, appendString(nil, s), back, err)
		}
	}
}

// TestWriteReadBack writes random tensors of every dtype, of every rank up
// to 3 and with empty dimensions, and reads them back.
func TestWriteReadBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		var tensors []TensorData
		for i, d := range DTypes() {
			if !d.Supported() || rng.IntN(3) == 0 {
				continue
			}
			shape := make([]int64, rng.IntN(4))
			n := int64(1)
			for j := range shape {
				shape[j] = int64(rng.IntN(5))
				n *= shape[j]
			}
			data := make([]byte, n*int64(d.Size()))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			tensors = append(tensors, TensorData{Name: fmt.Sprintf("t%d-é%d", rng.IntN(100), i), DType: d, Shape: shape, Data: data})
		}
		metadata := map[string]string{"round": fmt.Sprint(round), "q\"\n": "\x00"}
		var b bytes.Buffer
		if err := Write(&b, tensors, metadata); err != nil {
			t.Fatal(err)
		}
		file := b.Bytes()
		h, err := ReadHeader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		if h.HeaderBytes%8 != 0 || !maps.Equal(h.Metadata, metadata) || len(h.Tensors) != len(tensors) {
			t.Errorf("round %d: header of %d bytes, metadata %q, %d tensors", round, h.HeaderBytes, h.Metadata, len(h.Tensors))
		}
		for _, want := range tensors {
			got, ok := h.Lookup(want.Name)
			if !ok || got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) ||
				!bytes.Equal(file[h.DataOffset()+got.Begin:h.DataOffset()+got.End], want.Data) {
				t.Errorf("round %d: %v read back as %v", round, want.Name, got)
			}
			if len(want.Shape) == 0 {
				continue
			}
			rd, err := h.NewRangeReader(bytes.NewReader(file), want.Name, 0, want.Shape[0])
			if err != nil {
				t.Fatal(err)
			}
			rows, _, err := readRows(rd, 2)
			if err != nil || !bytes.Equal(rows, native(want.Data, want.DType.Size())) {
				t.Errorf("round %d: %s: rows %v, %v", round, want.Name, rows, err)
			}
		}
	}
}

// TestWriteFailing checks a failing io.Writer's error is returned.
func TestWriteFailing(t *testing.T) {
	boom := errors.New("boom")
	for after := range 3 {
		w := &failingWriter{after: after, err: boom}
		err := Write(w, []TensorData{Float32Tensor("a", []int64{1}, []float32{1}), Float32Tensor("b", []int64{1}, []float32{2})}, nil)
		if err != boom {
			t.Errorf("failing after %d writes: %v", after, err)
		}
	}
}

type failingWriter struct {
	after int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after == 0 {
		return 0, w.err
	}
	w.after--
	return len(p), nil
}
