package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The threshold family: CountAbove's kernels, one per float width.
//
// A float lane b counts when key(b) - lo <= span in the lane's unsigned
// arithmetic, where key(b) = b XOR ((b >> (n-1), arithmetic) >> 1, logical)
// is the order-preserving integer key of the sign-magnitude pattern, and
// lo, span come from the threshold (kernel/threshold.go proves the
// convention: lo = key(round-down(t)) + 1, span = key(+Inf) - lo, so NaNs,
// -0 = +0 and a threshold between two representable values all come out
// exact). The decision is on integers: it does not depend on MXCSR's
// denormal modes, costs the same three operations for every float width,
// and serves Float16 and BFloat16, which this CPU cannot compare natively
// (no AVX512-FP16), with the same code as float32 and float64.

// keyLanes holds the per-width instructions of the key comparison.
type keyLanes struct {
	// sra shifts each lane right by an immediate, copying the sign bit.
	sra func(ops ...Op)
	// cmpu compares unsigned lanes into a mask register (AVX-512).
	cmpu func(ops ...Op)
	// cmpgt sets a lane to all ones where a > b, signed (AVX2).
	cmpgt func(ops ...Op)
	// broadcast copies a general register (AVX-512) or the low lane of
	// an XMM register (AVX2) into every lane.
	broadcast func(ops ...Op)
}

func keyLanesOf(width int) keyLanes {
	switch width {
	case 2:
		return keyLanes{VPSRAW, VPCMPUW, VPCMPGTW, VPBROADCASTW}
	case 4:
		return keyLanes{VPSRAD, VPCMPUD, VPCMPGTD, VPBROADCASTD}
	case 8:
		return keyLanes{VPSRAQ, VPCMPUQ, VPCMPGTQ, VPBROADCASTQ}
	}
	panic("no float kernel of this width")
}

// floatKernels lists the float kernels of the element table: the widths
// that have a threshold.
func floatKernels() []spec.Kernel {
	var ks []spec.Kernel
	for _, k := range spec.Kernels() {
		if k.Float {
			ks = append(ks, k)
		}
	}
	return ks
}

// predicateLE is VPCMPU's "less than or equal" predicate.
const predicateLE = 2

// ternXorAnd is the VPTERNLOG truth table of A ^ (B & C), with A the
// destination: it applies the sign mask B to the magnitude bits C.
const ternXorAnd = 0x78

// aboveZMM holds the AVX-512 threshold constants.
type aboveZMM struct {
	k                     spec.Kernel
	magnitude, lo, span   reg.VecVirtual
	sra, cmpu, sub, loadz func(ops ...Op)
}

// loadAboveZMM broadcasts the lo and span parameters and derives the
// magnitude mask (every bit but the sign bit of a lane) from ones.
func loadAboveZMM(k spec.Kernel, ones reg.VecVirtual) aboveZMM {
	l, kl := lanesOf(k.Width), keyLanesOf(k.Width)
	c := aboveZMM{k: k, magnitude: ZMM(), lo: ZMM(), span: ZMM(), sra: kl.sra, cmpu: kl.cmpu, sub: l.sub}
	Comment("lo, span: a lane counts when key(lane) - lo <= span, unsigned; magnitude: all bits but the sign")
	for _, p := range []struct {
		name string
		v    reg.VecVirtual
	}{{"lo", c.lo}, {"span", c.span}} {
		if k.Width == 8 {
			kl.broadcast(Load(Param(p.name), GP64()), p.v)
		} else {
			kl.broadcast(Load(Param(p.name), GP32()), p.v)
		}
	}
	l.srl(Imm(1), ones, c.magnitude)
	return c
}

// above sets a bit of hit for each lane of t above the threshold, among the
// lanes of valid if it is not nil. It overwrites t.
func (c aboveZMM) above(t reg.VecVirtual, valid, hit Op) {
	sign := ZMM()
	c.sra(Imm(uint64(c.k.Bits()-1)), t, sign)
	VPTERNLOGD(Imm(ternXorAnd), c.magnitude, sign, t)
	c.sub(c.lo, t, t)
	if valid != nil {
		c.cmpu(Imm(predicateLE), c.span, t, valid, hit)
		return
	}
	c.cmpu(Imm(predicateLE), c.span, t, hit)
}

// aboveYMM holds the AVX2 threshold constants. AVX2 has neither unsigned
// compares nor mask registers: key - lo <= span, unsigned, is
// (key - lo) ^ msb <= span ^ msb, signed, and (key - lo) ^ msb is
// key - (lo ^ msb); the kernels count the lanes that are NOT above, where
// that signed compare is false, as -1 from VPCMPGT.
type aboveYMM struct {
	k                                 spec.Kernel
	magnitude, loFlip, spanFlip, zero reg.VecVirtual
	sra, cmpgt, sub                   func(ops ...Op)
}

func loadAboveYMM(k spec.Kernel, zero reg.VecVirtual) aboveYMM {
	l, kl := lanesOf(k.Width), keyLanesOf(k.Width)
	c := aboveYMM{k: k, magnitude: YMM(), loFlip: YMM(), spanFlip: YMM(), zero: zero, sra: kl.sra, cmpgt: kl.cmpgt, sub: l.sub}
	Comment("loFlip, spanFlip: lo and span with the lane's top bit flipped; magnitude: all bits but the sign")
	for _, p := range []struct {
		name string
		v    reg.VecVirtual
	}{{"lo", c.loFlip}, {"span", c.spanFlip}} {
		x := XMM()
		if k.Width == 8 {
			g := Load(Param(p.name), GP64())
			BTCQ(Imm(63), g)
			VMOVQ(g, x)
		} else {
			g := Load(Param(p.name), GP32())
			XORL(U32(uint64(1)<<(k.Bits()-1)), g)
			VMOVD(g, x)
		}
		kl.broadcast(x, p.v)
	}
	VPCMPEQD(c.magnitude, c.magnitude, c.magnitude)
	l.srl(Imm(1), c.magnitude, c.magnitude)
	return c
}

// notAbove sets each lane of t to -1 where it is not above the threshold,
// and to 0 where it is.
func (c aboveYMM) notAbove(t reg.VecVirtual) {
	sign := YMM()
	if c.k.Width == 8 { // no VPSRAQ in AVX2: 0 > t is the sign, spread
		c.cmpgt(t, c.zero, sign)
	} else {
		c.sra(Imm(uint64(c.k.Bits()-1)), t, sign)
	}
	VPAND(c.magnitude, sign, sign)
	VPXOR(sign, t, t)
	c.sub(c.loFlip, t, t)
	c.cmpgt(c.spanFlip, t, t)
}

func thresholdKernels() {
	for _, k := range floatKernels() {
		countAboveAVX512(k)
	}
	for _, k := range floatKernels() {
		countAboveAVX2(k)
	}
}

func countAboveSignature(k spec.Kernel) string {
	return fmt.Sprintf("func(x []%s, lo, span %s) int", k.GoWord(), k.GoWord())
}

func countAboveDoc(name string, k spec.Kernel, rest ...string) {
	first := fmt.Sprintf("%s returns the number of lanes b of x, %d-bit floats, with key(b)-lo <= span.", name, k.Bits())
	Doc(append([]string{first}, rest...)...)
	Pragma("noescape")
}

// countAboveAVX512 writes the AVX-512 CountAbove kernel of k: per vector a
// load, the key and its unsigned compare into a mask, and a merge-masked
// VPSUB that adds one to the lanes above; lane counters widen every
// blockIterations iterations as in the count family. The last partial
// vector is read with a masked, zeroing load and compared under that mask.
func countAboveAVX512(k spec.Kernel) {
	name := "countAbove" + k.Name() + "AVX512"
	TEXT(name, NOSPLIT, countAboveSignature(k))
	countAboveDoc(name, k, "It requires AVX512F and AVX512BW.")
	l := lanesOf(k.Width)
	lanesPerVector := 64 / k.Width

	ptr := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())

	Comment("ones: -1 in every lane, the increment of the lane counters")
	ones := ZMM()
	VPTERNLOGD(Imm(0xff), ones, ones, ones)
	c := loadAboveZMM(k, ones)
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
	Commentf("Load %d vectors, compare their keys, count the lanes above, each vector into its own accumulator.", unroll)
	for i := 0; i < unroll; i++ {
		t, hit := ZMM(), K()
		VMOVDQU64(Mem{Base: ptr, Disp: 64 * i}, t)
		c.above(t, nil, hit)
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
	t, hit := ZMM(), K()
	VMOVDQU64(Mem{Base: ptr}, t)
	c.above(t, nil, hit)
	l.sub(ones, acc[0], hit, acc[0])
	ADDQ(U32(64), ptr)
	SUBQ(U32(lanesPerVector), n)
	JMP(LabelRef("vectors"))

	Label("tail")
	Comment("The last partial vector: a masked, zeroing load of its n lanes, compared under the same mask.")
	TESTQ(n, n)
	JZ(LabelRef("reduce"))
	keep := GP64()
	MOVQ(U32(1), keep)
	MOVQ(n, reg.RCX)
	SHLQ(reg.CL, keep)
	DECQ(keep)
	valid := K()
	if k.Width == 1 {
		l.kmov(keep, valid)
	} else {
		l.kmov(keep.As32(), valid)
	}
	l.loadz(Mem{Base: ptr}, valid, t)
	c.above(t, valid, hit)
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

// countAboveAVX2 writes the AVX2 CountAbove kernel of k. It counts the lanes
// not above (-1 from the signed compare, subtracted from an accumulator)
// and returns the whole vectors' lanes minus those. It reads whole vectors
// only: the caller counts the len(x) % lanes remainder in Go.
func countAboveAVX2(k spec.Kernel) {
	name := "countAbove" + k.Name() + "AVX2"
	TEXT(name, NOSPLIT, countAboveSignature(k))
	lanesPerVector := 32 / k.Width
	countAboveDoc(name, k, "It requires AVX2, and reads whole 32-byte vectors only: it ignores the",
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
	c := loadAboveYMM(k, zero)
	acc := make([]reg.VecVirtual, unroll)
	for i := range acc {
		acc[i] = YMM()
		VPXOR(acc[i], acc[i], acc[i])
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
	Commentf("Load %d vectors, compare their keys, count the lanes not above, each into its own accumulator.", unroll)
	for i := 0; i < unroll; i++ {
		t := YMM()
		VMOVDQU(Mem{Base: ptr, Disp: 32 * i}, t)
		c.notAbove(t)
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
	VMOVDQU(Mem{Base: ptr}, t)
	c.notAbove(t)
	l.sub(t, acc[0], acc[0])
	ADDQ(U32(32), ptr)
	SUBQ(U32(lanesPerVector), n)
	JMP(LabelRef("vectors"))

	Label("reduce")
	Comment("Reduce: lanes above are the lanes processed less the lanes not above.")
	VPSADBW(zero, acc[0], sums)
	VPADDQ(sums, wide, wide)
	notAbove := sumQuadwordsYMM(wide)
	SUBQ(notAbove, processed)
	Store(processed, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
