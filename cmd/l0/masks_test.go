package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// masksDir holds gen_masks.py's fixtures: token masks and per-sequence
// statistics, with numpy's numbers in expected.json.
var masksDir = filepath.Join("testdata", "masks")

// maskExpectation is one run of expected.json: its arguments (files in
// masksDir) and numpy's numbers; the per-sequence ones with positions.
type maskExpectation struct {
	Args           []string   `json:"args"`
	Vectors        int64      `json:"vectors"`
	Excluded       int64      `json:"excluded_vectors"`
	L0             any        `json:"l0"`
	Dead           any        `json:"dead"`
	Dense          any        `json:"dense"`
	Sequences      *int64     `json:"sequences"`
	L0ByPosition   []*float64 `json:"l0_by_position"`
	FiringCounts   []int64    `json:"firing_counts"`
	SequencesFired []int64    `json:"sequences_fired"`
	FeatureDensity []float64  `json:"feature_density"`
	ConsistentHeur []*float64 `json:"consistent_activation_heuristic"`
}

func readMaskExpectations(t *testing.T) map[string]maskExpectation {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(masksDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]maskExpectation
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// maskArgs returns a run's arguments with its files in masksDir.
func maskArgs(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		if strings.HasSuffix(a, ".npy") || strings.HasSuffix(a, ".safetensors") {
			out[i] = filepath.Join(masksDir, a)
		}
	}
	return out
}

// TestMasksAgainstNumPy runs each fixture of gen_masks.py, with -json and
// -feature-stats where it has positions, by one worker and by many in
// tiny ranges, and checks every number against numpy's.
func TestMasksAgainstNumPy(t *testing.T) {
	t.Parallel()
	for name, e := range readMaskExpectations(t) {
		for _, tune := range []func(*options){nil, tiny(64, 0, 64)} {
			args := maskArgs(e.Args)
			stats := filepath.Join(t.TempDir(), "stats.safetensors")
			state := filepath.Join(t.TempDir(), "state.l0")
			if e.Sequences != nil {
				args = append([]string{"-feature-stats", stats, "-save", state}, args...)
			}
			args = append([]string{"-json", "-j", "3"}, args...)
			out, errs, status := runL0With(tune, args...)
			if status != 0 {
				t.Fatalf("%s: l0 %q: status %d, %s", name, args, status, errs)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
			check := func(field string, want any) {
				t.Helper()
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got[field])
				if !bytes.Equal(w, g) {
					t.Errorf("%s: %s = %s, numpy %s", name, field, g, w)
				}
			}
			check("vectors", e.Vectors)
			if slices.Contains(e.Args, "-exclude-tokens") {
				check("excluded_vectors", e.Excluded)
			} else if _, ok := got["excluded_vectors"]; ok {
				t.Errorf("%s: excluded_vectors without a mask", name)
			}
			check("l0", e.L0)
			check("dead", e.Dead)
			check("dense", e.Dense)
			if e.Sequences == nil {
				continue
			}
			check("sequences", *e.Sequences)
			check("l0_by_position", e.L0ByPosition)
			checkFeatureStats(t, name, stats, e)
			checkMaskedState(t, name, state, e)
		}
	}
}

// checkFeatureStats reads a -feature-stats file and checks each tensor
// against numpy's numbers.
func checkFeatureStats(t *testing.T, name, path string, e maskExpectation) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	h, err := safetensors.ReadHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(h.Tensors) != 5 {
		t.Errorf("%s: %d tensors", name, len(h.Tensors))
	}
	tensor := func(key string, dtype safetensors.DType) []uint64 {
		tt, ok := h.Lookup(key)
		if !ok || tt.DType != dtype || !slices.Equal(tt.Shape, []int64{int64(len(e.FiringCounts))}) {
			t.Fatalf("%s: tensor %q: %v", name, key, tt)
		}
		raw := b[h.DataOffset()+tt.Begin : h.DataOffset()+tt.End]
		out := make([]uint64, len(raw)/8)
		for i := range out {
			out[i] = binary.LittleEndian.Uint64(raw[8*i:])
		}
		return out
	}
	firing, fired := tensor("firing_counts", safetensors.Int64), tensor("sequences_fired", safetensors.Int64)
	density, cah := tensor("feature_density", safetensors.Float64), tensor("consistent_activation_heuristic", safetensors.Float64)
	since := tensor("vectors_since_fired", safetensors.Int64)
	kept := int64(0)
	if n := len(e.FeatureDensity); n > 0 && e.FeatureDensity[0] > 0 {
		kept = int64(math.Round(float64(e.FiringCounts[0]) / e.FeatureDensity[0]))
	}
	for i := range e.FiringCounts {
		// The kept vectors since it fired: all of them exactly when it
		// never fired (numpy's fixtures give no order to check more).
		if kept > 0 && (e.FiringCounts[i] == 0) != (int64(since[i]) == kept) {
			t.Errorf("%s: feature %d: %d vectors since it fired of %d, firing count %d", name, i, since[i], kept, e.FiringCounts[i])
		}
		if int64(firing[i]) != e.FiringCounts[i] || int64(fired[i]) != e.SequencesFired[i] {
			t.Errorf("%s: feature %d: firing %d, sequences %d; numpy %d, %d", name, i, firing[i], fired[i], e.FiringCounts[i], e.SequencesFired[i])
		}
		if d := math.Float64frombits(density[i]); d != e.FeatureDensity[i] {
			t.Errorf("%s: feature %d: density %v, numpy %v", name, i, d, e.FeatureDensity[i])
		}
		h := math.Float64frombits(cah[i])
		if w := e.ConsistentHeur[i]; (w == nil) != math.IsNaN(h) || w != nil && *w != h {
			t.Errorf("%s: feature %d: consistent_activation_heuristic %v, numpy %v", name, i, h, w)
		}
	}
}

// checkMaskedState checks that the state -save wrote holds the kept
// vectors alone: numpy's vector count and firing counts.
func checkMaskedState(t *testing.T, name, path string, e maskExpectation) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, read := range []func([]byte, int) ([]uint64, int64, error){
		countsOfState[float32], countsOfState[kernel.BFloat16], countsOfState[uint8], countsOfState[kernel.Float16],
	} {
		if counts, vectors, err := read(b, len(e.FiringCounts)); err == nil {
			checkCounts(t, name, counts, vectors, e)
			return
		}
	}
	t.Fatalf("%s: the state is of no configuration of the fixtures", name)
}

// countsOfState reads a state of element type T by one of the fixtures'
// rules.
func countsOfState[T kernel.Element](b []byte, features int) ([]uint64, int64, error) {
	for _, rule := range []metric.Rule{metric.NonZero(), metric.AbsAbove(0.3), metric.Above(0.5), metric.AbsAbove(0.5)} {
		a, err := metric.NewFeatureActivity[T](0, features, rule)
		if err != nil {
			continue
		}
		if err := a.UnmarshalBinary(b); err == nil {
			return a.Counts(), a.Vectors(), nil
		}
	}
	return nil, 0, metric.ErrMismatch
}

func checkCounts(t *testing.T, name string, counts []uint64, vectors int64, e maskExpectation) {
	t.Helper()
	if vectors != e.Vectors || len(counts) != len(e.FiringCounts) {
		t.Fatalf("%s: the state holds %d vectors, %d counts; numpy %d, %d", name, vectors, len(counts), e.Vectors, len(e.FiringCounts))
	}
	for i, c := range counts {
		if int64(c) != e.FiringCounts[i] {
			t.Errorf("%s: the state's count %d is %d, numpy %d", name, i, c, e.FiringCounts[i])
		}
	}
}

// TestMaskErrors: the hostile command lines and inputs of token masks and
// -feature-stats, each refused with its words and nothing written.
func TestMaskErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pos, tokens := filepath.Join(masksDir, "pos_f32.npy"), filepath.Join(masksDir, "pos_tokens.npy")
	stats := filepath.Join(dir, "stats.safetensors")
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"-exclude-tokens", "", pos}, 2, `-exclude-tokens "": want one or more token ids`},
		{[]string{"-exclude-tokens", "1,,2", pos}, 2, "id 2 is empty"},
		{[]string{"-exclude-tokens", "1,", pos}, 2, "id 2 is empty"},
		{[]string{"-exclude-tokens", "-1", pos}, 2, "-1 is negative"},
		{[]string{"-exclude-tokens", "-99999999999999999999", pos}, 2, "is negative"},
		{[]string{"-exclude-tokens", "9223372036854775808", pos}, 2, "past the largest token id"},
		{[]string{"-exclude-tokens", "3,7,3", pos}, 2, "3 is given twice"},
		{[]string{"-exclude-tokens", "0x10", pos}, 2, "not a token id"},
		{[]string{"-exclude-tokens", "1.5", pos}, 2, "not a token id"},
		{[]string{"-exclude-tokens", "NaN", pos}, 2, "not a token id"},
		{[]string{"-exclude-tokens", "inf", pos}, 2, "not a token id"},
		{[]string{"-tokens", tokens, pos}, 2, "-tokens goes with -exclude-tokens"},
		{[]string{"-tokens-key", "ids", pos}, 2, "-tokens-key goes with -exclude-tokens"},
		{[]string{"-exclude-tokens", "1", "-tokens", tokens, pos, pos}, 2, "one .npy input; 2 inputs given"},
		{[]string{"-exclude-tokens", "1"}, 2, "the built-in sample has none"},
		{[]string{"-feature-stats", stats, pos}, 1, "-feature-stats counts per sequence, and the shape (6, 9, 40) has no positions"},
		{[]string{"-feature-stats", "", "-positions", pos}, 2, `-feature-stats "": want the name`},
		{[]string{"-feature-stats", pos, "-positions", pos}, 2, "writing it would destroy the input"},
		{[]string{"-feature-stats", tokens, "-positions", "-exclude-tokens", "1", "-tokens", tokens, pos}, 2, "writing it would destroy the input"},
		{[]string{"-feature-stats", stats, "-sparsity", stats, "-positions", pos}, 2, "-sparsity and -feature-stats name the same file"},
		{[]string{"-positions", "-exclude-tokens", "1", pos}, 1, "give them with -tokens FILE.npy"},
		{[]string{"-positions", "-exclude-tokens", "1", "-tokens", filepath.Join(masksDir, "bad_tokens_shape.npy"), pos}, 1,
			"the token ids have the shape (6, 8), the activations' vectors [6, 9] (of the activations [6, 9, 40])"},
		{[]string{"-positions", "-exclude-tokens", "1", "-tokens", filepath.Join(masksDir, "bad_tokens_float.npy"), pos}, 1, "want an integer dtype"},
		{[]string{"-exclude-tokens", "1", "-tokens", tokens, pos}, 1, "the token ids have the shape (6, 9), the activations' vectors [6]"},
		{[]string{"-positions", "-exclude-tokens", "1", "-tokens", filepath.Join(dir, "missing.npy"), pos}, 1, "no such file"},
		{[]string{"-positions", "-exclude-tokens", "1", "-tokens", pos, pos}, 1, "want an integer dtype"},
		{[]string{"-key", "acts", "-positions", "-exclude-tokens", "1", filepath.Join(masksDir, "pos_bf16_ids.safetensors")}, 1, `holds no tensor "tokens"`},
		{[]string{"-key", "acts", "-positions", "-exclude-tokens", "1", "-tokens-key", "nope", filepath.Join(masksDir, "pos_bf16_ids.safetensors")}, 1, `no tensor "nope" (-tokens-key)`},
		{[]string{"-key", "acts", "-positions", "-exclude-tokens", "1", "-tokens-key", "acts", filepath.Join(masksDir, "pos_bf16_ids.safetensors")}, 1, "the activations' own tensor"},
		{[]string{"-exclude-tokens", "1", filepath.Join("testdata", "delphi", "no_tokens")}, 1, "-exclude-tokens needs the token id of each vector, and the cache was saved without tokens"},
		{[]string{"-exclude-tokens", "1", "-feature-stats", stats, "-total", filepath.Join("testdata", "delphi", "no_tokens")}, 1, "the cache was saved without tokens"},
		{[]string{"-exclude-tokens", "1", "-tokens", tokens, filepath.Join("testdata", "delphi", "cache")}, 1, "a delphi cache's are its tokens: give it without -tokens"},
		{[]string{"-exclude-tokens", "1", "-tokens-key", "tokens", filepath.Join("testdata", "delphi", "cache")}, 1, "a delphi cache's are its tokens: give it without -tokens-key"},
		{[]string{"-exclude-tokens", "1", "-tokens-key", "tokens", filepath.Join("testdata", "delphi", "cache", "0_32.safetensors")}, 1, "a delphi cache's are its tokens: give it without -tokens-key"},
		{[]string{"-feature-stats", stats, "-total", filepath.Join("testdata", "delphi", "cache"), pos}, 1, "has no positions"},
		{[]string{"-key", "acts", "-exclude-tokens", "1", filepath.Join(masksDir, "pos_bf16.safetensors")}, 1, `the token ids "tokens" have the shape [5, 7], the activations' vectors [5]`},
	} {
		out, errs, status := runL0(c.args...)
		if status != c.status || !strings.Contains(errs, c.want) || c.status == 2 && out != "" {
			t.Errorf("l0 %q: status %d, stdout %q, stderr %q; want %d and %q", c.args, status, out, errs, c.status, c.want)
		}
		if _, err := os.Stat(stats); err == nil {
			t.Fatalf("l0 %q wrote %s", c.args, stats)
		}
	}
}

// TestMaskAllExcluded: a mask that leaves out every vector is an error of
// the input (no L0), and no total or file comes of it.
func TestMaskAllExcluded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ids := make([]int64, 6*9)
	path := writeFile(t, dir, "ids.npy", npyInt64(ids, 6, 9))
	stats := filepath.Join(dir, "stats.safetensors")
	_, errs, status := runL0("-total", "-feature-stats", stats, "-positions", "-exclude-tokens", "0", "-tokens", path, filepath.Join(masksDir, "pos_f32.npy"))
	if status != 1 || !strings.Contains(errs, "every vector was left out by the token mask") {
		t.Errorf("status %d, %s", status, errs)
	}
	if _, err := os.Stat(stats); err == nil {
		t.Error("-feature-stats written")
	}
}

// npyInt64 returns a .npy file of int64 values of the given shape.
func npyInt64(values []int64, shape ...int64) []byte {
	b := npyHeader("<i8", shape...)
	for _, v := range values {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

// TestFeatureStatsNoBytes: rows of no bytes with -skip-positions and
// -feature-stats are counted at once, whatever their number.
func TestFeatureStatsNoBytes(t *testing.T) {
	t.Parallel()
	if math.MaxInt == math.MaxInt32 {
		t.Skip("2^40 rows are past a 32-bit int")
	}
	dir := t.TempDir()
	path := writeFile(t, dir, "empty.npy", npyHeader("<f4", 1<<40, 4, 0))
	out, errs, status := runL0("-json", "-skip-positions", "1", "-feature-stats", filepath.Join(dir, "stats.safetensors"), path)
	if status != 0 || !strings.Contains(out, `"vectors":3298534883328,`) || !strings.Contains(out, `"sequences":1099511627776,`) {
		t.Errorf("status %d, %s%s", status, out, errs)
	}
}
