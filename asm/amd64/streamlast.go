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
