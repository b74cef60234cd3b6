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

// The NEON kernels count runs of lanes and column tiles, reading whole
// 16-byte vectors (of each row); the generic kernels count the rest. NEON
// has no column streams (every matrix goes in tiles) and no kernels of the
// index family: its index counts are the generic ones, which also widen,
// and its narrow rows (rows.go) the generic masks and split, from the
// generic level's row size (not measured on NEON hardware).
var neonImpl = func() impl {
	g, r := &genericImpl, reads{vectorBytes: 16}
	t := genericImpl
	t.level = NEON
	t.nonZero = nonZeroRule{
		bits8:       shapes[uint8]{count: countNonZeroBits8NEON, columns: addNonZeroColumnsBits8NEON},
		bits16:      shapes[uint16]{count: countNonZeroBits16NEON, columns: addNonZeroColumnsBits16NEON},
		magnitude16: shapes[uint16]{count: countNonZeroFloat16NEON, columns: addNonZeroColumnsFloat16NEON},
		bits32:      shapes[uint32]{count: countNonZeroBits32NEON, columns: addNonZeroColumnsBits32NEON},
		magnitude32: shapes[uint32]{count: countNonZeroFloat32NEON, columns: addNonZeroColumnsFloat32NEON},
		bits64:      shapes[uint64]{count: countNonZeroBits64NEON, columns: addNonZeroColumnsBits64NEON},
		magnitude64: shapes[uint64]{count: countNonZeroFloat64NEON, columns: addNonZeroColumnsFloat64NEON},
	}.over(&g.nonZero, r)
	t.above = aboveRule{
		bitsInRange: inRange{
			w16: rangeShapes[uint16]{count: countAboveBitsFloat16NEON, columns: addAboveBitsColumnsFloat16NEON},
			w32: rangeShapes[uint32]{count: countAboveBitsFloat32NEON, columns: addAboveBitsColumnsFloat32NEON},
			w64: rangeShapes[uint64]{count: countAboveBitsFloat64NEON, columns: addAboveBitsColumnsFloat64NEON},
		},
		keyInRange: inRange{
			w16: rangeShapes[uint16]{count: countAboveKeysFloat16NEON, columns: addAboveKeysColumnsFloat16NEON},
			w32: rangeShapes[uint32]{count: countAboveKeysFloat32NEON, columns: addAboveKeysColumnsFloat32NEON},
			w64: rangeShapes[uint64]{count: countAboveKeysFloat64NEON, columns: addAboveKeysColumnsFloat64NEON},
		},
	}.over(&g.above, r)
	t.absAbove = absAboveRule{
		magnitudeInRange: inRange{
			w16: rangeShapes[uint16]{count: countAbsAboveFloat16NEON, columns: addAbsAboveColumnsFloat16NEON},
			w32: rangeShapes[uint32]{count: countAbsAboveFloat32NEON, columns: addAbsAboveColumnsFloat32NEON},
			w64: rangeShapes[uint64]{count: countAbsAboveFloat64NEON, columns: addAbsAboveColumnsFloat64NEON},
		},
	}.over(&g.absAbove, r)
	return t
}()
