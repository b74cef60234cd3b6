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
	// AddMasked is Add that leaves out the vectors whose keep entry is
	// false: keep holds one entry per vector of the n rows (n × the
	// positions, skipped ones too, with positions; else n).
	AddMasked(data []byte, n int64, keep []bool) error
	// AddTopKMasked is AddTopK that leaves out the vectors whose keep
	// entry is false, as AddMasked.
	AddTopKMasked(index any, values []byte, n int64, k int, keep []bool) error
	// FeatureStats returns the per-sequence statistics of a config with
	// Sequences: per (component, feature) the vectors it fired in and the
	// sequences it fired in, the kept vectors and the sequences.
	FeatureStats() (FeatureStats, error)
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
	// Excluded is the vectors a token mask left out; Sequences, with
	// Config.Sequences, the sequences (rows) counted.
	Excluded  int64
	Sequences int64
	Masked    bool // a token mask was applied (Excluded may be 0)
}

// FeatureStats are the per-sequence statistics of a tally whose config
// has Sequences.
type FeatureStats struct {
	Firings   []uint64 // per (component, feature): the kept vectors it fired in
	Fired     []uint64 // per (component, feature): the sequences it fired in
	Vectors   int64    // the vectors kept
	Sequences int64
}

// ErrNoSequences: FeatureStats of a tally that counts no sequences.
var ErrNoSequences = errors.New("no per-sequence statistics: they are counted for inputs with positions (-positions)")

// ErrAllExcluded: a tally whose every vector a token mask left out has no
// L0 and no density.
var ErrAllExcluded = errors.New("every vector was left out by the token mask: no L0, no density")

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
	// seq, with Config.Sequences, counts per sequence and per position
	// (the Positions after the Skip left out); act is then its Activity,
	// and pos nil.
	seq *metric.SequenceActivity[T]
	// excluded counts the vectors a mask left out; masked, whether a
	// mask was given.
	excluded int64
	masked   bool
	// updates counts the Updates, which the bytes bound, never the shape.
	updates int
}

func newTyped[T kernel.Element](c Config, rule metric.Rule) (Tally, error) {
	return newOf[T](c, rule)
}

func newOf[T kernel.Element](c Config, rule metric.Rule) (*typed[T], error) {
	if c.Sequences && c.Positions > 0 {
		seq, err := metric.NewSequenceActivity[T](c.Positions, 0, c.Features, rule)
		if err != nil {
			return nil, err
		}
		return &typed[T]{c: c, act: seq.Activity(), seq: seq}, nil
	}
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
	if t.seq != nil {
		return t.AddMasked(data, n, nil)
	}
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
	if t.c.Positions > 0 {
		return t.addSequencesTopK(index, values, n, k, nil)
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

func (t *typed[T]) AddMasked(data []byte, n int64, keep []bool) error {
	if keep != nil {
		t.masked = true
	}
	if n == 0 {
		return nil
	}
	c := t.c
	x := rows.As[T](data)
	if c.Positions == 0 {
		if keep != nil && int64(len(keep)) != n {
			return fmt.Errorf("a mask of %d vectors for %d rows", len(keep), n)
		}
		t.updates++
		before := t.act.Vectors()
		var err error
		if c.Components == 0 {
			err = t.act.UpdateMasked(x, keep, int(n), c.Features)
		} else {
			err = t.act.UpdateMasked(x, keep, int(n), c.Components, c.Features)
		}
		if err == nil {
			t.excluded += n - (t.act.Vectors() - before)
		}
		return err
	}
	if t.seq == nil {
		return fmt.Errorf("a tally of %s counts no mask of positions", c.Describe())
	}
	width, err := t.checkRows(n, keep)
	if err != nil {
		return err
	}
	before := t.act.Vectors()
	if c.Skip == 0 || len(x) == 0 && keep == nil {
		// One Update: no position skipped, or none has elements (the
		// skipped ones of no bytes add nothing, and the shape, not the
		// rows, is the work).
		t.updates++
		if err := t.seq.UpdateMasked(x, keep, int(n), c.Positions, c.Features); err != nil {
			return err
		}
	} else {
		// The first positions of each row are left out: a row at a time
		// (its bytes, or its mask's, bound the rows).
		for r := range int(n) {
			kept := x[min(len(x), (r*width+c.Skip)*c.Features):min(len(x), (r+1)*width*c.Features)]
			var rowKeep []bool
			if keep != nil {
				rowKeep = keep[r*width+c.Skip : (r+1)*width]
			}
			t.updates++
			if err := t.seq.UpdateMasked(kept, rowKeep, 1, c.Positions, c.Features); err != nil {
				return err
			}
		}
	}
	t.excluded += int64(n)*int64(c.Positions) - (t.act.Vectors() - before)
	return nil
}

// checkRows checks that n rows of Skip + Positions positions are at most
// an int of vectors, and a mask of them (nil: none) has one entry each;
// it returns the positions of a row.
func (t *typed[T]) checkRows(n int64, keep []bool) (int, error) {
	width := t.c.Skip + t.c.Positions
	if n > int64(math.MaxInt/width) {
		return 0, fmt.Errorf("%w: %d rows of %d positions", ErrTooManyVectors, n, width)
	}
	if keep != nil && len(keep) != int(n)*width {
		return 0, fmt.Errorf("a mask of %d vectors for %d rows of %d positions", len(keep), n, width)
	}
	return width, nil
}

func (t *typed[T]) AddTopKMasked(index any, values []byte, n int64, k int, keep []bool) error {
	if keep != nil {
		t.masked = true
	}
	if n == 0 {
		return nil
	}
	if t.c.Positions > 0 {
		return t.addSequencesTopK(index, values, n, k, keep)
	}
	var v []T
	if values != nil {
		v = rows.As[T](values)
	}
	t.updates++
	before := t.act.Vectors()
	var err error
	switch x := index.(type) {
	case []int32:
		err = metric.UpdateSparseMasked(t.act, metric.TopK[T, int32]{Index: x, Values: v, Batch: int(n), Components: t.c.Components, K: k}, keep)
	case []int64:
		err = metric.UpdateSparseMasked(t.act, metric.TopK[T, int64]{Index: x, Values: v, Batch: int(n), Components: t.c.Components, K: k}, keep)
	case []uint16:
		err = metric.UpdateSparseMasked(t.act, metric.TopK[T, uint16]{Index: x, Values: v, Batch: int(n), Components: t.c.Components, K: k}, keep)
	case []uint32:
		err = metric.UpdateSparseMasked(t.act, metric.TopK[T, uint32]{Index: x, Values: v, Batch: int(n), Components: t.c.Components, K: k}, keep)
	default:
		return fmt.Errorf("top-k indices of type %T", index)
	}
	if err == nil {
		t.excluded += n - (t.act.Vectors() - before)
	}
	return err
}

// addSequencesTopK adds n rows of a top-k pair with positions, [rows,
// positions, k], to the per-sequence counts.
func (t *typed[T]) addSequencesTopK(index any, values []byte, n int64, k int, keep []bool) error {
	c := t.c
	if t.seq == nil {
		return fmt.Errorf("a tally of %s counts no top-k pair with positions", c.Describe())
	}
	var v []T
	if values != nil {
		v = rows.As[T](values)
	}
	width, err := t.checkRows(n, keep)
	if err != nil {
		return err
	}
	before := t.act.Vectors()
	if c.Skip == 0 || k == 0 && keep == nil {
		t.updates++
		if err := updateSequencesTopK(t.seq, index, v, keep, int(n), c.Positions, k, 0, 0); err != nil {
			return err
		}
	} else {
		for r := range int(n) {
			var rowKeep []bool
			if keep != nil {
				rowKeep = keep[r*width+c.Skip : (r+1)*width]
			}
			t.updates++
			if err := updateSequencesTopK(t.seq, index, v, rowKeep, 1, c.Positions, k, (r*width+c.Skip)*k, (r+1)*width*k); err != nil {
				return err
			}
		}
	}
	t.excluded += int64(n)*int64(c.Positions) - (t.act.Vectors() - before)
	return nil
}

// updateSequencesTopK adds sequences of top-k entries, index[from:to] and
// values[from:to] of a kernel index type (the whole of them, to == 0).
func updateSequencesTopK[T kernel.Element](s *metric.SequenceActivity[T], index any, values []T, keep []bool, sequences, positions, k, from, to int) error {
	slice := func(n int) (int, int) {
		if to == 0 {
			return 0, n
		}
		return from, to
	}
	var v []T
	switch x := index.(type) {
	case []int32:
		i, j := slice(len(x))
		if values != nil {
			v = values[i:j]
		}
		return metric.UpdateSequencesTopK(s, x[i:j], v, keep, sequences, positions, k)
	case []int64:
		i, j := slice(len(x))
		if values != nil {
			v = values[i:j]
		}
		return metric.UpdateSequencesTopK(s, x[i:j], v, keep, sequences, positions, k)
	case []uint16:
		i, j := slice(len(x))
		if values != nil {
			v = values[i:j]
		}
		return metric.UpdateSequencesTopK(s, x[i:j], v, keep, sequences, positions, k)
	case []uint32:
		i, j := slice(len(x))
		if values != nil {
			v = values[i:j]
		}
		return metric.UpdateSequencesTopK(s, x[i:j], v, keep, sequences, positions, k)
	}
	return fmt.Errorf("top-k indices of type %T", index)
}

func (t *typed[T]) FeatureStats() (FeatureStats, error) {
	if t.seq == nil {
		return FeatureStats{}, ErrNoSequences
	}
	return FeatureStats{
		Firings: t.act.Counts(), Fired: t.seq.SequencesFired(),
		Vectors: t.act.Vectors(), Sequences: t.seq.Sequences(),
	}, nil
}

func (t *typed[T]) Reset() {
	if t.seq != nil {
		t.seq.Reset()
	}
	t.excluded, t.masked = 0, false
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
	if t.seq != nil {
		return errors.New("a state holds no per-sequence counts (-feature-stats) and no tokens (-exclude-tokens): it cannot join them")
	}
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
	if t.seq != nil {
		if err := t.seq.Merge(o.seq); err != nil {
			return err
		}
	} else if err := t.act.Merge(o.act); err != nil {
		return err
	}
	t.excluded += o.excluded
	t.masked = t.masked || o.masked
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
	s.Excluded, s.Masked = t.excluded, t.masked
	if t.seq != nil {
		s.Sequences = t.seq.Sequences()
	}
	if s.Vectors == 0 && t.excluded > 0 {
		return s, ErrAllExcluded
	}
	if s.Vectors == 0 && t.pos == nil {
		// A state saved before its first batch, or a total of such: no
		// L0, no density (no array has no vectors).
		return s, nil
	}
	// L0, the histogram, and the dead and dense features of each slot in
	// one pass over the counts in place (metric's Summary): a copy of
	// them and three passes cost a wide file ([8, 2^22]) most of its CPU.
	a, err := t.act.Summary(dense)
	if err != nil {
		return s, err
	}
	s.L0, s.Histogram, s.Dead, s.Dense = a.L0, a.Histogram, a.Dead, a.Dense
	switch {
	case t.seq != nil:
		l0, err := t.seq.L0ByPosition()
		if err != nil {
			return s, err
		}
		s.L0ByPosition = l0
		s.Rows = s.Sequences
	case t.pos != nil:
		if s.L0ByPosition, err = t.pos.Compute(); err != nil {
			return s, err
		}
		s.Rows = t.pos.Vectors()
	default:
		s.Rows = s.Vectors
	}
	return s, nil
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
