package scan

import (
	"sync"

	"github.com/sparsekit/l0/internal/tally"
)

// Ranges are merged in order.
//
// A FeatureActivity's vectors since each feature fired depend on the order
// of the vectors, and Merge(b) means "b's vectors come after mine". So
// that a run's counts do not depend on -j (nor on which worker finished
// first), every range of rows is counted into a tally of its own and
// joins the ranges next to it in the order of the rows: the dispatcher
// numbers the ranges (of an input; of every input, for a total), and a
// chain merges each finished range with the finished runs it touches,
// left into right's place, as Merge's associativity allows. At most one
// run waits per range still being counted, so a chain holds about as many
// tallies as there are workers.
type chain struct {
	mu     sync.Mutex
	starts map[int64]*run // the runs by their first range
	ends   map[int64]*run // by the range after their last
	err    error          // the first merge that failed
}

// A run is the merged tally of the ranges [from, to).
type run struct {
	from, to int64
	t        tally.Tally
}

func newChain() *chain {
	return &chain{starts: map[int64]*run{}, ends: map[int64]*run{}}
}

// add adds t, the tally of range seq, and returns the tallies it freed
// (merged into a neighbour's), reset, for reuse.
func (c *chain) add(seq int64, t tally.Tally) []tally.Tally {
	c.mu.Lock()
	defer c.mu.Unlock()
	var freed []tally.Tally
	r := &run{from: seq, to: seq + 1, t: t}
	if left := c.ends[seq]; left != nil {
		delete(c.ends, seq)
		delete(c.starts, left.from)
		c.merge(left, r)
		freed = append(freed, r.t)
		r = &run{from: left.from, to: r.to, t: left.t}
	}
	if right := c.starts[r.to]; right != nil {
		delete(c.starts, right.from)
		delete(c.ends, right.to)
		c.merge(r, right)
		freed = append(freed, right.t)
		r.to = right.to
	}
	c.starts[r.from], c.ends[r.to] = r, r
	for _, f := range freed {
		f.Reset()
	}
	return freed
}

// merge merges b, the run after a, into a's tally.
func (c *chain) merge(a, b *run) {
	if err := a.t.Merge(b.t); err != nil && c.err == nil {
		c.err = err
	}
}

// result returns the tally of every range added, when they make one run
// from range first on; nil (and the merge's error, if one failed) if none
// was added or some are missing (a range that failed).
func (c *chain) result(first int64) (tally.Tally, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.starts[first]
	if r == nil || len(c.starts) != 1 {
		return nil, c.err
	}
	return r.t, c.err
}
