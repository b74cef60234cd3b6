//go:build gc && !purego

package kernel

// The AVX-512 level's marking streams (zstreamlast_amd64.s), set beside its
// streams in its table; the AVX2 level has none yet, and marks with the
// generic Go (columnlast.go).
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
}
