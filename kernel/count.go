package kernel

import "unsafe"

// The nonzero family: x != 0, for every element type.

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
	if len(x) > ChunkBytes/int(unsafe.Sizeof(x[0])) {
		return countNonZeroLong(x)
	}
	// One chunk: the kernel itself, called straight from here.
	k := &active.Load().nonZero.count
	switch s := any(x).(type) {
	case []float32:
		return k.float32(words[uint32](s))
	case []float64:
		return k.float64(words[uint64](s))
	case []Float16:
		return k.float16(words[uint16](s))
	case []BFloat16:
		return k.float16(words[uint16](s))
	case []int8:
		return k.bits8(words[uint8](s))
	case []uint8:
		return k.bits8(s)
	case []int16:
		return k.bits16(words[uint16](s))
	case []uint16:
		return k.bits16(s)
	case []int32:
		return k.bits32(words[uint32](s))
	case []uint32:
		return k.bits32(s)
	case []int64:
		return k.bits64(words[uint64](s))
	case []uint64:
		return k.bits64(s)
	}
	panic("unreachable: Element has no other types")
}

// countNonZeroLong is CountNonZero of more than one chunk.
func countNonZeroLong[T Element](x []T) int {
	k := &active.Load().nonZero.count
	switch s := any(x).(type) {
	case []float32:
		return countLong(words[uint32](s), k.float32)
	case []float64:
		return countLong(words[uint64](s), k.float64)
	case []Float16:
		return countLong(words[uint16](s), k.float16)
	case []BFloat16:
		return countLong(words[uint16](s), k.float16)
	case []int8:
		return countLong(words[uint8](s), k.bits8)
	case []uint8:
		return countLong(s, k.bits8)
	case []int16:
		return countLong(words[uint16](s), k.bits16)
	case []uint16:
		return countLong(s, k.bits16)
	case []int32:
		return countLong(words[uint32](s), k.bits32)
	case []uint32:
		return countLong(s, k.bits32)
	case []int64:
		return countLong(words[uint64](s), k.bits64)
	case []uint64:
		return countLong(s, k.bits64)
	}
	panic("unreachable: Element has no other types")
}

// CountNonZeroRows treats x as a row-major matrix of rows of width elements
// and adds to counts[i % len(counts)] the number of non-zero elements of row
// i (CountNonZero's meaning of zero). With x the activations of a batch
// [batch, component, feature] and len(counts) the number of components,
// width the number of features, counts[c] gains the active features of
// component c summed over the batch: the L0 norm's state.
//
// It is CountNonZero row by row, without the dispatch of a call per row,
// which matters for rows of a few KiB. It returns an error wrapping
// ErrShape, and changes nothing, if x is not empty and len(counts) == 0,
// width <= 0, or len(x) is not a multiple of width. It reads no byte
// outside x, allocates nothing, and counts long inputs in pieces of at most
// ChunkBytes per assembly call.
func CountNonZeroRows[T Element](counts []uint64, x []T, width int) error {
	if err := checkRows(len(counts), len(x), width); err != nil || len(x) == 0 {
		return err
	}
	k := &active.Load().nonZero.count
	switch s := any(x).(type) {
	case []float32:
		countRows(counts, words[uint32](s), width, k.float32)
	case []float64:
		countRows(counts, words[uint64](s), width, k.float64)
	case []Float16:
		countRows(counts, words[uint16](s), width, k.float16)
	case []BFloat16:
		countRows(counts, words[uint16](s), width, k.float16)
	case []int8:
		countRows(counts, words[uint8](s), width, k.bits8)
	case []uint8:
		countRows(counts, s, width, k.bits8)
	case []int16:
		countRows(counts, words[uint16](s), width, k.bits16)
	case []uint16:
		countRows(counts, s, width, k.bits16)
	case []int32:
		countRows(counts, words[uint32](s), width, k.bits32)
	case []uint32:
		countRows(counts, s, width, k.bits32)
	case []int64:
		countRows(counts, words[uint64](s), width, k.bits64)
	case []uint64:
		countRows(counts, s, width, k.bits64)
	default:
		panic("unreachable: Element has no other types")
	}
	return nil
}

// AddNonZeroColumns treats x as a row-major matrix with len(counts) columns
// and adds to counts[j] the number of rows whose element in column j is not
// zero, with CountNonZero's meaning of zero (for floats, +0 and -0 are zero
// and NaN, ±Inf and subnormals are not). With x the activations of a batch,
// [batch, feature], counts[j] gains the number of vectors in which feature
// j fired.
//
// It returns an error wrapping ErrShape, and changes nothing, if
// len(counts) == 0 while len(x) > 0, or if len(x) is not a multiple of
// len(counts). It reads no byte outside x and no count outside counts,
// allocates nothing, runs the level that Active reports, and works through
// long inputs in tiles of at most ChunkBytes per assembly call.
func AddNonZeroColumns[T Element](counts []uint64, x []T) error {
	if err := checkColumns(len(counts), len(x)); err != nil || len(x) == 0 {
		return err
	}
	f := &active.Load().nonZero
	k, st := &f.columns, &f.stream
	switch s := any(x).(type) {
	case []float32:
		addColumns(counts, words[uint32](s), k.float32, st.float32)
	case []float64:
		addColumns(counts, words[uint64](s), k.float64, st.float64)
	case []Float16:
		addColumns(counts, words[uint16](s), k.float16, st.float16)
	case []BFloat16:
		addColumns(counts, words[uint16](s), k.float16, st.float16)
	case []int8:
		addColumns(counts, words[uint8](s), k.bits8, st.bits8)
	case []uint8:
		addColumns(counts, s, k.bits8, st.bits8)
	case []int16:
		addColumns(counts, words[uint16](s), k.bits16, st.bits16)
	case []uint16:
		addColumns(counts, s, k.bits16, st.bits16)
	case []int32:
		addColumns(counts, words[uint32](s), k.bits32, st.bits32)
	case []uint32:
		addColumns(counts, s, k.bits32, st.bits32)
	case []int64:
		addColumns(counts, words[uint64](s), k.bits64, st.bits64)
	case []uint64:
		addColumns(counts, s, k.bits64, st.bits64)
	default:
		panic("unreachable: Element has no other types")
	}
	return nil
}
