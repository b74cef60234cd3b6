package kernel

import (
	"math/bits"
	"unsafe"
)

// The generic kernels: portable Go, no build tag, the fallback on every
// platform and the oracle of every test (impl.go's genericImpl holds
// them, built from each rule's lane test below). They are branch-free: on random data a branch per element
// mispredicts half the time.
//
// Narrow lanes are counted eight bytes at a time (SWAR): for each lane of a
// 64-bit word, ((v & low) + low) | v has the lane's top bit set exactly
// when some bit of v's lane is set, where low is every bit but the lane's
// top one; masking with the top bits and a population count gives the
// number of non-zero lanes.

// countSWAR returns the number of lanes of x with a bit of mask set, eight
// bytes at a time between an unaligned head and tail.
func countSWAR[W uint8 | uint16 | uint32](x []W, mask W) int {
	total := 0
	for len(x) > 0 && uintptr(unsafe.Pointer(&x[0]))%8 != 0 {
		total += nonZero(x[0] & mask)
		x = x[1:]
	}
	perWord := 8 / int(unsafe.Sizeof(mask))
	var words []uint64
	if n := len(x) / perWord; n > 0 {
		// Only then: a *uint64 to fewer than 8 bytes at the end of an
		// allocation is an invalid pointer (checkptr, under -race, throws).
		words = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(x))), n)
	}
	total += countWords(words, replicate(mask), laneTops[W]())
	for _, v := range x[len(words)*perWord:] {
		total += nonZero(v & mask)
	}
	return total
}

// countWords counts the lanes of words with a bit of mask set, where top
// holds the top bit of every lane.
func countWords(words []uint64, mask, top uint64) int {
	if mask&top == 0 {
		return countFloatWords(words, mask, top)
	}
	low := ^top
	var a, b, c, d int
	for len(words) >= 4 {
		v0, v1, v2, v3 := words[0]&mask, words[1]&mask, words[2]&mask, words[3]&mask
		a += bits.OnesCount64((((v0 & low) + low) | v0) & top)
		b += bits.OnesCount64((((v1 & low) + low) | v1) & top)
		c += bits.OnesCount64((((v2 & low) + low) | v2) & top)
		d += bits.OnesCount64((((v3 & low) + low) | v3) & top)
		words = words[4:]
	}
	for _, v := range words {
		v &= mask
		a += bits.OnesCount64((((v & low) + low) | v) & top)
	}
	return a + b + c + d
}

// countFloatWords is countWords for a mask without the lanes' top bits (the
// sign bits of floats): a masked lane is at most low, so adding low carries
// into the top bit exactly when the lane is not zero, and never out of it.
func countFloatWords(words []uint64, mask, top uint64) int {
	low := ^top
	var a, b, c, d int
	for len(words) >= 4 {
		a += bits.OnesCount64(((words[0] & mask) + low) & top)
		b += bits.OnesCount64(((words[1] & mask) + low) & top)
		c += bits.OnesCount64(((words[2] & mask) + low) & top)
		d += bits.OnesCount64(((words[3] & mask) + low) & top)
		words = words[4:]
	}
	for _, v := range words {
		a += bits.OnesCount64(((v & mask) + low) & top)
	}
	return a + b + c + d
}

// countWide returns the number of elements of x with a bit of mask set.
func countWide(x []uint64, mask uint64) int {
	var a, b, c, d uint64
	for len(x) >= 4 {
		v0, v1, v2, v3 := x[0]&mask, x[1]&mask, x[2]&mask, x[3]&mask
		a += (v0 | -v0) >> 63
		b += (v1 | -v1) >> 63
		c += (v2 | -v2) >> 63
		d += (v3 | -v3) >> 63
		x = x[4:]
	}
	for _, v := range x {
		v &= mask
		a += (v | -v) >> 63
	}
	return int(a + b + c + d)
}

// nonZero is 1 if v is not zero and 0 if it is, without a branch.
func nonZero[W word](v W) int {
	u := uint64(v)
	return int((u | -u) >> 63)
}

// replicate repeats the lane pattern v across a 64-bit word.
func replicate[W uint8 | uint16 | uint32](v W) uint64 {
	width := 8 * unsafe.Sizeof(v)
	r := uint64(0)
	for shift := uintptr(0); shift < 64; shift += width {
		r |= uint64(v) << shift
	}
	return r
}

// laneTops is the top bit of every lane of width W in a 64-bit word.
func laneTops[W uint8 | uint16 | uint32]() uint64 {
	var top W = 1 << (8*unsafe.Sizeof(W(0)) - 1)
	return replicate(top)
}

// nonZeroColumnsGeneric returns the tile that counts, per column, the
// elements with a bit of mask set, branch-free.
func nonZeroColumnsGeneric[W word](mask W) columnKernel[W] {
	return func(counts []uint64, x []W, stride, rows int) {
		for r := 0; r < rows; r++ {
			row := x[r*stride:][:len(counts)]
			for j, v := range row {
				counts[j] += uint64(nonZero(v & mask))
			}
		}
	}
}

// laneValue is what a rule's kernels test of a lane b (impl.go's shapes
// and rangeShapes): b itself (its bits), its order key (threshold.go), or
// its magnitude, b without its sign bit.
type laneValue uint8

const (
	bitsValue laneValue = iota
	keyValue
	magnitudeValue
)

// valueMasks returns the masks of value v: a lane's value is
// (b & keep) ^ (spread(b) & flip), where spread(b) is every bit but the
// sign set when b is negative. Bits keep everything and flip nothing; keys
// flip the magnitude of the negative lanes; the magnitude keeps every bit
// but the sign.
func valueMasks[W word](v laneValue) (keep, flip W) {
	magnitude := ^W(0) >> 1
	switch v {
	case keyValue:
		return ^W(0), magnitude
	case magnitudeValue:
		return magnitude, 0
	}
	return ^W(0), 0
}

// genericShapes is the generic kernels of x != 0 on the lane value v (its
// bits or its magnitude).
func genericShapes[W word](v laneValue) shapes[W] {
	keep, _ := valueMasks[W](v)
	return shapes[W]{
		value:   v,
		count:   countNonZeroGeneric(keep),
		columns: nonZeroColumnsGeneric(keep),
		stream:  nonZeroStreamSWAR(keep),
		mask:    nonZeroMaskGeneric(keep),
	}
}

// genericInRange is the generic kernels of the range test of the lane
// value v, for every float width.
func genericInRange(v laneValue) inRange {
	return inRange{genericRangeShapes[uint16](v), genericRangeShapes[uint32](v), genericRangeShapes[uint64](v)}
}

func genericRangeShapes[W word](v laneValue) rangeShapes[W] {
	return rangeShapes[W]{
		value:   v,
		count:   countRangeGeneric[W](v),
		columns: rangeColumnsGeneric[W](v),
		stream:  rangeStreamGeneric[W](v),
		mask:    rangeMaskGeneric[W](v),
	}
}

// countNonZeroGeneric returns the count kernel of lanes with a bit of keep
// set: SWAR up to 32-bit lanes, one lane at a time for 64-bit ones.
func countNonZeroGeneric[W word](keep W) countKernel[W] {
	var k any
	switch keep := any(keep).(type) {
	case uint8:
		k = countKernel[uint8](func(x []uint8) int { return countSWAR(x, keep) })
	case uint16:
		k = countKernel[uint16](func(x []uint16) int { return countSWAR(x, keep) })
	case uint32:
		k = countKernel[uint32](func(x []uint32) int { return countSWAR(x, keep) })
	case uint64:
		k = countKernel[uint64](func(x []uint64) int { return countWide(x, keep) })
	}
	return k.(countKernel[W])
}

// laneValueOf is a lane's value under the masks of valueMasks.
func laneValueOf[W word](b, keep, flip W) W {
	top := 8*unsafe.Sizeof(b) - 1
	return b&keep ^ -(b>>top)>>1&flip
}

// countRangeGeneric returns the kernel that counts the lanes b of x whose
// value minus lo is at most span, branch-free: it sums the borrows of
// span-(value-lo), one per lane that does not count, in four sums.
func countRangeGeneric[W word](v laneValue) rangeKernel[W] {
	keep, flip := valueMasks[W](v)
	return func(x []W, lo, span W) int {
		total := len(x)
		s := uint64(span)
		var a, b, c, d uint64
		for len(x) >= 4 {
			_, b0 := bits.Sub64(s, uint64(laneValueOf(x[0], keep, flip)-lo), 0)
			_, b1 := bits.Sub64(s, uint64(laneValueOf(x[1], keep, flip)-lo), 0)
			_, b2 := bits.Sub64(s, uint64(laneValueOf(x[2], keep, flip)-lo), 0)
			_, b3 := bits.Sub64(s, uint64(laneValueOf(x[3], keep, flip)-lo), 0)
			a, b, c, d = a+b0, b+b1, c+b2, d+b3
			x = x[4:]
		}
		for _, e := range x {
			_, borrow := bits.Sub64(s, uint64(laneValueOf(e, keep, flip)-lo), 0)
			a += borrow
		}
		return total - int(a+b+c+d)
	}
}

// rangeColumnsGeneric returns the tile that counts, per column, the lanes
// whose value minus lo is at most span, branch-free: one less the borrow
// of span-(value-lo).
func rangeColumnsGeneric[W word](v laneValue) rangeColumnKernel[W] {
	keep, flip := valueMasks[W](v)
	return func(counts []uint64, x []W, stride, rows int, lo, span W) {
		s := uint64(span)
		for r := 0; r < rows; r++ {
			row := x[r*stride:][:len(counts)]
			for j, e := range row {
				_, borrow := bits.Sub64(s, uint64(laneValueOf(e, keep, flip)-lo), 0)
				counts[j] += 1 - borrow
			}
		}
	}
}

// nonZeroStreamGeneric returns the stream that counts, per column, the
// elements with a bit of mask set, into byte counters, branch-free.
func nonZeroStreamGeneric[W word](mask W) streamKernel[W] {
	return func(counts []uint8, x []W, cols, stride, rows int) {
		for r := 0; r < rows; r++ {
			row := x[r*stride:][:cols]
			for j, v := range row {
				counts[j] += uint8(nonZero(v & mask))
			}
		}
	}
}

// rangeStreamGeneric returns the stream that counts, per column, the lanes
// whose value minus lo is at most span, into byte counters, branch-free.
func rangeStreamGeneric[W word](v laneValue) rangeStreamKernel[W] {
	keep, flip := valueMasks[W](v)
	return func(counts []uint8, x []W, cols, stride, rows int, lo, span W) {
		s := uint64(span)
		for r := 0; r < rows; r++ {
			row := x[r*stride:][:cols]
			for j, e := range row {
				_, borrow := bits.Sub64(s, uint64(laneValueOf(e, keep, flip)-lo), 0)
				counts[j] += uint8(1 - borrow)
			}
		}
	}
}
