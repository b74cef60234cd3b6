package safetensors

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// addFixtures seeds a fuzz target with every fixture.
func addFixtures(f *testing.F, kinds ...string) {
	for _, kind := range kinds {
		paths, err := filepath.Glob(filepath.Join("testdata", kind, "*.safetensors"))
		if err != nil || len(paths) == 0 {
			f.Fatalf("no fixtures in testdata/%s: %v", kind, err)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// allocationBound is what reading an input of n bytes may allocate: a
// small multiple of n, never what the input claims.
func allocationBound(n int) uint64 { return 64*uint64(n) + 1<<20 }

// checkError fails unless err is one line wrapping one of the sentinels.
func checkError(t *testing.T, err error, sentinels ...error) {
	t.Helper()
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("a multi-line error: %q", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("an error that wraps none of %v: %v", sentinels, err)
}

// FuzzReadHeader checks that ReadHeader never panics, allocates in
// proportion to its input, consumes exactly the header it reports, and
// accepts only headers that keep every rule; and that the writer rewrites
// what it accepts into a file the reader reads back the same.
func FuzzReadHeader(f *testing.F) {
	addFixtures(f, "good", "bad")
	f.Add(padded(`{"a":{"dtype":"F32","shape":[1,0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, size := range []int64{int64(len(data)), -1} {
			r := bytes.NewReader(data)
			var h *Header
			var err error
			if allocated := allocatedBy(func() { h, err = ReadHeader(r, size) }); allocated > allocationBound(len(data)) {
				t.Fatalf("size %d: %d bytes allocated for %d bytes of input", size, allocated, len(data))
			}
			if err != nil {
				checkError(t, err, ErrFormat, ErrTruncated, ErrTrailing)
				continue
			}
			if consumed := int64(len(data) - r.Len()); consumed != h.DataOffset() {
				t.Fatalf("consumed %d bytes, DataOffset %d", consumed, h.DataOffset())
			}
			checkHeader(t, h, data, size)
		}
	})
}

// checkHeader checks an accepted header keeps every rule.
func checkHeader(t *testing.T, h *Header, data []byte, size int64) {
	end := int64(0)
	for _, tensor := range h.Tensors {
		need, err := tensor.size()
		if err != nil || tensor.Begin != end || tensor.End-tensor.Begin != need || !tensor.DType.Valid() {
			t.Fatalf("accepted %v at [%d, %d] after %d: %v", tensor, tensor.Begin, tensor.End, end, err)
		}
		if got, ok := h.Lookup(tensor.Name); !ok || got.Begin != tensor.Begin || tensor.Name == "__metadata__" {
			t.Fatalf("Lookup(%q): %v", tensor.Name, got)
		}
		end = tensor.End
	}
	if h.DataBytes != end || len(h.index) != len(h.Tensors) {
		t.Fatalf("data of %d bytes, tensors end at %d; %d names of %d tensors", h.DataBytes, end, len(h.index), len(h.Tensors))
	}
	if size < 0 {
		return
	}
	if h.DataOffset()+h.DataBytes != size {
		t.Fatalf("data ends at %d, the file at %d", h.DataOffset()+h.DataBytes, size)
	}
	var tensors []TensorData
	for _, tensor := range h.Tensors {
		raw := data[h.DataOffset()+tensor.Begin : h.DataOffset()+tensor.End]
		tensors = append(tensors, TensorData{tensor.Name, tensor.DType, tensor.Shape, raw})
	}
	var b bytes.Buffer
	if err := Write(&b, tensors, h.Metadata); err != nil {
		t.Fatalf("Write refuses what ReadHeader accepted: %v", err)
	}
	again, err := ReadHeader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatalf("ReadHeader refuses what Write wrote: %v", err)
	}
	if len(again.Tensors) != len(h.Tensors) || len(again.Metadata) != len(h.Metadata) || (again.Metadata == nil) != (h.Metadata == nil) {
		t.Fatalf("rewritten: %d tensors, metadata %q; was %d, %q", len(again.Tensors), again.Metadata, len(h.Tensors), h.Metadata)
	}
	for _, tensor := range h.Tensors {
		got, _ := again.Lookup(tensor.Name)
		if got.DType != tensor.DType || !slices.Equal(got.Shape, tensor.Shape) ||
			!bytes.Equal(b.Bytes()[again.DataOffset()+got.Begin:again.DataOffset()+got.End], data[h.DataOffset()+tensor.Begin:h.DataOffset()+tensor.End]) {
			t.Fatalf("rewritten, %v reads back as %v", tensor, got)
		}
	}
	for k, v := range h.Metadata {
		if again.Metadata[k] != v {
			t.Fatalf("rewritten, metadata %q: %q reads back as %q", k, v, again.Metadata[k])
		}
	}
}

// FuzzRead checks that every tensor of an input reads, at offsets in two
// ranges and as a stream of unknown size, the bytes its offsets hold, in
// memory proportional to the input; and that a stream is never accepted
// where the sized file is rejected.
func FuzzRead(f *testing.F) {
	addFixtures(f, "good")
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrTrailing) {
				return
			}
			// The header may be fine and the file too short or long:
			// reading a stream of it must fail too.
			stream, err := ReadHeader(bytes.NewReader(data), -1)
			if err != nil {
				return
			}
			for _, tensor := range stream.Tensors {
				if len(tensor.Shape) > 0 {
					var err error
					if allocated := allocatedBy(func() { err = firstError(data, false) }); allocated > allocationBound(len(data)) {
						t.Fatalf("streams: %d bytes allocated for %d bytes of input", allocated, len(data))
					}
					if err == nil {
						t.Fatalf("a stream reads what the sized file rejects")
					}
					checkError(t, err, ErrTruncated, ErrTrailing, ErrUnsupported)
					return
				}
			}
			return
		}
		for i, tensor := range h.Tensors {
			if i == 8 {
				break
			}
			_, err := h.NewRangeReader(bytes.NewReader(data), tensor.Name, 0, 0)
			if !tensor.DType.Supported() || len(tensor.Shape) == 0 {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("%v: %v", tensor, err)
				}
				continue
			}
			want := native(data[h.DataOffset()+tensor.Begin:h.DataOffset()+tensor.End], tensor.DType.Size())
			allocated := allocatedBy(func() {
				rows := tensor.Shape[0]
				var got []byte
				for _, r := range [][2]int64{{0, rows / 2}, {rows / 2, rows}} {
					rd, err := h.NewRangeReader(bytes.NewReader(data), tensor.Name, r[0], r[1])
					if err != nil {
						t.Fatal(err)
					}
					part, _, err := readRows(rd, int64(1+i%3))
					if err != nil {
						t.Fatalf("%v, rows %v: %v", tensor, r, err)
					}
					got = append(got, part...)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%v: read at offsets %d bytes, not the %d it holds", tensor, len(got), len(want))
				}
				got, err := readStream(bytes.NewReader(data), -1, tensor.Name)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%v: read as a stream %d bytes, %v", tensor, len(got), err)
				}
			})
			if allocated > allocationBound(len(data)) {
				t.Fatalf("%v: %d bytes allocated for %d bytes of input", tensor, allocated, len(data))
			}
		}
	})
}
