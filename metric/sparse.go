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
// UpdateTopK and UpdateEntries take a batch in either form, without the
// dense matrix, and leave a metric in exactly the state the dense batch
// leaves it: for a dense batch x, its counted entries, with any number of
// entries whose value does not count, update a metric to the same Compute,
// Density and MarshalBinary bytes as Update(x).

// Sparse is a metric that takes sparse batches: *L0Norm[T] and
// *FeatureActivity[T], the only types that implement it. The sparse updates
// are functions of the package rather than methods of each metric because
// they have a type parameter of their own, the index type, which Go methods
// cannot have.
type Sparse[T kernel.Element] interface {
	// rule returns what the metric counts; its T lets a call infer the
	// element type from the metric alone, with values nil.
	rule() *counter[T]
}

func (m *L0Norm[T]) rule() *counter[T]          { return &m.counter }
func (a *FeatureActivity[T]) rule() *counter[T] { return &a.counter }

// UpdateTopK adds a batch of top-k outputs to m: index and values are
// row-major, of shape [batch, k], or [batch, components, k] for a metric
// with components (the same shape for both), as torch.topk returns them;
// entry [b, c, j] is feature index[b, c, j] of component c of vector b,
// with value values[b, c, j]. values may be nil: every entry then counts
// (sparsify's "fired": present in the top k, whatever its value).
// Otherwise an entry counts by the metric's rule, exactly as Update decides
// for the dense batch: a ReLU can leave zeros among the top k, and those do
// not count. Index types are int32 and int64 (torch's) and uint16 and
// uint32 (delphi's).
//
// A FeatureActivity checks every index against [0, features) before it
// adds anything; an L0Norm, which has no number of features, checks that
// none is negative. An index outside its range is an error wrapping
// ErrShape and kernel.ErrIndex; a shape of another rank or components, or
// that does not hold len(index) entries, or values of another length, is
// an ErrShape error. A rejected batch changes nothing. A batch of zero
// vectors is valid and changes nothing; k may be 0: vectors with no entry
// count, of L0 0.
//
// torch.topk never gives an index twice in a row, and UpdateTopK does not
// look for it (it would cost more than the counting): an index given twice
// in a vector counts twice, as in UpdateEntries.
//
// An L0Norm counts the batch outside its lock, as Update does; a
// FeatureActivity adds the entries straight to its counts, under its lock,
// so sparse updates of one FeatureActivity from many goroutines take turns.
func UpdateTopK[T kernel.Element, I kernel.Index](m Sparse[T], index []I, values []T, shape ...int) error {
	switch m := m.(type) {
	case *L0Norm[T]:
		if m != nil {
			_, err := l0NormTopK(m, index, values, shape, false)
			return err
		}
	case *FeatureActivity[T]:
		if m != nil {
			return activityTopK(m, index, values, shape)
		}
	}
	return fmt.Errorf("%w: a sparse update of a nil metric", ErrConfig)
}

// ForwardTopK is UpdateTopK of an L0Norm that also returns the batch's own
// value, one per component, as Forward does for a dense batch. A batch of
// zero vectors has no value: ErrNoVectors, and nothing changes.
func ForwardTopK[T kernel.Element, I kernel.Index](m *L0Norm[T], index []I, values []T, shape ...int) ([]float64, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: a sparse update of a nil metric", ErrConfig)
	}
	return l0NormTopK(m, index, values, shape, true)
}

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
		if m != nil {
			return l0NormEntries(m, vectors, index, values)
		}
	case *FeatureActivity[T]:
		if m != nil {
			return activityEntries(m, vectors, index, values)
		}
	}
	return fmt.Errorf("%w: a sparse update of a nil metric", ErrConfig)
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
func l0NormTopK[T kernel.Element, I kernel.Index](m *L0Norm[T], index []I, values []T, shape []int, value bool) ([]float64, error) {
	l, err := topKLayout(shape, len(index), len(values), m.components, values != nil)
	if err != nil {
		return nil, err
	}
	if l.batch == 0 {
		if value {
			return nil, fmt.Errorf("%w: Forward of a batch of 0 vectors", ErrNoVectors)
		}
		return nil, nil
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
	} else if err := m.counter.countSlots(local, values, l); err != nil {
		return nil, err
	}
	return m.addCounted(l.batch, local, value)
}

// l0NormEntries counts a list of entries: all of them, or the values that
// count.
func l0NormEntries[T kernel.Element, I kernel.Index](m *L0Norm[T], vectors int, index []I, values []T) error {
	if m.components > 0 {
		return fmt.Errorf("%w: an L0Norm of %d components cannot take entries: an entry's component cannot be told (UpdateTopK can)", ErrConfig, m.components)
	}
	if vectors == 0 {
		return nil
	}
	if err := kernel.CheckIndex(index, math.MaxInt); err != nil {
		return indexError(err)
	}
	counted := uint64(len(index))
	if values != nil {
		counted = uint64(m.counter.countAll(values))
	}
	_, err := m.addCounted(vectors, []uint64{counted}, false)
	return err
}

// activityTopK adds a top-k batch to the counts, under the lock.
func activityTopK[T kernel.Element, I kernel.Index](a *FeatureActivity[T], index []I, values []T, shape []int) error {
	l, err := topKLayout(shape, len(index), len(values), a.components, values != nil)
	if err != nil || l.batch == 0 {
		return err
	}
	return addEntries(a, int64(l.batch), a.features, index, values, max(l.features, 1))
}

// activityEntries adds a list of entries to the counts, under the lock;
// the index runs over every counter.
func activityEntries[T kernel.Element, I kernel.Index](a *FeatureActivity[T], vectors int, index []I, values []T) error {
	if vectors == 0 {
		return nil
	}
	return addEntries(a, int64(vectors), len(a.counts), index, values, 1)
}

// addEntries adds the entries that count to a's counts (features per
// component, rows of k; addIndexed adds at most len(index) to any count,
// and nothing if it fails) and counts vectors, under the lock, after the
// overflow checks. Where a count could pass 2^64 by the entries, they are
// counted apart and added only if the true sums fit. It takes no closure:
// one would escape, and allocate, where inlining differs (under -race).
func addEntries[T kernel.Element, I kernel.Index](a *FeatureActivity[T], vectors int64, features int, index []I, values []T, k int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.checkVectorsLocked(vectors); err != nil {
		return err
	}
	if !a.fitsLocked(uint64(len(index))) {
		local := activityScratch.get(len(a.counts))
		defer activityScratch.put(local)
		if err := indexError(addIndexed(&a.counter, *local, features, index, values, k)); err != nil {
			return err
		}
		return a.addExactLocked(vectors, *local)
	}
	if err := indexError(addIndexed(&a.counter, a.counts, features, index, values, k)); err != nil {
		return err
	}
	a.vectors += vectors
	a.limit += uint64(len(index))
	return nil
}
