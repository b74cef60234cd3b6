package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/report"
	"github.com/sparsekit/l0/kernel"
)

// fixtureDir holds the .npy files gen_fixtures.py wrote with numpy, and
// expected.json, numpy's numbers for them.
const fixtureDir = "testdata/npy"

// expectation is one file's entry in expected.json: either the report
// numpy computed or the words its error must contain.
type expectation struct {
	Error     string          `json:"error"`
	Shape     []int64         `json:"shape"`
	DType     string          `json:"dtype"`
	Vectors   int64           `json:"vectors"`
	L0        json.RawMessage `json:"l0"`
	L0Above   json.RawMessage `json:"l0_above"`
	L0Abs     json.RawMessage `json:"l0_abs_above"`
	Dead      json.RawMessage `json:"dead"`
	Dense     json.RawMessage `json:"dense"`
	Histogram struct {
		Counts    []int `json:"counts"`
		Underflow int   `json:"underflow"`
		Dead      int   `json:"dead"`
	} `json:"histogram"`
}

type expectations struct {
	Threshold float64                `json:"threshold"`
	Dense     float64                `json:"dense"`
	Files     map[string]expectation `json:"files"`
}

func loadExpectations(t testing.TB) expectations {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expectations
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Files) < 40 {
		t.Fatalf("expected.json lists %d files", len(e.Files))
	}
	// On a 32-bit machine a file of the size its header says with a
	// dimension above MaxInt, good or bad on a 64-bit one, is too large:
	// rows are counted in ints.
	for name := range e.Files {
		data, err := os.ReadFile(filepath.Join(fixtureDir, name))
		if err != nil {
			t.Fatal(err)
		}
		h, err := npy.ReadHeader(bytes.NewReader(data))
		if err != nil || h.DataOffset+h.DataBytes() != int64(len(data)) {
			continue
		}
		for _, d := range h.Shape {
			if int64(int(d)) != d {
				e.Files[name] = expectation{Error: "too large for this machine"}
			}
		}
	}
	return e
}

// names returns the fixture names in order, good ones (no error) or bad.
func (e expectations) names(good bool) []string {
	var names []string
	for name, x := range e.Files {
		if (x.Error == "") == good {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// decodeLines decodes -json output, one report per line.
func decodeLines(t *testing.T, out string) []report.JSONLine {
	t.Helper()
	var reports []report.JSONLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r report.JSONLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		reports = append(reports, r)
	}
	return reports
}

// sameNumbers compares a JSON number or list of numbers of the report with
// numpy's. L0 is a count divided by the vector count in float64 on both
// sides; the tolerance only forgives the last bits of printing.
func sameNumbers(t *testing.T, what string, got any, want json.RawMessage) {
	t.Helper()
	var w any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var gv any
	if err := json.Unmarshal(g, &gv); err != nil {
		t.Fatal(err)
	}
	ws, gs := asList(w), asList(gv)
	if (w == nil) || len(ws) != len(gs) || isList(w) != isList(gv) {
		t.Errorf("%s = %s, numpy %s", what, g, want)
		return
	}
	for i := range ws {
		if math.Abs(gs[i]-ws[i]) > 1e-12*math.Max(1, math.Abs(ws[i])) {
			t.Errorf("%s = %s, numpy %s", what, g, want)
			return
		}
	}
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func asList(v any) []float64 {
	switch v := v.(type) {
	case float64:
		return []float64{v}
	case json.Number:
		f, _ := v.Float64()
		return []float64{f}
	case []any:
		var out []float64
		for _, x := range v {
			out = append(out, asList(x)...)
		}
		return out
	}
	return nil
}

// checkReport compares one -json report with numpy's expectation.
// rule is the flag of the report: "" (x != 0), "-threshold" or
// "-abs-threshold".
func checkReport(t *testing.T, r report.JSONLine, want expectation, rule string) {
	t.Helper()
	if !equalInts(r.Shape, want.Shape) || r.DType != want.DType || r.Vectors != want.Vectors {
		t.Errorf("shape %v dtype %s vectors %d, numpy %v %s %d", r.Shape, r.DType, r.Vectors, want.Shape, want.DType, want.Vectors)
	}
	switch rule {
	case "-threshold":
		sameNumbers(t, "l0 above", r.L0, want.L0Above)
		return
	case "-abs-threshold":
		sameNumbers(t, "l0 abs above", r.L0, want.L0Abs)
		return
	}
	sameNumbers(t, "l0", r.L0, want.L0)
	sameNumbers(t, "dead", r.Dead, want.Dead)
	sameNumbers(t, "dense", r.Dense, want.Dense)
	h := r.Histogram
	if !equalInts(h.Counts, want.Histogram.Counts) || h.Underflow != want.Histogram.Underflow || h.Dead != want.Histogram.Dead {
		t.Errorf("histogram %v underflow %d dead %d, numpy %v %d %d", h.Counts, h.Underflow, h.Dead,
			want.Histogram.Counts, want.Histogram.Underflow, want.Histogram.Dead)
	}
}

func equalInts[T int | int64](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFixtures checks the report of every numpy-written fixture against
// numpy's numbers, at every kernel level, with the default buffer and with
// a buffer of one row, and read as a stream of unknown size.
func TestFixtures(t *testing.T) {
	e := loadExpectations(t)
	for _, level := range kernel.Levels() {
		t.Run(level.String(), func(t *testing.T) {
			defer kernel.SetLevel(level)()
			for _, buffer := range []int{input.DefaultBufferBytes, 1} {
				tune := func(o *options) { o.bufferBytes = buffer }
				for _, name := range e.names(true) {
					want := e.Files[name]
					path := filepath.Join(fixtureDir, name)
					func() {
						out, errs, status := runL0With(tune, "-json", path)
						if status != 0 || errs != "" {
							t.Fatalf("%s: status %d, stderr %q", name, status, errs)
						}
						reports := decodeLines(t, out)
						if len(reports) != 1 || reports[0].File != path || reports[0].Kernel != level.String() {
							t.Fatalf("%s: %q", name, out)
						}
						checkReport(t, reports[0], want, "")
						if want.L0Above != nil {
							for _, rule := range []string{"-threshold", "-abs-threshold"} {
								out, errs, status = runL0With(tune, "-json", rule, "0.5", path)
								if status != 0 || errs != "" {
									t.Fatalf("%s %s: status %d, stderr %q", name, rule, status, errs)
								}
								checkReport(t, decodeLines(t, out)[0], want, rule)
							}
						}
					}()
				}
			}
			for _, name := range e.names(true) {
				f, err := os.Open(filepath.Join(fixtureDir, name))
				if err != nil {
					t.Fatal(err)
				}
				rep, err := analyze(name, struct{ io.Reader }{f}, -1, settings{dense: e.Dense})
				f.Close()
				if err != nil {
					t.Fatalf("%s as a stream: %v", name, err)
				}
				var out bytes.Buffer
				if err := report.JSON(&out, rep); err != nil {
					t.Fatal(err)
				}
				checkReport(t, decodeLines(t, out.String())[0], e.Files[name], "")
			}
		})
	}
}

// TestBadFiles checks each bad fixture is one line on stderr naming the
// file and saying what is wrong, whether read as a file or a stream.
func TestBadFiles(t *testing.T) {
	t.Parallel()
	e := loadExpectations(t)
	for _, name := range e.names(false) {
		path := filepath.Join(fixtureDir, name)
		out, errs, status := runL0(path)
		if status != 1 || out != "" {
			t.Errorf("%s: status %d, stdout %q", name, status, out)
		}
		if !strings.HasPrefix(errs, "l0: "+path+": ") || strings.Count(errs, "\n") != 1 ||
			!strings.Contains(errs, e.Files[name].Error) {
			t.Errorf("%s: stderr %q, want one line naming it and containing %q", name, errs, e.Files[name].Error)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = analyze(name, struct{ io.Reader }{f}, -1, settings{dense: 0.1})
		f.Close()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s as a stream: error %v", name, err)
		}
	}
}

// TestMixedFiles checks that a bad file does not stop the others.
func TestMixedFiles(t *testing.T) {
	t.Parallel()
	e := loadExpectations(t)
	var args []string
	good, bad := e.names(true), e.names(false)
	for i := range max(len(good), len(bad)) {
		if i < len(bad) {
			args = append(args, filepath.Join(fixtureDir, bad[i]))
		}
		if i < len(good) {
			args = append(args, filepath.Join(fixtureDir, good[i]))
		}
	}
	args = append(args, filepath.Join(fixtureDir, "no such file.npy"), fixtureDir)
	out, errs, status := runL0(append([]string{"-json"}, args...)...)
	if status != 1 {
		t.Errorf("status %d, want 1", status)
	}
	reports := decodeLines(t, out)
	if len(reports) != len(good) {
		t.Fatalf("%d reports for %d good files", len(reports), len(good))
	}
	for i, r := range reports {
		checkReport(t, r, e.Files[good[i]], "")
	}
	lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	if len(lines) != len(bad)+2 {
		t.Fatalf("%d error lines for %d bad files:\n%s", len(lines), len(bad)+2, errs)
	}
	if !strings.Contains(errs, "no such file.npy: open: no such file or directory\n") ||
		!strings.Contains(errs, "l0: "+fixtureDir+": is a directory, and holds no delphi latent cache split") {
		t.Errorf("stderr:\n%s", errs)
	}
	// The text report separates files with a blank line.
	out, _, _ = runL0(filepath.Join(fixtureDir, good[0]), filepath.Join(fixtureDir, good[1]))
	if strings.Count(out, "\n\n") != 1 || !strings.HasPrefix(out, filepath.Join(fixtureDir, good[0])+"\n") {
		t.Errorf("text report of two files:\n%s", out)
	}
}

// TestThresholdNeedsFloat checks -threshold on an integer file is an error
// for that file alone.
func TestThresholdNeedsFloat(t *testing.T) {
	t.Parallel()
	ints, floats := filepath.Join(fixtureDir, "int32_2d.npy"), filepath.Join(fixtureDir, "float32_2d.npy")
	out, errs, status := runL0("-json", "-threshold", "0", ints, floats)
	if status != 1 || len(decodeLines(t, out)) != 1 ||
		errs != "l0: "+ints+": -threshold needs a float array, this one is int32 (<i4)\n" {
		t.Errorf("status %d, stdout %q, stderr %q", status, out, errs)
	}
	// -threshold 0 counts x > 0, which is not x != 0 for signed activations.
	out, _, _ = runL0("-json", "-threshold", "0", floats)
	above := decodeLines(t, out)[0]
	out, _, _ = runL0("-json", floats)
	nonZero := decodeLines(t, out)[0]
	if above.Threshold == nil || *above.Threshold != 0 || nonZero.Threshold != nil ||
		asList(jsonValue(t, above.L0))[0] >= asList(jsonValue(t, nonZero.L0))[0] {
		t.Errorf("-threshold 0: %+v, without: %+v", above, nonZero)
	}
}

func jsonValue(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"-h"}, 0, "usage: l0 [flags] [FILE ...]"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"-threshold", "x"}, 2, `invalid value "x" for flag -threshold`},
		{[]string{"-threshold", "NaN"}, 2, `invalid value "NaN" for flag -threshold`},
		{[]string{"-dense", "1.5"}, 2, "l0: -dense 1.5: want a fraction from 0 to 1\n"},
		{[]string{"-dense", "NaN"}, 2, "l0: -dense NaN"},
		{[]string{"-kernels", "x.npy"}, 2, "l0: -kernels takes no files\n"},
		{[]string{"-j", "0"}, 2, "l0: -j 0: want 1 to 1024 workers\n"},
		{[]string{"-j", "1025"}, 2, "l0: -j 1025: want 1 to 1024 workers\n"},
		{[]string{"-j", "2147483647"}, 2, "l0: -j 2147483647: want 1 to 1024 workers\n"}, // the largest int on every machine
		{[]string{"-j", "-2147483648"}, 2, "l0: -j -2147483648: want 1 to 1024 workers\n"},
		{[]string{"-j", "99999999999999999999"}, 2, `invalid value "99999999999999999999" for flag -j`},
		{[]string{"-per-file"}, 2, "l0: -per-file goes with -total"},
		{[]string{"-save", "x", "-sparsity", "x"}, 2, "l0: -save and -sparsity name the same file\n"},
		{[]string{"-skip-positions", "x"}, 2, `invalid value "x" for flag -skip-positions`},
	} {
		out, errs, status := runL0(c.args...)
		if status != c.status || out != "" || !strings.Contains(errs, c.stderr) {
			t.Errorf("l0 %q: status %d, stdout %q, stderr %q; want %d and %q", c.args, status, out, errs, c.status, c.stderr)
		}
	}
}

// TestUsage checks -h says every flag, and the points of each.
func TestUsage(t *testing.T) {
	t.Parallel()
	_, errs, status := runL0("-h")
	if status != 0 {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		"usage: l0 [flags] [FILE ...]", ".npy", "safetensors", "BF16", "l0 state", "first bytes",
		"-json", "-kernels", "-threshold T", "-abs-threshold T", "-dense D", "-key NAME", "-positions",
		"-skip-positions N", "-total", "-per-file", "-save FILE", "-sparsity FILE", "-j N", "-mmap",
		"-sparse INDEX_KEY[,VALUE_KEY]", "-features D", "Top-k files", "every entry counts", "Regular files only",
		"A bad input fails the", "log10(density + 1e-10)", "GODEBUG=cpu.avx512f=off",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("-h does not say %q:\n%s", want, errs)
		}
	}
}

func TestKernels(t *testing.T) {
	t.Parallel()
	out, errs, status := runL0("-kernels")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if status != 0 || errs != "" || len(lines) != 13 {
		t.Fatalf("status %d, stderr %q, stdout:\n%s", status, errs, out)
	}
	var available []string
	for _, l := range kernel.Levels() {
		available = append(available, l.String())
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if f[len(f)-len(available)-1] != kernel.Active().String() ||
			strings.Join(f[len(f)-len(available):], " ") != strings.Join(available, " ") {
			t.Errorf("line %q: want level %s, available %v", line, kernel.Active(), available)
		}
	}
	for _, name := range []string{"float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"} {
		if !strings.Contains(out, "\n"+name+" ") {
			t.Errorf("no line for %s:\n%s", name, out)
		}
	}
}

// TestSample checks the built-in sample's report against a count made by
// hand over the same generated bytes.
func TestSample(t *testing.T) {
	t.Parallel()
	const sampleVectors, sampleComponents, sampleFeatures = 4096, 2, 2048 // the text report says so
	data := input.Sample()
	const slots = sampleComponents * sampleFeatures
	payload := data[len(data)-4*sampleVectors*slots:]
	fired := make([]int, slots)
	for v := range sampleVectors {
		for i := range slots {
			bits := uint32(payload[4*(v*slots+i)]) | uint32(payload[4*(v*slots+i)+1])<<8 |
				uint32(payload[4*(v*slots+i)+2])<<16 | uint32(payload[4*(v*slots+i)+3])<<24
			if bits&^(1<<31) != 0 {
				fired[i]++
			}
		}
	}
	var l0 [sampleComponents]float64
	dead := 0
	for i, n := range fired {
		l0[i/sampleFeatures] += float64(n)
		if n == 0 {
			dead++
		}
	}
	out, errs, status := runL0("-json")
	if status != 0 || errs != "" {
		t.Fatalf("status %d, stderr %q", status, errs)
	}
	r := decodeLines(t, out)[0]
	got := asList(jsonValue(t, r.L0))
	for c := range l0 {
		density := l0[c] / sampleVectors / sampleFeatures
		if len(got) != sampleComponents || math.Abs(got[c]-l0[c]/sampleVectors) > 1e-9 || density < 0.005 || density > 0.05 {
			t.Errorf("component %d: L0 %v, counted %v (density %.3f)", c, got, l0[c]/sampleVectors, density)
		}
	}
	dense := 0
	for _, n := range asInts(jsonValue(t, r.Dense)) {
		dense += n
	}
	if r.File != input.SampleName || r.Histogram.Dead != dead || dead == 0 || dead > slots/10 || dense == 0 {
		t.Errorf("report %+v; counted %d dead", r, dead)
	}
	// The text report has every part.
	out, _, _ = runL0()
	for _, part := range []string{input.SampleName + "\n", "array      (4096, 2, 2048) float32 (<f4), .npy format 1.0\n",
		"vectors    4096\n", "  L0  ", "per component", "dead", "dense (density > 0.1)", "log10", "[-2.5, -2.0)",
		"kernel     " + kernel.Active().String() + "\n", "B/s\n"} {
		if !strings.Contains(out, part) {
			t.Errorf("no %q in the report:\n%s", part, out)
		}
	}
}

func asInts(v any) []int {
	var out []int
	for _, f := range asList(v) {
		out = append(out, int(f))
	}
	return out
}

// TestBinary builds the command and runs it, as a user would.
func TestBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "l0")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-json", filepath.Join(fixtureDir, "float32_3d.npy"), filepath.Join(fixtureDir, "fortran.npy"))
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Errorf("exit: %v", err)
	}
	if len(decodeLines(t, out.String())) != 1 || !strings.HasPrefix(errs.String(), "l0: "+filepath.Join(fixtureDir, "fortran.npy")+": ") {
		t.Errorf("stdout %q, stderr %q", out.String(), errs.String())
	}
	// Progress goes to a terminal only: stderr here is a pipe.
	cmd = exec.Command(bin)
	errs.Reset()
	cmd.Stderr = &errs
	if err := cmd.Run(); err != nil || errs.Len() != 0 {
		t.Errorf("default run: %v, stderr %q", err, errs.String())
	}
}

// TestAbsThreshold checks -abs-threshold: the rule in -json, |x| > T
// counted (more than x > T for activations of both signs), both flags at
// once a command-line error, and an integer file an error naming the flag.
func TestAbsThreshold(t *testing.T) {
	t.Parallel()
	ints, floats := filepath.Join(fixtureDir, "int32_2d.npy"), filepath.Join(fixtureDir, "float32_2d.npy")
	out, errs, status := runL0("-json", "-abs-threshold", "0.5", floats)
	if status != 0 || errs != "" {
		t.Fatalf("status %d, stderr %q", status, errs)
	}
	abs := decodeLines(t, out)[0]
	out, _, _ = runL0("-json", "-threshold", "0.5", floats)
	above := decodeLines(t, out)[0]
	if abs.Rule != "|x| > 0.5" || above.Rule != "x > 0.5" || abs.Threshold == nil || *abs.Threshold != 0.5 ||
		asList(jsonValue(t, abs.L0))[0] <= asList(jsonValue(t, above.L0))[0] {
		t.Errorf("-abs-threshold: %+v; -threshold: %+v", abs, above)
	}
	if _, errs, status := runL0("-threshold", "0.5", "-abs-threshold", "0.5", floats); status != 2 || !strings.Contains(errs, "not both") {
		t.Errorf("both rules: status %d, stderr %q", status, errs)
	}
	_, errs, status = runL0("-abs-threshold", "1e-5", ints)
	if status != 1 || errs != "l0: "+ints+": -abs-threshold needs a float array, this one is int32 (<i4)\n" {
		t.Errorf("integers: status %d, stderr %q", status, errs)
	}
	out, _, _ = runL0("-json", floats)
	if r := decodeLines(t, out)[0]; r.Rule != "x != 0" {
		t.Errorf("default rule %q", r.Rule)
	}
}
