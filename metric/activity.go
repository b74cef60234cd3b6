package metric

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"unsafe"

	"github.com/sparsekit/l0/kernel"
)

// FeatureActivity counts, for each feature of each component, in how many
// activation vectors it fired: was non-zero, or above a threshold. From
// these counts come the health signals of sparse-autoencoder training:
// feature density (the fraction of vectors a feature fired in), dead
// features (never fired), dense features, the log10 density histogram, and
// the L0 norm itself (the sum of a component's densities).
//
// It takes the same inputs as L0Norm and has the same guarantees: exact
// 64-bit counts, rejected calls that change nothing, Merge and the binary
// format, safe for concurrent use. It must not be copied after first use.
// The zero value is an activity of zero features without components.
type FeatureActivity[T kernel.Element] core[T, activityKind]

// core returns a as the core it is (nil for a nil a: the core answers
// for it).
func (a *FeatureActivity[T]) core() *core[T, activityKind] { return (*core[T, activityKind])(a) }

// NewFeatureActivity returns a FeatureActivity over inputs of the given
// number of components (0: no component dimension) and features. Negative
// sizes, more than MaxComponents components and more than MaxCounters
// counters (components × features) are an ErrConfig error. The options may
// give the Rule by which a feature fires, as for NewL0Norm: NonZero without
// one, Above(t) or AbsAbove(t) for the float types.
func NewFeatureActivity[T kernel.Element](components, features int, options ...Option) (*FeatureActivity[T], error) {
	if components < 0 || features < 0 {
		return nil, fmt.Errorf("%w: %d components, %d features; want 0 or more", ErrConfig, components, features)
	}
	a := new(FeatureActivity[T])
	if err := a.core().init(components, features, options); err != nil {
		return nil, err
	}
	return a, nil
}

// NewFeatureActivityAbove returns a FeatureActivity in which a feature
// fires when it is strictly greater than threshold (the
// TrainBatchFeatureDensity definition of the sparse_autoencoder library).
//
// Deprecated: NewFeatureActivity(components, features, Above(threshold))
// says the same, and takes every rule (AbsAbove too) as an Option.
func NewFeatureActivityAbove[T kernel.Float](components, features int, threshold float64) (*FeatureActivity[T], error) {
	return NewFeatureActivity[T](components, features, Above(threshold))
}

// Components returns the size of the component dimension, 0 for none.
func (a *FeatureActivity[T]) Components() int { return a.core().componentCount() }

// Features returns the number of features per component.
func (a *FeatureActivity[T]) Features() int { return a.core().featureCount() }

// Rule returns when a feature fires.
func (a *FeatureActivity[T]) Rule() Rule { return a.core().rule() }

// Threshold returns the threshold of the metric's rule (Above or AbsAbove),
// and whether there is one; without one a feature fires when it is not
// zero.
func (a *FeatureActivity[T]) Threshold() (threshold float64, ok bool) { return a.Rule().Threshold() }

// Update adds a batch of activation vectors, with the shapes of
// L0Norm.Update; the feature size must be the metric's. A batch of zero
// vectors changes nothing; a rejected call (ErrShape, ErrOverflow) leaves
// the metric as it was. The batch is counted with one kernel call: for a
// batch of fewer than 8 vectors, under the lock, into the state's pending
// byte counters (widened into its 64-bit counts before they could
// overflow and before any read); otherwise outside the lock, into scratch
// counters of a byte per count (up to 255 vectors) or of the counts' size,
// then added under it, so that the scratch never exceeds the batch's own
// bytes.
// The batch's vectors come after those counted before it took the lock
// (VectorsSinceFired): Updates from many goroutines are exact per batch,
// in the order they arrive.
func (a *FeatureActivity[T]) Update(x []T, shape ...int) error {
	c := a.core()
	if c == nil {
		return c.errNil()
	}
	l, err := parseShape(shape, len(x), c.components, c.features)
	if err != nil || l.batch == 0 {
		return err
	}
	counters := max(c.components, 1) * c.features // c.counters(), without its kind
	switch {
	case l.batch < minColumnBatch:
		return c.updateLocked(x, l.batch)
	case c.last != nil && fusedLast[T](l.batch, counters, int(unsafe.Sizeof(x[0]))):
		return updateMarked(c, x, l.batch, counters)
	case l.batch <= maxPendingRows && counters >= minPendingCounters:
		local := activityByteScratch.get(counters)
		defer activityByteScratch.put(local)
		if err := c.counter.addAllColumnBytes(*local, x); err != nil {
			return err
		}
		return c.addCountedBytes(l.batch, *local, x)
	}
	local := activityScratch.get(counters)
	defer activityScratch.put(local)
	if err := c.counter.addAllColumns(*local, x); err != nil {
		return err
	}
	if c.last == nil {
		return c.addCounted(l.batch, *local, uint64(l.batch))
	}
	return addCountedFired(c, *local, x, uint64(l.batch))
}

// addCountedFired is core.addCounted of the batch x, counted into counts,
// that also sets the positions of the features that fired in it
// (markRowsLocked), under the same lock.
func addCountedFired[T kernel.Element](c *core[T, activityKind], counts []uint64, x []T, vectors uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.countsLocked()
	base := c.vectors
	if err := c.addLocked(int64(vectors), counts, vectors); err != nil {
		return err
	}
	return markRowsLocked(&c.tally, &c.counter, base, x, len(counts), counts)
}

// updateLocked counts a batch of vectors (at most maxPendingRows) under
// the lock, into the pending byte counters, or where the bounds do not
// tell at once that no count can overflow, into the counts themselves
// through the checked in-place addition; then the positions of the
// features that fired in it (markRowsLocked).
func (c *core[T, K]) updateLocked(x []T, vectors int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, most := int64(vectors), uint64(vectors)
	base := c.vectors
	width := max(c.components, 1) * c.features
	if pending := c.pendingLocked(n, most); pending != nil {
		if err := c.endPendingLocked(n, most, c.counter.addAllColumnBytes(pending, x)); err != nil {
			return err
		}
		return markRowsLocked(&c.tally, &c.counter, base, x, width, []uint64(nil))
	}
	into, scratch, err := c.beginInPlaceLocked(n, most)
	if err != nil {
		return err
	}
	if err := c.endInPlaceLocked(n, most, scratch, c.counter.addAllColumns(into, x)); err != nil {
		return err
	}
	return markRowsLocked(&c.tally, &c.counter, base, x, width, []uint64(nil))
}

// addCountedBytes adds a batch of vectors (at most maxPendingRows)
// counted outside the lock into byte counters, as many as the state's: to
// the pending counters, or where the bounds do not tell at once that no
// count can overflow, widened into 64-bit scratch counters and added with
// the checks of addCounted.
//
// Then the positions of the features that fired in x, the batch, found
// from its last row (markRowsLocked) among those its byte counts say
// fired.
func (c *core[T, K]) addCountedBytes(vectors int, small []uint8, x []T) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	base := c.vectors
	width := max(c.components, 1) * c.features
	if c.addPendingLocked(int64(vectors), small) {
		return markRowsLocked(&c.tally, &c.counter, base, x, width, small)
	}
	wide := activityScratch.get(len(small))
	defer activityScratch.put(wide)
	_ = kernel.WidenByteCounts(*wide, small) // as many: made so
	c.countsLocked()
	if err := c.addLocked(int64(vectors), *wide, uint64(vectors)); err != nil {
		return err
	}
	return markRowsLocked(&c.tally, &c.counter, base, x, width, *wide)
}

// Reset returns the metric to its state before the first Update.
func (a *FeatureActivity[T]) Reset() { a.core().reset() }

// Vectors returns the number of activation vectors added since the metric
// was created or reset.
func (a *FeatureActivity[T]) Vectors() int64 { return a.core().vectorCount() }

// Counts returns a copy of the counts: element c*Features()+f is the number
// of vectors in which feature f of component c fired.
func (a *FeatureActivity[T]) Counts() []uint64 { return a.core().countsCopy() }

// Density returns, per (component, feature) as Counts orders them, the
// fraction of activation vectors in which the feature fired, from 0 to 1.
// Before any vector it returns ErrNoVectors.
func (a *FeatureActivity[T]) Density() ([]float64, error) { return a.core().perVector("Density") }

// Dead returns the indices, as Counts orders them, of the features that
// never fired since the metric was created or reset. Before any vector
// that is every feature: none has fired yet.
func (a *FeatureActivity[T]) Dead() []int {
	var dead []int
	a.core().view(func(counts []uint64, _ int64) {
		dead = []int{}
		for i, n := range counts {
			if n == 0 {
				dead = append(dead, i)
			}
		}
	})
	return dead
}

// Dense returns the indices, as Counts orders them, of the features whose
// density is greater than threshold (say 0.1: a feature firing in more than
// one vector in ten). A NaN threshold is an ErrConfig error; before any
// vector Dense returns ErrNoVectors.
func (a *FeatureActivity[T]) Dense(threshold float64) ([]int, error) {
	if math.IsNaN(threshold) {
		return nil, fmt.Errorf("%w: density threshold is NaN", ErrConfig)
	}
	var dense []int
	err := a.core().read("Dense", func(counts []uint64, vectors int64) {
		dense = []int{}
		for i, c := range counts {
			if float64(c)/float64(vectors) > threshold {
				dense = append(dense, i)
			}
		}
	})
	return dense, err
}

// L0 returns, per component (one value without a component dimension), the
// sum of its features' counts divided by the number of vectors: the mean
// number of features that fired per vector, the value an L0Norm of the same
// configuration computes over the same inputs. Before any vector it returns
// ErrNoVectors.
func (a *FeatureActivity[T]) L0() ([]float64, error) {
	var l0 []float64
	components, features := a.Components(), a.Features()
	err := a.core().read("L0", func(counts []uint64, vectors int64) {
		l0 = make([]float64, max(components, 1))
		for c := range l0 {
			var hi, lo uint64 // a 128-bit sum: features × 2^63 can exceed 2^64
			for _, v := range counts[c*features : (c+1)*features] {
				var carry uint64
				lo, carry = bits.Add64(lo, v, 0)
				hi += carry
			}
			l0[c] = (float64(hi)*(1<<64) + float64(lo)) / float64(vectors)
		}
	})
	return l0, err
}

// Merge adds other's state to a's, so that a describes both metrics'
// vectors, other's after a's: the counts add, and each feature's
// VectorsSinceFired becomes other's where it fired in other's vectors,
// else a's plus other's vectors. Merging shards in their order (an
// associative combine) gives what one metric fed them in that order gives.
// other must have the same components, features and rule
// (ErrMismatch) and must not be nil (ErrConfig). Merge holds both metrics'
// locks while it adds other's counts straight from its state, so that
// merging a state of gigabytes takes no copy of it; it takes them in an
// order fixed by the metrics' addresses, so a.Merge(b) and b.Merge(a) can
// run at once without deadlock, and a.Merge(a) doubles a's state.
func (a *FeatureActivity[T]) Merge(other *FeatureActivity[T]) error {
	return a.core().merge(other.core())
}

// AppendBinary appends the binary state of a (see MarshalBinary) to b.
func (a *FeatureActivity[T]) AppendBinary(b []byte) ([]byte, error) {
	return a.core().appendBinary(b)
}

// MarshalBinary returns the state of a in the versioned binary format
// described in the package documentation.
func (a *FeatureActivity[T]) MarshalBinary() ([]byte, error) { return a.core().marshalBinary() }

// UnmarshalBinary replaces the state of a with one MarshalBinary returned.
// The state must be complete, intact and consistent (no count without a
// vector) and of a metric of a's element type, components, features and
// rule; otherwise UnmarshalBinary returns an ErrFormat or ErrMismatch error
// and leaves a unchanged. A count may exceed the vector count: sparse
// entries given twice count twice (UpdateEntries). The counts are decoded
// straight into a's: nothing is allocated, whatever the state's size.
func (a *FeatureActivity[T]) UnmarshalBinary(b []byte) error { return a.core().unmarshalBinary(b) }

// ReadFrom reads a state, as MarshalBinary writes it, from r to its end
// into a, which must be empty: new, or Reset, or holding a state of no
// vectors (a metric that has counted anything is an ErrConfig error: read
// the state into a new metric and Merge it). It is UnmarshalBinary for
// states too large to hold twice: the counts are decoded as they are read,
// 128 KiB at a time, straight into a's, so that reading a state costs a's
// own counts and no copy of the state's bytes. It returns the number of
// bytes read.
//
// The state must be one UnmarshalBinary accepts, and r must end where it
// ends; otherwise ReadFrom returns an ErrFormat or ErrMismatch error (or
// r's error) and leaves a empty, as it was. It reads no further than the
// state the header describes, and one byte to see the end: a stream that
// does not end there is an error (bytes after the state), however long.
// The checksum is only known at the end: a state whose header is
// intact but of another configuration is read to its end to tell a
// corrupt state (ErrFormat) from another metric's (ErrMismatch), as
// UnmarshalBinary tells them. a's lock is held while r is read.
func (a *FeatureActivity[T]) ReadFrom(r io.Reader) (int64, error) { return a.core().readFrom(r) }
