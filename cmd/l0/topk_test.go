package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// sparseDir holds the top-k fixtures gen_fixtures.py wrote, their dense
// twins, and expected.json: the runs, totals and bad files.
const sparseDir = "testdata/sparse"

// topKRun is a run of l0 on a top-k fixture: numpy's numbers of its dense
// twin (which l0 must report alike), or the words of its error.
type topKRun struct {
	expectation
	File     string   `json:"file"`
	Sparse   string   `json:"sparse"`
	Features int      `json:"features"`
	Twin     string   `json:"twin"`
	Files    []string `json:"files"` // a total's inputs
	State    string   `json:"state"` // a total's input to save as a state first
}

// args returns the arguments of the run: -sparse, -features, the flags,
// the file.
func (r topKRun) args(flags ...string) []string {
	return append(append([]string{"-sparse", r.Sparse, "-features", strconv.Itoa(r.Features)}, flags...), filepath.Join(sparseDir, r.File))
}

type topKExpectations struct {
	Runs   map[string]topKRun `json:"runs"`
	Totals map[string]topKRun `json:"totals"`
	Bad    map[string]topKRun `json:"bad"`
}

func loadTopKExpectations(t testing.TB) topKExpectations {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sparseDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e topKExpectations
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Runs) < 40 || len(e.Totals) < 3 || len(e.Bad) < 20 {
		t.Fatalf("expected.json lists %d runs, %d totals, %d bad", len(e.Runs), len(e.Totals), len(e.Bad))
	}
	if math.MaxInt == math.MaxInt32 {
		for _, name := range []string{"empty_rows_2d", "empty_rows_3d"} {
			r := e.Runs[name]
			r.Error = "too large for this machine"
			e.Runs[name] = r
		}
	}
	return e
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestTopKFixtures checks the report of every top-k run against numpy's
// numbers of its dense twin, and against l0's report of the twin (every
// field of the data: vectors, L0, dead, dense, histogram), by each rule
// and read every way: in batches of a row, split across workers.
func TestTopKFixtures(t *testing.T) {
	t.Parallel()
	e := loadTopKExpectations(t)
	twins := map[string]string{} // the twin's report by twin and rule
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			for _, name := range sortedKeys(e.Runs) {
				want := e.Runs[name]
				rules := []string{""}
				if want.L0Above != nil {
					rules = append(rules, "-threshold", "-abs-threshold")
				}
				for _, rule := range rules {
					flags := append([]string{"-json"}, rd.flags...)
					if rule != "" {
						flags = append(flags, rule, "0.5")
					}
					out, errs, status := runL0With(rd.tune, want.args(flags...)...)
					if want.Error != "" {
						if status != 1 || !strings.Contains(errs, want.Error) {
							t.Errorf("%s: status %d, stderr %q, want %q", name, status, errs, want.Error)
						}
						continue
					}
					if status != 0 || errs != "" {
						t.Fatalf("%s %s: status %d, stderr %q", name, rule, status, errs)
					}
					reports := decodeLines(t, out)
					r := reports[0]
					index, values, _ := strings.Cut(want.Sparse, ",")
					if len(reports) != 1 || r.Format != "topk" || r.Sparse == nil || r.Sparse.Index != index || r.Sparse.Values != values || r.Tensor != nil {
						t.Fatalf("%s: %s", name, out)
					}
					checkReport(t, r, want.expectation, rule)
					if want.Twin == "" {
						continue
					}
					key := want.Twin + " " + rule
					if twins[key] == "" {
						args := []string{"-json"}
						if rule != "" {
							args = append(args, rule, "0.5")
						}
						twin, errs, status := runL0(append(args, filepath.Join(sparseDir, want.Twin))...)
						if status != 0 || errs != "" {
							t.Fatalf("twin %s: status %d, stderr %q", want.Twin, status, errs)
						}
						twins[key] = comparable(t, twin)
					}
					if got := comparable(t, out); got != twins[key] {
						t.Errorf("%s %s:\n%s\nthe dense twin %s:\n%s", name, rule, got, want.Twin, twins[key])
					}
				}
			}
		})
	}
	// The text report says what was read.
	out, errs, status := runL0(e.Runs["i64_bf16"].args()...)
	if status != 0 || errs != "" || !strings.Contains(out, "  array      [40, 64] bfloat16, top-k \"indices\" I64 [40, 8] and values \"values\" BF16, safetensors\n") {
		t.Errorf("status %d, stderr %q, report:\n%s", status, errs, out)
	}
	out, _, _ = runL0(e.Runs["u16_fired"].args()...)
	if !strings.Contains(out, "  array      [31, 50] uint8, top-k \"indices\" U16 [31, 6] and no values (every entry counts), safetensors\n") {
		t.Errorf("report:\n%s", out)
	}
}

// TestTopKBad checks each bad top-k run is one line on stderr naming the
// file and saying what is wrong, and that the other files are reported.
func TestTopKBad(t *testing.T) {
	t.Parallel()
	e := loadTopKExpectations(t)
	for _, name := range sortedKeys(e.Bad) {
		want := e.Bad[name]
		path := filepath.Join(sparseDir, want.File)
		for _, flags := range [][]string{nil, {"-j", "3"}, {"-total"}} {
			out, errs, status := runL0(want.args(flags...)...)
			first, _, _ := strings.Cut(errs, "\n")
			lines := 1
			if slices.Contains(flags, "-total") {
				lines++ // -total's own: no total
			}
			if status != 1 || out != "" || !strings.HasPrefix(errs, "l0: "+path+": ") || !strings.Contains(first, want.Error) || strings.Count(errs, "\n") != lines {
				t.Errorf("%s %v: status %d, stdout %q, stderr %q; want one line naming it and containing %q", name, flags, status, out, errs, want.Error)
			}
		}
		// Among good files, the bad one alone is an error.
		good := e.Runs["i64_bf16"]
		args := append(want.args("-json"), filepath.Join(sparseDir, good.File))
		if want.Sparse != good.Sparse || want.Features != good.Features {
			continue
		}
		out, errs, status := runL0(args...)
		if status != 1 || len(decodeLines(t, out)) != 1 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s among good files: status %d, stdout %q, stderr %q", name, status, out, errs)
		}
	}
}

// TestTopKIndexErrors checks a bad index names the row it is in, read in
// batches of a row, split across workers, or whole; and that the error is
// metric's kind (ErrShape and kernel.ErrIndex).
func TestTopKIndexErrors(t *testing.T) {
	t.Parallel()
	index := make([]byte, 8*40*2)
	for r := range 40 {
		binary.LittleEndian.PutUint64(index[16*r:], uint64(r%16))
		binary.LittleEndian.PutUint64(index[16*r+8:], uint64(r%16+16))
	}
	binary.LittleEndian.PutUint64(index[16*30+8:], 99)
	data := topKFile(t, safetensors.Int64, []int64{40, 2}, index, safetensors.Float32, bytes.Repeat([]byte{0, 0, 0x80, 0x3f}, 80))
	path := writeFile(t, t.TempDir(), "bad.safetensors", data)
	for _, rd := range readers {
		func() {
			_, errs, status := runL0With(rd.tune, append(append([]string{"-sparse", "i,v", "-features", "32"}, rd.flags...), path)...)
			if status != 1 || errs != "l0: "+path+": the indices \"i\" hold 99 at [30, 1], outside [0, 32) (-features 32)\n" {
				t.Errorf("%s: status %d, stderr %q", rd.name, status, errs)
			}
		}()
	}
	_, err := analyze("bad", bytes.NewReader(data), int64(len(data)), settings{dense: 0.1, sparse: keys("i", "v"), features: 32})
	if !errors.Is(err, metric.ErrShape) || !errors.Is(err, kernel.ErrIndex) {
		t.Errorf("%v: want ErrShape and ErrIndex", err)
	}
}

// topKFile returns a safetensors file of the indices "i" and, unless
// values is nil, the values "v", of one shape.
func topKFile(t testing.TB, indexType safetensors.DType, shape []int64, index []byte, valueType safetensors.DType, values []byte) []byte {
	t.Helper()
	tensors := []safetensors.TensorData{{Name: "i", DType: indexType, Shape: shape, Data: index}}
	if values != nil {
		tensors = append(tensors, safetensors.TensorData{Name: "v", DType: valueType, Shape: shape, Data: values})
	}
	var b bytes.Buffer
	if err := safetensors.Write(&b, tensors, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTopKTotal checks top-k shards merge with dense shards of the same
// dataset, .npy files and a state saved from a dense safetensors file,
// into numpy's numbers of all their rows, read every way; that -save of
// a top-k file is the state of its twin; and that inputs of another
// element type or features do not join.
func TestTopKTotal(t *testing.T) {
	t.Parallel()
	e := loadTopKExpectations(t)
	dir := t.TempDir()
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			for _, name := range sortedKeys(e.Totals) {
				want := e.Totals[name]
				var paths []string
				for _, f := range want.Files {
					path := filepath.Join(sparseDir, f)
					if f == want.State {
						state := filepath.Join(dir, name+".l0")
						if _, errs, status := runL0("-save", state, path); status != 0 {
							t.Fatalf("%s: -save %s: %s", name, f, errs)
						}
						path = state
					}
					paths = append(paths, path)
				}
				for _, flags := range [][]string{{"-total"}, {"-total", "-per-file"}} {
					args := append([]string{"-json", "-sparse", want.Sparse, "-features", strconv.Itoa(want.Features)}, append(flags, rd.flags...)...)
					out, errs, status := runL0With(rd.tune, append(args, paths...)...)
					if status != 0 || errs != "" {
						t.Fatalf("%s %v: status %d, stderr %q", name, flags, status, errs)
					}
					reports := decodeLines(t, out)
					r := reports[len(reports)-1]
					if len(reports) != 1+(len(flags)-1)*len(paths) || !r.Total || strings.Join(r.Files, " ") != strings.Join(paths, " ") {
						t.Fatalf("%s %v: %s", name, flags, out)
					}
					checkReport(t, r, want.expectation, "")
				}
			}
		})
	}
	// The state of a top-k file is its dense twin's, byte for byte.
	run := e.Runs["i32_f32_3d"]
	sparse, dense := filepath.Join(dir, "sparse.l0"), filepath.Join(dir, "dense.l0")
	if _, errs, status := runL0(run.args("-save", sparse)...); status != 0 {
		t.Fatal(errs)
	}
	if _, errs, status := runL0("-save", dense, filepath.Join(sparseDir, run.Twin)); status != 0 {
		t.Fatal(errs)
	}
	if a, b := readAll(t, sparse), readAll(t, dense); !bytes.Equal(a, b) || len(a) == 0 {
		t.Errorf("the state of %s (%d bytes) is not its twin's (%d bytes)", run.File, len(a), len(b))
	}
	// -sparsity of the top-k file is its twin's too.
	for _, path := range []string{filepath.Join(sparseDir, run.File), filepath.Join(sparseDir, run.Twin)} {
		out := filepath.Join(dir, filepath.Base(path)+".sparsity")
		args := []string{"-sparsity", out, path}
		if strings.HasPrefix(filepath.Base(path), "topk") {
			args = run.args("-sparsity", out)
		}
		if _, errs, status := runL0(args...); status != 0 {
			t.Fatal(errs)
		}
	}
	if a, b := readAll(t, filepath.Join(dir, run.File+".sparsity")), readAll(t, filepath.Join(dir, run.Twin+".sparsity")); !bytes.Equal(a, b) {
		t.Error("-sparsity of a top-k file is not its twin's")
	}
	// Inputs that do not agree: a mask (uint8) and floats; other features.
	fired, f32 := e.Runs["i64_fired"], filepath.Join(sparseDir, "shard_dense_f32.npy")
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(fired.args("-total"), filepath.Join(sparseDir, "shard_mask.npy")), "does not join the total: uint8, 50 features, where " + filepath.Join(sparseDir, fired.File) + " has uint8, 64 features"},
		{append(run.args("-total"), filepath.Join(sparseDir, "shard_mask.npy")), "does not join the total: uint8, 50 features, where " + filepath.Join(sparseDir, run.File) + " has float32, 3 components × 20 features"},
		{[]string{"-total", "-sparse", "idx,val", "-features", "21", filepath.Join(sparseDir, "shard_topk_f32.safetensors"), f32}, "does not join the total: float32, 3 components × 20 features"},
	} {
		out, errs, status := runL0(c.args...)
		if status != 1 || out != "" || !strings.Contains(errs, c.want) || !strings.Contains(errs, "l0: -total: no total") {
			t.Errorf("%v: status %d, stdout %q, stderr %q; want %q", c.args, status, out, errs, c.want)
		}
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestTopKCommandLine checks the flags -sparse does not go with, and its
// own, are command-line errors; and that a stream is an error naming it.
func TestTopKCommandLine(t *testing.T) {
	t.Parallel()
	file := filepath.Join(sparseDir, "topk_i64_bf16.safetensors")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-features", "64", file}, "l0: -features goes with -sparse"},
		{[]string{"-sparse", "indices,values", file}, "l0: -sparse needs -features D"},
		{[]string{"-sparse", "indices,values", "-features", "0", file}, "l0: -features 0: want 1 or more\n"},
		{[]string{"-sparse", "indices,values", "-features", "-3", file}, "l0: -features -3: want 1 or more\n"},
		{[]string{"-sparse", "indices,values", "-features", fmt.Sprint(int64(metric.MaxCounters) + 1), file}, "more features than l0 counts"},
		{[]string{"-sparse", "indices,values", "-features", fmt.Sprint(input.MaxTopKCounters + 1), file}, fmt.Sprintf("l0: -features %d: more features than l0 counts for a top-k file (%d)\n", input.MaxTopKCounters+1, input.MaxTopKCounters)},
		{[]string{"-sparse", "indices,values", "-features", "99999999999999999999", file}, `invalid value "99999999999999999999" for flag -features`},
		{[]string{"-sparse", "", "-features", "64", file}, `l0: -sparse "": want INDEX_KEY or INDEX_KEY,VALUE_KEY`},
		{[]string{"-sparse", ",values", "-features", "64", file}, `l0: -sparse ",values": want INDEX_KEY`},
		{[]string{"-sparse", "indices,", "-features", "64", file}, `l0: -sparse "indices,": an empty VALUE_KEY`},
		{[]string{"-sparse", "x,x", "-features", "64", file}, "the indices and the values are one tensor"},
		{[]string{"-sparse", "indices,values", "-features", "64", "-key", "indices", file}, "l0: -sparse and -key"},
		{[]string{"-sparse", "indices", "-features", "64", "-threshold", "0", file}, "l0: -threshold compares values, and -sparse indices names none"},
		{[]string{"-sparse", "indices", "-features", "64", "-abs-threshold", "1e-5", file}, "l0: -abs-threshold compares values"},
		{[]string{"-sparse", "indices,values", "-features", "64"}, "l0: -sparse reads the files named"},
	} {
		out, errs, status := runL0(c.args...)
		if status != 2 || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("l0 %q: status %d, stdout %q, stderr %q; want 2 and %q", c.args, status, out, errs, c.want)
		}
	}
	// A top-k pair of rank 2 has no positions: an error of the input.
	for _, args := range [][]string{
		{"-sparse", "indices,values", "-features", "64", "-positions", file},
		{"-sparse", "indices,values", "-features", "64", "-skip-positions", "1", file},
	} {
		out, errs, status := runL0(args...)
		if status != 1 || out != "" || !strings.Contains(errs, "-positions reads [batch, position, feature]; the shape [40, 64] (of the top-k [40, 8]) has rank 2") {
			t.Errorf("l0 %q: status %d, stdout %q, stderr %q; want 1 and the rank", args, status, out, errs)
		}
	}
	// Components × -features past input.MaxTopKCounters: counters that no bytes
	// of the file pay for, refused before any is allocated.
	comps := filepath.Join(sparseDir, "topk_i32_f32_3d.safetensors") // [23, 3, 5]
	if out, errs, status := runL0("-sparse", "idx,val", "-features", fmt.Sprint(input.MaxTopKCounters/3+1), comps); status != 1 || out != "" ||
		!strings.Contains(errs, fmt.Sprintf("select from 3 components × %d features (-features); l0 counts at most %d (component, feature) pairs", input.MaxTopKCounters/3+1, input.MaxTopKCounters)) {
		t.Errorf("3 components × %d features: status %d, stdout %q, stderr %q", input.MaxTopKCounters/3+1, status, out, errs)
	}
	// With values, the thresholds apply to them.
	if _, errs, status := runL0("-sparse", "indices,values", "-features", "64", "-threshold", "0.5", file); status != 0 {
		t.Errorf("-threshold with values: %q", errs)
	}
	// A stream is refused, as a pipe and to analyze; .npy streams are not.
	data := readAll(t, file)
	if p := pipeOf(t, data[:min(len(data), 4096)]); p != "" {
		out, errs, status := runL0("-sparse", "indices,values", "-features", "64", p)
		if status != 1 || out != "" || errs != "l0: "+p+": -sparse reads regular files only (the indices and the values are read side by side, at offsets), and this is a stream: save it to a file\n" {
			t.Errorf("a pipe: status %d, stdout %q, stderr %q", status, out, errs)
		}
	}
	s := settings{dense: 0.1, sparse: keys("indices", "values"), features: 64}
	if _, err := analyze("stream", asStream(data), -1, s); err == nil || !strings.Contains(err.Error(), "regular files only") {
		t.Errorf("a stream: %v", err)
	}
	npyData := readAll(t, filepath.Join(sparseDir, "shard_dense_f32.npy"))
	if _, err := analyze("stream.npy", asStream(npyData), -1, settings{dense: 0.1, sparse: keys("idx", "val"), features: 20}); err != nil {
		t.Errorf("a .npy stream with -sparse: %v", err)
	}
}

// TestTopKBounds checks the work and memory of top-k files follow their
// bytes: rows of no entries, however many, are one batch (split or not);
// a header that claims more than the file holds is refused before
// anything is sized by it; components of no entries are bounded; and
// -features past the counters a metric takes, with components, is an
// error.
func TestTopKBounds(t *testing.T) {
	for _, c := range []struct {
		shape    []int64
		features int
	}{
		{[]int64{1 << 62, 0}, 16}, {[]int64{1 << 62, 3, 0}, 5}, {[]int64{math.MaxInt64 - 1000, 0}, 1}, {[]int64{1000, 7, 0}, 9},
	} {
		data := topKFile(t, safetensors.Int64, c.shape, nil, safetensors.BFloat16, []byte{})
		s := settings{dense: 0.1, sparse: keys("i", "v"), features: c.features}
		rep, err := analyze("empty", bytes.NewReader(data), int64(len(data)), s)
		if int64(int(c.shape[0])) != c.shape[0] {
			if !strings.Contains(fmt.Sprint(err), "too large for this machine") {
				t.Errorf("%v: %v, want too large for this machine", c.shape, err)
			}
			continue
		}
		slots := 1
		if len(c.shape) == 3 {
			slots = int(c.shape[1])
		}
		if err != nil || rep.Batches != 1 || rep.Vectors != c.shape[0] || rep.Histogram.Dead != c.features*slots || len(rep.L0) != slots || rep.L0[0] != 0 {
			t.Errorf("%v: %v, %+v", c.shape, err, rep)
		}
		path := writeFile(t, t.TempDir(), "e.safetensors", data)
		for _, workers := range []string{"1", "4"} {
			if _, errs, status := runL0("-j", workers, "-sparse", "i,v", "-features", fmt.Sprint(c.features), path); status != 0 {
				t.Errorf("%v -j %s: %s", c.shape, workers, errs)
			}
		}
	}
	// Claims the file does not hold: refused by the header's sizes, before
	// anything is allocated from them.
	claim := topKFile(t, safetensors.Int64, []int64{2, 4}, make([]byte, 64), safetensors.Float32, make([]byte, 32))
	claim = bytes.Replace(claim, []byte(`[2,4]`), []byte(`[1099511627776,4]`), 2)
	var err error
	grew := allocatedBy(func() {
		_, err = analyze("claim", bytes.NewReader(claim), int64(len(claim)), settings{dense: 0.1, sparse: keys("i", "v"), features: 8})
	})
	if err == nil || grew > 256<<10 {
		t.Errorf("a claim of 2^40 rows: %v, allocated %d bytes", err, grew)
	}
	// Components of no entries: each costs -features counters, and no
	// bytes pay for them.
	data := topKFile(t, safetensors.Uint8, []int64{1, 1 << 20, 0}, nil, 0, nil)
	path := writeFile(t, t.TempDir(), "c.safetensors", data)
	_, errs, status := runL0("-sparse", "i", "-features", "16384", path)
	if status != 1 || !strings.Contains(errs, "no entries (k = 0) for 1048576 components × 16384 features") {
		t.Errorf("components of no entries: status %d, stderr %q", status, errs)
	}
	// More (component, feature) pairs than a metric counts.
	data = topKFile(t, safetensors.Uint8, []int64{1, 3, 1}, []byte{0, 1, 2}, 0, nil)
	path = writeFile(t, t.TempDir(), "p.safetensors", data)
	_, errs, status = runL0("-sparse", "i", "-features", fmt.Sprint(input.MaxTopKCounters/2), path)
	if status != 1 || !strings.Contains(errs, fmt.Sprintf("l0 counts at most %d (component, feature) pairs of a top-k file", input.MaxTopKCounters)) {
		t.Errorf("too many pairs: status %d, stderr %q", status, errs)
	}
}

// TestTopKShrunkFile checks a top-k file truncated while it is counted is
// an error naming it, as a dense file is.
func TestTopKShrunkFile(t *testing.T) {
	t.Parallel()
	data := readAll(t, filepath.Join(sparseDir, "topk_i64_bf16.safetensors"))
	path := writeFile(t, t.TempDir(), "shrinks.safetensors", data)
	tune := func(o *options) {
		tiny(1, 1, 1<<30)(o) // a row a batch
		o.beforeBatch = func(*input.Input) {
			if err := os.Truncate(path, 200); err != nil {
				t.Error(err)
			}
		}
	}
	out, errs, status := runL0With(tune, "-sparse", "indices,values", "-features", "64", path)
	if status != 1 || out != "" || !strings.HasPrefix(errs, "l0: "+path+": the file changed while it was read: ") || strings.Count(errs, "\n") != 1 {
		t.Errorf("status %d, stdout %q, stderr %q", status, out, errs)
	}
}
