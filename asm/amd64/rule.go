package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// A rule decides which lanes of a kernel count. A family is one rule (or
// two: the threshold's bits and keys modes), written in every shape by
// count.go and columns.go; the rule is all that differs between families.
type rule struct {
	// name is the rule's part of the kernels' names:
	// count<name><kernel><ISA> and add<name>Columns<kernel><ISA>.
	name string
	// kernels are the element kernels the rule has, in the order written.
	kernels []spec.Kernel
	// ranged rules take lo and span, lanes wide, after the slices.
	ranged bool
	// counts says which lanes b count, for the docs: "b != 0".
	counts func(k spec.Kernel) string
	// zmm and ymm are the rule's test in an AVX-512 and an AVX2 kernel.
	zmm func(k spec.Kernel) zmmTest
	ymm func(k spec.Kernel) ymmTest
}

// zmmTest is a rule's part of an AVX-512 kernel.
type zmmTest struct {
	// roles names the registers the rule's constants live in.
	roles []string
	// setup loads the rule's parameters and constants; zMinusOne is -1 in
	// every lane by then.
	setup func()
	// test sets a bit of hit for each lane of src (memory, or a register
	// it may overwrite) that counts, among the lanes of valid unless
	// valid is nil.
	test func(src, valid Op, hit reg.OpmaskVirtual)
	// min, when not nil, returns a register with 1 in each lane of src
	// that counts and 0 in the others: a count step without a mask.
	min func(src Op) reg.VecVirtual
	// steps is the mix of the count shape's main loop, one vector each:
	// t through test and a merge-masked subtract, m through min and an
	// add.
	steps string
}

// ymmTest is a rule's part of an AVX2 kernel. AVX2 has no mask registers:
// the kernels count the lanes that do not count, from -1 in each of them.
type ymmTest struct {
	roles []string
	// setup loads the rule's parameters and constants; yZero is zero by
	// then.
	setup func()
	// skip returns a register with -1 in each lane of the vector at m that
	// does not count, and 0 in the others.
	skip func(m Mem) reg.VecVirtual
}

// Registers with a role, the same in every kernel of an ISA, so that the
// comment at the top of each kernel can name them. Scratch registers are
// left to avo's allocator.
var (
	// zCounters are the lane counters of the AVX-512 kernels: one per
	// vector of a main-loop iteration, or of a column strip.
	zCounters  = []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7, reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15}
	zTotals    = reg.Z24 // quadword totals of the widened lane counters
	zZero      = reg.Z25 // zero: VPSADBW's other operand
	zSpan      = reg.Z26 // span in every lane
	zHi        = reg.Z27 // hi = lo + span in every lane
	zMagnitude = reg.Z28 // every bit of a lane but its sign bit
	zOne       = reg.Z29 // 1 in every lane
	zMinusOne  = reg.Z31 // -1 in every lane: the counters' increment

	// yCounters are the lane counters of the AVX2 kernels.
	yCounters  = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7}
	yTotals    = reg.Y11
	yZero      = reg.Y12
	ySpanFlip  = reg.Y13 // span with each lane's top bit flipped
	yHiFlip    = reg.Y14 // hi = lo + span with each lane's top bit flipped
	yMagnitude = reg.Y15
)

// kernelName is the name of the kernel of shape ("count" or
// "add...Columns"), rule, element kernel and ISA.
func (r rule) countName(k spec.Kernel, isa string) string {
	return "count" + r.name + k.Name() + isa
}

func (r rule) columnsName(k spec.Kernel, isa string) string {
	return "add" + r.name + "Columns" + k.Name() + isa
}

// params is the rule's parameters in a Go signature, after the slices.
func (r rule) params(k spec.Kernel) string {
	if !r.ranged {
		return ""
	}
	return fmt.Sprintf(", lo, span %s", k.GoWord())
}

// types names the element types of k, for the docs.
func types(k spec.Kernel) string { return strings.Join(k.Types(), " and ") }

// Roles of the test registers shared by several rules.
var (
	hiSpanRoles = []string{
		fmt.Sprintf("%s: hi = lo + span and %s: span in every lane: a lane counts when hi - x <= span, unsigned", zHi.Asm(), zSpan.Asm()),
	}
	hiSpanFlipRoles = []string{
		fmt.Sprintf("%s: hi = lo + span and %s: span, each with its lanes' top bit flipped,", yHiFlip.Asm(), ySpanFlip.Asm()),
		"so that hi - x <= span, unsigned, is a signed compare",
	}
)

// loadHiSpan loads the parameters lo and span of a ranged rule and returns
// span and hi = lo + span, in general registers.
func loadHiSpan(k spec.Kernel) (hi, span reg.GPVirtual) {
	gp := GP32
	if k.Width == 8 {
		gp = GP64
	}
	lo := Load(Param("lo"), gp()).(reg.GPVirtual)
	span = Load(Param("span"), gp()).(reg.GPVirtual)
	if k.Width == 8 {
		ADDQ(span, lo)
	} else {
		ADDL(span, lo)
	}
	return lo, span
}

// broadcastHiSpanZMM broadcasts hi and span into zHi and zSpan.
func broadcastHiSpanZMM(k spec.Kernel) {
	hi, span := loadHiSpan(k)
	kl := keyLanesOf(k.Width)
	kl.broadcast(hi, zHi)
	kl.broadcast(span, zSpan)
}

// broadcastHiSpanYMM broadcasts hi and span, their lanes' top bits
// flipped, into yHiFlip and ySpanFlip.
func broadcastHiSpanYMM(k spec.Kernel) {
	hi, span := loadHiSpan(k)
	kl := keyLanesOf(k.Width)
	for _, p := range []struct {
		g reg.GPVirtual
		v reg.VecPhysical
	}{{hi, yHiFlip}, {span, ySpanFlip}} {
		x, g := XMM(), GP64()
		MOVQ(p.g.As64(), g)
		if k.Width == 8 {
			BTCQ(Imm(63), g)
			VMOVQ(g, x)
		} else {
			XORL(U32(uint64(1)<<(k.Bits()-1)), g.As32())
			VMOVD(g.As32(), x)
		}
		kl.broadcast(x, p.v)
	}
}

// predicateLE is VPCMPU's "less than or equal" predicate.
const predicateLE = 2

// inRangeZMM sets a bit of hit for each lane x of v (memory or a register)
// with zHi - x <= zSpan, unsigned, among valid unless it is nil.
func inRangeZMM(k spec.Kernel, v, valid Op, hit reg.OpmaskVirtual) {
	l, kl := lanesOf(k.Width), keyLanesOf(k.Width)
	d := ZMM()
	l.sub(v, zHi, d)
	if valid != nil {
		kl.cmpu(Imm(predicateLE), zSpan, d, valid, hit)
		return
	}
	kl.cmpu(Imm(predicateLE), zSpan, d, hit)
}

// outOfRangeYMM returns -1 in each lane x of v (memory or a register) with
// hi - x > span, unsigned: (hi - x) ^ msb > span ^ msb, signed, and
// (hi - x) ^ msb is (hi ^ msb) - x.
func outOfRangeYMM(k spec.Kernel, v Op) reg.VecVirtual {
	l, kl := lanesOf(k.Width), keyLanesOf(k.Width)
	t := YMM()
	l.sub(v, yHiFlip, t)
	kl.cmpgt(ySpanFlip, t, t)
	return t
}

// magnitudeZMM and magnitudeYMM set the magnitude register: -1 in every
// lane shifted right by one.
func magnitudeZMM(k spec.Kernel) { lanesOf(k.Width).srl(Imm(1), zMinusOne, zMagnitude) }

func magnitudeYMM(k spec.Kernel) {
	VPCMPEQD(yMagnitude, yMagnitude, yMagnitude)
	lanesOf(k.Width).srl(Imm(1), yMagnitude, yMagnitude)
}
