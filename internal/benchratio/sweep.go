package main

import (
	"fmt"
	"io"
	"strings"
)

// The sweep (BenchmarkSweep/part=PART/ROW/.../impl=LEVEL...): each cell's
// ratio to its part's reference (vs touched, x flat or an x-REF), as
// tables of the part's rows (the element after part=) by level, each entry
// the lowest median ratio of the row's cases at that level, then the worst
// cell per level and part, and every cell below its target.

// target returns the ratio a sweep cell of unit must reach at level
// (issue 17): placement within noise of its touched twin, rows and the L0
// norm half of the flat count, FeatureActivity 0.9 of L0Norm at the vector
// levels and half of it at the generic one. 0: no target.
func target(unit, level string) float64 {
	switch unit {
	case vsTouchedUnit:
		return 0.95
	case xFlatUnit, "x-countnonzero":
		return 0.5
	case "x-l0norm":
		if level == "generic" {
			return 0.5
		}
		return 0.9
	}
	return 0
}

// sweepCell is one case of a sweep part at one level.
type sweepCell struct {
	row, level, name string // name: the case without part, row and level
	ratio            float64
}

// sweepPart is one part=PART of the sweep: its unit, and its cells in the
// order read.
type sweepPart struct {
	name, unit string
	cells      []sweepCell
}

type sweep struct {
	parts []*sweepPart
}

// add records the median ratio r (in unit) of benchmark name if it is a
// cell of the sweep. A part takes the unit of its first cell.
func (s *sweep) add(name, unit string, r float64) {
	m := sweepKey.FindStringSubmatch(name)
	if m == nil {
		return
	}
	lvl := level(name)
	rest := strings.TrimPrefix(strings.Replace(m[3], "/impl="+lvl, "", 1), "/")
	var p *sweepPart
	for _, q := range s.parts {
		if q.name == m[1] {
			p = q
		}
	}
	if p == nil {
		p = &sweepPart{name: m[1], unit: unit}
		s.parts = append(s.parts, p)
	}
	if unit != p.unit {
		return
	}
	p.cells = append(p.cells, sweepCell{m[2], lvl, rest, r})
}

// worst returns the lowest cell of p at level among those for which keep
// is true, and whether there is one.
func (p *sweepPart) worst(level string, keep func(sweepCell) bool) (sweepCell, bool) {
	var w sweepCell
	found := false
	for _, c := range p.cells {
		if c.level == level && keep(c) && (!found || c.ratio < w.ratio) {
			w, found = c, true
		}
	}
	return w, found
}

// levels returns the levels of p's cells in the order read.
func (p *sweepPart) levels() []string {
	var out []string
	for _, c := range p.cells {
		if !contains(out, c.level) {
			out = append(out, c.level)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// entry formats a table entry: the ratio, in bold below target.
func entry(c sweepCell, unit string) string {
	if c.ratio < target(unit, c.level) {
		return fmt.Sprintf("**%.2f**", c.ratio)
	}
	return fmt.Sprintf("%.2f", c.ratio)
}

// write prints the sweep's tables, in Markdown, then the worst cell per
// level and part and the cells below target; nothing without a sweep.
func (s *sweep) write(w io.Writer) error {
	var b strings.Builder
	var all []string // every level, in the order read
	for _, p := range s.parts {
		levels := p.levels()
		for _, l := range levels {
			if !contains(all, l) {
				all = append(all, l)
			}
		}
		var rows []string
		for _, c := range p.cells {
			if !contains(rows, c.row) {
				rows = append(rows, c.row)
			}
		}
		fmt.Fprintf(&b, "\nsweep part=%s (%s; the worst case of each row, bold below target):\n\n", p.name, p.unit)
		key, _, _ := strings.Cut(rows[0], "=")
		fmt.Fprintf(&b, "| %s | %s |\n|%s\n", key, strings.Join(levels, " | "), strings.Repeat(" --- |", len(levels)+1))
		for _, row := range rows {
			_, value, _ := strings.Cut(row, "=")
			fmt.Fprintf(&b, "| %s |", value)
			for _, l := range levels {
				if c, ok := p.worst(l, func(c sweepCell) bool { return c.row == row }); ok {
					fmt.Fprintf(&b, " %s |", entry(c, p.unit))
				} else {
					b.WriteString(" – |")
				}
			}
			b.WriteString("\n")
		}
	}
	if len(s.parts) == 0 {
		return nil
	}
	b.WriteString("\n")
	for _, l := range all {
		fmt.Fprintf(&b, "sweep worst at %s:", l)
		sep := " "
		for _, p := range s.parts {
			if c, ok := p.worst(l, func(sweepCell) bool { return true }); ok {
				fmt.Fprintf(&b, "%s%s %.2f %s %s", sep, p.name, c.ratio, p.unit, cellName(c))
				sep = "; "
			}
		}
		b.WriteString("\n")
	}
	below := 0
	for _, p := range s.parts {
		for _, c := range p.cells {
			if c.ratio < target(p.unit, c.level) {
				below++
			}
		}
	}
	total := 0
	for _, p := range s.parts {
		total += len(p.cells)
	}
	fmt.Fprintf(&b, "sweep below target: %d of %d cells\n", below, total)
	for _, p := range s.parts {
		for _, c := range p.cells {
			if t := target(p.unit, c.level); c.ratio < t {
				fmt.Fprintf(&b, "  %s %s at %s: %.2f %s (target %.2f)\n", p.name, cellName(c), c.level, c.ratio, p.unit, t)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cellName is a cell's row and case, as in its benchmark's name.
func cellName(c sweepCell) string {
	if c.name == "" {
		return c.row
	}
	return c.row + "/" + c.name
}
