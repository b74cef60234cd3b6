package metric

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/sparsekit/l0/kernel"
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
	// pending are byte counters in front of the counts, one per count
	// (nil until a FeatureActivity batch of few vectors needs them, after
	// the state's first): the true count i is counts[i] + pending[i]. A batch of a few
	// wide rows is counted into them, a byte of counter traffic per
	// feature rather than the 16 of a 64-bit count's read and write, and
	// they are widened into the counts (flushLocked) before they could
	// pass 255 and before anything reads or replaces the counts:
	// core.countsLocked, refitLocked and addExactLocked. The limit bounds
	// the true counts. pendingRows is the vectors they hold since the last
	// widening, so at most maxPendingRows.
	pending     []uint8
	pendingRows int
}

// maxPendingRows is the most vectors the pending byte counters hold.
const maxPendingRows = 255

// minPendingCounters is the fewest counters kept in pending bytes: the
// 64-bit counts of fewer stay in L1, where the bytes save no traffic and
// cost a call and a widening (FeatureActivity.Update of 1 and 8 vectors
// of 16 features took 83 and 259 ns through them, 65 and 87 ns without:
// BenchmarkSmallBatch, medians of 5 alternating runs). A variable for the tests of the pending paths
// (pendingAtEverySize).
var minPendingCounters = 1024

// reset empties the tally.
func (t *tally) reset() {
	clear(t.counts)
	clear(t.last)
	clear(t.pending)
	t.pendingRows = 0
	t.vectors = 0
	t.limit = 0
}

// flushLocked widens the pending byte counters into the counts.
func (t *tally) flushLocked() {
	if t.pendingRows == 0 {
		return
	}
	_ = kernel.WidenByteCounts(t.counts, t.pending) // as many: made so
	t.pendingRows = 0
}

// pendingLocked starts an addition of vectors vectors, raising any count
// by at most most, counted into the pending byte counters: it returns
// them, widened first if the vectors would not fit beside those they
// hold, or nil where the bounds do not tell at once that no count (nor
// the vector count) can overflow, and the caller takes another way. The
// lock is held until endPendingLocked. vectors is at most maxPendingRows.
func (t *tally) pendingLocked(vectors int64, most uint64) []uint8 {
	if most > math.MaxUint64-t.limit || vectors > math.MaxInt64-t.vectors || len(t.counts) < minPendingCounters {
		return nil
	}
	if t.pending == nil && t.limit == 0 {
		// The first batch of an empty state goes straight into its
		// counts: a metric of one batch (a file of one row) never makes
		// the pending counters. It reads and writes every count, so
		// their pages are written first (touchPages).
		touchPages(t.counts)
		return nil
	}
	if t.pendingRows+int(vectors) > maxPendingRows {
		t.flushLocked()
	}
	if t.pending == nil {
		t.pending = make([]uint8, len(t.counts))
	}
	return t.pending
}

// touchPages writes a zero to a word of each 4 KiB of counts, all zero:
// counts just allocated are pages the kernel has not mapped yet, and a
// kernel that reads a count before it writes it faults twice on each (a
// read maps the shared zero page, the write then copies it, and the TLB
// entry is shot down on every core), where a write first faults once. A
// [64, 2^20] file's report spent a sixth of its CPU time in those faults.
func touchPages(counts []uint64) {
	for i := 0; i < len(counts); i += 512 {
		counts[i] = 0
	}
}

// endPendingLocked ends the addition pendingLocked started with the same
// vectors and most, whose kernel returned err (a kernel that fails counts
// nothing).
func (t *tally) endPendingLocked(vectors int64, most uint64, err error) error {
	if err != nil {
		return err
	}
	t.pendingRows += int(vectors)
	t.vectors += vectors
	t.limit += most
	return nil
}

// addPendingLocked adds a batch of vectors vectors counted outside the
// lock into byte counters small (as many as the counts, each at most
// vectors, at most maxPendingRows) to the pending counters, and reports
// whether it could: false, and nothing changed, where the bounds do not
// tell at once that nothing can overflow.
func (t *tally) addPendingLocked(vectors int64, small []uint8) bool {
	pending := t.pendingLocked(vectors, uint64(vectors))
	if pending == nil {
		return false
	}
	// Eight counters a word: no sum passes 255, so no byte carries.
	i := 0
	for ; i+8 <= len(small); i += 8 {
		p := pending[i : i+8 : i+8]
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)+binary.LittleEndian.Uint64(small[i:i+8:i+8]))
	}
	for ; i < len(small); i++ {
		pending[i] += small[i]
	}
	_ = t.endPendingLocked(vectors, uint64(vectors), nil)
	return true
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
	t.flushLocked()
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
	t.flushLocked()
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
