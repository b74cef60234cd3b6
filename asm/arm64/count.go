package main

import (
	"fmt"
	"strings"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// vectorBytes is the size of a NEON register.
const vectorBytes = 16

// unroll is the number of vectors, each with its own lane counters, that one
// iteration of the main loop tests: one 64-byte VLD1.P fills them.
const unroll = 4

// Register roles, the same in every count kernel.
const (
	ptr        = "R0" // the next vector to load
	lanesLeft  = "R1" // lanes not yet counted (then: after the main loop)
	blocksLeft = "R2" // main-loop iterations not yet run
	iterations = "R3" // main-loop iterations left in this block
	scratch    = "R4" // general scratch, then the result
	scratch2   = "R5" // a second scratch register
	firstData  = 0    // V0-V3: four vectors, then their test results
	firstAcc   = 4    // V4-V7: the lane counters, one per vector of an iteration
	blockSum   = 8    // V8: a block's counters summed over all lanes, widened
	total      = 9    // V9: the total count, as 64-bit lanes
	counted    = 10   // V10: the bits of a lane that decide whether it counts
)

// neonLanes is what differs by lane width.
type neonLanes struct {
	arrangement string // the arrangement of a vector: B16, H8, S4 or D2
	// blockIterations bounds the main-loop iterations between two
	// widenings: each iteration adds at most one to a lane of each of the
	// unroll counters, so their sum stays below the lane's maximum.
	blockIterations uint64
	// widen: the counters' lanes are narrower than 64 bits, and VUADDLV
	// adds them into one scalar twice their width; 64-bit lanes are added
	// to the total as they are.
	widen bool
}

func lanesOf(width int) neonLanes {
	laneMax := ^uint64(0) >> (64 - 8*width)
	l := neonLanes{
		arrangement:     map[int]string{1: "B16", 2: "H8", 4: "S4", 8: "D2"}[width],
		blockIterations: min(laneMax/unroll, 1<<30-1),
		widen:           width < 8,
	}
	if l.arrangement == "" {
		panic(fmt.Sprintf("unsupported lane width %d", width))
	}
	return l
}

// countNEON writes the NEON kernel of k and its stub.
//
// VCMTST against the counted bits sets each lane that has one of them to
// all ones, -1, which the kernel subtracts from a lane counter. The main
// loop tests 64 bytes, four vectors into four counters, in blocks short
// enough that no counter can overflow; after each block the counters are
// summed, widened by VUADDLV and added to a 64-bit total. Then whole vectors
// are counted one at a time. The kernel never reads a partial vector: the
// caller counts the last len(x) % lanes elements.
func countNEON(f *file, k spec.Kernel) {
	name := "countNonZero" + k.Name() + "NEON"
	l := lanesOf(k.Width)
	lanes := vectorBytes / k.Width
	what := "lanes of x that are not zero"
	if k.Float {
		what = "lanes of x that are not zero once their sign bit is cleared"
	}
	doc := []string{
		fmt.Sprintf("%s returns the number of %s, for %s.", name, what, strings.Join(k.Types(), " and ")),
		"It requires ASIMD (NEON), and reads whole 16-byte vectors only: it ignores the",
		fmt.Sprintf("last len(x) %% %d elements, which the caller counts.", lanes),
	}
	signature := fmt.Sprintf("(x []%s) int", k.GoWord())
	f.stub(name, signature, doc...)

	v := func(i int) string { return fmt.Sprintf("V%d.%s", i, l.arrangement) }
	f.text(name, 32, append([]string{"func " + name + signature, ""}, append(doc, "",
		"R0: the next vector; R1: the lanes left; R2: main-loop iterations left;",
		"R3: iterations left in this block; R4, R5: scratch and the result.",
		"V0-V3: four vectors, then their test results; V4-V7: the lane counters;",
		"V8: a block's widened sum; V9: the 64-bit total; V10: the counted bits.")...)...)
	f.inst("MOVD", "x_base+0(FP)", ptr)
	f.inst("MOVD", "x_len+8(FP)", lanesLeft)

	mask := k.Mask()
	if k.Float {
		f.block("counted: every bit of a lane but its sign bit, %#x", mask)
	} else {
		f.block("counted: every bit of a lane, %#x", mask)
	}
	f.inst("MOVD", fmt.Sprintf("$%#x", replicate(mask, k.Width)), scratch)
	f.inst("VDUP", scratch, fmt.Sprintf("V%d.D2", counted))
	f.comment("Clear the lane counters and the total.")
	for i := 0; i < unroll; i++ {
		zero(f, firstAcc+i)
	}
	zero(f, total)

	perIteration := unroll * lanes
	f.block("R2: whole iterations of the main loop, %d lanes each; R1: the lanes after them.", perIteration)
	f.inst("LSR", fmt.Sprintf("$%d", log2(perIteration)), lanesLeft, blocksLeft)
	f.inst("AND", fmt.Sprintf("$%d", perIteration-1), lanesLeft, lanesLeft)

	f.label("block")
	f.comment("Run at most %d iterations, then widen the lane counters.", l.blockIterations)
	f.inst("CBZ", blocksLeft, "vectors")
	f.inst("MOVD", fmt.Sprintf("$%d", l.blockIterations), iterations)
	f.inst("CMP", iterations, blocksLeft)
	f.comment("R3 = min(R2, R3)")
	f.inst("CSEL", "LO", blocksLeft, iterations, iterations)
	f.inst("SUB", iterations, blocksLeft, blocksLeft)
	f.inst("PCALIGN", "$16")

	f.label("loop")
	f.comment("Load: 64 bytes into four vectors.")
	loaded := make([]string, unroll)
	for i := range loaded {
		loaded[i] = v(firstData + i)
	}
	f.inst("VLD1.P", fmt.Sprintf("%d(%s)", unroll*vectorBytes, ptr), "["+strings.Join(loaded, ", ")+"]")
	f.comment("Test: all ones in each lane with a counted bit set.")
	for i := 0; i < unroll; i++ {
		f.inst("VCMTST", v(counted), v(firstData+i), v(firstData+i))
	}
	f.comment("Accumulate: counter - (-1) adds one for each such lane.")
	for i := 0; i < unroll; i++ {
		f.inst("VSUB", v(firstData+i), v(firstAcc+i), v(firstAcc+i))
	}
	f.inst("SUBS", "$1", iterations, iterations)
	f.inst("BNE", "loop")

	f.block("Widen: sum the four counters (at most %d in a lane), add their lanes", unroll*l.blockIterations)
	f.comment("into the 64-bit total, and clear them.")
	for i := 1; i < unroll; i++ {
		f.inst("VADD", v(firstAcc+i), v(firstAcc), v(firstAcc))
	}
	widen(f, l, firstAcc)
	for i := 0; i < unroll; i++ {
		zero(f, firstAcc+i)
	}
	f.inst("B", "block")

	f.label("vectors")
	f.comment("Whole vectors after the main loop, at most %d: load, test, accumulate.", unroll-1)
	f.inst("CMP", fmt.Sprintf("$%d", lanes), lanesLeft)
	f.inst("BLO", "reduce")
	f.inst("VLD1.P", fmt.Sprintf("%d(%s)", vectorBytes, ptr), "["+v(firstData)+"]")
	f.inst("VCMTST", v(counted), v(firstData), v(firstData))
	f.inst("VSUB", v(firstData), v(firstAcc), v(firstAcc))
	f.inst("SUB", fmt.Sprintf("$%d", lanes), lanesLeft, lanesLeft)
	f.inst("B", "vectors")

	f.label("reduce")
	f.comment("Reduce: widen the last counts (at most %d in a lane) into the total,", unroll-1)
	f.comment("then add the total's two 64-bit lanes.")
	widen(f, l, firstAcc)
	f.inst("VMOV", fmt.Sprintf("V%d.D[0]", total), scratch)
	f.inst("VMOV", fmt.Sprintf("V%d.D[1]", total), scratch2)
	f.inst("ADD", scratch2, scratch, scratch)
	f.inst("MOVD", scratch, "ret+24(FP)")
	f.inst("RET")
}

// widen adds every lane of the counter V<acc> into the 64-bit total. VUADDLV
// writes a scalar twice the lane width and clears the rest of V8, so V8 is
// then a vector of two 64-bit lanes: the sum and zero.
func widen(f *file, l neonLanes, acc int) {
	if !l.widen {
		f.inst("VADD", fmt.Sprintf("V%d.D2", acc), fmt.Sprintf("V%d.D2", total), fmt.Sprintf("V%d.D2", total))
		return
	}
	f.inst("VUADDLV", fmt.Sprintf("V%d.%s", acc, l.arrangement), fmt.Sprintf("V%d", blockSum))
	f.inst("VADD", fmt.Sprintf("V%d.D2", blockSum), fmt.Sprintf("V%d.D2", total), fmt.Sprintf("V%d.D2", total))
}

// zero clears V<i>.
func zero(f *file, i int) {
	r := fmt.Sprintf("V%d.B16", i)
	f.inst("VEOR", r, r, r)
}

// replicate repeats the lane value mask, width bytes wide, across 64 bits.
func replicate(mask uint64, width int) uint64 {
	var r uint64
	for shift := 0; shift < 64; shift += 8 * width {
		r |= mask << shift
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
