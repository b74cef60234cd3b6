package main

import (
	"fmt"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The abs family: CountAbsAbove's kernels and AddAbsAboveColumns' tiles,
// one per float kernel. A lane b counts when |b| - lo <= span, unsigned,
// where |b| is b with its sign bit cleared, lo = round-down(t) + 1 and
// span = infBits - lo for a threshold t >= 0, and lo = 0, span = infBits
// for t < 0 (kernel/abs.go): |b| is never negative, so its bits are its
// own order key, and a NaN's are above infBits, so it never counts.
func init() {
	register("abs", func(f *file) { writeFamily(f, absAbove) })
}

var absAbove = rule{
	name:    "AbsAbove",
	kernels: floatKernels(),
	counts: func(k spec.Kernel) string {
		return "b with |b|-lo <= span, unsigned, |b| being b without its sign bit: |b| above the threshold"
	},
	test: func(k spec.Kernel) test {
		return test{
			params: loParams(k),
			consts: []string{"V10: every bit of a lane but its sign bit", "V11: lo", "V12: span"},
			setup: func(f *file, a arrangement, offsets []int) {
				f.block("The magnitude bits, %#x, lo and span in every lane.", k.Mask())
				broadcast(f, replicate(k.Mask(), k.Width), magnitude)
				loadLoSpan(f, k, a, offsets)
			},
			steps: append([]step{
				{"|b|: clear the sign bit,", func(f *file, a arrangement, x, t int) {
					b16 := func(i int) string { return fmt.Sprintf("V%d.B16", i) }
					f.inst("VAND", b16(magnitude), b16(x), b16(x))
				}},
			}, inRange("|b|")...),
		}
	},
}
