package metric

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/sparsekit/l0/kernel"
)

// core is what L0Norm and FeatureActivity share, written once: the
// configuration and the rule, the lock, the state (a tally: the vector
// count, the counts and their overflow bound), Merge, Reset, the reads and
// the binary state (binary.go). Each metric is one (its type is defined as
// a core of its kind) and adds only what differs: how a batch is counted
// (per component, or per feature) and what is computed from the counts.
//
// Every method answers a nil receiver, the core of a nil metric: those that
// return an error return ErrConfig (errNil), the others a zero value; the
// metrics' methods therefore need no nil checks of their own.
//
// The state changes in three places only, each under mu: the tally's
// addLocked (a batch counted outside the lock, or another metric's state),
// its in-place additions (beginInPlaceLocked, endInPlaceLocked: a batch
// counted straight into the counts), and the resets and decodes (reset,
// unmarshalBinary, readFrom); every read goes through countsLocked. State
// that a later statistic needs beside the counts (per-feature "vectors
// since fired", the sequences a feature fired in) belongs in the tally,
// kept by those places, and in the binary format. The tally's pending
// byte counters, in front of the counts (FeatureActivity's batches of
// few vectors), are widened into them in countsLocked, which every read,
// addition of a batch counted outside the lock, merge and decode goes
// through, and where an overflow check needs the true counts.
type core[T kernel.Element, K metricKind] struct {
	components int // the component dimension; 0 for none
	features   int // per component, of a FeatureActivity; 0 for an L0Norm
	counter    counter[T]

	mu    sync.Mutex
	tally // the state, under mu: its counts are kind.counters of c's sizes
}

// kind is what tells the two metrics' states apart.
type kind struct {
	name    string // the metric's type, for errors: "L0Norm"
	magic   string // the first bytes of its binary state
	version byte   // the newest version of its binary state it reads
	// perFeature: a counter per (component, feature) (FeatureActivity);
	// else per component (L0Norm), which takes any number of features.
	perFeature bool
}

// metricKind is the type parameter that gives a core its kind, so that a
// zero metric (and a nil one) knows it too.
type metricKind interface{ describe() kind }

type (
	l0NormKind   struct{}
	activityKind struct{}
)

func (l0NormKind) describe() kind {
	return kind{name: "L0Norm", magic: magicL0Norm, version: formatVersion}
}

func (activityKind) describe() kind {
	return kind{name: "FeatureActivity", magic: magicActivity, version: activityVersion, perFeature: true}
}

func kindOf[K metricKind]() kind {
	var k K
	return k.describe()
}

// counters returns the number of counters of a metric of the kind and
// sizes.
func (k kind) counters(components, features int) int {
	if !k.perFeature {
		return max(components, 1)
	}
	return max(components, 1) * features
}

// checkSizes returns an ErrConfig error unless a metric of the kind and
// sizes, neither negative, is within the limits.
func (k kind) checkSizes(components, features int) error {
	if !k.perFeature {
		return checkSizes(components, -1)
	}
	return checkSizes(components, features)
}

// stateCounters returns the counters a state of the header's sizes holds,
// and whether a metric of the kind and those sizes can be made.
func (k kind) stateCounters(h header) (int, bool) {
	if !k.perFeature && h.features != 0 {
		return 0, false
	}
	return k.counters(h.components, h.features), k.checkSizes(h.components, h.features) == nil
}

// init makes c a core of the given sizes (checked not negative by the
// constructor; features is ignored for an L0Norm) and options.
func (c *core[T, K]) init(components, features int, options []Option) error {
	k := kindOf[K]()
	if !k.perFeature {
		features = 0
	}
	if err := k.checkSizes(components, features); err != nil {
		return err
	}
	s, err := settingsOf(options)
	if err != nil {
		return err
	}
	if s.sinceFired && !k.perFeature {
		return fmt.Errorf("%w: SinceFired is an option of a FeatureActivity; an %s has no features", ErrConfig, k.name)
	}
	counter, err := newCounter[T](s.rule)
	if err != nil {
		return err
	}
	c.components, c.features, c.counter = components, features, counter
	c.counts = make([]uint64, k.counters(components, features))
	if s.sinceFired {
		c.last = make([]int64, len(c.counts))
	}
	return nil
}

// errNil is the error of a method of a nil metric.
func (c *core[T, K]) errNil() error { return errNilMetric(kindOf[K]().name) }

// counters returns the number of counters of c's configuration.
func (c *core[T, K]) counters() int { return kindOf[K]().counters(c.components, c.features) }

// config returns c's configuration as a binary header without counts.
func (c *core[T, K]) config() header {
	return header{
		tag:        elementTag[T](),
		rule:       c.counter.rule,
		components: c.components,
		features:   c.features,
	}
}

func (c *core[T, K]) componentCount() int {
	if c == nil {
		return 0
	}
	return c.components
}

func (c *core[T, K]) featureCount() int {
	if c == nil {
		return 0
	}
	return c.features
}

func (c *core[T, K]) rule() Rule {
	if c == nil {
		return Rule{}
	}
	return c.counter.rule
}

func (c *core[T, K]) vectorCount() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vectors
}

// countsCopy returns a copy of the counts, never nil but for a nil core.
func (c *core[T, K]) countsCopy() []uint64 {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append(make([]uint64, 0, len(c.countsLocked())), c.counts...)
}

// countsLocked returns the counts, allocating them in a zero L0Norm (the
// tally's methods expect them allocated), with the pending byte counters
// widened into them. c.mu is held.
func (c *core[T, K]) countsLocked() []uint64 {
	if c.counts == nil {
		c.counts = make([]uint64, c.counters())
	}
	c.flushLocked()
	return c.counts
}

func (c *core[T, K]) reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tally.reset()
}

// view calls f with the counts and the vector count under the lock. The
// results are computed from the state in place, not from a copy of it: a
// report costs the memory of its results only.
func (c *core[T, K]) view(f func(counts []uint64, vectors int64)) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.countsLocked(), c.vectors)
}

// read is view that returns ErrNoVectors, naming the call op, before any
// vector.
func (c *core[T, K]) read(op string, f func(counts []uint64, vectors int64)) error {
	if c == nil {
		return c.errNil()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.vectors == 0 {
		return fmt.Errorf("%w: %s before any Update", ErrNoVectors, op)
	}
	f(c.countsLocked(), c.vectors)
	return nil
}

// perVector returns every count divided by the number of vectors, or
// ErrNoVectors (naming op) before any vector.
func (c *core[T, K]) perVector(op string) ([]float64, error) {
	var out []float64
	err := c.read(op, func(counts []uint64, vectors int64) {
		out = make([]float64, len(counts))
		for i, n := range counts {
			out[i] = float64(n) / float64(vectors)
		}
	})
	return out, err
}

// addCounted adds a batch counted outside the lock: vectors, and counts
// (as many as the state's), each at most most. A rejected addition
// (ErrOverflow) changes nothing.
func (c *core[T, K]) addCounted(vectors int, counts []uint64, most uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.countsLocked()
	return c.addLocked(int64(vectors), counts, most)
}

// merge adds other's state to c's. It holds both locks while it adds
// other's counts straight from its state, so that merging a state of
// gigabytes takes no copy of it; it takes them in an order fixed by their
// addresses, so a.Merge(b) and b.Merge(a) can run at once without
// deadlock, and a.Merge(a) doubles a's state.
func (c *core[T, K]) merge(other *core[T, K]) error {
	if c == nil {
		return c.errNil()
	}
	if other == nil {
		return fmt.Errorf("%w: Merge with a nil *%s", ErrConfig, kindOf[K]().name)
	}
	if err := checkConfig(other.config(), c.config()); err != nil {
		return err
	}
	if c.last != nil && other.last == nil {
		return fmt.Errorf("%w: Merge of a %s without SinceFired into one with it: its vectors since fired are unknown", ErrMismatch, kindOf[K]().name)
	}
	lockBoth(&c.mu, &other.mu)
	defer unlockBoth(&c.mu, &other.mu)
	c.countsLocked()
	base := c.vectors
	if err := c.addLocked(other.vectors, other.countsLocked(), other.limit); err != nil {
		return err
	}
	c.mergeLastLocked(base, &other.tally)
	return nil
}

// lockBoth locks x and y, the same mutex once, two in the order of their
// addresses, so that two goroutines locking the same pair cannot each
// hold one and wait for the other. unlockBoth(x, y) unlocks them.
func lockBoth(x, y *sync.Mutex) {
	if uintptr(unsafe.Pointer(y)) < uintptr(unsafe.Pointer(x)) {
		x, y = y, x
	}
	x.Lock()
	if y != x {
		y.Lock()
	}
}

func unlockBoth(x, y *sync.Mutex) {
	if y != x {
		y.Unlock()
	}
	x.Unlock()
}
