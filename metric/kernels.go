package metric

import (
	"fmt"

	"github.com/sparsekit/l0/kernel"
)

// The kernels a metric calls, instantiated for its concrete element type
// once, at construction: a call from the generic metric code to
// kernel.CountNonZero[T] would otherwise resolve T from a dictionary on
// every call, one call per row.

// nonZeroKernels returns CountNonZero, AddNonZeroColumns and
// CountNonZeroRows for T.
func nonZeroKernels[T kernel.Element]() (func([]T) int, func([]uint64, []T) error, func([]uint64, []T, int) error) {
	var count, add, rows any
	switch any(*new(T)).(type) {
	case float32:
		count, add, rows = kernel.CountNonZero[float32], kernel.AddNonZeroColumns[float32], kernel.CountNonZeroRows[float32]
	case float64:
		count, add, rows = kernel.CountNonZero[float64], kernel.AddNonZeroColumns[float64], kernel.CountNonZeroRows[float64]
	case kernel.Float16:
		count, add, rows = kernel.CountNonZero[kernel.Float16], kernel.AddNonZeroColumns[kernel.Float16], kernel.CountNonZeroRows[kernel.Float16]
	case kernel.BFloat16:
		count, add, rows = kernel.CountNonZero[kernel.BFloat16], kernel.AddNonZeroColumns[kernel.BFloat16], kernel.CountNonZeroRows[kernel.BFloat16]
	case int8:
		count, add, rows = kernel.CountNonZero[int8], kernel.AddNonZeroColumns[int8], kernel.CountNonZeroRows[int8]
	case int16:
		count, add, rows = kernel.CountNonZero[int16], kernel.AddNonZeroColumns[int16], kernel.CountNonZeroRows[int16]
	case int32:
		count, add, rows = kernel.CountNonZero[int32], kernel.AddNonZeroColumns[int32], kernel.CountNonZeroRows[int32]
	case int64:
		count, add, rows = kernel.CountNonZero[int64], kernel.AddNonZeroColumns[int64], kernel.CountNonZeroRows[int64]
	case uint8:
		count, add, rows = kernel.CountNonZero[uint8], kernel.AddNonZeroColumns[uint8], kernel.CountNonZeroRows[uint8]
	case uint16:
		count, add, rows = kernel.CountNonZero[uint16], kernel.AddNonZeroColumns[uint16], kernel.CountNonZeroRows[uint16]
	case uint32:
		count, add, rows = kernel.CountNonZero[uint32], kernel.AddNonZeroColumns[uint32], kernel.CountNonZeroRows[uint32]
	case uint64:
		count, add, rows = kernel.CountNonZero[uint64], kernel.AddNonZeroColumns[uint64], kernel.CountNonZeroRows[uint64]
	}
	return count.(func([]T) int), add.(func([]uint64, []T) error), rows.(func([]uint64, []T, int) error)
}

// thresholdKernels returns the kernels of a thresholded rule (Above or
// AbsAbove) for T, or an ErrConfig error if T is not a float type.
func thresholdKernels[T kernel.Element](r Rule) (func([]T) int, func([]uint64, []T) error, func([]uint64, []T, int) error, error) {
	var count, add, rows any
	switch any(*new(T)).(type) {
	case float32:
		count, add, rows = floatKernels[float32](r)
	case float64:
		count, add, rows = floatKernels[float64](r)
	case kernel.Float16:
		count, add, rows = floatKernels[kernel.Float16](r)
	case kernel.BFloat16:
		count, add, rows = floatKernels[kernel.BFloat16](r)
	default:
		return nil, nil, nil, fmt.Errorf("%w: %s counts float elements only, not %s", ErrConfig, r, elementName(elementTag[T]()))
	}
	return count.(func([]T) int), add.(func([]uint64, []T) error), rows.(func([]uint64, []T, int) error), nil
}

func floatKernels[T kernel.Float](r Rule) (func([]T) int, func([]uint64, []T) error, func([]uint64, []T, int) error) {
	t := r.threshold
	if r.Abs() {
		return func(x []T) int { return kernel.CountAbsAbove(x, t) },
			func(c []uint64, x []T) error { return kernel.AddAbsAboveColumns(c, x, t) },
			func(c []uint64, x []T, width int) error { return kernel.CountAbsAboveRows(c, x, width, t) }
	}
	return func(x []T) int { return kernel.CountAbove(x, t) },
		func(c []uint64, x []T) error { return kernel.AddAboveColumns(c, x, t) },
		func(c []uint64, x []T, width int) error { return kernel.CountAboveRows(c, x, width, t) }
}
