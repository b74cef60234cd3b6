package input

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// TestExcludeSet checks has against the list of ids, with the bitmap (the
// largest id below maxExcludeBits) and without: each id, its neighbours,
// the bitmap's edges, negative ids and ids past it.
func TestExcludeSet(t *testing.T) {
	t.Parallel()
	for _, ids := range [][]int64{
		{0}, {63}, {64}, {1, 0}, {50256, 0, 1}, {maxExcludeBits - 1},
		{maxExcludeBits}, {math.MaxInt64}, {0, math.MaxInt64},
		{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}, // more than 8: a binary search without the bitmap
		{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, maxExcludeBits + 5},
	} {
		s := newExcludeSet(ids)
		if bitmap := s.bits != nil; bitmap != (slices.Max(ids) < maxExcludeBits) {
			t.Errorf("%v: bitmap %v", ids, bitmap)
		}
		probes := []int64{math.MinInt64, -64, -1, 0, 1, 62, 63, 64, 65, 127, 128, maxExcludeBits - 1, maxExcludeBits, maxExcludeBits + 64, math.MaxInt64}
		for _, id := range ids {
			probes = append(probes, id-1, id, id+1)
		}
		for _, p := range probes {
			if got, want := s.has(p), slices.Contains(ids, p); got != want {
				t.Errorf("%v: has(%d) = %v", ids, p, got)
			}
		}
	}
}

// TestFillInt64 checks the loop of 8-byte ids against has, signed and
// not: negative ids, ids past 2^63 - 1, ids at and past the bitmap's end.
func TestFillInt64(t *testing.T) {
	t.Parallel()
	values := []uint64{0, 1, 2, 63, 64, 65, 50256, 50257, 1 << 23, 1<<24 - 1, 1 << 24, 1<<63 - 1, 1 << 63, math.MaxUint64, math.MaxUint64 - 1}
	data := make([]byte, 0, 8*len(values))
	for _, v := range values {
		data = binary.LittleEndian.AppendUint64(data, v)
	}
	for _, ids := range [][]int64{{0}, {1, 50256}, {1<<24 - 1}, {1 << 24}, {63, 64, 1<<63 - 1}} {
		for _, signed := range []bool{true, false} {
			src := &tokenSource{what: "ids", src: bytes.NewReader(data), size: 8, signed: signed, perRow: 1, exclude: newExcludeSet(ids)}
			keep := make([]bool, len(values))
			if err := src.fill(NewWorker(ReadConfig{}), keep, 0); err != nil {
				t.Fatal(err)
			}
			for i, v := range values {
				if want := !src.exclude.has(src.id(data[8*i:])); keep[i] != want {
					t.Errorf("ids %v, signed %v: id %d kept %v", ids, signed, v, keep[i])
				}
			}
		}
	}
}
