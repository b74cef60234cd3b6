package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/report"
)

// delphiDir holds the delphi latent caches gen_delphi.py wrote with numpy,
// their dense twins, and expected.json: numpy's numbers for the good runs,
// the words of the errors of the bad ones.
const delphiDir = "testdata/delphi"

type delphiRun struct {
	Args   []string `json:"args"`
	Expect struct {
		Shape  []int64           `json:"shape"`
		Delphi report.JSONDelphi `json:"delphi"`
		positionExpectation
		Above    positionExpectation `json:"l0_above"`
		AbsAbove positionExpectation `json:"l0_abs_above"`
	} `json:"expect"`
}

type delphiExpectations struct {
	Runs []delphiRun `json:"runs"`
	Bad  []struct {
		Args  []string `json:"args"`
		Error []string `json:"error"`
	} `json:"bad"`
}

func loadDelphi(t *testing.T) delphiExpectations {
	t.Helper()
	var e delphiExpectations
	data, err := os.ReadFile(filepath.Join(delphiDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Runs) < 5 || len(e.Bad) < 15 {
		t.Fatalf("expected.json lists %d runs, %d bad caches", len(e.Runs), len(e.Bad))
	}
	return e
}

// delphiArgs returns a run's arguments with the fixtures' paths.
func delphiArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if !strings.HasPrefix(a, "-") && (i == 0 || args[i-1] != "-skip-positions") {
			out[i] = filepath.Join(delphiDir, a)
		}
	}
	return out
}

// TestDelphiFixtures checks the report of every delphi cache (a directory,
// one split alone, with tokens, without, uint32 locations) against numpy's
// numbers for every rule, read every way: in ranges of a few sequences by
// several workers, a location at a time.
func TestDelphiFixtures(t *testing.T) {
	t.Parallel()
	e := loadDelphi(t)
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			for _, run := range e.Runs {
				args := delphiArgs(run.Args)
				for _, rule := range []struct {
					flags []string
					want  positionExpectation
				}{
					{nil, run.Expect.positionExpectation},
					{[]string{"-threshold", "0.5"}, run.Expect.Above},
					{[]string{"-abs-threshold", "0.5"}, run.Expect.AbsAbove},
				} {
					what := fmt.Sprint(rule.flags, run.Args)
					flags := append(append([]string{"-json"}, rd.flags...), rule.flags...)
					out, errs, status := runL0With(rd.tune, append(flags, args...)...)
					if status != 0 || errs != "" {
						t.Fatalf("%s: status %d, stderr %q", what, status, errs)
					}
					reports := decodeLines(t, out)
					if len(reports) != 1 || reports[0].Format != "delphi" || reports[0].DType != "F16" || fmt.Sprint(reports[0].Shape) != fmt.Sprint(run.Expect.Shape) {
						t.Fatalf("%s: %q; want a delphi report of shape %v", what, out, run.Expect.Shape)
					}
					checkPositions(t, what, reports[0], rule.want)
					if d := reports[0].Delphi; d == nil || *d != run.Expect.Delphi {
						t.Errorf("%s: delphi %+v, want %+v", what, d, run.Expect.Delphi)
					}
				}
			}
		})
	}
}

// TestDelphiTwin checks that a cache and its dense twin (the entries in
// place, a float16 .npy file read with -positions) report, save and write
// a sparsity file alike, byte for byte, and make one total.
func TestDelphiTwin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cache, twin := filepath.Join(delphiDir, "cache"), filepath.Join(delphiDir, "cache_twin.npy")
	files := map[string][]byte{}
	for _, run := range []struct {
		name string
		args []string
	}{
		{"cache", []string{cache}},
		{"cache -j 3", []string{"-j", "3", cache}},
		{"twin", []string{"-positions", twin}},
	} {
		state, sparsity := filepath.Join(dir, run.name+".l0"), filepath.Join(dir, run.name+".sparsity")
		out, errs, status := runL0With(tiny(64, 64, 100), append([]string{"-total", "-save", state, "-sparsity", sparsity}, run.args...)...)
		if status != 0 || errs != "" {
			t.Fatalf("%s: status %d, stderr %q, stdout %q", run.name, status, errs, out)
		}
		for _, f := range []string{state, sparsity} {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			kind := filepath.Ext(f)
			if kind == ".l0" && len(data) > 44 {
				// A cache's counts carry no vector per entry: the
				// vectors since each latent fired, after the counts, are
				// known per range of sequences only (not compared).
				data = data[:40+(len(data)-44)/2]
			}
			if want, ok := files[kind]; ok && !bytes.Equal(data, want) {
				t.Errorf("%s: its %s file differs from the cache's", run.name, kind)
			}
			files[kind] = data
		}
	}
	one, errs, status := runL0("-json", cache)
	if status != 0 || errs != "" {
		t.Fatalf("cache: status %d, stderr %q", status, errs)
	}
	out, errs, status := runL0("-json", "-total", "-positions", twin, cache)
	if status != 0 || errs != "" {
		t.Fatalf("-total twin cache: status %d, stderr %q", status, errs)
	}
	alone, total := decodeLines(t, one)[0], decodeLines(t, out)
	if len(total) != 1 || !total[0].Total || total[0].Vectors != 2*alone.Vectors || fmt.Sprint(total[0].L0, total[0].L0ByPosition, total[0].Dead) != fmt.Sprint(alone.L0, alone.L0ByPosition, alone.Dead) {
		t.Errorf("-total twin cache: %q; the cache alone %q", out, one)
	}
}

// TestDelphiBad checks each bad cache is an error naming the directory and
// the file, exit status 1, with no total and no file written.
func TestDelphiBad(t *testing.T) {
	t.Parallel()
	e := loadDelphi(t)
	dir := t.TempDir()
	for _, tune := range []func(*options){nil, tiny(7, 7, 50)} {
		for _, bad := range e.Bad {
			args := delphiArgs(bad.Args)
			state, sparsity := filepath.Join(dir, "state.l0"), filepath.Join(dir, "sparsity.safetensors")
			out, errs, status := runL0With(tune, append([]string{"-total", "-j", "2", "-save", state, "-sparsity", sparsity}, args...)...)
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			if status != 1 || out != "" || !strings.HasPrefix(lines[0], "l0: "+args[len(args)-1]+": ") || !strings.Contains(errs, "no total") {
				t.Errorf("%v: status %d, stdout %q, stderr %q; want status 1, an error naming it, no total", bad.Args, status, out, errs)
			}
			for _, words := range bad.Error {
				if !strings.Contains(lines[0], words) {
					t.Errorf("%v: %q does not say %q", bad.Args, lines[0], words)
				}
			}
			for _, f := range []string{state, sparsity} {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("%v: %s written", bad.Args, f)
					os.Remove(f)
				}
			}
		}
	}
}

// copyCache copies a fixture cache's splits into a new directory, with
// the config.json given ("": none).
func copyCache(t *testing.T, name, config string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(delphiDir, name, "*.safetensors"))
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if config != "" {
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDelphiClaims checks what config.json claims of a cache without
// tokens: a count of vectors far past the bytes costs nothing (the cache
// is counted whole, its entries once), and the claims that would cost
// memory, or are not numbers, are errors.
func TestDelphiClaims(t *testing.T) {
	t.Parallel()
	huge := copyCache(t, "no_tokens", `{"n_tokens": 4611686018427387904, "cache_ctx_len": 8, "batch_size": 2, "n_splits": 4}`)
	out, errs, status := runL0With(tiny(64, 64, 100), "-json", "-j", "4", huge)
	if status != 0 || errs != "" {
		t.Fatalf("n_tokens 2^62: status %d, stderr %q", status, errs)
	}
	r := decodeLines(t, out)[0]
	if r.Vectors != 1<<62 || r.Shape[0] != 1<<59 || r.Positions != 8 {
		t.Errorf("n_tokens 2^62: %d vectors, shape %v; want 2^62 vectors of 2^59 sequences of 8", r.Vectors, r.Shape)
	}
	for _, c := range []struct{ config, error string }{
		{`{"n_tokens": 4096, "cache_ctx_len": 1000000, "batch_size": 1}`, "cache_ctx_len 1000000: a cache without tokens may have at most 65536 positions"},
		{`{"n_tokens": 4096, "cache_ctx_len": 8.5, "batch_size": 1}`, "config.json: cache_ctx_len is 8.5: want a positive integer"},
		{`{"n_tokens": -1, "cache_ctx_len": 8, "batch_size": 1}`, "config.json: n_tokens is -1"},
		{`{"n_tokens": 4096, "cache_ctx_len": 8}`, "no config.json beside it gives n_tokens, cache_ctx_len and batch_size"},
		{`{"n_tokens": 7, "cache_ctx_len": 8, "batch_size": 1}`, "the cache has no sequences"},
		{`{"n_tokens": 96, "cache_ctx_len": 8, "batch_size": 1, "n_splits": 5}`, "config.json says n_splits 5"},
		{`[1, 2]`, "config.json: not delphi's JSON object"},
		{`{"n_tokens": 96, "cache_ctx_len": 4, "batch_size": 1}`, "position past the sequences' 4 positions"},
		{`{"n_tokens": 32, "cache_ctx_len": 8, "batch_size": 1}`, "sequence past the cache's 4 sequences (from config.json)"},
	} {
		dir := copyCache(t, "no_tokens", c.config)
		out, errs, status := runL0("-total", "-j", "2", dir)
		if status != 1 || out != "" || !strings.HasPrefix(errs, "l0: "+dir+": ") || !strings.Contains(errs, c.error) {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want %q", c.config, status, out, errs, c.error)
		}
	}
}

// TestDelphiSplitAlone checks the ways one split file is read: as a split
// (its latents named by its file), or with -key as one tensor, as before;
// a split named otherwise is an error that says how to read it.
func TestDelphiSplitAlone(t *testing.T) {
	t.Parallel()
	split := filepath.Join(delphiDir, "cache", "0_32.safetensors")
	out, errs, status := runL0("-json", "-key", "locations", split)
	if status != 0 || errs != "" || decodeLines(t, out)[0].Format != "safetensors" {
		t.Errorf("-key locations: status %d, stderr %q, stdout %q", status, errs, out)
	}
	data, err := os.ReadFile(split)
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(t.TempDir(), "latents.safetensors")
	if err := os.WriteFile(renamed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, status = runL0(renamed)
	if status != 1 || !strings.Contains(errs, "names its latents in its file name, {start}_{end}.safetensors") {
		t.Errorf("a split named latents.safetensors: status %d, stderr %q", status, errs)
	}
	_, errs, status = runL0("-sparse", "locations", "-features", "100", filepath.Join(delphiDir, "cache"))
	if status != 1 || !strings.Contains(errs, "-sparse names the tensors of a top-k file") {
		t.Errorf("-sparse with a cache: status %d, stderr %q", status, errs)
	}
}

// TestDelphiAfterBad checks that a bad cache leaves nothing behind in the
// worker that counted it: the good cache counted next, by the same
// worker, reports numpy's numbers.
func TestDelphiAfterBad(t *testing.T) {
	t.Parallel()
	e := loadDelphi(t)
	good := e.Runs[0]
	for _, bad := range []string{"bad_latent", "bad_order", "bad_position"} {
		out, errs, status := runL0("-json", "-j", "1", filepath.Join(delphiDir, bad), filepath.Join(delphiDir, good.Args[0]))
		reports := decodeLines(t, out)
		if status != 1 || !strings.HasPrefix(errs, "l0: "+filepath.Join(delphiDir, bad)+": ") || len(reports) != 1 {
			t.Fatalf("%s then %s: status %d, stderr %q, stdout %q", bad, good.Args[0], status, errs, out)
		}
		checkPositions(t, bad+" then "+good.Args[0], reports[0], good.Expect.positionExpectation)
	}
}

// TestDelphiShrunkSplit checks that a split truncated while it is counted,
// read or mapped, is an error naming the cache and the split. (A mapped
// page the truncation cut reads as zeros past the end, which here makes
// an entry repeated: an error too, if not the one that says why.)
func TestDelphiShrunkSplit(t *testing.T) {
	t.Parallel()
	for _, mmap := range []string{"-mmap=false", "-mmap"} {
		dir := copyCache(t, "cache", "")
		split := filepath.Join(dir, "33_65.safetensors")
		tune := func(o *options) {
			tiny(64, 4096, 1<<30)(o) // 8 entries a batch
			o.beforeBatch = func(*input.Input) {
				if err := os.Truncate(split, 300); err != nil {
					t.Error(err)
				}
			}
		}
		out, errs, status := runL0With(tune, mmap, dir)
		want := "33_65.safetensors: the file changed while it was read"
		if mmap == "-mmap" {
			want = "33_65.safetensors: "
		}
		if status != 1 || out != "" || !strings.HasPrefix(errs, "l0: "+dir+": ") || !strings.Contains(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: status %d, stdout %q, stderr %q", mmap, status, out, errs)
		}
	}
}
