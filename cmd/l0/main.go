// Command l0 reports the sparsity of sparse-autoencoder activations stored
// in NumPy .npy and safetensors files: the L0 norm (the mean number of
// non-zero features per activation vector, per component, or per token
// position), dead and dense features, and the log10 feature density
// histogram, counted with l0's SIMD kernels. It reports each file, or one
// total over many shards; it saves the total as a mergeable state, so
// that shards counted on many machines reduce to one report, and writes
// SAELens' sparsity.safetensors.
//
// Usage:
//
//	l0 [-json] [-threshold T | -abs-threshold T] [-dense D] [-key NAME]
//	   [-positions] [-skip-positions N] [-total [-per-file]] [-save FILE]
//	   [-sparsity FILE] [-j N] [-mmap] [FILE ...]
//	l0 -sparse INDEX_KEY[,VALUE_KEY] -features D [flags] FILE ...
//	l0 -kernels
//
// # Inputs
//
// The format is recognised by the first bytes, not by the file's name: a
// .npy array ("\x93NUMPY"), an l0 state ("L0FA", as -save writes it), or
// a safetensors file. A 2-D array is [batch, feature]; a 3-D array is
// [batch, component, feature], or with -positions [batch, position,
// feature]. The .npy dtypes are <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8
// |b1, C order; the safetensors dtypes F64 F32 F16 BF16 I64 I32 I16 I8 U64
// U32 U16 U8 BOOL (C64 and the F8, F6 and F4 variants are an error that
// names the dtype). From a safetensors file l0 reads the tensor -key names
// (-key "" names a tensor named ""), or without -key the one tensor of
// rank 2 or 3 of a dtype it counts; when there is none, or more than one,
// the error lists the file's tensors. A shape of more than 64 dimensions
// (numpy's own bound) is an error as the header is read; a message shows
// at most 16 dimensions of a shape, and a listing of a file's tensors at
// most 64 bytes of each name.
// Without files, l0 reports on a built-in sample.
//
// A regular file is read at offsets with read(2), a batch of whole rows at
// a time into a buffer per worker: 7 rows of up to 512 KiB in all when
// rows are long (a batch of fewer than 8 vectors is counted straight into
// the metric's counters, and stays in the core's cache between the copy
// and the count), 2 MiB of rows otherwise. With -mmap, files are counted
// in memory-mapped windows of 8 MiB where the page cache holds them,
// unmapped as it goes (on little-endian machines with mmap, when the data
// is aligned for its dtype): no copy, but on the machine measured it was
// 1.4 times slower at best, 4 times when the machine was busy (the column
// kernels cross a page, and miss the TLB, for every 4 KiB they read of
// each row). A path that is not a regular file (a
// pipe, /dev/stdin) is read as a stream of unknown size; such a path given
// twice, by one name or two (/dev/stdin, /proc/self/fd/0), is a
// command-line error: a stream can be read once, and two readers would
// each take bytes from the other. A file that shrinks while it is counted
// is an error that names it, mapped or not (the fault on a vanished page
// is caught).
//
// -j N goroutines (1 to 1024; default: the CPUs Go may use) count at
// once: the inputs in parallel, and a large file split into ranges of rows
// (16 to 64 MiB, about one per worker), each into its own counts, merged
// at the end.
//
// # Positions
//
// -positions reads a 3-D array as [batch, position, feature]: its vectors
// are batch × position, the L0 and feature activity are over all of them,
// and the report adds the L0 per position (the first 8 and the range of
// the rest in text, each in -json's l0_by_position). -skip-positions N
// (which implies -positions, -skip-positions 0 too: a script's
// -skip-positions $SKIP means the same at 0) leaves the first N positions
// of every row out of every statistic: the BOS token, which SAE
// evaluations exclude.
//
// # Top-k files
//
// -sparse INDEX_KEY[,VALUE_KEY] -features D reads each safetensors input
// as a top-k SAE encoder's output: the tensor INDEX_KEY of feature
// indices, [batch, k] or [batch, components, k], of any integer dtype (I64
// I32 I16 I8 U64 U32 U16 U8), and the tensor VALUE_KEY of their values, of
// the same shape and a float dtype (F64 F32 F16 BF16). l0 reports the pair
// exactly as it reports the dense [batch, (components,) D] array it stands
// for (metric.UpdateTopK leaves the counts the dense batch leaves): the
// vectors, L0, dead and dense features, histogram and state, the values
// counted by the run's rule, so a zero among the top k does not count.
// Without VALUE_KEY every entry counts (sparsify's "fired"): the pair is
// the mask of its entries, counted as uint8 as a BOOL array is, and
// -threshold or -abs-threshold, which would compare values there are none
// of, is a command-line error. An index outside [0, D) is an error that
// says where it is (a U64 index past the int range too: never wrapped); an
// index given twice in a vector counts twice (torch.topk gives none).
//
// A pair is counted into the same tallies as any input: with -total it
// merges with .npy files and states of the same element type (the values';
// uint8 without values), components and features. With -sparse every
// safetensors input is read as a pair, .npy files and states as always;
// -key and -positions are refused. The two tensors are read side by side
// at offsets, batches of rows of up to 2 MiB of both, a large file split
// across workers: -sparse reads regular files only (a pipe is an error),
// with read(2) (-mmap does not apply). In -json a pair's "format" is
// "topk", its "shape" the dense array's, its "dtype" the values' as the
// file spells it (or "uint8"), and "sparse" names its tensors, their dtypes
// and k.
//
// # Many shards, one report
//
// -total reports all the inputs as one dataset: they must agree on the
// element type, the components (or positions) and the features; the rule
// of counting is the run's. Counts of different element types are not
// merged (metric.Merge would not, and the state format holds one type):
// such an input does not join the total, and is a bad input. With -per-file
// each input's report comes first, then the total's.
//
// A bad input fails the total: each bad input is named on stderr, no
// total is reported and no -save or -sparsity file written, and the exit
// status is 1; a total that silently left a shard out would be a wrong
// number. After the first bad input l0 stops counting, but still opens
// every other input and names each one whose header or size is bad.
//
// -save FILE writes the total's state in metric's FeatureActivity binary
// format (all the counts: the L0, density, dead and dense features follow),
// and state files are inputs: count shards anywhere, one process each, and
// merge with l0 -total *.l0. A state holds no positions: -positions does
// not take one. A state of 0 vectors (a job that saved before its first
// batch) is reported as such, 0 vectors and no L0 (null in -json, with
// dead, dense and the histogram), and joins a total, which it leaves as it
// was; -sparsity of no vectors is an error (no density). A state takes the
// bounds an array takes (at most 65,536 components of no features).
// -sparsity FILE writes SAELens' sparsity.safetensors: the tensor
// "sparsity", F32, log10(density + 1e-10) per feature, of shape [features]
// or [components, features]. Both describe all the inputs, with or without
// -total, and are written whole or not at all (a temporary file renamed
// over the file, or over the file a symbolic link names; a dangling link
// is written through, and the file it names created, as the shell's >
// does); a device or a named pipe (-save /dev/stdout) is written in place.
// A new file's mode is 0666 less the umask, as os.Create makes it; a file
// written over keeps its mode (its owner becomes the writer).
//
// An output never destroys an input: before anything is read, l0 refuses
// (a command-line error, exit status 2, naming both) an output that is one
// of the inputs, by its name or through a symbolic or hard link
// (os.SameFile), and -save and -sparsity that name one file; the exception
// is -save over an input state, l0 -total -save acc.l0 acc.l0 new.npy,
// which accumulates: the state is read before the new one replaces it. It
// also refuses an output that exists, is a regular file that is not empty,
// and is not of the kind it writes there (an l0 state for -save, a
// safetensors file of the one tensor "sparsity" for -sparsity): the
// mistake of a shell pattern, l0 -total -sparsity shard-*.npy, which puts
// shard-0.npy after -sparsity. Such a file must be removed first.
//
// # Errors, limits, memory
//
// An input l0 cannot read is an error on stderr that names it; without
// -total the other inputs are still reported, and the exit status is 1.
// A name (of a file, of a tensor) holding control characters or bytes that
// are not UTF-8, or starting with a double quote, is quoted in messages
// and text reports as Go quotes strings ("a\nb", "a\xffb"), so that
// each stays one line and shows the name's bytes. In -json, "file" is the
// name with each byte that is not UTF-8 as U+FFFD (JSON strings are
// UTF-8), and then "file_bytes" holds the name's bytes in base64, from
// which it is recovered exactly (base64.b64decode in Python); a total's
// "files_bytes" so lists every input's name when one is not UTF-8. A
// threshold or -dense of -0 is 0.
//
// Work and memory follow the bytes a file holds, not the shape its header
// claims: rows of no bytes (shape (2^62, 0)) are counted at once; a
// regular file's size is checked against its header before anything is
// sized by the shape; a stream is read a row before anything is sized by
// its shape, and costs at most k × the bytes read + 4 MiB, k = 18 for a
// 1-byte dtype of one component (6 for float32: the counters are 8 bytes a
// feature, and the report takes a copy), up to 42 (101 with -json) when
// each component has one 1-byte feature, whose per-component values then
// dominate. Counting into a total, each worker keeps one set of counters,
// 8 bytes per (component, feature), and one buffer (or mapped window),
// and the total merges them into one (with no copy) and takes one more to
// report: the peak is about 8 MiB + 2 MiB (8 mapped) + 8 bytes per feature
// per worker, + 8 bytes per feature. A state file is read straight into a
// worker's counters, 128 KiB at a time, never whole; a worker whose
// counters already hold counts reads it into a new set, merged and
// dropped, and holds two sets while it does. A state from a stream is held
// whole first (its bytes must bear out its header before counters of its
// size are made).
//
// A 3-D array may have up to 16,777,216 components or positions
// (metric.MaxComponents), and up to 65,536 when its vectors have no
// features (no bytes pay for their values); a top-k pair of no entries (k
// = 0) one component, or up to 65,536 (component, feature) pairs, whose
// counters no bytes pay for either; and any top-k pair up to 134,217,728
// (2^27; 2^26 on 32-bit machines) components × -features D, for the same
// reason (1 GiB of counters a copy, 8 times the widest SAEs published).
// The text report lists the per-component values of up to 16 components,
// and their range (min, mean, max) for more; -json lists every one. In
// -json an infinite -threshold is the string "inf" or "-inf"; -threshold
// 1e400 is inf, as Python's float() reads it. A feature counted in more
// vectors than there are (a top-k index repeated within a vector, which
// counts twice) has a density above 1: the histogram counts it apart, in
// "> 0.0" (-json's "above_one"), not in [-0.5, 0.0].
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"

	"github.com/sparsekit/l0/kernel"
	"github.com/sparsekit/l0/metric"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, newProgress(os.Stderr)))
}

const usage = `usage: l0 [flags] [FILE ...]

l0 reports the sparsity of the activations in each NumPy .npy or
safetensors file: the L0 norm (mean number of non-zero features per
vector), dead and dense features, the log10 feature density histogram,
the kernel used and the throughput; or one total over many files.

Inputs, told apart by their first bytes, not their names:
  .npy         <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1, C order
  safetensors  F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL; the
               tensor -key names, or the one of rank 2 or 3 (else the
               error lists the tensors)
  l0 state     what -save writes ("L0FA"): merged as if counted here
A 2-D array is [batch, feature], a 3-D array [batch, component, feature]
(with -positions, [batch, position, feature]). Without files, l0 reports
on a built-in sample. A pipe (/dev/stdin) is read as a stream.

Top-k files: -sparse INDEX_KEY[,VALUE_KEY] -features D reads each
safetensors input as a top-k pair, indices [batch, (components,) k] of
any integer dtype and values of the same shape and a float dtype, and
reports it as the dense [batch, (components,) D] array, the values counted
by the run's rule. Without VALUE_KEY every entry counts: a uint8 mask,
which takes no -threshold. Regular files only; merges with .npy files and
states of the same element type and features.

Many shards: -total reports all inputs as one; they must agree on element
type, components (or positions) and features. A bad input fails the
total: it is named on stderr, no total, -save or -sparsity file comes of
the run, and the exit status is 1. -save writes the state to merge later
(l0 -total shard-*.l0); -sparsity writes SAELens' sparsity.safetensors.
Both describe all inputs, with or without -total. An output that is an
input, or an existing file of another kind than the output's, is refused
(exit status 2), but for -save over an input state, which accumulates.

Past 16 components the text report gives the range of the per-component
values, past 16 positions the first 8 and the range of the rest; -json
lists each (an infinite threshold is "inf" or "-inf" there).

Regular files are read at offsets by -j workers: files in parallel, a
large file split into ranges of rows (-mmap: counted in memory-mapped
windows of the page cache instead of read(2) into a buffer). The kernel
level is chosen from the CPU at start-up; GODEBUG=cpu.avx512f=off (or
cpu.avx2=off) steers it down.

flags:
`

// run is the program: it returns the exit status, 0 when every input was
// reported, 1 when one was not (or the total failed), 2 for a bad command
// line.
func run(args []string, stdout, stderr io.Writer, p *progress) int {
	flags := flag.NewFlagSet("l0", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), usage)
		flags.PrintDefaults()
	}
	asJSON := flags.Bool("json", false, "write one JSON object per report per line")
	kernels := flags.Bool("kernels", false, "list, per element type, the kernel level chosen and the levels available, and exit")
	var threshold, absThreshold thresholdFlag
	flags.Var(&threshold, "threshold", "count the elements x > `T` instead of x != 0 (float dtypes only)")
	flags.Var(&absThreshold, "abs-threshold", "count the elements |x| > `T` instead of x != 0 (float dtypes only; delphi keeps |x| > 1e-5)")
	dense := new(fractionFlag)
	*dense = 0.1
	flags.Var(dense, "dense", "a feature is dense when it fires in more than this fraction `D` of vectors")
	key := flags.String("key", "", "read the safetensors tensor `NAME` (default: the one tensor of rank 2 or 3)")
	positions := flags.Bool("positions", false, "read a 3-D array as [batch, position, feature]: vectors are batch × position; report the L0 per position")
	skip := flags.Int("skip-positions", 0, "leave the first `N` positions of every row out of every statistic (the BOS token); implies -positions")
	total := flags.Bool("total", false, "report all inputs as one dataset (a bad input fails the total)")
	perFile := flags.Bool("per-file", false, "with -total, report each input too, before the total")
	save := flags.String("save", "", "write the total's state to `FILE` (metric's FeatureActivity format; an input of later runs)")
	sparsity := flags.String("sparsity", "", "write SAELens' sparsity.safetensors to `FILE`: \"sparsity\", F32, log10(density + 1e-10)")
	workers := flags.Int("j", min(runtime.GOMAXPROCS(0), maxWorkers), "count with `N` workers at once (1 to 1024): inputs in parallel, large files split into ranges of rows")
	sparse := flags.String("sparse", "", "read each safetensors input as a top-k pair, the tensors `INDEX_KEY[,VALUE_KEY]`: indices of any integer dtype, [batch, k] or [batch, components, k], and values of a float dtype and the same shape (none: every entry counts); reported as the dense array of -features D")
	features := flags.Int("features", 0, "with -sparse: the number `D` of features the indices select from, the dense array's last dimension (components × D at most 2^27)")
	useMmap := flags.Bool("mmap", false, "count regular files in memory-mapped windows of the page cache where they can be, instead of read(2) into a buffer")
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
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// -skip-positions N implies -positions for every N given, 0 included.
	s := settings{dense: float64(*dense), key: *key, keyed: set["key"], positions: *positions || set["skip-positions"], skip: *skip, features: *features}
	if set["sparse"] || set["features"] {
		keys, err := checkSparseFlags(*sparse, *features, set, flags.NArg())
		if err != nil {
			fmt.Fprintf(stderr, "l0: %v\n", err)
			return 2
		}
		s.sparse = keys
	}
	switch {
	case threshold.set && absThreshold.set:
		fmt.Fprintln(stderr, "l0: -threshold and -abs-threshold: give one rule of counting, not both")
		return 2
	case threshold.set:
		s.rule = metric.Above(threshold.value)
	case absThreshold.set:
		s.rule = metric.AbsAbove(absThreshold.value)
	}
	switch {
	case *skip < 0:
		fmt.Fprintf(stderr, "l0: -skip-positions %d: want 0 or more\n", *skip)
		return 2
	case *workers < 1 || *workers > maxWorkers:
		fmt.Fprintf(stderr, "l0: -j %d: want 1 to %d workers\n", *workers, maxWorkers)
		return 2
	case *perFile && !*total:
		fmt.Fprintln(stderr, "l0: -per-file goes with -total (without it, every input is reported)")
		return 2
	}
	if err := checkOutputs([]output{{"-save", *save}, {"-sparsity", *sparsity}}, flags.Args()); err != nil {
		fmt.Fprintf(stderr, "l0: %v\n", err)
		return 2
	}
	if err := checkStreams(flags.Args()); err != nil {
		fmt.Fprintf(stderr, "l0: %v\n", err)
		return 2
	}
	mapping = *useMmap
	write := writeText
	if *asJSON {
		write = writeJSON
	}
	pl := &plan{s: s, workers: *workers, total: *total || *save != "" || *sparsity != "", perFile: !*total || *perFile, p: p}

	var sources []source
	var known int64
	names := flags.Args()
	for _, name := range names {
		sources = append(sources, source{name: name, open: func() (*input, error) { return openFile(name, s) }})
		if info, err := os.Stat(name); err == nil && info.Mode().IsRegular() {
			known += info.Size()
		}
	}
	if len(names) == 0 {
		// The sample is made in memory first, so that the throughput the
		// report gives is the counting's, not the random generator's.
		data, err := io.ReadAll(newSample())
		if err != nil {
			fmt.Fprintf(stderr, "l0: %s: %v\n", sampleName, err)
			return 1
		}
		sources = []source{{name: sampleName, open: func() (*input, error) {
			return openInput(sampleName, bytes.NewReader(data), int64(len(data)), s)
		}}}
		p = nil
		pl.p = nil
	}

	p.start(names, known)
	written := 0
	out := pl.run(sources, func(rep *report) error {
		p.erase()
		if written > 0 && !*asJSON {
			if _, err := fmt.Fprintln(stdout); err != nil {
				return err
			}
		}
		written++
		return write(stdout, rep)
	}, func(name string, err error) {
		p.erase()
		fmt.Fprintf(stderr, "l0: %s: %v\n", displayName(name), err)
	})
	p.finish()
	status := out.status
	switch {
	case out.err != nil && !pl.total:
		return writeOrFail(stderr, out.err) // the output failed
	case !pl.total:
		return status
	case out.err != nil:
		for _, what := range []struct{ flag, path string }{{"-total", ""}, {"-save", *save}, {"-sparsity", *sparsity}} {
			if what.flag == "-total" && *total || what.path != "" {
				fmt.Fprintf(stderr, "l0: %s: %v\n", join(what.flag, what.path), out.err)
			}
		}
		return max(status, 1)
	}
	if *total {
		if written > 0 && !*asJSON {
			if _, err := fmt.Fprintln(stdout); err != nil {
				return writeOrFail(stderr, err)
			}
		}
		if err := write(stdout, out.report); err != nil {
			fmt.Fprintf(stderr, "l0: -total: %v\n", err)
			status = 1
		}
	}
	if *save != "" {
		if err := saveState(*save, out.total); err != nil {
			fmt.Fprintf(stderr, "l0: %s: %v\n", join("-save", *save), err)
			status = 1
		}
	}
	if *sparsity != "" {
		collect(out.report.config) // the state -save wrote
		if err := saveSparsity(*sparsity, out.total); err != nil {
			fmt.Fprintf(stderr, "l0: %s: %v\n", join("-sparsity", *sparsity), err)
			status = 1
		}
	}
	return status
}

// join writes a flag and its value, if it has one (a path, as messages
// show names: displayName).
func join(flag, value string) string {
	if value == "" {
		return flag
	}
	return flag + " " + displayName(value)
}

// settings are the options that change what is counted and reported.
type settings struct {
	rule      metric.Rule // x != 0, x > t or |x| > t
	dense     float64     // a feature is dense above this density
	key       string      // the safetensors tensor to read
	keyed     bool        // -key was given (a tensor may be named "")
	positions bool        // a 3-D array is [batch, position, feature]
	skip      int         // the positions left out of every row
	sparse    topKKeys    // -sparse: the tensors of a top-k pair
	features  int         // -features: the dense features of a top-k pair
}

// ruleFlag names the flag that set the rule of counting.
func (s settings) ruleFlag() string {
	if s.rule.Abs() {
		return "-abs-threshold"
	}
	return "-threshold"
}

// writeOrFail reports an error writing the output.
func writeOrFail(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "l0: %v\n", err)
		return 1
	}
	return 0
}

// writeKernels lists, per element type (and the .npy and safetensors
// dtypes counted as it), the kernel level the counting functions use and
// the levels this CPU and build can run.
func writeKernels(w io.Writer) error {
	types := []struct{ name, dtype string }{
		{"float32", "<f4 F32"}, {"float64", "<f8 F64"}, {"float16", "<f2 F16"}, {"bfloat16", "BF16"},
		{"int8", "|i1 I8"}, {"int16", "<i2 I16"}, {"int32", "<i4 I32"}, {"int64", "<i8 I64"},
		{"uint8", "|u1 |b1 U8 BOOL"}, {"uint16", "<u2 U16"}, {"uint32", "<u4 U32"}, {"uint64", "<u8 U64"},
	}
	levels := ""
	for i, l := range kernel.Levels() {
		if i > 0 {
			levels += " "
		}
		levels += l.String()
	}
	if _, err := fmt.Fprintf(w, "%-9s %-16s %-8s %s\n", "type", "dtypes", "level", "available"); err != nil {
		return err
	}
	for _, t := range types {
		if _, err := fmt.Fprintf(w, "%-9s %-16s %-8s %s\n", t.name, t.dtype, kernel.Active(), levels); err != nil {
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
	t.value, t.set = v+0, true // -0 is +0
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
	*f = fractionFlag(v + 0) // -0 is +0
	return nil
}
