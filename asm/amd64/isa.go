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
		return lanes{1, VPTESTMB, VPSUBB, VPADDB, VPCMPEQB, nil, VMOVDQU8_Z, KMOVQ}
	case 2:
		return lanes{2, VPTESTMW, VPSUBW, VPADDW, VPCMPEQW, VPSRLW, VMOVDQU16_Z, KMOVD}
	case 4:
		return lanes{4, VPTESTMD, VPSUBD, VPADDD, VPCMPEQD, VPSRLD, VMOVDQU32_Z, KMOVW}
	case 8:
		return lanes{8, VPTESTMQ, VPSUBQ, VPADDQ, VPCMPEQQ, VPSRLQ, VMOVDQU64_Z, KMOVW}
	}
	panic("unsupported lane width")
}

// sumQuadwordsZMM adds the eight quadwords of z into one general register.
func sumQuadwordsZMM(z reg.VecVirtual) reg.GPVirtual {
	hi := YMM()
	VEXTRACTI64X4(operand.Imm(1), z, hi)
	VPADDQ(hi, z.AsY(), hi)
	return sumQuadwordsYMM(hi)
}

// sumQuadwordsYMM adds the four quadwords of y into one general register.
func sumQuadwordsYMM(y reg.VecVirtual) reg.GPVirtual {
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
