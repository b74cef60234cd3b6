package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/npy"
	"github.com/sparsekit/l0/internal/report"
	"github.com/sparsekit/l0/internal/scan"
	"github.com/sparsekit/l0/metric"
)

// runL0 runs the program in-process.
func runL0(args ...string) (stdout, stderr string, status int) { return runL0With(nil, args...) }

// runL0With runs the program in-process with its options changed by tune
// once they are parsed: smaller buffers, windows and ranges, a hook before
// each batch.
func runL0With(tune func(*options), args ...string) (stdout, stderr string, status int) {
	var out, errs bytes.Buffer
	o, err := parseOptions(args)
	switch {
	case tune == nil || err != nil || o.kernels:
		status = run(args, &out, &errs, nil)
	default:
		tune(&o)
		if err := checkPaths(o); err != nil {
			fmt.Fprintf(&errs, "l0: %v\n", err)
			return out.String(), errs.String(), 2
		}
		status = execute(o, &out, &errs, nil)
	}
	return out.String(), errs.String(), status
}

// tiny returns a tune of the read buffer, the mapped window and the ranges
// the files are split into.
func tiny(buffer, window int, ranges int64) func(*options) {
	return func(o *options) {
		o.bufferBytes, o.mapBytes, o.minRangeBytes, o.maxRangeBytes = buffer, window, ranges, ranges
	}
}

// settings are what analyze counts by.
type settings struct {
	dense     float64
	rule      metric.Rule
	key       string
	positions bool
	skip      int
	sparse    input.TopKKeys
	features  int
	tune      func(*options)
}

// keys returns the tensors of a top-k pair.
func keys(index, values string) input.TopKKeys {
	return input.TopKKeys{Index: index, Values: values}
}

// options returns the options of a run of one worker by s.
func (s settings) options() options {
	o := options{dense: s.dense, workers: 1, bufferBytes: input.DefaultBufferBytes, mapBytes: input.DefaultMapBytes,
		minRangeBytes: scan.DefaultMinRangeBytes, maxRangeBytes: scan.DefaultMaxRangeBytes}
	o.input = input.Options{Key: s.key, Positions: s.positions, Skip: s.skip, TopK: s.sparse, Features: s.features, Rule: s.rule}
	if s.tune != nil {
		s.tune(&o)
	}
	return o
}

// analyze reads one input from r (size bytes, or -1 for a stream; when
// size is known r must be an io.ReaderAt) and returns its report, counted
// by one worker as a run counts a file. Every problem with the input is an
// error; nothing in it can make analyze panic or allocate much more than
// it holds.
func analyze(name string, r io.Reader, size int64, s settings) (*report.Report, error) {
	o := s.options()
	c := o.scanConfig()
	c.Total, c.PerInput = false, true
	sc := scan.Start([]scan.Source{{Name: name, Open: func() (*input.Input, error) { return input.OpenReader(name, r, size, o.input) }}}, c)
	var rep *report.Report
	var err error
	for in := range sc.Inputs() {
		switch {
		case in.Err != nil:
			err = in.Err
		case !in.Skipped:
			rep, err = inputReport(in, o)
		}
	}
	sc.Finish()
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// npyHeader returns the header of a little-endian C-order .npy array, as
// numpy writes it.
func npyHeader(descr string, shape ...int64) []byte { return npy.AppendHeader(nil, descr, shape...) }
