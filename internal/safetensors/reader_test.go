package safetensors

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
)

// countingReader counts the calls to Read and the bytes they return.
type countingReader struct {
	r            io.Reader
	calls, bytes int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.calls++
	n, err := c.r.Read(p)
	c.bytes += n
	return n, err
}

// TestHugeEmptyRows reads 2^62 rows of no bytes: one ReadRows call
// returns them all, and the next io.EOF, at offsets and from a stream.
func TestHugeEmptyRows(t *testing.T) {
	data := fixture(t, "good", "huge_empty_rows.safetensors")
	h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x", "y"} {
		for _, from := range []int64{0, 5} {
			rd, err := h.NewRangeReader(bytes.NewReader(data), name, from, 1<<62)
			if err != nil {
				t.Fatal(err)
			}
			if rd.RowBytes() != 0 || rd.RowsLeft() != 1<<62-from {
				t.Fatalf("%s: %d rows of %d bytes", name, rd.RowsLeft(), rd.RowBytes())
			}
			got, calls, err := readRows(rd, 1)
			if err != nil || len(got) != 0 || calls != 2 || rd.RowsLeft() != 0 {
				t.Errorf("%s from %d: %d calls, %d bytes, %v", name, from, calls, len(got), err)
			}
		}
		// A stream of unknown size: the rest of the file is read, once.
		stream := &countingReader{r: bytes.NewReader(data)}
		h, err := ReadHeader(stream, -1)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := h.NewReader(stream, name)
		if err != nil {
			t.Fatal(err)
		}
		n, err := rd.ReadRows(nil)
		if n != 1<<62 || err != nil {
			t.Errorf("%s: ReadRows: %d, %v", name, n, err)
		}
		if n, err := rd.ReadRows(nil); n != 0 || err != io.EOF {
			t.Errorf("%s: after the last row: %d, %v", name, n, err)
		}
		if stream.bytes != len(data) || stream.calls > 10 {
			t.Errorf("%s: %d reads of %d bytes for a file of %d", name, stream.calls, stream.bytes, len(data))
		}
	}
}

// TestStreamPrefixes cuts files at every byte: every tensor read from the
// prefix, as a stream or as a file of that size, is an ErrTruncated error;
// and a byte more is an ErrTrailing error.
func TestStreamPrefixes(t *testing.T) {
	for _, name := range []string{"openmoss_chunk.safetensors", "unpadded_unaligned.safetensors", "scalar_empty.safetensors"} {
		data := fixture(t, "good", name)
		for cut := range len(data) {
			for _, sized := range []bool{false, true} {
				err := firstError(data[:cut], sized)
				if !errors.Is(err, ErrTruncated) {
					t.Errorf("%s cut at %d (sized %v): %v", name, cut, sized, err)
				}
			}
		}
		longer := append(bytes.Clone(data), 0)
		for _, sized := range []bool{false, true} {
			if err := firstError(longer, sized); !errors.Is(err, ErrTrailing) {
				t.Errorf("%s and a byte (sized %v): %v", name, sized, err)
			}
		}
	}
}

// TestReadersConcurrent reads one tensor of a file in ranges from many
// goroutines at once, as the workers of a large file do.
func TestReadersConcurrent(t *testing.T) {
	path := filepath.Join("testdata", "good", "saelens_activations.safetensors")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeader(io.NewSectionReader(f, 0, info.Size()), info.Size())
	if err != nil {
		t.Fatal(err)
	}
	tensor, _ := h.Lookup("activations")
	rows := tensor.Shape[0]
	const workers = 7
	parts := make([][]byte, workers)
	var wg sync.WaitGroup
	for w := range int64(workers) {
		wg.Go(func() {
			rd, err := h.NewRangeReader(f, "activations", rows*w/workers, rows*(w+1)/workers)
			if err != nil {
				t.Error(err)
				return
			}
			if parts[w], _, err = readRows(rd, 3); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	data := fixture(t, "good", "saelens_activations.safetensors")
	want := native(data[h.DataOffset()+tensor.Begin:h.DataOffset()+tensor.End], 4)
	if got := bytes.Join(parts, nil); !bytes.Equal(got, want) {
		t.Errorf("the workers read %d bytes, not the %d of the tensor", len(got), len(want))
	}
}

func TestReaderErrors(t *testing.T) {
	data := fixture(t, "good", "scalar_empty.safetensors")
	h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ra := bytes.NewReader(data)
	if _, err := h.NewReader(ra, "scalar"); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `tensor "scalar" is a scalar (shape [])`) {
		t.Errorf("scalar: %v", err)
	}
	if _, err := h.NewRangeReader(ra, "nope", 0, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("no such tensor: %v", err)
	}
	for _, r := range [][2]int64{{-1, 1}, {2, 1}, {0, 4}, {4, 4}} {
		if _, err := h.NewRangeReader(ra, "empty_features", r[0], r[1]); err == nil || !strings.Contains(err.Error(), "not a range of its 3 rows") {
			t.Errorf("rows %v: %v", r, err)
		}
	}
	rd, err := h.NewRangeReader(ra, "x", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.ReadRows(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "less than a row of 2") {
		t.Errorf("a short buffer: %v", err)
	}

	unsized, err := ReadHeader(bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unsized.NewRangeReader(ra, "x", 0, 2); err == nil || !strings.Contains(err.Error(), "needs a Header read with the file's size") {
		t.Errorf("a range of a stream: %v", err)
	}

	unsupported := fixture(t, "bad", "unsupported_F8_E4M3.safetensors")
	h, err = ReadHeader(bytes.NewReader(unsupported), int64(len(unsupported)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.NewReader(bytes.NewReader(unsupported), "x"); !errors.Is(err, ErrUnsupported) ||
		!strings.Contains(err.Error(), `tensor "x": unsupported dtype F8_E4M3 (this reader reads U64 I64 F64 F32 U32 I32 BF16 F16 U16 I16 I8 U8 BOOL)`) {
		t.Errorf("F8_E4M3: %v", err)
	}

	// A file shorter than the size its Header was read with (it changed,
	// or the caller lied): the rows are an ErrTruncated error.
	h, err = ReadHeader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rd, err = h.NewRangeReader(bytes.NewReader(data[:len(data)-1]), "x", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := readRows(rd, 2); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), `tensor "x": the file ends 3 bytes into the 4 bytes of rows 0 to 2`) {
		t.Errorf("a shrunk file: %v", err)
	}

	// The verdict on a stream's end is given once, and kept.
	stream := append(bytes.Clone(data), 1, 2, 3)
	r := bytes.NewReader(stream)
	h, err = ReadHeader(r, -1)
	if err != nil {
		t.Fatal(err)
	}
	rd, err = h.NewReader(r, "empty_features")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := rd.ReadRows(nil); n != 3 || err != nil {
		t.Errorf("3 rows of no bytes: %d, %v", n, err)
	}
	for range 2 {
		if _, err := rd.ReadRows(nil); !errors.Is(err, ErrTrailing) {
			t.Errorf("trailing bytes: %v", err)
		}
		if _, err := rd.ReadRow(nil); !errors.Is(err, ErrTrailing) {
			t.Errorf("trailing bytes, ReadRow: %v", err)
		}
	}
}

// TestNoAllocationFromClaims checks that what a header claims, a header of
// 100 MB or a row of 4 TB, costs memory in proportion to the bytes the
// input holds, not to the claim.
func TestNoAllocationFromClaims(t *testing.T) {
	const bound = 1 << 20 // the claims are 100 MB and 4 TB; the span-granular count is noisy below
	if got := allocatedBy(func() { sink = make([]byte, 4*bound) }); got < 4*bound {
		t.Fatalf("allocatedBy saw %d bytes of a %d-byte allocation", got, 4*bound)
	}
	for _, name := range []string{"huge_header_claim.safetensors", "huge_shape_claim.safetensors", "header_length_max.safetensors", "header_over_cap.safetensors"} {
		data := fixture(t, "bad", name)
		for _, sized := range []bool{false, true} {
			var err error
			allocated := allocatedBy(func() { err = firstError(data, sized) })
			if err == nil || allocated > bound {
				t.Errorf("%s (sized %v): %d bytes allocated, %v", name, sized, allocated, err)
			}
		}
	}
}

var sink []byte

// allocatedBy returns the bytes f allocates, give or take the spans the
// runtime hands out at once (runtime/metrics, unlike runtime.ReadMemStats,
// does not stop the world, so that the fuzz targets can call it twice an
// input).
func allocatedBy(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	f()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

// TestReadRowsAllocates nothing once the Reader is made.
func TestReadRowsAllocates(t *testing.T) {
	data := padded(`{"x":{"dtype":"F32","shape":[1000,2],"data_offsets":[0,8000]}}`, make([]byte, 8000))
	h, err := ReadHeader(bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(data[h.DataOffset():])
	rd, err := h.NewReader(r, "x")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if allocs := testing.AllocsPerRun(100, func() {
		if n, err := rd.ReadRows(buf); n != 1 || err != nil {
			t.Fatal(n, err)
		}
	}); allocs != 0 {
		t.Errorf("ReadRows allocates %v times a call", allocs)
	}
}
