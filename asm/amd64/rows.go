package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The rows family: the population counts of the narrow rows split
// (kernel/rows.go), which turns the bitmap of a mask kernel into row
// counts: the bits of a run of words, and the bits of a run of words under
// a run of masks. Go's math/bits.OnesCount64 tests for POPCNT at every
// call when GOAMD64 is v1, and the test and its fallback call cost more
// registers than the loop has; these are the same loops with POPCNT
// unconditional, four words at a time into four sums.
func init() {
	register("rows", func() {
		popcounts(false)
		popcounts(true)
	})
}

// popcounts writes popcountsPOPCNT, or with masks popcountsAndPOPCNT.
func popcounts(masked bool) {
	name, signature := "popcountsPOPCNT", "func(words []uint64) int"
	if masked {
		name, signature = "popcountsAndPOPCNT", "func(words, masks []uint64) int"
	}
	TEXT(name, NOSPLIT, signature)
	if masked {
		Doc(name+" returns the number of bits set in words[k] & masks[k], for every",
			"k < len(words); len(masks) must be at least len(words). It requires POPCNT.")
	} else {
		Doc(name + " returns the number of bits set in words. It requires POPCNT.")
	}
	Pragma("noescape")
	words := Load(Param("words").Base(), GP64())
	n := Load(Param("words").Len(), GP64())
	var masks reg.Register
	if masked {
		masks = Load(Param("masks").Base(), GP64())
	}
	sums := []reg.GPVirtual{GP64(), GP64(), GP64(), GP64()}
	for _, s := range sums {
		XORQ(s, s)
	}
	// word loads words[k] (and masks[k]) into a fresh register and
	// counts its bits into sum.
	word := func(k int, sum reg.GPVirtual) {
		v := GP64()
		MOVQ(Mem{Base: words, Disp: 8 * k}, v)
		if masked {
			ANDQ(Mem{Base: masks, Disp: 8 * k}, v)
		}
		POPCNTQ(v, v)
		ADDQ(v, sum)
	}
	Label("four")
	CMPQ(n, U8(4))
	JB(LabelRef("one"))
	for k, s := range sums {
		word(k, s)
	}
	ADDQ(U8(32), words)
	if masked {
		ADDQ(U8(32), masks)
	}
	SUBQ(U8(4), n)
	JMP(LabelRef("four"))
	Label("one")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	word(0, sums[0])
	ADDQ(U8(8), words)
	if masked {
		ADDQ(U8(8), masks)
	}
	DECQ(n)
	JMP(LabelRef("one"))
	Label("done")
	ADDQ(sums[1], sums[0])
	ADDQ(sums[3], sums[2])
	ADDQ(sums[2], sums[0])
	Store(sums[0], ReturnIndex(0))
	RET()
}

// The fused row pairs (kernel/rowpairs.go): narrow rows of bytes into two
// counts without a bitmap in memory. Each group of 64 bytes is tested into
// a word of 64 bits (VPTESTMB and KMOVQ, or two VPCMPEQB and VPMOVMSKB), a
// bit per byte that is not zero; the word's bits go to all, and its bits
// under the periodic mask of its phase to sel.
func init() {
	register("rowpairs", func() {
		rowPairs(true)
		rowPairs(false)
		rowPairsBytes()
	})
}

// rowPairs writes rowPairsBits8AVX512, or rowPairsBits8AVX2.
func rowPairs(avx512 bool) {
	name := "rowPairsBits8AVX2"
	if avx512 {
		name = "rowPairsBits8AVX512"
	}
	TEXT(name, NOSPLIT, "func(x []uint8, masks []uint64, phase int) (all, sel int)")
	Doc(name+" returns the bytes of x that are not zero (all), and those of them",
		"under the masks (sel): byte j of group k of 64 bytes is under the mask when",
		"bit j of masks[(phase+k) % len(masks)] is set. len(x) must be a multiple of",
		"64, and phase below len(masks). It reads whole groups of x only, and",
		"requires POPCNT"+map[bool]string{true: ", AVX512BW.", false: " and AVX2."}[avx512])
	Pragma("noescape")
	ptr := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	SHRQ(U8(6), n)
	base := Load(Param("masks").Base(), GP64())
	mlen := Load(Param("masks").Len(), GP64())
	p := Load(Param("phase"), GP64())
	Comment("The next group's mask, and the end of the masks.")
	mask, end := GP64(), GP64()
	LEAQ(Mem{Base: base, Index: p, Scale: 8}, mask)
	LEAQ(Mem{Base: base, Index: mlen, Scale: 8}, end)
	all, sel := GP64(), GP64()
	XORQ(all, all)
	XORQ(sel, sel)
	var zero reg.VecVirtual
	if !avx512 {
		zero = YMM()
		VPXOR(zero, zero, zero)
	}
	Label("group")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	bits := GP64()
	if avx512 {
		v, k := ZMM(), K()
		VMOVDQU64(Mem{Base: ptr}, v)
		VPTESTMB(v, v, k)
		KMOVQ(k, bits)
	} else {
		lo, hi := YMM(), YMM()
		VPCMPEQB(Mem{Base: ptr}, zero, lo)
		VPCMPEQB(Mem{Base: ptr, Disp: 32}, zero, hi)
		high := GP64()
		VPMOVMSKB(lo, bits.As32())
		VPMOVMSKB(hi, high.As32())
		SHLQ(U8(32), high)
		ORQ(high, bits)
		NOTQ(bits)
	}
	c := GP64()
	POPCNTQ(bits, c)
	ADDQ(c, all)
	ANDQ(Mem{Base: mask}, bits)
	POPCNTQ(bits, bits)
	ADDQ(bits, sel)
	ADDQ(U8(8), mask)
	CMPQ(mask, end)
	CMOVQEQ(base, mask)
	ADDQ(U8(64), ptr)
	DECQ(n)
	JMP(LabelRef("group"))
	Label("done")
	Store(all, ReturnIndex(0))
	Store(sel, ReturnIndex(1))
	VZEROUPPER()
	RET()
}

// rowPairsBytes writes rowPairsBytesAVX2: the row pairs of bytes with the
// periodic mask as a byte per lane, in vectors, so that no word leaves the
// vector registers: per 32 bytes a VPCMPEQB against zero, counted into
// byte counters (VPSUBB), and its complement under the mask's vector
// (VPANDN) into others; the counters go into quadwords (VPSADBW) every
// 126 groups of 64 bytes, before any can pass 255. Two groups a turn, the
// masks' pointer checked for their end once a turn.
func rowPairsBytes() {
	name := "rowPairsBytesAVX2"
	TEXT(name, NOSPLIT, "func(x []uint8, masks []uint8, phase int) (all, sel int)")
	Doc(name+" returns the bytes of x that are not zero (all), and those of them",
		"under the masks (sel): byte i of x is under the mask when",
		"masks[(phase+i) % len(masks)] is 0xff (it is 0xff or 0). len(x) must be a multiple",
		"of 64, len(masks) of 128, and phase too, below len(masks). It reads whole",
		"groups of 64 bytes of x only, and requires AVX2.")
	Pragma("noescape")
	ptr := Load(Param("x").Base(), GP64())
	lanes := Load(Param("x").Len(), GP64())
	n := GP64()
	MOVQ(lanes, n)
	SHRQ(U8(6), n)
	base := Load(Param("masks").Base(), GP64())
	mlen := Load(Param("masks").Len(), GP64())
	off := Load(Param("phase"), GP64())
	Comment("The next group's masks, and the end of the masks.")
	mask, end := GP64(), GP64()
	LEAQ(Mem{Base: base, Index: off, Scale: 1}, mask)
	LEAQ(Mem{Base: base, Index: mlen, Scale: 1}, end)
	zero, zeros, sels := YMM(), YMM(), YMM()
	VPXOR(zero, zero, zero)
	VPXOR(zeros, zeros, zeros)
	VPXOR(sels, sels, sels)
	zc, sc := YMM(), YMM()
	// group counts the 64 bytes at ptr+disp under the masks at mask+disp.
	group := func(disp int) {
		for v := 0; v < 2; v++ {
			e, t := YMM(), YMM()
			VPCMPEQB(Mem{Base: ptr, Disp: disp + 32*v}, zero, e)
			VPSUBB(e, zc, zc)
			VPANDN(Mem{Base: mask, Disp: disp + 32*v}, e, t)
			VPSUBB(t, sc, sc)
		}
	}
	Label("block")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Comment("A block of at most 126 groups, two at a time into the byte counters.")
	block := GP64()
	MOVQ(U32(126), block)
	CMPQ(n, block)
	CMOVQLT(n, block)
	SUBQ(block, n)
	VPXOR(zc, zc, zc)
	VPXOR(sc, sc, sc)
	Label("pair")
	CMPQ(block, U8(2))
	JB(LabelRef("single"))
	group(0)
	group(64)
	ADDQ(U8(128), ptr)
	ADDQ(U8(128), mask)
	CMPQ(mask, end)
	CMOVQEQ(base, mask)
	SUBQ(U8(2), block)
	JMP(LabelRef("pair"))
	Label("single")
	TESTQ(block, block)
	JZ(LabelRef("flush"))
	group(0)
	ADDQ(U8(64), ptr)
	ADDQ(U8(64), mask)
	Label("flush")
	Comment("The byte counters: the zero bytes, and the bytes under the masks that are not zero.")
	VPSADBW(zero, zc, zc)
	VPADDQ(zc, zeros, zeros)
	VPSADBW(zero, sc, sc)
	VPADDQ(sc, sels, sels)
	JMP(LabelRef("block"))
	Label("done")
	z := sumQuadwordsYMM(zeros)
	SUBQ(z, lanes)
	Store(lanes, ReturnIndex(0))
	Store(sumQuadwordsYMM(sels), ReturnIndex(1))
	VZEROUPPER()
	RET()
}
