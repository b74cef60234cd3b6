// Package tally is what the rows of l0's inputs are counted into: a
// metric.FeatureActivity of the input's element type (and with positions a
// metric.L0Norm over them), behind an interface that does not depend on the
// type, so that the layers above it never switch on element types. It
// does no I/O of its own: it takes bytes already read, and gives numbers.
package tally

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sparsekit/l0/internal/rows"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// A Tally is the counts of rows of one config, by one rule.
type Tally interface {
	Config() Config
	// Add counts n whole rows of the array: their bytes, aligned and in
	// the machine's byte order.
	Add(data []byte, n int64) error
	// AddTopK counts n rows of a top-k pair: the indices as one of
	// []int32, []int64, []uint16, []uint32, the values' bytes or nil
	// (every entry counts), k entries a vector and component. An index
	// outside [0, features) is an error wrapping kernel.ErrIndex, and adds
	// nothing.
	AddTopK(index any, values []byte, n int64, k int) error
	// Load adds a FeatureActivity state, as MarshalBinary writes it, read
	// from r to its end, a piece at a time.
	Load(r io.Reader) error
	// Merge adds another tally of the same config.
	Merge(other Tally) error
	// Reset empties the tally.
	Reset()
	// Summarize returns the numbers of a report; a feature is dense when
	// its density is above dense.
	Summarize(dense float64) (Summary, error)
	// DeadAfter returns, per component (one entry without), the features
	// with more than n vectors since they last fired (n ≥ 0).
	DeadAfter(n int64) ([]int, error)
	// Sparsity returns log10(density + 1e-10) per (component, feature),
	// as little-endian float32 bytes.
	Sparsity() ([]byte, error)
	// MarshalBinary returns the FeatureActivity state.
	MarshalBinary() ([]byte, error)
}

// Summary is the numbers a tally gives a report.
type Summary struct {
	Vectors      int64
	Rows         int64     // the batch: vectors, or vectors / positions
	Batches      int       // the Updates the counting took, which the bytes bound, not the shape
	L0           []float64 // per component; one value without components
	L0ByPosition []float64 // with positions: per position counted
	Dead         []int     // dead features per component (one entry without)
	Dense        []int     // dense features per component
	Histogram    metric.Histogram
}

// New returns an empty tally of the config, counting by rule.
func New(c Config, rule metric.Rule) (Tally, error) {
	if !c.Elem.Valid() {
		return nil, fmt.Errorf("element type %d has no counter", c.Elem)
	}
	return elems[c.Elem].new(c, rule)
}

// typed is the tally of one element type.
type typed[T kernel.Element] struct {
	c   Config
	act *metric.FeatureActivity[T] // [vectors, (components,) features]
	pos *metric.L0Norm[T]          // positions: [rows, positions, features]
	// updates counts the Updates, which the bytes bound, never the shape.
	updates int
}

func newTyped[T kernel.Element](c Config, rule metric.Rule) (Tally, error) {
	return newOf[T](c, rule)
}

func newOf[T kernel.Element](c Config, rule metric.Rule) (*typed[T], error) {
	act, err := metric.NewFeatureActivity[T](c.Components, c.Features, rule)
	if err != nil {
		return nil, err
	}
	t := &typed[T]{c: c, act: act}
	if c.Positions > 0 {
		if t.pos, err = metric.NewL0Norm[T](c.Positions, rule); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *typed[T]) Config() Config { return t.c }

// ErrTooManyVectors: a batch of rows × positions vectors past an int.
var ErrTooManyVectors = errors.New("more vectors than l0 counts")

func (t *typed[T]) Add(data []byte, n int64) error {
	if n == 0 {
		return nil
	}
	c := t.c
	x := rows.As[T](data)
	switch {
	case c.Positions == 0 && c.Components == 0:
		t.updates++
		return t.act.Update(x, int(n), c.Features)
	case c.Positions == 0:
		t.updates++
		return t.act.Update(x, int(n), c.Components, c.Features)
	case c.Skip == 0 || len(x) == 0:
		// Every position a vector: the n rows are n × positions vectors
		// of the features, in one Update each way.
		if n > int64(math.MaxInt/c.Positions) {
			return fmt.Errorf("%w: %d rows of %d positions", ErrTooManyVectors, n, c.Positions)
		}
		t.updates++
		if err := t.act.Update(x, int(n)*c.Positions, c.Features); err != nil {
			return err
		}
		return t.pos.Update(x, int(n), c.Positions, c.Features)
	}
	// The first positions of each row are left out: a row at a time (the
	// rows hold bytes, so their number is bounded by the bytes read).
	width := (c.Skip + c.Positions) * c.Features
	for r := range int(n) {
		kept := x[r*width+c.Skip*c.Features : (r+1)*width]
		t.updates++
		if err := t.act.Update(kept, c.Positions, c.Features); err != nil {
			return err
		}
		if err := t.pos.Update(kept, 1, c.Positions, c.Features); err != nil {
			return err
		}
	}
	return nil
}

func (t *typed[T]) AddTopK(index any, values []byte, n int64, k int) error {
	if n == 0 {
		return nil
	}
	var v []T
	if values != nil {
		v = rows.As[T](values)
	}
	shape := []int{int(n), k}
	if t.c.Components > 0 {
		shape = []int{int(n), t.c.Components, k}
	}
	t.updates++
	switch x := index.(type) {
	case []int32:
		return metric.UpdateTopK(t.act, x, v, shape...)
	case []int64:
		return metric.UpdateTopK(t.act, x, v, shape...)
	case []uint16:
		return metric.UpdateTopK(t.act, x, v, shape...)
	case []uint32:
		return metric.UpdateTopK(t.act, x, v, shape...)
	}
	return fmt.Errorf("top-k indices of type %T", index)
}

func (t *typed[T]) Reset() {
	t.act.Reset()
	if t.pos != nil {
		t.pos.Reset()
	}
	t.updates = 0
}

// Load reads a state into the counts, a piece at a time (metric's
// ReadFrom): an empty tally takes it in place; one that has counted reads
// it into a new tally, merged in and dropped, so that loading costs at
// most one more set of counters, never a copy of the state's bytes.
func (t *typed[T]) Load(r io.Reader) error {
	into := t
	if t.act.Vectors() > 0 {
		var err error
		if into, err = newOf[T](t.c, t.act.Rule()); err != nil {
			return err
		}
	}
	if _, err := into.act.ReadFrom(r); err != nil {
		if errors.Is(err, metric.ErrMismatch) {
			return fmt.Errorf("%w (this run counts %s: give the rule the state was saved with)", err, t.act.Rule())
		}
		return err
	}
	if into == t {
		return nil
	}
	return t.Merge(into)
}

func (t *typed[T]) Merge(other Tally) error {
	o, ok := other.(*typed[T])
	if !ok || o.c != t.c {
		return fmt.Errorf("%w: %s does not merge with %s", metric.ErrMismatch, other.Config().Describe(), t.c.Describe())
	}
	if err := t.act.Merge(o.act); err != nil {
		return err
	}
	if t.pos != nil {
		if err := t.pos.Merge(o.pos); err != nil {
			return err
		}
	}
	t.updates += o.updates
	return nil
}

func (t *typed[T]) Summarize(dense float64) (Summary, error) {
	var s Summary
	var err error
	s.Vectors = t.act.Vectors()
	s.Batches = t.updates
	if s.Vectors == 0 && t.pos == nil {
		// A state saved before its first batch, or a total of such: no
		// L0, no density (no array has no vectors).
		return s, nil
	}
	if s.L0, err = t.act.L0(); err != nil {
		return s, err
	}
	if s.Histogram, err = t.act.Histogram(); err != nil {
		return s, err
	}
	if t.pos != nil {
		if s.L0ByPosition, err = t.pos.Compute(); err != nil {
			return s, err
		}
		s.Rows = t.pos.Vectors()
	} else {
		s.Rows = s.Vectors
	}
	s.Dead, s.Dense = make([]int, t.c.Slots()), make([]int, t.c.Slots())
	vectors := float64(s.Vectors)
	for i, c := range t.act.Counts() {
		switch {
		case c == 0:
			s.Dead[i/t.c.Features]++
		case float64(c)/vectors > dense: // as metric's Dense decides
			s.Dense[i/t.c.Features]++
		}
	}
	return s, nil
}

func (t *typed[T]) DeadAfter(n int64) ([]int, error) {
	if n < 0 {
		return nil, fmt.Errorf("dead after %d vectors: want 0 or more", n)
	}
	perSlot := make([]int, t.c.Slots())
	for i, s := range t.act.VectorsSinceFired() {
		if s > n { // as metric's DeadAfter decides
			perSlot[i/t.c.Features]++
		}
	}
	return perSlot, nil
}

func (t *typed[T]) Sparsity() ([]byte, error) {
	density, err := t.act.Density()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 4*len(density))
	for _, d := range density {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(math.Log10(d+1e-10))))
	}
	return out, nil
}

func (t *typed[T]) MarshalBinary() ([]byte, error) { return t.act.MarshalBinary() }
