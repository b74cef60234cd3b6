package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sparsekit/l0/internal/rows"
)

// expectations is testdata/expected.json, written by gen_fixtures.py.
type expectations struct {
	Good map[string]struct {
		HeaderBytes int64             `json:"header_bytes"`
		Order       []string          `json:"order"`
		Metadata    map[string]string `json:"metadata"`
		Tensors     map[string]struct {
			DType       string   `json:"dtype"`
			Shape       []int64  `json:"shape"`
			DataOffsets [2]int64 `json:"data_offsets"`
			NonZero     *int     `json:"nonzero"`
			RowNonZero  []int    `json:"row_nonzero"`
		} `json:"tensors"`
	} `json:"good"`
	Bad map[string]struct {
		Error          string `json:"error"`
		Contains       string `json:"contains"`
		StreamError    string `json:"stream_error"`
		StreamContains string `json:"stream_contains"`
	} `json:"bad"`
}

func loadExpectations(t testing.TB) *expectations {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expectations
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Good) == 0 || len(e.Bad) == 0 {
		t.Fatal("expected.json lists no fixtures")
	}
	return &e
}

func fixture(t testing.TB, kind, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", kind, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var sentinels = map[string]error{
	"ErrFormat":      ErrFormat,
	"ErrUnsupported": ErrUnsupported,
	"ErrTruncated":   ErrTruncated,
	"ErrTrailing":    ErrTrailing,
}

// TestGoodFixtures reads every tensor of every valid fixture in every way
// (at offsets, whole and in ranges; as streams of known and unknown size,
// one byte and half the asked bytes at a time) and checks the header
// against what the generator wrote and the rows' non-zero counts against
// numpy's.
func TestGoodFixtures(t *testing.T) {
	exp := loadExpectations(t)
	for _, name := range slices.Sorted(maps.Keys(exp.Good)) {
		want := exp.Good[name]
		data := fixture(t, "good", name)
		h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var order []string
		for _, tensor := range h.Tensors {
			order = append(order, tensor.Name)
		}
		if !slices.Equal(order, want.Order) && len(order)+len(want.Order) > 0 {
			t.Errorf("%s: order %q, want %q", name, order, want.Order)
		}
		if h.HeaderBytes != want.HeaderBytes || (h.Metadata == nil) != (want.Metadata == nil) || !maps.Equal(h.Metadata, want.Metadata) {
			t.Errorf("%s: header of %d bytes, metadata %q; want %d, %q", name, h.HeaderBytes, h.Metadata, want.HeaderBytes, want.Metadata)
		}
		for _, tensor := range h.Tensors {
			w := want.Tensors[tensor.Name]
			if tensor.DType.String() != w.DType || !slices.Equal(tensor.Shape, w.Shape) || tensor.Begin != w.DataOffsets[0] || tensor.End != w.DataOffsets[1] {
				t.Errorf("%s: %v at [%d, %d], want %+v", name, tensor, tensor.Begin, tensor.End, w)
				continue
			}
			if !tensor.DType.Supported() || len(tensor.Shape) == 0 {
				continue
			}
			raw := data[h.DataOffset()+tensor.Begin : h.DataOffset()+tensor.End]
			rows := checkReads(t, name, data, tensor.Name, native(raw, tensor.DType.Size()))
			if w.NonZero == nil {
				continue
			}
			total, perRow := 0, []int{}
			if rowBytes := tensor.Bytes() / max(tensor.Shape[0], 1); rowBytes > 0 {
				for r := range tensor.Shape[0] {
					n := countNonZero(rows[r*rowBytes:(r+1)*rowBytes], tensor.DType)
					total += n
					perRow = append(perRow, n)
				}
			} else {
				perRow = make([]int, tensor.Shape[0])
			}
			if total != *w.NonZero || !slices.Equal(perRow, w.RowNonZero) {
				t.Errorf("%s: %s: %d non-zero, rows %v; numpy counts %d, %v", name, tensor.Name, total, perRow, *w.NonZero, w.RowNonZero)
			}
		}
	}
}

// checkReads reads the named tensor of the file every way there is, checks
// each gives want, and returns it.
func checkReads(t *testing.T, file string, data []byte, name string, want []byte) []byte {
	t.Helper()
	ra := bytes.NewReader(data)
	h, err := ReadHeader(io.NewSectionReader(ra, 0, int64(len(data))), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	tensor, _ := h.Lookup(name)
	rows := tensor.Shape[0]
	check := func(how string, got []byte, err error) {
		t.Helper()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %s, %s: %v, read %d bytes, want %d", file, name, how, err, len(got), len(want))
		}
	}
	for _, bufRows := range []int64{1, 3, rows + 1} {
		rd, err := h.NewRangeReader(ra, name, 0, rows)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := readRows(rd, bufRows)
		check("at offsets", got, err)
	}
	// Three ranges, as three workers would read them.
	var got []byte
	var rangeErr error
	bounds := []int64{0, rows / 3, rows / 3 * 2, rows}
	for i := range 3 {
		rd, err := h.NewRangeReader(ra, name, bounds[i], bounds[i+1])
		if err != nil {
			t.Fatal(err)
		}
		if rd.FirstRow() != bounds[i] || rd.RowsLeft() != bounds[i+1]-bounds[i] {
			t.Errorf("range %d: first row %d, %d rows", i, rd.FirstRow(), rd.RowsLeft())
		}
		part, _, err := readRows(rd, 2)
		got = append(got, part...)
		rangeErr = firstNonNil(rangeErr, err)
	}
	check("in three ranges", got, rangeErr)
	for _, size := range []int64{int64(len(data)), -1} {
		for how, wrap := range map[string]func(io.Reader) io.Reader{
			"a stream":                 func(r io.Reader) io.Reader { return struct{ io.Reader }{r} },
			"a one-byte stream":        iotest.OneByteReader,
			"a half stream":            iotest.HalfReader,
			"a stream with a last EOF": iotest.DataErrReader,
		} {
			got, err := readStream(wrap(bytes.NewReader(data)), size, name)
			check(how, got, err)
		}
	}
	return want
}

func firstNonNil(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// readRows reads every row left with ReadRows, bufRows at a time, and
// returns them, and the number of calls made.
func readRows(rd *Reader, bufRows int64) ([]byte, int, error) {
	buf := make([]byte, rd.RowBytes()*bufRows)
	var got []byte
	for calls := 1; ; calls++ {
		n, err := rd.ReadRows(buf)
		if err == io.EOF {
			return got, calls, nil
		}
		if err != nil {
			return got, calls, err
		}
		got = append(got, buf[:n*rd.RowBytes()]...)
	}
}

// readStream reads the named tensor from a stream as a caller that does
// not trust the header would: the first row with ReadRow, the rest with
// ReadRows.
func readStream(r io.Reader, size int64, name string) ([]byte, error) {
	h, err := ReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	rd, err := h.NewReader(r, name)
	if err != nil {
		return nil, err
	}
	if rd.RowsLeft() == 0 {
		_, err := rd.ReadRows(nil)
		if err != io.EOF {
			return nil, err
		}
		return nil, nil
	}
	first, err := rd.ReadRow(nil)
	if err != nil {
		return nil, err
	}
	got := bytes.Clone(rows.Bytes(first)[:rd.RowBytes()])
	rest, _, err := readRows(rd, 2)
	return append(got, rest...), err
}

// TestBadFixtures checks every hostile fixture is rejected, read at
// offsets with its size known and as a stream of unknown size, with the
// sentinel and words the generator expects.
func TestBadFixtures(t *testing.T) {
	exp := loadExpectations(t)
	for _, name := range slices.Sorted(maps.Keys(exp.Bad)) {
		want := exp.Bad[name]
		data := fixture(t, "bad", name)
		sized := firstError(data, true)
		stream := firstError(data, false)
		streamErr, streamText := orElse(want.StreamError, want.Error), orElse(want.StreamContains, want.Contains)
		for _, c := range []struct {
			how       string
			err       error
			sentinel  string
			substring string
		}{{"sized", sized, want.Error, want.Contains}, {"stream", stream, streamErr, streamText}} {
			if strconv.IntSize == 32 && errors.Is(c.err, ErrUnsupported) && strings.Contains(c.err.Error(), "too large for this machine") {
				continue // a row claimed past 2 GiB, which a 32-bit machine refuses before reading it
			}
			if !errors.Is(c.err, sentinels[c.sentinel]) || !strings.Contains(c.err.Error(), c.substring) || strings.Contains(c.err.Error(), "\n") {
				t.Errorf("%s, %s: %v\n want %s containing %q", name, c.how, c.err, c.sentinel, c.substring)
			}
		}
	}
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// firstError reads every tensor of a file but scalars (which have no
// rows), as a file of known size or as streams of unknown size (one per
// tensor), and returns the first error.
func firstError(data []byte, sized bool) error {
	if !sized {
		h, err := ReadHeader(bytes.NewReader(data), -1)
		if err != nil {
			return err
		}
		for _, tensor := range h.Tensors {
			if len(tensor.Shape) == 0 {
				continue
			}
			if _, err := readStream(bytes.NewReader(data), -1, tensor.Name); err != nil {
				return err
			}
		}
		return nil
	}
	h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	for _, tensor := range h.Tensors {
		if len(tensor.Shape) == 0 {
			continue
		}
		rd, err := h.NewRangeReader(bytes.NewReader(data), tensor.Name, 0, tensor.Shape[0])
		if err != nil {
			return err
		}
		if _, _, err := readRows(rd, 1); err != nil {
			return err
		}
	}
	return nil
}

// TestWriteFixtures rewrites every fixture in the reference layout with
// Write, from what the reader makes of it, and checks the bytes are the
// same.
func TestWriteFixtures(t *testing.T) {
	exp := loadExpectations(t)
	for _, name := range slices.Sorted(maps.Keys(exp.Good)) {
		if name == "unpadded_unaligned.safetensors" || name == "whitespace_padding.safetensors" {
			continue // not the reference layout
		}
		data := fixture(t, "good", name)
		h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var tensors []TensorData
		for _, tensor := range h.Tensors {
			raw := data[h.DataOffset()+tensor.Begin : h.DataOffset()+tensor.End]
			tensors = append(tensors, TensorData{Name: tensor.Name, DType: tensor.DType, Shape: tensor.Shape, Data: raw})
		}
		// In reverse, so that the writer's order is its own.
		slices.Reverse(tensors)
		var b bytes.Buffer
		if err := Write(&b, tensors, h.Metadata); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(b.Bytes(), data) {
			t.Errorf("%s: Write wrote\n%q\nthe fixture is\n%q", name, b.Bytes()[:min(b.Len(), 200)], data[:min(len(data), 200)])
		}
	}
}

// native returns the little-endian elements of p in the machine's order,
// as the reader delivers them.
func native(p []byte, size int) []byte {
	p = bytes.Clone(p)
	rows.ToHost(p, size)
	return p
}

// countNonZero counts the non-zero elements of p, in the machine's order,
// by their bits: floats ignore the sign bit.
func countNonZero(p []byte, d DType) int {
	n := 0
	for i := 0; i < len(p); i += d.Size() {
		var bits, sign uint64
		switch d.Size() {
		case 1:
			bits = uint64(p[i])
		case 2:
			bits, sign = uint64(binary.NativeEndian.Uint16(p[i:])), 1<<15
		case 4:
			bits, sign = uint64(binary.NativeEndian.Uint32(p[i:])), 1<<31
		case 8:
			bits, sign = binary.NativeEndian.Uint64(p[i:]), 1<<63
		}
		if d.IsFloat() {
			bits &^= sign
		}
		if bits != 0 {
			n++
		}
	}
	return n
}
