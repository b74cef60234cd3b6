package kernel

import "encoding/binary"

// The generic column stream of x != 0: portable Go, branch-free, byte
// counters (the level without assembly counts wide matrices with it, and
// AddNonZeroColumnBytes at every level where the level has no stream).
//
// Eight columns at a time: the lanes' tests come out of SWAR words (as in
// countWords: the top bit of each lane of ((v & low) + low) | v is set
// exactly when the lane is not zero), gathered into an 8-bit mask, column
// j at bit j, which a table turns into eight byte increments; the
// increments of up to four rows are summed in a register, then added to
// the eight byte counters as one 64-bit word, each byte modulo 256 as the
// vector kernels add them.

// byteSpread[m] has byte j set to bit j of m.
var byteSpread = func() (t [256]uint64) {
	for m := range t {
		for j := range 8 {
			t[m] |= uint64(m>>j&1) << (8 * j)
		}
	}
	return t
}()

// streamRowsAtOnce is the rows whose increments are summed before they
// are added to the counters.
const streamRowsAtOnce = 4

// nonZeroStreamSWAR returns the generic stream of the lanes with a bit of
// keep set.
func nonZeroStreamSWAR[W word](keep W) streamKernel[W] {
	var k any
	switch keep := any(keep).(type) {
	case uint8:
		k = streamKernel[uint8](func(counts []uint8, x []uint8, cols, stride, rows int) {
			streamSWAR(counts, x, cols, stride, rows, keep, mask8Bits8)
		})
	case uint16:
		k = streamKernel[uint16](func(counts []uint8, x []uint16, cols, stride, rows int) {
			streamSWAR(counts, x, cols, stride, rows, keep, mask8Bits16)
		})
	case uint32:
		k = streamKernel[uint32](func(counts []uint8, x []uint32, cols, stride, rows int) {
			streamSWAR32(counts, x, cols, stride, rows, keep)
		})
	case uint64:
		k = streamKernel[uint64](func(counts []uint8, x []uint64, cols, stride, rows int) {
			streamSWAR(counts, x, cols, stride, rows, keep, mask8Bits64)
		})
	}
	return k.(streamKernel[W])
}

// streamSWAR adds to the byte counts[j], j < cols, the number of rows r <
// rows whose lane x[r*stride+j] has a bit of keep set, with mask8 the test
// of eight lanes.
func streamSWAR[W word](counts []uint8, x []W, cols, stride, rows int, keep W, mask8 func(x []W, keep W) uint8) {
	counts = counts[:cols]
	groups := cols &^ 7
	for r0 := 0; r0 < rows; r0 += streamRowsAtOnce {
		n := min(streamRowsAtOnce, rows-r0)
		band := x[r0*stride:]
		for j := 0; j < groups; j += 8 {
			var inc uint64
			for r := range n {
				inc += byteSpread[mask8(band[r*stride+j:], keep)]
			}
			c := counts[j : j+8 : j+8]
			binary.LittleEndian.PutUint64(c, addBytes(binary.LittleEndian.Uint64(c), inc))
		}
		for j := groups; j < cols; j++ {
			var inc uint8
			for r := range n {
				inc += uint8(nonZero(band[r*stride+j] & keep))
			}
			counts[j] += inc
		}
	}
}

// streamSWAR32 is streamSWAR of 32-bit lanes, with the test of eight lanes
// written out (as two inlined halves, tops32 or tops32Magnitude) and four
// rows' slices held apart: the hot loop of float32 activations at the
// generic level.
func streamSWAR32(counts []uint8, x []uint32, cols, stride, rows int, keep uint32) {
	counts = counts[:cols]
	m := uint64(keep) | uint64(keep)<<32
	// Lanes without their top bit (the magnitude of float32) take the
	// shorter test: a branch per group of columns, always the same way.
	magnitude := keep>>31 == 0
	r := 0
	for ; r+4 <= rows; r += 4 {
		a, b := x[r*stride:][:cols], x[(r+1)*stride:][:cols]
		c, d := x[(r+2)*stride:][:cols], x[(r+3)*stride:][:cols]
		j := 0
		for ; j+8 <= cols; j += 8 {
			var inc uint64
			if magnitude {
				inc = byteSpread[tops32Magnitude(a[j:j+4:j+4], m)|tops32Magnitude(a[j+4:j+8:j+8], m)<<4] +
					byteSpread[tops32Magnitude(b[j:j+4:j+4], m)|tops32Magnitude(b[j+4:j+8:j+8], m)<<4] +
					byteSpread[tops32Magnitude(c[j:j+4:j+4], m)|tops32Magnitude(c[j+4:j+8:j+8], m)<<4] +
					byteSpread[tops32Magnitude(d[j:j+4:j+4], m)|tops32Magnitude(d[j+4:j+8:j+8], m)<<4]
			} else {
				inc = byteSpread[tops32(a[j:j+4:j+4], m)|tops32(a[j+4:j+8:j+8], m)<<4] +
					byteSpread[tops32(b[j:j+4:j+4], m)|tops32(b[j+4:j+8:j+8], m)<<4] +
					byteSpread[tops32(c[j:j+4:j+4], m)|tops32(c[j+4:j+8:j+8], m)<<4] +
					byteSpread[tops32(d[j:j+4:j+4], m)|tops32(d[j+4:j+8:j+8], m)<<4]
			}
			addCounters(counts[j:j+8:j+8], inc)
		}
		for ; j < cols; j++ {
			counts[j] += uint8(nonZero(a[j]&keep) + nonZero(b[j]&keep) + nonZero(c[j]&keep) + nonZero(d[j]&keep))
		}
	}
	for ; r < rows; r++ {
		a := x[r*stride:][:cols]
		j := 0
		for ; j+8 <= cols; j += 8 {
			var mask uint8
			if magnitude {
				mask = tops32Magnitude(a[j:j+4:j+4], m) | tops32Magnitude(a[j+4:j+8:j+8], m)<<4
			} else {
				mask = tops32(a[j:j+4:j+4], m) | tops32(a[j+4:j+8:j+8], m)<<4
			}
			addCounters(counts[j:j+8:j+8], byteSpread[mask])
		}
		for ; j < cols; j++ {
			counts[j] += uint8(nonZero(a[j] & keep))
		}
	}
}

// tops32 returns the 4-bit mask of four 32-bit lanes p, bit j set when
// p[j] & m is not zero.
func tops32(p []uint32, m uint64) uint8 {
	const top = 0x8000000080000000
	const low = ^uint64(top)
	w0 := (uint64(p[0]) | uint64(p[1])<<32) & m
	w1 := (uint64(p[2]) | uint64(p[3])<<32) & m
	// Lanes 0 and 2 at bits 0 and 2, lanes 1 and 3 at 32 and 34, which
	// fold down to 1 and 3.
	y := ((w0&low+low)|w0)&top>>31 | ((w1&low+low)|w1)&top>>29
	return uint8(y|y>>31) & 0xf
}

// tops32Magnitude is tops32 for a mask m without the lanes' top bits: a
// masked lane is at most low, so adding low carries into the top bit
// exactly when the lane is not zero, and never out of it (as in
// countFloatWords).
func tops32Magnitude(p []uint32, m uint64) uint8 {
	const top = 0x8000000080000000
	const low = ^uint64(top)
	w0 := (uint64(p[0]) | uint64(p[1])<<32) & m
	w1 := (uint64(p[2]) | uint64(p[3])<<32) & m
	y := (w0+low)&top>>31 | (w1+low)&top>>29
	return uint8(y|y>>31) & 0xf
}

// addCounters adds the bytes of inc to the eight byte counters c, each
// modulo 256.
func addCounters(c []uint8, inc uint64) {
	binary.LittleEndian.PutUint64(c, addBytes(binary.LittleEndian.Uint64(c), inc))
}

// addBytes adds the bytes of b to those of a, each modulo 256 (no carry
// from one byte into the next).
func addBytes(a, b uint64) uint64 {
	const tops = 0x8080808080808080
	return (a&^tops + b&^tops) ^ (a^b)&tops
}

// The tests of eight lanes, x[0] to x[7]: the mask with bit j set when
// x[j] & keep is not zero. Each builds 64-bit words of lanes from the
// elements (in the element order, whatever the byte order of the
// machine), tests them as countWords does, and gathers the lanes' top
// bits.

func mask8Bits8(x []uint8, keep uint8) uint8 {
	x = x[:8]
	w := binary.LittleEndian.Uint64(x) & replicate(keep)
	const top = 0x8080808080808080
	t := (((w &^ top) + ^uint64(top)) | w) & top
	// The top bit of byte j to bit j: each byte's bit moves down by 7,
	// then the bytes fold together.
	t >>= 7
	t |= t >> 7
	t |= t >> 14
	t |= t >> 28
	return uint8(t)
}

func mask8Bits16(x []uint16, keep uint16) uint8 {
	x = x[:8]
	m := replicate(keep)
	const top = 0x8000800080008000
	w0 := (uint64(x[0]) | uint64(x[1])<<16 | uint64(x[2])<<32 | uint64(x[3])<<48) & m
	w1 := (uint64(x[4]) | uint64(x[5])<<16 | uint64(x[6])<<32 | uint64(x[7])<<48) & m
	t0 := (((w0 &^ top) + ^uint64(top)) | w0) & top
	t1 := (((w1 &^ top) + ^uint64(top)) | w1) & top
	// Lanes 0-3 at bits 0, 16, 32, 48 and 4-7 at 4, 20, 36, 52; then
	// each lane's bit folds down to bit j.
	y := t0>>15 | t1>>11
	return uint8(y | y>>15 | y>>30 | y>>45)
}

func mask8Bits64(x []uint64, keep uint64) uint8 {
	x = x[:8]
	var m uint64
	for j, v := range x {
		v &= keep
		m |= (v | -v) >> 63 << j
	}
	return uint8(m)
}
