package main

import (
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/report"
	"github.com/sparsekit/l0/metric"
)

// stateOf returns the state of a float32 FeatureActivity of the given
// sizes, after the rows given (none: a state of 0 vectors; of no
// features, 3 vectors a row).
func stateOf(t testing.TB, components, features int, rule metric.Rule, rows ...[]float32) []byte {
	t.Helper()
	a, err := metric.NewFeatureActivity[float32](components, features, rule)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range rows {
		batch := 3 // vectors of no features
		if features > 0 {
			batch = len(x) / max(components, 1) / features
		}
		shape := []int{batch, features}
		if components > 0 {
			shape = []int{shape[0], components, features}
		}
		if err := a.Update(x, shape...); err != nil {
			t.Fatal(err)
		}
	}
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rechecksum returns b with its CRC-32C recomputed.
func rechecksum(b []byte) []byte {
	b = append([]byte(nil), b...)
	if len(b) >= 44 && (len(b)-44)%16 == 0 && string(b[:4]) == "L0FA" && b[4] >= 2 {
		// A version 2 state's vectors since fired follow the counts: make
		// them what edited counts and vectors allow (a counter that fired,
		// in the last vector; one that did not, every vector).
		vectors := binary.LittleEndian.Uint64(b[32:])
		counters := (len(b) - 44) / 16
		for i := range counters {
			since := vectors
			if binary.LittleEndian.Uint64(b[40+8*i:]) > 0 {
				since = 0
			}
			binary.LittleEndian.PutUint64(b[40+8*(counters+i):], since)
		}
	}
	n := len(b) - 4
	binary.LittleEndian.PutUint32(b[n:], crc32.Checksum(b[:n], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// TestFeaturelessStates: a state takes the bounds an array takes: at most
// 65,536 components of no features (a 44-byte state of 2^24 components ×
// 0 features was reported in 100 MB of JSON, at a 497 MB peak), refused
// at once, allocating next to nothing.
func TestFeaturelessStates(t *testing.T) {
	dir := t.TempDir()
	hostile, err := hex.DecodeString("4c304641010100000000000100000000000000000000000000000000000000000500000000000000a1c5061b")
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, dir, "hostile.l0", hostile)
	var out, errs string
	var status int
	grew := allocatedBy(func() { out, errs, status = runL0("-json", path) })
	if status != 1 || out != "" || !strings.Contains(errs, "l0: "+path+": ") || !strings.Contains(errs, "16777216 components of no features; l0 takes at most 65536") {
		t.Errorf("status %d, stdout %d bytes, stderr %q", status, len(out), errs)
	}
	if grew > 1<<20 {
		t.Errorf("a 44-byte state allocated %d bytes", grew)
	}
	if p := pipeOf(t, hostile); p != "" {
		if _, errs, status := runL0(p); status != 1 || !strings.Contains(errs, "of no features") {
			t.Errorf("through a pipe: status %d, stderr %q", status, errs)
		}
	}
	most := writeFile(t, dir, "most.l0", stateOf(t, input.MaxFeaturelessSlots, 0, metric.NonZero(), nil))
	if out, errs, status := runL0("-json", most); status != 0 || decodeLines(t, out)[0].Components != input.MaxFeaturelessSlots {
		t.Errorf("%d components of no features: status %d, stderr %q", input.MaxFeaturelessSlots, status, errs)
	}
	past := writeFile(t, dir, "past.l0", stateOf(t, input.MaxFeaturelessSlots+1, 0, metric.NonZero(), nil))
	if _, errs, status := runL0(past); status != 1 || !strings.Contains(errs, "65537 components of no features") {
		t.Errorf("%d components of no features: status %d, stderr %q", input.MaxFeaturelessSlots+1, status, errs)
	}
}

// TestEmptyStates: a state of 0 vectors (a job that saved before its first
// batch) is reported, 0 vectors and no L0, and joins a total, which it
// leaves as it was, with and without -per-file (-per-file failed with "no
// total: 0 of 2 inputs failed"); a total of such states alone is one of 0
// vectors; -sparsity of it is an error (no density).
func TestEmptyStates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	x := make([]float32, 5*4*8)
	for i := range x {
		x[i] = float32(i % 3)
	}
	good := writeFile(t, dir, "good.l0", stateOf(t, 4, 8, metric.NonZero(), x))
	v0 := writeFile(t, dir, "v0.l0", stateOf(t, 4, 8, metric.NonZero()))
	alone, _, _ := runL0("-json", "-total", good)
	want := decodeLines(t, alone)[0]
	for _, args := range [][]string{{"-total", good, v0}, {"-total", "-per-file", good, v0}, {"-total", v0, good}, {"-total", "-per-file", "-j", "1", v0, good}} {
		out, errs, status := runL0(append([]string{"-json"}, args...)...)
		if status != 0 || errs != "" {
			t.Errorf("%q: status %d, stderr %q", args, status, errs)
			continue
		}
		lines := decodeLines(t, out)
		total := lines[len(lines)-1]
		if total.Vectors != 5 || comparable(t, jsonLine(t, total)) != comparable(t, jsonLine(t, want)) {
			t.Errorf("%q: total %+v, want %+v", args, total, want)
		}
		for _, r := range lines[:len(lines)-1] {
			if r.File == v0 && (r.Vectors != 0 || r.L0 != nil || r.Dead != nil || r.Histogram != nil) {
				t.Errorf("%q: the empty state's report %+v", args, r)
			}
		}
	}
	for _, args := range [][]string{{v0}, {"-total", v0, v0}} {
		out, errs, status := runL0(append([]string{"-json"}, args...)...)
		if status != 0 || errs != "" || len(decodeLines(t, out)) != 1 || decodeLines(t, out)[0].Vectors != 0 || !strings.Contains(out, `"l0":null`) {
			t.Errorf("%q: status %d, stdout %q, stderr %q", args, status, out, errs)
		}
		out, errs, status = runL0(args...)
		if status != 0 || errs != "" || !strings.Contains(out, "  vectors    0\n  L0         none: no vectors\n") {
			t.Errorf("%q: status %d, stdout %q, stderr %q", args, status, out, errs)
		}
	}
	save := filepath.Join(dir, "t.l0")
	if _, errs, status := runL0("-total", "-save", save, v0, v0); status != 0 || errs != "" {
		t.Errorf("-save of 0 vectors: status %d, stderr %q", status, errs)
	}
	if _, errs, status := runL0("-sparsity", filepath.Join(dir, "s.safetensors"), v0); status != 1 || !strings.Contains(errs, "no activation vectors") {
		t.Errorf("-sparsity of 0 vectors: status %d, stderr %q", status, errs)
	}
}

// jsonLine writes a report back as its -json line.
func jsonLine(t *testing.T, r report.JSONLine) string { return jsonString(t, r) }

// TestStateMemory: a state is read into the counts once, a piece at a
// time: l0 big.l0 and -total big.l0 big.l0 allocate the counts of a
// worker, the total's report and no copy of the state's bytes (a 1 GiB
// state peaked at 3.15 GB, 6.0 GiB for -total big.l0 big.l0).
func TestStateMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates tens of MB")
	}
	const features = 1 << 21 // 16 MiB of counts
	x := make([]float32, 2*features)
	x[3], x[features+3], x[7] = 1, 1, 1
	state := stateOf(t, 0, features, metric.NonZero(), x)
	path := writeFile(t, t.TempDir(), "big.l0", state)
	set := uint64(8 * features) // and a metric holds two: counts, and vectors since fired
	for _, c := range []struct {
		args []string
		sets float64 // the worst: a tally per input, the report's copy
	}{
		{[]string{path}, 3.1},
		{[]string{"-total", "-j", "1", path, path}, 5.1},
		{[]string{"-total", "-j", "2", path, path}, 5.1},
		{[]string{"-total", "-per-file", path, path}, 7.1}, // and a report each
	} {
		var errs string
		var status int
		grew := allocatedBy(func() { _, errs, status = runL0(c.args...) })
		if status != 0 {
			t.Fatalf("%q: %s", c.args, errs)
		}
		if float64(grew) > c.sets*float64(set) {
			t.Errorf("%q: allocated %.2f sets of counts, want at most %.1f", c.args, float64(grew)/float64(set), c.sets)
		}
	}
	// A state file that shrinks while it is read is named as such.
	short := writeFile(t, t.TempDir(), "short.l0", state)
	if err := os.Truncate(short, int64(len(state)/2)); err != nil {
		t.Fatal(err)
	}
	if _, errs, status := runL0(short); status != 1 || !strings.Contains(errs, "truncated or corrupt") {
		t.Errorf("a short state: status %d, stderr %q", status, errs)
	}
}
