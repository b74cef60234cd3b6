package metric

import "github.com/sparsekit/l0/kernel"

// The kernels a metric calls, instantiated for its concrete element type
// once, at construction: a call from the generic metric code to
// kernel.CountNonZero[T] would otherwise resolve T from a dictionary on
// every call, one call per row.

// nonZeroKernels returns CountNonZero and AddNonZeroColumns for T.
func nonZeroKernels[T kernel.Element]() (func([]T) int, func([]uint64, []T) error) {
	var count, add any
	switch any(*new(T)).(type) {
	case float32:
		count, add = kernel.CountNonZero[float32], kernel.AddNonZeroColumns[float32]
	case float64:
		count, add = kernel.CountNonZero[float64], kernel.AddNonZeroColumns[float64]
	case kernel.Float16:
		count, add = kernel.CountNonZero[kernel.Float16], kernel.AddNonZeroColumns[kernel.Float16]
	case kernel.BFloat16:
		count, add = kernel.CountNonZero[kernel.BFloat16], kernel.AddNonZeroColumns[kernel.BFloat16]
	case int8:
		count, add = kernel.CountNonZero[int8], kernel.AddNonZeroColumns[int8]
	case int16:
		count, add = kernel.CountNonZero[int16], kernel.AddNonZeroColumns[int16]
	case int32:
		count, add = kernel.CountNonZero[int32], kernel.AddNonZeroColumns[int32]
	case int64:
		count, add = kernel.CountNonZero[int64], kernel.AddNonZeroColumns[int64]
	case uint8:
		count, add = kernel.CountNonZero[uint8], kernel.AddNonZeroColumns[uint8]
	case uint16:
		count, add = kernel.CountNonZero[uint16], kernel.AddNonZeroColumns[uint16]
	case uint32:
		count, add = kernel.CountNonZero[uint32], kernel.AddNonZeroColumns[uint32]
	case uint64:
		count, add = kernel.CountNonZero[uint64], kernel.AddNonZeroColumns[uint64]
	}
	return count.(func([]T) int), add.(func([]uint64, []T) error)
}

// aboveKernels returns CountAbove and AddAboveColumns for T and threshold.
func aboveKernels[T kernel.Float](threshold float64) (func([]T) int, func([]uint64, []T) error) {
	var count, add any
	switch any(*new(T)).(type) {
	case float32:
		count, add = above[float32](threshold)
	case float64:
		count, add = above[float64](threshold)
	case kernel.Float16:
		count, add = above[kernel.Float16](threshold)
	case kernel.BFloat16:
		count, add = above[kernel.BFloat16](threshold)
	}
	return count.(func([]T) int), add.(func([]uint64, []T) error)
}

func above[T kernel.Float](threshold float64) (func([]T) int, func([]uint64, []T) error) {
	return func(x []T) int { return kernel.CountAbove(x, threshold) },
		func(c []uint64, x []T) error { return kernel.AddAboveColumns(c, x, threshold) }
}
