package main

import (
	"fmt"

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
// The main loop counts len(steps) vectors per iteration, one counter each;
// whole vectors left over are counted one at a time, and the last partial
// vector is read with a masked, zeroing load and tested under that mask,
// so no byte past len(x) is touched.
func countAVX512(r rule, k spec.Kernel) {
	name := r.countName(k, "AVX512")
	TEXT(name, NOSPLIT, countSignature(r, k))
	countDoc(name, r, k, "It requires AVX512F and AVX512BW.")
	l := lanesOf(k.Width)
	lanesPerVector := 64 / k.Width
	t := r.zmm(k)
	steps := t.steps
	unrolled := len(steps)
	// blockIterations bounds the iterations between two widenings: the sum of
	// the counters stays at most 255 per lane, so it fits a byte and
	// VPSADBW widens it exactly, whatever the lane width.
	blockIterations := 255 / unrolled
	counters := newLaneCountersZMM(l, unrolled)
	kernelRoles([]string{
		fmt.Sprintf("%s: the next vector; %s: the lanes left;", countPtr.Asm(), countLanes.Asm()),
		fmt.Sprintf("%s: -1 in every lane, the counters' increment;", zMinusOne.Asm()),
	}, counters.roles(), t.roles)

	ptr := Load(Param("x").Base(), countPtr)
	n := Load(Param("x").Len(), countLanes)
	VPTERNLOGD(Imm(0xff), zMinusOne, zMinusOne, zMinusOne)
	t.setup()
	counters.clear()
	acc := counters.acc

	// count adds one to the lanes of acc that count in the vector v (a
	// memory operand, or a register), the way step says.
	count := func(step byte, v Op, acc reg.VecPhysical) {
		switch step {
		case 't':
			hit := K()
			t.test(v, nil, hit)
			l.sub(zMinusOne, acc, hit, acc)
		case 'm':
			l.add(t.min(v), acc, acc)
		}
	}

	stride := unrolled * lanesPerVector
	Label("block")
	Commentf("Run at most %d iterations of %d vectors, then widen the lane counts.", blockIterations, unrolled)
	CMPQ(n, U32(stride))
	JB(LabelRef("vectors"))
	iterations := GP64()
	MOVQ(U32(blockIterations), iterations)

	Label("loop")
	Commentf("Count %d vectors, each into its own counter (t: test, m: min): %s.", unrolled, steps)
	for i := 0; i < unrolled; i++ {
		count(steps[i], Mem{Base: ptr, Disp: 64 * i}, acc[i])
	}
	ADDQ(U32(64*unrolled), ptr)
	SUBQ(U32(stride), n)
	CMPQ(n, U32(stride))
	JB(LabelRef("widen"))
	DECQ(iterations)
	JNZ(LabelRef("loop"))

	Label("widen")
	counters.widen(unrolled * blockIterations)
	JMP(LabelRef("block"))

	Label("vectors")
	Commentf("Whole vectors left over: at most %d of them.", unrolled-1)
	CMPQ(n, U32(lanesPerVector))
	JB(LabelRef("tail"))
	count(steps[0], Mem{Base: ptr}, acc[0])
	ADDQ(U32(64), ptr)
	SUBQ(U32(lanesPerVector), n)
	JMP(LabelRef("vectors"))

	Label("tail")
	Comment("The last partial vector: a masked, zeroing load of its n lanes, tested under the same mask.")
	TESTQ(n, n)
	JZ(LabelRef("reduce"))
	valid := tailMask(l, n)
	last, hit := ZMM(), K()
	l.loadz(Mem{Base: ptr}, valid, last)
	t.test(last, valid, hit)
	l.sub(zMinusOne, acc[0], hit, acc[0])

	Label("reduce")
	Comment("Reduce: widen what the last block counted and add up the quadwords.")
	total := counters.total()
	Store(total, ReturnIndex(0))
	VZEROUPPER()
	RET()
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
