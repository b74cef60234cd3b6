package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The index family: the kernels of AddIndexCounts and the Add...IndexCounts
// of each rule (kernel/index_table.go), which add one to a counter per
// (feature index, value) entry whose value counts. The increments are
// random and bound by memory, not by vector width, so vectors do the parts
// that stream, and a scalar loop the rest:
//
//   - max: the unsigned maximum of the index lanes, the range check of every
//     index in one compare (a negative index, read unsigned, is above every
//     feature), for the calls that check every index before they count;
//   - mask: each rule's test of the values, as a bitmap, one bit per entry,
//     from the rule's own test (rule.go), so that it decides exactly what
//     the rule's count kernels count;
//   - scatter: scalar, each index checked against the number of counters,
//     the bitmap's bit of each entry added to a byte counter with ADC,
//     whose carry flag catches the wrap from 255 to 0 for free; the caller
//     adds 256 for each;
//   - widen: the byte counters added to the caller's 64-bit counts, and
//     cleared, a stream of both.
//
// max and mask read whole groups of 64 lanes (a word of the bitmap) only;
// the caller handles the rest in Go.
func init() {
	register("index", func() {
		for _, w := range indexWidths {
			maxAVX512(w)
		}
		for _, w := range indexWidths {
			maxAVX2(w)
		}
		for _, r := range indexRules {
			for _, k := range r.kernels {
				maskAVX512(r, k)
			}
		}
		for _, r := range indexRules {
			for _, k := range r.kernels {
				maskAVX2(r, k)
			}
		}
		for _, w := range indexWidths {
			scatter(w)
		}
		widenAVX512()
		widenAVX2()
	})
}

// indexWidths are the widths of the index lanes in bytes: uint16, uint32
// (int32 and uint32 indices), uint64 (int64).
var indexWidths = []int{2, 4, 8}

// indexRules are the rules whose value tests the mask kernels write.
var indexRules = []rule{nonZero, aboveBits, aboveKeys, absAbove}

// maxLanes returns the unsigned maximum of lanes of width bytes.
func maxLanes(width int) func(ops ...Op) {
	return map[int]func(ops ...Op){2: VPMAXUW, 4: VPMAXUD, 8: VPMAXUQ}[width]
}

func maxSignature(w int) string { return fmt.Sprintf("func(x []uint%d) uint%d", 8*w, 8*w) }

func maxDoc(name string, w int, rest ...string) {
	Doc(append([]string{
		fmt.Sprintf("%s returns the largest lane of x, unsigned, of its first len(x) - len(x) %% 64", name),
		"lanes (0 if none): the range check of the indices that the lanes hold.",
	}, rest...)...)
	Pragma("noescape")
}

// maxAVX512 writes the AVX-512 max kernel of lanes of w bytes: one
// running maximum per vector of a group of 64 lanes, then a fold of the
// vectors and of the lanes.
func maxAVX512(w int) {
	name := fmt.Sprintf("maxIndex%dAVX512", 8*w)
	TEXT(name, NOSPLIT, maxSignature(w))
	maxDoc(name, w, "It requires AVX512F and AVX512BW.")
	maxu := maxLanes(w)
	ptr := Load(Param("x").Base(), GP64())
	groups := Load(Param("x").Len(), GP64())
	Comment("Registers: the running maxima, one per vector of a group of 64 lanes.")
	SHRQ(U8(6), groups)
	vectors := w // 64 lanes of w bytes are w vectors of 64 bytes
	acc := make([]reg.VecVirtual, vectors)
	for i := range acc {
		acc[i] = ZMM()
		VPXORQ(acc[i], acc[i], acc[i])
	}

	Label("group")
	TESTQ(groups, groups)
	JZ(LabelRef("fold"))
	for i, a := range acc {
		maxu(Mem{Base: ptr, Disp: 64 * i}, a, a)
	}
	ADDQ(U32(64*vectors), ptr)
	DECQ(groups)
	JMP(LabelRef("group"))

	Label("fold")
	Comment("Fold the vectors, then the lanes: 256-bit halves, 128-bit quarters, then within them.")
	for _, a := range acc[1:] {
		maxu(a, acc[0], acc[0])
	}
	m, t := acc[0], ZMM()
	VSHUFI64X2(U8(0x4e), m, m, t)
	maxu(t, m, m)
	VSHUFI64X2(U8(0xb1), m, m, t)
	maxu(t, m, m)
	VPSHUFD(U8(0x4e), m, t)
	maxu(t, m, m)
	if w <= 4 {
		VPSHUFD(U8(0xb1), m, t)
		maxu(t, m, m)
	}
	if w == 2 {
		VPSRLD(U8(16), m, t)
		maxu(t, m, m)
	}
	storeLowLane(w, m.AsX())
	VZEROUPPER()
	RET()
}

// maxAVX2 writes the AVX2 max kernel of lanes of w bytes. AVX2 has no
// unsigned 64-bit maximum: the 64-bit lanes are compared signed with their
// top bits flipped, which orders them as unsigned.
func maxAVX2(w int) {
	name := fmt.Sprintf("maxIndex%dAVX2", 8*w)
	TEXT(name, NOSPLIT, maxSignature(w))
	maxDoc(name, w, "It requires AVX2.")
	ptr := Load(Param("x").Base(), GP64())
	groups := Load(Param("x").Len(), GP64())
	SHRQ(U8(6), groups)
	vectors := 2 * w // 64 lanes of w bytes are 2w vectors of 32 bytes
	acc := make([]reg.VecVirtual, min(vectors, 4))
	Comment(fmt.Sprintf("Registers: %d running maxima, each for every %dth vector of a group of 64 lanes.", len(acc), len(acc)))
	for i := range acc {
		acc[i] = YMM()
		VPXOR(acc[i], acc[i], acc[i])
	}
	var sign reg.VecVirtual
	maxu := func(src Op, a reg.VecVirtual) { maxLanes(w)(src, a, a) }
	if w == 8 {
		Comment("The 64-bit lanes are kept with their top bit flipped (sign), so that the", "signed compare orders them as unsigned.")
		sign = YMM()
		VPCMPEQQ(sign, sign, sign)
		VPSLLQ(U8(63), sign, sign)
		for _, a := range acc {
			VMOVDQU(sign, a) // unsigned 0, flipped
		}
		maxu = func(src Op, a reg.VecVirtual) {
			v, gt := YMM(), YMM()
			if m, ok := src.(Mem); ok {
				VPXOR(m, sign, v)
			} else {
				VMOVDQU(src, v)
			}
			VPCMPGTQ(v, a, gt)
			VPBLENDVB(gt, a, v, a)
		}
	}

	Label("group")
	TESTQ(groups, groups)
	JZ(LabelRef("fold"))
	for i := 0; i < vectors; i++ {
		maxu(Mem{Base: ptr, Disp: 32 * i}, acc[i%len(acc)])
	}
	ADDQ(U32(32*vectors), ptr)
	DECQ(groups)
	JMP(LabelRef("group"))

	Label("fold")
	Comment("Fold the vectors, then the lanes: 128-bit halves, then within them.")
	for _, a := range acc[1:] {
		maxu(a, acc[0])
	}
	m := acc[0]
	hi := YMM()
	VEXTRACTI128(U8(1), m, hi.AsX())
	maxu(hi, m)
	t := YMM()
	VPSHUFD(U8(0x4e), m, t)
	maxu(t, m)
	if w <= 4 {
		VPSHUFD(U8(0xb1), m, t)
		maxu(t, m)
	}
	if w == 2 {
		VPSRLD(U8(16), m, t)
		maxu(t, m)
	}
	if w == 8 {
		VPXOR(sign, m, m)
	}
	storeLowLane(w, m.AsX())
	VZEROUPPER()
	RET()
}

// storeLowLane returns the low lane, w bytes, of x.
func storeLowLane(w int, x reg.Register) {
	r := GP64()
	if w == 8 {
		VMOVQ(x, r)
		Store(r, ReturnIndex(0))
		return
	}
	VMOVD(x, r.As32())
	if w == 2 {
		Store(r.As16(), ReturnIndex(0))
		return
	}
	Store(r.As32(), ReturnIndex(0))
}

func maskName(r rule, k spec.Kernel, isa string) string { return "mask" + r.name + k.Name() + isa }

func maskSignature(r rule, k spec.Kernel) string {
	return fmt.Sprintf("func(bits []uint64, x []%s%s)", k.GoWord(), r.params(k))
}

func maskDoc(name string, r rule, k spec.Kernel, rest ...string) {
	Doc(append([]string{
		fmt.Sprintf("%s sets bit i%%64 of bits[i/64], for each of the first len(x) - len(x) %% 64", name),
		fmt.Sprintf("lanes i of x, to whether it counts: the lanes %s, for %s.", r.counts(k), types(k)),
	}, rest...)...)
	Pragma("noescape")
}

// maskAVX512 writes the AVX-512 mask kernel of rule r and element kernel
// k: the rule's test of each vector of a group of 64 lanes sets a mask
// register, and the masks, unpacked into one of 64 bits, are the group's
// word of the bitmap.
func maskAVX512(r rule, k spec.Kernel) {
	name := maskName(r, k, "AVX512")
	TEXT(name, NOSPLIT, maskSignature(r, k))
	maskDoc(name, r, k, "It requires AVX512F and AVX512BW.")
	t := r.zmm(k)
	kernelRoles([]string{fmt.Sprintf("%s: -1 in every lane;", zMinusOne.Asm())}, t.roles)
	out := Load(Param("bits").Base(), GP64())
	ptr := Load(Param("x").Base(), GP64())
	groups := Load(Param("x").Len(), GP64())
	SHRQ(U8(6), groups)
	VPTERNLOGD(Imm(0xff), zMinusOne, zMinusOne, zMinusOne)
	t.setup()

	Label("group")
	TESTQ(groups, groups)
	JZ(LabelRef("done"))
	Commentf("Test the %d vectors of 64 lanes and unpack their masks into one word.", k.Width)
	word := unpackTree(k.Width, 64/k.Width, func(v int) reg.OpmaskVirtual {
		hit := K()
		t.test(Mem{Base: ptr, Disp: 64 * v}, nil, hit)
		return hit
	})
	KMOVQ(word, Mem{Base: out})
	ADDQ(U32(64*k.Width), ptr)
	ADDQ(U8(8), out)
	DECQ(groups)
	JMP(LabelRef("group"))

	Label("done")
	VZEROUPPER()
	RET()
}

// unpackTree tests n vectors of lanes bits each with test and unpacks the
// masks pairwise, lower vector in the lower half, as they come (so that at
// most log2(n)+1 masks are live), into one mask of n*lanes bits.
func unpackTree(n, lanes int, test func(v int) reg.OpmaskVirtual) reg.OpmaskVirtual {
	type part struct {
		k    reg.OpmaskVirtual
		bits int
	}
	var stack []part
	for v := 0; v < n; v++ {
		stack = append(stack, part{test(v), lanes})
		for len(stack) >= 2 && stack[len(stack)-1].bits == stack[len(stack)-2].bits {
			lo, hi := stack[len(stack)-2], stack[len(stack)-1]
			both := K()
			switch lo.bits {
			case 8:
				KUNPCKBW(lo.k, hi.k, both)
			case 16:
				KUNPCKWD(lo.k, hi.k, both)
			case 32:
				KUNPCKDQ(lo.k, hi.k, both)
			}
			stack = append(stack[:len(stack)-2], part{both, 2 * lo.bits})
		}
	}
	return stack[0].k
}

// maskAVX2 writes the AVX2 mask kernel of rule r and element kernel k. The
// rule's AVX2 test sets every bit of each lane that does not count; a move
// of the lanes' top bits into a general register (through a pack of the
// 16-bit lanes into bytes) gathers a vector's bits, and the complement of
// the group's is its word of the bitmap.
func maskAVX2(r rule, k spec.Kernel) {
	name := maskName(r, k, "AVX2")
	TEXT(name, NOSPLIT, maskSignature(r, k))
	maskDoc(name, r, k, "It requires AVX2.")
	t := r.ymm(k)
	kernelRoles([]string{fmt.Sprintf("%s: zero;", yZero.Asm())}, t.roles)
	out := Load(Param("bits").Base(), GP64())
	ptr := Load(Param("x").Base(), GP64())
	groups := Load(Param("x").Len(), GP64())
	SHRQ(U8(6), groups)
	VPXOR(yZero, yZero, yZero)
	t.setup()

	Label("group")
	TESTQ(groups, groups)
	JZ(LabelRef("done"))
	vectors := 2 * k.Width
	Commentf("The lanes that do not count of the %d vectors of 64 lanes, a bit each, into one word.", vectors)
	skipped := GP64()
	XORQ(skipped, skipped)
	// place ORs the bits of a vector's lanes into skipped, from its
	// first lane's place.
	place := func(bits reg.GPVirtual, lane int) {
		if lane > 0 {
			SHLQ(U8(lane), bits)
		}
		ORQ(bits, skipped)
	}
	switch k.Width {
	case 1:
		for v := 0; v < vectors; v++ {
			bits := GP64()
			VPMOVMSKB(t.skip(Mem{Base: ptr, Disp: 32 * v}), bits.As32())
			place(bits, 32*v)
		}
	case 2:
		for v := 0; v < vectors; v += 2 {
			lo, hi := t.skip(Mem{Base: ptr, Disp: 32 * v}), t.skip(Mem{Base: ptr, Disp: 32 * (v + 1)})
			packed := YMM()
			VPACKSSWB(hi, lo, packed)
			VPERMQ(U8(0xd8), packed, packed) // undo the pack's interleave of 128-bit halves
			bits := GP64()
			VPMOVMSKB(packed, bits.As32())
			place(bits, 16*v)
		}
	case 4:
		for v := 0; v < vectors; v++ {
			bits := GP64()
			VMOVMSKPS(t.skip(Mem{Base: ptr, Disp: 32 * v}), bits.As32())
			place(bits, 8*v)
		}
	case 8:
		for v := 0; v < vectors; v++ {
			bits := GP64()
			VMOVMSKPD(t.skip(Mem{Base: ptr, Disp: 32 * v}), bits.As32())
			place(bits, 4*v)
		}
	}
	NOTQ(skipped)
	MOVQ(skipped, Mem{Base: out})
	ADDQ(U32(64*k.Width), ptr)
	ADDQ(U8(8), out)
	DECQ(groups)
	JMP(LabelRef("group"))

	Label("done")
	VZEROUPPER()
	RET()
}

// scatterBody is the entries of one iteration of the scatter loop, a
// quarter of a word of the bitmap, loaded and added in runs of scatterRun
// (more would be more live registers than there are).
//
// The loop must not be unrolled to a whole word: with 64 entries in one
// iteration, a run of the same index (every entry into one byte) runs
// 6x slower on Zen 5 (0.5 against 3.2 G entries/s, and the same on random
// indices), as if the core no longer forwarded each read-modify-write to
// the next without a stall.
const (
	scatterBody = 16
	scatterRun  = 4
)

// scatter writes the scatter kernel of index lanes of w bytes. It is
// scalar, a word of the bitmap (64 entries) at a time, unrolled: for each
// entry, a load of the index, a compare with len(small) (the range check,
// a branch never taken), a shift of the word that moves the entry's bit
// into the carry flag, an ADC of it into the entry's byte counter, and an
// ADC of the counter's own carry out (a wrap from 255 to 0) into a
// register, whose 64 bits are, after the word, the entries that wrapped.
// Only a word with a wrap (rare: one increment in 256 at most) takes a
// branch, to the code that records the indices of those entries. A run of
// the same index keeps adding to one byte in memory, which the
// read-modify-write ADC does without a store-to-load stall on current
// cores (but see scatterBody): no sub-histograms are needed against
// repeated indices.
//
// Measured on Zen 5 against a branch on the carry of each entry: 1.2x
// the entries per second at 16,384 features (in L1), the same at 2^20.
func scatter(w int) {
	name := fmt.Sprintf("scatterIndex%d", 8*w)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(small []uint8, index []uint%d, bits []uint64, carries []uint32) (carried, bad int)", 8*w))
	Doc(
		fmt.Sprintf("%s adds bit i%%64 of bits[i/64] to small[index[i]], for each entry i in", name),
		"order, in 8-bit arithmetic, until an index is not below len(small): it returns",
		"the position of that entry as bad, or -1. It writes the index of each counter",
		"that wraps from 255 to 0 to carries, in the order of the entries, and returns",
		"how many it wrote. len(bits) must be at least (len(index)+63)/64 and",
		"len(carries) at least len(index). It needs no extension of amd64.",
	)
	Pragma("noescape")
	small := Load(Param("small").Base(), GP64())
	limit := Load(Param("small").Len(), GP64())
	index := Load(Param("index").Base(), GP64())
	groups := Load(Param("index").Len(), GP64())
	bits := Load(Param("bits").Base(), GP64())
	carries := Load(Param("carries").Base(), GP64())
	kernelRoles([]string{
		"the bitmap's word is shifted out a bit at a time, into the carry flag;",
		"the wraps of a word's counters are shifted in, a bit at a time, from the carry flag.",
	})
	SHRQ(U8(6), groups)
	word, wraps := GP64(), GP64()
	load := func(m Mem) reg.GPVirtual {
		j := GP64()
		switch w {
		case 2:
			MOVWLZX(m, j.As32())
		case 4:
			MOVL(m, j.As32())
		case 8:
			MOVQ(m, j)
		}
		return j
	}
	// check jumps to bad if j is not below limit.
	check := func(j reg.GPVirtual) {
		CMPQ(j, limit)
		JAE(LabelRef("bad"))
	}

	Label("group")
	TESTQ(groups, groups)
	JZ(LabelRef("tail"))
	MOVQ(Mem{Base: bits}, word)
	XORL(wraps.As32(), wraps.As32())
	iterations := GP64()
	MOVL(U32(64/scatterBody), iterations.As32())
	Label("loop")
	Commentf("%d entries, in runs of %d: load the indices, then check and add each one's bit.", scatterBody, scatterRun)
	for run := 0; run < scatterBody; run += scatterRun {
		js := make([]reg.GPVirtual, scatterRun)
		for e := range js {
			js[e] = load(Mem{Base: index, Disp: w * (run + e)})
		}
		for _, j := range js {
			check(j)
			SHRQ(U8(1), word)
			ADCB(U8(0), Mem{Base: small, Index: j, Scale: 1})
			ADCQ(wraps, wraps)
		}
	}
	ADDQ(U32(w*scatterBody), index)
	DECL(iterations.As32())
	JNZ(LabelRef("loop"))
	TESTQ(wraps, wraps)
	JNZ(LabelRef("wrapped"))
	Label("next")
	ADDQ(U8(8), bits)
	DECQ(groups)
	JMP(LabelRef("group"))

	Label("wrapped")
	Comment("Record the index of each entry of the word whose counter wrapped: entry e is bit 63-e.")
	bit, e := GP64(), GP64()
	BSRQ(wraps, bit)
	MOVL(U32(63), e.As32())
	SUBQ(bit, e)
	j := load(Mem{Base: index, Index: e, Scale: uint8(w), Disp: -64 * w})
	MOVL(j.As32(), Mem{Base: carries})
	ADDQ(U8(4), carries)
	BTRQ(bit, wraps)
	TESTQ(wraps, wraps)
	JNZ(LabelRef("wrapped"))
	JMP(LabelRef("next"))

	Label("tail")
	Comment("The last entries, fewer than 64, one at a time.")
	n := Load(Param("index").Len(), GP64())
	ANDQ(U8(63), n)
	JZ(LabelRef("done"))
	MOVQ(Mem{Base: bits}, word)
	Label("tailLoop")
	j = load(Mem{Base: index})
	check(j)
	SHRQ(U8(1), word)
	ADCB(U8(0), Mem{Base: small, Index: j, Scale: 1})
	JNC(LabelRef("tailNext"))
	MOVL(j.As32(), Mem{Base: carries})
	ADDQ(U8(4), carries)
	Label("tailNext")
	ADDQ(U8(w), index)
	DECQ(n)
	JNZ(LabelRef("tailLoop"))

	Label("done")
	bad := GP64()
	MOVQ(I32(-1), bad)
	Label("return")
	Store(bad, ReturnIndex(1))
	Comment("carried: the carries written, from the advance of their pointer")
	first := Load(Param("carries").Base(), GP64())
	SUBQ(first, carries)
	SHRQ(U8(2), carries)
	Store(carries, ReturnIndex(0))
	RET()

	Label("bad")
	Comment("An index out of range: find the first from the entry the pointer is at (the", "first of an iteration, or of the tail).")
	at := GP64()
	MOVQ(index, at)
	start := Load(Param("index").Base(), GP64())
	SUBQ(start, at)
	if w > 1 {
		SHRQ(U8(log2(w)), at)
	}
	Label("find")
	j = load(Mem{Base: index})
	CMPQ(j, limit)
	JAE(LabelRef("found"))
	ADDQ(U8(w), index)
	INCQ(at)
	JMP(LabelRef("find"))
	Label("found")
	MOVQ(at, bad)
	JMP(LabelRef("return"))
}

func widenDoc(name string, rest ...string) {
	Doc(append([]string{
		fmt.Sprintf("%s adds small[i] to counts[i] and clears small[i], for each of the", name),
		"first len(small) - len(small) % 64 counters; len(counts) must be at least that.",
	}, rest...)...)
	Pragma("noescape")
}

// widenAVX512 writes the AVX-512 widen kernel: per group of 64 counters,
// eight zero-extensions of 8 bytes into quadwords, each added to 8 counts
// and stored, then a store of 64 zero bytes over the group.
func widenAVX512() {
	name := "widenIndexAVX512"
	TEXT(name, NOSPLIT, "func(counts []uint64, small []uint8)")
	widenDoc(name, "It requires AVX512F and AVX512BW.")
	counts := Load(Param("counts").Base(), GP64())
	small := Load(Param("small").Base(), GP64())
	groups := Load(Param("small").Len(), GP64())
	SHRQ(U8(6), groups)
	zero := ZMM()
	VPXORQ(zero, zero, zero)
	Label("group")
	TESTQ(groups, groups)
	JZ(LabelRef("done"))
	for q := 0; q < 8; q++ {
		v := ZMM()
		VPMOVZXBQ(Mem{Base: small, Disp: 8 * q}, v)
		VPADDQ(Mem{Base: counts, Disp: 64 * q}, v, v)
		VMOVDQU64(v, Mem{Base: counts, Disp: 64 * q})
	}
	VMOVDQU64(zero, Mem{Base: small})
	ADDQ(U8(64), small)
	ADDQ(U32(512), counts)
	DECQ(groups)
	JMP(LabelRef("group"))
	Label("done")
	VZEROUPPER()
	RET()
}

// widenAVX2 writes the AVX2 widen kernel: widenAVX512 with 4 quadwords
// per vector.
func widenAVX2() {
	name := "widenIndexAVX2"
	TEXT(name, NOSPLIT, "func(counts []uint64, small []uint8)")
	widenDoc(name, "It requires AVX2.")
	counts := Load(Param("counts").Base(), GP64())
	small := Load(Param("small").Base(), GP64())
	groups := Load(Param("small").Len(), GP64())
	SHRQ(U8(6), groups)
	zero := YMM()
	VPXOR(zero, zero, zero)
	Label("group")
	TESTQ(groups, groups)
	JZ(LabelRef("done"))
	for q := 0; q < 16; q++ {
		v := YMM()
		VPMOVZXBQ(Mem{Base: small, Disp: 4 * q}, v)
		VPADDQ(Mem{Base: counts, Disp: 32 * q}, v, v)
		VMOVDQU(v, Mem{Base: counts, Disp: 32 * q})
	}
	VMOVDQU(zero, Mem{Base: small})
	VMOVDQU(zero, Mem{Base: small, Disp: 32})
	ADDQ(U8(64), small)
	ADDQ(U32(512), counts)
	DECQ(groups)
	JMP(LabelRef("group"))
	Label("done")
	VZEROUPPER()
	RET()
}
