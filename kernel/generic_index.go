package kernel

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The generic kernels of the index family: portable Go, the fallback
// everywhere and the oracle of the vector kernels' tests.

// genericIndexShapes is the generic index kernels of index lanes I: each
// phase as a kernel, and runs that fuse them into one loop.
func genericIndexShapes[I indexWord]() indexShapes[I] {
	return indexShapes[I]{max: maxGeneric[I], scatter: scatterGeneric[I], runs: fusedRuns[I]()}
}

// widenGeneric is the widen kernel in Go, eight counters at a time: a
// group of eight that are all zero is one load and one branch.
func widenGeneric(counts []uint64, small []uint8) {
	counts = counts[:len(small)]
	i := 0
	for ; i+8 <= len(small); i += 8 {
		w := binary.LittleEndian.Uint64(small[i:])
		if w == 0 {
			continue
		}
		c := counts[i : i+8 : i+8]
		c[0] += w & 0xff
		c[1] += w >> 8 & 0xff
		c[2] += w >> 16 & 0xff
		c[3] += w >> 24 & 0xff
		c[4] += w >> 32 & 0xff
		c[5] += w >> 40 & 0xff
		c[6] += w >> 48 & 0xff
		c[7] += w >> 56
	}
	for ; i < len(small); i++ {
		counts[i] += uint64(small[i])
	}
	clear(small)
}

// maxGeneric returns the largest lane of x, in four running maxima.
func maxGeneric[I indexWord](x []I) I {
	var a, b, c, d I
	for len(x) >= 4 {
		a, b, c, d = max(a, x[0]), max(b, x[1]), max(c, x[2]), max(d, x[3])
		x = x[4:]
	}
	for _, v := range x {
		a = max(a, v)
	}
	return max(a, b, c, d)
}

// laneInRange is 1 if the lane value of b under (keep, flip) minus lo is at most
// span, unsigned, and 0 if not, branch-free: one less the borrow of
// span - (value - lo). For keep and flip see valueMasks; for 8-bit lanes
// flip is 0.
func laneInRange[W word](b, keep, flip, lo, span W) uint64 {
	top := 8*unsafe.Sizeof(b) - 1
	v := b&keep ^ -(b>>top)>>1&flip
	_, borrow := bits.Sub64(uint64(span), uint64(v-lo), 0)
	return 1 - borrow
}

// nonZeroMaskGeneric returns the mask kernel of x & keep != 0: SWAR up to
// 32-bit lanes (maskSWAR), a lane at a time for 64-bit ones.
func nonZeroMaskGeneric[W word](keep W) maskKernel[W] {
	if unsafe.Sizeof(keep) == 8 {
		k := uint64(keep)
		return func(out []uint64, x []W) {
			for w := 0; len(x) > 0; w++ {
				lanes := x[:min(64, len(x))]
				var m uint64
				for i, b := range lanes {
					v := uint64(b) & k
					m |= (v | -v) >> 63 << i
				}
				out[w] = m
				x = x[len(lanes):]
			}
		}
	}
	var k any
	switch keep := any(keep).(type) {
	case uint8:
		k = maskKernel[uint8](func(out []uint64, x []uint8) { maskSWAR(out, x, keep) })
	case uint16:
		k = maskKernel[uint16](func(out []uint64, x []uint16) { maskSWAR(out, x, keep) })
	case uint32:
		k = maskKernel[uint32](func(out []uint64, x []uint32) { maskSWAR(out, x, keep) })
	}
	return k.(maskKernel[W])
}

// maskSWAR is the mask kernel of x & keep != 0 for lanes of 8, 16 and 32
// bits: eight bytes at a time, each lane's top bit set as in countWords,
// and the top bits gathered into the bitmap by a multiplication (8 and 16
// bits) or two shifts (32), a word of the bitmap from 64 lanes. The eight
// bytes are the machine's 64-bit word where x is aligned to 8 bytes on a
// little-endian machine, else read little-endian, so that lane i of them is
// bits [i*width, (i+1)*width), and keep is replicated in the same order;
// the last lanes short of 64 go a lane at a time.
func maskSWAR[W uint8 | uint16 | uint32](out []uint64, x []W, keep W) {
	size := int(unsafe.Sizeof(keep))
	var keeps [8]W // the first 8 bytes hold keep in each lane
	for i := range keeps {
		keeps[i] = keep
	}
	mask := binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Pointer(&keeps[0])), 8))
	top := laneTops[W]()
	full := len(x) / 64
	if full > 0 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), full*64*size)
		var words []uint64
		if littleEndian && uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
			words = unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), len(b)/8)
		}
		for w := range out[:full] {
			var m uint64
			switch {
			case words == nil:
				m = maskGroupBytes(b[w*64*size:(w+1)*64*size], mask, top, size)
			case size == 1:
				m = maskGroup8(words[w*8:w*8+8], mask, top)
			case size == 2:
				m = maskGroup16(words[w*16:w*16+16], mask, top)
			default:
				m = maskGroup32(words[w*32:w*32+32], mask, top)
			}
			out[w] = m
		}
	}
	if rest := x[full*64:]; len(rest) > 0 {
		maskGeneric(out[full:], rest, keep, 0, 1, keep-1)
	}
}

// littleEndian: the machine stores the low byte of a word first.
var littleEndian = func() bool {
	v := uint16(1)
	return *(*byte)(unsafe.Pointer(&v)) == 1
}()

// laneTopBits returns the words of v & mask with the top bit of each lane
// (the bits of top) set where the lane is not zero, and no other bit: for a
// mask without the top bits (the magnitude of floats) as countFloatWords
// does, with a constant test.
func laneTopBits(v, mask, top uint64) uint64 {
	low := ^top
	if mask&top == 0 {
		return ((v & mask) + low) & top
	}
	v &= mask
	return (((v & low) + low) | v) & top
}

// maskGroup8 is the bitmap word of the 64 byte lanes of words.
func maskGroup8(words []uint64, mask, top uint64) uint64 {
	var m uint64
	for g, v := range words[:8] {
		m |= laneTopBits(v, mask, top) >> 7 * 0x0102040810204080 >> 56 << (8 * g)
	}
	return m
}

// maskGroup16 is the bitmap word of the 64 16-bit lanes of words.
func maskGroup16(words []uint64, mask, top uint64) uint64 {
	var m uint64
	for g, v := range words[:16] {
		m |= laneTopBits(v, mask, top) >> 15 * (1<<48 | 1<<33 | 1<<18 | 1<<3) >> 48 << (4 * g)
	}
	return m
}

// maskGroup32 is the bitmap word of the 64 32-bit lanes of words.
func maskGroup32(words []uint64, mask, top uint64) uint64 {
	var m uint64
	for g, v := range words[:32] {
		t := laneTopBits(v, mask, top)
		m |= (t>>31&1 | t>>62) << (2 * g)
	}
	return m
}

// maskGroupBytes is the bitmap word of 64 lanes of size bytes in b, read
// little-endian eight bytes at a time.
func maskGroupBytes(b []byte, mask, top uint64, size int) uint64 {
	var m uint64
	for g := range 8 * size {
		t := laneTopBits(binary.LittleEndian.Uint64(b[8*g:]), mask, top)
		switch size {
		case 1:
			m |= t >> 7 * 0x0102040810204080 >> 56 << (8 * g)
		case 2:
			m |= t >> 15 * (1<<48 | 1<<33 | 1<<18 | 1<<3) >> 48 << (4 * g)
		default:
			m |= (t>>31&1 | t>>62) << (2 * g)
		}
	}
	return m
}

// rangeMaskGeneric returns the mask kernel of a range rule on lane values
// v (valueMasks).
func rangeMaskGeneric[W word](v laneValue) rangeMaskKernel[W] {
	keep, flip := valueMasks[W](v)
	return func(out []uint64, x []W, lo, span W) {
		maskGeneric(out, x, keep, flip, lo, span)
	}
}

func maskGeneric[W word](out []uint64, x []W, keep, flip, lo, span W) {
	for w := 0; len(x) > 0; w++ {
		lanes := x[:min(64, len(x))]
		var m uint64
		for i, b := range lanes {
			m |= laneInRange(b, keep, flip, lo, span) << i
		}
		out[w] = m
		x = x[len(lanes):]
	}
}

// scatterGeneric is the scatter kernel in Go.
func scatterGeneric[I indexWord](small []uint8, index []I, bits []uint64, carries []uint32) (int, int) {
	n := 0
	for i, j := range index {
		if uint64(j) >= uint64(len(small)) {
			return n, i
		}
		old := small[j]
		c := old + uint8(bits[i/64]>>(i%64)&1)
		small[j] = c
		if c < old {
			carries[n] = uint32(j)
			n++
		}
	}
	return n, -1
}

// fusedRuns returns the generic run kernels: the range check, the value
// test and the increment of each entry in one loop, branch-free but for
// the check and the carries, both rare.
func fusedRuns[I indexWord]() valueRuns[I] {
	return valueRuns[I]{
		all: fusedAll[I],
		w8:  fusedValues[I, uint8],
		w16: fusedValues[I, uint16],
		w32: fusedValues[I, uint32],
		w64: fusedValues[I, uint64],
	}
}

// The fused runs count the entries of a block in one loop that stops at a
// carry or an index out of range, both rare, and returns where: the caller
// counts that entry (or pair) one entry at a time. The loop thus holds no
// carry list, and, in a function of its own (never inlined), its live
// values fit in registers: inlined, they spill (measured on Zen 5 at
// 16,384 features: 0.8 against 1.2 G entries/s).
//
// Up to maxPairedCounters counters, the loop counts the entries in pairs:
// the first entry of each pair into the scratch counters s.part, the
// second into a second set of the same size (s.second), added to the
// counts with the first. Two sub-histograms break the chain of a run of
// one index in half: each increment is a load and a store of its byte,
// and the next increment of the same byte waits for the store (the
// assembly scatter's ADC to memory does not wait; Go's code does).
// Measured on Zen 5 at 16,384 features: all entries of one index 0.68
// against 0.37 G entries/s, sorted top-k entries 0.74 against 0.39, random
// top-k entries 0.87 against 0.83. At 2^20 features the second set no
// longer fits in L2 with the first: random top-k entries 0.48 against 0.66,
// so larger counts take one.

// maxPairedCounters is the most counters the fused runs count in pairs
// into two sub-histograms: 2 x 256 KiB.
const maxPairedCounters = 1 << 18

func fusedAll[I indexWord](s *indexScratch, index []I, _ []uint8, _ valueTest[uint8]) int {
	if len(s.small) > maxPairedCounters {
		return fusedAllSingle(s, index)
	}
	small, small2 := s.part, s.second()
	for b := 0; b < len(index); b += indexBlockEntries {
		block := index[b:min(b+indexBlockEntries, len(index))]
		n := 0
		for i := 0; i < len(block); i += 2 {
			if i += fusedAllPairs(small, small2, block[i:]); i >= len(block) {
				break
			}
			for e := i; e < min(i+2, len(block)); e++ {
				j := uint64(block[e])
				if j >= uint64(len(small)) {
					return b + e
				}
				sub := small
				if e > i {
					sub = small2
				}
				if sub[j]++; sub[j] == 0 {
					s.carries[n] = uint32(j)
					n++
				}
			}
		}
		s.carry(n)
	}
	return -1
}

func fusedAllSingle[I indexWord](s *indexScratch, index []I) int {
	small := s.part
	for b := 0; b < len(index); b += indexBlockEntries {
		block := index[b:min(b+indexBlockEntries, len(index))]
		n := 0
		for i := 0; i < len(block); i++ {
			i += fusedAllRun(small, block[i:])
			if i == len(block) {
				break
			}
			j := uint64(block[i])
			if j >= uint64(len(small)) {
				return b + i
			}
			s.carries[n] = uint32(j)
			n++
		}
		s.carry(n)
	}
	return -1
}

// fusedAllRun adds one to small[index[i]] from i = 0 until a counter wraps
// (it returns i, the increment done) or an index is not below len(small)
// (it returns i, nothing done), or the end (len(index)).
//
//go:noinline
func fusedAllRun[I indexWord](small []uint8, index []I) int {
	for i, lane := range index {
		j := uint64(lane)
		if j >= uint64(len(small)) {
			return i
		}
		c := small[j] + 1
		small[j] = c
		if c == 0 {
			return i
		}
	}
	return len(index)
}

// fusedAllPairs adds one to small[index[i]] and small2[index[i+1]] for
// each pair of entries i, i+1 from i = 0, and returns the first i whose
// pair would wrap a counter from 255 to 0 or has an index not below
// len(small), or the last even i.
//
//go:noinline
func fusedAllPairs[I indexWord](small, small2 []uint8, index []I) int {
	small2 = small2[:len(small)]
	i := 0
	for ; i+2 <= len(index); i += 2 {
		j0, j1 := uint64(index[i]), uint64(index[i+1])
		if j0 >= uint64(len(small)) || j1 >= uint64(len(small)) {
			return i
		}
		c0, c1 := small[j0]+1, small2[j1]+1
		if c0 == 0 || c1 == 0 {
			return i
		}
		small[j0], small2[j1] = c0, c1
	}
	return i
}

func fusedValues[I indexWord, W word](s *indexScratch, index []I, values []W, t valueTest[W]) int {
	if len(s.small) > maxPairedCounters {
		return fusedValuesSingle(s, index, values, t)
	}
	small, small2 := s.part, s.second()
	values = values[:len(index)]
	keep, flip, lo, span := t.keep, t.flip, t.lo, t.span
	for b := 0; b < len(index); b += indexBlockEntries {
		end := min(b+indexBlockEntries, len(index))
		block, v := index[b:end], values[b:end]
		n := 0
		for i := 0; i < len(block); i += 2 {
			if flip == 0 {
				i += fusedPairs(small, small2, block[i:], v[i:], keep, lo, span)
			} else {
				i += fusedKeysPairs(small, small2, block[i:], v[i:], lo, span)
			}
			if i >= len(block) {
				break
			}
			for e := i; e < min(i+2, len(block)); e++ {
				j := uint64(block[e])
				if j >= uint64(len(small)) {
					return b + e
				}
				sub := small
				if e > i {
					sub = small2
				}
				old := sub[j]
				if sub[j] += uint8(laneInRange(v[e], keep, flip, lo, span)); sub[j] < old {
					s.carries[n] = uint32(j)
					n++
				}
			}
		}
		s.carry(n)
	}
	return -1
}

func fusedValuesSingle[I indexWord, W word](s *indexScratch, index []I, values []W, t valueTest[W]) int {
	small := s.part
	values = values[:len(index)]
	keep, flip, lo, span := t.keep, t.flip, t.lo, t.span
	for b := 0; b < len(index); b += indexBlockEntries {
		end := min(b+indexBlockEntries, len(index))
		block, v := index[b:end], values[b:end]
		n := 0
		for i := 0; i < len(block); i++ {
			if flip == 0 {
				i += fusedRun(small, block[i:], v[i:], keep, lo, span)
			} else {
				i += fusedKeysRun(small, block[i:], v[i:], lo, span)
			}
			if i == len(block) {
				break
			}
			j := uint64(block[i])
			if j >= uint64(len(small)) {
				return b + i
			}
			s.carries[n] = uint32(j)
			n++
		}
		s.carry(n)
	}
	return -1
}

// fusedPairs is fusedAllPairs for the entries whose lane value b & keep
// minus lo is at most span: every rule but the keys of CountAbove.
//
//go:noinline
func fusedPairs[I indexWord, W word](small, small2 []uint8, index []I, values []W, keep, lo, span W) int {
	small2 = small2[:len(small)]
	values = values[:len(index)]
	i := 0
	for ; i+2 <= len(index); i += 2 {
		j0, j1 := uint64(index[i]), uint64(index[i+1])
		if j0 >= uint64(len(small)) || j1 >= uint64(len(small)) {
			return i
		}
		o0, o1 := small[j0], small2[j1]
		c0 := o0 + 1 - skips(values[i]&keep-lo, span)
		c1 := o1 + 1 - skips(values[i+1]&keep-lo, span)
		if c0 < o0 || c1 < o1 {
			return i
		}
		small[j0], small2[j1] = c0, c1
	}
	return i
}

// fusedKeysPairs is fusedPairs for the order keys of the values (the keys
// of CountAbove, valueMasks' keyValue).
//
//go:noinline
func fusedKeysPairs[I indexWord, W word](small, small2 []uint8, index []I, values []W, lo, span W) int {
	top := 8*unsafe.Sizeof(lo) - 1
	small2 = small2[:len(small)]
	values = values[:len(index)]
	i := 0
	for ; i+2 <= len(index); i += 2 {
		j0, j1 := uint64(index[i]), uint64(index[i+1])
		if j0 >= uint64(len(small)) || j1 >= uint64(len(small)) {
			return i
		}
		b0, b1 := values[i], values[i+1]
		o0, o1 := small[j0], small2[j1]
		c0 := o0 + 1 - skips(b0^-(b0>>top)>>1-lo, span)
		c1 := o1 + 1 - skips(b1^-(b1>>top)>>1-lo, span)
		if c0 < o0 || c1 < o1 {
			return i
		}
		small[j0], small2[j1] = c0, c1
	}
	return i
}

// fusedRun is fusedAllRun for the entries whose lane value b & keep minus
// lo is at most span: every rule but the keys of CountAbove.
//
//go:noinline
func fusedRun[I indexWord, W word](small []uint8, index []I, values []W, keep, lo, span W) int {
	values = values[:len(index)]
	for i, lane := range index {
		j := uint64(lane)
		if j >= uint64(len(small)) {
			return i
		}
		old := small[j]
		c := old + 1 - skips(values[i]&keep-lo, span)
		small[j] = c
		if c < old {
			return i
		}
	}
	return len(index)
}

// fusedKeysRun is fusedRun for the order keys of the values (the keys of
// CountAbove, valueMasks' keyValue).
//
//go:noinline
func fusedKeysRun[I indexWord, W word](small []uint8, index []I, values []W, lo, span W) int {
	top := 8*unsafe.Sizeof(lo) - 1
	values = values[:len(index)]
	for i, lane := range index {
		j := uint64(lane)
		if j >= uint64(len(small)) {
			return i
		}
		old := small[j]
		b := values[i]
		c := old + 1 - skips(b^-(b>>top)>>1-lo, span)
		small[j] = c
		if c < old {
			return i
		}
	}
	return len(index)
}

// skips is 1 if d > span, unsigned, and 0 if not, branch-free: the borrow
// of span - d, which lanes narrower than 64 bits take from the sign of the
// 64-bit difference, one instruction fewer than bits.Sub64's borrow.
func skips[W word](d, span W) uint8 {
	if unsafe.Sizeof(d) == 8 {
		_, borrow := bits.Sub64(uint64(span), uint64(d), 0)
		return uint8(borrow)
	}
	return uint8((uint64(span) - uint64(d)) >> 63)
}
