package input

import (
	"fmt"
	"math"

	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/metric"
)

// MaxFeaturelessSlots bounds the components (or positions) of an array
// whose vectors have no features. Its data is no bytes, whatever the
// shape, but its report is a few numbers per component; with at least one
// feature the data holds a byte per component per vector, and pays for
// them.
const MaxFeaturelessSlots = 1 << 16

// checkArray checks the array is [batch, feature] or [batch, component,
// feature] (with -positions, [batch, position, feature]) with at least one
// vector and one component, sizes a metric can take, and the rule suits
// its dtype; and sets the configuration its counts take.
func (in *Input) checkArray(o Options) error {
	shape, c := in.Shape, &in.Config
	shapeText := ShapeOf(shape)
	switch in.Format {
	case NPY:
		shapeText = npy.Header{Shape: shape}.ShapeString()
	case TopK:
		shapeText = fmt.Sprintf("%s (of the top-k %s)", shapeText, in.rows.(*topKRows).index.ShapeString())
	}
	if len(shape) != 2 && len(shape) != 3 {
		return fmt.Errorf("the shape %s has rank %d; want [batch, feature] or [batch, component, feature]", shapeText, len(shape))
	}
	for _, d := range shape {
		if int64(int(d)) != d {
			return fmt.Errorf("the shape %s is too large for this machine (a dimension above %d)", shapeText, math.MaxInt)
		}
	}
	if _, rowBytes, _ := in.Span(); rowBytes > math.MaxInt-7 {
		return fmt.Errorf("the rows of the shape %s are too large for this machine", shapeText)
	}
	c.Features = int(shape[len(shape)-1])
	slots := 1
	if len(shape) == 3 {
		slots = int(shape[1])
		what := "components"
		if o.Positions {
			what = "positions"
		}
		switch {
		case slots == 0:
			return fmt.Errorf("the shape %s has no %s", shapeText, what)
		case slots > metric.MaxComponents:
			return fmt.Errorf("the shape %s has %d %s; l0 takes at most %d", shapeText, slots, what, metric.MaxComponents)
		case c.Features == 0 && slots > MaxFeaturelessSlots:
			return fmt.Errorf("the shape %s has %d %s of no features; l0 takes at most %d %s without features", shapeText, slots, what, MaxFeaturelessSlots, what)
		}
	}
	switch {
	case o.Positions && len(shape) != 3:
		return fmt.Errorf("-positions reads [batch, position, feature]; the shape %s has rank 2", shapeText)
	case o.Positions && o.Skip >= slots:
		return fmt.Errorf("-skip-positions %d leaves none of the %d positions of the shape %s", o.Skip, slots, shapeText)
	case o.Positions:
		c.Positions, c.Skip = slots-o.Skip, o.Skip
		// Per sequence: for -feature-stats, for a mask (the L0 per
		// position over the kept vectors), and for a top-k pair.
		c.Sequences = o.Sequences || len(o.Exclude) > 0 || in.Format == TopK
	case len(shape) == 3:
		c.Components = slots
	}
	if o.Sequences && c.Positions == 0 {
		return fmt.Errorf("-feature-stats counts per sequence, and the shape %s has no positions: it reads [batch, position, feature] (-positions)", shapeText)
	}
	if c.Features > metric.MaxCounters/c.Slots() {
		return fmt.Errorf("the shape %s has more (component, feature) pairs than l0 counts, %d", shapeText, int64(metric.MaxCounters))
	}
	if _, ok := o.Rule.Threshold(); ok && !c.Elem.IsFloat() {
		return fmt.Errorf("%s needs a float array, this one is %s (%s)", o.ruleFlag(), c.Elem, in.DType)
	}
	// Vectors of no features are valid (their L0 is 0, as the metric has
	// it); a batch of no vectors has no L0.
	if shape[0] == 0 {
		return fmt.Errorf("the shape %s has no vectors (batch size 0): its L0 is undefined", shapeText)
	}
	return nil
}
