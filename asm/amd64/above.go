package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The above family: CountAbove's kernels and AddAboveColumns' tiles, one
// per float kernel, in two modes that kernel/above.go chooses between once
// per call.
//
// A float lane b counts when key(b) - lo <= span in the lane's unsigned
// arithmetic, where key(b) = b XOR ((b >> (n-1), arithmetic) >> 1, logical)
// is the order-preserving integer key of the sign-magnitude pattern, and
// lo, span come from the threshold (kernel/threshold.go proves the
// convention: lo = key(round-down(t)) + 1, span = key(+Inf) - lo, so NaNs,
// -0 = +0 and a threshold between two representable values all come out
// exact). The decision is on integers: it does not depend on MXCSR's
// denormal modes, costs the same operations for every float width, and
// serves Float16 and BFloat16, which this CPU cannot compare natively (no
// AVX512-FP16), with the same code as float32 and float64.
//
//   - AboveBits, for a threshold at or above +0 (lo >= 1 as a signed lane):
//     a negative pattern is never above, and the bits themselves do as
//     keys: a negative b, read unsigned, is at least 2^(n-1) > infBits, so
//     b - lo > span as for its key. One subtraction and one compare.
//   - AboveKeys, for any threshold: the key of each lane, two more
//     operations.
//
// Both test hi - b <= span, unsigned, with hi = lo + span = infBits: the
// same interval as b - lo <= span, and the subtraction can take the vector
// straight from memory.
func init() {
	register("above", func() {
		writeFamily(aboveBits)
		writeFamily(aboveKeys)
	})
}

var aboveBits = rule{
	name:    "AboveBits",
	kernels: floatKernels(),
	ranged:  true,
	counts: func(k spec.Kernel) string {
		return "b with b-lo <= span, unsigned: b above a threshold at or above +0 (lo >= 1 as a signed lane)"
	},
	zmm: func(k spec.Kernel) zmmTest {
		return zmmTest{
			roles: hiSpanRoles,
			setup: func() { broadcastHiSpanZMM(k) },
			test: func(src, valid Op, hit reg.OpmaskVirtual) {
				inRangeZMM(k, src, valid, hit)
			},
			steps: "tttt",
		}
	},
	ymm: func(k spec.Kernel) ymmTest {
		return ymmTest{
			roles: hiSpanFlipRoles,
			setup: func() { broadcastHiSpanYMM(k) },
			skip:  func(m Mem) reg.VecVirtual { return outOfRangeYMM(k, m) },
		}
	},
}

// ternXorAnd is the VPTERNLOG truth table of A ^ (B & C), with A the
// destination: it applies the sign mask B to the magnitude bits C.
const ternXorAnd = 0x78

var aboveKeys = rule{
	name:    "AboveKeys",
	kernels: floatKernels(),
	ranged:  true,
	counts: func(k spec.Kernel) string {
		return "b with key(b)-lo <= span, unsigned: b above the threshold, any threshold"
	},
	zmm: func(k spec.Kernel) zmmTest {
		kl := keyLanesOf(k.Width)
		return zmmTest{
			roles: append([]string{fmt.Sprintf("%s: every bit of a lane but its sign bit, to make keys", zMagnitude.Asm())}, hiSpanRoles...),
			setup: func() {
				magnitudeZMM(k)
				broadcastHiSpanZMM(k)
			},
			test: func(src, valid Op, hit reg.OpmaskVirtual) {
				v, ok := src.(reg.VecVirtual)
				if !ok {
					v = ZMM()
					VMOVDQU64(src, v)
				}
				Comment("key(b): flip the magnitude bits of the negative lanes")
				sign := ZMM()
				kl.sra(Imm(uint64(k.Bits()-1)), v, sign)
				VPTERNLOGD(Imm(ternXorAnd), zMagnitude, sign, v)
				inRangeZMM(k, v, valid, hit)
			},
			steps: "tttt",
		}
	},
	ymm: func(k spec.Kernel) ymmTest {
		kl := keyLanesOf(k.Width)
		return ymmTest{
			roles: append([]string{fmt.Sprintf("%s: every bit of a lane but its sign bit, to make keys", yMagnitude.Asm())}, hiSpanFlipRoles...),
			setup: func() {
				magnitudeYMM(k)
				broadcastHiSpanYMM(k)
			},
			skip: func(m Mem) reg.VecVirtual {
				v, sign := YMM(), YMM()
				VMOVDQU(m, v)
				if k.Width == 8 { // no VPSRAQ in AVX2: 0 > v is the sign, spread
					kl.cmpgt(v, yZero, sign)
				} else {
					kl.sra(Imm(uint64(k.Bits()-1)), v, sign)
				}
				VPAND(yMagnitude, sign, sign)
				VPXOR(sign, v, v)
				return outOfRangeYMM(k, v)
			},
		}
	},
}

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
