// Command l0 reports the sparsity of sparse-autoencoder activations stored
// in NumPy .npy files: the L0 norm (the mean number of non-zero features per
// activation vector, per component), dead and dense features, and the log10
// feature density histogram, counted with l0's SIMD kernels.
//
// Usage:
//
//	l0 [-json] [-threshold T | -abs-threshold T] [-dense D] [FILE.npy ...]
//	l0 -kernels
//
// A 2-D array is [batch, feature]; a 3-D array is [batch, component,
// feature]. Without files, l0 reports on a built-in sample. Each file is
// streamed in whole vectors through a buffer of 2 MiB, never loaded whole;
// a path that is not a regular file (a pipe, /dev/stdin) is read as a
// stream of unknown size. A file l0 cannot read is an error on stderr that
// names it; the other files are still reported, and the exit status is 1.
//
// Work and memory follow the bytes a file holds, not the shape its header
// claims: rows of no bytes (shape (2^62, 0)) are counted at once; a stream
// is read a row before anything is sized by its shape, and costs at most
// k × the bytes read + 4 MiB, k = 18 for a 1-byte dtype of one component
// (6 for float32: the counters are 8 bytes a feature, and the report takes
// a copy), up to 42 (101 with -json) when each component has one 1-byte
// feature, whose per-component values then dominate.
//
// A 3-D array may have up to 16,777,216 components (metric.MaxComponents),
// and up to 65,536 when its vectors have no features (no bytes pay for
// their values). The text report lists the per-component values of up to
// 16 components, and their range (min, mean, max) for more; -json lists
// every one. In -json an infinite -threshold is the string "inf" or
// "-inf"; -threshold 1e400 is inf, as Python's float() reads it.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"

	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, newProgress(os.Stderr)))
}

const usage = `usage: l0 [flags] [FILE.npy ...]

l0 reports the sparsity of the activations in each NumPy .npy file: the L0
norm (mean number of non-zero features per vector), dead and dense features,
the log10 feature density histogram, the kernel used and the throughput.
A 2-D array is [batch, feature], a 3-D array [batch, component, feature];
dtypes <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1, C order.
Without files, it reports on a built-in sample. A pipe (/dev/stdin) is
read as a stream. Past 16 components the text report gives the range of
the per-component values; -json lists each (an infinite threshold is
"inf" or "-inf" there).

The kernel level is chosen from the CPU at start-up; GODEBUG=cpu.avx512f=off
(or cpu.avx2=off) steers it down.

flags:
`

// run is the program: it returns the exit status, 0 when every file was
// reported, 1 when one was not, 2 for a bad command line.
func run(args []string, stdout, stderr io.Writer, p *progress) int {
	flags := flag.NewFlagSet("l0", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), usage)
		flags.PrintDefaults()
	}
	asJSON := flags.Bool("json", false, "write one JSON object per file per line")
	kernels := flags.Bool("kernels", false, "list, per element type, the kernel level chosen and the levels available, and exit")
	var threshold, absThreshold thresholdFlag
	flags.Var(&threshold, "threshold", "count the elements x > `T` instead of x != 0 (float dtypes only)")
	flags.Var(&absThreshold, "abs-threshold", "count the elements |x| > `T` instead of x != 0 (float dtypes only; delphi keeps |x| > 1e-5)")
	dense := new(fractionFlag)
	*dense = 0.1
	flags.Var(dense, "dense", "a feature is dense when it fires in more than this fraction `D` of vectors")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if d := float64(*dense); math.IsNaN(d) || d < 0 || d > 1 {
		fmt.Fprintf(stderr, "l0: -dense %v: want a fraction from 0 to 1\n", d)
		return 2
	}
	if *kernels {
		if flags.NArg() > 0 {
			fmt.Fprintln(stderr, "l0: -kernels takes no files")
			return 2
		}
		return writeOrFail(stderr, writeKernels(stdout))
	}
	s := settings{dense: float64(*dense)}
	switch {
	case threshold.set && absThreshold.set:
		fmt.Fprintln(stderr, "l0: -threshold and -abs-threshold: give one rule of counting, not both")
		return 2
	case threshold.set:
		s.rule = metric.Above(threshold.value)
	case absThreshold.set:
		s.rule = metric.AbsAbove(absThreshold.value)
	}
	write := writeText
	if *asJSON {
		write = writeJSON
	}
	if flags.NArg() == 0 {
		// The sample is made in memory first, so that the throughput the
		// report gives is the counting's, not the random generator's.
		data, err := io.ReadAll(newSample())
		if err != nil {
			fmt.Fprintf(stderr, "l0: %s: %v\n", sampleName, err)
			return 1
		}
		rep, err := analyze(sampleName, bytes.NewReader(data), int64(len(data)), s, p)
		if err != nil {
			fmt.Fprintf(stderr, "l0: %s: %v\n", sampleName, err)
			return 1
		}
		return writeOrFail(stderr, write(stdout, rep))
	}
	status := 0
	for i, name := range flags.Args() {
		rep, err := analyzeFile(name, s, p)
		if err != nil {
			fmt.Fprintf(stderr, "l0: %s: %v\n", name, err)
			status = 1
			continue
		}
		if i > 0 && !*asJSON {
			fmt.Fprintln(stdout)
		}
		if err := write(stdout, rep); err != nil {
			if errors.As(err, new(reportError)) {
				fmt.Fprintf(stderr, "l0: %s: %v\n", name, err)
				status = 1
				continue
			}
			return writeOrFail(stderr, err)
		}
	}
	return status
}

// analyzeFile opens and analyzes one file. Only a regular file's size is
// trusted; pipes and devices are read as streams.
func analyzeFile(name string, s settings, p *progress) (*report, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, pathless(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, pathless(err)
	}
	size := int64(-1)
	switch {
	case info.IsDir():
		return nil, errors.New("is a directory")
	case info.Mode().IsRegular():
		size = info.Size()
	}
	rep, err := analyze(name, f, size, s, p)
	return rep, pathless(err)
}

// pathless drops the path from an os error: the message names the file
// already.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// writeOrFail reports an error writing the output.
func writeOrFail(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "l0: %v\n", err)
		return 1
	}
	return 0
}

// writeKernels lists, per element type, the kernel level the counting
// functions use and the levels this CPU and build can run.
func writeKernels(w io.Writer) error {
	types := []struct{ name, dtype string }{
		{"float32", "<f4"}, {"float64", "<f8"}, {"float16", "<f2"}, {"bfloat16", "-"},
		{"int8", "|i1"}, {"int16", "<i2"}, {"int32", "<i4"}, {"int64", "<i8"},
		{"uint8", "|u1 |b1"}, {"uint16", "<u2"}, {"uint32", "<u4"}, {"uint64", "<u8"},
	}
	levels := ""
	for i, l := range kernel.Levels() {
		if i > 0 {
			levels += " "
		}
		levels += l.String()
	}
	if _, err := fmt.Fprintf(w, "%-9s %-8s %-8s %s\n", "type", "dtype", "level", "available"); err != nil {
		return err
	}
	for _, t := range types {
		if _, err := fmt.Fprintf(w, "%-9s %-8s %-8s %s\n", t.name, t.dtype, kernel.Active(), levels); err != nil {
			return err
		}
	}
	return nil
}

// thresholdFlag is a float flag that remembers whether it was set: a
// threshold of 0 (x > 0) is not the default (x != 0).
type thresholdFlag struct {
	value float64
	set   bool
}

func (t *thresholdFlag) String() string {
	if t == nil || !t.set {
		return ""
	}
	return strconv.FormatFloat(t.value, 'g', -1, 64)
}

func (t *thresholdFlag) Set(s string) error {
	v, err := parseNumber(s)
	if err != nil || math.IsNaN(v) {
		return fmt.Errorf("want a number")
	}
	t.value, t.set = v, true
	return nil
}

// parseNumber parses a float64 flag as Python's float() reads it: a number
// beyond the float64 range is the infinity it rounds to, so 1e400 is the
// same threshold as inf (x > +Inf: nothing counts) and -1e400 as -inf
// (everything but NaN counts), as 1e-400 is 0 (strconv.ParseFloat's
// ErrRange is for overflow only).
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) {
		return v, nil // ±Inf
	}
	return v, err
}

// fractionFlag is a float flag read as parseNumber reads numbers; run
// checks its range.
type fractionFlag float64

func (f *fractionFlag) String() string {
	if f == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*f), 'g', -1, 64)
}

func (f *fractionFlag) Set(s string) error {
	v, err := parseNumber(s)
	if err != nil {
		return fmt.Errorf("want a number")
	}
	*f = fractionFlag(v)
	return nil
}
