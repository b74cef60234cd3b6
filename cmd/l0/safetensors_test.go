package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/report"
	"github.com/sparsekit/l0/internal/safetensors"
)

// stDir holds the safetensors files gen_fixtures.py wrote, and
// expected.json, numpy's numbers for them.
const stDir = "testdata/safetensors"

// readerDir holds internal/safetensors' fixtures: every rule of the strict
// reader, which l0 must keep.
const readerDir = "../../internal/safetensors/testdata"

// stExpectation is a safetensors file's entry: a report as for .npy, plus
// the tensor read, the -key it needs, and the reports with -positions
// (keyed by -skip-positions).
type stExpectation struct {
	expectation
	Tensor      string                         `json:"tensor"`
	StreamError string                         `json:"stream_error"`
	Key         string                         `json:"key"`
	Positions   map[string]positionExpectation `json:"positions"`
}

type positionExpectation struct {
	Vectors      int64           `json:"vectors"`
	L0           json.RawMessage `json:"l0"`
	L0ByPosition []float64       `json:"l0_by_position"`
	Dead         json.RawMessage `json:"dead"`
	Dense        json.RawMessage `json:"dense"`
	Histogram    struct {
		Counts    []int `json:"counts"`
		Underflow int   `json:"underflow"`
		Dead      int   `json:"dead"`
	} `json:"histogram"`
}

type totalExpectation struct {
	expectation
	Files         []string  `json:"files"`
	SparsityShape []int64   `json:"sparsity_shape"`
	Sparsity      []float32 `json:"sparsity"`
}

type stExpectations struct {
	Threshold float64                     `json:"threshold"`
	Dense     float64                     `json:"dense"`
	Files     map[string]stExpectation    `json:"files"`
	Totals    map[string]totalExpectation `json:"totals"`
}

func loadSTExpectations(t testing.TB) stExpectations {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e stExpectations
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Files) < 40 || len(e.Totals) < 2 {
		t.Fatalf("expected.json lists %d files, %d totals", len(e.Files), len(e.Totals))
	}
	if math.MaxInt == math.MaxInt32 {
		for _, name := range []string{"empty_rows_2d.safetensors", "empty_rows_3d.safetensors"} {
			e.Files[name] = stExpectation{expectation: expectation{Error: "too large for this machine"}}
		}
	}
	return e
}

func (e stExpectations) names(good bool) []string {
	var names []string
	for name, x := range e.Files {
		if (x.Error == "") == good {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// withKey returns the arguments to read a fixture: -key when it needs one.
func (x stExpectation) args(path string, flags ...string) []string {
	if x.Key != "" {
		flags = append(flags, "-key", x.Key)
	}
	return append(flags, path)
}

// readers are the ways l0 reads a file: read(2) (the default) and mapped
// windows, both in windows of less than a row, and split across workers
// in ranges of a few rows.
var readers = []struct {
	name  string
	flags []string
	tune  func(*options)
}{
	{"read", nil, nil},
	{"mapped", []string{"-mmap"}, nil},
	{"tiny reads", []string{"-j", "1"}, tiny(1, 1, 1<<20)},
	{"tiny windows", []string{"-mmap", "-j", "1"}, tiny(1, 1, 1<<20)},
	{"split read", []string{"-j", "4"}, tiny(64, 64, 100)},
	{"split mapped", []string{"-mmap", "-j", "3"}, tiny(64, 64, 64)},
}

// TestSafetensorsFixtures checks the report of every safetensors fixture
// against numpy's numbers, read every way, and as a stream.
func TestSafetensorsFixtures(t *testing.T) {
	t.Parallel()
	e := loadSTExpectations(t)
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			for _, name := range e.names(true) {
				want := e.Files[name]
				path := filepath.Join(stDir, name)
				out, errs, status := runL0With(rd.tune, want.args(path, append([]string{"-json"}, rd.flags...)...)...)
				if status != 0 || errs != "" {
					t.Fatalf("%s: status %d, stderr %q", name, status, errs)
				}
				reports := decodeLines(t, out)
				if len(reports) != 1 || reports[0].File != path || reports[0].Format != "safetensors" || deref(reports[0].Tensor) != want.Tensor {
					t.Fatalf("%s: %q", name, out)
				}
				checkReport(t, reports[0], want.expectation, "")
				if want.L0Above != nil {
					for _, rule := range []string{"-threshold", "-abs-threshold"} {
						out, errs, status = runL0With(rd.tune, want.args(path, append([]string{"-json", rule, "0.5"}, rd.flags...)...)...)
						if status != 0 || errs != "" {
							t.Fatalf("%s %s: status %d, stderr %q", name, rule, status, errs)
						}
						checkReport(t, decodeLines(t, out)[0], want.expectation, rule)
					}
				}
				for skip, p := range want.Positions {
					out, errs, status = runL0With(rd.tune, want.args(path, append([]string{"-json", "-positions", "-skip-positions", skip}, rd.flags...)...)...)
					if status != 0 || errs != "" {
						t.Fatalf("%s -skip-positions %s: status %d, stderr %q", name, skip, status, errs)
					}
					checkPositions(t, name+" -skip-positions "+skip, decodeLines(t, out)[0], p)
				}
			}
		})
	}
	for _, name := range e.names(true) {
		want := e.Files[name]
		data, err := os.ReadFile(filepath.Join(stDir, name))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := analyze(name, asStream(data), -1, settings{dense: e.Dense, key: want.Key})
		if err != nil {
			t.Fatalf("%s as a stream: %v", name, err)
		}
		var out bytes.Buffer
		if err := report.JSON(&out, rep); err != nil {
			t.Fatal(err)
		}
		checkReport(t, decodeLines(t, out.String())[0], want.expectation, "")
	}
}

// checkPositions compares a -positions report with numpy's.
func checkPositions(t *testing.T, what string, r report.JSONLine, want positionExpectation) {
	t.Helper()
	if r.Vectors != want.Vectors || r.Components != 0 || r.Positions == 0 {
		t.Errorf("%s: vectors %d, components %d, positions %d; numpy %d vectors", what, r.Vectors, r.Components, r.Positions, want.Vectors)
	}
	sameNumbers(t, what+": l0", r.L0, want.L0)
	byPosition, _ := json.Marshal(want.L0ByPosition)
	sameNumbers(t, what+": l0 by position", r.L0ByPosition, byPosition)
	sameNumbers(t, what+": dead", r.Dead, want.Dead)
	sameNumbers(t, what+": dense", r.Dense, want.Dense)
	h := r.Histogram
	if !equalInts(h.Counts, want.Histogram.Counts) || h.Underflow != want.Histogram.Underflow || h.Dead != want.Histogram.Dead {
		t.Errorf("%s: histogram %v, numpy %v", what, h, want.Histogram)
	}
}

// TestSafetensorsBad checks each bad fixture is one line on stderr naming
// the file and saying what is wrong, as a file and as a stream.
func TestSafetensorsBad(t *testing.T) {
	t.Parallel()
	e := loadSTExpectations(t)
	for _, name := range e.names(false) {
		want := e.Files[name]
		path := filepath.Join(stDir, name)
		out, errs, status := runL0(want.args(path)...)
		if status != 1 || out != "" || !strings.HasPrefix(errs, "l0: "+path+": ") || strings.Count(errs, "\n") != 1 ||
			!strings.Contains(errs, want.Error) {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want one line naming it and containing %q", name, status, out, errs, want.Error)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		contains := want.Error
		if want.StreamError != "" {
			contains = want.StreamError
		}
		_, err = analyze(name, asStream(data), -1, settings{dense: 0.1, key: want.Key})
		if math.MaxInt == math.MaxInt32 && strings.Contains(fmt.Sprint(err), "too large for this machine") {
			continue // a dimension of 2^40 refused first on a 32-bit machine
		}
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), contains) {
			t.Errorf("%s as a stream: error %v, want %q", name, err, contains)
		}
	}
}

// readerExpectations is internal/safetensors' expected.json.
type readerExpectations struct {
	Good map[string]struct {
		Tensors map[string]struct {
			DType      string  `json:"dtype"`
			Shape      []int64 `json:"shape"`
			NonZero    int64   `json:"nonzero"`
			RowNonZero []int64 `json:"row_nonzero"`
		} `json:"tensors"`
	} `json:"good"`
	Bad map[string]struct {
		Error          string `json:"error"`
		Contains       string `json:"contains"`
		StreamContains string `json:"stream_contains"`
	} `json:"bad"`
}

// TestReaderFixtures runs l0 on the strict reader's own fixtures: every
// file it rejects is an error naming the file and the rule, as a file and
// as a stream; every tensor of rank 2 or 3 it reads, l0 counts as numpy
// does.
func TestReaderFixtures(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(readerDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e readerExpectations
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Bad) < 50 || len(e.Good) < 5 {
		t.Fatalf("%d bad, %d good fixtures", len(e.Bad), len(e.Good))
	}
	for name, want := range e.Bad {
		path := filepath.Join(readerDir, "bad", name)
		contains := want.Contains
		switch {
		case want.Error == "ErrUnsupported":
			// The reader refuses the rows of the tensor; l0 does not pick it.
			contains = strings.TrimPrefix(contains, "unsupported dtype ")
		case name == "empty_file.safetensors":
			contains = "the file is empty" // of no format
		}
		out, errs, status := runL0(path)
		if status != 1 || out != "" || !strings.HasPrefix(errs, "l0: "+path+": ") || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, contains) {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want one line naming it and containing %q", name, status, out, errs, contains)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// A stream is refused as the file is: by its header, or, where
		// the file's size told, by l0's own checks of the tensor or when
		// the stream ends.
		_, err = analyze(name, asStream(raw), -1, settings{dense: 0.1, key: "x"})
		if err == nil || strings.Contains(err.Error(), "\n") || want.StreamContains == "" && !strings.Contains(err.Error(), contains) {
			t.Errorf("%s as a stream: %v, want %q", name, err, contains)
		}
	}
	for name, file := range e.Good {
		path := filepath.Join(readerDir, "good", name)
		for tensor, want := range file.Tensors {
			if len(want.Shape) < 2 || len(want.Shape) > 3 || want.Shape[0] == 0 || want.RowNonZero == nil {
				continue
			}
			if slices.Contains(want.Shape, 0) {
				continue // no features, or no components: l0's own rules
			}
			out, errs, status := runL0("-json", "-key", tensor, path)
			if status != 0 || errs != "" {
				t.Errorf("%s %s: status %d, stderr %q", name, tensor, status, errs)
				continue
			}
			r := decodeLines(t, out)[0]
			sumL0 := 0.0
			for _, v := range asList(jsonValue(t, r.L0)) {
				sumL0 += v
			}
			if deref(r.Tensor) != tensor || r.DType != want.DType || math.Abs(sumL0*float64(want.Shape[0])-float64(want.NonZero)) > 1e-9 {
				t.Errorf("%s %s: %s, l0 %v over %d vectors; numpy counts %d", name, tensor, r.DType, r.L0, r.Vectors, want.NonZero)
			}
		}
	}
}

// TestSparsityFile checks -sparsity writes SAELens' file, read back with
// our reader: one tensor "sparsity", F32, log10(density + 1e-10) per
// feature, as numpy computes it, laid out as the reference writer does.
func TestSparsityFile(t *testing.T) {
	t.Parallel()
	e := loadSTExpectations(t)
	for name, want := range e.Totals {
		var paths []string
		for _, f := range want.Files {
			paths = append(paths, filepath.Join(stDir, f))
		}
		out := filepath.Join(t.TempDir(), "sparsity.safetensors")
		_, errs, status := runL0(append([]string{"-json", "-total", "-sparsity", out}, paths...)...)
		if status != 0 || errs != "" {
			t.Fatalf("%s: status %d, stderr %q", name, status, errs)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		h, err := safetensors.ReadHeader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		tensor, err := h.Tensor("sparsity")
		if err != nil || len(h.Tensors) != 1 || tensor.DType != safetensors.Float32 || !equalInts(tensor.Shape, want.SparsityShape) || h.Metadata != nil {
			t.Fatalf("%s: %v %v, want F32 %v alone", name, h.Tensors, err, want.SparsityShape)
		}
		if h.HeaderBytes%8 != 0 {
			t.Errorf("%s: header of %d bytes, not padded to 8", name, h.HeaderBytes)
		}
		rd, err := h.NewRangeReader(bytes.NewReader(data), "sparsity", 0, tensor.Shape[0])
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, tensor.Bytes())
		if n, err := rd.ReadRows(buf); err != nil || n != tensor.Shape[0] {
			t.Fatalf("%s: %d rows, %v", name, n, err)
		}
		got := floats32(buf)
		if len(got) != len(want.Sparsity) {
			t.Fatalf("%s: %d values, numpy %d", name, len(got), len(want.Sparsity))
		}
		dead := 0
		for i := range got {
			// log10 may differ in its last bit between Go and C; float32
			// rounding hides it but for values on a rounding edge.
			if a, b := math.Float32bits(got[i]), math.Float32bits(want.Sparsity[i]); a != b && a != b+1 && a+1 != b {
				t.Errorf("%s: sparsity[%d] = %v, numpy %v", name, i, got[i], want.Sparsity[i])
			}
			if got[i] == -10 {
				dead++
			}
		}
		if dead != want.Histogram.Dead {
			t.Errorf("%s: %d values of -10, %d dead features", name, dead, want.Histogram.Dead)
		}
		// Byte for byte the reference writer's layout.
		var ref bytes.Buffer
		if err := safetensors.Write(&ref, []safetensors.TensorData{safetensors.Float32Tensor("sparsity", tensor.Shape, got)}, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ref.Bytes(), data) {
			t.Errorf("%s: not the reference layout", name)
		}
	}
}

// floats32 decodes float32 elements in the machine's byte order, as the
// Reader delivers them.
func floats32(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(nativeUint32(b[4*i:]))
	}
	return f
}

// writeFile writes data to a file in dir and returns its path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
