package metric

import (
	"fmt"
	"math"
	"math/bits"
	"sync"

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
type L0Norm[T kernel.Element] struct {
	components int
	counter    counter[T]

	mu      sync.Mutex
	vectors int64
	counts  []uint64 // max(components, 1); nil in the zero value until first used
}

// NewL0Norm returns an L0Norm. components is the size of the component
// dimension of its inputs, or 0 for inputs without one; a negative value,
// or one above MaxComponents, is an ErrConfig error. rule, at most one, is
// what it counts: NonZero without one (+0 and -0 are zero for the float
// types; NaN, ±Inf and subnormals are not), or Above(t) or AbsAbove(t) for
// the float types; another rule for an integer type, a NaN threshold or
// more than one rule is an ErrConfig error.
func NewL0Norm[T kernel.Element](components int, rule ...Rule) (*L0Norm[T], error) {
	if components < 0 {
		return nil, fmt.Errorf("%w: %d components; want 0 (none) or more", ErrConfig, components)
	}
	if err := checkSizes(components, -1); err != nil {
		return nil, err
	}
	r, err := oneRule(rule)
	if err != nil {
		return nil, err
	}
	c, err := newCounter[T](r)
	if err != nil {
		return nil, err
	}
	return &L0Norm[T]{components: components, counter: c, counts: make([]uint64, max(components, 1))}, nil
}

// NewL0NormAbove returns an L0Norm that counts the elements strictly
// greater than threshold: NewL0Norm(components, Above(threshold)).
func NewL0NormAbove[T kernel.Float](components int, threshold float64) (*L0Norm[T], error) {
	return NewL0Norm[T](components, Above(threshold))
}

// Components returns the size of the component dimension, 0 for none.
func (m *L0Norm[T]) Components() int {
	if m == nil {
		return 0
	}
	return m.components
}

// Rule returns what the metric counts.
func (m *L0Norm[T]) Rule() Rule {
	if m == nil {
		return Rule{}
	}
	return m.counter.rule
}

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
	if m == nil {
		return errNilMetric("L0Norm")
	}
	_, err := m.add(x, shape, false)
	return err
}

// Forward is Update that also returns the batch's own value, one per
// component, as torchmetrics' forward does. A batch of zero vectors has
// no value: Forward returns ErrNoVectors and leaves the metric unchanged.
func (m *L0Norm[T]) Forward(x []T, shape ...int) ([]float64, error) {
	if m == nil {
		return nil, errNilMetric("L0Norm")
	}
	return m.add(x, shape, true)
}

// add counts x outside the lock, then adds the counts under it; with value,
// it also returns the batch's value.
func (m *L0Norm[T]) add(x []T, shape []int, value bool) ([]float64, error) {
	l, err := parseShape(shape, len(x), m.components, -1)
	if err != nil {
		return nil, err
	}
	if l.batch == 0 {
		if value {
			return nil, fmt.Errorf("%w: Forward of a batch of 0 vectors", ErrNoVectors)
		}
		return nil, nil
	}
	// The per-component counts, from a pool: an array on the stack escaped
	// through the kernels' function values, 64 bytes a call.
	b := slotScratch.get(l.slots)
	defer slotScratch.put(b)
	local := *b
	if err := m.counter.countSlots(local, x, l); err != nil {
		return nil, err
	}
	return m.addCounted(l.batch, local, value)
}

// addCounted adds a counted batch of vectors, its per-component counts
// local, under the lock; with value, it also returns the batch's value.
func (m *L0Norm[T]) addCounted(vectors int, local []uint64, value bool) ([]float64, error) {
	var out []float64
	if value {
		out = make([]float64, len(local))
		for i, c := range local {
			out[i] = float64(c) / float64(vectors)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.addLocked(int64(vectors), local); err != nil {
		return nil, err
	}
	return out, nil
}

// addLocked adds vectors and counts to the state, or, if a counter would
// overflow, returns ErrOverflow and changes nothing. m.mu is held.
func (m *L0Norm[T]) addLocked(vectors int64, counts []uint64) error {
	state := m.state()
	if vectors > math.MaxInt64-m.vectors {
		return fmt.Errorf("%w: %d + %d vectors", ErrOverflow, m.vectors, vectors)
	}
	for i, c := range counts {
		if _, carry := bits.Add64(state[i], c, 0); carry != 0 {
			return fmt.Errorf("%w: component %d: %d + %d", ErrOverflow, i, state[i], c)
		}
	}
	for i, c := range counts {
		state[i] += c
	}
	m.vectors += vectors
	return nil
}

// state returns the counts, allocating them in a zero L0Norm. m.mu is held.
func (m *L0Norm[T]) state() []uint64 {
	if m.counts == nil {
		m.counts = make([]uint64, max(m.components, 1))
	}
	return m.counts
}

// Compute returns the L0 norm: per component (one value without a
// component dimension), the number of counted elements divided by the
// number of activation vectors. Before any vector it returns ErrNoVectors.
func (m *L0Norm[T]) Compute() ([]float64, error) {
	if m == nil {
		return nil, errNilMetric("L0Norm")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vectors == 0 {
		return nil, fmt.Errorf("%w: Compute before any Update", ErrNoVectors)
	}
	out := make([]float64, len(m.state()))
	for i, c := range m.counts {
		out[i] = float64(c) / float64(m.vectors)
	}
	return out, nil
}

// Vectors returns the number of activation vectors added since the metric
// was created or reset.
func (m *L0Norm[T]) Vectors() int64 {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.vectors
}

// Counts returns a copy of the exact counts, one per component (one
// without a component dimension).
func (m *L0Norm[T]) Counts() []uint64 {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]uint64(nil), m.state()...)
}

// Reset returns the metric to its state before the first Update.
func (m *L0Norm[T]) Reset() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.counts)
	m.vectors = 0
}

// Merge adds other's state to m's, as torchmetrics reduces the state of
// many processes: afterwards m computes the metric over both metrics'
// vectors. other must have the same components and rule (ErrMismatch)
// and must not be nil (ErrConfig). other is read under its own lock and
// then added under m's, never both at once, so a.Merge(b) and b.Merge(a)
// can run together; m.Merge(m) doubles m's state.
func (m *L0Norm[T]) Merge(other *L0Norm[T]) error {
	if m == nil {
		return errNilMetric("L0Norm")
	}
	if other == nil {
		return fmt.Errorf("%w: Merge with a nil *L0Norm", ErrConfig)
	}
	if m.components != other.components || !m.counter.rule.same(other.counter.rule) {
		return fmt.Errorf("%w: merging %d components counting %s into %d components counting %s", ErrMismatch,
			other.components, other.counter.rule, m.components, m.counter.rule)
	}
	other.mu.Lock()
	vectors := other.vectors
	counts := append([]uint64(nil), other.state()...)
	other.mu.Unlock()

	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addLocked(vectors, counts)
}

// config returns m's configuration as a binary header without counts.
func (m *L0Norm[T]) config() header {
	return header{
		tag:        elementTag[T](),
		rule:       m.counter.rule,
		components: m.components,
	}
}

// AppendBinary appends the binary state of m (see MarshalBinary) to b.
func (m *L0Norm[T]) AppendBinary(b []byte) ([]byte, error) {
	if m == nil {
		return b, errNilMetric("L0Norm")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.config()
	h.vectors = m.vectors
	return appendState(b, magicL0Norm, h, m.state()), nil
}

// MarshalBinary returns the state of m in the versioned binary format
// described in the package documentation: its configuration (element type,
// components, threshold), its vector count and its counts.
func (m *L0Norm[T]) MarshalBinary() ([]byte, error) {
	if m == nil {
		return nil, errNilMetric("L0Norm")
	}
	return m.AppendBinary(make([]byte, 0, headerSize+8*max(m.components, 1)+checksumSize))
}

// UnmarshalBinary replaces the state of m with one MarshalBinary returned.
// The state must be complete and intact and of a metric of m's element
// type, components and threshold; otherwise UnmarshalBinary returns an
// ErrFormat or ErrMismatch error and leaves m unchanged.
func (m *L0Norm[T]) UnmarshalBinary(b []byte) error {
	if m == nil {
		return errNilMetric("L0Norm")
	}
	h, raw, err := parseState(b, magicL0Norm, func(h header) (int, bool) {
		return max(h.components, 1), h.features == 0 && checkSizes(h.components, -1) == nil
	})
	if err != nil {
		return err
	}
	if err := checkConfig(h, m.config()); err != nil {
		return err
	}
	if _, err := checkCounts(raw, h.vectors, 0); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	decodeCounts(m.state(), raw)
	m.vectors = h.vectors
	return nil
}
