package metric

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// layout is the validated shape of one batch: batch rows of slots
// components of features elements each, row-major. slots is the number of
// components, or 1 for a metric without a component dimension.
type layout struct {
	batch, slots, features int
}

// parseShape checks shape against a metric with the given number of
// components (0: no component dimension) and features (-1: any), and
// against n, the length of the data.
func parseShape(shape []int, n, components, features int) (layout, error) {
	want := "[batch, feature]"
	rank := 2
	if components > 0 {
		want = "[batch, component, feature]"
		rank = 3
	}
	if len(shape) != rank {
		return layout{}, fmt.Errorf("%w: shape %s has rank %d, want %s", ErrShape, shapeString(shape), len(shape), want)
	}
	// The product is exact: with a size 0 it is 0, however large the
	// others (2^62 vectors of 3 components of no features are no elements).
	product := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return layout{}, fmt.Errorf("%w: shape %s has a negative size", ErrShape, shapeString(shape))
		}
		if d == 0 {
			product = 0
		}
	}
	for _, d := range shape {
		hi, lo := bits.Mul64(product, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return layout{}, fmt.Errorf("%w: shape %s has more elements than an int can count", ErrShape, shapeString(shape))
		}
		product = lo
	}
	l := layout{batch: shape[0], slots: 1, features: shape[rank-1]}
	if components > 0 {
		l.slots = shape[1]
		if l.slots != components {
			return layout{}, fmt.Errorf("%w: shape %s has %d components, the metric %d", ErrShape, shapeString(shape), l.slots, components)
		}
	}
	if features >= 0 && l.features != features {
		return layout{}, fmt.Errorf("%w: shape %s has %d features, the metric %d", ErrShape, shapeString(shape), l.features, features)
	}
	if uint64(n) != product {
		return layout{}, fmt.Errorf("%w: shape %s holds %d elements, the data %d", ErrShape, shapeString(shape), product, n)
	}
	return l, nil
}

// shapeString formats a shape as %v does, without keeping it: the errors
// that name a shape must not make a caller's variadic shape escape to the
// heap, which would cost every Update an allocation.
func shapeString(shape []int) string {
	return fmt.Sprint(slices.Clone(shape))
}
