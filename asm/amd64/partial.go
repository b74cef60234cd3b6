package main

import (
	"strings"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Partial vectors: the lanes of x, or of a row, that do not fill a vector.
//
// An AVX-512 masked load never faults on its masked-off lanes, but when
// those lanes lie in a page that is not present (the page after a buffer
// that was never touched, a guard page) the CPU takes a microcode assist of
// hundreds of cycles to suppress the fault, on every call: on Zen 5 a
// count of 16 KiB of float32 ending at such a page measured 2.4x slower,
// of ten float32 11x (BenchmarkPlacement, masked loads reaching past x).
// So no load of these kernels reaches a byte past x:
//
//   - a partial vector at the end of an input of at least a vector is read
//     as the vector that ends at x's end, the lanes already counted masked
//     off (loadEnding);
//   - an input shorter than a vector is read as the 64 bytes from its
//     start if they stay in its page, else as the 64 bytes that end at its
//     end, as Go's internal/bytealg does (crossesPage): x starts in the last
//     64 bytes of a page then, so those bytes start in that page, and every
//     page they touch holds a byte of x;
//   - the rows of a column piece whose 64 bytes would pass x's end are read
//     from one vector, the last 64 bytes of x (partialRows);
//   - the tails of a stream's rows, when 64 bytes from them would pass x's
//     end, are read as the vectors that end at the rows' ends (stream.go);
//   - an empty partial vector is not read at all.
//
// Masked loads at the start of x (a head) start at x itself, never before.

// pageBytes is the smallest page size of amd64: a load within one such
// page touches one page of any larger size too.
const pageBytes = 4096

// crossesPage jumps to label if the 64 bytes from p reach into the next
// page: if p+64 lies in the first 64 bytes of a page (which takes 64 bytes
// that end exactly at a page's end as crossing, harmlessly), as
// internal/bytealg tests it, in two instructions.
func crossesPage(p reg.Register, label string) {
	next := GP64()
	LEAQ(Mem{Base: p, Disp: 64}, next)
	TESTL(U32(pageBytes-64), next.As32())
	JZ(LabelRef(label))
}

// kmovLanes moves the low lanes bits of the general register bits into a
// new mask register.
func kmovLanes(l lanes, bits reg.GPVirtual) reg.OpmaskVirtual {
	k := K()
	if l.width == 1 {
		l.kmov(bits, k)
	} else {
		l.kmov(bits.As32(), k)
	}
	return k
}

// highLanes returns a general register with the high n of a vector's
// lanes set (n from 1 to the lanes of a vector), as a mask: the lanes of
// the vector that ends at x's end that hold its last n elements.
func highLanes(l lanes, n reg.Register) reg.GPVirtual {
	shift, keep := GP64(), GP64()
	MOVL(U32(64/l.width), shift.As32())
	SUBQ(n, shift)
	MOVQ(I32(-1), keep)
	SHLXQ(shift, keep, keep)
	return keep
}

// loadEnding loads, masked and zeroing, the vector whose last n lanes are
// the n elements that end at end (a register holding the address one past
// them), and returns it with its mask.
func loadEnding(l lanes, end reg.Register, n reg.Register) (reg.VecVirtual, reg.OpmaskVirtual) {
	valid := kmovLanes(l, highLanes(l, n))
	v := ZMM()
	l.loadz(Mem{Base: end, Disp: -64}, valid, v)
	return v, valid
}

// partialRows emits the count of a piece of n lanes (fewer than a vector,
// at least one) in each of a run of rows, through count(hit), hit having a
// bit for each of the piece's lanes that counts, the first lane in bit 0.
// p points at the first row's piece and advances by stride bytes up to
// last, the last row's piece; valid has the low n lanes set; x is the
// kernel's x, which holds every piece. p is left past last.
//
// The rows whose 64 bytes from p stay within x are one masked load each.
// The others lie in the last 64 bytes of x: one load of those bytes (the
// window) and one test serve them all, each row's bits shifted down from
// its place in the window. An x shorter than a vector has its window where
// a short count would read (crossesPage), with only x's own lanes loaded.
func partialRows(l lanes, t zmmTest, prefix string, p, last, stride, n reg.Register, valid reg.OpmaskVirtual, count func(hit reg.OpmaskVirtual)) {
	label := func(s string) string { return prefix + strings.ToUpper(s[:1]) + s[1:] }
	lanesPerVector := 64 / l.width
	Comment("The window: the last 64 bytes of x (all of its lanes in x), or for an x shorter than",
		"a vector, the 64 bytes a short count reads, with x's lanes only.")
	xBase := Load(Param("x").Base(), GP64())
	xLen := Load(Param("x").Len(), GP64())
	window, windowLanes := GP64(), GP64()
	LEAQ(Mem{Base: xBase, Index: xLen, Scale: uint8(l.width), Disp: -64}, window)
	MOVQ(I32(-1), windowLanes)
	CMPQ(xLen, U32(lanesPerVector))
	JAE(LabelRef(label("window")))
	MOVQ(highLanes(l, xLen), windowLanes)
	crossesPage(xBase, label("window"))
	MOVQ(xBase, window)
	MOVQ(I32(-1), windowLanes)
	BZHIQ(xLen, windowLanes, windowLanes)
	Label(label("window"))

	Comment("Rows whose 64 bytes from p stay within x: up to the window's start, or the last row.")
	limit := GP64()
	MOVQ(window, limit)
	CMPQ(last, limit)
	CMOVQCS(last, limit)
	CMPQ(p, limit)
	JA(LabelRef(label("windowRows")))
	alignLoop()
	Label(label("rows"))
	v, hit := ZMM(), K()
	l.loadz(Mem{Base: p}, valid, v)
	t.test(v, valid, hit)
	count(hit)
	ADDQ(stride, p)
	CMPQ(p, limit)
	JBE(LabelRef(label("rows")))

	Label(label("windowRows"))
	Comment("Rows in the window: its test once, then each row's bits, from its lane in the window.")
	CMPQ(p, last)
	JA(LabelRef(label("done")))
	inX := kmovLanes(l, windowLanes)
	w, all := ZMM(), K()
	l.loadz(Mem{Base: window}, inX, w)
	t.test(w, inX, all)
	bits := GP64()
	if l.width == 1 {
		KMOVQ(all, bits)
	} else {
		l.kmov(all, bits.As32())
	}
	Label(label("windowRow"))
	shift, row := GP64(), GP64()
	MOVQ(p, shift)
	SUBQ(window, shift)
	if l.width > 1 {
		SHRQ(U8(log2(l.width)), shift)
	}
	SHRXQ(shift, bits, row)
	BZHIQ(n, row, row)
	count(kmovLanes(l, row))
	ADDQ(stride, p)
	CMPQ(p, last)
	JBE(LabelRef(label("windowRow")))
	Label(label("done"))
}

// alignLoop aligns the next instruction, the head of a hot loop, to 32
// bytes, so that where a change elsewhere in a kernel moves the loop does
// not decide its speed: the partial strip's loop of six instructions,
// moved across a 64-byte boundary, measured about 5% slower on Zen 5
// (minimum times, bf16 [16384, 16] columns).
func alignLoop() { pcalign(32) }

// alignEntry, the first instruction of a kernel, aligns the kernel itself to
// 64 bytes (the assembler aligns a function to its largest PCALIGN, and
// pads nothing at its start): the short path of a call of one vector then
// spans the fewest cache lines wherever the kernels before it end. With 32
// bytes, the alignment of every Go function, CountNonZero of 16 float32
// took 11% longer or not depending on the sizes of the kernels before it.
func alignEntry() { pcalign(64) }

func pcalign(n uint8) {
	Instruction(&ir.Instruction{Opcode: "PCALIGN", Operands: []Op{U8(n)}})
}

// lastRow returns the address of the last of rows rows (at least one) from
// p, stride bytes apart.
func lastRow(p, stride, rows reg.Register) reg.GPVirtual {
	last := GP64()
	MOVQ(rows, last)
	DECQ(last)
	IMULQ(stride, last)
	ADDQ(p, last)
	return last
}
