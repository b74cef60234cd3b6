package kernel

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"unsafe"
)

// Row pairs: narrow rows into two counts (the L0 norm of two components,
// every other row), x != 0, without the bitmap of rows.go.
//
// The bitmap costs a word stored and loaded again per 64 lanes, and its
// split two population counts: for 1-byte lanes that is per 64 bytes, and
// split and bitmap cost more than the test (rows of bytes ran at 0.4x of
// CountNonZero of the same bytes). So for bytes the vector levels have a
// kernel (pairKernel) that tests a group of 64 bytes into a word in a
// register, counts its bits, and counts them again under the periodic
// mask of the group's phase (rowSplit's masks of slot 0); the last lanes
// short of a group go through the level's mask kernel and the split. The
// generic level does the same on the lane tests of countSWAR, eight bytes
// at a time, its periodic masks over the lanes' top bits.

// pairKernel returns the lanes of x that count (all), and those of them
// under the masks (sel): lane j of group k of 64 lanes is under the mask
// when bit j of masks[(phase+k) % len(masks)] is set. len(x) is a
// multiple of 64, phase below len(masks).
type pairKernel func(x []uint8, masks []uint64, phase int) (all, sel int)

// pairBytesKernel is pairKernel with the masks a byte per lane: lane i of
// x is under the mask when masks[(phase+i) % len(masks)] is 0xff. len(x)
// is a multiple of 64, len(masks) and phase multiples of 128.
type pairBytesKernel func(x []uint8, masks []uint8, phase int) (all, sel int)

// countRowPairs adds the counts of rows of width lanes of x, each test of
// the lane value of s, to counts[0] (even rows) and counts[1] (odd rows),
// when the level has a fused way for rows of that width, and reports
// whether it did.
func countRowPairs[W word](t *impl, counts []uint64, x []W, width int, s *shapes[W]) bool {
	size := int(unsafe.Sizeof(W(0)))
	if len(counts) != 2 || len(x) < 64 {
		return false
	}
	switch {
	case size == 1 && t.pairs8 != nil && width < t.narrowRows.bytes:
		b := unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
		if t.pairBytes != nil && countRowPairsBytes(counts, b, width, t.pairBytes) {
			return true
		}
		m := (*maskKernel[uint8])(unsafe.Pointer(&s.mask))
		return countRowPairs8(counts, b, width, t.pairs8, *m, &t.popcounts)
	case t.swarPairs && size <= 4 && width < pairSWARRowBytes/size:
		keep, _ := valueMasks[W](s.value)
		p := unsafe.Pointer(unsafe.SliceData(x))
		switch size {
		case 1:
			return countRowPairsSWAR(counts, unsafe.Slice((*uint8)(p), len(x)), width, uint8(keep))
		case 2:
			return countRowPairsSWAR(counts, unsafe.Slice((*uint16)(p), len(x)), width, uint16(keep))
		default:
			return countRowPairsSWAR(counts, unsafe.Slice((*uint32)(p), len(x)), width, uint32(keep))
		}
	}
	return false
}

// countRowPairs8 counts rows of bytes with pairs, when the periodic split
// applies (rowSplit.init), in pieces of at most ChunkBytes, each through
// countRowPairsChunk.
func countRowPairs8(counts []uint64, x []uint8, width int, pairs pairKernel, mask maskKernel[uint8], k *rowPopcounts) bool {
	s := rowSplits.Get().(*rowSplit)
	s.init(counts, width, len(x), k)
	ok := s.periodic
	for ok && len(x) > 0 {
		n := min(ChunkBytes, len(x))
		countRowPairsChunk(s, x[:n:n], pairs, mask)
		x = x[n:]
	}
	s.counts, s.popcounts = nil, nil
	rowSplits.Put(s)
	return ok
}

// countRowPairsChunk counts one piece of x: its whole groups by pairs, the
// rest (at the end of x) by the mask kernel and the split; never inlined,
// it is the preemption point.
//
//go:noinline
func countRowPairsChunk(s *rowSplit, x []uint8, pairs pairKernel, mask maskKernel[uint8]) {
	if whole := len(x) &^ 63; whole > 0 {
		all, sel := pairs(x[:whole:whole], s.masks[:s.cycle], s.phase)
		s.counts[0] += uint64(sel)
		s.counts[1] += uint64(all - sel)
		s.phase = (s.phase + whole/64) % s.cycle
		x = x[whole:]
	}
	if len(x) > 0 {
		w := s.words[:1]
		mask(w, x)
		s.add(w, len(x))
	}
}

// pairBytesTable bounds the byte masks of pairBytesKernel: a whole number
// of row pairs and of 128 bytes, within L1 beside the stream of x (rows of
// up to 127 bytes, and of 128 bytes times an odd number, say 255, fit
// within 16 KiB; longer rows take pairs8).
const pairBytesTable = 16 << 10

var pairByteTables = sync.Pool{New: func() any { return new([pairBytesTable]byte) }}

// countRowPairsBytes counts rows of bytes with pairs, when its masks fit
// and x is at least four times as long as them, in pieces of at most
// ChunkBytes, each through pairBytesChunk, and the last bytes short of 64
// one at a time; it reports whether it counted.
func countRowPairsBytes(counts []uint64, x []uint8, width int, pairs pairBytesKernel) bool {
	period := 2 * width
	n := period / gcdPow2(period, 128) * 128 // the masks: lcm(period, 128)
	if n > pairBytesTable || len(x) < 4*n {
		return false
	}
	table := pairByteTables.Get().(*[pairBytesTable]byte)
	masks := table[:n]
	for i, pos := 0, 0; i < n; i++ {
		masks[i] = 0
		if pos < width {
			masks[i] = 0xff
		}
		if pos++; pos == period {
			pos = 0
		}
	}
	var even, odd uint64
	whole := len(x) &^ 63
	for off := 0; off < whole; off += ChunkBytes {
		end := min(off+ChunkBytes, whole)
		all, sel := pairBytesChunk(x[off:end:end], masks, off%n, pairs)
		even += uint64(sel)
		odd += uint64(all - sel)
	}
	pairByteTables.Put(table)
	pos := whole % period
	for _, v := range x[whole:] {
		c := uint64(nonZero(v))
		if pos < width {
			even += c
		} else {
			odd += c
		}
		if pos++; pos == period {
			pos = 0
		}
	}
	counts[0] += even
	counts[1] += odd
	return true
}

// pairBytesChunk counts one piece; never inlined, it is the preemption
// point.
//
//go:noinline
func pairBytesChunk(x, masks []uint8, phase int, pairs pairBytesKernel) (all, sel int) {
	return pairs(x, masks, phase)
}

// pairSWARRowBytes bounds the rows of the generic row pairs: rows of 128
// bytes to 256 took a call each (genericNarrowRowBytes), at 0.44x of
// CountNonZero for bfloat16 rows of 64, where the pairs run at 0.5x.
// pairSWARWords bounds their masks, in words of eight bytes: a whole
// number of periods of such rows (at most 255 words), and at least 16
// words.
const (
	pairSWARRowBytes = 256
	pairSWARWords    = 256
)

// countRowPairsSWAR adds the counts of rows of width lanes of x, lanes
// with a bit of keep set, to counts[0] (even rows) and counts[1] (odd
// rows), eight bytes at a time as countSWAR: each word's lane tests
// (laneTopBits), and the same under the mask of the lanes of even rows in
// it, summed in the lanes themselves (pairWords). A row pair is 2*width
// lanes; the words of eight bytes meet it in period words, a cycle of the
// masks. It reports false, and counts nothing, for x not aligned to its
// lanes or rows too wide.
func countRowPairsSWAR[W uint8 | uint16 | uint32](counts []uint64, x []W, width int, keep W) bool {
	size := int(unsafe.Sizeof(keep))
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(x)))
	lanesPerWord := 8 / size
	pair := 2 * width
	period := pair / gcdPow2(pair, lanesPerWord)
	if addr%uintptr(size) != 0 || period >= pairSWARWords {
		return false
	}
	// The head: lanes one at a time up to eight-byte alignment.
	var even, odd uint64
	pos := 0 // the next lane's position in its pair of rows
	lane := func(v W) {
		c := uint64(nonZero(v & keep))
		if pos < width {
			even += c
		} else {
			odd += c
		}
		if pos++; pos == pair {
			pos = 0
		}
	}
	for len(x) > 0 && addr%8 != 0 {
		lane(x[0])
		x = x[1:]
		addr += uintptr(size)
	}
	if n := len(x) / lanesPerWord; n > 0 {
		var keeps [8]W // the first 8 bytes hold keep in each lane, in memory order
		for i := range keeps {
			keeps[i] = keep
		}
		mask := binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Pointer(&keeps[0])), 8))
		top := laneTops[W]()
		// masks[i] is the top bits of the lanes of even rows in word i
		// from the lane at pos, for whole periods of at least 16 words.
		var masks [pairSWARWords]uint64
		cycle := period * ((16 + period - 1) / period)
		if cycle > len(masks) {
			cycle = period
		}
		for i := range cycle {
			for j := range lanesPerWord {
				if (pos+i*lanesPerWord+j)%pair < width {
					masks[i] |= 1 << ((j+1)*8*size - 1)
				}
			}
		}
		b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 8*n)
		var all, sel int
		if littleEndian {
			all, sel = pairWords[W](unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n), masks[:cycle], mask, top)
		} else {
			all, sel = pairBytes(b, masks[:cycle], mask, top)
		}
		even += uint64(sel)
		odd += uint64(all - sel)
		pos = (pos + n*lanesPerWord) % pair
		x = x[n*lanesPerWord:]
	}
	for _, v := range x {
		lane(v)
	}
	counts[0] += even
	counts[1] += odd
	return true
}

// pairWords returns the lanes of W in words that have a bit of mask set,
// and those of them under masks[k % len(masks)] for word k, top holding
// each lane's top bit. The lane tests are summed in the lanes, at most 255
// words at a time (pairBlock), then across them.
func pairWords[W uint8 | uint16 | uint32](words, masks []uint64, mask, top uint64) (all, sel int) {
	reps := max(1, 255/len(masks)) // cycles of masks per sum in the lanes
	for len(words) > 0 {
		var a, s uint64
		for r := 0; r < reps && len(words) > 0; r++ {
			w := words[:min(len(words), len(masks))]
			da, ds := pairBlock[W](w, masks[:len(w)], mask, top)
			a, s = a+da, s+ds
			words = words[len(w):]
		}
		all += sumLanes(a)
		sel += sumLanes(s)
	}
	return all, sel
}

// pairBlock returns the lane tests of words, and those under masks (as
// long as words), each summed in the lanes: at most 255 words.
func pairBlock[W uint8 | uint16 | uint32](words, masks []uint64, mask, top uint64) (a, s uint64) {
	shift := 8*unsafe.Sizeof(W(0)) - 1 // a constant of each instantiation
	low := ^top
	masks = masks[:len(words)]
	var a1, s1 uint64
	if mask&top == 0 {
		for len(words) >= 2 {
			t0 := ((words[0] & mask) + low) & top
			t1 := ((words[1] & mask) + low) & top
			a += t0 >> shift
			a1 += t1 >> shift
			s += (t0 & masks[0]) >> shift
			s1 += (t1 & masks[1]) >> shift
			words, masks = words[2:], masks[2:]
		}
	} else {
		for len(words) >= 2 {
			v0, v1 := words[0]&mask, words[1]&mask
			t0 := (((v0 & low) + low) | v0) & top
			t1 := (((v1 & low) + low) | v1) & top
			a += t0 >> shift
			a1 += t1 >> shift
			s += (t0 & masks[0]) >> shift
			s1 += (t1 & masks[1]) >> shift
			words, masks = words[2:], masks[2:]
		}
	}
	if len(words) > 0 {
		t := laneTopBits(words[0], mask, top)
		a += t >> shift
		s += (t & masks[0]) >> shift
	}
	return a + a1, s + s1
}

// sumLanes is the sum of the bytes of v.
func sumLanes(v uint64) int {
	const bytes = 0x00ff00ff00ff00ff
	v = v&bytes + v>>8&bytes
	return int(v * 0x0001000100010001 >> 48)
}

// pairBytes is pairWords on a big-endian machine: each word of b read
// little-endian, its lane tests counted by population count.
func pairBytes(b []byte, masks []uint64, mask, top uint64) (all, sel int) {
	for k := 0; k+8 <= len(b); k += 8 {
		t := laneTopBits(binary.LittleEndian.Uint64(b[k:]), mask, top)
		all += bits.OnesCount64(t)
		sel += bits.OnesCount64(t & masks[k/8%len(masks)])
	}
	return all, sel
}
