package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The stream shape: per-column counts of a matrix read row after row, in
// the order of memory, into byte counters, one per column, that the caller
// keeps (and widens before 255 rows). The column tiles (columns.go) read a
// strip of each row and jump a row ahead, which the hardware prefetchers do
// not follow; a stream reads whole rows, as a flat count does, so a matrix
// from DRAM comes at the read limit. It is for wide rows: the counters are
// in memory (in L1 for up to some ten thousand columns), where a narrow
// strip keeps its counters in registers.
//
// A kernel takes the byte counters (len(counts) at least cols rounded up to
// a vector's lanes: it reads and writes the padding, adding nothing to it),
// the matrix x, its columns, row stride (elements) and rows. Per vector of
// a row the rule's test gives a mask (AVX-512) or -1 in the lanes that do
// not count (AVX2), and the counters of the vector's columns gain one in the
// lanes that count.

func streamName(r rule, k spec.Kernel, isa string) string {
	return "add" + r.name + "Stream" + k.Name() + isa
}

func streamSignature(r rule, k spec.Kernel) string {
	return fmt.Sprintf("func(counts []uint8, x []%s, cols, stride, rows int%s)", k.GoWord(), r.params(k))
}

func streamDoc(name string, r rule, k spec.Kernel, rest ...string) {
	Doc(append([]string{
		fmt.Sprintf("%s adds to the byte counts[j], j < cols, the number of rows r < rows", name),
		fmt.Sprintf("whose lane b = x[r*stride+j] counts: the lanes %s, for %s.", r.counts(k), types(k)),
		"It reads the rows in order; rows must be at most 255 less the largest count, and",
		"len(counts) at least cols rounded up to a vector's lanes (the padding is read and",
		"written back unchanged).",
	}, rest...)...)
	Pragma("noescape")
}

// streamRegisters are the general registers of a stream kernel.
type streamRegisters struct {
	counts, ptr, cols, stride, rows reg.Register
}

// loadStream loads a stream kernel's parameters, the stride in bytes.
func loadStream(k spec.Kernel) streamRegisters {
	s := streamRegisters{
		counts: Load(Param("counts").Base(), GP64()),
		ptr:    Load(Param("x").Base(), GP64()),
		cols:   Load(Param("cols"), GP64()),
		stride: Load(Param("stride"), GP64()),
		rows:   Load(Param("rows"), GP64()),
	}
	if k.Width > 1 {
		SHLQ(U8(log2(k.Width)), s.stride)
	}
	return s
}

// streamRows emits the row loop: for each row, p pointing at its first
// element and c at the first counter, whole runs of unroll vectors, then
// whole vectors, then tail (which may be nil) with the lanes left, n.
func streamRows(s streamRegisters, lanes, unroll int, run func(p, c reg.Register), vector func(p, c reg.Register, i int), tail func(p, c, n reg.Register)) {
	TESTQ(s.rows, s.rows)
	JZ(LabelRef("done"))
	Label("row")
	p, c, n := GP64(), GP64(), GP64()
	MOVQ(s.ptr, p)
	MOVQ(s.counts, c)
	MOVQ(s.cols, n)
	Label("runs")
	Commentf("Runs of %d vectors of the row, and their %d counters.", unroll, unroll*lanes)
	CMPQ(n, U32(unroll*lanes))
	JB(LabelRef("vectors"))
	run(p, c)
	ADDQ(U32(64*unroll), p)
	ADDQ(U32(lanes*unroll), c)
	SUBQ(U32(lanes*unroll), n)
	JMP(LabelRef("runs"))
	Label("vectors")
	Comment("Whole vectors left.")
	CMPQ(n, U32(lanes))
	JB(LabelRef("tail"))
	vector(p, c, 0)
	ADDQ(U32(64), p)
	ADDQ(U32(lanes), c)
	SUBQ(U32(lanes), n)
	JMP(LabelRef("vectors"))
	Label("tail")
	if tail != nil {
		tail(p, c, n)
	}
	Comment("Next row.")
	ADDQ(s.stride, s.ptr)
	DECQ(s.rows)
	JNZ(LabelRef("row"))
	Label("done")
}

// streamAVX512 writes the AVX-512 stream kernel of rule r and element
// kernel k: per vector the rule's test into a mask, and a merge-masked
// VPSUBB of -1 into the vector's byte counters (8 to 64 of them: an XMM, a
// YMM or a ZMM register's low bytes, one per lane). The columns after the
// last whole vector of a row are read as the vector that ends at the row's
// end, the columns already counted masked off, its hits shifted down to
// the counters of those columns; rows narrower than a vector are read
// as the column tiles read their partial strip (partialRows). No load
// reaches past x.
func streamAVX512(r rule, k spec.Kernel) {
	name := streamName(r, k, "AVX512")
	TEXT(name, NOSPLIT, streamSignature(r, k))
	streamDoc(name, r, k, "It requires AVX512F and AVX512BW.")
	alignEntry()
	l := lanesOf(k.Width)
	lanes := 64 / k.Width
	t := r.zmm(k)
	kernelRoles([]string{
		fmt.Sprintf("%s: -1 in every lane, the counters' increment;", zMinusOne.Asm()),
	}, t.roles)
	s := loadStream(k)
	VPTERNLOGD(Imm(0xff), zMinusOne, zMinusOne, zMinusOne)
	t.setup()
	CMPQ(s.cols, U32(lanes))
	JB(LabelRef("narrow"))

	counters := func() (v reg.Register, load, store func(m Mem)) { return counterRegister(lanes) }
	minusOne := map[int]Op{8: zMinusOne.AsX(), 16: zMinusOne.AsX(), 32: zMinusOne.AsY(), 64: zMinusOne}[lanes]
	// group counts the vector at offset disp of the rows of the group at
	// p, p+stride, q and q+stride (or of the one row at p, q nil), among
	// valid if not nil, into one update of its counters at c; with shift
	// not nil, lane i of the vector into counter i-shift.
	group := func(bases []reg.Register, stride reg.Register, rows int, disp int, c Mem, valid reg.OpmaskVirtual, shift reg.Register) {
		v, load, store := counters()
		load(c)
		for g := 0; g < rows; g++ {
			m := Mem{Base: bases[g/2], Disp: disp}
			if g%2 == 1 {
				m = Mem{Base: bases[g/2], Index: stride, Scale: 1, Disp: disp}
			}
			hit := K()
			if valid != nil {
				x := ZMM()
				l.loadz(m, valid, x)
				t.test(x, valid, hit)
			} else {
				t.test(m, nil, hit)
			}
			if shift != nil {
				bits := GP64()
				if k.Width == 1 {
					KMOVQ(hit, bits)
				} else {
					l.kmov(hit, bits.As32())
				}
				SHRXQ(shift, bits, bits)
				hit = kmovLanes(l, bits)
			}
			VPSUBB(minusOne, v, hit, v)
		}
		store(c)
	}
	streamGroups(s, lanes, streamGroupRows, func(bases []reg.Register, c reg.Register, rows int) {
		for i := 0; i < 4; i++ {
			group(bases, s.stride, rows, 64*i, Mem{Base: c, Disp: lanes * i}, nil, nil)
		}
	}, func(bases []reg.Register, c reg.Register, rows int) {
		group(bases, s.stride, rows, 0, Mem{Base: c}, nil, nil)
	}, func(bases []reg.Register, c, n reg.Register, rows int) {
		Comment("The last n = cols % lanes columns. While the 64 bytes from the last row's",
			"piece stay within x: masked, zeroing loads from each piece. Else the vector that",
			"ends at each row's end (cols >= lanes), masked to its last n lanes, whose hits",
			"shifted down by lanes-n go to the counters at c (not to those of the vector's",
			"own columns: their load would overlap the previous vector's store and wait).")
		label := func(s string) string { return fmt.Sprintf("%s%d", s, rows) }
		TESTQ(n, n)
		JZ(LabelRef(label("next")))
		last, m := GP64(), Mem{Base: bases[(rows-1)/2], Disp: 64}
		if (rows-1)%2 == 1 {
			m = Mem{Base: bases[(rows-1)/2], Index: s.stride, Scale: 1, Disp: 64}
		}
		LEAQ(m, last)
		xBase, xLen := Load(Param("x").Base(), GP64()), Load(Param("x").Len(), GP64())
		LEAQ(Mem{Base: xBase, Index: xLen, Scale: uint8(k.Width)}, xBase)
		CMPQ(last, xBase)
		JA(LabelRef(label("ending")))
		group(bases, s.stride, rows, 0, Mem{Base: c}, tailMask(l, n), nil)
		JMP(LabelRef(label("next")))
		Label(label("ending"))
		end := GP64()
		MOVQ(n, end)
		if k.Width > 1 {
			SHLQ(U8(log2(k.Width)), end)
		}
		for _, b := range bases {
			ADDQ(end, b)
		}
		shift, keep := GP64(), GP64()
		MOVL(U32(lanes), shift.As32())
		SUBQ(n, shift)
		MOVQ(I32(-1), keep)
		SHLXQ(shift, keep, keep)
		group(bases, s.stride, rows, -64, Mem{Base: c}, kmovLanes(l, keep), shift)
		Label(fmt.Sprintf("next%d", rows))
	})
	VZEROUPPER()
	RET()

	Label("narrow")
	Comment("Rows narrower than a vector: each row's cols lanes under a mask, into the counters",
		"of the first vector, kept in a register.")
	TESTQ(s.rows, s.rows)
	JZ(LabelRef("narrowReturn"))
	v, load, store := counters()
	load(Mem{Base: s.counts})
	keep := GP64()
	MOVQ(I32(-1), keep)
	BZHIQ(s.cols, keep, keep)
	valid := kmovLanes(l, keep)
	partialRows(l, t, "narrow", s.ptr, lastRow(s.ptr, s.stride, s.rows), s.stride, s.cols, valid, func(hit reg.OpmaskVirtual) {
		VPSUBB(minusOne, v, hit, v)
	})
	store(Mem{Base: s.counts})
	Label("narrowReturn")
	VZEROUPPER()
	RET()
}

// counterRegister returns a register for n byte counters (8, 16, 32 or
// 64), and its load and store.
func counterRegister(n int) (v reg.Register, load, store func(m Mem)) {
	switch n {
	case 8:
		x := XMM()
		return x, func(m Mem) { VMOVQ(m, x) }, func(m Mem) { VMOVQ(x, m) }
	case 16:
		x := XMM()
		return x, func(m Mem) { VMOVDQU8(m, x) }, func(m Mem) { VMOVDQU8(x, m) }
	case 32:
		y := YMM()
		return y, func(m Mem) { VMOVDQU8(m, y) }, func(m Mem) { VMOVDQU8(y, m) }
	}
	z := ZMM()
	return z, func(m Mem) { VMOVDQU8(m, z) }, func(m Mem) { VMOVDQU8(z, m) }
}

// streamAVX2 writes the AVX2 stream kernel of rule r and element kernel k,
// for lanes of 1, 2 and 4 bytes. The rule gives -1 in the lanes that do not
// count; packed to bytes, in column order, and and-not 1, that is 1 in the
// lanes that count, added to the byte counters, 32 at a time: four vectors
// of doublewords (two packs and a permutation), two of words (a pack and a
// permutation) or one of bytes. It reads whole runs of 32 columns only: the
// caller counts the last cols % 32 columns.
func streamAVX2(r rule, k spec.Kernel) {
	name := streamName(r, k, "AVX2")
	TEXT(name, NOSPLIT, streamSignature(r, k))
	streamDoc(name, r, k, "It requires AVX2, and reads whole runs of 32 columns of each row only: it ignores",
		"the last cols % 32 columns, which the caller counts.")
	t := r.ymm(k)
	perRun := 32 / 32 * k.Width // vectors of 32 bytes per run of 32 lanes
	kernelRoles([]string{
		fmt.Sprintf("%s: zero; %s and %s: 1 and 4 in every byte; %s: the order of the packed doublewords", yZero.Asm(), yOne.Asm(), yFour.Asm(), yOrder.Asm()),
	}, t.roles)
	s := loadStream(k)
	VPXOR(yZero, yZero, yZero)
	VPCMPEQD(yOne, yOne, yOne)
	VPABSB(yOne, yOne)
	if k.Width == 4 {
		Comment("The doublewords of two packs of four vectors, back in column order.")
		order := GLOBL(fmt.Sprintf("streamOrder%s", name), RODATA|NOPTR)
		for i, d := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
			DATA(4*i, U32(d))
		}
		VMOVDQU(order, yOrder)
	}
	t.setup()
	// Runs of 32 lanes: 32*width bytes of the row, perRun vectors.
	ANDQ(I32(-32), s.cols)
	VPADDB(yOne, yOne, yFour)
	VPADDB(yFour, yFour, yFour)
	streamRowsAVX2(s, k.Width, streamGroupRows, func(bases []reg.Register, c reg.Register, rows int) {
		// skip: per vector of the run, the lanes that do not count, summed
		// over the rows of the group (-rows to 0 in each lane).
		skip := make([]reg.VecVirtual, perRun)
		for g := 0; g < rows; g++ {
			for i := range skip {
				m := Mem{Base: bases[g/2], Disp: 32 * i}
				if g%2 == 1 {
					m = Mem{Base: bases[g/2], Index: s.stride, Scale: 1, Disp: 32 * i}
				}
				v := t.skip(m)
				if g == 0 {
					skip[i] = v
					continue
				}
				lanesOf(k.Width).add(v, skip[i], skip[i])
			}
		}
		packed := skip[0]
		switch k.Width {
		case 2:
			VPACKSSWB(skip[1], skip[0], packed)
			VPERMQ(Imm(0xd8), packed, packed)
		case 4:
			VPACKSSDW(skip[1], skip[0], skip[0])
			VPACKSSDW(skip[3], skip[2], skip[2])
			VPACKSSWB(skip[2], skip[0], packed)
			VPERMD(packed, yOrder, packed)
		}
		Commentf("The lanes that count: %d less those that do not.", rows)
		VPADDB(map[int]reg.Register{1: yOne, 4: yFour}[rows], packed, packed)
		VPADDB(Mem{Base: c}, packed, packed)
		VMOVDQU(packed, Mem{Base: c})
	})
	VZEROUPPER()
	RET()
}

// streamRowsAVX2 emits the row loop of an AVX2 stream kernel: groups of
// rows side by side while there are that many, then single rows; run, once
// per 32 columns of the group's rows, with bases at their first elements
// (every other row; the rows between a stride further) and c at their
// first counter. cols is a multiple of 32.
func streamRowsAVX2(s streamRegisters, width, rows int, run func(bases []reg.Register, c reg.Register, rows int)) {
	TESTQ(s.cols, s.cols)
	JZ(LabelRef("done"))
	for _, g := range []int{rows, 1} {
		label := func(name string) string { return fmt.Sprintf("%s%d", name, g) }
		bases := groupHead(s, g, label)
		c, n := GP64(), GP64()
		MOVQ(s.counts, c)
		MOVQ(s.cols, n)
		Label(label("runs"))
		Comment("A run of 32 columns: their lanes packed to bytes, added to their counters.")
		run(bases, c, g)
		for _, b := range bases {
			ADDQ(U32(32*width), b)
		}
		ADDQ(U32(32), c)
		SUBQ(U32(32), n)
		JNZ(LabelRef(label("runs")))
		groupFoot(s, g, label)
	}
	Label("done")
}

// groupHead emits the head of the loop over groups of g rows (1 or the
// stream's group), shared by both levels: its label, the check that g rows
// are left (else on to single rows, or done), and the group's bases, a
// pointer to every other row of it, the rows between a stride further.
func groupHead(s streamRegisters, g int, label func(string) string) []reg.Register {
	Label(label("rows"))
	Commentf("Groups of %d row(s) side by side.", g)
	CMPQ(s.rows, U32(g))
	if g > 1 {
		JB(LabelRef("rows1"))
	} else {
		JB(LabelRef("done"))
	}
	bases := make([]reg.Register, (g+1)/2)
	for i := range bases {
		bases[i] = GP64()
		if i == 0 {
			MOVQ(s.ptr, bases[i])
			continue
		}
		MOVQ(s.stride, bases[i])
		SHLQ(U8(1), bases[i])
		ADDQ(bases[i-1], bases[i])
	}
	return bases
}

// groupFoot emits the foot of that loop: on to the next g rows.
func groupFoot(s streamRegisters, g int, label func(string) string) {
	Commentf("The next %d row(s).", g)
	for i := 0; i < g; i++ {
		ADDQ(s.stride, s.ptr)
	}
	SUBQ(U32(g), s.rows)
	JMP(LabelRef(label("rows")))
}

// Registers of the AVX2 stream kernels.
var (
	yOne   = reg.Y10 // 1 in every byte
	yOrder = reg.Y9  // the doubleword order of VPERMD after two packs
	yFour  = reg.Y8  // 4 in every byte
)

// streamGroupRows is the rows an AVX-512 stream reads side by side: their
// vectors of the same columns share one update of the counters, which the
// stream of the input evicts from L1 between two rows.
var streamGroupRows = 4

// streamGroups emits the row loop of the AVX-512 stream: groups of rows
// side by side while there are that many, then single rows; run, vector and
// tail count a run of 4 vectors, one vector and the partial vector of each
// row of the group (bases: a pointer to every other row of the group, the
// rows between them a stride further; c: the counters).
func streamGroups(s streamRegisters, lanes, rows int, run, vector func(bases []reg.Register, c reg.Register, rows int), tail func(bases []reg.Register, c, n reg.Register, rows int)) {
	TESTQ(s.rows, s.rows)
	JZ(LabelRef("done"))
	for _, g := range []int{rows, 1} {
		label := func(name string) string { return fmt.Sprintf("%s%d", name, g) }
		bases := groupHead(s, g, label)
		c, n := GP64(), GP64()
		MOVQ(s.counts, c)
		MOVQ(s.cols, n)
		advance := func(bytes int) {
			for _, b := range bases {
				ADDQ(U32(bytes), b)
			}
		}
		alignLoop()
		Label(label("runs"))
		CMPQ(n, U32(4*lanes))
		JB(LabelRef(label("vectors")))
		run(bases, c, g)
		advance(64 * 4)
		ADDQ(U32(lanes*4), c)
		SUBQ(U32(lanes*4), n)
		JMP(LabelRef(label("runs")))
		Label(label("vectors"))
		CMPQ(n, U32(lanes))
		JB(LabelRef(label("tail")))
		vector(bases, c, g)
		advance(64)
		ADDQ(U32(lanes), c)
		SUBQ(U32(lanes), n)
		JMP(LabelRef(label("vectors")))
		Label(label("tail"))
		tail(bases, c, n, g)
		groupFoot(s, g, label)
	}
	Label("done")
}
