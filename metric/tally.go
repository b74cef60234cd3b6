package metric

import (
	"fmt"
	"math"
	"math/bits"
)

// tally is the state of a metric and its arithmetic: the vectors, the
// counts and their overflow bound. It knows nothing of the element type or
// the metric's kind, so its methods are plain (and small ones inline);
// every one runs under the metric's lock, with the counts allocated
// (core.countsLocked). A statistic kept beside the counts belongs here, in
// addLocked, addExactLocked, endInPlaceLocked and reset.
type tally struct {
	vectors int64
	// counts are the state's counters: one per component (L0Norm) or per
	// (component, feature), row-major (FeatureActivity). nil in a zero
	// L0Norm until first used (core.countsLocked).
	counts []uint64
	// limit is an upper bound of every count: a dense batch raises a count
	// by at most its vectors (times the features, for an L0Norm), a sparse
	// one by at most its entries, a merge by at most the other's limit.
	// Every addition checks it first, so no count can overflow, even fed
	// duplicate sparse entries; where the bound is too coarse to tell, the
	// addition is decided on the true sums (addExactLocked), so that no
	// overflow is false.
	limit uint64
	// last is, per counter of a FeatureActivity, the 1-based position of
	// the last vector in which it fired, 0 for none (since.go); nil in an
	// L0Norm.
	last []int64
}

// reset empties the tally.
func (t *tally) reset() {
	clear(t.counts)
	clear(t.last)
	t.vectors = 0
	t.limit = 0
}

// addLocked adds vectors and counts (each at most most) to the state, or
// returns ErrOverflow and changes nothing.
func (t *tally) addLocked(vectors int64, counts []uint64, most uint64) error {
	if err := t.checkVectorsLocked(vectors); err != nil {
		return err
	}
	if !t.fitsLocked(most) {
		return t.addExactLocked(vectors, counts)
	}
	state := t.counts
	for i, n := range counts {
		state[i] += n
	}
	t.vectors += vectors
	t.limit += most
	return nil
}

// checkVectorsLocked returns ErrOverflow if adding vectors vectors would
// pass 2^63 - 1. (Small enough to inline, as are fitsLocked and the
// in-place additions: a small batch would otherwise pay for the calls; the
// errors and the rare paths are functions of their own.)
func (t *tally) checkVectorsLocked(vectors int64) error {
	if vectors > math.MaxInt64-t.vectors {
		return errVectorsOverflow(t.vectors, vectors)
	}
	return nil
}

func errVectorsOverflow(have, vectors int64) error {
	return fmt.Errorf("%w: %d + %d vectors", ErrOverflow, have, vectors)
}

// fitsLocked reports whether every count can rise by most without passing
// 2^64: by the limit, or when that bound is too coarse, by the largest
// count (refitLocked).
func (t *tally) fitsLocked(most uint64) bool {
	return most <= math.MaxUint64-t.limit || t.refitLocked(most)
}

// refitLocked sets the limit to the largest count, a bound closer to the
// truth, and reports whether every count can rise by most without passing
// 2^64 by it.
func (t *tally) refitLocked(most uint64) bool {
	t.limit = 0
	for _, n := range t.counts {
		t.limit = max(t.limit, n)
	}
	_, carry := bits.Add64(t.limit, most, 0)
	return carry == 0
}

// addExactLocked adds vectors and counts to the state if no count's true
// sum passes 2^64, else returns ErrOverflow and changes nothing: the
// addition of counts whose bounds are too coarse to tell (merging [2^64 −
// 1, 0] with [0, 1] is [2^64 − 1, 1]). The limit becomes the largest sum.
// The vectors were checked.
func (t *tally) addExactLocked(vectors int64, counts []uint64) error {
	state := t.counts
	for i, n := range counts {
		if _, carry := bits.Add64(state[i], n, 0); carry != 0 {
			return fmt.Errorf("%w: counter %d: %d + %d passes 2^64", ErrOverflow, i, state[i], n)
		}
	}
	var limit uint64
	for i, n := range counts {
		state[i] += n
		limit = max(limit, state[i])
	}
	t.vectors += vectors
	t.limit = limit
	return nil
}

// beginInPlaceLocked starts an addition counted under the lock straight
// into the state, of vectors vectors that raise any count by at most most:
// it returns the counts a kernel is to count into, the state's own or,
// where a count could pass 2^64 by the addition, a zeroed scratch (also
// returned, else nil) that endInPlaceLocked adds only if the true sums fit;
// or ErrOverflow. The lock is held until endInPlaceLocked. (No struct carries
// the addition from one to the other: returned through memory, it cost a
// small batch a third of its time.)
func (t *tally) beginInPlaceLocked(vectors int64, most uint64) (into []uint64, scratch *[]uint64, err error) {
	if most <= math.MaxUint64-t.limit && vectors <= math.MaxInt64-t.vectors {
		return t.counts, nil, nil
	}
	return t.beginInPlaceSlowLocked(vectors, most)
}

// beginInPlaceSlowLocked is beginInPlaceLocked where the bounds do not
// tell at once.
func (t *tally) beginInPlaceSlowLocked(vectors int64, most uint64) (into []uint64, scratch *[]uint64, err error) {
	if err := t.checkVectorsLocked(vectors); err != nil {
		return nil, nil, err
	}
	if !t.fitsLocked(most) {
		scratch = activityScratch.get(len(t.counts))
		return *scratch, scratch, nil
	}
	return t.counts, nil, nil
}

// endInPlaceLocked ends the addition that beginInPlaceLocked started with
// the same vectors, most and scratch, whose kernel returned err (a kernel
// that fails adds nothing): it counts the vectors, or adds the scratch if
// the true sums fit.
func (t *tally) endInPlaceLocked(vectors int64, most uint64, scratch *[]uint64, err error) error {
	if scratch != nil || err != nil {
		return t.endInPlaceSlowLocked(vectors, scratch, err)
	}
	t.vectors += vectors
	t.limit += most
	return nil
}

// endInPlaceSlowLocked is endInPlaceLocked of a failed kernel, or of an
// addition counted into scratch.
func (t *tally) endInPlaceSlowLocked(vectors int64, scratch *[]uint64, err error) error {
	if scratch == nil {
		return err
	}
	if err == nil {
		err = t.addExactLocked(vectors, *scratch)
	}
	activityScratch.put(scratch)
	return err
}
