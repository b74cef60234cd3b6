package main

import (
	"fmt"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The above family: CountAbove's kernels and AddAboveColumns' tiles, one
// per float kernel, in two modes that kernel/above.go chooses between once
// per call.
//
// A float lane b counts when key(b) - lo <= span in the lane's unsigned
// arithmetic, with key(b) = b XOR ((b >> (n-1), arithmetic) >> 1, logical)
// the order-preserving integer key of the sign-magnitude pattern and lo,
// span from the threshold (kernel/threshold.go proves the convention). Go's
// assembler has no arithmetic shift, so VCMTST against the sign bit makes
// the all-ones lanes instead.
//
//   - AboveBits, for lo < 1<<(n-1) only (a threshold >= +0), leaves the key
//     out: a lane b with its sign bit clear is its own key, and one with it
//     set, key or not, is at least 1<<(n-1) > key(+Inf) >= lo, so b - lo
//     does not wrap and is more than span = key(+Inf) - lo either way.
//   - AboveKeys, for any threshold, computes the key.
func init() {
	register("above", func(f *file) {
		writeFamily(f, aboveBits)
		writeFamily(f, aboveKeys)
	})
}

var aboveBits = rule{
	name:    "AboveBits",
	kernels: floatKernels(),
	counts: func(k spec.Kernel) string {
		return fmt.Sprintf("b with b-lo <= span, unsigned: b above a threshold at or above +0 (lo < 1<<%d)", k.Bits()-1)
	},
	test: func(k spec.Kernel) test {
		return test{
			params: loParams(k),
			consts: []string{"V11: lo", "V12: span"},
			setup: func(f *file, a arrangement, offsets []int) {
				f.block("lo and span in every lane.")
				loadLoSpan(f, k, a, offsets)
			},
			steps: inRange("b"),
		}
	},
}

var aboveKeys = rule{
	name:    "AboveKeys",
	kernels: floatKernels(),
	counts: func(k spec.Kernel) string {
		return "b with key(b)-lo <= span, unsigned: b above the threshold, any threshold"
	},
	test: func(k spec.Kernel) test {
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
		return test{
			params: loParams(k),
			consts: []string{"V10: the sign bit of a lane", "V11: lo", "V12: span", "V13-V16: scratch"},
			setup: func(f *file, a arrangement, offsets []int) {
				f.block("The sign bit, lo and span in every lane.")
				broadcast(f, replicate(1<<(k.Bits()-1), k.Width), signBit)
				loadLoSpan(f, k, a, offsets)
			},
			steps: append(key, inRange("key(b)")...),
		}
	},
}
