package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// laneCounters are the accumulators every lane-counting kernel keeps: one
// vector of narrow lane counters per unrolled vector, widened now and then
// into a vector of quadword totals, so that no lane counter can overflow.
type laneCounters struct {
	l    lanes
	vec  func() reg.VecVirtual              // ZMM or YMM
	xor  func(mxyz, xyz, xyz1 Op)           // VPXORQ or VPXOR, to clear a register
	sumQ func(reg.VecVirtual) reg.GPVirtual // adds up the quadwords of a vector
	zero reg.VecVirtual                     // all zero: VPSADBW's other operand
	wide reg.VecVirtual                     // the quadword totals
	acc  []reg.VecVirtual                   // the lane counters
}

// newLaneCountersZMM clears the zero and total registers of an AVX-512
// kernel; newLaneCountersYMM those of an AVX2 kernel.
func newLaneCountersZMM(l lanes) *laneCounters {
	return newLaneCounters(l, ZMM, func(a, b, c Op) { VPXORQ(a, b, c) }, sumQuadwordsZMM)
}

func newLaneCountersYMM(l lanes) *laneCounters {
	return newLaneCounters(l, YMM, func(a, b, c Op) { VPXOR(a, b, c) }, sumQuadwordsYMM)
}

func newLaneCounters(l lanes, vec func() reg.VecVirtual, xor func(a, b, c Op), sumQ func(reg.VecVirtual) reg.GPVirtual) *laneCounters {
	c := &laneCounters{l: l, vec: vec, xor: xor, sumQ: sumQ, zero: vec(), wide: vec()}
	xor(c.zero, c.zero, c.zero)
	xor(c.wide, c.wide, c.wide)
	return c
}

// clear allocates and clears n lane counters.
func (c *laneCounters) clear(n int) []reg.VecVirtual {
	c.acc = make([]reg.VecVirtual, n)
	for i := range c.acc {
		c.acc[i] = c.vec()
		c.xor(c.acc[i], c.acc[i], c.acc[i])
	}
	return c.acc
}

// widen adds the lane counters together (their sum must fit a byte per
// lane, at most most), adds the sum's bytes into the quadword totals with
// VPSADBW, and clears the counters.
func (c *laneCounters) widen(most int) {
	Commentf("Widen: sum the accumulators (at most %d per lane) into quadwords.", most)
	for i := 1; i < len(c.acc); i++ {
		c.l.add(c.acc[i], c.acc[0], c.acc[0])
		c.xor(c.acc[i], c.acc[i], c.acc[i])
	}
	sums := c.vec()
	VPSADBW(c.zero, c.acc[0], sums)
	VPADDQ(sums, c.wide, c.wide)
	c.xor(c.acc[0], c.acc[0], c.acc[0])
}

// total widens the first lane counter, the only one that counts after the
// last widen, and returns the sum of the quadword totals.
func (c *laneCounters) total() reg.GPVirtual {
	sums := c.vec()
	VPSADBW(c.zero, c.acc[0], sums)
	VPADDQ(sums, c.wide, c.wide)
	return c.sumQ(c.wide)
}

// tailMask returns a mask register with the low n bits set, one per lane
// of the last partial vector of an AVX-512 kernel (n is less than the lanes
// of a ZMM register). It uses CX.
func tailMask(l lanes, n reg.Register) reg.OpmaskVirtual {
	keep := GP64()
	MOVQ(U32(1), keep)
	MOVQ(n, reg.RCX)
	SHLQ(reg.CL, keep)
	DECQ(keep)
	mask := K()
	if l.width == 1 {
		l.kmov(keep, mask)
	} else {
		l.kmov(keep.As32(), mask)
	}
	return mask
}

// splitBlocks returns the number of whole main-loop iterations of
// perIteration lanes (a power of two) in n, and leaves in n the lanes after
// them.
func splitBlocks(n reg.Register, perIteration int) reg.GPVirtual {
	blocks := GP64()
	MOVQ(n, blocks)
	SHRQ(U8(log2(perIteration)), blocks)
	ANDQ(U32(perIteration-1), n)
	return blocks
}

// startBlock begins a block of at most blockIterations main-loop
// iterations, taken from blocks, or jumps to done when none is left. It
// returns the block's iteration counter.
func startBlock(blocks reg.Register, done string) reg.GPVirtual {
	Comment("Run at most blockIterations iterations, then widen the lane counts.")
	TESTQ(blocks, blocks)
	JZ(LabelRef(done))
	iterations := GP64()
	MOVQ(U32(blockIterations), iterations)
	CMPQ(blocks, iterations)
	CMOVQLT(blocks, iterations)
	SUBQ(iterations, blocks)
	return iterations
}

// wholeVectors loads the slice argument x of an AVX2 kernel that reads
// whole vectors only, and returns its pointer, its length and the number of
// lanes of its whole vectors, the most the kernel counts.
func wholeVectors(lanesPerVector int) (ptr, n, processed reg.GPVirtual) {
	ptr = Load(Param("x").Base(), GP64()).(reg.GPVirtual)
	n = Load(Param("x").Len(), GP64()).(reg.GPVirtual)
	Comment("processed: the elements of whole vectors, the most this kernel can count")
	processed = GP64()
	MOVQ(n, processed)
	ANDQ(I32(-lanesPerVector), processed)
	return ptr, n, processed
}
