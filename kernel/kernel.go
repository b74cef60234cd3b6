package kernel

import "unsafe"

// Float16 is an IEEE 754 half-precision number held as its bit pattern.
type Float16 uint16

// BFloat16 is a bfloat16 (brain floating point) number held as its bit
// pattern: the top half of a float32.
type BFloat16 uint16

// Element is the set of types the kernels count.
type Element interface {
	float32 | float64 | Float16 | BFloat16 |
		int8 | int16 | int32 | int64 |
		uint8 | uint16 | uint32 | uint64
}

// CountNonZero returns the number of elements of x that are not zero.
//
// For the float types (float32, float64, Float16, BFloat16) zero means +0
// or -0: the sign bit is ignored, and NaN, ±Inf and subnormals are not
// zero, exactly as numpy.count_nonzero and torch.count_nonzero count them.
// The decision is made on the bits, so it does not depend on the FPU's
// denormal modes. For the integer types every non-zero bit pattern counts.
//
// It reads no byte outside x, allocates nothing, and runs the level that
// Active reports. Long inputs are counted in chunks of at most ChunkBytes,
// so a count over gigabytes never holds off the garbage collector.
func CountNonZero[T Element](x []T) int {
	k := active.Load()
	switch s := any(x).(type) {
	case []float32:
		return countChunks(words[uint32](s), k.float32)
	case []float64:
		return countChunks(words[uint64](s), k.float64)
	case []Float16:
		return countChunks(words[uint16](s), k.float16)
	case []BFloat16:
		return countChunks(words[uint16](s), k.float16)
	case []int8:
		return countChunks(words[uint8](s), k.bits8)
	case []uint8:
		return countChunks(s, k.bits8)
	case []int16:
		return countChunks(words[uint16](s), k.bits16)
	case []uint16:
		return countChunks(s, k.bits16)
	case []int32:
		return countChunks(words[uint32](s), k.bits32)
	case []uint32:
		return countChunks(s, k.bits32)
	case []int64:
		return countChunks(words[uint64](s), k.bits64)
	case []uint64:
		return countChunks(s, k.bits64)
	}
	panic("unreachable: Element has no other types")
}

// ChunkBytes bounds the bytes one assembly call reads. Assembly cannot be
// preempted, so a call must be short for the garbage collector's
// stop-the-world not to wait on it: 1 MiB takes about 50 µs even from DRAM.
const ChunkBytes = 1 << 20

// word is the unsigned lane type of every element width.
type word interface {
	uint8 | uint16 | uint32 | uint64
}

// kernelSet is one level's counting function for each lane width and
// meaning of zero. Each takes any length.
type kernelSet struct {
	level   Level
	bits8   func([]uint8) int
	bits16  func([]uint16) int
	float16 func([]uint16) int
	bits32  func([]uint32) int
	float32 func([]uint32) int
	bits64  func([]uint64) int
	float64 func([]uint64) int
}

// words reinterprets x as its lanes' bit patterns, without copying.
func words[W word, E any](x []E) []W {
	return unsafe.Slice((*W)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// countChunks counts x with count, ChunkBytes at a time: an input of one
// chunk goes straight to count, a longer one through countLong.
func countChunks[W word](x []W, count func([]W) int) int {
	if len(x) <= ChunkBytes/int(unsafe.Sizeof(x[0])) {
		return count(x)
	}
	return countLong(x, count)
}

// countLong counts x one chunk at a time, each through countChunk.
func countLong[W word](x []W, count func([]W) int) int {
	chunk := ChunkBytes / int(unsafe.Sizeof(x[0]))
	total := 0
	for len(x) > chunk {
		total += countChunk(x[:chunk:chunk], count)
		x = x[chunk:]
	}
	return total + countChunk(x, count)
}

// countChunk is a Go function that is never inlined, so its prologue checks
// for a pending preemption before every chunk: the assembly kernels are
// leaves without that check, and a signal that lands in them cannot preempt
// them, so without it a count over gigabytes could hold off the garbage
// collector's stop-the-world for as long as it runs.
//
//go:noinline
func countChunk[W word](x []W, count func([]W) int) int {
	return count(x)
}
