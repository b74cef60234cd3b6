package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/sparsekit/l0/kernel"
)

// The golden files hold the command's whole output, byte for byte, on every
// fixture and the flag combinations the tests use: the exit status, stdout
// and stderr of each run, and the bytes of each file a run writes (-save,
// -sparsity). They were first written by the command as it stood before it
// was split into layers, and every build since must write the same bytes.
// Only what depends on the machine and the moment is left out: the kernel
// level (checked apart, against kernel.Active) and the time and rate of
// reading; and the number of CPUs, -j's default, in the usage.
//
//	go test -run TestGolden -update ./cmd/l0               # rewrite them from this build
//	L0_GOLDEN_BIN=/tmp/l0 go test -run TestGolden ./cmd/l0 # check a built binary
//
// On a 32-bit machine some fixtures are too large (a dimension above
// MaxInt): where its output differs, it is in <group>.32bit.txt.
var update = flag.Bool("update", false, "rewrite testdata/golden from this build")

const goldenDir = "testdata/golden"

// A goldenCase is one run of the command.
type goldenCase struct {
	args  []string           // $OUT is the group's scratch directory; $FIFO a named pipe
	stdin string             // with $FIFO: the file written into the pipe
	setup func(out string)   // run before the command, in the group's order
	files []string           // files under $OUT the run writes, compared byte for byte
	check func(string) error // optional: more to say of the run's stdout
}

// A goldenGroup is a golden file: its cases run in order, in one scratch
// directory.
type goldenGroup struct {
	name  string
	unix  bool // needs named pipes
	cases []goldenCase
}

func TestGolden(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the golden files hold the messages and paths of a unix system")
	}
	for _, g := range goldenGroups(t) {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			if g.unix && !haveFIFO {
				t.Skip("no named pipes here")
			}
			out := t.TempDir()
			var doc bytes.Buffer
			for _, c := range g.cases {
				runGolden(t, &doc, out, c)
			}
			compareGolden(t, g.name, doc.Bytes())
		})
	}
}

// runGolden runs one case and writes what it did to doc.
func runGolden(t *testing.T, doc *bytes.Buffer, out string, c goldenCase) {
	t.Helper()
	if c.setup != nil {
		c.setup(out)
	}
	args := make([]string, len(c.args))
	shown := make([]string, len(c.args))
	fifo := filepath.Join(out, "fifo")
	for i, a := range c.args {
		args[i] = strings.ReplaceAll(strings.ReplaceAll(a, "$OUT", out), "$FIFO", fifo)
		shown[i] = shellQuote(a)
	}
	fmt.Fprintf(doc, "=== l0 %s", strings.Join(shown, " "))
	var stopFeed func()
	if c.stdin != "" {
		fmt.Fprintf(doc, " < %s", c.stdin)
		stopFeed = feedFIFO(t, fifo, strings.ReplaceAll(c.stdin, "$OUT", out))
	}
	doc.WriteString("\n")
	stdout, stderr, status := runGoldenCommand(t, args)
	if stopFeed != nil {
		stopFeed()
	}
	if c.check != nil {
		if err := c.check(stdout); err != nil {
			t.Errorf("l0 %s: %v", strings.Join(shown, " "), err)
		}
	}
	fmt.Fprintf(doc, "status %d\n", status)
	writeStream(doc, "stdout", normalizeOutput(t, stdout, out))
	writeStream(doc, "stderr", defaultWorkers.ReplaceAllString(strings.ReplaceAll(stderr, out, "$OUT"), "${1}CPUS)"))
	for _, name := range c.files {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			fmt.Fprintf(doc, "--- file %s: none\n", name)
			continue
		}
		fmt.Fprintf(doc, "--- file %s: %d bytes\n", name, len(data))
		compareFile(t, name, data)
	}
}

// runGoldenCommand runs the command in this process, or the binary
// L0_GOLDEN_BIN names.
func runGoldenCommand(t *testing.T, args []string) (stdout, stderr string, status int) {
	bin := os.Getenv("L0_GOLDEN_BIN")
	if bin == "" {
		return runL0(args...)
	}
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", bin, err)
	}
	return o.String(), e.String(), status
}

// feedFIFO makes the named pipe and writes the file into it once the
// command opens it; the function it returns ends the writing, whether the
// command read the pipe or not.
func feedFIFO(t *testing.T, fifo, file string) (stop func()) {
	t.Helper()
	os.Remove(fifo)
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(data) // an error: the reader stopped early
		w.Close()
	}()
	return func() {
		select {
		case <-done:
		default:
			// The command did not read the pipe (to its end): read it here
			// until the writer is done.
			r, err := openFIFOReader(fifo)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				for {
					if _, err := io.Copy(io.Discard, r); err != nil {
						return // closed
					}
					select {
					case <-done:
						return
					case <-time.After(time.Millisecond):
					}
				}
			}()
			<-done
			r.Close()
		}
		os.Remove(fifo)
	}
}

var (
	levelText = regexp.MustCompile(`(?m)^  kernel     (\S+)$`)
	levelJSON = regexp.MustCompile(`"kernel":"([^"]*)"`)
	timeText  = regexp.MustCompile(`(?m)^(  read       .*) in [^ ]+: [^ ]+ [^ ]+/s$`)
	timeJSON  = regexp.MustCompile(`"seconds":[-+.0-9eE]+`)
	// -j's default in the usage: the CPUs Go may use.
	defaultWorkers = regexp.MustCompile(`(?m)(^    \tcount with N workers at once .*\(default )[0-9]+\)$`)
)

// normalizeOutput replaces what depends on the machine and the moment: the
// kernel level, which must be the active one, and the time and rate of
// reading; and the scratch directory.
func normalizeOutput(t *testing.T, s, out string) string {
	t.Helper()
	if os.Getenv("L0_GOLDEN_BIN") == "" {
		for _, re := range []*regexp.Regexp{levelText, levelJSON} {
			for _, m := range re.FindAllStringSubmatch(s, -1) {
				if m[1] != kernel.Active().String() {
					t.Errorf("kernel level %q in the report, active %s", m[1], kernel.Active())
				}
			}
		}
	}
	s = levelText.ReplaceAllString(s, "  kernel     LEVEL")
	s = levelJSON.ReplaceAllString(s, `"kernel":"LEVEL"`)
	s = timeText.ReplaceAllString(s, "$1 in TIME: RATE/s")
	s = timeJSON.ReplaceAllString(s, `"seconds":0`)
	return strings.ReplaceAll(s, out, "$OUT")
}

// writeStream writes a stream's bytes under a heading; one that does not
// end in a newline says so, so that the document holds its bytes exactly.
func writeStream(doc *bytes.Buffer, name, s string) {
	fmt.Fprintf(doc, "--- %s\n", name)
	doc.WriteString(s)
	if s != "" && !strings.HasSuffix(s, "\n") {
		doc.WriteString("\n\\ no newline at the end\n")
	}
}

// shellQuote writes an argument as a shell would take it back.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./,$=+:", r))
	}) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// goldenFile names the group's golden file on this machine.
func goldenFile(group string) string {
	if strconv.IntSize == 32 {
		if p := filepath.Join(goldenDir, group+".32bit.txt"); *update || fileExists(p) {
			return p
		}
	}
	return filepath.Join(goldenDir, group+".txt")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// compareGolden compares a group's document with its golden file, or
// writes it with -update (on a 32-bit machine, only where it differs from
// the 64-bit one).
func compareGolden(t *testing.T, group string, doc []byte) {
	t.Helper()
	path := goldenFile(group)
	if *update {
		if strconv.IntSize == 32 {
			if main, err := os.ReadFile(filepath.Join(goldenDir, group+".txt")); err == nil && bytes.Equal(main, doc) {
				os.Remove(path)
				return
			}
		}
		if err := os.MkdirAll(goldenDir, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, doc, 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("%s differs:\n%s", path, firstDifference(string(want), string(doc)))
	}
}

// compareFile compares a file a run wrote with its golden copy, or writes
// the copy with -update.
func compareFile(t *testing.T, name string, data []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, "files", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("the file %s differs from %s (%d bytes, want %d)", name, path, len(data), len(want))
	}
}

// firstDifference shows the lines around the first line that differs.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		if i < len(w) && i < len(g) && w[i] == g[i] {
			continue
		}
		from := max(0, i-3)
		line := func(l []string, j int) string {
			if j < len(l) {
				return l[j]
			}
			return "(end)"
		}
		var b strings.Builder
		for j := from; j < i; j++ {
			fmt.Fprintf(&b, "  %s\n", line(w, j))
		}
		fmt.Fprintf(&b, "- %s\n+ %s\n", line(w, i), line(g, i))
		return b.String()
	}
	return "(same lines)"
}

// goldenGroups returns the runs: every fixture, as text and as -json, with
// the flags each kind of input takes.
func goldenGroups(t *testing.T) []goldenGroup {
	return []goldenGroup{
		{name: "npy", cases: npyGoldenCases(t)},
		{name: "safetensors", cases: safetensorsGoldenCases(t)},
		{name: "sparse", cases: sparseGoldenCases(t)},
		{name: "runs", cases: runGoldenCases()},
		{name: "streams", unix: true, cases: streamGoldenCases()},
	}
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	return paths
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func cases(args ...[]string) []goldenCase {
	out := make([]goldenCase, len(args))
	for i, a := range args {
		out[i] = goldenCase{args: a}
	}
	return out
}

func npyGoldenCases(t *testing.T) []goldenCase {
	var e struct {
		Files map[string]struct {
			Error   string          `json:"error"`
			Shape   []int64         `json:"shape"`
			L0Above json.RawMessage `json:"l0_above"`
		} `json:"files"`
	}
	readJSON(t, filepath.Join(fixtureDir, "expected.json"), &e)
	var out []goldenCase
	for _, p := range glob(t, filepath.Join(fixtureDir, "*.npy")) {
		x := e.Files[filepath.Base(p)]
		out = append(out, cases([]string{p}, []string{"-json", p})...)
		if x.L0Above != nil {
			out = append(out, cases([]string{"-threshold", "0.5", p}, []string{"-json", "-abs-threshold", "0.5", p})...)
		}
		if x.Error == "" && len(x.Shape) == 3 {
			out = append(out, cases([]string{"-positions", p}, []string{"-json", "-skip-positions", "1", p})...)
		}
	}
	return out
}

func safetensorsGoldenCases(t *testing.T) []goldenCase {
	var e struct {
		Files map[string]struct {
			Error     string          `json:"error"`
			Key       string          `json:"key"`
			Shape     []int64         `json:"shape"`
			L0Above   json.RawMessage `json:"l0_above"`
			Positions map[string]any  `json:"positions"`
		} `json:"files"`
		Totals map[string]struct {
			Files []string `json:"files"`
		} `json:"totals"`
	}
	readJSON(t, filepath.Join(stDir, "expected.json"), &e)
	var out []goldenCase
	for _, p := range glob(t, filepath.Join(stDir, "*.safetensors")) {
		x := e.Files[filepath.Base(p)]
		out = append(out, cases([]string{p}, []string{"-json", p})...)
		var key []string
		if x.Key != "" {
			key = []string{"-key", x.Key}
			out = append(out, cases(append(key, p), append([]string{"-json"}, append(key, p)...))...)
		}
		if x.L0Above != nil {
			out = append(out, cases(append([]string{"-threshold", "0.5"}, append(key, p)...), append([]string{"-json", "-abs-threshold", "0.5"}, append(key, p)...))...)
		}
		if x.Positions != nil {
			for _, skip := range []string{"0", "1", "3"} {
				out = append(out, cases(append([]string{"-skip-positions", skip}, append(key, p)...), append([]string{"-json", "-positions", "-skip-positions", skip}, append(key, p)...))...)
			}
		}
	}
	for _, p := range glob(t, filepath.Join(readerDir, "good", "*.safetensors")) {
		out = append(out, cases([]string{p}, []string{"-json", p})...)
	}
	for _, p := range glob(t, filepath.Join(readerDir, "bad", "*.safetensors")) {
		out = append(out, cases([]string{p})...)
	}
	var totals []string
	for name := range e.Totals {
		totals = append(totals, name)
	}
	sort.Strings(totals)
	for _, name := range totals {
		var paths []string
		for _, f := range e.Totals[name].Files {
			paths = append(paths, filepath.Join(stDir, f))
		}
		out = append(out, cases(
			append([]string{"-total"}, paths...),
			append([]string{"-json", "-total"}, paths...),
			append([]string{"-total", "-per-file"}, paths...),
			append([]string{"-json", "-total", "-per-file", "-threshold", "0.5"}, paths...),
			append([]string{"-total", "-j", "1", "-mmap"}, paths...),
			append([]string{"-json", "-total", "-j", "3", "-abs-threshold", "0.5"}, paths...),
		)...)
		out = append(out, goldenCase{
			args:  append([]string{"-total", "-save", "$OUT/" + name + ".l0", "-sparsity", "$OUT/" + name + "-sparsity.safetensors"}, paths...),
			files: []string{name + ".l0", name + "-sparsity.safetensors"},
		})
		out = append(out, cases([]string{"-total", "$OUT/" + name + ".l0"}, []string{"-json", "$OUT/" + name + ".l0"})...)
	}
	return out
}

func sparseGoldenCases(t *testing.T) []goldenCase {
	type run struct {
		File     string          `json:"file"`
		Files    []string        `json:"files"`
		State    string          `json:"state"`
		Sparse   string          `json:"sparse"`
		Features int             `json:"features"`
		L0Above  json.RawMessage `json:"l0_above"`
	}
	var e struct {
		Runs   map[string]run `json:"runs"`
		Totals map[string]run `json:"totals"`
		Bad    map[string]run `json:"bad"`
	}
	readJSON(t, filepath.Join(sparseDir, "expected.json"), &e)
	var out []goldenCase
	for _, p := range glob(t, filepath.Join(sparseDir, "*.safetensors")) {
		out = append(out, cases([]string{p}, []string{"-json", p})...)
	}
	for _, p := range glob(t, filepath.Join(sparseDir, "*.npy")) {
		out = append(out, cases([]string{p}, []string{"-json", p})...)
	}
	for _, runs := range []map[string]run{e.Runs, e.Bad} {
		var names []string
		for name := range runs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			r := runs[name]
			sparse := []string{"-sparse", r.Sparse, "-features", strconv.Itoa(r.Features)}
			p := filepath.Join(sparseDir, r.File)
			out = append(out, cases(append(sparse, p), append([]string{"-json"}, append(sparse, p)...))...)
			if r.L0Above != nil {
				out = append(out, cases(append([]string{"-threshold", "0.5"}, append(sparse, p)...), append([]string{"-json", "-abs-threshold", "0.5"}, append(sparse, p)...))...)
			}
		}
	}
	var names []string
	for name := range e.Totals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := e.Totals[name]
		sparse := []string{"-sparse", r.Sparse, "-features", strconv.Itoa(r.Features)}
		var paths []string
		for _, f := range r.Files {
			p := filepath.Join(sparseDir, f)
			if f == r.State {
				state := name + "-state.l0"
				out = append(out, goldenCase{args: []string{"-save", "$OUT/" + state, p}, files: []string{state}})
				p = "$OUT/" + state
			}
			paths = append(paths, p)
		}
		out = append(out, cases(
			append(sparse, append([]string{"-total"}, paths...)...),
			append(sparse, append([]string{"-json", "-total", "-per-file"}, paths...)...),
			append(sparse, append([]string{"-json", "-total", "-j", "1"}, paths...)...),
		)...)
		out = append(out, goldenCase{
			args:  append(sparse, append([]string{"-save", "$OUT/" + name + ".l0", "-sparsity", "$OUT/" + name + "-sparsity.safetensors"}, paths...)...),
			files: []string{name + ".l0", name + "-sparsity.safetensors"},
		})
	}
	return out
}

// copyTo returns a setup that copies a fixture into the scratch directory.
func copyTo(from, to string) func(string) {
	return func(out string) {
		data, err := os.ReadFile(from)
		if err == nil {
			err = os.WriteFile(filepath.Join(out, to), data, 0o666)
		}
		if err != nil {
			panic(err)
		}
	}
}

// copyOut returns a setup that copies a file of the scratch directory.
func copyOut(from, to string) func(string) {
	return func(out string) { copyTo(filepath.Join(out, from), to)(out) }
}

func runGoldenCases() []goldenCase {
	f32 := filepath.Join(fixtureDir, "float32_2d.npy")
	f32c := filepath.Join(fixtureDir, "float32_3d.npy")
	i32 := filepath.Join(fixtureDir, "int32_2d.npy")
	many := filepath.Join(fixtureDir, "many_components.npy")
	moss := filepath.Join(stDir, "openmoss_chunk.safetensors")
	shard := func(i int) string { return filepath.Join(stDir, fmt.Sprintf("shard_%d.safetensors", i)) }
	out := cases(
		// The built-in sample, and the usage.
		[]string{}, []string{"-json"}, []string{"-h"},
		// Command-line errors.
		[]string{"-nope"}, []string{"-threshold", "x"}, []string{"-threshold", "NaN"}, []string{"-dense", "1.5"},
		[]string{"-dense", "NaN"}, []string{"-dense", "-0.1"}, []string{"-kernels", "x.npy"}, []string{"-j", "0"}, []string{"-j", "1025"},
		[]string{"-j", "99999999999999999999"}, []string{"-per-file"}, []string{"-save", "x", "-sparsity", "x"},
		[]string{"-skip-positions", "x"}, []string{"-skip-positions", "-1", f32c},
		[]string{"-threshold", "0.5", "-abs-threshold", "0.5", f32},
		[]string{"-features", "4", f32}, []string{"-sparse", "", "-features", "4", f32}, []string{"-sparse", "i,", "-features", "4", f32},
		[]string{"-sparse", "i,i", "-features", "4", f32}, []string{"-sparse", "i,v", f32}, []string{"-sparse", "i,v", "-features", "0", f32},
		[]string{"-sparse", "i,v", "-features", "99999999999", f32}, []string{"-sparse", "i,v", "-features", "4", "-key", "x", f32},
		[]string{"-sparse", "i,v", "-features", "4", "-positions", f32}, []string{"-sparse", "i", "-features", "4", "-threshold", "1", f32},
		[]string{"-sparse", "i", "-features", "4", "-abs-threshold", "1", f32}, []string{"-sparse", "i", "-features", "4"},
		// The rule, and -dense.
		[]string{"-threshold", "0", f32}, []string{"-json", "-threshold", "-0", f32}, []string{"-json", "-threshold", "inf", f32},
		[]string{"-threshold", "-inf", f32}, []string{"-json", "-threshold", "1e400", f32}, []string{"-json", "-threshold", "-1e400", f32},
		[]string{"-abs-threshold", "1e-5", f32c}, []string{"-json", "-abs-threshold", "1e-400", f32c},
		[]string{"-json", "-threshold", "0", i32, f32}, []string{"-abs-threshold", "0.5", i32},
		[]string{"-dense", "0.5", f32c}, []string{"-json", "-dense", "0", f32c}, []string{"-dense", "-0", f32c}, []string{"-json", "-dense", "1", f32c},
		// Many files, good and bad; the text report's blank lines.
		[]string{f32, f32c}, []string{f32, filepath.Join(fixtureDir, "fortran.npy"), f32c, "no such file.npy", fixtureDir},
		[]string{"-json", f32c, filepath.Join(fixtureDir, "truncated_payload.npy"), i32},
		// Many components and positions: ranges in text, every value in -json.
		[]string{many}, []string{"-json", many}, []string{"-positions", many}, []string{"-json", "-positions", many},
		[]string{"-skip-positions", "11", many}, []string{"-skip-positions", "20", many}, []string{"-positions", f32},
		[]string{"-key", "activation", "-skip-positions", "9", moss}, []string{"-key", "", moss}, []string{"-json", "-key", "", moss},
		// Workers, ranges, mapped windows.
		[]string{"-j", "1", f32c, moss, "-key", "activation"}, []string{"-mmap", "-json", f32c}, []string{"-mmap", "-j", "2", f32, f32c},
		// Totals that fail, or do not join.
		[]string{"-total", f32, f32c}, []string{"-total", "-per-file", f32, i32, f32c}, []string{"-json", "-total", "-per-file", f32c, f32},
		[]string{"-total", shard(0), filepath.Join(stDir, "truncated.safetensors")},
		[]string{"-total", "-per-file", shard(0), filepath.Join(fixtureDir, "fortran.npy"), shard(1)},
		[]string{"-total", shard(0), filepath.Join(stDir, "F32_2d.safetensors"), shard(2)},
		[]string{"-total", "-threshold", "0.5", shard(0), i32},
		[]string{"-total"},
	)
	out = append(out,
		// States: saved, merged, read back, accumulated.
		goldenCase{args: []string{"-save", "$OUT/one.l0", f32c}, files: []string{"one.l0"}},
		goldenCase{args: []string{"-json", "-save", "$OUT/two.l0", "-sparsity", "$OUT/two.safetensors", f32, f32c}, files: []string{"two.l0", "two.safetensors"}},
		goldenCase{args: []string{"-sparsity", "$OUT/one-sparsity.safetensors", "-threshold", "0.5", f32c}, files: []string{"one-sparsity.safetensors"}},
		goldenCase{args: []string{"$OUT/one.l0"}},
		goldenCase{args: []string{"-json", "-total", "$OUT/one.l0", f32c}},
		goldenCase{args: []string{"-total", "-per-file", "$OUT/one.l0", "$OUT/one.l0"}},
		goldenCase{args: []string{"-threshold", "0.5", "$OUT/one.l0"}},
		goldenCase{args: []string{"-positions", "$OUT/one.l0"}},
		goldenCase{args: []string{"-save", "$OUT/shards.l0", shard(0), shard(1)}, files: []string{"shards.l0"}},
		goldenCase{setup: copyOut("shards.l0", "acc.l0"), args: []string{"-total", "-save", "$OUT/acc.l0", "$OUT/acc.l0", shard(2)}, files: []string{"acc.l0"}},
		goldenCase{args: []string{"-total", "$OUT/acc.l0"}},
		// Outputs refused: an input, one another, a file of another kind.
		goldenCase{setup: copyTo(f32, "in.npy"), args: []string{"-total", "-sparsity", "$OUT/in.npy", "$OUT/in.npy"}},
		goldenCase{args: []string{"-save", "$OUT/in.npy", f32}},
		goldenCase{args: []string{"-sparsity", "$OUT/one.l0", f32}},
		goldenCase{args: []string{"-save", "$OUT/x.l0", "-sparsity", "$OUT/./x.l0", f32}},
		goldenCase{args: []string{"-save", "$OUT/no/such/dir.l0", f32}},
		goldenCase{args: []string{"-save", "$OUT", f32}},
		// A name that is not UTF-8, or not printable.
		goldenCase{setup: copyTo(f32, "bad\xffname.npy"), args: []string{"$OUT/bad\xffname.npy", "$OUT/in.npy"}},
		goldenCase{setup: copyTo(f32, "tab\tname.npy"), args: []string{"-total", "$OUT/tab\tname.npy", "$OUT/in.npy"}},
	)
	return out
}

func streamGoldenCases() []goldenCase {
	return []goldenCase{
		{args: []string{"$FIFO"}, stdin: filepath.Join(fixtureDir, "float32_3d.npy")},
		{args: []string{"-json", "$FIFO"}, stdin: filepath.Join(stDir, "F32_3d.safetensors")},
		{args: []string{"-key", "activation", "-skip-positions", "1", "$FIFO"}, stdin: filepath.Join(stDir, "openmoss_chunk.safetensors")},
		{args: []string{"$FIFO"}, stdin: filepath.Join(fixtureDir, "truncated_payload.npy")},
		{args: []string{"$FIFO"}, stdin: filepath.Join(fixtureDir, "trailing.npy")},
		{args: []string{"$FIFO"}, stdin: filepath.Join(stDir, "trailing.safetensors")},
		{args: []string{"$FIFO"}, stdin: filepath.Join(stDir, "truncated.safetensors")},
		{args: []string{"-json", "$FIFO"}, stdin: filepath.Join(fixtureDir, "empty_rows_3d.npy")},
		{args: []string{"-save", "$OUT/s.l0", filepath.Join(fixtureDir, "float32_3d.npy")}, files: []string{"s.l0"}},
		{args: []string{"-total", "$FIFO"}, stdin: "$OUT/s.l0"},
		{args: []string{"-json", "-total", filepath.Join(fixtureDir, "float32_3d.npy"), "$FIFO"}, stdin: "$OUT/s.l0"},
		{args: []string{"-sparse", "indices,values", "-features", "64", "$FIFO"}, stdin: filepath.Join(sparseDir, "topk_i64_bf16.safetensors")},
		{args: []string{"-sparse", "indices,values", "-features", "64", "$FIFO"}, stdin: filepath.Join(fixtureDir, "float32_2d.npy")},
		{args: []string{"$FIFO", "$FIFO"}, stdin: filepath.Join(fixtureDir, "float32_3d.npy")},
		{args: []string{"-save", "/dev/null", "$FIFO"}, stdin: filepath.Join(fixtureDir, "float32_3d.npy")},
	}
}
