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
		countKernel(k).emit(f)
	}
}

// countKernel is the NEON kernel of k: VCMTST against the bits that count
// sets each lane that has one of them to all ones.
func countKernel(k spec.Kernel) laneKernel {
	name := "countNonZero" + k.Name() + "NEON"
	what, bits := "lanes of x that are not zero", "every bit of a lane"
	if k.Float {
		what = "lanes of x that are not zero once their sign bit is cleared"
		bits = "every bit of a lane but its sign bit"
	}
	return laneKernel{
		name:  name,
		width: k.Width,
		doc: []string{
			fmt.Sprintf("%s returns the number of %s, for %s.", name, what, strings.Join(k.Types(), " and ")),
			"It requires ASIMD (NEON), and reads whole 16-byte vectors only: it ignores the",
			fmt.Sprintf("last len(x) %% %d elements, which the caller counts.", vectorBytes/k.Width),
		},
		consts: []string{"V10: the bits that count"},
		setup: func(f *file, a arrangement) {
			f.block("counted: %s, %#x", bits, k.Mask())
			broadcast(f, replicate(k.Mask(), k.Width), firstConst)
		},
		test: []step{{
			comment: "Test: all ones in each lane with a counted bit set.",
			emit: func(f *file, a arrangement, x, _ int) {
				f.inst("VCMTST", a.v(firstConst), a.v(x), a.v(x))
			},
		}},
	}
}
