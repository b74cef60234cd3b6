package kernel

import "unsafe"

// The rule x != 0, for every element type, in every shape.

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
	r, f := &active.Load().nonZero, formatOf[T]()
	switch unsafe.Sizeof(x[0]) {
	case 1:
		return nonZeroOf[uint8](r, f).count(words[uint8](x))
	case 2:
		return nonZeroOf[uint16](r, f).count(words[uint16](x))
	case 4:
		return nonZeroOf[uint32](r, f).count(words[uint32](x))
	}
	return nonZeroOf[uint64](r, f).count(words[uint64](x))
}

// countNonZeroLong is CountNonZero of more than one chunk.
func countNonZeroLong[T Element](x []T) int {
	r, f := &active.Load().nonZero, formatOf[T]()
	switch unsafe.Sizeof(x[0]) {
	case 1:
		return countLong(words[uint8](x), nonZeroOf[uint8](r, f).count)
	case 2:
		return countLong(words[uint16](x), nonZeroOf[uint16](r, f).count)
	case 4:
		return countLong(words[uint32](x), nonZeroOf[uint32](r, f).count)
	}
	return countLong(words[uint64](x), nonZeroOf[uint64](r, f).count)
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
	switch unsafe.Sizeof(x[0]) {
	case 1:
		countNonZeroRows[T, uint8](counts, x, width)
	case 2:
		countNonZeroRows[T, uint16](counts, x, width)
	case 4:
		countNonZeroRows[T, uint32](counts, x, width)
	default:
		countNonZeroRows[T, uint64](counts, x, width)
	}
	return nil
}

func countNonZeroRows[T Element, W word](counts []uint64, x []T, width int) {
	t := active.Load()
	s := nonZeroOf[W](&t.nonZero, formatOf[T]())
	if countRowPairs(t, counts, words[W](x), width, s) {
		return
	}
	countRows(counts, words[W](x), width, s.count, s.mask)
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
	switch unsafe.Sizeof(x[0]) {
	case 1:
		addNonZeroColumns[T, uint8](counts, x)
	case 2:
		addNonZeroColumns[T, uint16](counts, x)
	case 4:
		addNonZeroColumns[T, uint32](counts, x)
	default:
		addNonZeroColumns[T, uint64](counts, x)
	}
	return nil
}

func addNonZeroColumns[T Element, W word](counts []uint64, x []T) {
	t := active.Load()
	s := nonZeroOf[W](&t.nonZero, formatOf[T]())
	if u := narrowColumns[W](t, len(counts), len(x), false, false); u != 0 {
		addNonZeroNarrow(t, counts, words[W](x), s, u)
		return
	}
	addColumns(counts, words[W](x), s.columns, s.stream)
}

// AddNonZeroIndexCounts is AddIndexCounts for the entries whose value is
// not zero, with CountNonZero's meaning of zero: +0 and -0 for the float
// types (NaN, ±Inf and subnormals count), the all-zero pattern for the
// integers. values[i] is the value of entry i, so len(values) must be
// len(index) (an ErrShape error otherwise). Every index is checked, also
// those of entries whose value does not count.
//
// With the values of a ReLU top-k encoder, which can leave zeros among the
// k, the counts are the dense batch's AddNonZeroColumns counts.
func AddNonZeroIndexCounts[I Index, T Element](counts []uint64, features int, index []I, values []T, k int) error {
	g, err := checkIndexShape(len(counts), features, len(index), len(values), k)
	if err != nil || len(index) == 0 {
		return err
	}
	switch unsafe.Sizeof(values[0]) {
	case 1:
		return addNonZeroIndexCounts[I, T, uint8](counts, g, index, values)
	case 2:
		return addNonZeroIndexCounts[I, T, uint16](counts, g, index, values)
	case 4:
		return addNonZeroIndexCounts[I, T, uint32](counts, g, index, values)
	}
	return addNonZeroIndexCounts[I, T, uint64](counts, g, index, values)
}

func addNonZeroIndexCounts[I Index, T Element, W word](counts []uint64, g indexShape, index []I, values []T) error {
	k := active.Load()
	t := nonZeroTest(nonZeroOf[W](&k.nonZero, formatOf[T]()))
	return addIndexValues(counts, g, index, words[W](values), t, k)
}
