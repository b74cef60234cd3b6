// Command roofline draws l0's roofline pictures from `go test -bench`
// output: the GB/s of float32 CountNonZero at every level against the read
// limit, by input size from 4 KiB to 1 GiB, and the same for the float32
// column kernels by matrix size, with the L1, L2, L3 and DRAM regions of
// the machine that ran the benchmarks shaded. Each point is the median of
// the runs of one benchmark (go test -count N); MB/s in the input is 10^6
// bytes per second.
//
// It lives in a module of its own so that gonum.org/v1/plot never enters
// l0's. README.md beside this file has the commands that measure and draw
// docs/roofline.svg.
//
// Usage:
//
//	roofline [-in FILE]... [-out roofline.svg] [-columns roofline-columns.svg] [-l1d SIZE -l2 SIZE -l3 SIZE] [FILE...]
//	roofline -caches [-l1d SIZE -l2 SIZE -l3 SIZE]
//	roofline -sweep sweep.svg [-in FILE]... [FILE...]
//
// With -sweep it draws instead the cells of the root package's
// BenchmarkSweep: each row of each part (placement, rows widths, metric
// shapes) a column, a marker per level at the row's worst ratio to its
// reference, the part's target dashed, the worst cell of each part and
// level ringed (sweep.go).
//
// Without files it reads standard input. The cache sizes are, in order of
// precedence, the flags, the "cache-l1d: 48K" lines of the input (which
// -caches prints, to record them with the data), and this machine's, from
// /sys/devices/system/cpu/cpu0/cache.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "roofline:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("roofline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var inputs []string
	fs.Func("in", "a `file` of go test -bench output (repeatable; also as arguments; none: standard input)", func(s string) error {
		inputs = append(inputs, s)
		return nil
	})
	out := fs.String("out", "roofline.svg", "the CountNonZero picture; the extension picks the format: .svg, .png or .pdf")
	columnsOut := fs.String("columns", "", "the column kernels' picture (default: -out with -columns before the extension)")
	sweepOut := fs.String("sweep", "", "draw only the picture of BenchmarkSweep's cells to this `file` (.svg, .png or .pdf)")
	printCaches := fs.Bool("caches", false, "print this machine's cache sizes (or the flags') as lines to put in front of the benchmark output, and exit")
	var flagged caches
	fs.Var(sizeFlag{&flagged.l1d}, "l1d", "L1 data cache `size`, as 48K (default: from the input, else this machine's)")
	fs.Var(sizeFlag{&flagged.l2}, "l2", "L2 cache `size`, as 1M (default: from the input, else this machine's)")
	fs.Var(sizeFlag{&flagged.l3}, "l3", "L3 cache `size`, as 32M (default: from the input, else this machine's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	inputs = append(inputs, fs.Args()...)
	if *sweepOut != "" {
		return runSweep(inputs, stdin, *sweepOut)
	}
	local := sysfsCaches("/")

	if *printCaches {
		c := local.over(flagged)
		if !c.known() {
			return errors.New("no cache sizes in /sys/devices/system/cpu/cpu0/cache: give -l1d, -l2 and -l3")
		}
		return c.write(stdout)
	}

	bench := newBenchRun()
	if len(inputs) == 0 {
		if err := bench.read(stdin); err != nil {
			return fmt.Errorf("standard input: %v", err)
		}
	}
	for _, name := range inputs {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = bench.read(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	pics := collect(bench)
	if len(pics.count) == 0 && len(pics.columns) == 0 {
		return errors.New("no float32 CountNonZero or column kernel results with MB/s in the input (see README.md for the benchmark to run)")
	}

	recorded, err := fromConfig(bench.config)
	if err != nil {
		return err
	}
	c := recorded
	if !recorded.known() {
		c = local
		if local.known() {
			fmt.Fprintln(stderr, "roofline: no cache sizes in the input: drawing this machine's")
		} else if !flagged.known() {
			fmt.Fprintln(stderr, "roofline: no cache sizes in the input nor on this machine: no regions drawn (give -l1d, -l2, -l3)")
		}
	}
	c = c.over(flagged)

	cpu := bench.config["cpu"]
	if cpu == "" {
		cpu = "unknown CPU"
	}
	const width, height = 10 * vg.Inch, 5 * vg.Inch
	if len(pics.count) > 0 {
		f := figure{
			title:   "float32 CountNonZero against the read limit, by input size\n" + subtitle(cpu, pics.count, pics.read),
			xLabel:  "input size, bytes (log)",
			kernels: pics.count, read: pics.read, caches: c,
			note: "Higher is better.\n\n" +
				"read limit: the same bytes read\nwith one load and one OR per\nvector, the widest the CPU has.\n\n" +
				"Shaded: the sizes that fit in\neach cache of one core.",
		}
		if err := f.save(*out, width, height); err != nil {
			return err
		}
	}
	if len(pics.columns) > 0 {
		if *columnsOut == "" {
			ext := filepath.Ext(*out)
			*columnsOut = strings.TrimSuffix(*out, ext) + "-columns" + ext
		}
		f := figure{
			title:   "float32 column kernels against the read limit, by matrix size\n" + subtitle(cpu, pics.columns, pics.read),
			xLabel:  "matrix size, bytes (log)",
			kernels: pics.columns, read: pics.read, caches: c,
			dashed: map[string]bool{"AddAboveColumns": true},
			note: "Higher is better.\n\n" +
				"Per-column counts of a float32\nmatrix [rows, 16384], as in an\nSAE batch of 16384 features:\none row (64K) to 16384 rows (1G),\nplus 128K of uint64 counts.\n\n" +
				"AddAboveColumns: threshold 0.",
		}
		if err := f.save(*columnsOut, width, height); err != nil {
			return err
		}
	}
	return nil
}

// subtitle names the CPU and how many runs each median is of.
func subtitle(cpu string, kernels []series, read series) string {
	lo, hi := 0, 0
	for _, s := range append([]series{read}, kernels...) {
		for _, p := range s.points {
			if lo == 0 || p.runs < lo {
				lo = p.runs
			}
			hi = max(hi, p.runs)
		}
	}
	runs := fmt.Sprintf("medians of %d runs", lo)
	if lo == 1 && hi == 1 {
		runs = "one run each"
	} else if lo != hi {
		runs = fmt.Sprintf("medians of %d to %d runs", lo, hi)
	}
	return cpu + ", one goroutine, " + runs
}
