package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The streamlast family: the AVX-512 stream kernels (stream.go) that also
// mark, per column, the last row in which it counts, for every rule. The
// mask each row's test already gives for the count drives a merge-masked
// move of the row's number into a register of marks, one per vector of
// counters, loaded and stored beside them: the batch is read once. A metric
// keeps with them the position of the last vector in which each feature
// fired (kernel/columnlast.go).
func init() {
	register("streamlast", func() {
		for _, r := range []rule{nonZero, aboveBits, aboveKeys, absAbove} {
			for _, k := range r.kernels {
				streamLastAVX512(r, k)
			}
		}
		for _, r := range []rule{nonZero, aboveBits, aboveKeys, absAbove} {
			for _, k := range r.kernels {
				if k.Width <= 4 {
					streamLastAVX2(r, k)
				}
			}
		}
	})
}

func streamLastName(r rule, k spec.Kernel, isa string) string {
	return "add" + r.name + "StreamLast" + k.Name() + isa
}

// streamLastAVX512 writes the AVX-512 marking stream kernel of rule r and
// element kernel k: streamAVX512's groups of rows for whole vectors of
// columns (cols is a multiple of 64: the caller counts the other columns),
// and per vector of each row, beside the merge-masked VPSUBB of the
// counters, a merge-masked VMOVDQU8 of the row's number into the marks.
func streamLastAVX512(r rule, k spec.Kernel) {
	name := streamLastName(r, k, "AVX512")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(counts, lastb []uint8, x []%s, cols, stride, rows, row int%s)", k.GoWord(), r.params(k)))
	Doc(
		fmt.Sprintf("%s adds to the byte counts[j], j < cols, the number of rows r < rows", name),
		fmt.Sprintf("whose lane b = x[r*stride+j] counts: the lanes %s, for %s;", r.counts(k), types(k)),
		"and sets lastb[j] = row + r for each such row r, in order (the last one stays).",
		"cols is a multiple of 64; rows must be at most 255 less the largest count, and",
		"row + rows - 1 at most 255. It requires AVX512F, AVX512BW and AVX512VL.",
	)
	Pragma("noescape")
	alignEntry()
	lanes := 64 / k.Width
	t := r.zmm(k)
	kernelRoles([]string{
		fmt.Sprintf("%s: -1 in every lane, the counters' increment;", zMinusOne.Asm()),
	}, t.roles)
	s := loadStream(k)
	delta := Load(Param("lastb").Base(), GP64())
	SUBQ(s.counts, delta)
	VPTERNLOGD(Imm(0xff), zMinusOne, zMinusOne, zMinusOne)
	t.setup()
	row := GP64()
	Load(Param("row"), row)
	zRow := ZMM()
	VPBROADCASTB(row.As32(), zRow)

	sized := func(z vec) Op {
		switch lanes {
		case 8, 16:
			return z.AsX()
		case 32:
			return z.AsY()
		}
		return z
	}
	minusOne := sized(zMinusOne)
	// group counts the vector at offset disp of the rows of the group
	// (bases: every other row, the rows between a stride further) into one
	// update of its counters at c and of its marks at c+delta, row g's
	// number in rowv[g].
	group := func(bases []reg.Register, rows int, disp int, c reg.Register, rowv []reg.VecVirtual) {
		v, load, store := counterRegister(lanes)
		m, loadMarks, storeMarks := counterRegister(lanes)
		load(Mem{Base: c, Disp: disp / k.Width})
		loadMarks(Mem{Base: c, Index: delta, Scale: 1, Disp: disp / k.Width})
		for g := 0; g < rows; g++ {
			src := Mem{Base: bases[g/2], Disp: disp}
			if g%2 == 1 {
				src = Mem{Base: bases[g/2], Index: s.stride, Scale: 1, Disp: disp}
			}
			hit := K()
			t.test(src, nil, hit)
			VPSUBB(minusOne, v, hit, v)
			VMOVDQU8(sized(rowv[g]), hit, m)
		}
		store(Mem{Base: c, Disp: disp / k.Width})
		storeMarks(Mem{Base: c, Index: delta, Scale: 1, Disp: disp / k.Width})
	}

	TESTQ(s.rows, s.rows)
	JZ(LabelRef("done"))
	TESTQ(s.cols, s.cols)
	JZ(LabelRef("done"))
	for _, g := range []int{streamGroupRows, 1} {
		label := func(name string) string { return fmt.Sprintf("%s%d", name, g) }
		bases := groupHead(s, g, label)
		Commentf("The numbers of the group's %d row(s).", g)
		rowv := []reg.VecVirtual{zRow}
		for i := 1; i < g; i++ {
			next := ZMM()
			VPSUBB(zMinusOne, rowv[i-1], next)
			rowv = append(rowv, next)
		}
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
		for i := 0; i < 4; i++ {
			group(bases, g, 64*i, c, rowv)
		}
		advance(64 * 4)
		ADDQ(U32(lanes*4), c)
		SUBQ(U32(lanes*4), n)
		JMP(LabelRef(label("runs")))
		Label(label("vectors"))
		TESTQ(n, n)
		JZ(LabelRef(label("next")))
		group(bases, g, 0, c, rowv)
		advance(64)
		ADDQ(U32(lanes), c)
		SUBQ(U32(lanes), n)
		JMP(LabelRef(label("vectors")))
		Label(label("next"))
		VPSUBB(zMinusOne, rowv[g-1], zRow)
		groupFoot(s, g, label)
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// streamLastAVX2 writes the AVX2 marking stream kernel of rule r and
// element kernel k, for lanes of 1, 2 and 4 bytes: streamAVX2's runs of 32
// columns, but each row's lanes that do not count packed to bytes on
// their own, to blend (VPBLENDVB) the row's number into the marks of the
// lanes that count; their sum over the group's rows updates the counters.
// cols is a multiple of 32.
func streamLastAVX2(r rule, k spec.Kernel) {
	name := streamLastName(r, k, "AVX2")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(counts, lastb []uint8, x []%s, cols, stride, rows, row int%s)", k.GoWord(), r.params(k)))
	Doc(
		fmt.Sprintf("%s adds to the byte counts[j], j < cols, the number of rows r < rows", name),
		fmt.Sprintf("whose lane b = x[r*stride+j] counts: the lanes %s, for %s;", r.counts(k), types(k)),
		"and sets lastb[j] = row + r for each such row r, in order (the last one stays).",
		"cols is a multiple of 32; rows must be at most 255 less the largest count, and",
		"row + rows - 1 at most 255. It requires AVX2.",
	)
	Pragma("noescape")
	t := r.ymm(k)
	perRun := k.Width // vectors of 32 bytes per run of 32 lanes
	kernelRoles([]string{
		fmt.Sprintf("%s: zero; %s and %s: 1 and 4 in every byte; %s: the order of the packed doublewords", yZero.Asm(), yOne.Asm(), yFour.Asm(), yOrder.Asm()),
	}, t.roles)
	s := loadStream(k)
	delta := Load(Param("lastb").Base(), GP64())
	SUBQ(s.counts, delta)
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
	VPADDB(yOne, yOne, yFour)
	yTwo, yThree := YMM(), YMM()
	VMOVDQU(yFour, yTwo)
	VPADDB(yOne, yTwo, yThree)
	VPADDB(yFour, yFour, yFour)
	row := GP64()
	Load(Param("row"), row)
	xRow, yRow := XMM(), YMM()
	VMOVQ(row, xRow)
	VPBROADCASTB(xRow, yRow)

	TESTQ(s.rows, s.rows)
	JZ(LabelRef("done"))
	TESTQ(s.cols, s.cols)
	JZ(LabelRef("done"))
	for _, g := range []int{streamGroupRows, 1} {
		label := func(name string) string { return fmt.Sprintf("%s%d", name, g) }
		bases := groupHead(s, g, label)
		c, n := GP64(), GP64()
		MOVQ(s.counts, c)
		MOVQ(s.cols, n)
		Label(label("runs"))
		Comment("A run of 32 columns: each row's lanes packed to bytes, blended into the marks,",
			"summed into the counters.")
		marks := YMM()
		VMOVDQU(Mem{Base: c, Index: delta, Scale: 1}, marks)
		var sum reg.VecVirtual
		for gr := 0; gr < g; gr++ {
			skip := make([]reg.VecVirtual, perRun)
			for i := range skip {
				m := Mem{Base: bases[gr/2], Disp: 32 * i}
				if gr%2 == 1 {
					m = Mem{Base: bases[gr/2], Index: s.stride, Scale: 1, Disp: 32 * i}
				}
				skip[i] = t.skip(m)
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
			number := yRow
			if gr > 0 {
				Commentf("The number of row %d of the group.", gr)
				number = YMM()
				VPADDB(map[int]reg.Register{1: yOne, 2: yTwo, 3: yThree}[gr], yRow, number)
			}
			VPBLENDVB(packed, marks, number, marks)
			if gr == 0 {
				sum = packed
				continue
			}
			VPADDB(packed, sum, sum)
		}
		VMOVDQU(marks, Mem{Base: c, Index: delta, Scale: 1})
		Commentf("The lanes that count: %d less those that do not.", g)
		VPADDB(map[int]reg.Register{1: yOne, 4: yFour}[g], sum, sum)
		VPADDB(Mem{Base: c}, sum, sum)
		VMOVDQU(sum, Mem{Base: c})
		for _, b := range bases {
			ADDQ(U32(32*k.Width), b)
		}
		ADDQ(U32(32), c)
		SUBQ(U32(32), n)
		JNZ(LabelRef(label("runs")))
		VPADDB(map[int]reg.Register{1: yOne, 4: yFour}[g], yRow, yRow)
		groupFoot(s, g, label)
	}
	Label("done")
	VZEROUPPER()
	RET()
}
