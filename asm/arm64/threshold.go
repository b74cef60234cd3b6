package main

import (
	"fmt"
	"strings"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// thresholdKernels writes CountAbove's kernels, one per float kernel of the
// element table.
//
// A float lane b counts when key(b) - lo <= span in the lane's unsigned
// arithmetic, with key(b) = b XOR ((b >> (n-1), arithmetic) >> 1, logical)
// the order-preserving integer key of the sign-magnitude pattern and lo,
// span from the threshold (kernel/threshold.go proves the convention). Go's
// assembler has no arithmetic shift, so VCMTST against the sign bit makes
// the all-ones lanes instead; it has no unsigned compare either, so CMHS is
// written as its machine word.
func thresholdKernels(f *file) {
	for _, k := range spec.Kernels() {
		if !k.Float {
			continue
		}
		for _, nonNegative := range []bool{false, true} {
			name := "countAbove" + k.Name() + "NEON"
			doc := []string{
				fmt.Sprintf("%s returns the number of lanes b of x, %d-bit floats (%s), with", name, k.Bits(), strings.Join(k.Types(), " and ")),
				"key(b)-lo <= span. It requires ASIMD (NEON), and reads whole 16-byte vectors only:",
				fmt.Sprintf("it ignores the last len(x) %% %d elements, which the caller counts.", vectorBytes/k.Width),
			}
			if nonNegative {
				general := name
				name = "countAboveNonNegative" + k.Name() + "NEON"
				doc = nonNegativeDoc(name, general, k)
			}
			laneKernel{name: name, width: k.Width, doc: doc, test: aboveTest(k, nonNegative)}.emit(f)
		}
	}
}

// nonNegativeDoc documents the kernel name, which is general for the
// thresholds whose lo has the sign bit clear.
func nonNegativeDoc(name, general string, k spec.Kernel) []string {
	return []string{
		fmt.Sprintf("%s is %s for a threshold >= 0, when", name, general),
		fmt.Sprintf("lo < 1<<%d: then no lane with its sign bit set can count, and the lanes whose", k.Bits()-1),
		"sign bit is clear are their own keys, so it compares the bits without the key.",
	}
}

// Constant registers of the threshold test.
const (
	signBit = firstConst     // V10: the sign bit of each lane
	lo      = firstConst + 1 // V11: lo in each lane
	span    = firstConst + 2 // V12: span in each lane
)

// aboveTest is CountAbove's test, on the float lanes of kernel k: the key,
// less lo, compared with span. With nonNegative, for lo < 1<<(n-1) only,
// the key is left out: a lane b with its sign bit clear is its own key, and
// one with it set, key or not, is at least 1<<(n-1) > key(+Inf) >= lo, so
// b - lo does not wrap and is more than span = key(+Inf) - lo either way.
func aboveTest(k spec.Kernel, nonNegative bool) test {
	t := test{
		params: []param{{"lo", k.Width}, {"span", k.Width}},
		consts: []string{"V10: the sign bit of a lane", "V11: lo", "V12: span", "V13-V16: scratch"},
		setup: func(f *file, a arrangement, offsets []int) {
			load := map[int]string{2: "MOVHU", 4: "MOVWU", 8: "MOVD"}[k.Width]
			if nonNegative {
				f.block("lo and span in every lane.")
			} else {
				f.block("The sign bit, lo and span in every lane.")
				broadcast(f, replicate(1<<(k.Bits()-1), k.Width), signBit)
			}
			f.inst(load, fmt.Sprintf("lo+%d(FP)", offsets[0]), scratch)
			f.inst("VDUP", scratch, a.v(lo))
			f.inst(load, fmt.Sprintf("span+%d(FP)", offsets[1]), scratch)
			f.inst("VDUP", scratch, a.v(span))
		},
	}
	key := []step{
		{"Key: all ones in the lanes whose sign bit is set,", func(f *file, a arrangement, x, t int) {
			f.inst("VCMTST", a.v(signBit), a.v(x), a.v(t))
		}},
		{"shifted to every bit but the sign bit,", func(f *file, a arrangement, x, t int) {
			f.inst("VUSHR", "$1", a.v(t), a.v(t))
		}},
		{"flips the magnitude of the negative lanes: key(b).", func(f *file, a arrangement, x, t int) {
			b16 := func(i int) string { return fmt.Sprintf("V%d.B16", i) }
			f.inst("VEOR", b16(t), b16(x), b16(x))
		}},
	}
	compare := []step{
		{"key(b) - lo,", func(f *file, a arrangement, x, t int) {
			f.inst("VSUB", a.v(lo), a.v(x), a.v(x))
		}},
		{"Test: all ones where span >= key(b) - lo, unsigned: b > threshold.", func(f *file, a arrangement, x, t int) {
			f.word(cmhs(a, x, span, x), fmt.Sprintf("CMHS V%d.%s, V%d.%s, V%d.%s", x, neonShape(a), span, neonShape(a), x, neonShape(a)))
		}},
	}
	if nonNegative {
		t.consts = []string{"V11: lo", "V12: span"}
		compare[0].comment = "b - lo (b is its own key, or cannot count),"
		compare[1].comment = "Test: all ones where span >= b - lo, unsigned: b > threshold."
		t.steps = compare
		return t
	}
	t.steps = append(key, compare...)
	return t
}

// cmhs encodes CMHS Vd, Vn, Vm (Advanced SIMD three same, U=1, opcode
// 00111), 128-bit: each lane of Vd is all ones where Vn >= Vm, unsigned.
func cmhs(a arrangement, d, n, m int) uint32 {
	size := uint32(log2(a.width))
	return 0x6e203c00 | size<<22 | uint32(m)<<16 | uint32(n)<<5 | uint32(d)
}

// neonShape is the arrangement as ARM's own syntax spells it, for the
// comment on an instruction written as its machine word.
func neonShape(a arrangement) string {
	return map[string]string{"B16": "16B", "H8": "8H", "S4": "4S", "D2": "2D"}[a.name]
}
