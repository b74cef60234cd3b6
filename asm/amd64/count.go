package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// unroll is the number of vectors, each with its own accumulator, that one
// iteration of a main loop tests.
const unroll = 4

// blockIterations bounds the iterations between two widenings of the lane
// accumulators: after it, the sum of the unroll accumulators is at most
// unroll*blockIterations = 252 per lane, so it fits a byte and VPSADBW can
// widen it exactly, whatever the lane width.
const blockIterations = 63

func countKernels() {
	for _, k := range spec.Kernels() {
		countAVX512(k)
	}
	for _, k := range spec.Kernels() {
		countAVX2(k)
	}
}

func countSignature(k spec.Kernel) string {
	return fmt.Sprintf("func(x []%s) int", k.GoWord())
}

func countDoc(name string, k spec.Kernel, rest ...string) {
	what := "lanes of x that are not zero"
	if k.Float {
		what = "lanes of x that are not zero once their sign bit is cleared"
	}
	first := fmt.Sprintf("%s returns the number of %s, for %s.", name, what, strings.Join(k.Types(), " and "))
	Doc(append([]string{first}, rest...)...)
	Pragma("noescape")
}

// countAVX512 writes the AVX-512 kernel of k. Each vector costs one
// VPTESTM, which loads it and marks the lanes whose counted bits are not
// all zero, and one merge-masked VPSUB that adds one to those lanes of an
// accumulator. The last partial vector is read with a masked, zeroing load,
// so no byte past len(x) is touched.
func countAVX512(k spec.Kernel) {
	name := "countNonZero" + k.Name() + "AVX512"
	TEXT(name, NOSPLIT, countSignature(k))
	countDoc(name, k, "It requires AVX512F and AVX512BW.")
	l := lanesOf(k.Width)
	lanesPerVector := 64 / k.Width

	ptr := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())

	Comment("ones: every bit set, and -1 in every lane; counted: the bits that decide non-zero")
	ones := ZMM()
	VPTERNLOGD(Imm(0xff), ones, ones, ones)
	counted := ones
	if k.Float {
		counted = ZMM()
		l.srl(Imm(1), ones, counted)
	}
	zero, wide := ZMM(), ZMM()
	VPXORQ(zero, zero, zero)
	VPXORQ(wide, wide, wide)
	acc := make([]reg.VecVirtual, unroll)
	for i := range acc {
		acc[i] = ZMM()
		VPXORQ(acc[i], acc[i], acc[i])
	}

	Comment("blocks: the number of whole iterations of the main loop")
	blocks := GP64()
	MOVQ(n, blocks)
	SHRQ(U8(log2(unroll*lanesPerVector)), blocks)
	ANDQ(U32(unroll*lanesPerVector-1), n)

	Label("block")
	Comment("Run at most blockIterations iterations, then widen the lane counts.")
	TESTQ(blocks, blocks)
	JZ(LabelRef("vectors"))
	iterations := GP64()
	MOVQ(U32(blockIterations), iterations)
	CMPQ(blocks, iterations)
	CMOVQLT(blocks, iterations)
	SUBQ(iterations, blocks)

	Label("loop")
	Commentf("Test and count %d vectors, each into its own accumulator.", unroll)
	for i := 0; i < unroll; i++ {
		hit := K()
		l.testm(Mem{Base: ptr, Disp: 64 * i}, counted, hit)
		l.sub(ones, acc[i], hit, acc[i])
	}
	ADDQ(U32(64*unroll), ptr)
	DECQ(iterations)
	JNZ(LabelRef("loop"))

	Commentf("Widen: sum the accumulators (at most %d per lane) into quadwords.", unroll*blockIterations)
	for i := 1; i < unroll; i++ {
		l.add(acc[i], acc[0], acc[0])
		VPXORQ(acc[i], acc[i], acc[i])
	}
	sums := ZMM()
	VPSADBW(zero, acc[0], sums)
	VPADDQ(sums, wide, wide)
	VPXORQ(acc[0], acc[0], acc[0])
	JMP(LabelRef("block"))

	Label("vectors")
	Commentf("Whole vectors left over: at most %d of them.", unroll-1)
	CMPQ(n, U32(lanesPerVector))
	JB(LabelRef("tail"))
	hit := K()
	l.testm(Mem{Base: ptr}, counted, hit)
	l.sub(ones, acc[0], hit, acc[0])
	ADDQ(U32(64), ptr)
	SUBQ(U32(lanesPerVector), n)
	JMP(LabelRef("vectors"))

	Label("tail")
	Comment("The last partial vector: a masked, zeroing load of its n lanes only.")
	TESTQ(n, n)
	JZ(LabelRef("reduce"))
	keep := GP64()
	MOVQ(U32(1), keep)
	MOVQ(n, reg.RCX)
	SHLQ(reg.CL, keep)
	DECQ(keep)
	loadMask := K()
	if k.Width == 1 {
		l.kmov(keep, loadMask)
	} else {
		l.kmov(keep.As32(), loadMask)
	}
	last := ZMM()
	l.loadz(Mem{Base: ptr}, loadMask, last)
	l.testm(last, counted, hit)
	l.sub(ones, acc[0], hit, acc[0])

	Label("reduce")
	Comment("Reduce: widen what the last block counted and add up the quadwords.")
	VPSADBW(zero, acc[0], sums)
	VPADDQ(sums, wide, wide)
	total := sumQuadwordsZMM(wide)
	Store(total, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// countAVX2 writes the AVX2 kernel of k. AVX2 has no mask registers, so it
// counts zero lanes (a compare gives -1 in each, subtracted from an
// accumulator) and returns whole vectors' lanes minus zeros. It reads whole
// vectors only: the caller counts the len(x) % lanes remainder in Go.
func countAVX2(k spec.Kernel) {
	name := "countNonZero" + k.Name() + "AVX2"
	TEXT(name, NOSPLIT, countSignature(k))
	lanesPerVector := 32 / k.Width
	countDoc(name, k, "It requires AVX2, and reads whole 32-byte vectors only: it ignores the",
		fmt.Sprintf("last len(x) %% %d elements, which the caller counts.", lanesPerVector))
	l := lanesOf(k.Width)

	ptr := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	Comment("processed: the elements of whole vectors, the most this kernel can count")
	processed := GP64()
	MOVQ(n, processed)
	ANDQ(I32(-lanesPerVector), processed)

	zero, wide := YMM(), YMM()
	VPXOR(zero, zero, zero)
	VPXOR(wide, wide, wide)
	var counted reg.VecVirtual
	if k.Float {
		Comment("counted: every bit but the sign bit of each lane")
		counted = YMM()
		VPCMPEQD(counted, counted, counted)
		l.srl(Imm(1), counted, counted)
	}
	acc := make([]reg.VecVirtual, unroll)
	for i := range acc {
		acc[i] = YMM()
		VPXOR(acc[i], acc[i], acc[i])
	}

	// zeroLanes sets t to -1 in each lane of the vector at m that is zero.
	zeroLanes := func(m Mem, t reg.VecVirtual) {
		if k.Float {
			VPAND(m, counted, t)
			l.cmpeq(t, zero, t)
			return
		}
		l.cmpeq(m, zero, t)
	}

	blocks := GP64()
	MOVQ(n, blocks)
	SHRQ(U8(log2(unroll*lanesPerVector)), blocks)
	ANDQ(U32(unroll*lanesPerVector-1), n)

	Label("block")
	Comment("Run at most blockIterations iterations, then widen the lane counts.")
	TESTQ(blocks, blocks)
	JZ(LabelRef("vectors"))
	iterations := GP64()
	MOVQ(U32(blockIterations), iterations)
	CMPQ(blocks, iterations)
	CMOVQLT(blocks, iterations)
	SUBQ(iterations, blocks)

	Label("loop")
	Commentf("Count the zero lanes of %d vectors, each into its own accumulator.", unroll)
	for i := 0; i < unroll; i++ {
		t := YMM()
		zeroLanes(Mem{Base: ptr, Disp: 32 * i}, t)
		l.sub(t, acc[i], acc[i])
	}
	ADDQ(U32(32*unroll), ptr)
	DECQ(iterations)
	JNZ(LabelRef("loop"))

	Commentf("Widen: sum the accumulators (at most %d per lane) into quadwords.", unroll*blockIterations)
	for i := 1; i < unroll; i++ {
		l.add(acc[i], acc[0], acc[0])
		VPXOR(acc[i], acc[i], acc[i])
	}
	sums := YMM()
	VPSADBW(zero, acc[0], sums)
	VPADDQ(sums, wide, wide)
	VPXOR(acc[0], acc[0], acc[0])
	JMP(LabelRef("block"))

	Label("vectors")
	Commentf("Whole vectors left over: at most %d of them.", unroll-1)
	CMPQ(n, U32(lanesPerVector))
	JB(LabelRef("reduce"))
	t := YMM()
	zeroLanes(Mem{Base: ptr}, t)
	l.sub(t, acc[0], acc[0])
	ADDQ(U32(32), ptr)
	SUBQ(U32(lanesPerVector), n)
	JMP(LabelRef("vectors"))

	Label("reduce")
	Comment("Reduce: non-zero lanes are the lanes processed less the zero lanes.")
	VPSADBW(zero, acc[0], sums)
	VPADDQ(sums, wide, wide)
	zeros := sumQuadwordsYMM(wide)
	SUBQ(zeros, processed)
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
