package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/sparsekit/l0/internal/safetensors"
)

// sinceExpectation is testdata/since/expected.json, numpy's numbers
// (gen_since.py): per feature the vectors after the last one it fired in,
// and per N of -dead-after the features with more than N.
type sinceExpectation struct {
	Vectors   int64            `json:"vectors"`
	Features  int              `json:"features"`
	Since     []int64          `json:"vectors_since_fired"`
	DeadAfter map[string]int64 `json:"dead_after"`
}

// TestSinceFiredNumpy checks -feature-stats' vectors_since_fired and
// -dead-after N against numpy's, on a file of zeros, -0.0, NaN, ±Inf and
// subnormals with features that never fire or fire only in the first or
// last vector: whole, split into ranges counted by 1 or 2 workers, and
// split into shard files given in order to -total, and their -save states
// merged in order.
func TestSinceFiredNumpy(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "since", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e sinceExpectation
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	in := func(names ...string) []string {
		for i, n := range names {
			names[i] = filepath.Join("testdata", "since", n)
		}
		return names
	}
	dir := t.TempDir()
	run := func(args ...string) []byte {
		t.Helper()
		// Ranges as small as the counters allow: several per file.
		out, errs, status := runL0With(tiny(1<<12, 1<<12, 256), args...)
		if status != 0 || errs != "" {
			t.Fatalf("%v: status %d, stderr %q", args, status, errs)
		}
		return []byte(out)
	}
	for _, j := range []string{"1", "2"} {
		// -feature-stats, the vectors as [sequence, position, feature].
		for _, files := range [][]string{in("dense3d.npy"), in("shard3d-0.npy", "shard3d-1.npy", "shard3d-2.npy")} {
			stats := filepath.Join(dir, "stats.safetensors")
			run(append([]string{"-total", "-j", j, "-positions", "-feature-stats", stats}, files...)...)
			if got := sinceFiredOf(t, stats); !slices.Equal(got, e.Since) {
				t.Errorf("-j %s %v: vectors_since_fired %v, numpy %v", j, files, got, e.Since)
			}
		}
		// -dead-after N, the vectors as [vector, feature]: a file, its
		// shards in order, and the states -save wrote of the shards.
		var states []string
		for i, f := range in("shard-0.npy", "shard-1.npy", "shard-2.npy") {
			states = append(states, filepath.Join(dir, fmt.Sprintf("s%d.l0", i)))
			run("-j", j, "-save", states[i], f)
		}
		for n, want := range e.DeadAfter {
			for _, files := range [][]string{in("dense.npy"), in("shard-0.npy", "shard-1.npy", "shard-2.npy"), states} {
				args := append([]string{"-json", "-total", "-j", j, "-dead-after", n}, files...)
				r := decodeLines(t, string(run(args...)))[0]
				if fmt.Sprint(r.Dead) != strconv.FormatInt(want, 10) {
					t.Errorf("%v: dead %v, numpy %d", args, r.Dead, want)
				}
			}
		}
	}
}

// sinceFiredOf reads the vectors_since_fired tensor of a -feature-stats
// file.
func sinceFiredOf(t *testing.T, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := safetensors.ReadHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	tt, ok := h.Lookup("vectors_since_fired")
	if !ok || tt.DType != safetensors.Int64 {
		t.Fatalf("%s: vectors_since_fired %v", path, tt)
	}
	raw := b[h.DataOffset()+tt.Begin : h.DataOffset()+tt.End]
	out := make([]int64, len(raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out
}
