package kernel

import "encoding/binary"

// The generic marking streams of x != 0: streamSWAR's tests of eight
// lanes, their 8-bit mask spread to bytes (byteSpread), which both add one
// to the counters of the lanes that count and, times 0xff, select the
// row's number into their marks. The generic level's table takes them
// (the other levels copied it before, and keep their own or none).
func init() {
	n := &genericImpl.nonZero
	n.bits8.streamLast = nonZeroStreamLastSWAR[uint8](n.bits8.value)
	n.bits16.streamLast = nonZeroStreamLastSWAR[uint16](n.bits16.value)
	n.magnitude16.streamLast = nonZeroStreamLastSWAR[uint16](n.magnitude16.value)
	n.bits32.streamLast = nonZeroStreamLastSWAR[uint32](n.bits32.value)
	n.magnitude32.streamLast = nonZeroStreamLastSWAR[uint32](n.magnitude32.value)
	n.bits64.streamLast = nonZeroStreamLastSWAR[uint64](n.bits64.value)
	n.magnitude64.streamLast = nonZeroStreamLastSWAR[uint64](n.magnitude64.value)
}

// nonZeroStreamLastSWAR returns the generic marking stream of the lanes
// whose value v has a bit set.
func nonZeroStreamLastSWAR[W word](v laneValue) streamLastKernel[W] {
	keep, _ := valueMasks[W](v)
	var k any
	switch keep := any(keep).(type) {
	case uint8:
		k = streamLastKernel[uint8](func(counts, lastb []uint8, x []uint8, cols, stride, rows, row int) {
			streamLastSWAR(counts, lastb, x, cols, stride, rows, row, keep, mask8Bits8)
		})
	case uint16:
		k = streamLastKernel[uint16](func(counts, lastb []uint8, x []uint16, cols, stride, rows, row int) {
			streamLastSWAR(counts, lastb, x, cols, stride, rows, row, keep, mask8Bits16)
		})
	case uint32:
		k = streamLastKernel[uint32](func(counts, lastb []uint8, x []uint32, cols, stride, rows, row int) {
			streamLastSWAR(counts, lastb, x, cols, stride, rows, row, keep, mask8Bits32)
		})
	case uint64:
		k = streamLastKernel[uint64](func(counts, lastb []uint8, x []uint64, cols, stride, rows, row int) {
			streamLastSWAR(counts, lastb, x, cols, stride, rows, row, keep, mask8Bits64)
		})
	}
	return k.(streamLastKernel[W])
}

// mask8Bits32 is the test of eight 32-bit lanes, two halves of tops32.
func mask8Bits32(x []uint32, keep uint32) uint8 {
	m := uint64(keep) | uint64(keep)<<32
	x = x[:8]
	return tops32(x[0:4:4], m) | tops32(x[4:8:8], m)<<4
}

// streamLastSWAR is streamSWAR that also sets lastb[j] = row + r for each
// row r whose lane of column j counts, row by row (the last stays); cols
// is a multiple of 8.
func streamLastSWAR[W word](counts, lastb []uint8, x []W, cols, stride, rows, row int, keep W, mask8 func(x []W, keep W) uint8) {
	counts, lastb = counts[:cols], lastb[:cols]
	for r := 0; r < rows; r++ {
		line := x[r*stride:][:cols]
		at := uint64(uint8(row+r)) * 0x0101010101010101
		for j := 0; j+8 <= cols; j += 8 {
			spread := byteSpread[mask8(line[j:j+8:j+8], keep)]
			if spread == 0 {
				continue
			}
			addCounters(counts[j:j+8:j+8], spread)
			sel := spread * 0xff
			l := lastb[j : j+8 : j+8]
			binary.LittleEndian.PutUint64(l, binary.LittleEndian.Uint64(l)&^sel|at&sel)
		}
	}
}
