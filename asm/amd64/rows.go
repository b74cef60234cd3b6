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
