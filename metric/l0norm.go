package metric

import (
	"fmt"

	"github.com/sparsekit/l0/kernel"
)

// L0Norm is the L0-norm metric of the sparse_autoencoder library: the mean
// number of counted (non-zero, or above a threshold) features per
// activation vector, per component.
//
// Its state is one count per component (one in all without a component
// dimension) and the number of activation vectors; Compute divides the
// first by the second. The zero value is an L0Norm without a component
// dimension counting non-zero elements, ready to use, like NewL0Norm(0).
//
// An L0Norm is safe for concurrent use: Update, Forward, Compute, Merge,
// Reset and the binary methods may be called from many goroutines at once,
// and the totals stay exact. It must not be copied after first use.
type L0Norm[T kernel.Element] core[T, l0NormKind]

// core returns m as the core it is (nil for a nil m: the core answers
// for it).
func (m *L0Norm[T]) core() *core[T, l0NormKind] { return (*core[T, l0NormKind])(m) }

// NewL0Norm returns an L0Norm. components is the size of the component
// dimension of its inputs, or 0 for inputs without one; a negative value,
// or one above MaxComponents, is an ErrConfig error. The options may give
// the Rule it counts by: NonZero without one (+0 and -0 are zero for the
// float types; NaN, ±Inf and subnormals are not), or Above(t) or
// AbsAbove(t) for the float types; another rule for an integer type, a NaN
// threshold or more than one rule is an ErrConfig error.
func NewL0Norm[T kernel.Element](components int, options ...Option) (*L0Norm[T], error) {
	if components < 0 {
		return nil, fmt.Errorf("%w: %d components; want 0 (none) or more", ErrConfig, components)
	}
	m := new(L0Norm[T])
	if err := m.core().init(components, 0, options); err != nil {
		return nil, err
	}
	return m, nil
}

// NewL0NormAbove returns an L0Norm that counts the elements strictly
// greater than threshold.
//
// Deprecated: NewL0Norm(components, Above(threshold)) says the same, and
// takes every rule (AbsAbove too) as an Option.
func NewL0NormAbove[T kernel.Float](components int, threshold float64) (*L0Norm[T], error) {
	return NewL0Norm[T](components, Above(threshold))
}

// Components returns the size of the component dimension, 0 for none.
func (m *L0Norm[T]) Components() int { return m.core().componentCount() }

// Rule returns what the metric counts.
func (m *L0Norm[T]) Rule() Rule { return m.core().rule() }

// Threshold returns the threshold of the metric's rule (Above or AbsAbove),
// and whether it has one; without one it counts non-zero elements.
func (m *L0Norm[T]) Threshold() (threshold float64, ok bool) { return m.Rule().Threshold() }

// Update adds a batch of activation vectors: x is row-major, of shape
// [batch, feature], or [batch, components, feature] when the metric has
// components. It adds batch to the number of vectors and, per component,
// the number of counted elements.
//
// A batch of zero vectors is valid and changes nothing; so is a batch of
// vectors of zero features (they count as vectors, of L0 0). A shape of
// another rank or number of components, a negative size, a product of
// sizes that overflows int, or one that is not len(x) is an ErrShape error,
// and leaves the metric as it was.
func (m *L0Norm[T]) Update(x []T, shape ...int) error {
	_, err := l0NormDense(m.core(), x, shape, false)
	return err
}

// Forward is Update that also returns the batch's own value, one per
// component, as torchmetrics' forward does. A batch of zero vectors has
// no value: Forward returns ErrNoVectors and leaves the metric unchanged.
func (m *L0Norm[T]) Forward(x []T, shape ...int) ([]float64, error) {
	return l0NormDense(m.core(), x, shape, true)
}

// l0NormDense counts the dense batch x per component outside the lock,
// then adds the counts under it; with value, it also returns the batch's
// value.
func l0NormDense[T kernel.Element](c *core[T, l0NormKind], x []T, shape []int, value bool) ([]float64, error) {
	if c == nil {
		return nil, c.errNil()
	}
	l, err := parseShape(shape, len(x), c.components, -1)
	if err != nil {
		return nil, err
	}
	if l.batch == 0 {
		return emptyBatch(value)
	}
	// The per-component counts, from a pool: an array on the stack escaped
	// through the kernels' function values, 64 bytes a call.
	b := slotScratch.get(l.slots)
	defer slotScratch.put(b)
	if err := c.counter.countSlots(*b, x, l); err != nil {
		return nil, err
	}
	return l0NormAdd(c, l.batch, *b, uint64(l.batch)*uint64(l.features), value)
}

// emptyBatch is the result of an update by a batch of no vectors: nothing,
// and for a Forward (value) ErrNoVectors, as it has no value.
func emptyBatch(value bool) ([]float64, error) {
	if value {
		return nil, fmt.Errorf("%w: Forward of a batch of 0 vectors", ErrNoVectors)
	}
	return nil, nil
}

// l0NormAdd adds a batch of vectors counted outside the lock, its
// per-component counts local (each at most most), under the lock; with
// value, it also returns the batch's value.
func l0NormAdd[T kernel.Element](c *core[T, l0NormKind], vectors int, local []uint64, most uint64, value bool) ([]float64, error) {
	var out []float64
	if value {
		out = make([]float64, len(local))
		for i, n := range local {
			out[i] = float64(n) / float64(vectors)
		}
	}
	if err := c.addCounted(vectors, local, most); err != nil {
		return nil, err
	}
	return out, nil
}

// Compute returns the L0 norm: per component (one value without a
// component dimension), the number of counted elements divided by the
// number of activation vectors. Before any vector it returns ErrNoVectors.
func (m *L0Norm[T]) Compute() ([]float64, error) { return m.core().perVector("Compute") }

// Vectors returns the number of activation vectors added since the metric
// was created or reset.
func (m *L0Norm[T]) Vectors() int64 { return m.core().vectorCount() }

// Counts returns a copy of the exact counts, one per component (one
// without a component dimension).
func (m *L0Norm[T]) Counts() []uint64 { return m.core().countsCopy() }

// Reset returns the metric to its state before the first Update.
func (m *L0Norm[T]) Reset() { m.core().reset() }

// Merge adds other's state to m's, as torchmetrics reduces the state of
// many processes: afterwards m computes the metric over both metrics'
// vectors. other must have the same components and rule (ErrMismatch)
// and must not be nil (ErrConfig). Merge holds both metrics' locks, taken
// in an order fixed by the metrics' addresses, so a.Merge(b) and
// b.Merge(a) can run together without deadlock; m.Merge(m) doubles m's
// state.
func (m *L0Norm[T]) Merge(other *L0Norm[T]) error { return m.core().merge(other.core()) }

// AppendBinary appends the binary state of m (see MarshalBinary) to b.
func (m *L0Norm[T]) AppendBinary(b []byte) ([]byte, error) { return m.core().appendBinary(b) }

// MarshalBinary returns the state of m in the versioned binary format
// described in the package documentation: its configuration (element type,
// components, threshold), its vector count and its counts.
func (m *L0Norm[T]) MarshalBinary() ([]byte, error) { return m.core().marshalBinary() }

// UnmarshalBinary replaces the state of m with one MarshalBinary returned.
// The state must be complete and intact and of a metric of m's element
// type, components and rule; otherwise UnmarshalBinary returns an
// ErrFormat or ErrMismatch error and leaves m unchanged.
func (m *L0Norm[T]) UnmarshalBinary(b []byte) error { return m.core().unmarshalBinary(b) }
