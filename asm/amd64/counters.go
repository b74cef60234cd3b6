package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// laneCounters are the accumulators every lane-counting kernel keeps: one
// vector of narrow lane counters per unrolled vector, widened now and then
// into a vector of quadword totals, so that no lane counter can overflow.
type laneCounters struct {
	l    lanes
	vec  func() reg.VecVirtual    // ZMM or YMM, for scratch
	xor  func(mxyz, xyz, xyz1 Op) // VPXORQ or VPXOR, to clear a register
	sumQ func(vec) reg.GPVirtual
	zero reg.VecPhysical   // all zero: VPSADBW's other operand
	wide reg.VecPhysical   // the quadword totals
	acc  []reg.VecPhysical // the lane counters
}

// newLaneCountersZMM returns the n lane counters of an AVX-512 kernel,
// newLaneCountersYMM those of an AVX2 kernel; clear clears them.
func newLaneCountersZMM(l lanes, n int) *laneCounters {
	return &laneCounters{l: l, vec: ZMM, xor: func(a, b, c Op) { VPXORQ(a, b, c) }, sumQ: sumQuadwordsZMM,
		zero: zZero, wide: zTotals, acc: zCounters[:n]}
}

func newLaneCountersYMM(l lanes, n int) *laneCounters {
	return &laneCounters{l: l, vec: YMM, xor: func(a, b, c Op) { VPXOR(a, b, c) }, sumQ: sumQuadwordsYMM,
		zero: yZero, wide: yTotals, acc: yCounters[:n]}
}

// roles names the counters' registers for the comment at the top of a
// kernel.
func (c *laneCounters) roles() []string {
	return []string{
		fmt.Sprintf("%s-%s: the lane counters, one per vector of an iteration;", c.acc[0].Asm(), c.acc[len(c.acc)-1].Asm()),
		fmt.Sprintf("%s: their quadword totals; %s: zero", c.wide.Asm(), c.zero.Asm()),
	}
}

// clear clears the counters, the totals and the zero register.
func (c *laneCounters) clear() {
	for _, r := range append([]reg.VecPhysical{c.zero, c.wide}, c.acc...) {
		c.xor(r, r, r)
	}
}

// widen adds the lane counters together (their sum must fit a byte per
// lane, at most most), adds the sum's bytes into the quadword totals with
// VPSADBW, and clears the counters.
func (c *laneCounters) widen(most int) {
	Commentf("Widen: sum the counters (at most %d per lane) into quadwords.", most)
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
// of a partial vector of an AVX-512 kernel (n at most the lanes of a ZMM
// register; BZHI keeps every bit for n = 64).
func tailMask(l lanes, n reg.Register) reg.OpmaskVirtual {
	keep := GP64()
	MOVQ(I32(-1), keep)
	BZHIQ(n.(reg.GP).As64(), keep, keep)
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

// startBlock begins a block of at most iterations main-loop iterations,
// taken from blocks, or jumps to done when none is left. It returns the
// block's iteration counter.
func startBlock(blocks reg.Register, most int, done string) reg.GPVirtual {
	Comment("Run at most blockIterations iterations, then widen the lane counts.")
	TESTQ(blocks, blocks)
	JZ(LabelRef(done))
	iterations := GP64()
	MOVQ(U32(most), iterations)
	CMPQ(blocks, iterations)
	CMOVQLT(blocks, iterations)
	SUBQ(iterations, blocks)
	return iterations
}
