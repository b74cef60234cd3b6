package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

var update = flag.Bool("update", false, "rewrite testdata/reports.txt from this build")

// histogram returns a histogram of the given bins, counts from the last
// bins (the densest) back.
func histogram(dead, underflow, aboveOne int, counts ...int) metric.Histogram {
	var h metric.Histogram
	for k := range h.Edges {
		h.Edges[k] = -8 + 0.5*float64(k)
	}
	copy(h.Counts[len(h.Counts)-len(counts):], counts)
	h.Dead, h.Underflow, h.AboveOne = dead, underflow, aboveOne
	return h
}

// sequence returns n values from, from + step, ...
func sequence(n int, from, step float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = from + step*float64(i)
	}
	return v
}

func repeat(n, v int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// reports are the cases of the golden file: each way a report can look.
func reports() map[string]*Report {
	base := func(name, format, describe string, c tally.Config, s tally.Summary) *Report {
		return &Report{Name: name, Format: format, Describe: describe, Config: c, Summary: s, DenseAbove: 0.1,
			Level: kernel.Generic, Elapsed: 1500 * time.Microsecond, Bytes: 123456}
	}
	r := map[string]*Report{}
	r["2-D"] = base("a.npy", input.NPY, "(37, 19) float32 (<f4), .npy format 1.0", tally.Config{Elem: tally.Float32, Features: 19},
		tally.Summary{Vectors: 37, Rows: 37, Batches: 1, L0: []float64{6.1891}, Dead: []int{1}, Dense: []int{18}, Histogram: histogram(1, 0, 0, 10, 8)})
	r["2-D"].Shape, r["2-D"].DType = []int64{37, 19}, "<f4"

	c := base("b.safetensors", input.Safetensors, `"x" [17, 3, 7] bfloat16 (BF16), safetensors`, tally.Config{Elem: tally.BFloat16, Components: 3, Features: 7},
		tally.Summary{Vectors: 17, Rows: 17, L0: []float64{1.5, 2.25, 0}, Dead: []int{1, 0, 7}, Dense: []int{6, 6, 0}, Histogram: histogram(8, 2, 0, 1, 0, 10)})
	c.Shape, c.DType, c.Tensor, c.Rule = []int64{17, 3, 7}, "BF16", "x", metric.Above(0.5)
	r["components, threshold"] = c

	many := base("many.npy", input.NPY, "(6, 20, 3) uint8 (|u1), .npy format 1.0", tally.Config{Elem: tally.Uint8, Components: 20, Features: 3},
		tally.Summary{Vectors: 6, Rows: 6, L0: sequence(20, 0.5, 0.125), Dead: repeat(20, 1), Dense: append(repeat(19, 2), 1), Histogram: histogram(20, 0, 0, 39)})
	many.Shape, many.DType, many.Rule = []int64{6, 20, 3}, "|u1", metric.AbsAbove(1e-5)
	r["many components, abs"] = many

	pos := base("p.safetensors", input.Safetensors, `"activation" [6, 9, 20] bfloat16 (BF16), safetensors`, tally.Config{Elem: tally.BFloat16, Features: 20, Positions: 8, Skip: 1},
		tally.Summary{Vectors: 48, Rows: 6, L0: []float64{6.104}, L0ByPosition: sequence(8, 5, 0.5), Dead: []int{1}, Dense: []int{19}, Histogram: histogram(1, 0, 0, 13, 6)})
	pos.Shape, pos.DType, pos.Tensor = []int64{6, 9, 20}, "BF16", "activation"
	r["positions, skip 1"] = pos

	long := base("long.npy", input.NPY, "(6, 20, 3) uint8 (|u1), .npy format 1.0", tally.Config{Elem: tally.Uint8, Features: 3, Positions: 17, Skip: 3},
		tally.Summary{Vectors: 102, Rows: 6, L0: []float64{1.75}, L0ByPosition: append(sequence(16, 1, 0.25), 0.5), Dead: []int{0}, Dense: []int{3}, Histogram: histogram(0, 0, 0, 3)})
	long.Shape, long.DType = []int64{6, 20, 3}, "|u1"
	r["positions past 16, skip 3"] = long

	empty := base("empty.l0", input.State, "2 components × 5 features uint8 counts over 0 vectors, l0 state (FeatureActivity)", tally.Config{Elem: tally.Uint8, Components: 2, Features: 5},
		tally.Summary{Batches: 0})
	empty.Shape, empty.DType = []int64{0, 2, 5}, "uint8"
	r["no vectors"] = empty

	pair := base("k.safetensors", input.TopK, `[40, 64] bfloat16, top-k "indices" I64 [40, 8] and values "values" BF16, safetensors`, tally.Config{Elem: tally.BFloat16, Features: 64},
		tally.Summary{Vectors: 40, Rows: 40, L0: []float64{7.5}, Dead: []int{2}, Dense: []int{40}, Histogram: histogram(2, 0, 1, 20, 41)})
	pair.Shape, pair.DType, pair.Pair = []int64{40, 64}, "BF16", &input.Pair{Index: "indices", IndexDType: "I64", Values: "values", ValuesDType: "BF16", K: 8}
	r["top-k pair"] = pair

	mask := base("m.safetensors", input.TopK, `[4, 2, 50] uint8, top-k "i" U16 [4, 2, 3] and no values (every entry counts), safetensors`, tally.Config{Elem: tally.Uint8, Components: 2, Features: 50},
		tally.Summary{Vectors: 4, Rows: 4, L0: []float64{3, 3}, Dead: []int{40, 41}, Dense: []int{10, 9}, Histogram: histogram(81, 0, 0, 0, 19)})
	mask.Shape, mask.DType, mask.Pair = []int64{4, 2, 50}, "uint8", &input.Pair{Index: "i", IndexDType: "U16", K: 3}
	r["top-k mask"] = mask

	total := NewTotal([]string{"shard-0.npy", "odd\xffname\n.l0"}, 4096, map[string]int{input.NPY: 1, input.State: 2}, metric.Above(math.Inf(1)), 0)
	total.Level, total.Elapsed = kernel.Generic, 2*time.Second
	total.Config = tally.Config{Elem: tally.Float32, Features: 4}
	total.Summary = tally.Summary{Vectors: 10, Rows: 10, L0: []float64{0}, Dead: []int{4}, Dense: []int{0}, Histogram: histogram(4, 0, 0)}
	total.describeTotal()
	r["total, inf, odd names"] = total

	noFeatures := base("\"quoted\".npy", input.NPY, "(5, 0) float32 (<f4), .npy format 1.0", tally.Config{Elem: tally.Float32},
		tally.Summary{Vectors: 5, Rows: 5, L0: []float64{0}, Dead: []int{0}, Dense: []int{0}, Histogram: histogram(0, 0, 0)})
	noFeatures.Shape, noFeatures.DType, noFeatures.Rule = []int64{5, 0}, "<f4", metric.Above(math.Inf(-1))
	r["no features, -inf"] = noFeatures

	named := base("e.safetensors", input.Safetensors, `"" [2, 3] uint8 (U8), safetensors`, tally.Config{Elem: tally.Uint8, Features: 3},
		tally.Summary{Vectors: 2, Rows: 2, L0: []float64{1.5}, Dead: []int{0}, Dense: []int{3}, Histogram: histogram(0, 0, 0, 1, 2)})
	named.Shape, named.DType = []int64{2, 3}, "U8"
	r["tensor named \"\""] = named
	return r
}

// TestGolden writes every case as text and as JSON, and compares them
// with testdata/reports.txt (go test -update rewrites it).
func TestGolden(t *testing.T) {
	t.Parallel()
	cases := reports()
	var names []string
	for name := range cases {
		names = append(names, name)
	}
	sortStrings(names)
	var doc bytes.Buffer
	for _, name := range names {
		fmt.Fprintf(&doc, "=== %s\n", name)
		if err := Text(&doc, cases[name]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := JSON(&doc, cases[name]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var line JSONLine
		if err := json.Unmarshal(bytes.Split(doc.Bytes(), []byte("\n"))[bytes.Count(doc.Bytes(), []byte("\n"))-1], &line); err != nil {
			t.Errorf("%s: the JSON does not read back: %v", name, err)
		}
	}
	path := filepath.Join("testdata", "reports.txt")
	if *update {
		if err := os.WriteFile(path, doc.Bytes(), 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc.Bytes(), want) {
		got, wantLines := strings.Split(doc.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(got), len(wantLines)) {
			if got[i] != wantLines[i] {
				t.Fatalf("%s differs at line %d:\n- %s\n+ %s", path, i+1, wantLines[i], got[i])
			}
		}
		t.Fatalf("%s differs in length: %d lines, want %d", path, len(got), len(wantLines))
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestOneReport checks that a report that cannot be written is an error
// for its input alone, and a write that fails is the output's.
func TestOneReport(t *testing.T) {
	t.Parallel()
	r := &Report{Name: "x.npy", Shape: []int64{1, 1}, Config: tally.Config{Features: 1},
		Summary: tally.Summary{Vectors: 1, L0: []float64{math.NaN()}, Dead: []int{0}, Dense: []int{0}}}
	if err := JSON(io.Discard, r); !IsOneReport(err) {
		t.Errorf("a NaN in a report: %v, want one report's error", err)
	}
	r.L0 = []float64{1}
	broken := errors.New("broken pipe")
	if err := JSON(failing{broken}, r); !errors.Is(err, broken) || IsOneReport(err) {
		t.Errorf("a failed write: %v", err)
	}
	if err := Text(failing{broken}, r); !errors.Is(err, broken) || IsOneReport(err) {
		t.Errorf("a failed write of text: %v", err)
	}
}

type failing struct{ err error }

func (f failing) Write([]byte) (int, error) { return 0, f.err }

// TestNumber: a threshold of any value is JSON, and reads back.
func TestNumber(t *testing.T) {
	t.Parallel()
	for _, s := range []string{`"inf"`, `"-inf"`, `"nan"`, `0.5`, `-0`} {
		var n Number
		if err := json.Unmarshal([]byte(s), &n); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if back, _ := json.Marshal(n); string(back) != map[string]string{`-0`: `-0`}[s] && string(back) != s {
			t.Errorf("%s reads back as %s", s, back)
		}
	}
	var n Number
	if err := json.Unmarshal([]byte(`"1.5"`), &n); err == nil {
		t.Error(`the string "1.5" taken for a threshold`)
	}
}

// TestFormatBytes: decimal units, as dd writes them.
func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[float64]string{0: "0 B", 999: "999 B", 1000: "1 kB", 123456: "123 kB", 2.5e9: "2.5 GB", 7e15: "7e+03 TB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%v) = %q, want %q", n, got, want)
		}
	}
}
