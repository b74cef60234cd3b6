package metric

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/sparsekit/l0/kernel"
)

// counter is what a metric counts, by its rule, and the kernels that count
// it. The zero value counts the non-zero elements.
type counter[T kernel.Element] struct {
	rule Rule
	// kernels are the rule's, instantiated for T; nil in a zero metric,
	// which counts by NonZero.
	kernels *kernels[T]
}

// newCounter returns the counter of rule r for T, or an ErrConfig error if
// r cannot count T (a thresholded rule of an integer type, a NaN
// threshold).
func newCounter[T kernel.Element](r Rule) (counter[T], error) {
	if err := r.check(); err != nil {
		return counter[T]{}, err
	}
	k, err := kernelsOf[T](r)
	return counter[T]{rule: r, kernels: k}, err
}

// The counting methods call the rule's kernels, or in a zero metric (no
// kernels) NonZero's directly.

func (c *counter[T]) countAll(x []T) int {
	if k := c.kernels; k != nil {
		return k.count(x)
	}
	return kernel.CountNonZero(x)
}

func (c *counter[T]) countAllRows(counts []uint64, x []T, width int) error {
	if k := c.kernels; k != nil {
		return k.countRows(counts, x, width)
	}
	return kernel.CountNonZeroRows(counts, x, width)
}

func (c *counter[T]) addAllColumns(counts []uint64, x []T) error {
	if k := c.kernels; k != nil {
		return k.addColumns(counts, x)
	}
	return kernel.AddNonZeroColumns(counts, x)
}

func (c *counter[T]) addAllColumnBytesLast(counts, lastb []uint8, x []T, rowBase int) error {
	if k := c.kernels; k != nil {
		return k.addColumnBytesLast(counts, lastb, x, rowBase)
	}
	return kernel.AddNonZeroColumnBytesLast(counts, lastb, x, rowBase)
}

func (c *counter[T]) addAllColumnBytes(counts []uint8, x []T) error {
	if k := c.kernels; k != nil {
		return k.addColumnBytes(counts, x)
	}
	return kernel.AddNonZeroColumnBytes(counts, x)
}

// addIndexed adds the entries that count by c's rule (all of them, values
// nil) to counts, features per component, rows of k: the rule's index
// kernel for I.
func addIndexed[T kernel.Element, I kernel.Index](c *counter[T], counts []uint64, features int, index []I, values []T, k int) error {
	if values == nil {
		return kernel.AddIndexCounts(counts, features, index, k)
	}
	if c.rule.kind == ruleNonZero {
		return kernel.AddNonZeroIndexCounts(counts, features, index, values, k)
	}
	add := indexKernel[I](c.kernels) // a thresholded rule: never a zero metric's
	if add == nil {
		return fmt.Errorf("%w: no index kernel for %T", ErrConfig, index)
	}
	return add(counts, features, index, values, k)
}

// minRowFeatures is the row length from which counting a batch with
// components row by row (kernel.CountNonZeroRows) beats one column-count
// call over the whole batch. BenchmarkRowsOrColumns and
// BenchmarkRowsOrColumnsAt measure both: on Zen 5, from DRAM (32 MiB), rows
// win from 256 features (512: 49 against 40 GB/s); in cache (4 MiB), columns
// win up to about 1024 (512: about 100 against 110 GB/s). A variable only so
// that the benchmarks can force either strategy.
var minRowFeatures = 512

// narrowBatchRowBytes is the size of a batch's vector (its components'
// rows) below which the batch is counted by rows, which the kernel then
// counts as one stream split by row from a bitmap, rather than by columns,
// which read less than a vector per row: [65536, 2, 3] float32 by columns
// ran at 0.27x CountNonZero of its bytes at AVX-512, 0.02x at AVX2, 0.18x
// generic; by rows at 0.77x, 0.59x (BenchmarkNarrowRows at the root). From
// a vector of 64 bytes on, AVX-512 columns win ([*, 4, 4] float32: 47
// GB/s against 20 by rows, BenchmarkRowsOrColumns). A variable only so
// that the benchmarks can force either strategy.
var narrowBatchRowBytes = 64

// minColumnBatch is the fewest vectors a batch of short rows is counted by
// columns with. The column count needs a scratch counter of 8 bytes per
// (component, feature): from 8 vectors on that is at most the batch's own
// bytes, whatever the element type, so the scratch grows with the batch,
// never with the components alone. Below it a call per row is also about
// as fast or faster (float32, 100 features: 25 GB/s by rows against 0.5 by
// columns for one vector, even at 8).
const minColumnBatch = 8

// countSlots stores in slots[s] (len(slots) == l.slots) the number of
// counted elements of component s over the batch x. It touches no metric
// state, so it runs outside the metric's lock.
func (c *counter[T]) countSlots(slots []uint64, x []T, l layout) error {
	clear(slots)
	switch {
	case l.batch == 0 || l.features == 0:
		return nil
	case l.slots == 1:
		// One component or none: the batch is one run of elements.
		slots[0] = uint64(c.countAll(x))
		return nil
	case l.features >= minRowFeatures || l.batch < minColumnBatch || l.slots*l.features*int(unsafe.Sizeof(x[0])) < narrowBatchRowBytes:
		// Long rows, or few, or a batch of vectors narrower than a
		// vector of the widest level: one call counts each row into
		// its component's slot, with no scratch.
		return c.countAllRows(slots, x, l.features)
	}
	// Short rows, many: one call counts every (component, feature)
	// column, then each component sums its features.
	columns := columnScratch.get(l.slots * l.features)
	defer columnScratch.put(columns)
	if err := c.addAllColumns(*columns, x); err != nil {
		return err
	}
	for s := range slots {
		var sum uint64
		for _, v := range (*columns)[s*l.features : (s+1)*l.features] {
			sum += v
		}
		slots[s] = sum
	}
	return nil
}

// scratchPool recycles the per-call counters of one use, so that an Update
// does not allocate. Each use has its own pool: in a shared one, a buffer
// of per-component counts and one of per-feature counts took each other's
// place call after call, and both sizes stayed alive (and were allocated
// again and again).
type scratchPool[E uint8 | uint64] struct{ pool sync.Pool }

// The uses: L0Norm's per-component counts (max(components, 1) counters),
// its column counts (components × features, for batches of at least
// minColumnBatch vectors) and FeatureActivity's per-feature counts (its
// state's size), in 64-bit counters or, for its batches of at most
// maxPendingRows vectors, bytes.
var (
	slotScratch, columnScratch, activityScratch scratchPool[uint64]
	activityByteScratch                         scratchPool[uint8]
)

// get returns a zeroed scratch slice of n counters.
func (p *scratchPool[E]) get(n int) *[]E {
	b, _ := p.pool.Get().(*[]E)
	if b == nil {
		b = new([]E)
	}
	if cap(*b) < n {
		*b = make([]E, n)
	}
	*b = (*b)[:n]
	clear(*b)
	return b
}

func (p *scratchPool[E]) put(b *[]E) { p.pool.Put(b) }
