package main

import (
	"fmt"
	"strings"

	"github.com/sparsekit/l0/asm/internal/spec"
)

// The column shape: the tiles of AddNonZeroColumns, AddAboveColumns and
// AddAbsAboveColumns.
//
// A tile kernel takes the tile's counts (one uint64 per column), its first
// element x, the row stride in elements and the number of rows. It walks
// the columns in strips of four vectors, then of one: a strip's lane
// counters, one lane per column, stay in registers while the kernel runs
// down the rows, each row's vectors loaded with a post-increment by the
// stride; at the bottom of the strip it widens the counters to 64 bits and
// adds them to the strip's counts. The counters are as wide as the lanes:
// the caller bounds the rows of a tile (255 for bytes, 65535 for 16-bit
// lanes). It reads whole vectors of each row only; the caller counts the
// columns after the last whole vector.

// Register roles of the column kernels, besides the constants of the test
// (V10 and on, with R4 to load them) and the data vectors V0-V3.
const (
	countsPtr   = "R0" // the count of the strip's first column
	vectorsLeft = "R1" // whole vectors of a row's columns not yet counted
	stripPtr    = "R2" // the strip's first element in the first row
	strideBytes = "R3" // the row stride in bytes
	rowCount    = "R5" // the rows of the tile
	rowPtr      = "R6" // the strip's first element in the next row
	rowsLeft    = "R7" // rows of this strip not yet counted
	firstWide   = 17   // V17-V30: the counters widened to 64-bit lanes
)

var columnRegisterDoc = []string{
	"R0: the next count; R1: whole vectors of a row not yet counted; R2: the strip's",
	"first element; R3: the stride in bytes; R4: scratch; R5: the rows; R6: the strip's",
	"element in the next row; R7: the rows left.",
	"V0-V3: the strip's vectors of a row, then their test results; V4-V7: the lane",
	"counters; V17-V30: the counters widened; V0-V3 again: counts to add to.",
}

// columnKernel is the tile kernel of rule r for element kernel k.
type columnKernel struct {
	r rule
	k spec.Kernel
}

func (c columnKernel) name() string { return "add" + c.r.name + "Columns" + c.k.Name() + "NEON" }

func (c columnKernel) signature(t test) string {
	return fmt.Sprintf("(counts []uint64, x []%s, stride, rows int%s)", c.k.GoWord(), paramList(t.params, c.k.Width))
}

func (c columnKernel) doc() []string {
	lanes := vectorBytes / c.k.Width
	doc := []string{
		fmt.Sprintf("%s adds to counts[j] the number of rows r < rows whose lane", c.name()),
		fmt.Sprintf("b = x[r*stride+j] counts: the lanes %s, for %s.", c.r.counts(c.k), types(c.k)),
		"It requires ASIMD (NEON), and reads whole 16-byte vectors of each row only: it",
		fmt.Sprintf("ignores the last len(counts) %% %d columns, which the caller counts.", lanes),
	}
	if c.k.Width <= 2 {
		doc = append(doc, fmt.Sprintf("Its lane counters are %d-bit: rows must be at most %d.", c.k.Bits(), 1<<c.k.Bits()-1))
	}
	return doc
}

func (c columnKernel) emit(f *file) {
	a := arrangementOf(c.k.Width)
	t := c.r.test(c.k)
	f.stub(c.name(), c.signature(t), c.doc()...)
	offsets, _, argBytes := frame(64, t.params, false)
	roles := append(append([]string{}, columnRegisterDoc...), strings.Join(t.consts, "; ")+".")
	comment := append(append([]string{"func " + c.name() + c.signature(t), ""}, c.doc()...), "")
	f.text(c.name(), argBytes, append(comment, roles...)...)
	f.inst("MOVD", "counts_base+0(FP)", countsPtr)
	f.inst("MOVD", "counts_len+8(FP)", vectorsLeft)
	f.inst("MOVD", "x_base+24(FP)", stripPtr)
	f.inst("MOVD", "stride+48(FP)", strideBytes)
	f.inst("MOVD", "rows+56(FP)", rowCount)
	f.comment("No rows, nothing to add: the row loops below run at least once.")
	f.inst("CBZ", rowCount, "done")
	f.comment("R1: the whole vectors of a row's columns; R3: the stride in bytes.")
	f.inst("LSR", fmt.Sprintf("$%d", log2(a.lanes())), vectorsLeft, vectorsLeft)
	if c.k.Width > 1 {
		f.inst("LSL", fmt.Sprintf("$%d", log2(c.k.Width)), strideBytes, strideBytes)
	}
	t.setup(f, a, offsets)

	for _, strip := range []int{unroll, 1} {
		label, rows := "strips", "rows4"
		if strip == 1 {
			label, rows = "vectors", "rows1"
		}
		next := map[int]string{unroll: "vectors", 1: "done"}[strip]
		f.label(label)
		if strip == unroll {
			f.comment("A strip of four vectors: 64 bytes of each row, one counter each.")
		} else {
			f.comment("The whole vectors left, one strip each.")
		}
		f.inst("CMP", fmt.Sprintf("$%d", strip), vectorsLeft)
		f.inst("BLO", next)
		for i := 0; i < strip; i++ {
			zero(f, firstCounter+i)
		}
		f.inst("MOVD", stripPtr, rowPtr)
		f.inst("MOVD", rowCount, rowsLeft)
		f.inst("PCALIGN", "$16")

		f.label(rows)
		f.comment("Load: the strip's vectors of this row, then step to the next row.")
		loaded := make([]string, strip)
		for i := range loaded {
			loaded[i] = a.v(firstData + i)
		}
		f.inst("VLD1.P", fmt.Sprintf("(%s)(%s)", rowPtr, strideBytes), "["+strings.Join(loaded, ", ")+"]")
		t.emit(f, a, strip, strip == unroll)
		if strip == unroll {
			f.comment("Accumulate: counter - (-1) adds one for each lane that counts.")
		}
		for i := 0; i < strip; i++ {
			f.inst("VSUB", a.v(firstData+i), a.v(firstCounter+i), a.v(firstCounter+i))
		}
		f.inst("SUBS", "$1", rowsLeft, rowsLeft)
		f.inst("BNE", rows)

		f.block("Widen each counter's lanes to 64 bits and add them to the strip's counts.")
		for i := 0; i < strip; i++ {
			addCounts(f, a, firstCounter+i)
		}
		f.inst("ADD", fmt.Sprintf("$%d", strip*vectorBytes), stripPtr, stripPtr)
		f.inst("SUB", fmt.Sprintf("$%d", strip), vectorsLeft, vectorsLeft)
		f.inst("B", label)
	}

	f.label("done")
	f.inst("RET")
}

// addCounts widens the lanes of the counter V<counter> to 64 bits and adds
// them to the counts at R0, four vectors (eight counts) at a time,
// advancing R0 past them.
func addCounts(f *file, a arrangement, counter int) {
	next := firstWide
	wide := widenTo64(f, a.width, counter, &next)
	for len(wide) > 0 {
		group := wide[:min(len(wide), unroll)]
		wide = wide[len(group):]
		counts := make([]string, len(group))
		for i := range counts {
			counts[i] = fmt.Sprintf("V%d.D2", firstData+i)
		}
		list := "[" + strings.Join(counts, ", ") + "]"
		f.inst("VLD1", "("+countsPtr+")", list)
		for i, w := range group {
			f.inst("VADD", fmt.Sprintf("V%d.D2", w), counts[i], counts[i])
		}
		f.inst("VST1.P", list, fmt.Sprintf("%d(%s)", len(group)*vectorBytes, countsPtr))
	}
}

// widenTo64 zero-extends the lanes of V<v>, width bytes each, to 64-bit
// lanes in new registers from *next on, and returns those registers in the
// order of the lanes: VUXTL takes the low half of a vector, VUXTL2 the high.
func widenTo64(f *file, width, v int, next *int) []int {
	if width == 8 {
		return []int{v}
	}
	half := map[int]string{1: "B8", 2: "H4", 4: "S2"}[width]
	full := arrangementOf(width).name
	wider := arrangementOf(2 * width).name
	low, high := *next, *next+1
	*next += 2
	f.inst("VUXTL", fmt.Sprintf("V%d.%s", v, half), fmt.Sprintf("V%d.%s", low, wider))
	f.inst("VUXTL2", fmt.Sprintf("V%d.%s", v, full), fmt.Sprintf("V%d.%s", high, wider))
	return append(widenTo64(f, 2*width, low, next), widenTo64(f, 2*width, high, next)...)
}
