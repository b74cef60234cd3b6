package metric

import (
	"fmt"
	"math"

	"github.com/sparsekit/l0/kernel"
)

// Sparse activations.
//
// A top-k sparse autoencoder's encoder gives, per activation vector, k
// feature indices and their k values (torch.topk); a batch-top-k encoder or
// an activation cache gives a list of (vector, feature, value) entries.
// UpdateSparse (UpdateTopK) and UpdateEntries take a batch in either form, without the
// dense matrix, and leave a metric in exactly the state the dense batch
// leaves it: for a dense batch x, its counted entries, with any number of
// entries whose value does not count, update a metric to the same Compute,
// Density and MarshalBinary bytes as Update(x); UpdateEntries, whose
// entries have no vector, to the same counts (a FeatureActivity's
// VectorsSinceFired counts a feature that fired in its batch as fired in
// the batch's last vector).

// Sparse is a metric that takes sparse batches: *L0Norm[T] and
// *FeatureActivity[T], the only types that implement it. The sparse updates
// are functions of the package rather than methods of each metric because
// they have a type parameter of their own, the index type, which Go methods
// cannot have.
type Sparse[T kernel.Element] interface {
	// counterOf is never called: its T lets a call infer the element type
	// from the metric alone, with values nil.
	counterOf() *counter[T]
}

func (m *L0Norm[T]) counterOf() *counter[T]          { return &m.core().counter }
func (a *FeatureActivity[T]) counterOf() *counter[T] { return &a.core().counter }

// TopK is a batch of a top-k sparse autoencoder's outputs, its sizes
// named, so that a call says which number is which:
//
//	metric.UpdateSparse(f, metric.TopK[float32, int64]{Index: index, Values: values, Batch: 4096, K: 64})
//
// Index and Values are row-major, of shape [Batch, K], or [Batch,
// Components, K] for a metric with components (the same shape for both), as
// torch.topk returns them: entry [b, c, j] is feature Index[b, c, j] of
// component c of vector b, with value Values[b, c, j]. Values may be nil:
// every entry then counts (sparsify's "fired": present in the top k,
// whatever its value). Otherwise an entry counts by the metric's rule,
// exactly as Update decides for the dense batch: a ReLU can leave zeros
// among the top k, and those do not count. Index types are int32 and int64
// (torch's) and uint16 and uint32 (delphi's).
type TopK[T kernel.Element, I kernel.Index] struct {
	Index  []I
	Values []T // nil: every entry counts
	// Batch is the number of activation vectors.
	Batch int
	// Components is the metric's component dimension; 0 for a metric
	// without one (Index is then [Batch, K]).
	Components int
	// K is the number of entries per vector (per vector and component).
	K int
}

// shape returns b's shape, [Batch, K] or [Batch, Components, K], in buf.
func (b *TopK[T, I]) shape(buf *[3]int) []int {
	if b.Components == 0 {
		buf[0], buf[1] = b.Batch, b.K
		return buf[:2]
	}
	*buf = [3]int{b.Batch, b.Components, b.K}
	return buf[:]
}

// UpdateSparse adds a batch of top-k outputs to m: the sparse form of a
// dense batch, which it leaves m exactly as Update would leave it.
//
// A FeatureActivity checks every index against [0, features) before it
// adds anything; an L0Norm, which has no number of features, checks that
// none is negative. An index outside its range is an error wrapping
// ErrShape and kernel.ErrIndex; sizes that do not match the metric's
// components or do not hold len(b.Index) entries, a negative size, or
// values of another length are an ErrShape error. A rejected batch changes
// nothing. A batch of zero vectors is valid and changes nothing; K may be
// 0: vectors with no entry count, of L0 0.
//
// torch.topk never gives an index twice in a row, and UpdateSparse does
// not look for it (it would cost more than the counting): an index given
// twice in a vector counts twice, as in UpdateEntries.
//
// An L0Norm counts the batch outside its lock, as Update does; a
// FeatureActivity adds the entries straight to its counts, under its lock,
// so sparse updates of one FeatureActivity from many goroutines take turns.
func UpdateSparse[T kernel.Element, I kernel.Index](m Sparse[T], b TopK[T, I]) error {
	var buf [3]int
	return updateTopK(m, b.Index, b.Values, b.shape(&buf))
}

// ForwardSparse is UpdateSparse of an L0Norm that also returns the batch's
// own value, one per component, as Forward does for a dense batch. A batch
// of zero vectors has no value: ErrNoVectors, and nothing changes.
func ForwardSparse[T kernel.Element, I kernel.Index](m *L0Norm[T], b TopK[T, I]) ([]float64, error) {
	var buf [3]int
	return l0NormTopK(m.core(), b.Index, b.Values, b.shape(&buf), true)
}

// UpdateTopK is UpdateSparse with the batch's sizes as a shape: index and
// values are of shape [batch, k], or [batch, components, k] for a metric
// with components; UpdateTopK(m, index, values, batch, k) is
// UpdateSparse(m, TopK{Index: index, Values: values, Batch: batch, K: k}).
// A shape of another rank is an ErrShape error.
func UpdateTopK[T kernel.Element, I kernel.Index](m Sparse[T], index []I, values []T, shape ...int) error {
	return updateTopK(m, index, values, shape)
}

// ForwardTopK is ForwardSparse with the batch's sizes as a shape, as
// UpdateTopK takes them.
func ForwardTopK[T kernel.Element, I kernel.Index](m *L0Norm[T], index []I, values []T, shape ...int) ([]float64, error) {
	return l0NormTopK(m.core(), index, values, shape, true)
}

// updateTopK adds a top-k batch of the given shape to m.
func updateTopK[T kernel.Element, I kernel.Index](m Sparse[T], index []I, values []T, shape []int) error {
	switch m := m.(type) {
	case *L0Norm[T]:
		_, err := l0NormTopK(m.core(), index, values, shape, false)
		return err
	case *FeatureActivity[T]:
		return activityTopK(m.core(), index, values, shape)
	}
	return errNilSparse
}

// errNilSparse is the error of a sparse update of a nil Sparse interface,
// a metric of no type.
var errNilSparse = fmt.Errorf("%w: a sparse update of a nil metric", ErrConfig)

// UpdateEntries adds a batch of vectors activation vectors given as a list
// of entries (batch-top-k outputs, activation caches: a COO list without
// the vector of each entry): entry i is feature index[i], with value
// values[i] (nil: every entry counts; otherwise the metric's rule decides).
// For a FeatureActivity with components the index runs over components ×
// features, component-major: c*features + f.
//
// A FeatureActivity checks every index against [0, components × features)
// before it adds anything; an L0Norm without components checks that none is
// negative, and one with components cannot take entries (ErrConfig: an
// entry's component cannot be told). vectors is the number of activation
// vectors in the batch: a negative number, or entries in a batch of 0
// vectors, is an ErrShape error, as are values of another length than
// index. A rejected batch changes nothing.
//
// A (vector, feature) pair given twice cannot be told from two vectors
// without the vectors of the entries, and counts twice: a FeatureActivity
// fed duplicates can report a density above 1.
func UpdateEntries[T kernel.Element, I kernel.Index](m Sparse[T], vectors int, index []I, values []T) error {
	switch {
	case vectors < 0:
		return fmt.Errorf("%w: %d vectors", ErrShape, vectors)
	case vectors == 0 && len(index) > 0:
		return fmt.Errorf("%w: %d entries in a batch of 0 vectors", ErrShape, len(index))
	case values != nil && len(values) != len(index):
		return fmt.Errorf("%w: %d values for %d entries", ErrShape, len(values), len(index))
	}
	switch m := m.(type) {
	case *L0Norm[T]:
		return l0NormEntries(m.core(), vectors, index, values)
	case *FeatureActivity[T]:
		return activityEntries(m.core(), vectors, index, values)
	}
	return errNilSparse
}

// topKLayout checks a top-k batch's shape against a metric of the given
// components; the layout's features are its k.
func topKLayout(shape []int, entries, values, components int, hasValues bool) (layout, error) {
	l, err := parseShape(shape, entries, components, -1)
	if err != nil {
		return l, err
	}
	if hasValues && values != entries {
		return l, fmt.Errorf("%w: %d values for %d entries", ErrShape, values, entries)
	}
	return l, nil
}

// indexError wraps a kernel's error of the entries in ErrShape.
func indexError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrShape, err)
}

// l0NormTopK counts a top-k batch per component, outside the lock: k per
// vector without values, else the values that count, as the dense batch's
// rows of k would be counted.
func l0NormTopK[T kernel.Element, I kernel.Index](c *core[T, l0NormKind], index []I, values []T, shape []int, value bool) ([]float64, error) {
	if c == nil {
		return nil, c.errNil()
	}
	l, err := topKLayout(shape, len(index), len(values), c.components, values != nil)
	if err != nil {
		return nil, err
	}
	if l.batch == 0 {
		return emptyBatch(value)
	}
	if err := kernel.CheckIndex(index, math.MaxInt); err != nil {
		return nil, indexError(err)
	}
	b := slotScratch.get(l.slots)
	defer slotScratch.put(b)
	local := *b
	if values == nil {
		for s := range local {
			local[s] = uint64(l.batch) * uint64(l.features)
		}
	} else if err := c.counter.countSlots(local, values, l); err != nil {
		return nil, err
	}
	return l0NormAdd(c, l.batch, local, uint64(l.batch)*uint64(l.features), value)
}

// l0NormEntries counts a list of entries: all of them, or the values that
// count.
func l0NormEntries[T kernel.Element, I kernel.Index](c *core[T, l0NormKind], vectors int, index []I, values []T) error {
	if c == nil {
		return c.errNil()
	}
	if c.components > 0 {
		return fmt.Errorf("%w: an L0Norm of %d components cannot take entries: an entry's component cannot be told (UpdateTopK can)", ErrConfig, c.components)
	}
	if vectors == 0 {
		return nil
	}
	if err := kernel.CheckIndex(index, math.MaxInt); err != nil {
		return indexError(err)
	}
	counted := uint64(len(index))
	if values != nil {
		counted = uint64(c.counter.countAll(values))
	}
	_, err := l0NormAdd(c, vectors, []uint64{counted}, counted, false)
	return err
}

// activityTopK adds a top-k batch to the counts, under the lock.
func activityTopK[T kernel.Element, I kernel.Index](c *core[T, activityKind], index []I, values []T, shape []int) error {
	if c == nil {
		return c.errNil()
	}
	l, err := topKLayout(shape, len(index), len(values), c.components, values != nil)
	if err != nil || l.batch == 0 {
		return err
	}
	return addEntries(c, int64(l.batch), c.features, index, values, max(l.features, 1), l.slots*l.features)
}

// activityEntries adds a list of entries to the counts, under the lock;
// the index runs over every counter.
func activityEntries[T kernel.Element, I kernel.Index](c *core[T, activityKind], vectors int, index []I, values []T) error {
	if c == nil {
		return c.errNil()
	}
	if vectors == 0 {
		return nil
	}
	return addEntries(c, int64(vectors), c.counters(), index, values, 1, 0)
}

// addEntries adds the entries that count to c's counts (features per
// component, rows of k; the index kernels add at most len(index) to any
// count, and nothing if they fail) and counts vectors, under the lock. It
// takes no closure: one would escape, and allocate, where inlining differs
// (under -race).
//
// rowEntries is the entries of a vector (a top-k batch), or 0 for a list
// of entries without vectors: the positions of the features they fired
// (markCountedLocked).
func addEntries[T kernel.Element, I kernel.Index](c *core[T, activityKind], vectors int64, features int, index []I, values []T, k, rowEntries int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	most := uint64(len(index))
	into, scratch, err := c.beginInPlaceLocked(vectors, most)
	if err != nil {
		return err
	}
	base := c.vectors
	if err := c.endInPlaceLocked(vectors, most, scratch, indexError(addIndexed(&c.counter, into, features, index, values, k))); err != nil {
		return err
	}
	return markCountedLocked(&c.tally, &c.counter, base, vectors, features, index, values, rowEntries, k)
}
