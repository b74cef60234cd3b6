package main

import "github.com/sparsekit/l0/asm/internal/spec"

// The nonzero family: CountNonZero's kernels and AddNonZeroColumns' tiles,
// for every element kernel.
func init() {
	register("nonzero", func(f *file) { writeFamily(f, nonZero) })
}

var nonZero = rule{
	name:    "NonZero",
	kernels: spec.Kernels(),
	counts: func(k spec.Kernel) string {
		if k.Float {
			return "that are not zero once their sign bit is cleared"
		}
		return "that are not zero"
	},
	test: nonZeroTest,
}

// nonZeroTest is CountNonZero's test: VCMTST against the bits that count
// sets each lane that has one of them to all ones.
func nonZeroTest(k spec.Kernel) test {
	bits := "every bit of a lane"
	if k.Float {
		bits = "every bit of a lane but its sign bit"
	}
	return test{
		consts: []string{"V10: the bits that count"},
		setup: func(f *file, a arrangement, _ []int) {
			f.block("counted: %s, %#x", bits, k.Mask())
			broadcast(f, replicate(k.Mask(), k.Width), firstConst)
		},
		steps: []step{{
			comment: "Test: all ones in each lane with a counted bit set.",
			emit: func(f *file, a arrangement, x, _ int) {
				f.inst("VCMTST", a.v(firstConst), a.v(x), a.v(x))
			},
		}},
	}
}
