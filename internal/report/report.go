// Package report is what cmd/l0 writes: the report of an input or of a
// total, as text for people (Text) or as a line of JSON (JSON); the files
// a run saves, the state (SaveState) and SAELens' sparsity file
// (SaveSparsity), written whole or not at all, and the checks that keep
// them from destroying an input (CheckOutputs); the progress line of a long
// run on a terminal; the listing of the kernels (Kernels).
package report

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/internal/tally"
	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

// A Report is what l0 says about one input, or about the total of all.
type Report struct {
	Name       string
	Format     string      // input's formats, or "total"
	Describe   string      // the text report's line on the array
	Shape      []int64     // the array's shape; the total's [rows, (slots,) features]
	DType      string      // as the file spells it; the total's element type
	Tensor     string      // the safetensors tensor read
	Pair       *input.Pair // a top-k pair's tensors
	Files      []string    // a total's inputs
	Config     tally.Config
	Rule       metric.Rule // the rule of counting
	DenseAbove float64     // a feature is dense above this density
	// DeadAfter: a feature is dead with more than this many vectors since
	// it fired; nil, when it never fired.
	DeadAfter *int64

	tally.Summary
	Level   kernel.Level
	Elapsed time.Duration
	Bytes   int64 // the bytes of data counted

	formats map[string]int // a total's inputs of each format

	Cache *input.Cache // a delphi cache's splits
}

// Total is the format of a total's report.
const Total = "total"

// New returns the report of an input, before its numbers.
func New(in *input.Input, rule metric.Rule, dense float64) *Report {
	r := &Report{
		Name: in.Name, Format: in.Format, Describe: in.Describe, Shape: in.Shape, DType: in.DType,
		Tensor: in.Tensor, Pair: in.Pair, Config: in.Config, Rule: rule, DenseAbove: dense, Level: kernel.Active(), Bytes: in.DataBytes,
	}
	r.Cache = in.Cache
	return r
}

// Summarize fills the report's numbers from the tally: an input's, or the
// total's (whose shape and description follow from them).
func (r *Report) Summarize(t tally.Tally) error {
	if r.Format == Total {
		r.Config = t.Config()
	}
	s, err := t.Summarize(r.DenseAbove)
	if err == nil && r.DeadAfter != nil {
		s.Dead, err = t.DeadAfter(*r.DeadAfter)
	}
	r.Summary = s
	if err == nil && r.Format == Total {
		r.describeTotal()
	}
	return err
}

// NewTotal returns the report of the total of the files, before its
// numbers: bytes of data in all, and formats the inputs of each format.
func NewTotal(files []string, bytes int64, formats map[string]int, rule metric.Rule, dense float64) *Report {
	return &Report{Name: "total", Format: Total, Files: files, Bytes: bytes, formats: formats, Rule: rule, DenseAbove: dense, Level: kernel.Active()}
}

// describeTotal sets the total's shape, dtype and description, once its
// numbers are in.
func (r *Report) describeTotal() {
	c := r.Config
	r.DType = c.Elem.String()
	r.Shape = []int64{r.Rows}
	switch {
	case c.Positions > 0:
		r.Shape = append(r.Shape, int64(c.Positions+c.Skip))
	case c.Components > 0:
		r.Shape = append(r.Shape, int64(c.Components))
	}
	r.Shape = append(r.Shape, int64(c.Features))
	var parts []string
	for _, f := range []string{input.NPY, input.Safetensors, input.TopK, input.Delphi, input.State} {
		if n := r.formats[f]; n > 0 {
			name := map[string]string{input.NPY: ".npy", input.Safetensors: "safetensors", input.TopK: "top-k safetensors", input.Delphi: "delphi cache", input.State: "state"}[f]
			if n > 1 && (f == input.State || f == input.Delphi) {
				name += "s"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	r.Describe = fmt.Sprintf("%s %s, total of %d inputs (%s)", input.ShapeOf(r.Shape), c.Elem, len(r.Files), strings.Join(parts, ", "))
}

// oneReport is an error in making one input's report, after which the
// other inputs are still reported; any other error of a write function is
// the output's, which ends the run.
type oneReport struct{ error }

func (e oneReport) Unwrap() error { return e.error }

// IsOneReport reports whether err, from Text or JSON, is an error in
// making that one report, after which the others are still reported; any
// other error is the output's, which ends the run.
func IsOneReport(err error) bool { return errors.As(err, new(oneReport)) }
