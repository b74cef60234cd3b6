package npy

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// AppendHeader appends to b the magic, version 1.0 and header of a
// little-endian C-order array of the dtype descr and shape, padded with
// spaces to a multiple of 64 bytes, as numpy writes it: the data follows.
func AppendHeader(b []byte, descr string, shape ...int64) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	total := (10 + len(dict) + 1 + 63) / 64 * 64
	text := dict + strings.Repeat(" ", total-10-len(dict)-1) + "\n"
	b = append(b, magic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(text)))
	return append(b, text...)
}
