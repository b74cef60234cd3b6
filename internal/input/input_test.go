package input

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/metric"
)

// f32 returns the little-endian bytes of float32 values.
func f32(values ...float32) []byte {
	var b []byte
	for _, v := range values {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func stream(data []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(data)} }

// counted counts every row of in with one worker of the config, range by
// range of at most per rows (0: all at once), and returns the summary.
func counted(t *testing.T, in *Input, c ReadConfig, per int64) tally.Summary {
	t.Helper()
	w := NewWorker(c)
	rows, _, split := in.Span()
	if !split || per == 0 {
		per = max(rows, 1)
	}
	var total tally.Tally
	for from := int64(0); from < max(rows, 1); from += per {
		err := in.Count(w, from, min(rows, from+per), func() (tally.Tally, error) {
			if total == nil {
				var err error
				total, err = tally.New(in.Config, metric.NonZero(), true)
				return total, err
			}
			return total, nil
		})
		if err != nil {
			t.Fatalf("%s [%d, %d): %v", in.Name, from, from+per, err)
		}
	}
	s, err := total.Summarize(0.1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKinds opens each kind of input, from a file of known size and as a
// stream, and counts it: the same numbers every way.
func TestKinds(t *testing.T) {
	t.Parallel()
	x := f32(1, 0, 0, 2, 0, 0, 3, 0, 0, 0, 0, 4) // [3, 2, 2]: per component 3 and 1 non-zero
	npyFile := append(npy.AppendHeader(nil, "<f4", 3, 2, 2), x...)
	var st bytes.Buffer
	if err := safetensors.Write(&st, []safetensors.TensorData{{Name: "acts", DType: safetensors.Float32, Shape: []int64{3, 2, 2}, Data: x}}, nil); err != nil {
		t.Fatal(err)
	}
	a, _ := metric.NewFeatureActivity[float32](2, 2)
	a.Update([]float32{1, 0, 0, 2, 0, 0, 3, 0, 0, 0, 0, 4}, 3, 2, 2)
	state, _ := a.MarshalBinary()
	var pair bytes.Buffer
	var index []byte
	for _, i := range []uint64{0, 1, 0, 0, 0, 1} { // k = 1 a component: the non-zero one, or a zero
		index = binary.LittleEndian.AppendUint64(index, i)
	}
	err := safetensors.Write(&pair, []safetensors.TensorData{
		{Name: "i", DType: safetensors.Int64, Shape: []int64{3, 2, 1}, Data: index},
		{Name: "v", DType: safetensors.Float32, Shape: []int64{3, 2, 1}, Data: f32(1, 2, 0, 3, 0, 4)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.0 / 3, 1}
	for _, c := range []struct {
		name, format string
		data         []byte
		o            Options
		streams      bool
	}{
		{"a.npy", NPY, npyFile, Options{}, true},
		{"a.safetensors", Safetensors, st.Bytes(), Options{}, true},
		{"a.l0", State, state, Options{}, true},
		{"a.pair", TopK, pair.Bytes(), Options{TopK: TopKKeys{Index: "i", Values: "v"}, Features: 2}, false},
	} {
		for _, sized := range []bool{true, false} {
			var in *Input
			var err error
			if sized {
				in, err = OpenReader(c.name, bytes.NewReader(c.data), int64(len(c.data)), c.o)
			} else {
				in, err = OpenReader(c.name, stream(c.data), -1, c.o)
			}
			if !sized && !c.streams {
				if err == nil || !strings.Contains(err.Error(), "regular files only") {
					t.Errorf("%s as a stream: %v", c.name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s, sized %v: %v", c.name, sized, err)
			}
			if in.Format != c.format || in.Config != (tally.Config{Elem: tally.Float32, Components: 2, Features: 2}) || in.Shape[0] != 3 {
				t.Errorf("%s: %s %+v %v", c.name, in.Format, in.Config, in.Shape)
			}
			for _, per := range []int64{0, 1, 2} {
				for _, buffer := range []int{0, 1} {
					s := counted(t, in, ReadConfig{BufferBytes: buffer}, per)
					if !slices.Equal(s.L0, want) || s.Vectors != 3 {
						t.Errorf("%s, sized %v, ranges of %d, buffer %d: %+v", c.name, sized, per, buffer, s)
					}
					if !sized {
						break // a stream is read once
					}
				}
				if !sized {
					break
				}
			}
			in.Close()
		}
	}
}

// TestRecognition: formats by their first bytes, and clear errors for
// the rest.
func TestRecognition(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		data []byte
		err  string
	}{
		{nil, "the file is empty"},
		{[]byte("\x93NUM"), "truncated"},
		{[]byte("L0NM and the rest"), "an L0Norm state"},
		{[]byte("L0FA"), "shorter than any (44)"},
		{[]byte("PK\x03\x04 a zip file, not an array"), "not an array l0 reads"},
		{[]byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "), "no tensor of rank 2 or 3"},
	} {
		for _, r := range []struct {
			r    io.Reader
			size int64
		}{{bytes.NewReader(c.data), int64(len(c.data))}, {stream(c.data), -1}} {
			_, err := OpenReader("x", r.r, r.size, Options{})
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want %q", c.data, err, c.err)
			}
		}
	}
	if _, err := OpenReader("x", stream(nil), 5, Options{}); err == nil {
		t.Error("a sized input that is not an io.ReaderAt")
	}
}

// TestArrayRules: the shapes and rules an array must follow.
func TestArrayRules(t *testing.T) {
	t.Parallel()
	file := func(descr string, shape ...int64) []byte {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		size := map[string]int64{"<f4": 4, "<i4": 4, "|u1": 1}[descr]
		return append(npy.AppendHeader(nil, descr, shape...), make([]byte, n*size)...)
	}
	for _, c := range []struct {
		data []byte
		o    Options
		err  string
	}{
		{file("<f4", 3), Options{}, "has rank 1"},
		{file("<f4", 0, 4), Options{}, "has no vectors"},
		{file("<f4", 2, 0, 4), Options{}, "has no components"},
		{file("<f4", 2, 0, 4), Options{Positions: true}, "has no positions"},
		{file("<i4", 2, 4), Options{Rule: metric.Above(0)}, "-threshold needs a float array, this one is int32 (<i4)"},
		{file("<i4", 2, 4), Options{Rule: metric.AbsAbove(0)}, "-abs-threshold needs a float array"},
		{file("<f4", 2, 4), Options{Positions: true}, "-positions reads [batch, position, feature]"},
		{file("<f4", 2, 3, 4), Options{Positions: true, Skip: 3}, "-skip-positions 3 leaves none of the 3 positions"},
		{file("|u1", 1, 1<<16+1, 0), Options{}, "l0 takes at most 65536 components without features"},
	} {
		_, err := OpenReader("x.npy", bytes.NewReader(c.data), int64(len(c.data)), c.o)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.err)
		}
	}
	in, err := OpenReader("x.npy", bytes.NewReader(file("<f4", 2, 3, 4)), int64(len(file("<f4", 2, 3, 4))), Options{Positions: true, Skip: 1})
	if err != nil || in.Config != (tally.Config{Elem: tally.Float32, Features: 4, Positions: 2, Skip: 1}) {
		t.Errorf("-skip-positions 1: %+v, %v", in, err)
	}
}

// TestPickTensor: -key's tensor, or the one of rank 2 or 3 of a dtype l0
// counts; else a listing of at most 16 tensors.
func TestPickTensor(t *testing.T) {
	t.Parallel()
	var tensors []safetensors.TensorData
	for i := range 20 {
		tensors = append(tensors, safetensors.TensorData{Name: fmt.Sprintf("t%02d", i), DType: safetensors.Uint8, Shape: []int64{1, 1}, Data: []byte{1}})
	}
	var b bytes.Buffer
	if err := safetensors.Write(&b, tensors, nil); err != nil {
		t.Fatal(err)
	}
	h, err := safetensors.ReadHeader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pickTensor(h, "", false)
	if err == nil || !strings.Contains(err.Error(), "20 tensors of rank 2 or 3") || !strings.Contains(err.Error(), ", and 4 more") {
		t.Errorf("%v", err)
	}
	if tn, err := pickTensor(h, "t07", true); err != nil || tn.Name != "t07" {
		t.Errorf("-key t07: %v, %v", tn, err)
	}
	if _, err := pickTensor(h, "", true); !errors.Is(err, safetensors.ErrNotFound) {
		t.Errorf("-key \"\": %v", err)
	}
}

// TestDTypes: the dtypes of each element type, as -kernels lists them.
func TestDTypes(t *testing.T) {
	t.Parallel()
	want := map[tally.Elem]string{
		tally.Float32: "<f4 F32", tally.Float64: "<f8 F64", tally.Float16: "<f2 F16", tally.BFloat16: "BF16",
		tally.Int8: "|i1 I8", tally.Int16: "<i2 I16", tally.Int32: "<i4 I32", tally.Int64: "<i8 I64",
		tally.Uint8: "|u1 |b1 U8 BOOL", tally.Uint16: "<u2 U16", tally.Uint32: "<u4 U32", tally.Uint64: "<u8 U64",
	}
	for _, e := range tally.Elems() {
		if got := DTypes(e); got != want[e] {
			t.Errorf("%s: %q, want %q", e, got, want[e])
		}
	}
	if SafetensorsElem(safetensors.Complex64) != tally.Invalid || SafetensorsElem(safetensors.DType(200)) != tally.Invalid || NPYElem(npy.DType(200)) != tally.Invalid {
		t.Error("a dtype l0 does not count has an element type")
	}
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"a.npy", "a.npy"}, {"dir/é b.npy", "dir/é b.npy"}, {"a\tb", `"a\tb"`}, {"\xff", `"\xff"`},
		{`"q".npy`, `"\"q\".npy"`}, {"", `""`}, {"a\u2028b", `"a\u2028b"`},
	} {
		if got := DisplayName(c.in); got != c.want {
			t.Errorf("DisplayName(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	_, err := os.Open(filepath.Join(t.TempDir(), "none"))
	if got := Pathless(err).Error(); got != "open: no such file or directory" {
		t.Errorf("Pathless: %q", got)
	}
}

// TestShapeOf: at most 16 dimensions of a shape in a message.
func TestShapeOf(t *testing.T) {
	t.Parallel()
	if s := ShapeOf(make([]int64, 40)); !strings.HasSuffix(s, "0, ...] (40 dimensions)") || strings.Count(s, "0, ") != 16 {
		t.Errorf("ShapeOf: %s", s)
	}
}

// TestSample: the sample is the size it says, and the same every time.
func TestSample(t *testing.T) {
	t.Parallel()
	data := Sample()
	if int64(len(data)) != newSample().size() || !bytes.Equal(data, Sample()) {
		t.Fatalf("the sample is %d bytes, size says %d", len(data), newSample().size())
	}
	in, err := OpenSample(data, Options{})
	if err != nil || in.Name != SampleName || !slices.Equal(in.Shape, []int64{sampleVectors, sampleComponents, sampleFeatures}) {
		t.Fatalf("%+v, %v", in, err)
	}
}

// TestCheckStreams: a pipe given twice, by one name or two, is refused.
func TestCheckStreams(t *testing.T) {
	t.Parallel()
	if err := CheckStreams([]string{"input_test.go", "input_test.go", "no such file"}); err != nil {
		t.Errorf("regular files given twice: %v", err)
	}
	if runtime.GOOS != "linux" {
		t.Skip("no /dev/fd paths here")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	p := fmt.Sprintf("/dev/fd/%d", r.Fd())
	if err := CheckStreams([]string{p, p}); err == nil || !strings.Contains(err.Error(), "is given twice, and is not a regular file") {
		t.Errorf("a pipe given twice: %v", err)
	}
	if err := CheckStreams([]string{p, "/proc/self/fd/" + p[len("/dev/fd/"):]}); err == nil || !strings.Contains(err.Error(), "(as "+p+")") {
		t.Errorf("a pipe given by two names: %v", err)
	}
}
