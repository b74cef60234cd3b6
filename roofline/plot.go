package main

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The size axis always spans 4 KiB to 1 GiB, with a margin, so that
// pictures of different runs line up.
const (
	minBytes = 4 << 10
	maxBytes = 1 << 30
	margin   = 1.25
)

var levelColors = map[string]color.Color{
	"avx512":  color.RGBA{R: 31, G: 119, B: 180, A: 255},
	"avx2":    color.RGBA{R: 230, G: 115, B: 0, A: 255},
	"neon":    color.RGBA{R: 148, G: 103, B: 189, A: 255},
	"generic": color.RGBA{R: 44, G: 160, B: 44, A: 255},
	"read":    color.Black,
}

var levelGlyphs = map[string]draw.GlyphDrawer{
	"avx512":  draw.CircleGlyph{},
	"avx2":    draw.SquareGlyph{},
	"neon":    draw.TriangleGlyph{},
	"generic": draw.PyramidGlyph{},
}

// A figure is one picture: kernels against the read limit, by size.
type figure struct {
	title   string
	xLabel  string
	kernels []series
	read    series
	caches  caches
	dashed  map[string]bool // families drawn dashed
	note    string          // set under the legend
}

func init() {
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	plotter.DefaultFont = plot.DefaultFont
}

// save draws f and writes it to path; the extension picks the format
// (.svg, .png, .pdf). The legend stands right of the axes, where it hides
// no line.
func (f figure) save(path string, width, height vg.Length) error {
	p := plot.New()
	p.Title.Text = f.title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = f.xLabel
	p.Y.Label.Text = "GB/s (log)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = sizeTicks{}, speedTicks{}
	xmin, xmax := minBytes/margin, maxBytes*margin
	ymin, ymax := f.speedRange()
	// Room above the lines for the names of the cache regions.
	ymin, ymax = ymin/1.5, ymax*1.8
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	if err := f.addRegions(p); err != nil {
		return err
	}
	p.Add(plotter.NewGrid())

	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	legend.TextStyle.Font.Size = vg.Points(10)
	legend.Padding = vg.Points(3)
	legend.ThumbnailWidth = vg.Points(30)
	for _, s := range append([]series{f.read}, f.kernels...) {
		if len(s.points) == 0 {
			continue
		}
		if err := f.addSeries(p, &legend, s); err != nil {
			return err
		}
	}
	// Adding plotters widens the axes to their data: pin them again.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax

	return writePlot(p, legend, f.note, path, width, height)
}

// writePlot draws p with legend to its right, note under the legend, and
// writes it to path; the extension picks the format (.svg, .png, .pdf).
func writePlot(p *plot.Plot, legend plot.Legend, note, path string, width, height vg.Length) error {
	format := strings.TrimPrefix(filepath.Ext(path), ".")
	cw, err := draw.NewFormattedCanvas(width, height, format)
	if err != nil {
		return err
	}
	dc := draw.New(cw)
	gap := vg.Points(12)
	// A little slack: a viewer may set the text in a wider font.
	legendWidth := legend.Rectangle(dc).Size().X * 1.08
	p.Draw(draw.Crop(dc, 0, -(legendWidth + 2*gap), 0, 0))
	titleHeight := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	legendArea := draw.Crop(dc, width-legendWidth-gap, -gap, 0, -(titleHeight + gap))
	legend.Draw(legendArea)
	if note != "" {
		sty := legend.TextStyle
		sty.Font.Size = vg.Points(9)
		sty.Color = color.Gray{Y: 70}
		sty.YAlign = draw.YTop
		top := legendArea.Max.Y - legend.Rectangle(legendArea).Size().Y - 2*gap
		legendArea.FillText(sty, vg.Point{X: legendArea.Min.X, Y: top}, note)
	}

	var out bytes.Buffer
	if _, err := cw.WriteTo(&out); err != nil {
		return err
	}
	b := out.Bytes()
	if format == "svg" {
		// Name fonts a viewer has if it lacks Liberation Sans: Arial
		// has the same metrics, so the text keeps the size it was laid
		// out for.
		b = bytes.ReplaceAll(b, []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	}
	return os.WriteFile(path, b, 0o666)
}

// addSeries draws s as a line with a marker at each point, and lists it in
// the legend.
func (f figure) addSeries(p *plot.Plot, legend *plot.Legend, s series) error {
	xys := make(plotter.XYs, len(s.points))
	for i, pt := range s.points {
		xys[i] = plotter.XY{X: pt.bytes, Y: pt.gbps}
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("%s: %v", s.label(), err)
	}
	line.Color = levelColor(s.level)
	line.Width = vg.Points(1.5)
	if s.level == "read" {
		line.Width = vg.Points(2.5)
	}
	if f.dashed[s.family] {
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(line)
	g, ok := levelGlyphs[s.level]
	if !ok {
		legend.Add(s.label(), line)
		return nil
	}
	pts, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	pts.Color = line.Color
	pts.Shape = g
	pts.Radius = vg.Points(2.5)
	p.Add(pts)
	legend.Add(s.label(), line, pts)
	return nil
}

func levelColor(level string) color.Color {
	if c, ok := levelColors[level]; ok {
		return c
	}
	return color.Gray{Y: 110}
}

// speedRange is the smallest and largest median drawn.
func (f figure) speedRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range append([]series{f.read}, f.kernels...) {
		for _, pt := range s.points {
			lo, hi = min(lo, pt.gbps), max(hi, pt.gbps)
		}
	}
	if lo > hi {
		return 1, 100
	}
	return lo, hi
}

// addRegions shades the sizes that fit in L1, L2, L3 and those that only
// DRAM holds, and names each region at the top of the picture.
func (f figure) addRegions(p *plot.Plot) error {
	type region struct {
		name   string
		lo, hi float64
	}
	var regions []region
	lo := p.X.Min
	for _, c := range []struct {
		name string
		size int64
	}{{"L1d", f.caches.l1d}, {"L2", f.caches.l2}, {"L3", f.caches.l3}} {
		if c.size <= 0 || float64(c.size) <= lo || float64(c.size) >= p.X.Max {
			continue
		}
		regions = append(regions, region{c.name + " " + formatSize(c.size), lo, float64(c.size)})
		lo = float64(c.size)
	}
	if len(regions) == 0 {
		return nil
	}
	regions = append(regions, region{"DRAM", lo, p.X.Max})
	shades := []color.Color{color.RGBA{R: 232, G: 240, B: 250, A: 255}, color.RGBA{R: 250, G: 250, B: 252, A: 255}}
	var labels plotter.XYLabels
	for i, r := range regions {
		band, err := plotter.NewPolygon(plotter.XYs{{X: r.lo, Y: p.Y.Min}, {X: r.hi, Y: p.Y.Min}, {X: r.hi, Y: p.Y.Max}, {X: r.lo, Y: p.Y.Max}})
		if err != nil {
			return err
		}
		band.Color = shades[i%2]
		band.LineStyle.Width = 0
		p.Add(band)
		// The label in the middle of the band on the log scale, just
		// under the top.
		labels.XYs = append(labels.XYs, plotter.XY{X: math.Sqrt(r.lo * r.hi), Y: p.Y.Max / 1.22})
		labels.Labels = append(labels.Labels, r.name)
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = draw.XCenter
		l.TextStyle[i].Color = color.Gray{Y: 70}
		l.TextStyle[i].Font.Size = vg.Points(10)
	}
	p.Add(l)
	return nil
}

// sizeTicks labels the powers of 4 from 4K to 1G and marks the powers of 2
// between them.
type sizeTicks struct{}

func (sizeTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for n := int64(1); float64(n) <= hi; n *= 2 {
		if float64(n) < lo {
			continue
		}
		label := ""
		if (bitsLen(n)-1)%2 == 0 {
			label = formatSize(n)
		}
		ticks = append(ticks, plot.Tick{Value: float64(n), Label: label})
	}
	return ticks
}

func bitsLen(n int64) int {
	l := 0
	for ; n > 0; n >>= 1 {
		l++
	}
	return l
}

// speedTicks labels 1, 2, 5 times the powers of 10 and marks the other
// integer multiples.
type speedTicks struct{}

func (speedTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for decade := math.Pow(10, math.Floor(math.Log10(lo))); decade <= hi; decade *= 10 {
		for m := 1; m <= 9; m++ {
			v := float64(m) * decade
			if v < lo || v > hi {
				continue
			}
			label := ""
			if m == 1 || m == 2 || m == 5 {
				label = fmt.Sprintf("%g", v)
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	return ticks
}
