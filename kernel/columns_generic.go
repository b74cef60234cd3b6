package kernel

import "math/bits"

// genericColumns is the portable column counting: the fallback everywhere
// and the oracle of the tests.
var genericColumns = columnKernels{
	level:        Generic,
	bits8:        nonZeroColumnsGeneric[uint8](0xff),
	bits16:       nonZeroColumnsGeneric[uint16](0xffff),
	float16:      nonZeroColumnsGeneric[uint16](0x7fff),
	bits32:       nonZeroColumnsGeneric[uint32](0xffffffff),
	float32:      nonZeroColumnsGeneric[uint32](0x7fffffff),
	bits64:       nonZeroColumnsGeneric[uint64](^uint64(0)),
	float64:      nonZeroColumnsGeneric[uint64](^uint64(0) >> 1),
	aboveFloat16: aboveColumnsGeneric[uint16],
	aboveFloat32: aboveColumnsGeneric[uint32],
	aboveFloat64: aboveColumnsGeneric[uint64],
}

// nonZeroColumnsGeneric returns the tile that counts, per column, the
// elements with a bit of mask set, branch-free.
func nonZeroColumnsGeneric[W word](mask W) columnTile[W] {
	return func(counts []uint64, x []W, stride, rows int) {
		for r := 0; r < rows; r++ {
			row := x[r*stride:][:len(counts)]
			for j, v := range row {
				counts[j] += uint64(nonZero(v & mask))
			}
		}
	}
}

// aboveColumnsGeneric counts, per column, the elements b with
// key(b)-lo <= span, branch-free: one less the borrow of span-(key(b)-lo).
func aboveColumnsGeneric[W uint16 | uint32 | uint64](counts []uint64, x []W, stride, rows int, lo, span W) {
	s := uint64(span)
	for r := 0; r < rows; r++ {
		row := x[r*stride:][:len(counts)]
		for j, v := range row {
			_, borrow := bits.Sub64(s, uint64(key(v)-lo), 0)
			counts[j] += 1 - borrow
		}
	}
}
