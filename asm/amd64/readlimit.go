package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// readLimitKernels writes the read-limit references of the benchmarks
// (internal/readlimit):
// kernels that do the least a reader of every byte can do, one load and one
// OR per vector into independent accumulators, so a counting kernel's speed
// can be put as a fraction of the memory read limit measured in the same run.
func readLimitKernels() {
	readAVX512()
	readAVX2()
}

func readAVX512() {
	TEXT("readAVX512", NOSPLIT, "func(x []byte) uint64")
	Doc("readAVX512 ORs every 64-byte vector of x together and returns one",
		"quadword of the result, reading len(x) rounded down to 512 bytes.")
	Pragma("noescape")
	readLoop(8, 64, ZMM, func(m Mem, acc reg.VecVirtual) { VPORQ(m, acc, acc) }, func(a, b reg.VecVirtual) { VPORQ(a, b, b) })
	VZEROUPPER()
	RET()
}

func readAVX2() {
	TEXT("readAVX2", NOSPLIT, "func(x []byte) uint64")
	Doc("readAVX2 ORs every 32-byte vector of x together and returns one",
		"quadword of the result, reading len(x) rounded down to 256 bytes.")
	Pragma("noescape")
	readLoop(8, 32, YMM, func(m Mem, acc reg.VecVirtual) { VPOR(m, acc, acc) }, func(a, b reg.VecVirtual) { VPOR(a, b, b) })
	VZEROUPPER()
	RET()
}

func readLoop(accumulators, vectorBytes int, vec func() reg.VecVirtual, or func(Mem, reg.VecVirtual), combine func(a, b reg.VecVirtual)) {
	ptr := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	SHRQ(U8(log2(accumulators*vectorBytes)), n)
	acc := make([]reg.VecVirtual, accumulators)
	for i := range acc {
		acc[i] = vec()
		VPXOR(acc[i].AsY(), acc[i].AsY(), acc[i].AsY())
	}
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	for i := range acc {
		or(Mem{Base: ptr, Disp: vectorBytes * i}, acc[i])
	}
	ADDQ(U32(accumulators*vectorBytes), ptr)
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	for i := 1; i < accumulators; i++ {
		combine(acc[i], acc[0])
	}
	r := GP64()
	VMOVQ(acc[0].AsX(), r)
	Store(r, ReturnIndex(0))
}
