package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The columns shape: per-column counts of a row-major matrix tile, for
// AddNonZeroColumns, AddAboveColumns and AddAbsAboveColumns.
//
// A kernel takes the tile's counts (one uint64 per column), its first
// element x, the row stride in elements and the number of rows. It walks
// the columns in strips of a few vectors: a strip's lane counters live in
// vector registers, one lane per column, while the kernel runs down the
// rows of the strip, adding one to the lanes that count; at the bottom of
// the strip it widens the lane counters to quadwords and adds them to the
// strip's counts. The lane counters are as wide as the elements, so the
// caller bounds the rows of a tile (255 for bytes, 65535 for words); it
// also bounds the bytes of a tile, so one call is short.

// stripZMM and stripYMM are the vectors of a strip: the widest run of one
// row that one pass reads, as many lane counters as the registers hold next
// to the constants of the threshold compare.
const (
	stripZMM = 16
	stripYMM = 8
)

func columnsSignature(r rule, k spec.Kernel) string {
	return fmt.Sprintf("func(counts []uint64, x []%s, stride, rows int%s)", k.GoWord(), r.params(k))
}

func columnsDoc(name string, r rule, k spec.Kernel, rest ...string) {
	lines := []string{
		fmt.Sprintf("%s adds to counts[j] the number of rows r < rows whose lane", name),
		fmt.Sprintf("b = x[r*stride+j] counts: the lanes %s, for %s.", r.counts(k), types(k)),
	}
	if k.Width <= 2 {
		lines = append(lines, fmt.Sprintf("Its lane counters are %d-bit: rows must be at most %d.", k.Bits(), 1<<k.Bits()-1))
	}
	Doc(append(lines, rest...)...)
	Pragma("noescape")
}

// widen loads lane counters of width bytes from memory into the quadwords
// of a vector register: 8 into a ZMM register, 4 into a YMM register.
func widen(width int) func(ops ...Op) {
	return map[int]func(ops ...Op){1: VPMOVZXBQ, 2: VPMOVZXWQ, 4: VPMOVZXDQ}[width]
}

// group returns a register whose low bytes are group g of the lane
// counters in acc, groupBytes bytes each (the lanes widen turns into one
// vector of quadwords): acc itself, or its half (AVX-512, 4-byte lanes),
// or the 128-bit lane holding the group extracted and shifted down. All in
// registers: a round trip through memory, the counters stored and read
// back in narrower loads, stalled store-to-load forwarding on Zen 5
// whenever the spill slot straddled a cache line, at ~30 cycles a
// register: with one row, a flush every 64 bytes, AVX-512 columns ran at a
// quarter of the speed they have now.
func group(acc vec, groupBytes, g int) Op {
	off := g * groupBytes
	if groupBytes == 32 {
		if g == 0 {
			return acc.AsY()
		}
		y := YMM()
		VEXTRACTI64X4(U8(1), acc, y)
		return y
	}
	lane, shift := off/16, off%16
	if lane == 0 && shift == 0 {
		return acc.AsX()
	}
	x := XMM()
	src := acc.AsX()
	if lane > 0 {
		if acc.Size() == 64 {
			VEXTRACTI32X4(U8(lane), acc, x)
		} else {
			VEXTRACTI128(U8(lane), acc, x)
		}
		src = x
	}
	if shift > 0 {
		VPSRLDQ(U8(shift), src, x)
	}
	return x
}

// prefetchRows is how far below the current row a strip prefetches, in
// rows. A strip reads a short run of each row and jumps a whole row ahead:
// the hardware prefetchers, which follow runs within a page, do not see
// that stream, and the reorder window holds only a few rows of loads.
// Measured on [4096, 16384] float32 from DRAM (Zen 5): about +10% (AVX-512
// 26 -> 29 GB/s); 4, 8 and 16 rows do about the same there, 4 is best on
// matrices that fit in cache. It must be a power of two.
const prefetchRows = 4

// downRows emits the loop that runs body once per row of a strip, p
// pointing at the row's first byte, advancing p by stride. The first
// rows-prefetchRows rows also prefetch the strip's bytes prefetchRows rows
// further down (inside the slice: the last rows prefetch nothing). align
// aligns both loops (alignLoop).
func downRows(label string, p, rows, stride reg.Register, stripBytes int, what string, align bool, body func()) {
	r := GP64()
	MOVQ(rows, r)
	if prefetchRows > 0 {
		Commentf("Rows with %d more below: prefetch the strip's bytes %d rows down, then %s.", prefetchRows, prefetchRows, what)
		CMPQ(r, U32(prefetchRows))
		JBE(LabelRef(label + "Rows"))
		SUBQ(U32(prefetchRows), r)
		ahead := GP64()
		MOVQ(stride, ahead)
		SHLQ(U8(log2(prefetchRows)), ahead)
		if align {
			alignLoop()
		}
		Label(label + "Ahead")
		for off := 0; off < stripBytes; off += 64 {
			PREFETCHT0(Mem{Base: p, Index: ahead, Scale: 1, Disp: off})
		}
		body()
		ADDQ(stride, p)
		DECQ(r)
		JNZ(LabelRef(label + "Ahead"))
		MOVQ(U32(prefetchRows), r)
	}
	if align {
		alignLoop()
	}
	Label(label + "Rows")
	Commentf("Down the rows: %s.", what)
	body()
	ADDQ(stride, p)
	DECQ(r)
	JNZ(LabelRef(label + "Rows"))
}

// columnsAVX512 writes the AVX-512 column kernel of rule r and element
// kernel k: per vector of a row of the strip the rule's test into a mask,
// and a merge-masked VPSUB of -1 into the column's lane counter. The
// columns after the last whole vector are one partial strip, counted under
// a mask of its lanes: a masked, zeroing load of each row's piece while its
// 64 bytes stay within x, and the last rows' pieces from one load of x's
// last 64 bytes (partialRows), so that no load reaches past x; its counts
// are flushed with masked loads and stores, or one at a time where those
// would reach into the page after counts.
func columnsAVX512(r rule, k spec.Kernel) {
	name := r.columnsName(k, "AVX512")
	TEXT(name, NOSPLIT, columnsSignature(r, k))
	columnsDoc(name, r, k, "It requires AVX512F and AVX512BW.")
	alignEntry()
	l := lanesOf(k.Width)
	lanes := 64 / k.Width
	t := r.zmm(k)
	kernelRoles([]string{
		fmt.Sprintf("%s-%s: the lane counters of a strip, one lane per column;", zCounters[0].Asm(), zCounters[stripZMM-1].Asm()),
		fmt.Sprintf("%s: -1 in every lane, the counters' increment;", zMinusOne.Asm()),
	}, t.roles)
	counts := Load(Param("counts").Base(), GP64())
	cols := Load(Param("counts").Len(), GP64())
	ptr := Load(Param("x").Base(), GP64())
	stride := Load(Param("stride"), GP64())
	if k.Width > 1 {
		SHLQ(U8(log2(k.Width)), stride)
	}
	rows := Load(Param("rows"), GP64())
	VPTERNLOGD(Imm(0xff), zMinusOne, zMinusOne, zMinusOne)
	t.setup()
	TESTQ(rows, rows)
	JZ(LabelRef("done"))

	// quadwords returns group g of the lane counters of acc, widened to
	// quadwords: the counts of 8 columns.
	quadwords := func(acc vec, g int) vec {
		if k.Width == 8 {
			return acc
		}
		q := ZMM()
		widen(k.Width)(group(acc, 8*k.Width, g), q)
		return q
	}
	// flush adds the lane counters of acc to the counts at dst.
	flush := func(acc vec, dst Mem) {
		for g := 0; g < max(1, lanes/8); g++ {
			q, d := quadwords(acc, g), dst.Offset(64*g)
			VPADDQ(d, q, q)
			VMOVDQU64(q, d)
		}
	}
	// flushPartial adds the lane counters of acc in the lanes of keep (its
	// low bits, contiguous) to the counts at counts, 8 at a time: a masked
	// load and store of their 64 bytes, or, where those would reach into
	// the next page, one count at a time through spill, so that no access
	// reaches a page that holds none of counts (partial.go). keep is
	// shifted out; flushPartial ends at label done once it is empty.
	flushPartial := func(acc vec, counts reg.Register, keep reg.GPVirtual, spill Mem) {
		for g := 0; g < max(1, lanes/8); g++ {
			label := func(s string) string { return fmt.Sprintf("flush%d%s", g, s) }
			TESTB(U8(0xff), keep.As8())
			JZ(LabelRef("done"))
			q, at := quadwords(acc, g), GP64()
			LEAQ(Mem{Base: counts, Disp: 64 * g}, at)
			crossesPage(at, label("Counts"))
			m, c := K(), ZMM()
			KMOVW(keep.As32(), m)
			VMOVDQU64_Z(Mem{Base: at}, m, c)
			VPADDQ(q, c, c)
			VMOVDQU64(c, m, Mem{Base: at})
			JMP(LabelRef(label("Next")))
			Label(label("Counts"))
			VMOVDQU64(q, spill)
			n, i, t := GP64(), GP64(), GP64()
			MOVBQZX(keep.As8(), n)
			POPCNTQ(n, n)
			XORL(i.As32(), i.As32())
			Label(label("Count"))
			MOVQ(spill.Idx(i, 8), t)
			ADDQ(t, Mem{Base: at, Index: i, Scale: 8})
			INCQ(i)
			CMPQ(i, n)
			JB(LabelRef(label("Count")))
			Label(label("Next"))
			SHRQ(U8(8), keep)
		}
	}

	strip := func(label, next string, vectors int) {
		Label(label)
		Commentf("Strips of %d vector(s), %d columns: one lane counter per column.", vectors, vectors*lanes)
		CMPQ(cols, U32(vectors*lanes))
		JB(LabelRef(next))
		acc := zCounters[:vectors]
		for _, a := range acc {
			VPXORQ(a, a, a)
		}
		p := GP64()
		MOVQ(ptr, p)
		downRows(label, p, rows, stride, 64*vectors, "test and count each vector of the strip's row", true, func() {
			for i, a := range acc {
				hit := K()
				t.test(Mem{Base: p, Disp: 64 * i}, nil, hit)
				l.sub(zMinusOne, a, hit, a)
			}
		})
		Comment("Flush: widen the lane counters to quadwords and add them to the strip's counts.")
		for i, a := range acc {
			flush(a, Mem{Base: counts, Disp: 8 * lanes * i})
		}
		ADDQ(U32(64*vectors), ptr)
		ADDQ(U32(8*lanes*vectors), counts)
		SUBQ(U32(lanes*vectors), cols)
		JMP(LabelRef(label))
	}

	strip("strip", "vector", stripZMM)
	strip("vector", "partial", 1)

	Label("partial")
	Comment("The last cols < lanes columns: those lanes of each row, under a mask.")
	TESTQ(cols, cols)
	JZ(LabelRef("done"))
	keep := GP64()
	MOVQ(I32(-1), keep)
	BZHIQ(cols, keep, keep)
	valid := kmovLanes(l, keep)
	acc := zCounters[0]
	VPXORQ(acc, acc, acc)
	partialRows(l, t, "partial", ptr, lastRow(ptr, stride, rows), stride, cols, valid, func(hit reg.OpmaskVirtual) {
		l.sub(zMinusOne, acc, hit, acc)
	})
	Comment("Flush the valid lanes only: masked loads and stores of counts, or one at a time",
		"where 64 bytes of counts would reach into the next page.")
	flushPartial(acc, counts, keep, AllocLocal(64))

	Label("done")
	VZEROUPPER()
	RET()
}

// columnsAVX2 writes the AVX2 column kernel of rule r and element kernel
// k. Without mask registers, the rule gives -1 in each lane that does NOT
// count, subtracted from the lane counters; the flush adds rows less those
// to counts. It reads whole vectors only: the caller counts the last
// len(counts) % lanes columns in Go.
func columnsAVX2(r rule, k spec.Kernel) {
	name := r.columnsName(k, "AVX2")
	TEXT(name, NOSPLIT, columnsSignature(r, k))
	lanes := 32 / k.Width
	columnsDoc(name, r, k, "It requires AVX2, and reads whole 32-byte vectors of each row only: it",
		fmt.Sprintf("ignores the last len(counts) %% %d columns, which the caller counts.", lanes))
	l := lanesOf(k.Width)
	t := r.ymm(k)
	kernelRoles([]string{
		fmt.Sprintf("%s-%s: the lane counters of a strip, one lane per column,", yCounters[0].Asm(), yCounters[stripYMM-1].Asm()),
		fmt.Sprintf("counting the lanes that do not count; %s: zero", yZero.Asm()),
	}, t.roles)
	counts := Load(Param("counts").Base(), GP64())
	cols := Load(Param("counts").Len(), GP64())
	ptr := Load(Param("x").Base(), GP64())
	stride := Load(Param("stride"), GP64())
	if k.Width > 1 {
		SHLQ(U8(log2(k.Width)), stride)
	}
	rows := Load(Param("rows"), GP64())
	VPXOR(yZero, yZero, yZero)
	t.setup()
	TESTQ(rows, rows)
	JZ(LabelRef("done"))

	// flush adds rows less the lane counters of acc to the counts at dst.
	flush := func(acc vec, dst Mem, total reg.VecVirtual) {
		add := func(v vec, d Mem) {
			VPSUBQ(v, total, v)
			VPADDQ(d, v, v)
			VMOVDQU(v, d)
		}
		if k.Width == 8 {
			add(acc, dst)
			return
		}
		for g := 0; g < lanes/4; g++ {
			q := YMM()
			widen(k.Width)(group(acc, 4*k.Width, g), q)
			add(q, dst.Offset(32*g))
		}
	}

	strip := func(label, next string, vectors int) {
		Label(label)
		Commentf("Strips of %d vector(s), %d columns: one lane counter per column.", vectors, vectors*lanes)
		CMPQ(cols, U32(vectors*lanes))
		JB(LabelRef(next))
		acc := yCounters[:vectors]
		for _, a := range acc {
			VPXOR(a, a, a)
		}
		p := GP64()
		MOVQ(ptr, p)
		downRows(label, p, rows, stride, 32*vectors, "count the lanes of each vector of the strip's row that do not count", false, func() {
			for i, a := range acc {
				l.sub(t.skip(Mem{Base: p, Disp: 32 * i}), a, a)
			}
		})
		Comment("Flush: rows less the lanes that did not count, widened, added to the strip's counts.")
		total, x := YMM(), XMM()
		VMOVQ(rows, x)
		VPBROADCASTQ(x, total)
		for i, a := range acc {
			flush(a, Mem{Base: counts, Disp: 8 * lanes * i}, total)
		}
		ADDQ(U32(32*vectors), ptr)
		ADDQ(U32(8*lanes*vectors), counts)
		SUBQ(U32(lanes*vectors), cols)
		JMP(LabelRef(label))
	}
	strip("strip", "vector", stripYMM)
	strip("vector", "done", 1)

	Label("done")
	VZEROUPPER()
	RET()
}
