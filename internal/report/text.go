package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/sparsekit/l0/internal/input"
	"github.com/sparsekit/l0/metric"
)

// maxListedComponents is the most components whose values the text report
// lists one by one; past it, it gives their range (and -json lists each).
const maxListedComponents = 16

// Text writes the report for people.
func Text(w io.Writer, r *Report) error {
	var b strings.Builder
	c := r.Config
	features := max(c.Components, 1) * c.Features
	fmt.Fprintf(&b, "%s\n", input.DisplayName(r.Name))
	fmt.Fprintf(&b, "  array      %s\n", r.Describe)
	switch {
	case c.Positions > 0 && r.Masked:
		fmt.Fprintf(&b, "  vectors    %d (%d × %d positions%s; %d left out by their token)\n", r.Vectors, r.Rows, c.Positions, skipped(c.Skip), r.Excluded)
	case c.Positions > 0:
		fmt.Fprintf(&b, "  vectors    %d (%d × %d positions%s)\n", r.Vectors, r.Rows, c.Positions, skipped(c.Skip))
	case r.Masked:
		fmt.Fprintf(&b, "  vectors    %d (%d left out by their token)\n", r.Vectors, r.Excluded)
	default:
		fmt.Fprintf(&b, "  vectors    %d\n", r.Vectors)
	}
	if r.Vectors == 0 {
		writeNoVectors(&b, r)
		_, err := io.WriteString(w, b.String())
		return err
	}
	what := "non-zero features per vector"
	if t, ok := r.Rule.Threshold(); ok {
		what = fmt.Sprintf("features > %g per vector", t)
		if r.Rule.Abs() {
			what = fmt.Sprintf("features with |x| > %g per vector", t)
		}
	}
	if c.Components > 0 {
		what += ", per component"
	}
	var l0 string
	if c.Components > maxListedComponents {
		low, mean, high := spread(r.L0)
		l0 = fmt.Sprintf("min %.2f, mean %.2f, max %.2f", low, mean, high)
		what += "; -json lists each"
	} else {
		l0 = joinFloats(r.L0)
	}
	fmt.Fprintf(&b, "  L0         %s   (mean %s)\n", l0, what)
	if c.Positions > 0 {
		writePositions(&b, r.L0ByPosition, c.Skip)
	}
	shape := fmt.Sprint(c.Features)
	if c.Components > 0 {
		shape = fmt.Sprintf("%d components × %d", c.Components, c.Features)
	}
	deadShare := 0.0 // of no features, none is dead
	if features > 0 {
		deadShare = 100 * float64(sum(r.Dead)) / float64(features)
	}
	deadRule := ""
	if r.DeadAfter != nil {
		deadRule = fmt.Sprintf(": not fired in the last %d vectors", *r.DeadAfter)
	}
	fmt.Fprintf(&b, "  features   %s: %d dead (%.1f%%%s), %d dense (density > %g)\n",
		shape, sum(r.Dead), deadShare, deadRule, sum(r.Dense), r.DenseAbove)
	switch {
	case c.Components > maxListedComponents:
		fmt.Fprintf(&b, "             per component: dead %s, dense %s\n", intRange(r.Dead), intRange(r.Dense))
	case c.Components > 0:
		fmt.Fprintf(&b, "             per component: dead %s, dense %s\n", joinInts(r.Dead), joinInts(r.Dense))
	}
	fmt.Fprintf(&b, "  density    log10 of the fraction of vectors a feature fires in:\n")
	writeHistogram(&b, r.Histogram)
	writeRun(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeNoVectors writes the rest of the report of no vectors (a state
// saved before its first batch): there is no L0 and no density.
func writeNoVectors(b *strings.Builder, r *Report) {
	c := r.Config
	shape := fmt.Sprint(c.Features)
	if c.Components > 0 {
		shape = fmt.Sprintf("%d components × %d", c.Components, c.Features)
	}
	fmt.Fprintf(b, "  L0         none: no vectors\n")
	fmt.Fprintf(b, "  features   %s: no density without vectors\n", shape)
	writeRun(b, r)
}

// writeRun writes the kernel and the throughput.
func writeRun(b *strings.Builder, r *Report) {
	fmt.Fprintf(b, "  kernel     %s\n", r.Level)
	size := float64(r.Bytes)
	fmt.Fprintf(b, "  read       %s in %s: %s/s\n", formatBytes(size), r.Elapsed.Round(r.Elapsed/1000+1), formatBytes(size/max(r.Elapsed.Seconds(), 1e-9)))
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
	// A position where a token mask kept no vector (NaN) has no L0: the
	// range is of the others.
	low, high, n := -1, -1, 0
	mean := 0.0
	for i, x := range rest {
		if math.IsNaN(x) {
			continue
		}
		if low < 0 || x < rest[low] {
			low = i
		}
		if high < 0 || x > rest[high] {
			high = i
		}
		mean += x
		n++
	}
	from := first + listedPositions
	label := fmt.Sprintf("%d to %d", from, from+len(rest)-1)
	if n == 0 {
		fmt.Fprintf(b, "    %-13s no vector kept\n", label)
		return
	}
	none := ""
	if n < len(rest) {
		none = fmt.Sprintf("; %d with no vector kept", len(rest)-n)
	}
	fmt.Fprintf(b, "    %-13s min %.2f (at %d), mean %.2f, max %.2f (at %d)%s\n", label,
		rest[low], from+low, mean/float64(n), rest[high], from+high, none)
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
