package metric

import (
	"fmt"

	"github.com/sparsekit/l0/kernel"
)

// kernels are the functions of package kernel that count by one rule,
// instantiated for one element type T: NonZero's once per type, in its row
// of elementTypes, a thresholded rule's when a metric is made. A metric
// holds its rule's and calls them through these function values, with no
// dispatch on T or on the rule of its own.
type kernels[T kernel.Element] struct {
	count      func(x []T) int
	countRows  func(counts []uint64, x []T, width int) error
	addColumns func(counts []uint64, x []T) error
	// addColumnBytes is addColumns into byte counters, modulo 256.
	addColumnBytes func(counts []uint8, x []T) error
	// addColumnBytesLast is addColumnBytes that also marks each column's
	// last counting row (kernel.AddNonZeroColumnBytesLast).
	addColumnBytesLast func(counts, lastb []uint8, x []T, rowBase int) error
	// index holds a thresholded rule's index kernel for each kernel.Index
	// type I, a func(counts []uint64, features int, index []I, values []T,
	// k int) error: a function value cannot stay generic in I, which each
	// sparse batch chooses (indexKernel picks it). NonZero's index kernel
	// needs no float type, and is called directly (addIndexed).
	index []any
}

// nonZeroKernels returns the kernels of NonZero for E.
func nonZeroKernels[E kernel.Element]() *kernels[E] {
	return &kernels[E]{
		count:          kernel.CountNonZero[E],
		countRows:      kernel.CountNonZeroRows[E],
		addColumns:     kernel.AddNonZeroColumns[E],
		addColumnBytes: kernel.AddNonZeroColumnBytes[E],

		addColumnBytesLast: kernel.AddNonZeroColumnBytesLast[E],
	}
}

// thresholdKernels returns the kernels of a thresholded rule, Above or
// AbsAbove, for the float type F.
func thresholdKernels[F kernel.Float](r Rule) *kernels[F] {
	t := r.threshold
	k := &kernels[F]{
		index: []any{
			thresholdIndexKernel[int32, F](r),
			thresholdIndexKernel[int64, F](r),
			thresholdIndexKernel[uint16, F](r),
			thresholdIndexKernel[uint32, F](r),
		},
	}
	if r.Abs() {
		k.count = func(x []F) int { return kernel.CountAbsAbove(x, t) }
		k.countRows = func(c []uint64, x []F, width int) error { return kernel.CountAbsAboveRows(c, x, width, t) }
		k.addColumns = func(c []uint64, x []F) error { return kernel.AddAbsAboveColumns(c, x, t) }
		k.addColumnBytes = func(c []uint8, x []F) error { return kernel.AddAbsAboveColumnBytes(c, x, t) }
		k.addColumnBytesLast = func(c, l []uint8, x []F, b int) error { return kernel.AddAbsAboveColumnBytesLast(c, l, x, t, b) }
		return k
	}
	k.count = func(x []F) int { return kernel.CountAbove(x, t) }
	k.countRows = func(c []uint64, x []F, width int) error { return kernel.CountAboveRows(c, x, width, t) }
	k.addColumns = func(c []uint64, x []F) error { return kernel.AddAboveColumns(c, x, t) }
	k.addColumnBytes = func(c []uint8, x []F) error { return kernel.AddAboveColumnBytes(c, x, t) }
	k.addColumnBytesLast = func(c, l []uint8, x []F, b int) error { return kernel.AddAboveColumnBytesLast(c, l, x, t, b) }
	return k
}

// thresholdIndexKernel returns the index kernel of a thresholded rule for
// index type I and float type F.
func thresholdIndexKernel[I kernel.Index, F kernel.Float](r Rule) func([]uint64, int, []I, []F, int) error {
	t := r.threshold
	if r.Abs() {
		return func(counts []uint64, features int, index []I, values []F, k int) error {
			return kernel.AddAbsAboveIndexCounts(counts, features, index, values, k, t)
		}
	}
	return func(counts []uint64, features int, index []I, values []F, k int) error {
		return kernel.AddAboveIndexCounts(counts, features, index, values, k, t)
	}
}

// kernelsOf returns the kernels of rule r for T, or an ErrConfig error if r
// cannot count T (a thresholded rule of an integer type).
func kernelsOf[T kernel.Element](r Rule) (*kernels[T], error) {
	_, row := elementOf[T]()
	if r.kind == ruleNonZero {
		return row.nonZero.(*kernels[T]), nil
	}
	if row.threshold == nil {
		return nil, fmt.Errorf("%w: %s counts float elements only, not %s", ErrConfig, r, row.name)
	}
	return row.threshold.(func(Rule) *kernels[T])(r), nil
}

// indexKernel returns, of k's index kernels, the one for index type I, or
// nil if k has none (a kernel.Index type missing from the lists above).
func indexKernel[I kernel.Index, T kernel.Element](k *kernels[T]) func([]uint64, int, []I, []T, int) error {
	for _, f := range k.index {
		if f, ok := f.(func([]uint64, int, []I, []T, int) error); ok {
			return f
		}
	}
	return nil
}
