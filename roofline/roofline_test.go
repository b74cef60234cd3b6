package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseResult(t *testing.T) {
	tests := []struct {
		line string
		name string
		mbps float64
		ok   bool
	}{
		{"BenchmarkRoofline/kind=count/type=f32/impl=avx512/n=4K-2    \t 1034874\t        28.64 ns/op\t143039.67 MB/s\t       0 B/op\t       0 allocs/op",
			"BenchmarkRoofline/kind=count/type=f32/impl=avx512/n=4K", 143039.67, true},
		// GOMAXPROCS=1: no suffix.
		{"BenchmarkReadLimit/impl=avx2/n=16K 100 10.5 ns/op 1500 MB/s", "BenchmarkReadLimit/impl=avx2/n=16K", 1500, true},
		// Extra metrics before and after the speed.
		{"BenchmarkAddNonZeroColumns/type=f32/impl=avx512/shape=64x16384-16   4407   54852 ns/op   76466.26 MB/s   0.7138 read-limit   0 B/op   0 allocs/op",
			"BenchmarkAddNonZeroColumns/type=f32/impl=avx512/shape=64x16384", 76466.26, true},
		{"BenchmarkX-8 10 5 ns/op 0.5 read-limit 2000 MB/s", "BenchmarkX", 2000, true},
		// benchfmt's normalised unit.
		{"BenchmarkX-8 10 5 ns/op 3e9 B/s", "BenchmarkX", 3000, true},
		// A name ending in a non-numeric dash part keeps it.
		{"BenchmarkX/mode=a-b 10 5 ns/op 7 MB/s", "BenchmarkX/mode=a-b", 7, true},
		// No speed: not drawn.
		{"BenchmarkStopTheWorld/family=GoLoop/impl=avx512-2  1  100 ns/op  3.1 max-ms", "", 0, false},
		{"BenchmarkX-2 \t", "", 0, false},
		{"BenchmarkX-2 many 5 ns/op 7 MB/s", "", 0, false},
		{"BenchmarkX-2 10 5 ns/op bad MB/s", "", 0, false},
		{"PASS", "", 0, false},
		{"ok  \tgithub.com/sparsekit/l0\t131.536s", "", 0, false},
		{"cpu: AMD EPYC", "", 0, false},
		{"    bench_test.go:12: BenchmarkX 1 2 ns/op 3 MB/s", "", 0, false},
	}
	for _, tt := range tests {
		name, mbps, ok := parseResult(tt.line)
		if name != tt.name || mbps != tt.mbps || ok != tt.ok {
			t.Errorf("parseResult(%q) = %q, %v, %v; want %q, %v, %v", tt.line, name, mbps, ok, tt.name, tt.mbps, tt.ok)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		line, key, value string
		ok               bool
	}{
		{"cpu: Oxide Virtual Turin-like Processor             ", "cpu", "Oxide Virtual Turin-like Processor", true},
		{"cache-l1d: 48K", "cache-l1d", "48K", true},
		{"goos:\tlinux", "goos", "linux", true},
		{"empty:", "empty", "", true},
		{"BenchmarkX: 1", "", "", false},
		{"    bench_test.go:12: log", "", "", false},
		{"--- FAIL: BenchmarkX", "", "", false},
		{"has space: x", "", "", false},
		{"url:x", "", "", false},
		{"no colon", "", "", false},
	}
	for _, tt := range tests {
		key, value, ok := parseConfig(tt.line)
		if key != tt.key || value != tt.value || ok != tt.ok {
			t.Errorf("parseConfig(%q) = %q, %q, %v; want %q, %q, %v", tt.line, key, value, ok, tt.key, tt.value, tt.ok)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		v    []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 1, 1, 1, 100}, 1},
	}
	for _, tt := range tests {
		before := append([]float64(nil), tt.v...)
		if got := median(tt.v); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.v, got, tt.want)
		}
		if !reflect.DeepEqual(before, tt.v) {
			t.Errorf("median reordered its input: %v, was %v", tt.v, before)
		}
	}
}

func TestSizes(t *testing.T) {
	for _, tt := range []struct {
		s string
		n int64
	}{{"16", 16}, {"4K", 4 << 10}, {"48K", 48 << 10}, {"1M", 1 << 20}, {"256M", 256 << 20}, {"1G", 1 << 30}, {"1536K", 1536 << 10}} {
		n, err := parseSize(tt.s)
		if err != nil || n != tt.n {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.s, n, err, tt.n)
		}
		if s := formatSize(tt.n); s != tt.s {
			t.Errorf("formatSize(%d) = %q, want %q", tt.n, s, tt.s)
		}
	}
	for _, bad := range []string{"", "K", "4KB", "-1", "0", "1.5M", "x"} {
		if n, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, n)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		want sample
		ok   bool
	}{
		{"BenchmarkRoofline/kind=count/type=f32/impl=avx512/n=64K", sample{"count", "CountNonZero", "avx512", 64 << 10}, true},
		{"BenchmarkRoofline/kind=read/impl=read/n=1G", sample{"read", "read limit", "read", 1 << 30}, true},
		{"BenchmarkRoofline/kind=columns/func=AddAboveColumns/type=f32/impl=neon/shape=4x16384/n=256K",
			sample{"columns", "AddAboveColumns", "neon", 256 << 10}, true},
		// The other benchmarks' names, at their sizes.
		{"BenchmarkCountNonZero/type=f32/impl=avx2/n=16K", sample{"count", "CountNonZero", "avx2", 16 << 10}, true},
		{"BenchmarkReadLimit/impl=avx512/n=256M", sample{"read", "read limit", "read", 256 << 20}, true},
		{"BenchmarkAddNonZeroColumns/type=f32/impl=generic/shape=4096x16384", sample{"columns", "AddNonZeroColumns", "generic", 4096 * 16384 * 4}, true},
		// Not drawn: other types, other benchmarks, no size.
		{"BenchmarkCountNonZero/type=f64/impl=avx2/n=16K", sample{}, false},
		{"BenchmarkAddNonZeroColumns/type=bf16/impl=avx2/shape=64x16384", sample{}, false},
		{"BenchmarkCountAbove/type=f32/impl=avx2/n=16K", sample{}, false},
		{"BenchmarkRoofline/kind=count/type=f32/impl=avx512", sample{}, false},
		{"BenchmarkRoofline/kind=count/type=f32/n=4K", sample{}, false},
		{"BenchmarkRoofline/kind=other/n=4K", sample{}, false},
		{"BenchmarkRoofline/kind=columns/type=f32/impl=avx2/n=4K", sample{}, false},
		{"BenchmarkAddNonZeroColumns/type=f32/impl=avx2/shape=64by16384", sample{}, false},
	}
	for _, tt := range tests {
		got, ok := classify(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("classify(%q) = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

const sampleOutput = `cache-l1d: 48K
cache-l2: 1M
cache-l3: 32M
goos: linux
goarch: amd64
pkg: github.com/sparsekit/l0
cpu: Test CPU   
BenchmarkRoofline/kind=count/type=f32/impl=generic/n=4K-2    	  244266	       510.9 ns/op	8000 MB/s	       0 B/op	       0 allocs/op
BenchmarkRoofline/kind=count/type=f32/impl=generic/n=4K-2    	  244266	       510.9 ns/op	9000 MB/s	       0 B/op	       0 allocs/op
BenchmarkRoofline/kind=count/type=f32/impl=generic/n=4K-2    	  244266	       510.9 ns/op	1000 MB/s	       0 B/op	       0 allocs/op
BenchmarkRoofline/kind=count/type=f32/impl=avx512/n=1G-2    	  1	       1 ns/op	20000 MB/s	       0 B/op	       0 allocs/op
BenchmarkRoofline/kind=count/type=f32/impl=avx512/n=4K-2    	  1	       1 ns/op	100000 MB/s	       0 B/op	       0 allocs/op
BenchmarkRoofline/kind=read/impl=read/n=4K-2    	  1	       1 ns/op	150000 MB/s	       0 B/op	       0 allocs/op
BenchmarkRoofline/kind=read/impl=read/n=1G-2    	  1	       1 ns/op	25000 MB/s	       0 B/op	       0 allocs/op
BenchmarkRoofline/kind=columns/func=AddNonZeroColumns/type=f32/impl=avx512/shape=1x16384/n=64K-2   	    9619	      2708 ns/op	24200 MB/s	       0 B/op	       0 allocs/op
BenchmarkRoofline/kind=columns/func=AddNonZeroColumns/type=f32/impl=avx512/shape=16384x16384/n=1G-2   	    1	      2708 ns/op	19000 MB/s	       0 B/op	       0 allocs/op
PASS
ok  	github.com/sparsekit/l0	131.536s
`

func TestCollect(t *testing.T) {
	run := newBenchRun()
	if err := run.read(strings.NewReader(sampleOutput)); err != nil {
		t.Fatal(err)
	}
	if got := run.config["cpu"]; got != "Test CPU" {
		t.Errorf("cpu = %q", got)
	}
	p := collect(run)
	if len(p.count) != 2 || p.count[0].level != "avx512" || p.count[1].level != "generic" {
		t.Fatalf("count series: %+v, want avx512 then generic", p.count)
	}
	// Points in size order, whatever the input order; medians in GB/s.
	want := []point{{bytes: 4 << 10, gbps: 100, runs: 1}, {bytes: 1 << 30, gbps: 20, runs: 1}}
	if !reflect.DeepEqual(p.count[0].points, want) {
		t.Errorf("avx512 points = %+v, want %+v", p.count[0].points, want)
	}
	if want := []point{{bytes: 4 << 10, gbps: 8, runs: 3}}; !reflect.DeepEqual(p.count[1].points, want) {
		t.Errorf("generic points = %+v, want %+v", p.count[1].points, want)
	}
	if len(p.read.points) != 2 || p.read.points[1].gbps != 25 || p.read.label() != "read limit" {
		t.Errorf("read limit = %+v", p.read)
	}
	if len(p.columns) != 1 || len(p.columns[0].points) != 2 || p.columns[0].label() != "AddNonZeroColumns avx512" {
		t.Errorf("columns = %+v", p.columns)
	}
}

func TestCachesRecorded(t *testing.T) {
	run := newBenchRun()
	if err := run.read(strings.NewReader(sampleOutput)); err != nil {
		t.Fatal(err)
	}
	c, err := fromConfig(run.config)
	if err != nil {
		t.Fatal(err)
	}
	if want := (caches{48 << 10, 1 << 20, 32 << 20}); c != want {
		t.Errorf("recorded caches = %+v, want %+v", c, want)
	}
	var b bytes.Buffer
	if err := c.write(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "cache-l1d: 48K\ncache-l2: 1M\ncache-l3: 32M\n" {
		t.Errorf("written as %q", got)
	}
	if got := c.over(caches{l2: 2 << 20}); got != (caches{48 << 10, 2 << 20, 32 << 20}) {
		t.Errorf("a flag over the data: %+v", got)
	}
	if _, err := fromConfig(map[string]string{"cache-l2": "big"}); err == nil {
		t.Error("a bad recorded size was accepted")
	}
}

func TestSysfsCaches(t *testing.T) {
	root := t.TempDir()
	for i, c := range []struct{ level, typ, size string }{
		{"1", "Data", "48K"}, {"1", "Instruction", "32K"}, {"2", "Unified", "1024K"}, {"3", "Unified", "32768K"},
	} {
		dir := filepath.Join(root, "sys/devices/system/cpu/cpu0/cache", "index"+string(rune('0'+i)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"level": c.level, "type": c.typ, "size": c.size} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := sysfsCaches(root), (caches{48 << 10, 1 << 20, 32 << 20}); got != want {
		t.Errorf("sysfsCaches = %+v, want %+v", got, want)
	}
	if got := sysfsCaches(t.TempDir()); got.known() {
		t.Errorf("no sysfs: %+v", got)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bench.txt")
	if err := os.WriteFile(in, []byte(sampleOutput), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.svg")
	var stderr bytes.Buffer
	if err := run([]string{"-in", in, "-out", out}, nil, nil, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	for _, file := range []struct {
		path string
		want []string
	}{
		{out, []string{"<svg", "read limit", "CountNonZero avx512", "CountNonZero generic", "L1d 48K", "L2 1M", "L3 32M", "DRAM", "Test CPU", "medians of 1 to 3 runs"}},
		{filepath.Join(dir, "r-columns.svg"), []string{"<svg", "AddNonZeroColumns avx512", "L3 32M"}},
	} {
		b, err := os.ReadFile(file.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range file.want {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s lacks %q", filepath.Base(file.path), w)
			}
		}
	}

	// A flag overrides the recorded size; standard input works.
	if err := run([]string{"-out", out, "-l2", "2M"}, strings.NewReader(sampleOutput), nil, &stderr); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); !bytes.Contains(b, []byte("L2 2M")) || bytes.Contains(b, []byte("L2 1M")) {
		t.Error("-l2 2M did not replace the recorded 1M")
	}

	var stdout bytes.Buffer
	if err := run([]string{"-caches", "-l1d", "32K", "-l2", "512K", "-l3", "16M"}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "cache-l1d: 32K\ncache-l2: 512K\ncache-l3: 16M\n" {
		t.Errorf("-caches printed %q", got)
	}

	if err := run([]string{"-out", out}, strings.NewReader("PASS\n"), nil, &stderr); err == nil {
		t.Error("no results: no error")
	}
	if err := run([]string{"-l1d", "lots"}, nil, nil, &stderr); err == nil {
		t.Error("-l1d lots: no error")
	}
}

// TestReadSweep: the sweep's cells, each the median of its runs, the
// worst case per row and level, parts and levels in order, rows of a part
// together.
func TestReadSweep(t *testing.T) {
	in := `cpu: Test CPU
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=f32/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.6000 vs-flat	 0 B/op
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=u8/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.3000 vs-flat	 0 B/op
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=u8/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.9000 vs-flat	 0 B/op
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=u8/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.4000 vs-flat	 0 B/op
BenchmarkSweep/part=activity/shape=65536x2x3/impl=generic-2 	 10	 900 ns/op	6000.00 MB/s	 0.6000 x-l0norm	 0 B/op
BenchmarkSweep/part=rows/width=8/rule=nonzero/type=f32/impl=avx512-2 	 100	 50.0 ns/op	20000.00 MB/s	 0.7000 vs-flat	 0 B/op
BenchmarkSweep/part=placement/family=CountNonZero/type=f32/n=4K/impl=avx512/placement=page-end-2 	 100	 50.0 ns/op	80000.00 MB/s	 0.9900 vs-touched
BenchmarkCountNonZero/type=f32/impl=avx512/n=16K-2 	 100	 50.0 ns/op	300000.00 MB/s	 0.8000 read-limit
BenchmarkSweep/part=rows/width=3/rule=nonzero/type=f32/impl=avx2-2 	 100	 50.0 ns/op	20000.00 MB/s	 bad vs-flat	 0 B/op
`
	d, err := readSweep(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.parts, []string{"rows", "activity", "placement"}) || !reflect.DeepEqual(d.levels, []string{"avx2", "generic", "avx512"}) {
		t.Fatalf("parts %v, levels %v", d.parts, d.levels)
	}
	if d.units["rows"] != "vs-flat" || d.units["activity"] != "x-l0norm" || d.units["placement"] != "vs-touched" {
		t.Fatalf("units %v", d.units)
	}
	var got []string
	for _, r := range d.rows {
		for _, l := range d.levels {
			if v, ok := r.worst[l]; ok {
				got = append(got, fmt.Sprintf("%s %s %s %.2f %s", r.part, r.row, l, v, r.cases[l]))
			}
		}
	}
	want := []string{
		// u8's median (0.40) under f32's 0.60.
		"rows width=3 avx2 0.40 rule=nonzero/type=u8",
		"rows width=8 avx512 0.70 rule=nonzero/type=f32",
		"activity shape=65536x2x3 generic 0.60 ",
		"placement family=CountNonZero avx512 0.99 type=f32/n=4K/placement=page-end",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.runs != [2]int{1, 3} {
		t.Fatalf("runs %v", d.runs)
	}
	if sweepTarget("x-l0norm", "generic") != 0.5 || sweepTarget("x-l0norm", "avx2") != 0.9 || sweepTarget("vs-flat", "generic") != 0.5 {
		t.Fatal("targets")
	}
	out := filepath.Join(t.TempDir(), "sweep.svg")
	if err := run([]string{"-sweep", out}, strings.NewReader(in), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(svg, []byte("Test CPU")) || !bytes.Contains(svg, []byte("65536x2x3")) {
		t.Fatalf("the picture lacks the CPU or a row: %v", err)
	}
	// No sweep in the input: an error, no file.
	if err := run([]string{"-sweep", out + ".png"}, strings.NewReader("BenchmarkX-2 1 1 ns/op 1 MB/s\n"), &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Fatal("no error without sweep cells")
	}
}
