package main

import (
	"bufio"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The sweep picture: the cells of the root package's BenchmarkSweep
// (BenchmarkSweep/part=PART/ROW/.../impl=LEVEL, each reporting its ratio
// to its part's reference as vs-touched, vs-flat or x-REF), one column per
// row of each part (the element after part=), one marker per level at the
// worst of the row's cases (the median of each case's runs, as
// internal/benchratio's tables), the part's target as a dashed line, and
// the worst cell of each part and level ringed.

// sweepUnits are the ratio units a sweep cell reports.
func sweepUnit(unit string) bool {
	return unit == "vs-touched" || unit == "vs-flat" || strings.HasPrefix(unit, "x-")
}

// sweepTargets are the targets of issue 17 per unit: placement within noise
// of its touched twin, rows and the L0 norm half of the flat count,
// FeatureActivity 0.9 of L0Norm at the vector levels (0.5 generic).
var sweepTargets = map[string]float64{"vs-touched": 0.95, "vs-flat": 0.5, "x-countnonzero": 0.5, "x-l0norm": 0.9}

// A sweepRow is one column of the picture: the worst ratio of the row's
// cases per level.
type sweepRow struct {
	part, row string
	worst     map[string]float64 // level: the lowest median ratio
	cases     map[string]string  // level: the case that has it
}

// A sweepData is a sweep read from go test output: its parts in order, each
// with its unit and rows, and the levels in order.
type sweepData struct {
	parts  []string
	units  map[string]string
	rows   []*sweepRow
	levels []string
	runs   [2]int // fewest and most runs of a cell
}

// readSweep reads the sweep cells of go test -bench output; other lines are
// skipped.
func readSweep(r io.Reader) (*sweepData, error) {
	type cell struct {
		part, row, level, rest, unit string
		ratios                       []float64
	}
	cells := map[string]*cell{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkSweep/part=") {
			continue
		}
		if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
			continue
		}
		name := trimProcs(f[0])
		for i := 2; i+1 < len(f); i += 2 {
			if !sweepUnit(f[i+1]) {
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				break
			}
			c := cells[name]
			if c == nil {
				elems := strings.Split(name, "/")
				if len(elems) < 3 {
					break
				}
				c = &cell{part: strings.TrimPrefix(elems[1], "part="), row: elems[2], unit: f[i+1], level: "-"}
				var rest []string
				for _, e := range elems[3:] {
					if l, ok := strings.CutPrefix(e, "impl="); ok {
						c.level = l
					} else {
						rest = append(rest, e)
					}
				}
				c.rest = strings.Join(rest, "/")
				cells[name] = c
				order = append(order, name)
			}
			c.ratios = append(c.ratios, v)
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	d := &sweepData{units: map[string]string{}}
	rows := map[string]*sweepRow{}
	for _, name := range order {
		c := cells[name]
		if _, seen := d.units[c.part]; !seen {
			d.parts = append(d.parts, c.part)
			d.units[c.part] = c.unit
		}
		if !contains(d.levels, c.level) {
			d.levels = append(d.levels, c.level)
		}
		key := c.part + "\x00" + c.row
		row := rows[key]
		if row == nil {
			row = &sweepRow{part: c.part, row: c.row, worst: map[string]float64{}, cases: map[string]string{}}
			rows[key] = row
			d.rows = append(d.rows, row)
		}
		m := median(c.ratios)
		if w, ok := row.worst[c.level]; !ok || m < w {
			row.worst[c.level] = m
			row.cases[c.level] = c.rest
		}
		n := len(c.ratios)
		if d.runs[0] == 0 || n < d.runs[0] {
			d.runs[0] = n
		}
		d.runs[1] = max(d.runs[1], n)
	}
	// Rows of one part side by side, parts in order.
	var sorted []*sweepRow
	for _, p := range d.parts {
		for _, r := range d.rows {
			if r.part == p {
				sorted = append(sorted, r)
			}
		}
	}
	d.rows = sorted
	return d, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sweepTarget is the target of unit at level, or 0.
func sweepTarget(unit, level string) float64 {
	if unit == "x-l0norm" && level == "generic" {
		return 0.5
	}
	return sweepTargets[unit]
}

// sweepPartTitles name the parts under the picture's columns.
var sweepPartTitles = map[string]string{
	"placement": "placement: page-end\nvs touched twin",
	"rows":      "rows of width W\nvs CountNonZero",
	"l0norm":    "L0Norm.Update\nvs CountNonZero",
	"activity":  "FeatureActivity.Update\nvs L0Norm.Update",
}

// sweepCap is the highest ratio drawn; a cell above it is drawn at it.
const sweepCap = 1.6

// drawSweep draws d to path (.svg, .png or .pdf).
func drawSweep(d *sweepData, cpu, path string) error {
	if len(d.rows) == 0 {
		return errors.New("no BenchmarkSweep cells in the input (run the root package's BenchmarkSweep)")
	}
	p := plot.New()
	runs := fmt.Sprintf("medians of %d runs", d.runs[0])
	if d.runs[1] == 1 {
		runs = "one run each"
	} else if d.runs[0] != d.runs[1] {
		runs = fmt.Sprintf("medians of %d to %d runs", d.runs[0], d.runs[1])
	}
	p.Title.Text = "BenchmarkSweep: each cell's speed over its reference's, measured in the same moments\n" + cpu + ", one goroutine, " + runs + "; each marker the worst case of its column at that level"
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.Title.Padding = vg.Points(8)
	p.Y.Label.Text = "ratio to the reference (1: as fast)"
	p.Y.Min, p.Y.Max = 0, sweepCap+0.2
	var yTicks []plot.Tick
	for v := 0; v <= 16; v++ {
		label := ""
		if v%2 == 0 {
			label = fmt.Sprintf("%.1f", float64(v)/10)
		}
		yTicks = append(yTicks, plot.Tick{Value: float64(v) / 10, Label: label})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(yTicks)

	// Columns: one per row, a gap of 1 between parts.
	x := map[*sweepRow]float64{}
	var ticks []plot.Tick
	pos := 0.0
	type span struct {
		part   string
		lo, hi float64
	}
	var spans []span
	for i, r := range d.rows {
		if i > 0 && d.rows[i-1].part != r.part {
			pos++
		}
		if len(spans) == 0 || spans[len(spans)-1].part != r.part {
			spans = append(spans, span{r.part, pos, pos})
		}
		spans[len(spans)-1].hi = pos
		x[r] = pos
		_, value, _ := strings.Cut(r.row, "=")
		ticks = append(ticks, plot.Tick{Value: pos, Label: value})
		pos++
	}
	p.X.Min, p.X.Max = -0.8, pos-0.2
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Label.Rotation = math.Pi / 2
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.X.Tick.Label.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())

	// Targets: a dashed line over each part's columns (FeatureActivity's
	// generic target dotted).
	var labels plotter.XYLabels
	for _, s := range spans {
		unit := d.units[s.part]
		targets := []float64{sweepTarget(unit, "avx512")}
		if g := sweepTarget(unit, "generic"); g != targets[0] {
			targets = append(targets, g)
		}
		for i, t := range targets {
			if t == 0 {
				continue
			}
			l, err := plotter.NewLine(plotter.XYs{{X: s.lo - 0.45, Y: t}, {X: s.hi + 0.45, Y: t}})
			if err != nil {
				return err
			}
			l.Color = color.RGBA{R: 200, A: 255}
			l.Width = vg.Points(1)
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			if i > 0 {
				l.Color = levelColor("generic")
				l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
			}
			p.Add(l)
		}
		title := sweepPartTitles[s.part]
		if title == "" {
			title = s.part
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: (s.lo + s.hi) / 2, Y: sweepCap + 0.17})
		labels.Labels = append(labels.Labels, title)
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = draw.XCenter
		l.TextStyle[i].YAlign = draw.YTop
		l.TextStyle[i].Font.Size = vg.Points(9)
		l.TextStyle[i].Color = color.Gray{Y: 50}
	}
	p.Add(l)

	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	legend.TextStyle.Font.Size = vg.Points(10)
	// A level's markers, offset a little so that equal ratios stay apart;
	// the worst cell of each part at that level ringed.
	for li, level := range d.levels {
		var pts, worst plotter.XYs
		for _, s := range spans {
			wj, wv := -1, math.Inf(1)
			for _, r := range d.rows {
				v, ok := r.worst[level]
				if !ok || r.part != s.part {
					continue
				}
				pts = append(pts, plotter.XY{X: x[r] + 0.18*(float64(li)-float64(len(d.levels)-1)/2), Y: min(v, sweepCap)})
				if v < wv {
					wj, wv = len(pts)-1, v
				}
			}
			if wj >= 0 {
				worst = append(worst, pts[wj])
			}
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.Color = levelColor(level)
		sc.Shape = levelGlyphs[level]
		if sc.Shape == nil {
			sc.Shape = draw.CircleGlyph{}
		}
		sc.Radius = vg.Points(2.8)
		p.Add(sc)
		ring, err := plotter.NewScatter(worst)
		if err != nil {
			return err
		}
		ring.Color = levelColor(level)
		ring.Shape = draw.RingGlyph{}
		ring.Radius = vg.Points(6)
		p.Add(ring)
		legend.Add(level, sc)
	}
	ringSample, err := plotter.NewScatter(plotter.XYs{{}})
	if err != nil {
		return err
	}
	ringSample.Color = color.Black
	ringSample.Shape = draw.RingGlyph{}
	ringSample.Radius = vg.Points(5)
	legend.Add("worst of a part", ringSample)
	target, err := plotter.NewLine(plotter.XYs{{}, {X: 1}})
	if err != nil {
		return err
	}
	target.Color = color.RGBA{R: 200, A: 255}
	target.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	legend.Add("target", target)
	genericTarget, err := plotter.NewLine(plotter.XYs{{}, {X: 1}})
	if err != nil {
		return err
	}
	genericTarget.Color = levelColor("generic")
	genericTarget.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	legend.Add("target, generic", genericTarget)

	const width, height = 12 * vg.Inch, 5.5 * vg.Inch
	return writePlot(p, legend, fmt.Sprintf("Higher is better.\nCells above %.1f\ndrawn at %.1f.", sweepCap, sweepCap), path, width, height)
}

// runSweep draws the sweep picture of the inputs (files, or stdin without
// any) to out.
func runSweep(inputs []string, stdin io.Reader, out string) error {
	var readers []io.Reader
	if len(inputs) == 0 {
		readers = append(readers, stdin)
	}
	for _, name := range inputs {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		readers = append(readers, f, strings.NewReader("\n"))
	}
	var text strings.Builder
	if _, err := io.Copy(&text, io.MultiReader(readers...)); err != nil {
		return err
	}
	cpu := "unknown CPU"
	for _, line := range strings.Split(text.String(), "\n") {
		if key, value, ok := parseConfig(line); ok && key == "cpu" {
			cpu = value
			break
		}
	}
	d, err := readSweep(strings.NewReader(text.String()))
	if err != nil {
		return err
	}
	return drawSweep(d, cpu, out)
}
