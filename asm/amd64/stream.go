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
// last whole vector are read with a masked, zeroing load and tested under
// the same mask.
func streamAVX512(r rule, k spec.Kernel) {
	name := streamName(r, k, "AVX512")
	TEXT(name, NOSPLIT, streamSignature(r, k))
	streamDoc(name, r, k, "It requires AVX512F and AVX512BW.")
	l := lanesOf(k.Width)
	lanes := 64 / k.Width
	t := r.zmm(k)
	kernelRoles([]string{
		fmt.Sprintf("%s: -1 in every lane, the counters' increment;", zMinusOne.Asm()),
	}, t.roles)
	s := loadStream(k)
	VPTERNLOGD(Imm(0xff), zMinusOne, zMinusOne, zMinusOne)
	t.setup()

	counters := func() (v reg.Register, load, store func(m Mem)) { return counterRegister(lanes) }
	minusOne := map[int]Op{8: zMinusOne.AsX(), 16: zMinusOne.AsX(), 32: zMinusOne.AsY(), 64: zMinusOne}[lanes]
	add := func(hit reg.Register, c Mem) {
		v, load, store := counters()
		load(c)
		VPSUBB(minusOne, v, hit, v)
		store(c)
	}
	vector := func(p, c reg.Register, i int) {
		if streamPrefetch > 0 {
			PREFETCHT0(Mem{Base: p, Disp: 64*i + streamPrefetch})
		}
		hit := K()
		t.test(Mem{Base: p, Disp: 64 * i}, nil, hit)
		add(hit, Mem{Base: c, Disp: lanes * i})
	}
	// run counts four vectors: their masks joined (KUNPCK) into one mask
	// of up to 64 lanes, for one update of up to 64 counters, where each
	// vector of fewer than 64 lanes alone would update a few of them.
	run := func(p, c reg.Register) {
		if lanes == 64 {
			for i := 0; i < 4; i++ {
				vector(p, c, i)
			}
			return
		}
		Comment("Four vectors' masks, joined into masks of their runs of counters.")
		hits := make([]reg.OpmaskVirtual, 4)
		for i := range hits {
			if streamPrefetch > 0 {
				PREFETCHT0(Mem{Base: p, Disp: 64*i + streamPrefetch})
			}
			hits[i] = K()
			t.test(Mem{Base: p, Disp: 64 * i}, nil, hits[i])
		}
		join := map[int]func(a, b, c Op){8: KUNPCKBW, 16: KUNPCKWD, 32: KUNPCKDQ}
		for n := lanes; n < 64 && len(hits) > 1; n *= 2 {
			joined := make([]reg.OpmaskVirtual, len(hits)/2)
			for i := range joined {
				joined[i] = K()
				join[n](hits[2*i], hits[2*i+1], joined[i])
			}
			hits = joined
		}
		per := 4 * lanes / len(hits) // counters per joined mask: 32 or 64
		for i, hit := range hits {
			v, load, store := counterRegister(per)
			load(Mem{Base: c, Disp: per * i})
			VPSUBB(map[int]Op{32: zMinusOne.AsY(), 64: zMinusOne}[per], v, hit, v)
			store(Mem{Base: c, Disp: per * i})
		}
	}
	streamRows(s, lanes, 4, run, vector, func(p, c, n reg.Register) {
		Comment("The last cols % lanes columns: a masked, zeroing load, tested under the mask.")
		TESTQ(n, n)
		JZ(LabelRef("next"))
		valid := tailMask(l, n)
		v, hit := ZMM(), K()
		l.loadz(Mem{Base: p}, valid, v)
		t.test(v, valid, hit)
		add(hit, Mem{Base: c})
		Label("next")
	})
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
		fmt.Sprintf("%s: zero; %s: 1 in every byte; %s: the order of the packed doublewords", yZero.Asm(), yOne.Asm(), yOrder.Asm()),
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
	streamRowsAVX2(s, k.Width, func(p, c reg.Register) {
		skip := make([]reg.VecVirtual, perRun)
		for i := range skip {
			skip[i] = t.skip(Mem{Base: p, Disp: 32 * i})
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
		counted := YMM()
		VPANDN(yOne, packed, counted)
		VPADDB(Mem{Base: c}, counted, counted)
		VMOVDQU(counted, Mem{Base: c})
	})
	VZEROUPPER()
	RET()
}

// streamRowsAVX2 emits the row loop of an AVX2 stream kernel: run, once
// per 32 columns of a row, with p at their first element and c at their
// first counter. cols is a multiple of 32.
func streamRowsAVX2(s streamRegisters, width int, run func(p, c reg.Register)) {
	TESTQ(s.rows, s.rows)
	JZ(LabelRef("done"))
	TESTQ(s.cols, s.cols)
	JZ(LabelRef("done"))
	Label("row")
	p, c, n := GP64(), GP64(), GP64()
	MOVQ(s.ptr, p)
	MOVQ(s.counts, c)
	MOVQ(s.cols, n)
	Label("runs")
	Comment("A run of 32 columns: their lanes packed to bytes, added to their counters.")
	run(p, c)
	ADDQ(U32(32*width), p)
	ADDQ(U32(32), c)
	SUBQ(U32(32), n)
	JNZ(LabelRef("runs"))
	Comment("Next row.")
	ADDQ(s.stride, s.ptr)
	DECQ(s.rows)
	JNZ(LabelRef("row"))
	Label("done")
}

// streamPrefetch is how far ahead of each vector a stream prefetches.
var streamPrefetch = 1024

// Registers of the AVX2 stream kernels.
var (
	yOne   = reg.Y10 // 1 in every byte
	yOrder = reg.Y9  // the doubleword order of VPERMD after two packs
)
