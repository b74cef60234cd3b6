package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
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
	"github.com/sparsekit/l0/internal/report"
	"github.com/sparsekit/l0/internal/safetensors"
)

// asStream hides everything but Read, as a pipe would.
func asStream(data []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(data)} }

// TestEmptyRowsWork checks that the work a file of rows of no bytes takes
// does not grow with its batch size: the Updates are counted, never timed.
// The reader used to hand out 2^30 such rows a call, so (2^62, 0) took 2^32
// rounds of ReadRows and Update, minutes, for 128 bytes.
func TestEmptyRowsWork(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		descr string
		dims  []int64 // after the batch
	}{
		{"|i1", []int64{0}},
		{"<f4", []int64{3, 0}},
		{"|b1", []int64{7, 0}},
	} {
		for _, batch := range []int64{1, 2, 1000, 1<<30 + 1, 1 << 34, 1 << 40, 1 << 62, math.MaxInt64 - 1000} {
			if t.Failed() {
				return // the batches after the first that failed may take hours
			}
			shape := append([]int64{batch}, c.dims...)
			data := npyHeader(c.descr, shape...)
			for _, sized := range []bool{true, false} {
				r, size := asStream(data), int64(-1)
				if sized {
					r, size = bytes.NewReader(data), int64(len(data))
				}
				rep, err := analyze("empty", r, size, settings{dense: 0.1})
				if int64(int(batch)) != batch { // a 32-bit machine
					if !strings.Contains(fmt.Sprint(err), "too large for this machine") {
						t.Errorf("%v: %v, want too large for this machine", shape, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%v, sized %v: %v", shape, sized, err)
				}
				want := 1 // one ReadRows, one Update; a stream reads its first row alone
				if !sized && batch > 1 {
					want = 2
				}
				if rep.Batches != want || rep.Vectors != batch {
					t.Errorf("%v, sized %v: %d vectors in %d Updates, want %d in %d", shape, sized, rep.Vectors, rep.Batches, batch, want)
				}
				for _, l0 := range rep.L0 {
					if l0 != 0 {
						t.Errorf("%v: L0 %v", shape, rep.L0)
					}
				}
			}
		}
	}
}

// TestEmptyRowsFixtures runs the program on the two fixtures of 2^62 rows
// of no bytes, as files and through a pipe, and checks their reports.
func TestEmptyRowsFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"empty_rows_2d.npy", "empty_rows_3d.npy"} {
		path := filepath.Join(fixtureDir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != 128 {
			t.Errorf("%s: %d bytes, want 128", name, len(data))
		}
		paths := []string{path}
		if p := pipeOf(t, data); p != "" {
			paths = append(paths, p)
		}
		for _, p := range paths {
			out, errs, status := runL0("-json", p)
			if math.MaxInt == math.MaxInt32 {
				if status != 1 || !strings.Contains(errs, "too large for this machine") {
					t.Errorf("%s on a 32-bit machine: status %d, stderr %q", p, status, errs)
				}
				continue
			}
			if status != 0 || errs != "" {
				t.Fatalf("%s: status %d, stderr %q", p, status, errs)
			}
			r := decodeLines(t, out)[0]
			if r.Vectors != 1<<62 || r.File != p {
				t.Errorf("%s: %+v", p, r)
			}
			l0, _ := json.Marshal(r.L0)
			if want := map[string]string{"empty_rows_2d.npy": "0", "empty_rows_3d.npy": "[0,0,0]"}[name]; string(l0) != want {
				t.Errorf("%s: l0 %s, want %s", p, l0, want)
			}
		}
	}
}

// pipeOf returns a path that reads data through a pipe, as `cat f.npy |
// l0 /dev/stdin` reads it, or "" where there is no such path. The data is
// written before it is read, so it must fit in the pipe's buffer (4 KiB at
// least, by POSIX).
func pipeOf(t *testing.T, data []byte) string {
	if runtime.GOOS != "linux" || len(data) > 4096 {
		return ""
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return fmt.Sprintf("/dev/fd/%d", r.Fd())
}

// TestStreamMemory checks the memory a stream costs: a header that claims
// a row of 2^31 features followed by a short stream is an error naming the
// file that allocates in proportion to the bytes given, never the claimed
// size; and a valid stream allocates at most k × the bytes read + 4 MiB,
// with the k the README states: 26 for one component of a 1-byte dtype
// (its counters are 8 bytes per element, its vectors since fired 8 more,
// and a copy for the report), 50 when each component has a single such
// feature (the per-component values, 24 bytes each), 109 with -json then
// (the line that lists them).
func TestStreamMemory(t *testing.T) {
	for _, given := range []int{0, 1000, 1 << 20} { // through a pipe too, when it fits
		data := append(npyHeader("|u1", 1, 1<<31), make([]byte, given)...)
		var err error
		grew := allocatedBy(func() {
			_, err = analyze("claim.npy", asStream(data), -1, settings{dense: 0.1})
		})
		switch {
		case math.MaxInt == math.MaxInt32:
			if !strings.Contains(fmt.Sprint(err), "too large for this machine") {
				t.Errorf("%d bytes on a 32-bit machine: %v", given, err)
			}
		case !errors.Is(err, npy.ErrTruncated):
			t.Errorf("%d bytes of a 2^31-byte row: %v, want truncated", given, err)
		}
		if grew > uint64(4*given+256<<10) {
			t.Errorf("%d bytes of a 2^31-byte row: allocated %d bytes", given, grew)
		}
		if p := pipeOf(t, data); p != "" {
			_, errs, status := runL0(p)
			if status != 1 || !strings.HasPrefix(errs, "l0: "+p+": ") || strings.Count(errs, "\n") != 1 {
				t.Errorf("through a pipe: status %d, stderr %q", status, errs)
			}
		}
	}
	if testing.Short() {
		return // the rest allocates hundreds of MB
	}
	for _, c := range []struct {
		descr string
		shape []int64
		k     float64 // text, -json
		kJSON float64
	}{
		{"|u1", []int64{1, 1 << 22}, 26, 26},
		{"|u1", []int64{2, 1 << 21}, 26, 26},
		{"<f4", []int64{1, 1 << 21}, 8, 8},
		{"|u1", []int64{1, 1 << 20, 4}, 32, 39},
		{"|u1", []int64{3, 1 << 20, 1}, 50, 109},
		{"|u1", []int64{1000, 4096}, 1, 1},
	} {
		elements := int64(1)
		for _, d := range c.shape {
			elements *= d
		}
		payload := make([]byte, elements*int64(map[string]int{"|u1": 1, "<f4": 4}[c.descr]))
		for i := 0; i < len(payload); i += 7 {
			payload[i] = 1
		}
		data := append(npyHeader(c.descr, c.shape...), payload...)
		for _, asJSON := range []bool{false, true} {
			k, write := c.k, report.Text
			if asJSON {
				k, write = c.kJSON, report.JSON
			}
			grew := allocatedBy(func() {
				rep, err := analyze("m", asStream(data), -1, settings{dense: 0.1})
				if err != nil {
					t.Fatal(err)
				}
				if err := write(io.Discard, rep); err != nil {
					t.Fatal(err)
				}
			})
			// The first row, all of which is read before anything is
			// allocated from the shape, is the least a stream reads.
			read := float64(len(payload)) / float64(c.shape[0])
			if float64(grew) > k*read+4<<20 {
				t.Errorf("%s %v, -json %v: allocated %d bytes, %.1f × the first row (want at most %g × + 4 MiB)",
					c.descr, c.shape, asJSON, grew, float64(grew)/read, k)
			}
		}
	}
}

// allocatedBy returns the bytes f allocates.
func allocatedBy(f func()) uint64 {
	var before, after runtimeMem
	before.read()
	f()
	after.read()
	return after.total - before.total
}

// TestManyComponents checks the limits on components and the compact text
// report: the file of shape (1, 2^62, 0) panicked l0 in the metric, and one
// of (1, 10^7, 0), 128 bytes, took 746 MB and printed 100 MB.
func TestManyComponents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, shape ...int64) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, npyHeader("|u1", shape...), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct {
		shape []int64
		err   string
	}{
		{[]int64{1, 1 << 62, 0}, "has 4611686018427387904 components; l0 takes at most 16777216"},
		{[]int64{1, 10_000_000, 0}, "has 10000000 components of no features; l0 takes at most 65536 components without features"},
		{[]int64{1, 1<<16 + 1, 0}, "l0 takes at most 65536 components without features"},
		{[]int64{0, 1 << 25, 1}, "has 33554432 components; l0 takes at most 16777216"},
		{[]int64{0, 1 << 20, 1 << 20}, "more (component, feature) pairs than l0 counts"},
	} {
		path := write("c.npy", c.shape...)
		for _, p := range []string{path, pipeOf(t, npyHeader("|u1", c.shape...))} {
			if p == "" {
				continue
			}
			out, errs, status := runL0("-json", p)
			if math.MaxInt == math.MaxInt32 && strings.Contains(errs, "too large for this machine") {
				continue
			}
			if status != 1 || out != "" || !strings.HasPrefix(errs, "l0: "+p+": ") || !strings.Contains(errs, c.err) {
				t.Errorf("%v: status %d, stdout %q, stderr %q; want %q", c.shape, status, out, errs, c.err)
			}
		}
	}

	// At the limit for vectors of no features: the text report is a few
	// lines, -json lists every component.
	path := write("max.npy", 3, 1<<16, 0)
	out, errs, status := runL0(path)
	if status != 0 || errs != "" || len(out) > 2000 ||
		!strings.Contains(out, "  L0         min 0.00, mean 0.00, max 0.00   (mean non-zero features per vector, per component; -json lists each)\n") ||
		!strings.Contains(out, "per component: dead 0, dense 0\n") {
		t.Errorf("status %d, stderr %q, report:\n%s", status, errs, out)
	}
	out, errs, status = runL0("-json", path)
	if r := decodeLines(t, out); status != 0 || errs != "" || len(r) != 1 || len(asList(jsonValue(t, r[0].L0))) != 1<<16 || len(out) > 500_000 {
		t.Errorf("-json: status %d, stderr %q, %d bytes", status, errs, len(out))
	}

	// More components than the text lists: their range, from numpy's numbers.
	e := loadExpectations(t)
	want := e.Files["many_components.npy"]
	out, errs, status = runL0(filepath.Join(fixtureDir, "many_components.npy"))
	l0 := asList(jsonValue(t, want.L0))
	mean := 0.0
	for _, x := range l0 {
		mean += x
	}
	low, mean, high := slices.Min(l0), mean/float64(len(l0)), slices.Max(l0)
	if status != 0 || errs != "" ||
		!strings.Contains(out, fmt.Sprintf("  L0         min %.2f, mean %.2f, max %.2f   (mean non-zero features per vector, per component; -json lists each)\n", low, mean, high)) ||
		!strings.Contains(out, "  features   20 components × 3: ") || !strings.Contains(out, "per component: dead 1, dense 2\n") {
		t.Errorf("status %d, stderr %q, report:\n%s", status, errs, out)
	}
	if !strings.Contains(out, "per component: dead 1, dense 2\n") {
		t.Errorf("report:\n%s", out)
	}
}

// TestInfiniteThresholds checks -threshold takes ±Inf, and numbers beyond
// the float64 range as the infinity they round to, in text and -json
// ("inf" and "-inf", strings), and that an error in one file never stops
// the others' reports: -json -threshold -inf lost every report.
func TestInfiniteThresholds(t *testing.T) {
	t.Parallel()
	a, b := filepath.Join(fixtureDir, "float32_2d.npy"), filepath.Join(fixtureDir, "float64_3d.npy")
	missing := filepath.Join(fixtureDir, "missing.npy")
	e := loadExpectations(t)
	for _, c := range []struct {
		flag, json string
		all        bool // every element but NaN counts
	}{
		{"-inf", `"-inf"`, true},
		{"-Infinity", `"-inf"`, true},
		{"-1e400", `"-inf"`, true},
		{"inf", `"inf"`, false},
		{"+Inf", `"inf"`, false},
		{"1e400", `"inf"`, false},
		{"1e-400", `0`, false},
		{"-1.5", `-1.5`, false},
	} {
		out, errs, status := runL0("-json", "-threshold", c.flag, a, missing, b)
		reports := decodeLines(t, out)
		if status != 1 || len(reports) != 2 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "l0: "+missing+": open: ") {
			t.Fatalf("-threshold %s: status %d, %d reports, stderr %q", c.flag, status, len(reports), errs)
		}
		for i, r := range reports {
			threshold, _ := json.Marshal(r.Threshold)
			if string(threshold) != c.json || r.File != []string{a, b}[i] {
				t.Errorf("-threshold %s: file %s, threshold %s, want %s", c.flag, r.File, threshold, c.json)
			}
			if c.json == `"inf"` || c.all {
				// Nothing is above +Inf; everything not NaN is above -Inf.
				want := asList(jsonValue(t, r.L0))
				nonZero := asList(jsonValue(t, e.Files[filepath.Base(r.File)].L0))
				for i := range want {
					if (c.json == `"inf"` && want[i] != 0) || (c.all && want[i] < nonZero[i]-3) {
						t.Errorf("-threshold %s, %s: l0 %v", c.flag, r.File, want)
					}
				}
			}
		}
		out, errs, status = runL0("-threshold", c.flag, a)
		if status != 0 || errs != "" || !strings.Contains(out, "  L0  ") {
			t.Errorf("text, -threshold %s: status %d, stderr %q", c.flag, status, errs)
		}
	}
	// The same value however it is spelled: 1e400 is inf.
	same := func(args ...string) string {
		out, _, _ := runL0(args...)
		return strings.Join(strings.Fields(strings.Split(out, "  kernel")[0]), " ")
	}
	if same("-threshold", "1e400", a) != same("-threshold", "inf", a) || same("-threshold", "-1e400", a) != same("-threshold", "-inf", a) {
		t.Errorf("1e400 and inf differ:\n%s\n%s", same("-threshold", "1e400", a), same("-threshold", "inf", a))
	}
	for _, args := range [][]string{
		{"-threshold", "nan"}, {"-threshold", "-NaN"}, {"-threshold", ""},
		{"-dense", "inf"}, {"-dense", "-inf"}, {"-dense", "1e400"}, {"-dense", "-1e400"}, {"-dense", "nan"},
	} {
		out, errs, status := runL0(append(args, a)...)
		if status != 2 || out != "" || !strings.Contains(errs, args[0]) {
			t.Errorf("%q: status %d, stdout %q, stderr %q", args, status, out, errs)
		}
	}
}

// stFile returns a safetensors file of one tensor "x" of the given dtype
// and shape, its data the bytes given (which need not be the shape's).
func stFile(t testing.TB, dtype safetensors.DType, shape []int64, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	size := int64(dtype.Size())
	for _, d := range shape {
		size *= d
	}
	claimed := make([]byte, 0)
	if size <= int64(len(data)) {
		claimed = data[:size]
	}
	if err := safetensors.Write(&b, []safetensors.TensorData{{Name: "x", DType: dtype, Shape: shape, Data: claimed}}, nil); err == nil && size <= int64(len(data)) {
		return append(b.Bytes(), data[size:]...)
	}
	// A claim the data does not hold: the header by hand.
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	header := fmt.Sprintf(`{"x":{"dtype":"%s","shape":[%s],"data_offsets":[0,%d]}}`, dtype, strings.Join(dims, ","), size)
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

// TestSafetensorsBounds checks the bounds of issue 8 hold for safetensors
// too: rows of no bytes, however many, take one Update (two for a stream,
// whose first row is read alone); a header or a row that claims more than
// the stream holds costs memory in proportion to the bytes given.
func TestSafetensorsBounds(t *testing.T) {
	for _, shape := range [][]int64{{1 << 62, 0}, {1 << 62, 3, 0}, {math.MaxInt64 - 1000, 0}, {1000, 7, 0}} {
		data := stFile(t, safetensors.BFloat16, shape, nil)
		for _, sized := range []bool{true, false} {
			r, size := asStream(data), int64(-1)
			if sized {
				r, size = bytes.NewReader(data), int64(len(data))
			}
			rep, err := analyze("empty", r, size, settings{dense: 0.1})
			if int64(int(shape[0])) != shape[0] {
				if !strings.Contains(fmt.Sprint(err), "too large for this machine") {
					t.Errorf("%v: %v, want too large for this machine", shape, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%v, sized %v: %v", shape, sized, err)
			}
			want := 1
			if !sized {
				want = 2
			}
			if rep.Batches != want || rep.Vectors != shape[0] {
				t.Errorf("%v, sized %v: %d vectors in %d Updates, want %d in %d", shape, sized, rep.Vectors, rep.Batches, shape[0], want)
			}
		}
		// With -positions, the rows of no bytes are rows × positions vectors.
		if len(shape) == 3 && shape[0] == 1000 {
			rep, err := analyze("empty", bytes.NewReader(data), int64(len(data)), settings{dense: 0.1, positions: true, skip: 1})
			if err != nil || rep.Vectors != 6000 || rep.Batches != 1 || len(rep.L0ByPosition) != 6 {
				t.Errorf("%v -skip-positions 1: %v, %+v", shape, err, rep)
			}
		}
	}
	// 2^62 rows of 3 positions are more vectors than an int64 counts.
	data := stFile(t, safetensors.Float32, []int64{1 << 62, 3, 0}, nil)
	if _, err := analyze("empty", bytes.NewReader(data), int64(len(data)), settings{dense: 0.1, positions: true}); err == nil {
		t.Error("3 × 2^62 vectors counted")
	}
	for _, c := range []struct {
		data  []byte
		given int
	}{
		// A header claiming 10^8 bytes, then 1000 of them.
		{append(binary.LittleEndian.AppendUint64(nil, 99_999_992), append([]byte(`{"x":`), make([]byte, 995)...)...), 1008},
		// A row of 2^31 bytes, then 1 MiB of it.
		{stFile(t, safetensors.Uint8, []int64{1, 1 << 31}, make([]byte, 1<<20)), 1 << 20},
		// 2^40 rows of 4096 features, then 1 MiB of them.
		{stFile(t, safetensors.Float32, []int64{1 << 40, 4096}, make([]byte, 1<<20)), 1 << 20},
	} {
		var err error
		grew := allocatedBy(func() {
			_, err = analyze("claim", asStream(c.data), -1, settings{dense: 0.1})
		})
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%d bytes of a claim: %v", c.given, err)
		}
		if grew > uint64(4*c.given+256<<10) {
			t.Errorf("%d bytes of a claim: allocated %d bytes (%v)", c.given, grew, err)
		}
		if _, err := analyze("claim", bytes.NewReader(c.data), int64(len(c.data)), settings{dense: 0.1}); err == nil {
			t.Errorf("%d bytes of a claim, sized: no error", c.given)
		}
	}
}
