package npy

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// TestAppendHeader: what AppendHeader writes, ReadHeader reads back, padded
// as numpy pads it.
func TestAppendHeader(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		descr string
		shape []int64
	}{
		{"<f4", []int64{3, 4}}, {"|u1", []int64{7}}, {"<i8", []int64{1, 2, 3}}, {"|b1", []int64{}}, {"<f2", []int64{1 << 62, 0}},
	} {
		b := AppendHeader([]byte("x"), c.descr, c.shape...)[1:]
		if len(b)%64 != 0 || binary.LittleEndian.Uint16(b[8:]) != uint16(len(b)-10) || b[len(b)-1] != '\n' {
			t.Errorf("%s %v: %q", c.descr, c.shape, b)
		}
		h, err := ReadHeader(bytes.NewReader(b))
		if err != nil || h.Descr != c.descr || !slices.Equal(h.Shape, c.shape) || h.DataOffset != int64(len(b)) || h.Major != 1 {
			t.Errorf("%s %v: read back %+v, %v", c.descr, c.shape, h, err)
		}
	}
}
