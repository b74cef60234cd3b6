package metric

import "fmt"

// An Option configures a metric when it is made: NewL0Norm(components,
// options...), NewFeatureActivity(components, features, options...). A Rule
// is an Option, what the metric counts:
//
//	metric.NewFeatureActivity[float32](0, 16384, metric.AbsAbove(1e-5))
//
// Without a Rule a metric counts by NonZero. More than one Rule, or a nil
// Option, is an ErrConfig error.
type Option interface {
	apply(*settings)
}

// settings is a metric's configuration beyond its sizes, as its options
// set it. An option of one metric only is checked by that metric's
// constructor.
type settings struct {
	rule  Rule
	rules int // the rules given, to refuse more than one
	// sinceFired: a FeatureActivity keeps its vectors since each feature
	// fired (SinceFired).
	sinceFired bool
}

// SinceFired is the Option by which a FeatureActivity (or a
// SequenceActivity, for its features) keeps, per feature, the vectors
// seen since the feature last fired, read by VectorsSinceFired and
// DeadAfter:
//
//	metric.NewFeatureActivity[float32](0, 16384, metric.SinceFired())
//
// It costs 8 bytes per counter beside the counts, a walk of each batch
// for the last row in which each feature fired, and 8 bytes per counter
// in the binary state (version 2, which a metric without the option also
// reads, ignoring them). Without it a FeatureActivity keeps the counts
// alone, writes version 1 states, and VectorsSinceFired and DeadAfter are
// ErrConfig errors. An L0Norm given it is an ErrConfig error: it has no
// features.
func SinceFired() Option { return sinceFiredOption{} }

type sinceFiredOption struct{}

func (sinceFiredOption) apply(s *settings) { s.sinceFired = true }

func (r Rule) apply(s *settings) {
	s.rule = r
	s.rules++
}

// settingsOf returns the settings of a constructor's options, or an
// ErrConfig error: a nil Option, more than one Rule, a rule no metric can
// count by.
func settingsOf(options []Option) (settings, error) {
	s := settings{rule: NonZero()}
	for _, o := range options {
		if o == nil {
			return s, fmt.Errorf("%w: a nil Option", ErrConfig)
		}
		o.apply(&s)
	}
	if s.rules > 1 {
		return s, fmt.Errorf("%w: %d rules given; a metric counts by one", ErrConfig, s.rules)
	}
	return s, s.rule.check()
}
