package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sparsekit/l0/internal/safetensors"
)

// The delphi cache of BenchmarkDelphiCache: 2^24 entries, 4 splits of
// 4,096 latents, 4,096 sequences of 1,024 tokens (4 entries a vector, as
// a top-k SAE of k = 4 leaves them): uint16 locations, float16 activations
// and the tokens, 64 MiB a split, 256 MiB in all.
const (
	benchSequences = 4096
	benchCtx       = 1024
	benchSplits    = 4
	benchSplitSize = 4096
	benchPerVector = 4
)

// writeBenchCache writes the cache into dir as delphi does, and returns its
// files.
func writeBenchCache(b *testing.B, dir string) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	type split struct{ locations, activations []byte }
	splits := make([]split, benchSplits)
	tokens := make([]byte, 8*benchSequences*benchCtx)
	for i := range benchSequences * benchCtx {
		binary.LittleEndian.PutUint64(tokens[8*i:], uint64(rng.IntN(50000)))
	}
	var latents [benchPerVector]int
	for seq := range benchSequences {
		for pos := range benchCtx {
			for i := range latents {
			again:
				latents[i] = rng.IntN(benchSplits * benchSplitSize)
				if slices.Contains(latents[:i], latents[i]) {
					goto again
				}
			}
			sorted := latents
			slices.Sort(sorted[:])
			for _, l := range sorted {
				s := &splits[l/benchSplitSize]
				s.locations = binary.LittleEndian.AppendUint16(s.locations, uint16(seq))
				s.locations = binary.LittleEndian.AppendUint16(s.locations, uint16(pos))
				s.locations = binary.LittleEndian.AppendUint16(s.locations, uint16(l%benchSplitSize))
				s.activations = binary.LittleEndian.AppendUint16(s.activations, 0x3c00+uint16(rng.IntN(0x1000))) // [1, 2)
			}
		}
	}
	var files []string
	for i, s := range splits {
		n := int64(len(s.activations) / 2)
		name := filepath.Join(dir, fmt.Sprintf("%d_%d.safetensors", i*benchSplitSize, (i+1)*benchSplitSize-1))
		f, err := os.Create(name)
		if err != nil {
			b.Fatal(err)
		}
		err = safetensors.Write(f, []safetensors.TensorData{
			{Name: "locations", DType: safetensors.Uint16, Shape: []int64{n, 3}, Data: s.locations},
			{Name: "activations", DType: safetensors.Float16, Shape: []int64{n}, Data: s.activations},
			{Name: "tokens", DType: safetensors.Int64, Shape: []int64{benchSequences, benchCtx}, Data: tokens},
		}, nil)
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, name)
	}
	config := fmt.Sprintf(`{"n_tokens": %d, "cache_ctx_len": %d, "batch_size": 32, "n_splits": %d, "model_name": "bench"}`, benchSequences*benchCtx, benchCtx, benchSplits)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	return files
}

// catFiles reads the files whole through a 128 KiB buffer, as cat does,
// and returns the bytes read.
func catFiles(b *testing.B, files []string, buf []byte) int64 {
	var n int64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		for {
			m, err := f.Read(buf)
			n += int64(m)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
	return n
}

// BenchmarkDelphiCache measures l0 counting a delphi cache of 2^24 entries
// (the whole run: its report, -total) against cat reading the same files
// from the page cache (read=cat). MB/s is the files' bytes a second;
// read-limit is l0's speed as a fraction of cat's, measured right after it
// in the same run (the target: 0.8 or more). -j 1 is one worker, as cat is
// one thread; -j 2 is the default on this 2-core machine; l0-mmap counts
// in mapped windows (-mmap) instead of read(2) copies.
//
//	go test -run '^$' -bench DelphiCache -count 6 ./cmd/l0 | go run ./internal/benchratio
func BenchmarkDelphiCache(b *testing.B) {
	dir := b.TempDir()
	files := writeBenchCache(b, dir)
	buf := make([]byte, 128<<10)
	bytes := catFiles(b, files, buf) // into the page cache
	b.Run("read=cat", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			catFiles(b, files, buf)
		}
	})
	for _, run := range []struct{ name, mmap, workers string }{
		{"read=l0/j=1", "-mmap=false", "1"},
		{"read=l0/j=2", "-mmap=false", "2"},
		{"read=l0-mmap/j=1", "-mmap", "1"},
		{"read=l0-mmap/j=2", "-mmap", "2"},
	} {
		b.Run(run.name, func(b *testing.B) {
			b.SetBytes(bytes)
			b.ReportAllocs()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				out, errs, status := runL0("-total", run.mmap, "-j", run.workers, dir)
				if status != 0 {
					b.Fatalf("status %d: %s%s", status, out, errs)
				}
			}
			perOp := float64(time.Since(start)) / float64(b.N)
			b.StopTimer()
			calls := max(b.N, 3)
			start = time.Now()
			for range calls {
				catFiles(b, files, buf)
			}
			b.ReportMetric(float64(time.Since(start))/float64(calls)/perOp, "read-limit")
		})
	}
}

// BenchmarkDelphiOps measures, in one run, the command over
// BenchmarkDelphiCache's cache by one worker from the page cache, with the
// CPU time of each op (cpu-ns/op): op=cat reads the files as cat does (the
// read limit), op=plain counts the cache, op=exclude with -exclude-tokens
// (50 ids of the 50,000 the tokens draw from: 0.1% of the vectors),
// op=feature-stats with -feature-stats, op=both with both. Paired ratios:
//
//	for i in 1 2 3 4 5; do go test -run '^$' -bench DelphiOps -count 1 ./cmd/l0; done > out.txt
//	python3 bench/paired_ratio.py out.txt cat=plain plain=exclude plain=feature-stats plain=both
func BenchmarkDelphiOps(b *testing.B) {
	dir := b.TempDir()
	files := writeBenchCache(b, dir)
	buf := make([]byte, 128<<10)
	bytes := catFiles(b, files, buf) // into the page cache
	ids := "0"
	for id := 1000; id < 50000; id += 1000 {
		ids += fmt.Sprintf(",%d", id)
	}
	exclude := []string{"-exclude-tokens", ids}
	stats := []string{"-feature-stats", os.DevNull} // the counting, not an fsync of the file
	b.Run("op=cat", func(b *testing.B) {
		b.SetBytes(bytes)
		loopCPU(b, func() { catFiles(b, files, buf) })
	})
	for _, c := range []struct {
		op   string
		args []string
	}{
		{"plain", nil},
		{"exclude", exclude},
		{"feature-stats", stats},
		{"both", append(slices.Clone(stats), exclude...)},
	} {
		args := append(append([]string{"-j", "1", "-total"}, c.args...), dir)
		b.Run("op="+c.op, func(b *testing.B) {
			b.SetBytes(bytes)
			loopCPU(b, func() {
				if _, errs, status := runL0(args...); status != 0 {
					b.Fatal(errs)
				}
			})
		})
	}
}
