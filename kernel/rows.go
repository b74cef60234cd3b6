package kernel

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Narrow rows: the row counts of rows a few vectors wide or less.
//
// A call per row costs more than the row when the row is a few dozen bytes
// (CountNonZeroRows of width 3 ran at 1/50 of CountNonZero of the same
// bytes). So narrow rows are counted as one stream: the level's mask kernel
// (the index family's, impl.go) writes a bitmap of the lanes that count,
// rowBlockWords words at a time into a buffer of a pooled rowSplit, and Go splits
// each word of it by row. The slot of a lane repeats every width*len(counts)
// lanes (its period), so the word k of the bitmap meets the slots in one of
// q = period/gcd(period, 64) patterns, its phase k mod q. When the masks of
// every phase and slot fit in rowSplit.masks, a word costs a population
// count per slot but the last (which takes the rest): the periodic split.
// Otherwise each row's end is a prefix count of the bitmap, a population
// count per row (the boundary split). One slot is a count of the whole
// input, and rows of the level's narrowRowBytes or more keep a kernel
// call per row (chunk.go's countRows).

const (
	// rowBlockWords is the bitmap words of one mask call: 32,768 lanes,
	// 4 KiB of bitmap (at 4,096 lanes the calls and the split's own
	// costs per block took a tenth of a count of 8-bit lanes).
	rowBlockWords = 512
	// rowMaskWords bounds the masks of the periodic split: a cycle (at
	// most 127 words) times slots but one.
	rowMaskWords = 1024
)

// The row size from which each row is counted by a call of the count
// kernel rather than split from a bitmap is the level's narrowRowBytes
// (impl.go): where a call per row and the split cost about the same
// (BenchmarkNarrowRows, 4 MiB into two counts, as x CountNonZero of the
// same bytes, medians of 5). AVX-512, 512 bytes: per row, bfloat16 rows
// of 255 (510 bytes) ran at 0.52x, uint8 rows of 500 at 0.47x, where the
// split ran at 0.55x and 0.47x; bfloat16 rows of 500 (1,000 bytes) at
// 0.75x against 0.62x. AVX2, 1 KiB: float32 rows of 255 (1,020 bytes) ran
// per row at 0.32x, of 256 at 0.73x, where the split runs at 0.58x. The
// generic level, 128 bytes: bfloat16 rows of 64 ran per row at 0.44x,
// float32 rows of 64 (256 bytes) at 0.65x and of 17 at 0.31x, where the
// split runs at 0.42x (bfloat16) and 0.52x (float32). A call per row costs
// about the same whatever the lane, the split per lane: so at AVX-512 rows
// of fewer than 128 lanes split too (float64 rows of 64, 512 bytes, ran
// per row at 0.41x and split at 0.81x; of 100 0.56x and 0.81x), and a row
// whose size is not a multiple of 64 bytes, which each call takes with a
// partial vector, splits at AVX2 below 2 KiB (float32 rows of 500, 2,000
// bytes: per row 0.43x, split 0.56x; float64 rows of 500, 4,000 bytes,
// stay per row, 0.80x, where the split ran at 0.64x). BenchmarkSweep's
// rows part, medians of 3 alternating runs of both builds.
var (
	avx512NarrowRows  = rowLimits{bytes: 512, lanes: 128, misaligned: 512}
	avx2NarrowRows    = rowLimits{bytes: 1024, misaligned: 2048}
	genericNarrowRows = rowLimits{bytes: 128, misaligned: 128}
)

// rowLimits says which rows are narrow: rows of fewer than bytes bytes,
// or of fewer than lanes lanes, or, where a row's size is not a multiple
// of 64 bytes (each call then has a partial head or tail), of fewer than
// misaligned bytes.
type rowLimits struct {
	bytes, lanes, misaligned int
}

func (l rowLimits) narrow(width, size int) bool {
	b := width * size
	return b < l.bytes || width < l.lanes || (b%64 != 0 && b < l.misaligned)
}

// rowSplit is the state of a split of a bitmap into row counts, carried
// from block to block of one call.
type rowSplit struct {
	counts []uint64
	width  int
	// The periodic split: masks[s*cycle+p] is the lanes of slot s in a
	// word of phase p mod phases, for p < cycle, the whole periods of
	// phases from 64 words on; phase is the next word's, below cycle.
	periodic             bool
	phases, cycle, phase int
	popcounts            *rowPopcounts
	// The boundary split: the next row ends next lanes into the next
	// block, in slot slot, and start is the prefix count at its start,
	// relative to that block (in wrap-around arithmetic: minus the lanes
	// of the row counted in earlier blocks).
	next, slot int
	start      uint64
	masks      [rowMaskWords]uint64
	// words is the bitmap of a block. The mask kernels are function
	// values, so what they write to escapes: the split lives in a pool.
	words [rowBlockWords]uint64
}

var rowSplits = sync.Pool{New: func() any { return new(rowSplit) }}

// init prepares the split of rows of width lanes into counts (at least
// two), for a call of lanes lanes, with the population counts of k.
func (s *rowSplit) init(counts []uint64, width, lanes int, k *rowPopcounts) {
	s.counts, s.width, s.periodic, s.phase, s.popcounts = counts, width, false, 0, k
	s.next, s.slot, s.start = width, 0, 0
	slots := len(counts)
	if period := width * slots; period/width == slots {
		phases := period / gcdPow2(period, 64)
		// The periodic split, when its masks fit and cost less to make
		// and to use than the boundary split: a mask is a few
		// operations per row of its word, and a word costs a population
		// count per slot but one against one per row.
		cycle := phases * ((64 + phases - 1) / phases)
		if width == 1 && columnSplitPeriodic(slots, lanes) ||
			width > 1 && cycle <= rowMaskWords/(slots-1) && phases*64 <= lanes/4 && slots-1 <= 2*(64/width+1) {
			s.periodic, s.phases, s.cycle = true, phases, cycle
			s.makeMasks()
		}
	}
}

// gcdPow2 is the greatest common divisor of n > 0 and the power of two p.
func gcdPow2(n, p int) int {
	return min(p, n&-n)
}

// makeMasks sets the masks of the periodic split, a row's run of lanes
// at a time: for each slot but the last, the masks of its phases, then
// again, to a cycle.
func (s *rowSplit) makeMasks() {
	if s.width == 1 {
		s.makeColumnMasks() // narrowcols.go
		return
	}
	w, slots, phases := s.width, len(s.counts), s.phases
	period, stride := w*slots, s.cycle
	clear(s.masks[:stride*(slots-1)])
	for p := range phases {
		pos := p * 64 % period // the position in the period of the word's lane 0
		for j := 0; j < 64; {
			slot, in := pos/w, pos%w
			run := min(w-in, 64-j)
			if slot < slots-1 {
				s.masks[slot*stride+p] |= (^uint64(0) >> (64 - run)) << j
			}
			j, pos = j+run, pos+run
			if pos == period {
				pos = 0
			}
		}
	}
	for slot := range slots - 1 {
		m := s.masks[slot*stride : (slot+1)*stride]
		for p := phases; p < stride; p++ {
			m[p] = m[p-phases]
		}
	}
}

// add splits the bitmap of a block of lanes lanes (a multiple of 64 but
// for the last block of the call) by row.
func (s *rowSplit) add(words []uint64, lanes int) {
	if s.periodic {
		s.addPeriodic(words)
	} else {
		s.addBoundaries(words, lanes)
	}
}

// addPeriodic adds to each slot but the last the lanes of its masks, and
// to the last the rest.
func (s *rowSplit) addPeriodic(words []uint64) {
	n, cycle, k := len(s.counts)-1, s.cycle, s.popcounts
	rest := 0
	for slot := range n {
		masks := s.masks[slot*cycle : (slot+1)*cycle]
		// The words to the end of the cycle, then a cycle at a time.
		w := words[min(len(words), cycle-s.phase):]
		c := k.and(words[:len(words)-len(w)], masks[s.phase:])
		for len(w) > 0 {
			m := min(len(w), cycle)
			c += k.and(w[:m], masks)
			w = w[m:]
		}
		s.counts[slot] += uint64(c)
		rest += c
	}
	s.counts[n] += uint64(k.all(words) - rest)
	s.phase = (s.phase + len(words)) % cycle
}

// rowPopcounts is a level's population counts of bitmaps: all, the bits
// of words, and and, the bits of words[k] & masks[k] for k < len(words)
// (len(masks) at least len(words)).
type rowPopcounts struct {
	all func(words []uint64) int
	and func(words, masks []uint64) int
}

// genericPopcounts is rowPopcounts in Go.
var genericPopcounts = rowPopcounts{popcountsGeneric, popcountsAndGeneric}

func popcountsGeneric(words []uint64) int {
	var a, b int
	for len(words) >= 2 {
		a += bits.OnesCount64(words[0])
		b += bits.OnesCount64(words[1])
		words = words[2:]
	}
	for _, m := range words {
		a += bits.OnesCount64(m)
	}
	return a + b
}

func popcountsAndGeneric(words, masks []uint64) int {
	masks = masks[:len(words)]
	var a, b int
	for len(words) >= 2 {
		a += bits.OnesCount64(words[0] & masks[0])
		b += bits.OnesCount64(words[1] & masks[1])
		words, masks = words[2:], masks[2:]
	}
	for i, m := range words {
		a += bits.OnesCount64(m & masks[i])
	}
	return a + b
}

// addBoundaries adds the count of each row that ends in the block: the
// prefix count at its end less that at its start.
func (s *rowSplit) addBoundaries(words []uint64, lanes int) {
	counts, slot, start := s.counts, s.slot, s.start
	e, k, before := s.next, 0, uint64(0) // before: the bits of words[:k]
	for ; e <= lanes; e += s.width {
		for ; k < e>>6; k++ {
			before += uint64(bits.OnesCount64(words[k]))
		}
		end := before
		if e&63 != 0 {
			end += uint64(bits.OnesCount64(words[k] & (1<<(e&63) - 1)))
		}
		counts[slot] += end - start
		start = end
		if slot++; slot == len(counts) {
			slot = 0
		}
	}
	for ; k < len(words); k++ {
		before += uint64(bits.OnesCount64(words[k]))
	}
	s.next, s.slot, s.start = e-lanes, slot, start-before
}

// countRowsMasked adds the row counts of x, rows of width lanes, into
// counts (at least two) from the bitmaps of mask, in pieces of at most
// ChunkBytes, each through countRowsMaskedChunk.
func countRowsMasked[W word](counts []uint64, x []W, width int, mask maskKernel[W]) {
	s := rowSplits.Get().(*rowSplit)
	s.init(counts, width, len(x), &active.Load().popcounts)
	chunk := ChunkBytes / int(unsafe.Sizeof(x[0])) // a multiple of 64 lanes
	for len(x) > 0 {
		n := min(chunk, len(x))
		countRowsMaskedChunk(s, x[:n:n], mask)
		x = x[n:]
	}
	s.counts, s.popcounts = nil, nil
	rowSplits.Put(s)
}

// countRowsMaskedChunk splits one piece of x by row; never inlined, it is
// the preemption point.
//
//go:noinline
func countRowsMaskedChunk[W word](s *rowSplit, x []W, mask maskKernel[W]) {
	for len(x) > 0 {
		n := min(rowBlockWords*64, len(x))
		w := s.words[:(n+63)/64]
		mask(w, x[:n:n])
		s.add(w, n)
		x = x[n:]
	}
}

// narrowRows reports whether rows of width lanes of W into slots counts go
// through the bitmap.
func narrowRows[W word](slots, width int) bool {
	return slots > 1 && active.Load().narrowRows.narrow(width, int(unsafe.Sizeof(W(0))))
}
