package main

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/sparsekit/l0/internal/input"
)

// rankFile returns a safetensors file of one U8 tensor "t" of one element
// and the given rank, [1, 1, ..., 1].
func rankFile(rank int) []byte {
	header := `{"t":{"dtype":"U8","shape":[` + strings.Repeat("1,", rank-1) + `1],"data_offsets":[0,1]}}`
	header += strings.Repeat(" ", -len(header)&7)
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), 1)
}

// TestHugeRank: a header of a million dimensions is refused as the
// header is read, in a short message (the shape was echoed whole: a 20 MB
// file gave a 30 MB line of stderr at a 500 MB peak), with -key, without,
// and with -sparse; a tensor of 64 dimensions, valid, shows 16 of them in
// every message that names it.
func TestHugeRank(t *testing.T) {
	dir := t.TempDir()
	huge := writeFile(t, dir, "huge.safetensors", rankFile(1_000_000))
	most := writeFile(t, dir, "most.safetensors", rankFile(64))
	for _, flags := range [][]string{nil, {"-key", "t"}, {"-sparse", "t", "-features", "4"}} {
		var errs string
		var status int
		grew := allocatedBy(func() { _, errs, status = runL0(append(flags, huge)...) })
		if status != 1 || len(errs) > 300 || !strings.Contains(errs, "more than 64 dimensions") {
			t.Errorf("%q: status %d, %d bytes of stderr: %.300q", flags, status, len(errs), errs)
		}
		if grew > 3*1_000_000*2+1<<20 {
			t.Errorf("%q: a header of 2 MB allocated %d bytes", flags, grew)
		}
		_, errs, status = runL0(append(flags, most)...)
		if status != 1 || len(errs) > 400 || !strings.Contains(errs, "1, ...] (64 dimensions)") {
			t.Errorf("%q, 64 dimensions: status %d, %d bytes of stderr: %.400q", flags, status, len(errs), errs)
		}
	}
	shape := make([]int64, 40)
	if s := input.ShapeOf(shape); !strings.HasSuffix(s, "0, ...] (40 dimensions)") || strings.Count(s, "0, ") != 16 {
		t.Errorf("shapeOf: %s", s)
	}
}
