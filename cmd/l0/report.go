package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sparsekit/l0/internal/safetensors"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// report is what l0 says about one input, or about the total of all.
type report struct {
	name     string
	format   string    // "npy", "safetensors", "state", "topk" or "total"
	describe string    // the text report's line on the array
	shape    []int64   // the array's shape; the total's [rows, (slots,) features]
	dtype    string    // as the file spells it; the total's element type
	tensor   string    // the safetensors tensor read
	topk     *topKPair // a top-k pair's tensors
	files    []string
	config   config
	settings settings

	vectors      int64
	rows         int64     // the batch: vectors, or vectors / positions
	l0           []float64 // per component; one value without components
	l0ByPosition []float64 // -positions: per position counted
	dead         []int     // dead features per component (one entry without)
	dense        []int     // dense features per component
	histogram    metric.Histogram
	level        kernel.Level
	elapsed      time.Duration
	bytes        int64 // the bytes of data counted
	batches      int   // the Updates the counting took, which the bytes bound, not the shape
}

// newReport returns the report of an input, before its numbers.
func newReport(in *input, s settings) *report {
	return &report{
		name: in.name, format: in.format, describe: in.describe, shape: in.shape, dtype: in.dtype,
		tensor: in.tensor, topk: in.topk, config: in.config, settings: s, level: kernel.Active(), bytes: in.dataBytes,
	}
}

// describeTotal sets the total's shape, dtype and description from the
// inputs it holds.
func (rep *report) describeTotal(entries []*entry) {
	c := rep.config
	rep.dtype = c.elem.String()
	rep.shape = []int64{rep.rows}
	switch {
	case c.positions > 0:
		rep.shape = append(rep.shape, int64(c.positions+c.skip))
	case c.components > 0:
		rep.shape = append(rep.shape, int64(c.components))
	}
	rep.shape = append(rep.shape, int64(c.features))
	formats := map[string]int{}
	for _, e := range entries {
		if e.in != nil && e.err == nil {
			formats[e.in.format]++
		}
	}
	var parts []string
	for _, f := range []string{"npy", "safetensors", "topk", "state"} {
		if n := formats[f]; n > 0 {
			name := map[string]string{"npy": ".npy", "safetensors": "safetensors", "topk": "top-k safetensors", "state": "state"}[f]
			if n > 1 && f == "state" {
				name += "s"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	rep.describe = fmt.Sprintf("%s %s, total of %d inputs (%s)", shapeOf(rep.shape), c.elem, len(rep.files), strings.Join(parts, ", "))
}

// shapeOf writes a shape as the safetensors header spells it, at most 16
// dimensions of it, as safetensors.Tensor.ShapeString does.
func shapeOf(shape []int64) string {
	return safetensors.Tensor{Shape: shape}.ShapeString()
}

// isReportError reports whether err is an error in making one input's
// report, after which the others are still reported; any other error of a
// write function is the output's, which ends the run.
func isReportError(err error) bool { return errors.As(err, new(reportError)) }
