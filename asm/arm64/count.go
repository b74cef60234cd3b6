package main

import (
	"fmt"
	"strings"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// countKernels writes CountNonZero's kernels, one per kernel of the
// element table.
func countKernels(f *file) {
	for _, k := range spec.Kernels() {
		name := "countNonZero" + k.Name() + "NEON"
		laneKernel{
			name:  name,
			width: k.Width,
			doc: []string{
				fmt.Sprintf("%s returns the number of %s, for %s.", name, nonZeroLanes(k), strings.Join(k.Types(), " and ")),
				"It requires ASIMD (NEON), and reads whole 16-byte vectors only: it ignores the",
				fmt.Sprintf("last len(x) %% %d elements, which the caller counts.", vectorBytes/k.Width),
			},
			test: nonZeroTest(k),
		}.emit(f)
	}
}

// nonZeroLanes says which lanes of kernel k count.
func nonZeroLanes(k spec.Kernel) string {
	if k.Float {
		return "lanes of x that are not zero once their sign bit is cleared"
	}
	return "lanes of x that are not zero"
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
