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
}

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
