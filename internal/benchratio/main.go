// Command benchratio reads `go test -bench` output and prints, for every
// benchmark that reports MB/s, the median speed over its runs and the median
// of its ratio to the read limit of the machine. A benchmark that reports the
// ratio itself (the read-limit metric of the root package's benchmarks,
// measured in the same run on the same bytes) gives the median of that;
// for others the ratio is the median speed over the median speed of the
// read-limit reference of the same input size (BenchmarkReadLimit/impl=*/n=SIZE),
// when the output holds it:
//
//	go test -run '^$' -bench 'BenchmarkCountNonZero/type=f32/' -count 5 . | go run ./internal/benchratio
//
// A benchmark may report its ratio to another reference measured in the
// same run under a unit of the form x-REF (the metrics' "x-l0norm":
// FeatureActivity.Update over L0Norm.Update of the same batch); it is read
// as its own ratio. After the table come the worst cells of those: for
// each x-REF and level (the name's impl=LEVEL), the lowest median ratio
// and the benchmark that has it.
//
// A benchmark whose name ends in /placement=P (BenchmarkPlacement) is also
// put against its twin with /placement=touched: the column "vs touched" is
// the median of its own vs-touched metric (its speed over the twin's,
// measured in the same moments) or, without one, its median speed over the
// twin's; the table ends with the worst of those ratios per level
// (impl=...): 1 where the placement of x costs nothing.
//
// A benchmark that reports vs-flat (BenchmarkNarrowRows: a rows call over
// the flat count of the same bytes, measured in the same moments) gets the
// column "x flat", the median of that metric, and the table ends with the
// worst of those per level as well:
//
//	go test -run '^$' -bench BenchmarkNarrowRows -count 5 . | go run ./internal/benchratio
//
// The cells of BenchmarkSweep (BenchmarkSweep/part=PART/ROW/.../impl=LEVEL,
// each reporting one of those ratios) come last, as a Markdown table per
// part of its rows (the element after part=) by level, each entry the worst
// of the row's cases (bold below the part's target), then the worst cell
// per level and part, and every cell below target (sweep.go):
//
//	go test -run '^$' -bench BenchmarkSweep -benchtime 50ms -count 5 . | go run ./internal/benchratio
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	line      = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+[\d.]+ ns/op\s+([\d.]+) MB/s`)
	readLimit = regexp.MustCompile(`\s([\d.]+) (read-limit|x-\S+)(?:\s|$)`)
	vsTouched = regexp.MustCompile(`\s([\d.]+) vs-touched(?:\s|$)`)
	vsFlat    = regexp.MustCompile(`\s([\d.]+) vs-flat(?:\s|$)`)
	sizeKey   = regexp.MustCompile(`/n=([^/]+)$`)
	placement = regexp.MustCompile(`^(.*/)placement=([^/]+)$`)
	implKey   = regexp.MustCompile(`/impl=([^/]+)`)
	sweepKey  = regexp.MustCompile(`^BenchmarkSweep/part=([^/]+)/([^/]+)(.*)$`)
)

// touchedTwin returns the name of the placement=touched twin of a
// placement benchmark other than touched, or "".
func touchedTwin(name string) string {
	m := placement.FindStringSubmatch(name)
	if m == nil || m[2] == "touched" {
		return ""
	}
	return m[1] + "placement=touched"
}

func main() {
	if err := summarize(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

// summarize reads benchmark output from r and writes the table to w.
func summarize(r io.Reader, w io.Writer) error {
	speeds := map[string][]float64{}
	ratios := map[string][]float64{}
	units := map[string]string{} // the unit of each benchmark's own ratio
	twinRatios := map[string][]float64{}
	flatRatios := map[string][]float64{}
	var order []string
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		text := scanner.Text()
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		if _, seen := speeds[m[1]]; !seen {
			order = append(order, m[1])
		}
		speeds[m[1]] = append(speeds[m[1]], v)
		if rl := readLimit.FindStringSubmatch(text); rl != nil {
			if x, err := strconv.ParseFloat(rl[1], 64); err == nil {
				ratios[m[1]] = append(ratios[m[1]], x)
				units[m[1]] = rl[2]
			}
		}
		if vt := vsTouched.FindStringSubmatch(text); vt != nil {
			if x, err := strconv.ParseFloat(vt[1], 64); err == nil {
				twinRatios[m[1]] = append(twinRatios[m[1]], x)
			}
		}
		if vf := vsFlat.FindStringSubmatch(text); vf != nil {
			if x, err := strconv.ParseFloat(vf[1], 64); err == nil {
				flatRatios[m[1]] = append(flatRatios[m[1]], x)
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return err
	}
	limit := map[string]float64{}
	for _, name := range order {
		if strings.HasPrefix(name, "BenchmarkReadLimit/") {
			if s := sizeKey.FindStringSubmatch(name); s != nil {
				limit[s[1]] = median(speeds[name])
			}
		}
	}
	if _, err := fmt.Fprintf(w, "%-60s %12s %6s %s\n", "benchmark", "GB/s", "runs", "x read limit"); err != nil {
		return err
	}
	// worst holds the lowest ratio per unit and level: each x-REF, and the
	// placement ("vs touched") and narrow rows' ("x flat") columns.
	var worst []worstCell
	var sw sweep
	for _, name := range order {
		med := median(speeds[name])
		ratio, unit, r := "", "read-limit", 0.0
		if len(ratios[name]) > 0 {
			r, unit = median(ratios[name]), units[name]
			ratio = fmt.Sprintf("%.2f", r)
			if unit != "read-limit" {
				ratio += " " + unit
			}
		} else if s := sizeKey.FindStringSubmatch(name); s != nil && limit[s[1]] > 0 {
			r = med / limit[s[1]]
			ratio = fmt.Sprintf("%.2f", r)
		}
		own := ratio != "" // a ratio of its own, to a reference
		if twin := touchedTwin(name); twin != "" && (len(twinRatios[name]) > 0 || len(speeds[twin]) > 0) {
			var r float64
			if len(twinRatios[name]) > 0 {
				r = median(twinRatios[name])
			} else {
				r = med / median(speeds[twin])
			}
			ratio += fmt.Sprintf("  %.2f vs touched", r)
			worst = lower(worst, worstCell{vsTouchedUnit, level(name), name, r})
			sw.add(name, vsTouchedUnit, r)
		}
		if len(flatRatios[name]) > 0 {
			r := median(flatRatios[name])
			ratio += fmt.Sprintf("  %.2f x flat", r)
			worst = lower(worst, worstCell{xFlatUnit, level(name), name, r})
			sw.add(name, xFlatUnit, r)
		}
		if _, err := fmt.Fprintf(w, "%-60s %12.1f %6d %s\n", name, med/1000, len(speeds[name]), ratio); err != nil {
			return err
		}
		if own && unit != "read-limit" {
			worst = lower(worst, worstCell{unit, level(name), name, r})
			sw.add(name, unit, r)
		}
	}
	// The x-REF cells first, then placement's, then the narrow rows'.
	for _, pass := range []struct {
		unit   func(string) bool
		format string
	}{
		{func(u string) bool { return u != vsTouchedUnit && u != xFlatUnit }, ""},
		{func(u string) bool { return u == vsTouchedUnit }, "worst placement vs touched, impl=%s: %.2f %s\n"},
		{func(u string) bool { return u == xFlatUnit }, "worst vs flat, impl=%s: %.2f %s\n"},
	} {
		for _, c := range worst {
			if !pass.unit(c.unit) {
				continue
			}
			var err error
			if pass.format == "" {
				_, err = fmt.Fprintf(w, "worst %s at %s: %.2f %s\n", c.unit, c.level, c.ratio, c.name)
			} else {
				_, err = fmt.Fprintf(w, pass.format, c.level, c.ratio, c.name)
			}
			if err != nil {
				return err
			}
		}
	}
	return sw.write(w)
}

// The units of the worst cells that are columns beside a benchmark's own
// ratio, not an x-REF of its own.
const (
	vsTouchedUnit = "vs touched"
	xFlatUnit     = "x flat"
)

// worstCell is the lowest ratio of one unit at one level, and its
// benchmark.
type worstCell struct {
	unit, level, name string
	ratio             float64
}

// lower returns cells with c in place of the cell of c's unit and level if
// c's ratio is lower, or added if there is none, in the order of first
// appearance.
func lower(cells []worstCell, c worstCell) []worstCell {
	for i, w := range cells {
		if w.unit == c.unit && w.level == c.level {
			if c.ratio < w.ratio {
				cells[i] = c
			}
			return cells
		}
	}
	return append(cells, c)
}

// level returns the level a benchmark's name gives (impl=LEVEL), or "-".
func level(name string) string {
	if m := implKey.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return "-"
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
