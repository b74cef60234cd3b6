package metric

import (
	"fmt"
	"math"
	"strconv"
)

// Rule is what a metric counts as an active feature: an element that is not
// zero (NonZero, the default), one greater than a threshold (Above), or one
// whose absolute value is greater than a threshold (AbsAbove). A metric
// takes its rule once, at construction, as an Option (NewL0Norm,
// NewFeatureActivity); its binary state carries it, and Merge and
// UnmarshalBinary accept only a state of the same rule.
//
// The thresholded rules are for the float element types, and compare each
// element with the threshold exactly, as real numbers: NaN elements never
// count, -0 equals +0, and the threshold need not be representable in the
// element type (see kernel.CountAbove). A NaN threshold is an ErrConfig
// error. A threshold of -0 is +0 wherever it enters (Above, AbsAbove, a
// binary state), and rules compare by value, so a rule of -0 is the rule
// of 0, and their metrics and states merge.
//
// The zero Rule is NonZero.
type Rule struct {
	kind      ruleKind
	threshold float64
}

type ruleKind uint8

const (
	ruleNonZero ruleKind = iota
	ruleAbove
	ruleAbsAbove
)

// NonZero counts the elements that are not zero, as torch.count_nonzero and
// numpy.count_nonzero do: for the float types +0 and -0 are zero, and NaN,
// ±Inf and subnormals are not; for the integer types every pattern but
// all-zero counts. It is the sparse_autoencoder library's L0NormMetric.
func NonZero() Rule { return Rule{} }

// Above counts the elements x > threshold: the sparse_autoencoder library's
// definition of a feature that fired (x > 0 in NeuronFiredCountMetric, x >
// threshold in TrainBatchFeatureDensity). A threshold of -Inf counts every
// element but NaN.
func Above(threshold float64) Rule { return Rule{ruleAbove, threshold + 0} }

// AbsAbove counts the elements |x| > threshold, the rule of pipelines that
// keep an activation when it is far enough from zero either way
// (EleutherAI's delphi stores an activation when |x| > 1e-5). A negative
// threshold counts every element but NaN.
func AbsAbove(threshold float64) Rule { return Rule{ruleAbsAbove, threshold + 0} }

// Threshold returns the threshold of an Above or AbsAbove rule, and whether
// the rule has one.
func (r Rule) Threshold() (threshold float64, ok bool) {
	return r.threshold, r.kind != ruleNonZero
}

// Abs reports whether the rule compares the absolute value (AbsAbove).
func (r Rule) Abs() bool { return r.kind == ruleAbsAbove }

// String is the rule as a condition on an element x: "x != 0", "x > 0.5",
// "|x| > 1e-05".
func (r Rule) String() string {
	t := strconv.FormatFloat(r.threshold, 'g', -1, 64)
	switch r.kind {
	case ruleAbove:
		return "x > " + t
	case ruleAbsAbove:
		return "|x| > " + t
	}
	return "x != 0"
}

// check returns an ErrConfig error for a rule no metric can count by: a
// NaN threshold, or an unknown kind (the zero Rule and the constructors'
// are the only ones).
func (r Rule) check() error {
	switch {
	case r.kind > ruleAbsAbove:
		return fmt.Errorf("%w: unknown rule %d", ErrConfig, r.kind)
	case r.kind != ruleNonZero && math.IsNaN(r.threshold):
		return fmt.Errorf("%w: %s: the threshold is NaN", ErrConfig, r)
	}
	return nil
}

// The binary format's flags byte: bit 0 when the rule has a threshold (in
// the threshold field), bit 1 with it when it compares |x|. Version 1
// states written before AbsAbove existed have flags 0 or 1 and load as
// they did.
const (
	flagThreshold = 1 << 0
	flagAbs       = 1 << 1
)

// flags returns the rule's flags byte.
func (r Rule) flags() byte {
	switch r.kind {
	case ruleAbove:
		return flagThreshold
	case ruleAbsAbove:
		return flagThreshold | flagAbs
	}
	return 0
}

// ruleOf returns the rule of a flags byte and threshold, or false for
// flags no rule has. A threshold of -0 is +0, as in the constructors: a
// state written by hand, or by another writer, with the bits of -0 counts
// what one of +0 counts, and merges with it.
func ruleOf(flags byte, threshold float64) (Rule, bool) {
	threshold += 0 // -0 + 0 is +0
	switch flags {
	case 0:
		return NonZero(), true
	case flagThreshold:
		return Rule{ruleAbove, threshold}, true
	case flagThreshold | flagAbs:
		return Rule{ruleAbsAbove, threshold}, true
	}
	return Rule{}, false
}

// same reports whether r and o count the same elements: the same kind and
// the same threshold, compared by value (-0 equals +0; a rule never holds
// a NaN threshold).
func (r Rule) same(o Rule) bool {
	return r.kind == o.kind && r.threshold == o.threshold
}
