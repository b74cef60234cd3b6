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

// The AVX-512 kernels count each vector in one of two ways, mixed in one
// loop so that both kinds of execution resources work at once:
//
//   - test: VPTESTM loads the vector and sets a mask bit for each lane whose
//     counted bits are not all zero; a merge-masked VPSUB adds one to those
//     lanes of the vector's accumulator. Two instructions, but mask-register
//     writes sustain only about one vector per cycle on current cores.
//   - min: the unsigned minimum of a lane and 1 is 1 exactly when the lane is
//     not zero; a VPADD adds it to the accumulator. Two plain vector
//     instructions for integers, which reach the read limit; floats first
//     shift the sign bit out (VPSLL $1), a third instruction.
//
// Integers use min only, and reach the read limit in L1. Floats mix two
// tests with one min: on Zen 5, at 16 KiB, 0.68x the read limit, against
// 0.62x for tests alone and 0.65x for mins alone (ratios of 1:1, 3:2, 3:1
// and 4:1 measured 0.62-0.68x; the loop itself runs at about 0.75x, the
// rest is the call and the final reduction).
func avx512Steps(k spec.Kernel) string {
	if k.Float {
		return "ttmttm"
	}
	return "mmmmmmmm"
}

// countAVX512 writes the AVX-512 kernel of k. The main loop counts
// len(avx512Steps(k)) vectors per iteration, one accumulator each; whole
// vectors left over are tested one at a time, and the last partial vector is
// read with a masked, zeroing load, so no byte past len(x) is touched.
func countAVX512(k spec.Kernel) {
	name := "countNonZero" + k.Name() + "AVX512"
	TEXT(name, NOSPLIT, countSignature(k))
	countDoc(name, k, "It requires AVX512F and AVX512BW.")
	l := lanesOf(k.Width)
	lanesPerVector := 64 / k.Width
	steps := avx512Steps(k)
	unrolled := len(steps)
	// blockIterations bounds the iterations between two widenings: the sum of
	// the accumulators stays at most 255 per lane, so it fits a byte and
	// VPSADBW widens it exactly, whatever the lane width.
	blockIterations := 255 / unrolled

	ptr := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())

	Comment("minusOne: -1 in every lane; one: 1 in every lane; counted: the bits that decide non-zero")
	minusOne, one := ZMM(), ZMM()
	VPTERNLOGD(Imm(0xff), minusOne, minusOne, minusOne)
	l.abs(minusOne, one)
	counted := minusOne
	if k.Float {
		counted = ZMM()
		l.srl(Imm(1), minusOne, counted)
	}
	counters := newLaneCountersZMM(l)
	acc := counters.clear(unrolled)

	// count adds one to the lanes of a that are non-zero in the vector v (a
	// memory operand, or a register), the way step says.
	count := func(step byte, v Op, a reg.VecVirtual) {
		switch step {
		case 't':
			hit := K()
			l.testm(v, counted, hit)
			l.sub(minusOne, a, hit, a)
		case 'm':
			t := ZMM()
			if k.Float {
				l.sll(Imm(1), v, t)
				l.minu(one, t, t)
			} else {
				l.minu(v, one, t)
			}
			l.add(t, a, a)
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
	Commentf("Count %d vectors, each into its own accumulator (t: test, m: min): %s.", unrolled, steps)
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
	Comment("The last partial vector: a masked, zeroing load of its n lanes only.")
	TESTQ(n, n)
	JZ(LabelRef("reduce"))
	loadMask := tailMask(l, n)
	last := ZMM()
	l.loadz(Mem{Base: ptr}, loadMask, last)
	count(steps[0], last, acc[0])

	Label("reduce")
	Comment("Reduce: widen what the last block counted and add up the quadwords.")
	total := counters.total()
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

	ptr, n, processed := wholeVectors(lanesPerVector)

	counters := newLaneCountersYMM(l)
	zero := counters.zero
	var counted reg.VecVirtual
	if k.Float {
		Comment("counted: every bit but the sign bit of each lane")
		counted = YMM()
		VPCMPEQD(counted, counted, counted)
		l.srl(Imm(1), counted, counted)
	}
	acc := counters.clear(unroll)

	// zeroLanes sets t to -1 in each lane of the vector at m that is zero.
	zeroLanes := func(m Mem, t reg.VecVirtual) {
		if k.Float {
			VPAND(m, counted, t)
			l.cmpeq(t, zero, t)
			return
		}
		l.cmpeq(m, zero, t)
	}

	blocks := splitBlocks(n, unroll*lanesPerVector)

	Label("block")
	iterations := startBlock(blocks, "vectors")

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

	counters.widen(unroll * blockIterations)
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
	zeros := counters.total()
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
