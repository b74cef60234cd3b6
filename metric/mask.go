package metric

import (
	"fmt"
	"math"

	"github.com/sparsekit/l0/kernel"
)

// Token masks.
//
// Evaluation code leaves some vectors out of every statistic: those of
// special tokens (BOS, EOS, padding), wherever they stand in a sequence.
// The masked updates take, beside a batch, a keep mask of one bool per
// activation vector (a row of the batch): the vectors whose entry is false
// are left out of everything, the vector count, the counts and every
// statistic computed from them, and the metric's state is exactly the
// state of the batch without them. TokenMask makes the mask from a
// sequence's token ids and the ids to leave out.
//
// The mask, not the token ids, is what the updates take: every source of
// tokens can give one (int64 ids of delphi's caches, int32 ids of other
// pipelines, an attention mask, a rule on positions), and it costs a byte
// a vector, against the vector's features × element bytes. The kernels do
// the skipping: each run of kept rows is counted in place, as a batch of
// its own would be, with one kernel call (never a copy of the batch); the
// excluded rows are not read.

// TokenMask sets dst to the keep mask of tokens: dst[i] is false where
// tokens[i] is one of exclude, true elsewhere. It returns dst, grown to
// len(tokens) if need be (pass nil to allocate, or a buffer to reuse).
func TokenMask[I kernel.Index | int8 | int16 | uint8 | uint64](dst []bool, tokens []I, exclude []I) []bool {
	if cap(dst) < len(tokens) {
		dst = make([]bool, len(tokens))
	}
	dst = dst[:len(tokens)]
	for i, t := range tokens {
		keep := true
		for _, e := range exclude {
			keep = keep && t != e
		}
		dst[i] = keep
	}
	return dst
}

// checkKeep returns an ErrShape error unless keep is nil (every vector
// kept) or has one entry per vector of a batch of batch vectors; and the
// number of vectors kept.
func checkKeep(keep []bool, batch int) (int, error) {
	if keep == nil {
		return batch, nil
	}
	if len(keep) != batch {
		return 0, fmt.Errorf("%w: a keep mask of %d entries for a batch of %d vectors", ErrShape, len(keep), batch)
	}
	kept := 0
	for _, k := range keep {
		if k {
			kept++
		}
	}
	return kept, nil
}

// keptRuns calls f with each maximal run [from, to) of kept vectors of a
// batch of batch vectors (every vector, as one run, for a nil keep), in
// order, until f returns an error.
func keptRuns(keep []bool, batch int, f func(from, to int) error) error {
	if keep == nil {
		if batch == 0 {
			return nil
		}
		return f(0, batch)
	}
	for i := 0; i < len(keep); {
		if !keep[i] {
			i++
			continue
		}
		j := i + 1
		for j < len(keep) && keep[j] {
			j++
		}
		if err := f(i, j); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// UpdateMasked is Update that leaves out of every statistic the vectors
// whose keep entry is false: keep has one entry per vector (per row of the
// batch: len(keep) == batch), or is nil to keep every vector. The metric
// ends exactly as Update of the kept vectors alone leaves it. A keep mask
// of another length is an ErrShape error and changes nothing; a batch with
// no vector kept changes nothing.
func (m *L0Norm[T]) UpdateMasked(x []T, keep []bool, shape ...int) error {
	c := m.core()
	if c == nil {
		return c.errNil()
	}
	l, err := parseShape(shape, len(x), c.components, -1)
	if err != nil {
		return err
	}
	kept, err := checkKeep(keep, l.batch)
	if err != nil || kept == 0 {
		return err
	}
	b := slotScratch.get(l.slots)
	defer slotScratch.put(b)
	run := slotScratch.get(l.slots)
	defer slotScratch.put(run)
	width := l.slots * l.features
	err = keptRuns(keep, l.batch, func(from, to int) error {
		rl := layout{batch: to - from, slots: l.slots, features: l.features}
		if err := c.counter.countSlots(*run, x[from*width:to*width], rl); err != nil {
			return err
		}
		for s, n := range *run {
			(*b)[s] += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = l0NormAdd(c, kept, *b, uint64(kept)*uint64(l.features), false)
	return err
}

// UpdateMasked is Update that leaves out of every statistic the vectors
// whose keep entry is false (see L0Norm.UpdateMasked): keep has one entry
// per vector, or is nil to keep every vector. Each run of kept vectors is
// counted by the column kernel in place; the excluded vectors are not
// read.
func (a *FeatureActivity[T]) UpdateMasked(x []T, keep []bool, shape ...int) error {
	c := a.core()
	if c == nil {
		return c.errNil()
	}
	l, err := parseShape(shape, len(x), c.components, c.features)
	if err != nil {
		return err
	}
	kept, err := checkKeep(keep, l.batch)
	if err != nil || kept == 0 {
		return err
	}
	width := l.slots * l.features
	if kept < minColumnBatch {
		// Few vectors: straight into the state, as Update does.
		c.mu.Lock()
		defer c.mu.Unlock()
		vectors, most := int64(kept), uint64(kept)
		into, scratch, err := c.beginInPlaceLocked(vectors, most)
		if err != nil {
			return err
		}
		base := c.vectors
		err = keptRuns(keep, l.batch, func(from, to int) error {
			return c.counter.addAllColumns(into, x[from*width:to*width])
		})
		if err := c.endInPlaceLocked(vectors, most, scratch, err); err != nil {
			return err
		}
		return markKeptLocked(&c.tally, &c.counter, base, x, width, keep, l.batch)
	}
	local := activityScratch.get(max(c.components, 1) * c.features)
	defer activityScratch.put(local)
	err = keptRuns(keep, l.batch, func(from, to int) error {
		return c.counter.addAllColumns(*local, x[from*width:to*width])
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.countsLocked()
	base := c.vectors
	if err := c.addLocked(int64(kept), *local, uint64(kept)); err != nil {
		return err
	}
	return markKeptLocked(&c.tally, &c.counter, base, x, width, keep, l.batch)
}

// markKeptLocked sets the positions of the features that fired in the
// kept vectors of the batch x (rows of width counters), just added after
// base vectors: the kept vectors are numbered as if alone, and each run of
// them, in order, marks the features that fired in it (a later run's
// positions replacing an earlier's).
func markKeptLocked[T kernel.Element](t *tally, c *counter[T], base int64, x []T, width int, keep []bool, batch int) error {
	return keptRuns(keep, batch, func(from, to int) error {
		err := markRowsLocked(t, c, base, x[from*width:to*width], width, []uint64(nil))
		base += int64(to - from)
		return err
	})
}

// UpdateSparseMasked is UpdateSparse that leaves out of every statistic
// the vectors whose keep entry is false: keep has one entry per vector of
// b (len(keep) == b.Batch), or is nil to keep every vector. The metric ends
// exactly as UpdateSparse of the kept vectors alone leaves it. Every index
// of the batch is checked, the excluded vectors' too, before anything is
// added: a rejected batch changes nothing.
func UpdateSparseMasked[T kernel.Element, I kernel.Index](m Sparse[T], b TopK[T, I], keep []bool) error {
	var buf [3]int
	shape := b.shape(&buf)
	switch m := m.(type) {
	case *L0Norm[T]:
		return l0NormTopKMasked(m.core(), b.Index, b.Values, shape, keep)
	case *FeatureActivity[T]:
		return activityTopKMasked(m.core(), b.Index, b.Values, shape, keep)
	}
	return errNilSparse
}

// checkTopKMasked checks a masked top-k batch: its layout, its keep mask,
// and every index (below bound), kept vector or not. It returns the layout
// and the number of kept vectors.
func checkTopKMasked[T kernel.Element, I kernel.Index](index []I, values []T, shape []int, keep []bool, components, bound int) (layout, int, error) {
	l, err := topKLayout(shape, len(index), len(values), components, values != nil)
	if err != nil {
		return layout{}, 0, err
	}
	kept, err := checkKeep(keep, l.batch)
	if err != nil {
		return layout{}, 0, err
	}
	if err := kernel.CheckIndex(index, bound); err != nil {
		return layout{}, 0, indexError(err)
	}
	return l, kept, nil
}

// l0NormTopKMasked counts the kept vectors of a top-k batch per component,
// outside the lock.
func l0NormTopKMasked[T kernel.Element, I kernel.Index](c *core[T, l0NormKind], index []I, values []T, shape []int, keep []bool) error {
	if c == nil {
		return c.errNil()
	}
	l, kept, err := checkTopKMasked(index, values, shape, keep, c.components, math.MaxInt)
	if err != nil || kept == 0 {
		return err
	}
	b := slotScratch.get(l.slots)
	defer slotScratch.put(b)
	if values == nil {
		for s := range *b {
			(*b)[s] = uint64(kept) * uint64(l.features)
		}
	} else {
		run := slotScratch.get(l.slots)
		defer slotScratch.put(run)
		width := l.slots * l.features
		err := keptRuns(keep, l.batch, func(from, to int) error {
			rl := layout{batch: to - from, slots: l.slots, features: l.features}
			if err := c.counter.countSlots(*run, values[from*width:to*width], rl); err != nil {
				return err
			}
			for s, n := range *run {
				(*b)[s] += n
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	_, err = l0NormAdd(c, kept, *b, uint64(kept)*uint64(l.features), false)
	return err
}

// activityTopKMasked adds the kept vectors of a top-k batch to the counts,
// in place under the lock, one index-kernel call per run of kept vectors.
func activityTopKMasked[T kernel.Element, I kernel.Index](c *core[T, activityKind], index []I, values []T, shape []int, keep []bool) error {
	if c == nil {
		return c.errNil()
	}
	// Every index is checked first, so that no run can fail after another
	// was added.
	l, kept, err := checkTopKMasked(index, values, shape, keep, c.components, c.features)
	if err != nil || kept == 0 {
		return err
	}
	k, width := max(l.features, 1), l.slots*l.features
	c.mu.Lock()
	defer c.mu.Unlock()
	vectors, most := int64(kept), uint64(kept)*uint64(width)
	into, scratch, err := c.beginInPlaceLocked(vectors, most)
	if err != nil {
		return err
	}
	base := c.vectors
	err = keptRuns(keep, l.batch, func(from, to int) error {
		var v []T
		if values != nil {
			v = values[from*width : to*width]
		}
		return addIndexed(&c.counter, into, c.features, index[from*width:to*width], v, k)
	})
	if err := c.endInPlaceLocked(vectors, most, scratch, indexError(err)); err != nil {
		return err
	}
	// The positions, run by run in order, the kept vectors numbered as if
	// alone.
	return keptRuns(keep, l.batch, func(from, to int) error {
		var v []T
		if values != nil {
			v = values[from*width : to*width]
		}
		err := markCountedLocked(&c.tally, &c.counter, base, int64(to-from), c.features, index[from*width:to*width], v, width, k)
		base += int64(to - from)
		return err
	})
}
