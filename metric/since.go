package metric

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/sparsekit/l0/kernel"
)

// Vectors since a feature fired.
//
// A FeatureActivity made with SinceFired keeps, beside its counts, for each (component,
// feature) the position of the last vector in which the feature fired:
// last[i] = v, 1-based, when the v-th vector the metric has seen (since it
// was made or reset; merged states after its own) was the last in which
// counter i fired, 0 when it never fired. VectorsSinceFired is vectors −
// last: the vectors seen after that one, or every vector for a feature
// that never fired (sparsify's num_tokens_since_fired). Positions rather
// than the counts themselves, so that a batch writes only the features
// that fired in it, and a merge only those that fired in the other.
//
// Every place where the tally changes keeps last: an Update finds, per
// column of its batch, the last row in which the column counts
// and sets their positions from the vector count before it, under the lock:
// a dense batch of minColumnBatch vectors or more, where the level has
// marking streams, with its count (updateMarked, sincefused.go: one read
// of the batch), else by walking the batch back from its last row
// (markRowsLocked); a merge
// shifts the other's positions past the vectors it had (mergeLastLocked);
// Reset clears them; a decoded state brings its own (binary.go).

// VectorsSinceFired returns a copy of, per (component, feature) as Counts
// orders them, the number of vectors seen after the last vector in which
// the feature fired; for a feature that never fired, every vector seen
// (Vectors()). Only a metric made with the SinceFired option keeps them:
// without it, VectorsSinceFired is an ErrConfig error.
//
// The count depends on the order of the vectors: the order of the Update
// calls (of their arrival under the metric's lock when many goroutines
// update at once: exact for each batch, in the order the batches were
// counted), the rows of each batch, and for Merge the convention that the
// other metric's vectors come after the receiver's. A batch given by
// UpdateEntries has no vector per entry: a feature that fired in it
// counts as fired in the batch's last vector (0 since), as sparsify
// counts a batch; give one vector per call, or a TopK batch, for exact
// counts. A version 1 state (written without SinceFired) read into the
// metric counts each feature that fired in it as fired in its last
// vector, the least its true count can be.
func (a *FeatureActivity[T]) VectorsSinceFired() ([]int64, error) {
	c := a.core()
	if c == nil {
		return nil, c.errNil()
	}
	if c.last == nil {
		return nil, errUntracked("VectorsSinceFired")
	}
	var since []int64
	c.view(func(_ []uint64, vectors int64) {
		since = make([]int64, len(c.last))
		for i, l := range c.last {
			since[i] = vectors - l
		}
	})
	return since, nil
}

// errUntracked is the error of a since-fired read of a metric made
// without SinceFired.
func errUntracked(method string) error {
	return fmt.Errorf("%w: %s of a FeatureActivity made without the SinceFired option, which keeps no vectors since fired", ErrConfig, method)
}

// DeadAfter returns the indices, as Counts orders them, of the features
// with more than n vectors since they last fired (VectorsSinceFired): the
// dead features of training code, which counts a feature dead when it has
// not fired in its last n vectors (sparsify: 10,000,000 tokens). A feature
// that never fired is dead once more than n vectors have been seen; before
// any vector none is (Dead, the features that never fired, lists every
// one). A negative n, or a metric made without the SinceFired option, is
// an ErrConfig error.
func (a *FeatureActivity[T]) DeadAfter(n int64) ([]int, error) {
	c := a.core()
	if c == nil {
		return nil, c.errNil()
	}
	if c.last == nil {
		return nil, errUntracked("DeadAfter")
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: dead after %d vectors; want 0 or more", ErrConfig, n)
	}
	var dead []int
	c.view(func(_ []uint64, vectors int64) {
		dead = []int{}
		for i, l := range c.last {
			if vectors-l > n {
				dead = append(dead, i)
			}
		}
	})
	return dead, nil
}

// mergeLastLocked shifts the positions of o, whose vectors come after the
// base vectors t had, into t's: a counter that fired in o takes o's
// position past base, one that did not keeps t's. o may be t itself.
func (t *tally) mergeLastLocked(base int64, o *tally) {
	last := t.last
	if last == nil {
		return // an L0Norm
	}
	for i, l := range o.last {
		if l > 0 {
			last[i] = base + l
		}
	}
}

// lastFromCountsLocked sets the positions from the counts alone, for a
// state that does not carry them (a version 1 state): a counter that never
// fired has none, one that fired counts as fired in the state's last
// vector (0 since), the least its true count can be.
func (t *tally) lastFromCountsLocked() {
	if t.last == nil {
		return // an L0Norm
	}
	for i, n := range t.counts {
		t.last[i] = 0
		if n > 0 {
			t.last[i] = t.vectors
		}
	}
}

// sinceTile is the columns lastRowsLocked walks at once: its scratch is
// two counters per column of a tile, 16 KiB, whatever the batch, so that
// an Update's scratch still follows the batch (TestScratchFollowsTheBatch).
const sinceTile = 1024

// rowCountScratch and columnListScratch are lastRowsLocked's scratch: the
// running column counts of the rows walked, and the columns to find.
var rowCountScratch, columnListScratch scratchPool[uint64]

// markRowsLocked sets, for each column of the batch x (rows of width
// counters), just added after base vectors, that counts in some row, its
// position: base plus the last row in which it counts. Those are the
// columns with fired[j] > 0 (the batch's column counts), or, with fired
// nil, whichever columns count. A tile of columns at a time, it walks the
// rows from the last, counting each row's piece with one column-count call
// (so that it counts by the rule's own kernels, at the read limit) and
// looking only at the columns still to find, and stops when none is left:
// on activations where a feature fires in a fair share of vectors, a few
// rows. It runs under the lock, where the positions are known: outside it
// they would need a scratch of 8 bytes per column that fired, more than an
// int8 batch's own bytes.
func markRowsLocked[T kernel.Element, F uint8 | uint64](t *tally, c *counter[T], base int64, x []T, width int, fired []F) error {
	if width == 0 || t.last == nil {
		return nil // or a metric without SinceFired
	}
	if c.rule.kind == ruleNonZero {
		markNonZeroLocked(t.last, base, x, width, fired)
		return nil
	}
	rows := len(x) / width
	rp, lp := rowCountScratch.get(sinceTile), columnListScratch.get(sinceTile)
	defer rowCountScratch.put(rp)
	defer columnListScratch.put(lp)
	last := t.last
	for j0 := 0; j0 < width; j0 += sinceTile {
		j1 := min(j0+sinceTile, width)
		rowc, list := (*rp)[:j1-j0], (*lp)[:0]
		clear(rowc)
		for j := j0; j < j1; j++ {
			if fired == nil || fired[j] > 0 {
				list = append(list, uint64(j-j0))
			}
		}
		found := 0
		for r := rows - 1; r >= 0 && found < len(list); r-- {
			if err := c.addAllColumns(rowc, x[r*width+j0:r*width+j1]); err != nil {
				return err
			}
			// rowc[j] is the rows from r on in which column j0+j counts:
			// not 0 for a column still to find means row r is its last.
			at := base + int64(r) + 1
			for i := found; i < len(list); i++ {
				j := list[i]
				if rowc[j] != 0 {
					last[j0+int(j)] = at
					list[i], list[found] = list[found], j
					found++
				}
			}
		}
	}
	return nil
}

// markCountedLocked sets, after the entries of a sparse batch were added
// (base vectors before it), the position of each counter they counted in:
// an entry i of a top-k batch (rowEntries per vector, > 0) is in vector
// i/rowEntries; with rowEntries 0 (UpdateEntries: no vector per entry)
// every entry is in the batch's last vector. values nil: every entry
// counts; else by c's rule, found with column-count calls over pieces of
// the values (one count per entry). The index was checked by the kernel
// that added the entries.
func markCountedLocked[T kernel.Element, I kernel.Index](t *tally, c *counter[T], base, vectors int64, features int, index []I, values []T, rowEntries, k int) error {
	last := t.last
	if last == nil {
		return nil // a metric without SinceFired
	}
	at := func(i int) int64 {
		if rowEntries == 0 {
			return base + vectors
		}
		return base + int64(i/rowEntries) + 1
	}
	counter := func(i int) int {
		return (i/k)%max(rowEntries/k, 1)*features + int(index[i])
	}
	if values == nil {
		for i := range index {
			last[counter(i)] = at(i)
		}
		return nil
	}
	const piece = 1024
	p := rowCountScratch.get(piece)
	defer rowCountScratch.put(p)
	for start := 0; start < len(values); start += piece {
		end := min(start+piece, len(values))
		counts := (*p)[:end-start]
		clear(counts)
		if err := c.addAllColumns(counts, values[start:end]); err != nil {
			return err
		}
		for i, n := range counts {
			if n != 0 {
				last[counter(start+i)] = at(start + i)
			}
		}
	}
	return nil
}

// markNonZeroLocked is markRowsLocked for NonZero, which needs no kernel
// to decide one element: the bits of an element that are not its sign
// (for a float type; all of them for an integer) are not all zero. It
// reads the elements of the columns still to find, row by row from the
// last, as words of the element's width.
func markNonZeroLocked[T kernel.Element, F uint8 | uint64](last []int64, base int64, x []T, width int, fired []F) {
	var zero T
	p := unsafe.Pointer(unsafe.SliceData(x))
	switch any(zero).(type) {
	case float32:
		markWordsLocked(last, base, unsafe.Slice((*uint32)(p), len(x)), width, fired, 1<<31-1)
	case float64:
		markWordsLocked(last, base, unsafe.Slice((*uint64)(p), len(x)), width, fired, 1<<63-1)
	case kernel.Float16, kernel.BFloat16:
		markWordsLocked(last, base, unsafe.Slice((*uint16)(p), len(x)), width, fired, 1<<15-1)
	default:
		switch unsafe.Sizeof(zero) {
		case 1:
			markWordsLocked(last, base, unsafe.Slice((*uint8)(p), len(x)), width, fired, 1<<8-1)
		case 2:
			markWordsLocked(last, base, unsafe.Slice((*uint16)(p), len(x)), width, fired, 1<<16-1)
		case 4:
			markWordsLocked(last, base, unsafe.Slice((*uint32)(p), len(x)), width, fired, 1<<32-1)
		default:
			markWordsLocked(last, base, unsafe.Slice((*uint64)(p), len(x)), width, fired, 1<<64-1)
		}
	}
}

// markWordsLocked is markNonZeroLocked on the elements' words: an element
// counts when its word has a bit of mask set. The columns still to find
// are a bitmap (a bit per column: at most the batch's own bytes / 8), and
// each row is read whole, from the last, in the order of its bytes: the
// rows the walk reads are the last the column count read, and in order
// the hardware prefetches them.
func markWordsLocked[W uint8 | uint16 | uint32 | uint64, F uint8 | uint64](last []int64, base int64, x []W, width int, fired []F, mask W) {
	rows := len(x) / width
	bp := columnListScratch.get((width + 63) / 64)
	defer columnListScratch.put(bp)
	pendingBits := *bp
	pending := 0
	for j := range width {
		if fired == nil || fired[j] > 0 {
			pendingBits[j>>6] |= 1 << (j & 63)
			pending++
		}
	}
	for r := rows - 1; r >= 0 && pending > 0; r-- {
		row := x[r*width : (r+1)*width]
		at := base + int64(r) + 1
		for w, b := range pendingBits {
			if b == 0 {
				continue
			}
			for rest := b; rest != 0; rest &= rest - 1 {
				k := bits.TrailingZeros64(rest)
				if j := w<<6 + k; row[j]&mask != 0 {
					last[j] = at
					b &^= 1 << k
					pending--
				}
			}
			pendingBits[w] = b
		}
	}
}

// addCountedAtEnd adds vectors counted elsewhere, with per-feature counts
// and no vector per count (a SequenceActivity's dense batches, counted a
// sequence at a time, and counts made outside the package), and sets the
// positions of the features that fired in them: since, checked, gives
// each one's vectors since it fired; nil, the last of those vectors, as
// sparsify counts a batch, and as UpdateEntries does.
func addCountedAtEnd[T kernel.Element](c *core[T, activityKind], vectors int64, counts []uint64, since []int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.countsLocked()
	if err := c.addLocked(vectors, counts, uint64(vectors)); err != nil {
		return err
	}
	for i, n := range counts {
		if n > 0 && c.last != nil {
			c.last[i] = c.vectors
			if since != nil {
				c.last[i] -= since[i]
			}
		}
	}
	return nil
}

// addCountedKept adds the kept vectors of the batch x (mask keep, nil for
// all), counted elsewhere into counts, and sets the positions of the
// features that fired in them (markKeptLocked), under one lock.
func addCountedKept[T kernel.Element](c *core[T, activityKind], kept int, counts []uint64, x []T, keep []bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.countsLocked()
	base := c.vectors
	if err := c.addLocked(int64(kept), counts, uint64(kept)); err != nil {
		return err
	}
	width := len(counts)
	if x == nil || width == 0 || c.last == nil {
		return nil
	}
	return markKeptLocked(&c.tally, &c.counter, base, x, width, keep, len(x)/width)
}
