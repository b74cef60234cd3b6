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
	// streamKernel adds to the byte counts[j], j < cols, the number of
	// rows r < rows whose lane x[r*stride+j] counts, reading the rows in
	// order (chunk.go). rows is at most 255 less the largest count, and
	// len(counts) at least cols rounded up to 64.
	streamKernel[W word] func(counts []uint8, x []W, cols, stride, rows int)
	// rangeStreamKernel is streamKernel for a range rule.
	rangeStreamKernel[W word] func(counts []uint8, x []W, cols, stride, rows int, lo, span W)
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

// The kernels of one shape for every kind of lane, or for every float
// width.
type (
	laneCounts   = lanes[countKernel[uint8], countKernel[uint16], countKernel[uint32], countKernel[uint64]]
	laneColumns  = lanes[columnKernel[uint8], columnKernel[uint16], columnKernel[uint32], columnKernel[uint64]]
	laneStreams  = lanes[streamKernel[uint8], streamKernel[uint16], streamKernel[uint32], streamKernel[uint64]]
	rangeCounts  = floats[rangeKernel[uint16], rangeKernel[uint32], rangeKernel[uint64]]
	rangeColumns = floats[rangeColumnKernel[uint16], rangeColumnKernel[uint32], rangeColumnKernel[uint64]]
	rangeStreams = floats[rangeStreamKernel[uint16], rangeStreamKernel[uint32], rangeStreamKernel[uint64]]
)

// laneFamily is the kernels of a rule every element type has: a count, a
// column tile and a column stream per kind of lane. A stream may be nil:
// then every matrix is counted in tiles (chunk.go).
type laneFamily struct {
	count   laneCounts
	columns laneColumns
	stream  laneStreams
}

// rangeFamily is the kernels of a rule of the float types that counts a
// range of lanes: a count, a column tile and a column stream (which may be
// nil) per float width.
type rangeFamily struct {
	count   rangeCounts
	columns rangeColumns
	stream  rangeStreams
}

// rangeFamilyOf gathers the kernels of a range family, by shape, each
// shape's for 16-, 32- and 64-bit floats; streams may be nil.
func rangeFamilyOf(c16 rangeKernel[uint16], c32 rangeKernel[uint32], c64 rangeKernel[uint64],
	t16 rangeColumnKernel[uint16], t32 rangeColumnKernel[uint32], t64 rangeColumnKernel[uint64],
	s16 rangeStreamKernel[uint16], s32 rangeStreamKernel[uint32], s64 rangeStreamKernel[uint64]) rangeFamily {
	return rangeFamily{rangeCounts{c16, c32, c64}, rangeColumns{t16, t32, t64}, rangeStreams{s16, s32, s64}}
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
}

// genericImpl is the table of the generic kernels (generic.go): the
// fallback everywhere, the oracle of every test, and the base of every
// other level's table.
var genericImpl = impl{
	level: Generic,
	nonZero: laneFamily{
		count: laneCounts{
			bits8:   func(x []uint8) int { return countSWAR(x, 0xff) },
			bits16:  func(x []uint16) int { return countSWAR(x, 0xffff) },
			float16: func(x []uint16) int { return countSWAR(x, 0x7fff) },
			bits32:  func(x []uint32) int { return countSWAR(x, 0xffffffff) },
			float32: func(x []uint32) int { return countSWAR(x, 0x7fffffff) },
			bits64:  func(x []uint64) int { return countWide(x, ^uint64(0)) },
			float64: func(x []uint64) int { return countWide(x, ^uint64(0)>>1) },
		},
		columns: laneColumns{
			bits8:   nonZeroColumnsGeneric[uint8](0xff),
			bits16:  nonZeroColumnsGeneric[uint16](0xffff),
			float16: nonZeroColumnsGeneric[uint16](0x7fff),
			bits32:  nonZeroColumnsGeneric[uint32](0xffffffff),
			float32: nonZeroColumnsGeneric[uint32](0x7fffffff),
			bits64:  nonZeroColumnsGeneric[uint64](^uint64(0)),
			float64: nonZeroColumnsGeneric[uint64](^uint64(0) >> 1),
		},
	},
	aboveBits: genericRangeFamily(bitsValue),
	aboveKeys: genericRangeFamily(keyValue),
	absAbove:  genericRangeFamily(absValue),
}

// genericRangeFamily is the generic kernels of the range rule that
// compares the lane value v; it has no streams.
func genericRangeFamily(v laneValue) rangeFamily {
	return rangeFamilyOf(countRangeGeneric[uint16](v), countRangeGeneric[uint32](v), countRangeGeneric[uint64](v),
		rangeColumnsGeneric[uint16](v), rangeColumnsGeneric[uint32](v), rangeColumnsGeneric[uint64](v),
		nil, nil, nil)
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

// withStreamTail completes the stream kernels of f, which read whole runs
// of runLanes columns of each row only, with generic streams for the
// columns after them; nil streams stay nil.
func (f laneFamily) withStreamTail(runLanes int) laneFamily {
	s := &f.stream
	s.bits8 = streamWithTail(runLanes, s.bits8, nonZeroStreamGeneric[uint8](0xff))
	s.bits16 = streamWithTail(runLanes, s.bits16, nonZeroStreamGeneric[uint16](0xffff))
	s.float16 = streamWithTail(runLanes, s.float16, nonZeroStreamGeneric[uint16](0x7fff))
	s.bits32 = streamWithTail(runLanes, s.bits32, nonZeroStreamGeneric[uint32](0xffffffff))
	s.float32 = streamWithTail(runLanes, s.float32, nonZeroStreamGeneric[uint32](0x7fffffff))
	s.bits64 = streamWithTail(runLanes, s.bits64, nonZeroStreamGeneric[uint64](^uint64(0)))
	s.float64 = streamWithTail(runLanes, s.float64, nonZeroStreamGeneric[uint64](^uint64(0)>>1))
	return f
}

// withStreamTail is laneFamily.withStreamTail for a range family whose
// rule compares the lane value v.
func (f rangeFamily) withStreamTail(runLanes int, v laneValue) rangeFamily {
	s := &f.stream
	s.f16 = rangeStreamWithTail(runLanes, s.f16, rangeStreamGeneric[uint16](v))
	s.f32 = rangeStreamWithTail(runLanes, s.f32, rangeStreamGeneric[uint32](v))
	s.f64 = rangeStreamWithTail(runLanes, s.f64, rangeStreamGeneric[uint64](v))
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
		rangeColumnsWithTail(vectorBytes, f.columns.f64, tail.columns.f64),
		f.stream.f16, f.stream.f32, f.stream.f64)
}
