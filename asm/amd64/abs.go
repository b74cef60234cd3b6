package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The abs family: CountAbsAbove's kernels and AddAbsAboveColumns' tiles,
// one per float kernel. A lane b counts when |b| - lo <= span, unsigned,
// where |b| is b with its sign bit cleared, lo = round-down(t) + 1 and
// span = infBits - lo for a threshold t >= 0, and lo = 0, span = infBits
// for t < 0 (kernel/abs.go): |b| is never negative, so its bits are its
// own order key, and a NaN's are above infBits, so it never counts.
func init() {
	register("abs", func() {
		writeFamily(absAbove)
	})
}

var absAbove = rule{
	name:    "AbsAbove",
	kernels: floatKernels(),
	ranged:  true,
	counts: func(k spec.Kernel) string {
		return "b with |b|-lo <= span, unsigned, |b| being b without its sign bit: |b| above the threshold"
	},
	zmm: func(k spec.Kernel) zmmTest {
		return zmmTest{
			roles: append([]string{fmt.Sprintf("%s: every bit of a lane but its sign bit", zMagnitude.Asm())}, hiSpanRoles...),
			setup: func() {
				magnitudeZMM(k)
				broadcastHiSpanZMM(k)
			},
			test: func(src, valid Op, hit reg.OpmaskVirtual) {
				m := ZMM()
				VPANDD(src, zMagnitude, m)
				inRangeZMM(k, m, valid, hit)
			},
			steps: "tttt",
		}
	},
	ymm: func(k spec.Kernel) ymmTest {
		return ymmTest{
			roles: append([]string{fmt.Sprintf("%s: every bit of a lane but its sign bit", yMagnitude.Asm())}, hiSpanFlipRoles...),
			setup: func() {
				magnitudeYMM(k)
				broadcastHiSpanYMM(k)
			},
			skip: func(m Mem) reg.VecVirtual {
				v := YMM()
				VPAND(m, yMagnitude, v)
				return outOfRangeYMM(k, v)
			},
		}
	},
}
