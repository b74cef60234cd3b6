package metric

import (
	"errors"
	"fmt"
)

// The errors the metrics return wrap one of these sentinels, so callers can
// test for a kind of failure with errors.Is and still print a message that
// names the offending values.
var (
	// ErrNoVectors: a value was asked for before any activation vector was
	// seen since the metric was created or reset (torchmetrics would divide
	// 0 by 0), or Forward was given a batch of zero vectors.
	ErrNoVectors = errors.New("metric: no activation vectors")

	// ErrShape: an input's shape is malformed (wrong rank, a negative size,
	// a size product that overflows int), disagrees with the metric (number
	// of components or of features), or disagrees with the length of the
	// data.
	ErrShape = errors.New("metric: bad shape")

	// ErrConfig: a constructor argument is invalid (a negative number of
	// components or features, more than MaxComponents components or
	// MaxCounters counters, a NaN threshold, a nil metric to merge), or
	// a method was called on a nil metric (a constructor's error ignored).
	ErrConfig = errors.New("metric: bad configuration")

	// ErrMismatch: two metrics (or a metric and a serialized state) differ
	// in element type, components, features or threshold, so their states
	// cannot be summed.
	ErrMismatch = errors.New("metric: configurations differ")

	// ErrFormat: a serialized state is truncated, corrupt (bad magic,
	// version, checksum, trailing bytes) or inconsistent.
	ErrFormat = errors.New("metric: malformed state")

	// ErrOverflow: adding a batch or another state would overflow a 64-bit
	// counter.
	ErrOverflow = errors.New("metric: counter overflow")
)

// errNilMetric is the error of a method called on a nil metric of the
// named type: what a constructor returns with its error, when the error
// was ignored.
func errNilMetric(kind string) error {
	return fmt.Errorf("%w: a nil *%s (did its constructor return an error?)", ErrConfig, kind)
}
