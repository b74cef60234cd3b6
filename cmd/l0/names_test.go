package main

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/metric"
)

// TestOddNames: a file name with control characters or bytes that are not
// UTF-8 is quoted (as Go quotes strings) in text reports and errors,
// which stay one line each (they were printed raw); in -json "file" is
// the name with each such byte as U+FFFD, as JSON strings must be valid
// UTF-8, and "file_bytes" (only then) the name's bytes in base64, from
// which the name is recovered exactly; a total's "files_bytes" lists every
// name so.
func TestOddNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "ok\xff\x01.npy")
	bad := filepath.Join(dir, "bad\nname\x1b[31m.npy")
	if err := os.WriteFile(good, smallNPY(3, 0), 0o644); err != nil {
		t.Skipf("this file system takes no such name: %v", err)
	}
	if err := os.WriteFile(bad, []byte("not an array"), 0o644); err != nil {
		t.Skipf("this file system takes no such name: %v", err)
	}
	out, errs, status := runL0(good, bad)
	if status != 1 || !strings.HasPrefix(out, strconv.Quote(good)+"\n") || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "l0: "+strconv.Quote(bad)+": ") {
		t.Errorf("status %d, stdout %q, stderr %q", status, out, errs)
	}
	out, errs, status = runL0("-json", good)
	if status != 0 {
		t.Fatal(errs)
	}
	r := decodeLines(t, out)[0]
	if !utf8.ValidString(r.File) || r.File != strings.ToValidUTF8(good, "\uFFFD") || !strings.Contains(out, `"file_bytes":"`+base64.StdEncoding.EncodeToString([]byte(good))+`"`) {
		t.Errorf("-json: %s", out)
	}
	if string(r.FileBytes) != good {
		t.Errorf("file_bytes decode to %q, want %q", r.FileBytes, good)
	}
	plain := writeFile(t, dir, "plain.npy", smallNPY(2, 1))
	out, _, _ = runL0("-json", plain)
	if strings.Contains(out, "file_bytes") {
		t.Errorf("file_bytes for a UTF-8 name: %s", out)
	}
	out, errs, status = runL0("-json", "-total", plain, good)
	if status != 0 || !strings.Contains(out, `"files_bytes":["`+base64.StdEncoding.EncodeToString([]byte(plain))+`","`+base64.StdEncoding.EncodeToString([]byte(good))+`"]`) {
		t.Errorf("-total: status %d, stderr %q, %s", status, errs, out)
	}
	// Names given to outputs, and to a total's bad inputs, are quoted too.
	_, errs, _ = runL0("-total", "-save", bad+".l0", plain, bad)
	for _, line := range strings.Split(strings.TrimSuffix(errs, "\n"), "\n") {
		if !strings.HasPrefix(line, "l0: ") || strings.ContainsAny(line, "\x1b\n") {
			t.Errorf("an unquoted line: %q", line)
		}
	}
}

// TestDensityAboveOne: a top-k pair that repeats an index within a vector
// (which the docs allow: it counts twice) has a feature of density above
// 1; the histogram counts it apart (it landed in the bin [-0.5, 0.0]).
func TestDensityAboveOne(t *testing.T) {
	t.Parallel()
	index := binary.LittleEndian.AppendUint32(nil, 1)
	index = binary.LittleEndian.AppendUint32(index, 1)
	index = binary.LittleEndian.AppendUint32(index, 1)
	index = binary.LittleEndian.AppendUint32(index, 3)
	path := writeFile(t, t.TempDir(), "dup.safetensors", topKFile(t, safetensors.Int32, []int64{2, 2}, index, 0, nil))
	out, errs, status := runL0("-json", "-sparse", "i", "-features", "4", path)
	if status != 0 {
		t.Fatal(errs)
	}
	r := decodeLines(t, out)[0]
	// Feature 1 fired 3 times in 2 vectors, feature 3 once; 0 and 2 never.
	if r.Histogram == nil || r.Histogram.AboveOne != 1 || r.Histogram.Counts[metric.HistogramBins-1] != 1 || r.Histogram.Dead != 2 {
		t.Errorf("%s", out)
	}
	out, _, _ = runL0("-sparse", "i", "-features", "4", path)
	if !strings.Contains(out, "\n    [-0.5, 0.0]         1 #") || !strings.Contains(out, "\n    > 0.0               1 #") {
		t.Errorf("\n%s", out)
	}
}

// TestStatesNearTwoToThe64: merging states whose counts are [2^64 − 1, 0]
// and [0, 1] is a total, not a false overflow; [2^64 − 1, 0] and [1, 0] is
// an overflow.
func TestStatesNearTwoToThe64(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := func(name string, counts ...uint64) string {
		b := stateOf(t, 0, 2, metric.NonZero(), []float32{1, 1})
		for i, c := range counts {
			binary.LittleEndian.PutUint64(b[40+8*i:], c)
		}
		return writeFile(t, dir, name, rechecksum(b))
	}
	high, low, clash := state("high.l0", math.MaxUint64, 0), state("low.l0", 0, 1), state("clash.l0", 1, 0)
	out, errs, status := runL0("-json", "-total", high, low)
	if status != 0 || errs != "" || decodeLines(t, out)[0].Vectors != 2 {
		t.Errorf("status %d, stderr %q, %s", status, errs, out)
	}
	if _, errs, status := runL0("-total", high, clash); status != 1 || !strings.Contains(errs, "overflow") {
		t.Errorf("a true overflow: status %d, stderr %q", status, errs)
	}
}
