package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The nonzero family: CountNonZero's kernels and AddNonZeroColumns' tiles,
// for every element kernel. A lane counts when one of its counted bits is
// set: every bit for the integers, every bit but the sign for the floats.
func init() {
	register("nonzero", func() {
		writeFamily(nonZero)
	})
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
	zmm: nonZeroZMM,
	ymm: nonZeroYMM,
}

// nonZeroZMM counts a vector in one of three ways, mixed in one loop of
// the count shape so that the vector ALUs, the mask unit and the integer
// ALUs all work at once:
//
//   - min (m): the unsigned minimum of a lane and 1 is 1 exactly when the
//     lane is not zero; a VPADD adds it to the vector's counter. Two plain
//     vector instructions for integers, which reach the read limit; floats
//     first clear the sign bit with a VPAND (of the load), a third.
//   - popcount (p): VPTESTM sets a mask bit for each lane whose counted
//     bits are not all zero; KMOV, POPCNT and ADD count them in a general
//     register. One vector instruction, the rest on the integer side.
//   - test (t): VPTESTM, then a merge-masked VPSUB adds one to those lanes
//     of the counter. Mask-register writes sustain about one vector per
//     cycle.
//
// Integers use min only. Floats mix them as mmpmmp: on Zen 5, at 16 KiB,
// float32 at 0.91-0.92x the read limit (minimum times of interleaved
// runs), against 0.85-0.87x for mmtmmt, 0.86-0.89x for mmmp and mmpmmt,
// 0.90-0.93x for longer mixes of the same kind, 0.79x for mins alone,
// 0.66x for tests alone and 0.56x for popcounts alone. Clearing the sign
// with VPSLL $1 instead of VPAND measured 0.72x for mins alone: the shifts
// have fewer ports.
func nonZeroZMM(k spec.Kernel) zmmTest {
	l := lanesOf(k.Width)
	counted := zMinusOne
	t := zmmTest{
		roles: []string{fmt.Sprintf("%s: 1 in every lane, for the min steps", zOne.Asm())},
		steps: "mmmmmmmm",
	}
	if k.Float {
		counted = zMagnitude
		t.roles = append(t.roles, fmt.Sprintf("%s: the counted bits, every bit of a lane but its sign bit", zMagnitude.Asm()))
		t.steps = "mmpmmp"
	} else {
		t.roles = append(t.roles, fmt.Sprintf("%s is also the counted bits: every bit of a lane", zMinusOne.Asm()))
	}
	t.setup = func() {
		l.abs(zMinusOne, zOne)
		if k.Float {
			magnitudeZMM(k)
		}
	}
	t.test = func(src, valid Op, hit reg.OpmaskVirtual) {
		if valid != nil {
			l.testm(src, counted, valid, hit)
			return
		}
		l.testm(src, counted, hit)
	}
	t.min = func(src Op) reg.VecVirtual {
		m := ZMM()
		if k.Float {
			VPANDD(src, zMagnitude, m)
			l.minu(zOne, m, m)
		} else {
			l.minu(src, zOne, m)
		}
		return m
	}
	return t
}

// nonZeroYMM compares each lane, its counted bits only, with zero.
func nonZeroYMM(k spec.Kernel) ymmTest {
	l := lanesOf(k.Width)
	t := ymmTest{setup: func() {}}
	if k.Float {
		t.roles = []string{fmt.Sprintf("%s: the counted bits, every bit of a lane but its sign bit", yMagnitude.Asm())}
		t.setup = func() { magnitudeYMM(k) }
	}
	t.skip = func(m Mem) reg.VecVirtual {
		z := YMM()
		if k.Float {
			VPAND(m, yMagnitude, z)
			l.cmpeq(z, yZero, z)
			return z
		}
		l.cmpeq(m, yZero, z)
		return z
	}
	return t
}
