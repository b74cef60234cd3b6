package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A point is the median speed at one input size.
type point struct {
	bytes float64 // input size in bytes
	gbps  float64 // median, 10^9 bytes per second
	runs  int     // how many runs the median is of
}

// A series is one line of a picture: a kernel family at one level, or the
// read limit (level "read").
type series struct {
	family string // "CountNonZero", "AddNonZeroColumns", ..., or "read limit"
	level  string // "avx512", "avx2", "neon", "generic", or "read"
	points []point
}

func (s series) label() string {
	if s.level == "read" {
		return "read limit"
	}
	return s.family + " " + s.level
}

// The pictures' contents: float32 CountNonZero per level, the float32
// column kernels per level, and the read limit shared by both.
type pictures struct {
	count, columns []series
	read           series
}

// A sample is one benchmark's runs, placed in a picture.
type sample struct {
	picture string // "count", "columns" or "read"
	family  string
	level   string
	bytes   int64
}

// classify places a benchmark: BenchmarkRoofline's sub-benchmarks, and the
// float32 ones of BenchmarkCountNonZero, BenchmarkReadLimit,
// BenchmarkAddNonZeroColumns and BenchmarkAddAboveColumns, whose sizes are
// sparser. Others are not drawn.
func classify(name string) (sample, bool) {
	base, keys := splitName(name)
	kind := keys["kind"]
	switch base {
	case "Roofline":
	case "CountNonZero":
		kind = "count"
	case "ReadLimit":
		kind = "read"
	case "AddNonZeroColumns", "AddAboveColumns":
		kind, keys["func"] = "columns", base
	default:
		return sample{}, false
	}
	s := sample{picture: kind, level: keys["impl"], family: keys["func"]}
	switch kind {
	case "read":
		s.family, s.level = "read limit", "read"
	case "count":
		s.family = "CountNonZero"
	case "columns":
		if s.family == "" {
			return sample{}, false
		}
	default:
		return sample{}, false
	}
	if kind != "read" && (keys["type"] != "f32" || s.level == "") {
		return sample{}, false
	}
	n, err := inputBytes(keys)
	if err != nil {
		return sample{}, false
	}
	s.bytes = n
	return s, true
}

// inputBytes is the input size a benchmark names: n=SIZE, or for a
// float32 matrix shape=ROWSxCOLS.
func inputBytes(keys map[string]string) (int64, error) {
	if n, ok := keys["n"]; ok {
		return parseSize(n)
	}
	if shape, ok := keys["shape"]; ok {
		var rows, cols int64
		if _, err := fmt.Sscanf(shape, "%dx%d", &rows, &cols); err != nil || rows <= 0 || cols <= 0 {
			return 0, fmt.Errorf("shape %q: want ROWSxCOLS", shape)
		}
		return rows * cols * 4, nil
	}
	return 0, fmt.Errorf("no n= or shape= in the name")
}

// collect groups the runs of every benchmark it can place into series of
// medians. Benchmarks that land on the same point (the same size measured
// by two benchmarks or in two files) pool their runs.
func collect(run *benchRun) pictures {
	type line struct{ picture, family, level string }
	runs := map[line]map[int64][]float64{}
	for _, name := range run.names {
		s, ok := classify(name)
		if !ok {
			continue
		}
		k := line{s.picture, s.family, s.level}
		if runs[k] == nil {
			runs[k] = map[int64][]float64{}
		}
		runs[k][s.bytes] = append(runs[k][s.bytes], run.speeds[name]...)
	}
	var p pictures
	for _, k := range slices.SortedFunc(maps.Keys(runs), func(a, b line) int {
		return cmp.Or(cmp.Compare(familyRank(a.family), familyRank(b.family)), strings.Compare(a.family, b.family),
			cmp.Compare(levelRank(a.level), levelRank(b.level)), strings.Compare(a.level, b.level))
	}) {
		s := series{family: k.family, level: k.level}
		for _, n := range slices.Sorted(maps.Keys(runs[k])) {
			v := runs[k][n]
			s.points = append(s.points, point{bytes: float64(n), gbps: median(v) / 1e3, runs: len(v)})
		}
		switch k.picture {
		case "count":
			p.count = append(p.count, s)
		case "columns":
			p.columns = append(p.columns, s)
		case "read":
			p.read = s
		}
	}
	return p
}

// familyRank orders the families as the legend lists them: the plain
// count before the thresholded one.
func familyRank(family string) int {
	if i := slices.Index([]string{"CountNonZero", "AddNonZeroColumns", "AddAboveColumns"}, family); i >= 0 {
		return i
	}
	return 99
}

// levelRank orders the levels fastest first, as the legend lists them.
func levelRank(level string) int {
	if i := slices.Index([]string{"avx512", "avx2", "neon", "generic"}, level); i >= 0 {
		return i
	}
	return 99
}
