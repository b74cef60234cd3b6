//go:build gc && !purego

package kernel

// The marking streams of both levels (zstreamlast_amd64.s), set beside
// their streams in their tables; the AVX2 level has none of 64-bit lanes
// (as it has no stream of them), which mark with the generic Go
// (columnlast.go).
func init() {
	t := &avx512Impl
	n := &t.nonZero
	n.bits8.streamLast = addNonZeroStreamLastBits8AVX512
	n.bits16.streamLast = addNonZeroStreamLastBits16AVX512
	n.magnitude16.streamLast = addNonZeroStreamLastFloat16AVX512
	n.bits32.streamLast = addNonZeroStreamLastBits32AVX512
	n.magnitude32.streamLast = addNonZeroStreamLastFloat32AVX512
	n.bits64.streamLast = addNonZeroStreamLastBits64AVX512
	n.magnitude64.streamLast = addNonZeroStreamLastFloat64AVX512
	a := &t.above
	a.bitsInRange.w16.streamLast = addAboveBitsStreamLastFloat16AVX512
	a.bitsInRange.w32.streamLast = addAboveBitsStreamLastFloat32AVX512
	a.bitsInRange.w64.streamLast = addAboveBitsStreamLastFloat64AVX512
	a.keyInRange.w16.streamLast = addAboveKeysStreamLastFloat16AVX512
	a.keyInRange.w32.streamLast = addAboveKeysStreamLastFloat32AVX512
	a.keyInRange.w64.streamLast = addAboveKeysStreamLastFloat64AVX512
	m := &t.absAbove.magnitudeInRange
	m.w16.streamLast = addAbsAboveStreamLastFloat16AVX512
	m.w32.streamLast = addAbsAboveStreamLastFloat32AVX512
	m.w64.streamLast = addAbsAboveStreamLastFloat64AVX512

	t = &avx2Impl
	n = &t.nonZero
	n.bits8.streamLast = addNonZeroStreamLastBits8AVX2
	n.bits16.streamLast = addNonZeroStreamLastBits16AVX2
	n.magnitude16.streamLast = addNonZeroStreamLastFloat16AVX2
	n.bits32.streamLast = addNonZeroStreamLastBits32AVX2
	n.magnitude32.streamLast = addNonZeroStreamLastFloat32AVX2
	a = &t.above
	a.bitsInRange.w16.streamLast = addAboveBitsStreamLastFloat16AVX2
	a.bitsInRange.w32.streamLast = addAboveBitsStreamLastFloat32AVX2
	a.keyInRange.w16.streamLast = addAboveKeysStreamLastFloat16AVX2
	a.keyInRange.w32.streamLast = addAboveKeysStreamLastFloat32AVX2
	m = &t.absAbove.magnitudeInRange
	m.w16.streamLast = addAbsAboveStreamLastFloat16AVX2
	m.w32.streamLast = addAbsAboveStreamLastFloat32AVX2
}
