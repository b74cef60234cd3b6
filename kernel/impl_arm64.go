//go:build gc && !purego

package kernel

import "golang.org/x/sys/cpu"

// detectLevels checks the one CPU feature the generated NEON kernels use:
// ASIMD, which every arm64 Linux, macOS and Windows machine has, but which
// golang.org/x/sys/cpu reports (and GODEBUG=cpu.asimd=off clears) rather
// than this package assuming it.
func detectLevels() []Level {
	levels := []Level{Generic}
	if cpu.ARM64.HasASIMD {
		levels = append(levels, NEON)
	}
	return levels
}

func implFor(l Level) *impl {
	if l == NEON {
		return &neonImpl
	}
	return &genericImpl
}

// The NEON kernels read whole 16-byte vectors (of each row); the generic
// kernels count the rest. NEON has no column streams: every matrix goes in
// tiles.
var neonImpl = func() impl {
	t, g := genericImpl, &genericImpl
	t.level = NEON
	t.nonZero = laneFamily{
		count: laneCounts{
			countNonZeroBits8NEON, countNonZeroBits16NEON, countNonZeroFloat16NEON,
			countNonZeroBits32NEON, countNonZeroFloat32NEON, countNonZeroBits64NEON, countNonZeroFloat64NEON,
		},
		columns: laneColumns{
			addNonZeroColumnsBits8NEON, addNonZeroColumnsBits16NEON, addNonZeroColumnsFloat16NEON,
			addNonZeroColumnsBits32NEON, addNonZeroColumnsFloat32NEON, addNonZeroColumnsBits64NEON, addNonZeroColumnsFloat64NEON,
		},
	}.withTail(16, g.nonZero)
	t.aboveBits = rangeFamilyOf(countAboveBitsFloat16NEON, countAboveBitsFloat32NEON, countAboveBitsFloat64NEON, addAboveBitsColumnsFloat16NEON, addAboveBitsColumnsFloat32NEON, addAboveBitsColumnsFloat64NEON, nil, nil, nil).withTail(16, g.aboveBits)
	t.aboveKeys = rangeFamilyOf(countAboveKeysFloat16NEON, countAboveKeysFloat32NEON, countAboveKeysFloat64NEON, addAboveKeysColumnsFloat16NEON, addAboveKeysColumnsFloat32NEON, addAboveKeysColumnsFloat64NEON, nil, nil, nil).withTail(16, g.aboveKeys)
	t.absAbove = rangeFamilyOf(countAbsAboveFloat16NEON, countAbsAboveFloat32NEON, countAbsAboveFloat64NEON, addAbsAboveColumnsFloat16NEON, addAbsAboveColumnsFloat32NEON, addAbsAboveColumnsFloat64NEON, nil, nil, nil).withTail(16, g.absAbove)
	return t
}()
