package main

import (
	"fmt"
	"strings"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// A rule decides which lanes of a kernel count. A family is one rule (or
// two: the threshold's bits and keys modes), written in every shape: the
// rule's test is all that differs between families.
type rule struct {
	// name is the rule's part of the kernels' names:
	// count<name><kernel>NEON and add<name>Columns<kernel>NEON.
	name string
	// kernels are the element kernels the rule has, in the order written.
	kernels []spec.Kernel
	// counts says which lanes b count, for the docs: "that are not zero".
	counts func(k spec.Kernel) string
	// test is the rule's test on the lanes of kernel k.
	test func(k spec.Kernel) test
}

// writeFamily writes the kernels of r in every shape.
func writeFamily(f *file, r rule) {
	for _, k := range r.kernels {
		countKernel(r, k).emit(f)
	}
	for _, k := range r.kernels {
		columnKernel{r: r, k: k}.emit(f)
	}
}

// types names the element types of k, for the docs.
func types(k spec.Kernel) string { return strings.Join(k.Types(), " and ") }

// floatKernels lists the float kernels of the element table: the widths
// that have a threshold.
func floatKernels() []spec.Kernel {
	var ks []spec.Kernel
	for _, k := range spec.Kernels() {
		if k.Float {
			ks = append(ks, k)
		}
	}
	return ks
}

// Constant registers of the ranged tests (above and abs).
const (
	signBit   = firstConst     // V10: the sign bit of each lane (above, keys)
	magnitude = firstConst     // V10: every bit but the sign bit (abs)
	lo        = firstConst + 1 // V11: lo in each lane
	span      = firstConst + 2 // V12: span in each lane
)

// loParams are the parameters of the ranged tests.
func loParams(k spec.Kernel) []param { return []param{{"lo", k.Width}, {"span", k.Width}} }

// loadLoSpan loads lo and span into every lane of V11 and V12.
func loadLoSpan(f *file, k spec.Kernel, a arrangement, offsets []int) {
	load := map[int]string{2: "MOVHU", 4: "MOVWU", 8: "MOVD"}[k.Width]
	f.inst(load, fmt.Sprintf("lo+%d(FP)", offsets[0]), scratch)
	f.inst("VDUP", scratch, a.v(lo))
	f.inst(load, fmt.Sprintf("span+%d(FP)", offsets[1]), scratch)
	f.inst("VDUP", scratch, a.v(span))
}

// inRange is the last two steps of the ranged tests: x - lo, then all ones
// where span >= x - lo, unsigned.
func inRange(what string) []step {
	return []step{
		{what + " - lo,", func(f *file, a arrangement, x, t int) {
			f.inst("VSUB", a.v(lo), a.v(x), a.v(x))
		}},
		{fmt.Sprintf("Test: all ones where span >= %s - lo, unsigned.", what), func(f *file, a arrangement, x, t int) {
			f.word(cmhs(a, x, span, x), fmt.Sprintf("CMHS V%d.%s, V%d.%s, V%d.%s", x, neonShape(a), span, neonShape(a), x, neonShape(a)))
		}},
	}
}

// cmhs encodes CMHS Vd, Vn, Vm (Advanced SIMD three same, U=1, opcode
// 00111), 128-bit: each lane of Vd is all ones where Vn >= Vm, unsigned.
// Go's assembler has no unsigned vector compare.
func cmhs(a arrangement, d, n, m int) uint32 {
	size := uint32(log2(a.width))
	return 0x6e203c00 | size<<22 | uint32(m)<<16 | uint32(n)<<5 | uint32(d)
}

// neonShape is the arrangement as ARM's own syntax spells it, for the
// comment on an instruction written as its machine word.
func neonShape(a arrangement) string {
	return map[string]string{"B16": "16B", "H8": "8H", "S4": "4S", "D2": "2D"}[a.name]
}
