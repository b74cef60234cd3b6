package input

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/rows"
	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/metric"
)

// u16s returns the little-endian bytes of uint16 values.
func u16s(values ...uint16) []byte {
	var b []byte
	for _, v := range values {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

// writeSplit writes a split of a cache: entries as (sequence, position,
// latent) triples of uint16, activations of float16 bits, tokens
// [sequences, ctx] (nil: none).
func writeSplit(t *testing.T, path string, locations []uint16, activations []uint16, tokens []int64, sequences, ctx int64) {
	t.Helper()
	tensors := []safetensors.TensorData{
		{Name: "locations", DType: safetensors.Uint16, Shape: []int64{int64(len(locations) / 3), 3}, Data: u16s(locations...)},
		{Name: "activations", DType: safetensors.Float16, Shape: []int64{int64(len(activations))}, Data: u16s(activations...)},
	}
	if tokens != nil {
		var b []byte
		for _, v := range tokens {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		tensors = append(tensors, safetensors.TensorData{Name: "tokens", DType: safetensors.Int64, Shape: []int64{sequences, ctx}, Data: b})
	}
	var file bytes.Buffer
	if err := safetensors.Write(&file, tensors, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDelphiTokens checks that a cache's tokens are reachable from its
// input, as a range of sequences, and that an input without tokens says
// so.
func TestDelphiTokens(t *testing.T) {
	dir := t.TempDir()
	tokens := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 1 << 40, -1, 12}
	one := uint16(0x3c00)
	writeSplit(t, filepath.Join(dir, "0_1.safetensors"), []uint16{0, 1, 0, 2, 3, 1}, []uint16{one, one}, tokens, 3, 4)
	writeSplit(t, filepath.Join(dir, "2_3.safetensors"), []uint16{1, 0, 1}, []uint16{one}, tokens, 3, 4)
	in, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if !in.HasTokens() || in.Format != Delphi || !slices.Equal(in.Shape, []int64{3, 4, 4}) {
		t.Fatalf("HasTokens %v, format %s, shape %v", in.HasTokens(), in.Format, in.Shape)
	}
	got, err := in.Tokens(1, 3, nil)
	if err != nil || !slices.Equal(got, tokens[4:]) {
		t.Errorf("Tokens(1, 3) = %v, %v; want %v", got, err, tokens[4:])
	}
	if _, err := in.Tokens(2, 4, nil); err == nil {
		t.Error("Tokens(2, 4) of 3 sequences: no error")
	}
	s := countedDelphi(t, in)
	if s.Vectors != 12 || !slices.Equal(s.L0ByPosition, []float64{1.0 / 3, 1.0 / 3, 0, 1.0 / 3}) {
		t.Errorf("vectors %d, L0 by position %v", s.Vectors, s.L0ByPosition)
	}
	array := append(npy.AppendHeader(nil, "<f4", 2, 1), make([]byte, 8)...)
	npyIn, err := OpenReader("x.npy", bytes.NewReader(array), int64(len(array)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if npyIn.HasTokens() {
		t.Error("a .npy input has tokens")
	}
	if got, err := npyIn.Tokens(0, 1, nil); got != nil || err != nil {
		t.Errorf("Tokens of a .npy input: %v, %v", got, err)
	}
}

// countedDelphi counts a cache whole, by one worker, and summarizes it.
func countedDelphi(t *testing.T, in *Input) tally.Summary {
	t.Helper()
	rows, _, _ := in.Span()
	tl, err := tally.New(in.Config, metric.NonZero(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Count(NewWorker(ReadConfig{}), 0, rows, func() (tally.Tally, error) { return tl, nil }); err != nil {
		t.Fatal(err)
	}
	s, err := tl.Summarize(0.1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDelphiHostile checks that a split that claims far more than it
// holds is refused before anything is sized by the claim: its own entries
// by its file's size, and the features a file name claims by a bound.
func TestDelphiHostile(t *testing.T) {
	dir := t.TempDir()
	writeSplit(t, filepath.Join(dir, "0_4294967295.safetensors"), []uint16{0, 0, 0}, []uint16{0x3c00}, []int64{1}, 1, 1)
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "features; l0 counts at most") {
		t.Errorf("2^32 latents: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "0_4294967295.safetensors"), Options{}); err == nil || !strings.Contains(err.Error(), "features; l0 counts at most") {
		t.Errorf("a split alone of 2^32 latents: %v", err)
	}
}

// BenchmarkDelphiCount16 measures the check and count of a batch of
// uint16 entries in cache (delphiBatchBytes of them), alone: the work
// BenchmarkDelphiCache adds to reading the bytes. MB/s is the entries'
// bytes (8 an entry) a second.
func BenchmarkDelphiCount16(b *testing.B) {
	const entries = delphiBatchBytes / 8
	rng := rand.New(rand.NewPCG(5, 6))
	locs := make([]byte, 0, 6*entries)
	acts := make([]byte, 0, 2*entries)
	seq, pos := 0, 0
	for len(acts) < 2*entries {
		for _, l := range []int{rng.IntN(1024), 1024 + rng.IntN(1024), 2048 + rng.IntN(1024), 3072 + rng.IntN(1024)} {
			locs = binary.LittleEndian.AppendUint16(locs, uint16(seq))
			locs = binary.LittleEndian.AppendUint16(locs, uint16(pos))
			locs = binary.LittleEndian.AppendUint16(locs, uint16(l))
			acts = binary.LittleEndian.AppendUint16(acts, 0x3c00+uint16(rng.IntN(0x1000)))
		}
		if pos++; pos == 1024 {
			seq, pos = seq+1, 0
		}
	}
	table, err := tally.Float16Counted(metric.NonZero())
	if err != nil {
		b.Fatal(err)
	}
	latents, positions, fired := new([1 << 16]uint64), new([1 << 16]uint64), new([1 << 16]uint64)
	c := entryChecks{to: 1 << 16, ctx: 1024, width: 4095}
	keep := make([]bool, (seq+1)*1024)
	for i := range keep {
		keep[i] = i%64 != 0
	}
	b.Run("op=count16", func(b *testing.B) {
		b.SetBytes(int64(len(acts) * 4))
		for b.Loop() {
			if bad := c.count16(rows.As[uint16](locs), rows.As[uint16](acts), table, latents, positions); bad >= 0 {
				b.Fatal(bad)
			}
		}
	})
	// -feature-stats, and with -exclude-tokens a keep mask of 1 vector in
	// 64 left out.
	for _, mask := range []struct {
		op   string
		keep []bool
	}{{"sequences", nil}, {"sequences-masked", keep}} {
		b.Run("op="+mask.op, func(b *testing.B) {
			c := c
			c.keep = mask.keep
			b.SetBytes(int64(len(acts) * 4))
			for b.Loop() {
				if bad := c.count16Sequences(rows.As[uint16](locs), rows.As[uint16](acts), table, latents, positions, fired); bad >= 0 {
					b.Fatal(bad)
				}
			}
		})
	}
}

// TestDelphiNotRegular checks that a split or a config.json that is not a
// regular file (a named pipe, whose open would block) is an error, not a
// hang.
func TestDelphiNotRegular(t *testing.T) {
	for _, name := range []string{"0_0.safetensors", "config.json"} {
		dir := t.TempDir()
		if name != "0_0.safetensors" {
			writeSplit(t, filepath.Join(dir, "0_0.safetensors"), []uint16{0, 0, 0}, []uint16{0x3c00}, []int64{1}, 1, 1)
		}
		if err := mkfifo(filepath.Join(dir, name)); err != nil {
			t.Skip("no named pipes here:", err)
		}
		if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s a named pipe: %v", name, err)
		}
	}
}

// TestDelphiDirWithoutSplits: a directory that holds no split says so, and
// one whose only split-like name is out of range names it.
func TestDelphiDirWithoutSplits(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	if _, err := Open(empty, Options{}); err == nil || !strings.Contains(err.Error(), "holds no delphi latent cache split") {
		t.Errorf("empty directory: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "0_99999999999999999999.safetensors"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), `"0_99999999999999999999.safetensors" names latents out of range`) {
		t.Errorf("out-of-range split name: %v", err)
	}
}
