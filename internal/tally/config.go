package tally

import "fmt"

// Config is what an input's counts are over: the element type, and the
// vectors' components and features. Inputs merge into one total only when
// their configs are equal (and the run's rule is theirs).
type Config struct {
	Elem       Elem
	Components int // 0: [batch, feature], or positions
	Features   int
	Positions  int // with -positions, the positions counted; else 0
	Skip       int // with -positions, the positions left out before them
	// Sequences: with positions, the per-sequence statistics are counted
	// too (a metric.SequenceActivity), as -feature-stats and a token mask
	// of rows with positions need.
	Sequences bool
}

// Slots returns the components the counts are kept for: 1 without
// components (positions are vectors).
func (c Config) Slots() int { return max(c.Components, 1) }

// Counters returns the (component, feature) pairs the counts are kept for.
func (c Config) Counters() int { return c.Slots() * c.Features }

// Describe names the config in an error about inputs that do not merge.
func (c Config) Describe() string {
	switch {
	case c.Positions > 0 && c.Sequences:
		return fmt.Sprintf("%s, %d positions (after %d skipped) × %d features, per sequence", c.Elem, c.Positions, c.Skip, c.Features)
	case c.Positions > 0:
		return fmt.Sprintf("%s, %d positions (after %d skipped) × %d features", c.Elem, c.Positions, c.Skip, c.Features)
	case c.Components > 0:
		return fmt.Sprintf("%s, %d components × %d features", c.Elem, c.Components, c.Features)
	}
	return fmt.Sprintf("%s, %d features", c.Elem, c.Features)
}
