package metric

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"sync"
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
type FeatureActivity[T kernel.Element] struct {
	components, features int
	counter              counter[T]

	mu      sync.Mutex
	vectors int64
	counts  []uint64 // [max(components, 1)][features], row-major
	// limit is an upper bound of every count: a dense batch raises a count
	// by at most its vectors, a sparse one by at most its entries, a merge
	// by at most the other's limit. Every addition checks it first, so no
	// count can overflow, even fed duplicate sparse entries; where the
	// bound is too coarse to tell, the addition is decided on the true
	// per-feature sums (addExactLocked), so that no overflow is false.
	limit uint64
}

// NewFeatureActivity returns a FeatureActivity over inputs of the given
// number of components (0: no component dimension) and features. Negative
// sizes, more than MaxComponents components and more than MaxCounters
// counters (components × features) are an ErrConfig error. rule, at most
// one, is when a feature fires, as for NewL0Norm: NonZero without one,
// Above(t) or AbsAbove(t) for the float types.
func NewFeatureActivity[T kernel.Element](components, features int, rule ...Rule) (*FeatureActivity[T], error) {
	if components < 0 || features < 0 {
		return nil, fmt.Errorf("%w: %d components, %d features; want 0 or more", ErrConfig, components, features)
	}
	if err := checkSizes(components, features); err != nil {
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
	counts := make([]uint64, max(components, 1)*features)
	return &FeatureActivity[T]{components: components, features: features, counter: c, counts: counts}, nil
}

// NewFeatureActivityAbove returns a FeatureActivity in which a feature
// fires when it is strictly greater than threshold (the
// TrainBatchFeatureDensity definition of the sparse_autoencoder library):
// NewFeatureActivity(components, features, Above(threshold)).
func NewFeatureActivityAbove[T kernel.Float](components, features int, threshold float64) (*FeatureActivity[T], error) {
	return NewFeatureActivity[T](components, features, Above(threshold))
}

// Components returns the size of the component dimension, 0 for none.
func (a *FeatureActivity[T]) Components() int {
	if a == nil {
		return 0
	}
	return a.components
}

// Features returns the number of features per component.
func (a *FeatureActivity[T]) Features() int {
	if a == nil {
		return 0
	}
	return a.features
}

// Rule returns when a feature fires.
func (a *FeatureActivity[T]) Rule() Rule {
	if a == nil {
		return Rule{}
	}
	return a.counter.rule
}

// Threshold returns the threshold of the metric's rule (Above or AbsAbove),
// and whether there is one; without one a feature fires when it is not
// zero.
func (a *FeatureActivity[T]) Threshold() (threshold float64, ok bool) {
	return a.Rule().Threshold()
}

// Update adds a batch of activation vectors, with the shapes of
// L0Norm.Update; the feature size must be the metric's. A batch of zero
// vectors changes nothing; a rejected call (ErrShape, ErrOverflow) leaves
// the metric as it was. The batch is counted with one kernel call: outside
// the lock into scratch counters the size of the state, or, for a batch of
// fewer than 8 vectors, straight into the state under the lock, so that
// the scratch never exceeds the batch's own bytes.
func (a *FeatureActivity[T]) Update(x []T, shape ...int) error {
	if a == nil {
		return errNilMetric("FeatureActivity")
	}
	l, err := parseShape(shape, len(x), a.components, a.features)
	if err != nil || l.batch == 0 {
		return err
	}
	if l.batch < minColumnBatch {
		if done, err := a.updateInPlace(x, l.batch); done {
			return err
		}
		// A count is near 2^64: counted apart, the batch is added if the
		// true sums fit.
	}
	local := activityScratch.get(len(a.counts))
	defer activityScratch.put(local)
	if err := a.counter.addAllColumns(*local, x); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addLocked(int64(l.batch), *local, uint64(l.batch))
}

// updateInPlace counts a batch of fewer than minColumnBatch vectors
// straight into the counts, under the lock, and reports whether it is
// done: not when a count could pass 2^64 by the batch (then the caller
// counts it apart and adds it exactly).
func (a *FeatureActivity[T]) updateInPlace(x []T, batch int) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.checkVectorsLocked(int64(batch)); err != nil {
		return true, err
	}
	if !a.fitsLocked(uint64(batch)) {
		return false, nil
	}
	// On error the kernel adds nothing.
	if err := a.counter.addAllColumns(a.counts, x); err != nil {
		return true, err
	}
	a.vectors += int64(batch)
	a.limit += uint64(batch)
	return true, nil
}

// checkVectorsLocked returns ErrOverflow if adding vectors vectors would
// pass 2^63 - 1. a.mu is held.
func (a *FeatureActivity[T]) checkVectorsLocked(vectors int64) error {
	if vectors > math.MaxInt64-a.vectors {
		return fmt.Errorf("%w: %d + %d vectors", ErrOverflow, a.vectors, vectors)
	}
	return nil
}

// fitsLocked reports whether every count can rise by most without passing
// 2^64: by the limit, or when that bound is too coarse, by the largest
// count, which then becomes the limit (a bound closer to the truth). a.mu
// is held.
func (a *FeatureActivity[T]) fitsLocked(most uint64) bool {
	if _, carry := bits.Add64(a.limit, most, 0); carry == 0 {
		return true
	}
	a.limit = 0
	for _, c := range a.counts {
		a.limit = max(a.limit, c)
	}
	_, carry := bits.Add64(a.limit, most, 0)
	return carry == 0
}

// addLocked adds vectors and counts (each at most most) to the state, or
// returns ErrOverflow and changes nothing. a.mu is held.
func (a *FeatureActivity[T]) addLocked(vectors int64, counts []uint64, most uint64) error {
	if err := a.checkVectorsLocked(vectors); err != nil {
		return err
	}
	if !a.fitsLocked(most) {
		return a.addExactLocked(vectors, counts)
	}
	for i, c := range counts {
		a.counts[i] += c
	}
	a.vectors += vectors
	a.limit += most
	return nil
}

// addExactLocked adds vectors and counts to the state if no count's true
// sum passes 2^64, else returns ErrOverflow and changes nothing: the
// addition of counts whose bounds are too coarse to tell (merging [2^64 −
// 1, 0] with [0, 1] is [2^64 − 1, 1]). The limit becomes the largest sum.
// The vectors were checked. a.mu is held.
func (a *FeatureActivity[T]) addExactLocked(vectors int64, counts []uint64) error {
	for i, c := range counts {
		if _, carry := bits.Add64(a.counts[i], c, 0); carry != 0 {
			return fmt.Errorf("%w: counter %d: %d + %d passes 2^64", ErrOverflow, i, a.counts[i], c)
		}
	}
	var limit uint64
	for i, c := range counts {
		a.counts[i] += c
		limit = max(limit, a.counts[i])
	}
	a.vectors += vectors
	a.limit = limit
	return nil
}

// Reset returns the metric to its state before the first Update.
func (a *FeatureActivity[T]) Reset() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.counts)
	a.vectors = 0
	a.limit = 0
}

// Vectors returns the number of activation vectors added since the metric
// was created or reset.
func (a *FeatureActivity[T]) Vectors() int64 {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.vectors
}

// Counts returns a copy of the counts: element c*Features()+f is the number
// of vectors in which feature f of component c fired.
func (a *FeatureActivity[T]) Counts() []uint64 {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return copyOf(a.counts)
}

// read calls f with the counts and the vector count under the lock, or
// returns ErrNoVectors before any vector. The results are computed from
// the state in place, not from a copy of it: a report costs the memory of
// its results only.
func (a *FeatureActivity[T]) read(f func(counts []uint64, vectors int64)) error {
	if a == nil {
		return errNilMetric("FeatureActivity")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.vectors == 0 {
		return fmt.Errorf("%w: no Update since reset", ErrNoVectors)
	}
	f(a.counts, a.vectors)
	return nil
}

// Density returns, per (component, feature) as Counts orders them, the
// fraction of activation vectors in which the feature fired, from 0 to 1.
// Before any vector it returns ErrNoVectors.
func (a *FeatureActivity[T]) Density() ([]float64, error) {
	var density []float64
	err := a.read(func(counts []uint64, vectors int64) {
		density = make([]float64, len(counts))
		for i, c := range counts {
			density[i] = float64(c) / float64(vectors)
		}
	})
	return density, err
}

// Dead returns the indices, as Counts orders them, of the features that
// never fired since the metric was created or reset. Before any vector
// that is every feature: none has fired yet.
func (a *FeatureActivity[T]) Dead() []int {
	if a == nil {
		return []int{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	dead := []int{}
	for i, c := range a.counts {
		if c == 0 {
			dead = append(dead, i)
		}
	}
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
	err := a.read(func(counts []uint64, vectors int64) {
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
	err := a.read(func(counts []uint64, vectors int64) {
		l0 = make([]float64, max(a.components, 1))
		for c := range l0 {
			var hi, lo uint64 // a 128-bit sum: features × 2^63 can exceed 2^64
			for _, v := range counts[c*a.features : (c+1)*a.features] {
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
// vectors. other must have the same components, features and rule
// (ErrMismatch) and must not be nil (ErrConfig). Merge holds both metrics'
// locks while it adds other's counts straight from its state, so that
// merging a state of gigabytes takes no copy of it; it takes them in an
// order fixed by the metrics' addresses, so a.Merge(b) and b.Merge(a) can
// run at once without deadlock, and a.Merge(a) doubles a's state.
func (a *FeatureActivity[T]) Merge(other *FeatureActivity[T]) error {
	if a == nil {
		return errNilMetric("FeatureActivity")
	}
	if other == nil {
		return fmt.Errorf("%w: Merge with a nil *FeatureActivity", ErrConfig)
	}
	if err := checkConfig(other.config(), a.config()); err != nil {
		return err
	}
	defer lockBoth(&a.mu, &other.mu)()
	return a.addLocked(other.vectors, other.counts, other.limit)
}

// lockBoth locks x and y, the same mutex once, two in the order of their
// addresses, so that two goroutines locking the same pair cannot each
// hold one and wait for the other; it returns the function that unlocks
// them.
func lockBoth(x, y *sync.Mutex) (unlock func()) {
	if x == y {
		x.Lock()
		return x.Unlock
	}
	if uintptr(unsafe.Pointer(y)) < uintptr(unsafe.Pointer(x)) {
		x, y = y, x
	}
	x.Lock()
	y.Lock()
	return func() {
		y.Unlock()
		x.Unlock()
	}
}

// config returns a's configuration as a binary header without counts.
func (a *FeatureActivity[T]) config() header {
	return header{
		tag:        elementTag[T](),
		rule:       a.counter.rule,
		components: a.components,
		features:   a.features,
	}
}

// AppendBinary appends the binary state of a (see MarshalBinary) to b.
func (a *FeatureActivity[T]) AppendBinary(b []byte) ([]byte, error) {
	if a == nil {
		return b, errNilMetric("FeatureActivity")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.config()
	h.vectors = a.vectors
	return appendState(b, magicActivity, h, a.counts), nil
}

// MarshalBinary returns the state of a in the versioned binary format
// described in the package documentation.
func (a *FeatureActivity[T]) MarshalBinary() ([]byte, error) {
	if a == nil {
		return nil, errNilMetric("FeatureActivity")
	}
	return a.AppendBinary(make([]byte, 0, headerSize+8*len(a.counts)+checksumSize))
}

// UnmarshalBinary replaces the state of a with one MarshalBinary returned.
// The state must be complete, intact and consistent (no count without a
// vector) and of a metric of a's element type, components, features and
// rule; otherwise UnmarshalBinary returns an ErrFormat or ErrMismatch error
// and leaves a unchanged. A count may exceed the vector count: sparse
// entries given twice count twice (UpdateEntries). The counts are decoded
// straight into a's: nothing is allocated, whatever the state's size.
func (a *FeatureActivity[T]) UnmarshalBinary(b []byte) error {
	if a == nil {
		return errNilMetric("FeatureActivity")
	}
	h, raw, err := parseState(b, magicActivity, activitySlots)
	if err != nil {
		return err
	}
	if err := checkConfig(h, a.config()); err != nil {
		return err
	}
	limit, err := checkCounts(raw, h.vectors, 0)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	decodeCounts(a.counts, raw)
	a.vectors = h.vectors
	a.limit = limit
	return nil
}

// activitySlots returns the counts a FeatureActivity state of the header's
// sizes holds, and whether a metric of those sizes can be made.
func activitySlots(h header) (int, bool) {
	return max(h.components, 1) * h.features, checkSizes(h.components, h.features) == nil
}

// readPieceBytes is the size of the pieces ReadFrom reads a state in.
const readPieceBytes = 128 << 10

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
func (a *FeatureActivity[T]) ReadFrom(r io.Reader) (int64, error) {
	if a == nil {
		return 0, errNilMetric("FeatureActivity")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.vectors != 0 || a.limit != 0 {
		return 0, fmt.Errorf("%w: ReadFrom into a metric that has counted %d vectors; read the state into a new one and Merge it", ErrConfig, a.vectors)
	}
	sr := stateReader{r: r}
	h, n, err := sr.header(magicActivity, activitySlots)
	if err != nil {
		return sr.read, err
	}
	mismatch := checkConfig(h, a.config())
	into := a.counts
	if mismatch != nil {
		into = nil // read to the checksum, kept nowhere
	}
	limit, err := sr.counts(into, n, h.vectors)
	if err == nil {
		err = sr.end()
	}
	if err == nil {
		err = mismatch
	}
	if err != nil {
		clear(a.counts) // as it was: empty
		return sr.read, err
	}
	a.vectors = h.vectors
	a.limit = limit
	return sr.read, nil
}

// copyOf returns a copy of counts, never nil.
func copyOf(counts []uint64) []uint64 {
	return append(make([]uint64, 0, len(counts)), counts...)
}
