package main

import (
	"fmt"
	"strings"
)

// vectorBytes is the size of a NEON register.
const vectorBytes = 16

// unroll is the number of vectors, each with its own lane counters, that one
// iteration of the main loop tests: one 64-byte VLD1.P fills them.
const unroll = 4

// Register roles, the same in every kernel.
const (
	ptr        = "R0" // the next vector to load
	lanesLeft  = "R1" // lanes not yet counted (then: after the main loop)
	blocksLeft = "R2" // main-loop iterations not yet run
	iterations = "R3" // main-loop iterations left in this block
	scratch    = "R4" // general scratch, then the result
	scratch2   = "R5" // a second general scratch register

	firstData    = 0  // V0-V3: four vectors, then their test results
	firstCounter = 4  // V4-V7: the lane counters, one per vector of an iteration
	blockSum     = 8  // V8: a block's counters summed over all lanes, widened
	total        = 9  // V9: the total count, as 64-bit lanes
	firstConst   = 10 // V10-V12: the constants of the test
	firstScratch = 13 // V13-V16: one scratch vector per data vector
)

// registerDoc names the register roles in each kernel's comment.
var registerDoc = []string{
	"R0: the next vector; R1: the lanes left; R2: main-loop iterations left;",
	"R3: iterations left in this block; R4, R5: scratch and the result.",
	"V0-V3: four vectors, then their test results; V4-V7: the lane counters;",
	"V8: a block's widened sum; V9: the 64-bit total;",
}

// test is what decides whether a lane counts: the parameters after x,
// the constants they become, and the instructions that turn each data
// vector into all ones in its lanes that count and zero in the others.
type test struct {
	params []param  // the parameters after the slices and integers
	consts []string // the roles of V10 and on, for the comment
	// setup loads the parameters, at the frame offsets given, and the
	// constants into V10 and on.
	setup func(f *file, a arrangement, offsets []int)
	// steps run one at a time across the data vectors.
	steps []step
}

// emit applies the test to the data vectors first, first+1, ...
func (t test) emit(f *file, a arrangement, vectors int, comments bool) {
	for _, s := range t.steps {
		if comments {
			f.comment("%s", s.comment)
		}
		for i := 0; i < vectors; i++ {
			s.emit(f, a, firstData+i, firstScratch+i)
		}
	}
}

// laneKernel is a kernel that counts the lanes of x for which a test
// leaves all ones: count families differ only in their test.
type laneKernel struct {
	name  string
	width int      // bytes per lane
	doc   []string // the doc comment, without the register roles
	test  test
}

// param is a scalar parameter of a kernel, after the slice x.
type param struct {
	name  string
	bytes int
}

// step is one instruction of a test, applied to each data vector: x is
// the data register, t its scratch register.
type step struct {
	comment string
	emit    func(f *file, a arrangement, x, t int)
}

// arrangement is the lane shape of a vector for one lane width.
type arrangement struct {
	width int
	name  string // B16, H8, S4 or D2
	// blockIterations bounds the main-loop iterations between two
	// widenings: each iteration adds at most one to a lane of each of the
	// unroll counters, so their sum stays within the lane.
	blockIterations uint64
}

func arrangementOf(width int) arrangement {
	name := map[int]string{1: "B16", 2: "H8", 4: "S4", 8: "D2"}[width]
	if name == "" {
		panic(fmt.Sprintf("unsupported lane width %d", width))
	}
	laneMax := ^uint64(0) >> (64 - 8*width)
	return arrangement{width: width, name: name, blockIterations: min(laneMax/unroll, 1<<30-1)}
}

// v names vector register i with the lanes of a.
func (a arrangement) v(i int) string { return fmt.Sprintf("V%d.%s", i, a.name) }

// lanes is the number of lanes of a vector.
func (a arrangement) lanes() int { return vectorBytes / a.width }

// goWord is the unsigned Go type of one lane.
func goWord(width int) string { return fmt.Sprintf("uint%d", 8*width) }

// frame lays out the arguments as the Go ABI0 does: first bytes of slices
// and ints, then the parameters each aligned to its size, then, if there
// is one, the int result aligned to 8 (ret is -1 if there is none).
func frame(first int, params []param, result bool) (offsets []int, ret, argBytes int) {
	off := first
	for _, p := range params {
		off = (off + p.bytes - 1) / p.bytes * p.bytes
		offsets = append(offsets, off)
		off += p.bytes
	}
	if !result {
		return offsets, -1, off
	}
	ret = (off + 7) / 8 * 8
	return offsets, ret, ret + 8
}

// paramList is the parameters as a Go signature lists them after x.
func paramList(params []param, width int) string {
	if len(params) == 0 {
		return ""
	}
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.name
	}
	return ", " + strings.Join(names, ", ") + " " + goWord(width)
}

// signature is the Go signature of the kernel, without the name.
func (k laneKernel) signature() string {
	return fmt.Sprintf("(x []%s%s) int", goWord(k.width), paramList(k.test.params, k.width))
}

// emit writes the kernel and its stub.
//
// The main loop tests 64 bytes, four vectors into four counters; a lane
// that counts is all ones, -1, which it subtracts from its counter. It runs
// in blocks short enough that no counter can overflow; after each block the
// counters are summed, widened by VUADDLV and added to a 64-bit total. Then
// whole vectors are counted one at a time. The kernel never reads a partial
// vector: the caller counts the last len(x) % lanes elements.
func (k laneKernel) emit(f *file) {
	a := arrangementOf(k.width)
	f.stub(k.name, k.signature(), k.doc...)

	roles := append([]string{}, registerDoc...)
	roles = append(roles, strings.Join(k.test.consts, "; ")+".")
	comment := append([]string{"func " + k.name + k.signature(), ""}, k.doc...)
	offsets, ret, argBytes := frame(24, k.test.params, true)
	f.text(k.name, argBytes, append(append(comment, ""), roles...)...)
	f.inst("MOVD", "x_base+0(FP)", ptr)
	f.inst("MOVD", "x_len+8(FP)", lanesLeft)
	k.test.setup(f, a, offsets)
	f.comment("Clear the lane counters and the total.")
	for i := 0; i < unroll; i++ {
		zero(f, firstCounter+i)
	}
	zero(f, total)

	perIteration := unroll * a.lanes()
	f.block("R2: whole iterations of the main loop, %d lanes each; R1: the lanes after them.", perIteration)
	f.inst("LSR", fmt.Sprintf("$%d", log2(perIteration)), lanesLeft, blocksLeft)
	f.inst("AND", fmt.Sprintf("$%d", perIteration-1), lanesLeft, lanesLeft)

	f.label("block")
	f.comment("Run at most %d iterations, then widen the lane counters.", a.blockIterations)
	f.inst("CBZ", blocksLeft, "vectors")
	f.inst("MOVD", fmt.Sprintf("$%d", a.blockIterations), iterations)
	f.inst("CMP", iterations, blocksLeft)
	f.comment("R3 = min(R2, R3)")
	f.inst("CSEL", "LO", blocksLeft, iterations, iterations)
	f.inst("SUB", iterations, blocksLeft, blocksLeft)
	f.inst("PCALIGN", "$16")

	f.label("loop")
	f.comment("Load: 64 bytes into four vectors.")
	loaded := make([]string, unroll)
	for i := range loaded {
		loaded[i] = a.v(firstData + i)
	}
	f.inst("VLD1.P", fmt.Sprintf("%d(%s)", unroll*vectorBytes, ptr), "["+strings.Join(loaded, ", ")+"]")
	k.test.emit(f, a, unroll, true)
	f.comment("Accumulate: counter - (-1) adds one for each lane that counts.")
	for i := 0; i < unroll; i++ {
		f.inst("VSUB", a.v(firstData+i), a.v(firstCounter+i), a.v(firstCounter+i))
	}
	f.inst("SUBS", "$1", iterations, iterations)
	f.inst("BNE", "loop")

	f.block("Widen: sum the four counters (at most %d in a lane), add their lanes", unroll*a.blockIterations)
	f.comment("into the 64-bit total, and clear them.")
	for i := 1; i < unroll; i++ {
		f.inst("VADD", a.v(firstCounter+i), a.v(firstCounter), a.v(firstCounter))
	}
	widen(f, a, firstCounter)
	for i := 0; i < unroll; i++ {
		zero(f, firstCounter+i)
	}
	f.inst("B", "block")

	f.label("vectors")
	f.comment("Whole vectors after the main loop, at most %d: load, test, accumulate.", unroll-1)
	f.inst("CMP", fmt.Sprintf("$%d", a.lanes()), lanesLeft)
	f.inst("BLO", "reduce")
	f.inst("VLD1.P", fmt.Sprintf("%d(%s)", vectorBytes, ptr), "["+a.v(firstData)+"]")
	k.test.emit(f, a, 1, false)
	f.inst("VSUB", a.v(firstData), a.v(firstCounter), a.v(firstCounter))
	f.inst("SUB", fmt.Sprintf("$%d", a.lanes()), lanesLeft, lanesLeft)
	f.inst("B", "vectors")

	f.label("reduce")
	f.comment("Reduce: widen the last counts (at most %d in a lane) into the total,", unroll-1)
	f.comment("then add the total's two 64-bit lanes.")
	widen(f, a, firstCounter)
	f.inst("VMOV", fmt.Sprintf("V%d.D[0]", total), scratch)
	f.inst("VMOV", fmt.Sprintf("V%d.D[1]", total), scratch2)
	f.inst("ADD", scratch2, scratch, scratch)
	f.inst("MOVD", scratch, fmt.Sprintf("ret+%d(FP)", ret))
	f.inst("RET")
}

// widen adds every lane of the counter V<counter> into the 64-bit total.
// VUADDLV adds all lanes into one scalar twice their width and clears the
// rest of V8, so V8 is then a vector of two 64-bit lanes: the sum and zero.
// 64-bit counters are added to the total as they are.
func widen(f *file, a arrangement, counter int) {
	d2 := func(i int) string { return fmt.Sprintf("V%d.D2", i) }
	if a.width == 8 {
		f.inst("VADD", d2(counter), d2(total), d2(total))
		return
	}
	f.inst("VUADDLV", a.v(counter), fmt.Sprintf("V%d", blockSum))
	f.inst("VADD", d2(blockSum), d2(total), d2(total))
}

// broadcast loads the 64-bit constant c into every 64-bit lane of V<i>.
func broadcast(f *file, c uint64, i int) {
	f.inst("MOVD", fmt.Sprintf("$%#x", c), scratch)
	f.inst("VDUP", scratch, fmt.Sprintf("V%d.D2", i))
}

// zero clears V<i>.
func zero(f *file, i int) {
	r := fmt.Sprintf("V%d.B16", i)
	f.inst("VEOR", r, r, r)
}

// replicate repeats the lane value c, width bytes wide, across 64 bits.
func replicate(c uint64, width int) uint64 {
	var r uint64
	for shift := 0; shift < 64; shift += 8 * width {
		r |= c << shift
	}
	return r
}

func log2(v int) int {
	r := 0
	for v > 1 {
		v >>= 1
		r++
	}
	return r
}
