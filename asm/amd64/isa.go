package main

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// lanes holds the instructions that differ by lane width, so that one
// kernel body serves 1-, 2-, 4- and 8-byte elements.
type lanes struct {
	width int
	// testm sets a mask bit for each lane where (a & b) != 0 (AVX-512).
	testm func(ops ...operand.Op)
	// sub subtracts lanes; with a mask operand only the selected lanes.
	sub func(ops ...operand.Op)
	// add adds lanes.
	add func(ops ...operand.Op)
	// minu is the unsigned minimum of lanes.
	minu func(ops ...operand.Op)
	// abs is the absolute value of lanes: abs(-1) puts 1 in every lane.
	abs func(ops ...operand.Op)
	// sll shifts each lane left by an immediate (no byte form exists).
	sll func(ops ...operand.Op)
	// cmpeq sets a lane to all ones where a == b (AVX2).
	cmpeq func(ops ...operand.Op)
	// srl shifts each lane right by an immediate.
	srl func(ops ...operand.Op)
	// loadz is the masked, zeroing load of whole lanes (AVX-512).
	loadz func(mxyz, k, mxyz1 operand.Op)
	// kmov moves a general register into a mask register, wide enough
	// for one bit per lane of a ZMM register.
	kmov func(kmr, kmr1 operand.Op)
}

func lanesOf(width int) lanes {
	switch width {
	case 1:
		return lanes{width: 1, testm: VPTESTMB, sub: VPSUBB, add: VPADDB, minu: VPMINUB, abs: VPABSB, cmpeq: VPCMPEQB, loadz: VMOVDQU8_Z, kmov: KMOVQ}
	case 2:
		return lanes{width: 2, testm: VPTESTMW, sub: VPSUBW, add: VPADDW, minu: VPMINUW, abs: VPABSW, sll: VPSLLW, cmpeq: VPCMPEQW, srl: VPSRLW, loadz: VMOVDQU16_Z, kmov: KMOVD}
	case 4:
		return lanes{width: 4, testm: VPTESTMD, sub: VPSUBD, add: VPADDD, minu: VPMINUD, abs: VPABSD, sll: VPSLLD, cmpeq: VPCMPEQD, srl: VPSRLD, loadz: VMOVDQU32_Z, kmov: KMOVW}
	case 8:
		return lanes{width: 8, testm: VPTESTMQ, sub: VPSUBQ, add: VPADDQ, minu: VPMINUQ, abs: VPABSQ, sll: VPSLLQ, cmpeq: VPCMPEQQ, srl: VPSRLQ, loadz: VMOVDQU64_Z, kmov: KMOVW}
	}
	panic("unsupported lane width")
}

// sumQuadwordsZMM adds the eight quadwords of z into one general register.
func sumQuadwordsZMM(z vec) reg.GPVirtual {
	hi := YMM()
	VEXTRACTI64X4(operand.Imm(1), z, hi)
	VPADDQ(hi, z.AsY(), hi)
	return sumQuadwordsYMM(hi)
}

// sumQuadwordsYMM adds the four quadwords of y into one general register.
func sumQuadwordsYMM(y vec) reg.GPVirtual {
	hi := XMM()
	VEXTRACTI128(operand.Imm(1), y, hi)
	VPADDQ(hi, y.AsX(), hi)
	swapped := XMM()
	VPSHUFD(operand.Imm(0x4e), hi, swapped)
	VPADDQ(swapped, hi, hi)
	total := GP64()
	VMOVQ(hi, total)
	return total
}

// keyLanes holds the per-width instructions of the threshold rules, which
// exist for the float widths only.
type keyLanes struct {
	// sra shifts each lane right by an immediate, copying the sign bit.
	sra func(ops ...operand.Op)
	// cmpu compares unsigned lanes into a mask register (AVX-512).
	cmpu func(ops ...operand.Op)
	// cmpgt sets a lane to all ones where a > b, signed (AVX2).
	cmpgt func(ops ...operand.Op)
	// broadcast copies a general register (AVX-512) or the low lane of
	// an XMM register (AVX2) into every lane.
	broadcast func(ops ...operand.Op)
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

// vec is a vector register, physical or virtual.
type vec interface {
	reg.Register
	reg.Vec
}

// sumDoublewordsZMM adds the sixteen doublewords of z into one general
// register (their sum must fit 32 bits).
func sumDoublewordsZMM(z vec) reg.GPVirtual {
	hi := YMM()
	VEXTRACTI64X4(operand.Imm(1), z, hi)
	VPADDD(hi, z.AsY(), hi)
	x := XMM()
	VEXTRACTI128(operand.Imm(1), hi, x)
	VPADDD(x, hi.AsX(), x)
	s := XMM()
	VPSHUFD(operand.Imm(0x4e), x, s)
	VPADDD(s, x, x)
	VPSHUFD(operand.Imm(0xb1), x, s)
	VPADDD(s, x, x)
	total := GP32()
	VMOVD(x, total)
	return total.As64().(reg.GPVirtual)
}
