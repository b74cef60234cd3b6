package main

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

// config is what an input's counts are over: the element type, and the
// vectors' components and features. Inputs merge into one total only when
// their configs are equal (and the run's rule is theirs).
type config struct {
	elem       elem
	components int // 0: [batch, feature], or positions
	features   int
	positions  int // with -positions, the positions counted; else 0
	skip       int // with -positions, the positions left out before them
}

// rowElements returns the elements of one row of the array: one index of
// its first dimension.
func (c config) rowElements() int {
	return max(c.components, c.positions+c.skip, 1) * c.features
}

// describe names the config in an error about inputs that do not merge.
func (c config) describe() string {
	switch {
	case c.positions > 0:
		return fmt.Sprintf("%s, %d positions (after %d skipped) × %d features", c.elem, c.positions, c.skip, c.features)
	case c.components > 0:
		return fmt.Sprintf("%s, %d components × %d features", c.elem, c.components, c.features)
	}
	return fmt.Sprintf("%s, %d features", c.elem, c.features)
}

// A tally is what rows are counted into: a FeatureActivity of the input's
// element type (and with -positions an L0Norm over the positions), behind
// an interface that does not depend on the type.
type tally interface {
	config() config
	// add counts rows whole rows of the array: their bytes, aligned and in
	// the machine's byte order.
	add(data []byte, rows int64) error
	// addTopK counts rows of a top-k pair (-sparse): the indices as one
	// of []int32, []int64, []uint16, []uint32, the values' bytes or nil
	// (every entry counts), k entries a vector and component.
	addTopK(index any, values []byte, rows int64, k int) error
	// load adds a FeatureActivity state, as -save writes it, read from r
	// to its end.
	load(r io.Reader) error
	// merge adds another tally of the same config.
	merge(other tally) error
	// reset empties the tally.
	reset()
	// summarize fills the report's numbers.
	summarize(rep *report) error
	// sparsity returns log10(density + 1e-10) per (component, feature),
	// as little-endian float32 bytes.
	sparsity() ([]byte, error)
	// marshal returns the FeatureActivity state.
	marshal() ([]byte, error)
}

// newTally returns an empty tally of the config, counting by rule.
func newTally(c config, rule metric.Rule) (tally, error) {
	switch c.elem {
	case elemFloat32:
		return newTyped[float32](c, rule)
	case elemFloat64:
		return newTyped[float64](c, rule)
	case elemFloat16:
		return newTyped[kernel.Float16](c, rule)
	case elemBFloat16:
		return newTyped[kernel.BFloat16](c, rule)
	case elemInt8:
		return newTyped[int8](c, rule)
	case elemInt16:
		return newTyped[int16](c, rule)
	case elemInt32:
		return newTyped[int32](c, rule)
	case elemInt64:
		return newTyped[int64](c, rule)
	case elemUint8:
		return newTyped[uint8](c, rule)
	case elemUint16:
		return newTyped[uint16](c, rule)
	case elemUint32:
		return newTyped[uint32](c, rule)
	case elemUint64:
		return newTyped[uint64](c, rule)
	}
	return nil, fmt.Errorf("element type %d has no counter", c.elem)
}

// typed is the tally of one element type.
type typed[T kernel.Element] struct {
	c   config
	act *metric.FeatureActivity[T] // [vectors, (components,) features]
	pos *metric.L0Norm[T]          // -positions: [rows, positions, features]
	// updates counts the Updates, which the bytes bound, never the shape.
	updates int
}

func newTyped[T kernel.Element](c config, rule metric.Rule) (*typed[T], error) {
	act, err := metric.NewFeatureActivity[T](c.components, c.features, rule)
	if err != nil {
		return nil, err
	}
	t := &typed[T]{c: c, act: act}
	if c.positions > 0 {
		if t.pos, err = metric.NewL0Norm[T](c.positions, rule); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *typed[T]) config() config { return t.c }

// errTooManyVectors: a batch of rows × positions vectors past an int.
var errTooManyVectors = errors.New("more vectors than l0 counts")

func (t *typed[T]) add(data []byte, n int64) error {
	if n == 0 {
		return nil
	}
	c := t.c
	x := rows.As[T](data)
	switch {
	case c.positions == 0 && c.components == 0:
		t.updates++
		return t.act.Update(x, int(n), c.features)
	case c.positions == 0:
		t.updates++
		return t.act.Update(x, int(n), c.components, c.features)
	case c.skip == 0 || len(x) == 0:
		// Every position a vector: the n rows are n × positions vectors
		// of the features, in one Update each way.
		if n > int64(math.MaxInt/c.positions) {
			return fmt.Errorf("%w: %d rows of %d positions", errTooManyVectors, n, c.positions)
		}
		t.updates++
		if err := t.act.Update(x, int(n)*c.positions, c.features); err != nil {
			return err
		}
		return t.pos.Update(x, int(n), c.positions, c.features)
	}
	// The first positions of each row are left out: a row at a time (the
	// rows hold bytes, so their number is bounded by the bytes read).
	width := (c.skip + c.positions) * c.features
	for r := range int(n) {
		kept := x[r*width+c.skip*c.features : (r+1)*width]
		t.updates++
		if err := t.act.Update(kept, c.positions, c.features); err != nil {
			return err
		}
		if err := t.pos.Update(kept, 1, c.positions, c.features); err != nil {
			return err
		}
	}
	return nil
}

func (t *typed[T]) reset() {
	t.act.Reset()
	if t.pos != nil {
		t.pos.Reset()
	}
	t.updates = 0
}

// load reads a state into the counts, a piece at a time (metric's
// ReadFrom): an empty tally takes it in place; one that has counted reads
// it into a new tally, merged in and dropped, so that loading costs at
// most one more set of counters, never a copy of the state's bytes.
func (t *typed[T]) load(r io.Reader) error {
	into := t
	if t.act.Vectors() > 0 {
		var err error
		if into, err = newTyped[T](t.c, t.act.Rule()); err != nil {
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
	return t.merge(into)
}

func (t *typed[T]) merge(other tally) error {
	o, ok := other.(*typed[T])
	if !ok || o.c != t.c {
		return fmt.Errorf("%w: %s does not merge with %s", metric.ErrMismatch, other.config().describe(), t.c.describe())
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

func (t *typed[T]) summarize(rep *report) error {
	var err error
	rep.vectors = t.act.Vectors()
	rep.batches = t.updates
	if rep.vectors == 0 && t.pos == nil {
		// A state saved before its first batch, or a total of such: no
		// L0, no density (no array has no vectors: checkArray).
		return nil
	}
	if rep.l0, err = t.act.L0(); err != nil {
		return err
	}
	if rep.histogram, err = t.act.Histogram(); err != nil {
		return err
	}
	if t.pos != nil {
		if rep.l0ByPosition, err = t.pos.Compute(); err != nil {
			return err
		}
		rep.rows = t.pos.Vectors()
	} else {
		rep.rows = rep.vectors
	}
	slots := max(t.c.components, 1)
	rep.dead, rep.dense = make([]int, slots), make([]int, slots)
	vectors := float64(rep.vectors)
	for i, c := range t.act.Counts() {
		switch {
		case c == 0:
			rep.dead[i/t.c.features]++
		case float64(c)/vectors > rep.settings.dense: // as metric's Dense decides
			rep.dense[i/t.c.features]++
		}
	}
	return nil
}

func (t *typed[T]) sparsity() ([]byte, error) {
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

func (t *typed[T]) marshal() ([]byte, error) { return t.act.MarshalBinary() }
