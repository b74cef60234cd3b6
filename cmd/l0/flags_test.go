package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/safetensors"
)

// TestSkipPositionsZero: -skip-positions N implies -positions for every N,
// 0 included (a script's -skip-positions $SKIP must not change meaning at
// 0: it reported 10 vectors of 4 components instead of 40 vectors and the
// L0 per position); with -sparse it is refused at 0 as at 1.
func TestSkipPositionsZero(t *testing.T) {
	t.Parallel()
	path := writeFile(t, t.TempDir(), "pos.npy", smallNPY(10, 0))
	want, errs, status := runL0("-json", "-positions", path)
	if status != 0 {
		t.Fatal(errs)
	}
	got, errs, status := runL0("-json", "-skip-positions", "0", path)
	if status != 0 || comparable(t, got) != comparable(t, want) {
		t.Errorf("-skip-positions 0: status %d, stderr %q\n%s\nwant\n%s", status, errs, got, want)
	}
	r := decodeLines(t, got)
	if len(r) != 1 || r[0].Vectors != 40 || len(r[0].L0ByPosition) != 4 || r[0].SkipPositions == nil || *r[0].SkipPositions != 0 {
		t.Errorf("-skip-positions 0: %+v", r)
	}
	// With -sparse too, -skip-positions 0 is -positions.
	out0, errs0, status0 := runL0("-json", "-skip-positions", "0", "-sparse", "i,v", "-features", "4", path)
	out1, errs1, status1 := runL0("-json", "-positions", "-sparse", "i,v", "-features", "4", path)
	if status0 != status1 || errs0 != errs1 || comparable(t, out0) != comparable(t, out1) {
		t.Errorf("-sparse with -skip-positions 0: status %d, %q; with -positions: status %d, %q", status0, errs0, status1, errs1)
	}
}

// TestNegativeZeroFlags: -0 is +0 wherever a number enters: -threshold -0
// and -abs-threshold -0 count what 0 counts, print 0, and merge with a
// state of 0 and one whose threshold has the bits of -0 (which could be
// read but never merged: "state counts x > -0, metric x > 0"); -dense -0
// prints 0.
func TestNegativeZeroFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := writeFile(t, dir, "a.npy", smallNPY(6, 1))
	for _, flag := range []string{"-threshold", "-abs-threshold"} {
		zero := filepath.Join(dir, "zero.l0")
		if _, errs, status := runL0(flag, "0", "-save", zero, input); status != 0 {
			t.Fatal(errs)
		}
		state := readAll(t, zero)
		neg := append([]byte(nil), state...)
		binary.LittleEndian.PutUint64(neg[24:], math.Float64bits(math.Copysign(0, -1)))
		negPath := writeFile(t, dir, "neg.l0", rechecksum(neg))
		for _, value := range []string{"0", "-0", "-0.0", "-1e-400"} {
			out, errs, status := runL0("-json", "-total", flag, value, negPath, zero, input)
			if status != 0 || errs != "" {
				t.Errorf("%s %s: status %d, stderr %q", flag, value, status, errs)
				continue
			}
			r := decodeLines(t, out)[0]
			if r.Threshold == nil || math.Signbit(float64(*r.Threshold)) || !strings.Contains(out, `"threshold":0,`) || !strings.HasSuffix(r.Rule, "> 0") || r.Vectors != 18 {
				t.Errorf("%s %s: %s", flag, value, out)
			}
		}
		out, _, _ := runL0(flag, "-0", input)
		if !strings.Contains(out, "> 0 per vector") {
			t.Errorf("%s -0: the text report:\n%s", flag, out)
		}
	}
	out, errs, status := runL0("-json", "-dense", "-0", input)
	if status != 0 || !strings.Contains(out, `"dense_threshold":0,`) {
		t.Errorf("-dense -0: status %d, stderr %q, %s", status, errs, out)
	}
	out, _, _ = runL0("-dense", "-0", input)
	if !strings.Contains(out, "(density > 0)") {
		t.Errorf("-dense -0:\n%s", out)
	}
}

// TestKeyEmpty: -key "" selects the tensor named "" (the flag's default
// was taken for no -key, and the file's tensors listed instead).
func TestKeyEmpty(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	err := safetensors.Write(&b, []safetensors.TensorData{
		{Name: "", DType: safetensors.Uint8, Shape: []int64{2, 3}, Data: []byte{1, 0, 1, 0, 0, 1}},
		{Name: "b", DType: safetensors.Uint8, Shape: []int64{1, 2}, Data: []byte{1, 1}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, t.TempDir(), "empty-name.safetensors", b.Bytes())
	if _, errs, status := runL0(path); status != 1 || !strings.Contains(errs, "2 tensors of rank 2 or 3") {
		t.Errorf("no -key: status %d, stderr %q", status, errs)
	}
	out, errs, status := runL0("-json", "-key", "", path)
	if status != 0 || !strings.Contains(out, `"tensor":"",`) {
		t.Fatalf("-key \"\": status %d, stderr %q, %s", status, errs, out)
	}
	if r := decodeLines(t, out)[0]; r.Vectors != 2 || r.L0 != json.Number("1.5") {
		t.Errorf("-key \"\": %+v", r)
	}
	out, _, _ = runL0("-key", "", path)
	if !strings.Contains(out, `  array      "" [2, 3] uint8 (U8), safetensors`) {
		t.Errorf("-key \"\":\n%s", out)
	}
}

// deref returns what p points to, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
