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
// denormal modes, costs the same operations for every float width, and
// serves Float16 and BFloat16, which this CPU cannot compare natively (no
// AVX512-FP16), with the same code as float32 and float64.

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

// A kernel compares in one of two modes, chosen once per call from lo:
//
//   - bits: when round-down(t) >= +0 (lo >= 1 as a signed lane), a negative
//     pattern is never above, and the bits themselves do: a negative b,
//     read unsigned, is at least 2^(n-1) > infBits, so b - lo > span as
//     for its key. One subtraction and one compare per vector.
//   - keys: below +0, the key of each lane, two more operations.
//
// Both test hi - x <= span, unsigned, with hi = lo + span = infBits: the
// same interval as x - lo <= span, and the subtraction can take the vector
// straight from memory.

// keyedBranch jumps to label when the threshold needs keys: when lo, as a
// signed lane, is not positive.
func keyedBranch(k spec.Kernel, lo reg.Register, label string) {
	Comment("Mode: a threshold at or above +0 compares bits, one below +0 compares keys.")
	t := GP64()
	MOVQ(lo.(reg.GPVirtual).As64(), t)
	if k.Width < 8 {
		SHLQ(U8(64-k.Bits()), t)
	}
	TESTQ(t, t)
	JLE(LabelRef(label))
}

// aboveZMM holds the AVX-512 threshold constants.
type aboveZMM struct {
	k                   spec.Kernel
	lo                  reg.Register // the lo parameter, for keyedBranch
	magnitude, hi, span reg.VecVirtual
	sra, cmpu, sub      func(ops ...Op)
}

// loadAboveZMM broadcasts hi = lo + span and span, and derives the
// magnitude mask (every bit but the sign bit of a lane) from ones.
func loadAboveZMM(k spec.Kernel, ones reg.VecVirtual) aboveZMM {
	l, kl := lanesOf(k.Width), keyLanesOf(k.Width)
	c := aboveZMM{k: k, magnitude: ZMM(), hi: ZMM(), span: ZMM(), sra: kl.sra, cmpu: kl.cmpu, sub: l.sub}
	Comment("hi, span: a lane x counts when hi - x <= span, unsigned; magnitude: all bits but the sign")
	lo, span, hi := loadLoSpan(k)
	c.lo = lo
	kl.broadcast(hi, c.hi)
	kl.broadcast(span, c.span)
	l.srl(Imm(1), ones, c.magnitude)
	return c
}

// loadLoSpan loads the lo and span parameters and computes hi = lo + span.
func loadLoSpan(k spec.Kernel) (lo, span, hi reg.Register) {
	gp := GP32
	if k.Width == 8 {
		gp = GP64
	}
	lo, span, hi = Load(Param("lo"), gp()), Load(Param("span"), gp()), gp()
	if k.Width == 8 {
		MOVQ(lo, hi)
		ADDQ(span, hi)
	} else {
		MOVL(lo, hi)
		ADDL(span, hi)
	}
	return lo, span, hi
}

// above sets a bit of hit for each lane of the vector src (in memory, or a
// register it may overwrite) that is above the threshold, among the lanes
// of valid if it is not nil.
func (c aboveZMM) above(src Op, valid, hit Op, keyed bool) {
	if keyed {
		v, ok := src.(reg.VecVirtual)
		if !ok {
			v = ZMM()
			VMOVDQU64(src, v)
		}
		sign := ZMM()
		c.sra(Imm(uint64(c.k.Bits()-1)), v, sign)
		VPTERNLOGD(Imm(ternXorAnd), c.magnitude, sign, v)
		src = v
	}
	d := ZMM()
	c.sub(src, c.hi, d)
	if valid != nil {
		c.cmpu(Imm(predicateLE), c.span, d, valid, hit)
		return
	}
	c.cmpu(Imm(predicateLE), c.span, d, hit)
}

// aboveYMM holds the AVX2 threshold constants. AVX2 has neither unsigned
// compares nor mask registers: hi - x <= span, unsigned, is
// (hi - x) ^ msb <= span ^ msb, signed, and (hi - x) ^ msb is
// (hi ^ msb) - x; the kernels count the lanes that are NOT above, where
// that signed compare is false, as -1 from VPCMPGT.
type aboveYMM struct {
	k                                 spec.Kernel
	lo                                reg.Register
	magnitude, hiFlip, spanFlip, zero reg.VecVirtual
	sra, cmpgt, sub                   func(ops ...Op)
}

func loadAboveYMM(k spec.Kernel, zero reg.VecVirtual) aboveYMM {
	l, kl := lanesOf(k.Width), keyLanesOf(k.Width)
	c := aboveYMM{k: k, magnitude: YMM(), hiFlip: YMM(), spanFlip: YMM(), zero: zero, sra: kl.sra, cmpgt: kl.cmpgt, sub: l.sub}
	Comment("hiFlip, spanFlip: hi = lo + span and span with the lane's top bit flipped; magnitude: all bits but the sign")
	lo, span, hi := loadLoSpan(k)
	c.lo = lo
	for _, p := range []struct {
		g reg.Register
		v reg.VecVirtual
	}{{hi, c.hiFlip}, {span, c.spanFlip}} {
		x, g := XMM(), GP64()
		MOVQ(p.g.(reg.GPVirtual).As64(), g)
		if k.Width == 8 {
			BTCQ(Imm(63), g)
			VMOVQ(g, x)
		} else {
			XORL(U32(uint64(1)<<(k.Bits()-1)), g.As32())
			VMOVD(g.As32(), x)
		}
		kl.broadcast(x, p.v)
	}
	VPCMPEQD(c.magnitude, c.magnitude, c.magnitude)
	l.srl(Imm(1), c.magnitude, c.magnitude)
	return c
}

// notAbove returns a register with each lane of the vector at m set to -1
// where it is not above the threshold, and to 0 where it is.
func (c aboveYMM) notAbove(m Mem, keyed bool) reg.VecVirtual {
	var src Op = m
	if keyed {
		v, sign := YMM(), YMM()
		VMOVDQU(m, v)
		if c.k.Width == 8 { // no VPSRAQ in AVX2: 0 > v is the sign, spread
			c.cmpgt(v, c.zero, sign)
		} else {
			c.sra(Imm(uint64(c.k.Bits()-1)), v, sign)
		}
		VPAND(c.magnitude, sign, sign)
		VPXOR(sign, v, v)
		src = v
	}
	t := YMM()
	c.sub(src, c.hiFlip, t)
	c.cmpgt(c.spanFlip, t, t)
	return t
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
	counters := newLaneCountersZMM(l)
	acc := counters.clear(unroll)

	Comment("blocks: the number of whole iterations of the main loop")
	blocks := splitBlocks(n, unroll*lanesPerVector)
	keyedBranch(k, c.lo, "keyBlock")

	for _, keyed := range []bool{false, true} {
		label, what := modeLabels(keyed)
		Label(label("Block"))
		iterations := startBlock(blocks, label("Vectors"))

		Label(label("Loop"))
		Commentf("Compare the %s of %d vectors, count the lanes above, each vector into its own accumulator.", what, unroll)
		for i := 0; i < unroll; i++ {
			hit := K()
			c.above(Mem{Base: ptr, Disp: 64 * i}, nil, hit, keyed)
			l.sub(ones, acc[i], hit, acc[i])
		}
		ADDQ(U32(64*unroll), ptr)
		DECQ(iterations)
		JNZ(LabelRef(label("Loop")))

		counters.widen(unroll * blockIterations)
		JMP(LabelRef(label("Block")))

		Label(label("Vectors"))
		Commentf("Whole vectors left over: at most %d of them.", unroll-1)
		CMPQ(n, U32(lanesPerVector))
		JB(LabelRef(label("Tail")))
		hit := K()
		c.above(Mem{Base: ptr}, nil, hit, keyed)
		l.sub(ones, acc[0], hit, acc[0])
		ADDQ(U32(64), ptr)
		SUBQ(U32(lanesPerVector), n)
		JMP(LabelRef(label("Vectors")))

		Label(label("Tail"))
		Comment("The last partial vector: a masked, zeroing load of its n lanes, compared under the same mask.")
		TESTQ(n, n)
		JZ(LabelRef(label("Reduce")))
		valid := tailMask(l, n)
		t := ZMM()
		l.loadz(Mem{Base: ptr}, valid, t)
		c.above(t, valid, hit, keyed)
		l.sub(ones, acc[0], hit, acc[0])

		Label(label("Reduce"))
		Comment("Reduce: widen what the last block counted and add up the quadwords.")
		total := counters.total()
		Store(total, ReturnIndex(0))
		VZEROUPPER()
		RET()
	}
}

// modeLabels returns the label maker and the name of what is compared of
// one mode of a threshold kernel.
func modeLabels(keyed bool) (label func(string) string, what string) {
	if keyed {
		return func(s string) string { return "key" + s }, "keys"
	}
	return func(s string) string { return "bits" + s }, "bits"
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

	ptr, n, processed := wholeVectors(lanesPerVector)

	counters := newLaneCountersYMM(l)
	c := loadAboveYMM(k, counters.zero)
	acc := counters.clear(unroll)

	blocks := splitBlocks(n, unroll*lanesPerVector)
	keyedBranch(k, c.lo, "keyBlock")

	for _, keyed := range []bool{false, true} {
		label, what := modeLabels(keyed)
		Label(label("Block"))
		iterations := startBlock(blocks, label("Vectors"))

		Label(label("Loop"))
		Commentf("Compare the %s of %d vectors, count the lanes not above, each into its own accumulator.", what, unroll)
		for i := 0; i < unroll; i++ {
			t := c.notAbove(Mem{Base: ptr, Disp: 32 * i}, keyed)
			l.sub(t, acc[i], acc[i])
		}
		ADDQ(U32(32*unroll), ptr)
		DECQ(iterations)
		JNZ(LabelRef(label("Loop")))

		counters.widen(unroll * blockIterations)
		JMP(LabelRef(label("Block")))

		Label(label("Vectors"))
		Commentf("Whole vectors left over: at most %d of them.", unroll-1)
		CMPQ(n, U32(lanesPerVector))
		JB(LabelRef(label("Reduce")))
		t := c.notAbove(Mem{Base: ptr}, keyed)
		l.sub(t, acc[0], acc[0])
		ADDQ(U32(32), ptr)
		SUBQ(U32(lanesPerVector), n)
		JMP(LabelRef(label("Vectors")))

		Label(label("Reduce"))
		Comment("Reduce: lanes above are the lanes processed less the lanes not above.")
		notAbove := counters.total()
		total := GP64()
		MOVQ(processed, total)
		SUBQ(notAbove, total)
		Store(total, ReturnIndex(0))
		VZEROUPPER()
		RET()
	}
}
