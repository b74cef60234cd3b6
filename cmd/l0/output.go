package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sparsekit/l0/metric"
)

// maxListedComponents is the most components whose values the text report
// lists one by one; past it, it gives their range (and -json lists each).
const maxListedComponents = 16

// writeText writes the report for people.
func writeText(w io.Writer, rep *report) error {
	var b strings.Builder
	c := rep.config
	features := max(c.components, 1) * c.features
	fmt.Fprintf(&b, "%s\n", displayName(rep.name))
	fmt.Fprintf(&b, "  array      %s\n", rep.describe)
	if c.positions > 0 {
		fmt.Fprintf(&b, "  vectors    %d (%d × %d positions%s)\n", rep.vectors, rep.rows, c.positions, skipped(c.skip))
	} else {
		fmt.Fprintf(&b, "  vectors    %d\n", rep.vectors)
	}
	if rep.vectors == 0 {
		writeNoVectors(&b, rep)
		_, err := io.WriteString(w, b.String())
		return err
	}
	what := "non-zero features per vector"
	if t, ok := rep.settings.rule.Threshold(); ok {
		what = fmt.Sprintf("features > %g per vector", t)
		if rep.settings.rule.Abs() {
			what = fmt.Sprintf("features with |x| > %g per vector", t)
		}
	}
	if c.components > 0 {
		what += ", per component"
	}
	var l0 string
	if c.components > maxListedComponents {
		low, mean, high := spread(rep.l0)
		l0 = fmt.Sprintf("min %.2f, mean %.2f, max %.2f", low, mean, high)
		what += "; -json lists each"
	} else {
		l0 = joinFloats(rep.l0)
	}
	fmt.Fprintf(&b, "  L0         %s   (mean %s)\n", l0, what)
	if c.positions > 0 {
		writePositions(&b, rep.l0ByPosition, c.skip)
	}
	shape := fmt.Sprint(c.features)
	if c.components > 0 {
		shape = fmt.Sprintf("%d components × %d", c.components, c.features)
	}
	deadShare := 0.0 // of no features, none is dead
	if features > 0 {
		deadShare = 100 * float64(sum(rep.dead)) / float64(features)
	}
	fmt.Fprintf(&b, "  features   %s: %d dead (%.1f%%), %d dense (density > %g)\n",
		shape, sum(rep.dead), deadShare, sum(rep.dense), rep.settings.dense)
	switch {
	case c.components > maxListedComponents:
		fmt.Fprintf(&b, "             per component: dead %s, dense %s\n", intRange(rep.dead), intRange(rep.dense))
	case c.components > 0:
		fmt.Fprintf(&b, "             per component: dead %s, dense %s\n", joinInts(rep.dead), joinInts(rep.dense))
	}
	fmt.Fprintf(&b, "  density    log10 of the fraction of vectors a feature fires in:\n")
	writeHistogram(&b, rep.histogram)
	writeRun(&b, rep)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeNoVectors writes the rest of the report of no vectors (a state
// saved before its first batch): there is no L0 and no density.
func writeNoVectors(b *strings.Builder, rep *report) {
	c := rep.config
	shape := fmt.Sprint(c.features)
	if c.components > 0 {
		shape = fmt.Sprintf("%d components × %d", c.components, c.features)
	}
	fmt.Fprintf(b, "  L0         none: no vectors\n")
	fmt.Fprintf(b, "  features   %s: no density without vectors\n", shape)
	writeRun(b, rep)
}

// writeRun writes the kernel and the throughput.
func writeRun(b *strings.Builder, rep *report) {
	fmt.Fprintf(b, "  kernel     %s\n", rep.level)
	size := float64(rep.bytes)
	fmt.Fprintf(b, "  read       %s in %s: %s/s\n", formatBytes(size), rep.elapsed.Round(rep.elapsed/1000+1), formatBytes(size/max(rep.elapsed.Seconds(), 1e-9)))
}

// skipped says which positions -skip-positions left out.
func skipped(skip int) string {
	switch skip {
	case 0:
		return ""
	case 1:
		return "; position 0 skipped"
	}
	return fmt.Sprintf("; positions 0 to %d skipped", skip-1)
}

// listedPositions is how many positions the text report lists one by
// one: the first of a context are the known outliers (the BOS token, the
// attention sinks); the rest it sums up as their range.
const listedPositions = 8

// writePositions writes the L0 per position compactly: up to 16 positions
// in rows of 8, else the first 8 and the range of the others, with where
// their least and greatest are. first is the index of the first position.
func writePositions(b *strings.Builder, l0 []float64, first int) {
	fmt.Fprintf(b, "  position   L0 per position (-json lists each):\n")
	row := func(from int, v []float64) {
		label := fmt.Sprintf("%d to %d", from, from+len(v)-1)
		if len(v) == 1 {
			label = fmt.Sprint(from)
		}
		fmt.Fprintf(b, "    %-13s %s\n", label, joinFloats(v))
	}
	if len(l0) <= 2*listedPositions {
		for i := 0; i < len(l0); i += listedPositions {
			row(first+i, l0[i:min(len(l0), i+listedPositions)])
		}
		return
	}
	row(first, l0[:listedPositions])
	rest := l0[listedPositions:]
	low, high := 0, 0
	mean := 0.0
	for i, x := range rest {
		if x < rest[low] {
			low = i
		}
		if x > rest[high] {
			high = i
		}
		mean += x
	}
	from := first + listedPositions
	fmt.Fprintf(b, "    %-13s min %.2f (at %d), mean %.2f, max %.2f (at %d)\n", fmt.Sprintf("%d to %d", from, from+len(rest)-1),
		rest[low], from+low, mean/float64(len(rest)), rest[high], from+high)
}

// writeHistogram draws the non-empty range of the histogram as bars.
func writeHistogram(b *strings.Builder, h metric.Histogram) {
	const width = 40
	first, last := -1, -1
	peak := max(h.Dead, h.Underflow, h.AboveOne)
	for k, n := range h.Counts {
		if n > 0 {
			if first < 0 {
				first = k
			}
			last = k
			peak = max(peak, n)
		}
	}
	bar := func(n int) string {
		cells := 0
		if peak > 0 {
			cells = (n*width + peak - 1) / peak
		}
		return strings.Repeat("#", cells)
	}
	fmt.Fprintf(b, "    %-13s %7d %s\n", "dead", h.Dead, bar(h.Dead))
	if h.Underflow > 0 {
		fmt.Fprintf(b, "    %-13s %7d %s\n", fmt.Sprintf("< %.1f", h.Edges[0]), h.Underflow, bar(h.Underflow))
	}
	for k := first; k >= 0 && k <= last; k++ {
		closing := ")"
		if k == len(h.Counts)-1 {
			closing = "]"
		}
		label := fmt.Sprintf("[%.1f, %.1f%s", h.Edges[k], h.Edges[k+1], closing)
		fmt.Fprintf(b, "    %-13s %7d %s\n", label, h.Counts[k], bar(h.Counts[k]))
	}
	if h.AboveOne > 0 {
		// Densities above 1: top-k indices repeated within a vector.
		fmt.Fprintf(b, "    %-13s %7d %s\n", fmt.Sprintf("> %.1f", h.Edges[len(h.Edges)-1]), h.AboveOne, bar(h.AboveOne))
	}
}

// jsonReport is the -json form of a report: one object per line.
type jsonReport struct {
	File           string         `json:"file"`
	FileBytes      []byte         `json:"file_bytes,omitempty"` // a name not UTF-8: its bytes, in base64
	Format         string         `json:"format"`
	Tensor         *string        `json:"tensor,omitempty"` // a safetensors input's, "" too
	Sparse         *jsonSparse    `json:"sparse,omitempty"`
	Total          bool           `json:"total,omitempty"`
	Files          []string       `json:"files,omitempty"`
	FilesBytes     [][]byte       `json:"files_bytes,omitempty"` // when a name is not UTF-8: every name's bytes
	Shape          []int64        `json:"shape"`
	DType          string         `json:"dtype"`
	Vectors        int64          `json:"vectors"`
	Components     int            `json:"components"`
	Features       int            `json:"features"`
	Positions      int            `json:"positions,omitempty"`
	SkipPositions  *int           `json:"skip_positions,omitempty"`
	Rule           string         `json:"rule"`
	Threshold      *jsonNumber    `json:"threshold"`
	L0             any            `json:"l0"`
	L0ByPosition   []float64      `json:"l0_by_position,omitempty"`
	Dead           any            `json:"dead"`
	Dense          any            `json:"dense"`
	DenseThreshold float64        `json:"dense_threshold"`
	Histogram      *jsonHistogram `json:"density_histogram"`
	Kernel         string         `json:"kernel"`
	Bytes          int64          `json:"bytes"`
	Seconds        float64        `json:"seconds"`
}

// jsonSparse describes a top-k pair (-sparse): its tensors, their dtypes
// as the file spells them, and k; the report's shape, dtype and numbers
// are those of the dense array it stands for.
type jsonSparse struct {
	Index       string `json:"index"`
	IndexDType  string `json:"index_dtype"`
	Values      string `json:"values,omitempty"`
	ValuesDType string `json:"values_dtype,omitempty"`
	K           int    `json:"k"`
}

type jsonHistogram struct {
	Edges     []float64 `json:"log10_edges"`
	Counts    []int     `json:"counts"`
	Underflow int       `json:"underflow"`
	Dead      int       `json:"dead"`
	AboveOne  int       `json:"above_one"` // density > 1: top-k indices repeated in a vector
}

// writeJSON writes the report as one line of JSON. A top-k pair (-sparse)
// is reported as the dense array it stands for, with its tensors in
// "sparse"; its dtype is the values' as the file spells them, or "uint8"
// without values. l0, dead and dense are
// numbers for a [batch, feature] array (and with -positions) and lists, one
// per component, for a [batch, component, feature] array. With -positions,
// l0_by_position lists the L0 of each position counted, the first being
// position skip_positions; positions is the array's own count.
func writeJSON(w io.Writer, rep *report) error {
	c := rep.config
	j := jsonReport{
		File:           rep.name,
		Format:         rep.format,
		Total:          rep.format == "total",
		Files:          rep.files,
		Shape:          rep.shape,
		DType:          rep.dtype,
		Vectors:        rep.vectors,
		Components:     c.components,
		Features:       c.features,
		L0ByPosition:   rep.l0ByPosition,
		Rule:           rep.settings.rule.String(),
		L0:             rep.l0,
		Dead:           rep.dead,
		Dense:          rep.dense,
		DenseThreshold: rep.settings.dense,
		Histogram: &jsonHistogram{
			Edges:     rep.histogram.Edges[:],
			Counts:    rep.histogram.Counts[:],
			Underflow: rep.histogram.Underflow,
			Dead:      rep.histogram.Dead,
			AboveOne:  rep.histogram.AboveOne,
		},
		Kernel:  rep.level.String(),
		Bytes:   rep.bytes,
		Seconds: rep.elapsed.Seconds(),
	}
	if c.positions > 0 {
		j.Positions, j.SkipPositions = c.positions+c.skip, &c.skip
	}
	if rep.format == "safetensors" {
		j.Tensor = &rep.tensor // a tensor may be named ""
	}
	j.FileBytes, j.FilesBytes = nameBytes(rep.name), namesBytes(rep.files)
	if p := rep.topk; p != nil {
		j.Sparse = &jsonSparse{Index: p.index.Name, IndexDType: p.index.DType.String(), K: p.k}
		if p.hasValues() {
			j.Sparse.Values, j.Sparse.ValuesDType = p.values.Name, p.values.DType.String()
		}
	}
	switch {
	case rep.vectors == 0:
		// No vectors (a state saved before its first batch): no L0, no
		// density.
		j.L0, j.Dead, j.Dense, j.Histogram = nil, nil, nil, nil
	case c.components == 0:
		j.L0, j.Dead, j.Dense = rep.l0[0], rep.dead[0], rep.dense[0]
	}
	if t, ok := rep.settings.rule.Threshold(); ok {
		jt := jsonNumber(t)
		j.Threshold = &jt
	}
	// One Write per line, so that lines never interleave.
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false) // "<f4", not "\u003cf4"
	if err := enc.Encode(j); err != nil {
		return reportError{err} // this file's report, not the output
	}
	_, err := w.Write(line.Bytes())
	return err
}

// nameBytes returns the bytes of a name that is not valid UTF-8, for
// -json's "file_bytes": JSON strings are UTF-8, and encoding/json writes
// each byte of another name as U+FFFD, which loses it. nil for a UTF-8
// name.
func nameBytes(name string) []byte {
	if utf8.ValidString(name) {
		return nil
	}
	return []byte(name)
}

// namesBytes returns the bytes of every name, for -json's "files_bytes",
// when one is not valid UTF-8; else nil.
func namesBytes(names []string) [][]byte {
	for _, name := range names {
		if !utf8.ValidString(name) {
			b := make([][]byte, len(names))
			for i, n := range names {
				b[i] = []byte(n)
			}
			return b
		}
	}
	return nil
}

// reportError is an error in making one input's report, after which the
// other inputs are still reported; any other error of a write function is
// the output's, which ends the run.
type reportError struct{ error }

func (e reportError) Unwrap() error { return e.error }

// jsonNumber is a float64 that JSON can hold whatever its value: a number
// when it is finite, else the string "inf", "-inf" or "nan" (JSON has no
// infinities; Python's float() reads all three strings back).
type jsonNumber float64

func (n jsonNumber) MarshalJSON() ([]byte, error) {
	switch f := float64(n); {
	case math.IsInf(f, 1):
		return []byte(`"inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-inf"`), nil
	case math.IsNaN(f):
		return []byte(`"nan"`), nil
	}
	return json.Marshal(float64(n))
}

func (n *jsonNumber) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !math.IsInf(f, 0) && !math.IsNaN(f) {
			return fmt.Errorf("the string %q is not inf, -inf or nan", s)
		}
		*n = jsonNumber(f)
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*n = jsonNumber(f)
	return err
}

func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, "  ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}

// spread returns the least, mean and greatest of v, not empty.
func spread(v []float64) (low, mean, high float64) {
	low, high = v[0], v[0]
	for _, x := range v {
		low, high = min(low, x), max(high, x)
		mean += x
	}
	return low, mean / float64(len(v)), high
}

// intRange returns "a to b", the least and greatest of v, not empty, or
// "a" when they are equal.
func intRange(v []int) string {
	low, high := v[0], v[0]
	for _, x := range v {
		low, high = min(low, x), max(high, x)
	}
	if low == high {
		return fmt.Sprint(low)
	}
	return fmt.Sprintf("%d to %d", low, high)
}

func sum(v []int) int {
	total := 0
	for _, x := range v {
		total += x
	}
	return total
}

// formatBytes formats a byte count (or rate) with a decimal unit, as dd does.
func formatBytes(n float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	u := 0
	for n >= 1000 && u < len(units)-1 {
		n /= 1000
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.3g %s", n, units[u])
}
