package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
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

// valueFlags are the flags of the fixtures' runs that take a value.
var valueFlags = map[string]bool{"-skip-positions": true, "-exclude-tokens": true, "-threshold": true, "-abs-threshold": true}

// delphiArgs returns a run's arguments with the fixtures' paths.
func delphiArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if !strings.HasPrefix(a, "-") && (i == 0 || !valueFlags[args[i-1]]) {
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
			// The state's vectors since each latent fired too: a cache
			// keeps per latent the last token it fired in.
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
	for _, bad := range []string{"bad_latent", "bad_order", "bad_position", "bad_latent -exclude-tokens", "bad_order -exclude-tokens"} {
		bad, masked := strings.CutSuffix(bad, " -exclude-tokens")
		args := []string{"-json", "-j", "1", filepath.Join(delphiDir, bad), filepath.Join(delphiDir, good.Args[0])}
		if masked { // per sequence: an id no token has
			args = append([]string{"-exclude-tokens", "49999999"}, args...)
		}
		out, errs, status := runL0(args...)
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
	for _, c := range []struct{ flag, split, want string }{
		{"-mmap=false", "33_65.safetensors", "33_65.safetensors: the file changed while it was read"},
		{"-mmap", "33_65.safetensors", "33_65.safetensors: "},
		// The tokens of the keep mask, read(2) at offsets.
		{"-exclude-tokens=1", "0_32.safetensors", "the file changed while it was read: reading the token ids of 0_32.safetensors (its tensor \"tokens\")"},
	} {
		dir := copyCache(t, "cache", "")
		split := filepath.Join(dir, c.split)
		tune := func(o *options) {
			tiny(64, 4096, 1<<30)(o) // 8 entries a batch
			o.beforeBatch = func(*input.Input) {
				if err := os.Truncate(split, 300); err != nil {
					t.Error(err)
				}
			}
		}
		out, errs, status := runL0With(tune, c.flag, dir)
		if status != 1 || out != "" || !strings.HasPrefix(errs, "l0: "+dir+": ") || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: status %d, stdout %q, stderr %q", c.flag, status, out, errs)
		}
	}
}

// delphiMask is a masked or per-sequence run of expected.json's "masks":
// numpy's numbers, the per-latent ones of a wide cache given sparsely
// (Features, FiringAt and FiredAt: the latents that fired).
type delphiMask struct {
	maskExpectation
	Features int              `json:"features"`
	FiringAt map[string]int64 `json:"firing_at"`
	FiredAt  map[string]int64 `json:"fired_at"`
}

// full returns e's per-latent numbers as lists, a sparse run's expanded:
// the density and the heuristic divided as numpy divides them.
func (e delphiMask) full(t *testing.T) maskExpectation {
	t.Helper()
	m := e.maskExpectation
	if e.FiringAt == nil {
		return m
	}
	m.FiringCounts, m.SequencesFired = make([]int64, e.Features), make([]int64, e.Features)
	m.FeatureDensity, m.ConsistentHeur = make([]float64, e.Features), make([]*float64, e.Features)
	for _, at := range []struct {
		m    map[string]int64
		into []int64
	}{{e.FiringAt, m.FiringCounts}, {e.FiredAt, m.SequencesFired}} {
		for k, n := range at.m {
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= e.Features {
				t.Fatalf("expected.json: latent %q", k)
			}
			at.into[i] = n
		}
	}
	for i, n := range m.FiringCounts {
		m.FeatureDensity[i] = float64(n) / float64(m.Vectors)
		if f := m.SequencesFired[i]; f > 0 {
			h := float64(n) / float64(f)
			m.ConsistentHeur[i] = &h
		}
	}
	return m
}

func loadDelphiMasks(t *testing.T) map[string]delphiMask {
	t.Helper()
	var e struct {
		Masks map[string]delphiMask `json:"masks"`
	}
	data, err := os.ReadFile(filepath.Join(delphiDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Masks) < 10 {
		t.Fatalf("expected.json lists %d masked runs", len(e.Masks))
	}
	return e.Masks
}

// TestDelphiMasks checks the masked and per-sequence runs of the caches
// (-exclude-tokens, -feature-stats: uint16 locations, with
// -skip-positions, a split alone, uint32 locations, an id no token has)
// against numpy's numbers: the report, the -feature-stats file and the
// state -save writes, counted by 1 to 8 workers in ranges of a sequence
// or two, read or mapped.
func TestDelphiMasks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ways := slices.Clone(readers)
	for j := 1; j <= 8; j++ {
		ways = append(ways, struct {
			name  string
			flags []string
			tune  func(*options)
		}{fmt.Sprintf("-j %d", j), []string{"-j", fmt.Sprint(j)}, tiny(64, 4096, 100)}) // ranges of a sequence or two
	}
	for name, run := range loadDelphiMasks(t) {
		e := run.full(t)
		for _, rd := range ways {
			what := fmt.Sprintf("%s %s", name, rd.name)
			stats, state := filepath.Join(dir, "stats.safetensors"), filepath.Join(dir, "state.l0")
			args := append(append([]string{"-json", "-feature-stats", stats, "-save", state}, rd.flags...), delphiArgs(run.Args)...)
			out, errs, status := runL0With(rd.tune, args...)
			if status != 0 || errs != "" {
				t.Fatalf("%s: l0 %q: status %d, stderr %q", what, args, status, errs)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%s: %v\n%s", what, err, out)
			}
			check := func(field string, want any) {
				t.Helper()
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got[field])
				if !bytes.Equal(w, g) {
					t.Errorf("%s: %s = %s, numpy %s", what, field, g, w)
				}
			}
			check("vectors", e.Vectors)
			if slices.Contains(e.Args, "-exclude-tokens") {
				check("excluded_vectors", e.Excluded)
			} else if _, ok := got["excluded_vectors"]; ok {
				t.Errorf("%s: excluded_vectors without a mask", what)
			}
			check("l0", e.L0)
			check("dead", e.Dead)
			check("dense", e.Dense)
			check("sequences", *e.Sequences)
			check("l0_by_position", e.L0ByPosition)
			checkFeatureStats(t, what, stats, e)
			checkMaskedState(t, what, state, e)
		}
	}
}

// TestDelphiTwinMasks checks that a cache and its dense twin read with
// -positions -tokens (the cache's tokens as a .npy file) report, save, and
// write their sparsity and -feature-stats files alike, byte for byte, by
// every mask (none, BOS and padding, an id no token has, a skipped
// position), by 1 to 8 workers, and make one total.
func TestDelphiTwinMasks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cache, twin := filepath.Join(delphiDir, "cache"), filepath.Join(delphiDir, "cache_twin.npy")
	tokens := filepath.Join(delphiDir, "cache_twin_tokens.npy")
	for _, mask := range [][]string{
		nil,
		{"-exclude-tokens", "1,0"},
		{"-exclude-tokens", "0"},
		{"-exclude-tokens", "49999999,7"},
		{"-skip-positions", "1", "-exclude-tokens", "0"},
		{"-threshold", "0.5", "-exclude-tokens", "1"},
	} {
		files := map[string][]byte{}
		var report string
		for _, run := range []struct {
			name string
			args []string
			tune func(*options)
		}{
			{"twin", []string{"-positions", twin}, nil},
			{"cache", []string{cache}, nil},
			{"cache -j 1", []string{"-j", "1", cache}, nil},
			{"cache -j 2", []string{"-j", "2", cache}, tiny(64, 64, 100)},
			{"cache -j 3", []string{"-j", "3", "-mmap", cache}, tiny(64, 4096, 100)},
			{"cache -j 5", []string{"-j", "5", cache}, tiny(7, 7, 50)},
			{"cache -j 8", []string{"-j", "8", cache}, tiny(64, 64, 1)},
		} {
			what := fmt.Sprint(mask, run.name)
			args := slices.Clone(mask)
			if run.name == "twin" && slices.Contains(mask, "-exclude-tokens") {
				args = append(args, "-tokens", tokens)
			}
			state, sparsity, stats := filepath.Join(dir, "x.l0"), filepath.Join(dir, "x.sparsity"), filepath.Join(dir, "x.stats")
			args = append(append([]string{"-json", "-total", "-save", state, "-sparsity", sparsity, "-feature-stats", stats}, args...), run.args...)
			out, errs, status := runL0With(run.tune, args...)
			if status != 0 || errs != "" {
				t.Fatalf("%s: l0 %q: status %d, stderr %q, stdout %q", what, args, status, errs, out)
			}
			for _, f := range []string{state, sparsity, stats} {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				kind := filepath.Ext(f)
				// vectors_since_fired too, in the state and the stats.
				if want, ok := files[kind]; ok && !bytes.Equal(data, want) {
					t.Errorf("%s: its %s file differs from the twin's", what, kind)
				}
				files[kind] = data
				os.Remove(f)
			}
			got := decodeLines(t, out)
			if len(got) != 1 || !got[0].Total || got[0].Sequences == nil || *got[0].Sequences != 6 || (got[0].Excluded != nil) != slices.Contains(mask, "-exclude-tokens") {
				t.Fatalf("%s: %q", what, out)
			}
			numbers := fmt.Sprint(got[0].Vectors, deref(got[0].Excluded), *got[0].Sequences, got[0].L0, got[0].L0ByPosition, got[0].Dead, got[0].Dense, *got[0].Histogram)
			if report != "" && numbers != report {
				t.Errorf("%s: %s; the twin %s", what, numbers, report)
			}
			report = numbers
		}
		if !slices.Contains(mask, "-exclude-tokens") {
			continue
		}
		// One total of the twin and the cache: the same config.
		args := append(slices.Clone(mask), "-json", "-total", "-positions", "-tokens", tokens, twin)
		out, errs, status := runL0(args...)
		if status != 0 || errs != "" {
			t.Fatalf("%v: status %d, %s", args, status, errs)
		}
		alone := decodeLines(t, out)[0]
		out, errs, status = runL0(append(slices.Clone(mask), "-json", "-total", cache, cache)...)
		if status != 0 || errs != "" {
			t.Fatalf("%v twice: status %d, %s", mask, status, errs)
		}
		total := decodeLines(t, out)[0]
		if !total.Total || total.Vectors != 2*alone.Vectors || *total.Excluded != 2**alone.Excluded || *total.Sequences != 12 || fmt.Sprint(total.L0, total.L0ByPosition) != fmt.Sprint(alone.L0, alone.L0ByPosition) {
			t.Errorf("%v: the total of the cache twice %+v; the twin alone %+v", mask, total, alone)
		}
	}
}

// TestDelphiMaskHostile: every token excluded is an error of the input
// (no L0), with no total or file; an exclusion that leaves a sequence
// whole or a position empty, and -feature-stats of a cache without
// tokens, count as the twin does.
func TestDelphiMaskHostile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cache := filepath.Join(delphiDir, "cache")
	stats, state := filepath.Join(dir, "stats.safetensors"), filepath.Join(dir, "state.l0")
	// Every id of the cache's tokens.
	ids := map[string]bool{}
	data, err := os.ReadFile(filepath.Join(delphiDir, "cache_twin_tokens.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) - 6*8*8; i < len(data); i += 8 {
		ids[fmt.Sprint(binary.LittleEndian.Uint64(data[i:]))] = true
	}
	all := strings.Join(slices.Sorted(maps.Keys(ids)), ",")
	for _, j := range []string{"1", "4"} {
		out, errs, status := runL0("-json", "-total", "-j", j, "-exclude-tokens", all, "-feature-stats", stats, "-save", state, cache)
		if status != 1 || out != "" || !strings.Contains(errs, "every vector was left out by the token mask") || !strings.Contains(errs, "no total") {
			t.Errorf("every token excluded, -j %s: status %d, stdout %q, stderr %q", j, status, out, errs)
		}
		for _, f := range []string{stats, state} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("every token excluded: %s written", f)
				os.Remove(f)
			}
		}
	}
	// -feature-stats of a cache without tokens: the sequences from
	// config.json.
	out, errs, status := runL0("-json", "-j", "3", "-feature-stats", stats, filepath.Join(delphiDir, "no_tokens"))
	if status != 0 || errs != "" {
		t.Fatalf("-feature-stats no_tokens: status %d, %s", status, errs)
	}
	if r := decodeLines(t, out)[0]; r.Sequences == nil || *r.Sequences != 12 || r.Excluded != nil || r.Vectors != 96 {
		t.Errorf("-feature-stats no_tokens: %q", out)
	}
}
