package kernel

// The shapes of the kernels: every family's kernels take one of these
// signatures, at every level, for each lane type W.
type (
	// countKernel returns the number of lanes of x that count.
	countKernel[W word] func(x []W) int
	// rangeKernel returns the number of lanes b of x whose value under
	// the family's rule (b itself, its key, b without its sign bit)
	// minus lo is at most span, in W's unsigned arithmetic.
	rangeKernel[W word] func(x []W, lo, span W) int
	// columnKernel adds to counts[j], for j < len(counts), the number of
	// rows r < rows whose lane x[r*stride+j] counts. A tile always has
	// len(x) = (rows-1)*stride + len(counts), rows >= 1, and rows at most
	// maxTileRows of the lane width (chunk.go).
	columnKernel[W word] func(counts []uint64, x []W, stride, rows int)
	// rangeColumnKernel is columnKernel for a range rule.
	rangeColumnKernel[W word] func(counts []uint64, x []W, stride, rows int, lo, span W)
)

// lanes holds one kernel per kind of lane: each width, and at the widths
// of the float types the variant blind to the sign bit.
type lanes[K8, K16, K32, K64 any] struct {
	bits8           K8
	bits16, float16 K16
	bits32, float32 K32
	bits64, float64 K64
}

// floats holds one kernel per float width: Float16 and BFloat16 (16),
// float32 and float64.
type floats[K16, K32, K64 any] struct {
	f16 K16
	f32 K32
	f64 K64
}

// laneFamily is the kernels of a rule every element type has: a count and
// a column tile per kind of lane.
type laneFamily struct {
	count   lanes[countKernel[uint8], countKernel[uint16], countKernel[uint32], countKernel[uint64]]
	columns lanes[columnKernel[uint8], columnKernel[uint16], columnKernel[uint32], columnKernel[uint64]]
}

// rangeFamily is the kernels of a rule of the float types that counts a
// range of lanes: a count and a column tile per float width.
type rangeFamily struct {
	count   floats[rangeKernel[uint16], rangeKernel[uint32], rangeKernel[uint64]]
	columns floats[rangeColumnKernel[uint16], rangeColumnKernel[uint32], rangeColumnKernel[uint64]]
}

// rangeFamilyOf gathers the kernels of a range family, in the order of its
// fields.
func rangeFamilyOf(c16 rangeKernel[uint16], c32 rangeKernel[uint32], c64 rangeKernel[uint64],
	t16 rangeColumnKernel[uint16], t32 rangeColumnKernel[uint32], t64 rangeColumnKernel[uint64]) rangeFamily {
	return rangeFamily{floats[rangeKernel[uint16], rangeKernel[uint32], rangeKernel[uint64]]{c16, c32, c64},
		floats[rangeColumnKernel[uint16], rangeColumnKernel[uint32], rangeColumnKernel[uint64]]{t16, t32, t64}}
}

// impl is one level's kernels: every family's, in one table. The generic
// table is complete; each architecture's file (impl_amd64.go,
// impl_arm64.go) makes its levels' tables as a copy of it with the
// families it has assembly for overridden, so a family without assembly
// there needs no line. The active table is one atomic pointer (level.go),
// read the same way by every family.
type impl struct {
	level Level
	// nonZero counts x != 0: CountNonZero, CountNonZeroRows,
	// AddNonZeroColumns (count.go).
	nonZero laneFamily
	// aboveBits and aboveKeys count x > t: CountAbove, CountAboveRows,
	// AddAboveColumns (above.go), comparing the bits themselves for a
	// threshold at or above +0, and the order keys for any threshold.
	aboveBits, aboveKeys rangeFamily
	// absAbove counts |x| > t: CountAbsAbove, CountAbsAboveRows,
	// AddAbsAboveColumns (abs.go).
	absAbove rangeFamily
	// index counts entries per feature: AddIndexCounts and the
	// Add...IndexCounts of each rule, CheckIndex (index.go,
	// index_table.go).
	index indexFamily
}

// genericImpl is the table of the generic kernels (generic.go): the
// fallback everywhere, the oracle of every test, and the base of every
// other level's table.
var genericImpl = impl{
	level: Generic,
	nonZero: laneFamily{
		count: lanes[countKernel[uint8], countKernel[uint16], countKernel[uint32], countKernel[uint64]]{
			bits8:   func(x []uint8) int { return countSWAR(x, 0xff) },
			bits16:  func(x []uint16) int { return countSWAR(x, 0xffff) },
			float16: func(x []uint16) int { return countSWAR(x, 0x7fff) },
			bits32:  func(x []uint32) int { return countSWAR(x, 0xffffffff) },
			float32: func(x []uint32) int { return countSWAR(x, 0x7fffffff) },
			bits64:  func(x []uint64) int { return countWide(x, ^uint64(0)) },
			float64: func(x []uint64) int { return countWide(x, ^uint64(0)>>1) },
		},
		columns: lanes[columnKernel[uint8], columnKernel[uint16], columnKernel[uint32], columnKernel[uint64]]{
			bits8:   nonZeroColumnsGeneric[uint8](0xff),
			bits16:  nonZeroColumnsGeneric[uint16](0xffff),
			float16: nonZeroColumnsGeneric[uint16](0x7fff),
			bits32:  nonZeroColumnsGeneric[uint32](0xffffffff),
			float32: nonZeroColumnsGeneric[uint32](0x7fffffff),
			bits64:  nonZeroColumnsGeneric[uint64](^uint64(0)),
			float64: nonZeroColumnsGeneric[uint64](^uint64(0) >> 1),
		},
	},
	aboveBits: rangeFamilyOf(countRangeGeneric[uint16](bitsValue), countRangeGeneric[uint32](bitsValue), countRangeGeneric[uint64](bitsValue),
		rangeColumnsGeneric[uint16](bitsValue), rangeColumnsGeneric[uint32](bitsValue), rangeColumnsGeneric[uint64](bitsValue)),
	aboveKeys: rangeFamilyOf(countRangeGeneric[uint16](keyValue), countRangeGeneric[uint32](keyValue), countRangeGeneric[uint64](keyValue),
		rangeColumnsGeneric[uint16](keyValue), rangeColumnsGeneric[uint32](keyValue), rangeColumnsGeneric[uint64](keyValue)),
	absAbove: rangeFamilyOf(countRangeGeneric[uint16](absValue), countRangeGeneric[uint32](absValue), countRangeGeneric[uint64](absValue),
		rangeColumnsGeneric[uint16](absValue), rangeColumnsGeneric[uint32](absValue), rangeColumnsGeneric[uint64](absValue)),
	index: genericIndexFamily,
}

// withTail completes the kernels of f, which read whole vectors of
// vectorBytes only (of each row, for the column tiles), with tail's kernels
// for the lanes after the last whole vector.
func (f laneFamily) withTail(vectorBytes int, tail laneFamily) laneFamily {
	c, t := f.count, tail.count
	f.count.bits8 = countWithTail(vectorBytes, c.bits8, t.bits8)
	f.count.bits16 = countWithTail(vectorBytes, c.bits16, t.bits16)
	f.count.float16 = countWithTail(vectorBytes, c.float16, t.float16)
	f.count.bits32 = countWithTail(vectorBytes, c.bits32, t.bits32)
	f.count.float32 = countWithTail(vectorBytes, c.float32, t.float32)
	f.count.bits64 = countWithTail(vectorBytes, c.bits64, t.bits64)
	f.count.float64 = countWithTail(vectorBytes, c.float64, t.float64)
	cc, tc := f.columns, tail.columns
	f.columns.bits8 = columnsWithTail(vectorBytes, cc.bits8, tc.bits8)
	f.columns.bits16 = columnsWithTail(vectorBytes, cc.bits16, tc.bits16)
	f.columns.float16 = columnsWithTail(vectorBytes, cc.float16, tc.float16)
	f.columns.bits32 = columnsWithTail(vectorBytes, cc.bits32, tc.bits32)
	f.columns.float32 = columnsWithTail(vectorBytes, cc.float32, tc.float32)
	f.columns.bits64 = columnsWithTail(vectorBytes, cc.bits64, tc.bits64)
	f.columns.float64 = columnsWithTail(vectorBytes, cc.float64, tc.float64)
	return f
}

// withTail is laneFamily.withTail for a range family.
func (f rangeFamily) withTail(vectorBytes int, tail rangeFamily) rangeFamily {
	return rangeFamilyOf(
		rangeWithTail(vectorBytes, f.count.f16, tail.count.f16),
		rangeWithTail(vectorBytes, f.count.f32, tail.count.f32),
		rangeWithTail(vectorBytes, f.count.f64, tail.count.f64),
		rangeColumnsWithTail(vectorBytes, f.columns.f16, tail.columns.f16),
		rangeColumnsWithTail(vectorBytes, f.columns.f32, tail.columns.f32),
		rangeColumnsWithTail(vectorBytes, f.columns.f64, tail.columns.f64))
}
