package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The count shape: the number of lanes of a slice that count, by a rule.
// writeFamily writes a rule's kernels in every shape and ISA.
func writeFamily(r rule) {
	for _, k := range r.kernels {
		countAVX512(r, k)
	}
	for _, k := range r.kernels {
		countAVX2(r, k)
	}
	for _, k := range r.kernels {
		columnsAVX512(r, k)
	}
	for _, k := range r.kernels {
		columnsAVX2(r, k)
	}
	for _, k := range r.kernels {
		streamAVX512(r, k)
	}
	for _, k := range r.kernels {
		if k.Width <= 4 {
			streamAVX2(r, k)
		}
	}
}

// unroll is the number of vectors, each with its own counter, that one
// iteration of the AVX2 main loop counts.
const unroll = 4

// blockIterations bounds the AVX2 iterations between two widenings of the
// lane counters: after it, the sum of the unroll counters is at most
// unroll*blockIterations = 252 per lane, so it fits a byte and VPSADBW can
// widen it exactly, whatever the lane width.
const blockIterations = 63

// Registers of the count shape.
var (
	countPtr   = reg.RSI // the next vector
	countLanes = reg.RDX // the lanes left
)

func countSignature(r rule, k spec.Kernel) string {
	return fmt.Sprintf("func(x []%s%s) int", k.GoWord(), r.params(k))
}

func countDoc(name string, r rule, k spec.Kernel, rest ...string) {
	first := fmt.Sprintf("%s returns the number of lanes of x %s, for %s.", name, r.counts(k), types(k))
	Doc(append([]string{first}, rest...)...)
	Pragma("noescape")
}

// kernelRoles writes the comment that opens a kernel: the registers with a
// role in it.
func kernelRoles(lines ...[]string) {
	all := []string{"Registers:"}
	for _, l := range lines {
		all = append(all, l...)
	}
	Comment(all...)
}

// countAVX512 writes the AVX-512 kernel of rule r and element kernel k.
//
// An empty input reads nothing. An input of at most one vector is one
// masked, zeroing load, tested under its mask, and the population count of
// the lanes that count: no counters, no reduction; the load is the 64 bytes
// from x's start if they stay in its page, else the 64 bytes that end at
// x's end (partial.go). A longer one starts with a masked vector up to the
// next 64-byte boundary (when the elements are aligned to their size), so
// that the main loop's loads never split a cache line; the main loop counts
// len(steps) vectors per iteration the ways steps says, the whole vectors
// left over and the last partial vector, if any (the vector that ends at
// x's end, the lanes already counted masked off), are counted by population
// count, and the counters are added up as a tree. No load reaches past x.
//
// The lane counters are as wide as the lanes. Bytes are widened into
// quadword totals every 255/len(steps) iterations; wider lanes are not: a
// caller gives a call at most ChunkBytes, 16384 vectors, which a 16-bit
// lane counts without overflow (the kernel's doc states the bound).
func countAVX512(r rule, k spec.Kernel) {
	name := r.countName(k, "AVX512")
	TEXT(name, NOSPLIT, countSignature(r, k))
	lanesPerVector := 64 / k.Width
	bound := []string{"It requires AVX512F and AVX512BW."}
	if k.Width == 2 {
		bound = append(bound, fmt.Sprintf("Its lane counters are 16-bit: len(x) must be at most %d (4 MiB).", 65535*lanesPerVector))
	}
	countDoc(name, r, k, bound...)
	alignEntry()
	l := lanesOf(k.Width)
	t := r.zmm(k)
	steps := t.steps
	counted := strings.Count(steps, "t") + strings.Count(steps, "m")
	counters := newLaneCountersZMM(l, max(counted, 1))
	kernelRoles([]string{
		fmt.Sprintf("%s: the next vector; %s: the lanes left; %s: the popcount total;", countPtr.Asm(), countLanes.Asm(), countTotal.Asm()),
		fmt.Sprintf("%s: -1 in every lane, the counters' increment;", zMinusOne.Asm()),
	}, counters.roles(), t.roles)

	ptr := Load(Param("x").Base(), countPtr)
	n := Load(Param("x").Len(), countLanes)
	VPTERNLOGD(Imm(0xff), zMinusOne, zMinusOne, zMinusOne)
	t.setup()
	total := countTotal
	XORL(total.As32(), total.As32())

	// popcount adds to total the lanes of src that count, among valid.
	popcount := func(src, valid Op) {
		hit := K()
		t.test(src, valid, hit)
		bits := GP64()
		if k.Width == 1 {
			KMOVQ(hit, bits)
		} else {
			l.kmov(hit, bits.As32())
		}
		POPCNTQ(bits, bits)
		ADDQ(bits, total)
	}
	// partial counts the first m < lanesPerVector lanes at ptr (m may be
	// zero) by a masked, zeroing load of the 64 bytes at ptr: the head of
	// an x longer than a vector, so those bytes are in x.
	partial := func(m reg.Register) {
		valid := tailMask(l, m)
		v := ZMM()
		l.loadz(Mem{Base: ptr}, valid, v)
		popcount(v, valid)
	}
	// ending counts the m lanes from ptr to x's end (m from 1 to
	// lanesPerVector) by a masked, zeroing load of the 64 bytes that end
	// there.
	ending := func(m reg.Register) {
		end := GP64()
		LEAQ(Mem{Base: ptr, Index: m, Scale: uint8(k.Width)}, end)
		v, valid := loadEnding(l, end, m)
		popcount(v, valid)
	}

	// ret returns the total.
	ret := func() {
		Store(total, ReturnIndex(0))
		VZEROUPPER()
		RET()
	}

	Comment("At most one vector: its lanes under a mask, and done; the 64 bytes from x's",
		"start if they stay in its page, else the 64 bytes that end at x's end. None (the",
		"mask is zero): no load at all, x may be empty at the start of a page, or nil.")
	CMPQ(n, U32(lanesPerVector))
	JA(LabelRef("long"))
	keep := GP64()
	MOVQ(I32(-1), keep)
	BZHIQ(n, keep, keep)
	JZ(LabelRef("done"))
	crossesPage(ptr, "short")
	valid, v := kmovLanes(l, keep), ZMM()
	l.loadz(Mem{Base: ptr}, valid, v)
	popcount(v, valid)
	ret()
	Label("short")
	ending(n)
	ret()

	Label("long")
	head := GP64()
	MOVQ(ptr, head)
	if k.Width > 1 {
		Commentf("Elements not aligned to their %d bytes never reach a 64-byte boundary: no head.", k.Width)
		TESTQ(U32(k.Width-1), head)
		JNZ(LabelRef("body"))
	}
	Comment("Head: the lanes before the next 64-byte boundary (none if aligned), so that no load of the loop splits a line.")
	NEGQ(head)
	ANDQ(U32(63), head)
	if k.Width > 1 {
		SHRQ(U8(log2(k.Width)), head)
	}
	partial(head)
	SUBQ(head, n)
	if k.Width > 1 {
		SHLQ(U8(log2(k.Width)), head)
	}
	ADDQ(head, ptr)

	Label("body")
	counters.clear()
	acc := counters.acc

	// count counts the vector v the way step says, the i-th counted step
	// into counter i.
	count := func(step byte, v Op, i int) {
		switch step {
		case 't':
			hit := K()
			t.test(v, nil, hit)
			l.sub(zMinusOne, acc[i], hit, acc[i])
		case 'm':
			l.add(t.min(v), acc[i], acc[i])
		case 'p':
			popcount(v, nil)
		}
	}

	unrolled := len(steps)
	stride := unrolled * lanesPerVector
	// body counts one iteration's vectors at ptr.
	body := func() {
		Commentf("Count %d vectors (t: test into a counter, m: min into a counter, p: popcount): %s.", unrolled, steps)
		c := 0
		for i := 0; i < unrolled; i++ {
			count(steps[i], Mem{Base: ptr, Disp: 64 * i}, c)
			if steps[i] != 'p' {
				c++
			}
		}
		ADDQ(U32(64*unrolled), ptr)
	}
	Comment("last: the start of the last whole iteration; the loop runs while ptr <= last.")
	last := GP64()
	MOVQ(n, last)
	SUBQ(U32(stride), last)
	JB(LabelRef("vectors"))
	if k.Width > 1 {
		SHLQ(U8(log2(k.Width)), last)
	}
	ADDQ(ptr, last)
	if k.Width == 1 {
		// blockIterations bounds the iterations between two widenings: the
		// sum of the counters stays at most 255 per lane, so it fits a byte
		// and VPSADBW widens it exactly.
		blockIterations := 255 / max(counted, 1)
		Label("block")
		Commentf("Run at most %d iterations, then widen the lane counters.", blockIterations)
		iterations := GP64()
		MOVQ(U32(blockIterations), iterations)
		alignLoop()
		Label("loop")
		body()
		CMPQ(ptr, last)
		JA(LabelRef("widen"))
		DECQ(iterations)
		JNZ(LabelRef("loop"))
		counters.widen(counted * blockIterations)
		JMP(LabelRef("block"))
		Label("widen")
		counters.widen(counted * blockIterations)
	} else {
		alignLoop()
		Label("loop")
		body()
		CMPQ(ptr, last)
		JBE(LabelRef("loop"))
	}
	Comment("n: the lanes left after the loop, fewer than an iteration's: (last + one iteration - ptr) / width.")
	ADDQ(U32(64*unrolled), last)
	SUBQ(ptr, last)
	if k.Width > 1 {
		SHRQ(U8(log2(k.Width)), last)
	}
	MOVQ(last, n)

	Label("vectors")
	Commentf("Whole vectors left over: at most %d of them.", unrolled-1)
	CMPQ(n, U32(lanesPerVector))
	JB(LabelRef("tail"))
	popcount(Mem{Base: ptr}, nil)
	ADDQ(U32(64), ptr)
	SUBQ(U32(lanesPerVector), n)
	JMP(LabelRef("vectors"))

	Label("tail")
	Comment("The last partial vector, if any: the vector that ends at x's end, masked to its last",
		"n lanes (the others are counted), so that no load reaches past x.")
	TESTQ(n, n)
	JZ(LabelRef("reduce"))
	ending(n)

	Label("reduce")
	Comment("Reduce: add up the counters as a tree, then their lanes, then the popcounts.")
	if k.Width == 1 {
		counters.widen(counted)
		ADDQ(counters.sumQ(counters.wide), total)
	} else {
		ADDQ(reduceCounters(l, acc), total)
	}
	Label("done")
	ret()
}

// countTotal is the popcount total of the AVX-512 count kernels.
var countTotal = reg.RAX

// reduceCounters adds the lane counters of 16-, 32- or 64-bit lanes as a
// tree, then the lanes of the sum, and returns it in a general register.
func reduceCounters(l lanes, acc []reg.VecPhysical) reg.GPVirtual {
	for len(acc) > 1 {
		half := (len(acc) + 1) / 2
		for i := half; i < len(acc); i++ {
			l.add(acc[i], acc[i-half], acc[i-half])
		}
		acc = acc[:half]
	}
	sum := acc[0]
	switch l.width {
	case 8:
		return sumQuadwordsZMM(sum)
	case 2:
		Comment("16-bit lanes to 32, unsigned: the low and the high word of each doubleword, added.")
		low, high := ZMM(), ZMM()
		VPSRLD(Imm(16), zMinusOne, low)
		VPANDD(sum, low, low)
		VPSRLD(Imm(16), sum, high)
		VPADDD(high, low, sum)
	}
	return sumDoublewordsZMM(sum)
}

// countAVX2 writes the AVX2 kernel of rule r and element kernel k. AVX2 has
// no mask registers, so it counts the lanes that do not count (-1 in each,
// subtracted from a counter) and returns whole vectors' lanes less those.
// It reads whole vectors only: the caller counts the len(x) % lanes
// remainder in Go.
func countAVX2(r rule, k spec.Kernel) {
	name := r.countName(k, "AVX2")
	TEXT(name, NOSPLIT, countSignature(r, k))
	lanesPerVector := 32 / k.Width
	countDoc(name, r, k, "It requires AVX2, and reads whole 32-byte vectors only: it ignores the",
		fmt.Sprintf("last len(x) %% %d elements, which the caller counts.", lanesPerVector))
	l := lanesOf(k.Width)
	t := r.ymm(k)
	counters := newLaneCountersYMM(l, unroll)
	kernelRoles([]string{
		fmt.Sprintf("%s: the next vector; %s: the lanes left;", countPtr.Asm(), countLanes.Asm()),
	}, counters.roles(), t.roles)

	ptr := Load(Param("x").Base(), countPtr)
	n := Load(Param("x").Len(), countLanes)
	Comment("processed: the elements of whole vectors, the most this kernel can count")
	processed := GP64()
	MOVQ(n, processed)
	ANDQ(I32(-lanesPerVector), processed)
	counters.clear()
	t.setup()
	acc := counters.acc

	blocks := splitBlocks(n, unroll*lanesPerVector)

	Label("block")
	iterations := startBlock(blocks, blockIterations, "vectors")

	Label("loop")
	Commentf("Count the lanes that do not count of %d vectors, each into its own counter.", unroll)
	for i := 0; i < unroll; i++ {
		l.sub(t.skip(Mem{Base: ptr, Disp: 32 * i}), acc[i], acc[i])
	}
	ADDQ(U32(32*unroll), ptr)
	DECQ(iterations)
	JNZ(LabelRef("loop"))

	counters.widen(unroll * blockIterations)
	JMP(LabelRef("block"))

	Label("vectors")
	Commentf("Whole vectors left over: at most %d of them.", unroll-1)
	CMPQ(n, U32(lanesPerVector))
	JB(LabelRef("reduce"))
	l.sub(t.skip(Mem{Base: ptr}), acc[0], acc[0])
	ADDQ(U32(32), ptr)
	SUBQ(U32(lanesPerVector), n)
	JMP(LabelRef("vectors"))

	Label("reduce")
	Comment("Reduce: the lanes that count are the lanes processed less the others.")
	skipped := counters.total()
	SUBQ(skipped, processed)
	Store(processed, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func log2(v int) int {
	r := 0
	for v > 1 {
		v >>= 1
		r++
	}
	return r
}
