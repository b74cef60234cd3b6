package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkPositionsCommand measures the command over 64 MiB .npy files
// [64, 256, 1024] and [1024, 16, 1024] float32 with -positions, read from
// the page cache by one worker, in one run: op=plain without a mask,
// op=exclude with
// -exclude-tokens (a BOS at position 0 of every sequence and 1 vector in
// 64 elsewhere, from a -tokens file), op=feature-stats with
// -feature-stats, op=both with both. benchstat -col /op.
func BenchmarkPositionsCommand(b *testing.B) {
	for _, shape := range [][3]int{{64, 256, 1024}, {1024, 16, 1024}} {
		b.Run(fmt.Sprintf("shape=%dx%dx%d", shape[0], shape[1], shape[2]), func(b *testing.B) {
			benchmarkPositionsCommand(b, shape[0], shape[1], shape[2])
		})
	}
}

func benchmarkPositionsCommand(b *testing.B, sequences, positions, features int) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(18, 5))
	data := npyHeader("<f4", int64(sequences), int64(positions), int64(features))
	payload := make([]byte, 4*sequences*positions*features)
	for i := range sequences * positions * features {
		if rng.Float32() < 0.05 {
			binary.LittleEndian.PutUint32(payload[4*i:], math.Float32bits(rng.Float32()+0.1))
		}
	}
	acts := filepath.Join(dir, "acts.npy")
	if err := os.WriteFile(acts, append(data, payload...), 0o666); err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, sequences*positions)
	for i := range ids {
		ids[i] = int64(1 + rng.IntN(50000))
		if i%positions == 0 || i%64 == 37 {
			ids[i] = 50256
		}
	}
	tokens := writeFile(b, dir, "tokens.npy", npyInt64(ids, int64(sequences), int64(positions)))
	stats := os.DevNull // the counting, not an fsync of the file
	exclude := []string{"-exclude-tokens", "50256", "-tokens", tokens}
	for _, c := range []struct {
		op   string
		args []string
	}{
		{"plain", nil},
		{"exclude", exclude},
		{"feature-stats", []string{"-feature-stats", stats}},
		{"both", append([]string{"-feature-stats", stats}, exclude...)},
	} {
		args := append(append([]string{"-j", "1", "-positions"}, c.args...), acts)
		b.Run("op="+c.op, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			loopCPU(b, func() {
				if _, errs, status := runL0(args...); status != 0 {
					b.Fatal(errs)
				}
			})
		})
	}
}
