package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sparsekit/l0/internal/safetensors"
)

// benchmarkFile returns a [rows, features] float32 .npy file in memory,
// about 5% non-zero.
func benchmarkFile(rows, features int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	data := npyHeader("<f4", int64(rows), int64(features))
	payload := make([]byte, 4*rows*features)
	for i := 0; i < rows*features; i++ {
		if rng.Float32() < 0.05 {
			binary.LittleEndian.PutUint32(payload[4*i:], math.Float32bits(rng.Float32()+0.1))
		}
	}
	return append(data, payload...)
}

// BenchmarkReport measures the whole report of a 64 MiB file, L0 and
// feature activity, read from memory: compare it with BenchmarkRead, the
// copy alone, which is what dd measures of a page-cached file.
func BenchmarkReport(b *testing.B) {
	data := benchmarkFile(1024, 16384)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := analyze("bench", bytes.NewReader(data), int64(len(data)), settings{dense: 0.1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReportBF16 is BenchmarkReport on the same activations as a
// BF16 safetensors file, half the bytes: compare the two in bytes/s.
func BenchmarkReportBF16(b *testing.B) {
	npyData := benchmarkFile(1024, 16384)
	payload := npyData[len(npyData)-4*1024*16384:]
	bf16 := make([]byte, len(payload)/2)
	for i := range len(payload) / 4 {
		copy(bf16[2*i:], payload[4*i+2:4*i+4]) // the top half of each float32
	}
	var file bytes.Buffer
	if err := safetensors.Write(&file, []safetensors.TensorData{{Name: "activations", DType: safetensors.BFloat16, Shape: []int64{1024, 16384}, Data: bf16}}, nil); err != nil {
		b.Fatal(err)
	}
	data := file.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := analyze("bench", bytes.NewReader(data), int64(len(data)), settings{dense: 0.1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead is the read limit of BenchmarkReport: copying the file
// through a 1 MiB buffer, as dd bs=1M does.
func BenchmarkRead(b *testing.B) {
	data := benchmarkFile(1024, 16384)
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := bytes.NewReader(data)
		for {
			if _, err := io.ReadFull(r, buf); err != nil {
				break
			}
		}
	}
}

// BenchmarkReportWide is BenchmarkReport on files of few wide rows against
// one of many rows, the same 256 MiB of float32 (128 MiB for [8, 2^22]),
// read from memory, with the process's CPU time per report (cpu-ns/op):
// bytes per CPU-second of a wide shape over those of [4096, 16384] is the
// ratio the README quotes for the command (there measured on files, process
// start and exit included). A wide file's cost is per feature rather than
// per byte: its counters' pages, its summary.
//
//	go test -run '^$' -bench ReportWide -benchtime 5x -count 5 ./cmd/l0/
func BenchmarkReportWide(b *testing.B) {
	for _, shape := range [][2]int{{4096, 16384}, {64, 1 << 20}, {8, 1 << 22}} {
		b.Run(fmt.Sprintf("shape=%dx%d", shape[0], shape[1]), func(b *testing.B) {
			data := benchmarkFile(shape[0], shape[1])
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			loopCPU(b, func() {
				if _, err := analyze("bench", bytes.NewReader(data), int64(len(data)), settings{dense: 0.1}); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
